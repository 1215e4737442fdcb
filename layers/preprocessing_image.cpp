// Image preprocessing layers: Rescaling, Resizing, CenterCrop (Keras 3's
// keras/src/layers/preprocessing/image_preprocessing/, numpy backend: jax.image.resize).
//
// Resizing is separable: along H, then along W, each output index o is a fixed weighted sum
// of input indices (taps), computed as jax.image.resize does (scale_and_translate with
// translation 0): sample = (o + 0.5) * in / out - 0.5, weights k(|sample - i| / s) with s =
// max(in / out, 1) when antialiasing (else 1), normalised to sum 1 (0 when the sum is below
// 1000 * float epsilon); "nearest" takes input floor((o + 0.5) * in / out). The resample
// kernel's VJP is the transposed sum, so the layers are differentiable.
#include "layers/preprocessing_image.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/kernel_util.hpp"
#include "core/random.hpp"
#include "graph/ops.hpp"
#include "layers/spatial.hpp"

namespace plexus::layers {
namespace {

// One output index's input indices and weights.
struct Taps {
  std::vector<std::size_t> index;
  std::vector<float> weight;
};

bool valid_interpolation(const std::string& m) {
  return m == "bilinear" || m == "nearest" || m == "bicubic" || m == "lanczos3" || m == "lanczos5";
}

double kernel_value(const std::string& method, double x) {
  if (method == "bilinear") return std::max(0.0, 1.0 - x);
  if (method == "bicubic") {  // Keys cubic, a = -0.5
    if (x >= 2.0) return 0.0;
    if (x >= 1.0) return ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0;
    return ((1.5 * x - 2.5) * x) * x + 1.0;
  }
  const double r = method == "lanczos3" ? 3.0 : 5.0;
  if (x > r) return 0.0;
  if (x <= 1e-3) return 1.0;
  const double pi = std::numbers::pi;
  return r * std::sin(pi * x) * std::sin(pi * x / r) / (pi * pi * x * x);
}

double kernel_radius(const std::string& method) {
  if (method == "bilinear") return 1.0;
  if (method == "bicubic") return 2.0;
  return method == "lanczos3" ? 3.0 : 5.0;
}

std::vector<Taps> resize_taps(std::size_t n_in, std::size_t n_out, const std::string& method,
                              bool antialias) {
  std::vector<Taps> taps(n_out);
  const double inv_scale = static_cast<double>(n_in) / static_cast<double>(n_out);
  if (method == "nearest") {
    for (std::size_t o = 0; o < n_out; ++o) {
      const auto i =
          static_cast<std::size_t>(std::floor((static_cast<double>(o) + 0.5) * inv_scale));
      taps[o].index.push_back(std::min(i, n_in - 1));
      taps[o].weight.push_back(1.0f);
    }
    return taps;
  }
  const double kscale = antialias ? std::max(inv_scale, 1.0) : 1.0;
  const double support = kernel_radius(method) * kscale;
  const double eps = 1000.0 * std::numeric_limits<float>::epsilon();
  for (std::size_t o = 0; o < n_out; ++o) {
    const double sample = (static_cast<double>(o) + 0.5) * inv_scale - 0.5;
    if (sample < -0.5 || sample > static_cast<double>(n_in) - 0.5) continue;
    const auto lo = static_cast<std::ptrdiff_t>(std::max(0.0, std::ceil(sample - support)));
    const auto hi = static_cast<std::ptrdiff_t>(
        std::min(static_cast<double>(n_in) - 1.0, std::floor(sample + support)));
    std::vector<double> w;
    double sum = 0.0;
    for (std::ptrdiff_t i = lo; i <= hi; ++i) {
      const double v = kernel_value(method, std::abs(sample - static_cast<double>(i)) / kscale);
      w.push_back(v);
      sum += v;
    }
    if (std::abs(sum) <= eps) continue;
    for (std::ptrdiff_t i = lo; i <= hi; ++i) {
      const double v = w[static_cast<std::size_t>(i - lo)] / sum;
      if (v == 0.0) continue;
      taps[o].index.push_back(static_cast<std::size_t>(i));
      taps[o].weight.push_back(static_cast<float>(v));
    }
  }
  return taps;
}

// y[..., o, ...] = sum_t w[o][t] * x[..., index[o][t], ...] along one axis.
class ResampleAxis final : public Kernel {
 public:
  ResampleAxis(std::size_t axis, std::size_t n_in, std::vector<Taps> taps)
      : axis_(axis),
        n_in_(n_in),
        taps_(std::make_shared<const std::vector<Taps>>(std::move(taps))) {}
  ResampleAxis(std::size_t axis, std::size_t n_in, std::shared_ptr<const std::vector<Taps>> taps)
      : axis_(axis), n_in_(n_in), taps_(std::move(taps)) {}
  std::string name() const override { return "resample_axis"; }
  std::size_t num_inputs() const override { return 1; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity("resample_axis", in, 1);
    if (in[0].size() <= axis_ || in[0][axis_] != static_cast<Dim>(n_in_)) {
      throw Error("resample_axis: expected size {} along axis {}, received shape {}", n_in_, axis_,
                  shape_str(in[0]));
    }
    Shape out = in[0];
    out[axis_] = static_cast<Dim>(taps_->size());
    return out;
  }
  void forward(TensorRefs in, Tensor& out, const Context&) override {
    const Tensor& x = *in[0];
    std::size_t outer = 1, inner = 1;
    for (std::size_t d = 0; d < axis_; ++d) outer *= x.shape()[d];
    for (std::size_t d = axis_ + 1; d < x.dimension(); ++d) inner *= x.shape()[d];
    const std::size_t n_out = taps_->size();
    const float* px = x.data();
    float* py = out.data();
    std::fill(py, py + out.size(), 0.0f);
    for (std::size_t b = 0; b < outer; ++b) {
      for (std::size_t o = 0; o < n_out; ++o) {
        float* dst = py + (b * n_out + o) * inner;
        const Taps& t = (*taps_)[o];
        for (std::size_t k = 0; k < t.index.size(); ++k) {
          const float* src = px + (b * n_in_ + t.index[k]) * inner;
          const float w = t.weight[k];
          for (std::size_t i = 0; i < inner; ++i) dst[i] += w * src[i];
        }
      }
    }
  }
  void backward(TensorRefs in, const Tensor&, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (!gin[0]) return;
    const Tensor& x = *in[0];
    std::size_t outer = 1, inner = 1;
    for (std::size_t d = 0; d < axis_; ++d) outer *= x.shape()[d];
    for (std::size_t d = axis_ + 1; d < x.dimension(); ++d) inner *= x.shape()[d];
    const std::size_t n_out = taps_->size();
    const float* g = gout.data();
    float* gx = gin[0]->data();
    for (std::size_t b = 0; b < outer; ++b) {
      for (std::size_t o = 0; o < n_out; ++o) {
        const float* src = g + (b * n_out + o) * inner;
        const Taps& t = (*taps_)[o];
        for (std::size_t k = 0; k < t.index.size(); ++k) {
          float* dst = gx + (b * n_in_ + t.index[k]) * inner;
          const float w = t.weight[k];
          for (std::size_t i = 0; i < inner; ++i) dst[i] += w * src[i];
        }
      }
    }
  }
  KernelPtr clone() const override { return std::make_shared<ResampleAxis>(axis_, n_in_, taps_); }

 private:
  std::size_t axis_, n_in_;
  std::shared_ptr<const std::vector<Taps>> taps_;
};

// (height axis, width axis) of a rank-4 image batch.
std::pair<std::size_t, std::size_t> hw_axes(bool channels_first) {
  return channels_first ? std::pair<std::size_t, std::size_t>{2, 3}
                        : std::pair<std::size_t, std::size_t>{1, 2};
}

void check_image(const std::string& layer, const std::string& cls, const Shape& s,
                 bool channels_first) {
  if (s.size() != 4) {
    throw Error(
        "Input 0 of layer \"{}\" ({}) is incompatible with the layer: expected a batch of images "
        "(ndim=4, {}), found ndim={}. Full shape received: {}",
        layer, cls,
        channels_first ? "(batch, channels, height, width)" : "(batch, height, width, channels)",
        s.size(), shape_str(s));
  }
  const auto [ha, wa] = hw_axes(channels_first);
  if (s[ha] < 0 || s[wa] < 0) {
    throw Error("{} \"{}\": the image height and width must be known, received shape {}", cls,
                layer, shape_str(s));
  }
}

// Keras's crop_to_aspect_ratio window (image_utils.smart_resize / backend resize):
// (start h, start w, crop h, crop w).
std::array<Dim, 4> aspect_crop(Dim h, Dim w, Dim th, Dim tw) {
  Dim ch = static_cast<Dim>(static_cast<double>(w * th) / static_cast<double>(tw));
  ch = std::max<Dim>(std::min(h, ch), 1);
  Dim cw = static_cast<Dim>(static_cast<double>(h * tw) / static_cast<double>(th));
  cw = std::max<Dim>(std::min(w, cw), 1);
  return {static_cast<Dim>(static_cast<double>(h - ch) / 2),
          static_cast<Dim>(static_cast<double>(w - cw) / 2), ch, cw};
}

// Resizes x's (ha, wa) axes to (th, tw) with `method`; x's spatial sizes are known.
SymbolicTensor resize_symbolic(const SymbolicTensor& x, std::size_t ha, std::size_t wa, Dim th,
                               Dim tw, const std::string& method, bool antialias) {
  SymbolicTensor y = x;
  const auto h = static_cast<std::size_t>(x.shape()[ha]);
  const auto w = static_cast<std::size_t>(x.shape()[wa]);
  if (h != static_cast<std::size_t>(th)) {
    y = ops::apply(std::make_shared<ResampleAxis>(
                       ha, h, resize_taps(h, static_cast<std::size_t>(th), method, antialias)),
                   {y});
  }
  if (w != static_cast<std::size_t>(tw)) {
    y = ops::apply(std::make_shared<ResampleAxis>(
                       wa, w, resize_taps(w, static_cast<std::size_t>(tw), method, antialias)),
                   {y});
  }
  return y;
}

SymbolicTensor crop_symbolic(const SymbolicTensor& x, std::size_t ha, std::size_t wa, Dim h0,
                             Dim w0, Dim ch, Dim cw) {
  SymbolicTensor y = x;
  if (h0 != 0 || ch != x.shape()[ha]) y = ops::slice(y, static_cast<Dim>(ha), h0, h0 + ch);
  if (w0 != 0 || cw != x.shape()[wa]) y = ops::slice(y, static_cast<Dim>(wa), w0, w0 + cw);
  return y;
}

void check_size(const char* cls, const std::string& name, Dim height, Dim width) {
  if (height < 1 || width < 1) {
    throw Error("{} \"{}\": height and width must be positive, received height={}, width={}", cls,
                name, height, width);
  }
}

// --- random image kernels -----------------------------------------------------------------

std::uint64_t splitmix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A counter-based stream of uniforms in [0, 1).
struct Stream {
  std::uint64_t state;
  double uniform() {
    state += 0x9E3779B97F4A7C15ull;
    return static_cast<double>(splitmix(state) >> 11) * 0x1.0p-53;
  }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
};

// The tap index of `i` along an axis of size n under Keras's fill modes; -1: outside
// ("constant").
std::ptrdiff_t fix_index(std::ptrdiff_t i, std::ptrdiff_t n, int mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 1:  // nearest
      return std::clamp<std::ptrdiff_t>(i, 0, n - 1);
    case 2: {  // wrap
      const std::ptrdiff_t r = i % n;
      return r < 0 ? r + n : r;
    }
    case 3: {  // reflect: (d c b a | a b c d | d c b a)
      const std::ptrdiff_t p = 2 * n;
      std::ptrdiff_t r = i % p;
      if (r < 0) r += p;
      return r < n ? r : p - 1 - r;
    }
    case 4: {  // mirror: (d c b | a b c d | c b a)
      if (n == 1) return 0;
      const std::ptrdiff_t p = 2 * (n - 1);
      std::ptrdiff_t r = i % p;
      if (r < 0) r += p;
      return r < n ? r : p - r;
    }
    default:
      return -1;
  }
}

int fill_mode_code(const std::string& m) {
  if (m == "constant") return 0;
  if (m == "nearest") return 1;
  if (m == "wrap") return 2;
  if (m == "reflect") return 3;
  if (m == "mirror") return 4;
  return -1;
}

using Kind = RandomImageLayer::Kind;

class RandomImageKernel final : public Kernel {
 public:
  RandomImageKernel(RandomImageLayer::Spec spec, bool channels_first)
      : spec_(std::move(spec)), cf_(channels_first), fill_(fill_mode_code(spec_.fill_mode)) {}
  std::string name() const override { return "random_image"; }
  std::size_t num_inputs() const override { return 1; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity("random_image", in, 1);
    if (in[0].size() != 4) {
      throw Error("random_image: expected a batch of images (rank 4), received {}",
                  shape_str(in[0]));
    }
    return in[0];
  }
  void forward(TensorRefs in, Tensor& out, const Context& ctx) override {
    const Tensor& x = *in[0];
    trained_ = ctx.training;
    if (!ctx.training) {
      std::copy(x.data(), x.data() + x.size(), out.data());
      return;
    }
    dims(x);
    draw();
    float* y = out.data();
    const float* px = x.data();
    if (spec_.kind == Kind::Contrast || spec_.kind == Kind::Brightness) {
      color_forward(px, y);
      return;
    }
    for (std::size_t b = 0; b < n_; ++b) {
      for (std::size_t c = 0; c < c_; ++c) {
        for (std::size_t i = 0; i < h_; ++i) {
          for (std::size_t j = 0; j < w_; ++j) {
            double v = 0.0;
            taps(
                b, c, i, j, [&](std::size_t src, double w) { v += w * px[src]; },
                [&](double w) { v += w * spec_.fill_value; });
            y[at(b, c, i, j)] = static_cast<float>(v);
          }
        }
      }
    }
  }
  void backward(TensorRefs in, const Tensor&, const Tensor& gout, GradRefs gin,
                const Context& ctx) override {
    if (!gin[0]) return;
    float* gx = gin[0]->data();
    const float* g = gout.data();
    if (!ctx.training || !trained_) {
      for (std::size_t k = 0; k < gout.size(); ++k) gx[k] += g[k];
      return;
    }
    const float* px = in[0]->data();
    if (spec_.kind == Kind::Brightness) {
      const double lo = spec_.value_range[0], hi = spec_.value_range[1];
      for (std::size_t b = 0; b < n_; ++b)
        for (std::size_t c = 0; c < c_; ++c)
          for (std::size_t i = 0; i < h_; ++i)
            for (std::size_t j = 0; j < w_; ++j) {
              const std::size_t k = at(b, c, i, j);
              const double z = px[k] + params_[b * 6];
              if (z >= lo && z <= hi) gx[k] += g[k];
            }
      return;
    }
    if (spec_.kind == Kind::Contrast) {
      // z = (x - m) c + m, y = clip(z): dz/dx_k = c delta + (1 - c) / HW.
      const double lo = spec_.value_range[0], hi = spec_.value_range[1];
      for (std::size_t b = 0; b < n_; ++b) {
        for (std::size_t c = 0; c < c_; ++c) {
          const double f = params_[b * 6], m = mean_[b * c_ + c];
          double sum = 0.0;
          std::vector<double> gz(h_ * w_);
          for (std::size_t i = 0; i < h_; ++i)
            for (std::size_t j = 0; j < w_; ++j) {
              const std::size_t k = at(b, c, i, j);
              const double z = (px[k] - m) * f + m;
              gz[i * w_ + j] = (z >= lo && z <= hi) ? g[k] : 0.0;
              sum += gz[i * w_ + j];
            }
          const double share = (1.0 - f) * sum / static_cast<double>(h_ * w_);
          for (std::size_t i = 0; i < h_; ++i)
            for (std::size_t j = 0; j < w_; ++j)
              gx[at(b, c, i, j)] += static_cast<float>(f * gz[i * w_ + j] + share);
        }
      }
      return;
    }
    for (std::size_t b = 0; b < n_; ++b)
      for (std::size_t c = 0; c < c_; ++c)
        for (std::size_t i = 0; i < h_; ++i)
          for (std::size_t j = 0; j < w_; ++j) {
            const float gy = g[at(b, c, i, j)];
            taps(
                b, c, i, j,
                [&](std::size_t src, double w) { gx[src] += static_cast<float>(w * gy); },
                [](double) {});
          }
  }
  KernelPtr clone() const override { return std::make_shared<RandomImageKernel>(spec_, cf_); }

 private:
  std::size_t at(std::size_t b, std::size_t c, std::size_t i, std::size_t j) const {
    return cf_ ? ((b * c_ + c) * h_ + i) * w_ + j : ((b * h_ + i) * w_ + j) * c_ + c;
  }
  void dims(const Tensor& x) {
    n_ = x.shape()[0];
    h_ = x.shape()[cf_ ? 2 : 1];
    w_ = x.shape()[cf_ ? 3 : 2];
    c_ = x.shape()[cf_ ? 1 : 3];
  }
  // Per image: Flip {flip}; Contrast {c, unused} (+ means); Brightness {delta}; affine
  // {a0, a1, a2, b0, b1, b2}: input (x, y) = (a0 x + a1 y + a2, b0 x + b1 y + b2).
  void draw() {
    Stream s{spec_.seed ? splitmix(static_cast<std::uint64_t>(*spec_.seed) +
                                   ++calls_ * 0xD1B54A32D192ED03ull)
                        : (generator()() ^ process_stream_salt())};
    const double h = static_cast<double>(h_), w = static_cast<double>(w_);
    params_.assign(n_ * 6, 0.0);
    for (std::size_t b = 0; b < n_; ++b) {
      double* p = &params_[b * 6];
      switch (spec_.kind) {
        case Kind::Flip:
          p[0] = s.uniform() <= 0.5 ? 1.0 : 0.0;
          break;
        case Kind::Contrast:
          p[0] = s.uniform(1.0 - spec_.factor[0], 1.0 + spec_.factor[1]);
          break;
        case Kind::Brightness:
          p[0] = s.uniform(spec_.factor[0], spec_.factor[1]) *
                 (spec_.value_range[1] - spec_.value_range[0]);
          break;
        case Kind::Rotation: {
          const double a = s.uniform(spec_.factor[0], spec_.factor[1]) * 2.0 * std::numbers::pi;
          const double co = std::cos(a), si = std::sin(a);
          p[0] = co;
          p[1] = -si;
          p[2] = ((w - 1) - (co * (w - 1) - si * (h - 1))) / 2.0;
          p[3] = si;
          p[4] = co;
          p[5] = ((h - 1) - (si * (w - 1) + co * (h - 1))) / 2.0;
          break;
        }
        case Kind::Zoom: {
          const auto hr = range(spec_.height_factor);
          const double zy = 1.0 + s.uniform(hr.first, hr.second);
          double zx = zy;
          if (!spec_.width_factor.empty()) {
            const auto wr = range(spec_.width_factor);
            zx = 1.0 + s.uniform(wr.first, wr.second);
          }
          p[0] = zx;
          p[2] = (w - 1) / 2.0 * (1.0 - zx);
          p[4] = zy;
          p[5] = (h - 1) / 2.0 * (1.0 - zy);
          break;
        }
        case Kind::Translation: {
          const auto hr = range(spec_.height_factor), wr = range(spec_.width_factor);
          const double ty = s.uniform(hr.first, hr.second) * h;
          const double tx = s.uniform(wr.first, wr.second) * w;
          p[0] = 1.0;
          p[2] = -tx;
          p[4] = 1.0;
          p[5] = -ty;
          break;
        }
      }
    }
  }
  // Contrast and brightness: y = clip((x - m) c + m) or clip(x + delta), value_range.
  void color_forward(const float* px, float* y) {
    const double lo = spec_.value_range[0], hi = spec_.value_range[1];
    mean_.assign(n_ * c_, 0.0);
    for (std::size_t b = 0; b < n_; ++b)
      for (std::size_t c = 0; c < c_; ++c) {
        const double p = params_[b * 6];
        double m = 0.0;
        if (spec_.kind == Kind::Contrast) {
          for (std::size_t i = 0; i < h_; ++i)  // mean over height, then width, as Keras
            for (std::size_t j = 0; j < w_; ++j) m += px[at(b, c, i, j)];
          m /= static_cast<double>(h_ * w_);
          mean_[b * c_ + c] = m;
        }
        for (std::size_t i = 0; i < h_; ++i)
          for (std::size_t j = 0; j < w_; ++j) {
            const std::size_t k = at(b, c, i, j);
            const double z = spec_.kind == Kind::Contrast ? (px[k] - m) * p + m : px[k] + p;
            y[k] = static_cast<float>(std::clamp(z, lo, hi));
          }
      }
  }
  static std::pair<double, double> range(const std::vector<double>& f) {
    if (f.size() == 1) return {-std::abs(f[0]), std::abs(f[0])};
    return {std::min(f[0], f[1]), std::max(f[0], f[1])};
  }
  // Calls tap(src index, weight) for each input element output (b, c, i, j) reads, and
  // fill(weight) for each tap outside the image under fill_mode "constant".
  template <typename Tap, typename Fill>
  void taps(std::size_t b, std::size_t c, std::size_t i, std::size_t j, Tap&& tap, Fill&& fill) {
    const double* p = &params_[b * 6];
    switch (spec_.kind) {
      case Kind::Flip: {
        const bool f = p[0] != 0.0;
        const bool hz = spec_.mode != "vertical", vt = spec_.mode != "horizontal";
        const std::size_t si = f && vt ? h_ - 1 - i : i;
        const std::size_t sj = f && hz ? w_ - 1 - j : j;
        tap(at(b, c, si, sj), 1.0);
        return;
      }
      default:
        break;
    }
    // Affine.
    const double xo = static_cast<double>(j), yo = static_cast<double>(i);
    const double xi = p[0] * xo + p[1] * yo + p[2];
    const double yi = p[3] * xo + p[4] * yo + p[5];
    const auto H = static_cast<std::ptrdiff_t>(h_), W = static_cast<std::ptrdiff_t>(w_);
    auto one = [&](std::ptrdiff_t r, std::ptrdiff_t q, double wgt) {
      if (wgt == 0.0) return;
      const std::ptrdiff_t rr = fix_index(r, H, fill_), qq = fix_index(q, W, fill_);
      if (rr < 0 || qq < 0) {
        fill(wgt);
      } else {
        tap(at(b, c, static_cast<std::size_t>(rr), static_cast<std::size_t>(qq)), wgt);
      }
    };
    if (spec_.interpolation == "nearest") {
      one(static_cast<std::ptrdiff_t>(std::floor(yi + 0.5)),
          static_cast<std::ptrdiff_t>(std::floor(xi + 0.5)), 1.0);
      return;
    }
    const double fy = std::floor(yi), fx = std::floor(xi);
    const double ty = yi - fy, tx = xi - fx;
    const auto r0 = static_cast<std::ptrdiff_t>(fy), q0 = static_cast<std::ptrdiff_t>(fx);
    one(r0, q0, (1 - ty) * (1 - tx));
    one(r0, q0 + 1, (1 - ty) * tx);
    one(r0 + 1, q0, ty * (1 - tx));
    one(r0 + 1, q0 + 1, ty * tx);
  }

  RandomImageLayer::Spec spec_;
  bool cf_;
  int fill_;
  std::size_t n_ = 0, h_ = 0, w_ = 0, c_ = 0;
  std::uint64_t calls_ = 0;
  std::vector<double> params_, mean_;
  bool trained_ = false;
};

// --- configs ---------------------------------------------------------------------------------

std::string where(std::string_view cls, const Config& c) {
  return fmt::format("{} \"{}\"", cls, config::name_of(c));
}

double shortest(double v) { return std::stod(fmt::format("{}", static_cast<float>(v))); }

[[noreturn]] void bad_value(const std::string& w, std::string_view key, const Config& v,
                            std::string_view expected) {
  throw Error("{}: {}={} is invalid (expected {})", w, key, v.dump(), expected);
}

template <typename T>
T get(const Config& c, std::string_view key, const std::string& w, T fallback) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null()) return fallback;
  const Config& v = *it;
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) bad_value(w, key, v, "true or false");
  } else if constexpr (std::is_integral_v<T>) {
    if (!v.is_number_integer()) bad_value(w, key, v, "an integer");
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number()) bad_value(w, key, v, "a number");
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) bad_value(w, key, v, "a string");
  }
  return v.get<T>();
}

template <typename T>
T required(const Config& c, std::string_view key, const std::string& w) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null()) throw Error("{}: the config needs \"{}\"", w, key);
  return get<T>(c, key, w, T{});
}

template <typename Make>
LayerRef finish(const std::string& w, const Config& c, Make make) {
  LayerRef layer;
  try {
    layer = LayerRef(make().get());
  } catch (const Error& e) {
    throw Error("{}: {}", w, e.what());
  }
  layer->apply_base_config(c);
  return layer;
}

const char* format_name(bool channels_first) {
  return channels_first ? "channels_first" : "channels_last";
}

}  // namespace

// --- Rescaling -------------------------------------------------------------------------------

RescalingLayer::RescalingLayer(double scale, RescalingOptions options)
    : Layer(options.name), scale_(scale), options_(std::move(options)) {
  if (!std::isfinite(scale_) || !std::isfinite(options_.offset)) {
    throw Error("Rescaling \"{}\": scale and offset must be finite, received scale={}, offset={}",
                name(), scale_, options_.offset);
  }
  set_declared_input_shape(options_.input_shape);
}

SymbolicTensor RescalingLayer::call(const SymbolicTensor& x) {
  SymbolicTensor y = ops::multiply(x, static_cast<float>(scale_));
  if (options_.offset != 0.0) y = ops::add(y, static_cast<float>(options_.offset));
  return y;
}

Config RescalingLayer::get_config() const {
  Config c = Layer::get_config();
  c["scale"] = scale_;
  c["offset"] = options_.offset;
  return c;
}

LayerRef RescalingLayer::from_config(const Config& c) {
  const std::string w = where("Rescaling", c);
  for (const char* key : {"scale", "offset"}) {
    auto it = c.find(key);
    if (it != c.end() && !it->is_null() && !it->is_number()) {
      bad_value(w, key, *it, "a number (plexus's Rescaling takes one scale and one offset)");
    }
  }
  const auto scale = required<double>(c, "scale", w);
  RescalingOptions o;
  o.offset = get<double>(c, "offset", w, 0.0);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<RescalingLayer>(scale, o); });
}

LayerHandle<RescalingLayer> Rescaling(double scale, RescalingOptions options) {
  return make_layer<RescalingLayer>(scale, std::move(options));
}

// --- Resizing --------------------------------------------------------------------------------

ResizingLayer::ResizingLayer(Dim height, Dim width, ResizingOptions options)
    : Layer(options.name), height_(height), width_(width), options_(std::move(options)) {
  check_size("Resizing", name(), height_, width_);
  if (!valid_interpolation(options_.interpolation)) {
    throw Error(
        "Resizing \"{}\": invalid value for argument `interpolation`. Expected one of "
        "(\"bilinear\", \"nearest\", \"lanczos3\", \"lanczos5\", \"bicubic\"). Received: "
        "interpolation={}",
        name(), options_.interpolation);
  }
  if (options_.fill_mode != "constant") {
    throw Error(
        "Resizing \"{}\": invalid value for argument `fill_mode`. Only `'constant'` is "
        "supported. Received: fill_mode={}",
        name(), options_.fill_mode);
  }
  if (options_.crop_to_aspect_ratio && options_.pad_to_aspect_ratio) {
    throw Error(
        "Resizing \"{}\": only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be "
        "`True`.",
        name());
  }
  channels_first_ = detail::channels_first(options_.data_format, "Resizing");
  set_declared_input_shape(options_.input_shape);
}

Shape ResizingLayer::compute_output_shape(const Shape& input_shape) {
  check_image(name(), "Resizing", input_shape, channels_first_);
  Shape out = input_shape;
  const auto [ha, wa] = hw_axes(channels_first_);
  out[ha] = height_;
  out[wa] = width_;
  return out;
}

SymbolicTensor ResizingLayer::call(const SymbolicTensor& x) {
  check_image(name(), "Resizing", x.shape(), channels_first_);
  const auto [ha, wa] = hw_axes(channels_first_);
  const Dim h = x.shape()[ha], w = x.shape()[wa];
  SymbolicTensor y = x;
  if (options_.crop_to_aspect_ratio) {
    const auto [h0, w0, ch, cw] = aspect_crop(h, w, height_, width_);
    y = crop_symbolic(y, ha, wa, h0, w0, ch, cw);
  } else if (options_.pad_to_aspect_ratio) {
    // Keras's numpy backend: the same amount before and after, along H if any, else along W.
    const Dim ph = std::max(h, static_cast<Dim>(static_cast<double>(w * height_) / width_));
    const Dim pw = std::max(w, static_cast<Dim>(static_cast<double>(h * width_) / height_));
    const auto hs = static_cast<Dim>(static_cast<double>(ph - h) / 2);
    const auto ws = static_cast<Dim>(static_cast<double>(pw - w) / 2);
    if (hs > 0 || ws > 0) {
      std::vector<std::pair<Dim, Dim>> pads(4, {0, 0});
      if (hs > 0) {
        pads[ha] = {hs, hs};
      } else {
        pads[wa] = {ws, ws};
      }
      const auto fill = static_cast<float>(options_.fill_value);
      y = fill == 0.0f ? ops::pad(y, pads) : ops::add(ops::pad(ops::subtract(y, fill), pads), fill);
    }
  }
  return resize_symbolic(y, ha, wa, height_, width_, options_.interpolation, options_.antialias);
}

Config ResizingLayer::get_config() const {
  Config c = Layer::get_config();
  c["data_format"] = format_name(channels_first_);
  c["height"] = height_;
  c["width"] = width_;
  c["interpolation"] = options_.interpolation;
  c["crop_to_aspect_ratio"] = options_.crop_to_aspect_ratio;
  c["pad_to_aspect_ratio"] = options_.pad_to_aspect_ratio;
  c["fill_mode"] = options_.fill_mode;
  c["fill_value"] = shortest(options_.fill_value);
  c["antialias"] = options_.antialias;
  return c;
}

LayerRef ResizingLayer::from_config(const Config& c) {
  const std::string w = where("Resizing", c);
  const auto height = required<Dim>(c, "height", w);
  const auto width = required<Dim>(c, "width", w);
  ResizingOptions o;
  o.interpolation = get<std::string>(c, "interpolation", w, o.interpolation);
  o.crop_to_aspect_ratio = get<bool>(c, "crop_to_aspect_ratio", w, false);
  o.pad_to_aspect_ratio = get<bool>(c, "pad_to_aspect_ratio", w, false);
  o.fill_mode = get<std::string>(c, "fill_mode", w, o.fill_mode);
  o.fill_value = get<double>(c, "fill_value", w, 0.0);
  o.antialias = get<bool>(c, "antialias", w, false);
  o.data_format = get<std::string>(c, "data_format", w, o.data_format);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<ResizingLayer>(height, width, o); });
}

LayerHandle<ResizingLayer> Resizing(Dim height, Dim width, ResizingOptions options) {
  return make_layer<ResizingLayer>(height, width, std::move(options));
}

// --- CenterCrop ------------------------------------------------------------------------------

CenterCropLayer::CenterCropLayer(Dim height, Dim width, CenterCropOptions options)
    : Layer(options.name), height_(height), width_(width), options_(std::move(options)) {
  check_size("CenterCrop", name(), height_, width_);
  channels_first_ = detail::channels_first(options_.data_format, "CenterCrop");
  set_declared_input_shape(options_.input_shape);
}

Shape CenterCropLayer::compute_output_shape(const Shape& input_shape) {
  check_image(name(), "CenterCrop", input_shape, channels_first_);
  Shape out = input_shape;
  const auto [ha, wa] = hw_axes(channels_first_);
  out[ha] = height_;
  out[wa] = width_;
  return out;
}

SymbolicTensor CenterCropLayer::call(const SymbolicTensor& x) {
  check_image(name(), "CenterCrop", x.shape(), channels_first_);
  const auto [ha, wa] = hw_axes(channels_first_);
  const Dim h = x.shape()[ha], w = x.shape()[wa];
  const Dim dh = h - height_, dw = w - width_;
  if (dh >= 0 && dw >= 0) return crop_symbolic(x, ha, wa, dh / 2, dw / 2, height_, width_);
  // Smaller than the target: Keras's smart_resize (aspect crop, then bilinear).
  const auto [h0, w0, ch, cw] = aspect_crop(h, w, height_, width_);
  return resize_symbolic(crop_symbolic(x, ha, wa, h0, w0, ch, cw), ha, wa, height_, width_,
                         "bilinear", false);
}

Config CenterCropLayer::get_config() const {
  Config c = Layer::get_config();
  c["data_format"] = format_name(channels_first_);
  c["height"] = height_;
  c["width"] = width_;
  return c;
}

LayerRef CenterCropLayer::from_config(const Config& c) {
  const std::string w = where("CenterCrop", c);
  const auto height = required<Dim>(c, "height", w);
  const auto width = required<Dim>(c, "width", w);
  CenterCropOptions o;
  o.data_format = get<std::string>(c, "data_format", w, o.data_format);
  o.name = config::name_of(c);
  return finish(w, c, [&] { return make_layer<CenterCropLayer>(height, width, o); });
}

LayerHandle<CenterCropLayer> CenterCrop(Dim height, Dim width, CenterCropOptions options) {
  return make_layer<CenterCropLayer>(height, width, std::move(options));
}

}  // namespace plexus::layers

// --- random image layers ---------------------------------------------------------------------

namespace plexus::layers {
namespace {

const char* kind_name(RandomImageLayer::Kind k) {
  switch (k) {
    case RandomImageLayer::Kind::Flip:
      return "RandomFlip";
    case RandomImageLayer::Kind::Contrast:
      return "RandomContrast";
    case RandomImageLayer::Kind::Brightness:
      return "RandomBrightness";
    case RandomImageLayer::Kind::Rotation:
      return "RandomRotation";
    case RandomImageLayer::Kind::Zoom:
      return "RandomZoom";
    case RandomImageLayer::Kind::Translation:
      return "RandomTranslation";
  }
  return "RandomImage";
}

// Keras's BaseImagePreprocessingLayer._set_factor with bounds (lo_bound, 1).
std::vector<double> set_factor(const std::vector<double>& f, double lo_bound, const char* cls) {
  auto bad = [&] {
    std::string v = f.size() == 1 ? fmt::format("{}", f[0]) : fmt::format("{}", fmt::join(f, ", "));
    return Error(
        "{}: the `factor` argument should be a number (or a list of two numbers) in the range "
        "[{}, 1]. Received: factor={}",
        cls, lo_bound, v);
  };
  if (f.size() == 2) {
    if (f[0] > 1.0 || f[1] < lo_bound) throw bad();
    return {std::min(f[0], f[1]), std::max(f[0], f[1])};
  }
  if (f.size() != 1 || f[0] < lo_bound || f[0] > 1.0 || !std::isfinite(f[0])) throw bad();
  const double a = std::abs(f[0]);
  return {std::max(-a, lo_bound), a};
}

void check_range_given(const std::vector<double>& f, const char* cls, const char* arg) {
  if (f.empty() || f.size() > 2) {
    throw Error("{}: `{}` must be a number or a (lower, upper) pair, received {} values", cls, arg,
                f.size());
  }
  for (double v : f) {
    if (!std::isfinite(v) || v < -1.0 || (f.size() == 1 && v > 1.0)) {
      throw Error("{}: `{}` must be in [-1, 1], received {}", cls, arg, v);
    }
  }
}

}  // namespace

RandomImageLayer::RandomImageLayer(Spec spec, std::string name, Shape input_shape)
    : Layer(std::move(name)), spec_(std::move(spec)) {
  const char* cls = kind_name(spec_.kind);
  channels_first_ = detail::channels_first(spec_.data_format, cls);
  if (spec_.kind == Kind::Flip && spec_.mode != "horizontal" && spec_.mode != "vertical" &&
      spec_.mode != "horizontal_and_vertical") {
    throw Error(
        "RandomFlip: mode must be \"horizontal\", \"vertical\" or \"horizontal_and_vertical\", "
        "received \"{}\"",
        spec_.mode);
  }
  if (spec_.kind == Kind::Contrast || spec_.kind == Kind::Brightness) {
    if (spec_.value_range.size() != 2 || !(spec_.value_range[0] < spec_.value_range[1])) {
      throw Error("{}: value_range must be (low, high) with low < high", cls);
    }
  }
  if (spec_.kind == Kind::Rotation || spec_.kind == Kind::Zoom || spec_.kind == Kind::Translation) {
    if (fill_mode_code(spec_.fill_mode) < 0) {
      throw Error(
          "{}: unknown `fill_mode` {}. Expected one of (\"reflect\", \"wrap\", \"constant\", "
          "\"nearest\", \"mirror\")",
          cls, spec_.fill_mode);
    }
    if (spec_.interpolation != "bilinear" && spec_.interpolation != "nearest") {
      throw Error("{}: unknown `interpolation` {}. Expected one of (\"bilinear\", \"nearest\")",
                  cls, spec_.interpolation);
    }
  }
  if (spec_.kind == Kind::Zoom || spec_.kind == Kind::Translation) {
    check_range_given(spec_.height_factor, cls, "height_factor");
    if (spec_.kind == Kind::Translation || !spec_.width_factor.empty())
      check_range_given(spec_.width_factor, cls, "width_factor");
  }
  set_declared_input_shape(std::move(input_shape));
}

std::string RandomImageLayer::class_name() const { return kind_name(spec_.kind); }

Shape RandomImageLayer::compute_output_shape(const Shape& input_shape) {
  check_image(name(), class_name(), input_shape, channels_first_);
  return input_shape;
}

SymbolicTensor RandomImageLayer::call(const SymbolicTensor& x) {
  check_image(name(), class_name(), x.shape(), channels_first_);
  return ops::apply(std::make_shared<RandomImageKernel>(spec_, channels_first_), {x});
}

namespace {
Config number_or_pair(const std::vector<double>& v) {
  if (v.empty()) return nullptr;
  if (v.size() == 1) return v[0];
  return Config::array({v[0], v[1]});
}

std::vector<double> read_numbers(const Config& c, std::string_view key, const std::string& w,
                                 std::vector<double> fallback) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null()) return fallback;
  if (it->is_number()) return {it->get<double>()};
  if (!it->is_array()) bad_value(w, key, *it, "a number or a list of two numbers");
  std::vector<double> v;
  for (const auto& e : *it) {
    if (!e.is_number()) bad_value(w, key, *it, "a number or a list of two numbers");
    v.push_back(e.get<double>());
  }
  return v;
}
}  // namespace

Config RandomImageLayer::get_config() const {
  Config c = Layer::get_config();
  c["data_format"] = format_name(channels_first_);
  switch (spec_.kind) {
    case Kind::Flip:
      c["seed"] = spec_.seed;
      c["mode"] = spec_.mode;
      break;
    case Kind::Contrast:
    case Kind::Brightness:
      c["factor"] = number_or_pair(spec_.factor);
      c["value_range"] = Config::array({spec_.value_range[0], spec_.value_range[1]});
      c["seed"] = spec_.seed;
      break;
    case Kind::Rotation:
      c["factor"] = number_or_pair(spec_.factor);
      c["fill_mode"] = spec_.fill_mode;
      c["fill_value"] = spec_.fill_value;
      c["interpolation"] = spec_.interpolation;
      c["seed"] = spec_.seed;
      break;
    case Kind::Zoom:
    case Kind::Translation:
      c["height_factor"] = number_or_pair(spec_.height_factor);
      c["width_factor"] = number_or_pair(spec_.width_factor);
      c["fill_mode"] = spec_.fill_mode;
      c["interpolation"] = spec_.interpolation;
      c["seed"] = spec_.seed;
      c["fill_value"] = spec_.fill_value;
      break;
  }
  return c;
}

LayerRef RandomImageLayer::from_config(const Config& c, Kind kind) {
  const std::string w = where(kind_name(kind), c);
  Spec s;
  s.kind = kind;
  s.data_format = get<std::string>(c, "data_format", w, s.data_format);
  s.seed = get<std::optional<std::int64_t>>(c, "seed", w, std::nullopt);
  switch (kind) {
    case Kind::Flip:
      s.mode = get<std::string>(c, "mode", w, s.mode);
      break;
    case Kind::Contrast:
    case Kind::Brightness:
    case Kind::Rotation: {
      const auto f = read_numbers(c, "factor", w, {});
      if (f.empty()) throw Error("{}: the config needs \"factor\"", w);
      s.factor = f.size() == 2
                     ? std::vector<double>{std::min(f[0], f[1]), std::max(f[0], f[1])}
                     : set_factor(f, kind == Kind::Contrast ? 0.0 : -1.0, kind_name(kind));
      s.value_range = read_numbers(c, "value_range", w, s.value_range);
      s.fill_mode = get<std::string>(c, "fill_mode", w, s.fill_mode);
      s.fill_value = get<double>(c, "fill_value", w, 0.0);
      s.interpolation = get<std::string>(c, "interpolation", w, s.interpolation);
      break;
    }
    case Kind::Zoom:
    case Kind::Translation:
      s.height_factor = read_numbers(c, "height_factor", w, {});
      s.width_factor = read_numbers(c, "width_factor", w, {});
      if (s.height_factor.empty()) throw Error("{}: the config needs \"height_factor\"", w);
      s.fill_mode = get<std::string>(c, "fill_mode", w, s.fill_mode);
      s.fill_value = get<double>(c, "fill_value", w, 0.0);
      s.interpolation = get<std::string>(c, "interpolation", w, s.interpolation);
      break;
  }
  return finish(w, c, [&] {
    return make_layer<RandomImageLayer>(std::move(s), config::name_of(c), Shape{});
  });
}

LayerHandle<RandomImageLayer> RandomFlip(std::string mode, RandomFlipOptions o) {
  RandomImageLayer::Spec s;
  s.kind = RandomImageLayer::Kind::Flip;
  s.mode = std::move(mode);
  s.seed = o.seed;
  s.data_format = o.data_format;
  return make_layer<RandomImageLayer>(std::move(s), o.name, o.input_shape);
}

namespace {
LayerHandle<RandomImageLayer> color_layer(RandomImageLayer::Kind kind, const FactorRange& factor,
                                          RandomColorOptions o) {
  RandomImageLayer::Spec s;
  s.kind = kind;
  s.factor = set_factor(factor.values, kind == RandomImageLayer::Kind::Contrast ? 0.0 : -1.0,
                        kind_name(kind));
  s.value_range = o.value_range;
  s.seed = o.seed;
  s.data_format = o.data_format;
  return make_layer<RandomImageLayer>(std::move(s), o.name, o.input_shape);
}

LayerHandle<RandomImageLayer> affine_layer(RandomImageLayer::Kind kind, std::vector<double> factor,
                                           std::vector<double> height, std::vector<double> width,
                                           RandomAffineOptions o) {
  RandomImageLayer::Spec s;
  s.kind = kind;
  s.factor = std::move(factor);
  s.height_factor = std::move(height);
  s.width_factor = std::move(width);
  s.fill_mode = o.fill_mode;
  s.interpolation = o.interpolation;
  s.fill_value = o.fill_value;
  s.seed = o.seed;
  s.data_format = o.data_format;
  return make_layer<RandomImageLayer>(std::move(s), o.name, o.input_shape);
}
}  // namespace

LayerHandle<RandomImageLayer> RandomContrast(FactorRange factor, RandomColorOptions options) {
  return color_layer(RandomImageLayer::Kind::Contrast, factor, std::move(options));
}
LayerHandle<RandomImageLayer> RandomBrightness(FactorRange factor, RandomColorOptions options) {
  return color_layer(RandomImageLayer::Kind::Brightness, factor, std::move(options));
}
LayerHandle<RandomImageLayer> RandomRotation(FactorRange factor, RandomAffineOptions options) {
  return affine_layer(RandomImageLayer::Kind::Rotation,
                      set_factor(factor.values, -1.0, "RandomRotation"), {}, {},
                      std::move(options));
}
LayerHandle<RandomImageLayer> RandomZoom(FactorRange height_factor, RandomAffineOptions options) {
  std::vector<double> width =
      options.width_factor ? options.width_factor->values : std::vector<double>{};
  return affine_layer(RandomImageLayer::Kind::Zoom, {}, height_factor.values, std::move(width),
                      std::move(options));
}
LayerHandle<RandomImageLayer> RandomTranslation(FactorRange height_factor, FactorRange width_factor,
                                                RandomAffineOptions options) {
  return affine_layer(RandomImageLayer::Kind::Translation, {}, height_factor.values,
                      width_factor.values, std::move(options));
}

}  // namespace plexus::layers
