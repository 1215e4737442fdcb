// Issue 25's activations, losses and schedule: values against Keras's formulas (written out
// here in double precision, from keras/src/activations/activations.py, keras/src/losses/
// losses.py and keras/src/optimizers/schedules/learning_rate_schedule.py), gradients by
// finite differences, configs through the registries, and Keras 3.15.1's own outputs for
// the zoo's activation models.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numbers>
#include <plexus.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace px = plexus;
namespace fs = std::filesystem;
using px::Tensor;

namespace {

fs::path keras_files() {
  if (const char* env = std::getenv("PLEXUS_KERAS_FILES")) return env;
  return fs::path(PLEXUS_SOURCE_DIR).parent_path() / "shared" / "keras_files";
}

// "# shape: [4, 3]" then rows of numbers (the zoo's .input0.txt / .output0.txt).
Tensor read_text_tensor(const fs::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::string header;
  std::getline(in, header);
  px::Shape shape;
  const auto lb = header.find('['), rb = header.find(']');
  std::stringstream dims(header.substr(lb + 1, rb - lb - 1));
  for (std::string d; std::getline(dims, d, ',');) shape.push_back(std::stol(d));
  std::vector<float> values;
  for (double v; in >> v;) values.push_back(static_cast<float>(v));
  Tensor t;
  px::resize_to(t, shape);
  EXPECT_EQ(values.size(), t.size()) << path;
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double softplus(double x) { return std::log1p(std::exp(x)); }

// Keras's element-wise formulas with their default arguments.
struct ElementwiseCase {
  const char* name;
  std::function<double(double)> f;
};

const std::vector<ElementwiseCase>& elementwise_cases() {
  static const std::vector<ElementwiseCase> cases{
      {"celu", [](double x) { return x > 0 ? x : std::exp(x) - 1.0; }},
      {"hard_shrink", [](double x) { return std::abs(x) > 0.5 ? x : 0.0; }},
      {"hard_silu", [](double x) { return x * std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0; }},
      {"hard_swish", [](double x) { return x * std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0; }},
      {"hard_tanh", [](double x) { return std::min(std::max(x, -1.0), 1.0); }},
      {"log_sigmoid", [](double x) { return std::log(sigmoid(x)); }},
      {"mish", [](double x) { return x * std::tanh(softplus(x)); }},
      {"relu6", [](double x) { return std::min(std::max(x, 0.0), 6.0); }},
      {"soft_shrink", [](double x) { return x > 0.5 ? x - 0.5 : (x < -0.5 ? x + 0.5 : 0.0); }},
      {"softsign", [](double x) { return x / (std::abs(x) + 1.0); }},
      {"sparse_plus",
       [](double x) { return x <= -1 ? 0.0 : (x >= 1 ? x : (x + 1) * (x + 1) / 4.0); }},
      {"sparse_sigmoid", [](double x) { return x <= -1 ? 0.0 : (x >= 1 ? 1.0 : 0.5 * (x + 1)); }},
      {"squareplus", [](double x) { return (x + std::sqrt(x * x + 4.0)) / 2.0; }},
      {"tanh_shrink", [](double x) { return x - std::tanh(x); }},
  };
  return cases;
}

// Values on both sides of every kink (±0.5, ±1, ±3, 0, 6) and far out.
Tensor activation_inputs() {
  return Tensor{{-7.0f, -3.5f, -2.9f, -1.2f, -0.8f, -0.45f, -0.1f, 0.0f},
                {0.2f, 0.55f, 0.95f, 1.3f, 2.5f, 3.2f, 5.9f, 6.4f}};
}

// Deterministic data: scale * sin(1.7 i + phase) + shift.
Tensor wave(std::size_t rows, std::size_t cols, float scale, float phase, float shift = 0.0f) {
  Tensor t = Tensor::from_shape({rows, cols});
  for (std::size_t i = 0; i < t.size(); ++i)
    t.data()[i] = scale * std::sin(1.7f * static_cast<float>(i) + phase) + shift;
  return t;
}

px::Model activation_model(const std::string& name, px::Dim width) {
  auto x = px::Input({width});
  return px::Model(x, px::layers::Activation(name)(x));
}

}  // namespace

TEST(CatalogueActivations, ElementwiseValuesEqualKerasFormulas) {
  const Tensor x = activation_inputs();
  for (const auto& c : elementwise_cases()) {
    SCOPED_TRACE(c.name);
    const Tensor y = activation_model(c.name, 8).predict(x);
    ASSERT_EQ(px::shape_of(y), px::shape_of(x));
    for (std::size_t i = 0; i < x.size(); ++i) {
      EXPECT_NEAR(y.data()[i], c.f(x.data()[i]), 2e-6 * std::max(1.0, std::abs(c.f(x.data()[i]))))
          << "x = " << x.data()[i];
    }
  }
}

TEST(CatalogueActivations, GluAndLogSoftmaxOverTheLastAxis) {
  const Tensor x = activation_inputs();
  // glu: the first half times the sigmoid of the second half.
  const Tensor g = activation_model("glu", 8).predict(x);
  ASSERT_EQ(px::shape_of(g), (px::Shape{2, 4}));
  for (std::size_t r = 0; r < 2; ++r) {
    for (std::size_t j = 0; j < 4; ++j) {
      const double a = x(r, j), b = x(r, j + 4);
      EXPECT_NEAR(g(r, j), a * sigmoid(b), 1e-6);
    }
  }
  // log_softmax: x - log(sum(exp(x))) per row.
  const Tensor l = activation_model("log_softmax", 8).predict(x);
  for (std::size_t r = 0; r < 2; ++r) {
    double s = 0.0;
    for (std::size_t j = 0; j < 8; ++j) s += std::exp(static_cast<double>(x(r, j)));
    for (std::size_t j = 0; j < 8; ++j) EXPECT_NEAR(l(r, j), x(r, j) - std::log(s), 2e-6);
  }
  // glu needs an even last axis, and says so.
  auto odd = px::Input({5});
  try {
    px::layers::Activation("glu")(odd);
    FAIL() << "expected px::Error";
  } catch (const px::Error& e) {
    EXPECT_NE(std::string(e.what()).find("glu"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("5"), std::string::npos) << e.what();
  }
}

TEST(CatalogueActivations, GradientsMatchFiniteDifferences) {
  px::utils::set_random_seed(3);
  const Tensor x = wave(6, 4, 1.5f, 0.3f);
  const Tensor y = wave(6, 1, 1.0f, 1.1f);
  // The smooth ones (finite differences across a kink measure the kink, not the gradient).
  for (const char* name : {"celu", "glu", "log_sigmoid", "log_softmax", "mish", "softsign",
                           "squareplus", "tanh_shrink", "sparse_plus"}) {
    SCOPED_TRACE(name);
    auto in = px::Input({4});
    auto h = px::layers::Dense(6, {.activation = name})(in);
    px::Model m(in, px::layers::Dense(1)(h));
    m.compile("sgd", "mse");
    EXPECT_LT(px::testing::check_gradients(m, {x}, {y}), 2e-2);
  }
}

TEST(CatalogueActivations, KnownByNameAndSerializedByName) {
  for (const char* name : {"celu", "glu", "hard_shrink", "hard_silu", "hard_tanh", "log_sigmoid",
                           "log_softmax", "mish", "relu6", "soft_shrink", "softsign", "sparse_plus",
                           "sparse_sigmoid", "squareplus", "tanh_shrink"}) {
    EXPECT_TRUE(px::activations::Activation::registry().contains(name)) << name;
    auto in = px::Input({4});
    auto layer = px::layers::Dense(4, {.activation = name});
    layer(in);
    EXPECT_EQ(layer->get_config().at("activation"), name);
  }
}

// Keras 3.15.1's predictions for Dense(activation=...) models (keras3_15_1_zoo/act_*).
TEST(CatalogueActivations, KerasZooModelsPredictAsKeras) {
  const fs::path dir = keras_files() / "keras3_15_1_zoo";
  for (const char* stem :
       {"act_celu", "act_glu", "act_hard_tanh", "act_log_softmax", "act_softsign",
        "act_sparse_sigmoid", "act_squareplus", "act_tanh_shrink"}) {
    SCOPED_TRACE(stem);
    const fs::path file = dir / (std::string(stem) + ".keras");
    ASSERT_TRUE(fs::exists(file)) << file;
    px::Model m = px::saving::load_model(file.string());
    const Tensor x = read_text_tensor(dir / (std::string(stem) + ".input0.txt"));
    const Tensor want = read_text_tensor(dir / (std::string(stem) + ".output0.txt"));
    const Tensor got = m.predict(x);
    ASSERT_EQ(px::shape_of(got), px::shape_of(want));
    double diff = 0.0;
    for (std::size_t i = 0; i < got.size(); ++i)
      diff = std::max(diff, static_cast<double>(std::abs(got.data()[i] - want.data()[i])));
    EXPECT_LE(diff, 1e-5);
  }
}

// --- losses ----------------------------------------------------------------------------------

namespace {

struct LossCase {
  const char* label;
  Tensor y_true, y_pred;
};

std::vector<LossCase> regression_cases() {
  return {
      {"mixed signs", Tensor{{1.0f, -2.0f, 0.5f}, {3.0f, 0.0f, -1.0f}},
       Tensor{{0.8f, -1.5f, 1.0f}, {2.0f, 0.3f, -1.2f}}},
      {"positive", Tensor{{0.1f, 2.0f}, {4.0f, 7.5f}, {1e-3f, 0.2f}},
       Tensor{{0.3f, 1.0f}, {4.5f, 7.0f}, {0.5f, 0.0f}}},
  };
}

// Keras's per-sample formula over the last axis, then sum_over_batch_size (the mean).
double reduce_rows(const Tensor& t, const Tensor& p,
                   const std::function<double(const std::vector<double>&,
                                              const std::vector<double>&)>& per_sample) {
  const std::size_t rows = t.shape()[0], cols = t.size() / rows;
  double total = 0.0;
  for (std::size_t r = 0; r < rows; ++r) {
    std::vector<double> a(cols), b(cols);
    for (std::size_t j = 0; j < cols; ++j) {
      a[j] = t.data()[r * cols + j];
      b[j] = p.data()[r * cols + j];
    }
    total += per_sample(a, b);
  }
  return total / static_cast<double>(rows);
}

constexpr double kEps = 1e-7;

double mape(const std::vector<double>& t, const std::vector<double>& p) {
  double s = 0.0;
  for (std::size_t j = 0; j < t.size(); ++j)
    s += std::abs((t[j] - p[j]) / std::max(std::abs(t[j]), kEps));
  return 100.0 * s / static_cast<double>(t.size());
}
double msle(const std::vector<double>& t, const std::vector<double>& p) {
  double s = 0.0;
  for (std::size_t j = 0; j < t.size(); ++j) {
    const double d = std::log(std::max(p[j], kEps) + 1.0) - std::log(std::max(t[j], kEps) + 1.0);
    s += d * d;
  }
  return s / static_cast<double>(t.size());
}
// Keras's convert_binary_labels_to_hinge over the whole batch.
std::vector<double> hinge_labels(const std::vector<double>& t, bool binary) {
  std::vector<double> out(t);
  if (binary)
    for (double& v : out) v = 2.0 * v - 1.0;
  return out;
}
bool all_binary(const Tensor& t) {
  for (std::size_t i = 0; i < t.size(); ++i)
    if (t.data()[i] != 0.0f && t.data()[i] != 1.0f) return false;
  return true;
}
double categorical_hinge(const std::vector<double>& t, const std::vector<double>& p) {
  double pos = 0.0, neg = -INFINITY;
  for (std::size_t j = 0; j < t.size(); ++j) {
    pos += t[j] * p[j];
    neg = std::max(neg, (1.0 - t[j]) * p[j]);
  }
  return std::max(neg - pos + 1.0, 0.0);
}

}  // namespace

TEST(CatalogueLosses, RegressionLossesEqualKerasFormulas) {
  for (const auto& c : regression_cases()) {
    SCOPED_TRACE(c.label);
    const double want_mape = reduce_rows(c.y_true, c.y_pred, mape);
    const double want_msle = reduce_rows(c.y_true, c.y_pred, msle);
    EXPECT_NEAR(px::losses::MeanAbsolutePercentageError()(c.y_true, c.y_pred), want_mape,
                1e-5 * std::max(1.0, want_mape));
    EXPECT_NEAR(px::losses::MeanSquaredLogarithmicError()(c.y_true, c.y_pred), want_msle, 1e-6);
    // The registry's names ("mape", "msle") give the same losses.
    EXPECT_NEAR(
        (*px::losses::Loss::registry().create(std::string_view("mape")))(c.y_true, c.y_pred),
        want_mape, 1e-5 * std::max(1.0, want_mape));
    EXPECT_NEAR(
        (*px::losses::Loss::registry().create(std::string_view("msle")))(c.y_true, c.y_pred),
        want_msle, 1e-6);
  }
  // Keras's docstring-style check: a zero target divides by epsilon, not by zero.
  const double v =
      px::losses::MeanAbsolutePercentageError()(Tensor{{0.0f, 1.0f}}, Tensor{{1e-7f, 2.0f}});
  EXPECT_TRUE(std::isfinite(v));
}

TEST(CatalogueLosses, HingeFamilyEqualsKerasFormulas) {
  const std::vector<LossCase> cases{
      {"0/1 labels (mapped to -1/1)", Tensor{{0.0f, 1.0f, 1.0f}, {1.0f, 0.0f, 0.0f}},
       Tensor{{0.6f, -0.4f, 1.7f}, {0.2f, 0.9f, -1.3f}}},
      {"-1/1 labels", Tensor{{-1.0f, 1.0f, 1.0f}, {1.0f, -1.0f, -1.0f}},
       Tensor{{0.6f, -0.4f, 1.7f}, {0.2f, 0.9f, -1.3f}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    const bool binary = all_binary(c.y_true);
    const double want = reduce_rows(c.y_true, c.y_pred, [&](const auto& t, const auto& p) {
      const auto y = hinge_labels(t, binary);
      double s = 0.0;
      for (std::size_t j = 0; j < y.size(); ++j) {
        const double h = std::max(1.0 - y[j] * p[j], 0.0);
        s += h * h;
      }
      return s / static_cast<double>(y.size());
    });
    EXPECT_NEAR(px::losses::SquaredHinge()(c.y_true, c.y_pred), want, 1e-6);
  }
  // Categorical hinge on one-hot targets.
  const Tensor t{{0.0f, 1.0f, 0.0f}, {1.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 1.0f}};
  const Tensor p{{0.3f, 0.5f, 0.2f}, {0.1f, 2.0f, 0.4f}, {0.2f, 0.2f, 3.0f}};
  EXPECT_NEAR(px::losses::CategoricalHinge()(t, p), reduce_rows(t, p, categorical_hinge), 1e-6);
}

TEST(CatalogueLosses, ConfigsAndTrainingGradients) {
  for (const char* cls : {"SquaredHinge", "CategoricalHinge", "MeanAbsolutePercentageError",
                          "MeanSquaredLogarithmicError"}) {
    SCOPED_TRACE(cls);
    auto loss = px::losses::Loss::registry().create(std::string_view(cls));
    EXPECT_EQ(loss->class_name(), cls);
    const px::Config c = loss->get_config();
    EXPECT_EQ(c.at("reduction"), "sum_over_batch_size");
    EXPECT_EQ(px::losses::Loss::registry()
                  .create(px::Config{{"class_name", cls}, {"config", c}})
                  ->class_name(),
              cls);
    // Autodiff through the loss against finite differences.
    px::utils::set_random_seed(4);
    auto in = px::Input({3});
    px::Model m(in, px::layers::Dense(3, {.activation = "softplus"})(in));
    m.compile("sgd", cls);
    const Tensor x = wave(5, 3, 1.0f, 0.2f);
    // Targets away from MSLE's and MAPE's kinks (0); one-hot-like for the hinge losses.
    const Tensor y = std::string(cls) == "CategoricalHinge" ? Tensor{{1.0f, 0.0f, 0.0f},
                                                                     {0.0f, 1.0f, 0.0f},
                                                                     {0.0f, 0.0f, 1.0f},
                                                                     {1.0f, 0.0f, 0.0f},
                                                                     {0.0f, 1.0f, 0.0f}}
                                                            : wave(5, 3, 0.7f, 0.9f, 1.3f);
    EXPECT_LT(px::testing::check_gradients(m, {x}, {y}), 2e-2);
  }
}

// --- CosineDecayRestarts -----------------------------------------------------------------------

namespace {
// Keras's CosineDecayRestarts.__call__ in double precision.
double sgdr(double initial, double first, double t_mul, double m_mul, double alpha, double step) {
  double fraction = step / first, i = 0.0;
  if (t_mul == 1.0) {
    i = std::floor(fraction);
    fraction -= i;
  } else {
    i = std::floor(std::log(1.0 - fraction * (1.0 - t_mul)) / std::log(t_mul));
    const double sum_r = (1.0 - std::pow(t_mul, i)) / (1.0 - t_mul);
    fraction = (fraction - sum_r) / std::pow(t_mul, i);
  }
  const double cosine = 0.5 * std::pow(m_mul, i) * (1.0 + std::cos(std::numbers::pi * fraction));
  return initial * ((1.0 - alpha) * cosine + alpha);
}
}  // namespace

TEST(CatalogueSchedules, CosineDecayRestartsFollowsKeras) {
  const px::optim::CosineDecayRestarts s(0.1, 10);  // t_mul 2, m_mul 1, alpha 0
  // The first period decays 0.1 -> 0 over 10 steps; the second restarts at 0.1 and lasts 20.
  EXPECT_DOUBLE_EQ(s(0), 0.1);
  EXPECT_NEAR(s(5), 0.05, 1e-12);
  EXPECT_NEAR(s(10), 0.1, 1e-12);
  EXPECT_NEAR(s(20), 0.05, 1e-12);
  EXPECT_NEAR(s(30), 0.1, 1e-12);
  for (const auto& [t_mul, m_mul, alpha] : std::vector<std::tuple<double, double, double>>{
           {2.0, 1.0, 0.0}, {1.0, 0.5, 0.1}, {1.5, 0.8, 0.05}}) {
    const px::optim::CosineDecayRestarts r(px::kw::initial_learning_rate = 0.3,
                                           px::kw::first_decay_steps = 7.0, px::kw::t_mul = t_mul,
                                           px::kw::m_mul = m_mul, px::kw::alpha = alpha);
    for (int step : {0, 1, 3, 6, 7, 8, 13, 21, 22, 40, 100}) {
      EXPECT_NEAR(r(step), sgdr(0.3, 7.0, t_mul, m_mul, alpha, step), 1e-12)
          << "t_mul " << t_mul << " step " << step;
    }
    // Config round trip through the registry (Keras's keys and default name).
    const px::Config c = r.get_config();
    EXPECT_EQ(c.at("name"), "SGDRDecay");
    auto back = px::optim::LearningRateSchedule::registry().create(
        px::Config{{"class_name", "CosineDecayRestarts"}, {"config", c}});
    for (int step : {0, 9, 33}) EXPECT_DOUBLE_EQ((*back)(step), r(step));
  }
  EXPECT_THROW(px::optim::CosineDecayRestarts(0.1, 0.0), px::Error);
  // As an optimizer's learning rate, saved in the optimizer's config.
  px::optim::SGD sgd({.learning_rate = px::optim::CosineDecayRestarts(0.1, 10)});
  EXPECT_EQ(sgd.get_config().at("learning_rate").at("class_name"), "CosineDecayRestarts");
}

// --- metrics over losses -----------------------------------------------------------------------

TEST(CatalogueMetrics, LossMetricsAverageKerasFormulasOverBatches) {
  // Two batches; the metric's result is the mean over all samples of the per-sample values.
  const Tensor t1{{1.0f, -2.0f, 0.5f}, {3.0f, 0.0f, -1.0f}},
      p1{{0.8f, -1.5f, 1.0f}, {2.0f, 0.3f, -1.2f}};
  const Tensor t2{{0.5f, 2.0f, 1.0f}}, p2{{0.1f, 2.5f, 0.7f}};
  const auto per_sample_mean = [](const Tensor& t, const Tensor& p, auto f) {
    return reduce_rows(t, p, f) * static_cast<double>(t.shape()[0]);
  };
  // RootMeanSquaredError: sqrt(mean over samples of mean over the last axis of (p - t)^2).
  const auto mse = [](const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0.0;
    for (std::size_t j = 0; j < a.size(); ++j) s += (a[j] - b[j]) * (a[j] - b[j]);
    return s / static_cast<double>(a.size());
  };
  auto rmse = px::metrics::Metric::registry().create(std::string_view("RootMeanSquaredError"));
  rmse->update_state(t1, p1);
  rmse->update_state(t2, p2);
  EXPECT_NEAR(rmse->result(),
              std::sqrt((per_sample_mean(t1, p1, mse) + per_sample_mean(t2, p2, mse)) / 3.0), 1e-6);
  EXPECT_EQ(rmse->name(), "root_mean_squared_error");
  // MAPE as a metric.
  auto m = px::metrics::Metric::registry().create(std::string_view("MeanAbsolutePercentageError"));
  m->update_state(t1, p1);
  m->update_state(t2, p2);
  // (a zero target divides by epsilon: values near 1e8, compared relatively)
  const double want_mape = (per_sample_mean(t1, p1, mape) + per_sample_mean(t2, p2, mape)) / 3.0;
  EXPECT_NEAR(m->result(), want_mape, 1e-5 * want_mape);
  // Each loss-based metric equals its loss on one batch, with Keras's name and config.
  const Tensor probs{{0.2f, 0.7f, 0.1f}, {0.5f, 0.25f, 0.25f}};
  const Tensor onehot{{0.0f, 1.0f, 0.0f}, {1.0f, 0.0f, 0.0f}};
  const std::vector<std::tuple<const char*, const char*, const char*>> pairs{
      {"Hinge", "Hinge", "hinge"},
      {"SquaredHinge", "SquaredHinge", "squared_hinge"},
      {"CategoricalHinge", "CategoricalHinge", "categorical_hinge"},
      {"KLDivergence", "KLDivergence", "kl_divergence"},
      {"Poisson", "Poisson", "poisson"},
      {"LogCoshError", "LogCosh", "logcosh"},
      {"MeanSquaredLogarithmicError", "MeanSquaredLogarithmicError",
       "mean_squared_logarithmic_error"},
      {"BinaryCrossentropy", "BinaryCrossentropy", "binary_crossentropy"},
      {"CategoricalCrossentropy", "CategoricalCrossentropy", "categorical_crossentropy"},
  };
  for (const auto& [metric_class, loss_class, name] : pairs) {
    SCOPED_TRACE(metric_class);
    auto metric = px::metrics::Metric::registry().create(std::string_view(metric_class));
    metric->update_state(onehot, probs);
    const double want =
        (*px::losses::Loss::registry().create(std::string_view(loss_class)))(onehot, probs);
    EXPECT_NEAR(metric->result(), want, 1e-6);
    EXPECT_EQ(metric->name(), name);
    EXPECT_EQ(metric->class_name(), metric_class);
    const px::Config c = metric->get_config();
    EXPECT_EQ(c.at("name"), name);
    EXPECT_EQ(c.at("dtype"), "float32");
    auto back = px::metrics::Metric::registry().create(
        px::Config{{"class_name", metric_class}, {"config", c}});
    back->update_state(onehot, probs);
    EXPECT_DOUBLE_EQ(back->result(), metric->result());
    auto fresh = metric->clone();
    EXPECT_EQ(fresh->result(), 0.0);
  }
  // Options reach the loss: from_logits changes the value.
  auto logits = px::metrics::Metric::registry().create(
      px::Config{{"class_name", "CategoricalCrossentropy"},
                 {"config", {{"from_logits", true}, {"name", "cce"}}}});
  logits->update_state(onehot, probs);
  EXPECT_NEAR(logits->result(),
              px::losses::CategoricalCrossentropy({.from_logits = true})(onehot, probs), 1e-6);
  EXPECT_EQ(logits->get_config().at("from_logits"), true);
  px::Config axis1 = px::Config::object();
  axis1["axis"] = 1;  // (a one-element braced list reads differently under clang)
  EXPECT_THROW(px::metrics::Metric::registry().create(
                   px::Config{{"class_name", "SparseCategoricalCrossentropy"}, {"config", axis1}}),
               px::Error);
}

TEST(CatalogueMetrics, ConfusionCountsAccuracyAndR2FollowKeras) {
  const Tensor t{{1.0f, 0.0f, 1.0f}, {0.0f, 0.0f, 1.0f}};
  const Tensor p{{0.9f, 0.6f, 0.3f}, {0.1f, 0.5f, 0.7f}};
  // Threshold 0.5 (strictly above is positive): TP 2 (0.9, 0.7), FP 1 (0.6), FN 1 (0.3),
  // TN 2 (0.1, 0.5).
  const std::vector<std::pair<const char*, double>> counts{{"TruePositives", 2.0},
                                                           {"FalsePositives", 1.0},
                                                           {"FalseNegatives", 1.0},
                                                           {"TrueNegatives", 2.0}};
  for (const auto& [cls, want] : counts) {
    SCOPED_TRACE(cls);
    auto m = px::metrics::Metric::registry().create(std::string_view(cls));
    m->update_state(t, p);
    EXPECT_EQ(m->result(), want);
    // Per-row sample weights (3, 0.5) weight each element of the row.
    auto w = m->clone();
    w->update_state(t, p, Tensor{3.0f, 0.5f});
    double weighted = 0.0;
    for (std::size_t r = 0; r < 2; ++r) {
      for (std::size_t j = 0; j < 3; ++j) {
        const bool label = t(r, j) != 0.0f, predicted = p(r, j) > 0.5f;
        const bool hit = std::string(cls) == "TruePositives"    ? label && predicted
                         : std::string(cls) == "FalsePositives" ? !label && predicted
                         : std::string(cls) == "FalseNegatives" ? label && !predicted
                                                                : !label && !predicted;
        if (hit) weighted += r == 0 ? 3.0 : 0.5;
      }
    }
    EXPECT_DOUBLE_EQ(w->result(), weighted);
    px::Config c = m->get_config();
    c["thresholds"] = 0.65;
    auto other =
        px::metrics::Metric::registry().create(px::Config{{"class_name", cls}, {"config", c}});
    other->update_state(t, p);
    EXPECT_EQ(other->get_config().at("thresholds"), 0.65);
  }
  // Accuracy: exact equality, averaged per row then over rows.
  auto acc = px::metrics::Metric::registry().create(std::string_view("Accuracy"));
  acc->update_state(Tensor{{1.0f, 2.0f}, {3.0f, 4.0f}}, Tensor{{1.0f, 0.0f}, {3.0f, 4.0f}});
  EXPECT_DOUBLE_EQ(acc->result(), (0.5 + 1.0) / 2.0);
  // R2Score on two outputs: 1 - SS_res / SS_tot per column, then the uniform average.
  const Tensor y{{3.0f, -0.5f}, {-0.5f, 2.0f}, {2.0f, 7.0f}, {7.0f, 1.0f}};
  const Tensor q{{2.5f, 0.0f}, {0.0f, 2.0f}, {2.0f, 8.0f}, {8.0f, 0.5f}};
  auto r2 = px::metrics::Metric::registry().create(std::string_view("R2Score"));
  r2->update_state(y, q);
  double want = 0.0;
  for (std::size_t j = 0; j < 2; ++j) {
    double mean = 0.0, res = 0.0, tot = 0.0;
    for (std::size_t i = 0; i < 4; ++i) mean += y(i, j) / 4.0;
    for (std::size_t i = 0; i < 4; ++i) {
      res += (y(i, j) - q(i, j)) * (y(i, j) - q(i, j));
      tot += (y(i, j) - mean) * (y(i, j) - mean);
    }
    want += (1.0 - res / tot) / 2.0;
  }
  EXPECT_NEAR(r2->result(), want, 1e-9);
  // Adjusted for one regressor: 1 - (1 - r2) (n - 1) / (n - p - 1).
  px::Config rc = r2->get_config();
  rc["num_regressors"] = 1;
  auto adjusted =
      px::metrics::Metric::registry().create(px::Config{{"class_name", "R2Score"}, {"config", rc}});
  adjusted->update_state(y, q);
  EXPECT_NEAR(adjusted->result(), 1.0 - (1.0 - want) * 3.0 / 2.0, 1e-9);
  rc["class_aggregation"] = nullptr;
  EXPECT_THROW(
      px::metrics::Metric::registry().create(px::Config{{"class_name", "R2Score"}, {"config", rc}}),
      px::Error);
}

TEST(CatalogueMetrics, SparseTopKCategoricalAccuracy) {
  const Tensor p{{0.1f, 0.5f, 0.3f, 0.1f}, {0.7f, 0.1f, 0.15f, 0.05f}, {0.2f, 0.2f, 0.2f, 0.4f}};
  const Tensor ids{2.0f, 3.0f, 0.0f};
  // k = 2: row 0's label 2 is second (hit); row 1's label 3 is last (miss); row 2's label 0
  // ties with two others below 0.4 (one entry strictly larger: hit).
  px::Config c = px::Config::object();
  c["k"] = 2;
  auto m = px::metrics::Metric::registry().create(
      px::Config{{"class_name", "SparseTopKCategoricalAccuracy"}, {"config", c}});
  m->update_state(ids, p);
  EXPECT_NEAR(m->result(), 2.0 / 3.0, 1e-7);
  EXPECT_EQ(m->get_config().at("k"), 2);
  // The default k = 5 covers every class of 4.
  auto all =
      px::metrics::Metric::registry().create(std::string_view("SparseTopKCategoricalAccuracy"));
  all->update_state(ids, p);
  EXPECT_EQ(all->result(), 1.0);
  // from_sorted_ids: y_pred holds ids, best first.
  c["from_sorted_ids"] = true;
  auto sorted = px::metrics::Metric::registry().create(
      px::Config{{"class_name", "SparseTopKCategoricalAccuracy"}, {"config", c}});
  sorted->update_state(ids, Tensor{{1.0f, 2.0f, 0.0f}, {0.0f, 2.0f, 3.0f}, {3.0f, 0.0f, 1.0f}});
  EXPECT_NEAR(sorted->result(), 2.0 / 3.0, 1e-7);
}
