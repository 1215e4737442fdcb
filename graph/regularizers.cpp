#include "graph/regularizers.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/json.hpp"
#include "graph/ops.hpp"

namespace plexus::regularizers {

namespace {
// Keras's validate_float_arg: a finite, non-negative factor.
double checked(double v, const char* cls, const char* arg) {
  if (!std::isfinite(v) || v < 0.0) {
    throw Error("{}: invalid value for argument `{}`: expected a non-negative float, received {}",
                cls, arg, v);
  }
  return v;
}

SymbolicTensor l1_term(double l1, const SymbolicTensor& w) {
  return ops::multiply(ops::sum(ops::abs(w)), static_cast<float>(l1));
}
SymbolicTensor l2_term(double l2, const SymbolicTensor& w) {
  return ops::multiply(ops::sum(ops::square(w)), static_cast<float>(l2));
}
double factor(const Config& c, const char* key, double fallback) {
  return config::get_or<double>(c, key, fallback);
}

void add_builtins(Registry<Regularizer>& reg) {
  reg.add("L1", [](const Config& c) { return std::make_shared<L1>(factor(c, "l1", 0.01)); },
          {"l1"});
  reg.add("L2", [](const Config& c) { return std::make_shared<L2>(factor(c, "l2", 0.01)); },
          {"l2"});
  // Keras 3: the class and its snake_case name "l1_l2" default to 0.0 and 0.0.
  reg.add("L1L2",
          [](const Config& c) {
            return std::make_shared<L1L2>(factor(c, "l1", 0.0), factor(c, "l2", 0.0));
          },
          {"l1_l2"});
}
}  // namespace

Registry<Regularizer>& Regularizer::registry() {
  static Registry<Regularizer> r("regularizer", "keras.regularizers");
  static const bool filled = (add_builtins(r), true);
  (void)filled;
  return r;
}

SymbolicTensor penalty(const Regularizer& r, const std::shared_ptr<VariableData>& variable) {
  // The weight's own node when it still exists, so the gradient of the penalty reaches
  // the same node as the model's use of the weight.
  NodePtr node = variable->node.lock();
  if (!node) {
    node = make_node(Node::Kind::kVariable, shape_of(variable->value), variable->path);
    node->variable = variable;
  }
  return r(SymbolicTensor(node, nullptr));
}

L1::L1(double l1) : l1_(checked(l1, "L1", "l1")) {}
Config L1::get_config() const { return {{"l1", l1_}}; }
SymbolicTensor L1::operator()(const SymbolicTensor& w) const { return l1_term(l1_, w); }

L2::L2(double l2) : l2_(checked(l2, "L2", "l2")) {}
Config L2::get_config() const { return {{"l2", l2_}}; }
SymbolicTensor L2::operator()(const SymbolicTensor& w) const { return l2_term(l2_, w); }

L1L2::L1L2(double l1, double l2) : l1_(checked(l1, "L1L2", "l1")), l2_(checked(l2, "L1L2", "l2")) {}
Config L1L2::get_config() const { return {{"l1", l1_}, {"l2", l2_}}; }
SymbolicTensor L1L2::operator()(const SymbolicTensor& w) const {
  return ops::add(l1_term(l1_, w), l2_term(l2_, w));
}

void refuse_activity_regularizer(const RegularizerRef& r, const std::string& cls,
                                 const std::string& name) {
  if (r) {
    throw Error(
        "{} \"{}\": activity_regularizer={} is not supported by plexus (penalties on layer "
        "outputs are not added to the loss); use kernel_regularizer / bias_regularizer",
        cls, name, r.class_name());
  }
}

}  // namespace plexus::regularizers
