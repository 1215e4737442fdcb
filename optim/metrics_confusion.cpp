// The confusion-matrix metrics: Precision, Recall (thresholds, top_k, class_id) and AUC
// (ROC / PR curves over num_thresholds, Keras's interpolation, minoring and majoring sums).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.hpp"
#include "optim/losses.hpp"
#include "optim/metrics_util.hpp"

namespace plexus::metrics {

using namespace internal;  // optim/metrics_util.hpp

// --- Precision / Recall ----------------------------------------------------------------------

Precision::Precision(PrecisionOptions options) : Metric(options.name), options_(options) {
  if (options_.top_k && *options_.top_k < 1) {
    throw Error("{}: top_k must be >= 1, received {}", name(), *options_.top_k);
  }
  if (options_.class_id && *options_.class_id < 0) {
    throw Error("{}: class_id must be >= 0, received {}", name(), *options_.class_id);
  }
}

void Precision::reset_state() { tp_ = fp_ = fn_ = 0.0; }

double Precision::result() const { return divide_no_nan(tp_, tp_ + fp_); }

std::shared_ptr<Metric> Precision::clone() const {
  auto o = options_;
  o.name = name();
  return std::make_shared<Precision>(o);
}

void Precision::update_state(const Tensor& y_true, const Tensor& y_pred,
                             const Tensor* sample_weight) {
  const std::size_t n = y_pred.size();
  const std::size_t cols = confusion_cols(name(), y_true, y_pred);
  const ElementWeights weight(sample_weight, n, cols, name());
  const double neg_inf = -std::numeric_limits<double>::infinity();
  const double thr = options_.thresholds.value_or(options_.top_k ? neg_inf : 0.5);
  const float* t = y_true.data();
  const float* p = y_pred.data();
  if (options_.class_id && static_cast<std::size_t>(*options_.class_id) >= cols) {
    throw Error("{}: class_id {} is out of range for predictions of shape {}", name(),
                *options_.class_id, shape_str(shape_of(y_pred)));
  }
  std::vector<std::size_t> order;
  std::vector<char> kept;
  for (std::size_t r = 0; r < n / std::max<std::size_t>(cols, 1); ++r) {
    const std::size_t base = r * cols;
    if (options_.top_k) {  // keep the k largest of the row (lower index first on ties)
      order.resize(cols);
      std::iota(order.begin(), order.end(), std::size_t{0});
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t x, std::size_t y) { return p[base + x] > p[base + y]; });
      kept.assign(cols, 0);
      for (std::size_t j = 0; j < cols && j < static_cast<std::size_t>(*options_.top_k); ++j) {
        kept[order[j]] = 1;
      }
    }
    for (std::size_t j = 0; j < cols; ++j) {
      if (options_.class_id && j != static_cast<std::size_t>(*options_.class_id)) continue;
      const std::size_t i = base + j;
      const double value = options_.top_k && !kept[j] ? neg_inf : p[i];
      const bool predicted = value > thr;
      const bool label = t[i] != 0.0f;
      const double w = weight(i);
      if (label && predicted) tp_ += w;
      if (!label && predicted) fp_ += w;
      if (label && !predicted) fn_ += w;
    }
  }
}

Recall::Recall(RecallOptions options)
    : Precision(PrecisionOptions{.thresholds = options.thresholds,
                                 .top_k = options.top_k,
                                 .class_id = options.class_id,
                                 .name = options.name}) {}

double Recall::result() const { return divide_no_nan(tp_, tp_ + fn_); }

std::shared_ptr<Metric> Recall::clone() const {
  return std::make_shared<Recall>(RecallOptions{.thresholds = options_.thresholds,
                                                .top_k = options_.top_k,
                                                .class_id = options_.class_id,
                                                .name = name()});
}

// --- AUC --------------------------------------------------------------------------------------

AUC::AUC(AUCOptions options) : Metric(options.name), options_(std::move(options)) {
  if (options_.num_thresholds <= 1) {
    throw Error("AUC: num_thresholds must be > 1, received {}", options_.num_thresholds);
  }
  const std::string curve = detail::to_lower(options_.curve);
  if (curve != "roc" && curve != "pr") {
    throw Error("AUC: curve must be \"ROC\" or \"PR\", received \"{}\"", options_.curve);
  }
  pr_ = curve == "pr";
  const std::string sum = detail::to_lower(options_.summation_method);
  if (sum != "interpolation" && sum != "minoring" && sum != "majoring") {
    throw Error(
        "AUC: summation_method must be \"interpolation\", \"minoring\" or \"majoring\", "
        "received \"{}\"",
        options_.summation_method);
  }
  options_.summation_method = sum;
  const auto t = static_cast<std::size_t>(options_.num_thresholds);
  tp_.assign(t, 0.0);
  fp_.assign(t, 0.0);
  tn_.assign(t, 0.0);
  fn_.assign(t, 0.0);
  bucket_pos_.assign(t, 0.0);
  bucket_neg_.assign(t, 0.0);
}

std::vector<double> AUC::thresholds() const {
  const int t = options_.num_thresholds;
  std::vector<double> out;
  out.push_back(0.0 - losses::kEpsilon);
  for (int i = 0; i < t - 2; ++i) out.push_back((i + 1) * 1.0 / (t - 1));
  out.push_back(1.0 + losses::kEpsilon);
  return out;
}

void AUC::reset_state() {
  std::fill(tp_.begin(), tp_.end(), 0.0);
  std::fill(fp_.begin(), fp_.end(), 0.0);
  std::fill(tn_.begin(), tn_.end(), 0.0);
  std::fill(fn_.begin(), fn_.end(), 0.0);
}

std::vector<double*> AUC::state_values() {
  std::vector<double*> out;
  for (auto* v : {&tp_, &fp_, &tn_, &fn_}) {
    for (double& x : *v) out.push_back(&x);
  }
  return out;
}

std::shared_ptr<Metric> AUC::clone() const {
  auto o = options_;
  o.name = name();
  return std::make_shared<AUC>(o);
}

// Keras's _update_confusion_matrix_variables_optimized: thresholds are evenly spaced, so
// each prediction falls in one bucket and the counts per threshold are reversed cumulative
// sums over buckets. A prediction is positive at threshold i when p > i / (T - 1).
void AUC::update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor* sample_weight) {
  const std::size_t n = y_pred.size();
  const std::size_t cols = confusion_cols(name(), y_true, y_pred);
  const ElementWeights weight(sample_weight, n, cols, name());
  const std::size_t t = tp_.size();
  std::fill(bucket_pos_.begin(), bucket_pos_.end(), 0.0);
  std::fill(bucket_neg_.begin(), bucket_neg_.end(), 0.0);
  double total_pos = 0.0, total_neg = 0.0;
  const float scale = static_cast<float>(t - 1);
  for (std::size_t i = 0; i < n; ++i) {
    float p = y_pred.data()[i];
    if (options_.from_logits) p = 1.0f / (1.0f + std::exp(-p));
    p = std::clamp(p, 0.0f, 1.0f);
    float bucket = std::ceil(p * scale) - 1.0f;
    if (!(bucket > 0.0f)) bucket = 0.0f;  // the -eps threshold: every prediction is above it
    const auto k = std::min(static_cast<std::size_t>(bucket), t - 1);
    const double w = weight(i);
    if (y_true.data()[i] != 0.0f) {
      bucket_pos_[k] += w;
      total_pos += w;
    } else {
      bucket_neg_[k] += w;
      total_neg += w;
    }
  }
  double cum_pos = 0.0, cum_neg = 0.0;
  for (std::size_t i = t; i-- > 0;) {
    cum_pos += bucket_pos_[i];
    cum_neg += bucket_neg_[i];
    tp_[i] += cum_pos;
    fp_[i] += cum_neg;
    fn_[i] += total_pos - cum_pos;
    tn_[i] += total_neg - cum_neg;
  }
}

double AUC::result() const {
  const std::size_t t = tp_.size();
  if (pr_ && options_.summation_method == "interpolation") {
    // Keras's interpolate_pr_auc (Davis & Goadrich 2006).
    double auc = 0.0;
    for (std::size_t i = 0; i + 1 < t; ++i) {
      const double dtp = tp_[i] - tp_[i + 1];
      const double p0 = tp_[i] + fp_[i], p1 = tp_[i + 1] + fp_[i + 1];
      const double slope = divide_no_nan(dtp, std::max(p0 - p1, 0.0));
      const double intercept = tp_[i + 1] - slope * p1;
      const double ratio = p0 > 0.0 && p1 > 0.0 ? divide_no_nan(p0, std::max(p1, 0.0)) : 1.0;
      auc += divide_no_nan(slope * (dtp + intercept * std::log(ratio)),
                           std::max(tp_[i + 1] + fn_[i + 1], 0.0));
    }
    return auc;
  }
  std::vector<double> x(t), y(t);
  for (std::size_t i = 0; i < t; ++i) {
    const double recall = divide_no_nan(tp_[i], tp_[i] + fn_[i]);
    if (pr_) {
      x[i] = recall;
      y[i] = divide_no_nan(tp_[i], tp_[i] + fp_[i]);
    } else {
      x[i] = divide_no_nan(fp_[i], fp_[i] + tn_[i]);
      y[i] = recall;
    }
  }
  double auc = 0.0;
  for (std::size_t i = 0; i + 1 < t; ++i) {
    double height;
    if (options_.summation_method == "interpolation") {
      height = (y[i] + y[i + 1]) / 2.0;
    } else if (options_.summation_method == "minoring") {
      height = std::min(y[i], y[i + 1]);
    } else {
      height = std::max(y[i], y[i + 1]);
    }
    auc += (x[i] - x[i + 1]) * height;
  }
  return auc;
}

}  // namespace plexus::metrics
