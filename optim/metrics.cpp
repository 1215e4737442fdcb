#include "optim/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <numeric>

#include "core/error.hpp"
#include "graph/function.hpp"
#include "optim/lookup.hpp"
#include "optim/losses.hpp"

namespace plexus::metrics {

namespace {

// Keras's squeeze_or_expand_to_same_rank on shapes (the data is unchanged: only a
// trailing axis of length 1 is added or removed).
void same_rank(Shape& a, Shape& b, bool expand_rank_1 = true) {
  if (a.size() == b.size() + 1 && a.back() == 1) {
    if (b.size() == 1 && expand_rank_1) {
      b = Shape{b[0], 1};
    } else {
      a.pop_back();
    }
  } else if (b.size() == a.size() + 1 && b.back() == 1) {
    if (a.size() == 1 && expand_rank_1) {
      a = Shape{a[0], 1};
    } else {
      b.pop_back();
    }
  }
}

[[noreturn]] void mismatch(const std::string& metric, const Tensor& y_true, const Tensor& y_pred) {
  throw Error("Metric \"{}\": y_true of shape {} does not match y_pred of shape {}", metric,
              shape_str(shape_of(y_true)), shape_str(shape_of(y_pred)));
}

Shape drop_last(const Shape& s) { return s.empty() ? s : Shape(s.begin(), s.end() - 1); }

// out.resize(like's shape without its last axis), without allocating when out already
// has that shape (the steady state of a training loop).
void resize_without_last(Tensor& out, const Tensor& like) {
  const std::size_t r = like.dimension();
  bool same = r > 0 && out.dimension() == r - 1;
  for (std::size_t d = 0; same && d + 1 < r; ++d) same = out.shape()[d] == like.shape()[d];
  if (!same) resize_to(out, drop_last(shape_of(like)));
}

std::size_t last_dim(const Tensor& t) {
  return t.dimension() == 0 ? 1 : t.shape()[t.dimension() - 1];
}

std::size_t argmax_row(const float* row, std::size_t n) {
  std::size_t best = 0;
  for (std::size_t j = 1; j < n; ++j) {
    if (row[j] > row[best]) best = j;
  }
  return best;
}

// One-hot y_true against y_pred of the same shape: checks the shapes, sizes `out` to one
// value per row and returns the row length.
std::size_t one_hot_rows(const std::string& metric, const Tensor& y_true, const Tensor& y_pred,
                         Tensor& out) {
  const std::size_t cols = last_dim(y_pred);
  if (y_true.size() != y_pred.size() || last_dim(y_true) != cols || cols == 0) {
    mismatch(metric, y_true, y_pred);
  }
  resize_without_last(out, y_pred);
  return cols;
}

double divide_no_nan(double a, double b) { return b == 0.0 ? 0.0 : a / b; }

// One weight per prediction element: a scalar, one per row (the last axis has `cols`
// entries), or one per element.
class ElementWeights {
 public:
  ElementWeights(const Tensor* sw, std::size_t n, std::size_t cols, const std::string& metric)
      : w_(sw ? sw->data() : nullptr), cols_(cols) {
    if (sw == nullptr) return;
    const std::size_t m = sw->size();
    if (m == 1) {
      mode_ = kScalar;
    } else if (m == n) {
      mode_ = kElement;
    } else if (cols > 0 && m * cols == n) {
      mode_ = kRow;
    } else {
      throw Error("Metric \"{}\": sample_weight of shape {} does not fit {} predictions", metric,
                  shape_str(shape_of(*sw)), n);
    }
  }
  double operator()(std::size_t i) const {
    switch (mode_) {
      case kNone:
        return 1.0;
      case kScalar:
        return w_[0];
      case kElement:
        return w_[i];
      case kRow:
        return w_[i / cols_];
    }
    return 1.0;
  }

 private:
  enum Mode { kNone, kScalar, kElement, kRow };
  const float* w_;
  std::size_t cols_;
  Mode mode_ = kNone;
};

// Labels and predictions for confusion counts: the same number of elements (a trailing
// axis of 1 on either side aside); returns the length of the predictions' last axis.
std::size_t confusion_cols(const std::string& metric, const Tensor& y_true, const Tensor& y_pred) {
  Shape a = shape_of(y_pred), b = shape_of(y_true);
  same_rank(a, b);
  if (y_true.size() != y_pred.size()) mismatch(metric, y_true, y_pred);
  return a.empty() ? 1 : static_cast<std::size_t>(a.back());
}

}  // namespace

// --- Mean ---------------------------------------------------------------------------------

void Mean::reset_state() { total_ = count_ = 0.0; }

double Mean::result() const { return divide_no_nan(total_, count_); }

std::shared_ptr<Metric> Mean::clone() const { return std::make_shared<Mean>(name()); }

void Mean::update_state(double value, double weight) {
  total_ += value * weight;
  count_ += weight;
}

void Mean::update_state(const Tensor&, const Tensor&, const Tensor*) {
  throw Error(
      "Metric \"{}\" (Mean) averages values: call update_state(value, weight) or "
      "update_values(values, sample_weight), not update_state(y_true, y_pred)",
      name());
}

// Keras's reduce_to_samplewise_values with reduce_fn = mean, then Mean's accumulation.
void Mean::update_values(const Tensor& values, const Tensor* sample_weight) {
  const std::size_t n = values.size();
  const float* v = values.data();
  if (sample_weight != nullptr && values.dimension() == 1 && sample_weight->dimension() == 1 &&
      sample_weight->size() == n) {
    // The common case — one value and one weight per sample — without shape bookkeeping.
    const float* w = sample_weight->data();
    double weighted = 0.0, weights = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      weighted += static_cast<double>(v[i]) * w[i];
      weights += w[i];
    }
    total_ += weighted;
    count_ += weights;
    return;
  }
  Shape vs = shape_of(values);
  if (sample_weight == nullptr) {
    if (vs.empty()) {
      update_state(v[0], 1.0);
      return;
    }
    if (n == 0) return;
    const double rows = static_cast<double>(vs[0]);
    double s = 0.0;
    for (std::size_t i = 0; i < n; ++i) s += v[i];
    total_ += s * rows / static_cast<double>(n);  // sum over rows of the per-row means
    count_ += rows;
    return;
  }
  Shape ws = shape_of(*sample_weight);
  same_rank(vs, ws);
  if (ws.size() > vs.size()) {
    throw Error("Metric \"{}\": sample_weight of shape {} has more axes than the values {}", name(),
                shape_str(shape_of(*sample_weight)), shape_str(shape_of(values)));
  }
  // Values averaged over the axes the weights do not have: (P = prod(vs[:r])) blocks.
  const std::size_t r = ws.size();
  std::size_t p_count = 1;
  for (std::size_t d = 0; d < r; ++d) p_count *= static_cast<std::size_t>(vs[d]);
  if (p_count == 0 || n == 0) return;
  const std::size_t inner = n / p_count;
  // Broadcast strides of the weights over vs[:r].
  std::vector<std::size_t> wstride(r, 0);
  std::size_t stride = 1;
  for (std::size_t d = r; d-- > 0;) {
    if (ws[d] == vs[d]) {
      wstride[d] = stride;
    } else if (ws[d] != 1) {
      throw Error("Metric \"{}\": sample_weight of shape {} does not broadcast to the values {}",
                  name(), shape_str(shape_of(*sample_weight)), shape_str(shape_of(values)));
    }
    stride *= static_cast<std::size_t>(ws[d]);
  }
  const float* w = sample_weight->data();
  std::vector<std::size_t> idx(r, 0);
  double weighted = 0.0, weights = 0.0;
  for (std::size_t p = 0; p < p_count; ++p) {
    std::size_t wi = 0;
    for (std::size_t d = 0; d < r; ++d) wi += idx[d] * wstride[d];
    double block = 0.0;
    for (std::size_t q = 0; q < inner; ++q) block += v[p * inner + q];
    const double wv = w[wi];
    weighted += block / static_cast<double>(inner) * wv;
    weights += wv;
    for (std::size_t d = r; d-- > 0;) {  // next multi-index
      if (++idx[d] < static_cast<std::size_t>(vs[d])) break;
      idx[d] = 0;
    }
  }
  // Per sample: the mean over the axes after the first (of the weighted values and of the
  // weights); the sum over samples is the total over blocks divided by blocks per sample.
  const double per_sample =
      r == 0 ? 1.0 : static_cast<double>(p_count / static_cast<std::size_t>(vs[0]));
  total_ += weighted / per_sample;
  count_ += weights / per_sample;
}

void MeanMetricWrapper::update_state(const Tensor& y_true, const Tensor& y_pred,
                                     const Tensor* sample_weight) {
  values(y_true, y_pred, scratch_);
  update_values(scratch_, sample_weight);
}

// --- accuracy ---------------------------------------------------------------------------

BinaryAccuracy::BinaryAccuracy(BinaryAccuracyOptions options)
    : MeanMetricWrapper(options.name), threshold_(options.threshold) {
  if (!(threshold_ > 0.0 && threshold_ < 1.0)) {
    throw Error("BinaryAccuracy: threshold must be in (0, 1), received {}", threshold_);
  }
}

std::shared_ptr<Metric> BinaryAccuracy::clone() const {
  return std::make_shared<BinaryAccuracy>(
      BinaryAccuracyOptions{.name = name(), .threshold = threshold_});
}

void BinaryAccuracy::values(const Tensor& y_true, const Tensor& y_pred, Tensor& out) {
  if (y_true.shape() != y_pred.shape()) {
    Shape a = shape_of(y_true), b = shape_of(y_pred);
    same_rank(a, b);
    if (a != b) mismatch(name(), y_true, y_pred);
  }
  const std::size_t cols = y_pred.dimension() == 0 ? 1 : y_pred.shape().back();
  if (y_pred.dimension() == 0) {
    resize_to(out, {});
  } else {
    resize_without_last(out, y_pred);
  }
  const float* t = y_true.data();
  const float* p = y_pred.data();
  const float thr = static_cast<float>(threshold_);
  for (std::size_t r = 0; r < out.size(); ++r) {
    std::size_t hits = 0;
    for (std::size_t j = 0; j < cols; ++j) {
      const std::size_t i = r * cols + j;
      hits += t[i] == (p[i] > thr ? 1.0f : 0.0f);
    }
    out.data()[r] = static_cast<float>(hits) / static_cast<float>(cols);
  }
}

std::shared_ptr<Metric> CategoricalAccuracy::clone() const {
  return std::make_shared<CategoricalAccuracy>(name());
}

void CategoricalAccuracy::values(const Tensor& y_true, const Tensor& y_pred, Tensor& out) {
  const std::size_t cols = one_hot_rows(name(), y_true, y_pred, out);
  for (std::size_t r = 0; r < out.size(); ++r) {
    const std::size_t t = argmax_row(y_true.data() + r * cols, cols);
    const std::size_t p = argmax_row(y_pred.data() + r * cols, cols);
    out.data()[r] = t == p ? 1.0f : 0.0f;
  }
}

std::shared_ptr<Metric> SparseCategoricalAccuracy::clone() const {
  return std::make_shared<SparseCategoricalAccuracy>(name());
}

void SparseCategoricalAccuracy::values(const Tensor& y_true, const Tensor& y_pred, Tensor& out) {
  const std::size_t cols = last_dim(y_pred);
  if (cols == 0 || y_true.size() * cols != y_pred.size()) mismatch(name(), y_true, y_pred);
  resize_without_last(out, y_pred);
  for (std::size_t r = 0; r < out.size(); ++r) {
    const std::size_t p = argmax_row(y_pred.data() + r * cols, cols);
    out.data()[r] = y_true.data()[r] == static_cast<float>(p) ? 1.0f : 0.0f;
  }
}

TopKCategoricalAccuracy::TopKCategoricalAccuracy(TopKCategoricalAccuracyOptions options)
    : MeanMetricWrapper(options.name), k_(options.k) {
  if (k_ < 1) throw Error("TopKCategoricalAccuracy: k must be >= 1, received {}", k_);
}

std::shared_ptr<Metric> TopKCategoricalAccuracy::clone() const {
  return std::make_shared<TopKCategoricalAccuracy>(
      TopKCategoricalAccuracyOptions{.k = k_, .name = name()});
}

void TopKCategoricalAccuracy::values(const Tensor& y_true, const Tensor& y_pred, Tensor& out) {
  const std::size_t cols = one_hot_rows(name(), y_true, y_pred, out);
  for (std::size_t r = 0; r < out.size(); ++r) {
    const float* row = y_pred.data() + r * cols;
    const std::size_t t = argmax_row(y_true.data() + r * cols, cols);
    const float target = row[t];
    std::size_t larger = 0;
    for (std::size_t j = 0; j < cols; ++j) larger += row[j] > target;
    out.data()[r] = std::isfinite(target) && larger < static_cast<std::size_t>(k_) ? 1.0f : 0.0f;
  }
}

// --- regression ---------------------------------------------------------------------------

namespace {
template <typename F>
void mean_last_axis(const std::string& metric, const Tensor& y_true, const Tensor& y_pred,
                    Tensor& out, F f) {
  Shape a = shape_of(y_true), b = shape_of(y_pred);
  same_rank(a, b);
  if (a != b) mismatch(metric, y_true, y_pred);
  const std::size_t cols = a.empty() ? 1 : static_cast<std::size_t>(a.back());
  resize_to(out, drop_last(a));
  for (std::size_t r = 0; r < out.size(); ++r) {
    double s = 0.0;
    for (std::size_t j = 0; j < cols; ++j) {
      const std::size_t i = r * cols + j;
      s += f(static_cast<double>(y_true.data()[i]) - y_pred.data()[i]);
    }
    out.data()[r] = static_cast<float>(s / static_cast<double>(cols));
  }
}
}  // namespace

std::shared_ptr<Metric> MeanSquaredError::clone() const {
  return std::make_shared<MeanSquaredError>(name());
}

void MeanSquaredError::values(const Tensor& y_true, const Tensor& y_pred, Tensor& out) {
  mean_last_axis(name(), y_true, y_pred, out, [](double d) { return d * d; });
}

std::shared_ptr<Metric> MeanAbsoluteError::clone() const {
  return std::make_shared<MeanAbsoluteError>(name());
}

void MeanAbsoluteError::values(const Tensor& y_true, const Tensor& y_pred, Tensor& out) {
  mean_last_axis(name(), y_true, y_pred, out, [](double d) { return std::abs(d); });
}

// --- LossMetric -----------------------------------------------------------------------------

struct LossMetric::Cache {
  Shape target_shape, pred_shape;
  std::unique_ptr<graph::Executor> executor;
};

LossMetric::LossMetric(std::shared_ptr<losses::Loss> loss, std::string_view name)
    : MeanMetricWrapper(name.empty() ? std::string_view(loss->name()) : name),
      loss_(std::move(loss)),
      cache_(std::make_unique<Cache>()) {}

LossMetric::LossMetric(const LossMetric& other)
    : MeanMetricWrapper(other.name()), loss_(other.loss_), cache_(std::make_unique<Cache>()) {}

LossMetric::~LossMetric() = default;

std::shared_ptr<Metric> LossMetric::clone() const {
  return std::make_shared<LossMetric>(loss_, name());
}

void LossMetric::values(const Tensor& y_true, const Tensor& y_pred, Tensor& out) {
  const Shape pred_shape = shape_of(y_pred);
  const Shape target_shape = loss_->conform_target_shape(shape_of(y_true), pred_shape, name());
  Tensor reshaped;
  const Tensor* target = &y_true;
  if (target_shape != shape_of(y_true)) {
    reshaped = loss_->conform_target(y_true, pred_shape, name());
    target = &reshaped;
  }
  Cache& c = *cache_;
  if (!c.executor || c.target_shape != target_shape || c.pred_shape != pred_shape) {
    loss_->check_output(pred_shape, name());
    const SymbolicTensor t = graph::placeholder(target_shape, "y_true");
    const SymbolicTensor p = graph::placeholder(pred_shape, "y_pred");
    c.executor =
        graph::Function({t, p}, {{"values", loss_->per_sample(t, p)}}, name()).make_executor();
    c.target_shape = target_shape;
    c.pred_shape = pred_shape;
  }
  const Tensor* feeds[] = {target, &y_pred};
  c.executor->forward(feeds, Context{});
  out = c.executor->output(0);
}

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

// --- lookup -----------------------------------------------------------------------------------

AccuracyKind accuracy_kind(const Shape& y_true_shape, const Shape& y_pred_shape) {
  const Dim t_last = y_true_shape.empty() ? 1 : y_true_shape.back();
  const Dim p_last = y_pred_shape.empty() ? 1 : y_pred_shape.back();
  if (p_last == 1) return AccuracyKind::kBinary;
  if (y_true_shape.size() < y_pred_shape.size() || (t_last == 1 && p_last > 1)) {
    return AccuracyKind::kSparse;
  }
  return AccuracyKind::kCategorical;
}

namespace {

using detail::make;

const detail::Registry<Metric>& registry() {
  static const detail::Registry<Metric> r = {
      {"binary_accuracy", make<BinaryAccuracy>()},
      {"categorical_accuracy", make<CategoricalAccuracy>()},
      {"sparse_categorical_accuracy", make<SparseCategoricalAccuracy>()},
      {"top_k_categorical_accuracy", make<TopKCategoricalAccuracy>()},
      {"mean_squared_error", make<MeanSquaredError>()},
      {"mse", make<MeanSquaredError>()},
      {"mean_absolute_error", make<MeanAbsoluteError>()},
      {"mae", make<MeanAbsoluteError>()},
      {"precision", make<Precision>()},
      {"recall", make<Recall>()},
      {"auc", make<AUC>()},
  };
  return r;
}

// Keras class names, compared in lower case.
const std::map<std::string, std::string>& class_names() {
  static const std::map<std::string, std::string> r = {
      {"binaryaccuracy", "binary_accuracy"},
      {"categoricalaccuracy", "categorical_accuracy"},
      {"sparsecategoricalaccuracy", "sparse_categorical_accuracy"},
      {"topkcategoricalaccuracy", "top_k_categorical_accuracy"},
      {"meansquarederror", "mse"},
      {"meanabsoluteerror", "mae"},
  };
  return r;
}

}  // namespace

std::vector<std::string> names() {
  std::vector<std::string> out{"accuracy", "acc"};
  for (const auto& [k, f] : registry()) out.push_back(k);
  std::sort(out.begin(), out.end());
  return out;
}

std::shared_ptr<Metric> get(std::string_view name, const Shape& y_true_shape,
                            const Shape& y_pred_shape) {
  const std::string key = detail::to_lower(name);
  std::shared_ptr<Metric> metric;
  if (key == "accuracy" || key == "acc") {
    switch (accuracy_kind(y_true_shape, y_pred_shape)) {
      case AccuracyKind::kBinary:
        metric = std::make_shared<BinaryAccuracy>();
        break;
      case AccuracyKind::kSparse:
        metric = std::make_shared<SparseCategoricalAccuracy>();
        break;
      case AccuracyKind::kCategorical:
        metric = std::make_shared<CategoricalAccuracy>();
        break;
    }
  } else {
    auto it = registry().find(key);
    if (it == registry().end()) {
      auto c = class_names().find(key);
      if (c != class_names().end()) it = registry().find(c->second);
    }
    if (it != registry().end()) {
      metric = it->second();
    } else {
      // A loss used as a metric (Keras wraps loss functions in MeanMetricWrapper).
      const auto loss_names = losses::names();
      bool is_loss = false;
      try {
        auto loss = losses::get(name);
        metric = std::make_shared<LossMetric>(std::move(loss));
        is_loss = true;
      } catch (const Error&) {
      }
      if (!is_loss) {
        std::vector<std::string> known = names();
        known.insert(known.end(), loss_names.begin(), loss_names.end());
        detail::throw_unknown_name("metric", name, known);
      }
    }
  }
  metric->set_name(std::string(name));
  return metric;
}

}  // namespace plexus::metrics
