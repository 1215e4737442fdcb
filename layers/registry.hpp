// The layer registry: every built-in layer by Keras class name, plus user classes.
//
//   px::Config cfg = px::layers::serialize(*layer);        // Keras 3's dict
//   px::LayerRef again = px::layers::deserialize(cfg);     // also Keras 2's {class_name, config}
//   px::register_layer<Scale>("my_package>Scale");         // a custom layer: T::from_config
//
// Loading an unregistered class is a px::Error naming it and showing the register call.
#pragma once

#include <string>

#include "core/config.hpp"
#include "core/registry.hpp"
#include "graph/layer.hpp"

namespace plexus {

Registry<Layer>& layer_registry();

// Keras's register_keras_serializable(package="my_package"): T provides
// `static px::LayerRef from_config(const px::Config&)` and overrides get_config().
template <typename T>
void register_layer(const std::string& registered_name) {
  layer_registry().add_custom<T>(registered_name, [](const Config& config) {
    return std::static_pointer_cast<Layer>(T::from_config(config).get());
  });
}

namespace layers {
// {"module", "class_name", "config", "registered_name"} of a layer (no build_config).
Config serialize(const Layer& layer);
// A new layer from a Keras 3 or Keras 2 layer dict, or a bare class name.
LayerRef deserialize(const Config& config);
}  // namespace layers

}  // namespace plexus
