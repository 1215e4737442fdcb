// Activations by Keras name, and the activation layers (ReLU, LeakyReLU, PReLU, ELU,
// Softmax), composed from primitive ops (so they need no backward). One registry
// (Activation::registry()) holds the activations; Keras serializes an activation as its
// name ("relu"), or as {"class_name": "function", "config": "relu", ...}, and both are read.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/constraints.hpp"
#include "core/initializers.hpp"
#include "core/keywords.hpp"
#include "core/registry.hpp"
#include "graph/layer.hpp"
#include "graph/regularizers.hpp"
#include "graph/symbolic.hpp"

namespace plexus::activations {

class Activation {
 public:
  using Fn = SymbolicTensor (*)(const SymbolicTensor&);
  Activation(std::string name, Fn fn) : name_(std::move(name)), fn_(fn) {}
  // The Keras name ("relu"): activations are functions in Keras, serialized by name.
  std::string class_name() const { return name_; }
  Config get_config() const;
  SymbolicTensor operator()(const SymbolicTensor& x) const { return fn_(x); }

  static Registry<Activation>& registry();

 private:
  std::string name_;
  Fn fn_;
};

// Keras 3's activations by name, with their default arguments: celu, elu, exponential,
// gelu, glu, hard_shrink, hard_sigmoid, hard_silu (hard_swish), hard_tanh, leaky_relu,
// linear, log_sigmoid, log_softmax, mish, relu, relu6, selu, sigmoid, silu (swish),
// soft_shrink, softmax, softplus, softsign, sparse_plus, sparse_sigmoid, squareplus, tanh,
// tanh_shrink (docs/catalogue.md lists the two it lacks). Unknown names throw px::Error
// listing the known ones.
SymbolicTensor apply(std::string_view name, const SymbolicTensor& x);
// The Keras name for a name (any case or underscores: "LeakyReLU" is not one, "leaky_relu"
// is) or a serialized activation; throws px::Error naming `where` when it is unknown:
// `Dense: unknown activation "rleu". Known activations: elu, exponential, ...`.
std::string canonical_name(const Config& activation, std::string_view where);
// Throws px::Error (naming `where`) unless `name` is a known activation.
void check_name(std::string_view name, std::string_view where);
const std::vector<std::string>& names();

}  // namespace plexus::activations

// --- activation layers (Keras 3 layers/activations/) ----------------------------------------

namespace plexus::layers {

// Fields in the order of Keras's ReLU constructor.
struct ReLUOptions {
  std::optional<float> max_value{};  // None: unbounded
  float negative_slope = 0.0f;
  float threshold = 0.0f;  // only 0 is implemented
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// ReLU: y = min(x >= 0 ? x : negative_slope * x, max_value).
class ReLULayer : public Layer {
 public:
  explicit ReLULayer(ReLUOptions options);
  std::string class_name() const override { return "ReLU"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }
  // Keras 3's get_config keys, in its order (layers/image_config.cpp).
  Config get_config() const override;
  static LayerRef from_config(const Config& config);

 private:
  ReLUOptions options_;
};
LayerHandle<ReLULayer> ReLU(ReLUOptions options = {});
PLEXUS_KEYWORD_FACTORY0(LayerHandle<ReLULayer>, ReLU, ReLUOptions)

struct LeakyReLUOptions {
  float negative_slope = 0.3f;  // the Keras 3 layer's default (the function's is 0.2)
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// LeakyReLU: y = x >= 0 ? x : negative_slope * x.
class LeakyReLULayer : public Layer {
 public:
  explicit LeakyReLULayer(LeakyReLUOptions options);
  std::string class_name() const override { return "LeakyReLU"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }
  // Keras 3's get_config keys, in its order (layers/image_config.cpp).
  Config get_config() const override;
  static LayerRef from_config(const Config& config);

 private:
  LeakyReLUOptions options_;
};
LayerHandle<LeakyReLULayer> LeakyReLU(LeakyReLUOptions options = {});
PLEXUS_KEYWORD_FACTORY0(LayerHandle<LeakyReLULayer>, LeakyReLU, LeakyReLUOptions)

// Fields in the order of Keras's PReLU constructor.
struct PReLUOptions {
  initializers::InitializerRef alpha_initializer = "zeros";
  regularizers::RegularizerRef alpha_regularizer = nullptr;
  constraints::ConstraintRef alpha_constraint = nullptr;
  std::vector<Dim> shared_axes{};  // axes (1-based, as Keras) sharing one alpha
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// PReLU: y = relu(x) - alpha * relu(-x), with a learned alpha per element of the sample
// shape (size 1 along shared_axes). Weight: alpha (input shape without the batch).
class PReLULayer : public Layer {
 public:
  explicit PReLULayer(PReLUOptions options);
  std::string class_name() const override { return "PReLU"; }
  void build(const Shape& input_shape) override;
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }
  // Keras 3's get_config keys, in its order (layers/image_config.cpp).
  Config get_config() const override;
  static LayerRef from_config(const Config& config);

 private:
  PReLUOptions options_;
  SymbolicTensor alpha_;
};
LayerHandle<PReLULayer> PReLU(PReLUOptions options = {});
PLEXUS_KEYWORD_FACTORY0(LayerHandle<PReLULayer>, PReLU, PReLUOptions)

struct ELUOptions {
  float alpha = 1.0f;
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// ELU: y = x > 0 ? x : alpha * (exp(x) - 1).
class ELULayer : public Layer {
 public:
  explicit ELULayer(ELUOptions options);
  std::string class_name() const override { return "ELU"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }
  // Keras 3's get_config keys, in its order (layers/image_config.cpp).
  Config get_config() const override;
  static LayerRef from_config(const Config& config);

 private:
  ELUOptions options_;
};
LayerHandle<ELULayer> ELU(ELUOptions options = {});
PLEXUS_KEYWORD_FACTORY0(LayerHandle<ELULayer>, ELU, ELUOptions)

struct SoftmaxOptions {
  Dim axis = -1;
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// Softmax: y = exp(x) / sum(exp(x)) along axis.
class SoftmaxLayer : public Layer {
 public:
  explicit SoftmaxLayer(SoftmaxOptions options);
  std::string class_name() const override { return "Softmax"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }
  // Keras 3's get_config keys, in its order (layers/image_config.cpp).
  Config get_config() const override;
  static LayerRef from_config(const Config& config);

 private:
  SoftmaxOptions options_;
};
LayerHandle<SoftmaxLayer> Softmax(SoftmaxOptions options = {});
PLEXUS_KEYWORD_FACTORY0(LayerHandle<SoftmaxLayer>, Softmax, SoftmaxOptions)

}  // namespace plexus::layers
