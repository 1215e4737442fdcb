// Weight regularizers (Keras 3's keras.regularizers). A regularizer builds its penalty as
// a symbolic scalar from px::ops on a weight's SymbolicTensor, so autodiff differentiates
// it with the loss:
//
//   px::layers::Dense(10, {.kernel_regularizer = px::regularizers::L2(1e-4)})
//   px::layers::Dense(10, {.kernel_regularizer = "l2"})     // Keras's default factor 0.01
//
//   L1(l1 = 0.01):             l1 * sum(|w|)
//   L2(l2 = 0.01):             l2 * sum(w^2)
//   L1L2(l1 = 0.0, l2 = 0.0):  l1 * sum(|w|) + l2 * sum(w^2)   (also by name "l1_l2": as in
//                              Keras 3, the name gives the class defaults, 0 and 0)
#pragma once

#include <memory>
#include <string>

#include "core/config.hpp"
#include "core/registry.hpp"
#include "graph/symbolic.hpp"

namespace plexus::regularizers {

class Regularizer {
 public:
  virtual ~Regularizer() = default;
  virtual std::string class_name() const = 0;
  virtual Config get_config() const = 0;
  // The penalty for a weight, a symbolic scalar.
  virtual SymbolicTensor operator()(const SymbolicTensor& w) const = 0;

  static Registry<Regularizer>& registry();
};
using RegularizerRef = ObjectRef<Regularizer>;

// The penalty of a variable, a symbolic scalar built on the variable's own node
// (VariableData::node, made by add_weight), or on a new variable node if that is gone.
SymbolicTensor penalty(const Regularizer& r, const std::shared_ptr<VariableData>& variable);

// plexus does not add penalties on layer outputs to the loss yet: a layer given an
// activity_regularizer throws px::Error "<cls> "<name>": activity_regularizer=L2 is not
// supported ..." rather than training without it. Null is accepted.
void refuse_activity_regularizer(const RegularizerRef& r, const std::string& cls,
                                 const std::string& name);

class L1 : public Regularizer {
 public:
  explicit L1(double l1 = 0.01);
  std::string class_name() const override { return "L1"; }
  Config get_config() const override;
  SymbolicTensor operator()(const SymbolicTensor& w) const override;
  double l1() const { return l1_; }

 private:
  double l1_;
};

class L2 : public Regularizer {
 public:
  explicit L2(double l2 = 0.01);
  std::string class_name() const override { return "L2"; }
  Config get_config() const override;
  SymbolicTensor operator()(const SymbolicTensor& w) const override;
  double l2() const { return l2_; }

 private:
  double l2_;
};

class L1L2 : public Regularizer {
 public:
  explicit L1L2(double l1 = 0.0, double l2 = 0.0);
  std::string class_name() const override { return "L1L2"; }
  Config get_config() const override;
  SymbolicTensor operator()(const SymbolicTensor& w) const override;
  double l1() const { return l1_; }
  double l2() const { return l2_; }

 private:
  double l1_, l2_;
};

}  // namespace plexus::regularizers
