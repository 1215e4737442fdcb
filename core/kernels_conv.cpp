// Convolution and transposed convolution, 1-D and 2-D, on im2col + BLAS sgemm.
//
// A convolution y = conv(x, w) with Keras's kernel layout w [kh, kw, C/groups, F] is, per
// group g, one matrix product  Y_g = cols_g(x) W_g  where cols_g(x) holds one row per
// output position and one column per (i, j, c) tap of the window — the same order as the
// rows of w seen as a [kh * kw * C/groups, F] matrix. Its VJP is two more products:
//   dW_g += cols_g(x)^T dY_g        dcols_g = dY_g W_g^T, then col2im adds dcols back into dx.
// channels_first images are handled with cols transposed ([taps, positions] per image), so
// every product still reads and writes the tensors in place; 1x1 windows with stride 1 and
// no padding skip im2col and multiply x itself.
// The transposed convolution is this VJP run forwards: its output is conv's input-gradient
// of its input, and its VJP is the convolution (input) and the same weight gradient.
// Scratch (cols and dcols for one chunk of images) lives in the kernel object: the steady
// state allocates nothing.
#include <algorithm>
#include <cstring>
#include <memory>

#include "core/blas.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/kernel_util.hpp"
#include "core/kernels.hpp"
#include "core/kernels_spatial.hpp"

namespace plexus::kernels {
namespace {

using spatial::Image;
using spatial::Window;

using blas::gemm;

// The outputs o in [lo, hi) whose tap o * stride - pad + offset lands inside [0, in).
struct Range {
  Dim lo, hi;
};
Range valid_range(Dim pad, Dim offset, Dim stride, Dim in, Dim out) {
  auto ceil_div = [](Dim a, Dim b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); };
  const Dim lo = std::clamp<Dim>(ceil_div(pad - offset, stride), 0, out);
  const Dim hi = std::clamp<Dim>(ceil_div(in + pad - offset, stride), lo, out);
  return {lo, hi};
}

// Everything a convolution's three products need, from concrete shapes.
struct Geometry {
  Dim n = 0, h = 1, w = 1, c = 0;  // conv input [N, H, W, C]
  Dim oh = 1, ow = 1, f = 0;       // conv output [N, OH, OW, F]
  Dim kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, ph = 0, pw = 0;
  Dim groups = 1;
  bool channels_first = false;
  Dim cg() const { return c / groups; }
  Dim fg() const { return f / groups; }
  Dim taps() const { return kh * kw * cg(); }  // K of the products
  Dim positions() const { return oh * ow; }    // P: output positions per image
  // 1x1, stride 1, no padding: cols would be x itself.
  bool pointwise() const { return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0; }
};

// Images per chunk for channels_last: cols of about 2^18 floats (1 MiB) stay in L2 while
// sgemm packs them.
constexpr Dim kChunkFloats = Dim(1) << 18;

class ConvEngine {
 public:
  // y = conv(x, w) (beta = 0) or y += conv(x, w) (beta = 1); then y = max(y, 0) with
  // relu, chunk by chunk while the chunk is still in cache.
  void forward(const Geometry& g, const float* x, const float* w, float* y, float beta,
               bool relu = false) {
    const Dim P = g.positions(), K = g.taps(), F = g.f, C = g.c;
    if (!g.channels_first) {
      for_chunks(g, [&](Dim n0, Dim nb) {
        for (Dim gi = 0; gi < g.groups; ++gi) {
          const float* a;
          Dim lda;
          if (g.pointwise()) {
            a = x + n0 * P * C + gi * g.cg();
            lda = C;
          } else {
            im2col_last(g, x, n0, nb, gi);
            a = cols_.data();
            lda = K;
          }
          gemm(false, false, nb * P, g.fg(), K, a, lda, w + gi * g.fg(), F, beta,
               y + n0 * P * F + gi * g.fg(), F);
        }
        if (relu) relu_inplace(y + n0 * P * F, nb * P * F);
      });
      return;
    }
    for (Dim n = 0; n < g.n; ++n) {
      for (Dim gi = 0; gi < g.groups; ++gi) {
        const float* b = cols_first(g, x, n, gi);
        gemm(true, false, g.fg(), P, K, w + gi * g.fg(), F, b, P, beta,
             y + (n * F + gi * g.fg()) * P, P);
      }
      if (relu) relu_inplace(y + n * F * P, F * P);
    }
  }

  // dw += d(sum(y * dy)) / dw.
  void backward_weight(const Geometry& g, const float* x, const float* dy, float* dw) {
    const Dim P = g.positions(), K = g.taps(), F = g.f, C = g.c;
    if (!g.channels_first) {
      for_chunks(g, [&](Dim n0, Dim nb) {
        for (Dim gi = 0; gi < g.groups; ++gi) {
          const float* a;
          Dim lda;
          if (g.pointwise()) {
            a = x + n0 * P * C + gi * g.cg();
            lda = C;
          } else {
            im2col_last(g, x, n0, nb, gi);
            a = cols_.data();
            lda = K;
          }
          gemm(true, false, K, g.fg(), nb * P, a, lda, dy + n0 * P * F + gi * g.fg(), F, 1.0f,
               dw + gi * g.fg(), F);
        }
      });
      return;
    }
    for (Dim n = 0; n < g.n; ++n) {
      for (Dim gi = 0; gi < g.groups; ++gi) {
        const float* a = cols_first(g, x, n, gi);
        gemm(false, true, K, g.fg(), P, a, P, dy + (n * F + gi * g.fg()) * P, P, 1.0f,
             dw + gi * g.fg(), F);
      }
    }
  }

  // dx += d(sum(y * dy)) / dx.
  void backward_input(const Geometry& g, const float* dy, const float* w, float* dx) {
    const Dim P = g.positions(), K = g.taps(), F = g.f, C = g.c;
    if (!g.channels_first) {
      for_chunks(g, [&](Dim n0, Dim nb) {
        for (Dim gi = 0; gi < g.groups; ++gi) {
          const float* a = dy + n0 * P * F + gi * g.fg();
          if (g.pointwise()) {
            gemm(false, true, nb * P, K, g.fg(), a, F, w + gi * g.fg(), F, 1.0f,
                 dx + n0 * P * C + gi * g.cg(), C);
          } else {
            dcols_.resize(static_cast<std::size_t>(nb * P * K));
            gemm(false, true, nb * P, K, g.fg(), a, F, w + gi * g.fg(), F, 0.0f, dcols_.data(), K);
            col2im_last(g, dx, n0, nb, gi);
          }
        }
      });
      return;
    }
    for (Dim n = 0; n < g.n; ++n) {
      for (Dim gi = 0; gi < g.groups; ++gi) {
        const float* b = dy + (n * F + gi * g.fg()) * P;
        if (g.pointwise()) {
          gemm(false, false, K, P, g.fg(), w + gi * g.fg(), F, b, P, 1.0f,
               dx + (n * C + gi * g.cg()) * P, P);
        } else {
          dcols_.resize(static_cast<std::size_t>(K * P));
          gemm(false, false, K, P, g.fg(), w + gi * g.fg(), F, b, P, 0.0f, dcols_.data(), P);
          col2im_first(g, dx, n, gi);
        }
      }
    }
  }

 private:
  static void relu_inplace(float* __restrict y, Dim n) {
    for (Dim i = 0; i < n; ++i) y[i] = std::max(y[i], 0.0f);
  }

  template <typename Body>
  void for_chunks(const Geometry& g, Body&& body) {
    const Dim per_image = std::max<Dim>(g.positions() * g.taps(), 1);
    const Dim nb = std::clamp<Dim>(kChunkFloats / per_image, 1, std::max<Dim>(g.n, 1));
    for (Dim n0 = 0; n0 < g.n; n0 += nb) body(n0, std::min(nb, g.n - n0));
  }

  // cols [nb * P, K] for images [n0, n0 + nb) of group gi (channels_last).
  void im2col_last(const Geometry& g, const float* x, Dim n0, Dim nb, Dim gi) {
    const Dim P = g.positions(), K = g.taps(), cg = g.cg();
    cols_.resize(static_cast<std::size_t>(nb * P * K));
    float* dst = cols_.data();
    // A whole window row is one contiguous run of kw * C floats when the taps are adjacent.
    const bool runs = g.groups == 1 && g.dw == 1;
    for (Dim n = n0; n < n0 + nb; ++n) {
      for (Dim oh = 0; oh < g.oh; ++oh) {
        for (Dim ow = 0; ow < g.ow; ++ow) {
          const Dim iw0 = ow * g.sw - g.pw;
          const bool row_inside = iw0 >= 0 && iw0 + g.kw <= g.w;
          for (Dim i = 0; i < g.kh; ++i) {
            const Dim ih = oh * g.sh - g.ph + i * g.dh;
            if (ih < 0 || ih >= g.h) {
              std::fill(dst, dst + g.kw * cg, 0.0f);
              dst += g.kw * cg;
              continue;
            }
            const float* src = x + ((n * g.h + ih) * g.w) * g.c + gi * cg;
            if (runs && row_inside) {
              const Dim len = g.kw * cg;
              const float* s = src + iw0 * g.c;
              if (len <= 16) {  // a few channels (the first layer): no memcpy call
                for (Dim k = 0; k < len; ++k) dst[k] = s[k];
              } else {
                std::memcpy(dst, s, sizeof(float) * len);
              }
              dst += len;
              continue;
            }
            for (Dim j = 0; j < g.kw; ++j) {
              const Dim iw = iw0 + j * g.dw;
              if (iw < 0 || iw >= g.w) {
                std::fill(dst, dst + cg, 0.0f);
              } else if (cg == 1) {
                *dst = src[iw * g.c];
              } else {
                std::memcpy(dst, src + iw * g.c, sizeof(float) * cg);
              }
              dst += cg;
            }
          }
        }
      }
    }
  }

  // dx += col2im(dcols) for images [n0, n0 + nb) of group gi (channels_last).
  void col2im_last(const Geometry& g, float* dx, Dim n0, Dim nb, Dim gi) {
    const Dim cg = g.cg();
    const float* src = dcols_.data();
    for (Dim n = n0; n < n0 + nb; ++n) {
      for (Dim oh = 0; oh < g.oh; ++oh) {
        for (Dim ow = 0; ow < g.ow; ++ow) {
          const Dim iw0 = ow * g.sw - g.pw;
          for (Dim i = 0; i < g.kh; ++i) {
            const Dim ih = oh * g.sh - g.ph + i * g.dh;
            if (ih < 0 || ih >= g.h) {
              src += g.kw * cg;
              continue;
            }
            float* dst = dx + ((n * g.h + ih) * g.w) * g.c + gi * cg;
            for (Dim j = 0; j < g.kw; ++j) {
              const Dim iw = iw0 + j * g.dw;
              if (iw >= 0 && iw < g.w) {
                float* d = dst + iw * g.c;
                for (Dim c = 0; c < cg; ++c) d[c] += src[c];
              }
              src += cg;
            }
          }
        }
      }
    }
  }

  // cols^T [K, P] of image n, group gi (channels_first); x itself for pointwise windows.
  const float* cols_first(const Geometry& g, const float* x, Dim n, Dim gi) {
    const Dim P = g.positions(), cg = g.cg();
    const float* image = x + (n * g.c + gi * cg) * g.h * g.w;
    if (g.pointwise()) return image;
    cols_.resize(static_cast<std::size_t>(g.taps() * P));
    float* dst = cols_.data();
    for (Dim i = 0; i < g.kh; ++i) {
      const Range rh = valid_range(g.ph, i * g.dh, g.sh, g.h, g.oh);
      for (Dim j = 0; j < g.kw; ++j) {
        const Range rw = valid_range(g.pw, j * g.dw, g.sw, g.w, g.ow);
        for (Dim c = 0; c < cg; ++c, dst += P) {
          std::fill(dst, dst + P, 0.0f);
          const float* plane = image + c * g.h * g.w;
          for (Dim oh = rh.lo; oh < rh.hi; ++oh) {
            const float* row = plane + (oh * g.sh - g.ph + i * g.dh) * g.w - g.pw + j * g.dw;
            float* d = dst + oh * g.ow;
            for (Dim ow = rw.lo; ow < rw.hi; ++ow) d[ow] = row[ow * g.sw];
          }
        }
      }
    }
    return cols_.data();
  }

  // dx += col2im(dcols^T) of image n, group gi (channels_first).
  void col2im_first(const Geometry& g, float* dx, Dim n, Dim gi) {
    const Dim P = g.positions(), cg = g.cg();
    float* image = dx + (n * g.c + gi * cg) * g.h * g.w;
    const float* src = dcols_.data();
    for (Dim i = 0; i < g.kh; ++i) {
      const Range rh = valid_range(g.ph, i * g.dh, g.sh, g.h, g.oh);
      for (Dim j = 0; j < g.kw; ++j) {
        const Range rw = valid_range(g.pw, j * g.dw, g.sw, g.w, g.ow);
        for (Dim c = 0; c < cg; ++c, src += P) {
          float* plane = image + c * g.h * g.w;
          for (Dim oh = rh.lo; oh < rh.hi; ++oh) {
            float* row = plane + (oh * g.sh - g.ph + i * g.dh) * g.w - g.pw + j * g.dw;
            const float* s = src + oh * g.ow;
            for (Dim ow = rw.lo; ow < rw.hi; ++ow) row[ow * g.sw] += s[ow];
          }
        }
      }
    }
  }

  std::vector<float> cols_, dcols_;
};

// An optional bias b [F] along the channel axis of an output y (both layouts):
// fill_bias sets y = b, bias_gradient adds d(sum(y * dy))/db = sum of dy per channel.
void fill_bias(const Image& y, bool cf, const float* b, float* out) {
  const Dim P = y.h * y.w;
  for (Dim n = 0; n < y.n; ++n) {
    if (cf) {
      for (Dim f = 0; f < y.c; ++f, out += P) std::fill(out, out + P, b[f]);
    } else {
      // A plain loop: std::copy would call memmove once per (short) row.
      for (Dim p = 0; p < P; ++p, out += y.c) {
        for (Dim f = 0; f < y.c; ++f) out[f] = b[f];
      }
    }
  }
}

// The VJP of a fused relu: m = dy where y > 0, else 0; with db, also db += the sum of m
// per channel (the bias gradient) in the same pass.
void relu_mask(const Image& y, bool cf, const float* __restrict out, const float* __restrict dy,
               float* __restrict m, float* __restrict db) {
  const Dim P = y.h * y.w;
  if (cf || db == nullptr) {
    const Dim total = y.n * y.c * P;
    for (Dim i = 0; i < total; ++i) m[i] = out[i] > 0.0f ? dy[i] : 0.0f;
    return;
  }
  for (Dim r = 0; r < y.n * P; ++r, out += y.c, dy += y.c, m += y.c) {
    for (Dim f = 0; f < y.c; ++f) {
      const float v = out[f] > 0.0f ? dy[f] : 0.0f;
      m[f] = v;
      db[f] += v;
    }
  }
}

void bias_gradient(const Image& y, bool cf, const float* dy, float* db) {
  const Dim P = y.h * y.w;
  for (Dim n = 0; n < y.n; ++n) {
    if (cf) {
      for (Dim f = 0; f < y.c; ++f, dy += P)
        db[f] += sum_contiguous(dy, static_cast<std::size_t>(P));
    } else {
      for (Dim p = 0; p < P; ++p, dy += y.c) {
        for (Dim f = 0; f < y.c; ++f) db[f] += dy[f];
      }
    }
  }
}

// Throws unless a bias (input 2, when present) is [F].
void check_bias(ShapeRefs in, Dim f, const char* op) {
  if (in.size() == 3 && (in[2].size() != 1 || (in[2][0] >= 0 && in[2][0] != f))) {
    throw Error("{}: the bias {} must have shape ({},), one value per output channel", op,
                shape_str(in[2]), f);
  }
}

// The configuration shared by conv and conv_transpose, resolved per spatial axis.
struct Config {
  std::size_t rank;
  std::vector<Dim> strides, dilation;
  bool same;
  Dim groups;
  bool channels_first;
};

Config resolve(std::size_t rank, const ConvConfig& c, const char* op) {
  if (rank != 1 && rank != 2) throw Error("{}: spatial rank must be 1 or 2, received {}", op, rank);
  if (c.groups < 1) throw Error("{}: groups must be positive, received {}", op, c.groups);
  Config r{rank,
           spatial::per_axis(c.strides, rank, 1, op, "strides"),
           spatial::per_axis(c.dilation, rank, 1, op, "dilation_rate"),
           spatial::parse_padding(c.padding, op),
           c.groups,
           c.channels_first};
  return r;
}

// Kernel sizes of a weight [k..., in, out] (rank + 2 dims); throws naming the op.
std::vector<Dim> kernel_size(const Shape& w, std::size_t rank, const char* op) {
  if (w.size() != rank + 2) {
    throw Error(
        "{}: the kernel must have rank {} (kernel size..., input channels / groups, "
        "filters), received shape {}",
        op, rank + 2, shape_str(w));
  }
  for (Dim d : w) {
    if (d <= 0) throw Error("{}: the kernel shape {} must be fully known", op, shape_str(w));
  }
  return std::vector<Dim>(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(rank));
}

// The geometry of conv(x = conv input, y = conv output) with weight w (its shape read in
// place: copying it into a Shape would allocate on every step).
Geometry geometry(const Config& cfg, const Image& x, const Image& y, const Tensor& weight) {
  const auto& w = weight.shape();
  Geometry g;
  g.n = x.n;
  g.h = x.h;
  g.w = x.w;
  g.c = x.c;
  g.oh = y.h;
  g.ow = y.w;
  g.f = y.c;
  const std::size_t off = 2 - cfg.rank;
  std::array<Dim, 2> k{1, 1}, s{1, 1}, d{1, 1};
  for (std::size_t a = 0; a < cfg.rank; ++a) {
    k[a + off] = static_cast<Dim>(w[a]);
    s[a + off] = cfg.strides[a];
    d[a + off] = cfg.dilation[a];
  }
  g.kh = k[0];
  g.kw = k[1];
  g.sh = s[0];
  g.sw = s[1];
  g.dh = d[0];
  g.dw = d[1];
  g.ph = spatial::pad_before(g.h, g.oh, {g.kh, g.sh, g.dh, cfg.same});
  g.pw = spatial::pad_before(g.w, g.ow, {g.kw, g.sw, g.dw, cfg.same});
  g.groups = cfg.groups;
  g.channels_first = cfg.channels_first;
  return g;
}

Image image(const Tensor& t, const Config& cfg) {
  Image im;
  const auto& s = t.shape();
  im.n = static_cast<Dim>(s[0]);
  im.c = static_cast<Dim>(cfg.channels_first ? s[1] : s.back());
  const std::size_t first = cfg.channels_first ? 2 : 1;
  if (cfg.rank == 2) im.h = static_cast<Dim>(s[first]);
  im.w = static_cast<Dim>(s[first + cfg.rank - 1]);
  return im;
}

// ---- conv ------------------------------------------------------------------------------
// x [N, spatial..., C] (channels_first: [N, C, spatial...]), w [k..., C / groups, F],
// optional bias [F] -> [N, out spatial..., F]. The bias is the GEMM's starting value, so it
// costs no pass of its own.
class Conv final : public Kernel {
 public:
  Conv(std::size_t rank, ConvConfig config)
      : config_(std::move(config)), cfg_(resolve(rank, config_, "conv")) {}
  std::string name() const override { return "conv"; }
  std::size_t num_inputs() const override { return 0; }  // 2, or 3 with a bias

  Shape output_shape(ShapeRefs in) const override {
    check_arity("conv", in, in.size() == 3 ? 3 : 2);
    const Image x = spatial::image_of(in[0], cfg_.rank, cfg_.channels_first, "conv", "the input");
    const std::vector<Dim> k = kernel_size(in[1], cfg_.rank, "conv");
    const Dim cin = in[1][cfg_.rank], f = in[1][cfg_.rank + 1];
    if (x.c >= 0 && x.c != cin * cfg_.groups) {
      throw Error(
          "conv: the input {} has {} channels but the kernel {} expects {} (input channels / "
          "groups = {}, groups = {})",
          shape_str(in[0]), x.c, shape_str(in[1]), cin * cfg_.groups, cin, cfg_.groups);
    }
    if (f % cfg_.groups != 0) {
      throw Error("conv: the kernel {} has {} filters, which groups = {} does not divide",
                  shape_str(in[1]), f, cfg_.groups);
    }
    const auto win = spatial::windows(cfg_.rank, k, cfg_.strides, cfg_.dilation, cfg_.same);
    Image y{x.n, spatial::output_length(x.h, win[0]), spatial::output_length(x.w, win[1]), f};
    if (y.h == 0 || y.w == 0) {
      throw Error(
          "conv: the window ({}) with dilation ({}) does not fit the input {} with padding "
          "\"valid\"",
          join(k), join(cfg_.dilation), shape_str(in[0]));
    }
    check_bias(in, f, "conv");
    return spatial::shape_of_image(y, cfg_.rank, cfg_.channels_first);
  }

  void forward(TensorRefs in, Tensor& out, const Context&) override {
    const Image yi = image(out, cfg_);
    const Geometry g = geometry(cfg_, image(*in[0], cfg_), yi, *in[1]);
    const bool bias = in.size() == 3;
    if (bias) fill_bias(yi, cfg_.channels_first, in[2]->data(), out.data());
    engine_.forward(g, in[0]->data(), in[1]->data(), out.data(), bias ? 1.0f : 0.0f, config_.relu);
  }

  void backward(TensorRefs in, const Tensor& out, const Tensor& gout, GradRefs gin,
                const Context&) override {
    const Image yi = image(out, cfg_);
    const Geometry g = geometry(cfg_, image(*in[0], cfg_), yi, *in[1]);
    float* db = gin.size() == 3 && gin[2] ? gin[2]->data() : nullptr;
    const float* dy = gout.data();
    if (config_.relu) {  // dy through the relu (and the bias gradient) in one pass
      masked_.resize(gout.size());
      relu_mask(yi, cfg_.channels_first, out.data(), dy, masked_.data(), db);
      dy = masked_.data();
      if (!cfg_.channels_first) db = nullptr;  // done
    }
    if (db) bias_gradient(yi, cfg_.channels_first, dy, db);
    if (gin[1]) engine_.backward_weight(g, in[0]->data(), dy, gin[1]->data());
    if (gin[0]) engine_.backward_input(g, dy, in[1]->data(), gin[0]->data());
  }

  KernelPtr clone() const override { return std::make_shared<Conv>(cfg_.rank, config_); }

 private:
  ConvConfig config_;
  Config cfg_;
  ConvEngine engine_;
  std::vector<float> masked_;  // fused relu: the output gradient through the relu
};

// ---- conv_transpose --------------------------------------------------------------------
// x [N, spatial..., C_in], w [k..., filters / groups, C_in], optional bias [filters]
// -> [N, out spatial..., filters]: the input-gradient of conv(out, w), i.e. the output that
// conv maps back onto x's shape.
class ConvTranspose final : public Kernel {
 public:
  ConvTranspose(std::size_t rank, ConvConfig config, std::vector<Dim> output_padding)
      : config_(std::move(config)),
        output_padding_(std::move(output_padding)),
        cfg_(resolve(rank, config_, "conv_transpose")) {
    if (config_.relu) throw Error("conv_transpose: a fused relu is not supported");
    if (!output_padding_.empty()) {
      if (output_padding_.size() == 1 && rank > 1) output_padding_.assign(rank, output_padding_[0]);
      if (output_padding_.size() != rank) {
        throw Error("conv_transpose: output_padding needs {} values, received {}", rank,
                    output_padding_.size());
      }
      for (std::size_t a = 0; a < rank; ++a) {
        if (output_padding_[a] < 0 || output_padding_[a] >= cfg_.strides[a]) {
          throw Error(
              "conv_transpose: output_padding ({}) must be >= 0 and smaller than the "
              "strides ({})",
              join(output_padding_), join(cfg_.strides));
        }
      }
    }
  }
  std::string name() const override { return "conv_transpose"; }
  std::size_t num_inputs() const override { return 0; }  // 2, or 3 with a bias

  Shape output_shape(ShapeRefs in) const override {
    check_arity("conv_transpose", in, in.size() == 3 ? 3 : 2);
    const Image x =
        spatial::image_of(in[0], cfg_.rank, cfg_.channels_first, "conv_transpose", "the input");
    const std::vector<Dim> k = kernel_size(in[1], cfg_.rank, "conv_transpose");
    const Dim filters = in[1][cfg_.rank] * cfg_.groups, cin = in[1][cfg_.rank + 1];
    if (x.c >= 0 && x.c != cin) {
      throw Error("conv_transpose: the input {} has {} channels but the kernel {} expects {}",
                  shape_str(in[0]), x.c, shape_str(in[1]), cin);
    }
    if (cin % cfg_.groups != 0) {
      throw Error("conv_transpose: groups = {} does not divide the kernel's {} input channels",
                  cfg_.groups, cin);
    }
    const auto win = spatial::windows(cfg_.rank, k, cfg_.strides, cfg_.dilation, cfg_.same);
    const std::size_t off = 2 - cfg_.rank;
    std::array<Dim, 2> len{x.h, x.w};
    for (std::size_t a = 0; a < cfg_.rank; ++a) {
      const Window& wa = win[a + off];
      Dim& l = len[a + off];
      if (l < 0) continue;
      const Dim in_len = l;
      // Keras's deconv_output_length.
      if (output_padding_.empty()) {
        l = wa.same ? l * wa.stride : l * wa.stride + std::max<Dim>(wa.extent() - wa.stride, 0);
      } else {
        const Dim pad = wa.same ? wa.extent() / 2 : 0;
        l = (l - 1) * wa.stride + wa.extent() - 2 * pad + output_padding_[a];
      }
      if (l <= 0 || spatial::output_length(l, wa) != in_len) {
        throw Error(
            "conv_transpose: no output length maps back onto input length {} (window {}, "
            "stride {}, output_padding ({}))",
            in_len, wa.size, wa.stride, join(output_padding_));
      }
    }
    const Image y{x.n, len[0], len[1], filters};
    check_bias(in, filters, "conv_transpose");
    return spatial::shape_of_image(y, cfg_.rank, cfg_.channels_first);
  }

  // out = conv^T(x): the bias (or zero), then accumulate conv's input-gradient of
  // cotangent x.
  void forward(TensorRefs in, Tensor& out, const Context&) override {
    const Image yi = image(out, cfg_);
    const Geometry g = geometry(cfg_, yi, image(*in[0], cfg_), *in[1]);
    if (in.size() == 3) {
      fill_bias(yi, cfg_.channels_first, in[2]->data(), out.data());
    } else {
      std::fill(out.data(), out.data() + out.size(), 0.0f);
    }
    engine_.backward_input(g, in[0]->data(), in[1]->data(), out.data());
  }

  void backward(TensorRefs in, const Tensor& out, const Tensor& gout, GradRefs gin,
                const Context&) override {
    const Image yi = image(out, cfg_);
    const Geometry g = geometry(cfg_, yi, image(*in[0], cfg_), *in[1]);
    if (gin.size() == 3 && gin[2]) {
      bias_gradient(yi, cfg_.channels_first, gout.data(), gin[2]->data());
    }
    if (gin[1]) engine_.backward_weight(g, gout.data(), in[0]->data(), gin[1]->data());
    if (gin[0]) engine_.forward(g, gout.data(), in[1]->data(), gin[0]->data(), 1.0f);
  }

  KernelPtr clone() const override {
    return std::make_shared<ConvTranspose>(cfg_.rank, config_, output_padding_);
  }

 private:
  ConvConfig config_;
  std::vector<Dim> output_padding_;
  Config cfg_;
  ConvEngine engine_;
};

}  // namespace

KernelPtr conv(std::size_t spatial_rank, ConvConfig config) {
  blas::ensure_cpu_kernels();
  return std::make_shared<Conv>(spatial_rank, std::move(config));
}

KernelPtr conv_transpose(std::size_t spatial_rank, ConvConfig config,
                         std::vector<Dim> output_padding) {
  blas::ensure_cpu_kernels();
  return std::make_shared<ConvTranspose>(spatial_rank, std::move(config),
                                         std::move(output_padding));
}

}  // namespace plexus::kernels
