// Reductions over a set of axes: sum, mean, max. One kernel class covers the three:
// the output is walked as a broadcast operand of the input (stride 0 along the reduced
// axes), so the forward is a scatter-add (or scatter-max) and the VJP of sum/mean is the
// broadcast back.
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 + AVX-512: see kernels_elementwise.cpp
#ifndef __clang__                                 // a GCC-only warning
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

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

enum class Reduction { kSum, kMean, kMax };

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

class Reduce final : public Kernel {
 public:
  Reduce(Reduction kind, std::vector<Dim> axes, bool keepdims)
      : kind_(kind), axes_(std::move(axes)), keepdims_(keepdims) {}

  std::string name() const override { return op_name(); }
  std::size_t num_inputs() const override { return 1; }

  // [d0, ..., dr) -> the same without the reduced axes (or with them as 1: keepdims).
  Shape output_shape(ShapeRefs in) const override {
    const std::string op = name();
    check_arity(op, in, 1);
    const Shape& x = in[0];
    const std::vector<char> reduced = reduced_mask(op, x.size());
    Shape out;
    for (std::size_t d = 0; d < x.size(); ++d) {
      if (!reduced[d]) {
        out.push_back(x[d]);
      } else if (keepdims_) {
        out.push_back(1);
      }
    }
    return out;
  }

  void forward(TensorRefs in, Tensor& out, const Context&) override {
    const Tensor& x = *in[0];
    const float* px = x.data();
    float* po = out.data();
    plan(x);
    if (kind_ == Reduction::kMax) {
      out.fill(-std::numeric_limits<float>::infinity());
      argmax_.assign(out.size(), kNone);
      // Row-major order and a strict '>' make the first maximum the argmax.
      loop_.run([&](const auto& base, std::size_t n, const auto& step) {
        if (step[1] == 0) {  // the whole row reduces into one output: scan it locally
          // SIMD maximum, then the first position holding it (NaN: scalar scan).
          const float* xs = px + base[0];
          const float m = simd::reduce_max(xs, n);
          std::size_t best = 0;
          while (best < n && xs[best] != m) ++best;
          if (best == n) {
            best = 0;
            for (std::size_t i = 1; i < n; ++i) {
              if (xs[i] > xs[best]) best = i;
            }
          }
          const auto o = static_cast<std::size_t>(base[1]);
          if (argmax_[o] == kNone || xs[best] > po[o]) {
            po[o] = xs[best];
            argmax_[o] = base[0] + best;
          }
          return;
        }
        for (std::size_t i = 0; i < n; ++i) {
          const std::size_t o = base[1] + i * step[1];
          const float v = px[base[0] + i];
          if (argmax_[o] == kNone || v > po[o]) {
            po[o] = v;
            argmax_[o] = base[0] + i;
          }
        }
      });
      return;
    }
    out.fill(0.0f);
    loop_.run([&](const auto& base, std::size_t n, const auto& step) {
      const float* xs = px + base[0];
      scatter_add(po + base[1], step[1], n, [&](std::size_t i) { return xs[i]; });
    });
    if (kind_ == Reduction::kMean && out.size() > 0) {
      const float scale = static_cast<float>(out.size()) / static_cast<float>(x.size());
      for (std::size_t i = 0; i < out.size(); ++i) po[i] *= scale;
    }
  }

  // sum: gx += broadcast(g); mean: gx += broadcast(g) / count; max: g goes to the argmax.
  void backward(TensorRefs in, const Tensor& out, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (!gin[0]) return;
    float* gx = gin[0]->data();
    const float* pg = gout.data();
    if (kind_ == Reduction::kMax) {
      for (std::size_t o = 0; o < argmax_.size(); ++o) {
        if (argmax_[o] != kNone) gx[argmax_[o]] += pg[o];
      }
      return;
    }
    const Tensor& x = *in[0];
    const float scale = kind_ == Reduction::kMean && x.size() > 0
                            ? static_cast<float>(out.size()) / static_cast<float>(x.size())
                            : 1.0f;
    plan(x);
    loop_.run([&](const auto& base, std::size_t n, const auto& step) {
      float* g = gx + base[0];
      const float* go = pg + base[1];
      if (step[1] == 0) {
        const float v = *go * scale;
        for (std::size_t i = 0; i < n; ++i) g[i] += v;
      } else if (step[1] == 1) {
        for (std::size_t i = 0; i < n; ++i) g[i] += go[i] * scale;
      } else {
        for (std::size_t i = 0; i < n; ++i) g[i] += go[i * step[1]] * scale;
      }
    });
  }

  KernelPtr clone() const override { return std::make_shared<Reduce>(kind_, axes_, keepdims_); }
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>& outs,
                               const std::vector<ST>& gouts) const override {
    const ST &x = in[0], &g = gouts[0];
    const std::vector<Dim> axes = keepdims_ ? std::vector<Dim>{} : axes_;
    if (kind_ == Reduction::kSum) return {o::detail::expand_like(g, x, axes)};
    if (kind_ == Reduction::kMean) return {o::detail::expand_like(g, x, axes, true)};
    // max: the gradient goes to every entry equal to the maximum (ties share it).
    const ST hit = o::equal(x, o::detail::expand_like(outs[0], x, axes));
    return {o::where(hit, o::detail::expand_like(g, x, axes), o::constant(0.0f))};
  }

 private:
  const char* op_name() const {
    switch (kind_) {
      case Reduction::kSum:
        return "sum";
      case Reduction::kMean:
        return "mean";
      case Reduction::kMax:
        return "max";
    }
    return "";
  }

  // reduced[d] != 0 for each axis reduced; empty axes reduce everything.
  std::vector<char> reduced_mask(const std::string& op, std::size_t rank) const {
    std::vector<char> reduced(rank, axes_.empty() ? 1 : 0);
    for (Dim a : axes_) {
      const std::size_t d = normalize_axis(a, rank, op.c_str());
      if (reduced[d]) {
        throw Error("{}: axis {} is listed twice in axes {}", op, a, join(axes_));
      }
      reduced[d] = 1;
    }
    return reduced;
  }

  // Iterates over x (operand 0, contiguous) with the output as operand 1: row-major
  // strides of the keepdims shape, 0 along reduced axes.
  void plan(const Tensor& x) {
    const std::size_t rank = x.dimension();
    mask_.assign(rank, axes_.empty() ? 1 : 0);
    for (Dim a : axes_) mask_[normalize_axis(a, rank, op_name())] = 1;
    loop_.reset(x.shape());
    loop_.set_broadcast(0, x.shape());
    auto& so = loop_.strides(1);
    std::ptrdiff_t s = 1;
    for (std::size_t d = rank; d-- > 0;) {
      if (mask_[d]) {
        so[d] = 0;
      } else {
        so[d] = s;
        s *= static_cast<std::ptrdiff_t>(x.shape()[d]);
      }
    }
  }

  Reduction kind_;
  std::vector<Dim> axes_;
  bool keepdims_;
  // Scratch reused between calls.
  std::vector<char> mask_;
  std::vector<std::size_t> argmax_;  // flat input index of each output's maximum
  StridedLoop<2> loop_;
};

}  // namespace

KernelPtr sum(std::vector<Dim> axes, bool keepdims) {
  return std::make_shared<Reduce>(Reduction::kSum, std::move(axes), keepdims);
}
KernelPtr mean(std::vector<Dim> axes, bool keepdims) {
  return std::make_shared<Reduce>(Reduction::kMean, std::move(axes), keepdims);
}
KernelPtr max(std::vector<Dim> axes, bool keepdims) {
  return std::make_shared<Reduce>(Reduction::kMax, std::move(axes), keepdims);
}

}  // namespace plexus::kernels
