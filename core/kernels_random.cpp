// Stochastic kernels.
//   dropout (inverted): training: y = x * m, m_i = keep ? 1 / (1 - rate) : 0 with
//   P(keep) = 1 - rate, seeded from plexus::generator(); VJP gx += g * m (the kept mask).
//   Inference: y = x, gx += g.
#include <cstdint>
#include <memory>
#include <vector>

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
    // One draw from the library generator seeds a counter-based stream: element i keeps
    // when the top 32 bits of splitmix64(seed + i * golden) fall below keep * 2^32. Same
    // seed, same masks; and unlike stepping mt19937_64 per element the loop vectorises.
    const std::uint64_t seed = generator()();
    const double keep = 1.0 - static_cast<double>(rate_);
    const auto threshold = static_cast<std::uint64_t>(keep * 4294967296.0);
    const float scale = 1.0f / (1.0f - rate_);
    float* m = mask_.data();
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      z ^= z >> 31;
      m[i] = (z >> 32) < threshold ? scale : 0.0f;
      py[i] = px[i] * m[i];
    }
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
