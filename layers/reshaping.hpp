// Image reshaping layers: ZeroPadding1D/2D, Cropping1D/2D, UpSampling1D/2D (Keras 3
// defaults):
//   auto p = px::layers::ZeroPadding2D({{1, 2}, {0, 1}})(img);   // ((top, bottom), (left, right))
//   auto u = px::layers::UpSampling2D(2)(p);                      // nearest neighbour
#pragma once

#include <string>

#include "core/config.hpp"
#include "graph/layer.hpp"
#include "layers/spatial.hpp"

namespace plexus::layers {

struct ZeroPaddingOptions {
  std::string data_format = "channels_last";  // ZeroPadding2D only
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// [N, spatial..., C] -> the same with zeros added before and after each spatial axis.
class ZeroPaddingLayer : public Layer {
 public:
  ZeroPaddingLayer(std::size_t rank, PadTuple padding, ZeroPaddingOptions options);
  std::string class_name() const override { return rank_ == 1 ? "ZeroPadding1D" : "ZeroPadding2D"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  // Keras 3's get_config keys, in its order (layers/image_config.cpp).
  Config get_config() const override;
  static LayerRef from_config(const Config& config, std::size_t rank);

 private:
  std::vector<std::pair<Dim, Dim>> all_axes(std::size_t rank) const;
  std::size_t rank_;
  std::vector<std::pair<Dim, Dim>> pads_;  // per spatial axis
  bool channels_first_;
};

LayerHandle<ZeroPaddingLayer> ZeroPadding1D(PadTuple padding = 1, ZeroPaddingOptions options = {});
LayerHandle<ZeroPaddingLayer> ZeroPadding2D(PadTuple padding = 1, ZeroPaddingOptions options = {});
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<ZeroPaddingLayer>, ZeroPadding1D, ZeroPaddingOptions,
                                 (PadTuple, padding, 1))
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<ZeroPaddingLayer>, ZeroPadding2D, ZeroPaddingOptions,
                                 (PadTuple, padding, 1))

struct CroppingOptions {
  std::string data_format = "channels_last";  // Cropping2D only
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// [N, spatial..., C] -> the same with (before, after) elements removed from each spatial
// axis (whose lengths must be known).
class CroppingLayer : public Layer {
 public:
  CroppingLayer(std::size_t rank, PadTuple cropping, CroppingOptions options);
  std::string class_name() const override { return rank_ == 1 ? "Cropping1D" : "Cropping2D"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  // Keras 3's get_config keys, in its order (layers/image_config.cpp).
  Config get_config() const override;
  static LayerRef from_config(const Config& config, std::size_t rank);

 private:
  std::size_t rank_;
  std::vector<std::pair<Dim, Dim>> crops_;
  bool channels_first_;
};

// Keras defaults: Cropping1D (1, 1); Cropping2D ((0, 0), (0, 0)).
LayerHandle<CroppingLayer> Cropping1D(PadTuple cropping = 1, CroppingOptions options = {});
LayerHandle<CroppingLayer> Cropping2D(PadTuple cropping = 0, CroppingOptions options = {});
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<CroppingLayer>, Cropping1D, CroppingOptions,
                                 (PadTuple, cropping, 1))
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<CroppingLayer>, Cropping2D, CroppingOptions,
                                 (PadTuple, cropping, 0))

struct UpSamplingOptions {
  std::string data_format = "channels_last";  // UpSampling2D only
  std::string interpolation = "nearest";      // only "nearest" is implemented
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// [N, spatial..., C] -> each spatial axis repeated `size` times (nearest neighbour).
class UpSamplingLayer : public Layer {
 public:
  UpSamplingLayer(std::size_t rank, IntTuple size, UpSamplingOptions options);
  std::string class_name() const override { return rank_ == 1 ? "UpSampling1D" : "UpSampling2D"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  // Keras 3's get_config keys, in its order (layers/image_config.cpp).
  Config get_config() const override;
  static LayerRef from_config(const Config& config, std::size_t rank);

 private:
  std::size_t rank_;
  std::vector<Dim> size_;
  bool channels_first_;
};

LayerHandle<UpSamplingLayer> UpSampling1D(IntTuple size = 2, UpSamplingOptions options = {});
LayerHandle<UpSamplingLayer> UpSampling2D(IntTuple size = 2, UpSamplingOptions options = {});
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<UpSamplingLayer>, UpSampling1D, UpSamplingOptions,
                                 (IntTuple, size, 2))
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<UpSamplingLayer>, UpSampling2D, UpSamplingOptions,
                                 (IntTuple, size, 2))

}  // namespace plexus::layers
