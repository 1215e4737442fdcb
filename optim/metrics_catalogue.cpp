// Keras metric classes known by name and config (Metric::registry()): the confusion counts
// (TruePositives, TrueNegatives, FalsePositives, FalseNegatives), Accuracy,
// SparseTopKCategoricalAccuracy and R2Score, with
// Keras's formulas (keras/src/metrics/confusion_metrics.py, accuracy_metrics.py,
// regression_metrics.py). Registered by optim/metrics_config.cpp.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "optim/metrics_util.hpp"

namespace plexus::metrics {

using namespace internal;  // optim/metrics_util.hpp

namespace {

using config::get_or;

void check_float32(const Config& c, const char* cls) {
  const std::string dtype = get_or<std::string>(c, "dtype", "float32");
  if (dtype != "float32") {
    throw Error("{}: dtype \"{}\" is not supported (plexus metrics are float32)", cls, dtype);
  }
}

// Keras's thresholds: null (0.5), a number or a one-element list (plexus: one threshold).
double one_threshold(const Config& c, const char* cls) {
  auto it = c.find("thresholds");
  if (it == c.end() || it->is_null()) return 0.5;
  if (it->is_number()) return it->get<double>();
  if (it->is_array() && it->size() == 1 && (*it)[0].is_number()) return (*it)[0].get<double>();
  throw Error("{}: thresholds {} is not supported (plexus takes one threshold)", cls, it->dump());
}

// Keras's _ConfusionMatrixConditionCount with one threshold: the (weighted) number of
// elements whose label (y_true != 0) and prediction (y_pred > threshold) fall in the cell.
class ConditionCount final : public Metric {
 public:
  ConditionCount(std::string cls, bool label, bool predicted, double threshold,
                 std::string_view name)
      : Metric(name),
        cls_(std::move(cls)),
        label_(label),
        predicted_(predicted),
        threshold_(threshold) {
    if (!(threshold >= 0.0 && threshold <= 1.0)) {
      throw Error("{}: thresholds must be in [0, 1], received {}", cls_, threshold);
    }
  }
  std::string class_name() const override { return cls_; }
  void reset_state() override { count_ = 0.0; }
  double result() const override { return count_; }
  std::shared_ptr<Metric> clone() const override {
    return std::make_shared<ConditionCount>(cls_, label_, predicted_, threshold_, name());
  }
  std::vector<double*> state_values() override { return {&count_}; }
  void update_state(const Tensor& y_true, const Tensor& y_pred,
                    const Tensor* sample_weight) override {
    const std::size_t n = y_pred.size();
    const std::size_t cols = confusion_cols(name(), y_true, y_pred);
    const ElementWeights weight(sample_weight, n, cols, name());
    const float* t = y_true.data();
    const float* p = y_pred.data();
    for (std::size_t i = 0; i < n; ++i) {
      const bool label = t[i] != 0.0f;
      const bool predicted = p[i] > threshold_;
      if (label == label_ && predicted == predicted_) count_ += weight(i);
    }
  }
  Config get_config() const override {
    Config c = Metric::get_config();
    c["thresholds"] = threshold_;
    return c;
  }

 private:
  std::string cls_;
  bool label_, predicted_;
  double threshold_;
  double count_ = 0.0;
};

// Keras's Accuracy: mean over the last axis of (y_true == y_pred), averaged over samples.
class Accuracy final : public MeanMetricWrapper {
 public:
  explicit Accuracy(std::string_view name) : MeanMetricWrapper(name) {}
  std::string class_name() const override { return "Accuracy"; }
  std::shared_ptr<Metric> clone() const override { return std::make_shared<Accuracy>(name()); }

 protected:
  void values(const Tensor& y_true, const Tensor& y_pred, Tensor& out) override {
    Shape a = shape_of(y_true), b = shape_of(y_pred);
    same_rank(a, b);
    if (a != b) mismatch(name(), y_true, y_pred);
    const std::size_t cols = b.empty() ? 1 : static_cast<std::size_t>(b.back());
    if (b.empty()) {
      resize_to(out, Shape{});
    } else {
      resize_to(out, drop_last(b));
    }
    const float* t = y_true.data();
    const float* p = y_pred.data();
    for (std::size_t r = 0; r < out.size(); ++r) {
      double s = 0.0;
      for (std::size_t j = 0; j < cols; ++j) s += t[r * cols + j] == p[r * cols + j];
      out.data()[r] = static_cast<float>(s / static_cast<double>(cols));
    }
  }
};

// Keras's R2Score: per output column, 1 - sum(w (y - p)^2) / (sum(w y^2) - sum(w y)^2 /
// sum(w)), infinite scores read as 0, averaged over the columns (uniformly or weighted by
// their variance), optionally adjusted for num_regressors.
class R2Score final : public Metric {
 public:
  R2Score(std::string class_aggregation, int num_regressors, std::string_view name)
      : Metric(name), aggregation_(std::move(class_aggregation)), num_regressors_(num_regressors) {
    if (aggregation_ != "uniform_average" && aggregation_ != "variance_weighted_average") {
      throw Error(
          "R2Score: class_aggregation \"{}\" is not supported (\"uniform_average\" or "
          "\"variance_weighted_average\"; None, one score per class, is not: a metric "
          "result is one number)",
          aggregation_);
    }
    if (num_regressors_ < 0) {
      throw Error("R2Score: num_regressors must be >= 0, received {}", num_regressors_);
    }
  }
  std::string class_name() const override { return "R2Score"; }
  void reset_state() override {
    sum_.clear();
    squared_sum_.clear();
    total_mse_.clear();
    count_.clear();
    num_samples_ = 0.0;
  }
  std::shared_ptr<Metric> clone() const override {
    return std::make_shared<R2Score>(aggregation_, num_regressors_, name());
  }
  Config get_config() const override {
    Config c = Metric::get_config();
    c["class_aggregation"] = aggregation_;
    c["num_regressors"] = num_regressors_;
    return c;
  }
  void update_state(const Tensor& y_true, const Tensor& y_pred,
                    const Tensor* sample_weight) override {
    Shape a = shape_of(y_true), b = shape_of(y_pred);
    same_rank(a, b);
    if (a != b || b.empty() || b.size() > 2) {
      throw Error(
          "R2Score: y_true of shape {} and y_pred of shape {} must both be (samples,) or "
          "(samples, outputs)",
          shape_str(shape_of(y_true)), shape_str(shape_of(y_pred)));
    }
    const std::size_t rows = static_cast<std::size_t>(b[0]);
    const std::size_t cols = b.size() == 2 ? static_cast<std::size_t>(b[1]) : 1;
    if (sum_.empty()) {
      sum_.assign(cols, 0.0);
      squared_sum_.assign(cols, 0.0);
      total_mse_.assign(cols, 0.0);
      count_.assign(cols, 0.0);
    } else if (sum_.size() != cols) {
      throw Error("R2Score: y_pred has {} outputs, earlier batches had {}", cols, sum_.size());
    }
    const ElementWeights weight(sample_weight, rows * cols, cols, name());
    const float* t = y_true.data();
    const float* p = y_pred.data();
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t j = 0; j < cols; ++j) {
        const std::size_t i = r * cols + j;
        const double w = weight(i), y = t[i], d = t[i] - p[i];
        sum_[j] += w * y;
        squared_sum_[j] += w * y * y;
        total_mse_[j] += w * d * d;
        count_[j] += w;
      }
    }
    num_samples_ += static_cast<double>(rows);
  }
  double result() const override {
    if (sum_.empty()) return 0.0;
    double weighted = 0.0, total_weight = 0.0, uniform = 0.0;
    for (std::size_t j = 0; j < sum_.size(); ++j) {
      const double mean = sum_[j] / count_[j];
      const double total = squared_sum_[j] - sum_[j] * mean;
      double raw = 1.0 - total_mse_[j] / total;
      if (std::isinf(raw)) raw = 0.0;
      uniform += raw;
      weighted += raw * total;
      total_weight += total;
    }
    double r2 = aggregation_ == "uniform_average" ? uniform / static_cast<double>(sum_.size())
                                                  : weighted / total_weight;
    const double n = num_samples_, k = num_regressors_;
    if (num_regressors_ > 0 && k < n - 1.0) r2 = 1.0 - (1.0 - r2) * (n - 1.0) / (n - k - 1.0);
    return r2;
  }

 private:
  std::string aggregation_;
  int num_regressors_;
  std::vector<double> sum_, squared_sum_, total_mse_, count_;
  double num_samples_ = 0.0;
};

// Keras's SparseTopKCategoricalAccuracy: the integer label is among the k largest
// predictions of its row (fewer than k entries strictly larger, as TopKCategoricalAccuracy);
// with from_sorted_ids, y_pred holds each row's predicted ids, best first.
class SparseTopKCategoricalAccuracy final : public MeanMetricWrapper {
 public:
  SparseTopKCategoricalAccuracy(int k, bool from_sorted_ids, std::string_view name)
      : MeanMetricWrapper(name), k_(k), from_sorted_ids_(from_sorted_ids) {
    if (k_ < 1) throw Error("SparseTopKCategoricalAccuracy: k must be >= 1, received {}", k_);
  }
  std::string class_name() const override { return "SparseTopKCategoricalAccuracy"; }
  std::shared_ptr<Metric> clone() const override {
    return std::make_shared<SparseTopKCategoricalAccuracy>(k_, from_sorted_ids_, name());
  }
  Config get_config() const override {
    Config c = Metric::get_config();
    c["k"] = k_;
    c["from_sorted_ids"] = from_sorted_ids_;
    return c;
  }

 protected:
  void values(const Tensor& y_true, const Tensor& y_pred, Tensor& out) override {
    const std::size_t cols = last_dim(y_pred);
    if (cols == 0 || y_pred.dimension() < 2 || y_true.size() * cols != y_pred.size()) {
      mismatch(name(), y_true, y_pred);
    }
    resize_without_last(out, y_pred);
    for (std::size_t r = 0; r < out.size(); ++r) {
      const float* row = y_pred.data() + r * cols;
      const float label = y_true.data()[r];
      bool hit = false;
      if (from_sorted_ids_) {
        for (std::size_t j = 0; j < cols && j < static_cast<std::size_t>(k_); ++j) {
          hit = hit || row[j] == label;
        }
      } else if (label >= 0.0f && label < static_cast<float>(cols) && label == std::floor(label)) {
        const float target = row[static_cast<std::size_t>(label)];
        std::size_t larger = 0;
        for (std::size_t j = 0; j < cols; ++j) larger += row[j] > target;
        hit = std::isfinite(target) && larger < static_cast<std::size_t>(k_);
      }
      out.data()[r] = hit ? 1.0f : 0.0f;
    }
  }

 private:
  int k_;
  bool from_sorted_ids_;
};

Registry<Metric>::Factory condition(const char* cls, bool label, bool predicted,
                                    const char* default_name) {
  return [=](const Config& c) -> std::shared_ptr<Metric> {
    check_float32(c, cls);
    return std::make_shared<ConditionCount>(cls, label, predicted, one_threshold(c, cls),
                                            get_or<std::string>(c, "name", default_name));
  };
}

}  // namespace

namespace catalogue {

void add_catalogue_metrics(Registry<Metric>& r) {
  r.add("TruePositives", condition("TruePositives", true, true, "true_positives"));
  r.add("TrueNegatives", condition("TrueNegatives", false, false, "true_negatives"));
  r.add("FalsePositives", condition("FalsePositives", false, true, "false_positives"));
  r.add("FalseNegatives", condition("FalseNegatives", true, false, "false_negatives"));
  r.add("Accuracy", [](const Config& c) -> std::shared_ptr<Metric> {
    check_float32(c, "Accuracy");
    return std::make_shared<Accuracy>(get_or<std::string>(c, "name", "accuracy"));
  });
  r.add("SparseTopKCategoricalAccuracy", [](const Config& c) -> std::shared_ptr<Metric> {
    check_float32(c, "SparseTopKCategoricalAccuracy");
    return std::make_shared<SparseTopKCategoricalAccuracy>(
        get_or<int>(c, "k", 5), get_or<bool>(c, "from_sorted_ids", false),
        get_or<std::string>(c, "name", "sparse_top_k_categorical_accuracy"));
  });
  r.add("R2Score", [](const Config& c) -> std::shared_ptr<Metric> {
    check_float32(c, "R2Score");
    if (auto it = c.find("class_aggregation"); it != c.end() && !it->is_string()) {
      throw Error(
          "R2Score: class_aggregation {} is not supported (one score per class: a metric "
          "result is one number)",
          it->dump());
    }
    return std::make_shared<R2Score>(get_or<std::string>(c, "class_aggregation", "uniform_average"),
                                     get_or<int>(c, "num_regressors", 0),
                                     get_or<std::string>(c, "name", "r2_score"));
  });
}

}  // namespace catalogue

}  // namespace plexus::metrics
