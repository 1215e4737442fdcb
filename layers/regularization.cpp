#include "layers/regularization.hpp"

#include "core/error.hpp"
#include "core/initializers.hpp"
#include "graph/ops.hpp"
#include "layers/spatial.hpp"

namespace plexus::layers {

SpatialDropoutLayer::SpatialDropoutLayer(std::size_t rank, float rate,
                                         SpatialDropoutOptions options)
    : Layer(options.name), rank_(rank), rate_(rate), seed_(options.seed) {
  if (!(rate_ >= 0.0f && rate_ < 1.0f)) {
    throw Error(
        "{}: invalid value received for argument `rate`. Expected a float value in [0, 1), "
        "received: rate={}",
        class_name(), rate_);
  }
  channels_first_ = detail::channels_first(options.data_format, class_name());
  set_declared_input_shape(std::move(options.input_shape));
}

Shape SpatialDropoutLayer::compute_output_shape(const Shape& input_shape) {
  if (input_shape.size() != rank_ + 2) {
    throw Error(
        "Input 0 of layer \"{}\" is incompatible with the layer: expected ndim={}, found "
        "ndim={}. Full shape received: {}",
        name(), rank_ + 2, input_shape.size(), shape_str(input_shape));
  }
  return input_shape;
}

SymbolicTensor SpatialDropoutLayer::call(const SymbolicTensor& x) {
  compute_output_shape(x.shape());
  if (rate_ == 0.0f) return x;
  // Keras's noise shape: (N, 1..., C), or (N, C, 1...) for channels_first.
  Shape noise(x.rank(), 1);
  noise[0] = -1;
  noise[detail::channel_axis(x.rank(), channels_first_)] = -1;
  return ops::dropout(x, rate_, std::move(noise));
}

LayerHandle<SpatialDropoutLayer> SpatialDropout1D(float rate, SpatialDropoutOptions options) {
  return make_layer<SpatialDropoutLayer>(1, rate, std::move(options));
}
LayerHandle<SpatialDropoutLayer> SpatialDropout2D(float rate, SpatialDropoutOptions options) {
  return make_layer<SpatialDropoutLayer>(2, rate, std::move(options));
}

}  // namespace plexus::layers
