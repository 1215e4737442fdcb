// Kernels that gradients are built from (expand_like / reduce_like, scatters) and the
// keras.ops extras that need a loop of their own (cumsum, arg max/min, top-k, einsum).
// Each pair of linear kernels is closed under the VJP (expand_like <-> reduce_like,
// gather <-> scatter_add_like, take_along <-> take_along_scatter, cumsum <-> reversed
// cumsum, einsum <-> einsum), so gradients built from them can be differentiated again.
#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>

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

template <typename S>
std::size_t product(const S& shape, std::size_t from, std::size_t to) {
  std::size_t p = 1;
  for (std::size_t d = from; d < to; ++d) p *= static_cast<std::size_t>(shape[d]);
  return p;
}

struct AroundAxis {
  std::size_t axis, outer, n, inner;
};
template <typename S>
AroundAxis around(const S& shape, Dim axis, const char* op) {
  const std::size_t a = normalize_axis(axis, shape.size(), op);
  return {a, product(shape, 0, a), static_cast<std::size_t>(shape[a]),
          product(shape, a + 1, shape.size())};
}

std::size_t checked_index(float v, std::size_t n, const char* op) {
  if (!(v >= 0.0f && v < static_cast<float>(n)) || v != std::floor(v)) {
    throw Error("{}: index {} is out of range (or not an integer) for an axis of size {}", op, v,
                n);
  }
  return static_cast<std::size_t>(v);
}

// The shape of `small` aligned with `big` (rank big.size()): 1s inserted at `axes`, or
// leading 1s. Throws unless every dimension is 1 or agrees (unknown ones agree).
Shape expanded(const char* op, const Shape& small, const Shape& big, const std::vector<Dim>& axes) {
  Shape e;
  if (small.size() == big.size()) {
    e = small;
  } else if (!axes.empty() && small.size() + axes.size() == big.size()) {
    std::vector<bool> at(big.size(), false);
    for (Dim a : axes) at[normalize_axis(a, big.size(), op)] = true;
    std::size_t k = 0;
    for (std::size_t d = 0; d < big.size(); ++d) e.push_back(at[d] ? 1 : small[k++]);
  } else if (small.size() < big.size()) {
    e.assign(big.size() - small.size(), 1);
    e.insert(e.end(), small.begin(), small.end());
  } else {
    throw Error("{}: shape {} cannot be broadcast to shape {}", op, shape_str(small),
                shape_str(big));
  }
  for (std::size_t d = 0; d < e.size(); ++d) {
    if (e[d] != 1 && e[d] >= 0 && big[d] >= 0 && e[d] != big[d]) {
      throw Error("{}: shape {} cannot be broadcast to shape {}", op, shape_str(small),
                  shape_str(big));
    }
  }
  return e;
}

// Element strides of `small`'s data along `big`'s axes (0 where small is broadcast).
void broadcast_strides(const char* op, const Tensor& small, const Tensor& big,
                       const std::vector<Dim>& axes, std::vector<std::ptrdiff_t>& strides) {
  const Shape e = expanded(op, shape_of(small), shape_of(big), axes);
  row_major_strides(e, strides);
  for (std::size_t d = 0; d < e.size(); ++d) {
    if (e[d] == 1) strides[d] = 0;
  }
}

// ---- expand_like / reduce_like ---------------------------------------------------------
class ExpandLike final : public Kernel {
 public:
  ExpandLike(std::vector<Dim> axes, bool mean) : axes_(std::move(axes)), mean_(mean) {}
  std::string name() const override { return "expand_like"; }
  std::size_t num_inputs() const override { return 2; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity("expand_like", in, 2);
    expanded("expand_like", in[0], in[1], axes_);
    return in[1];
  }
  void forward(TensorRefs in, Tensor& out, const Context&) override {
    const float scale =
        mean_ ? float(in[0]->size()) / float(std::max<std::size_t>(out.size(), 1)) : 1.0f;
    plan(*in[0], out);
    const float* x = in[0]->data();
    float* y = out.data();
    loop_.run([&](const auto& base, std::size_t n, const auto& step) {
      for (std::size_t i = 0; i < n; ++i) {
        y[base[0] + std::ptrdiff_t(i)] = x[base[1] + std::ptrdiff_t(i) * step[1]] * scale;
      }
    });
  }
  void backward(TensorRefs in, const Tensor& out, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (!gin[0]) return;
    const float scale =
        mean_ ? float(in[0]->size()) / float(std::max<std::size_t>(out.size(), 1)) : 1.0f;
    plan(*in[0], out);
    const float* g = gout.data();
    float* gx = gin[0]->data();
    loop_.run([&](const auto& base, std::size_t n, const auto& step) {
      for (std::size_t i = 0; i < n; ++i) {
        gx[base[1] + std::ptrdiff_t(i) * step[1]] += g[base[0] + std::ptrdiff_t(i)] * scale;
      }
    });
  }
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>&,
                               const std::vector<ST>& gouts) const override {
    return {o::detail::reduce_like(gouts[0], in[0], axes_, mean_), ST()};
  }
  KernelPtr clone() const override { return std::make_shared<ExpandLike>(axes_, mean_); }

 private:
  void plan(const Tensor& x, const Tensor& out) {
    broadcast_strides("expand_like", x, out, axes_, strides_);
    loop_.reset(out.shape());
    loop_.set_broadcast(0, out.shape());
    loop_.set_strides(1, strides_);
  }
  std::vector<Dim> axes_;
  bool mean_;
  std::vector<std::ptrdiff_t> strides_;
  StridedLoop<2> loop_;
};

class ReduceLike final : public Kernel {
 public:
  ReduceLike(std::vector<Dim> axes, bool mean) : axes_(std::move(axes)), mean_(mean) {}
  std::string name() const override { return "reduce_like"; }
  std::size_t num_inputs() const override { return 2; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity("reduce_like", in, 2);
    expanded("reduce_like", in[1], in[0], axes_);
    return in[1];
  }
  void forward(TensorRefs in, Tensor& out, const Context&) override {
    const float scale = scale_of(*in[0], out);
    plan(*in[0], out);
    out.fill(0.0f);
    const float* g = in[0]->data();
    float* y = out.data();
    loop_.run([&](const auto& base, std::size_t n, const auto& step) {
      for (std::size_t i = 0; i < n; ++i) {
        y[base[1] + std::ptrdiff_t(i) * step[1]] += g[base[0] + std::ptrdiff_t(i)] * scale;
      }
    });
  }
  void backward(TensorRefs in, const Tensor& out, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (!gin[0]) return;
    const float scale = scale_of(*in[0], out);
    plan(*in[0], out);
    const float* u = gout.data();
    float* gg = gin[0]->data();
    loop_.run([&](const auto& base, std::size_t n, const auto& step) {
      for (std::size_t i = 0; i < n; ++i) {
        gg[base[0] + std::ptrdiff_t(i)] += u[base[1] + std::ptrdiff_t(i) * step[1]] * scale;
      }
    });
  }
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>&,
                               const std::vector<ST>& gouts) const override {
    return {o::detail::expand_like(gouts[0], in[0], axes_, mean_), ST()};
  }
  KernelPtr clone() const override { return std::make_shared<ReduceLike>(axes_, mean_); }

 private:
  float scale_of(const Tensor& g, const Tensor& out) const {
    return mean_ ? float(out.size()) / float(std::max<std::size_t>(g.size(), 1)) : 1.0f;
  }
  void plan(const Tensor& g, const Tensor& out) {
    broadcast_strides("reduce_like", out, g, axes_, strides_);
    loop_.reset(g.shape());
    loop_.set_broadcast(0, g.shape());
    loop_.set_strides(1, strides_);
  }
  std::vector<Dim> axes_;
  bool mean_;
  std::vector<std::ptrdiff_t> strides_;
  StridedLoop<2> loop_;
};

// ---- fill_like, stop_gradient ------------------------------------------------------------
class FillLike final : public Kernel {
 public:
  explicit FillLike(float value) : value_(value) {}
  std::string name() const override { return "fill_like"; }
  std::size_t num_inputs() const override { return 1; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity("fill_like", in, 1);
    return in[0];
  }
  void forward(TensorRefs, Tensor& out, const Context&) override { out.fill(value_); }
  void backward(TensorRefs, const Tensor&, const Tensor&, GradRefs, const Context&) override {}
  std::vector<ST> symbolic_vjp(const std::vector<ST>&, const std::vector<ST>&,
                               const std::vector<ST>&) const override {
    return {ST()};
  }
  KernelPtr clone() const override { return std::make_shared<FillLike>(value_); }

 private:
  float value_;
};

class StopGradient final : public Kernel {
 public:
  std::string name() const override { return "stop_gradient"; }
  std::size_t num_inputs() const override { return 1; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity("stop_gradient", in, 1);
    return in[0];
  }
  void forward(TensorRefs in, Tensor& out, const Context&) override {
    std::copy(in[0]->begin(), in[0]->end(), out.begin());
  }
  void backward(TensorRefs, const Tensor&, const Tensor&, GradRefs, const Context&) override {}
  std::vector<ST> symbolic_vjp(const std::vector<ST>&, const std::vector<ST>&,
                               const std::vector<ST>&) const override {
    return {ST()};
  }
  KernelPtr clone() const override { return std::make_shared<StopGradient>(); }
};

// ---- scatter_add_like (gather's VJP) -------------------------------------------------------
class ScatterAddLike final : public Kernel {
 public:
  explicit ScatterAddLike(Dim axis) : axis_(axis) {}
  std::string name() const override { return "scatter_add_like"; }
  std::size_t num_inputs() const override { return 3; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity("scatter_add_like", in, 3);
    return in[2];
  }
  void forward(TensorRefs in, Tensor& out, const Context&) override {
    out.fill(0.0f);
    const auto [axis, outer, n, inner] = around(out.shape(), axis_, "scatter_add_like");
    const std::size_t m = in[1]->size();
    check(*in[0], outer * m * inner);
    const float* idx = in[1]->data();
    for (std::size_t k = 0; k < m; ++k) checked_index(idx[k], n, "scatter_add_like");
    const float* g = in[0]->data();
    float* y = out.data();
    for (std::size_t r = 0; r < outer; ++r)
      for (std::size_t k = 0; k < m; ++k) {
        float* dst = y + (r * n + std::size_t(idx[k])) * inner;
        const float* src = g + (r * m + k) * inner;
        for (std::size_t i = 0; i < inner; ++i) dst[i] += src[i];
      }
  }
  void backward(TensorRefs in, const Tensor& out, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (!gin[0]) return;
    const auto [axis, outer, n, inner] = around(out.shape(), axis_, "scatter_add_like");
    const std::size_t m = in[1]->size();
    const float* idx = in[1]->data();
    const float* u = gout.data();
    float* gg = gin[0]->data();
    for (std::size_t r = 0; r < outer; ++r)
      for (std::size_t k = 0; k < m; ++k) {
        const float* src = u + (r * n + std::size_t(idx[k])) * inner;
        float* dst = gg + (r * m + k) * inner;
        for (std::size_t i = 0; i < inner; ++i) dst[i] += src[i];
      }
  }
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>&,
                               const std::vector<ST>& gouts) const override {
    return {o::gather(gouts[0], in[1], axis_), ST(), ST()};
  }
  KernelPtr clone() const override { return std::make_shared<ScatterAddLike>(axis_); }

 private:
  static void check(const Tensor& g, std::size_t want) {
    if (g.size() != want) {
      throw Error("scatter_add_like: the gradient has {} elements, expected {}", g.size(), want);
    }
  }
  Dim axis_;
};

// ---- take_along (NumPy take_along_axis) and its scatter ------------------------------------
Shape take_along_shape(const char* op, const Shape& x, const Shape& idx, Dim axis_) {
  const std::size_t axis = normalize_axis(axis_, x.size(), op);
  bool ok = idx.size() == x.size();
  Shape out = idx;
  for (std::size_t d = 0; ok && d < x.size(); ++d) {
    if (d == axis) continue;
    ok = x[d] < 0 || idx[d] < 0 || x[d] == idx[d];
    if (ok && out[d] < 0) out[d] = x[d];
  }
  if (!ok) {
    throw Error("{}: indices of shape {} must have the rank of x {} and its sizes off axis {}", op,
                shape_str(idx), shape_str(x), axis_);
  }
  return out;
}

template <bool kScatter>
class TakeAlong final : public Kernel {
 public:
  explicit TakeAlong(Dim axis) : axis_(axis) {}
  std::string name() const override { return kScatter ? "take_along_scatter" : "take_along"; }
  std::size_t num_inputs() const override { return kScatter ? 3 : 2; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity(name(), in, num_inputs());
    if constexpr (kScatter) {
      take_along_shape("take_along_scatter", in[2], in[1], axis_);
      return in[2];
    } else {
      return take_along_shape("take_along", in[0], in[1], axis_);
    }
  }
  // x [outer, n, inner] and indices [outer, m, inner]: calls f(x offset, index offset).
  template <typename F>
  void each(const Tensor& x, const Tensor& idx, F&& f) const {
    const auto [axis, outer, n, inner] = around(x.shape(), axis_, name().c_str());
    const std::size_t m = idx.shape()[axis];
    const float* pi = idx.data();
    for (std::size_t r = 0; r < outer; ++r)
      for (std::size_t j = 0; j < m; ++j)
        for (std::size_t q = 0; q < inner; ++q) {
          const std::size_t p = (r * m + j) * inner + q;
          const std::size_t k = checked_index(pi[p], n, "take_along_axis");
          f((r * n + k) * inner + q, p);
        }
  }
  void forward(TensorRefs in, Tensor& out, const Context&) override {
    if constexpr (kScatter) {
      out.fill(0.0f);
      const float* g = in[0]->data();
      float* y = out.data();
      each(out, *in[1], [&](std::size_t xi, std::size_t p) { y[xi] += g[p]; });
    } else {
      const float* x = in[0]->data();
      float* y = out.data();
      each(*in[0], *in[1], [&](std::size_t xi, std::size_t p) { y[p] = x[xi]; });
    }
  }
  void backward(TensorRefs in, const Tensor& out, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (!gin[0]) return;
    const float* u = gout.data();
    float* gx = gin[0]->data();
    if constexpr (kScatter) {
      each(out, *in[1], [&](std::size_t xi, std::size_t p) { gx[p] += u[xi]; });
    } else {
      each(*in[0], *in[1], [&](std::size_t xi, std::size_t p) { gx[xi] += u[p]; });
    }
  }
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>&,
                               const std::vector<ST>& gouts) const override {
    if constexpr (kScatter) {
      return {o::apply(take_along(axis_), {gouts[0], in[1]}), ST(), ST()};
    } else {
      return {o::apply(take_along_scatter(axis_), {gouts[0], in[1], in[0]}), ST()};
    }
  }
  KernelPtr clone() const override { return std::make_shared<TakeAlong>(axis_); }

 private:
  Dim axis_;
};

// ---- cumsum ------------------------------------------------------------------------------
class Cumsum final : public Kernel {
 public:
  Cumsum(Dim axis, bool reverse) : axis_(axis), reverse_(reverse) {}
  std::string name() const override { return "cumsum"; }
  std::size_t num_inputs() const override { return 1; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity("cumsum", in, 1);
    normalize_axis(axis_, in[0].size(), "cumsum");
    return in[0];
  }
  static void scan(const float* x, float* y, const Tensor& t, Dim axis, bool reverse, bool add) {
    const auto [a, outer, n, inner] = around(t.shape(), axis, "cumsum");
    for (std::size_t r = 0; r < outer; ++r)
      for (std::size_t q = 0; q < inner; ++q) {
        double acc = 0;
        for (std::size_t s = 0; s < n; ++s) {
          const std::size_t j = reverse ? n - 1 - s : s;
          const std::size_t p = (r * n + j) * inner + q;
          acc += x[p];
          y[p] = add ? y[p] + float(acc) : float(acc);
        }
      }
  }
  void forward(TensorRefs in, Tensor& out, const Context&) override {
    scan(in[0]->data(), out.data(), out, axis_, reverse_, false);
  }
  void backward(TensorRefs, const Tensor& out, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (gin[0]) scan(gout.data(), gin[0]->data(), out, axis_, !reverse_, true);
  }
  std::vector<ST> symbolic_vjp(const std::vector<ST>&, const std::vector<ST>&,
                               const std::vector<ST>& gouts) const override {
    return {o::apply(cumsum(axis_, !reverse_), {gouts[0]})};
  }
  KernelPtr clone() const override { return std::make_shared<Cumsum>(axis_, reverse_); }

 private:
  Dim axis_;
  bool reverse_;
};

// ---- argmax / argmin -----------------------------------------------------------------------
class ArgReduce final : public Kernel {
 public:
  ArgReduce(Dim axis, bool max, bool keepdims) : axis_(axis), max_(max), keepdims_(keepdims) {}
  std::string name() const override { return max_ ? "argmax" : "argmin"; }
  std::size_t num_inputs() const override { return 1; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity(name(), in, 1);
    Shape s = in[0];
    const std::size_t a = normalize_axis(axis_, s.size(), name().c_str());
    if (keepdims_) {
      s[a] = 1;
    } else {
      s.erase(s.begin() + std::ptrdiff_t(a));
    }
    return s;
  }
  void forward(TensorRefs in, Tensor& out, const Context&) override {
    const auto [a, outer, n, inner] = around(in[0]->shape(), axis_, "argmax");
    const float* x = in[0]->data();
    float* y = out.data();
    for (std::size_t r = 0; r < outer; ++r)
      for (std::size_t q = 0; q < inner; ++q) {
        std::size_t best = 0;
        for (std::size_t j = 1; j < n; ++j) {
          const float v = x[(r * n + j) * inner + q], b = x[(r * n + best) * inner + q];
          if (max_ ? v > b : v < b) best = j;
        }
        y[r * inner + q] = float(best);
      }
  }
  void backward(TensorRefs, const Tensor&, const Tensor&, GradRefs, const Context&) override {}
  std::vector<ST> symbolic_vjp(const std::vector<ST>&, const std::vector<ST>&,
                               const std::vector<ST>&) const override {
    return {ST()};
  }
  KernelPtr clone() const override { return std::make_shared<ArgReduce>(axis_, max_, keepdims_); }

 private:
  Dim axis_;
  bool max_, keepdims_;
};

// ---- top-k indices -------------------------------------------------------------------------
class TopKIndices final : public Kernel {
 public:
  explicit TopKIndices(Dim k) : k_(k) {
    if (k < 1) throw Error("top_k: k must be at least 1, received {}", k);
  }
  std::string name() const override { return "top_k_indices"; }
  std::size_t num_inputs() const override { return 1; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity("top_k", in, 1);
    if (in[0].empty()) throw Error("top_k: expected a tensor of rank >= 1, received a scalar");
    Shape s = in[0];
    if (s.back() >= 0 && s.back() < k_) {
      throw Error("top_k: k = {} exceeds the last axis of shape {}", k_, shape_str(in[0]));
    }
    s.back() = k_;
    return s;
  }
  void forward(TensorRefs in, Tensor& out, const Context&) override {
    const std::size_t n = in[0]->shape().back(), k = std::size_t(k_);
    const std::size_t rows = n == 0 ? 0 : in[0]->size() / n;
    order_.resize(n);
    for (std::size_t r = 0; r < rows; ++r) {
      const float* x = in[0]->data() + r * n;
      std::iota(order_.begin(), order_.end(), std::size_t{0});
      std::partial_sort(
          order_.begin(), order_.begin() + std::ptrdiff_t(k), order_.end(),
          [x](std::size_t a, std::size_t b) { return x[a] > x[b] || (x[a] == x[b] && a < b); });
      for (std::size_t j = 0; j < k; ++j) out.data()[r * k + j] = float(order_[j]);
    }
  }
  void backward(TensorRefs, const Tensor&, const Tensor&, GradRefs, const Context&) override {}
  std::vector<ST> symbolic_vjp(const std::vector<ST>&, const std::vector<ST>&,
                               const std::vector<ST>&) const override {
    return {ST()};
  }
  KernelPtr clone() const override { return std::make_shared<TopKIndices>(k_); }

 private:
  Dim k_;
  std::vector<std::size_t> order_;
};

// ---- einsum ----------------------------------------------------------------------------------
struct EinsumSpec {
  std::vector<std::string> inputs;
  std::string output;
};
EinsumSpec parse_einsum(const std::string& spec) {
  EinsumSpec s;
  const auto arrow = spec.find("->");
  if (arrow == std::string::npos) {
    throw Error("einsum: \"{}\" must be explicit (\"ij,jk->ik\"); the implicit form is not read",
                spec);
  }
  std::string lhs = spec.substr(0, arrow);
  s.output = spec.substr(arrow + 2);
  std::string cur;
  for (char c : lhs + ",") {
    if (c == ' ') continue;
    if (c == ',') {
      s.inputs.push_back(cur);
      cur.clear();
    } else if (std::isalpha(static_cast<unsigned char>(c))) {
      cur += c;
    } else {
      throw Error("einsum: \"{}\": only letters are read (no ellipsis), found '{}'", spec, c);
    }
  }
  std::erase(s.output, ' ');
  if (s.inputs.empty() || s.inputs.size() > 2) {
    throw Error("einsum: \"{}\" has {} operands; plexus reads one or two", spec, s.inputs.size());
  }
  for (const auto& t : s.inputs) {
    for (char c : t)
      if (std::count(t.begin(), t.end(), c) > 1)
        throw Error("einsum: \"{}\": a label repeated within one operand is not read", spec);
  }
  for (char c : s.output) {
    bool found = std::count(s.output.begin(), s.output.end(), c) == 1;
    bool in_input = false;
    for (const auto& t : s.inputs) in_input = in_input || t.find(c) != std::string::npos;
    if (!found || !in_input) {
      throw Error("einsum: \"{}\": output label '{}' must appear once and in an input", spec, c);
    }
  }
  return s;
}

class Einsum final : public Kernel {
 public:
  explicit Einsum(std::string spec) : spec_(std::move(spec)), parsed_(parse_einsum(spec_)) {
    for (const auto& t : parsed_.inputs)
      for (char c : t)
        if (labels_.find(c) == std::string::npos) labels_ += c;
  }
  std::string name() const override { return "einsum"; }
  std::size_t label(char ch) const {
    const std::size_t l = labels_.find(ch);
    if (l >= labels_.size()) throw Error("einsum \"{}\": unknown label '{}'", spec_, ch);
    return l;
  }
  std::size_t num_inputs() const override { return parsed_.inputs.size(); }
  std::vector<Dim> sizes(ShapeRefs in) const {
    std::vector<Dim> size(labels_.size(), -2);
    for (std::size_t i = 0; i < in.size(); ++i) {
      const std::string& t = parsed_.inputs[i];
      if (in[i].size() != t.size()) {
        throw Error("einsum \"{}\": operand {} has shape {}, expected rank {}", spec_, i,
                    shape_str(in[i]), t.size());
      }
      for (std::size_t d = 0; d < t.size(); ++d) {
        Dim& s = size[label(t[d])];
        const Dim v = in[i][d];
        if (s == -2 || s == -1) {
          s = v;
        } else if (v >= 0 && v != s) {
          throw Error("einsum \"{}\": label '{}' has sizes {} and {} (operand shapes {})", spec_,
                      t[d], s, v, shape_str(in[i]));
        }
      }
    }
    return size;
  }
  Shape output_shape(ShapeRefs in) const override {
    check_arity("einsum", in, num_inputs());
    const auto size = sizes(in);
    Shape out;
    for (char c : parsed_.output) out.push_back(size[label(c)]);
    return out;
  }
  // Calls f(output offset, offsets of the operands) for every assignment of the labels.
  template <typename F>
  void each(TensorRefs in, F&& f) const {
    std::vector<Shape> shapes;
    for (const Tensor* t : in) shapes.push_back(shape_of(*t));
    const auto size = sizes(shapes);
    const std::size_t L = labels_.size();
    auto strides_for = [&](const std::string& t) {
      std::vector<std::size_t> st(L, 0);
      std::size_t s = 1;
      for (std::size_t d = t.size(); d-- > 0;) {
        const std::size_t l = label(t[d]);
        st[l] = s;
        s *= std::size_t(size[l]);
      }
      return st;
    };
    const auto so = strides_for(parsed_.output);
    std::vector<std::vector<std::size_t>> si;
    for (const auto& t : parsed_.inputs) si.push_back(strides_for(t));
    for (Dim s : size)
      if (s == 0) return;
    std::vector<std::size_t> idx(L, 0);
    std::array<std::size_t, 2> off{0, 0};
    std::size_t oo = 0;
    while (true) {
      f(oo, off);
      std::size_t d = L;
      while (d-- > 0) {
        if (++idx[d] < std::size_t(size[d])) {
          oo += so[d];
          for (std::size_t i = 0; i < si.size(); ++i) off[i] += si[i][d];
          break;
        }
        oo -= so[d] * (idx[d] - 1);
        for (std::size_t i = 0; i < si.size(); ++i) off[i] -= si[i][d] * (idx[d] - 1);
        idx[d] = 0;
      }
      if (d == std::size_t(-1)) return;
    }
  }
  void forward(TensorRefs in, Tensor& out, const Context&) override {
    out.fill(0.0f);
    float* y = out.data();
    const float* a = in[0]->data();
    if (in.size() == 1) {
      each(in, [&](std::size_t oo, const auto& off) { y[oo] += a[off[0]]; });
    } else {
      const float* b = in[1]->data();
      each(in, [&](std::size_t oo, const auto& off) { y[oo] += a[off[0]] * b[off[1]]; });
    }
  }
  void backward(TensorRefs in, const Tensor&, const Tensor& gout, GradRefs gin,
                const Context&) override {
    const float* g = gout.data();
    const float* a = in[0]->data();
    float* ga = gin[0] ? gin[0]->data() : nullptr;
    if (in.size() == 1) {
      if (ga) each(in, [&](std::size_t oo, const auto& off) { ga[off[0]] += g[oo]; });
      return;
    }
    const float* b = in[1]->data();
    float* gb = gin[1] ? gin[1]->data() : nullptr;
    each(in, [&](std::size_t oo, const auto& off) {
      if (ga) ga[off[0]] += g[oo] * b[off[1]];
      if (gb) gb[off[1]] += g[oo] * a[off[0]];
    });
  }
  // The gradient of operand i is einsum("out,other->operand_i") when each of its labels
  // appears in the output or the other operand (no label summed within it alone).
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>&,
                               const std::vector<ST>& gouts) const override {
    std::vector<ST> grads;
    const auto& t = parsed_.inputs;
    for (std::size_t i = 0; i < t.size(); ++i) {
      const std::string other = t.size() == 2 ? t[1 - i] : std::string();
      for (char c : t[i]) {
        if (parsed_.output.find(c) == std::string::npos && other.find(c) == std::string::npos) {
          return {};
        }
      }
      if (t.size() == 2) {
        grads.push_back(
            o::apply(einsum(parsed_.output + "," + other + "->" + t[i]), {gouts[0], in[1 - i]}));
      } else {
        grads.push_back(o::apply(einsum(parsed_.output + "->" + t[i]), {gouts[0]}));
      }
    }
    return grads;
  }
  KernelPtr clone() const override { return std::make_shared<Einsum>(spec_); }

 private:
  std::string spec_;
  EinsumSpec parsed_;
  std::string labels_;
};

}  // namespace

KernelPtr expand_like(std::vector<Dim> axes, bool mean) {
  return std::make_shared<ExpandLike>(std::move(axes), mean);
}
KernelPtr reduce_like(std::vector<Dim> axes, bool mean) {
  return std::make_shared<ReduceLike>(std::move(axes), mean);
}
KernelPtr fill_like(float value) { return std::make_shared<FillLike>(value); }
KernelPtr stop_gradient() { return std::make_shared<StopGradient>(); }
KernelPtr scatter_add_like(Dim axis) { return std::make_shared<ScatterAddLike>(axis); }
KernelPtr take_along(Dim axis) { return std::make_shared<TakeAlong<false>>(axis); }
KernelPtr take_along_scatter(Dim axis) { return std::make_shared<TakeAlong<true>>(axis); }
KernelPtr cumsum(Dim axis, bool reverse) { return std::make_shared<Cumsum>(axis, reverse); }
KernelPtr arg_reduce(Dim axis, bool max, bool keepdims) {
  return std::make_shared<ArgReduce>(axis, max, keepdims);
}
KernelPtr top_k_indices(Dim k) { return std::make_shared<TopKIndices>(k); }
KernelPtr einsum(std::string spec) { return std::make_shared<Einsum>(std::move(spec)); }

}  // namespace plexus::kernels
