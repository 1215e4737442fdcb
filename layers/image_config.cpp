// Keras 3 configs of the image, activation, normalization and preprocessing layers:
// get_config writes Keras 3's keys in Keras 3's order (keras/src/layers/.../get_config);
// from_config also reads Keras 2 / tf.keras configs (absent keys take Keras's defaults,
// "alpha" for LeakyReLU's slope, a one-element list for an int axis). A value plexus
// cannot honour is a px::Error naming the layer, the key and the value.
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/tensor.hpp"
#include "layers/activations.hpp"
#include "layers/convolution.hpp"
#include "layers/lambda.hpp"
#include "layers/normalization.hpp"
#include "layers/pooling.hpp"
#include "layers/preprocessing.hpp"
#include "layers/regularization.hpp"
#include "layers/reshaping.hpp"

namespace plexus::layers {

namespace {

// `Conv2D "conv2d_1"`: the class and the layer name, for messages.
std::string where(std::string_view cls, const Config& c) {
  return fmt::format("{} \"{}\"", cls, config::name_of(c));
}

// The shortest decimal of a float (0.99, not 0.9900000095367432), as Keras writes it.
double shortest(float v) { return std::stod(fmt::format("{}", v)); }

Config int_list(const std::vector<Dim>& v) {
  Config a = Config::array();
  for (Dim d : v) a.push_back(d);
  return a;
}

Config pair_list(const std::vector<std::pair<Dim, Dim>>& v) {
  Config a = Config::array();
  for (const auto& [x, y] : v) a.push_back(Config::array({x, y}));
  return a;
}

[[noreturn]] void bad_value(const std::string& w, std::string_view key, const Config& v,
                            std::string_view expected) {
  throw Error("{}: {}={} is invalid (expected {})", w, key, v.dump(), expected);
}

// The value at `key` as T, `fallback` when absent or null; a value of the wrong JSON type
// is a px::Error naming the layer, key and value.
template <typename T>
T get(const Config& c, std::string_view key, const std::string& w, T fallback) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null()) return fallback;
  const Config& v = *it;
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) bad_value(w, key, v, "true or false");
  } else if constexpr (std::is_integral_v<T>) {
    if (!v.is_number_integer()) bad_value(w, key, v, "an integer");
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number()) bad_value(w, key, v, "a number");
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) bad_value(w, key, v, "a string");
  }
  return v.get<T>();
}

template <typename T>
T required(const Config& c, std::string_view key, const std::string& w) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null()) throw Error("{}: the config needs \"{}\"", w, key);
  return get<T>(c, key, w, T{});
}

// Keras's "an int or a tuple of ints".
IntTuple get_tuple(const Config& c, std::string_view key, const std::string& w, IntTuple fallback) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null()) return fallback;
  if (it->is_number_integer()) return IntTuple(it->get<Dim>());
  if (!it->is_array()) bad_value(w, key, *it, "an int or a list of ints");
  std::vector<Dim> v;
  for (const auto& d : *it) {
    if (!d.is_number_integer()) bad_value(w, key, *it, "an int or a list of ints");
    v.push_back(d.get<Dim>());
  }
  return IntTuple(std::move(v));
}

// An axis list from an int or a list of ints.
std::vector<Dim> get_axes(const Config& c, std::string_view key, const std::string& w,
                          std::vector<Dim> fallback) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null()) return fallback;
  return get_tuple(c, key, w, {}).values;
}

// One axis, from an int or a one-element list (tf.keras writes BatchNormalization's axis as
// [3]).
Dim get_axis(const Config& c, std::string_view key, const std::string& w, Dim fallback) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null()) return fallback;
  const std::vector<Dim> v = get_tuple(c, key, w, {}).values;
  if (v.size() != 1) bad_value(w, key, *it, "one axis (plexus normalises along one axis)");
  return v[0];
}

// ZeroPadding / Cropping amounts: an int, a list of ints or a list of pairs.
PadTuple get_pads(const Config& c, std::string_view key, const std::string& w, PadTuple fallback) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null()) return fallback;
  const Config& v = *it;
  if (v.is_number_integer()) return PadTuple(v.get<Dim>());
  if (!v.is_array()) bad_value(w, key, v, "an int, a list of ints or a list of pairs");
  PadTuple p(0);
  p.symmetric.clear();
  bool pairs = !v.empty() && v[0].is_array();
  for (const auto& e : v) {
    if (pairs) {
      if (!e.is_array() || e.size() != 2 || !e[0].is_number_integer() ||
          !e[1].is_number_integer()) {
        bad_value(w, key, v, "a list of (before, after) pairs");
      }
      p.pairs.emplace_back(e[0].get<Dim>(), e[1].get<Dim>());
    } else {
      if (!e.is_number_integer()) bad_value(w, key, v, "an int, a list of ints or pairs");
      p.symmetric.push_back(e.get<Dim>());
    }
  }
  // Keras 1-D layers store (left, right) as a flat pair.
  return p;
}

// An initializer, regularizer or constraint field (a name, a Keras 3 or Keras 2 dict).
template <typename Base>
ObjectRef<Base> get_ref(const Config& c, std::string_view key, const std::string& w,
                        ObjectRef<Base> fallback) {
  auto it = c.find(key);
  if (it == c.end()) return fallback;
  if (it->is_null()) return ObjectRef<Base>();
  try {
    return ObjectRef<Base>(Base::registry().create(*it));
  } catch (const Error& e) {
    throw Error("{}: {}: {}", w, key, e.what());
  }
}

std::string get_activation(const Config& c, const std::string& w, std::string fallback) {
  auto it = c.find("activation");
  if (it == c.end() || it->is_null()) return fallback;
  return activations::canonical_name(*it, w);
}

// Builds the layer, naming it in any constructor error, then applies name, trainable,
// dtype and Keras 2's batch_input_shape.
template <typename Make>
LayerRef finish(const std::string& w, const Config& c, Make make) {
  LayerRef layer;
  try {
    layer = LayerRef(make().get());
  } catch (const Error& e) {
    throw Error("{}: {}", w, e.what());
  }
  layer->apply_base_config(c);
  return layer;
}

// Keras's data_format; null (Keras 2's "use the global default") is channels_last.
std::string get_format(const Config& c, const std::string& w) {
  return get<std::string>(c, "data_format", w, "channels_last");
}

// A Tensor as a nested list (a scalar as a number).
Config tensor_config(const Tensor& t) {
  const Shape s = shape_of(t);
  std::size_t pos = 0;
  auto rec = [&](auto&& self, std::size_t axis) -> Config {
    if (axis == s.size()) return Config(shortest(t.data()[pos++]));
    Config a = Config::array();
    for (Dim i = 0; i < s[axis]; ++i) a.push_back(self(self, axis + 1));
    return a;
  };
  return rec(rec, 0);
}

// A number or a rectangular nested list of numbers as a Tensor.
Tensor config_tensor(const Config& v, const std::string& w, std::string_view key) {
  Shape shape;
  for (const Config* p = &v; p->is_array(); p = &(*p)[0]) {
    shape.push_back(static_cast<Dim>(p->size()));
    if (p->empty()) break;
  }
  std::vector<float> values;
  auto rec = [&](auto&& self, const Config& e, std::size_t axis) -> void {
    if (axis == shape.size()) {
      if (!e.is_number()) bad_value(w, key, v, "a number or a nested list of numbers");
      values.push_back(e.get<float>());
      return;
    }
    if (!e.is_array() || static_cast<Dim>(e.size()) != shape[axis]) {
      bad_value(w, key, v, "a rectangular nested list of numbers");
    }
    for (const auto& x : e) self(self, x, axis + 1);
  };
  rec(rec, v, 0);
  Tensor t;
  resize_to(t, shape);
  if (values.size() != t.size()) bad_value(w, key, v, "a non-empty list of numbers");
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

const char* conv_class(std::size_t rank, const char* one, const char* two) {
  return rank == 1 ? one : two;
}

}  // namespace

// --- convolution ---------------------------------------------------------------------------

Config ConvLayer::get_config() const {
  Config c = Layer::get_config();
  c["filters"] = filters_;
  c["kernel_size"] = int_list(kernel_size_);
  c["strides"] = int_list(options_.strides.values);
  c["padding"] = options_.padding;
  c["data_format"] = options_.data_format;
  c["dilation_rate"] = int_list(options_.dilation_rate.values);
  c["groups"] = options_.groups;
  c["activation"] = options_.activation;
  c["use_bias"] = options_.use_bias;
  c["kernel_initializer"] = Config(options_.kernel_initializer);
  c["bias_initializer"] = Config(options_.bias_initializer);
  c["kernel_regularizer"] = Config(options_.kernel_regularizer);
  c["bias_regularizer"] = Config(options_.bias_regularizer);
  c["activity_regularizer"] = Config(options_.activity_regularizer);
  c["kernel_constraint"] = Config(options_.kernel_constraint);
  c["bias_constraint"] = Config(options_.bias_constraint);
  return c;
}

LayerRef ConvLayer::from_config(const Config& c, std::size_t rank) {
  const std::string w = where(conv_class(rank, "Conv1D", "Conv2D"), c);
  config::refuse_set(c, w, {"lora_rank", "dora_rank"});
  const Dim filters = required<Dim>(c, "filters", w);
  IntTuple kernel_size = get_tuple(c, "kernel_size", w, {});
  if (kernel_size.empty()) throw Error("{}: the config needs \"kernel_size\"", w);
  ConvOptions o;
  o.strides = get_tuple(c, "strides", w, o.strides);
  o.padding = get<std::string>(c, "padding", w, o.padding);
  o.data_format = get_format(c, w);
  o.dilation_rate = get_tuple(c, "dilation_rate", w, o.dilation_rate);
  o.groups = get<Dim>(c, "groups", w, o.groups);
  o.activation = get_activation(c, w, o.activation);
  o.use_bias = get<bool>(c, "use_bias", w, o.use_bias);
  o.kernel_initializer = get_ref(c, "kernel_initializer", w, o.kernel_initializer);
  o.bias_initializer = get_ref(c, "bias_initializer", w, o.bias_initializer);
  o.kernel_regularizer = get_ref(c, "kernel_regularizer", w, o.kernel_regularizer);
  o.bias_regularizer = get_ref(c, "bias_regularizer", w, o.bias_regularizer);
  o.activity_regularizer = get_ref(c, "activity_regularizer", w, o.activity_regularizer);
  o.kernel_constraint = get_ref(c, "kernel_constraint", w, o.kernel_constraint);
  o.bias_constraint = get_ref(c, "bias_constraint", w, o.bias_constraint);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<ConvLayer>(rank, filters, kernel_size, o); });
}

Config ConvTransposeLayer::get_config() const {
  Config c = Layer::get_config();
  c["filters"] = filters_;
  c["kernel_size"] = int_list(kernel_size_);
  c["strides"] = int_list(options_.strides.values);
  c["padding"] = options_.padding;
  // Keras 3's get_config leaves output_padding out (its constructor takes it); plexus
  // writes it only when it is set, so that such a layer round-trips.
  if (!options_.output_padding.empty()) {
    c["output_padding"] = int_list(options_.output_padding.values);
  }
  c["data_format"] = options_.data_format;
  c["dilation_rate"] = int_list(options_.dilation_rate.values);
  c["activation"] = options_.activation;
  c["use_bias"] = options_.use_bias;
  c["kernel_initializer"] = Config(options_.kernel_initializer);
  c["bias_initializer"] = Config(options_.bias_initializer);
  c["kernel_regularizer"] = Config(options_.kernel_regularizer);
  c["bias_regularizer"] = Config(options_.bias_regularizer);
  c["activity_regularizer"] = Config(options_.activity_regularizer);
  c["kernel_constraint"] = Config(options_.kernel_constraint);
  c["bias_constraint"] = Config(options_.bias_constraint);
  return c;
}

LayerRef ConvTransposeLayer::from_config(const Config& c, std::size_t rank) {
  const std::string w = where(conv_class(rank, "Conv1DTranspose", "Conv2DTranspose"), c);
  const Dim filters = required<Dim>(c, "filters", w);
  IntTuple kernel_size = get_tuple(c, "kernel_size", w, {});
  if (kernel_size.empty()) throw Error("{}: the config needs \"kernel_size\"", w);
  ConvTransposeOptions o;
  o.strides = get_tuple(c, "strides", w, o.strides);
  o.padding = get<std::string>(c, "padding", w, o.padding);
  o.output_padding = get_tuple(c, "output_padding", w, o.output_padding);
  o.data_format = get_format(c, w);
  o.dilation_rate = get_tuple(c, "dilation_rate", w, o.dilation_rate);
  o.activation = get_activation(c, w, o.activation);
  o.use_bias = get<bool>(c, "use_bias", w, o.use_bias);
  o.kernel_initializer = get_ref(c, "kernel_initializer", w, o.kernel_initializer);
  o.bias_initializer = get_ref(c, "bias_initializer", w, o.bias_initializer);
  o.kernel_regularizer = get_ref(c, "kernel_regularizer", w, o.kernel_regularizer);
  o.bias_regularizer = get_ref(c, "bias_regularizer", w, o.bias_regularizer);
  o.activity_regularizer = get_ref(c, "activity_regularizer", w, o.activity_regularizer);
  o.kernel_constraint = get_ref(c, "kernel_constraint", w, o.kernel_constraint);
  o.bias_constraint = get_ref(c, "bias_constraint", w, o.bias_constraint);
  o.name = config::name_of(c);
  return finish(w, c,
                [&] { return make_layer<ConvTransposeLayer>(rank, filters, kernel_size, o); });
}

Config DepthwiseConvLayer::get_config() const {
  Config c = Layer::get_config();
  c["depth_multiplier"] = options_.depth_multiplier;
  c["kernel_size"] = int_list(kernel_size_);
  c["strides"] = int_list(options_.strides.values);
  c["padding"] = options_.padding;
  c["data_format"] = options_.data_format;
  c["dilation_rate"] = int_list(options_.dilation_rate.values);
  c["activation"] = options_.activation;
  c["use_bias"] = options_.use_bias;
  c["depthwise_initializer"] = Config(options_.depthwise_initializer);
  c["bias_initializer"] = Config(options_.bias_initializer);
  c["depthwise_regularizer"] = Config(options_.depthwise_regularizer);
  c["bias_regularizer"] = Config(options_.bias_regularizer);
  c["activity_regularizer"] = Config(options_.activity_regularizer);
  c["depthwise_constraint"] = Config(options_.depthwise_constraint);
  c["bias_constraint"] = Config(options_.bias_constraint);
  return c;
}

LayerRef DepthwiseConvLayer::from_config(const Config& c, std::size_t rank) {
  const std::string w = where(conv_class(rank, "DepthwiseConv1D", "DepthwiseConv2D"), c);
  IntTuple kernel_size = get_tuple(c, "kernel_size", w, {});
  if (kernel_size.empty()) throw Error("{}: the config needs \"kernel_size\"", w);
  DepthwiseConvOptions o;
  o.depth_multiplier = get<Dim>(c, "depth_multiplier", w, o.depth_multiplier);
  o.strides = get_tuple(c, "strides", w, o.strides);
  o.padding = get<std::string>(c, "padding", w, o.padding);
  o.data_format = get_format(c, w);
  o.dilation_rate = get_tuple(c, "dilation_rate", w, o.dilation_rate);
  o.activation = get_activation(c, w, o.activation);
  o.use_bias = get<bool>(c, "use_bias", w, o.use_bias);
  o.depthwise_initializer = get_ref(c, "depthwise_initializer", w, o.depthwise_initializer);
  o.bias_initializer = get_ref(c, "bias_initializer", w, o.bias_initializer);
  o.depthwise_regularizer = get_ref(c, "depthwise_regularizer", w, o.depthwise_regularizer);
  o.bias_regularizer = get_ref(c, "bias_regularizer", w, o.bias_regularizer);
  o.activity_regularizer = get_ref(c, "activity_regularizer", w, o.activity_regularizer);
  o.depthwise_constraint = get_ref(c, "depthwise_constraint", w, o.depthwise_constraint);
  o.bias_constraint = get_ref(c, "bias_constraint", w, o.bias_constraint);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<DepthwiseConvLayer>(rank, kernel_size, o); });
}

Config SeparableConvLayer::get_config() const {
  Config c = Layer::get_config();
  c["depth_multiplier"] = options_.depth_multiplier;
  c["filters"] = filters_;
  c["kernel_size"] = int_list(kernel_size_);
  c["strides"] = int_list(options_.strides.values);
  c["padding"] = options_.padding;
  c["data_format"] = options_.data_format;
  c["dilation_rate"] = int_list(options_.dilation_rate.values);
  c["activation"] = options_.activation;
  c["use_bias"] = options_.use_bias;
  c["depthwise_initializer"] = Config(options_.depthwise_initializer);
  c["pointwise_initializer"] = Config(options_.pointwise_initializer);
  c["bias_initializer"] = Config(options_.bias_initializer);
  c["depthwise_regularizer"] = Config(options_.depthwise_regularizer);
  c["pointwise_regularizer"] = Config(options_.pointwise_regularizer);
  c["bias_regularizer"] = Config(options_.bias_regularizer);
  c["activity_regularizer"] = Config(options_.activity_regularizer);
  c["depthwise_constraint"] = Config(options_.depthwise_constraint);
  c["pointwise_constraint"] = Config(options_.pointwise_constraint);
  c["bias_constraint"] = Config(options_.bias_constraint);
  return c;
}

LayerRef SeparableConvLayer::from_config(const Config& c, std::size_t rank) {
  const std::string w = where(conv_class(rank, "SeparableConv1D", "SeparableConv2D"), c);
  const Dim filters = required<Dim>(c, "filters", w);
  IntTuple kernel_size = get_tuple(c, "kernel_size", w, {});
  if (kernel_size.empty()) throw Error("{}: the config needs \"kernel_size\"", w);
  SeparableConvOptions o;
  o.depth_multiplier = get<Dim>(c, "depth_multiplier", w, o.depth_multiplier);
  o.strides = get_tuple(c, "strides", w, o.strides);
  o.padding = get<std::string>(c, "padding", w, o.padding);
  o.data_format = get_format(c, w);
  o.dilation_rate = get_tuple(c, "dilation_rate", w, o.dilation_rate);
  o.activation = get_activation(c, w, o.activation);
  o.use_bias = get<bool>(c, "use_bias", w, o.use_bias);
  o.depthwise_initializer = get_ref(c, "depthwise_initializer", w, o.depthwise_initializer);
  o.pointwise_initializer = get_ref(c, "pointwise_initializer", w, o.pointwise_initializer);
  o.bias_initializer = get_ref(c, "bias_initializer", w, o.bias_initializer);
  o.depthwise_regularizer = get_ref(c, "depthwise_regularizer", w, o.depthwise_regularizer);
  o.pointwise_regularizer = get_ref(c, "pointwise_regularizer", w, o.pointwise_regularizer);
  o.bias_regularizer = get_ref(c, "bias_regularizer", w, o.bias_regularizer);
  o.activity_regularizer = get_ref(c, "activity_regularizer", w, o.activity_regularizer);
  o.depthwise_constraint = get_ref(c, "depthwise_constraint", w, o.depthwise_constraint);
  o.pointwise_constraint = get_ref(c, "pointwise_constraint", w, o.pointwise_constraint);
  o.bias_constraint = get_ref(c, "bias_constraint", w, o.bias_constraint);
  o.name = config::name_of(c);
  return finish(w, c,
                [&] { return make_layer<SeparableConvLayer>(rank, filters, kernel_size, o); });
}

// --- pooling ---------------------------------------------------------------------------------

Config PoolingLayer::get_config() const {
  Config c = Layer::get_config();
  c["pool_size"] = int_list(pool_size_);
  c["padding"] = options_.padding;
  // Keras stores strides=None as the pool size.
  c["strides"] = int_list(options_.strides.empty() ? pool_size_ : options_.strides.values);
  c["data_format"] = options_.data_format;
  return c;
}

LayerRef PoolingLayer::from_config(const Config& c, std::size_t rank, bool max) {
  const std::string cls =
      std::string(max ? "MaxPooling" : "AveragePooling") + (rank == 1 ? "1D" : "2D");
  const std::string w = where(cls, c);
  IntTuple pool_size = get_tuple(c, "pool_size", w, 2);
  PoolingOptions o;
  o.strides = get_tuple(c, "strides", w, o.strides);
  o.padding = get<std::string>(c, "padding", w, o.padding);
  o.data_format = get_format(c, w);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<PoolingLayer>(rank, max, pool_size, o); });
}

Config GlobalPoolingLayer::get_config() const {
  Config c = Layer::get_config();
  c["data_format"] = options_.data_format;
  c["keepdims"] = options_.keepdims;
  return c;
}

LayerRef GlobalPoolingLayer::from_config(const Config& c, std::size_t rank, bool max) {
  const std::string cls =
      std::string(max ? "GlobalMaxPooling" : "GlobalAveragePooling") + (std::to_string(rank) + "D");
  const std::string w = where(cls, c);
  GlobalPoolingOptions o;
  o.data_format = get_format(c, w);
  o.keepdims = get<bool>(c, "keepdims", w, o.keepdims);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<GlobalPoolingLayer>(rank, max, o); });
}

Config AdaptivePoolingLayer::get_config() const {
  Config c = Layer::get_config();
  c["output_size"] = int_list(output_size_);
  c["data_format"] = channels_first_ ? "channels_first" : "channels_last";
  return c;
}

LayerRef AdaptivePoolingLayer::from_config(const Config& c, std::size_t rank, bool max) {
  const std::string cls = std::string(max ? "AdaptiveMaxPooling" : "AdaptiveAveragePooling") +
                          std::to_string(rank) + "D";
  const std::string w = where(cls, c);
  const IntTuple output_size = get_tuple(c, "output_size", w, IntTuple());
  if (output_size.empty()) throw Error("{}: the config needs \"output_size\"", w);
  AdaptivePoolingOptions o;
  o.data_format = get_format(c, w);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<AdaptivePoolingLayer>(rank, max, output_size, o); });
}

// --- reshaping -------------------------------------------------------------------------------

Config ZeroPaddingLayer::get_config() const {
  Config c = Layer::get_config();
  if (rank_ == 1) {
    c["padding"] = Config::array({pads_[0].first, pads_[0].second});
  } else {
    c["padding"] = pair_list(pads_);
    c["data_format"] = channels_first_ ? "channels_first" : "channels_last";
  }
  return c;
}

LayerRef ZeroPaddingLayer::from_config(const Config& c, std::size_t rank) {
  const std::string w = where("ZeroPadding" + std::to_string(rank) + "D", c);
  PadTuple pads = get_pads(c, "padding", w, 1);
  if (rank == 1 && pads.pairs.empty() && pads.symmetric.size() == 2) {
    pads.pairs = {{pads.symmetric[0], pads.symmetric[1]}};  // (left, right)
    pads.symmetric.clear();
  }
  ZeroPaddingOptions o;
  o.data_format = get_format(c, w);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<ZeroPaddingLayer>(rank, pads, o); });
}

Config CroppingLayer::get_config() const {
  Config c = Layer::get_config();
  if (rank_ == 1) {
    c["cropping"] = Config::array({crops_[0].first, crops_[0].second});
  } else {
    c["cropping"] = pair_list(crops_);
    c["data_format"] = channels_first_ ? "channels_first" : "channels_last";
  }
  return c;
}

LayerRef CroppingLayer::from_config(const Config& c, std::size_t rank) {
  const std::string w = where("Cropping" + std::to_string(rank) + "D", c);
  PadTuple crops = get_pads(c, "cropping", w, rank == 1 ? 1 : 0);
  if (rank == 1 && crops.pairs.empty() && crops.symmetric.size() == 2) {
    crops.pairs = {{crops.symmetric[0], crops.symmetric[1]}};
    crops.symmetric.clear();
  }
  CroppingOptions o;
  o.data_format = get_format(c, w);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<CroppingLayer>(rank, crops, o); });
}

Config UpSamplingLayer::get_config() const {
  Config c = Layer::get_config();
  if (rank_ == 1) {
    c["size"] = size_[0];
  } else {
    c["size"] = int_list(size_);
    c["data_format"] = channels_first_ ? "channels_first" : "channels_last";
    // Keras 3's UpSampling3D has no interpolation argument.
    if (rank_ == 2) c["interpolation"] = bilinear_ ? "bilinear" : "nearest";
  }
  return c;
}

LayerRef UpSamplingLayer::from_config(const Config& c, std::size_t rank) {
  const std::string w = where("UpSampling" + std::to_string(rank) + "D", c);
  IntTuple size = get_tuple(c, "size", w, 2);
  UpSamplingOptions o;
  o.data_format = get_format(c, w);
  o.interpolation = get<std::string>(c, "interpolation", w, o.interpolation);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<UpSamplingLayer>(rank, size, o); });
}

Config PermuteLayer::get_config() const {
  Config c = Layer::get_config();
  c["dims"] = int_list(dims_);
  return c;
}

LayerRef PermuteLayer::from_config(const Config& c) {
  const std::string w = where("Permute", c);
  const IntTuple dims = get_tuple(c, "dims", w, IntTuple(std::vector<Dim>{}));
  if (dims.values.empty()) throw Error("{}: the config needs a list \"dims\"", w);
  PermuteOptions o;
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<PermuteLayer>(dims.values, o); });
}

Config RepeatVectorLayer::get_config() const {
  Config c = Layer::get_config();
  c["n"] = n_;
  return c;
}

LayerRef RepeatVectorLayer::from_config(const Config& c) {
  const std::string w = where("RepeatVector", c);
  const Dim n = required<Dim>(c, "n", w);
  RepeatVectorOptions o;
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<RepeatVectorLayer>(n, o); });
}

// --- regularization --------------------------------------------------------------------------

Config SpatialDropoutLayer::get_config() const {
  Config c = Config::object();
  c["rate"] = shortest(rate_);
  c["seed"] = seed_;
  c["name"] = name();
  c["dtype"] = Layer::get_config()["dtype"];
  if (rank_ >= 2) c["data_format"] = channels_first_ ? "channels_first" : "channels_last";
  return c;
}

LayerRef SpatialDropoutLayer::from_config(const Config& c, std::size_t rank) {
  const std::string w = where("SpatialDropout" + std::to_string(rank) + "D", c);
  config::refuse_set(c, w, {"noise_shape"});
  const float rate = required<float>(c, "rate", w);
  SpatialDropoutOptions o;
  o.data_format = get_format(c, w);
  o.seed = get<std::optional<std::int64_t>>(c, "seed", w, std::nullopt);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<SpatialDropoutLayer>(rank, rate, o); });
}

namespace {
// Keras's noise_shape: null, or a list of ints and nulls (None: the input's dimension, -1).
Shape get_noise_shape(const Config& c, const std::string& w) {
  Shape out;
  auto it = c.find("noise_shape");
  if (it == c.end() || it->is_null()) return out;
  if (!it->is_array()) bad_value(w, "noise_shape", *it, "null or a list of ints and nulls");
  for (const auto& d : *it) {
    if (d.is_null()) {
      out.push_back(-1);
    } else if (d.is_number_integer()) {
      out.push_back(d.get<Dim>());
    } else {
      bad_value(w, "noise_shape", *it, "null or a list of ints and nulls");
    }
  }
  return out;
}
}  // namespace

Config GaussianNoiseLayer::get_config() const {
  Config c = Layer::get_config();
  c["stddev"] = shortest(stddev_);
  c["seed"] = seed_;
  return c;
}

LayerRef GaussianNoiseLayer::from_config(const Config& c) {
  const std::string w = where("GaussianNoise", c);
  const float stddev = required<float>(c, "stddev", w);
  NoiseOptions o;
  o.seed = get<std::optional<std::int64_t>>(c, "seed", w, std::nullopt);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<GaussianNoiseLayer>(stddev, o); });
}

Config GaussianDropoutLayer::get_config() const {
  Config c = Layer::get_config();
  c["rate"] = shortest(rate_);
  c["seed"] = seed_;
  return c;
}

LayerRef GaussianDropoutLayer::from_config(const Config& c) {
  const std::string w = where("GaussianDropout", c);
  const float rate = required<float>(c, "rate", w);
  NoiseOptions o;
  o.seed = get<std::optional<std::int64_t>>(c, "seed", w, std::nullopt);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<GaussianDropoutLayer>(rate, o); });
}

Config AlphaDropoutLayer::get_config() const {
  Config c = Layer::get_config();
  c["rate"] = shortest(rate_);
  c["seed"] = options_.seed;
  if (options_.noise_shape.empty()) {
    c["noise_shape"] = nullptr;
  } else {
    Config ns = Config::array();
    for (Dim d : options_.noise_shape) ns.push_back(d < 0 ? Config(nullptr) : Config(d));
    c["noise_shape"] = ns;
  }
  return c;
}

LayerRef AlphaDropoutLayer::from_config(const Config& c) {
  const std::string w = where("AlphaDropout", c);
  const float rate = required<float>(c, "rate", w);
  AlphaDropoutOptions o;
  o.noise_shape = get_noise_shape(c, w);
  o.seed = get<std::optional<std::int64_t>>(c, "seed", w, std::nullopt);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<AlphaDropoutLayer>(rate, o); });
}

// --- normalization ---------------------------------------------------------------------------

Config BatchNormalizationLayer::get_config() const {
  Config c = Layer::get_config();
  c["axis"] = options_.axis;
  c["momentum"] = shortest(options_.momentum);
  c["epsilon"] = shortest(options_.epsilon);
  c["center"] = options_.center;
  c["scale"] = options_.scale;
  c["beta_initializer"] = Config(options_.beta_initializer);
  c["gamma_initializer"] = Config(options_.gamma_initializer);
  c["moving_mean_initializer"] = Config(options_.moving_mean_initializer);
  c["moving_variance_initializer"] = Config(options_.moving_variance_initializer);
  c["beta_regularizer"] = Config(options_.beta_regularizer);
  c["gamma_regularizer"] = Config(options_.gamma_regularizer);
  c["beta_constraint"] = Config(options_.beta_constraint);
  c["gamma_constraint"] = Config(options_.gamma_constraint);
  c["synchronized"] = false;
  return c;
}

LayerRef BatchNormalizationLayer::from_config(const Config& c) {
  const std::string w = where("BatchNormalization", c);
  // tf.keras options plexus does not have. synchronized=true is accepted: on one device
  // the statistics are the same.
  config::refuse_set(c, w, {"renorm", "renorm_clipping", "virtual_batch_size", "adjustment"});
  BatchNormalizationOptions o;
  o.axis = get_axis(c, "axis", w, o.axis);
  o.momentum = get<float>(c, "momentum", w, o.momentum);
  o.epsilon = get<float>(c, "epsilon", w, o.epsilon);
  o.center = get<bool>(c, "center", w, o.center);
  o.scale = get<bool>(c, "scale", w, o.scale);
  o.beta_initializer = get_ref(c, "beta_initializer", w, o.beta_initializer);
  o.gamma_initializer = get_ref(c, "gamma_initializer", w, o.gamma_initializer);
  o.moving_mean_initializer = get_ref(c, "moving_mean_initializer", w, o.moving_mean_initializer);
  o.moving_variance_initializer =
      get_ref(c, "moving_variance_initializer", w, o.moving_variance_initializer);
  o.beta_regularizer = get_ref(c, "beta_regularizer", w, o.beta_regularizer);
  o.gamma_regularizer = get_ref(c, "gamma_regularizer", w, o.gamma_regularizer);
  o.beta_constraint = get_ref(c, "beta_constraint", w, o.beta_constraint);
  o.gamma_constraint = get_ref(c, "gamma_constraint", w, o.gamma_constraint);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<BatchNormalizationLayer>(o); });
}

Config LayerNormalizationLayer::get_config() const {
  Config c = Layer::get_config();
  c["axis"] = int_list(options_.axis);
  c["epsilon"] = shortest(options_.epsilon);
  c["center"] = options_.center;
  c["scale"] = options_.scale;
  c["rms_scaling"] = options_.rms_scaling;
  c["beta_initializer"] = Config(options_.beta_initializer);
  c["gamma_initializer"] = Config(options_.gamma_initializer);
  c["beta_regularizer"] = Config(options_.beta_regularizer);
  c["gamma_regularizer"] = Config(options_.gamma_regularizer);
  c["beta_constraint"] = Config(options_.beta_constraint);
  c["gamma_constraint"] = Config(options_.gamma_constraint);
  return c;
}

LayerRef LayerNormalizationLayer::from_config(const Config& c) {
  const std::string w = where("LayerNormalization", c);
  LayerNormalizationOptions o;
  o.axis = get_axes(c, "axis", w, o.axis);
  o.epsilon = get<float>(c, "epsilon", w, o.epsilon);
  o.center = get<bool>(c, "center", w, o.center);
  o.scale = get<bool>(c, "scale", w, o.scale);
  o.rms_scaling = get<bool>(c, "rms_scaling", w, o.rms_scaling);
  o.beta_initializer = get_ref(c, "beta_initializer", w, o.beta_initializer);
  o.gamma_initializer = get_ref(c, "gamma_initializer", w, o.gamma_initializer);
  o.beta_regularizer = get_ref(c, "beta_regularizer", w, o.beta_regularizer);
  o.gamma_regularizer = get_ref(c, "gamma_regularizer", w, o.gamma_regularizer);
  o.beta_constraint = get_ref(c, "beta_constraint", w, o.beta_constraint);
  o.gamma_constraint = get_ref(c, "gamma_constraint", w, o.gamma_constraint);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<LayerNormalizationLayer>(o); });
}

Config GroupNormalizationLayer::get_config() const {
  Config c = Layer::get_config();
  c["groups"] = options_.groups;
  c["axis"] = options_.axis;
  c["epsilon"] = shortest(options_.epsilon);
  c["center"] = options_.center;
  c["scale"] = options_.scale;
  c["beta_initializer"] = Config(options_.beta_initializer);
  c["gamma_initializer"] = Config(options_.gamma_initializer);
  c["beta_regularizer"] = Config(options_.beta_regularizer);
  c["gamma_regularizer"] = Config(options_.gamma_regularizer);
  c["beta_constraint"] = Config(options_.beta_constraint);
  c["gamma_constraint"] = Config(options_.gamma_constraint);
  return c;
}

LayerRef GroupNormalizationLayer::from_config(const Config& c) {
  const std::string w = where("GroupNormalization", c);
  GroupNormalizationOptions o;
  o.groups = get<Dim>(c, "groups", w, o.groups);
  o.axis = get_axis(c, "axis", w, o.axis);
  o.epsilon = get<float>(c, "epsilon", w, o.epsilon);
  o.center = get<bool>(c, "center", w, o.center);
  o.scale = get<bool>(c, "scale", w, o.scale);
  o.beta_initializer = get_ref(c, "beta_initializer", w, o.beta_initializer);
  o.gamma_initializer = get_ref(c, "gamma_initializer", w, o.gamma_initializer);
  o.beta_regularizer = get_ref(c, "beta_regularizer", w, o.beta_regularizer);
  o.gamma_regularizer = get_ref(c, "gamma_regularizer", w, o.gamma_regularizer);
  o.beta_constraint = get_ref(c, "beta_constraint", w, o.beta_constraint);
  o.gamma_constraint = get_ref(c, "gamma_constraint", w, o.gamma_constraint);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<GroupNormalizationLayer>(o); });
}

Config RMSNormalizationLayer::get_config() const {
  Config c = Layer::get_config();
  c["axis"] = int_list(options_.axis);  // Keras 3 keeps a list after build
  c["epsilon"] = shortest(options_.epsilon);
  return c;
}

LayerRef RMSNormalizationLayer::from_config(const Config& c) {
  const std::string w = where("RMSNormalization", c);
  RMSNormalizationOptions o;
  o.axis = get_axes(c, "axis", w, o.axis);
  o.epsilon = get<float>(c, "epsilon", w, o.epsilon);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<RMSNormalizationLayer>(o); });
}

Config UnitNormalizationLayer::get_config() const {
  Config c = Layer::get_config();
  // Keras keeps the axis as given: an int for one axis, else a list.
  c["axis"] = axis_.size() == 1 ? Config(axis_[0]) : int_list(axis_);
  return c;
}

LayerRef UnitNormalizationLayer::from_config(const Config& c) {
  const std::string w = where("UnitNormalization", c);
  UnitNormalizationOptions o;
  o.axis = get_axes(c, "axis", w, o.axis);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<UnitNormalizationLayer>(o); });
}

// --- activation layers -----------------------------------------------------------------------

Config ReLULayer::get_config() const {
  Config c = Layer::get_config();
  c["max_value"] = options_.max_value ? Config(shortest(*options_.max_value)) : Config(nullptr);
  c["negative_slope"] = shortest(options_.negative_slope);
  c["threshold"] = shortest(options_.threshold);
  return c;
}

LayerRef ReLULayer::from_config(const Config& c) {
  const std::string w = where("ReLU", c);
  ReLUOptions o;
  o.max_value = get<std::optional<float>>(c, "max_value", w, std::nullopt);
  o.negative_slope = get<float>(c, "negative_slope", w, o.negative_slope);
  o.threshold = get<float>(c, "threshold", w, o.threshold);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<ReLULayer>(o); });
}

Config LeakyReLULayer::get_config() const {
  Config c = Layer::get_config();
  c["negative_slope"] = shortest(options_.negative_slope);
  return c;
}

LayerRef LeakyReLULayer::from_config(const Config& c) {
  const std::string w = where("LeakyReLU", c);
  LeakyReLUOptions o;
  // Keras 2 called the slope "alpha".
  o.negative_slope = get<float>(c, "alpha", w, o.negative_slope);
  o.negative_slope = get<float>(c, "negative_slope", w, o.negative_slope);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<LeakyReLULayer>(o); });
}

Config PReLULayer::get_config() const {
  Config c = Layer::get_config();
  c["alpha_initializer"] = Config(options_.alpha_initializer);
  c["alpha_regularizer"] = Config(options_.alpha_regularizer);
  c["alpha_constraint"] = Config(options_.alpha_constraint);
  c["shared_axes"] =
      options_.shared_axes.empty() ? Config(nullptr) : int_list(options_.shared_axes);
  return c;
}

LayerRef PReLULayer::from_config(const Config& c) {
  const std::string w = where("PReLU", c);
  PReLUOptions o;
  o.alpha_initializer = get_ref(c, "alpha_initializer", w, o.alpha_initializer);
  o.alpha_regularizer = get_ref(c, "alpha_regularizer", w, o.alpha_regularizer);
  o.alpha_constraint = get_ref(c, "alpha_constraint", w, o.alpha_constraint);
  o.shared_axes = get_axes(c, "shared_axes", w, {});
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<PReLULayer>(o); });
}

Config ELULayer::get_config() const {
  Config c = Layer::get_config();
  c["alpha"] = shortest(options_.alpha);
  return c;
}

LayerRef ELULayer::from_config(const Config& c) {
  const std::string w = where("ELU", c);
  ELUOptions o;
  o.alpha = get<float>(c, "alpha", w, o.alpha);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<ELULayer>(o); });
}

Config SoftmaxLayer::get_config() const {
  Config c = Layer::get_config();
  c["axis"] = options_.axis;
  return c;
}

LayerRef SoftmaxLayer::from_config(const Config& c) {
  const std::string w = where("Softmax", c);
  SoftmaxOptions o;
  o.axis = get_axis(c, "axis", w, o.axis);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<SoftmaxLayer>(o); });
}

// --- preprocessing ---------------------------------------------------------------------------

Config NormalizationLayer::get_config() const {
  Config c = Layer::get_config();
  c["axis"] = Config::array({options_.axis});
  c["invert"] = options_.invert;
  c["mean"] = options_.mean ? tensor_config(*options_.mean) : Config(nullptr);
  c["variance"] = options_.variance ? tensor_config(*options_.variance) : Config(nullptr);
  return c;
}

LayerRef NormalizationLayer::from_config(const Config& c) {
  const std::string w = where("Normalization", c);
  NormalizationOptions o;
  o.axis = get_axis(c, "axis", w, o.axis);
  o.invert = get<bool>(c, "invert", w, o.invert);
  for (const char* key : {"mean", "variance"}) {
    auto it = c.find(key);
    if (it == c.end() || it->is_null()) continue;
    (std::string_view(key) == "mean" ? o.mean : o.variance) = config_tensor(*it, w, key);
  }
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<NormalizationLayer>(o); });
}

// --- Lambda ----------------------------------------------------------------------------------

Config LambdaLayer::get_config() const {
  throw Error(
      "Lambda \"{}\" cannot be saved: its function is C++ code, which has no config. Write a "
      "layer class with get_config() and from_config() and register it with "
      "px::register_layer<T>(\"package>Name\") to save it",
      name());
}

LayerRef LambdaLayer::from_config(const Config& c) {
  throw Error(
      "Lambda \"{}\" cannot be loaded: its function is Python code (Keras itself loads it only "
      "with safe_mode=False). Replace it in the model by a registered C++ layer class "
      "(px::register_layer<T>(\"package>Name\")) of the same name",
      config::name_of(c));
}

}  // namespace plexus::layers
