#include "layers/embedding.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/json.hpp"
#include "graph/ops.hpp"
#include "layers/masking.hpp"

namespace plexus::layers {

EmbeddingLayer::EmbeddingLayer(Dim input_dim, Dim output_dim, EmbeddingOptions options)
    : Layer(options.name),
      input_dim_(input_dim),
      output_dim_(output_dim),
      options_(std::move(options)) {
  if (input_dim_ <= 0 || output_dim_ <= 0) {
    throw Error("Embedding: input_dim and output_dim must be positive, received {} and {}",
                input_dim_, output_dim_);
  }
  set_declared_input_shape(options_.input_shape);
}

void EmbeddingLayer::build(const Shape&) {
  embeddings_ = add_weight("embeddings", {input_dim_, output_dim_}, options_.embeddings_initializer,
                           true, options_.embeddings_regularizer, options_.embeddings_constraint);
}

SymbolicTensor EmbeddingLayer::call(const SymbolicTensor& x) {
  if (x.rank() < 1) {
    throw Error(
        "Input 0 of layer \"{}\" is incompatible with the layer: expected ids of rank >= 1, "
        "received input with shape {}",
        name(), shape_str(x.shape()));
  }
  SymbolicTensor out = ops::gather(embeddings_, x, 0);
  if (options_.mask_zero) {
    masking::set_mask(out, ops::where(x, ops::constant(1.0f), ops::constant(0.0f)));
  }
  return out;
}

Shape EmbeddingLayer::compute_output_shape(const Shape& input_shape) {
  Shape out = input_shape;
  out.push_back(output_dim_);
  return out;
}

LayerHandle<EmbeddingLayer> Embedding(Dim input_dim, Dim output_dim, EmbeddingOptions options) {
  return make_layer<EmbeddingLayer>(input_dim, output_dim, std::move(options));
}

// --- Masking -------------------------------------------------------------------------------

MaskingLayer::MaskingLayer(MaskingOptions options)
    : Layer(options.name), options_(std::move(options)) {
  set_declared_input_shape(options_.input_shape);
}

SymbolicTensor MaskingLayer::call(const SymbolicTensor& x) {
  if (x.rank() < 3) {
    throw Error(
        "Input 0 of layer \"{}\" is incompatible with the layer: expected "
        "[batch, timesteps, features...], received input with shape {}",
        name(), shape_str(x.shape()));
  }
  // A step is kept when any feature differs from mask_value: max |x - v| over the features.
  const float v = static_cast<float>(options_.mask_value);
  std::vector<Dim> features;
  for (std::size_t d = 2; d < x.rank(); ++d) features.push_back(static_cast<Dim>(d));
  const SymbolicTensor dev = ops::abs(v == 0.0f ? x : ops::subtract(x, v));
  const SymbolicTensor one = ops::constant(1.0f), zero = ops::constant(0.0f);
  const SymbolicTensor keep = ops::where(ops::max(dev, features, true), one, zero);
  SymbolicTensor out = ops::multiply(x, keep);
  masking::set_mask(out, ops::where(ops::max(dev, features, false), one, zero));
  return out;
}

LayerHandle<MaskingLayer> Masking(MaskingOptions options) {
  return make_layer<MaskingLayer>(std::move(options));
}

// --- config --------------------------------------------------------------------------------

Config EmbeddingLayer::get_config() const {
  Config c = Layer::get_config();
  c["input_dim"] = input_dim_;
  c["output_dim"] = output_dim_;
  c.update(Config(options_));
  return c;
}

LayerRef EmbeddingLayer::from_config(const Config& config) {
  const std::string where = fmt::format("Embedding \"{}\"", config::name_of(config));
  config::refuse_set(config, where, {"lora_rank", "quantization_config", "weights"});
  for (const char* key : {"input_dim", "output_dim"}) {
    if (!config.contains(key) || !config[key].is_number_integer()) {
      throw Error("{}: the config needs an integer \"{}\"", where, key);
    }
  }
  EmbeddingOptions o = config.get<EmbeddingOptions>();
  o.name = config::name_of(config);
  auto layer = make_layer<EmbeddingLayer>(config["input_dim"].get<Dim>(),
                                          config["output_dim"].get<Dim>(), std::move(o));
  layer->apply_base_config(config);
  return layer;
}

Config MaskingLayer::get_config() const {
  Config c = Layer::get_config();
  c.update(Config(options_));
  return c;
}

LayerRef MaskingLayer::from_config(const Config& config) {
  Config c = config;
  // Keras 3.8 may write mask_value as a tensor: {"class_name": "__tensor__", "config":
  // {"value": [0.0], ...}}.
  if (auto mv = c.find("mask_value"); mv != c.end() && mv->is_object()) {
    const Config value = mv->value("config", Config::object()).value("value", Config());
    const Config scalar = value.is_array() && value.size() == 1 ? value[0] : value;
    if (!scalar.is_number()) {
      throw Error("Masking \"{}\": mask_value must be a number, received {}",
                  config::name_of(config), mv->dump());
    }
    *mv = scalar;
  }
  MaskingOptions o = c.get<MaskingOptions>();
  o.name = config::name_of(config);
  auto layer = make_layer<MaskingLayer>(std::move(o));
  layer->apply_base_config(config);
  return layer;
}

}  // namespace plexus::layers
