// Losses (Keras 3's keras.losses). A loss builds its per-sample value symbolically from
// px::ops, so autodiff differentiates it together with the model; compile() appends it to
// the model's graph. Calling a loss object eagerly gives Keras's reduced value:
//
//   px::losses::CategoricalCrossentropy cce;
//   double v = cce(y_true, y_pred);               // 1.177 for Keras's docstring example
//   model.compile({.optimizer = "adam", .loss = px::losses::BinaryCrossentropy({.from_logits =
//   true})});
//
// Shapes: y_pred (N, ..., C) -> per-sample loss (N, ...): the last axis is reduced, as in
// Keras. Probabilities are clipped to [eps, 1 - eps] with Keras's backend.epsilon() = 1e-7.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/registry.hpp"
#include "core/tensor.hpp"
#include "graph/symbolic.hpp"

namespace plexus::losses {

// keras.backend.epsilon().
inline constexpr float kEpsilon = 1e-7f;

class Loss {
 public:
  virtual ~Loss() = default;
  // The Keras name of the loss class: "binary_crossentropy", "huber_loss", ...
  virtual std::string name() const = 0;
  // Per-sample loss, built with px::ops: y_pred (N, ..., C) -> (N, ...). y_true has
  // target_shape(y_pred.shape()).
  virtual SymbolicTensor per_sample(const SymbolicTensor& y_true,
                                    const SymbolicTensor& y_pred) const = 0;
  // The target's shape for a prediction shape (symbolic, -1 for the batch): y_pred's
  // shape by default; sparse categorical cross-entropy drops the class axis.
  virtual Shape target_shape(const Shape& y_pred_shape) const;
  // Throws px::Error, naming the output and its shape, when this loss cannot train an
  // output of that shape (e.g. a categorical loss on a single unit).
  virtual void check_output(const Shape& y_pred_shape, std::string_view output_name) const;

  // The shape y_true must be reshaped to (same elements) to serve as the target for a
  // prediction of shape y_pred_shape. Follows Keras's squeeze_or_expand_to_same_rank: a
  // target (N,) fits a prediction (N, 1), and a sparse target (N, 1) fits (N, C).
  // Throws px::Error naming the output, the loss and both shapes when it cannot fit.
  Shape conform_target_shape(const Shape& y_true_shape, const Shape& y_pred_shape,
                             std::string_view output_name = "output") const;
  // y_true reshaped to conform_target_shape() (a copy; unchanged when it already fits).
  Tensor conform_target(const Tensor& y_true, const Shape& y_pred_shape,
                        std::string_view output_name = "output") const;

  // Eager Keras-style call with reduction "sum_over_batch_size":
  // sum(per_sample * sample_weight) / (number of per-sample values).
  // sample_weight may be a scalar, per sample (N,) or (N, 1), or shaped like the
  // per-sample loss (or a leading part of it); it broadcasts over the trailing axes.
  double operator()(const Tensor& y_true, const Tensor& y_pred,
                    const Tensor* sample_weight = nullptr) const;
  double operator()(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) const {
    return (*this)(y_true, y_pred, &sample_weight);
  }
  // The per-sample values, evaluated eagerly (Keras's reduction=None).
  Tensor call(const Tensor& y_true, const Tensor& y_pred) const;

  // --- config ---------------------------------------------------------------------
  // Keras's class name ("MeanSquaredError"); the default is the C++ type's name.
  virtual std::string class_name() const;
  // {"name", "reduction": "sum_over_batch_size"} then the loss's options.
  virtual Config get_config() const;
  // Every built-in by class name and alias ("mse"); user classes add_custom.
  static Registry<Loss>& registry();
};

// --- regression ----------------------------------------------------------------------

// mean(square(y_true - y_pred), axis=-1).
class MeanSquaredError : public Loss {
 public:
  std::string class_name() const override { return "MeanSquaredError"; }
  std::string name() const override { return "mean_squared_error"; }
  SymbolicTensor per_sample(const SymbolicTensor& y_true,
                            const SymbolicTensor& y_pred) const override;
};

// mean(abs(y_true - y_pred), axis=-1).
class MeanAbsoluteError : public Loss {
 public:
  std::string class_name() const override { return "MeanAbsoluteError"; }
  std::string name() const override { return "mean_absolute_error"; }
  SymbolicTensor per_sample(const SymbolicTensor& y_true,
                            const SymbolicTensor& y_pred) const override;
};

struct HuberOptions {
  double delta = 1.0;
};
PLEXUS_CONFIG_FIELDS(HuberOptions, delta)
// x = y_pred - y_true: 0.5 x^2 where |x| <= delta, else delta |x| - 0.5 delta^2; mean over
// the last axis. Written as 0.5 q^2 + delta (|x| - q) with q = min(|x|, delta) (no branch).
class Huber : public Loss {
 public:
  std::string class_name() const override { return "Huber"; }
  Config get_config() const override;
  explicit Huber(HuberOptions options = {});
  PLEXUS_KEYWORD_CONSTRUCTOR(Huber, HuberOptions)
  std::string name() const override { return "huber_loss"; }
  SymbolicTensor per_sample(const SymbolicTensor& y_true,
                            const SymbolicTensor& y_pred) const override;
  const HuberOptions& options() const { return options_; }

 private:
  HuberOptions options_;
};

// x = y_pred - y_true: mean(x + softplus(-2x) - log(2), axis=-1) = mean(log(cosh(x))).
class LogCosh : public Loss {
 public:
  std::string class_name() const override { return "LogCosh"; }
  std::string name() const override { return "log_cosh"; }
  SymbolicTensor per_sample(const SymbolicTensor& y_true,
                            const SymbolicTensor& y_pred) const override;
};

// mean(y_pred - y_true * log(y_pred + eps), axis=-1).
class Poisson : public Loss {
 public:
  std::string class_name() const override { return "Poisson"; }
  std::string name() const override { return "poisson"; }
  SymbolicTensor per_sample(const SymbolicTensor& y_true,
                            const SymbolicTensor& y_pred) const override;
};

// --- probabilistic -------------------------------------------------------------------

struct BinaryCrossentropyOptions {
  bool from_logits = false;
  double label_smoothing = 0.0;  // y * (1 - ls) + ls / 2
  Dim axis = -1;                 // the axis the mean is taken over
};
PLEXUS_CONFIG_FIELDS(BinaryCrossentropyOptions, from_logits, label_smoothing, axis)
// Probabilities: p = clip(y_pred, eps, 1 - eps); -(y log p + (1 - y) log(1 - p)).
// Logits (stable): max(x, 0) - x y + log(1 + exp(-|x|)). Mean over `axis`.
class BinaryCrossentropy : public Loss {
 public:
  std::string class_name() const override { return "BinaryCrossentropy"; }
  Config get_config() const override;
  explicit BinaryCrossentropy(BinaryCrossentropyOptions options = {});
  PLEXUS_KEYWORD_CONSTRUCTOR(BinaryCrossentropy, BinaryCrossentropyOptions)
  std::string name() const override { return "binary_crossentropy"; }
  SymbolicTensor per_sample(const SymbolicTensor& y_true,
                            const SymbolicTensor& y_pred) const override;
  void check_output(const Shape& y_pred_shape, std::string_view output_name) const override;
  const BinaryCrossentropyOptions& options() const { return options_; }

 private:
  BinaryCrossentropyOptions options_;
};

struct CategoricalCrossentropyOptions {
  bool from_logits = false;
  double label_smoothing = 0.0;  // y * (1 - ls) + ls / num_classes
  Dim axis = -1;                 // the class axis
};
PLEXUS_CONFIG_FIELDS(CategoricalCrossentropyOptions, from_logits, label_smoothing, axis)
// One-hot targets. Probabilities: p / sum(p, axis), clipped to [eps, 1 - eps], then
// -sum(y log p, axis). Logits: -sum(y log_softmax(x), axis) (stable for any logit).
class CategoricalCrossentropy : public Loss {
 public:
  std::string class_name() const override { return "CategoricalCrossentropy"; }
  Config get_config() const override;
  explicit CategoricalCrossentropy(CategoricalCrossentropyOptions options = {});
  PLEXUS_KEYWORD_CONSTRUCTOR(CategoricalCrossentropy, CategoricalCrossentropyOptions)
  std::string name() const override { return "categorical_crossentropy"; }
  SymbolicTensor per_sample(const SymbolicTensor& y_true,
                            const SymbolicTensor& y_pred) const override;
  void check_output(const Shape& y_pred_shape, std::string_view output_name) const override;
  const CategoricalCrossentropyOptions& options() const { return options_; }

 private:
  CategoricalCrossentropyOptions options_;
};

struct SparseCategoricalCrossentropyOptions {
  bool from_logits = false;
};
PLEXUS_CONFIG_FIELDS(SparseCategoricalCrossentropyOptions, from_logits)
// Integer class ids (stored as floats) of shape y_pred without its last axis.
// -log p[y] with p normalised and clipped as in CategoricalCrossentropy, or
// -log_softmax(x)[y] from logits; picked with ops::take_along_axis.
class SparseCategoricalCrossentropy : public Loss {
 public:
  std::string class_name() const override { return "SparseCategoricalCrossentropy"; }
  Config get_config() const override;  // + from_logits, ignore_class (null)
  explicit SparseCategoricalCrossentropy(SparseCategoricalCrossentropyOptions options = {});
  PLEXUS_KEYWORD_CONSTRUCTOR(SparseCategoricalCrossentropy, SparseCategoricalCrossentropyOptions)
  std::string name() const override { return "sparse_categorical_crossentropy"; }
  SymbolicTensor per_sample(const SymbolicTensor& y_true,
                            const SymbolicTensor& y_pred) const override;
  Shape target_shape(const Shape& y_pred_shape) const override;
  void check_output(const Shape& y_pred_shape, std::string_view output_name) const override;
  const SparseCategoricalCrossentropyOptions& options() const { return options_; }

 private:
  SparseCategoricalCrossentropyOptions options_;
};

// mean(maximum(1 - y_true * y_pred, 0), axis=-1); labels that are all 0/1 in a batch are
// first mapped to -1/1 (Keras's convert_binary_labels_to_hinge).
class Hinge : public Loss {
 public:
  std::string class_name() const override { return "Hinge"; }
  std::string name() const override { return "hinge"; }
  SymbolicTensor per_sample(const SymbolicTensor& y_true,
                            const SymbolicTensor& y_pred) const override;
};

// sum(y log(y / p), axis=-1) with y and p clipped to [eps, 1].
class KLDivergence : public Loss {
 public:
  std::string class_name() const override { return "KLDivergence"; }
  std::string name() const override { return "kl_divergence"; }
  SymbolicTensor per_sample(const SymbolicTensor& y_true,
                            const SymbolicTensor& y_pred) const override;
};

// mean(square(maximum(1 - y_true * y_pred, 0)), axis=-1), labels mapped as Hinge's.
class SquaredHinge : public Loss {
 public:
  std::string class_name() const override { return "SquaredHinge"; }
  std::string name() const override { return "squared_hinge"; }
  SymbolicTensor per_sample(const SymbolicTensor& y_true,
                            const SymbolicTensor& y_pred) const override;
};

// maximum(neg - pos + 1, 0) with pos = sum(y_true * y_pred, axis=-1) and
// neg = max((1 - y_true) * y_pred, axis=-1) (one-hot targets).
class CategoricalHinge : public Loss {
 public:
  std::string class_name() const override { return "CategoricalHinge"; }
  std::string name() const override { return "categorical_hinge"; }
  SymbolicTensor per_sample(const SymbolicTensor& y_true,
                            const SymbolicTensor& y_pred) const override;
};

// 100 * mean(|y_true - y_pred| / maximum(|y_true|, eps), axis=-1).
class MeanAbsolutePercentageError : public Loss {
 public:
  std::string class_name() const override { return "MeanAbsolutePercentageError"; }
  std::string name() const override { return "mean_absolute_percentage_error"; }
  SymbolicTensor per_sample(const SymbolicTensor& y_true,
                            const SymbolicTensor& y_pred) const override;
};

// mean(square(log(maximum(y_pred, eps) + 1) - log(maximum(y_true, eps) + 1)), axis=-1).
class MeanSquaredLogarithmicError : public Loss {
 public:
  std::string class_name() const override { return "MeanSquaredLogarithmicError"; }
  std::string name() const override { return "mean_squared_logarithmic_error"; }
  SymbolicTensor per_sample(const SymbolicTensor& y_true,
                            const SymbolicTensor& y_pred) const override;
};

// --- custom -----------------------------------------------------------------------------

// A loss from a C++ callable built with px::ops (Keras's loss functions passed to compile):
//   px::losses::LossFunction rmse("rmse", [](const px::SymbolicTensor& t,
//                                            const px::SymbolicTensor& p) {
//     return px::ops::sqrt(px::ops::mean(px::ops::square(t - p), {-1}));
//   });
// fn(y_true, y_pred) returns the per-sample loss: y_pred (N, ..., C) -> (N, ...) (reduce
// the last axis, as the built-in losses do). A bare callable given to compile's .loss is
// wrapped in one named "custom_loss".
class LossFunction : public Loss {
 public:
  using Fn = std::function<SymbolicTensor(const SymbolicTensor&, const SymbolicTensor&)>;
  LossFunction(std::string name, Fn fn);
  std::string name() const override { return name_; }
  SymbolicTensor per_sample(const SymbolicTensor& y_true,
                            const SymbolicTensor& y_pred) const override {
    return fn_(y_true, y_pred);
  }

 private:
  std::string name_;
  Fn fn_;
};

// A loss by Keras name: "mse"/"mean_squared_error", "mae"/"mean_absolute_error",
// "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
// "huber"/"huber_loss", "hinge", "kl_divergence"/"kld", "poisson", "log_cosh"/"logcosh";
// Keras class names ("BinaryCrossentropy") work too. Unknown names throw px::Error
// listing the known ones. Loss::registry().create(config) builds one from a config.
std::shared_ptr<Loss> get(std::string_view name);
// The names get() accepts, sorted.
std::vector<std::string> names();

}  // namespace plexus::losses
