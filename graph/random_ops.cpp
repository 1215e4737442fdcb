// px::random: see graph/random_ops.hpp. Numbers come from a counter-based stream: element
// i of a draw with key k is splitmix64(k + (i + 1) * golden), so a draw is a pure function
// of its key (reproducible, vectorisable, no generator state per element).
#include "graph/random_ops.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numeric>
#include <vector>

#include "core/error.hpp"
#include "core/kernel.hpp"
#include "core/random.hpp"
#include "graph/ops.hpp"

namespace plexus::random {

struct SeedGenerator::State {
  std::mutex mutex;
  std::uint64_t seed = 0;
  std::uint64_t counter = 0;
};

namespace {
constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ull;
inline std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
// Uniform in (0, 1): 24 random bits, centred in their bucket (never 0, never 1).
inline float u01(std::uint64_t key, std::uint64_t i) {
  return (static_cast<float>(mix(key + (i + 1) * kGolden) >> 40) + 0.5f) * (1.0f / 16777216.0f);
}
inline double u01d(std::uint64_t key, std::uint64_t i) {
  return (static_cast<double>(mix(key + (i + 1) * kGolden) >> 11) + 0.5) *
         (1.0 / 9007199254740992.0);
}

// The key of one draw: the seed generator's next, or the library generator's; salted per
// process in a data-parallel run.
std::uint64_t draw_key(Seed& seed) {
  const std::uint64_t k = seed ? seed->next() : generator()();
  return mix(k ^ (process_stream_salt() * kGolden));
}

enum class Kind { kNormal, kUniform, kTruncated, kRandint };

void fill(Kind kind, float a, float b, std::uint64_t key, float* out, std::size_t n) {
  switch (kind) {
    case Kind::kUniform:
      for (std::size_t i = 0; i < n; ++i) out[i] = a + (b - a) * u01(key, i);
      return;
    case Kind::kRandint: {
      const double span = static_cast<double>(b) - static_cast<double>(a);
      for (std::size_t i = 0; i < n; ++i) {
        out[i] = static_cast<float>(std::floor(a + span * u01d(key, i)));
        if (out[i] >= b) out[i] = b - 1;
      }
      return;
    }
    case Kind::kNormal: {
      constexpr float kTwoPi = 6.28318530717958647692f;
      for (std::size_t i = 0; i < n; i += 2) {
        const float r = std::sqrt(-2.0f * std::log(u01(key, i)));
        const float t = kTwoPi * u01(key, i + 1);
        out[i] = a + b * r * std::cos(t);
        if (i + 1 < n) out[i + 1] = a + b * r * std::sin(t);
      }
      return;
    }
    case Kind::kTruncated: {
      constexpr double kTwoPi = 6.28318530717958647692;
      for (std::size_t i = 0; i < n; ++i) {
        // Attempt j of element i draws from its own sub-stream until |z| <= 2.
        for (std::uint64_t j = 0;; ++j) {
          const std::uint64_t sub = mix(key + (j + 1) * 0xD1B54A32D192ED03ull);
          const double z = std::sqrt(-2.0 * std::log(u01d(sub, 2 * i))) *
                           std::cos(kTwoPi * u01d(sub, 2 * i + 1));
          if (std::abs(z) <= 2.0) {
            out[i] = a + b * static_cast<float>(z);
            break;
          }
        }
      }
      return;
    }
  }
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kNormal:
      return "random_normal";
    case Kind::kUniform:
      return "random_uniform";
    case Kind::kTruncated:
      return "random_truncated_normal";
    case Kind::kRandint:
      return "random_randint";
  }
  return "random";
}

void check_args(Kind kind, float a, float b) {
  if (kind == Kind::kUniform && !(a < b)) {
    throw Error("random.uniform: minval ({}) must be less than maxval ({})", a, b);
  }
  if (kind == Kind::kRandint && !(a < b)) {
    throw Error("random.randint: minval ({}) must be less than maxval ({})", a, b);
  }
  if ((kind == Kind::kNormal || kind == Kind::kTruncated) && !(b >= 0.0f)) {
    throw Error("{}: stddev must not be negative, received {}", kind_name(kind), b);
  }
}

// A tensor of its input's shape filled with random numbers; no gradient.
class RandomLike final : public Kernel {
 public:
  RandomLike(Kind kind, float a, float b, Seed seed) : kind_(kind), a_(a), b_(b), seed_(seed) {}
  std::string name() const override { return kind_name(kind_); }
  std::size_t num_inputs() const override { return 1; }
  Shape output_shape(ShapeRefs in) const override {
    if (in.size() != 1) throw Error("{}: takes one input, received {}", name(), in.size());
    return in[0];
  }
  void forward(TensorRefs, Tensor& out, const Context&) override {
    fill(kind_, a_, b_, draw_key(seed_), out.data(), out.size());
  }
  void backward(TensorRefs, const Tensor&, const Tensor&, GradRefs, const Context&) override {}
  std::shared_ptr<Kernel> clone() const override {
    return std::make_shared<RandomLike>(kind_, a_, b_, seed_);  // the seed state is shared
  }

 private:
  Kind kind_;
  float a_, b_;
  Seed seed_;
};

void draw_dropout_mask(float rate, std::uint64_t key, float* m, std::size_t n) {
  const float scale = 1.0f / (1.0f - rate);
  for (std::size_t i = 0; i < n; ++i) m[i] = u01(key, i) >= rate ? scale : 0.0f;
}

class RandomDropout final : public Kernel {
 public:
  RandomDropout(float rate, Seed seed) : rate_(rate), seed_(seed) {}
  std::string name() const override { return "random_dropout"; }
  std::size_t num_inputs() const override { return 1; }
  Shape output_shape(ShapeRefs in) const override {
    if (in.size() != 1) throw Error("random_dropout: takes one input, received {}", in.size());
    return in[0];
  }
  void forward(TensorRefs in, Tensor& out, const Context&) override {
    const Tensor& x = *in[0];
    mask_.resize(x.size());
    draw_dropout_mask(rate_, draw_key(seed_), mask_.data(), mask_.size());
    for (std::size_t i = 0; i < x.size(); ++i) out.data()[i] = x.data()[i] * mask_[i];
  }
  void backward(TensorRefs, const Tensor&, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (!gin[0]) return;
    float* g = gin[0]->data();
    for (std::size_t i = 0; i < mask_.size(); ++i) g[i] += gout.data()[i] * mask_[i];
  }
  std::shared_ptr<Kernel> clone() const override {
    return std::make_shared<RandomDropout>(rate_, seed_);
  }

 private:
  float rate_;
  Seed seed_;
  std::vector<float> mask_;
};

void check_rate(float rate) {
  if (!(rate >= 0.0f && rate < 1.0f)) {
    throw Error("random.dropout: rate must be in [0, 1), received {}", rate);
  }
}

Tensor eager(Kind kind, const Shape& shape, float a, float b, Seed seed) {
  check_args(kind, a, b);
  Tensor::shape_type s;
  for (auto d : shape) {
    if (d < 0) {
      throw Error(
          "{}: a concrete shape is needed, received {} (pass a symbolic tensor for a "
          "shape known when the graph runs)",
          kind_name(kind), shape_str(shape));
    }
    s.push_back(static_cast<std::size_t>(d));
  }
  Tensor t = Tensor::from_shape(s);
  fill(kind, a, b, draw_key(seed), t.data(), t.size());
  return t;
}

}  // namespace

SeedGenerator::SeedGenerator(std::optional<std::uint64_t> seed)
    : state_(std::make_shared<State>()) {
  state_->seed = seed ? *seed : generator()();
}
std::uint64_t SeedGenerator::next() {
  std::lock_guard lock(state_->mutex);
  const std::uint64_t k = mix(state_->seed * kGolden + state_->counter);
  ++state_->counter;
  return k;
}
std::uint64_t SeedGenerator::seed() const { return state_->seed; }
std::uint64_t SeedGenerator::counter() const {
  std::lock_guard lock(state_->mutex);
  return state_->counter;
}

SymbolicTensor normal(const SymbolicTensor& like, float mean, float stddev, Seed seed) {
  check_args(Kind::kNormal, mean, stddev);
  return ops::apply(std::make_shared<RandomLike>(Kind::kNormal, mean, stddev, seed), {like});
}
SymbolicTensor uniform(const SymbolicTensor& like, float minval, float maxval, Seed seed) {
  check_args(Kind::kUniform, minval, maxval);
  return ops::apply(std::make_shared<RandomLike>(Kind::kUniform, minval, maxval, seed), {like});
}
SymbolicTensor truncated_normal(const SymbolicTensor& like, float mean, float stddev, Seed seed) {
  check_args(Kind::kTruncated, mean, stddev);
  return ops::apply(std::make_shared<RandomLike>(Kind::kTruncated, mean, stddev, seed), {like});
}
SymbolicTensor randint(const SymbolicTensor& like, int minval, int maxval, Seed seed) {
  check_args(Kind::kRandint, static_cast<float>(minval), static_cast<float>(maxval));
  return ops::apply(std::make_shared<RandomLike>(Kind::kRandint, static_cast<float>(minval),
                                                 static_cast<float>(maxval), seed),
                    {like});
}
SymbolicTensor dropout(const SymbolicTensor& x, float rate, Seed seed) {
  check_rate(rate);
  return ops::apply(std::make_shared<RandomDropout>(rate, seed), {x});
}

Tensor normal(const Shape& shape, float mean, float stddev, Seed seed) {
  return eager(Kind::kNormal, shape, mean, stddev, seed);
}
Tensor uniform(const Shape& shape, float minval, float maxval, Seed seed) {
  return eager(Kind::kUniform, shape, minval, maxval, seed);
}
Tensor truncated_normal(const Shape& shape, float mean, float stddev, Seed seed) {
  return eager(Kind::kTruncated, shape, mean, stddev, seed);
}
Tensor randint(const Shape& shape, int minval, int maxval, Seed seed) {
  return eager(Kind::kRandint, shape, static_cast<float>(minval), static_cast<float>(maxval), seed);
}
Tensor dropout(const Tensor& x, float rate, Seed seed) {
  check_rate(rate);
  Tensor out = Tensor::from_shape(x.shape());
  std::vector<float> mask(x.size());
  draw_dropout_mask(rate, draw_key(seed), mask.data(), mask.size());
  for (std::size_t i = 0; i < x.size(); ++i) out.data()[i] = x.data()[i] * mask[i];
  return out;
}

Tensor categorical(const Tensor& logits, int num_samples, Seed seed) {
  if (logits.dimension() != 2) {
    throw Error("random.categorical: logits must be (batch, classes), received {}",
                shape_str(shape_of(logits)));
  }
  if (num_samples <= 0) {
    throw Error("random.categorical: num_samples must be positive, received {}", num_samples);
  }
  const std::size_t rows = logits.shape()[0], classes = logits.shape()[1];
  if (classes == 0) throw Error("random.categorical: logits have no class");
  const auto ns = static_cast<std::size_t>(num_samples);
  Tensor out = Tensor::from_shape({rows, ns});
  const std::uint64_t key = draw_key(seed);
  std::vector<double> cdf(classes);
  for (std::size_t r = 0; r < rows; ++r) {
    const float* l = logits.data() + r * classes;
    const double mx = *std::max_element(l, l + classes);
    double acc = 0;
    for (std::size_t c = 0; c < classes; ++c) cdf[c] = acc += std::exp(l[c] - mx);
    for (std::size_t k = 0; k < ns; ++k) {
      const double u = u01d(key, r * ns + k) * acc;
      const auto c =
          static_cast<std::size_t>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
      out.data()[r * ns + k] = static_cast<float>(std::min(c, classes - 1));
    }
  }
  return out;
}

Tensor shuffle(const Tensor& x, Seed seed) {
  if (x.dimension() == 0) throw Error("random.shuffle: x needs at least one axis");
  const std::size_t n = x.shape()[0];
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  const std::uint64_t key = draw_key(seed);
  for (std::size_t i = n; i > 1; --i) {  // Fisher-Yates on the key's stream
    const auto j = static_cast<std::size_t>(u01d(key, i) * static_cast<double>(i));
    std::swap(order[i - 1], order[std::min(j, i - 1)]);
  }
  Tensor out;
  gather_rows(x, order, 0, n, out);
  return out;
}

}  // namespace plexus::random
