#include "core/initializers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xtensor.hpp>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/kernel_util.hpp"
#include "core/random.hpp"
#include "core/shape.hpp"

namespace plexus::initializers {

namespace {

// Stddev of a unit normal truncated to [-2, 2] (Keras's variance-scaling correction).
constexpr double kTruncatedStddev = 0.87962566103423978;

// U[0, 1) from the top 24 bits of one draw: every float in the range is exact, and 1 is
// never returned (std::uniform_real_distribution<float> can round up to it).
float unit_uniform(Generator& gen) {
  return static_cast<float>(gen() >> 40) * (1.0f / 16777216.0f);
}

void fill_uniform(Tensor& t, float lo, float hi, Generator& gen) {
  const float width = hi - lo;
  for (float& v : t) v = lo + width * unit_uniform(gen);
}

void fill_normal(Tensor& t, float mean, float stddev, Generator& gen) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& v : t) v = mean + stddev * normal(gen);
}

// Draws beyond two standard deviations are discarded and redrawn (Keras).
void fill_truncated_normal(Tensor& t, float mean, float stddev, Generator& gen) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& v : t) {
    float z;
    do {
      z = normal(gen);
    } while (std::abs(z) > 2.0f);
    v = mean + stddev * z;
  }
}

// Keras's Orthogonal: Q of the QR decomposition (LAPACK geqrf/orgqr through xtensor-blas)
// of a normal [max(r, c), min(r, c)] matrix, its columns multiplied by the signs of R's
// diagonal (q *= sign(diag(r))), transposed when r < c.
void fill_orthogonal(Tensor& t, float gain, Generator& gen) {
  if (t.dimension() < 2) {
    throw Error("orthogonal: needs a shape of rank 2 or more, received {}", shape_str(shape_of(t)));
  }
  const std::size_t cols = t.shape().back();
  const std::size_t rows = cols == 0 ? 0 : t.size() / cols;
  const std::size_t tall = std::max(rows, cols), wide = std::min(rows, cols);
  if (wide == 0) return;
  xt::xtensor<double, 2> a = xt::xtensor<double, 2>::from_shape({tall, wide});
  std::normal_distribution<double> normal(0.0, 1.0);
  for (double& v : a) v = normal(gen);  // row-major: a(i, j) is the (i * wide + j)-th draw
  auto [q, r] = xt::linalg::qr(a, xt::linalg::qrmode::reduced);
  for (std::size_t j = 0; j < wide; ++j) {
    if (r(j, j) == 0.0) throw Error("orthogonal: degenerate random matrix (column {} is zero)", j);
  }
  float* out = t.data();
  for (std::size_t i = 0; i < tall; ++i) {
    for (std::size_t j = 0; j < wide; ++j) {
      const double v = gain * (r(j, j) < 0 ? -q(i, j) : q(i, j));
      if (rows >= cols) {
        out[i * cols + j] = static_cast<float>(v);
      } else {  // [cols, rows] orthonormal columns -> transpose: orthonormal rows
        out[j * cols + i] = static_cast<float>(v);
      }
    }
  }
}

void fill_identity(Tensor& t, float gain) {
  if (t.dimension() != 2) {
    throw Error("identity: needs a 2-D shape, received {}", shape_str(shape_of(t)));
  }
  t.fill(0.0f);
  const std::size_t r = t.shape()[0], c = t.shape()[1];
  for (std::size_t i = 0; i < std::min(r, c); ++i) t.data()[i * c + i] = gain;
}

// Runs fill with the initializer's own generator when it has a seed (the same values
// every call, as in Keras 3), else with plexus::generator().
template <typename F>
void with_generator(const std::optional<std::int64_t>& seed, F&& fill) {
  if (seed) {
    Generator gen(static_cast<std::uint64_t>(*seed));
    fill(gen);
  } else {
    fill(generator());
  }
}

// Keras 3.15's variance-scaling configs carry input_axes/output_axes (fans along chosen
// axes); plexus computes fans from the shape only, so it accepts them only when null.
SeedOptions seed_options(const Config& c, std::string_view cls) {
  for (const char* key : {"input_axes", "output_axes"}) {
    if (auto it = c.find(key); it != c.end() && !it->is_null()) {
      throw Error("{}: {}={} is not supported by plexus (only null)", cls, key, it->dump());
    }
  }
  return c.get<SeedOptions>();
}

Config seed_config(const VarianceScalingOptions& o) {
  Config c = Config::object();
  c["seed"] = o.seed;
  c["input_axes"] = nullptr;
  c["output_axes"] = nullptr;
  return c;
}

VarianceScalingOptions variance(double scale, const char* mode, const char* distribution,
                                SeedOptions s) {
  return {scale, mode, distribution, s.seed};
}

}  // namespace

Tensor Initializer::operator()(const Shape& shape) const {
  Tensor t = allocate_tensor(shape, fmt::format("initializer \"{}\"", class_name()));
  fill(t);
  return t;
}

Tensor make(const InitializerRef& init, const Shape& shape, std::string_view what) {
  if (!init) throw Error("initializers::make: no initializer given");
  Tensor t =
      allocate_tensor(shape, what.empty() ? fmt::format("initializer \"{}\"", init->class_name())
                                          : std::string(what));
  init->fill(t);
  return t;
}

void Zeros::fill(Tensor& t) const { t.fill(0.0f); }
void Ones::fill(Tensor& t) const { t.fill(1.0f); }
void Constant::fill(Tensor& t) const { t.fill(static_cast<float>(options_.value)); }

void RandomNormal::fill(Tensor& t) const {
  with_generator(options_.seed, [&](Generator& g) {
    fill_normal(t, static_cast<float>(options_.mean), static_cast<float>(options_.stddev), g);
  });
}

void TruncatedNormal::fill(Tensor& t) const {
  with_generator(options_.seed, [&](Generator& g) {
    fill_truncated_normal(t, static_cast<float>(options_.mean), static_cast<float>(options_.stddev),
                          g);
  });
}

void RandomUniform::fill(Tensor& t) const {
  with_generator(options_.seed, [&](Generator& g) {
    fill_uniform(t, static_cast<float>(options_.minval), static_cast<float>(options_.maxval), g);
  });
}

VarianceScaling::VarianceScaling(VarianceScalingOptions options) : options_(std::move(options)) {
  if (!(options_.scale > 0.0)) {
    throw Error("VarianceScaling: `scale` must be positive, received {}", options_.scale);
  }
  if (options_.mode != "fan_in" && options_.mode != "fan_out" && options_.mode != "fan_avg") {
    throw Error("VarianceScaling: invalid `mode` \"{}\"; expected one of fan_in, fan_out, fan_avg",
                options_.mode);
  }
  const auto& d = options_.distribution;
  if (d != "truncated_normal" && d != "untruncated_normal" && d != "uniform" && d != "normal") {
    throw Error(
        "VarianceScaling: invalid `distribution` \"{}\"; expected one of truncated_normal, "
        "untruncated_normal, uniform",
        d);
  }
}

Config VarianceScaling::get_config() const { return options_; }

// Keras VarianceScaling: n = fan_in, fan_out or (fan_in + fan_out) / 2; uniform limit
// sqrt(3 scale / n), truncated-normal stddev sqrt(scale / n) / 0.8796...
void VarianceScaling::fill(Tensor& t) const {
  const Fans f = compute_fans(shape_of(t));
  const double fan = options_.mode == "fan_in"    ? f.fan_in
                     : options_.mode == "fan_out" ? f.fan_out
                                                  : (f.fan_in + f.fan_out) / 2;
  const double n = std::max(1.0, fan);
  const double scale = options_.scale;
  with_generator(options_.seed, [&](Generator& g) {
    if (options_.distribution == "uniform") {
      const auto limit = static_cast<float>(std::sqrt(3.0 * scale / n));
      fill_uniform(t, -limit, limit, g);
    } else if (options_.distribution == "untruncated_normal") {
      fill_normal(t, 0.0f, static_cast<float>(std::sqrt(scale / n)), g);
    } else {
      fill_truncated_normal(t, 0.0f, static_cast<float>(std::sqrt(scale / n) / kTruncatedStddev),
                            g);
    }
  });
}

#define PLEXUS_VARIANCE_SCALING_IMPL(Name, scale, mode, distribution)    \
  Name::Name(SeedOptions options)                                        \
      : VarianceScaling(variance(scale, mode, distribution, options)) {} \
  Config Name::get_config() const { return seed_config(options_); }
PLEXUS_VARIANCE_SCALING_IMPL(GlorotUniform, 1.0, "fan_avg", "uniform")
PLEXUS_VARIANCE_SCALING_IMPL(GlorotNormal, 1.0, "fan_avg", "truncated_normal")
PLEXUS_VARIANCE_SCALING_IMPL(HeUniform, 2.0, "fan_in", "uniform")
PLEXUS_VARIANCE_SCALING_IMPL(HeNormal, 2.0, "fan_in", "truncated_normal")
PLEXUS_VARIANCE_SCALING_IMPL(LecunUniform, 1.0, "fan_in", "uniform")
PLEXUS_VARIANCE_SCALING_IMPL(LecunNormal, 1.0, "fan_in", "truncated_normal")
#undef PLEXUS_VARIANCE_SCALING_IMPL

void Orthogonal::fill(Tensor& t) const {
  with_generator(options_.seed,
                 [&](Generator& g) { fill_orthogonal(t, static_cast<float>(options_.gain), g); });
}

void Identity::fill(Tensor& t) const { fill_identity(t, static_cast<float>(options_.gain)); }

Fans compute_fans(const Shape& shape) {
  if (shape.empty()) return {1.0, 1.0};
  if (shape.size() == 1) return {double(shape[0]), double(shape[0])};
  if (shape.size() == 2) return {double(shape[0]), double(shape[1])};
  double receptive_field = 1.0;
  for (std::size_t d = 0; d + 2 < shape.size(); ++d) receptive_field *= double(shape[d]);
  return {double(shape[shape.size() - 2]) * receptive_field,
          double(shape.back()) * receptive_field};
}

namespace {
void add_builtins(Registry<Initializer>& reg) {
  auto plain = [](auto make) {
    return [make](const Config&) -> std::shared_ptr<Initializer> { return make(); };
  };
  reg.add("Zeros", plain([] { return std::make_shared<Zeros>(); }), {"zeros", "zero"});
  reg.add("Ones", plain([] { return std::make_shared<Ones>(); }), {"ones", "one"});
  reg.add("Constant",
          [](const Config& c) { return std::make_shared<Constant>(c.get<ConstantOptions>()); },
          {"constant"});
  reg.add(
      "RandomNormal",
      [](const Config& c) { return std::make_shared<RandomNormal>(c.get<RandomNormalOptions>()); },
      {"random_normal", "normal"});
  reg.add("RandomUniform",
          [](const Config& c) {
            return std::make_shared<RandomUniform>(c.get<RandomUniformOptions>());
          },
          {"random_uniform", "uniform"});
  reg.add("TruncatedNormal",
          [](const Config& c) {
            return std::make_shared<TruncatedNormal>(c.get<TruncatedNormalOptions>());
          },
          {"truncated_normal"});
  reg.add("VarianceScaling",
          [](const Config& c) {
            seed_options(c, "VarianceScaling");
            return std::make_shared<VarianceScaling>(c.get<VarianceScalingOptions>());
          },
          {"variance_scaling"});
#define PLEXUS_ADD_SEEDED(Name, snake)                                                           \
  reg.add(#Name, [](const Config& c) { return std::make_shared<Name>(seed_options(c, #Name)); }, \
          {snake});
  PLEXUS_ADD_SEEDED(GlorotUniform, "glorot_uniform")
  PLEXUS_ADD_SEEDED(GlorotNormal, "glorot_normal")
  PLEXUS_ADD_SEEDED(HeUniform, "he_uniform")
  PLEXUS_ADD_SEEDED(HeNormal, "he_normal")
  PLEXUS_ADD_SEEDED(LecunUniform, "lecun_uniform")
  PLEXUS_ADD_SEEDED(LecunNormal, "lecun_normal")
#undef PLEXUS_ADD_SEEDED
  reg.add("Orthogonal",
          [](const Config& c) { return std::make_shared<Orthogonal>(c.get<OrthogonalOptions>()); },
          {"orthogonal", "OrthogonalInitializer"});
  reg.add("Identity",
          [](const Config& c) { return std::make_shared<Identity>(c.get<IdentityOptions>()); },
          {"identity", "IdentityInitializer"});
}
}  // namespace

Registry<Initializer>& Initializer::registry() {
  static Registry<Initializer> r("initializer", "keras.initializers");
  static const bool filled = (add_builtins(r), true);
  (void)filled;
  return r;
}

Config Initializer::get_config() const { return Config::object(); }
Config Constant::get_config() const { return options_; }
Config RandomNormal::get_config() const { return options_; }
Config TruncatedNormal::get_config() const { return options_; }
Config RandomUniform::get_config() const { return options_; }
Config Orthogonal::get_config() const { return options_; }
Config Identity::get_config() const { return options_; }

}  // namespace plexus::initializers
