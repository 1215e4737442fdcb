// Keras 3's model.summary() table, character for character:
//   Layer (type) | Output Shape | Param # [| Connected to]; Total/Trainable/Non-trainable.
#pragma once

#include <string>

#include "graph/functional.hpp"

namespace plexus::graph {

// line_length 0: Keras's default for the table kind, capped by the terminal width.
std::string summary_string(const Functional& model, int line_length = 0);

}  // namespace plexus::graph
