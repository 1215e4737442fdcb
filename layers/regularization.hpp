// Regularization layers beyond Dropout (layers/core.hpp): SpatialDropout1D/2D/3D, which drop
// whole feature maps (Keras 3: layers/regularization/spatial_dropout.py), and the noise
// layers GaussianNoise, GaussianDropout and AlphaDropout. All are the identity at inference
// and random in training, drawing from the library generator (px::utils::set_random_seed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "graph/layer.hpp"

namespace plexus::layers {

struct SpatialDropoutOptions {
  std::string data_format = "channels_last";  // SpatialDropout2D/3D only
  // Kept in the config for Keras; the masks come from the library generator.
  std::optional<std::int64_t> seed = std::nullopt;
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// [N, spatial..., C] -> [N, spatial..., C]. In training each (sample, channel) feature map
// is zeroed with probability `rate` and the others scaled by 1 / (1 - rate) (one draw per
// map, shared over the spatial axes); identity at inference. 0 <= rate < 1.
class SpatialDropoutLayer : public Layer {
 public:
  SpatialDropoutLayer(std::size_t rank, float rate, SpatialDropoutOptions options);
  std::string class_name() const override { return "SpatialDropout" + std::to_string(rank_) + "D"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  float rate() const { return rate_; }
  // {"rate", "seed", "name", "dtype"} (+ "data_format" for 2-D): Keras 3 writes no
  // "trainable" for spatial dropout.
  Config get_config() const override;
  static LayerRef from_config(const Config& config, std::size_t rank);

 private:
  std::size_t rank_;
  float rate_;
  std::optional<std::int64_t> seed_;
  bool channels_first_;
};

LayerHandle<SpatialDropoutLayer> SpatialDropout1D(float rate, SpatialDropoutOptions options = {});
LayerHandle<SpatialDropoutLayer> SpatialDropout2D(float rate, SpatialDropoutOptions options = {});
LayerHandle<SpatialDropoutLayer> SpatialDropout3D(float rate, SpatialDropoutOptions options = {});
PLEXUS_KEYWORD_FACTORY(LayerHandle<SpatialDropoutLayer>, SpatialDropout1D, SpatialDropoutOptions,
                       (float, rate))
PLEXUS_KEYWORD_FACTORY(LayerHandle<SpatialDropoutLayer>, SpatialDropout2D, SpatialDropoutOptions,
                       (float, rate))
PLEXUS_KEYWORD_FACTORY(LayerHandle<SpatialDropoutLayer>, SpatialDropout3D, SpatialDropoutOptions,
                       (float, rate))

// --- GaussianNoise, GaussianDropout, AlphaDropout ----------------------------------------

struct NoiseOptions {
  // Kept in the config for Keras; the noise comes from the library generator.
  std::optional<std::int64_t> seed = std::nullopt;
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// GaussianNoise(stddev): y = x + N(0, stddev^2) per element in training; x at inference.
class GaussianNoiseLayer : public Layer {
 public:
  GaussianNoiseLayer(float stddev, NoiseOptions options);
  std::string class_name() const override { return "GaussianNoise"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }
  float stddev() const { return stddev_; }
  Config get_config() const override;  // + stddev, seed
  static LayerRef from_config(const Config& config);

 private:
  float stddev_;
  std::optional<std::int64_t> seed_;
};

// GaussianDropout(rate): y = x * N(1, rate / (1 - rate)) per element in training; x at
// inference. 0 <= rate < 1.
class GaussianDropoutLayer : public Layer {
 public:
  GaussianDropoutLayer(float rate, NoiseOptions options);
  std::string class_name() const override { return "GaussianDropout"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }
  float rate() const { return rate_; }
  Config get_config() const override;  // + rate, seed
  static LayerRef from_config(const Config& config);

 private:
  float rate_;
  std::optional<std::int64_t> seed_;
};

struct AlphaDropoutOptions {
  // Keras's noise_shape without the batch rule: empty = None (x's shape); otherwise one
  // entry per axis of x, -1 (None) for x's dimension and 1 for an axis the mask is shared on.
  Shape noise_shape{};
  std::optional<std::int64_t> seed = std::nullopt;
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// AlphaDropout(rate): dropout that keeps SELU's self-normalising mean and variance. In
// training each entry is kept with probability 1 - rate, else set to -alpha * scale (SELU's
// negative saturation), then y = a * x' + b with a = ((1 - rate)(1 + rate alpha'^2))^-1/2,
// b = -a alpha' rate (Keras 3: layers/regularization/alpha_dropout.py); x at inference.
class AlphaDropoutLayer : public Layer {
 public:
  AlphaDropoutLayer(float rate, AlphaDropoutOptions options);
  std::string class_name() const override { return "AlphaDropout"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }
  float rate() const { return rate_; }
  Config get_config() const override;  // + rate, seed, noise_shape
  static LayerRef from_config(const Config& config);

 private:
  float rate_;
  AlphaDropoutOptions options_;
};

LayerHandle<GaussianNoiseLayer> GaussianNoise(float stddev, NoiseOptions options = {});
LayerHandle<GaussianDropoutLayer> GaussianDropout(float rate, NoiseOptions options = {});
LayerHandle<AlphaDropoutLayer> AlphaDropout(float rate, AlphaDropoutOptions options = {});

}  // namespace plexus::layers

PLEXUS_KEYWORD(stddev, double)

namespace plexus::layers {
PLEXUS_KEYWORD_FACTORY(LayerHandle<GaussianNoiseLayer>, GaussianNoise, NoiseOptions,
                       (float, stddev))
PLEXUS_KEYWORD_FACTORY(LayerHandle<GaussianDropoutLayer>, GaussianDropout, NoiseOptions,
                       (float, rate))
PLEXUS_KEYWORD_FACTORY(LayerHandle<AlphaDropoutLayer>, AlphaDropout, AlphaDropoutOptions,
                       (float, rate))
}  // namespace plexus::layers
