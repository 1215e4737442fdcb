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
#include "graph/detail/gradients.hpp"
#include "graph/ops.hpp"

namespace plexus::kernels {
namespace {

using ST = SymbolicTensor;
using Grads = std::pair<ST, ST>;
namespace o = plexus::ops;
using o::detail::nonzero_mask;
ST zero_where(const ST& mask, const ST& g) { return o::where(mask, o::constant(0.0f), g); }
ST keep_where(const ST& mask, const ST& g) { return o::where(mask, g, o::constant(0.0f)); }

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
  static Grads vjp(const ST&, const ST&, const ST&, const ST& g) { return {g, g}; }
};

struct Subtract {
  static constexpr const char* kName = "subtract";
  static constexpr bool kUnitDa = true, kUnitDb = false;
  static float f(float a, float b) { return a - b; }
  static float da(float, float, float) { return 1.0f; }
  static float db(float, float, float) { return -1.0f; }
  static Grads vjp(const ST&, const ST&, const ST&, const ST& g) { return {g, o::negative(g)}; }
};

struct Multiply {
  static constexpr const char* kName = "multiply";
  static constexpr bool kUnitDa = false, kUnitDb = false;
  static float f(float a, float b) { return a * b; }
  static float da(float, float b, float) { return b; }
  static float db(float a, float, float) { return a; }
  static Grads vjp(const ST& a, const ST& b, const ST&, const ST& g) {
    return {o::multiply(g, b), o::multiply(g, a)};
  }
};

// y = a / b: da = 1 / b, db = -a / b^2 = -y / b.
struct Divide {
  static constexpr const char* kName = "divide";
  static constexpr bool kUnitDa = false, kUnitDb = false;
  static float f(float a, float b) { return a / b; }
  static float da(float, float b, float) { return 1.0f / b; }
  static float db(float, float b, float y) { return -y / b; }
  static Grads vjp(const ST&, const ST& b, const ST& y, const ST& g) {
    const ST gb = o::divide(g, b);
    return {gb, o::negative(o::multiply(gb, y))};
  }
};

// y = a^b: da = b a^(b-1); db = a^b log(a), taken as 0 where a <= 0 (log undefined; as
// TensorFlow does) so an integer power of a negative base still trains.
struct Pow {
  static constexpr const char* kName = "pow";
  static constexpr bool kUnitDa = false, kUnitDb = false;
  static float f(float a, float b) { return std::pow(a, b); }
  static float da(float a, float b, float) { return b * std::pow(a, b - 1.0f); }
  static float db(float a, float, float y) { return a > 0.0f ? y * std::log(a) : 0.0f; }
  static Grads vjp(const ST& a, const ST& b, const ST& y, const ST& g) {
    const ST ga = o::multiply(g, o::multiply(b, o::pow(a, o::subtract(b, 1.0f))));
    const ST pos = o::greater(a, o::constant(0.0f));
    const ST safe = o::where(pos, a, o::constant(1.0f));  // log of a <= 0 is never taken
    return {ga, keep_where(pos, o::multiply(o::multiply(g, y), o::log(safe)))};
  }
};

// The gradient goes to the winner; a tie goes to the first input.
struct Maximum {
  static constexpr const char* kName = "maximum";
  static constexpr bool kUnitDa = false, kUnitDb = false;
  static float f(float a, float b) { return a >= b ? a : b; }
  static float da(float a, float b, float) { return a >= b ? 1.0f : 0.0f; }
  static float db(float a, float b, float) { return a >= b ? 0.0f : 1.0f; }
  static Grads vjp(const ST& a, const ST& b, const ST&, const ST& g) {
    const ST first = o::greater_equal(a, b);
    return {keep_where(first, g), zero_where(first, g)};
  }
};

struct Minimum {
  static constexpr const char* kName = "minimum";
  static constexpr bool kUnitDa = false, kUnitDb = false;
  static float f(float a, float b) { return a <= b ? a : b; }
  static float da(float a, float b, float) { return a <= b ? 1.0f : 0.0f; }
  static float db(float a, float b, float) { return a <= b ? 0.0f : 1.0f; }
  static Grads vjp(const ST& a, const ST& b, const ST&, const ST& g) {
    const ST first = o::less_equal(a, b);
    return {keep_where(first, g), zero_where(first, g)};
  }
};

// Comparisons and logic: 1 for true, 0 for false; no gradient.
#define PLEXUS_COMPARISON(Name, name, expr)                                     \
  struct Name {                                                                 \
    static constexpr const char* kName = name;                                  \
    static constexpr bool kUnitDa = false, kUnitDb = false;                     \
    static float f(float a, float b) { return (expr) ? 1.0f : 0.0f; }           \
    static float da(float, float, float) { return 0.0f; }                       \
    static float db(float, float, float) { return 0.0f; }                       \
    static Grads vjp(const ST&, const ST&, const ST&, const ST&) { return {}; } \
  };
PLEXUS_COMPARISON(Equal, "equal", a == b)
PLEXUS_COMPARISON(NotEqual, "not_equal", a != b)
PLEXUS_COMPARISON(Greater, "greater", a > b)
PLEXUS_COMPARISON(GreaterEqual, "greater_equal", a >= b)
PLEXUS_COMPARISON(Less, "less", a < b)
PLEXUS_COMPARISON(LessEqual, "less_equal", a <= b)
PLEXUS_COMPARISON(LogicalAnd, "logical_and", a != 0.0f && b != 0.0f)
PLEXUS_COMPARISON(LogicalOr, "logical_or", a != 0.0f || b != 0.0f)
PLEXUS_COMPARISON(LogicalXor, "logical_xor", (a != 0.0f) != (b != 0.0f))
#undef PLEXUS_COMPARISON
struct FloorDivide {
  static constexpr const char* kName = "floor_divide";
  static constexpr bool kUnitDa = false, kUnitDb = false;
  static float f(float a, float b) { return std::floor(a / b); }
  static float da(float, float, float) { return 0.0f; }
  static float db(float, float, float) { return 0.0f; }
  static Grads vjp(const ST&, const ST&, const ST&, const ST&) { return {}; }
};

// y = atan2(a, b): da = b / r, db = -a / r with r = a^2 + b^2.
struct Arctan2 {
  static constexpr const char* kName = "arctan2";
  static constexpr bool kUnitDa = false, kUnitDb = false;
  static float f(float a, float b) { return std::atan2(a, b); }
  static float da(float a, float b, float) { return b / (a * a + b * b); }
  static float db(float a, float b, float) { return -a / (a * a + b * b); }
  static Grads vjp(const ST& a, const ST& b, const ST&, const ST& g) {
    const ST q = o::divide(g, o::add(o::square(a), o::square(b)));
    return {o::multiply(q, b), o::negative(o::multiply(q, a))};
  }
};

// Python's modulo: a - b floor(a / b) (the sign of b); da = 1, db = -floor(a / b).
struct Mod {
  static constexpr const char* kName = "mod";
  static constexpr bool kUnitDa = true, kUnitDb = false;
  static float f(float a, float b) { return a - b * std::floor(a / b); }
  static float da(float, float, float) { return 1.0f; }
  static float db(float a, float b, float) { return -std::floor(a / b); }
  static Grads vjp(const ST& a, const ST& b, const ST&, const ST& g) {
    return {g, o::negative(o::multiply(g, o::floor(o::divide(a, b))))};
  }
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

  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>& outs,
                               const std::vector<ST>& gouts) const override {
    auto [ga, gb] = Op::vjp(in[0], in[1], outs[0], gouts[0]);
    return {ga.defined() ? o::detail::unbroadcast(ga, in[0]) : ga,
            gb.defined() ? o::detail::unbroadcast(gb, in[1]) : gb};
  }

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

  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>&,
                               const std::vector<ST>& gouts) const override {
    const ST& g = gouts[0];
    const ST c = nonzero_mask(in[0]);
    return {ST(), o::detail::unbroadcast(keep_where(c, g), in[1]),
            o::detail::unbroadcast(zero_where(c, g), in[2])};
  }

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
  ST vjp(const ST&, const ST&, const ST& g) const { return o::negative(g); }
};

struct Exp {
  static constexpr const char* kName = "exp";
  Batch f(Batch x) const { return xsimd::exp(x); }
  Batch df(Batch, Batch y) const { return y; }
  ST vjp(const ST&, const ST& y, const ST& g) const { return o::multiply(g, y); }
};

struct Log {
  static constexpr const char* kName = "log";
  Batch f(Batch x) const { return xsimd::log(x); }
  Batch df(Batch x, Batch) const { return Batch(1.0f) / x; }
  ST vjp(const ST& x, const ST&, const ST& g) const { return o::divide(g, x); }
};

// d sqrt(x) = 1 / (2 sqrt(x)) = 0.5 / y.
struct Sqrt {
  static constexpr const char* kName = "sqrt";
  Batch f(Batch x) const { return xsimd::sqrt(x); }
  Batch df(Batch, Batch y) const { return Batch(0.5f) / y; }
  ST vjp(const ST&, const ST& y, const ST& g) const { return o::divide(o::multiply(g, 0.5f), y); }
};

struct Square {
  static constexpr const char* kName = "square";
  Batch f(Batch x) const { return x * x; }
  Batch df(Batch x, Batch) const { return x + x; }
  ST vjp(const ST& x, const ST&, const ST& g) const { return o::multiply(g, o::multiply(x, 2.0f)); }
};

// d|x| = sign(x), 0 at 0.
struct Abs {
  static constexpr const char* kName = "abs";
  Batch f(Batch x) const { return xsimd::abs(x); }
  Batch df(Batch x, Batch) const {
    return ones_where(x > Batch(0.0f)) - ones_where(x < Batch(0.0f));
  }
  ST vjp(const ST& x, const ST&, const ST& g) const { return o::multiply(g, o::sign(x)); }
};

struct Tanh {
  static constexpr const char* kName = "tanh";
  Batch f(Batch x) const { return xsimd::tanh(x); }
  Batch df(Batch, Batch y) const { return Batch(1.0f) - y * y; }
  ST vjp(const ST&, const ST& y, const ST& g) const {
    return o::multiply(g, o::subtract(1.0f, o::square(y)));
  }
};

// 1 / (1 + e^-x) saturates cleanly: e^-x = inf gives 0, e^-x = 0 gives 1 (no NaN).
struct Sigmoid {
  static constexpr const char* kName = "sigmoid";
  Batch f(Batch x) const { return Batch(1.0f) / (Batch(1.0f) + xsimd::exp(-x)); }
  Batch df(Batch, Batch y) const { return y * (Batch(1.0f) - y); }
  ST vjp(const ST&, const ST& y, const ST& g) const {
    return o::multiply(g, o::multiply(y, o::subtract(1.0f, y)));
  }
};

struct Relu {
  static constexpr const char* kName = "relu";
  Batch f(Batch x) const { return xsimd::max(x, Batch(0.0f)); }
  Batch df(Batch x, Batch) const { return ones_where(x > Batch(0.0f)); }
  ST vjp(const ST& x, const ST&, const ST& g) const {
    return keep_where(o::greater(x, o::constant(0.0f)), g);
  }
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
  ST vjp(const ST& x, const ST& y, const ST& g) const {
    return o::where(o::greater(x, o::constant(0.0f)), g, o::multiply(g, o::add(y, alpha)));
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
  ST vjp(const ST& x, const ST& y, const ST& g) const {
    return o::where(o::greater(x, o::constant(0.0f)), o::multiply(g, kScale),
                    o::multiply(g, o::add(y, kScale * kAlpha)));
  }
};

struct LeakyRelu {
  static constexpr const char* kName = "leaky_relu";
  float slope;
  Batch f(Batch x) const { return xsimd::select(x >= Batch(0.0f), x, Batch(slope) * x); }
  Batch df(Batch x, Batch) const {
    return xsimd::select(x >= Batch(0.0f), Batch(1.0f), Batch(slope));
  }
  ST vjp(const ST& x, const ST&, const ST& g) const {
    return o::where(o::greater_equal(x, o::constant(0.0f)), g, o::multiply(g, slope));
  }
};

// log(1 + e^x) = log1p(e^-|x|) + max(x, 0): never overflows; derivative sigmoid(x).
struct Softplus {
  static constexpr const char* kName = "softplus";
  Batch f(Batch x) const {
    return xsimd::log1p(xsimd::exp(-xsimd::abs(x))) + xsimd::max(x, Batch(0.0f));
  }
  Batch df(Batch x, Batch) const { return Batch(1.0f) / (Batch(1.0f) + xsimd::exp(-x)); }
  ST vjp(const ST& x, const ST&, const ST& g) const { return o::multiply(g, o::sigmoid(x)); }
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
  ST vjp(const ST& x, const ST&, const ST& g) const {
    const ST cdf = o::affine(o::erf(o::multiply(x, kInvSqrt2)), 0.5f, 0.5f);
    const ST pdf = o::multiply(o::exp(o::multiply(o::square(x), -0.5f)), kInvSqrt2Pi);
    return o::multiply(g, o::add(cdf, o::multiply(x, pdf)));
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
  ST vjp(const ST& x, const ST&, const ST& g) const {
    const ST s = o::sigmoid(x);
    return o::multiply(g, o::multiply(s, o::add(o::multiply(x, o::subtract(1.0f, s)), 1.0f)));
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
  ST vjp(const ST& x, const ST&, const ST& g) const {
    const ST inside =
        o::logical_and(o::greater(x, o::constant(-3.0f)), o::less(x, o::constant(3.0f)));
    return keep_where(inside, o::multiply(g, 1.0f / 6.0f));
  }
};

struct Clip {
  static constexpr const char* kName = "clip";
  float lo, hi;
  Batch f(Batch x) const { return xsimd::min(xsimd::max(x, Batch(lo)), Batch(hi)); }
  Batch df(Batch x, Batch) const { return ones_where((x > Batch(lo)) & (x < Batch(hi))); }
  ST vjp(const ST& x, const ST&, const ST& g) const {
    const ST inside = o::logical_and(o::greater(x, o::constant(lo)), o::less(x, o::constant(hi)));
    return keep_where(inside, g);
  }
};

struct Affine {
  static constexpr const char* kName = "affine";
  float scale, shift;
  Batch f(Batch x) const { return xsimd::fma(x, Batch(scale), Batch(shift)); }
  Batch df(Batch, Batch) const { return Batch(scale); }
  ST vjp(const ST&, const ST&, const ST& g) const { return o::multiply(g, scale); }
};

struct Sin {
  static constexpr const char* kName = "sin";
  Batch f(Batch x) const { return xsimd::sin(x); }
  Batch df(Batch x, Batch) const { return xsimd::cos(x); }
  ST vjp(const ST& x, const ST&, const ST& g) const { return o::multiply(g, o::cos(x)); }
};
struct Cos {
  static constexpr const char* kName = "cos";
  Batch f(Batch x) const { return xsimd::cos(x); }
  Batch df(Batch x, Batch) const { return -xsimd::sin(x); }
  ST vjp(const ST& x, const ST&, const ST& g) const {
    return o::negative(o::multiply(g, o::sin(x)));
  }
};
struct Tan {
  static constexpr const char* kName = "tan";
  Batch f(Batch x) const { return xsimd::tan(x); }
  Batch df(Batch, Batch y) const { return Batch(1.0f) + y * y; }
  ST vjp(const ST&, const ST& y, const ST& g) const {
    return o::multiply(g, o::add(o::square(y), 1.0f));
  }
};
// d erf(x) = 2 / sqrt(pi) e^(-x^2).
struct Erf {
  static constexpr const char* kName = "erf";
  static constexpr float kC = 1.1283791670955126f;
  Batch f(Batch x) const { return xsimd::erf(x); }
  Batch df(Batch x, Batch) const { return Batch(kC) * xsimd::exp(-x * x); }
  ST vjp(const ST& x, const ST&, const ST& g) const {
    return o::multiply(g, o::multiply(o::exp(o::negative(o::square(x))), kC));
  }
};
struct Log1p {
  static constexpr const char* kName = "log1p";
  Batch f(Batch x) const { return xsimd::log1p(x); }
  Batch df(Batch x, Batch) const { return Batch(1.0f) / (Batch(1.0f) + x); }
  ST vjp(const ST& x, const ST&, const ST& g) const { return o::divide(g, o::add(x, 1.0f)); }
};
struct Expm1 {
  static constexpr const char* kName = "expm1";
  Batch f(Batch x) const { return xsimd::expm1(x); }
  Batch df(Batch, Batch y) const { return y + Batch(1.0f); }
  ST vjp(const ST&, const ST& y, const ST& g) const { return o::multiply(g, o::add(y, 1.0f)); }
};
struct Sinh {
  static constexpr const char* kName = "sinh";
  Batch f(Batch x) const { return xsimd::sinh(x); }
  Batch df(Batch x, Batch) const { return xsimd::cosh(x); }
  ST vjp(const ST& x, const ST&, const ST& g) const { return o::multiply(g, o::cosh(x)); }
};
struct Cosh {
  static constexpr const char* kName = "cosh";
  Batch f(Batch x) const { return xsimd::cosh(x); }
  Batch df(Batch x, Batch) const { return xsimd::sinh(x); }
  ST vjp(const ST& x, const ST&, const ST& g) const { return o::multiply(g, o::sinh(x)); }
};
struct Arctan {
  static constexpr const char* kName = "arctan";
  Batch f(Batch x) const { return xsimd::atan(x); }
  Batch df(Batch x, Batch) const { return Batch(1.0f) / (Batch(1.0f) + x * x); }
  ST vjp(const ST& x, const ST&, const ST& g) const {
    return o::divide(g, o::add(o::square(x), 1.0f));
  }
};
struct Arcsin {
  static constexpr const char* kName = "arcsin";
  Batch f(Batch x) const { return xsimd::asin(x); }
  Batch df(Batch x, Batch) const { return Batch(1.0f) / xsimd::sqrt(Batch(1.0f) - x * x); }
  ST vjp(const ST& x, const ST&, const ST& g) const {
    return o::divide(g, o::sqrt(o::subtract(1.0f, o::square(x))));
  }
};
struct Arccos {
  static constexpr const char* kName = "arccos";
  Batch f(Batch x) const { return xsimd::acos(x); }
  Batch df(Batch x, Batch) const { return Batch(-1.0f) / xsimd::sqrt(Batch(1.0f) - x * x); }
  ST vjp(const ST& x, const ST&, const ST& g) const {
    return o::negative(o::divide(g, o::sqrt(o::subtract(1.0f, o::square(x)))));
  }
};
struct Arcsinh {
  static constexpr const char* kName = "arcsinh";
  Batch f(Batch x) const { return xsimd::asinh(x); }
  Batch df(Batch x, Batch) const { return Batch(1.0f) / xsimd::sqrt(x * x + Batch(1.0f)); }
  ST vjp(const ST& x, const ST&, const ST& g) const {
    return o::divide(g, o::sqrt(o::add(o::square(x), 1.0f)));
  }
};
struct Arccosh {
  static constexpr const char* kName = "arccosh";
  Batch f(Batch x) const { return xsimd::acosh(x); }
  Batch df(Batch x, Batch) const { return Batch(1.0f) / xsimd::sqrt(x * x - Batch(1.0f)); }
  ST vjp(const ST& x, const ST&, const ST& g) const {
    return o::divide(g, o::sqrt(o::subtract(o::square(x), 1.0f)));
  }
};
struct Arctanh {
  static constexpr const char* kName = "arctanh";
  Batch f(Batch x) const { return xsimd::atanh(x); }
  Batch df(Batch x, Batch) const { return Batch(1.0f) / (Batch(1.0f) - x * x); }
  ST vjp(const ST& x, const ST&, const ST& g) const {
    return o::divide(g, o::subtract(1.0f, o::square(x)));
  }
};
// x / (1 + |x|); derivative 1 / (1 + |x|)^2.
struct Softsign {
  static constexpr const char* kName = "softsign";
  Batch f(Batch x) const { return x / (Batch(1.0f) + xsimd::abs(x)); }
  Batch df(Batch x, Batch) const {
    const Batch d = Batch(1.0f) + xsimd::abs(x);
    return Batch(1.0f) / (d * d);
  }
  ST vjp(const ST& x, const ST&, const ST& g) const {
    return o::divide(g, o::square(o::add(o::abs(x), 1.0f)));
  }
};
struct Reciprocal {
  static constexpr const char* kName = "reciprocal";
  Batch f(Batch x) const { return Batch(1.0f) / x; }
  Batch df(Batch, Batch y) const { return -y * y; }
  ST vjp(const ST&, const ST& y, const ST& g) const {
    return o::negative(o::multiply(g, o::square(y)));
  }
};
// Piecewise constant maps: zero derivative, no gradient.
#define PLEXUS_STEP(Name, name, expr)                              \
  struct Name {                                                    \
    static constexpr const char* kName = name;                     \
    Batch f(Batch x) const { return expr; }                        \
    Batch df(Batch, Batch) const { return Batch(0.0f); }           \
    ST vjp(const ST&, const ST&, const ST&) const { return ST(); } \
  };
PLEXUS_STEP(Sign, "sign", ones_where(x > Batch(0.0f)) - ones_where(x < Batch(0.0f)))
PLEXUS_STEP(Floor, "floor", xsimd::floor(x))
PLEXUS_STEP(Ceil, "ceil", xsimd::ceil(x))
PLEXUS_STEP(Round, "round", xsimd::nearbyint(x))
PLEXUS_STEP(Trunc, "trunc", xsimd::trunc(x))
PLEXUS_STEP(IsNan, "isnan", ones_where(xsimd::isnan(x)))
PLEXUS_STEP(IsInf, "isinf", ones_where(xsimd::isinf(x)))
PLEXUS_STEP(IsFinite, "isfinite", ones_where(xsimd::isfinite(x)))
PLEXUS_STEP(LogicalNot, "logical_not", ones_where(x == Batch(0.0f)))
#undef PLEXUS_STEP

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

  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>& outs,
                               const std::vector<ST>& gouts) const override {
    return {op_.vjp(in[0], outs[0], gouts[0])};
  }

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

KernelPtr equal() { return std::make_shared<Binary<Equal>>(); }
KernelPtr not_equal() { return std::make_shared<Binary<NotEqual>>(); }
KernelPtr greater() { return std::make_shared<Binary<Greater>>(); }
KernelPtr greater_equal() { return std::make_shared<Binary<GreaterEqual>>(); }
KernelPtr less() { return std::make_shared<Binary<Less>>(); }
KernelPtr less_equal() { return std::make_shared<Binary<LessEqual>>(); }
KernelPtr logical_and() { return std::make_shared<Binary<LogicalAnd>>(); }
KernelPtr logical_or() { return std::make_shared<Binary<LogicalOr>>(); }
KernelPtr logical_xor() { return std::make_shared<Binary<LogicalXor>>(); }
KernelPtr arctan2() { return std::make_shared<Binary<Arctan2>>(); }
KernelPtr floor_divide() { return std::make_shared<Binary<FloorDivide>>(); }
KernelPtr mod() { return std::make_shared<Binary<Mod>>(); }
KernelPtr sin() { return unary<Sin>(); }
KernelPtr cos() { return unary<Cos>(); }
KernelPtr tan() { return unary<Tan>(); }
KernelPtr erf() { return unary<Erf>(); }
KernelPtr log1p() { return unary<Log1p>(); }
KernelPtr expm1() { return unary<Expm1>(); }
KernelPtr sinh() { return unary<Sinh>(); }
KernelPtr cosh() { return unary<Cosh>(); }
KernelPtr arctan() { return unary<Arctan>(); }
KernelPtr arcsin() { return unary<Arcsin>(); }
KernelPtr arccos() { return unary<Arccos>(); }
KernelPtr arcsinh() { return unary<Arcsinh>(); }
KernelPtr arccosh() { return unary<Arccosh>(); }
KernelPtr arctanh() { return unary<Arctanh>(); }
KernelPtr softsign() { return unary<Softsign>(); }
KernelPtr reciprocal() { return unary<Reciprocal>(); }
KernelPtr sign() { return unary<Sign>(); }
KernelPtr floor() { return unary<Floor>(); }
KernelPtr ceil() { return unary<Ceil>(); }
KernelPtr round() { return unary<Round>(); }
KernelPtr trunc() { return unary<Trunc>(); }
KernelPtr isnan() { return unary<IsNan>(); }
KernelPtr isinf() { return unary<IsInf>(); }
KernelPtr isfinite() { return unary<IsFinite>(); }
KernelPtr logical_not() { return unary<LogicalNot>(); }

}  // namespace plexus::kernels
