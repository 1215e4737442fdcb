// The convolution layers, composed from the conv / conv_transpose kernels
// (core/kernels_conv.cpp), add and reshape, so autodiff gives their gradients.
#include "layers/convolution.hpp"

#include "core/error.hpp"
#include "core/initializers.hpp"
#include "core/json.hpp"
#include "core/kernels.hpp"
#include "graph/ops.hpp"
#include "layers/activations.hpp"

namespace plexus::layers {

namespace {

// The channel count of an input of rank `rank` + 2, with Keras's messages otherwise.
Dim input_channels(const Layer& layer, const Shape& s, std::size_t rank, bool cf) {
  if (s.size() != rank + 2) {
    throw Error(
        "Input 0 of layer \"{}\" is incompatible with the layer: expected ndim={}, found "
        "ndim={}. Full shape received: {}",
        layer.name(), rank + 2, s.size(), shape_str(s));
  }
  const Dim c = s[detail::channel_axis(s.size(), cf)];
  if (c <= 0) {
    throw Error(
        "Layer \"{}\" ({}): the channel dimension of the inputs should be defined, received "
        "input with shape {}",
        layer.name(), layer.class_name(), shape_str(s));
  }
  return c;
}

// Throws Keras's message unless x has `expected` channels (a built layer called again).
void check_call_channels(const Layer& layer, const Shape& s, std::size_t rank, bool cf,
                         Dim expected) {
  const Dim c = input_channels(layer, s, rank, cf);
  if (c != expected) {
    throw Error(
        "Input 0 of layer \"{}\" is incompatible with the layer: expected axis {} of input "
        "shape to have value {}, but received input with shape {}",
        layer.name(), cf ? 1 : -1, expected, shape_str(s));
  }
}

Shape concat(std::vector<Dim> a, std::initializer_list<Dim> b) {
  a.insert(a.end(), b);
  return a;
}

}  // namespace

// --- Conv1D / Conv2D ---------------------------------------------------------------------

ConvLayer::ConvLayer(std::size_t rank, Dim filters, IntTuple kernel_size, ConvOptions options)
    : Layer(options.name), rank_(rank), filters_(filters), options_(std::move(options)) {
  const std::string cls = class_name();
  if (filters_ <= 0) {
    throw Error(
        "{}: invalid value for argument `filters`. Expected a strictly positive value. "
        "Received filters={}",
        cls, filters_);
  }
  kernel_size_ = detail::resolve_tuple(kernel_size, rank_, cls, "kernel_size");
  options_.strides = detail::resolve_tuple(options_.strides, rank_, cls, "strides");
  options_.dilation_rate =
      detail::resolve_tuple(options_.dilation_rate, rank_, cls, "dilation_rate");
  if (!(rank_ == 1 && options_.padding == "causal")) detail::check_padding(options_.padding, cls);
  channels_first_ = detail::channels_first(options_.data_format, cls);
  if (options_.groups <= 0 || filters_ % options_.groups != 0) {
    throw Error(
        "{}: the number of filters must be evenly divisible by the number of groups. "
        "Received: groups={}, filters={}",
        cls, options_.groups, filters_);
  }
  activations::check_name(options_.activation, cls);
  regularizers::refuse_activity_regularizer(options_.activity_regularizer, cls, name());
  set_declared_input_shape(options_.input_shape);
}

Shape ConvLayer::kernel_shape(const Shape& input_shape) const {
  const Dim c = input_channels(*this, input_shape, rank_, channels_first_);
  if (c % options_.groups != 0) {
    throw Error(
        "{}: the number of input channels must be evenly divisible by the number of groups. "
        "Received groups={}, but the input has {} channels (full input shape is {})",
        class_name(), options_.groups, c, shape_str(input_shape));
  }
  return concat(kernel_size_, {c / options_.groups, filters_});
}

void ConvLayer::build(const Shape& input_shape) {
  kernel_ = add_weight("kernel", kernel_shape(input_shape), options_.kernel_initializer, true,
                       options_.kernel_regularizer, options_.kernel_constraint);
  if (options_.use_bias) {
    bias_ = add_weight("bias", {filters_}, options_.bias_initializer, true,
                       options_.bias_regularizer, options_.bias_constraint);
  }
}

namespace {
kernels::ConvConfig conv_config(const std::vector<Dim>& strides, const std::vector<Dim>& dilation,
                                const std::string& padding, Dim groups, bool cf) {
  return {strides, dilation, padding == "same" ? "same" : "valid", groups, cf};
}
// Causal 1-D padding (Keras Conv1D "causal"): (k - 1) * dilation zeros before the steps.
std::vector<std::pair<Dim, Dim>> causal_pads(Dim k, Dim dilation, bool cf) {
  std::vector<std::pair<Dim, Dim>> pads(3, {0, 0});
  pads[cf ? 2 : 1] = {(k - 1) * dilation, 0};
  return pads;
}
}  // namespace

SymbolicTensor ConvLayer::call(const SymbolicTensor& x) {
  check_call_channels(*this, x.shape(), rank_, channels_first_,
                      kernel_.shape()[rank_] * options_.groups);
  SymbolicTensor in = x;
  if (options_.padding == "causal") {
    in = ops::pad(x,
                  causal_pads(kernel_size_[0], options_.dilation_rate.values[0], channels_first_));
  }
  auto config = conv_config(options_.strides.values, options_.dilation_rate.values,
                            options_.padding, options_.groups, channels_first_);
  // relu is fused into the convolution's output pass (and its VJP).
  const bool fused = options_.activation == "relu";
  config.relu = fused;
  auto y = ops::conv(in, kernel_, std::move(config), bias_);
  return fused ? y : activations::apply(options_.activation, y);
}

Shape ConvLayer::compute_output_shape(const Shape& input_shape) {
  Shape in = input_shape;
  if (options_.padding == "causal") {
    const std::size_t a = channels_first_ ? 2 : 1;
    if (in.size() == 3 && in[a] >= 0)
      in[a] += (kernel_size_[0] - 1) * options_.dilation_rate.values[0];
  }
  const Shape w = kernel_shape(input_shape);
  auto k = kernels::conv(rank_, conv_config(options_.strides.values, options_.dilation_rate.values,
                                            options_.padding, options_.groups, channels_first_));
  return k->output_shape(std::vector<Shape>{in, w});
}

LayerHandle<ConvLayer> Conv1D(Dim filters, IntTuple kernel_size, ConvOptions options) {
  return make_layer<ConvLayer>(1, filters, std::move(kernel_size), std::move(options));
}
LayerHandle<ConvLayer> Conv2D(Dim filters, IntTuple kernel_size, ConvOptions options) {
  return make_layer<ConvLayer>(2, filters, std::move(kernel_size), std::move(options));
}

// --- Conv1DTranspose / Conv2DTranspose ---------------------------------------------------

ConvTransposeLayer::ConvTransposeLayer(std::size_t rank, Dim filters, IntTuple kernel_size,
                                       ConvTransposeOptions options)
    : Layer(options.name), rank_(rank), filters_(filters), options_(std::move(options)) {
  const std::string cls = class_name();
  if (filters_ <= 0) {
    throw Error(
        "{}: invalid value for argument `filters`. Expected a strictly positive value. "
        "Received filters={}",
        cls, filters_);
  }
  kernel_size_ = detail::resolve_tuple(kernel_size, rank_, cls, "kernel_size");
  options_.strides = detail::resolve_tuple(options_.strides, rank_, cls, "strides");
  options_.dilation_rate =
      detail::resolve_tuple(options_.dilation_rate, rank_, cls, "dilation_rate");
  if (!options_.output_padding.empty()) {
    options_.output_padding =
        detail::resolve_tuple(options_.output_padding, rank_, cls, "output_padding", true);
  }
  detail::check_padding(options_.padding, cls);
  channels_first_ = detail::channels_first(options_.data_format, cls);
  activations::check_name(options_.activation, cls);
  regularizers::refuse_activity_regularizer(options_.activity_regularizer, cls, name());
  // Validates output_padding against the strides now rather than at the first call.
  kernels::conv_transpose(rank_,
                          conv_config(options_.strides.values, options_.dilation_rate.values,
                                      options_.padding, 1, channels_first_),
                          options_.output_padding.values);
  set_declared_input_shape(options_.input_shape);
}

Shape ConvTransposeLayer::kernel_shape(const Shape& input_shape) const {
  return concat(kernel_size_,
                {filters_, input_channels(*this, input_shape, rank_, channels_first_)});
}

void ConvTransposeLayer::build(const Shape& input_shape) {
  kernel_ = add_weight("kernel", kernel_shape(input_shape), options_.kernel_initializer, true,
                       options_.kernel_regularizer, options_.kernel_constraint);
  if (options_.use_bias) {
    bias_ = add_weight("bias", {filters_}, options_.bias_initializer, true,
                       options_.bias_regularizer, options_.bias_constraint);
  }
}

SymbolicTensor ConvTransposeLayer::call(const SymbolicTensor& x) {
  check_call_channels(*this, x.shape(), rank_, channels_first_, kernel_.shape()[rank_ + 1]);
  auto y = ops::conv_transpose(x, kernel_,
                               conv_config(options_.strides.values, options_.dilation_rate.values,
                                           options_.padding, 1, channels_first_),
                               options_.output_padding.values, bias_);
  return activations::apply(options_.activation, y);
}

Shape ConvTransposeLayer::compute_output_shape(const Shape& input_shape) {
  auto k =
      kernels::conv_transpose(rank_,
                              conv_config(options_.strides.values, options_.dilation_rate.values,
                                          options_.padding, 1, channels_first_),
                              options_.output_padding.values);
  return k->output_shape(std::vector<Shape>{input_shape, kernel_shape(input_shape)});
}

LayerHandle<ConvTransposeLayer> Conv1DTranspose(Dim filters, IntTuple kernel_size,
                                                ConvTransposeOptions options) {
  return make_layer<ConvTransposeLayer>(1, filters, std::move(kernel_size), std::move(options));
}
LayerHandle<ConvTransposeLayer> Conv2DTranspose(Dim filters, IntTuple kernel_size,
                                                ConvTransposeOptions options) {
  return make_layer<ConvTransposeLayer>(2, filters, std::move(kernel_size), std::move(options));
}

// --- DepthwiseConv1D / DepthwiseConv2D ----------------------------------------------------

DepthwiseConvLayer::DepthwiseConvLayer(std::size_t rank, IntTuple kernel_size,
                                       DepthwiseConvOptions options)
    : Layer(options.name), rank_(rank), options_(std::move(options)) {
  const std::string cls = class_name();
  kernel_size_ = detail::resolve_tuple(kernel_size, rank_, cls, "kernel_size");
  options_.strides = detail::resolve_tuple(options_.strides, rank_, cls, "strides");
  options_.dilation_rate =
      detail::resolve_tuple(options_.dilation_rate, rank_, cls, "dilation_rate");
  detail::check_padding(options_.padding, cls);
  channels_first_ = detail::channels_first(options_.data_format, cls);
  if (options_.depth_multiplier <= 0) {
    throw Error(
        "{}: invalid value for argument `depth_multiplier`. Expected a strictly "
        "positive value. Received depth_multiplier={}",
        cls, options_.depth_multiplier);
  }
  activations::check_name(options_.activation, cls);
  regularizers::refuse_activity_regularizer(options_.activity_regularizer, cls, name());
  set_declared_input_shape(options_.input_shape);
}

void DepthwiseConvLayer::build(const Shape& input_shape) {
  const Dim c = input_channels(*this, input_shape, rank_, channels_first_);
  kernel_ = add_weight("kernel", concat(kernel_size_, {c, options_.depth_multiplier}),
                       options_.depthwise_initializer, true, options_.depthwise_regularizer,
                       options_.depthwise_constraint);
  if (options_.use_bias) {
    bias_ = add_weight("bias", {c * options_.depth_multiplier}, options_.bias_initializer, true,
                       options_.bias_regularizer, options_.bias_constraint);
  }
}

namespace {
// The depthwise kernel (k..., C, M) seen as a grouped-convolution kernel (k..., 1, C * M):
// the same memory, output channel c * M + m.
SymbolicTensor as_grouped(const SymbolicTensor& kernel, std::size_t rank) {
  Shape s(kernel.shape().begin(), kernel.shape().begin() + static_cast<std::ptrdiff_t>(rank));
  s.push_back(1);
  s.push_back(kernel.shape()[rank] * kernel.shape()[rank + 1]);
  return ops::reshape(kernel, s);
}
}  // namespace

SymbolicTensor DepthwiseConvLayer::call(const SymbolicTensor& x) {
  const Dim c = kernel_.shape()[rank_];
  check_call_channels(*this, x.shape(), rank_, channels_first_, c);
  auto y = ops::conv(x, as_grouped(kernel_, rank_),
                     conv_config(options_.strides.values, options_.dilation_rate.values,
                                 options_.padding, c, channels_first_),
                     bias_);
  return activations::apply(options_.activation, y);
}

Shape DepthwiseConvLayer::compute_output_shape(const Shape& input_shape) {
  const Dim c = input_channels(*this, input_shape, rank_, channels_first_);
  auto k = kernels::conv(rank_, conv_config(options_.strides.values, options_.dilation_rate.values,
                                            options_.padding, c, channels_first_));
  return k->output_shape(
      std::vector<Shape>{input_shape, concat(kernel_size_, {1, c * options_.depth_multiplier})});
}

LayerHandle<DepthwiseConvLayer> DepthwiseConv1D(IntTuple kernel_size,
                                                DepthwiseConvOptions options) {
  return make_layer<DepthwiseConvLayer>(1, std::move(kernel_size), std::move(options));
}
LayerHandle<DepthwiseConvLayer> DepthwiseConv2D(IntTuple kernel_size,
                                                DepthwiseConvOptions options) {
  return make_layer<DepthwiseConvLayer>(2, std::move(kernel_size), std::move(options));
}

// --- SeparableConv1D / SeparableConv2D ----------------------------------------------------

SeparableConvLayer::SeparableConvLayer(std::size_t rank, Dim filters, IntTuple kernel_size,
                                       SeparableConvOptions options)
    : Layer(options.name), rank_(rank), filters_(filters), options_(std::move(options)) {
  const std::string cls = class_name();
  if (filters_ <= 0) {
    throw Error(
        "{}: invalid value for argument `filters`. Expected a strictly positive value. "
        "Received filters={}",
        cls, filters_);
  }
  kernel_size_ = detail::resolve_tuple(kernel_size, rank_, cls, "kernel_size");
  options_.strides = detail::resolve_tuple(options_.strides, rank_, cls, "strides");
  options_.dilation_rate =
      detail::resolve_tuple(options_.dilation_rate, rank_, cls, "dilation_rate");
  detail::check_padding(options_.padding, cls);
  channels_first_ = detail::channels_first(options_.data_format, cls);
  if (options_.depth_multiplier <= 0) {
    throw Error(
        "{}: invalid value for argument `depth_multiplier`. Expected a strictly "
        "positive value. Received depth_multiplier={}",
        cls, options_.depth_multiplier);
  }
  activations::check_name(options_.activation, cls);
  regularizers::refuse_activity_regularizer(options_.activity_regularizer, cls, name());
  set_declared_input_shape(options_.input_shape);
}

void SeparableConvLayer::build(const Shape& input_shape) {
  const Dim c = input_channels(*this, input_shape, rank_, channels_first_);
  const Dim m = options_.depth_multiplier;
  depthwise_ =
      add_weight("depthwise_kernel", concat(kernel_size_, {c, m}), options_.depthwise_initializer,
                 true, options_.depthwise_regularizer, options_.depthwise_constraint);
  pointwise_ = add_weight("pointwise_kernel", concat(std::vector<Dim>(rank_, 1), {c * m, filters_}),
                          options_.pointwise_initializer, true, options_.pointwise_regularizer,
                          options_.pointwise_constraint);
  if (options_.use_bias) {
    bias_ = add_weight("bias", {filters_}, options_.bias_initializer, true,
                       options_.bias_regularizer, options_.bias_constraint);
  }
}

SymbolicTensor SeparableConvLayer::call(const SymbolicTensor& x) {
  const Dim c = depthwise_.shape()[rank_];
  check_call_channels(*this, x.shape(), rank_, channels_first_, c);
  auto y = ops::conv(x, as_grouped(depthwise_, rank_),
                     conv_config(options_.strides.values, options_.dilation_rate.values,
                                 options_.padding, c, channels_first_));
  y = ops::conv(y, pointwise_, conv_config({}, {}, "valid", 1, channels_first_), bias_);
  return activations::apply(options_.activation, y);
}

Shape SeparableConvLayer::compute_output_shape(const Shape& input_shape) {
  const Dim c = input_channels(*this, input_shape, rank_, channels_first_);
  auto k = kernels::conv(rank_, conv_config(options_.strides.values, options_.dilation_rate.values,
                                            options_.padding, c, channels_first_));
  Shape out = k->output_shape(
      std::vector<Shape>{input_shape, concat(kernel_size_, {1, c * options_.depth_multiplier})});
  out[detail::channel_axis(out.size(), channels_first_)] = filters_;
  return out;
}

LayerHandle<SeparableConvLayer> SeparableConv1D(Dim filters, IntTuple kernel_size,
                                                SeparableConvOptions options) {
  return make_layer<SeparableConvLayer>(1, filters, std::move(kernel_size), std::move(options));
}
LayerHandle<SeparableConvLayer> SeparableConv2D(Dim filters, IntTuple kernel_size,
                                                SeparableConvOptions options) {
  return make_layer<SeparableConvLayer>(2, filters, std::move(kernel_size), std::move(options));
}

}  // namespace plexus::layers
