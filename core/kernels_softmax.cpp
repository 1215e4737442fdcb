// Normalised exponentials along one axis, stable for any input magnitude: the row
// maximum is subtracted before exponentiating, so e^(x - max) <= 1 never overflows and
// the largest term is exactly 1 (the sum never underflows to 0).
//   softmax:     y = e^(x - max) / sum e^(x - max)
//                VJP: gx += y * (g - sum(g * y))
//   log_softmax: y = (x - max) - log(sum e^(x - max))
//                VJP: gx += g - e^y * sum(g)
// The tensor is viewed as [outer, n, inner] with n the softmax axis; the last axis
// (inner = 1) is the contiguous fast path.
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 + AVX-512: see kernels_elementwise.cpp
#ifndef __clang__                                 // a GCC-only warning
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <cmath>
#include <limits>
#include <memory>

#include "core/error.hpp"
#include "core/kernel_util.hpp"
#include "core/kernels.hpp"
#include "core/simd_util.hpp"
#include "graph/detail/gradients.hpp"
#include "graph/ops.hpp"

namespace plexus::kernels {
namespace {

using ST = SymbolicTensor;
namespace o = plexus::ops;

struct Geometry {
  std::size_t outer = 1, n = 1, inner = 1;
};

Geometry geometry(const Tensor& x, Dim axis, const char* op) {
  const std::size_t a = normalize_axis(axis, x.dimension(), op);
  Geometry g;
  for (std::size_t d = 0; d < a; ++d) g.outer *= x.shape()[d];
  g.n = x.shape()[a];
  for (std::size_t d = a + 1; d < x.dimension(); ++d) g.inner *= x.shape()[d];
  return g;
}

// One softmax row of n contiguous values: y = e^(x - max) / sum, or its log.
void softmax_row(const float* x, float* y, std::size_t n, bool log) {
  if (n == 0) return;
  const simd::Batch m(simd::reduce_max(x, n));
  simd::apply(
      y, n, [&](simd::Batch v) { return xsimd::exp(v - m); }, x);
  const float s = simd::reduce_sum(y, n);
  if (log) {
    // (x - max) - log(sum): subtracting max first keeps log(sum)'s precision when
    // max is large (max + log(sum) would round to max's ulp).
    const simd::Batch log_s(std::log(s));
    simd::apply(
        y, n, [&](simd::Batch v) { return (v - m) - log_s; }, x);
  } else {
    const simd::Batch inv(1.0f / s);
    simd::apply(
        y, n, [&](simd::Batch v) { return v * inv; }, static_cast<const float*>(y));
  }
}

// The VJP of one contiguous row (see the header comment), accumulated into gx.
void softmax_row_vjp(const float* y, const float* g, float* gx, std::size_t n, bool log) {
  using simd::Batch;
  if (log) {
    const Batch sum_g(simd::reduce_sum(g, n));
    simd::apply(
        gx, n, [&](Batch acc, Batch gi, Batch yi) { return acc + gi - xsimd::exp(yi) * sum_g; },
        static_cast<const float*>(gx), g, y);
  } else {
    const Batch dot(simd::dot(g, y, n));
    simd::apply(
        gx, n, [&](Batch acc, Batch gi, Batch yi) { return acc + yi * (gi - dot); },
        static_cast<const float*>(gx), g, y);
  }
}

class Softmax final : public Kernel {
 public:
  Softmax(Dim axis, bool log) : axis_(axis), log_(log) {}
  std::string name() const override { return log_ ? "log_softmax" : "softmax"; }
  std::size_t num_inputs() const override { return 1; }
  Shape output_shape(ShapeRefs in) const override {
    const std::string op = name();
    check_arity(op, in, 1);
    normalize_axis(axis_, in[0].size(), op.c_str());
    return in[0];
  }

  void forward(TensorRefs in, Tensor& out, const Context&) override {
    const Geometry g = geometry(*in[0], axis_, log_ ? "log_softmax" : "softmax");
    const float* x = in[0]->data();
    float* y = out.data();
    if (g.inner == 1) {
      for (std::size_t r = 0; r < g.outer; ++r) softmax_row(x + r * g.n, y + r * g.n, g.n, log_);
      return;
    }
    // Strided rows: gather each into a scratch row, reuse the contiguous path.
    row_in_.resize(g.n);
    row_out_.resize(g.n);
    for (std::size_t r = 0; r < g.outer; ++r) {
      for (std::size_t q = 0; q < g.inner; ++q) {
        const std::size_t base = r * g.n * g.inner + q;
        for (std::size_t i = 0; i < g.n; ++i) row_in_[i] = x[base + i * g.inner];
        softmax_row(row_in_.data(), row_out_.data(), g.n, log_);
        for (std::size_t i = 0; i < g.n; ++i) y[base + i * g.inner] = row_out_[i];
      }
    }
  }

  void backward(TensorRefs in, const Tensor& out, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (!gin[0]) return;
    const Geometry g = geometry(*in[0], axis_, log_ ? "log_softmax" : "softmax");
    const float* y = out.data();
    const float* go = gout.data();
    float* gx = gin[0]->data();
    if (g.inner == 1) {
      for (std::size_t r = 0; r < g.outer; ++r) {
        softmax_row_vjp(y + r * g.n, go + r * g.n, gx + r * g.n, g.n, log_);
      }
      return;
    }
    // Strided rows: gather y, g and the accumulator, reuse the contiguous path.
    row_in_.resize(g.n);
    row_out_.resize(g.n);
    row_grad_.resize(g.n);
    for (std::size_t r = 0; r < g.outer; ++r) {
      for (std::size_t q = 0; q < g.inner; ++q) {
        const std::size_t base = r * g.n * g.inner + q;
        for (std::size_t i = 0; i < g.n; ++i) {
          row_in_[i] = y[base + i * g.inner];
          row_out_[i] = go[base + i * g.inner];
          row_grad_[i] = gx[base + i * g.inner];
        }
        softmax_row_vjp(row_in_.data(), row_out_.data(), row_grad_.data(), g.n, log_);
        for (std::size_t i = 0; i < g.n; ++i) gx[base + i * g.inner] = row_grad_[i];
      }
    }
  }

  KernelPtr clone() const override { return std::make_shared<Softmax>(axis_, log_); }
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>& outs,
                               const std::vector<ST>& gouts) const override {
    (void)in;
    const ST &y = outs[0], &g = gouts[0];
    if (log_) return {o::subtract(g, o::multiply(o::exp(y), o::sum(g, {axis_}, true)))};
    return {o::multiply(y, o::subtract(g, o::sum(o::multiply(g, y), {axis_}, true)))};
  }

 private:
  Dim axis_;
  bool log_;
  std::vector<float> row_in_, row_out_, row_grad_;  // scratch for strided rows
};

}  // namespace

KernelPtr softmax(Dim axis) { return std::make_shared<Softmax>(axis, false); }
KernelPtr log_softmax(Dim axis) { return std::make_shared<Softmax>(axis, true); }

}  // namespace plexus::kernels
