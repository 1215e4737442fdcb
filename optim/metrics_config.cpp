// Metric configs (Keras 3 get_config keys), the metric registry and metrics::get.

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <typeinfo>

#include "core/config.hpp"
#include "core/detail/type_name.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "optim/losses.hpp"
#include "optim/metrics.hpp"

namespace plexus::metrics {

namespace catalogue {
// optim/metrics_catalogue.cpp: TruePositives, ..., Accuracy, R2Score.
void add_catalogue_metrics(Registry<Metric>& r);
}  // namespace catalogue

std::string Metric::class_name() const { return detail::unqualified_type_name(typeid(*this)); }

Config Metric::get_config() const { return {{"name", name()}, {"dtype", "float32"}}; }

Config BinaryAccuracy::get_config() const {
  Config c = Metric::get_config();
  c["threshold"] = threshold_;
  return c;
}

Config TopKCategoricalAccuracy::get_config() const {
  Config c = Metric::get_config();
  c["k"] = k_;
  return c;
}

Config LossMetric::get_config() const {
  Config c = Metric::get_config();
  c["fn"] = losses::Loss::registry().serialize(*loss_);
  return c;
}

Config Precision::get_config() const {
  Config c = Metric::get_config();
  c["thresholds"] = options_.thresholds;
  c["top_k"] = options_.top_k;
  c["class_id"] = options_.class_id;
  return c;
}

Config AUC::get_config() const {
  Config c = Metric::get_config();
  c["num_thresholds"] = options_.num_thresholds;
  c["curve"] = options_.curve;
  c["summation_method"] = options_.summation_method;
  c["multi_label"] = false;
  c["num_labels"] = nullptr;
  c["label_weights"] = nullptr;
  c["from_logits"] = options_.from_logits;
  return c;
}

namespace {

using config::get_or;

void check_dtype(const Config& c, const char* cls) {
  const std::string dtype = get_or<std::string>(c, "dtype", "float32");
  if (dtype != "float32") {
    throw Error("{}: dtype \"{}\" is not supported (plexus metrics are float32)", cls, dtype);
  }
}

// Keras's thresholds: null, a number, or a list (plexus: one threshold).
std::optional<double> threshold_from(const Config& c, const char* cls) {
  auto it = c.find("thresholds");
  if (it == c.end() || it->is_null()) return std::nullopt;
  if (it->is_number()) return it->get<double>();
  if (it->is_array() && it->size() == 1 && (*it)[0].is_number()) return (*it)[0].get<double>();
  throw Error("{}: thresholds {} is not supported (plexus takes one threshold)", cls, it->dump());
}

template <typename T>
Registry<Metric>::Factory plain(const char* cls, const char* default_name) {
  return [cls, default_name](const Config& c) -> std::shared_ptr<Metric> {
    check_dtype(c, cls);
    return std::make_shared<T>(get_or<std::string>(c, "name", default_name));
  };
}

// Keras's metric classes that are a MeanMetricWrapper over a loss function (Hinge,
// KLDivergence, BinaryCrossentropy, ...): the loss's per-sample values, averaged, under
// Keras's class name and config ({"name", "dtype"} and the loss's options).
class KerasLossMetric : public LossMetric {
 public:
  KerasLossMetric(std::string cls, std::shared_ptr<losses::Loss> loss, std::string_view name,
                  Config options)
      : LossMetric(loss, name),
        cls_(std::move(cls)),
        loss_(std::move(loss)),
        options_(std::move(options)) {}
  std::string class_name() const override { return cls_; }
  Config get_config() const override {
    Config c = Metric::get_config();
    c.update(options_);
    return c;
  }
  std::shared_ptr<Metric> clone() const override {
    return std::make_shared<KerasLossMetric>(cls_, loss_, name(), options_);
  }

 private:
  std::string cls_;
  std::shared_ptr<losses::Loss> loss_;
  Config options_;
};

// Keras's RootMeanSquaredError: sqrt of the (weighted) mean of the per-sample mean squared
// errors.
class RootMeanSquaredError final : public KerasLossMetric {
 public:
  explicit RootMeanSquaredError(std::string_view name)
      : KerasLossMetric("RootMeanSquaredError",
                        losses::Loss::registry().create(std::string_view("mse")), name,
                        Config::object()) {}
  double result() const override { return std::sqrt(KerasLossMetric::result()); }
  std::shared_ptr<Metric> clone() const override {
    return std::make_shared<RootMeanSquaredError>(name());
  }
};

// A KerasLossMetric factory: the loss `loss_class` made from the config's `option_keys`
// (with Keras's defaults in `defaults`), named `default_name` unless the config names it.
Registry<Metric>::Factory loss_metric(const char* cls, const char* loss_class,
                                      const char* default_name, Config defaults) {
  return [=](const Config& c) -> std::shared_ptr<Metric> {
    check_dtype(c, cls);
    Config options = defaults;
    for (auto it = options.begin(); it != options.end(); ++it) {
      if (auto given = c.find(it.key()); given != c.end()) *it = *given;
    }
    if (auto axis = options.find("axis"); axis != options.end() && *axis != -1) {
      throw Error("{}: axis {} is not supported (the class axis is the last, -1)", cls,
                  axis->dump());
    }
    Config loss_config = options;
    loss_config.erase("axis");
    auto loss = losses::Loss::registry().create(
        Config{{"class_name", loss_class}, {"config", loss_config}});
    return std::make_shared<KerasLossMetric>(
        cls, std::move(loss), get_or<std::string>(c, "name", default_name), std::move(options));
  };
}

void add_loss_metrics(Registry<Metric>& r) {
  const Config none = Config::object();
  r.add("Hinge", loss_metric("Hinge", "Hinge", "hinge", none));
  r.add("SquaredHinge", loss_metric("SquaredHinge", "SquaredHinge", "squared_hinge", none));
  r.add("CategoricalHinge",
        loss_metric("CategoricalHinge", "CategoricalHinge", "categorical_hinge", none));
  r.add("KLDivergence", loss_metric("KLDivergence", "KLDivergence", "kl_divergence", none));
  r.add("Poisson", loss_metric("Poisson", "Poisson", "poisson", none));
  r.add("LogCoshError", loss_metric("LogCoshError", "LogCosh", "logcosh", none));
  r.add("MeanAbsolutePercentageError",
        loss_metric("MeanAbsolutePercentageError", "MeanAbsolutePercentageError",
                    "mean_absolute_percentage_error", none));
  r.add("MeanSquaredLogarithmicError",
        loss_metric("MeanSquaredLogarithmicError", "MeanSquaredLogarithmicError",
                    "mean_squared_logarithmic_error", none));
  r.add("BinaryCrossentropy",
        loss_metric("BinaryCrossentropy", "BinaryCrossentropy", "binary_crossentropy",
                    Config{{"from_logits", false}, {"label_smoothing", 0.0}}));
  r.add(
      "CategoricalCrossentropy",
      loss_metric("CategoricalCrossentropy", "CategoricalCrossentropy", "categorical_crossentropy",
                  Config{{"from_logits", false}, {"label_smoothing", 0.0}, {"axis", -1}}));
  r.add(
      "SparseCategoricalCrossentropy",
      loss_metric("SparseCategoricalCrossentropy", "SparseCategoricalCrossentropy",
                  "sparse_categorical_crossentropy", Config{{"from_logits", false}, {"axis", -1}}));
  r.add("RootMeanSquaredError", [](const Config& c) -> std::shared_ptr<Metric> {
    check_dtype(c, "RootMeanSquaredError");
    return std::make_shared<RootMeanSquaredError>(
        get_or<std::string>(c, "name", "root_mean_squared_error"));
  });
}

void add_builtins(Registry<Metric>& r) {
  r.add("Mean", plain<Mean>("Mean", "mean"));
  r.add("BinaryAccuracy",
        [](const Config& c) -> std::shared_ptr<Metric> {
          check_dtype(c, "BinaryAccuracy");
          return std::make_shared<BinaryAccuracy>(
              BinaryAccuracyOptions{get_or<std::string>(c, "name", "binary_accuracy"),
                                    get_or<double>(c, "threshold", 0.5)});
        },
        {"binary_accuracy"});
  r.add("CategoricalAccuracy",
        plain<CategoricalAccuracy>("CategoricalAccuracy", "categorical_accuracy"),
        {"categorical_accuracy"});
  r.add(
      "SparseCategoricalAccuracy",
      plain<SparseCategoricalAccuracy>("SparseCategoricalAccuracy", "sparse_categorical_accuracy"),
      {"sparse_categorical_accuracy"});
  r.add(
      "TopKCategoricalAccuracy",
      [](const Config& c) -> std::shared_ptr<Metric> {
        check_dtype(c, "TopKCategoricalAccuracy");
        return std::make_shared<TopKCategoricalAccuracy>(TopKCategoricalAccuracyOptions{
            get_or<int>(c, "k", 5), get_or<std::string>(c, "name", "top_k_categorical_accuracy")});
      },
      {"top_k_categorical_accuracy"});
  r.add("MeanSquaredError", plain<MeanSquaredError>("MeanSquaredError", "mean_squared_error"),
        {"mean_squared_error", "mse"});
  r.add("MeanAbsoluteError", plain<MeanAbsoluteError>("MeanAbsoluteError", "mean_absolute_error"),
        {"mean_absolute_error", "mae"});
  r.add("MeanMetricWrapper", [](const Config& c) -> std::shared_ptr<Metric> {
    check_dtype(c, "MeanMetricWrapper");
    auto fn = c.find("fn");
    if (fn == c.end() || fn->is_null()) {
      throw Error("MeanMetricWrapper: the config needs \"fn\" (a loss)");
    }
    return std::make_shared<LossMetric>(losses::Loss::registry().create(*fn),
                                        get_or<std::string>(c, "name", ""));
  });
  r.add("Precision",
        [](const Config& c) -> std::shared_ptr<Metric> {
          check_dtype(c, "Precision");
          return std::make_shared<Precision>(PrecisionOptions{
              threshold_from(c, "Precision"), get_or<std::optional<int>>(c, "top_k", std::nullopt),
              get_or<std::optional<int>>(c, "class_id", std::nullopt),
              get_or<std::string>(c, "name", "precision")});
        },
        {"precision"});
  r.add("Recall",
        [](const Config& c) -> std::shared_ptr<Metric> {
          check_dtype(c, "Recall");
          return std::make_shared<Recall>(RecallOptions{
              threshold_from(c, "Recall"), get_or<std::optional<int>>(c, "top_k", std::nullopt),
              get_or<std::optional<int>>(c, "class_id", std::nullopt),
              get_or<std::string>(c, "name", "recall")});
        },
        {"recall"});
  r.add("AUC",
        [](const Config& c) -> std::shared_ptr<Metric> {
          check_dtype(c, "AUC");
          config::refuse_set(c, "AUC", {"multi_label", "num_labels", "label_weights"});
          if (auto t = c.find("thresholds"); t != c.end() && !t->is_null()) {
            throw Error("AUC: explicit thresholds are not supported (plexus uses num_thresholds)");
          }
          AUCOptions o;
          o.num_thresholds = get_or<int>(c, "num_thresholds", 200);
          o.curve = get_or<std::string>(c, "curve", "ROC");
          o.summation_method = get_or<std::string>(c, "summation_method", "interpolation");
          o.name = get_or<std::string>(c, "name", "auc");
          o.from_logits = get_or<bool>(c, "from_logits", false);
          return std::make_shared<AUC>(o);
        },
        {"auc"});
  add_loss_metrics(r);
  catalogue::add_catalogue_metrics(r);
}

}  // namespace

Registry<Metric>& Metric::registry() {
  static Registry<Metric> r("metric", "keras.metrics");
  static const bool filled = (add_builtins(r), true);
  (void)filled;
  return r;
}

std::vector<std::string> names() {
  std::vector<std::string> out = Metric::registry().names();
  out.push_back("accuracy");
  out.push_back("acc");
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
  } else if (Metric::registry().contains(name)) {
    metric = Metric::registry().create(name);
  } else if (losses::Loss::registry().contains(name)) {
    // A loss used as a metric (Keras wraps loss functions in MeanMetricWrapper).
    metric = std::make_shared<LossMetric>(losses::get(name));
  } else {
    std::vector<std::string> known = names();
    const auto loss_names = losses::names();
    known.insert(known.end(), loss_names.begin(), loss_names.end());
    throw Error("Unknown metric \"{}\".{} Known metrics: {}", name,
                detail::did_you_mean(name, known), detail::join_sorted(known));
  }
  metric->set_name(std::string(name));
  return metric;
}

}  // namespace plexus::metrics
