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
// Keras class names ("GlorotUniform", "HeNormal") and aliases ("uniform", "normal",
// "zero", "one") are accepted too.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/tensor.hpp"

namespace plexus::initializers {

// An initializer by name, with the parameters the parameterised ones read (the others
// ignore them). Converts implicitly from a name: make("he_normal", {784, 64}).
struct InitializerSpec {
  std::string name;
  float value = 0.0f;     // constant
  float mean = 0.0f;      // random_normal, truncated_normal
  float stddev = 0.05f;   // random_normal, truncated_normal
  float minval = -0.05f;  // random_uniform
  float maxval = 0.05f;   // random_uniform
  float gain = 1.0f;      // orthogonal, identity

  InitializerSpec(const char* n) : name(n) {}             // NOLINT: implicit by design
  InitializerSpec(std::string_view n) : name(n) {}        // NOLINT
  InitializerSpec(std::string n) : name(std::move(n)) {}  // NOLINT
};

// Specs for the parameterised initializers.
InitializerSpec constant(float value);
InitializerSpec random_normal(float mean = 0.0f, float stddev = 0.05f);
InitializerSpec random_uniform(float minval = -0.05f, float maxval = 0.05f);
InitializerSpec truncated_normal(float mean = 0.0f, float stddev = 0.05f);
InitializerSpec orthogonal(float gain = 1.0f);

// Fills an existing tensor (its shape decides the fans).
using Initializer = std::function<void(Tensor&)>;
// Resolves a spec (throws px::Error for an unknown name, listing the known ones).
Initializer get(const InitializerSpec& spec);
void fill(const InitializerSpec& spec, Tensor& t);
// A new tensor of the given (concrete) shape, filled. `what` names the weight in errors
// (e.g. "weight \"dense/kernel\""; default: the initializer): a shape whose size cannot be
// represented, or that is larger than the machine's memory, is a px::Error giving the size
// asked for (core/shape.hpp), not std::bad_alloc.
Tensor make(const InitializerSpec& spec, const Shape& shape, std::string_view what = {});

// The canonical snake_case name for a name, class name or alias; throws px::Error
// "Unknown initializer "x". Known initializers: constant, glorot_normal, ..." otherwise.
std::string canonical_name(std::string_view name);
// Canonical names, sorted.
std::vector<std::string> known_names();

// Keras's compute_fans (see above).
struct Fans {
  double fan_in, fan_out;
};
Fans compute_fans(const Shape& shape);

}  // namespace plexus::initializers
