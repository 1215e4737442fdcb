// The BLAS behind plexus (OpenBLAS from Debian) and its CPU kernel choice.
#pragma once

#include <cstddef>
#include <string>

namespace plexus::blas {

// OpenBLAS 0.3.21 (Debian 12) does not recognise recent Intel models (e.g. family 6
// model 207) and silently falls back to its SSE3 "Prescott" kernels — about 5x slower
// GEMM on an AVX-512 machine (OpenBLAS issue 4267, fixed in 0.3.25). When that happened
// and the user did not choose a core with OPENBLAS_CORETYPE, re-select the kernels the
// CPU supports (SkylakeX for AVX-512, Haswell for AVX2). Also sets one BLAS thread unless
// OPENBLAS_NUM_THREADS or OMP_NUM_THREADS says otherwise (see blas.cpp for why). Safe to
// call often; acts once, before the first GEMM. No effect with other BLAS libraries.
void ensure_cpu_kernels();

// "OpenBLAS Cooperlake" (or "unknown BLAS"), for benchmarks and bug reports.
std::string description();

// Threads used by BLAS calls (OpenBLAS); 0 leaves the library default.
void set_num_threads(int threads);
int num_threads();

// C[m, n] = op(A) op(B) + beta C, row-major with leading dimensions lda, ldb, ldc, where
// op(X) is X, or X^T when its flag is set: the one call into cblas_sgemm for every kernel.
// Empty products are handled here (BLAS rejects them): m = 0 or n = 0 does nothing; k = 0
// zeroes C when beta = 0 and leaves it otherwise.
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc);

}  // namespace plexus::blas
