// Activations by Keras name, composed from primitive ops (so they need no backward).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "graph/symbolic.hpp"

namespace plexus::activations {

// linear, relu, sigmoid, tanh, softmax, elu, selu, leaky_relu, gelu, swish, silu,
// softplus, hard_sigmoid, exponential. Unknown names throw px::Error listing these.
SymbolicTensor apply(std::string_view name, const SymbolicTensor& x);
// Throws px::Error (naming `where`) unless `name` is a known activation.
void check_name(std::string_view name, std::string_view where);
const std::vector<std::string>& names();

}  // namespace plexus::activations
