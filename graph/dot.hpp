// Graphviz export of a model: px::utils::model_to_dot and px::utils::plot_model (Keras 3's
// keras.utils.model_to_dot / plot_model).
//
//   std::string dot = px::utils::model_to_dot(model, {.show_shapes = true});
//   px::utils::plot_model(model, "model.png", {.show_shapes = true});   // runs `dot -Tpng`
//
// One node per layer (InputLayers included, except in a Sequential), labelled like Keras
// with an HTML-like table; one edge per connected pair of layers. Node ids are "n0", "n1",
// ... in layer order, so the same model always gives the same text.
#pragma once

#include <string>
#include <string_view>

#include "graph/functional.hpp"

namespace plexus::utils {

// Keras's keyword arguments in Keras's order where C++ designated initializers allow it
// (`{.show_shapes = true, .show_layer_names = true, .show_layer_activations = true,
// .expand_nested = false, .rankdir = "TB"}` must stay valid).
struct DotOptions {
  bool show_shapes = false;             // "Input shape" / "Output shape" cells
  bool show_dtype = false;              // "Output dtype" cell (always float32 here)
  bool show_layer_names = true;         // "dense (Dense)" instead of "Dense"
  bool show_layer_activations = false;  // "Activation: relu" for layers that have one
  bool show_trainable = false;          // "Trainable" / "Non-trainable" for layers with weights
  bool expand_nested = false;           // nested models as `subgraph cluster_<name>`
  std::string rankdir = "TB";           // TB, LR, BT or RL
  int dpi = 200;
  std::string splines = "ortho";  // ortho, curved, polyline, spline, line, none, true, false
};

// The model as Graphviz DOT: `digraph "<model name>" { ... }`.
std::string model_to_dot(const graph::Functional& model, const DotOptions& options = {});

// Renders the model to `to_file` with Graphviz `dot`; the format is the file's extension
// (png when there is none). Throws px::Error when `dot` is not on PATH or fails; the
// output file is then left untouched (it is written under a temporary name and renamed).
void plot_model(const graph::Functional& model, std::string_view to_file = "model.png",
                const DotOptions& options = {});

}  // namespace plexus::utils
