#include "layers/activations.hpp"

#include "core/error.hpp"
#include "graph/ops.hpp"

namespace plexus::activations {

const std::vector<std::string>& names() {
  static const std::vector<std::string> n{
      "elu",  "exponential", "gelu", "hard_sigmoid", "leaky_relu", "linear", "relu",
      "selu", "sigmoid",     "silu", "softmax",      "softplus",   "swish",  "tanh"};
  return n;
}

void check_name(std::string_view name, std::string_view where) {
  for (auto& n : names()) {
    if (n == name) return;
  }
  std::string known;
  for (auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("{}: unknown activation \"{}\". Known activations: {}", where, name, known);
}

SymbolicTensor apply(std::string_view name, const SymbolicTensor& x) {
  if (name.empty() || name == "linear") return x;
  if (name == "relu") return ops::relu(x);
  if (name == "sigmoid") return ops::sigmoid(x);
  if (name == "tanh") return ops::tanh(x);
  if (name == "softmax") return ops::softmax(x, -1);
  if (name == "elu") return ops::elu(x);
  if (name == "selu") return ops::selu(x);
  if (name == "leaky_relu") return ops::leaky_relu(x);
  if (name == "gelu") return ops::gelu(x);
  if (name == "swish" || name == "silu") return ops::swish(x);
  if (name == "softplus") return ops::softplus(x);
  if (name == "hard_sigmoid") return ops::hard_sigmoid(x);
  if (name == "exponential") return ops::exp(x);
  check_name(name, "activations::apply");
  return x;
}

}  // namespace plexus::activations
