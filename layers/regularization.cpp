#include "layers/regularization.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>

#include "core/error.hpp"
#include "core/initializers.hpp"
#include "core/kernel.hpp"
#include "core/kernel_util.hpp"
#include "core/random.hpp"
#include "graph/ops.hpp"
#include "layers/masking.hpp"
#include "layers/spatial.hpp"

namespace plexus::layers {

SpatialDropoutLayer::SpatialDropoutLayer(std::size_t rank, float rate,
                                         SpatialDropoutOptions options)
    : Layer(options.name), rank_(rank), rate_(rate), seed_(options.seed) {
  if (!(rate_ >= 0.0f && rate_ < 1.0f)) {
    throw Error(
        "{}: invalid value received for argument `rate`. Expected a float value in [0, 1), "
        "received: rate={}",
        class_name(), rate_);
  }
  channels_first_ = detail::channels_first(options.data_format, class_name());
  set_declared_input_shape(std::move(options.input_shape));
}

Shape SpatialDropoutLayer::compute_output_shape(const Shape& input_shape) {
  if (input_shape.size() != rank_ + 2) {
    throw Error(
        "Input 0 of layer \"{}\" is incompatible with the layer: expected ndim={}, found "
        "ndim={}. Full shape received: {}",
        name(), rank_ + 2, input_shape.size(), shape_str(input_shape));
  }
  return input_shape;
}

SymbolicTensor SpatialDropoutLayer::call(const SymbolicTensor& x) {
  compute_output_shape(x.shape());
  if (rate_ == 0.0f) return x;
  // Keras's noise shape: (N, 1..., C), or (N, C, 1...) for channels_first.
  Shape noise(x.rank(), 1);
  noise[0] = -1;
  noise[detail::channel_axis(x.rank(), channels_first_)] = -1;
  return ops::dropout(x, rate_, std::move(noise));
}

LayerHandle<SpatialDropoutLayer> SpatialDropout1D(float rate, SpatialDropoutOptions options) {
  return make_layer<SpatialDropoutLayer>(1, rate, std::move(options));
}
LayerHandle<SpatialDropoutLayer> SpatialDropout2D(float rate, SpatialDropoutOptions options) {
  return make_layer<SpatialDropoutLayer>(2, rate, std::move(options));
}
LayerHandle<SpatialDropoutLayer> SpatialDropout3D(float rate, SpatialDropoutOptions options) {
  return make_layer<SpatialDropoutLayer>(3, rate, std::move(options));
}

// --- GaussianNoise, GaussianDropout, AlphaDropout ----------------------------------------

namespace {

std::uint64_t splitmix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// (0, 1) from the top 53 bits of a hash.
double unit_open(std::uint64_t z) {
  return (static_cast<double>(z >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

// Random numbers shaped like x (with size 1 along the axes where `shared` is 1) in
// training, `fill` at inference; no gradient. Normal: mean + stddev * N(0, 1) (Box-Muller);
// keep: 1 with probability 1 - rate, else 0. One draw from the library generator seeds a
// counter-based stream, as the dropout kernel does: same seed, same noise.
class Noise final : public Kernel {
 public:
  enum class Kind { normal, keep };
  Noise(Kind kind, float a, float b, float fill, Shape shared)
      : kind_(kind), a_(a), b_(b), fill_(fill), shared_(std::move(shared)) {}
  std::string name() const override { return kind_ == Kind::normal ? "random_normal" : "keep"; }
  std::size_t num_inputs() const override { return 1; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity(name(), in, 1);
    Shape out = in[0];
    if (!shared_.empty()) {
      if (shared_.size() != out.size()) {
        throw Error("{}: noise_shape {} does not match the rank of the input {}", name(),
                    shape_str(shared_), shape_str(in[0]));
      }
      for (std::size_t d = 0; d < out.size(); ++d) {
        if (shared_[d] == 1) out[d] = 1;
      }
    }
    return out;
  }
  void forward(TensorRefs, Tensor& out, const Context& ctx) override {
    float* y = out.data();
    const std::size_t n = out.size();
    if (!ctx.training) {
      std::fill(y, y + n, fill_);
      return;
    }
    const std::uint64_t seed = generator()() ^ process_stream_salt();
    constexpr std::uint64_t golden = 0x9E3779B97F4A7C15ull;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t k = seed + (2 * i + 1) * golden;
      if (kind_ == Kind::normal) {
        const double u1 = unit_open(splitmix(k)), u2 = unit_open(splitmix(k + golden));
        const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
        y[i] = a_ + b_ * static_cast<float>(z);
      } else {
        y[i] = unit_open(splitmix(k)) >= static_cast<double>(a_) ? 1.0f : 0.0f;
      }
    }
  }
  void backward(TensorRefs, const Tensor&, const Tensor&, GradRefs, const Context&) override {}
  KernelPtr clone() const override {
    return std::make_shared<Noise>(kind_, a_, b_, fill_, shared_);
  }

 private:
  Kind kind_;
  float a_, b_;  // normal: mean, stddev; keep: the rate, unused
  float fill_;
  Shape shared_;
};

void check_rate(float rate, const std::string& cls) {
  if (!(rate >= 0.0f && rate < 1.0f)) {
    throw Error(
        "{}: invalid value received for argument `rate`. Expected a float value in [0, 1), "
        "received: rate={}",
        cls, rate);
  }
}

}  // namespace

GaussianNoiseLayer::GaussianNoiseLayer(float stddev, NoiseOptions options)
    : Layer(options.name), stddev_(stddev), seed_(options.seed) {
  if (!(stddev_ >= 0.0f) || !std::isfinite(stddev_)) {
    throw Error(
        "GaussianNoise: invalid value received for argument `stddev`. Expected a finite float "
        "value >= 0, received: stddev={}",
        stddev_);
  }
  set_declared_input_shape(std::move(options.input_shape));
}

SymbolicTensor GaussianNoiseLayer::call(const SymbolicTensor& x) {
  if (stddev_ == 0.0f) return x;
  // The noise is 0 at inference, so the sum is x exactly.
  auto noise =
      ops::apply(std::make_shared<Noise>(Noise::Kind::normal, 0.0f, stddev_, 0.0f, Shape{}), {x});
  SymbolicTensor y = ops::add(x, noise);
  masking::pass_on(x, y);
  return y;
}

GaussianDropoutLayer::GaussianDropoutLayer(float rate, NoiseOptions options)
    : Layer(options.name), rate_(rate), seed_(options.seed) {
  check_rate(rate_, "GaussianDropout");
  set_declared_input_shape(std::move(options.input_shape));
}

SymbolicTensor GaussianDropoutLayer::call(const SymbolicTensor& x) {
  if (rate_ == 0.0f) return x;
  const float stddev = std::sqrt(rate_ / (1.0f - rate_));
  // The factor is 1 at inference.
  auto factor =
      ops::apply(std::make_shared<Noise>(Noise::Kind::normal, 1.0f, stddev, 1.0f, Shape{}), {x});
  SymbolicTensor y = ops::multiply(x, factor);
  masking::pass_on(x, y);
  return y;
}

AlphaDropoutLayer::AlphaDropoutLayer(float rate, AlphaDropoutOptions options)
    : Layer(options.name), rate_(rate), options_(std::move(options)) {
  check_rate(rate_, "AlphaDropout");
  for (Dim d : options_.noise_shape) {
    if (d == 0 || d < -1) {
      throw Error(
          "AlphaDropout: noise_shape {} may only hold positive dimensions and -1 (None, the "
          "input's dimension)",
          shape_str(options_.noise_shape));
    }
  }
  set_declared_input_shape(options_.input_shape);
}

SymbolicTensor AlphaDropoutLayer::call(const SymbolicTensor& x) {
  if (rate_ == 0.0f) return x;
  const Shape& ns = options_.noise_shape;
  if (!ns.empty() && ns.size() != x.rank()) {
    throw Error(
        "Layer \"{}\" (AlphaDropout): noise_shape {} must have one entry per axis of the "
        "input {}",
        name(), shape_str(ns), shape_str(x.shape()));
  }
  constexpr double alpha = 1.6732632423543772848170429916717;
  constexpr double scale = 1.0507009873554804934193349852946;
  const double alpha_p = -alpha * scale, r = rate_;
  const double a = std::pow((1.0 - r) * (1.0 + r * alpha_p * alpha_p), -0.5);
  const double b = -a * alpha_p * r;
  auto kept = ops::apply(std::make_shared<Noise>(Noise::Kind::keep, rate_, 0.0f, 1.0f, ns), {x});
  // x * kept + alpha_p * (1 - kept), then a * . + b; x itself at inference.
  auto dropped = ops::add(ops::multiply(x, kept),
                          ops::multiply(ops::subtract(1.0f, kept), static_cast<float>(alpha_p)));
  auto train = ops::add(ops::multiply(dropped, static_cast<float>(a)), static_cast<float>(b));
  SymbolicTensor y = ops::training_select(train, x);
  masking::pass_on(x, y);
  return y;
}

LayerHandle<GaussianNoiseLayer> GaussianNoise(float stddev, NoiseOptions options) {
  return make_layer<GaussianNoiseLayer>(stddev, std::move(options));
}
LayerHandle<GaussianDropoutLayer> GaussianDropout(float rate, NoiseOptions options) {
  return make_layer<GaussianDropoutLayer>(rate, std::move(options));
}
LayerHandle<AlphaDropoutLayer> AlphaDropout(float rate, AlphaDropoutOptions options) {
  return make_layer<AlphaDropoutLayer>(rate, std::move(options));
}

}  // namespace plexus::layers
