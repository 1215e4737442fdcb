// Reshaping layers: ZeroPadding1D/2D/3D, Cropping1D/2D/3D, UpSampling1D/2D/3D (Keras 3
// defaults), Permute and RepeatVector:
//   auto p = px::layers::ZeroPadding2D({{1, 2}, {0, 1}})(img);   // ((top, bottom), (left, right))
//   auto u = px::layers::UpSampling2D(2)(p);                      // nearest neighbour
#pragma once

#include <string>

#include "core/config.hpp"
#include "graph/layer.hpp"
#include "layers/spatial.hpp"

namespace plexus::layers {

struct ZeroPaddingOptions {
  std::string data_format = "channels_last";  // ZeroPadding2D/3D only
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// [N, spatial..., C] -> the same with zeros added before and after each spatial axis.
class ZeroPaddingLayer : public Layer {
 public:
  ZeroPaddingLayer(std::size_t rank, PadTuple padding, ZeroPaddingOptions options);
  std::string class_name() const override { return "ZeroPadding" + std::to_string(rank_) + "D"; }
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
LayerHandle<ZeroPaddingLayer> ZeroPadding3D(PadTuple padding = 1, ZeroPaddingOptions options = {});
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<ZeroPaddingLayer>, ZeroPadding1D, ZeroPaddingOptions,
                                 (PadTuple, padding, 1))
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<ZeroPaddingLayer>, ZeroPadding2D, ZeroPaddingOptions,
                                 (PadTuple, padding, 1))
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<ZeroPaddingLayer>, ZeroPadding3D, ZeroPaddingOptions,
                                 (PadTuple, padding, 1))

struct CroppingOptions {
  std::string data_format = "channels_last";  // Cropping2D/3D only
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// [N, spatial..., C] -> the same with (before, after) elements removed from each spatial
// axis (whose lengths must be known).
class CroppingLayer : public Layer {
 public:
  CroppingLayer(std::size_t rank, PadTuple cropping, CroppingOptions options);
  std::string class_name() const override { return "Cropping" + std::to_string(rank_) + "D"; }
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
LayerHandle<CroppingLayer> Cropping3D(PadTuple cropping = 0, CroppingOptions options = {});
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<CroppingLayer>, Cropping1D, CroppingOptions,
                                 (PadTuple, cropping, 1))
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<CroppingLayer>, Cropping2D, CroppingOptions,
                                 (PadTuple, cropping, 0))
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<CroppingLayer>, Cropping3D, CroppingOptions,
                                 (PadTuple, cropping, 0))

struct UpSamplingOptions {
  std::string data_format = "channels_last";  // UpSampling2D/3D only
  std::string interpolation = "nearest";      // UpSampling2D: "nearest" or "bilinear"
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// [N, spatial..., C] -> each spatial axis repeated `size` times (nearest neighbour), or for
// UpSampling2D with interpolation "bilinear", Keras's bilinear resize (half-pixel centres,
// edges clamped).
class UpSamplingLayer : public Layer {
 public:
  UpSamplingLayer(std::size_t rank, IntTuple size, UpSamplingOptions options);
  std::string class_name() const override { return "UpSampling" + std::to_string(rank_) + "D"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  // Keras 3's get_config keys, in its order (layers/image_config.cpp).
  Config get_config() const override;
  static LayerRef from_config(const Config& config, std::size_t rank);

 private:
  std::size_t rank_;
  std::vector<Dim> size_;
  bool channels_first_;
  bool bilinear_ = false;
};

LayerHandle<UpSamplingLayer> UpSampling1D(IntTuple size = 2, UpSamplingOptions options = {});
LayerHandle<UpSamplingLayer> UpSampling2D(IntTuple size = 2, UpSamplingOptions options = {});
LayerHandle<UpSamplingLayer> UpSampling3D(IntTuple size = 2, UpSamplingOptions options = {});
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<UpSamplingLayer>, UpSampling1D, UpSamplingOptions,
                                 (IntTuple, size, 2))
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<UpSamplingLayer>, UpSampling2D, UpSamplingOptions,
                                 (IntTuple, size, 2))
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<UpSamplingLayer>, UpSampling3D, UpSamplingOptions,
                                 (IntTuple, size, 2))

// --- Permute, RepeatVector ----------------------------------------------------------------

struct PermuteOptions {
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// Permute(dims): [N, d1, ..., dk] -> [N, d_dims[0], ..., d_dims[k-1]]; dims is a permutation
// of 1..k (1-based, the batch axis stays first), as Keras's.
class PermuteLayer : public Layer {
 public:
  PermuteLayer(Shape dims, PermuteOptions options);
  std::string class_name() const override { return "Permute"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  const Shape& dims() const { return dims_; }
  Config get_config() const override;  // + dims
  static LayerRef from_config(const Config& config);

 private:
  Shape dims_;
};

struct RepeatVectorOptions {
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// RepeatVector(n): [N, F] -> [N, n, F], the input repeated n times.
class RepeatVectorLayer : public Layer {
 public:
  RepeatVectorLayer(Dim n, RepeatVectorOptions options);
  std::string class_name() const override { return "RepeatVector"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  Dim n() const { return n_; }
  Config get_config() const override;  // + n
  static LayerRef from_config(const Config& config);

 private:
  Dim n_;
};

LayerHandle<PermuteLayer> Permute(Shape dims, PermuteOptions options = {});
LayerHandle<RepeatVectorLayer> RepeatVector(Dim n, RepeatVectorOptions options = {});

}  // namespace plexus::layers

PLEXUS_KEYWORD(dims, ::plexus::Shape)
PLEXUS_KEYWORD(n, std::ptrdiff_t)

namespace plexus::layers {
PLEXUS_KEYWORD_FACTORY(LayerHandle<PermuteLayer>, Permute, PermuteOptions, (Shape, dims))
PLEXUS_KEYWORD_FACTORY(LayerHandle<RepeatVectorLayer>, RepeatVector, RepeatVectorOptions, (Dim, n))
}  // namespace plexus::layers
