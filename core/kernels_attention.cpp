// Attention kernels: multi-head scaled dot-product attention (MultiHeadAttention's core),
// the masked softmax of Attention / AdditiveAttention, and expand_dims.
//
// attention, per sample b and head h (q_h, k_h, v_h are strided column blocks of q, k, v,
// handed to sgemm with their leading dimensions, so no head is ever copied out):
//   z = scale * q_h k_h^T                       [T, S]
//   p = where(allowed, softmax(where(allowed, z, -1e9)), 0)     (Keras 3's Softmax(mask))
//   o_h = (p * d) v_h                           d = dropout mask / (1 - rate), or 1
// VJP:  dpd = do_h v_h^T;  dv_h += (p * d)^T do_h;  dp = dpd * d + dp_out;
//       dz = p * (dp - rowsum(p * dp));  dq_h += scale dz k_h;  dk_h += scale dz^T q_h.
// A masked entry has p = 0, so it gets no gradient; a row with nothing allowed is all zero.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "core/blas.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/kernel_util.hpp"
#include "core/kernels.hpp"
#include "core/random.hpp"
#include "graph/detail/gradients.hpp"
#include "graph/ops.hpp"

namespace plexus::kernels {
namespace {

using ST = SymbolicTensor;
namespace o = plexus::ops;

constexpr float kLargeNegative = -1e9f;  // Keras's _large_negative_number for float32

using blas::gemm;

// A mask [Nm, Tm, Sm] broadcast to [N, T, S] (each of Nm, Tm, Sm is 1 or the full size).
struct MaskView {
  const float* data = nullptr;
  std::size_t n = 1, t = 1, s = 1;
  bool allowed(std::size_t b, std::size_t i, std::size_t j) const {
    if (!data) return true;
    const std::size_t bi = n == 1 ? 0 : b, ti = t == 1 ? 0 : i, sj = s == 1 ? 0 : j;
    return data[(bi * t + ti) * s + sj] != 0.0f;
  }
};

// The mask's shape must be rank 3 and broadcast to [n, t, s] (-1 = unknown).
void check_mask(const char* op, const Shape& mask, Dim n, Dim t, Dim s) {
  const Dim want[3] = {n, t, s};
  bool ok = mask.size() == 3;
  for (std::size_t d = 0; ok && d < 3; ++d) {
    ok = mask[d] == 1 || mask[d] < 0 || want[d] < 0 || mask[d] == want[d];
  }
  if (!ok) {
    throw Error("{}: the mask {} does not broadcast to [batch, query steps, key steps] = {}", op,
                shape_str(mask), shape_str(Shape{n, t, s}));
  }
}

void fill_dropout(std::vector<float>& d, float rate) {
  const std::uint64_t seed = generator()();
  const auto threshold = static_cast<std::uint64_t>((1.0 - double(rate)) * 4294967296.0);
  const float scale = 1.0f / (1.0f - rate);
  for (std::size_t i = 0; i < d.size(); ++i) {  // splitmix64 of a counter, as kernels::dropout
    std::uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    d[i] = (z >> 32) < threshold ? scale : 0.0f;
  }
}

class Attention final : public MultiKernel {
 public:
  explicit Attention(AttentionConfig c) : c_(c) {
    if (c_.heads <= 0) throw Error("attention: heads must be positive, received {}", c_.heads);
    if (!(c_.dropout >= 0.0f && c_.dropout < 1.0f)) {
      throw Error("attention: dropout must be in [0, 1), received {}", c_.dropout);
    }
  }
  std::string name() const override { return "attention"; }
  std::size_t num_outputs() const override { return 2; }
  std::size_t num_inputs() const override { return c_.masked ? 4 : 3; }

  std::vector<Shape> output_shapes(ShapeRefs in) const override {
    check_arity("attention", in, num_inputs());
    const Shape &q = in[0], &k = in[1], &v = in[2];
    auto fail = [&](const char* why) {
      return Error("attention: query {}, key {}, value {}: {}", shape_str(q), shape_str(k),
                   shape_str(v), why);
    };
    if (q.size() != 3 || k.size() != 3 || v.size() != 3)
      throw fail("all must be [batch, steps, heads * dim]");
    auto differ = [](Dim a, Dim b) { return a >= 0 && b >= 0 && a != b; };
    if (differ(q[0], k[0]) || differ(q[0], v[0]) || differ(k[0], v[0]))
      throw fail("batch sizes differ");
    if (differ(k[1], v[1])) throw fail("key and value steps differ");
    if (differ(q[2], k[2])) throw fail("query and key feature sizes differ");
    for (Dim f : {q[2], v[2]}) {
      if (f >= 0 && f % c_.heads != 0) throw fail("feature sizes must be multiples of the heads");
    }
    const Dim n = q[0] >= 0 ? q[0] : (k[0] >= 0 ? k[0] : v[0]);
    const Dim s = k[1] >= 0 ? k[1] : v[1];
    if (c_.masked) check_mask("attention", in[3], n, q[1], s);
    return {{n, q[1], v[2]}, {n, c_.heads, q[1], s}};
  }

  void forward_all(TensorRefs in, std::span<Tensor* const> outs, const Context& ctx) override {
    const Dims d = dims(in);
    const float* q = in[0]->data();
    const float* k = in[1]->data();
    const float* v = in[2]->data();
    float* o = outs[0]->data();
    float* p = outs[1]->data();
    const MaskView mask = mask_view(in);
    dropping_ = ctx.training && c_.dropout > 0.0f;
    if (dropping_) {
      drop_.resize(outs[1]->size());
      fill_dropout(drop_, c_.dropout);
      pd_.resize(d.t * d.s);
    }
    const std::size_t hk = d.h * d.k, hv = d.h * d.v;
    for (std::size_t b = 0; b < d.n; ++b) {
      for (std::size_t h = 0; h < d.h; ++h) {
        float* pbh = p + (b * d.h + h) * d.t * d.s;
        gemm(false, true, d.t, d.s, d.k, q + b * d.t * hk + h * d.k, hk, k + b * d.s * hk + h * d.k,
             hk, 0.0f, pbh, d.s);
        for (std::size_t i = 0; i < d.t; ++i) {
          float* row = pbh + i * d.s;
          float m = -std::numeric_limits<float>::infinity();
          for (std::size_t j = 0; j < d.s; ++j) {
            row[j] = allowed(mask, b, i, j) ? row[j] * c_.scale : kLargeNegative;
            m = std::max(m, row[j]);
          }
          double sum = 0;
          for (std::size_t j = 0; j < d.s; ++j) {
            row[j] = std::exp(row[j] - m);
            sum += row[j];
          }
          const float inv = static_cast<float>(1.0 / sum);
          for (std::size_t j = 0; j < d.s; ++j) {
            row[j] = allowed(mask, b, i, j) ? row[j] * inv : 0.0f;
          }
        }
        const float* weights = pbh;
        if (dropping_) {
          const float* dm = drop_.data() + (b * d.h + h) * d.t * d.s;
          for (std::size_t e = 0; e < d.t * d.s; ++e) pd_[e] = pbh[e] * dm[e];
          weights = pd_.data();
        }
        gemm(false, false, d.t, d.v, d.s, weights, d.s, v + b * d.s * hv + h * d.v, hv, 0.0f,
             o + b * d.t * hv + h * d.v, hv);
      }
    }
  }

  void backward_all(TensorRefs in, TensorRefs outs, TensorRefs gouts, GradRefs gin,
                    const Context&) override {
    const Dims d = dims(in);
    const float* q = in[0]->data();
    const float* k = in[1]->data();
    const float* v = in[2]->data();
    const float* p = outs[1]->data();
    const float* go = gouts[0]->data();
    const float* gp = gouts[1]->data();
    const std::size_t hk = d.h * d.k, hv = d.h * d.v, ts = d.t * d.s;
    dp_.resize(ts);
    pd_.resize(ts);
    for (std::size_t b = 0; b < d.n; ++b) {
      for (std::size_t h = 0; h < d.h; ++h) {
        const std::size_t at = (b * d.h + h) * ts;
        const float* pbh = p + at;
        const float* dm = dropping_ ? drop_.data() + at : nullptr;
        const float* gob = go + b * d.t * hv + h * d.v;
        const float* vb = v + b * d.s * hv + h * d.v;
        // dpd = do v^T [T, S]
        gemm(false, true, d.t, d.s, d.v, gob, hv, vb, hv, 0.0f, dp_.data(), d.s);
        if (gin[2]) {
          const float* weights = pbh;
          if (dm) {
            for (std::size_t e = 0; e < ts; ++e) pd_[e] = pbh[e] * dm[e];
            weights = pd_.data();
          }
          gemm(true, false, d.s, d.v, d.t, weights, d.s, gob, hv, 1.0f,
               gin[2]->data() + b * d.s * hv + h * d.v, hv);
        }
        if (!gin[0] && !gin[1]) continue;
        for (std::size_t i = 0; i < d.t; ++i) {
          float* row = dp_.data() + i * d.s;
          const float* prow = pbh + i * d.s;
          const float* gprow = gp + at + i * d.s;
          double dot = 0;
          for (std::size_t j = 0; j < d.s; ++j) {
            row[j] = (dm ? row[j] * dm[i * d.s + j] : row[j]) + gprow[j];
            dot += double(row[j]) * prow[j];
          }
          const float fdot = static_cast<float>(dot);
          for (std::size_t j = 0; j < d.s; ++j) row[j] = c_.scale * prow[j] * (row[j] - fdot);
        }
        if (gin[0]) {
          gemm(false, false, d.t, d.k, d.s, dp_.data(), d.s, k + b * d.s * hk + h * d.k, hk, 1.0f,
               gin[0]->data() + b * d.t * hk + h * d.k, hk);
        }
        if (gin[1]) {
          gemm(true, false, d.s, d.k, d.t, dp_.data(), d.s, q + b * d.t * hk + h * d.k, hk, 1.0f,
               gin[1]->data() + b * d.s * hk + h * d.k, hk);
        }
      }
    }
  }

  KernelPtr clone() const override { return std::make_shared<Attention>(c_); }

 private:
  struct Dims {
    std::size_t n, t, s, h, k, v;
  };
  Dims dims(TensorRefs in) const {
    const auto& q = in[0]->shape();
    const auto& k = in[1]->shape();
    const auto& v = in[2]->shape();
    const auto h = static_cast<std::size_t>(c_.heads);
    return {q[0], q[1], k[1], h, q[2] / h, v[2] / h};
  }
  MaskView mask_view(TensorRefs in) const {
    MaskView m;
    if (!c_.masked) return m;
    const auto& s = in[3]->shape();
    m.data = in[3]->data();
    m.n = s[0];
    m.t = s[1];
    m.s = s[2];
    return m;
  }
  bool allowed(const MaskView& m, std::size_t b, std::size_t i, std::size_t j) const {
    return (!c_.causal || j <= i) && m.allowed(b, i, j);
  }

  AttentionConfig c_;
  bool dropping_ = false;
  std::vector<float> drop_, pd_, dp_;
};

// masked_softmax(x[, mask]): softmax over the last axis of x [..., T, S] after
// x - 1e9 where not allowed (Keras's Attention._apply_scores); the mask is [Nm, Tm, Sm]
// broadcast to x's [N, T, S] (x of rank 3), causal allows j <= i. VJP: the softmax's
// (the subtraction has derivative 1).
class MaskedSoftmax final : public Kernel {
 public:
  MaskedSoftmax(bool masked, bool causal) : masked_(masked), causal_(causal) {}
  std::string name() const override { return "masked_softmax"; }
  std::size_t num_inputs() const override { return masked_ ? 2 : 1; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity("masked_softmax", in, num_inputs());
    if (in[0].size() != 3) {
      throw Error("masked_softmax: expected scores [batch, query steps, key steps], received {}",
                  shape_str(in[0]));
    }
    if (masked_) check_mask("masked_softmax", in[1], in[0][0], in[0][1], in[0][2]);
    return in[0];
  }
  void forward(TensorRefs in, Tensor& out, const Context&) override {
    const auto& sh = in[0]->shape();
    const std::size_t n = sh[0], t = sh[1], s = sh[2];
    MaskView m;
    if (masked_) {
      m.data = in[1]->data();
      m.n = in[1]->shape()[0];
      m.t = in[1]->shape()[1];
      m.s = in[1]->shape()[2];
    }
    const float* x = in[0]->data();
    float* y = out.data();
    for (std::size_t b = 0; b < n; ++b) {
      for (std::size_t i = 0; i < t; ++i) {
        const float* xr = x + (b * t + i) * s;
        float* yr = y + (b * t + i) * s;
        float mx = -std::numeric_limits<float>::infinity();
        for (std::size_t j = 0; j < s; ++j) {
          const bool ok = (!causal_ || j <= i) && m.allowed(b, i, j);
          yr[j] = ok ? xr[j] : xr[j] + kLargeNegative;
          mx = std::max(mx, yr[j]);
        }
        double sum = 0;
        for (std::size_t j = 0; j < s; ++j) {
          yr[j] = std::exp(yr[j] - mx);
          sum += yr[j];
        }
        const float inv = static_cast<float>(1.0 / sum);
        for (std::size_t j = 0; j < s; ++j) yr[j] *= inv;
      }
    }
  }
  void backward(TensorRefs in, const Tensor& out, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (!gin[0]) return;
    const std::size_t s = in[0]->shape()[2];
    const std::size_t rows = in[0]->size() / std::max<std::size_t>(s, 1);
    const float* y = out.data();
    const float* g = gout.data();
    float* gx = gin[0]->data();
    for (std::size_t r = 0; r < rows; ++r) {
      double dot = 0;
      for (std::size_t j = 0; j < s; ++j) dot += double(g[r * s + j]) * y[r * s + j];
      const float fdot = static_cast<float>(dot);
      for (std::size_t j = 0; j < s; ++j) gx[r * s + j] += y[r * s + j] * (g[r * s + j] - fdot);
    }
  }
  KernelPtr clone() const override { return std::make_shared<MaskedSoftmax>(masked_, causal_); }
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>& outs,
                               const std::vector<ST>& gouts) const override {
    const ST &y = outs[0], &g = gouts[0];
    std::vector<ST> grads = {o::multiply(y, o::subtract(g, o::sum(o::multiply(g, y), {-1}, true)))};
    if (in.size() > 1) grads.emplace_back();
    return grads;
  }

 private:
  bool masked_, causal_;
};

// expand_dims(x): x with a new axis of length 1 at `axis` (of the output's rank). The data
// do not move: forward copies, the VJP adds the gradient back.
class ExpandDims final : public Kernel {
 public:
  explicit ExpandDims(Dim axis) : axis_(axis) {}
  std::string name() const override { return "expand_dims"; }
  std::size_t num_inputs() const override { return 1; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity("expand_dims", in, 1);
    const std::size_t a = normalize_axis(axis_, in[0].size() + 1, "expand_dims");
    Shape out = in[0];
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(a), 1);
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
  KernelPtr clone() const override { return std::make_shared<ExpandDims>(axis_); }
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>& outs,
                               const std::vector<ST>& gouts) const override {
    (void)outs;
    return {o::detail::reshape_as(gouts[0], in[0])};
  }

 private:
  Dim axis_;
};

}  // namespace

KernelPtr attention(AttentionConfig config) {
  blas::ensure_cpu_kernels();
  return std::make_shared<Attention>(config);
}
KernelPtr masked_softmax(bool masked, bool causal) {
  return std::make_shared<MaskedSoftmax>(masked, causal);
}
KernelPtr expand_dims(Dim axis) { return std::make_shared<ExpandDims>(axis); }

}  // namespace plexus::kernels
