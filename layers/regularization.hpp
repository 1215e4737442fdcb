// Regularization layers beyond Dropout (layers/core.hpp): SpatialDropout1D/2D, which drop
// whole feature maps (Keras 3: layers/regularization/spatial_dropout.py).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "graph/layer.hpp"

namespace plexus::layers {

struct SpatialDropoutOptions {
  std::string data_format = "channels_last";  // SpatialDropout2D only
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
  std::string class_name() const override {
    return rank_ == 1 ? "SpatialDropout1D" : "SpatialDropout2D";
  }
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
PLEXUS_KEYWORD_FACTORY(LayerHandle<SpatialDropoutLayer>, SpatialDropout1D, SpatialDropoutOptions,
                       (float, rate))
PLEXUS_KEYWORD_FACTORY(LayerHandle<SpatialDropoutLayer>, SpatialDropout2D, SpatialDropoutOptions,
                       (float, rate))

}  // namespace plexus::layers
