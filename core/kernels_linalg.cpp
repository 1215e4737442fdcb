// Matrix products on BLAS (blas::gemm). The VJP passes transpose flags instead of
// materialising transposes, and accumulates with beta = 1:
//   C = A B   ->   dA += dC B^T,   dB += A^T dC.
#include <cblas.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "core/blas.hpp"
#include "core/error.hpp"
#include "core/kernel_util.hpp"
#include "core/kernels.hpp"
#include "graph/detail/gradients.hpp"
#include "graph/ops.hpp"

// The one call into cblas_sgemm (core/blas.hpp); here, beside the matmul kernel, because
// OpenBLAS's cblas.h and core/blas.cpp's weak OpenBLAS declarations do not mix.
namespace plexus::blas {

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (beta == 0.0f) {
      for (std::size_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    }
    return;
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), 1.0f, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

}  // namespace plexus::blas

namespace plexus::kernels {
namespace {

using ST = SymbolicTensor;
namespace o = plexus::ops;

// How a product is laid out for sgemm: `batch` independent [m, k] x [k, n] products over
// contiguous row-major blocks (b's block is shared when b is a single matrix).
struct Gemm {
  std::size_t batch = 1, m = 1, k = 1, n = 1;
  bool shared_b = true;
};

// Shapes handled (NumPy matmul semantics minus batch broadcasting):
//   [..., m, k] x [k, n] -> [..., m, n]  (leading dims of a fold into rows; also [k] x [k, n])
//   [..., m, k] x [k]    -> [..., m]
//   [b..., m, k] x [b..., k, n] -> [b..., m, n]  (same leading dims)
// Works on symbolic shapes too (-1 = unknown).
Shape matmul_shape(const Shape& a, const Shape& b) {
  auto fail = [&](const std::string& why) {
    return Error("matmul: cannot multiply {} by {}: {}", shape_str(a), shape_str(b), why);
  };
  if (a.empty() || b.empty()) throw fail("both operands need at least one dimension");
  const Dim ka = a.back();
  const Dim kb = b.size() == 1 ? b[0] : b[b.size() - 2];
  if (ka >= 0 && kb >= 0 && ka != kb) {
    throw fail(fmt::format("inner dimensions {} and {} differ", ka, kb));
  }
  Shape out(a.begin(), a.end() - 1);
  if (b.size() <= 2) {
    if (b.size() == 2) out.push_back(b[1]);
    return out;
  }
  if (a.size() != b.size()) {
    throw fail(fmt::format("a batched product needs operands of equal rank, got {} and {}",
                           a.size(), b.size()));
  }
  for (std::size_t d = 0; d + 2 < a.size(); ++d) {
    if (a[d] >= 0 && b[d] >= 0 && a[d] != b[d]) {
      throw fail(fmt::format("batch dimension {} differs ({} vs {})", d, a[d], b[d]));
    }
    out[d] = a[d] >= 0 ? a[d] : b[d];
  }
  out.push_back(b.back());
  return out;
}

// C[m, n] = op(A) op(B) + beta C for contiguous row-major A, B and C (blas::gemm).
void sgemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const float* a,
           const float* b, float beta, float* c) {
  blas::gemm(trans_a, trans_b, m, n, k, a, trans_a ? m : k, b, trans_b ? k : n, beta, c, n);
}

class Matmul final : public Kernel {
 public:
  std::string name() const override { return "matmul"; }
  std::size_t num_inputs() const override { return 2; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity("matmul", in, 2);
    return matmul_shape(in[0], in[1]);
  }

  void forward(TensorRefs in, Tensor& out, const Context&) override {
    const Gemm g = layout(*in[0], *in[1]);
    const float* a = in[0]->data();
    const float* b = in[1]->data();
    float* c = out.data();
    for (std::size_t i = 0; i < g.batch; ++i) {
      sgemm(false, false, g.m, g.n, g.k, a + i * g.m * g.k, b + (g.shared_b ? 0 : i * g.k * g.n),
            0.0f, c + i * g.m * g.n);
    }
  }

  // dA[m, k] += dC[m, n] B^T;  dB[k, n] += A^T dC  (summed over the folded rows for free,
  // since the fold makes them one tall matrix).
  void backward(TensorRefs in, const Tensor&, const Tensor& gout, GradRefs gin,
                const Context&) override {
    const Gemm g = layout(*in[0], *in[1]);
    const float* a = in[0]->data();
    const float* b = in[1]->data();
    const float* dc = gout.data();
    for (std::size_t i = 0; i < g.batch; ++i) {
      const float* ai = a + i * g.m * g.k;
      const float* bi = b + (g.shared_b ? 0 : i * g.k * g.n);
      const float* dci = dc + i * g.m * g.n;
      if (gin[0]) sgemm(false, true, g.m, g.k, g.n, dci, bi, 1.0f, gin[0]->data() + i * g.m * g.k);
      if (gin[1]) {
        sgemm(true, false, g.k, g.n, g.m, ai, dci, 1.0f,
              gin[1]->data() + (g.shared_b ? 0 : i * g.k * g.n));
      }
    }
  }

  KernelPtr clone() const override { return std::make_shared<Matmul>(); }
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>& outs,
                               const std::vector<ST>& gouts) const override {
    (void)outs;
    const ST &a = in[0], &b = in[1], &g = gouts[0];
    if (b.rank() == 2) {  // [..., m, k] x [k, n] (a vector a: [k])
      const Dim k = b.shape()[0], n = b.shape()[1];
      if (k < 0 || n < 0) return {};
      const ST a2 = o::reshape(a, {-1, k}), g2 = o::reshape(g, {-1, n});
      return {o::matmul(g, o::transpose(b)), o::matmul(o::transpose(a2), g2)};
    }
    if (b.rank() == 1) {  // [..., k] x [k] -> [...]
      const Dim k = b.shape()[0];
      if (k < 0) return {};
      const ST g2 = o::reshape(g, {-1, 1});
      const ST ga = o::matmul(g2, o::reshape(b, {1, k}));
      const ST gb = o::matmul(o::transpose(o::reshape(a, {-1, k})), g2);
      return {o::detail::reshape_as(ga, a), o::reshape(gb, {k})};
    }
    std::vector<std::size_t> perm(a.rank());
    for (std::size_t d = 0; d < perm.size(); ++d) perm[d] = d;
    std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
    return {o::matmul(g, o::transpose(b, perm)), o::matmul(o::transpose(a, perm), g)};
  }

 private:
  // The sgemm layout of concrete operands (already validated by output_shape), worked
  // out without allocating.
  static Gemm layout(const Tensor& a, const Tensor& b) {
    const auto& sa = a.shape();
    const auto& sb = b.shape();
    Gemm g;
    g.k = sa.back();
    if (sb.size() <= 2) {
      g.m = 1;
      for (std::size_t d = 0; d + 1 < sa.size(); ++d) g.m *= sa[d];
      g.n = sb.size() == 2 ? sb[1] : 1;
      return g;
    }
    for (std::size_t d = 0; d + 2 < sa.size(); ++d) g.batch *= sa[d];
    g.m = sa[sa.size() - 2];
    g.n = sb.back();
    g.shared_b = false;
    return g;
  }
};

}  // namespace

KernelPtr matmul() {
  blas::ensure_cpu_kernels();  // before the first GEMM (see core/blas.hpp)
  return std::make_shared<Matmul>();
}

}  // namespace plexus::kernels
