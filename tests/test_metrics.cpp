// Metrics: the "accuracy" resolution rule, Keras's documented values (docstrings and
// keras/src/metrics/*_test.py), weighted averaging over several updates, and lookup.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <xtensor/xadapt.hpp>
#include <xtensor/xview.hpp>

#include "core/error.hpp"
#include "core/json.hpp"
#include "optim/metrics.hpp"
#include "optim/model_options.hpp"

namespace px = plexus;
using px::Tensor;
namespace M = px::metrics;

namespace {

// A (n, 1) column ({{a}, {b}} is ambiguous for xarray's constructors).
Tensor column(std::initializer_list<float> values) {
  return xt::adapt(std::vector<float>(values), {values.size(), std::size_t{1}});
}

Tensor reshaped(std::vector<float> values, std::vector<std::size_t> shape) {
  return xt::adapt(values, shape);
}

}  // namespace

// --- accuracy resolution --------------------------------------------------------------------

TEST(Metrics, AccuracyResolutionRule) {
  using K = M::AccuracyKind;
  EXPECT_EQ(M::accuracy_kind({-1, 1}, {-1, 1}), K::kBinary);
  EXPECT_EQ(M::accuracy_kind({-1}, {-1, 1}), K::kBinary);  // last dim 1 wins
  EXPECT_EQ(M::accuracy_kind({-1}, {-1, 10}), K::kSparse);
  EXPECT_EQ(M::accuracy_kind({-1, 1}, {-1, 10}), K::kSparse);
  EXPECT_EQ(M::accuracy_kind({-1, 10}, {-1, 10}), K::kCategorical);
  EXPECT_EQ(M::accuracy_kind({-1, 5, 1}, {-1, 5, 3}), K::kSparse);

  auto bin = M::get("accuracy", {-1, 1}, {-1, 1});
  EXPECT_NE(dynamic_cast<M::BinaryAccuracy*>(bin.get()), nullptr);
  EXPECT_EQ(bin->name(), "accuracy");
  auto sparse = M::get("acc", {-1}, {-1, 10});
  EXPECT_NE(dynamic_cast<M::SparseCategoricalAccuracy*>(sparse.get()), nullptr);
  EXPECT_EQ(sparse->name(), "acc");  // the user's name stays
  auto cat = M::get("accuracy", {-1, 10}, {-1, 10});
  EXPECT_NE(dynamic_cast<M::CategoricalAccuracy*>(cat.get()), nullptr);
}

// --- accuracy values (Keras docstrings) ----------------------------------------------------

TEST(Metrics, BinaryAccuracyDocstring) {
  M::BinaryAccuracy m;
  EXPECT_EQ(m.name(), "binary_accuracy");
  const Tensor y_true = column({1, 1, 0, 0});
  const Tensor y_pred = column({0.98f, 1.0f, 0.0f, 0.6f});
  m.update_state(y_true, y_pred);
  EXPECT_NEAR(m.result(), 0.75, 1e-6);
  m.reset_state();
  m.update_state(y_true, y_pred, Tensor{1, 0, 0, 1});
  EXPECT_NEAR(m.result(), 0.5, 1e-6);
  // A (N,) target against a (N, 1) prediction (Keras expands the target).
  m.reset_state();
  m.update_state(Tensor{1, 1, 0, 0}, y_pred);
  EXPECT_NEAR(m.result(), 0.75, 1e-6);
  EXPECT_THROW(M::BinaryAccuracy({.name = "b", .threshold = 1.5}), px::Error);
}

TEST(Metrics, CategoricalAccuracyDocstring) {
  M::CategoricalAccuracy m;
  const Tensor y_true = {{0, 0, 1}, {0, 1, 0}};
  const Tensor y_pred = {{0.1f, 0.9f, 0.8f}, {0.05f, 0.95f, 0.0f}};
  m.update_state(y_true, y_pred);
  EXPECT_NEAR(m.result(), 0.5, 1e-6);
  m.reset_state();
  m.update_state(y_true, y_pred, Tensor{0.7f, 0.3f});
  EXPECT_NEAR(m.result(), 0.3, 1e-6);
}

TEST(Metrics, SparseCategoricalAccuracyDocstring) {
  M::SparseCategoricalAccuracy m;
  const Tensor y_pred = {{0.1f, 0.6f, 0.3f}, {0.05f, 0.95f, 0.0f}};
  m.update_state(column({2, 1}), y_pred);
  EXPECT_NEAR(m.result(), 0.5, 1e-6);
  m.reset_state();
  m.update_state(column({2, 1}), y_pred, Tensor{0.7f, 0.3f});
  EXPECT_NEAR(m.result(), 0.3, 1e-6);
  m.reset_state();
  m.update_state(Tensor{2, 1}, y_pred);  // (N,) labels
  EXPECT_NEAR(m.result(), 0.5, 1e-6);
}

TEST(Metrics, TopKCategoricalAccuracyDocstring) {
  M::TopKCategoricalAccuracy m({.k = 1});
  const Tensor y_true = {{0, 0, 1}, {0, 1, 0}};
  const Tensor y_pred = {{0.1f, 0.9f, 0.8f}, {0.05f, 0.95f, 0.0f}};
  m.update_state(y_true, y_pred);
  EXPECT_NEAR(m.result(), 0.5, 1e-6);
  m.reset_state();
  m.update_state(y_true, y_pred, Tensor{0.7f, 0.3f});
  EXPECT_NEAR(m.result(), 0.3, 1e-6);
  M::TopKCategoricalAccuracy k2({.k = 2});
  k2.update_state(y_true, y_pred);
  EXPECT_NEAR(k2.result(), 1.0, 1e-6);
  M::TopKCategoricalAccuracy k5;  // default k = 5 >= 3 classes
  EXPECT_EQ(k5.name(), "top_k_categorical_accuracy");
  k5.update_state(y_true, y_pred);
  EXPECT_NEAR(k5.result(), 1.0, 1e-6);
}

// Accuracy is total matches / count over the epoch, not a mean of batch means.
TEST(Metrics, WeightedAveragingOverUpdates) {
  M::BinaryAccuracy m;
  m.update_state(column({1, 1, 0, 0}), column({0.9f, 0.8f, 0.1f, 0.7f}));  // 3 of 4
  m.update_state(column({1, 0}), column({0.1f, 0.9f}));                    // 0 of 2
  EXPECT_NEAR(m.result(), 3.0 / 6.0, 1e-6);
  m.reset_state();
  m.update_state(column({1, 1, 0, 0}), column({0.9f, 0.8f, 0.1f, 0.7f}), Tensor{1, 1, 1, 1});
  m.update_state(column({1, 0}), column({0.1f, 0.9f}), Tensor{2, 2});
  EXPECT_NEAR(m.result(), 3.0 / 8.0, 1e-6);
  m.reset_state();
  EXPECT_EQ(m.result(), 0.0);

  M::SparseCategoricalAccuracy s;
  s.update_state(Tensor{0, 1, 2},
                 Tensor{{0.9f, 0.1f, 0.0f}, {0.2f, 0.7f, 0.1f}, {0.5f, 0.4f, 0.1f}});
  s.update_state(Tensor{1}, Tensor{{0.3f, 0.6f, 0.1f}});
  EXPECT_NEAR(s.result(), 3.0 / 4.0, 1e-6);
}

// --- Mean -----------------------------------------------------------------------------------

TEST(Metrics, MeanDocstringAndLossTracking) {
  M::Mean m;
  m.update_values(Tensor{1, 3, 5, 7});
  EXPECT_NEAR(m.result(), 4.0, 1e-6);
  m.reset_state();
  const Tensor w = {1, 1, 0, 0};
  m.update_values(Tensor{1, 3, 5, 7}, &w);
  EXPECT_NEAR(m.result(), 2.0, 1e-6);
  // Loss tracking as fit() does it: batch mean weighted by batch size.
  M::Mean loss("loss");
  loss.update_state(0.5, 32);
  loss.update_state(1.0, 16);
  EXPECT_NEAR(loss.result(), (0.5 * 32 + 1.0 * 16) / 48.0, 1e-9);
  EXPECT_EQ(loss.name(), "loss");
  EXPECT_THROW(loss.update_state(Tensor{1}, Tensor{1}), px::Error);
}

TEST(Metrics, MeanReducesTrailingAxesPerSample) {
  M::Mean m;
  // values (2, 2): per-sample means 1.5 and 3.5, weights 1 and 3 -> (1.5 + 10.5) / 4.
  const Tensor w = {1, 3};
  m.update_values(Tensor{{1, 2}, {3, 4}}, &w);
  EXPECT_NEAR(m.result(), 3.0, 1e-6);
  m.reset_state();
  m.update_values(Tensor{{1, 2}, {3, 4}});  // count grows by 2 samples
  EXPECT_NEAR(m.result(), 2.5, 1e-6);
  EXPECT_NEAR(m.count(), 2.0, 1e-9);
}

// --- regression metrics ---------------------------------------------------------------------

TEST(Metrics, RegressionDocstrings) {
  const Tensor y_true = {{0, 1}, {0, 0}};
  const Tensor y_pred = {{1, 1}, {0, 0}};
  M::MeanSquaredError mse;
  mse.update_state(y_true, y_pred);
  EXPECT_NEAR(mse.result(), 0.25, 1e-6);
  mse.reset_state();
  mse.update_state(y_true, y_pred, Tensor{1, 0});
  EXPECT_NEAR(mse.result(), 0.5, 1e-6);
  M::MeanAbsoluteError mae;
  mae.update_state(y_true, y_pred);
  EXPECT_NEAR(mae.result(), 0.25, 1e-6);
  mae.reset_state();
  mae.update_state(y_true, y_pred, Tensor{1, 0});
  EXPECT_NEAR(mae.result(), 0.5, 1e-6);
  auto by_name = M::get("mse", {-1, 2}, {-1, 2});
  EXPECT_EQ(by_name->name(), "mse");
  by_name->update_state(y_true, y_pred);
  EXPECT_NEAR(by_name->result(), 0.25, 1e-6);
}

TEST(Metrics, LossAsMetric) {
  auto m = M::get("binary_crossentropy", {-1, 2}, {-1, 2});
  EXPECT_EQ(m->name(), "binary_crossentropy");
  const Tensor y_true = {{0, 1}, {0, 0}};
  const Tensor y_pred = {{0.6f, 0.4f}, {0.4f, 0.6f}};
  m->update_state(y_true, y_pred);
  m->update_state(y_true, y_pred);  // re-uses the cached executor
  EXPECT_NEAR(m->result(), (0.916 + 0.714) / 2.0, 1e-3);
}

// --- precision / recall -----------------------------------------------------------------------

TEST(Metrics, PrecisionDocstring) {
  M::Precision m;
  EXPECT_EQ(m.name(), "precision");
  m.update_state(Tensor{0, 1, 1, 1}, Tensor{1, 0, 1, 1});
  EXPECT_NEAR(m.result(), 2.0 / 3.0, 1e-6);
  m.reset_state();
  m.update_state(Tensor{0, 1, 1, 1}, Tensor{1, 0, 1, 1}, Tensor{0, 0, 1, 0});
  EXPECT_NEAR(m.result(), 1.0, 1e-6);
  M::Precision top2({.top_k = 2});
  top2.update_state(Tensor{0, 0, 1, 1}, Tensor{1, 1, 1, 1});
  EXPECT_NEAR(top2.result(), 0.0, 1e-6);
  M::Precision top4({.top_k = 4});
  top4.update_state(Tensor{0, 0, 1, 1}, Tensor{1, 1, 1, 1});
  EXPECT_NEAR(top4.result(), 0.5, 1e-6);
}

TEST(Metrics, RecallDocstring) {
  M::Recall m;
  EXPECT_EQ(m.name(), "recall");
  m.update_state(Tensor{0, 1, 1, 1}, Tensor{1, 0, 1, 1});
  EXPECT_NEAR(m.result(), 2.0 / 3.0, 1e-6);
  m.reset_state();
  m.update_state(Tensor{0, 1, 1, 1}, Tensor{1, 0, 1, 1}, Tensor{0, 0, 1, 0});
  EXPECT_NEAR(m.result(), 1.0, 1e-6);
  M::Recall named({.thresholds = 0.3});
  EXPECT_EQ(named.name(), "recall");
}

TEST(Metrics, PrecisionRecallByHand) {
  // 6 predictions of a (N, 1) sigmoid output over two batches; threshold 0.5.
  // labels  1    1    0    0    1    0
  // preds  .9   .4   .7   .2   .6   .55
  // tp = 2 (.9, .6), fp = 2 (.7, .55), fn = 1 (.4)
  M::Precision p;
  M::Recall r;
  for (M::Metric* m : std::initializer_list<M::Metric*>{&p, &r}) {
    m->update_state(Tensor{1, 1, 0}, column({0.9f, 0.4f, 0.7f}));
    m->update_state(Tensor{0, 1, 0}, column({0.2f, 0.6f, 0.55f}));
  }
  EXPECT_NEAR(p.result(), 2.0 / 4.0, 1e-6);
  EXPECT_NEAR(r.result(), 2.0 / 3.0, 1e-6);
  // class_id picks one column of a multi-label output.
  const Tensor y_true = {{0, 1}, {1, 0}, {0, 1}};
  const Tensor y_pred = {{0.2f, 0.7f}, {0.6f, 0.3f}, {0.4f, 0.4f}};
  M::Precision pc({.class_id = 1});
  M::Recall rc({.class_id = 1});
  pc.update_state(y_true, y_pred);
  rc.update_state(y_true, y_pred);
  EXPECT_NEAR(pc.result(), 1.0, 1e-6);
  EXPECT_NEAR(rc.result(), 0.5, 1e-6);
  // No positive predictions: 0, not NaN (divide_no_nan).
  M::Precision none;
  none.update_state(Tensor{1, 0}, Tensor{0.1f, 0.2f});
  EXPECT_EQ(none.result(), 0.0);
}

// --- AUC --------------------------------------------------------------------------------------

TEST(Metrics, AUCDocstringAndKerasTests) {
  const Tensor y_true = {0, 0, 1, 1};
  const Tensor y_pred = {0.0f, 0.5f, 0.3f, 0.9f};
  const Tensor sw = {1, 2, 3, 4};
  M::AUC m({.num_thresholds = 3});
  EXPECT_EQ(m.name(), "auc");
  m.update_state(y_true, y_pred);
  EXPECT_NEAR(m.result(), 0.75, 1e-6);
  m.reset_state();
  m.update_state(y_true, y_pred, Tensor{1, 0, 0, 1});
  EXPECT_NEAR(m.result(), 1.0, 1e-6);

  // keras/src/metrics/confusion_metrics_test.py, AUCTest with sample_weight [1, 2, 3, 4]:
  // tp = [7, 4, 0], fp = [3, 0, 0], fn = [0, 3, 7], tn = [0, 3, 3].
  const auto weighted = [&](M::AUCOptions o) {
    o.num_thresholds = 3;
    M::AUC a(o);
    a.update_state(y_true, y_pred, sw);
    return a.result();
  };
  EXPECT_NEAR(weighted({}), 0.7855, 1e-3);
  EXPECT_NEAR(weighted({.summation_method = "majoring"}), 1.0, 1e-3);
  EXPECT_NEAR(weighted({.summation_method = "minoring"}), 0.571, 1e-3);
  EXPECT_NEAR(weighted({.curve = "PR", .summation_method = "majoring"}), 1.0, 1e-3);
  EXPECT_NEAR(weighted({.curve = "PR", .summation_method = "minoring"}), 0.7 * 0.429, 1e-3);
  EXPECT_NEAR(weighted({.curve = "PR"}), 2.416 / 7 + 4.0 / 7, 1e-3);

  // from_logits: the same data as logits.
  M::AUC logits({.num_thresholds = 3, .from_logits = true});
  Tensor y_logits = y_pred;
  for (auto& v : y_logits) v = -std::log(1.0f / (v + 1e-12f) - 1.0f);
  logits.update_state(y_true, y_logits);
  EXPECT_NEAR(logits.result(), 0.75, 1e-3);

  // The default 200 thresholds: perfect and reversed rankings.
  M::AUC perfect;
  perfect.update_state(y_true, Tensor{0.1f, 0.2f, 0.8f, 0.9f});
  EXPECT_NEAR(perfect.result(), 1.0, 1e-6);
  M::AUC reversed;
  reversed.update_state(y_true, Tensor{0.9f, 0.8f, 0.2f, 0.1f});
  EXPECT_NEAR(reversed.result(), 0.0, 1e-6);
  EXPECT_THROW(M::AUC({.num_thresholds = 1}), px::Error);
  EXPECT_THROW(M::AUC({.curve = "Invalid"}), px::Error);
}

TEST(Metrics, AUCFlatMultiLabelWeights) {
  // MultiAUCTest (multi_label=False): y_pred (4, 2), 5 thresholds.
  const Tensor y_pred = reshaped({0.0f, 0.1f, 0.5f, 0.2f, 0.3f, 0.3f, 0.9f, 0.4f}, {4, 2});
  const Tensor y_true = reshaped({0, 0, 0, 0, 1, 1, 1, 1}, {4, 2});
  M::AUC per_row({.num_thresholds = 5});
  per_row.update_state(y_true, y_pred, Tensor{1, 2, 3, 4});
  EXPECT_NEAR(per_row.result(), 1.0 - (0.3333 * (1.0 - 0.2857) / 2.0), 1e-3);
  M::AUC per_element({.num_thresholds = 5});
  per_element.update_state(y_true, y_pred, reshaped({0, 1, 2, 3, 4, 5, 6, 7}, {4, 2}));
  EXPECT_NEAR(per_element.result(), 1.0 - (0.3333 * (1.0 - 0.2727) / 2.0), 1e-3);
}

TEST(Metrics, AUCApproximatesExactROC) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const std::size_t n = 400;
  Tensor y_true = xt::zeros<float>({n});
  Tensor y_pred = xt::zeros<float>({n});
  for (std::size_t i = 0; i < n; ++i) {
    y_true(i) = u(rng) < 0.4f ? 1.0f : 0.0f;
    y_pred(i) = std::clamp(0.5f * u(rng) + 0.4f * y_true(i), 0.0f, 1.0f);
  }
  // Exact AUC: P(score of a positive > score of a negative) (+ half the ties).
  double wins = 0.0, pairs = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      if (y_true(i) == 1.0f && y_true(j) == 0.0f) {
        pairs += 1.0;
        wins += y_pred(i) > y_pred(j) ? 1.0 : (y_pred(i) == y_pred(j) ? 0.5 : 0.0);
      }
    }
  }
  M::AUC m;
  m.update_state(Tensor(xt::view(y_true, xt::range(0, 200))),
                 Tensor(xt::view(y_pred, xt::range(0, 200))));
  m.update_state(Tensor(xt::view(y_true, xt::range(200, n))),
                 Tensor(xt::view(y_pred, xt::range(200, n))));
  EXPECT_NEAR(m.result(), wins / pairs, 5e-3);
}

// --- lookup and cloning -------------------------------------------------------------------------

TEST(Metrics, GetByNameAndErrors) {
  EXPECT_NE(dynamic_cast<M::Precision*>(M::get("precision", {-1, 1}, {-1, 1}).get()), nullptr);
  EXPECT_NE(dynamic_cast<M::Recall*>(M::get("recall", {-1, 1}, {-1, 1}).get()), nullptr);
  EXPECT_NE(dynamic_cast<M::AUC*>(M::get("auc", {-1, 1}, {-1, 1}).get()), nullptr);
  EXPECT_NE(dynamic_cast<M::AUC*>(M::get("AUC", {-1, 1}, {-1, 1}).get()), nullptr);
  EXPECT_EQ(M::get("AUC", {-1, 1}, {-1, 1})->name(), "AUC");
  EXPECT_NE(dynamic_cast<M::TopKCategoricalAccuracy*>(
                M::get("top_k_categorical_accuracy", {-1, 10}, {-1, 10}).get()),
            nullptr);
  EXPECT_NE(dynamic_cast<M::MeanAbsoluteError*>(M::get("mae", {-1, 1}, {-1, 1}).get()), nullptr);
  try {
    M::get("acuracy", {-1, 1}, {-1, 1});
    FAIL() << "expected px::Error";
  } catch (const px::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("Unknown metric \"acuracy\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("Did you mean \"accuracy\"?"), std::string::npos) << msg;
    EXPECT_NE(msg.find("binary_accuracy"), std::string::npos) << msg;
  }
}

TEST(Metrics, CloneHasFreshStateAndSameConfig) {
  M::BinaryAccuracy m({.name = "acc", .threshold = 0.7});
  m.update_state(column({1}), column({0.6f}));
  EXPECT_EQ(m.result(), 0.0);  // 0.6 <= 0.7 -> predicted 0
  auto c = m.clone();
  EXPECT_EQ(c->name(), "acc");
  EXPECT_EQ(c->result(), 0.0);
  c->update_state(column({0}), column({0.65f}));
  EXPECT_NEAR(c->result(), 1.0, 1e-6);

  px::MetricSpec spec = M::AUC({.num_thresholds = 50});
  ASSERT_TRUE(spec.object);
  EXPECT_EQ(spec.object->name(), "auc");
}

TEST(Metrics, ShapeMismatchErrors) {
  M::CategoricalAccuracy m;
  EXPECT_THROW(m.update_state(Tensor{{1, 0}}, Tensor{{0.2f, 0.3f, 0.5f}}), px::Error);
  M::BinaryAccuracy b;
  EXPECT_THROW(b.update_state(column({1, 0}), column({0.2f, 0.3f, 0.5f})), px::Error);
  M::Precision p;
  EXPECT_THROW(p.update_state(Tensor{1, 0}, Tensor{0.2f, 0.3f}, Tensor{1, 2, 3}), px::Error);
}
