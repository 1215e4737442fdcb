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
inline void apply_tail(float* out, std::size_t n, F& f, std::index_sequence<I...>,
                       const P*... in) {
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

}  // namespace plexus::simd
