// Weight constraints (Keras 3's keras.constraints), applied eagerly to a weight's value
// after each optimizer step (the training step calls apply on every constrained weight).
//
//   px::layers::Dense(10, {.kernel_constraint = px::constraints::MaxNorm({.max_value = 3})})
//
// norms = sqrt(sum(w^2, axis, keepdims)), eps = 1e-7 (keras.backend.epsilon()):
//   MaxNorm(max_value = 2, axis = 0):  w * clip(norms, 0, max_value) / (eps + norms)
//   NonNeg():                          w * (w >= 0)
//   UnitNorm(axis = 0):                w / (eps + norms)
//   MinMaxNorm(min_value = 0, max_value = 1, rate = 1, axis = 0):
//       w * (rate * clip(norms, min_value, max_value) + (1 - rate) * norms) / (eps + norms)
// axis may be one axis or several (negative counts from the end); for a Dense kernel
// (in, units) axis 0 constrains each unit's incoming weight vector.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/registry.hpp"
#include "core/tensor.hpp"

namespace plexus::constraints {

class Constraint {
 public:
  virtual ~Constraint() = default;
  virtual std::string class_name() const = 0;
  virtual Config get_config() const;
  // Projects w in place.
  virtual void apply(Tensor& w) const = 0;

  static Registry<Constraint>& registry();
};
using ConstraintRef = ObjectRef<Constraint>;

struct MaxNormOptions {
  double max_value = 2.0;
  std::vector<Dim> axis = {0};
};
class MaxNorm : public Constraint {
 public:
  explicit MaxNorm(MaxNormOptions options = {}) : options_(std::move(options)) {}
  std::string class_name() const override { return "MaxNorm"; }
  Config get_config() const override;
  void apply(Tensor& w) const override;

 private:
  MaxNormOptions options_;
};

class NonNeg : public Constraint {
 public:
  std::string class_name() const override { return "NonNeg"; }
  void apply(Tensor& w) const override;
};

struct UnitNormOptions {
  std::vector<Dim> axis = {0};
};
class UnitNorm : public Constraint {
 public:
  explicit UnitNorm(UnitNormOptions options = {}) : options_(std::move(options)) {}
  std::string class_name() const override { return "UnitNorm"; }
  Config get_config() const override;
  void apply(Tensor& w) const override;

 private:
  UnitNormOptions options_;
};

struct MinMaxNormOptions {
  double min_value = 0.0;
  double max_value = 1.0;
  double rate = 1.0;
  std::vector<Dim> axis = {0};
};
class MinMaxNorm : public Constraint {
 public:
  explicit MinMaxNorm(MinMaxNormOptions options = {}) : options_(std::move(options)) {}
  std::string class_name() const override { return "MinMaxNorm"; }
  Config get_config() const override;
  void apply(Tensor& w) const override;

 private:
  MinMaxNormOptions options_;
};

}  // namespace plexus::constraints
