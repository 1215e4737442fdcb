// Helpers shared by the kernel families (core/kernels_*.cpp): NumPy broadcasting of
// shapes, an allocation-free strided loop over several operands, and the reduction of a
// broadcast gradient back to an input's shape.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/kernel.hpp"
#include "core/tensor.hpp"

// Inner-loop helpers must inline into the kernel's loop body: left as calls, the loop
// reads its captured pointers through memory that the stores may alias, and stays scalar.
#define PLEXUS_ALWAYS_INLINE inline __attribute__((always_inline))

namespace plexus {

// NumPy broadcasting of two shapes, aligned on the right. With -1 (unknown):
// -1 vs 1 -> -1, -1 vs n -> n, -1 vs -1 -> -1; n vs m (both > 1, different) throws
// px::Error naming `op` and both shapes.
Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b);

// "a, b, c" (fmt::join trips a GCC 12 -Wstringop-overflow false positive in fmt 9).
template <typename Range>
std::string join(const Range& items, std::string_view sep = ", ") {
  std::string s;
  for (const auto& item : items) {
    if (!s.empty()) s += sep;
    s += fmt::format("{}", item);
  }
  return s;
}

// Throws px::Error unless `in` holds exactly n shapes ("add: expected 2 inputs, received 3").
void check_arity(std::string_view op, ShapeRefs in, std::size_t n);

// g has a shape that `target`'s shape broadcasts to; adds g summed over the broadcast
// axes into target: target += reduce_sum(g) (the VJP of broadcasting). Allocation-free.
void accumulate_reduced(const Tensor& g, Tensor& target);

// Row-major element strides of a concrete shape.
template <typename S>
void row_major_strides(const S& shape, std::vector<std::ptrdiff_t>& strides) {
  strides.resize(shape.size());
  std::ptrdiff_t s = 1;
  for (std::size_t d = shape.size(); d-- > 0;) {
    strides[d] = s;
    s *= static_cast<std::ptrdiff_t>(shape[d]);
  }
}

// Loops over an iteration shape, tracking an element offset into each of N operands
// with its own strides (0 along broadcast axes). Adjacent axes that all operands walk
// contiguously are merged, so [N, M] + [M] runs as N rows of an M-long inner loop and
// same-shape operands run as one flat loop. The vectors are reused between plans, so a
// kernel that keeps a StridedLoop as a member allocates only when the rank grows.
template <std::size_t N>
class StridedLoop {
 public:
  using Offsets = std::array<std::ptrdiff_t, N>;

  // Starts a plan over `shape` (concrete).
  template <typename S>
  void reset(const S& shape) {
    shape_.assign(shape.begin(), shape.end());
    for (auto& s : strides_) s.assign(shape_.size(), 0);
  }
  // Operand k walks a contiguous tensor of shape `operand_shape`, right-aligned with the
  // iteration shape; its size-1 axes (and missing leading axes) are broadcast.
  template <typename S>
  void set_broadcast(std::size_t k, const S& operand_shape) {
    const std::size_t lead = shape_.size() - operand_shape.size();
    std::ptrdiff_t s = 1;
    for (std::size_t d = operand_shape.size(); d-- > 0;) {
      const auto n = static_cast<std::ptrdiff_t>(operand_shape[d]);
      strides_[k][lead + d] = n == 1 ? 0 : s;
      s *= n;
    }
  }
  // Operand k walks explicit strides (one per iteration axis), e.g. a transpose.
  void set_strides(std::size_t k, const std::vector<std::ptrdiff_t>& strides) {
    strides_[k].assign(strides.begin(), strides.end());
  }
  std::vector<std::ptrdiff_t>& strides(std::size_t k) { return strides_[k]; }

  // Drops size-1 axes and merges mergeable neighbours, then calls
  // body(base offsets, inner count, inner steps) once per inner row. An operand set with
  // set_broadcast(k, iteration shape) always has inner step 1.
  template <typename Body>
  void run(Body&& body) {
    simplify();
    Offsets base{};
    Offsets step{};
    const std::size_t rank = shape_.size();
    if (rank == 0) {
      body(base, std::size_t{1}, step);
      return;
    }
    for (std::size_t k = 0; k < N; ++k) step[k] = strides_[k][rank - 1];
    const std::size_t inner = shape_[rank - 1];
    if (inner == 0) return;
    for (std::size_t d = 0; d + 1 < rank; ++d) {
      if (shape_[d] == 0) return;
    }
    index_.assign(rank, 0);
    while (true) {
      body(base, inner, step);
      // Odometer over the outer axes.
      std::size_t d = rank - 1;
      while (d-- > 0) {
        if (++index_[d] < shape_[d]) {
          for (std::size_t k = 0; k < N; ++k) base[k] += strides_[k][d];
          break;
        }
        index_[d] = 0;
        for (std::size_t k = 0; k < N; ++k) {
          base[k] -= strides_[k][d] * static_cast<std::ptrdiff_t>(shape_[d] - 1);
        }
      }
      if (d == static_cast<std::size_t>(-1)) return;
    }
  }

 private:
  void simplify() {
    std::size_t w = 0;
    for (std::size_t d = 0; d < shape_.size(); ++d) {
      if (shape_[d] == 1) continue;
      if (w > 0) {
        bool merge = true;
        for (std::size_t k = 0; k < N && merge; ++k) {
          merge = strides_[k][w - 1] == strides_[k][d] * static_cast<std::ptrdiff_t>(shape_[d]);
        }
        if (merge) {
          shape_[w - 1] *= shape_[d];
          for (std::size_t k = 0; k < N; ++k) strides_[k][w - 1] = strides_[k][d];
          continue;
        }
      }
      shape_[w] = shape_[d];
      for (std::size_t k = 0; k < N; ++k) strides_[k][w] = strides_[k][d];
      ++w;
    }
    shape_.resize(w);
    for (auto& s : strides_) s.resize(w);
  }

  std::vector<std::size_t> shape_;
  std::array<std::vector<std::ptrdiff_t>, N> strides_;
  std::vector<std::size_t> index_;
};

// Calls f(s0, s1) with the two inner-loop steps, as compile-time constants for the
// common patterns (contiguous = 1, broadcast = 0) so each gets its own vectorised loop.
template <typename F>
PLEXUS_ALWAYS_INLINE void with_steps(std::ptrdiff_t s0, std::ptrdiff_t s1, F&& f) {
  using One = std::integral_constant<std::ptrdiff_t, 1>;
  using Zero = std::integral_constant<std::ptrdiff_t, 0>;
  if (s0 == 1 && s1 == 1) {
    f(One{}, One{});
  } else if (s0 == 1 && s1 == 0) {
    f(One{}, Zero{});
  } else if (s0 == 0 && s1 == 1) {
    f(Zero{}, One{});
  } else {
    f(s0, s1);
  }
}

// i * step as an offset (step may be a compile-time constant from with_steps).
template <typename Step>
PLEXUS_ALWAYS_INLINE std::ptrdiff_t idx(std::size_t i, Step step) {
  return static_cast<std::ptrdiff_t>(i) * static_cast<std::ptrdiff_t>(step);
}

// sum of x[0, n) with 16 partial sums (GCC/Clang vector extension): a plain `s += x[i]`
// loop stays scalar, since the compiler may not reassociate float additions.
PLEXUS_ALWAYS_INLINE float sum_contiguous(const float* x, std::size_t n) {
  typedef float Lanes __attribute__((vector_size(64)));
  Lanes acc = {};
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    Lanes v;
    std::memcpy(&v, x + i, sizeof v);
    acc += v;
  }
  float s = 0.0f;
  for (int l = 0; l < 16; ++l) s += acc[l];
  for (; i < n; ++i) s += x[i];
  return s;
}

// dst[i * step] += value(i) for i < n. Step 0 is a reduction into one element: the
// values are staged in chunks on the stack (a vectorisable map) and summed with
// sum_contiguous.
template <typename F>
PLEXUS_ALWAYS_INLINE void scatter_add(float* dst, std::ptrdiff_t step, std::size_t n, F&& value) {
  if (step == 1) {
    for (std::size_t i = 0; i < n; ++i) dst[i] += value(i);
  } else if (step == 0) {
    constexpr std::size_t kChunk = 256;
    alignas(64) float chunk[kChunk];
    float s = 0.0f;
    for (std::size_t i0 = 0; i0 < n; i0 += kChunk) {
      const std::size_t m = std::min(kChunk, n - i0);
      for (std::size_t j = 0; j < m; ++j) chunk[j] = value(i0 + j);
      s += sum_contiguous(chunk, m);
    }
    *dst += s;
  } else {
    for (std::size_t i = 0; i < n; ++i) dst[static_cast<std::ptrdiff_t>(i) * step] += value(i);
  }
}

// True when both tensors have exactly the same shape.
inline bool same_shape(const Tensor& a, const Tensor& b) {
  return a.dimension() == b.dimension() &&
         std::equal(a.shape().begin(), a.shape().end(), b.shape().begin());
}

}  // namespace plexus
