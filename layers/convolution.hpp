// Convolution layers: Conv1D, Conv2D, Conv1DTranspose, Conv2DTranspose, DepthwiseConv1D,
// DepthwiseConv2D, SeparableConv1D, SeparableConv2D. Keras 3 names, defaults, weight names
// and layouts, so Keras weights load as they are:
//   auto c = px::layers::Conv2D(32, 3, {.activation = "relu"})(img);
//   auto d = px::layers::Conv2D(64, {3, 5}, {.strides = 2, .padding = "same"})(c);
// Images are [batch, rows, cols, channels] (data_format "channels_last", the default) or
// [batch, channels, rows, cols] ("channels_first"); 1-D layers take [batch, steps, channels].
// Output lengths: "valid": floor((in - (k - 1) * dilation - 1) / stride) + 1; "same":
// ceil(in / stride), zero padding split as TF does (the odd element after).
#pragma once

#include <string>

#include "core/config.hpp"
#include "core/constraints.hpp"
#include "core/initializers.hpp"
#include "core/keywords.hpp"
#include "graph/layer.hpp"
#include "graph/regularizers.hpp"
#include "layers/spatial.hpp"

namespace plexus::layers {

// Fields in the order of Keras's Conv2D constructor after (filters, kernel_size).
struct ConvOptions {
  IntTuple strides = 1;
  std::string padding = "valid";
  std::string data_format = "channels_last";
  IntTuple dilation_rate = 1;
  Dim groups = 1;
  std::string activation = "linear";
  bool use_bias = true;
  initializers::InitializerRef kernel_initializer = "glorot_uniform";
  initializers::InitializerRef bias_initializer = "zeros";
  regularizers::RegularizerRef kernel_regularizer = nullptr;
  regularizers::RegularizerRef bias_regularizer = nullptr;
  // Kept in the config; plexus does not add output penalties to the loss yet, so a layer
  // given one is a px::Error (rather than a regularizer silently ignored).
  regularizers::RegularizerRef activity_regularizer = nullptr;
  constraints::ConstraintRef kernel_constraint = nullptr;
  constraints::ConstraintRef bias_constraint = nullptr;
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// Conv1D / Conv2D: [N, spatial..., C] -> [N, out spatial..., filters];
// y = activation(conv(x, kernel) + bias). Weights: kernel (k..., C / groups, filters),
// bias (filters). groups splits the channels into independent convolutions.
class ConvLayer : public Layer {
 public:
  ConvLayer(std::size_t rank, Dim filters, IntTuple kernel_size, ConvOptions options);
  std::string class_name() const override { return rank_ == 1 ? "Conv1D" : "Conv2D"; }
  void build(const Shape& input_shape) override;
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  std::string activation_name() const override { return options_.activation; }
  // Keras 3's get_config keys, in its order (layers/image_config.cpp).
  Config get_config() const override;
  // rank 1 for the 1-D class, 2 for the 2-D one.
  static LayerRef from_config(const Config& config, std::size_t rank);
  Dim filters() const { return filters_; }
  const std::vector<Dim>& kernel_size() const { return kernel_size_; }
  const ConvOptions& options() const { return options_; }

 private:
  Shape kernel_shape(const Shape& input_shape) const;
  std::size_t rank_;
  Dim filters_;
  std::vector<Dim> kernel_size_;
  ConvOptions options_;
  bool channels_first_;
  SymbolicTensor kernel_, bias_;
};

LayerHandle<ConvLayer> Conv1D(Dim filters, IntTuple kernel_size, ConvOptions options = {});
LayerHandle<ConvLayer> Conv2D(Dim filters, IntTuple kernel_size, ConvOptions options = {});
PLEXUS_KEYWORD_FACTORY(LayerHandle<ConvLayer>, Conv1D, ConvOptions, (Dim, filters),
                       (IntTuple, kernel_size))
PLEXUS_KEYWORD_FACTORY(LayerHandle<ConvLayer>, Conv2D, ConvOptions, (Dim, filters),
                       (IntTuple, kernel_size))

// --- transposed convolution ---------------------------------------------------------------

// Fields in the order of Keras's Conv2DTranspose constructor after (filters, kernel_size).
struct ConvTransposeOptions {
  IntTuple strides = 1;
  std::string padding = "valid";
  IntTuple output_padding{};  // empty = None: Keras's default output lengths
  std::string data_format = "channels_last";
  IntTuple dilation_rate = 1;
  std::string activation = "linear";
  bool use_bias = true;
  initializers::InitializerRef kernel_initializer = "glorot_uniform";
  initializers::InitializerRef bias_initializer = "zeros";
  regularizers::RegularizerRef kernel_regularizer = nullptr;
  regularizers::RegularizerRef bias_regularizer = nullptr;
  regularizers::RegularizerRef activity_regularizer = nullptr;  // see ConvOptions
  constraints::ConstraintRef kernel_constraint = nullptr;
  constraints::ConstraintRef bias_constraint = nullptr;
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// Conv1DTranspose / Conv2DTranspose: [N, spatial..., C] -> [N, out spatial..., filters], the
// transpose of a convolution (upsampling by the strides). Output lengths as Keras:
// "same": in * stride; "valid": in * stride + max(k_dilated - stride, 0); with
// output_padding: (in - 1) * stride + k_dilated - 2 * pad + output_padding.
// Weights: kernel (k..., filters, C) — Keras's transposed layout — and bias (filters).
class ConvTransposeLayer : public Layer {
 public:
  ConvTransposeLayer(std::size_t rank, Dim filters, IntTuple kernel_size,
                     ConvTransposeOptions options);
  std::string class_name() const override {
    return rank_ == 1 ? "Conv1DTranspose" : "Conv2DTranspose";
  }
  void build(const Shape& input_shape) override;
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  std::string activation_name() const override { return options_.activation; }
  // Keras 3's get_config keys, in its order (layers/image_config.cpp).
  Config get_config() const override;
  // rank 1 for the 1-D class, 2 for the 2-D one.
  static LayerRef from_config(const Config& config, std::size_t rank);
  const ConvTransposeOptions& options() const { return options_; }

 private:
  Shape kernel_shape(const Shape& input_shape) const;
  std::size_t rank_;
  Dim filters_;
  std::vector<Dim> kernel_size_;
  ConvTransposeOptions options_;
  bool channels_first_;
  SymbolicTensor kernel_, bias_;
};

LayerHandle<ConvTransposeLayer> Conv1DTranspose(Dim filters, IntTuple kernel_size,
                                                ConvTransposeOptions options = {});
LayerHandle<ConvTransposeLayer> Conv2DTranspose(Dim filters, IntTuple kernel_size,
                                                ConvTransposeOptions options = {});
PLEXUS_KEYWORD_FACTORY(LayerHandle<ConvTransposeLayer>, Conv1DTranspose, ConvTransposeOptions,
                       (Dim, filters), (IntTuple, kernel_size))
PLEXUS_KEYWORD_FACTORY(LayerHandle<ConvTransposeLayer>, Conv2DTranspose, ConvTransposeOptions,
                       (Dim, filters), (IntTuple, kernel_size))

// --- depthwise convolution ----------------------------------------------------------------

// Fields in the order of Keras's DepthwiseConv2D constructor after kernel_size.
struct DepthwiseConvOptions {
  IntTuple strides = 1;
  std::string padding = "valid";
  Dim depth_multiplier = 1;
  std::string data_format = "channels_last";
  IntTuple dilation_rate = 1;
  std::string activation = "linear";
  bool use_bias = true;
  initializers::InitializerRef depthwise_initializer = "glorot_uniform";
  initializers::InitializerRef bias_initializer = "zeros";
  regularizers::RegularizerRef depthwise_regularizer = nullptr;
  regularizers::RegularizerRef bias_regularizer = nullptr;
  regularizers::RegularizerRef activity_regularizer = nullptr;  // see ConvOptions
  constraints::ConstraintRef depthwise_constraint = nullptr;
  constraints::ConstraintRef bias_constraint = nullptr;
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// DepthwiseConv1D / DepthwiseConv2D: each input channel convolved with its own
// depth_multiplier filters: [N, spatial..., C] -> [N, out spatial..., C * depth_multiplier]
// (output channel c * depth_multiplier + m). Weights: kernel (k..., C, depth_multiplier),
// bias (C * depth_multiplier). Runs as a convolution with groups = C.
class DepthwiseConvLayer : public Layer {
 public:
  DepthwiseConvLayer(std::size_t rank, IntTuple kernel_size, DepthwiseConvOptions options);
  std::string class_name() const override {
    return rank_ == 1 ? "DepthwiseConv1D" : "DepthwiseConv2D";
  }
  void build(const Shape& input_shape) override;
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  std::string activation_name() const override { return options_.activation; }
  // Keras 3's get_config keys, in its order (layers/image_config.cpp).
  Config get_config() const override;
  // rank 1 for the 1-D class, 2 for the 2-D one.
  static LayerRef from_config(const Config& config, std::size_t rank);

 private:
  std::size_t rank_;
  std::vector<Dim> kernel_size_;
  DepthwiseConvOptions options_;
  bool channels_first_;
  SymbolicTensor kernel_, bias_;
};

LayerHandle<DepthwiseConvLayer> DepthwiseConv1D(IntTuple kernel_size,
                                                DepthwiseConvOptions options = {});
LayerHandle<DepthwiseConvLayer> DepthwiseConv2D(IntTuple kernel_size,
                                                DepthwiseConvOptions options = {});
PLEXUS_KEYWORD_FACTORY(LayerHandle<DepthwiseConvLayer>, DepthwiseConv1D, DepthwiseConvOptions,
                       (IntTuple, kernel_size))
PLEXUS_KEYWORD_FACTORY(LayerHandle<DepthwiseConvLayer>, DepthwiseConv2D, DepthwiseConvOptions,
                       (IntTuple, kernel_size))

// --- separable convolution ----------------------------------------------------------------

// Fields in the order of Keras's SeparableConv2D constructor after (filters, kernel_size).
struct SeparableConvOptions {
  IntTuple strides = 1;
  std::string padding = "valid";
  std::string data_format = "channels_last";
  IntTuple dilation_rate = 1;
  Dim depth_multiplier = 1;
  std::string activation = "linear";
  bool use_bias = true;
  initializers::InitializerRef depthwise_initializer = "glorot_uniform";
  initializers::InitializerRef pointwise_initializer = "glorot_uniform";
  initializers::InitializerRef bias_initializer = "zeros";
  regularizers::RegularizerRef depthwise_regularizer = nullptr;
  regularizers::RegularizerRef pointwise_regularizer = nullptr;
  regularizers::RegularizerRef bias_regularizer = nullptr;
  regularizers::RegularizerRef activity_regularizer = nullptr;  // see ConvOptions
  constraints::ConstraintRef depthwise_constraint = nullptr;
  constraints::ConstraintRef pointwise_constraint = nullptr;
  constraints::ConstraintRef bias_constraint = nullptr;
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// SeparableConv1D / SeparableConv2D: a depthwise convolution, then a 1x1 convolution to
// `filters` channels. Weights: depthwise_kernel (k..., C, depth_multiplier),
// pointwise_kernel (1..., C * depth_multiplier, filters), bias (filters).
class SeparableConvLayer : public Layer {
 public:
  SeparableConvLayer(std::size_t rank, Dim filters, IntTuple kernel_size,
                     SeparableConvOptions options);
  std::string class_name() const override {
    return rank_ == 1 ? "SeparableConv1D" : "SeparableConv2D";
  }
  void build(const Shape& input_shape) override;
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  std::string activation_name() const override { return options_.activation; }
  // Keras 3's get_config keys, in its order (layers/image_config.cpp).
  Config get_config() const override;
  // rank 1 for the 1-D class, 2 for the 2-D one.
  static LayerRef from_config(const Config& config, std::size_t rank);

 private:
  std::size_t rank_;
  Dim filters_;
  std::vector<Dim> kernel_size_;
  SeparableConvOptions options_;
  bool channels_first_;
  SymbolicTensor depthwise_, pointwise_, bias_;
};

LayerHandle<SeparableConvLayer> SeparableConv1D(Dim filters, IntTuple kernel_size,
                                                SeparableConvOptions options = {});
LayerHandle<SeparableConvLayer> SeparableConv2D(Dim filters, IntTuple kernel_size,
                                                SeparableConvOptions options = {});
PLEXUS_KEYWORD_FACTORY(LayerHandle<SeparableConvLayer>, SeparableConv1D, SeparableConvOptions,
                       (Dim, filters), (IntTuple, kernel_size))
PLEXUS_KEYWORD_FACTORY(LayerHandle<SeparableConvLayer>, SeparableConv2D, SeparableConvOptions,
                       (Dim, filters), (IntTuple, kernel_size))

}  // namespace plexus::layers
