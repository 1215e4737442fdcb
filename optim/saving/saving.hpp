// Saving and loading models in Keras's own formats (API.md "Saving and Keras files").
//
//   px::saving::save_model(model, "m.keras");        // Keras 3 archive
//   px::Model m = px::saving::load_model("m.keras");  // also legacy Keras 2 / tf.keras ".h5"
//   px::saving::save_weights(model, "m.weights.h5");  // Keras 3 layout layers/<key>/vars/<i>
//   px::saving::load_weights(model, "m.weights.h5");  // also legacy ".h5" weights (by layer order)
//   std::string json = px::saving::to_json(model);     // config.json's model entry
//   px::Model again = px::saving::model_from_json(json);
//
// Layers are built through the layer registry (layers/registry.hpp), so a registered
// custom layer loads and an unknown class is a px::Error naming it. Reading checks every
// dataset's type, rank and shape first: a truncated or hostile file is a px::Error.
// Files are written to a temporary file in the same folder, synced and renamed, so a
// failed save leaves the previous file whole.
#pragma once

#include <string>

#include "core/config.hpp"
#include "optim/model.hpp"

namespace plexus::saving {

// The Keras 3 version whose format plexus writes (metadata.json's keras_version).
inline constexpr const char* kKerasVersion = "3.15.1";

// Keras 3's serialization of a model: {"module", "class_name": "Functional" or
// "Sequential", "config": {..., "layers": [...]}, "registered_name", "build_config"}.
Config model_config(const Model& model);
// A model from Keras 3's dict, or a Keras 2 / tf.keras model config ("Model", "Functional"
// or "Sequential", Keras 2 inbound_nodes lists, batch_input_shape, Sequential configs that
// are a bare list of layers).
Model model_from_config(const Config& config);

std::string to_json(const Model& model);
Model model_from_json(const std::string& json);

// ".keras": the Keras 3 archive. A compiled model's compile_config goes in config.json and
// its optimizer's variables in model.weights.h5 (optimizer/vars/<i>, see
// Optimizer::state_variables). ".h5" / ".hdf5": Keras's legacy full-model file, as Keras 3's
// legacy_h5_format writes it (model_config, training_config, model_weights with layer_names
// and weight_names; the optimizer's slots are not written).
void save_model(const Model& model, const std::string& path);
// Keras's load_model(compile=True).
struct LoadOptions {
  // Compile the model from the file's compile_config (.keras) or training_config (legacy
  // .h5) and, for .keras, restore the optimizer's state (optimizer/vars), so that fit()
  // continues where the saved model stopped. false: an uncompiled model.
  bool compile = true;
};

// ".keras" or a legacy full-model ".h5" (model_config attribute + model_weights group).
// A .keras file plexus (or Keras) wrote from a compiled model comes back compiled, with
// its optimizer state; a compile_config that cannot be rebuilt (a loss or metric class
// that is not registered, ...) is a px::Error that says to load with compile = false.
Model load_model(const std::string& path, LoadOptions options = {});

// ".weights.h5": Keras 3's layout, the layers' weights only (no optimizer state).
void save_weights(const Model& model, const std::string& path);
// A Keras 3 ".weights.h5", or a legacy ".h5" (weights only, or a full model's
// model_weights), matched by layer order as Keras does. A missing layer or weight, or a
// shape mismatch, is a px::Error naming the layer, the weight and both shapes.
void load_weights(const Model& model, const std::string& path);

}  // namespace plexus::saving

// API.md's spelling: px::models::load_model(path), px::models::model_from_json(json).
namespace plexus::models {
using saving::load_model;
using saving::model_from_json;
}  // namespace plexus::models
