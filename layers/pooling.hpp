// Pooling layers: MaxPooling1D/2D, AveragePooling1D/2D, GlobalMaxPooling1D/2D/3D,
// GlobalAveragePooling1D/2D/3D, AdaptiveAveragePooling1D/2D/3D, AdaptiveMaxPooling1D/2D/3D,
// with Keras 3's defaults:
//   auto p = px::layers::MaxPooling2D(2)(c);                   // 2x2, strides 2
//   auto q = px::layers::AveragePooling2D(3, {.strides = 1, .padding = "same"})(c);
// "same" windows ignore the padded taps (the average counts only taps inside the input).
#pragma once

#include <string>

#include "core/config.hpp"
#include "core/keywords.hpp"
#include "graph/layer.hpp"
#include "layers/spatial.hpp"

namespace plexus::layers {

// Fields in the order of Keras's MaxPooling2D constructor after pool_size.
struct PoolingOptions {
  IntTuple strides{};  // empty = None: the pool size
  std::string padding = "valid";
  std::string data_format = "channels_last";
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// [N, spatial..., C] -> [N, out spatial..., C]: the max or mean over each window.
class PoolingLayer : public Layer {
 public:
  PoolingLayer(std::size_t rank, bool max, IntTuple pool_size, PoolingOptions options);
  std::string class_name() const override;
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  // Keras 3's get_config keys, in its order (layers/image_config.cpp).
  Config get_config() const override;
  static LayerRef from_config(const Config& config, std::size_t rank, bool max);

 private:
  std::size_t rank_;
  bool max_;
  std::vector<Dim> pool_size_;
  PoolingOptions options_;
  bool channels_first_;
};

LayerHandle<PoolingLayer> MaxPooling1D(IntTuple pool_size = 2, PoolingOptions options = {});
LayerHandle<PoolingLayer> MaxPooling2D(IntTuple pool_size = 2, PoolingOptions options = {});
LayerHandle<PoolingLayer> AveragePooling1D(IntTuple pool_size = 2, PoolingOptions options = {});
LayerHandle<PoolingLayer> AveragePooling2D(IntTuple pool_size = 2, PoolingOptions options = {});
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<PoolingLayer>, MaxPooling1D, PoolingOptions,
                                 (IntTuple, pool_size, 2))
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<PoolingLayer>, MaxPooling2D, PoolingOptions,
                                 (IntTuple, pool_size, 2))
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<PoolingLayer>, AveragePooling1D, PoolingOptions,
                                 (IntTuple, pool_size, 2))
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<PoolingLayer>, AveragePooling2D, PoolingOptions,
                                 (IntTuple, pool_size, 2))

struct GlobalPoolingOptions {
  std::string data_format = "channels_last";
  bool keepdims = false;
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// [N, spatial..., C] -> [N, C] (keepdims: [N, 1..., C]): the max or mean over all positions.
class GlobalPoolingLayer : public Layer {
 public:
  GlobalPoolingLayer(std::size_t rank, bool max, GlobalPoolingOptions options);
  std::string class_name() const override;
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  // Keras 3's get_config keys, in its order (layers/image_config.cpp).
  Config get_config() const override;
  static LayerRef from_config(const Config& config, std::size_t rank, bool max);

 private:
  void check_input(const Shape& s) const;
  std::size_t rank_;
  bool max_;
  GlobalPoolingOptions options_;
  bool channels_first_;
};

LayerHandle<GlobalPoolingLayer> GlobalMaxPooling1D(GlobalPoolingOptions options = {});
LayerHandle<GlobalPoolingLayer> GlobalMaxPooling2D(GlobalPoolingOptions options = {});
LayerHandle<GlobalPoolingLayer> GlobalAveragePooling1D(GlobalPoolingOptions options = {});
LayerHandle<GlobalPoolingLayer> GlobalAveragePooling2D(GlobalPoolingOptions options = {});
LayerHandle<GlobalPoolingLayer> GlobalMaxPooling3D(GlobalPoolingOptions options = {});
LayerHandle<GlobalPoolingLayer> GlobalAveragePooling3D(GlobalPoolingOptions options = {});
PLEXUS_KEYWORD_FACTORY0(LayerHandle<GlobalPoolingLayer>, GlobalMaxPooling1D, GlobalPoolingOptions)
PLEXUS_KEYWORD_FACTORY0(LayerHandle<GlobalPoolingLayer>, GlobalMaxPooling2D, GlobalPoolingOptions)
PLEXUS_KEYWORD_FACTORY0(LayerHandle<GlobalPoolingLayer>, GlobalAveragePooling1D,
                        GlobalPoolingOptions)
PLEXUS_KEYWORD_FACTORY0(LayerHandle<GlobalPoolingLayer>, GlobalAveragePooling2D,
                        GlobalPoolingOptions)
PLEXUS_KEYWORD_FACTORY0(LayerHandle<GlobalPoolingLayer>, GlobalMaxPooling3D, GlobalPoolingOptions)
PLEXUS_KEYWORD_FACTORY0(LayerHandle<GlobalPoolingLayer>, GlobalAveragePooling3D,
                        GlobalPoolingOptions)

// --- AdaptiveAveragePooling / AdaptiveMaxPooling ------------------------------------------

struct AdaptivePoolingOptions {
  std::string data_format = "channels_last";
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// [N, spatial..., C] -> [N, output_size..., C]: each spatial axis of length L is cut into
// output_size bins, bin i covering [floor(i L / O), ceil((i + 1) L / O)) (PyTorch's and
// Keras 3's bins, overlapping when O does not divide L); the mean or max of each bin.
class AdaptivePoolingLayer : public Layer {
 public:
  AdaptivePoolingLayer(std::size_t rank, bool max, IntTuple output_size,
                       AdaptivePoolingOptions options);
  std::string class_name() const override;
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  const std::vector<Dim>& output_size() const { return output_size_; }
  Config get_config() const override;  // + output_size (a list), data_format
  static LayerRef from_config(const Config& config, std::size_t rank, bool max);

 private:
  std::size_t rank_;
  bool max_;
  std::vector<Dim> output_size_;
  bool channels_first_;
};

LayerHandle<AdaptivePoolingLayer> AdaptiveAveragePooling1D(IntTuple output_size,
                                                           AdaptivePoolingOptions options = {});
LayerHandle<AdaptivePoolingLayer> AdaptiveAveragePooling2D(IntTuple output_size,
                                                           AdaptivePoolingOptions options = {});
LayerHandle<AdaptivePoolingLayer> AdaptiveAveragePooling3D(IntTuple output_size,
                                                           AdaptivePoolingOptions options = {});
LayerHandle<AdaptivePoolingLayer> AdaptiveMaxPooling1D(IntTuple output_size,
                                                       AdaptivePoolingOptions options = {});
LayerHandle<AdaptivePoolingLayer> AdaptiveMaxPooling2D(IntTuple output_size,
                                                       AdaptivePoolingOptions options = {});
LayerHandle<AdaptivePoolingLayer> AdaptiveMaxPooling3D(IntTuple output_size,
                                                       AdaptivePoolingOptions options = {});

}  // namespace plexus::layers

PLEXUS_KEYWORD(output_size, ::plexus::layers::IntTuple)

namespace plexus::layers {
PLEXUS_KEYWORD_FACTORY(LayerHandle<AdaptivePoolingLayer>, AdaptiveAveragePooling1D,
                       AdaptivePoolingOptions, (IntTuple, output_size))
PLEXUS_KEYWORD_FACTORY(LayerHandle<AdaptivePoolingLayer>, AdaptiveAveragePooling2D,
                       AdaptivePoolingOptions, (IntTuple, output_size))
PLEXUS_KEYWORD_FACTORY(LayerHandle<AdaptivePoolingLayer>, AdaptiveAveragePooling3D,
                       AdaptivePoolingOptions, (IntTuple, output_size))
PLEXUS_KEYWORD_FACTORY(LayerHandle<AdaptivePoolingLayer>, AdaptiveMaxPooling1D,
                       AdaptivePoolingOptions, (IntTuple, output_size))
PLEXUS_KEYWORD_FACTORY(LayerHandle<AdaptivePoolingLayer>, AdaptiveMaxPooling2D,
                       AdaptivePoolingOptions, (IntTuple, output_size))
PLEXUS_KEYWORD_FACTORY(LayerHandle<AdaptivePoolingLayer>, AdaptiveMaxPooling3D,
                       AdaptivePoolingOptions, (IntTuple, output_size))

}  // namespace plexus::layers
