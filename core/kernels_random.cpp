// Stochastic kernels.
//   dropout (inverted): training: y = x * m, m_i = keep ? 1 / (1 - rate) : 0 with
//   P(keep) = 1 - rate drawn from plexus::generator(); VJP gx += g * m (the kept mask).
//   Inference: y = x, gx += g.
#include <memory>

#include "core/error.hpp"
#include "core/kernel_util.hpp"
#include "core/kernels.hpp"
#include "core/random.hpp"

namespace plexus::kernels {
namespace {

class Dropout final : public Kernel {
 public:
  explicit Dropout(float rate) : rate_(rate) {
    if (!(rate >= 0.0f && rate < 1.0f)) {
      throw Error("dropout: rate must be in [0, 1), received {}", rate);
    }
  }
  std::string name() const override { return "dropout"; }
  std::size_t num_inputs() const override { return 1; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity("dropout", in, 1);
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
    mask_.resize(n);
    // Each 64-bit draw gives two 32-bit uniforms; u < keep * 2^32 keeps the unit.
    const double keep = 1.0 - static_cast<double>(rate_);
    const auto threshold = static_cast<std::uint64_t>(keep * 4294967296.0);
    const float scale = 1.0f / (1.0f - rate_);
    Generator& gen = generator();
    std::size_t i = 0;
    for (; i + 2 <= n; i += 2) {
      const std::uint64_t r = gen();
      mask_[i] = (r & 0xffffffffu) < threshold ? scale : 0.0f;
      mask_[i + 1] = (r >> 32) < threshold ? scale : 0.0f;
    }
    if (i < n) mask_[i] = (gen() & 0xffffffffu) < threshold ? scale : 0.0f;
    const float* m = mask_.data();
    for (std::size_t j = 0; j < n; ++j) py[j] = px[j] * m[j];
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
    if (mask_.size() != in[0]->size()) {
      throw Error("dropout: backward in training without a training forward of the same shape");
    }
    const float* m = mask_.data();
    for (std::size_t j = 0; j < n; ++j) gx[j] += g[j] * m[j];
  }

  KernelPtr clone() const override { return std::make_shared<Dropout>(rate_); }

 private:
  float rate_;
  std::vector<float> mask_;  // 0 or 1 / (1 - rate), from the last training forward
};

}  // namespace

KernelPtr dropout(float rate) { return std::make_shared<Dropout>(rate); }

}  // namespace plexus::kernels
