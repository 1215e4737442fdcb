// Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization,
// UnitNormalization (Keras 3 defaults, weight names and order), composed from px::ops.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/constraints.hpp"
#include "core/initializers.hpp"
#include "core/keywords.hpp"
#include "graph/layer.hpp"
#include "graph/regularizers.hpp"

namespace plexus::layers {

// Fields in the order of Keras's BatchNormalization constructor.
struct BatchNormalizationOptions {
  Dim axis = -1;  // the feature (channel) axis
  float momentum = 0.99f;
  float epsilon = 1e-3f;
  bool center = true;
  bool scale = true;
  initializers::InitializerRef beta_initializer = "zeros";
  initializers::InitializerRef gamma_initializer = "ones";
  initializers::InitializerRef moving_mean_initializer = "zeros";
  initializers::InitializerRef moving_variance_initializer = "ones";
  regularizers::RegularizerRef beta_regularizer = nullptr;
  regularizers::RegularizerRef gamma_regularizer = nullptr;
  constraints::ConstraintRef beta_constraint = nullptr;
  constraints::ConstraintRef gamma_constraint = nullptr;
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// y = (x - mean) / sqrt(var + epsilon) * gamma + beta per feature of `axis`. In training
// mean and var are the batch's (over every other axis; biased variance), and the moving
// statistics follow them once per step: moving = moving * momentum + batch * (1 - momentum).
// At inference, and in training while the layer is frozen (set_trainable(false), as in
// Keras 3), the moving statistics are used and not updated.
// Weights: gamma, beta (trainable), moving_mean, moving_variance (non-trainable), all (C).
class BatchNormalizationLayer : public Layer {
 public:
  explicit BatchNormalizationLayer(BatchNormalizationOptions options);
  std::string class_name() const override { return "BatchNormalization"; }
  void build(const Shape& input_shape) override;
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }
  // Keras 3's get_config keys, in its order (layers/image_config.cpp).
  Config get_config() const override;
  static LayerRef from_config(const Config& config);
  void set_trainable(bool trainable) override;

 private:
  BatchNormalizationOptions options_;
  std::shared_ptr<bool> use_batch_statistics_ = std::make_shared<bool>(true);
  SymbolicTensor gamma_, beta_, moving_mean_, moving_variance_;
};

LayerHandle<BatchNormalizationLayer> BatchNormalization(BatchNormalizationOptions options = {});
PLEXUS_KEYWORD_FACTORY0(LayerHandle<BatchNormalizationLayer>, BatchNormalization,
                        BatchNormalizationOptions)

// Fields in the order of Keras's LayerNormalization constructor.
struct LayerNormalizationOptions {
  std::vector<Dim> axis{-1};
  float epsilon = 1e-3f;
  bool center = true;
  bool scale = true;
  bool rms_scaling = false;  // y = x / sqrt(mean(x^2) + eps) * gamma (no centring)
  initializers::InitializerRef beta_initializer = "zeros";
  initializers::InitializerRef gamma_initializer = "ones";
  regularizers::RegularizerRef beta_regularizer = nullptr;
  regularizers::RegularizerRef gamma_regularizer = nullptr;
  constraints::ConstraintRef beta_constraint = nullptr;
  constraints::ConstraintRef gamma_constraint = nullptr;
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// y = (x - mean) / sqrt(var + epsilon) * gamma + beta, with mean and var over `axis` of each
// sample. Weights: gamma, beta (shape: the input's dimensions at `axis`).
class LayerNormalizationLayer : public Layer {
 public:
  explicit LayerNormalizationLayer(LayerNormalizationOptions options);
  std::string class_name() const override { return "LayerNormalization"; }
  void build(const Shape& input_shape) override;
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }
  // Keras 3's get_config keys, in its order (layers/image_config.cpp).
  Config get_config() const override;
  static LayerRef from_config(const Config& config);

 private:
  std::vector<Dim> axes(std::size_t rank) const;
  LayerNormalizationOptions options_;
  SymbolicTensor gamma_, beta_;
};

LayerHandle<LayerNormalizationLayer> LayerNormalization(LayerNormalizationOptions options = {});
PLEXUS_KEYWORD_FACTORY0(LayerHandle<LayerNormalizationLayer>, LayerNormalization,
                        LayerNormalizationOptions)

// Fields in the order of Keras's GroupNormalization constructor.
struct GroupNormalizationOptions {
  Dim groups = 32;
  Dim axis = -1;  // the channel axis
  float epsilon = 1e-3f;
  bool center = true;
  bool scale = true;
  initializers::InitializerRef beta_initializer = "zeros";
  initializers::InitializerRef gamma_initializer = "ones";
  regularizers::RegularizerRef beta_regularizer = nullptr;
  regularizers::RegularizerRef gamma_regularizer = nullptr;
  constraints::ConstraintRef beta_constraint = nullptr;
  constraints::ConstraintRef gamma_constraint = nullptr;
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// The channels split into `groups` groups; each sample's group is normalised over its
// channels and all other non-batch axes, then y = x_hat * gamma + beta per channel.
// Weights: gamma (C), beta (C). groups must divide C; groups = -1 means one per channel.
class GroupNormalizationLayer : public Layer {
 public:
  explicit GroupNormalizationLayer(GroupNormalizationOptions options);
  std::string class_name() const override { return "GroupNormalization"; }
  void build(const Shape& input_shape) override;
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }
  // Keras 3's get_config keys, in its order (layers/image_config.cpp).
  Config get_config() const override;
  static LayerRef from_config(const Config& config);

 private:
  GroupNormalizationOptions options_;
  Dim groups_ = 0;
  SymbolicTensor gamma_, beta_;
};

LayerHandle<GroupNormalizationLayer> GroupNormalization(GroupNormalizationOptions options = {});
PLEXUS_KEYWORD_FACTORY0(LayerHandle<GroupNormalizationLayer>, GroupNormalization,
                        GroupNormalizationOptions)

struct UnitNormalizationOptions {
  std::vector<Dim> axis{-1};
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// y = x / sqrt(max(sum(x^2 over axis), 1e-12)): unit L2 norm along `axis`. No weights.
class UnitNormalizationLayer : public Layer {
 public:
  explicit UnitNormalizationLayer(UnitNormalizationOptions options);
  std::string class_name() const override { return "UnitNormalization"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }
  // Keras 3's get_config keys, in its order (layers/image_config.cpp).
  Config get_config() const override;
  static LayerRef from_config(const Config& config);

 private:
  std::vector<Dim> axis_;
};

LayerHandle<UnitNormalizationLayer> UnitNormalization(UnitNormalizationOptions options = {});
PLEXUS_KEYWORD_FACTORY0(LayerHandle<UnitNormalizationLayer>, UnitNormalization,
                        UnitNormalizationOptions)

struct RMSNormalizationOptions {
  std::vector<Dim> axis{-1};
  float epsilon = 1e-6f;
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// RMSNormalization (Keras 3): y = x / sqrt(mean(x^2 over axis) + epsilon) * scale.
// Weight: scale (the input's dimensions at `axis`, initialised to ones).
class RMSNormalizationLayer : public Layer {
 public:
  explicit RMSNormalizationLayer(RMSNormalizationOptions options);
  std::string class_name() const override { return "RMSNormalization"; }
  void build(const Shape& input_shape) override;
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }
  Config get_config() const override;  // + axis (a list), epsilon
  static LayerRef from_config(const Config& config);

 private:
  RMSNormalizationOptions options_;
  SymbolicTensor scale_;
};

LayerHandle<RMSNormalizationLayer> RMSNormalization(RMSNormalizationOptions options = {});
PLEXUS_KEYWORD_FACTORY0(LayerHandle<RMSNormalizationLayer>, RMSNormalization,
                        RMSNormalizationOptions)

}  // namespace plexus::layers
