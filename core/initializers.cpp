#include "core/initializers.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <random>
#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xtensor.hpp>

#include "core/error.hpp"
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

void fill_uniform(Tensor& t, float lo, float hi) {
  Generator& gen = generator();
  const float width = hi - lo;
  for (float& v : t) v = lo + width * unit_uniform(gen);
}

void fill_normal(Tensor& t, float mean, float stddev) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Generator& gen = generator();
  for (float& v : t) v = mean + stddev * normal(gen);
}

// Draws beyond two standard deviations are discarded and redrawn (Keras).
void fill_truncated_normal(Tensor& t, float mean, float stddev) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Generator& gen = generator();
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
void fill_orthogonal(Tensor& t, float gain) {
  if (t.dimension() < 2) {
    throw Error("orthogonal: needs a shape of rank 2 or more, received {}", shape_str(shape_of(t)));
  }
  const std::size_t cols = t.shape().back();
  const std::size_t rows = cols == 0 ? 0 : t.size() / cols;
  const std::size_t tall = std::max(rows, cols), wide = std::min(rows, cols);
  if (wide == 0) return;
  xt::xtensor<double, 2> a = xt::xtensor<double, 2>::from_shape({tall, wide});
  std::normal_distribution<double> normal(0.0, 1.0);
  Generator& gen = generator();
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

enum class FanMode { kIn, kAvg };
enum class Distribution { kUniform, kTruncatedNormal };

// Keras VarianceScaling: n = fan_in or (fan_in + fan_out) / 2; uniform limit
// sqrt(3 scale / n), truncated-normal stddev sqrt(scale / n) / 0.8796...
void fill_variance_scaling(Tensor& t, double scale, FanMode mode, Distribution dist) {
  const Fans f = compute_fans(shape_of(t));
  const double n = std::max(1.0, mode == FanMode::kIn ? f.fan_in : (f.fan_in + f.fan_out) / 2);
  if (dist == Distribution::kUniform) {
    const auto limit = static_cast<float>(std::sqrt(3.0 * scale / n));
    fill_uniform(t, -limit, limit);
  } else {
    fill_truncated_normal(t, 0.0f, static_cast<float>(std::sqrt(scale / n) / kTruncatedStddev));
  }
}

using Filler = void (*)(const InitializerSpec&, Tensor&);

const std::map<std::string, Filler, std::less<>>& registry() {
  static const std::map<std::string, Filler, std::less<>> table = {
      {"zeros", [](const InitializerSpec&, Tensor& t) { t.fill(0.0f); }},
      {"ones", [](const InitializerSpec&, Tensor& t) { t.fill(1.0f); }},
      {"constant", [](const InitializerSpec& s, Tensor& t) { t.fill(s.value); }},
      {"random_normal",
       [](const InitializerSpec& s, Tensor& t) { fill_normal(t, s.mean, s.stddev); }},
      {"random_uniform",
       [](const InitializerSpec& s, Tensor& t) { fill_uniform(t, s.minval, s.maxval); }},
      {"truncated_normal",
       [](const InitializerSpec& s, Tensor& t) { fill_truncated_normal(t, s.mean, s.stddev); }},
      {"glorot_uniform",
       [](const InitializerSpec&, Tensor& t) {
         fill_variance_scaling(t, 1.0, FanMode::kAvg, Distribution::kUniform);
       }},
      {"glorot_normal",
       [](const InitializerSpec&, Tensor& t) {
         fill_variance_scaling(t, 1.0, FanMode::kAvg, Distribution::kTruncatedNormal);
       }},
      {"he_uniform",
       [](const InitializerSpec&, Tensor& t) {
         fill_variance_scaling(t, 2.0, FanMode::kIn, Distribution::kUniform);
       }},
      {"he_normal",
       [](const InitializerSpec&, Tensor& t) {
         fill_variance_scaling(t, 2.0, FanMode::kIn, Distribution::kTruncatedNormal);
       }},
      {"lecun_uniform",
       [](const InitializerSpec&, Tensor& t) {
         fill_variance_scaling(t, 1.0, FanMode::kIn, Distribution::kUniform);
       }},
      {"lecun_normal",
       [](const InitializerSpec&, Tensor& t) {
         fill_variance_scaling(t, 1.0, FanMode::kIn, Distribution::kTruncatedNormal);
       }},
      {"orthogonal", [](const InitializerSpec& s, Tensor& t) { fill_orthogonal(t, s.gain); }},
      {"identity", [](const InitializerSpec& s, Tensor& t) { fill_identity(t, s.gain); }},
  };
  return table;
}

// Keras's short aliases and the class names whose snake_case differs from ours.
const std::map<std::string, std::string, std::less<>>& aliases() {
  static const std::map<std::string, std::string, std::less<>> table = {
      {"uniform", "random_uniform"},
      {"normal", "random_normal"},
      {"zero", "zeros"},
      {"one", "ones"},
      {"orthogonal_initializer", "orthogonal"},
      {"identity_initializer", "identity"},
  };
  return table;
}

// "GlorotUniform" -> "glorot_uniform"; snake_case names pass through.
std::string to_snake(std::string_view name) {
  std::string s;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (std::isupper(c)) {
      if (i > 0 && name[i - 1] != '_') s += '_';
      s += static_cast<char>(std::tolower(c));
    } else {
      s += static_cast<char>(c);
    }
  }
  return s;
}

}  // namespace

InitializerSpec constant(float value) {
  InitializerSpec s("constant");
  s.value = value;
  return s;
}
InitializerSpec random_normal(float mean, float stddev) {
  InitializerSpec s("random_normal");
  s.mean = mean;
  s.stddev = stddev;
  return s;
}
InitializerSpec random_uniform(float minval, float maxval) {
  InitializerSpec s("random_uniform");
  s.minval = minval;
  s.maxval = maxval;
  return s;
}
InitializerSpec truncated_normal(float mean, float stddev) {
  InitializerSpec s("truncated_normal");
  s.mean = mean;
  s.stddev = stddev;
  return s;
}
InitializerSpec orthogonal(float gain) {
  InitializerSpec s("orthogonal");
  s.gain = gain;
  return s;
}

std::vector<std::string> known_names() {
  std::vector<std::string> names;
  for (const auto& entry : registry()) names.push_back(entry.first);
  return names;  // std::map keeps them sorted
}

std::string canonical_name(std::string_view name) {
  std::string s = to_snake(name);
  if (auto a = aliases().find(s); a != aliases().end()) s = a->second;
  if (registry().count(s) == 0) {
    throw Error("Unknown initializer \"{}\". Known initializers: {}", name, join(known_names()));
  }
  return s;
}

Fans compute_fans(const Shape& shape) {
  if (shape.empty()) return {1.0, 1.0};
  if (shape.size() == 1) return {double(shape[0]), double(shape[0])};
  if (shape.size() == 2) return {double(shape[0]), double(shape[1])};
  double receptive_field = 1.0;
  for (std::size_t d = 0; d + 2 < shape.size(); ++d) receptive_field *= double(shape[d]);
  return {double(shape[shape.size() - 2]) * receptive_field,
          double(shape.back()) * receptive_field};
}

Initializer get(const InitializerSpec& spec) {
  const Filler filler = registry().find(canonical_name(spec.name))->second;
  return [filler, spec](Tensor& t) { filler(spec, t); };
}

void fill(const InitializerSpec& spec, Tensor& t) { get(spec)(t); }

Tensor make(const InitializerSpec& spec, const Shape& shape, std::string_view what) {
  const Initializer init = get(spec);  // unknown names fail before any allocation
  const std::string name =
      what.empty() ? std::string("initializer \"") + spec.name + '"' : std::string(what);
  Tensor t = allocate_tensor(shape, name);
  init(t);
  return t;
}

}  // namespace plexus::initializers
