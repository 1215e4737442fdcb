// Plain reference implementations of the image kernels (convolution, transposed
// convolution, pooling, padding) for tests/test_ops.cpp: loops straight from the
// definitions, in double, sharing no code with core/kernels_conv.cpp or kernels_pool.cpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/tensor.hpp"

namespace image_ref {

using plexus::Dim;
using plexus::Shape;
using plexus::Tensor;

struct Spec {
  std::size_t rank = 2;        // spatial axes
  std::vector<Dim> strides{};  // per spatial axis; empty = 1
  std::vector<Dim> dilation{};
  bool same = false;
  Dim groups = 1;
  bool channels_first = false;
};

// A 4-D accessor over [N, H, W, C] for either layout and 1 or 2 spatial axes.
struct View {
  Dim n, h, w, c;
  bool cf;
  std::size_t rank;
  std::size_t at(Dim in, Dim ih, Dim iw, Dim ic) const {
    if (cf) return static_cast<std::size_t>(((in * c + ic) * h + ih) * w + iw);
    return static_cast<std::size_t>(((in * h + ih) * w + iw) * c + ic);
  }
  Shape shape() const {
    Shape s{n};
    if (cf) s.push_back(c);
    if (rank == 2) s.push_back(h);
    s.push_back(w);
    if (!cf) s.push_back(c);
    return s;
  }
};

inline View view(const Tensor& t, std::size_t rank, bool cf) {
  const auto& s = t.shape();
  View v{Dim(s[0]), 1, 1, Dim(cf ? s[1] : s.back()), cf, rank};
  const std::size_t first = cf ? 2 : 1;
  if (rank == 2) v.h = Dim(s[first]);
  v.w = Dim(s[first + rank - 1]);
  return v;
}

inline std::vector<Dim> axis_values(const std::vector<Dim>& v, std::size_t rank) {
  std::vector<Dim> r = v.empty() ? std::vector<Dim>(rank, 1) : v;
  if (r.size() == 1) r.assign(rank, r[0]);
  if (rank == 1) r.insert(r.begin(), 1);  // H is trivial
  return r;                               // {H, W}
}

// (out length, pad before) of one axis, from the TF rules.
inline std::pair<Dim, Dim> out_and_pad(Dim in, Dim k, Dim s, Dim d, bool same) {
  const Dim ke = (k - 1) * d + 1;
  if (!same) return {(in - ke) / s + 1, 0};
  const Dim out = (in + s - 1) / s;
  const Dim total = std::max<Dim>((out - 1) * s + ke - in, 0);
  return {out, total / 2};
}

inline std::vector<Dim> kernel_hw(const Tensor& w, std::size_t rank) {
  if (rank == 1) return {1, Dim(w.shape()[0])};
  return {Dim(w.shape()[0]), Dim(w.shape()[1])};
}

// w[i, j, c, f] of a [kh, kw, cin, f] (or [kw, cin, f]) kernel.
inline double weight(const Tensor& w, Dim i, Dim j, Dim c, Dim f) {
  const auto& s = w.shape();
  const Dim F = Dim(s.back()), C = Dim(s[s.size() - 2]), KW = Dim(s[s.size() - 3]);
  return w.data()[((i * KW + j) * C + c) * F + f];
}

inline Tensor conv(const Tensor& xt, const Tensor& w, const Spec& sp) {
  const View x = view(xt, sp.rank, sp.channels_first);
  const auto k = kernel_hw(w, sp.rank);
  const auto s = axis_values(sp.strides, sp.rank), d = axis_values(sp.dilation, sp.rank);
  const Dim F = Dim(w.shape().back()), cg = x.c / sp.groups, fg = F / sp.groups;
  const auto [oh, ph] = out_and_pad(x.h, k[0], s[0], d[0], sp.same);
  const auto [ow, pw] = out_and_pad(x.w, k[1], s[1], d[1], sp.same);
  const View y{x.n, oh, ow, F, sp.channels_first, sp.rank};
  Tensor out;
  plexus::resize_to(out, y.shape());
  for (Dim n = 0; n < x.n; ++n)
    for (Dim a = 0; a < oh; ++a)
      for (Dim b = 0; b < ow; ++b)
        for (Dim f = 0; f < F; ++f) {
          const Dim g = f / fg;
          double acc = 0;
          for (Dim i = 0; i < k[0]; ++i)
            for (Dim j = 0; j < k[1]; ++j) {
              const Dim ih = a * s[0] - ph + i * d[0], iw = b * s[1] - pw + j * d[1];
              if (ih < 0 || ih >= x.h || iw < 0 || iw >= x.w) continue;
              for (Dim c = 0; c < cg; ++c) {
                acc += double(xt.data()[x.at(n, ih, iw, g * cg + c)]) * weight(w, i, j, c, f);
              }
            }
          out.data()[y.at(n, a, b, f)] = float(acc);
        }
  return out;
}

// Keras's deconv_output_length for one axis.
inline Dim deconv_length(Dim in, Dim k, Dim s, Dim d, bool same, Dim output_padding) {
  const Dim ke = (k - 1) * d + 1;
  if (output_padding < 0) return same ? in * s : in * s + std::max<Dim>(ke - s, 0);
  const Dim pad = same ? ke / 2 : 0;
  return (in - 1) * s + ke - 2 * pad + output_padding;
}

// Scatters each input element through the kernel: out[pos(o) + tap] += x[o] w[tap].
// Kernel [k..., filters / groups, C_in]; output_padding < 0 means none.
inline Tensor conv_transpose(const Tensor& xt, const Tensor& w, const Spec& sp,
                             std::vector<Dim> output_padding = {}) {
  const View x = view(xt, sp.rank, sp.channels_first);
  const auto k = kernel_hw(w, sp.rank);
  const auto s = axis_values(sp.strides, sp.rank), d = axis_values(sp.dilation, sp.rank);
  std::vector<Dim> op = output_padding.empty() ? std::vector<Dim>{-1, -1} : output_padding;
  if (op.size() == 1) op.assign(2, op[0]);
  if (sp.rank == 1 && !output_padding.empty()) op = {0, output_padding[0]};
  const auto& ws = w.shape();
  const Dim fg = Dim(ws[ws.size() - 2]), filters = fg * sp.groups;
  const Dim cg = x.c / sp.groups;
  const Dim oh = sp.rank == 1 ? 1 : deconv_length(x.h, k[0], s[0], d[0], sp.same, op[0]);
  const Dim ow = deconv_length(x.w, k[1], s[1], d[1], sp.same, op[1]);
  // The padding of the convolution that maps the output back onto x.
  const Dim ph = sp.rank == 1 ? 0 : out_and_pad(oh, k[0], s[0], d[0], sp.same).second;
  const Dim pw = out_and_pad(ow, k[1], s[1], d[1], sp.same).second;
  const View y{x.n, oh, ow, filters, sp.channels_first, sp.rank};
  std::vector<double> acc(static_cast<std::size_t>(x.n * oh * ow * filters), 0.0);
  for (Dim n = 0; n < x.n; ++n)
    for (Dim a = 0; a < x.h; ++a)
      for (Dim b = 0; b < x.w; ++b)
        for (Dim ci = 0; ci < x.c; ++ci) {
          const Dim g = ci / cg;
          const double v = xt.data()[x.at(n, a, b, ci)];
          for (Dim i = 0; i < k[0]; ++i)
            for (Dim j = 0; j < k[1]; ++j) {
              const Dim yh = a * s[0] - ph + i * d[0], yw = b * s[1] - pw + j * d[1];
              if (yh < 0 || yh >= oh || yw < 0 || yw >= ow) continue;
              for (Dim f = 0; f < fg; ++f) {
                acc[y.at(n, yh, yw, g * fg + f)] += v * weight(w, i, j, f, ci);
              }
            }
        }
  Tensor out;
  plexus::resize_to(out, y.shape());
  for (std::size_t i = 0; i < acc.size(); ++i) out.data()[i] = float(acc[i]);
  return out;
}

// y + b along the channel axis.
inline Tensor add_bias(Tensor y, const Tensor& b, const Spec& sp) {
  const View v = image_ref::view(y, sp.rank, sp.channels_first);
  for (Dim n = 0; n < v.n; ++n)
    for (Dim h = 0; h < v.h; ++h)
      for (Dim w = 0; w < v.w; ++w)
        for (Dim c = 0; c < v.c; ++c) y.data()[v.at(n, h, w, c)] += b.data()[c];
  return y;
}

inline Tensor pool(const Tensor& xt, std::size_t rank, std::vector<Dim> size,
                   std::vector<Dim> strides, bool same, bool cf, bool max) {
  const View x = view(xt, rank, cf);
  const auto k = axis_values(size, rank);
  const auto s = axis_values(strides.empty() ? size : strides, rank);
  const auto [oh, ph] = out_and_pad(x.h, k[0], s[0], 1, same);
  const auto [ow, pw] = out_and_pad(x.w, k[1], s[1], 1, same);
  const View y{x.n, oh, ow, x.c, cf, rank};
  Tensor out;
  plexus::resize_to(out, y.shape());
  for (Dim n = 0; n < x.n; ++n)
    for (Dim a = 0; a < oh; ++a)
      for (Dim b = 0; b < ow; ++b)
        for (Dim c = 0; c < x.c; ++c) {
          double m = -std::numeric_limits<double>::infinity(), sum = 0;
          int count = 0;
          for (Dim i = 0; i < k[0]; ++i)
            for (Dim j = 0; j < k[1]; ++j) {
              const Dim ih = a * s[0] - ph + i, iw = b * s[1] - pw + j;
              if (ih < 0 || ih >= x.h || iw < 0 || iw >= x.w) continue;
              const double v = xt.data()[x.at(n, ih, iw, c)];
              m = std::max(m, v);
              sum += v;
              ++count;
            }
          out.data()[y.at(n, a, b, c)] = float(max ? m : sum / count);
        }
  return out;
}

inline Tensor pad(const Tensor& x, const std::vector<std::pair<Dim, Dim>>& pads) {
  Shape s;
  for (std::size_t d = 0; d < x.dimension(); ++d) {
    s.push_back(Dim(x.shape()[d]) + pads[d].first + pads[d].second);
  }
  Tensor out;
  plexus::resize_to(out, s);
  out.fill(0.0f);
  std::vector<std::size_t> idx(x.dimension());
  for (std::size_t flat = 0; flat < x.size(); ++flat) {
    std::size_t r = flat, o = 0;
    for (std::size_t d = x.dimension(); d-- > 0;) {
      idx[d] = r % x.shape()[d];
      r /= x.shape()[d];
    }
    for (std::size_t d = 0; d < x.dimension(); ++d) {
      o = o * std::size_t(s[d]) + idx[d] + std::size_t(pads[d].first);
    }
    out.data()[o] = x.data()[flat];
  }
  return out;
}

}  // namespace image_ref
