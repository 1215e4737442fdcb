// Metrics (Keras 3's keras.metrics): stateful, updated batch by batch and averaged over an
// epoch the way Keras does it — accuracy is total matches / count, weighted by sample
// weights; precision, recall and AUC accumulate confusion counts.
//
//   px::metrics::BinaryAccuracy acc;
//   acc.update_state(y_true, y_pred);            // any number of batches
//   acc.result();                                // fraction of matches so far
//   acc.reset_state();
//
// Metrics evaluate eagerly on concrete tensors (no autodiff), with plain loops.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/registry.hpp"
#include "core/tensor.hpp"
#include "graph/symbolic.hpp"

namespace plexus::losses {
class Loss;
}
namespace plexus::graph {
class Executor;
}

namespace plexus::metrics {

class Metric {
 public:
  explicit Metric(std::string_view name = {}) : name_(name) {}
  virtual ~Metric() = default;
  // The key in fit()'s logs: the name given by the user ("acc" stays "acc").
  virtual std::string name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  virtual void reset_state() = 0;
  virtual void update_state(const Tensor& y_true, const Tensor& y_pred,
                            const Tensor* sample_weight = nullptr) = 0;
  void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) {
    update_state(y_true, y_pred, &sample_weight);
  }
  virtual double result() const = 0;
  // A metric with the same configuration and name and a fresh state (one per output).
  virtual std::shared_ptr<Metric> clone() const = 0;
  // The accumulated state as numbers that add up across processes (Keras's
  // metric.variables: totals, counts, confusion counts). Data-parallel training sums them
  // over the processes to log global values. Empty (the default): the state cannot be
  // summed, and a data-parallel fit/evaluate with this metric is a px::Error.
  virtual std::vector<double*> state_values() { return {}; }

  // --- config (optim/metrics_config.cpp) --------------------------------------------
  // Keras's class name ("BinaryAccuracy"); the default is the C++ type's name.
  virtual std::string class_name() const;
  // {"name", "dtype": "float32"} then the metric's options (Keras 3 keys).
  virtual Config get_config() const;
  // Built-ins by class name and alias ("mse"); see get() for "accuracy" and loss names.
  static Registry<Metric>& registry();

 private:
  std::string name_;
};

// The (weighted) mean of values — Keras's keras.metrics.Mean. fit() tracks the loss with
// it: update_state(batch_loss, batch_size).
class Mean : public Metric {
 public:
  std::string class_name() const override { return "Mean"; }
  explicit Mean(std::string_view name = "mean") : Metric(name) {}
  void reset_state() override;
  double result() const override;  // total / count, 0 when nothing was seen
  std::shared_ptr<Metric> clone() const override;

  // One value with a weight.
  void update_state(double value, double weight = 1.0);
  // Keras's Mean.update_state(values, sample_weight): values (N, ...) are averaged per
  // sample over their trailing axes; sample_weight is a scalar, (N,), or a leading part
  // of values' shape; count grows by the sum of the weights (or by N).
  void update_values(const Tensor& values, const Tensor* sample_weight = nullptr);
  // Mean takes values, not (y_true, y_pred): this overload throws px::Error.
  void update_state(const Tensor& y_true, const Tensor& y_pred,
                    const Tensor* sample_weight = nullptr) override;
  using Metric::update_state;

  double total() const { return total_; }
  double count() const { return count_; }
  std::vector<double*> state_values() override { return {&total_, &count_}; }

 private:
  double total_ = 0.0;
  double count_ = 0.0;
};

// A Mean over a per-sample function of (y_true, y_pred) — Keras's MeanMetricWrapper.
class MeanMetricWrapper : public Mean {
 public:
  using Mean::Mean;
  void update_state(const Tensor& y_true, const Tensor& y_pred,
                    const Tensor* sample_weight = nullptr) final;
  using Mean::update_state;

 protected:
  // The per-sample values into `out` (resized as needed).
  virtual void values(const Tensor& y_true, const Tensor& y_pred, Tensor& out) = 0;

 private:
  Tensor scratch_;
};

// --- accuracy -------------------------------------------------------------------------

struct BinaryAccuracyOptions {
  std::string name = "binary_accuracy";
  double threshold = 0.5;  // in (0, 1)
};
// mean over the last axis of (y_true == (y_pred > threshold)).
class BinaryAccuracy : public MeanMetricWrapper {
 public:
  std::string class_name() const override { return "BinaryAccuracy"; }
  Config get_config() const override;
  explicit BinaryAccuracy(BinaryAccuracyOptions options = {});
  PLEXUS_KEYWORD_CONSTRUCTOR(BinaryAccuracy, BinaryAccuracyOptions)
  std::shared_ptr<Metric> clone() const override;

 protected:
  void values(const Tensor& y_true, const Tensor& y_pred, Tensor& out) override;

 private:
  double threshold_;
};

// argmax(y_true, -1) == argmax(y_pred, -1) (one-hot targets).
class CategoricalAccuracy : public MeanMetricWrapper {
 public:
  std::string class_name() const override { return "CategoricalAccuracy"; }
  explicit CategoricalAccuracy(std::string_view name = "categorical_accuracy")
      : MeanMetricWrapper(name) {}
  std::shared_ptr<Metric> clone() const override;

 protected:
  void values(const Tensor& y_true, const Tensor& y_pred, Tensor& out) override;
};

// y_true == argmax(y_pred, -1) (integer class ids, shape (N,) or (N, 1)).
class SparseCategoricalAccuracy : public MeanMetricWrapper {
 public:
  std::string class_name() const override { return "SparseCategoricalAccuracy"; }
  explicit SparseCategoricalAccuracy(std::string_view name = "sparse_categorical_accuracy")
      : MeanMetricWrapper(name) {}
  std::shared_ptr<Metric> clone() const override;

 protected:
  void values(const Tensor& y_true, const Tensor& y_pred, Tensor& out) override;
};

struct TopKCategoricalAccuracyOptions {
  int k = 5;
  std::string name = "top_k_categorical_accuracy";
};
// argmax(y_true, -1) is among the k largest predictions (ties at the boundary count as in
// TensorFlow's in_top_k: fewer than k entries strictly larger).
class TopKCategoricalAccuracy : public MeanMetricWrapper {
 public:
  std::string class_name() const override { return "TopKCategoricalAccuracy"; }
  Config get_config() const override;
  explicit TopKCategoricalAccuracy(TopKCategoricalAccuracyOptions options = {});
  PLEXUS_KEYWORD_CONSTRUCTOR(TopKCategoricalAccuracy, TopKCategoricalAccuracyOptions)
  std::shared_ptr<Metric> clone() const override;

 protected:
  void values(const Tensor& y_true, const Tensor& y_pred, Tensor& out) override;

 private:
  int k_;
};

// --- regression -------------------------------------------------------------------------

// mean(square(y_true - y_pred), axis=-1), averaged.
class MeanSquaredError : public MeanMetricWrapper {
 public:
  std::string class_name() const override { return "MeanSquaredError"; }
  explicit MeanSquaredError(std::string_view name = "mean_squared_error")
      : MeanMetricWrapper(name) {}
  std::shared_ptr<Metric> clone() const override;

 protected:
  void values(const Tensor& y_true, const Tensor& y_pred, Tensor& out) override;
};

// mean(abs(y_true - y_pred), axis=-1), averaged.
class MeanAbsoluteError : public MeanMetricWrapper {
 public:
  std::string class_name() const override { return "MeanAbsoluteError"; }
  explicit MeanAbsoluteError(std::string_view name = "mean_absolute_error")
      : MeanMetricWrapper(name) {}
  std::shared_ptr<Metric> clone() const override;

 protected:
  void values(const Tensor& y_true, const Tensor& y_pred, Tensor& out) override;
};

// Any loss used as a metric (metrics = {"binary_crossentropy"}): its per-sample values,
// averaged. Evaluated through a small cached executor.
class LossMetric : public MeanMetricWrapper {
 public:
  std::string class_name() const override { return "MeanMetricWrapper"; }
  Config get_config() const override;  // + "fn": the loss
  LossMetric(std::shared_ptr<losses::Loss> loss, std::string_view name = {});
  ~LossMetric() override;
  LossMetric(const LossMetric& other);
  LossMetric& operator=(const LossMetric&) = delete;
  std::shared_ptr<Metric> clone() const override;

 protected:
  void values(const Tensor& y_true, const Tensor& y_pred, Tensor& out) override;

 private:
  struct Cache;
  std::shared_ptr<losses::Loss> loss_;
  std::unique_ptr<Cache> cache_;
};

// --- confusion-matrix metrics -----------------------------------------------------------

struct PrecisionOptions {
  std::optional<double> thresholds = std::nullopt;  // 0.5 by default; -inf with top_k (Keras)
  std::optional<int> top_k = std::nullopt;          // only the k largest predictions of a row count
  std::optional<int> class_id = std::nullopt;       // only this class (last axis index)
  std::string name = "precision";
};
struct RecallOptions {
  std::optional<double> thresholds = std::nullopt;
  std::optional<int> top_k = std::nullopt;
  std::optional<int> class_id = std::nullopt;
  std::string name = "recall";
};

// true_positives / (true_positives + false_positives), with y_pred > threshold counted as
// positive and y_true != 0 as a true label; sample weights weight each prediction.
class Precision : public Metric {
 public:
  std::string class_name() const override { return "Precision"; }
  Config get_config() const override;
  explicit Precision(PrecisionOptions options = {});
  PLEXUS_KEYWORD_CONSTRUCTOR(Precision, PrecisionOptions)
  void reset_state() override;
  void update_state(const Tensor& y_true, const Tensor& y_pred,
                    const Tensor* sample_weight = nullptr) override;
  using Metric::update_state;
  double result() const override;
  std::shared_ptr<Metric> clone() const override;

  double true_positives() const { return tp_; }
  double false_positives() const { return fp_; }
  double false_negatives() const { return fn_; }
  std::vector<double*> state_values() override { return {&tp_, &fp_, &fn_}; }

 protected:
  PrecisionOptions options_;
  double tp_ = 0.0, fp_ = 0.0, fn_ = 0.0;
};

// true_positives / (true_positives + false_negatives).
class Recall : public Precision {
 public:
  std::string class_name() const override { return "Recall"; }
  explicit Recall(RecallOptions options = {});
  PLEXUS_KEYWORD_CONSTRUCTOR(Recall, RecallOptions)
  double result() const override;
  std::shared_ptr<Metric> clone() const override;
};

struct AUCOptions {
  int num_thresholds = 200;
  std::string curve = "ROC";                       // "ROC" or "PR"
  std::string summation_method = "interpolation";  // or "minoring", "majoring"
  std::string name = "auc";
  bool from_logits = false;  // apply a sigmoid to y_pred first
};
// Area under the ROC (or PR) curve, from confusion counts at num_thresholds evenly spaced
// thresholds in [0, 1] (with -eps and 1 + eps at the ends), as Keras computes it.
class AUC : public Metric {
 public:
  std::string class_name() const override { return "AUC"; }
  Config get_config() const override;
  explicit AUC(AUCOptions options = {});
  PLEXUS_KEYWORD_CONSTRUCTOR(AUC, AUCOptions)
  void reset_state() override;
  void update_state(const Tensor& y_true, const Tensor& y_pred,
                    const Tensor* sample_weight = nullptr) override;
  using Metric::update_state;
  double result() const override;
  std::shared_ptr<Metric> clone() const override;
  // Thresholds used (num_thresholds values, from -eps to 1 + eps).
  std::vector<double> thresholds() const;
  std::vector<double*> state_values() override;

 private:
  AUCOptions options_;
  bool pr_ = false;
  std::vector<double> tp_, fp_, tn_, fn_;
  std::vector<double> bucket_pos_, bucket_neg_;  // scratch
};

// --- custom -----------------------------------------------------------------------------

// A metric from a C++ callable built with px::ops: fn(y_true, y_pred) gives per-sample
// values (as a LossFunction does), averaged over the epoch (a LossMetric), logged as `name`.
//   .metrics = {"accuracy", px::metrics::MetricFunction("max_error", fn)}
std::shared_ptr<Metric> MetricFunction(
    std::string name,
    std::function<SymbolicTensor(const SymbolicTensor&, const SymbolicTensor&)> fn);

// --- lookup -----------------------------------------------------------------------------

// Keras 3's compile_utils rule for "accuracy"/"acc": binary when y_pred's last dimension
// is 1, sparse when rank(y_true) < rank(y_pred) or (y_true's last dimension is 1 and
// y_pred's is > 1), categorical otherwise.
enum class AccuracyKind { kBinary, kSparse, kCategorical };
AccuracyKind accuracy_kind(const Shape& y_true_shape, const Shape& y_pred_shape);

// A metric by name for an output: "accuracy"/"acc" (resolved as above),
// "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
// "top_k_categorical_accuracy", "mse"/"mean_squared_error", "mae"/"mean_absolute_error",
// "precision", "recall", "auc", Keras class names, or any loss name (a LossMetric). The
// metric is named exactly as given. Unknown names throw px::Error listing known names.
std::shared_ptr<Metric> get(std::string_view name, const Shape& y_true_shape,
                            const Shape& y_pred_shape);
// The names get() accepts (besides loss names), sorted.
std::vector<std::string> names();

}  // namespace plexus::metrics
