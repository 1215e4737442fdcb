// Geometry shared by the convolution and pooling kernels (core/kernels_conv.cpp,
// core/kernels_pool.cpp): a sliding window along each spatial axis, and the [N, H, W, C]
// view that every 1-D and 2-D image op works on (1-D runs as 2-D with H = 1).
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/kernel_util.hpp"
#include "core/tensor.hpp"

namespace plexus::spatial {

// One spatial axis of a sliding window.
struct Window {
  Dim size = 1, stride = 1, dilation = 1;
  bool same = false;  // padding "same" (else "valid")
  Dim extent() const { return (size - 1) * dilation + 1; }
};

// Output length along one axis (TF/Keras rules): valid: floor((in - extent) / stride) + 1,
// same: ceil(in / stride). -1 stays -1; 0 when the window does not fit.
inline Dim output_length(Dim in, const Window& w) {
  if (in < 0) return -1;
  if (w.same) return (in + w.stride - 1) / w.stride;
  const Dim span = in - w.extent();
  return span < 0 ? 0 : span / w.stride + 1;
}

// Zeros added before the first element: TF puts the odd one of an odd total after.
inline Dim pad_before(Dim in, Dim out, const Window& w) {
  if (!w.same) return 0;
  const Dim total = std::max<Dim>((out - 1) * w.stride + w.extent() - in, 0);
  return total / 2;
}

// "valid" or "same" -> same; anything else throws naming `op`.
inline bool parse_padding(std::string_view padding, std::string_view op) {
  if (padding == "valid") return false;
  if (padding == "same") return true;
  throw Error("{}: padding must be \"valid\" or \"same\", received \"{}\"", op, padding);
}

// A per-axis parameter list of length `rank` (empty = all `fallback`; one value = that
// value on every axis); values must be >= 1.
inline std::vector<Dim> per_axis(std::vector<Dim> v, std::size_t rank, Dim fallback,
                                 std::string_view op, std::string_view what) {
  if (v.empty()) v.assign(rank, fallback);
  if (v.size() == 1 && rank > 1) v.assign(rank, v[0]);
  if (v.size() != rank) {
    throw Error("{}: {} needs {} values, received {}", op, what, rank, v.size());
  }
  for (Dim d : v) {
    if (d < 1) throw Error("{}: {} must be positive, received ({})", op, what, join(v));
  }
  return v;
}

// The image view of an [N, spatial..., C] (or [N, C, spatial...]) tensor, with 1-D
// inputs mapped to H = 1.
struct Image {
  Dim n = 0, h = 1, w = 1, c = 0;
};

// Reads the image view of a shape of rank spatial_rank + 2; throws naming `op` and
// `what` otherwise.
inline Image image_of(const Shape& s, std::size_t spatial_rank, bool channels_first,
                      std::string_view op, std::string_view what) {
  if (s.size() != spatial_rank + 2) {
    throw Error(
        "{}: {} must have rank {} ({}), received shape {}", op, what, spatial_rank + 2,
        spatial_rank == 1
            ? (channels_first ? "batch, channels, steps" : "batch, steps, channels")
            : (channels_first ? "batch, channels, rows, cols" : "batch, rows, cols, channels"),
        shape_str(s));
  }
  Image im;
  im.n = s[0];
  im.c = channels_first ? s[1] : s.back();
  const std::size_t first = channels_first ? 2 : 1;
  if (spatial_rank == 2) im.h = s[first];
  im.w = s[first + spatial_rank - 1];
  return im;
}

// The shape of an image view back in the op's layout.
inline Shape shape_of_image(const Image& im, std::size_t spatial_rank, bool channels_first) {
  Shape s{im.n};
  if (channels_first) s.push_back(im.c);
  if (spatial_rank == 2) s.push_back(im.h);
  s.push_back(im.w);
  if (!channels_first) s.push_back(im.c);
  return s;
}

// Windows along (H, W) from per-axis parameters of a 1-D or 2-D op (1-D: H is trivial).
inline std::array<Window, 2> windows(std::size_t spatial_rank, const std::vector<Dim>& size,
                                     const std::vector<Dim>& strides,
                                     const std::vector<Dim>& dilation, bool same) {
  std::array<Window, 2> w{};
  const std::size_t off = 2 - spatial_rank;
  for (std::size_t a = 0; a < spatial_rank; ++a) {
    w[a + off] = {size[a], strides[a], dilation[a], same};
  }
  return w;
}

}  // namespace plexus::spatial
