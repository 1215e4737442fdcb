// Activations by Keras name, composed from primitive ops (so they need no backward).
// One registry (Activation::registry()) holds them; Keras serializes an activation as its
// name ("relu"), or as {"class_name": "function", "config": "relu", ...}, and both are read.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/registry.hpp"
#include "graph/symbolic.hpp"

namespace plexus::activations {

class Activation {
 public:
  using Fn = SymbolicTensor (*)(const SymbolicTensor&);
  Activation(std::string name, Fn fn) : name_(std::move(name)), fn_(fn) {}
  // The Keras name ("relu"): activations are functions in Keras, serialized by name.
  std::string class_name() const { return name_; }
  Config get_config() const { return Config::object(); }
  SymbolicTensor operator()(const SymbolicTensor& x) const { return fn_(x); }

  static Registry<Activation>& registry();

 private:
  std::string name_;
  Fn fn_;
};

// linear, relu, sigmoid, tanh, softmax, elu, selu, leaky_relu, gelu, swish, silu,
// softplus, hard_sigmoid, exponential. Unknown names throw px::Error listing these.
SymbolicTensor apply(std::string_view name, const SymbolicTensor& x);
// The Keras name for a name (any case or underscores: "LeakyReLU" is not one, "leaky_relu"
// is) or a serialized activation; throws px::Error naming `where` when it is unknown:
// `Dense: unknown activation "rleu". Known activations: elu, exponential, ...`.
std::string canonical_name(const Config& activation, std::string_view where);
// Throws px::Error (naming `where`) unless `name` is a known activation.
void check_name(std::string_view name, std::string_view where);
const std::vector<std::string>& names();

}  // namespace plexus::activations
