// Kernels that act differently in training: dropout (stochastic) and training_select.
//   dropout (inverted): training: y = x * m, m_i = keep ? 1 / (1 - rate) : 0 with
//   P(keep) = 1 - rate, seeded from plexus::generator(); VJP gx += g * m (the kept mask).
//   Inference: y = x, gx += g. With a noise shape the mask has size 1 along the shared
//   axes and is broadcast (one draw per channel for SpatialDropout).
//   dropout_mask: the mask alone, [N, width] for its input's batch N (ones outside
//   training); the recurrent layers' recurrent_dropout. No gradient.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/error.hpp"
#include "core/kernel_util.hpp"
#include "core/kernels.hpp"
#include "core/random.hpp"
#include "graph/detail/gradients.hpp"
#include "graph/ops.hpp"

namespace plexus::kernels {
namespace {

using ST = SymbolicTensor;
namespace o = plexus::ops;

// m[i] = keep ? 1 / (1 - rate) : 0, i < n. One draw from the library generator seeds a
// counter-based stream: element i keeps when the top 32 bits of splitmix64(seed + i *
// golden) fall below keep * 2^32. Same seed, same masks; and unlike stepping mt19937_64 per
// element the loop vectorises.
void draw_mask(float rate, float* m, std::size_t n) {
  const std::uint64_t seed = generator()() ^ process_stream_salt();
  const double keep = 1.0 - static_cast<double>(rate);
  const auto threshold = static_cast<std::uint64_t>(keep * 4294967296.0);
  const float scale = 1.0f / (1.0f - rate);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    m[i] = (z >> 32) < threshold ? scale : 0.0f;
  }
}

class Dropout final : public Kernel {
 public:
  Dropout(float rate, Shape noise_shape) : rate_(rate), noise_shape_(std::move(noise_shape)) {
    if (!(rate >= 0.0f && rate < 1.0f)) {
      throw Error("dropout: rate must be in [0, 1), received {}", rate);
    }
  }
  std::string name() const override { return "dropout"; }
  std::size_t num_inputs() const override { return 1; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity("dropout", in, 1);
    if (!noise_shape_.empty() && noise_shape_.size() != in[0].size()) {
      throw Error("dropout: noise_shape {} does not match the rank of the input {}",
                  shape_str(noise_shape_), shape_str(in[0]));
    }
    return in[0];
  }

  void forward(TensorRefs in, Tensor& out, const Context& ctx) override {
    const Tensor& x = *in[0];
    const float* px = x.data();
    float* py = out.data();
    const std::size_t n = x.size();
    if (!ctx.training || rate_ == 0.0f) {
      std::copy(px, px + n, py);
      return;
    }
    // The mask's shape: x's, with 1 along the shared axes of the noise shape.
    mask_shape_.assign(x.shape().begin(), x.shape().end());
    for (std::size_t d = 0; d < noise_shape_.size(); ++d) {
      if (noise_shape_[d] == 1) mask_shape_[d] = 1;
    }
    std::size_t m_size = 1;
    for (std::size_t d : mask_shape_) m_size *= d;
    const bool shared = m_size != n;
    mask_.resize(m_size);
    draw_mask(rate_, mask_.data(), m_size);
    const float* m = mask_.data();
    if (!shared) {
      for (std::size_t i = 0; i < n; ++i) py[i] = px[i] * m[i];
      return;
    }
    plan(x);
    loop_.run([&](const auto& base, std::size_t k, const auto& step) {
      for (std::size_t i = 0; i < k; ++i)
        py[base[0] + i] = px[base[0] + i] * m[base[1] + idx(i, step[1])];
    });
  }

  void backward(TensorRefs in, const Tensor&, const Tensor& gout, GradRefs gin,
                const Context& ctx) override {
    if (!gin[0]) return;
    float* gx = gin[0]->data();
    const float* g = gout.data();
    const std::size_t n = gout.size();
    if (!ctx.training || rate_ == 0.0f) {
      for (std::size_t j = 0; j < n; ++j) gx[j] += g[j];
      return;
    }
    if (mask_shape_.size() != in[0]->dimension() ||
        !std::equal(mask_shape_.begin(), mask_shape_.end(), in[0]->shape().begin(),
                    [](std::size_t m, std::size_t d) { return m == d || m == 1; })) {
      throw Error("dropout: backward in training without a training forward of the same shape");
    }
    const float* m = mask_.data();
    if (mask_.size() == n) {
      for (std::size_t j = 0; j < n; ++j) gx[j] += g[j] * m[j];
      return;
    }
    plan(*in[0]);
    loop_.run([&](const auto& base, std::size_t k, const auto& step) {
      for (std::size_t i = 0; i < k; ++i)
        gx[base[0] + i] += g[base[0] + i] * m[base[1] + idx(i, step[1])];
    });
  }

  KernelPtr clone() const override { return std::make_shared<Dropout>(rate_, noise_shape_); }
  // In training the output is x * mask with mask 0 or 1 / (1 - rate): the VJP scales g where
  // the output kept x (y != 0; a kept x == 0 has a zero output, and so does its gradient
  // wherever x came from a relu). Outside training: identity.
  std::vector<ST> symbolic_vjp(const std::vector<ST>&, const std::vector<ST>& outs,
                               const std::vector<ST>& gouts) const override {
    const ST& g = gouts[0];
    const ST kept = o::where(o::detail::nonzero_mask(outs[0]),
                             o::multiply(g, 1.0f / (1.0f - rate_)), o::constant(0.0f));
    return {o::apply(training_select(), {kept, g})};
  }

 private:
  // Operand 0 walks x, operand 1 the broadcast mask.
  void plan(const Tensor& x) {
    loop_.reset(x.shape());
    loop_.set_broadcast(0, x.shape());
    loop_.set_broadcast(1, mask_shape_);
  }

  float rate_;
  Shape noise_shape_;
  std::vector<float> mask_;  // 0 or 1 / (1 - rate), from the last training forward
  std::vector<std::size_t> mask_shape_;
  StridedLoop<2> loop_;
};

// ---- dropout_mask ------------------------------------------------------------------------
class DropoutMask final : public Kernel {
 public:
  DropoutMask(float rate, Dim width) : rate_(rate), width_(width) {
    if (!(rate >= 0.0f && rate < 1.0f)) {
      throw Error("dropout_mask: rate must be in [0, 1), received {}", rate);
    }
    if (width <= 0) throw Error("dropout_mask: width must be positive, received {}", width);
  }
  std::string name() const override { return "dropout_mask"; }
  std::size_t num_inputs() const override { return 1; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity("dropout_mask", in, 1);
    if (in[0].empty()) {
      throw Error("dropout_mask: the input must have a batch axis, received a scalar");
    }
    return {in[0][0], width_};
  }
  void forward(TensorRefs, Tensor& out, const Context& ctx) override {
    if (!ctx.training || rate_ == 0.0f) {
      std::fill(out.data(), out.data() + out.size(), 1.0f);
      return;
    }
    draw_mask(rate_, out.data(), out.size());
  }
  void backward(TensorRefs, const Tensor&, const Tensor&, GradRefs, const Context&) override {}
  KernelPtr clone() const override { return std::make_shared<DropoutMask>(rate_, width_); }

 private:
  float rate_;
  Dim width_;
};

// ---- training_select ---------------------------------------------------------------------
// y = a in training (when `enabled` says so too), else b; the gradient goes to the chosen
// input only. BatchNormalization picks batch or moving statistics with it.
class TrainingSelect final : public Kernel {
 public:
  explicit TrainingSelect(std::shared_ptr<const bool> enabled) : enabled_(std::move(enabled)) {}
  std::string name() const override { return "training_select"; }
  std::size_t num_inputs() const override { return 2; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity("training_select", in, 2);
    if (!shapes_compatible(in[0], in[1])) {
      throw Error("training_select: the inputs {} and {} must have the same shape",
                  shape_str(in[0]), shape_str(in[1]));
    }
    Shape out = in[0];
    for (std::size_t d = 0; d < out.size(); ++d) {
      if (out[d] < 0) out[d] = in[1][d];
    }
    return out;
  }
  void forward(TensorRefs in, Tensor& out, const Context& ctx) override {
    const Tensor& x = *in[chosen(ctx)];
    std::copy(x.data(), x.data() + x.size(), out.data());
  }
  void backward(TensorRefs, const Tensor&, const Tensor& gout, GradRefs gin,
                const Context& ctx) override {
    Tensor* g = gin[chosen(ctx)];
    if (!g) return;
    float* gx = g->data();
    const float* go = gout.data();
    for (std::size_t i = 0; i < gout.size(); ++i) gx[i] += go[i];
  }
  // Clones share the flag: every executor's copy follows the layer's trainable state.
  KernelPtr clone() const override { return std::make_shared<TrainingSelect>(enabled_); }
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>& outs,
                               const std::vector<ST>& gouts) const override {
    (void)in;
    (void)outs;
    const ST zero = o::zeros_like(gouts[0]);
    return {o::apply(training_select(enabled_), {gouts[0], zero}),
            o::apply(training_select(enabled_), {zero, gouts[0]})};
  }

 private:
  std::size_t chosen(const Context& ctx) const {
    return ctx.training && (!enabled_ || *enabled_) ? 0 : 1;
  }
  std::shared_ptr<const bool> enabled_;
};

}  // namespace

KernelPtr dropout(float rate, Shape noise_shape) {
  return std::make_shared<Dropout>(rate, std::move(noise_shape));
}

KernelPtr dropout_mask(float rate, Dim width) { return std::make_shared<DropoutMask>(rate, width); }

KernelPtr training_select(std::shared_ptr<const bool> enabled) {
  return std::make_shared<TrainingSelect>(std::move(enabled));
}

}  // namespace plexus::kernels
