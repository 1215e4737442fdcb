#include "layers/time_distributed.hpp"

#include <fmt/format.h>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/kernels.hpp"
#include "graph/ops.hpp"
#include "layers/masking.hpp"
#include "layers/registry.hpp"

namespace plexus::layers {

namespace {

// [N, T, rest...] -> [-1, rest...]; rest must be known.
Shape step_shape(const Shape& input_shape, const std::string& name) {
  if (input_shape.size() < 3) {
    throw Error(
        "Layer \"{}\" (TimeDistributed) needs an input of at least 3 dimensions (batch, time, "
        "...), received {}",
        name, shape_str(input_shape));
  }
  Shape s{-1};
  for (std::size_t d = 2; d < input_shape.size(); ++d) {
    if (input_shape[d] < 0) {
      throw Error(
          "Layer \"{}\" (TimeDistributed): the features of a step must have a known shape, "
          "received {}",
          name, shape_str(input_shape));
    }
    s.push_back(input_shape[d]);
  }
  return s;
}

}  // namespace

TimeDistributedLayer::TimeDistributedLayer(const LayerRef& layer, TimeDistributedOptions options)
    : Layer(options.name), layer_(layer) {
  if (!layer_.get()) throw Error("TimeDistributed: the layer to wrap is empty");
  track(layer_);
  set_declared_input_shape(options.input_shape);
}

void TimeDistributedLayer::build(const Shape& input_shape) { step_shape(input_shape, name()); }

SymbolicTensor TimeDistributedLayer::call(const SymbolicTensor& x) {
  const Shape steps = step_shape(x.shape(), name());
  const SymbolicTensor folded = ops::reshape(x, steps);
  const SymbolicTensor y = (*layer_)(folded);
  const Shape& ys = y.shape();
  if (ys.empty()) {
    throw Error("Layer \"{}\" (TimeDistributed): the wrapped layer \"{}\" returned a scalar",
                name(), layer_->name());
  }
  Shape tail(ys.begin() + 1, ys.end());
  for (Dim d : tail) {
    if (d < 0) {
      throw Error(
          "Layer \"{}\" (TimeDistributed): the wrapped layer \"{}\" gives steps of unknown shape "
          "{}",
          name(), layer_->name(), shape_str(ys));
    }
  }
  SymbolicTensor out = ops::apply(kernels::reshape_like(2, tail), {y, x});
  masking::pass_on(x, out);
  return out;
}

Config TimeDistributedLayer::get_config() const {
  Config c = Layer::get_config();
  c["layer"] = serialize(*layer_);
  return c;
}

LayerRef TimeDistributedLayer::from_config(const Config& config) {
  const std::string where = fmt::format("TimeDistributed \"{}\"", config::name_of(config));
  if (!config.contains("layer") || !config["layer"].is_object()) {
    throw Error("{}: the config needs a \"layer\" (a serialized layer)", where);
  }
  TimeDistributedOptions o;
  o.name = config::name_of(config);
  auto layer = make_layer<TimeDistributedLayer>(deserialize(config["layer"]), std::move(o));
  layer->apply_base_config(config);
  return layer;
}

LayerHandle<TimeDistributedLayer> TimeDistributed(const LayerRef& layer,
                                                  TimeDistributedOptions options) {
  return make_layer<TimeDistributedLayer>(layer, std::move(options));
}

}  // namespace plexus::layers
