// Weight initializers, by Keras 3 name and with Keras 3 formulas. Every draw comes from
// plexus::generator(), so utils::set_random_seed(s) makes initial weights reproducible.
//
//   fans (compute_fans): 1-D [n]: fan_in = fan_out = n; 2-D [in, out]: in, out;
//   N-D kernels [..rf.., in, out]: rf = prod(shape[:-2]), fan_in = in * rf, fan_out = out * rf.
//
//   zeros, ones, constant(value)
//   random_normal(mean = 0, stddev = 0.05)         N(mean, stddev)
//   random_uniform(minval = -0.05, maxval = 0.05)  U[minval, maxval)
//   truncated_normal(mean = 0, stddev = 0.05)      N(mean, stddev), redrawn beyond 2 stddev
//   glorot_uniform   U(-l, l), l = sqrt(6 / (fan_in + fan_out))
//   glorot_normal    truncated N(0, s), s = sqrt(2 / (fan_in + fan_out)) / 0.8796...
//   he_uniform       U(-l, l), l = sqrt(6 / fan_in)
//   he_normal        truncated N(0, s), s = sqrt(2 / fan_in) / 0.8796...
//   lecun_uniform    U(-l, l), l = sqrt(3 / fan_in)
//   lecun_normal     truncated N(0, s), s = sqrt(1 / fan_in) / 0.8796...
//   orthogonal(gain = 1)  gain * Q of the QR of a normal [max(r, c), min(r, c)] matrix
//                    with r = prod(shape[:-1]), c = shape[-1] (transposed when r < c)
//   identity(gain = 1)    gain * I for 2-D shapes
// (0.87962566103423978 is the stddev of a unit normal truncated at +-2: dividing by it
// keeps the truncated draw's variance at the target.)
//
// Each is a class with Keras's class name, options and get_config():
//   px::initializers::HeNormal({.seed = 1})          // {"seed": 1, ...}
//   px::initializers::RandomNormal({.stddev = 0.1})
// and is built by name or config through Initializer::registry(): snake_case names
// ("he_normal"), class names ("HeNormal") and Keras's aliases ("uniform", "normal",
// "zero", "one") are accepted. A seeded initializer draws from its own generator, so it
// gives the same values every time (Keras 3); unseeded ones draw from plexus::generator().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/registry.hpp"
#include "core/tensor.hpp"

namespace plexus::initializers {

class Initializer {
 public:
  virtual ~Initializer() = default;
  virtual std::string class_name() const = 0;
  virtual Config get_config() const;
  // Fills an existing tensor (its shape decides the fans).
  virtual void fill(Tensor& t) const = 0;
  // A new tensor of the given (concrete) shape, filled.
  Tensor operator()(const Shape& shape) const;

  // Built-ins by Keras class name and alias; add user classes with add_custom.
  static Registry<Initializer>& registry();
};

// An option field holding an initializer: a name, an object or a config.
using InitializerRef = ObjectRef<Initializer>;

// A new tensor of the given shape, filled by an initializer given by name or object.
// `what` names the weight in errors (e.g. "weight \"dense/kernel\""; default: the
// initializer): a shape whose size cannot be represented, or that is larger than the
// machine's memory, is a px::Error giving the size asked for (core/shape.hpp), not
// std::bad_alloc.
Tensor make(const InitializerRef& init, const Shape& shape, std::string_view what = {});

struct SeedOptions {
  std::optional<std::int64_t> seed = std::nullopt;
};
PLEXUS_CONFIG_FIELDS(SeedOptions, seed)

class Zeros : public Initializer {
 public:
  std::string class_name() const override { return "Zeros"; }
  void fill(Tensor& t) const override;
};

class Ones : public Initializer {
 public:
  std::string class_name() const override { return "Ones"; }
  void fill(Tensor& t) const override;
};

struct ConstantOptions {
  double value = 0.0;
};
PLEXUS_CONFIG_FIELDS(ConstantOptions, value)
class Constant : public Initializer {
 public:
  explicit Constant(double value = 0.0) : options_{value} {}
  explicit Constant(ConstantOptions options) : options_(options) {}
  std::string class_name() const override { return "Constant"; }
  Config get_config() const override;
  void fill(Tensor& t) const override;

 private:
  ConstantOptions options_;
};

struct RandomNormalOptions {
  double mean = 0.0;
  double stddev = 0.05;
  std::optional<std::int64_t> seed = std::nullopt;
};
PLEXUS_CONFIG_FIELDS(RandomNormalOptions, mean, stddev, seed)
class RandomNormal : public Initializer {
 public:
  explicit RandomNormal(RandomNormalOptions options = {}) : options_(options) {}
  std::string class_name() const override { return "RandomNormal"; }
  Config get_config() const override;
  void fill(Tensor& t) const override;

 private:
  RandomNormalOptions options_;
};

struct TruncatedNormalOptions {
  double mean = 0.0;
  double stddev = 0.05;
  std::optional<std::int64_t> seed = std::nullopt;
};
PLEXUS_CONFIG_FIELDS(TruncatedNormalOptions, mean, stddev, seed)
class TruncatedNormal : public Initializer {
 public:
  explicit TruncatedNormal(TruncatedNormalOptions options = {}) : options_(options) {}
  std::string class_name() const override { return "TruncatedNormal"; }
  Config get_config() const override;
  void fill(Tensor& t) const override;

 private:
  TruncatedNormalOptions options_;
};

struct RandomUniformOptions {
  double minval = -0.05;
  double maxval = 0.05;
  std::optional<std::int64_t> seed = std::nullopt;
};
PLEXUS_CONFIG_FIELDS(RandomUniformOptions, minval, maxval, seed)
class RandomUniform : public Initializer {
 public:
  explicit RandomUniform(RandomUniformOptions options = {}) : options_(options) {}
  std::string class_name() const override { return "RandomUniform"; }
  Config get_config() const override;
  void fill(Tensor& t) const override;

 private:
  RandomUniformOptions options_;
};

struct VarianceScalingOptions {
  double scale = 1.0;
  std::string mode = "fan_in";                    // fan_in, fan_out, fan_avg
  std::string distribution = "truncated_normal";  // truncated_normal, untruncated_normal, uniform
  std::optional<std::int64_t> seed = std::nullopt;
};
PLEXUS_CONFIG_FIELDS(VarianceScalingOptions, scale, mode, distribution, seed)
// n = fan_in, fan_out or (fan_in + fan_out) / 2; uniform: U(-l, l), l = sqrt(3 scale / n);
// truncated_normal: stddev sqrt(scale / n) / 0.8796...; untruncated_normal: sqrt(scale / n).
class VarianceScaling : public Initializer {
 public:
  explicit VarianceScaling(VarianceScalingOptions options = {});
  std::string class_name() const override { return "VarianceScaling"; }
  Config get_config() const override;
  void fill(Tensor& t) const override;

 protected:
  VarianceScalingOptions options_;
};

// The named variance-scaling initializers; their config is {"seed", "input_axes",
// "output_axes"} (Keras 3.15; plexus reads only null axes).
#define PLEXUS_VARIANCE_SCALING(Name)                         \
  class Name : public VarianceScaling {                       \
   public:                                                    \
    explicit Name(SeedOptions options = {});                  \
    std::string class_name() const override { return #Name; } \
    Config get_config() const override;                       \
  };
PLEXUS_VARIANCE_SCALING(GlorotUniform)  // scale 1, fan_avg, uniform
PLEXUS_VARIANCE_SCALING(GlorotNormal)   // scale 1, fan_avg, truncated_normal
PLEXUS_VARIANCE_SCALING(HeUniform)      // scale 2, fan_in, uniform
PLEXUS_VARIANCE_SCALING(HeNormal)       // scale 2, fan_in, truncated_normal
PLEXUS_VARIANCE_SCALING(LecunUniform)   // scale 1, fan_in, uniform
PLEXUS_VARIANCE_SCALING(LecunNormal)    // scale 1, fan_in, truncated_normal
#undef PLEXUS_VARIANCE_SCALING

struct OrthogonalOptions {
  double gain = 1.0;
  std::optional<std::int64_t> seed = std::nullopt;
};
PLEXUS_CONFIG_FIELDS(OrthogonalOptions, gain, seed)
class Orthogonal : public Initializer {
 public:
  explicit Orthogonal(OrthogonalOptions options = {}) : options_(options) {}
  std::string class_name() const override { return "Orthogonal"; }
  Config get_config() const override;
  void fill(Tensor& t) const override;

 private:
  OrthogonalOptions options_;
};

struct IdentityOptions {
  double gain = 1.0;
};
PLEXUS_CONFIG_FIELDS(IdentityOptions, gain)
class Identity : public Initializer {
 public:
  explicit Identity(IdentityOptions options = {}) : options_(options) {}
  std::string class_name() const override { return "Identity"; }
  Config get_config() const override;
  void fill(Tensor& t) const override;

 private:
  IdentityOptions options_;
};

// Keras's compute_fans (see above).
struct Fans {
  double fan_in, fan_out;
};
Fans compute_fans(const Shape& shape);

}  // namespace plexus::initializers
