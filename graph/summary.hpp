// Keras 3's model.summary() table, character for character:
//   Layer (type) | Output Shape | Param # [| Connected to]; Total/Trainable/Non-trainable.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "graph/functional.hpp"

namespace plexus::graph {

// line_length 0: Keras's default for the table kind, capped by the terminal width.
std::string summary_string(const Functional& model, int line_length = 0);
// The table of a model whose graph does not exist yet (a Sequential without an input
// shape, before fit/predict): Keras 3 prints each layer with Output Shape "?" and
// Param # "0 (unbuilt)" (a layer already built elsewhere shows its count).
std::string summary_string_unbuilt(std::string_view name,
                                   const std::vector<std::shared_ptr<Layer>>& layers,
                                   int line_length = 0);

}  // namespace plexus::graph
