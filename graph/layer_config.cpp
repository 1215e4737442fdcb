// Layer::get_config's base keys, and the InputLayer's config (Keras 3 layout).
#include <string>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "graph/input_layer.hpp"
#include "graph/layer.hpp"

namespace plexus {

namespace {
// Keras 3's float32 DTypePolicy, as it writes it in every layer config.
Config float32_policy() {
  Config c = Config::object();
  c["module"] = "keras";
  c["class_name"] = "DTypePolicy";
  c["config"] = {{"name", "float32"}};
  c["registered_name"] = nullptr;
  return c;
}

// "float32" from a Keras 2 string, a Keras 3 DTypePolicy dict or a Keras 2 Policy dict.
std::string dtype_name(const Config& dtype) {
  if (dtype.is_string()) return dtype.get<std::string>();
  if (dtype.is_object()) {
    auto cfg = dtype.find("config");
    if (cfg != dtype.end() && cfg->is_object()) {
      auto n = cfg->find("name");
      if (n != cfg->end() && n->is_string()) return n->get<std::string>();
    }
  }
  return dtype.dump();
}

Shape shape_from(const Config& c, std::string_view what, std::string_view layer) {
  if (!c.is_array())
    throw Error("Layer \"{}\": {} must be a list, received {}", layer, what, c.dump());
  Shape s;
  for (const auto& d : c) {
    if (d.is_null()) {
      s.push_back(-1);
    } else if (d.is_number_integer()) {
      s.push_back(d.get<Dim>());
    } else {
      throw Error("Layer \"{}\": {} must hold integers or null, received {}", layer, what,
                  c.dump());
    }
  }
  return s;
}
}  // namespace

Config Layer::get_config() const {
  Config c = Config::object();
  c["name"] = name_;
  c["trainable"] = trainable_;
  c["dtype"] = float32_policy();
  return c;
}

void Layer::apply_base_config(const Config& config) {
  if (!config.is_object()) {
    throw Error("{}: a layer config must be an object, received {}", class_name(), config.dump());
  }
  if (auto n = config.find("name"); n != config.end() && !n->is_null()) {
    if (!n->is_string())
      throw Error("{}: \"name\" must be a string, received {}", class_name(), n->dump());
    name_ = n->get<std::string>();
  }
  if (auto t = config.find("trainable"); t != config.end() && !t->is_null()) {
    if (!t->is_boolean()) {
      throw Error("Layer \"{}\" ({}): \"trainable\" must be a boolean, received {}", name_,
                  class_name(), t->dump());
    }
    set_trainable(t->get<bool>());
  }
  if (auto d = config.find("dtype"); d != config.end() && !d->is_null()) {
    const std::string dtype = dtype_name(*d);
    if (dtype != "float32") {
      throw Error(
          "Layer \"{}\" ({}): dtype \"{}\" is not supported; plexus computes in float32 only",
          name_, class_name(), dtype);
    }
  }
  // Keras 2 writes the first layer's input shape into its config.
  if (auto b = config.find("batch_input_shape"); b != config.end() && !b->is_null()) {
    Shape s = shape_from(*b, "batch_input_shape", name_);
    if (!s.empty()) s.erase(s.begin());
    set_declared_input_shape(std::move(s));
  }
}

namespace graph {

Config InputLayer::get_config() const {
  Config c = Config::object();
  Shape batch{batch_size_};
  batch.insert(batch.end(), shape_.begin(), shape_.end());
  Config b = Config::array();
  for (Dim d : batch) b.push_back(d < 0 ? Config(nullptr) : Config(d));
  c["batch_shape"] = b;
  c["dtype"] = dtype_;
  c["sparse"] = false;
  c["ragged"] = false;
  c["name"] = name();
  c["optional"] = false;
  return c;
}

LayerRef InputLayer::from_config(const Config& config) {
  if (!config.is_object()) {
    throw Error("InputLayer: a layer config must be an object, received {}", config.dump());
  }
  const std::string name = config::get_or<std::string>(config, "name", "");
  auto it = config.find("batch_shape");
  if (it == config.end() || it->is_null()) it = config.find("batch_input_shape");
  Shape shape;
  Dim batch_size = -1;
  if (it != config.end() && !it->is_null()) {
    shape = shape_from(*it, "batch_shape", name);
    if (shape.empty()) throw Error("InputLayer \"{}\": batch_shape must include the batch", name);
    // The input node takes any batch size; a static one is kept for stateful RNNs.
    batch_size = shape.front();
    shape.erase(shape.begin());
  } else if (auto s = config.find("shape"); s != config.end() && !s->is_null()) {
    shape = shape_from(*s, "shape", name);
  } else {
    throw Error("InputLayer \"{}\": the config has no batch_shape", name);
  }
  for (const char* key : {"sparse", "ragged", "optional"}) {
    if (config::get_or<bool>(config, key, false)) {
      throw Error("InputLayer \"{}\": {}=true is not supported by plexus", name, key);
    }
  }
  std::string dtype = "float32";
  if (auto d = config.find("dtype"); d != config.end() && !d->is_null()) {
    dtype = input_dtype(dtype_name(*d), fmt::format("InputLayer \"{}\"", name));
  }
  // None after the batch (the timesteps of a sequence) stays unknown, as px::Input({-1, 4}).
  for (Dim d : shape) {
    if (d <= 0 && d != -1) {
      throw Error(
          "InputLayer \"{}\": the dimensions after the batch must be positive or None, "
          "received shape {}",
          name, shape_str(shape));
    }
  }
  return make_layer<InputLayer>(shape, name, batch_size, dtype);
}

}  // namespace graph

}  // namespace plexus
