#include "layers/activations.hpp"

#include "core/error.hpp"
#include "graph/ops.hpp"

namespace plexus::activations {

namespace {
SymbolicTensor identity(const SymbolicTensor& x) { return x; }
SymbolicTensor softmax_last(const SymbolicTensor& x) { return ops::softmax(x, -1); }
SymbolicTensor elu(const SymbolicTensor& x) { return ops::elu(x); }
SymbolicTensor leaky_relu(const SymbolicTensor& x) { return ops::leaky_relu(x); }

struct Builtin {
  const char* name;
  Activation::Fn fn;
};
const std::vector<Builtin>& builtins() {
  static const std::vector<Builtin> b{
      {"elu", elu},
      {"exponential", ops::exp},
      {"gelu", ops::gelu},
      {"hard_sigmoid", ops::hard_sigmoid},
      {"leaky_relu", leaky_relu},
      {"linear", identity},
      {"relu", ops::relu},
      {"selu", ops::selu},
      {"sigmoid", ops::sigmoid},
      {"silu", ops::swish},
      {"softmax", softmax_last},
      {"softplus", ops::softplus},
      {"swish", ops::swish},
      {"tanh", ops::tanh},
  };
  return b;
}

[[noreturn]] void unknown(std::string_view name, std::string_view where) {
  std::string known;
  for (auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("{}: unknown activation \"{}\". Known activations: {}", where, name, known);
}
}  // namespace

Registry<Activation>& Activation::registry() {
  static Registry<Activation> r("activation", "keras.activations");
  static const bool filled = [] {
    for (const auto& b : builtins()) {
      const std::string name = b.name;
      const Fn fn = b.fn;
      r.add(name, [name, fn](const Config&) { return std::make_shared<Activation>(name, fn); });
    }
    return true;
  }();
  (void)filled;
  return r;
}

const std::vector<std::string>& names() {
  static const std::vector<std::string> n = [] {
    std::vector<std::string> out;
    for (const auto& b : builtins()) out.push_back(b.name);
    return out;
  }();
  return n;
}

std::string canonical_name(const Config& activation, std::string_view where) {
  if (activation.is_null()) return "linear";  // Keras: activation=None is linear
  std::string given = activation.is_string() ? activation.get<std::string>() : activation.dump();
  if (activation.is_string() && given.empty()) return "linear";
  try {
    return Activation::registry().create(activation)->class_name();
  } catch (const Error&) {
    if (activation.is_object()) {
      if (auto c = activation.find("class_name"); c != activation.end() && c->is_string()) {
        given = c->get<std::string>();
        if (given == "function") {
          if (auto f = activation.find("config"); f != activation.end() && f->is_string()) {
            given = f->get<std::string>();
          }
        }
      }
    }
    unknown(given, where);
  }
}

void check_name(std::string_view name, std::string_view where) {
  canonical_name(Config(name), where);
}

SymbolicTensor apply(std::string_view name, const SymbolicTensor& x) {
  if (name.empty() || name == "linear") return x;
  return (*Activation::registry().create(
      Config(canonical_name(Config(name), "activations::apply"))))(x);
}

}  // namespace plexus::activations
