// Shape kernels: reshape, transpose, concatenate, slice, gather, take_along_axis. Each
// forward is a copy (block copies where the layout allows) and each VJP adds the
// gradient back through the same index map.
#include <algorithm>
#include <cmath>
#include <memory>

#include "core/error.hpp"
#include "core/kernel_util.hpp"
#include "core/kernels.hpp"
#include "core/shape.hpp"
#include "graph/detail/gradients.hpp"
#include "graph/ops.hpp"

namespace plexus::kernels {
namespace {

using ST = SymbolicTensor;
namespace o = plexus::ops;

// Product of shape[from, to) of a concrete shape.
template <typename S>
std::size_t product(const S& shape, std::size_t from, std::size_t to) {
  std::size_t p = 1;
  for (std::size_t d = from; d < to; ++d) p *= static_cast<std::size_t>(shape[d]);
  return p;
}

// x as [outer, n, inner] around one of its axes: the axes before it, the axis, the axes
// after it.
struct AroundAxis {
  std::size_t axis, outer, n, inner;
};
AroundAxis around_axis(const Tensor& x, Dim axis, const char* op) {
  const std::size_t a = normalize_axis(axis, x.dimension(), op);
  return {a, product(x.shape(), 0, a), x.shape()[a], product(x.shape(), a + 1, x.dimension())};
}

// An index held as a float: must be integer-valued and within [0, n).
std::size_t checked_index(float v, std::size_t n, const char* op, std::size_t axis) {
  if (!(v >= 0.0f && v < static_cast<float>(n))) {
    throw Error("{}: index {} is out of range for axis {} of size {}", op, v, axis, n);
  }
  if (v != std::floor(v)) throw Error("{}: index {} is not an integer", op, v);
  return static_cast<std::size_t>(v);
}

// ---- reshape -------------------------------------------------------------------------
// [d...] -> target, same element count; one target entry may be -1 (inferred). With an
// unknown input dimension (the batch) a -1 target entry stays -1.
class Reshape final : public Kernel {
 public:
  explicit Reshape(Shape target) : target_(std::move(target)) {
    int unknown = 0;
    for (Dim d : target_) {
      if (d == -1) {
        ++unknown;
      } else if (d < 0) {
        throw Error("reshape: invalid target shape {}: dimensions must be >= 0 or -1",
                    shape_str(target_));
      }
    }
    if (unknown > 1) {
      throw Error("reshape: target shape {} may hold at most one -1", shape_str(target_));
    }
  }
  std::string name() const override { return "reshape"; }
  std::size_t num_inputs() const override { return 1; }

  Shape output_shape(ShapeRefs in) const override {
    check_arity("reshape", in, 1);
    if (auto out = reshaped(target_, num_elements(in[0]), "reshape")) return *out;
    throw mismatch(in[0]);
  }

  void forward(TensorRefs in, Tensor& out, const Context&) override {
    std::copy(in[0]->data(), in[0]->data() + in[0]->size(), out.data());
  }
  void backward(TensorRefs, const Tensor&, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (!gin[0]) return;
    float* gx = gin[0]->data();
    const float* g = gout.data();
    const std::size_t n = gout.size();
    for (std::size_t i = 0; i < n; ++i) gx[i] += g[i];
  }
  KernelPtr clone() const override { return std::make_shared<Reshape>(target_); }
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>& outs,
                               const std::vector<ST>& gouts) const override {
    (void)outs;
    return {o::detail::reshape_as(gouts[0], in[0])};
  }

 private:
  Error mismatch(const Shape& x) const {
    return Error("reshape: cannot reshape {} ({} elements) into {}", shape_str(x), num_elements(x),
                 shape_str(target_));
  }
  Shape target_;
};

// ---- reshape_like ----------------------------------------------------------------------
// (x, ref) -> x's data in the shape ref.shape[:lead] + tail (TimeDistributed folds [N, T]
// into one axis and back, a [N, T] mask becomes [N, T, 1]; N and T may both be unknown).
// The element counts must agree; ref gives only its leading sizes, so its gradient is 0.
class ReshapeLike final : public Kernel {
 public:
  ReshapeLike(std::size_t lead, Shape tail) : lead_(lead), tail_(std::move(tail)) {
    for (Dim d : tail_) {
      if (d < 0) {
        throw Error("reshape_like: the tail {} must be known (dimensions >= 0)", shape_str(tail_));
      }
    }
  }
  std::string name() const override { return "reshape_like"; }
  std::size_t num_inputs() const override { return 2; }

  Shape output_shape(ShapeRefs in) const override {
    check_arity("reshape_like", in, 2);
    if (in[1].size() < lead_) {
      throw Error("reshape_like: the reference {} has fewer than {} axes", shape_str(in[1]), lead_);
    }
    Shape out(in[1].begin(), in[1].begin() + static_cast<std::ptrdiff_t>(lead_));
    out.insert(out.end(), tail_.begin(), tail_.end());
    const Dim have = num_elements(in[0]), want = num_elements(out);
    if (have >= 0 && want >= 0 && have != want) {
      throw Error(
          "reshape_like: cannot reshape {} ({} elements) into {} (the leading {} axes "
          "of {} + {})",
          shape_str(in[0]), have, shape_str(out), lead_, shape_str(in[1]), shape_str(tail_));
    }
    return out;
  }
  void forward(TensorRefs in, Tensor& out, const Context&) override {
    std::copy(in[0]->data(), in[0]->data() + in[0]->size(), out.data());
  }
  void backward(TensorRefs, const Tensor&, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (!gin[0]) return;
    float* gx = gin[0]->data();
    const float* g = gout.data();
    for (std::size_t i = 0; i < gout.size(); ++i) gx[i] += g[i];
  }
  KernelPtr clone() const override { return std::make_shared<ReshapeLike>(lead_, tail_); }
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>& outs,
                               const std::vector<ST>& gouts) const override {
    (void)outs;
    return {o::detail::reshape_as(gouts[0], in[0]), ST()};
  }

 private:
  std::size_t lead_;
  Shape tail_;
};

// ---- transpose -----------------------------------------------------------------------
// out.shape[i] = x.shape[perm[i]]; empty perm reverses the axes. VJP: the inverse map.
class Transpose final : public Kernel {
 public:
  explicit Transpose(std::vector<std::size_t> perm) : perm_(std::move(perm)) {}
  std::string name() const override { return "transpose"; }
  std::size_t num_inputs() const override { return 1; }

  Shape output_shape(ShapeRefs in) const override {
    check_arity("transpose", in, 1);
    const Shape& x = in[0];
    const std::vector<std::size_t> p = resolved(x.size());
    std::vector<char> seen(x.size(), 0);
    bool ok = p.size() == x.size();
    for (std::size_t i = 0; ok && i < p.size(); ++i) {
      ok = p[i] < x.size() && !seen[p[i]];
      if (ok) seen[p[i]] = 1;
    }
    if (!ok) {
      throw Error("transpose: ({}) is not a permutation of the axes of {}", join(perm_),
                  shape_str(x));
    }
    Shape out(x.size());
    for (std::size_t i = 0; i < p.size(); ++i) out[i] = x[p[i]];
    return out;
  }

  void forward(TensorRefs in, Tensor& out, const Context&) override {
    const float* x = in[0]->data();
    float* o = out.data();
    plan(*in[0], out);
    loop_.run([&](const auto& base, std::size_t n, const auto& step) {
      const float* xs = x + base[1];
      float* os = o + base[0];
      for (std::size_t i = 0; i < n; ++i) os[i] = xs[static_cast<std::ptrdiff_t>(i) * step[1]];
    });
  }
  void backward(TensorRefs in, const Tensor& out, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (!gin[0]) return;
    float* gx = gin[0]->data();
    const float* g = gout.data();
    // Walks gx contiguously and reads g strided: strided reads are far cheaper than
    // strided read-modify-writes.
    const Tensor& x = *in[0];
    const std::size_t rank = x.dimension();
    row_major_strides(out.shape(), out_strides_);
    loop_.reset(x.shape());
    loop_.set_broadcast(0, x.shape());
    auto& s = loop_.strides(1);
    for (std::size_t i = 0; i < rank; ++i)
      s[perm_.empty() ? rank - 1 - i : perm_[i]] = out_strides_[i];
    loop_.run([&](const auto& base, std::size_t n, const auto& step) {
      float* gd = gx + base[0];
      const float* gs = g + base[1];
      for (std::size_t i = 0; i < n; ++i) gd[i] += gs[idx(i, step[1])];
    });
  }
  KernelPtr clone() const override { return std::make_shared<Transpose>(perm_); }
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>& outs,
                               const std::vector<ST>& gouts) const override {
    (void)outs;
    if (perm_.empty()) return {o::transpose(gouts[0])};
    std::vector<std::size_t> inverse(perm_.size());
    for (std::size_t d = 0; d < perm_.size(); ++d) inverse[perm_[d]] = d;
    (void)in;
    return {o::transpose(gouts[0], inverse)};
  }

 private:
  std::vector<std::size_t> resolved(std::size_t rank) const {
    if (!perm_.empty()) return perm_;
    std::vector<std::size_t> p(rank);
    for (std::size_t i = 0; i < rank; ++i) p[i] = rank - 1 - i;
    return p;
  }
  // Iterates over out (operand 0, written contiguously); operand 1 reads x with
  // permuted strides.
  void plan(const Tensor& x, const Tensor& out) {
    const std::size_t rank = x.dimension();
    row_major_strides(x.shape(), x_strides_);
    loop_.reset(out.shape());
    loop_.set_broadcast(0, out.shape());
    auto& s = loop_.strides(1);
    for (std::size_t i = 0; i < rank; ++i) {
      s[i] = x_strides_[perm_.empty() ? rank - 1 - i : perm_[i]];
    }
  }

  std::vector<std::size_t> perm_;
  std::vector<std::ptrdiff_t> x_strides_, out_strides_;
  StridedLoop<2> loop_;
};

// ---- concatenate ---------------------------------------------------------------------
// [.., a_i, ..] (any number) -> [.., sum a_i, ..] along axis; the VJP splits g.
class Concatenate final : public Kernel {
 public:
  explicit Concatenate(Dim axis) : axis_(axis) {}
  std::string name() const override { return "concatenate"; }
  std::size_t num_inputs() const override { return 0; }

  Shape output_shape(ShapeRefs in) const override {
    if (in.empty()) throw Error("concatenate: needs at least one input");
    const std::size_t axis = normalize_axis(axis_, in[0].size(), "concatenate");
    std::size_t bad = 0;
    if (auto out = concatenated(in, axis, &bad)) return *out;
    throw Error(
        "concatenate: input {} has shape {}, which does not match input 0's shape {} "
        "except along axis {}",
        bad, shape_str(in[bad]), shape_str(in[0]), axis_);
  }

  void forward(TensorRefs in, Tensor& out, const Context&) override {
    const std::size_t axis = normalize_axis(axis_, out.dimension(), "concatenate");
    const std::size_t outer = product(out.shape(), 0, axis);
    const std::size_t row = product(out.shape(), axis, out.dimension());
    float* o = out.data();
    std::size_t offset = 0;
    for (const Tensor* x : in) {
      const std::size_t chunk = product(x->shape(), axis, x->dimension());
      const float* px = x->data();
      for (std::size_t r = 0; r < outer; ++r) {
        std::copy(px + r * chunk, px + (r + 1) * chunk, o + r * row + offset);
      }
      offset += chunk;
    }
  }
  void backward(TensorRefs in, const Tensor& out, const Tensor& gout, GradRefs gin,
                const Context&) override {
    const std::size_t axis = normalize_axis(axis_, out.dimension(), "concatenate");
    const std::size_t outer = product(out.shape(), 0, axis);
    const std::size_t row = product(out.shape(), axis, out.dimension());
    const float* g = gout.data();
    std::size_t offset = 0;
    for (std::size_t k = 0; k < in.size(); ++k) {
      const std::size_t chunk = product(in[k]->shape(), axis, in[k]->dimension());
      if (gin[k]) {
        float* gx = gin[k]->data();
        for (std::size_t r = 0; r < outer; ++r) {
          const float* gs = g + r * row + offset;
          float* gd = gx + r * chunk;
          for (std::size_t i = 0; i < chunk; ++i) gd[i] += gs[i];
        }
      }
      offset += chunk;
    }
  }
  KernelPtr clone() const override { return std::make_shared<Concatenate>(axis_); }
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>& outs,
                               const std::vector<ST>& gouts) const override {
    (void)outs;
    const std::size_t axis = normalize_axis(axis_, in[0].rank(), "concatenate");
    std::vector<ST> grads;
    Dim start = 0;
    for (const ST& x : in) {
      const Dim len = x.shape()[axis];
      if (len < 0) return {};
      grads.push_back(o::slice(gouts[0], Dim(axis), start, start + len));
      start += len;
    }
    return grads;
  }

 private:
  Dim axis_;
};

// ---- slice ---------------------------------------------------------------------------
// [.., n, ..] -> [.., stop - start, ..]: x[..., start:stop, ...] along axis. Negative
// start/stop count from the end; the range must be non-empty and inside [0, n].
class Slice final : public Kernel {
 public:
  Slice(Dim axis, Dim start, Dim stop) : axis_(axis), start_(start), stop_(stop) {}
  std::string name() const override { return "slice"; }
  std::size_t num_inputs() const override { return 1; }

  Shape output_shape(ShapeRefs in) const override {
    check_arity("slice", in, 1);
    const std::size_t axis = normalize_axis(axis_, in[0].size(), "slice");
    Shape out = in[0];
    const Dim n = out[axis];
    if (n >= 0) {
      const auto [s, e] = resolve(n, in[0]);
      out[axis] = e - s;
    } else if ((start_ >= 0) == (stop_ >= 0)) {
      if (start_ >= stop_) throw range_error(in[0]);
      out[axis] = stop_ - start_;
    } else {
      out[axis] = -1;  // depends on the unknown size
    }
    return out;
  }

  void forward(TensorRefs in, Tensor& out, const Context&) override {
    const Geometry g = geometry(*in[0]);
    const float* x = in[0]->data();
    float* o = out.data();
    for (std::size_t r = 0; r < g.outer; ++r) {
      const float* src = x + (r * g.n + g.start) * g.inner;
      std::copy(src, src + g.len * g.inner, o + r * g.len * g.inner);
    }
  }
  void backward(TensorRefs in, const Tensor&, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (!gin[0]) return;
    const Geometry g = geometry(*in[0]);
    float* gx = gin[0]->data();
    const float* go = gout.data();
    const std::size_t block = g.len * g.inner;
    for (std::size_t r = 0; r < g.outer; ++r) {
      float* dst = gx + (r * g.n + g.start) * g.inner;
      const float* src = go + r * block;
      for (std::size_t i = 0; i < block; ++i) dst[i] += src[i];
    }
  }
  KernelPtr clone() const override { return std::make_shared<Slice>(axis_, start_, stop_); }
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>& outs,
                               const std::vector<ST>& gouts) const override {
    (void)outs;
    const std::size_t axis = normalize_axis(axis_, in[0].rank(), "slice");
    const Dim n = in[0].shape()[axis];
    if (n < 0) return {};
    const Dim s = start_ < 0 ? start_ + n : start_, e = stop_ < 0 ? stop_ + n : std::min(stop_, n);
    std::vector<std::pair<Dim, Dim>> pads(in[0].rank(), {0, 0});
    pads[axis] = {s, n - e};
    return {o::pad(gouts[0], pads)};
  }

 private:
  struct Geometry {
    std::size_t outer, n, inner, start, len;
  };
  Geometry geometry(const Tensor& x) const {
    const AroundAxis a = around_axis(x, axis_, "slice");
    const Dim s = start_ < 0 ? start_ + static_cast<Dim>(a.n) : start_;
    const Dim e = stop_ < 0 ? stop_ + static_cast<Dim>(a.n) : stop_;
    return {a.outer, a.n, a.inner, static_cast<std::size_t>(s), static_cast<std::size_t>(e - s)};
  }
  std::pair<Dim, Dim> resolve(Dim n, const Shape& x) const {
    const Dim s = start_ < 0 ? start_ + n : start_;
    const Dim e = stop_ < 0 ? stop_ + n : stop_;
    if (s < 0 || e > n || s >= e) throw range_error(x);
    return {s, e};
  }
  Error range_error(const Shape& x) const {
    return Error("slice: [{}, {}) is empty or out of range for axis {} of shape {}", start_, stop_,
                 axis_, shape_str(x));
  }
  Dim axis_, start_, stop_;
};

// ---- gather --------------------------------------------------------------------------
// x [pre.., n, post..], indices [i..] -> [pre.., i.., post..]: out[p, k, q] = x[p, idx[k], q]
// (an embedding lookup is gather(table, ids, 0)). VJP scatter-adds into x's rows.
class Gather final : public Kernel {
 public:
  explicit Gather(Dim axis) : axis_(axis) {}
  std::string name() const override { return "gather"; }
  std::size_t num_inputs() const override { return 2; }

  Shape output_shape(ShapeRefs in) const override {
    check_arity("gather", in, 2);
    const Shape& x = in[0];
    const std::size_t axis = normalize_axis(axis_, x.size(), "gather");
    Shape out(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(axis));
    out.insert(out.end(), in[1].begin(), in[1].end());
    out.insert(out.end(), x.begin() + static_cast<std::ptrdiff_t>(axis) + 1, x.end());
    return out;
  }

  void forward(TensorRefs in, Tensor& out, const Context&) override {
    const Tensor& x = *in[0];
    const Tensor& indices = *in[1];
    const auto [axis, outer, n, inner] = around_axis(x, axis_, "gather");
    const std::size_t m = indices.size();
    const float* idx = indices.data();
    for (std::size_t k = 0; k < m; ++k) checked_index(idx[k], n, "gather", axis);
    const float* px = x.data();
    float* o = out.data();
    for (std::size_t r = 0; r < outer; ++r) {
      for (std::size_t k = 0; k < m; ++k) {
        const float* src = px + (r * n + static_cast<std::size_t>(idx[k])) * inner;
        std::copy(src, src + inner, o + (r * m + k) * inner);
      }
    }
  }
  void backward(TensorRefs in, const Tensor&, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (!gin[0]) return;  // indices get no gradient
    const auto [axis, outer, n, inner] = around_axis(*in[0], axis_, "gather");
    const std::size_t m = in[1]->size();
    const float* idx = in[1]->data();
    const float* g = gout.data();
    float* gx = gin[0]->data();
    for (std::size_t r = 0; r < outer; ++r) {
      for (std::size_t k = 0; k < m; ++k) {
        float* dst = gx + (r * n + static_cast<std::size_t>(idx[k])) * inner;
        const float* src = g + (r * m + k) * inner;
        for (std::size_t i = 0; i < inner; ++i) dst[i] += src[i];
      }
    }
  }
  KernelPtr clone() const override { return std::make_shared<Gather>(axis_); }
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>& outs,
                               const std::vector<ST>& gouts) const override {
    (void)outs;
    return {o::apply(scatter_add_like(axis_), {gouts[0], in[1], in[0]}), ST()};
  }

 private:
  Dim axis_;
};

// ---- take_along_axis -----------------------------------------------------------------
// x [pre.., n, post..], indices [pre.., post..] -> [pre.., post..]:
// out[p, q] = x[p, idx[p, q], q] (sparse categorical cross-entropy picks the true class's
// log-probability this way). VJP scatter-adds g into the picked entries.
class TakeAlongAxis final : public Kernel {
 public:
  explicit TakeAlongAxis(Dim axis) : axis_(axis) {}
  std::string name() const override { return "take_along_axis"; }
  std::size_t num_inputs() const override { return 2; }

  Shape output_shape(ShapeRefs in) const override {
    check_arity("take_along_axis", in, 2);
    const Shape& x = in[0];
    const Shape& idx = in[1];
    const std::size_t axis = normalize_axis(axis_, x.size(), "take_along_axis");
    Shape out = idx;
    bool ok = idx.size() + 1 == x.size();
    for (std::size_t d = 0; ok && d < idx.size(); ++d) {
      const Dim xd = x[d < axis ? d : d + 1];
      ok = xd < 0 || idx[d] < 0 || xd == idx[d];
      if (ok && out[d] < 0) out[d] = xd;
    }
    if (!ok) {
      throw Error(
          "take_along_axis: indices of shape {} must have the shape of x {} without axis {}",
          shape_str(idx), shape_str(x), axis_);
    }
    return out;
  }

  void forward(TensorRefs in, Tensor& out, const Context&) override {
    const Tensor& x = *in[0];
    const auto [axis, outer, n, inner] = around_axis(x, axis_, "take_along_axis");
    const float* idx = in[1]->data();
    const float* px = x.data();
    float* o = out.data();
    for (std::size_t r = 0; r < outer; ++r) {
      for (std::size_t q = 0; q < inner; ++q) {
        const std::size_t p = r * inner + q;
        const std::size_t j = checked_index(idx[p], n, "take_along_axis", axis);
        o[p] = px[(r * n + j) * inner + q];
      }
    }
  }
  void backward(TensorRefs in, const Tensor&, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (!gin[0]) return;  // indices get no gradient
    const auto [axis, outer, n, inner] = around_axis(*in[0], axis_, "take_along_axis");
    const float* idx = in[1]->data();
    const float* g = gout.data();
    float* gx = gin[0]->data();
    for (std::size_t r = 0; r < outer; ++r) {
      for (std::size_t q = 0; q < inner; ++q) {
        const std::size_t p = r * inner + q;
        gx[(r * n + static_cast<std::size_t>(idx[p])) * inner + q] += g[p];
      }
    }
  }
  KernelPtr clone() const override { return std::make_shared<TakeAlongAxis>(axis_); }
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>& outs,
                               const std::vector<ST>& gouts) const override {
    (void)outs;
    const Dim axis = Dim(normalize_axis(axis_, in[0].rank(), "take_along_axis"));
    return {o::apply(take_along_scatter(axis),
                     {o::expand_dims(gouts[0], axis), o::expand_dims(in[1], axis), in[0]}),
            ST()};
  }

 private:
  Dim axis_;
};

// Pieces of `sizes_` along the axis, one output each (the multi-output primitive).
class Split final : public MultiKernel {
 public:
  Split(std::vector<Dim> sizes, Dim axis) : sizes_(std::move(sizes)), axis_(axis) {
    if (sizes_.size() < 2) throw Error("split: needs at least 2 sizes, received {}", sizes_.size());
    for (Dim d : sizes_) {
      if (d <= 0) throw Error("split: sizes must be positive, received [{}]", join(sizes_));
    }
  }
  std::string name() const override { return "split"; }
  std::size_t num_inputs() const override { return 1; }
  std::size_t num_outputs() const override { return sizes_.size(); }

  std::vector<Shape> output_shapes(ShapeRefs in) const override {
    check_arity("split", in, 1);
    const std::size_t axis = normalize_axis(axis_, in[0].size(), "split");
    Dim total = 0;
    for (Dim d : sizes_) total += d;
    if (in[0][axis] >= 0 && in[0][axis] != total) {
      throw Error("split: sizes [{}] add up to {}, but axis {} of input {} has {}", join(sizes_),
                  total, axis_, shape_str(in[0]), in[0][axis]);
    }
    std::vector<Shape> out;
    for (Dim d : sizes_) {
      Shape s = in[0];
      s[axis] = d;
      out.push_back(std::move(s));
    }
    return out;
  }
  void forward_all(TensorRefs in, std::span<Tensor* const> outs, const Context&) override {
    const Geometry g = geometry(*in[0]);
    const float* x = in[0]->data();
    std::size_t start = 0;
    for (std::size_t k = 0; k < sizes_.size(); ++k) {
      const std::size_t len = static_cast<std::size_t>(sizes_[k]) * g.inner;
      float* o = outs[k]->data();
      for (std::size_t r = 0; r < g.outer; ++r) {
        const float* src = x + r * g.n * g.inner + start;
        std::copy(src, src + len, o + r * len);
      }
      start += len;
    }
  }
  void backward_all(TensorRefs in, TensorRefs, TensorRefs gouts, GradRefs gin,
                    const Context&) override {
    if (!gin[0]) return;
    const Geometry g = geometry(*in[0]);
    float* gx = gin[0]->data();
    std::size_t start = 0;
    for (std::size_t k = 0; k < sizes_.size(); ++k) {
      const std::size_t len = static_cast<std::size_t>(sizes_[k]) * g.inner;
      const float* go = gouts[k]->data();
      for (std::size_t r = 0; r < g.outer; ++r) {
        float* dst = gx + r * g.n * g.inner + start;
        const float* src = go + r * len;
        for (std::size_t i = 0; i < len; ++i) dst[i] += src[i];
      }
      start += len;
    }
  }
  KernelPtr clone() const override { return std::make_shared<Split>(sizes_, axis_); }
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>& outs,
                               const std::vector<ST>& gouts) const override {
    (void)in;
    (void)outs;
    return {o::concatenate(gouts, axis_)};
  }

 private:
  struct Geometry {
    std::size_t outer, n, inner;
  };
  Geometry geometry(const Tensor& x) const {
    const std::size_t axis = normalize_axis(axis_, x.dimension(), "split");
    Geometry g{1, x.shape()[axis], 1};
    for (std::size_t d = 0; d < axis; ++d) g.outer *= x.shape()[d];
    for (std::size_t d = axis + 1; d < x.dimension(); ++d) g.inner *= x.shape()[d];
    return g;
  }
  std::vector<Dim> sizes_;
  Dim axis_;
};

}  // namespace

KernelPtr reshape(Shape target) { return std::make_shared<Reshape>(std::move(target)); }
KernelPtr reshape_like(std::size_t lead, Shape tail) {
  return std::make_shared<ReshapeLike>(lead, std::move(tail));
}
KernelPtr transpose(std::vector<std::size_t> perm) {
  return std::make_shared<Transpose>(std::move(perm));
}
KernelPtr concatenate(Dim axis) { return std::make_shared<Concatenate>(axis); }
KernelPtr slice(Dim axis, Dim start, Dim stop) {
  return std::make_shared<Slice>(axis, start, stop);
}
KernelPtr gather(Dim axis) { return std::make_shared<Gather>(axis); }
KernelPtr split(std::vector<Dim> sizes, Dim axis) {
  return std::make_shared<Split>(std::move(sizes), axis);
}
KernelPtr take_along_axis(Dim axis) { return std::make_shared<TakeAlongAxis>(axis); }

}  // namespace plexus::kernels
