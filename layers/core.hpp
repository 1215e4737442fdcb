// Core layers: Dense, Activation, Dropout, Identity, Flatten, Reshape, InputLayer.
// Each is a class (DenseLayer, ...) plus a Keras-named factory returning a shared handle:
//   auto h = px::layers::Dense(64, "relu")(x);
// Every factory also takes its options as keywords in any order (core/keywords.hpp):
//   px::layers::Dense(12, kw::input_dim = 8, kw::activation = "relu")
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "core/constraints.hpp"
#include "core/initializers.hpp"
#include "core/keywords.hpp"
#include "graph/input_layer.hpp"
#include "graph/layer.hpp"
#include "graph/regularizers.hpp"

namespace plexus::layers {

// Each layer's config is {"name", "trainable", "dtype"}, its positional arguments, then
// its option struct field by field (PLEXUS_CONFIG_FIELDS): the struct is the config.
struct DenseOptions {
  std::string activation = "linear";
  bool use_bias = true;
  initializers::InitializerRef kernel_initializer = "glorot_uniform";
  initializers::InitializerRef bias_initializer = "zeros";
  regularizers::RegularizerRef kernel_regularizer = nullptr;
  regularizers::RegularizerRef bias_regularizer = nullptr;
  // Stored in the config; adding it to the loss is the training step's business.
  regularizers::RegularizerRef activity_regularizer = nullptr;
  constraints::ConstraintRef kernel_constraint = nullptr;
  constraints::ConstraintRef bias_constraint = nullptr;
  std::string name{};
  Shape input_shape{};  // Keras input_shape=(8,), to start a Sequential
  Dim input_dim = 0;    // Keras input_dim=8 (same as input_shape = {8})

  // Out of line (layers/dense.cpp): compiled once in the library, not in every
  // translation unit that builds a Dense. Still an aggregate.
  ~DenseOptions();
};
PLEXUS_CONFIG_FIELDS(DenseOptions, activation, use_bias, kernel_initializer, bias_initializer,
                     kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
                     bias_constraint)

// Dense: [..., in] -> [..., units]; y = activation(x · kernel + bias).
// Weights (Keras order and layout): kernel (in, units), bias (units).
class DenseLayer : public Layer {
 public:
  DenseLayer(Dim units, DenseOptions options);
  std::string class_name() const override { return "Dense"; }
  void build(const Shape& input_shape) override;
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  std::string activation_name() const override { return options_.activation; }
  Dim units() const { return units_; }
  const DenseOptions& options() const { return options_; }
  // name, trainable, dtype, units, then DenseOptions.
  Config get_config() const override;
  static LayerRef from_config(const Config& config);

 private:
  Dim units_;
  DenseOptions options_;
  SymbolicTensor kernel_, bias_;
};

LayerHandle<DenseLayer> Dense(Dim units, DenseOptions options = {});
LayerHandle<DenseLayer> Dense(Dim units, std::string_view activation);
PLEXUS_KEYWORD_FACTORY(LayerHandle<DenseLayer>, Dense, DenseOptions, (Dim, units))

// --- Activation ------------------------------------------------------------------------

struct ActivationOptions {
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// Activation: [...] -> [...]; applies an activation by Keras name (layers/activations.hpp).
class ActivationLayer : public Layer {
 public:
  ActivationLayer(std::string_view activation, ActivationOptions options);
  std::string class_name() const override { return "Activation"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override {
    Shape s = input_shape;  // glu halves the last axis (activations::apply checks it is even)
    if (activation_ == "glu" && !s.empty() && s.back() > 0) s.back() /= 2;
    return s;
  }
  std::string activation_name() const override { return activation_; }
  Config get_config() const override;  // + "activation"
  static LayerRef from_config(const Config& config);

 private:
  std::string activation_;
};

LayerHandle<ActivationLayer> Activation(std::string_view activation,
                                        ActivationOptions options = {});
PLEXUS_KEYWORD_FACTORY(LayerHandle<ActivationLayer>, Activation, ActivationOptions,
                       (std::string_view, activation))

// --- Dropout ---------------------------------------------------------------------------

struct DropoutOptions {
  // Keras's noise_shape: empty = None (one draw per element); otherwise one entry per axis
  // of the input, 1 on an axis the mask is shared along, -1 (None) or the input's dimension
  // elsewhere: {-1, 1, -1} drops the same features at every step of a sequence.
  Shape noise_shape{};
  // Kept in the config for Keras; plexus's dropout masks come from the library generator
  // (px::utils::set_random_seed) whatever the seed.
  std::optional<std::int64_t> seed = std::nullopt;
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// Dropout: [...] -> [...]. In training, zeroes each entry with probability `rate` and
// scales the rest by 1 / (1 - rate); identity at inference. 0 <= rate < 1. Randomness
// comes from the library generator (px::utils::set_random_seed).
class DropoutLayer : public Layer {
 public:
  DropoutLayer(float rate, DropoutOptions options);
  std::string class_name() const override { return "Dropout"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }
  float rate() const { return rate_; }
  const Shape& noise_shape() const { return noise_shape_; }
  Config get_config() const override;  // + rate, seed, noise_shape (null, or None as null)
  static LayerRef from_config(const Config& config);

 private:
  float rate_;
  std::optional<std::int64_t> seed_;
  Shape noise_shape_;
};

LayerHandle<DropoutLayer> Dropout(float rate, DropoutOptions options = {});
PLEXUS_KEYWORD_FACTORY(LayerHandle<DropoutLayer>, Dropout, DropoutOptions, (float, rate))

// --- Identity --------------------------------------------------------------------------

struct IdentityOptions {
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// Identity: [...] -> [...], the input unchanged (its mask too); Keras's placeholder layer.
class IdentityLayer : public Layer {
 public:
  explicit IdentityLayer(IdentityOptions options);
  std::string class_name() const override { return "Identity"; }
  SymbolicTensor call(const SymbolicTensor& x) override { return x; }
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }
  static LayerRef from_config(const Config& config);  // {"name", "trainable", "dtype"}
};

LayerHandle<IdentityLayer> Identity(IdentityOptions options = {});
PLEXUS_KEYWORD_FACTORY0(LayerHandle<IdentityLayer>, Identity, IdentityOptions)

// --- Flatten ---------------------------------------------------------------------------

struct FlattenOptions {
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// Flatten: [batch, d1, ..., dn] -> [batch, d1 * ... * dn] (row-major; [batch] -> [batch, 1]).
class FlattenLayer : public Layer {
 public:
  explicit FlattenLayer(FlattenOptions options);
  std::string class_name() const override { return "Flatten"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  Config get_config() const override;  // + data_format ("channels_last")
  static LayerRef from_config(const Config& config);
};

LayerHandle<FlattenLayer> Flatten(FlattenOptions options = {});
PLEXUS_KEYWORD_FACTORY0(LayerHandle<FlattenLayer>, Flatten, FlattenOptions)

// --- Reshape ---------------------------------------------------------------------------

struct ReshapeOptions {
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// Reshape: [batch, ...] -> [batch, *target_shape]. As in Keras the target excludes the
// batch and may hold one -1, inferred from the input size; the size must be unchanged.
class ReshapeLayer : public Layer {
 public:
  ReshapeLayer(Shape target_shape, ReshapeOptions options);
  std::string class_name() const override { return "Reshape"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  const Shape& target_shape() const { return target_; }
  Config get_config() const override;  // + target_shape
  static LayerRef from_config(const Config& config);

 private:
  Shape target_;
};

LayerHandle<ReshapeLayer> Reshape(Shape target_shape, ReshapeOptions options = {});
PLEXUS_KEYWORD_FACTORY(LayerHandle<ReshapeLayer>, Reshape, ReshapeOptions, (Shape, target_shape))

// --- Input -----------------------------------------------------------------------------
// Keras's layers.Input: the same function as px::Input (graph/symbolic.hpp).
using ::plexus::Input;
namespace keyword_signatures {
using Input = ::plexus::keyword_signatures::Input;
}

// --- InputLayer ------------------------------------------------------------------------

struct InputLayerOptions {
  std::string name{};
  std::optional<Dim> batch_size = std::nullopt;  // static batch size (stateful RNNs)
  std::string dtype = "float32";                 // or "int32", "int64", "bool" (px::Input)
};

// InputLayer(shape): the layer behind px::Input, to start a Sequential explicitly
// (`model.add(px::layers::InputLayer({784}))`). shape excludes the batch;
// InputLayer({10, 8}, {.batch_size = 4}) gives a static batch size (Keras's batch_size).
LayerHandle<graph::InputLayer> InputLayer(const Shape& shape, InputLayerOptions options = {});
LayerHandle<graph::InputLayer> InputLayer(const Shape& shape, std::string_view name);
PLEXUS_KEYWORD_FACTORY(LayerHandle<graph::InputLayer>, InputLayer, InputLayerOptions,
                       (const Shape&, shape))

}  // namespace plexus::layers

PLEXUS_KEYWORD(noise_shape, ::plexus::Shape)
