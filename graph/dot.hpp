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

#include "core/keywords.hpp"
#include "graph/functional.hpp"

// Keywords of model_to_dot / plot_model.
PLEXUS_KEYWORD(to_file, std::string)
PLEXUS_KEYWORD(show_shapes, bool)
PLEXUS_KEYWORD(show_dtype, bool)
PLEXUS_KEYWORD(show_layer_names, bool)
PLEXUS_KEYWORD(show_layer_activations, bool)
PLEXUS_KEYWORD(show_trainable, bool)
PLEXUS_KEYWORD(expand_nested, bool)
PLEXUS_KEYWORD(rankdir, std::string)
PLEXUS_KEYWORD(dpi, int)
PLEXUS_KEYWORD(splines, std::string)

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

// Keyword forms (Keras's plot_model(model, "m.png", show_shapes=True)):
//   px::utils::plot_model(model, "m.png", kw::show_shapes = true)
//   px::utils::plot_model(model, kw::to_file = "m.png", kw::rankdir = "LR")
//   px::utils::model_to_dot(model, kw::show_shapes = true)
template <kw::Argument... K>
requires(sizeof...(K) > 0) std::string model_to_dot(const graph::Functional& model, K&&... k) {
  return model_to_dot(model, kw::make<DotOptions>(std::forward<K>(k)...));
}
template <kw::Argument... K>
requires(sizeof...(K) > 0) void plot_model(const graph::Functional& model, std::string_view to_file,
                                           K&&... k) {
  plot_model(model, to_file, kw::make<DotOptions>(std::forward<K>(k)...));
}
template <kw::Argument... K>
requires(sizeof...(K) > 0) void plot_model(const graph::Functional& model, K&&... k) {
  kw::detail::call_defaulted<DotOptions, kw::tags::to_file>(
      [&](std::string_view file, DotOptions o) { plot_model(model, file, o); },
      std::string_view("model.png"), std::forward<K>(k)...);
}
namespace keyword_signatures {
using model_to_dot = kw::Signature<DotOptions>;
using plot_model = kw::Signature<DotOptions, kw::tags::to_file>;
}  // namespace keyword_signatures

}  // namespace plexus::utils
