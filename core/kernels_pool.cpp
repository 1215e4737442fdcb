// Pooling (max and average, 1-D and 2-D, both data formats) and zero padding.
//   max_pool: y = max over the window's taps inside the input (padding "same" never wins);
//             VJP: gx[argmax] += g, the first maximum (in row-major tap order) on ties.
//   avg_pool: y = mean over the window's taps inside the input (TF/Keras: padded taps are
//             not counted); VJP: each such tap gets g / count.
//   pad:      zeros around x; VJP: the interior of g.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/kernel_util.hpp"
#include "core/kernels.hpp"
#include "core/kernels_spatial.hpp"
#include "graph/detail/gradients.hpp"
#include "graph/ops.hpp"

namespace plexus::kernels {
namespace {

using ST = SymbolicTensor;
namespace o = plexus::ops;

using spatial::Image;
using spatial::Window;

// Strides of the [N, H, W, C] view in either layout.
struct Strides {
  Dim n, h, w, c;
};
Strides strides_of(const Image& im, bool channels_first) {
  if (channels_first) return {im.c * im.h * im.w, im.w, 1, im.h * im.w};
  return {im.h * im.w * im.c, im.w * im.c, im.c, 1};
}

// The channels_last inner loops over n contiguous channels, with restrict pointers so that
// they vectorise.
void max_into(float* __restrict y, const float* __restrict x, Dim n) {
  for (Dim c = 0; c < n; ++c) y[c] = std::max(y[c], x[c]);
}
// gx += g at the channels whose maximum is this tap and was not found at an earlier tap.
void max_vjp_tap(float* __restrict gx, const float* __restrict x, const float* __restrict y,
                 const float* __restrict g, float* __restrict found, Dim n) {
  // Branch-free (found is 0 or 1), so that it vectorises: random data mispredicts branches.
  for (Dim c = 0; c < n; ++c) {
    const float hit = (x[c] == y[c] ? 1.0f : 0.0f) * (1.0f - found[c]);
    gx[c] += hit * g[c];
    found[c] += hit;
  }
}

// The 2x2, stride 2, valid max pool of channels_last images (Keras's default), its own
// loops: the four taps of a window in registers, no per-window bookkeeping.
void max_pool_2x2(const Image& x, const Image& y, const float* __restrict px,
                  float* __restrict py) {
  const Dim c = x.c, row = x.w * c;
  for (Dim n = 0; n < x.n; ++n) {
    for (Dim oh = 0; oh < y.h; ++oh) {
      const float* r0 = px + (n * x.h + 2 * oh) * row;
      const float* r1 = r0 + row;
      float* out = py + (n * y.h + oh) * y.w * c;
      for (Dim ow = 0; ow < y.w; ++ow, out += c) {
        const float* a = r0 + 2 * ow * c;
        const float* b = r1 + 2 * ow * c;
        for (Dim k = 0; k < c; ++k) {
          out[k] = std::max(std::max(a[k], a[k + c]), std::max(b[k], b[k + c]));
        }
      }
    }
  }
}
// Its VJP: g goes to the first tap (row-major) equal to the maximum. With kAssign, every
// element of gx is written (taps that lost, and the rows and columns no window covers,
// get 0); otherwise gx accumulates.
template <bool kAssign>
void max_pool_2x2_vjp(const Image& x, const Image& y, const float* __restrict px,
                      const float* __restrict py, const float* __restrict pg,
                      float* __restrict gx) {
  const Dim c = x.c, row = x.w * c;
  for (Dim n = 0; n < x.n; ++n) {
    for (Dim oh = 0; oh < y.h; ++oh) {
      const Dim o0 = (n * x.h + 2 * oh) * row;
      const float* a = px + o0;
      const float* b = a + row;
      float* ga = gx + o0;
      float* gb = ga + row;
      const float* m = py + (n * y.h + oh) * y.w * c;
      const float* g = pg + (n * y.h + oh) * y.w * c;
      for (Dim ow = 0; ow < y.w;
           ++ow, a += 2 * c, b += 2 * c, ga += 2 * c, gb += 2 * c, m += c, g += c) {
        for (Dim k = 0; k < c; ++k) {
          // Every comparison unconditionally (& rather than &&): no masked loads.
          const bool e0 = a[k] == m[k], e1 = a[k + c] == m[k], e2 = b[k] == m[k];
          const bool h0 = e0, h1 = e1 & !e0, h2 = e2 & !e0 & !e1, h3 = !e0 & !e1 & !e2;
          const float v = g[k];
          const float v0 = h0 ? v : 0.0f, v1 = h1 ? v : 0.0f;
          const float v2 = h2 ? v : 0.0f, v3 = h3 ? v : 0.0f;
          if constexpr (kAssign) {
            ga[k] = v0;
            ga[k + c] = v1;
            gb[k] = v2;
            gb[k + c] = v3;
          } else {
            ga[k] += v0;
            ga[k + c] += v1;
            gb[k] += v2;
            gb[k + c] += v3;
          }
        }
      }
      if constexpr (kAssign) {  // an odd last column
        std::fill(ga, ga + (x.w - 2 * y.w) * c, 0.0f);
        std::fill(gb, gb + (x.w - 2 * y.w) * c, 0.0f);
      }
    }
    if constexpr (kAssign) {  // an odd last row
      float* rest = gx + (n * x.h + 2 * y.h) * row;
      std::fill(rest, rest + (x.h - 2 * y.h) * row, 0.0f);
    }
  }
}

class Pool final : public Kernel {
 public:
  Pool(std::size_t rank, PoolConfig config, bool max)
      : config_(std::move(config)), rank_(rank), max_(max) {
    const char* op = max_ ? "max_pool" : "avg_pool";
    if (rank != 1 && rank != 2) {
      throw Error("{}: spatial rank must be 1 or 2, received {}", op, rank);
    }
    size_ = spatial::per_axis(config_.pool_size, rank, 2, op, "pool_size");
    // Keras: strides default to the pool size.
    strides_ = config_.strides.empty() ? size_
                                       : spatial::per_axis(config_.strides, rank, 1, op, "strides");
    win_ = spatial::windows(rank, size_, strides_, std::vector<Dim>(rank, 1),
                            spatial::parse_padding(config_.padding, op));
  }
  std::string name() const override { return max_ ? "max_pool" : "avg_pool"; }
  std::size_t num_inputs() const override { return 1; }

  Shape output_shape(ShapeRefs in) const override {
    const std::string op = name();
    check_arity(op, in, 1);
    Image x = spatial::image_of(in[0], rank_, config_.channels_first, op, "the input");
    Image y{x.n, spatial::output_length(x.h, win_[0]), spatial::output_length(x.w, win_[1]), x.c};
    if (y.h == 0 || y.w == 0) {
      throw Error("{}: the pool ({}) does not fit the input {} with padding \"valid\"", op,
                  join(size_), shape_str(in[0]));
    }
    return spatial::shape_of_image(y, rank_, config_.channels_first);
  }

  void forward(TensorRefs in, Tensor& out, const Context&) override {
    if (fast_2x2()) {
      max_pool_2x2(image_of(*in[0]), image_of(out), in[0]->data(), out.data());
    } else if (config_.channels_first) {
      run<true>(*in[0], out, nullptr, nullptr);
    } else {
      run<false>(*in[0], out, nullptr, nullptr);
    }
  }

  void backward(TensorRefs in, const Tensor& out, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (!gin[0]) return;
    if (fast_2x2()) {
      auto vjp = assigns_grad(0) ? max_pool_2x2_vjp<true> : max_pool_2x2_vjp<false>;
      vjp(image_of(*in[0]), image_of(out), in[0]->data(), out.data(), gout.data(), gin[0]->data());
      return;
    }
    if (assigns_grad(0)) gin[0]->fill(0.0f);
    if (config_.channels_first) {
      run<true>(*in[0], out, &gout, gin[0]);
    } else {
      run<false>(*in[0], out, &gout, gin[0]);
    }
  }
  bool can_assign_grad(std::size_t) const override { return true; }

  KernelPtr clone() const override { return std::make_shared<Pool>(rank_, config_, max_); }

 private:
  // The forward (gout == nullptr) or the VJP, over every output position; the channel
  // loop is innermost (contiguous for channels_last, so it vectorises). The max's VJP
  // finds each window's first tap equal to the output again instead of keeping an argmax
  // from the forward: cheaper than writing and reading one index per output.
  template <bool kChannelsFirst>
  void run(const Tensor& xt, const Tensor& yt, const Tensor* gout, Tensor* gx) {
    const Image x = image_of(xt);
    const Image y = image_of(yt);
    const Strides sx = strides_of(x, kChannelsFirst), sy = strides_of(y, kChannelsFirst);
    const Dim sxc = kChannelsFirst ? sx.c : 1, syc = kChannelsFirst ? sy.c : 1;
    const Window& wh = win_[0];
    const Window& ww = win_[1];
    const Dim ph = spatial::pad_before(x.h, y.h, wh), pw = spatial::pad_before(x.w, y.w, ww);
    const float* px = xt.data();
    float* py = const_cast<float*>(yt.data());
    const float* pg = gout ? gout->data() : nullptr;
    float* pgx = gx ? gx->data() : nullptr;
    if (max_ && pg) found_.resize(static_cast<std::size_t>(y.c));
    float* found = found_.data();
    for (Dim n = 0; n < x.n; ++n) {
      for (Dim oh = 0; oh < y.h; ++oh) {
        const Dim h0 = std::max<Dim>(oh * wh.stride - ph, 0);
        const Dim h1 = std::min<Dim>(oh * wh.stride - ph + wh.size, x.h);
        for (Dim ow = 0; ow < y.w; ++ow) {
          const Dim w0 = std::max<Dim>(ow * ww.stride - pw, 0);
          const Dim w1 = std::min<Dim>(ow * ww.stride - pw + ww.size, x.w);
          const Dim yo = n * sy.n + oh * sy.h + ow * sy.w;
          float* yr = py + yo;
          auto tap = [&](Dim ih, Dim iw) { return n * sx.n + ih * sx.h + iw * sx.w; };
          if (max_ && !pg) {
            const float* first = px + tap(h0, w0);
            for (Dim c = 0; c < y.c; ++c) yr[c * syc] = first[c * sxc];
            for (Dim ih = h0; ih < h1; ++ih) {
              for (Dim iw = w0; iw < w1; ++iw) {
                const float* xr = px + tap(ih, iw);
                if constexpr (!kChannelsFirst) {
                  max_into(yr, xr, y.c);
                } else {
                  for (Dim c = 0; c < y.c; ++c) yr[c * syc] = std::max(yr[c * syc], xr[c * sxc]);
                }
              }
            }
          } else if (max_) {
            const float* gr = pg + yo;
            std::fill(found, found + y.c, 0.0f);
            for (Dim ih = h0; ih < h1; ++ih) {
              for (Dim iw = w0; iw < w1; ++iw) {
                const Dim xo = tap(ih, iw);
                const float* xr = px + xo;
                float* gxr = pgx + xo;
                if constexpr (!kChannelsFirst) {
                  max_vjp_tap(gxr, xr, yr, gr, found, y.c);
                } else {
                  for (Dim c = 0; c < y.c; ++c) {
                    const bool hit = found[c] == 0.0f && xr[c * sxc] == yr[c * syc];
                    gxr[c * sxc] += hit ? gr[c * syc] : 0.0f;
                    found[c] = hit ? 1.0f : found[c];
                  }
                }
              }
            }
          } else if (!pg) {
            const float inv = 1.0f / static_cast<float>((h1 - h0) * (w1 - w0));
            for (Dim c = 0; c < y.c; ++c) yr[c * syc] = 0.0f;
            for (Dim ih = h0; ih < h1; ++ih) {
              for (Dim iw = w0; iw < w1; ++iw) {
                const float* xr = px + tap(ih, iw);
                for (Dim c = 0; c < y.c; ++c) yr[c * syc] += xr[c * sxc];
              }
            }
            for (Dim c = 0; c < y.c; ++c) yr[c * syc] *= inv;
          } else {
            const float inv = 1.0f / static_cast<float>((h1 - h0) * (w1 - w0));
            const float* gr = pg + yo;
            for (Dim ih = h0; ih < h1; ++ih) {
              for (Dim iw = w0; iw < w1; ++iw) {
                float* gxr = pgx + tap(ih, iw);
                for (Dim c = 0; c < y.c; ++c) gxr[c * sxc] += gr[c * syc] * inv;
              }
            }
          }
        }
      }
    }
  }

  // Keras's default max pool (2x2, stride 2, valid) on channels_last images.
  bool fast_2x2() const {
    return max_ && !config_.channels_first && rank_ == 2 && !win_[0].same && win_[0].size == 2 &&
           win_[0].stride == 2 && win_[1].size == 2 && win_[1].stride == 2;
  }

  Image image_of(const Tensor& t) const {
    const auto& s = t.shape();
    Image im;
    im.n = static_cast<Dim>(s[0]);
    im.c = static_cast<Dim>(config_.channels_first ? s[1] : s.back());
    const std::size_t first = config_.channels_first ? 2 : 1;
    if (rank_ == 2) im.h = static_cast<Dim>(s[first]);
    im.w = static_cast<Dim>(s[first + rank_ - 1]);
    return im;
  }

  PoolConfig config_;
  std::size_t rank_;
  bool max_;
  std::vector<Dim> size_, strides_;
  std::array<Window, 2> win_{};
  std::vector<float> found_;  // max_pool VJP: 1 at channels whose max tap was seen
};

// ---- pad -------------------------------------------------------------------------------
class Pad final : public Kernel {
 public:
  explicit Pad(std::vector<std::pair<Dim, Dim>> pads) : pads_(std::move(pads)) {
    for (const auto& [a, b] : pads_) {
      if (a < 0 || b < 0) throw Error("pad: paddings must be >= 0, received ({}, {})", a, b);
    }
  }
  std::string name() const override { return "pad"; }
  std::size_t num_inputs() const override { return 1; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity("pad", in, 1);
    if (in[0].size() != pads_.size()) {
      throw Error("pad: {} (before, after) pairs for an input of shape {}", pads_.size(),
                  shape_str(in[0]));
    }
    Shape out = in[0];
    for (std::size_t d = 0; d < out.size(); ++d) {
      if (out[d] >= 0) out[d] += pads_[d].first + pads_[d].second;
    }
    return out;
  }

  void forward(TensorRefs in, Tensor& out, const Context&) override {
    std::fill(out.data(), out.data() + out.size(), 0.0f);
    float* o = out.data() + plan(*in[0], out);
    const float* x = in[0]->data();
    loop_.run([&](const auto& base, std::size_t n, const auto& step) {
      float* os = o + base[0];
      const float* xs = x + base[1];
      for (std::size_t i = 0; i < n; ++i) os[idx(i, step[0])] = xs[i];
    });
  }
  void backward(TensorRefs in, const Tensor& out, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (!gin[0]) return;
    const float* g = gout.data() + plan(*in[0], out);
    float* gx = gin[0]->data();
    loop_.run([&](const auto& base, std::size_t n, const auto& step) {
      const float* gs = g + base[0];
      float* gd = gx + base[1];
      for (std::size_t i = 0; i < n; ++i) gd[i] += gs[idx(i, step[0])];
    });
  }
  KernelPtr clone() const override { return std::make_shared<Pad>(pads_); }
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>& outs,
                               const std::vector<ST>& gouts) const override {
    (void)outs;
    ST g = gouts[0];
    for (std::size_t d = 0; d < pads_.size(); ++d) {
      const auto [before, after] = pads_[d];
      if (before == 0 && after == 0) continue;
      const Dim n = in[0].shape()[d];
      if (n < 0) return {};
      g = o::slice(g, Dim(d), before, before + n);
    }
    return {g};
  }

 private:
  // Iterates over x; operand 0 walks out's interior, operand 1 walks x. Returns the
  // offset of the interior's first element in out.
  std::ptrdiff_t plan(const Tensor& x, const Tensor& out) {
    row_major_strides(out.shape(), out_strides_);
    std::ptrdiff_t start = 0;
    for (std::size_t d = 0; d < pads_.size(); ++d) start += pads_[d].first * out_strides_[d];
    loop_.reset(x.shape());
    loop_.set_strides(0, out_strides_);
    loop_.set_broadcast(1, x.shape());
    return start;
  }

  std::vector<std::pair<Dim, Dim>> pads_;
  std::vector<std::ptrdiff_t> out_strides_;
  StridedLoop<2> loop_;
};

}  // namespace

KernelPtr max_pool(std::size_t spatial_rank, PoolConfig config) {
  return std::make_shared<Pool>(spatial_rank, std::move(config), true);
}
KernelPtr avg_pool(std::size_t spatial_rank, PoolConfig config) {
  return std::make_shared<Pool>(spatial_rank, std::move(config), false);
}
KernelPtr pad(std::vector<std::pair<Dim, Dim>> pads) {
  return std::make_shared<Pad>(std::move(pads));
}

}  // namespace plexus::kernels
