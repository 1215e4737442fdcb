// Padding (the pad kernel), cropping (slices) and nearest upsampling (a broadcast
// multiply by ones between two reshapes, so it needs no kernel of its own).
#include "layers/reshaping.hpp"

#include <algorithm>
#include <cmath>
#include <xtensor/xbuilder.hpp>

#include "core/error.hpp"
#include "core/initializers.hpp"
#include "graph/ops.hpp"

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
std::size_t first_spatial(bool cf) { return cf ? 2 : 1; }
}  // namespace

// --- ZeroPadding ----------------------------------------------------------------------------

ZeroPaddingLayer::ZeroPaddingLayer(std::size_t rank, PadTuple padding, ZeroPaddingOptions options)
    : Layer(options.name), rank_(rank) {
  pads_ = detail::resolve_pads(padding, rank_, class_name(), "padding");
  channels_first_ = detail::channels_first(options.data_format, class_name());
  set_declared_input_shape(std::move(options.input_shape));
}

std::vector<std::pair<Dim, Dim>> ZeroPaddingLayer::all_axes(std::size_t rank) const {
  std::vector<std::pair<Dim, Dim>> p(rank, {0, 0});
  for (std::size_t a = 0; a < rank_; ++a) p[first_spatial(channels_first_) + a] = pads_[a];
  return p;
}

SymbolicTensor ZeroPaddingLayer::call(const SymbolicTensor& x) {
  check_rank(*this, x.shape(), rank_);
  return ops::pad(x, all_axes(x.rank()));
}

Shape ZeroPaddingLayer::compute_output_shape(const Shape& input_shape) {
  check_rank(*this, input_shape, rank_);
  Shape out = input_shape;
  for (std::size_t a = 0; a < rank_; ++a) {
    Dim& d = out[first_spatial(channels_first_) + a];
    if (d >= 0) d += pads_[a].first + pads_[a].second;
  }
  return out;
}

LayerHandle<ZeroPaddingLayer> ZeroPadding1D(PadTuple padding, ZeroPaddingOptions options) {
  return make_layer<ZeroPaddingLayer>(1, std::move(padding), std::move(options));
}
LayerHandle<ZeroPaddingLayer> ZeroPadding2D(PadTuple padding, ZeroPaddingOptions options) {
  return make_layer<ZeroPaddingLayer>(2, std::move(padding), std::move(options));
}
LayerHandle<ZeroPaddingLayer> ZeroPadding3D(PadTuple padding, ZeroPaddingOptions options) {
  return make_layer<ZeroPaddingLayer>(3, std::move(padding), std::move(options));
}

// --- Cropping -------------------------------------------------------------------------------

CroppingLayer::CroppingLayer(std::size_t rank, PadTuple cropping, CroppingOptions options)
    : Layer(options.name), rank_(rank) {
  crops_ = detail::resolve_pads(cropping, rank_, class_name(), "cropping");
  channels_first_ = detail::channels_first(options.data_format, class_name());
  set_declared_input_shape(std::move(options.input_shape));
}

Shape CroppingLayer::compute_output_shape(const Shape& input_shape) {
  check_rank(*this, input_shape, rank_);
  Shape out = input_shape;
  for (std::size_t a = 0; a < rank_; ++a) {
    Dim& d = out[first_spatial(channels_first_) + a];
    if (d < 0) continue;
    if (crops_[a].first + crops_[a].second >= d) {
      throw Error(
          "Layer \"{}\" (Cropping{}D): cropping ({}, {}) removes all of axis {} of the input "
          "shape {}",
          name(), rank_, crops_[a].first, crops_[a].second, first_spatial(channels_first_) + a,
          shape_str(input_shape));
    }
    d -= crops_[a].first + crops_[a].second;
  }
  return out;
}

SymbolicTensor CroppingLayer::call(const SymbolicTensor& x) {
  compute_output_shape(x.shape());
  SymbolicTensor y = x;
  for (std::size_t a = 0; a < rank_; ++a) {
    const auto axis = static_cast<Dim>(first_spatial(channels_first_) + a);
    const Dim n = x.shape()[static_cast<std::size_t>(axis)];
    if (n < 0) {
      throw Error(
          "Layer \"{}\" (Cropping{}D): the spatial axes must be known, received input "
          "with shape {}",
          name(), rank_, shape_str(x.shape()));
    }
    if (crops_[a].first == 0 && crops_[a].second == 0) continue;
    y = ops::slice(y, axis, crops_[a].first, n - crops_[a].second);
  }
  return y;
}

LayerHandle<CroppingLayer> Cropping1D(PadTuple cropping, CroppingOptions options) {
  return make_layer<CroppingLayer>(1, std::move(cropping), std::move(options));
}
LayerHandle<CroppingLayer> Cropping2D(PadTuple cropping, CroppingOptions options) {
  return make_layer<CroppingLayer>(2, std::move(cropping), std::move(options));
}
LayerHandle<CroppingLayer> Cropping3D(PadTuple cropping, CroppingOptions options) {
  return make_layer<CroppingLayer>(3, std::move(cropping), std::move(options));
}

// --- UpSampling -----------------------------------------------------------------------------

UpSamplingLayer::UpSamplingLayer(std::size_t rank, IntTuple size, UpSamplingOptions options)
    : Layer(options.name), rank_(rank) {
  size_ = detail::resolve_tuple(size, rank_, class_name(), "size");
  channels_first_ = detail::channels_first(options.data_format, class_name());
  bilinear_ = options.interpolation == "bilinear";
  if (options.interpolation != "nearest" && !(bilinear_ && rank_ == 2)) {
    throw Error("{}: interpolation \"{}\" is not available in plexus (only \"nearest\"{})",
                class_name(), options.interpolation, rank_ == 2 ? " and \"bilinear\"" : "");
  }
  set_declared_input_shape(std::move(options.input_shape));
}

Shape UpSamplingLayer::compute_output_shape(const Shape& input_shape) {
  check_rank(*this, input_shape, rank_);
  Shape out = input_shape;
  for (std::size_t a = 0; a < rank_; ++a) {
    Dim& d = out[first_spatial(channels_first_) + a];
    if (d >= 0) d *= size_[a];
  }
  return out;
}

namespace {
// x resized along `axis` from its length to `out` by linear interpolation with half-pixel
// centres (source = (o + 0.5) / scale - 0.5, clamped to the edges), as Keras's
// ops.image.resize(interpolation="bilinear") upsamples: a constant [length, out] matrix
// applied along the axis, so the gradient is its transpose.
SymbolicTensor linear_resize(const SymbolicTensor& x, std::size_t axis, Dim out) {
  const Shape& s = x.shape();
  const Dim n = s[axis];
  Tensor m = xt::zeros<float>({static_cast<std::size_t>(n), static_cast<std::size_t>(out)});
  const double scale = static_cast<double>(out) / static_cast<double>(n);
  for (Dim o = 0; o < out; ++o) {
    double src = (static_cast<double>(o) + 0.5) / scale - 0.5;
    src = std::clamp(src, 0.0, static_cast<double>(n - 1));
    const auto i0 = static_cast<Dim>(std::floor(src));
    const Dim i1 = std::min(i0 + 1, n - 1);
    const auto w = static_cast<float>(src - static_cast<double>(i0));
    m(static_cast<std::size_t>(i0), static_cast<std::size_t>(o)) += 1.0f - w;
    m(static_cast<std::size_t>(i1), static_cast<std::size_t>(o)) += w;
  }
  // Move the axis last, [-1, n] x [n, out], and back.
  std::vector<std::size_t> perm, back(s.size());
  for (std::size_t a = 0; a < s.size(); ++a)
    if (a != axis) perm.push_back(a);
  perm.push_back(axis);
  for (std::size_t a = 0; a < perm.size(); ++a) back[perm[a]] = a;
  Shape moved{-1};
  for (std::size_t a = 1; a + 1 < perm.size(); ++a) moved.push_back(s[perm[a]]);
  moved.push_back(out);
  auto y = ops::matmul(ops::reshape(ops::transpose(x, perm), {-1, n}), ops::constant(std::move(m)));
  return ops::transpose(ops::reshape(y, std::move(moved)), std::move(back));
}
}  // namespace

SymbolicTensor UpSamplingLayer::call(const SymbolicTensor& x) {
  if (bilinear_) {
    const Shape out = compute_output_shape(x.shape());
    SymbolicTensor y = x;
    for (std::size_t a = 0; a < rank_; ++a) {
      const std::size_t axis = first_spatial(channels_first_) + a;
      if (x.shape()[axis] < 0) {
        throw Error("Layer \"{}\" ({}): spatial axis {} of the input {} must be known", name(),
                    class_name(), axis, shape_str(x.shape()));
      }
      if (size_[a] != 1) y = linear_resize(y, axis, out[axis]);
    }
    return y;
  }
  const Shape out = compute_output_shape(x.shape());
  // [N, ..., d, ...] -> [N, ..., d, 1, ...] * ones [..., s, ...] -> [N, ..., d * s, ...]
  Shape expanded{-1}, ones_shape;
  for (std::size_t a = 1; a < x.rank(); ++a) {
    const Dim d = x.shape()[a];
    if (d < 0) {
      throw Error(
          "Layer \"{}\" ({}): all dimensions after the batch must be known, received "
          "input with shape {}",
          name(), class_name(), shape_str(x.shape()));
    }
    expanded.push_back(d);
    ones_shape.push_back(1);
    const std::size_t s = a - first_spatial(channels_first_);
    if (a >= first_spatial(channels_first_) && s < rank_) {
      expanded.push_back(1);
      ones_shape.push_back(size_[s]);
    }
  }
  std::vector<std::size_t> ushape(ones_shape.begin(), ones_shape.end());
  Tensor ones = xt::ones<float>(ushape);
  auto y = ops::multiply(ops::reshape(x, expanded), ops::constant(std::move(ones)));
  Shape target = out;
  target[0] = -1;
  return ops::reshape(y, target);
}

LayerHandle<UpSamplingLayer> UpSampling1D(IntTuple size, UpSamplingOptions options) {
  return make_layer<UpSamplingLayer>(1, std::move(size), std::move(options));
}
LayerHandle<UpSamplingLayer> UpSampling2D(IntTuple size, UpSamplingOptions options) {
  return make_layer<UpSamplingLayer>(2, std::move(size), std::move(options));
}
LayerHandle<UpSamplingLayer> UpSampling3D(IntTuple size, UpSamplingOptions options) {
  return make_layer<UpSamplingLayer>(3, std::move(size), std::move(options));
}

// --- Permute --------------------------------------------------------------------------------

PermuteLayer::PermuteLayer(Shape dims, PermuteOptions options)
    : Layer(options.name), dims_(std::move(dims)) {
  Shape sorted = dims_;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (sorted[i] != Dim(i) + 1) {
      throw Error(
          "Permute: invalid permutation argument `dims` {}: it must hold each of 1, ..., {} "
          "once (the axes after the batch, 1-based)",
          shape_str(dims_), dims_.size());
    }
  }
  if (dims_.empty()) throw Error("Permute: `dims` must not be empty");
  set_declared_input_shape(std::move(options.input_shape));
}

Shape PermuteLayer::compute_output_shape(const Shape& input_shape) {
  if (input_shape.size() != dims_.size() + 1) {
    throw Error(
        "Input 0 of layer \"{}\" is incompatible with the layer: Permute dims {} expect "
        "ndim={}, found ndim={}. Full shape received: {}",
        name(), shape_str(dims_), dims_.size() + 1, input_shape.size(), shape_str(input_shape));
  }
  Shape out{input_shape[0]};
  for (Dim d : dims_) out.push_back(input_shape[static_cast<std::size_t>(d)]);
  return out;
}

SymbolicTensor PermuteLayer::call(const SymbolicTensor& x) {
  compute_output_shape(x.shape());
  std::vector<std::size_t> perm{0};
  for (Dim d : dims_) perm.push_back(static_cast<std::size_t>(d));
  return ops::transpose(x, std::move(perm));
}

LayerHandle<PermuteLayer> Permute(Shape dims, PermuteOptions options) {
  return make_layer<PermuteLayer>(std::move(dims), std::move(options));
}

// --- RepeatVector ---------------------------------------------------------------------------

RepeatVectorLayer::RepeatVectorLayer(Dim n, RepeatVectorOptions options)
    : Layer(options.name), n_(n) {
  if (n_ <= 0) {
    throw Error("RepeatVector: expected an integer value > 0 for argument `n`, received: n={}", n_);
  }
  set_declared_input_shape(std::move(options.input_shape));
}

Shape RepeatVectorLayer::compute_output_shape(const Shape& input_shape) {
  if (input_shape.size() != 2) {
    throw Error(
        "Input 0 of layer \"{}\" is incompatible with the layer: expected ndim=2, found "
        "ndim={}. Full shape received: {}",
        name(), input_shape.size(), shape_str(input_shape));
  }
  return {input_shape[0], n_, input_shape[1]};
}

SymbolicTensor RepeatVectorLayer::call(const SymbolicTensor& x) {
  const Shape out = compute_output_shape(x.shape());
  if (out[2] < 0) {
    throw Error("Layer \"{}\" (RepeatVector): the features of the input {} must be known", name(),
                shape_str(x.shape()));
  }
  // [N, 1, F] * ones [1, n, 1]: the broadcast's gradient sums the n copies back.
  Tensor ones = xt::ones<float>({std::size_t{1}, static_cast<std::size_t>(n_), std::size_t{1}});
  return ops::multiply(ops::reshape(x, {-1, 1, out[2]}), ops::constant(std::move(ones)));
}

LayerHandle<RepeatVectorLayer> RepeatVector(Dim n, RepeatVectorOptions options) {
  return make_layer<RepeatVectorLayer>(n, std::move(options));
}

}  // namespace plexus::layers
