#include "layers/preprocessing.hpp"

#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "graph/ops.hpp"

namespace plexus::layers {
namespace {
constexpr float kEpsilon = 1e-7f;  // keras.backend.epsilon()
}

NormalizationLayer::NormalizationLayer(NormalizationOptions options)
    : Layer(options.name), options_(std::move(options)) {
  if (options_.mean.has_value() != options_.variance.has_value()) {
    throw Error("Normalization \"{}\": give both mean and variance, or neither (then adapt())",
                name());
  }
  if (options_.mean && shape_of(*options_.mean) != shape_of(*options_.variance)) {
    throw Error("Normalization \"{}\": mean has shape {} but variance has shape {}", name(),
                shape_str(shape_of(*options_.mean)), shape_str(shape_of(*options_.variance)));
  }
  set_declared_input_shape(options_.input_shape);
}

void NormalizationLayer::build(const Shape& input_shape) {
  keep_ = normalize_axis(options_.axis, input_shape.size(), "Normalization");
  if (keep_ == 0 && input_shape.size() > 1) {
    throw Error("Normalization \"{}\": axis {} is the batch axis of input shape {}", name(),
                options_.axis, shape_str(input_shape));
  }
  const Dim d = input_shape[keep_];
  if (d < 0) {
    throw Error("Normalization \"{}\": the kept axis {} of input shape {} must be known", name(),
                options_.axis, shape_str(input_shape));
  }
  built_shape_ = input_shape;
  if (options_.mean) {
    const std::size_t n = options_.mean->size();
    if (n != 1 && n != static_cast<std::size_t>(d)) {
      throw Error("Normalization \"{}\": mean has {} values, expected 1 or {} (axis {} of {})",
                  name(), n, d, options_.axis, shape_str(input_shape));
    }
    return;
  }
  mean_ = add_weight("mean", {d}, "zeros", false);
  variance_ = add_weight("variance", {d}, "ones", false);
  add_weight("count", {}, "zeros", false);
}

SymbolicTensor NormalizationLayer::call(const SymbolicTensor& x) {
  // (1, ..., d, ..., 1): broadcast along every axis but the kept one.
  Shape broadcast(x.rank(), 1);
  const Dim d = built_shape_[keep_];
  broadcast[keep_] = d;
  SymbolicTensor mean, variance;
  if (options_.mean) {
    const std::size_t n = options_.mean->size();
    Tensor m = *options_.mean, v = *options_.variance;
    m.reshape({n});
    v.reshape({n});
    if (n == 1) {
      m = Tensor(Tensor::shape_type{static_cast<std::size_t>(d)}, m(0));
      v = Tensor(Tensor::shape_type{static_cast<std::size_t>(d)}, v(0));
    }
    mean = ops::reshape(ops::constant(m), broadcast);
    variance = ops::reshape(ops::constant(v), broadcast);
  } else {
    mean = ops::reshape(mean_, broadcast);
    variance = ops::reshape(variance_, broadcast);
  }
  const SymbolicTensor scale = ops::clip(ops::sqrt(variance), kEpsilon, INFINITY);
  if (options_.invert) return ops::add(mean, ops::multiply(x, scale));
  return ops::divide(ops::subtract(x, mean), scale);
}

void NormalizationLayer::adapt(const Tensor& data) {
  if (options_.mean) {
    throw Error("Normalization \"{}\" was given mean and variance; adapt() has nothing to learn",
                name());
  }
  if (data.dimension() < 1 || data.size() == 0) {
    throw Error("Normalization \"{}\".adapt: expected a non-empty array, received shape {}", name(),
                shape_str(shape_of(data)));
  }
  if (!all_finite(data))
    throw Error("Normalization \"{}\".adapt: the data holds NaN or Inf", name());
  Shape shape = shape_of(data);
  if (shape.size() == 1) shape.push_back(1);  // a column of values: (n,) -> (n, 1)
  Shape symbolic = shape;
  symbolic[0] = -1;
  if (!built()) {
    build(symbolic);
    mark_built();
  } else if (symbolic.size() != built_shape_.size() || symbolic[keep_] != built_shape_[keep_]) {
    throw Error(
        "Normalization \"{}\" was built for input shape {}; adapt() received data of "
        "shape {}",
        name(), shape_str(built_shape_), shape_str(shape_of(data)));
  }
  const std::size_t k = keep_;
  std::size_t inner = 1;
  for (std::size_t i = k + 1; i < shape.size(); ++i) inner *= static_cast<std::size_t>(shape[i]);
  const auto d = static_cast<std::size_t>(shape[k]);
  const std::size_t outer = data.size() / (d * inner);
  std::vector<double> sum(d, 0.0), sq(d, 0.0);
  const float* p = data.data();
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t j = 0; j < d; ++j)
      for (std::size_t i = 0; i < inner; ++i) sum[j] += p[(o * d + j) * inner + i];
  const double count = static_cast<double>(outer * inner);
  for (double& s : sum) s /= count;
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t j = 0; j < d; ++j)
      for (std::size_t i = 0; i < inner; ++i) {
        const double e = p[(o * d + j) * inner + i] - sum[j];
        sq[j] += e * e;
      }
  auto w = weights();
  Tensor m(Tensor::shape_type{d}), v(Tensor::shape_type{d});
  for (std::size_t j = 0; j < d; ++j) {
    m(j) = static_cast<float>(sum[j]);
    v(j) = static_cast<float>(sq[j] / count);
  }
  w[0].assign(m);
  w[1].assign(v);
}

LayerHandle<NormalizationLayer> Normalization(NormalizationOptions options) {
  return make_layer<NormalizationLayer>(std::move(options));
}

}  // namespace plexus::layers
