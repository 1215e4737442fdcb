// Element-wise kernels. Each op is a small struct with its forward formula directly above
// its partial derivatives; two kernel templates (Binary, Unary) supply the loops:
//  - same-shape operands run as one flat loop over .data();
//  - broadcasting runs through StridedLoop, whose inner rows are contiguous for the
//    common bias case [N, M] + [M]; the VJP scatters straight into the input gradient
//    (stride 0 along broadcast axes), so summing over broadcast axes needs no temporary;
//  - unary maps go through xsimd (exp, tanh, erf, ... are libm calls a compiler cannot
//    vectorise by itself).
// GCC 12 reports the deliberately undefined lanes of AVX-512 intrinsics
// (_mm512_undefined_ps) as uninitialized once xsimd inlines them (GCC bug 105593, fixed
// in GCC 13); the pragmas must precede the first include to cover those headers.
#pragma GCC diagnostic ignored "-Wuninitialized"
#ifndef __clang__  // a GCC-only warning
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <cmath>
#include <memory>

#include "core/error.hpp"
#include "core/kernel_util.hpp"
#include "core/kernels.hpp"
#include "core/simd_util.hpp"

namespace plexus::kernels {
namespace {

// ---- binary ------------------------------------------------------------------------
// An op gives y = f(a, b) and the partials da(a, b, y), db(a, b, y); the VJP is
// ga += sum_broadcast(g * da), gb += sum_broadcast(g * db). kUnitDa / kUnitDb mark a
// partial that is identically 1, whose VJP is a plain accumulate_reduced(g).

struct Add {
  static constexpr const char* kName = "add";
  static constexpr bool kUnitDa = true, kUnitDb = true;
  static float f(float a, float b) { return a + b; }
  static float da(float, float, float) { return 1.0f; }
  static float db(float, float, float) { return 1.0f; }
};

struct Subtract {
  static constexpr const char* kName = "subtract";
  static constexpr bool kUnitDa = true, kUnitDb = false;
  static float f(float a, float b) { return a - b; }
  static float da(float, float, float) { return 1.0f; }
  static float db(float, float, float) { return -1.0f; }
};

struct Multiply {
  static constexpr const char* kName = "multiply";
  static constexpr bool kUnitDa = false, kUnitDb = false;
  static float f(float a, float b) { return a * b; }
  static float da(float, float b, float) { return b; }
  static float db(float a, float, float) { return a; }
};

// y = a / b: da = 1 / b, db = -a / b^2 = -y / b.
struct Divide {
  static constexpr const char* kName = "divide";
  static constexpr bool kUnitDa = false, kUnitDb = false;
  static float f(float a, float b) { return a / b; }
  static float da(float, float b, float) { return 1.0f / b; }
  static float db(float, float b, float y) { return -y / b; }
};

// y = a^b: da = b a^(b-1); db = a^b log(a), taken as 0 where a <= 0 (log undefined; as
// TensorFlow does) so an integer power of a negative base still trains.
struct Pow {
  static constexpr const char* kName = "pow";
  static constexpr bool kUnitDa = false, kUnitDb = false;
  static float f(float a, float b) { return std::pow(a, b); }
  static float da(float a, float b, float) { return b * std::pow(a, b - 1.0f); }
  static float db(float a, float, float y) { return a > 0.0f ? y * std::log(a) : 0.0f; }
};

// The gradient goes to the winner; a tie goes to the first input.
struct Maximum {
  static constexpr const char* kName = "maximum";
  static constexpr bool kUnitDa = false, kUnitDb = false;
  static float f(float a, float b) { return a >= b ? a : b; }
  static float da(float a, float b, float) { return a >= b ? 1.0f : 0.0f; }
  static float db(float a, float b, float) { return a >= b ? 0.0f : 1.0f; }
};

struct Minimum {
  static constexpr const char* kName = "minimum";
  static constexpr bool kUnitDa = false, kUnitDb = false;
  static float f(float a, float b) { return a <= b ? a : b; }
  static float da(float a, float b, float) { return a <= b ? 1.0f : 0.0f; }
  static float db(float a, float b, float) { return a <= b ? 0.0f : 1.0f; }
};

template <typename Op>
class Binary final : public Kernel {
 public:
  std::string name() const override { return Op::kName; }
  std::size_t num_inputs() const override { return 2; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity(Op::kName, in, 2);
    return broadcast_shapes(Op::kName, in[0], in[1]);
  }

  void forward(TensorRefs in, Tensor& out, const Context&) override {
    const Tensor& a = *in[0];
    const Tensor& b = *in[1];
    const float* pa = a.data();
    const float* pb = b.data();
    float* py = out.data();
    if (same_shape(a, b)) {
      const std::size_t n = out.size();
      for (std::size_t i = 0; i < n; ++i) py[i] = Op::f(pa[i], pb[i]);
      return;
    }
    plan(a, b, out);
    loop_.run([&](const auto& base, std::size_t n, const auto& step) {
      float* y = py + base[0];
      const float* x0 = pa + base[1];
      const float* x1 = pb + base[2];
      with_steps(step[1], step[2], [&](auto s0, auto s1) {
        for (std::size_t i = 0; i < n; ++i) y[i] = Op::f(x0[idx(i, s0)], x1[idx(i, s1)]);
      });
    });
  }

  void backward(TensorRefs in, const Tensor& out, const Tensor& gout, GradRefs gin,
                const Context&) override {
    const Tensor& a = *in[0];
    const Tensor& b = *in[1];
    const float* pa = a.data();
    const float* pb = b.data();
    const float* py = out.data();
    const float* pg = gout.data();
    float* ga = gin[0] ? gin[0]->data() : nullptr;
    float* gb = gin[1] ? gin[1]->data() : nullptr;
    if (same_shape(a, b)) {
      const std::size_t n = out.size();
      if (ga) {
        for (std::size_t i = 0; i < n; ++i) ga[i] += pg[i] * Op::da(pa[i], pb[i], py[i]);
      }
      if (gb) {
        for (std::size_t i = 0; i < n; ++i) gb[i] += pg[i] * Op::db(pa[i], pb[i], py[i]);
      }
      return;
    }
    if constexpr (Op::kUnitDa) {
      if (ga) accumulate_reduced(gout, *gin[0]);
      ga = nullptr;
    }
    if constexpr (Op::kUnitDb) {
      if (gb) accumulate_reduced(gout, *gin[1]);
      gb = nullptr;
    }
    if (!ga && !gb) return;
    plan(a, b, out);
    loop_.run([&](const auto& base, std::size_t n, const auto& step) {
      const float* g = pg + base[0];
      const float* y = py + base[0];
      const float* x0 = pa + base[1];
      const float* x1 = pb + base[2];
      with_steps(step[1], step[2], [&](auto s0, auto s1) {
        if (ga) {
          scatter_add(ga + base[1], s0, n, [&](std::size_t i) {
            return g[i] * Op::da(x0[idx(i, s0)], x1[idx(i, s1)], y[i]);
          });
        }
        if (gb) {
          scatter_add(gb + base[2], s1, n, [&](std::size_t i) {
            return g[i] * Op::db(x0[idx(i, s0)], x1[idx(i, s1)], y[i]);
          });
        }
      });
    });
  }

  KernelPtr clone() const override { return std::make_shared<Binary>(); }

 private:
  void plan(const Tensor& a, const Tensor& b, const Tensor& out) {
    loop_.reset(out.shape());
    loop_.set_broadcast(0, out.shape());
    loop_.set_broadcast(1, a.shape());
    loop_.set_broadcast(2, b.shape());
  }

  StridedLoop<3> loop_;
};

// where(c, x, y) = c != 0 ? x : y, all three broadcasting. The VJP routes g to x where
// c != 0 and to y elsewhere; the condition gets none.
class Where final : public Kernel {
 public:
  std::string name() const override { return "where"; }
  std::size_t num_inputs() const override { return 3; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity("where", in, 3);
    return broadcast_shapes("where", broadcast_shapes("where", in[0], in[1]), in[2]);
  }

  void forward(TensorRefs in, Tensor& out, const Context&) override {
    const float* pc = in[0]->data();
    const float* px = in[1]->data();
    const float* py = in[2]->data();
    float* po = out.data();
    if (same_shape(*in[0], out) && same_shape(*in[1], out) && same_shape(*in[2], out)) {
      const std::size_t n = out.size();
      for (std::size_t i = 0; i < n; ++i) po[i] = pc[i] != 0.0f ? px[i] : py[i];
      return;
    }
    plan(in, out);
    loop_.run([&](const auto& base, std::size_t n, const auto& step) {
      float* o = po + base[0];
      const float* c = pc + base[1];
      const float* x = px + base[2];
      const float* y = py + base[3];
      for (std::size_t i = 0; i < n; ++i) {
        o[i] = c[idx(i, step[1])] != 0.0f ? x[idx(i, step[2])] : y[idx(i, step[3])];
      }
    });
  }

  void backward(TensorRefs in, const Tensor& out, const Tensor& gout, GradRefs gin,
                const Context&) override {
    float* gx = gin[1] ? gin[1]->data() : nullptr;
    float* gy = gin[2] ? gin[2]->data() : nullptr;
    if (!gx && !gy) return;
    const float* pc = in[0]->data();
    const float* pg = gout.data();
    plan(in, out);
    loop_.run([&](const auto& base, std::size_t n, const auto& step) {
      const float* c = pc + base[1];
      const float* g = pg + base[0];
      if (gx) {
        with_steps(step[1], step[2], [&](auto sc, auto sx) {
          scatter_add(gx + base[2], sx, n,
                      [&](std::size_t i) { return c[idx(i, sc)] != 0.0f ? g[i] : 0.0f; });
        });
      }
      if (gy) {
        with_steps(step[1], step[3], [&](auto sc, auto sy) {
          scatter_add(gy + base[3], sy, n,
                      [&](std::size_t i) { return c[idx(i, sc)] != 0.0f ? 0.0f : g[i]; });
        });
      }
    });
  }

  KernelPtr clone() const override { return std::make_shared<Where>(); }

 private:
  void plan(TensorRefs in, const Tensor& out) {
    loop_.reset(out.shape());
    loop_.set_broadcast(0, out.shape());
    for (std::size_t k = 0; k < 3; ++k) loop_.set_broadcast(k + 1, in[k]->shape());
  }

  StridedLoop<4> loop_;
};

// ---- unary -------------------------------------------------------------------------
// An op gives y = f(x) and its derivative df(x, y) on SIMD batches; the VJP is
// gx += g * df(x, y). Ops whose derivative is cheaper from y (exp, tanh, sigmoid) use it.

using simd::Batch;

inline Batch ones_where(xsimd::batch_bool<float> m) {
  return xsimd::select(m, Batch(1.0f), Batch(0.0f));
}

struct Negative {
  static constexpr const char* kName = "negative";
  Batch f(Batch x) const { return -x; }
  Batch df(Batch, Batch) const { return Batch(-1.0f); }
};

struct Exp {
  static constexpr const char* kName = "exp";
  Batch f(Batch x) const { return xsimd::exp(x); }
  Batch df(Batch, Batch y) const { return y; }
};

struct Log {
  static constexpr const char* kName = "log";
  Batch f(Batch x) const { return xsimd::log(x); }
  Batch df(Batch x, Batch) const { return Batch(1.0f) / x; }
};

// d sqrt(x) = 1 / (2 sqrt(x)) = 0.5 / y.
struct Sqrt {
  static constexpr const char* kName = "sqrt";
  Batch f(Batch x) const { return xsimd::sqrt(x); }
  Batch df(Batch, Batch y) const { return Batch(0.5f) / y; }
};

struct Square {
  static constexpr const char* kName = "square";
  Batch f(Batch x) const { return x * x; }
  Batch df(Batch x, Batch) const { return x + x; }
};

// d|x| = sign(x), 0 at 0.
struct Abs {
  static constexpr const char* kName = "abs";
  Batch f(Batch x) const { return xsimd::abs(x); }
  Batch df(Batch x, Batch) const {
    return ones_where(x > Batch(0.0f)) - ones_where(x < Batch(0.0f));
  }
};

struct Tanh {
  static constexpr const char* kName = "tanh";
  Batch f(Batch x) const { return xsimd::tanh(x); }
  Batch df(Batch, Batch y) const { return Batch(1.0f) - y * y; }
};

// 1 / (1 + e^-x) saturates cleanly: e^-x = inf gives 0, e^-x = 0 gives 1 (no NaN).
struct Sigmoid {
  static constexpr const char* kName = "sigmoid";
  Batch f(Batch x) const { return Batch(1.0f) / (Batch(1.0f) + xsimd::exp(-x)); }
  Batch df(Batch, Batch y) const { return y * (Batch(1.0f) - y); }
};

struct Relu {
  static constexpr const char* kName = "relu";
  Batch f(Batch x) const { return xsimd::max(x, Batch(0.0f)); }
  Batch df(Batch x, Batch) const { return ones_where(x > Batch(0.0f)); }
};

// x > 0 ? x : alpha (e^x - 1); derivative 1 or alpha e^x = y + alpha.
struct Elu {
  static constexpr const char* kName = "elu";
  float alpha;
  Batch f(Batch x) const {
    return xsimd::select(x > Batch(0.0f), x, Batch(alpha) * xsimd::expm1(x));
  }
  Batch df(Batch x, Batch y) const {
    return xsimd::select(x > Batch(0.0f), Batch(1.0f), y + Batch(alpha));
  }
};

// scale * elu(x, alpha) with the self-normalising constants of Klambauer et al. (2017).
struct Selu {
  static constexpr const char* kName = "selu";
  static constexpr float kAlpha = 1.6732632423543772f;
  static constexpr float kScale = 1.0507009873554805f;
  Batch f(Batch x) const {
    return Batch(kScale) * xsimd::select(x > Batch(0.0f), x, Batch(kAlpha) * xsimd::expm1(x));
  }
  Batch df(Batch x, Batch y) const {
    return xsimd::select(x > Batch(0.0f), Batch(kScale), y + Batch(kScale * kAlpha));
  }
};

struct LeakyRelu {
  static constexpr const char* kName = "leaky_relu";
  float slope;
  Batch f(Batch x) const { return xsimd::select(x >= Batch(0.0f), x, Batch(slope) * x); }
  Batch df(Batch x, Batch) const {
    return xsimd::select(x >= Batch(0.0f), Batch(1.0f), Batch(slope));
  }
};

// log(1 + e^x) = log1p(e^-|x|) + max(x, 0): never overflows; derivative sigmoid(x).
struct Softplus {
  static constexpr const char* kName = "softplus";
  Batch f(Batch x) const {
    return xsimd::log1p(xsimd::exp(-xsimd::abs(x))) + xsimd::max(x, Batch(0.0f));
  }
  Batch df(Batch x, Batch) const { return Batch(1.0f) / (Batch(1.0f) + xsimd::exp(-x)); }
};

// Exact GELU: x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2; derivative Phi(x) + x phi(x).
struct Gelu {
  static constexpr const char* kName = "gelu";
  static constexpr float kInvSqrt2 = 0.70710678118654752f;
  static constexpr float kInvSqrt2Pi = 0.39894228040143268f;
  Batch f(Batch x) const {
    return Batch(0.5f) * x * (Batch(1.0f) + xsimd::erf(x * Batch(kInvSqrt2)));
  }
  Batch df(Batch x, Batch) const {
    const Batch cdf = Batch(0.5f) * (Batch(1.0f) + xsimd::erf(x * Batch(kInvSqrt2)));
    const Batch pdf = Batch(kInvSqrt2Pi) * xsimd::exp(Batch(-0.5f) * x * x);
    return cdf + x * pdf;
  }
};

// x s(x) with s = sigmoid; derivative s + x s (1 - s) = s (1 + x (1 - s)).
struct Swish {
  static constexpr const char* kName = "swish";
  Batch f(Batch x) const { return x / (Batch(1.0f) + xsimd::exp(-x)); }
  Batch df(Batch x, Batch) const {
    const Batch s = Batch(1.0f) / (Batch(1.0f) + xsimd::exp(-x));
    return s * (Batch(1.0f) + x * (Batch(1.0f) - s));
  }
};

// Keras 3: relu6(x + 3) / 6; slope 1/6 on (-3, 3).
struct HardSigmoid {
  static constexpr const char* kName = "hard_sigmoid";
  Batch f(Batch x) const {
    return xsimd::min(xsimd::max(x + Batch(3.0f), Batch(0.0f)), Batch(6.0f)) / Batch(6.0f);
  }
  Batch df(Batch x, Batch) const {
    return xsimd::select((x > Batch(-3.0f)) & (x < Batch(3.0f)), Batch(1.0f / 6.0f), Batch(0.0f));
  }
};

struct Clip {
  static constexpr const char* kName = "clip";
  float lo, hi;
  Batch f(Batch x) const { return xsimd::min(xsimd::max(x, Batch(lo)), Batch(hi)); }
  Batch df(Batch x, Batch) const { return ones_where((x > Batch(lo)) & (x < Batch(hi))); }
};

struct Affine {
  static constexpr const char* kName = "affine";
  float scale, shift;
  Batch f(Batch x) const { return xsimd::fma(x, Batch(scale), Batch(shift)); }
  Batch df(Batch, Batch) const { return Batch(scale); }
};

template <typename Op>
class Unary final : public Kernel {
 public:
  explicit Unary(Op op = {}) : op_(op) {}
  std::string name() const override { return Op::kName; }
  std::size_t num_inputs() const override { return 1; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity(Op::kName, in, 1);
    return in[0];
  }

  void forward(TensorRefs in, Tensor& out, const Context&) override {
    simd::apply(
        out.data(), out.size(), [this](Batch x) { return op_.f(x); }, in[0]->data());
  }

  void backward(TensorRefs in, const Tensor& out, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (!gin[0]) return;
    float* gx = gin[0]->data();
    if (assigns_grad(0)) {
      simd::apply(
          gx, out.size(), [this](Batch g, Batch x, Batch y) { return g * op_.df(x, y); },
          gout.data(), in[0]->data(), out.data());
      return;
    }
    simd::apply(
        gx, out.size(),
        [this](Batch acc, Batch g, Batch x, Batch y) { return acc + g * op_.df(x, y); },
        static_cast<const float*>(gx), gout.data(), in[0]->data(), out.data());
  }
  bool can_assign_grad(std::size_t) const override { return true; }

  KernelPtr clone() const override { return std::make_shared<Unary>(op_); }

 private:
  Op op_;
};

template <typename Op>
KernelPtr unary(Op op = {}) {
  return std::make_shared<Unary<Op>>(op);
}

}  // namespace

KernelPtr add() { return std::make_shared<Binary<Add>>(); }
KernelPtr subtract() { return std::make_shared<Binary<Subtract>>(); }
KernelPtr multiply() { return std::make_shared<Binary<Multiply>>(); }
KernelPtr divide() { return std::make_shared<Binary<Divide>>(); }
KernelPtr pow() { return std::make_shared<Binary<Pow>>(); }
KernelPtr maximum() { return std::make_shared<Binary<Maximum>>(); }
KernelPtr minimum() { return std::make_shared<Binary<Minimum>>(); }
KernelPtr where() { return std::make_shared<Where>(); }

KernelPtr negative() { return unary<Negative>(); }
KernelPtr exp() { return unary<Exp>(); }
KernelPtr log() { return unary<Log>(); }
KernelPtr sqrt() { return unary<Sqrt>(); }
KernelPtr square() { return unary<Square>(); }
KernelPtr abs() { return unary<Abs>(); }
KernelPtr tanh() { return unary<Tanh>(); }
KernelPtr sigmoid() { return unary<Sigmoid>(); }
KernelPtr relu() { return unary<Relu>(); }
KernelPtr elu(float alpha) { return unary(Elu{alpha}); }
KernelPtr selu() { return unary<Selu>(); }
KernelPtr leaky_relu(float negative_slope) { return unary(LeakyRelu{negative_slope}); }
KernelPtr softplus() { return unary<Softplus>(); }
KernelPtr gelu() { return unary<Gelu>(); }
KernelPtr swish() { return unary<Swish>(); }
KernelPtr hard_sigmoid() { return unary<HardSigmoid>(); }
KernelPtr clip(float lo, float hi) {
  if (!(lo <= hi)) throw Error("clip: lower bound {} is above upper bound {}", lo, hi);
  return unary(Clip{lo, hi});
}
KernelPtr affine(float scale, float shift) { return unary(Affine{scale, shift}); }

}  // namespace plexus::kernels
