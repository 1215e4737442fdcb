#include "optim/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <numeric>

#include "core/error.hpp"
#include "core/registry.hpp"
#include "graph/function.hpp"
#include "optim/losses.hpp"
#include "optim/metrics_util.hpp"

namespace plexus::metrics {

using namespace internal;  // optim/metrics_util.hpp

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

}  // namespace plexus::metrics
