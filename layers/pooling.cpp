#include "layers/pooling.hpp"

#include "core/error.hpp"
#include "core/initializers.hpp"
#include "core/json.hpp"
#include "core/kernels.hpp"
#include "graph/ops.hpp"
#include "layers/masking.hpp"

namespace plexus::layers {

namespace {
void check_rank(const Layer& layer, const Shape& s, std::size_t rank) {
  if (s.size() != rank + 2) {
    throw Error(
        "Input 0 of layer \"{}\" is incompatible with the layer: expected ndim={}, found "
        "ndim={}. Full shape received: {}",
        layer.name(), rank + 2, s.size(), shape_str(s));
  }
}
}  // namespace

// --- MaxPooling / AveragePooling ----------------------------------------------------------

PoolingLayer::PoolingLayer(std::size_t rank, bool max, IntTuple pool_size, PoolingOptions options)
    : Layer(options.name), rank_(rank), max_(max), options_(std::move(options)) {
  const std::string cls = class_name();
  pool_size_ = detail::resolve_tuple(pool_size, rank_, cls, "pool_size");
  if (!options_.strides.empty()) {
    options_.strides = detail::resolve_tuple(options_.strides, rank_, cls, "strides");
  }
  detail::check_padding(options_.padding, cls);
  channels_first_ = detail::channels_first(options_.data_format, cls);
  set_declared_input_shape(options_.input_shape);
}

std::string PoolingLayer::class_name() const {
  return std::string(max_ ? "MaxPooling" : "AveragePooling") + (rank_ == 1 ? "1D" : "2D");
}

namespace {
kernels::PoolConfig pool_config(const std::vector<Dim>& size, const IntTuple& strides,
                                const std::string& padding, bool cf) {
  return {size, strides.values, padding, cf};
}
}  // namespace

SymbolicTensor PoolingLayer::call(const SymbolicTensor& x) {
  check_rank(*this, x.shape(), rank_);
  const auto config = pool_config(pool_size_, options_.strides, options_.padding, channels_first_);
  return max_ ? ops::max_pool(x, config) : ops::avg_pool(x, config);
}

Shape PoolingLayer::compute_output_shape(const Shape& input_shape) {
  check_rank(*this, input_shape, rank_);
  const auto config = pool_config(pool_size_, options_.strides, options_.padding, channels_first_);
  auto k = max_ ? kernels::max_pool(rank_, config) : kernels::avg_pool(rank_, config);
  return k->output_shape(std::vector<Shape>{input_shape});
}

LayerHandle<PoolingLayer> MaxPooling1D(IntTuple pool_size, PoolingOptions options) {
  return make_layer<PoolingLayer>(1, true, std::move(pool_size), std::move(options));
}
LayerHandle<PoolingLayer> MaxPooling2D(IntTuple pool_size, PoolingOptions options) {
  return make_layer<PoolingLayer>(2, true, std::move(pool_size), std::move(options));
}
LayerHandle<PoolingLayer> AveragePooling1D(IntTuple pool_size, PoolingOptions options) {
  return make_layer<PoolingLayer>(1, false, std::move(pool_size), std::move(options));
}
LayerHandle<PoolingLayer> AveragePooling2D(IntTuple pool_size, PoolingOptions options) {
  return make_layer<PoolingLayer>(2, false, std::move(pool_size), std::move(options));
}

// --- GlobalMaxPooling / GlobalAveragePooling ----------------------------------------------

GlobalPoolingLayer::GlobalPoolingLayer(std::size_t rank, bool max, GlobalPoolingOptions options)
    : Layer(options.name), rank_(rank), max_(max), options_(std::move(options)) {
  channels_first_ = detail::channels_first(options_.data_format, class_name());
  set_declared_input_shape(options_.input_shape);
}

std::string GlobalPoolingLayer::class_name() const {
  return std::string(max_ ? "GlobalMaxPooling" : "GlobalAveragePooling") + std::to_string(rank_) +
         "D";
}

void GlobalPoolingLayer::check_input(const Shape& s) const { check_rank(*this, s, rank_); }

SymbolicTensor GlobalPoolingLayer::call(const SymbolicTensor& x) {
  check_input(x.shape());
  const auto axes = detail::spatial_axes(x.rank(), channels_first_);
  const SymbolicTensor mask = rank_ == 1 && !max_ ? masking::mask_of(x) : SymbolicTensor();
  if (mask.defined()) {
    // Keras 3's GlobalAveragePooling1D with a mask: the mean over the unmasked steps,
    // sum(x * mask) / sum(mask) (a sample with every step masked gives 0 / 0, as in Keras).
    // GlobalMaxPooling1D ignores the mask, as Keras 3's does.
    SymbolicTensor m = ops::apply(kernels::reshape_like(2, {1}), {mask, x});  // [N, T, 1]
    if (channels_first_) m = ops::transpose(m, {0, 2, 1});                    // [N, 1, T]
    return ops::divide(ops::sum(ops::multiply(x, m), axes, options_.keepdims),
                       ops::sum(m, axes, options_.keepdims));
  }
  return max_ ? ops::max(x, axes, options_.keepdims) : ops::mean(x, axes, options_.keepdims);
}

Shape GlobalPoolingLayer::compute_output_shape(const Shape& input_shape) {
  check_input(input_shape);
  const auto axes = detail::spatial_axes(input_shape.size(), channels_first_);
  Shape out;
  for (std::size_t a = 0; a < input_shape.size(); ++a) {
    const bool spatial = std::find(axes.begin(), axes.end(), Dim(a)) != axes.end();
    if (!spatial) {
      out.push_back(input_shape[a]);
    } else if (options_.keepdims) {
      out.push_back(1);
    }
  }
  return out;
}

LayerHandle<GlobalPoolingLayer> GlobalMaxPooling1D(GlobalPoolingOptions options) {
  return make_layer<GlobalPoolingLayer>(1, true, std::move(options));
}
LayerHandle<GlobalPoolingLayer> GlobalMaxPooling2D(GlobalPoolingOptions options) {
  return make_layer<GlobalPoolingLayer>(2, true, std::move(options));
}
LayerHandle<GlobalPoolingLayer> GlobalAveragePooling1D(GlobalPoolingOptions options) {
  return make_layer<GlobalPoolingLayer>(1, false, std::move(options));
}
LayerHandle<GlobalPoolingLayer> GlobalAveragePooling2D(GlobalPoolingOptions options) {
  return make_layer<GlobalPoolingLayer>(2, false, std::move(options));
}
LayerHandle<GlobalPoolingLayer> GlobalMaxPooling3D(GlobalPoolingOptions options) {
  return make_layer<GlobalPoolingLayer>(3, true, std::move(options));
}
LayerHandle<GlobalPoolingLayer> GlobalAveragePooling3D(GlobalPoolingOptions options) {
  return make_layer<GlobalPoolingLayer>(3, false, std::move(options));
}

// --- AdaptiveAveragePooling / AdaptiveMaxPooling ------------------------------------------

AdaptivePoolingLayer::AdaptivePoolingLayer(std::size_t rank, bool max, IntTuple output_size,
                                           AdaptivePoolingOptions options)
    : Layer(options.name), rank_(rank), max_(max) {
  output_size_ = detail::resolve_tuple(output_size, rank_, class_name(), "output_size");
  channels_first_ = detail::channels_first(options.data_format, class_name());
  set_declared_input_shape(std::move(options.input_shape));
}

std::string AdaptivePoolingLayer::class_name() const {
  return std::string(max_ ? "AdaptiveMaxPooling" : "AdaptiveAveragePooling") +
         std::to_string(rank_) + "D";
}

Shape AdaptivePoolingLayer::compute_output_shape(const Shape& input_shape) {
  check_rank(*this, input_shape, rank_);
  Shape out = input_shape;
  const std::size_t first = channels_first_ ? 2 : 1;
  for (std::size_t a = 0; a < rank_; ++a) out[first + a] = output_size_[a];
  return out;
}

SymbolicTensor AdaptivePoolingLayer::call(const SymbolicTensor& x) {
  compute_output_shape(x.shape());
  const std::size_t first = channels_first_ ? 2 : 1;
  SymbolicTensor y = x;
  // One spatial axis at a time: bins along it (slices), each reduced with keepdims, then
  // joined; the mean (or max) over a box is the same taken axis by axis.
  for (std::size_t a = 0; a < rank_; ++a) {
    const std::size_t axis = first + a;
    const Dim L = x.shape()[axis], O = output_size_[a];
    if (L <= 0) {
      throw Error("Layer \"{}\" ({}): spatial axis {} of the input {} must be known", name(),
                  class_name(), axis, shape_str(x.shape()));
    }
    if (L == O) continue;
    std::vector<SymbolicTensor> bins;
    for (Dim i = 0; i < O; ++i) {
      const Dim start = (i * L) / O, stop = ((i + 1) * L + O - 1) / O;
      SymbolicTensor bin = ops::slice(y, static_cast<Dim>(axis), start, stop);
      bins.push_back(max_ ? ops::max(bin, {static_cast<Dim>(axis)}, true)
                          : ops::mean(bin, {static_cast<Dim>(axis)}, true));
    }
    y = bins.size() == 1 ? bins[0] : ops::concatenate(bins, static_cast<Dim>(axis));
  }
  return y;
}

LayerHandle<AdaptivePoolingLayer> AdaptiveAveragePooling1D(IntTuple output_size,
                                                           AdaptivePoolingOptions options) {
  return make_layer<AdaptivePoolingLayer>(1, false, std::move(output_size), std::move(options));
}
LayerHandle<AdaptivePoolingLayer> AdaptiveAveragePooling2D(IntTuple output_size,
                                                           AdaptivePoolingOptions options) {
  return make_layer<AdaptivePoolingLayer>(2, false, std::move(output_size), std::move(options));
}
LayerHandle<AdaptivePoolingLayer> AdaptiveAveragePooling3D(IntTuple output_size,
                                                           AdaptivePoolingOptions options) {
  return make_layer<AdaptivePoolingLayer>(3, false, std::move(output_size), std::move(options));
}
LayerHandle<AdaptivePoolingLayer> AdaptiveMaxPooling1D(IntTuple output_size,
                                                       AdaptivePoolingOptions options) {
  return make_layer<AdaptivePoolingLayer>(1, true, std::move(output_size), std::move(options));
}
LayerHandle<AdaptivePoolingLayer> AdaptiveMaxPooling2D(IntTuple output_size,
                                                       AdaptivePoolingOptions options) {
  return make_layer<AdaptivePoolingLayer>(2, true, std::move(output_size), std::move(options));
}
LayerHandle<AdaptivePoolingLayer> AdaptiveMaxPooling3D(IntTuple output_size,
                                                       AdaptivePoolingOptions options) {
  return make_layer<AdaptivePoolingLayer>(3, true, std::move(output_size), std::move(options));
}

}  // namespace plexus::layers
