#include <fmt/format.h>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "graph/ops.hpp"
#include "layers/activations.hpp"
#include "layers/core.hpp"
#include "layers/masking.hpp"

namespace plexus::layers {

DenseOptions::~DenseOptions() = default;

DenseLayer::DenseLayer(Dim units, DenseOptions options)
    : Layer(options.name), units_(units), options_(std::move(options)) {
  if (units_ <= 0) throw Error("Dense: units must be positive, received {}", units_);
  options_.activation = activations::canonical_name(Config(options_.activation), "Dense");
  if (options_.input_dim > 0 && options_.input_shape.empty()) {
    options_.input_shape = {options_.input_dim};
  }
  regularizers::refuse_activity_regularizer(options_.activity_regularizer, "Dense", name());
  set_declared_input_shape(options_.input_shape);
}

void DenseLayer::build(const Shape& input_shape) {
  if (input_shape.size() < 2 || input_shape.back() <= 0) {
    throw Error(
        "Input 0 of layer \"{}\" is incompatible with the layer: expected a known last "
        "axis and rank >= 2, received input with shape {}",
        name(), shape_str(input_shape));
  }
  kernel_ = add_weight("kernel", {input_shape.back(), units_}, options_.kernel_initializer, true,
                       options_.kernel_regularizer, options_.kernel_constraint);
  if (options_.use_bias) {
    bias_ = add_weight("bias", {units_}, options_.bias_initializer, true, options_.bias_regularizer,
                       options_.bias_constraint);
  }
}

SymbolicTensor DenseLayer::call(const SymbolicTensor& x) {
  const Dim in = kernel_.shape()[0];
  if (x.rank() < 2 || x.shape().back() != in) {
    throw Error(
        "Input 0 of layer \"{}\" is incompatible with the layer: expected axis -1 of input "
        "shape to have value {}, but received input with shape {}",
        name(), in, shape_str(x.shape()));
  }
  auto y = ops::matmul(x, kernel_);
  if (options_.use_bias) y = ops::add(y, bias_);
  y = activations::apply(options_.activation, y);
  masking::pass_on(x, y);  // Keras: Dense supports masking (a [N, T, F] input keeps its mask)
  return y;
}

Shape DenseLayer::compute_output_shape(const Shape& input_shape) {
  Shape out = input_shape;
  out.back() = units_;
  return out;
}

LayerHandle<DenseLayer> Dense(Dim units, DenseOptions options) {
  return make_layer<DenseLayer>(units, std::move(options));
}
LayerHandle<DenseLayer> Dense(Dim units, std::string_view activation) {
  DenseOptions o;
  o.activation = std::string(activation);
  return make_layer<DenseLayer>(units, std::move(o));
}

}  // namespace plexus::layers

// --- config ------------------------------------------------------------------------------

namespace plexus::layers {

Config DenseLayer::get_config() const {
  Config c = Layer::get_config();
  c["units"] = units_;
  c.update(Config(options_));
  return c;
}

LayerRef DenseLayer::from_config(const Config& config) {
  Config c = config;
  const std::string where = fmt::format("Dense \"{}\"", config::name_of(c));
  config::refuse_set(c, where, {"lora_rank", "quantization_config"});
  auto units = c.find("units");
  if (units == c.end() || !units->is_number_integer()) {
    throw Error("{}: the config needs an integer \"units\"", where);
  }
  if (c.contains("activation"))
    c["activation"] = activations::canonical_name(c["activation"], where);
  DenseOptions o = c.get<DenseOptions>();
  o.name = config::name_of(c);
  auto layer = make_layer<DenseLayer>(units->get<Dim>(), std::move(o));
  layer->apply_base_config(c);
  return layer;
}

}  // namespace plexus::layers
