#include "optim/losses.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <numbers>
#include <typeinfo>

#include "core/detail/type_name.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/kernels.hpp"
#include "graph/function.hpp"
#include "graph/ops.hpp"

namespace plexus::losses {

namespace {

using ST = SymbolicTensor;

// x * scale + shift in one node.
ST affine(const ST& x, double scale, double shift) {
  return ops::apply(kernels::affine(static_cast<float>(scale), static_cast<float>(shift)), {x});
}

// Keras's convert_binary_labels_to_hinge: when every label of the batch is 0 or 1 they
// become -1 or 1, otherwise they pass unchanged. Which case applies depends on the data,
// so it is a kernel of its own (the only data-dependent branch among the losses).
class HingeLabels final : public Kernel {
 public:
  std::string name() const override { return "hinge_labels"; }
  std::size_t num_inputs() const override { return 1; }
  Shape output_shape(ShapeRefs in) const override { return in[0]; }
  void forward(TensorRefs in, Tensor& out, const Context&) override {
    const float* y = in[0]->data();
    const std::size_t n = in[0]->size();
    binary_ = true;
    for (std::size_t i = 0; binary_ && i < n; ++i) binary_ = y[i] == 0.0f || y[i] == 1.0f;
    float* o = out.data();
    if (binary_) {
      for (std::size_t i = 0; i < n; ++i) o[i] = 2.0f * y[i] - 1.0f;
    } else {
      std::memcpy(o, y, n * sizeof(float));
    }
  }
  void backward(TensorRefs, const Tensor&, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (!gin[0]) return;
    const float scale = binary_ ? 2.0f : 1.0f;
    const float* g = gout.data();
    float* d = gin[0]->data();
    for (std::size_t i = 0; i < gout.size(); ++i) d[i] += scale * g[i];
  }
  KernelPtr clone() const override { return std::make_shared<HingeLabels>(); }

 private:
  bool binary_ = true;
};

void require_feature_axis(const Shape& y_pred_shape, std::string_view output_name,
                          const std::string& loss) {
  if (y_pred_shape.size() < 2) {
    throw Error(
        "Loss \"{}\" reduces the last axis of the prediction, but output \"{}\" has shape {}; "
        "give the output a feature axis, e.g. shape (None, 1)",
        loss, output_name, shape_str(y_pred_shape));
  }
}

void require_classes(const Shape& y_pred_shape, Dim axis, std::string_view output_name,
                     const std::string& loss, const char* instead) {
  require_feature_axis(y_pred_shape, output_name, loss);
  const std::size_t a = normalize_axis(axis, y_pred_shape.size(), loss.c_str());
  if (y_pred_shape[a] == 1) {
    throw Error(
        "Loss \"{}\" needs one prediction per class (at least 2 along axis {}), but output "
        "\"{}\" has shape {}; {}",
        loss, axis, output_name, shape_str(y_pred_shape), instead);
  }
}

bool same_dims(const Shape& a, std::size_t a_len, const Shape& b) {
  if (a_len != b.size()) return false;
  for (std::size_t i = 0; i < a_len; ++i) {
    if (a[i] >= 0 && b[i] >= 0 && a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace

// --- Loss ------------------------------------------------------------------------------

Shape Loss::target_shape(const Shape& y_pred_shape) const { return y_pred_shape; }

void Loss::check_output(const Shape& y_pred_shape, std::string_view output_name) const {
  require_feature_axis(y_pred_shape, output_name, name());
}

Shape Loss::conform_target_shape(const Shape& y_true_shape, const Shape& y_pred_shape,
                                 std::string_view output_name) const {
  const Shape t = target_shape(y_pred_shape);
  if (same_dims(y_true_shape, y_true_shape.size(), t)) return y_true_shape;
  // (N,) for (N, 1): expand the target.
  if (y_true_shape.size() + 1 == t.size() && t.back() == 1) {
    Shape expanded = y_true_shape;
    expanded.push_back(1);
    if (same_dims(expanded, expanded.size(), t)) return expanded;
  }
  // (N, 1) for (N,): squeeze the target.
  if (y_true_shape.size() == t.size() + 1 && y_true_shape.back() == 1 &&
      same_dims(y_true_shape, t.size(), t)) {
    return Shape(y_true_shape.begin(), y_true_shape.end() - 1);
  }
  // The usual cause: class ids given to a one-hot loss, or one-hot rows to a sparse one.
  std::string hint;
  const bool ids_for_onehot =
      name().find("crossentropy") != std::string::npos && y_pred_shape.size() >= 2 &&
      y_pred_shape.back() > 1 && t == y_pred_shape &&
      (y_true_shape.size() + 1 == y_pred_shape.size() ||
       (y_true_shape.size() == y_pred_shape.size() && y_true_shape.back() == 1));
  const bool onehot_for_sparse = t.size() + 1 == y_pred_shape.size() &&
                                 y_true_shape.size() == y_pred_shape.size() &&
                                 y_true_shape.back() == y_pred_shape.back();
  if (ids_for_onehot) {
    hint = fmt::format(
        "; the targets look like class ids: use loss \"sparse_categorical_crossentropy\", or "
        "one-hot encode them with px::utils::to_categorical(y, {})",
        y_pred_shape.back());
  } else if (onehot_for_sparse) {
    hint = "; the targets look one-hot encoded: use loss \"categorical_crossentropy\"";
  }
  throw Error(
      "Target for output \"{}\" has shape {}, but loss \"{}\" expects shape {} for a "
      "prediction of shape {}{}",
      output_name, shape_str(y_true_shape), name(), shape_str(t), shape_str(y_pred_shape), hint);
}

Tensor Loss::conform_target(const Tensor& y_true, const Shape& y_pred_shape,
                            std::string_view output_name) const {
  const Shape s = conform_target_shape(shape_of(y_true), y_pred_shape, output_name);
  Tensor out = y_true;
  if (s != shape_of(y_true)) out.reshape(std::vector<std::size_t>(s.begin(), s.end()));
  return out;
}

Tensor Loss::call(const Tensor& y_true, const Tensor& y_pred) const {
  const Shape pred_shape = shape_of(y_pred);
  // Eagerly a 1-D prediction is fine (Keras reduces its only axis to one value); in a
  // model, check_output() asks for a feature axis.
  if (pred_shape.size() >= 2) check_output(pred_shape, "y_pred");
  const Tensor target = conform_target(y_true, pred_shape, "y_pred");
  // Placeholders belong to no layer: ops on them never join a model being traced.
  const ST t = graph::placeholder(shape_of(target), "y_true");
  const ST p = graph::placeholder(pred_shape, "y_pred");
  const graph::Function f({t, p}, {{"loss", per_sample(t, p)}}, name());
  return std::move(f({&target, &y_pred})[0]);
}

double Loss::operator()(const Tensor& y_true, const Tensor& y_pred,
                        const Tensor* sample_weight) const {
  const Tensor values = call(y_true, y_pred);
  const std::size_t n = values.size();
  if (n == 0) return 0.0;
  const float* v = values.data();
  double total = 0.0;
  if (sample_weight == nullptr) {
    for (std::size_t i = 0; i < n; ++i) total += v[i];
    return total / static_cast<double>(n);
  }
  // Weights broadcast over trailing axes: after dropping trailing 1s their shape must be
  // a leading part of the per-sample shape (Keras squeezes (N, 1) against (N,)).
  Shape ws = shape_of(*sample_weight);
  const Shape vs = shape_of(values);
  if (sample_weight->size() == 1) ws.clear();
  auto leads = [&vs](const Shape& s) {
    if (s.size() > vs.size()) return false;
    return std::equal(s.begin(), s.end(), vs.begin());
  };
  while (!leads(ws) && !ws.empty() && ws.back() == 1) ws.pop_back();
  if (!leads(ws)) {
    throw Error(
        "Loss \"{}\": sample_weight of shape {} does not fit the per-sample loss of shape {}",
        name(), shape_str(shape_of(*sample_weight)), shape_str(vs));
  }
  const std::size_t inner = n / std::max<std::size_t>(sample_weight->size(), 1);
  const float* w = sample_weight->data();
  for (std::size_t i = 0; i < n; ++i) total += static_cast<double>(v[i]) * w[i / inner];
  return total / static_cast<double>(n);
}

// --- regression ------------------------------------------------------------------------

ST MeanSquaredError::per_sample(const ST& y_true, const ST& y_pred) const {
  return ops::mean(ops::square(ops::subtract(y_true, y_pred)), {-1});
}

ST MeanAbsoluteError::per_sample(const ST& y_true, const ST& y_pred) const {
  return ops::mean(ops::abs(ops::subtract(y_true, y_pred)), {-1});
}

Huber::Huber(HuberOptions options) : options_(options) {
  if (!(options_.delta > 0.0)) throw Error("Huber: delta must be > 0, received {}", options_.delta);
}

ST Huber::per_sample(const ST& y_true, const ST& y_pred) const {
  const float delta = static_cast<float>(options_.delta);
  const ST a = ops::abs(ops::subtract(y_pred, y_true));
  // q = min(|x|, delta); |x| >= 0 > -1, so clip's lower bound never binds.
  const ST q = ops::clip(a, -1.0f, delta);
  const ST quadratic = ops::multiply(ops::square(q), 0.5f);
  const ST linear = ops::multiply(ops::subtract(a, q), delta);
  return ops::mean(ops::add(quadratic, linear), {-1});
}

ST LogCosh::per_sample(const ST& y_true, const ST& y_pred) const {
  const ST x = ops::subtract(y_pred, y_true);
  const ST lc = ops::add(x, ops::softplus(ops::multiply(x, -2.0f)));
  return ops::mean(ops::subtract(lc, static_cast<float>(std::numbers::ln2)), {-1});
}

ST Poisson::per_sample(const ST& y_true, const ST& y_pred) const {
  const ST log_pred = ops::log(ops::add(y_pred, kEpsilon));
  return ops::mean(ops::subtract(y_pred, ops::multiply(y_true, log_pred)), {-1});
}

// --- probabilistic ---------------------------------------------------------------------

BinaryCrossentropy::BinaryCrossentropy(BinaryCrossentropyOptions options) : options_(options) {
  if (options_.label_smoothing < 0.0 || options_.label_smoothing > 1.0) {
    throw Error("BinaryCrossentropy: label_smoothing must be in [0, 1], received {}",
                options_.label_smoothing);
  }
}

void BinaryCrossentropy::check_output(const Shape& y_pred_shape,
                                      std::string_view output_name) const {
  require_feature_axis(y_pred_shape, output_name, name());
  normalize_axis(options_.axis, y_pred_shape.size(), "BinaryCrossentropy");
}

ST BinaryCrossentropy::per_sample(const ST& y_true, const ST& y_pred) const {
  const double ls = options_.label_smoothing;
  const ST y = ls > 0.0 ? affine(y_true, 1.0 - ls, 0.5 * ls) : y_true;
  ST bce;
  if (options_.from_logits) {
    // max(x, 0) - x y + log(1 + exp(-|x|)): no exp of a large positive number.
    const ST x = y_pred;
    bce = ops::add(ops::subtract(ops::relu(x), ops::multiply(x, y)),
                   ops::softplus(ops::negative(ops::abs(x))));
  } else {
    const ST p = ops::clip(y_pred, kEpsilon, 1.0f - kEpsilon);
    const ST pos = ops::multiply(y, ops::log(p));
    const ST neg = ops::multiply(ops::subtract(1.0f, y), ops::log(ops::subtract(1.0f, p)));
    bce = ops::negative(ops::add(pos, neg));
  }
  return ops::mean(bce, {options_.axis});
}

CategoricalCrossentropy::CategoricalCrossentropy(CategoricalCrossentropyOptions options)
    : options_(options) {
  if (options_.label_smoothing < 0.0 || options_.label_smoothing > 1.0) {
    throw Error("CategoricalCrossentropy: label_smoothing must be in [0, 1], received {}",
                options_.label_smoothing);
  }
}

void CategoricalCrossentropy::check_output(const Shape& y_pred_shape,
                                           std::string_view output_name) const {
  require_classes(y_pred_shape, options_.axis, output_name, name(),
                  "use binary_crossentropy for a single sigmoid unit");
}

ST CategoricalCrossentropy::per_sample(const ST& y_true, const ST& y_pred) const {
  const Dim axis = options_.axis;
  ST y = y_true;
  if (options_.label_smoothing > 0.0) {
    const Dim classes =
        y_pred.shape()[normalize_axis(axis, y_pred.rank(), "CategoricalCrossentropy")];
    if (classes < 0) {
      throw Error(
          "CategoricalCrossentropy: label smoothing needs a known number of classes, "
          "but the prediction has shape {}",
          shape_str(y_pred.shape()));
    }
    const double ls = options_.label_smoothing;
    y = affine(y_true, 1.0 - ls, ls / static_cast<double>(classes));
  }
  ST log_p;
  if (options_.from_logits) {
    log_p = ops::log_softmax(y_pred, axis);
  } else {
    // Renormalise so each sample's probabilities sum to 1, then clip (Keras).
    const ST p = ops::divide(y_pred, ops::sum(y_pred, {axis}, true));
    log_p = ops::log(ops::clip(p, kEpsilon, 1.0f - kEpsilon));
  }
  return ops::negative(ops::sum(ops::multiply(y, log_p), {axis}));
}

SparseCategoricalCrossentropy::SparseCategoricalCrossentropy(
    SparseCategoricalCrossentropyOptions options)
    : options_(options) {}

Shape SparseCategoricalCrossentropy::target_shape(const Shape& y_pred_shape) const {
  if (y_pred_shape.empty()) return y_pred_shape;
  return Shape(y_pred_shape.begin(), y_pred_shape.end() - 1);
}

void SparseCategoricalCrossentropy::check_output(const Shape& y_pred_shape,
                                                 std::string_view output_name) const {
  require_classes(y_pred_shape, -1, output_name, name(),
                  "use binary_crossentropy for a single sigmoid unit");
}

ST SparseCategoricalCrossentropy::per_sample(const ST& y_true, const ST& y_pred) const {
  ST log_p;
  if (options_.from_logits) {
    log_p = ops::log_softmax(y_pred, -1);
  } else {
    const ST p = ops::divide(y_pred, ops::sum(y_pred, {-1}, true));
    log_p = ops::log(ops::clip(p, kEpsilon, 1.0f - kEpsilon));
  }
  return ops::negative(ops::take_along_axis(log_p, y_true, -1));
}

ST Hinge::per_sample(const ST& y_true, const ST& y_pred) const {
  const ST y = ops::apply(std::make_shared<HingeLabels>(), {y_true});
  return ops::mean(ops::relu(ops::subtract(1.0f, ops::multiply(y, y_pred))), {-1});
}

ST KLDivergence::per_sample(const ST& y_true, const ST& y_pred) const {
  const ST y = ops::clip(y_true, kEpsilon, 1.0f);
  const ST p = ops::clip(y_pred, kEpsilon, 1.0f);
  return ops::sum(ops::multiply(y, ops::log(ops::divide(y, p))), {-1});
}

ST SquaredHinge::per_sample(const ST& y_true, const ST& y_pred) const {
  const ST y = ops::apply(std::make_shared<HingeLabels>(), {y_true});
  return ops::mean(ops::square(ops::relu(ops::subtract(1.0f, ops::multiply(y, y_pred)))), {-1});
}

ST CategoricalHinge::per_sample(const ST& y_true, const ST& y_pred) const {
  const ST pos = ops::sum(ops::multiply(y_true, y_pred), {-1});
  const ST neg = ops::max(ops::multiply(ops::subtract(1.0f, y_true), y_pred), {-1});
  return ops::relu(ops::add(ops::subtract(neg, pos), 1.0f));
}

// --- regression (percentage and logarithmic) ----------------------------------------------

ST MeanAbsolutePercentageError::per_sample(const ST& y_true, const ST& y_pred) const {
  const ST denom = ops::maximum(ops::abs(y_true), ops::constant(kEpsilon));
  const ST diff = ops::abs(ops::divide(ops::subtract(y_true, y_pred), denom));
  return ops::multiply(ops::mean(diff, {-1}), 100.0f);
}

ST MeanSquaredLogarithmicError::per_sample(const ST& y_true, const ST& y_pred) const {
  const ST eps = ops::constant(kEpsilon);
  const ST first = ops::log(ops::add(ops::maximum(y_pred, eps), 1.0f));
  const ST second = ops::log(ops::add(ops::maximum(y_true, eps), 1.0f));
  return ops::mean(ops::square(ops::subtract(first, second)), {-1});
}

// --- configs and lookup ------------------------------------------------------------------

std::string Loss::class_name() const { return detail::unqualified_type_name(typeid(*this)); }

Config Loss::get_config() const { return {{"name", name()}, {"reduction", "sum_over_batch_size"}}; }

namespace {
Config with_base(const Loss& loss, const Config& options) {
  Config c = loss.Loss::get_config();
  c.update(options);
  return c;
}
}  // namespace

Config Huber::get_config() const { return with_base(*this, options_); }
Config BinaryCrossentropy::get_config() const { return with_base(*this, options_); }
Config CategoricalCrossentropy::get_config() const { return with_base(*this, options_); }
Config SparseCategoricalCrossentropy::get_config() const {
  Config c = with_base(*this, options_);
  c["ignore_class"] = nullptr;
  return c;
}

namespace {

// Keras writes "sum_over_batch_size" (Keras 2: "auto"); plexus's training reduces that way.
void check_reduction(const Config& c, std::string_view cls) {
  const std::string r = config::get_or<std::string>(c, "reduction", "sum_over_batch_size");
  if (r != "sum_over_batch_size" && r != "auto") {
    throw Error("{}: reduction \"{}\" is not supported (only sum_over_batch_size)", cls, r);
  }
}

template <typename T>
Registry<Loss>::Factory plain(const char* cls) {
  return [cls](const Config& c) -> std::shared_ptr<Loss> {
    check_reduction(c, cls);
    return std::make_shared<T>();
  };
}
template <typename T, typename Options>
Registry<Loss>::Factory with_options(const char* cls) {
  return [cls](const Config& c) -> std::shared_ptr<Loss> {
    check_reduction(c, cls);
    return std::make_shared<T>(c.get<Options>());
  };
}

void add_builtins(Registry<Loss>& r) {
  r.add("MeanSquaredError", plain<MeanSquaredError>("MeanSquaredError"),
        {"mean_squared_error", "mse"});
  r.add("MeanAbsoluteError", plain<MeanAbsoluteError>("MeanAbsoluteError"),
        {"mean_absolute_error", "mae"});
  r.add("BinaryCrossentropy",
        with_options<BinaryCrossentropy, BinaryCrossentropyOptions>("BinaryCrossentropy"),
        {"binary_crossentropy"});
  r.add("CategoricalCrossentropy",
        with_options<CategoricalCrossentropy, CategoricalCrossentropyOptions>(
            "CategoricalCrossentropy"),
        {"categorical_crossentropy"});
  r.add("SparseCategoricalCrossentropy",
        [](const Config& c) -> std::shared_ptr<Loss> {
          check_reduction(c, "SparseCategoricalCrossentropy");
          config::refuse_set(c, "SparseCategoricalCrossentropy", {"ignore_class"});
          return std::make_shared<SparseCategoricalCrossentropy>(
              c.get<SparseCategoricalCrossentropyOptions>());
        },
        {"sparse_categorical_crossentropy"});
  r.add("Huber", with_options<Huber, HuberOptions>("Huber"), {"huber", "huber_loss"});
  r.add("Hinge", plain<Hinge>("Hinge"), {"hinge"});
  r.add("KLDivergence", plain<KLDivergence>("KLDivergence"),
        {"kl_divergence", "kld", "kullback_leibler_divergence"});
  r.add("Poisson", plain<Poisson>("Poisson"), {"poisson"});
  r.add("LogCosh", plain<LogCosh>("LogCosh"), {"log_cosh", "logcosh"});
  r.add("SquaredHinge", plain<SquaredHinge>("SquaredHinge"), {"squared_hinge"});
  r.add("CategoricalHinge", plain<CategoricalHinge>("CategoricalHinge"), {"categorical_hinge"});
  r.add("MeanAbsolutePercentageError",
        plain<MeanAbsolutePercentageError>("MeanAbsolutePercentageError"),
        {"mean_absolute_percentage_error", "mape"});
  r.add("MeanSquaredLogarithmicError",
        plain<MeanSquaredLogarithmicError>("MeanSquaredLogarithmicError"),
        {"mean_squared_logarithmic_error", "msle"});
}

}  // namespace

Registry<Loss>& Loss::registry() {
  static Registry<Loss> r("loss", "keras.losses");
  static const bool filled = (add_builtins(r), true);
  (void)filled;
  return r;
}

std::vector<std::string> names() { return Loss::registry().names(); }

std::shared_ptr<Loss> get(std::string_view name) { return Loss::registry().create(name); }

}  // namespace plexus::losses
