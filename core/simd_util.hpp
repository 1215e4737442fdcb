// SIMD maps over float buffers (xsimd), for element-wise kernels whose scalar loops the
// compiler cannot vectorise (exp, log, tanh, erf: libm calls). Internal to core/.
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <xsimd/xsimd.hpp>

namespace plexus::simd {

using Batch = xsimd::batch<float>;
inline constexpr std::size_t kWidth = Batch::size;

namespace detail {
template <typename F, std::size_t... I, typename... P>
inline void apply_tail(float* out, std::size_t n, F& f, std::index_sequence<I...>, const P*... in) {
  alignas(64) float tail[sizeof...(P) + 1][kWidth] = {};
  ((std::copy(in, in + n, tail[I])), ...);
  f(Batch::load_aligned(tail[I])...).store_aligned(tail[sizeof...(P)]);
  std::copy(tail[sizeof...(P)], tail[sizeof...(P)] + n, out);
}
}  // namespace detail

// out[i] = f(in[i]...) for i < n, with f written once for Batch (it may use xsimd::exp,
// xsimd::select, ...). The tail runs on a zero-padded batch so every element goes
// through the same code. `out` may alias an input (element-wise read before write).
template <typename F, typename... P>
inline void apply(float* out, std::size_t n, F&& f, const P*... in) {
  std::size_t i = 0;
  for (; i + kWidth <= n; i += kWidth) {
    f(Batch::load_unaligned(in + i)...).store_unaligned(out + i);
  }
  if (i < n) {
    detail::apply_tail(out + i, n - i, f, std::index_sequence_for<P...>{}, (in + i)...);
  }
}

// sum of x[0, n): kWidth-lane partial sums, then the tail.
inline float reduce_sum(const float* x, std::size_t n) {
  Batch acc(0.0f);
  std::size_t i = 0;
  for (; i + kWidth <= n; i += kWidth) acc += Batch::load_unaligned(x + i);
  float s = xsimd::hadd(acc);
  for (; i < n; ++i) s += x[i];
  return s;
}

// sum of a[i] * b[i] over [0, n).
inline float dot(const float* a, const float* b, std::size_t n) {
  Batch acc(0.0f);
  std::size_t i = 0;
  for (; i + kWidth <= n; i += kWidth) {
    acc = xsimd::fma(Batch::load_unaligned(a + i), Batch::load_unaligned(b + i), acc);
  }
  float s = xsimd::hadd(acc);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// max of x[0, n), n > 0.
inline float reduce_max(const float* x, std::size_t n) {
  float m = x[0];
  std::size_t i = 0;
  if (n >= kWidth) {
    Batch acc = Batch::load_unaligned(x);
    for (i = kWidth; i + kWidth <= n; i += kWidth) {
      acc = xsimd::max(acc, Batch::load_unaligned(x + i));
    }
    alignas(64) float lanes[kWidth];
    acc.store_aligned(lanes);
    for (float v : lanes) m = std::max(m, v);
  }
  for (; i < n; ++i) m = std::max(m, x[i]);
  return m;
}

}  // namespace plexus::simd
