// Core layers other than Dense (layers/dense.cpp): Activation, Dropout, Flatten, Reshape,
// InputLayer. All are compositions of px::ops, so their gradients come from autodiff.
#include "layers/core.hpp"

#include <fmt/format.h>

#include <string>
#include <utility>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/shape.hpp"
#include "graph/ops.hpp"
#include "layers/activations.hpp"
#include "layers/masking.hpp"

namespace plexus::layers {

namespace {
// Dimensions after the batch, all known ("(None, 4, 3)" -> 12); -1 if one is unknown.
Dim features(const Shape& shape) { return checked_product(shape, 1, "the input's features"); }
}  // namespace

// --- Activation ------------------------------------------------------------------------

ActivationLayer::ActivationLayer(std::string_view activation, ActivationOptions options)
    : Layer(options.name),
      activation_(activations::canonical_name(Config(activation), "Activation")) {
  set_declared_input_shape(std::move(options.input_shape));
}

SymbolicTensor ActivationLayer::call(const SymbolicTensor& x) {
  SymbolicTensor y = activations::apply(activation_, x);
  masking::pass_on(x, y);
  return y;
}

LayerHandle<ActivationLayer> Activation(std::string_view activation, ActivationOptions options) {
  return make_layer<ActivationLayer>(activation, std::move(options));
}

// --- Dropout ---------------------------------------------------------------------------

DropoutLayer::DropoutLayer(float rate, DropoutOptions options)
    : Layer(options.name),
      rate_(rate),
      seed_(options.seed),
      noise_shape_(std::move(options.noise_shape)) {
  for (Dim d : noise_shape_) {
    if (d == 0 || d < -1) {
      throw Error(
          "Dropout: noise_shape {} may only hold positive dimensions and -1 (None, the "
          "input's dimension)",
          shape_str(noise_shape_));
    }
  }
  // Keras accepts rate = 1, which would divide by zero in inverted dropout; a layer that
  // drops everything is certainly a mistake, so it is refused here.
  if (!(rate_ >= 0.0f && rate_ < 1.0f)) {
    throw Error(
        "Dropout: invalid value received for argument `rate`. Expected a float value in "
        "[0, 1), received: rate={}",
        rate_);
  }
  set_declared_input_shape(std::move(options.input_shape));
}

SymbolicTensor DropoutLayer::call(const SymbolicTensor& x) {
  // Keras returns the inputs unchanged for rate 0; the kernel itself is the identity
  // outside training (Context::training).
  if (rate_ == 0.0f) return x;
  Shape noise;
  if (!noise_shape_.empty()) {
    // Keras draws the mask in noise_shape (None: the input's dimension) and broadcasts it.
    if (noise_shape_.size() != x.rank()) {
      throw Error(
          "Layer \"{}\" (Dropout): noise_shape {} must have one entry per axis of the input "
          "{}",
          name(), shape_str(noise_shape_), shape_str(x.shape()));
    }
    for (std::size_t a = 0; a < x.rank(); ++a) {
      const Dim d = noise_shape_[a], n = x.shape()[a];
      if (d != -1 && d != 1 && n >= 0 && d != n) {
        throw Error(
            "Layer \"{}\" (Dropout): noise_shape {} cannot be broadcast to the input {}: "
            "axis {} must be 1, None (-1) or {}",
            name(), shape_str(noise_shape_), shape_str(x.shape()), a, n);
      }
    }
    noise = noise_shape_;
  }
  SymbolicTensor y = ops::dropout(x, rate_, std::move(noise));
  masking::pass_on(x, y);
  return y;
}

LayerHandle<DropoutLayer> Dropout(float rate, DropoutOptions options) {
  return make_layer<DropoutLayer>(rate, std::move(options));
}

// --- Identity --------------------------------------------------------------------------

IdentityLayer::IdentityLayer(IdentityOptions options) : Layer(options.name) {
  set_declared_input_shape(std::move(options.input_shape));
}

LayerHandle<IdentityLayer> Identity(IdentityOptions options) {
  return make_layer<IdentityLayer>(std::move(options));
}

// --- Flatten ---------------------------------------------------------------------------

FlattenLayer::FlattenLayer(FlattenOptions options) : Layer(options.name) {
  set_declared_input_shape(std::move(options.input_shape));
}

Shape FlattenLayer::compute_output_shape(const Shape& input_shape) {
  if (input_shape.empty()) {
    throw Error("Layer \"{}\" (Flatten) needs an input with a batch axis, received shape ()",
                name());
  }
  return {input_shape[0], features(input_shape)};
}

SymbolicTensor FlattenLayer::call(const SymbolicTensor& x) {
  Shape out = compute_output_shape(x.shape());
  if (out[1] < 0) {
    throw Error(
        "Layer \"{}\" (Flatten): all dimensions after the batch must be known, received input "
        "with shape {}",
        name(), shape_str(x.shape()));
  }
  return ops::reshape(x, {-1, out[1]});
}

LayerHandle<FlattenLayer> Flatten(FlattenOptions options) {
  return make_layer<FlattenLayer>(std::move(options));
}

// --- Reshape ---------------------------------------------------------------------------

ReshapeLayer::ReshapeLayer(Shape target_shape, ReshapeOptions options)
    : Layer(options.name), target_(std::move(target_shape)) {
  int unknown = 0;
  for (Dim d : target_) {
    if (d == -1) {
      ++unknown;
    } else if (d <= 0) {
      throw Error(
          "Reshape: target_shape {} may only hold positive dimensions and one -1 (the batch is "
          "not part of it)",
          shape_str(target_));
    }
  }
  if (unknown > 1) {
    throw Error("Reshape: target_shape {} may hold at most one -1", shape_str(target_));
  }
  set_declared_input_shape(std::move(options.input_shape));
}

Shape ReshapeLayer::compute_output_shape(const Shape& input_shape) {
  if (input_shape.empty()) {
    throw Error("Layer \"{}\" (Reshape) needs an input with a batch axis, received shape ()",
                name());
  }
  auto out = reshaped(target_, features(input_shape), "target_shape");
  if (!out) {
    throw Error(
        "Layer \"{}\" (Reshape): the total size of the new array must be unchanged, received "
        "input with shape {} and target_shape {}",
        name(), shape_str(input_shape), shape_str(target_));
  }
  out->insert(out->begin(), input_shape[0]);
  return *out;
}

SymbolicTensor ReshapeLayer::call(const SymbolicTensor& x) {
  Shape out = compute_output_shape(x.shape());
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (out[i] < 0) {
      throw Error(
          "Layer \"{}\" (Reshape): all dimensions after the batch must be known, received "
          "input with shape {}",
          name(), shape_str(x.shape()));
    }
  }
  out[0] = -1;  // the batch: the only dimension the kernel infers
  return ops::reshape(x, std::move(out));
}

LayerHandle<ReshapeLayer> Reshape(Shape target_shape, ReshapeOptions options) {
  return make_layer<ReshapeLayer>(std::move(target_shape), std::move(options));
}

// --- InputLayer ------------------------------------------------------------------------

LayerHandle<graph::InputLayer> InputLayer(const Shape& shape, InputLayerOptions options) {
  return make_layer<graph::InputLayer>(shape, options.name, options.batch_size.value_or(-1),
                                       options.dtype);
}

LayerHandle<graph::InputLayer> InputLayer(const Shape& shape, std::string_view name) {
  return make_layer<graph::InputLayer>(shape, name);
}

// --- configs ---------------------------------------------------------------------------

namespace {
std::string where(const char* cls, const Config& c) {
  return fmt::format("{} \"{}\"", cls, config::name_of(c));
}
}  // namespace

Config ActivationLayer::get_config() const {
  Config c = Layer::get_config();
  c["activation"] = activation_;
  return c;
}

LayerRef ActivationLayer::from_config(const Config& config) {
  const std::string w = where("Activation", config);
  auto a = config.find("activation");
  if (a == config.end()) throw Error("{}: the config needs \"activation\"", w);
  auto layer = make_layer<ActivationLayer>(activations::canonical_name(*a, w),
                                           ActivationOptions{config::name_of(config), {}});
  layer->apply_base_config(config);
  return layer;
}

Config DropoutLayer::get_config() const {
  Config c = Layer::get_config();
  // The shortest decimal of the float (0.2, not 0.20000000298023224), as Keras writes it.
  c["rate"] = std::stod(fmt::format("{}", rate_));
  c["seed"] = seed_;
  if (noise_shape_.empty()) {
    c["noise_shape"] = nullptr;
  } else {
    Config ns = Config::array();
    for (Dim d : noise_shape_) ns.push_back(d < 0 ? Config(nullptr) : Config(d));
    c["noise_shape"] = ns;
  }
  return c;
}

LayerRef DropoutLayer::from_config(const Config& config) {
  const std::string w = where("Dropout", config);
  auto r = config.find("rate");
  if (r == config.end() || !r->is_number())
    throw Error("{}: the config needs a number \"rate\"", w);
  DropoutOptions o;
  o.seed = config::get_or<std::optional<std::int64_t>>(config, "seed", std::nullopt);
  if (auto ns = config.find("noise_shape"); ns != config.end() && !ns->is_null()) {
    if (!ns->is_array()) {
      throw Error("{}: noise_shape must be null or a list, received {}", w, ns->dump());
    }
    for (const auto& d : *ns) {
      if (d.is_null()) {
        o.noise_shape.push_back(-1);
      } else if (d.is_number_integer()) {
        o.noise_shape.push_back(d.get<Dim>());
      } else {
        throw Error("{}: noise_shape must hold integers and nulls, received {}", w, ns->dump());
      }
    }
  }
  o.name = config::name_of(config);
  auto layer = make_layer<DropoutLayer>(r->get<float>(), std::move(o));
  layer->apply_base_config(config);
  return layer;
}

LayerRef IdentityLayer::from_config(const Config& config) {
  auto layer = make_layer<IdentityLayer>(IdentityOptions{config::name_of(config), {}});
  layer->apply_base_config(config);
  return layer;
}

Config FlattenLayer::get_config() const {
  Config c = Layer::get_config();
  c["data_format"] = "channels_last";
  return c;
}

LayerRef FlattenLayer::from_config(const Config& config) {
  const std::string w = where("Flatten", config);
  const std::string format = config::get_or<std::string>(config, "data_format", "channels_last");
  if (format != "channels_last") {
    throw Error("{}: data_format \"{}\" is not supported (only channels_last)", w, format);
  }
  auto layer = make_layer<FlattenLayer>(FlattenOptions{config::name_of(config), {}});
  layer->apply_base_config(config);
  return layer;
}

Config ReshapeLayer::get_config() const {
  Config c = Layer::get_config();
  c["target_shape"] = target_;
  return c;
}

LayerRef ReshapeLayer::from_config(const Config& config) {
  const std::string w = where("Reshape", config);
  auto t = config.find("target_shape");
  if (t == config.end() || !t->is_array()) {
    throw Error("{}: the config needs a list \"target_shape\"", w);
  }
  Shape target;
  for (const auto& d : *t) {
    if (!d.is_number_integer())
      throw Error("{}: target_shape must hold integers, received {}", w, t->dump());
    target.push_back(d.get<Dim>());
  }
  auto layer =
      make_layer<ReshapeLayer>(std::move(target), ReshapeOptions{config::name_of(config), {}});
  layer->apply_base_config(config);
  return layer;
}

}  // namespace plexus::layers
