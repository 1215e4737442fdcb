// Losses: Keras's documented values (docstrings and keras/src/losses/losses_test.py),
// from_logits equivalence, label smoothing, numerical stability, finite-difference
// gradients through graph::Executor, and name lookup.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <xtensor/xadapt.hpp>
#include <xtensor/xio.hpp>
#include <xtensor/xmath.hpp>

#include "core/error.hpp"
#include "graph/detail.hpp"
#include "graph/executor.hpp"
#include "graph/ops.hpp"
#include "optim/losses.hpp"
#include "optim/model_options.hpp"

namespace px = plexus;
using px::Tensor;
namespace L = px::losses;

namespace {

Tensor softmax_rows(const Tensor& x) {
  Tensor out = x;
  const std::size_t c = x.shape().back();
  for (std::size_t r = 0; r < x.size() / c; ++r) {
    float m = x.data()[r * c];
    for (std::size_t j = 1; j < c; ++j) m = std::max(m, x.data()[r * c + j]);
    double s = 0.0;
    for (std::size_t j = 0; j < c; ++j) s += std::exp(double(x.data()[r * c + j]) - m);
    for (std::size_t j = 0; j < c; ++j) {
      out.data()[r * c + j] = float(std::exp(double(x.data()[r * c + j]) - m) / s);
    }
  }
  return out;
}

Tensor sigmoid(const Tensor& x) {
  Tensor out = x;
  for (auto& v : out) v = 1.0f / (1.0f + std::exp(-v));
  return out;
}

// A (n, 1) column: {{a}, {b}} is ambiguous for xarray's constructors.
Tensor column(std::initializer_list<float> values) {
  Tensor t = xt::adapt(std::vector<float>(values), {values.size(), std::size_t{1}});
  return t;
}

bool all_finite(const Tensor& t) {
  for (float v : t) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

}  // namespace

// --- Keras's documented values ----------------------------------------------------------------

TEST(Losses, CategoricalCrossentropyDocstring) {
  const Tensor y_true = {{0, 1, 0}, {0, 0, 1}};
  const Tensor y_pred = {{0.05f, 0.95f, 0.0f}, {0.1f, 0.8f, 0.1f}};
  L::CategoricalCrossentropy cce;
  EXPECT_EQ(cce.name(), "categorical_crossentropy");
  EXPECT_NEAR(cce(y_true, y_pred), 1.177, 1e-3);
  const Tensor sw = {0.3f, 0.7f};
  EXPECT_NEAR(cce(y_true, y_pred, sw), 0.814, 1e-3);
  const Tensor per = cce.call(y_true, y_pred);
  ASSERT_EQ(per.shape().size(), 1u);
  EXPECT_NEAR(per(0), 0.0513, 1e-4);
  EXPECT_NEAR(per(1), 2.303, 1e-3);
}

TEST(Losses, SparseCategoricalCrossentropyDocstring) {
  const Tensor y_true = {1, 2};
  const Tensor y_pred = {{0.05f, 0.95f, 0.0f}, {0.1f, 0.8f, 0.1f}};
  L::SparseCategoricalCrossentropy scce;
  EXPECT_NEAR(scce(y_true, y_pred), 1.177, 1e-3);
  EXPECT_NEAR(scce(y_true, y_pred, Tensor{0.3f, 0.7f}), 0.814, 1e-3);
  // A trailing 1 on the labels is squeezed, as Keras does.
  const Tensor y_true_col = column({1, 2});
  EXPECT_NEAR(scce(y_true_col, y_pred), 1.177, 1e-3);
  // Same as categorical cross-entropy on one-hot labels.
  const Tensor onehot = {{0, 1, 0}, {0, 0, 1}};
  EXPECT_NEAR(scce(y_true, y_pred), L::CategoricalCrossentropy()(onehot, y_pred), 1e-6);
}

TEST(Losses, BinaryCrossentropyDocstring) {
  // from_logits example: 0.8654, weighted 0.243, per-sample [0.235, 1.496].
  const Tensor y_true = {{0, 1}, {0, 0}};
  const Tensor logits = {{-18.6f, 0.51f}, {2.94f, -12.8f}};
  L::BinaryCrossentropy bce({.from_logits = true});
  EXPECT_NEAR(bce(y_true, logits), 0.8654, 1e-4);
  EXPECT_NEAR(bce(y_true, logits, Tensor{0.8f, 0.2f}), 0.243, 1e-3);
  const Tensor per = bce.call(y_true, logits);
  EXPECT_NEAR(per(0), 0.235, 1e-3);
  EXPECT_NEAR(per(1), 1.496, 1e-3);
  // The 1-D form of the same example (Keras's "batch_size = 1" case).
  EXPECT_NEAR(bce(Tensor{0, 1, 0, 0}, Tensor{-18.6f, 0.51f, 2.94f, -12.8f}), 0.8654, 1e-4);
  EXPECT_NEAR(bce(Tensor{{0, 1, 0, 0}}, Tensor{{-18.6f, 0.51f, 2.94f, -12.8f}}), 0.8654, 1e-4);
  // binary_crossentropy docstring on probabilities: [0.916, 0.714].
  const Tensor p = {{0.6f, 0.4f}, {0.4f, 0.6f}};
  const Tensor per_p = L::BinaryCrossentropy().call(y_true, p);
  EXPECT_NEAR(per_p(0), 0.916, 1e-3);
  EXPECT_NEAR(per_p(1), 0.714, 1e-3);
}

TEST(Losses, BinaryCrossentropyKerasTests) {
  L::BinaryCrossentropy bce;
  const Tensor eye = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  EXPECT_NEAR(bce(eye, eye), 0.0, 1e-5);
  const Tensor y_pred = {{0.9f, 0.1f, 0.2f}, {0.3f, 0.8f, 0.1f}, {0.1f, 0.2f, 0.7f}};
  EXPECT_NEAR(bce(eye, y_pred), 0.20046903, 1e-5);
  // Clipping at 1 - 1e-7 in float32 (Keras 3 has no extra +eps inside the log).
  const Tensor t2 = {{1, 0}, {1, 0}};
  const Tensor p2 = {{1, 1}, {1, 0}};
  EXPECT_NEAR(bce(t2, p2), 3.98559, 1e-3);
  EXPECT_NEAR(bce(t2, p2, Tensor(2.3f)), 9.1668, 1e-3);
  EXPECT_NEAR(bce(t2, p2, column({1.2f, 3.4f})), 4.7827, 1e-3);
  // Logits.
  L::BinaryCrossentropy bce_logits({.from_logits = true});
  const Tensor t3 = {{1, 0, 1}, {0, 1, 1}};
  const Tensor l3 = {{10, -10, 10}, {10, 10, -10}};
  EXPECT_NEAR(bce_logits(t3, l3), 3.3333, 1e-3);
  EXPECT_NEAR(bce_logits(t3, l3, Tensor(2.3f)), 7.666, 1e-3);
  EXPECT_NEAR(bce_logits(t3, l3, Tensor{4, 3}), 10.0, 1e-3);
  const Tensor eye_logits = {{10, -10, -10}, {-10, 10, -10}, {-10, -10, 10}};
  EXPECT_NEAR(bce_logits(eye, eye_logits), 0.0, 1e-3);
}

TEST(Losses, BinaryCrossentropyLabelSmoothing) {
  // Keras: (10 + 5 * label_smoothing) / 3.
  L::BinaryCrossentropy bce({.from_logits = true, .label_smoothing = 0.1});
  EXPECT_NEAR(bce(Tensor{{1, 0, 1}}, Tensor{{10, -10, -10}}), (10.0 + 5.0 * 0.1) / 3.0, 1e-3);
}

TEST(Losses, MeanSquaredErrorKerasTests) {
  const Tensor y_true = {{1, 9, 2}, {-5, -2, 6}};
  const Tensor y_pred = {{4, 8, 12}, {8, 1, 3}};
  L::MeanSquaredError mse;
  EXPECT_EQ(mse.name(), "mean_squared_error");
  EXPECT_NEAR(mse(y_true, y_true), 0.0, 1e-6);
  EXPECT_NEAR(mse(y_true, y_pred), 49.5, 1e-3);
  EXPECT_NEAR(mse(y_true, y_pred, Tensor(2.3f)), 113.85, 1e-2);
  EXPECT_NEAR(mse(y_true, y_pred, column({1.2f, 3.4f})), 767.8 / 6, 1e-2);
  EXPECT_NEAR(mse(y_true, y_pred, Tensor(0.0f)), 0.0, 1e-6);
  // Time-step weights on (2, 3, 1) predictions.
  Tensor t3 = y_true, p3 = y_pred;
  t3.reshape({2, 3, 1});
  p3.reshape({2, 3, 1});
  const Tensor sw = {{3, 6, 5}, {0, 4, 2}};
  EXPECT_NEAR(mse(t3, p3, sw), 97.833336, 1e-3);
}

TEST(Losses, MeanAbsoluteErrorKerasTests) {
  const Tensor y_true = {{1, 9, 2}, {-5, -2, 6}};
  const Tensor y_pred = {{4, 8, 12}, {8, 1, 3}};
  L::MeanAbsoluteError mae;
  EXPECT_NEAR(mae(y_true, y_pred), 5.5, 1e-4);
  EXPECT_NEAR(mae(y_true, y_pred, Tensor(2.3f)), 12.65, 1e-3);
  EXPECT_NEAR(mae(y_true, y_pred, column({1.2f, 3.4f})), 81.4 / 6, 1e-3);
  Tensor t3 = y_true, p3 = y_pred;
  t3.reshape({2, 3, 1});
  p3.reshape({2, 3, 1});
  EXPECT_NEAR(mae(t3, p3, Tensor{{3, 6, 5}, {0, 4, 2}}), 13.833333, 1e-4);
}

TEST(Losses, HingeKerasTests) {
  const Tensor y_true = {{0, 1}, {0, 0}};
  const Tensor y_pred = {{0.6f, 0.4f}, {0.4f, 0.6f}};
  L::Hinge hinge;
  EXPECT_NEAR(hinge(y_true, y_pred), 1.3, 1e-3);
  const Tensor per = hinge.call(y_true, y_pred);
  EXPECT_NEAR(per(0), 1.1, 1e-5);
  EXPECT_NEAR(per(1), 1.5, 1e-5);
  EXPECT_NEAR(hinge(y_true, y_pred, Tensor{1, 0}), 0.55, 1e-3);
  // -1/1 labels pass unchanged: maximum(1 - y p, 0).
  const Tensor pm = {{-1, 1}, {-1, -1}};
  EXPECT_NEAR(hinge(pm, y_pred), 1.3, 1e-3);
}

TEST(Losses, HuberAndLogCoshDocstrings) {
  const Tensor y_true = {{0, 1}, {0, 0}};
  EXPECT_NEAR(L::Huber()(y_true, Tensor{{0.6f, 0.4f}, {0.4f, 0.6f}}), 0.155, 1e-3);
  EXPECT_NEAR(L::LogCosh()(Tensor{{0.f, 1.f}, {0.f, 0.f}}, Tensor{{1.f, 1.f}, {0.f, 0.f}}), 0.108,
              1e-3);
  EXPECT_EQ(L::Huber().name(), "huber_loss");
  EXPECT_EQ(L::LogCosh().name(), "log_cosh");
}

TEST(Losses, HuberFormulaBothBranches) {
  // errors 0.5 (quadratic) and 2.5 (linear) with delta 0.8 (Keras's non-default delta test).
  const double d = 0.8;
  L::Huber huber({.delta = d});
  const Tensor y_true = {{0.0f, 0.0f}};
  const Tensor y_pred = {{0.5f, -2.5f}};
  const double expected = (0.5 * 0.25 + (d * 2.5 - 0.5 * d * d)) / 2.0;
  EXPECT_NEAR(huber(y_true, y_pred), expected, 1e-5);
  EXPECT_THROW(L::Huber({.delta = 0.0}), px::Error);
}

TEST(Losses, LogCoshKerasTest) {
  const Tensor y_true = {{1, 9, 2}, {-5, -2, 6}};
  const Tensor y_pred = {{4, 8, 12}, {8, 1, 3}};
  double expected = 0.0;
  for (std::size_t i = 0; i < y_true.size(); ++i) {
    const double e = y_pred.data()[i] - y_true.data()[i];
    expected += std::log((std::exp(e) + std::exp(-e)) / 2.0);
  }
  expected /= 6.0;
  EXPECT_NEAR(L::LogCosh()(y_true, y_pred), expected, 1e-3);
  EXPECT_NEAR(L::LogCosh()(y_true, y_pred, Tensor(2.3f)), 2.3 * expected, 1e-3);
}

TEST(Losses, KLDivergenceKerasTest) {
  const Tensor y_pred = {{0.4f, 0.9f, 0.12f}, {0.36f, 0.3f, 0.4f}};
  const Tensor y_true = {{0.5f, 0.8f, 0.12f}, {0.7f, 0.43f, 0.8f}};
  double expected = 0.0;
  for (std::size_t i = 0; i < 6; ++i) {
    const double y = y_true.data()[i], p = y_pred.data()[i];
    expected += y * std::log(y / p);
  }
  expected /= 2.0;
  L::KLDivergence kld;
  EXPECT_EQ(kld.name(), "kl_divergence");
  EXPECT_NEAR(kld(y_true, y_pred), expected, 1e-4);
  double weighted = 0.0;
  for (std::size_t i = 0; i < 6; ++i) {
    const double y = y_true.data()[i], p = y_pred.data()[i];
    weighted += (i < 3 ? 1.2 : 3.4) * y * std::log(y / p);
  }
  EXPECT_NEAR(kld(y_true, y_pred, column({1.2f, 3.4f})), weighted / 2.0, 1e-4);
}

TEST(Losses, PoissonKerasTest) {
  const Tensor y_pred = {{1, 9, 2}, {5, 2, 6}};
  const Tensor y_true = {{4, 8, 12}, {8, 1, 3}};
  double expected = 0.0;
  for (std::size_t i = 0; i < 6; ++i) {
    const double p = y_pred.data()[i], y = y_true.data()[i];
    expected += p - y * std::log(p);
  }
  expected /= 6.0;
  EXPECT_NEAR(L::Poisson()(y_true, y_pred), expected, 1e-3);
  EXPECT_NEAR(L::Poisson()(y_true, y_pred, Tensor(2.3f)), 2.3 * expected, 1e-3);
}

// --- from_logits, label smoothing, stability -------------------------------------------------

TEST(Losses, FromLogitsMatchesProbabilities) {
  const Tensor logits = {{1.0f, -2.0f, 0.5f}, {0.3f, 0.2f, -1.5f}, {2.0f, 2.0f, 2.0f}};
  const Tensor onehot = {{0, 0, 1}, {1, 0, 0}, {0, 1, 0}};
  const Tensor labels = {2, 0, 1};
  const Tensor probs = softmax_rows(logits);
  EXPECT_NEAR(L::CategoricalCrossentropy({.from_logits = true})(onehot, logits),
              L::CategoricalCrossentropy()(onehot, probs), 1e-5);
  EXPECT_NEAR(L::SparseCategoricalCrossentropy({.from_logits = true})(labels, logits),
              L::SparseCategoricalCrossentropy()(labels, probs), 1e-5);
  const Tensor bin = {{1, 0, 1}, {0, 0, 1}, {1, 1, 0}};
  EXPECT_NEAR(L::BinaryCrossentropy({.from_logits = true})(bin, logits),
              L::BinaryCrossentropy()(bin, sigmoid(logits)), 1e-5);
}

TEST(Losses, CategoricalLabelSmoothing) {
  const Tensor logits = {{1.0f, -2.0f, 0.5f}, {0.3f, 0.2f, -1.5f}};
  const Tensor onehot = {{0, 0, 1}, {1, 0, 0}};
  const double ls = 0.1;
  Tensor smoothed = onehot * float(1.0 - ls) + float(ls / 3.0);
  EXPECT_NEAR(
      L::CategoricalCrossentropy({.from_logits = true, .label_smoothing = ls})(onehot, logits),
      L::CategoricalCrossentropy({.from_logits = true})(smoothed, logits), 1e-6);
  // By hand: -sum(y_smooth * log_softmax(x)).
  const Tensor p = softmax_rows(logits);
  double expected = 0.0;
  for (std::size_t i = 0; i < 6; ++i) expected -= smoothed.data()[i] * std::log(p.data()[i]);
  expected /= 2.0;
  EXPECT_NEAR(
      L::CategoricalCrossentropy({.from_logits = true, .label_smoothing = ls})(onehot, logits),
      expected, 1e-5);
  EXPECT_THROW(L::CategoricalCrossentropy({.label_smoothing = 1.5}), px::Error);
}

// Softmax then cross-entropy, and from_logits, stay finite for logits like 1e4 — values and
// gradients.
TEST(Losses, StableAtHugeLogits) {
  const Tensor logits = {{1e4f, -1e4f, 0.0f}, {-1e4f, 1e4f, 5e3f}};
  const Tensor onehot = {{1, 0, 0}, {0, 0, 1}};
  const Tensor labels = {0, 2};
  const Tensor probs = softmax_rows(logits);
  const double v1 = L::CategoricalCrossentropy()(onehot, probs);
  const double v2 = L::CategoricalCrossentropy({.from_logits = true})(onehot, logits);
  const double v3 = L::SparseCategoricalCrossentropy({.from_logits = true})(labels, logits);
  const double v4 = L::BinaryCrossentropy({.from_logits = true})(onehot, logits);
  const double v5 = L::BinaryCrossentropy()(onehot, sigmoid(logits));
  for (double v : {v1, v2, v3, v4, v5}) EXPECT_TRUE(std::isfinite(v)) << v;
  // Sample 0 is right (loss 0), sample 1 is wrong by 5e3 in logit space.
  EXPECT_NEAR(v2, 5e3 / 2.0, 1.0);
  EXPECT_NEAR(v3, 5e3 / 2.0, 1.0);
  // Clipped probabilities: -log(1e-7) for the wrong sample.
  EXPECT_NEAR(v1, -std::log(1e-7) / 2.0, 1e-2);

  // Gradients of softmax -> CCE and of from_logits CCE through the executor.
  px::detail::CallDepthGuard guard;
  auto t = px::make_node(px::Node::Kind::kInput, {2, 3}, "y_true");
  auto x = px::make_node(px::Node::Kind::kInput, {2, 3}, "logits");
  const px::SymbolicTensor yt(t, nullptr), xs(x, nullptr);
  for (int from_logits = 0; from_logits < 2; ++from_logits) {
    L::CategoricalCrossentropy cce({.from_logits = from_logits == 1});
    const px::SymbolicTensor pred = from_logits ? xs : px::ops::softmax(xs);
    const px::SymbolicTensor loss = px::ops::mean(cce.per_sample(yt, pred));
    px::graph::Executor ex({t, x}, {loss.node()}, {.wrt_variables = {}, .wrt_feeds = true});
    const Tensor* feeds[] = {&onehot, &logits};
    ex.forward(feeds, {});
    EXPECT_TRUE(all_finite(ex.output(0)));
    const Tensor seed = Tensor(1.0f);
    const Tensor* seeds[] = {&seed};
    ex.backward(seeds, {});
    EXPECT_TRUE(all_finite(ex.feed_grad(1))) << ex.feed_grad(1);
  }
}

// --- gradients vs finite differences --------------------------------------------------------

namespace {

struct GradCase {
  std::string name;
  std::function<std::shared_ptr<L::Loss>()> make;
  Tensor y_true, y_pred;
};

// d/d y_pred of sum(per_sample * c) through the executor vs central differences of the
// eager per-sample values.
void check_gradient(const GradCase& gc) {
  SCOPED_TRACE(gc.name);
  auto loss = gc.make();
  const Tensor& y_true = gc.y_true;
  const Tensor& y_pred = gc.y_pred;
  px::detail::CallDepthGuard guard;
  auto t = px::make_node(px::Node::Kind::kInput, px::shape_of(y_true), "y_true");
  auto p = px::make_node(px::Node::Kind::kInput, px::shape_of(y_pred), "y_pred");
  const px::SymbolicTensor per =
      loss->per_sample(px::SymbolicTensor(t, nullptr), px::SymbolicTensor(p, nullptr));
  px::graph::Executor ex({t, p}, {per.node()}, {.wrt_variables = {}, .wrt_feeds = true});
  const Tensor* feeds[] = {&y_true, &y_pred};
  ex.forward(feeds, {});
  Tensor c = ex.output(0);
  for (std::size_t i = 0; i < c.size(); ++i) c.data()[i] = 0.5f + 0.25f * float(i % 3);
  const Tensor* seeds[] = {&c};
  ex.backward(seeds, {});
  const Tensor grad = ex.feed_grad(1);

  auto f = [&](const Tensor& yp) {
    const Tensor v = loss->call(y_true, yp);
    double s = 0.0;
    for (std::size_t i = 0; i < v.size(); ++i) s += double(v.data()[i]) * c.data()[i];
    return s;
  };
  for (std::size_t i = 0; i < y_pred.size(); ++i) {
    const float h = 1e-3f * std::max(1.0f, std::abs(y_pred.data()[i]));
    Tensor plus = y_pred, minus = y_pred;
    plus.data()[i] += h;
    minus.data()[i] -= h;
    const double fd = (f(plus) - f(minus)) / (double(plus.data()[i]) - minus.data()[i]);
    EXPECT_NEAR(grad.data()[i], fd, 2e-2 * std::max(1.0, std::abs(fd))) << "element " << i;
  }
}

}  // namespace

TEST(Losses, GradientsMatchFiniteDifferences) {
  const Tensor reg_true = {{0.5f, -1.0f, 2.0f}, {1.5f, 0.2f, -0.7f}};
  const Tensor reg_pred = {{0.9f, -0.2f, 0.4f}, {2.1f, -1.8f, -0.1f}};
  const Tensor onehot = {{0, 1, 0}, {0, 0, 1}};
  const Tensor labels = {1, 2};
  const Tensor probs = {{0.2f, 0.5f, 0.3f}, {0.1f, 0.3f, 0.6f}};
  const Tensor logits = {{0.3f, -1.2f, 2.0f}, {1.1f, 0.4f, -0.6f}};
  const Tensor bin = {{1, 0, 1}, {0, 1, 0}};
  const Tensor dist_true = {{0.2f, 0.3f, 0.5f}, {0.6f, 0.1f, 0.3f}};
  const Tensor counts = {{1, 3, 0}, {2, 5, 1}};
  const Tensor rates = {{0.8f, 2.5f, 0.3f}, {1.7f, 4.2f, 0.9f}};
  const std::vector<GradCase> cases = {
      {"mse", [] { return L::get("mse"); }, reg_true, reg_pred},
      {"mae", [] { return L::get("mae"); }, reg_true, reg_pred},
      {"huber", [] { return std::make_shared<L::Huber>(); }, reg_true, reg_pred},
      {"log_cosh", [] { return L::get("log_cosh"); }, reg_true, reg_pred},
      {"poisson", [] { return L::get("poisson"); }, counts, rates},
      {"bce", [] { return L::get("binary_crossentropy"); }, bin, probs},
      {"bce_logits",
       [] { return std::make_shared<L::BinaryCrossentropy>(L::BinaryCrossentropyOptions{true}); },
       bin, logits},
      {"bce_smoothing",
       [] {
         return std::make_shared<L::BinaryCrossentropy>(
             L::BinaryCrossentropyOptions{.label_smoothing = 0.2});
       },
       bin, probs},
      {"cce", [] { return L::get("categorical_crossentropy"); }, onehot, probs},
      {"cce_logits",
       [] {
         return std::make_shared<L::CategoricalCrossentropy>(
             L::CategoricalCrossentropyOptions{.from_logits = true, .label_smoothing = 0.1});
       },
       onehot, logits},
      {"scce", [] { return L::get("sparse_categorical_crossentropy"); }, labels, probs},
      {"scce_logits",
       [] {
         return std::make_shared<L::SparseCategoricalCrossentropy>(
             L::SparseCategoricalCrossentropyOptions{.from_logits = true});
       },
       labels, logits},
      {"hinge", [] { return L::get("hinge"); }, bin, logits},
      {"kld", [] { return L::get("kld"); }, dist_true, probs},
  };
  for (const auto& gc : cases) check_gradient(gc);
}

// --- targets, outputs, lookup ---------------------------------------------------------------

TEST(Losses, TargetShapes) {
  L::BinaryCrossentropy bce;
  EXPECT_EQ(bce.target_shape({-1, 1}), (px::Shape{-1, 1}));
  EXPECT_EQ(bce.conform_target_shape({32}, {-1, 1}), (px::Shape{32, 1}));
  L::SparseCategoricalCrossentropy scce;
  EXPECT_EQ(scce.target_shape({-1, 10}), (px::Shape{-1}));
  EXPECT_EQ(scce.conform_target_shape({32, 1}, {-1, 10}), (px::Shape{32}));
  EXPECT_EQ(scce.conform_target_shape({32}, {-1, 10}), (px::Shape{32}));
  try {
    L::CategoricalCrossentropy().conform_target_shape({32, 3}, {-1, 10}, "klass");
    FAIL() << "expected px::Error";
  } catch (const px::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("klass"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(32, 3)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(None, 10)"), std::string::npos) << msg;
  }
  // BCE on a (N,) target for a (N, 1) prediction, eagerly.
  EXPECT_NEAR(bce(Tensor{1, 0}, column({0.9f, 0.2f})), -(std::log(0.9) + std::log(0.8)) / 2.0,
              1e-5);
}

TEST(Losses, CheckOutput) {
  EXPECT_NO_THROW(L::BinaryCrossentropy().check_output({-1, 1}, "score"));
  EXPECT_NO_THROW(L::SparseCategoricalCrossentropy().check_output({-1, 10}, "klass"));
  try {
    L::SparseCategoricalCrossentropy().check_output({-1, 1}, "score");
    FAIL() << "expected px::Error";
  } catch (const px::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("score"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(None, 1)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("binary_crossentropy"), std::string::npos) << msg;
  }
  EXPECT_THROW(L::CategoricalCrossentropy().check_output({-1, 1}, "score"), px::Error);
  EXPECT_THROW(L::MeanSquaredError().check_output({-1}, "flat"), px::Error);
}

TEST(Losses, SampleWeightShapeErrors) {
  const Tensor y = {{1, 2}, {3, 4}};
  EXPECT_THROW(L::MeanSquaredError()(y, y, Tensor{1, 2, 3}), px::Error);
}

TEST(Losses, GetByName) {
  EXPECT_EQ(L::get("mse")->name(), "mean_squared_error");
  EXPECT_EQ(L::get("mean_squared_error")->name(), "mean_squared_error");
  EXPECT_EQ(L::get("mae")->name(), "mean_absolute_error");
  EXPECT_EQ(L::get("binary_crossentropy")->name(), "binary_crossentropy");
  EXPECT_EQ(L::get("BinaryCrossentropy")->name(), "binary_crossentropy");
  EXPECT_EQ(L::get("categorical_crossentropy")->name(), "categorical_crossentropy");
  EXPECT_EQ(L::get("sparse_categorical_crossentropy")->name(), "sparse_categorical_crossentropy");
  EXPECT_EQ(L::get("huber")->name(), "huber_loss");
  EXPECT_EQ(L::get("hinge")->name(), "hinge");
  EXPECT_EQ(L::get("kld")->name(), "kl_divergence");
  EXPECT_EQ(L::get("kl_divergence")->name(), "kl_divergence");
  EXPECT_EQ(L::get("poisson")->name(), "poisson");
  EXPECT_EQ(L::get("log_cosh")->name(), "log_cosh");
  try {
    L::get("binary_crossentorpy");
    FAIL() << "expected px::Error";
  } catch (const px::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("Unknown loss \"binary_crossentorpy\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("Did you mean \"binary_crossentropy\"?"), std::string::npos) << msg;
    EXPECT_NE(msg.find("sparse_categorical_crossentropy"), std::string::npos) << msg;
  }
}

// A loss object works as a compile() option (copied into a shared_ptr).
TEST(Losses, UsableAsNameOrObject) {
  px::LossItem item = L::BinaryCrossentropy({.from_logits = true});
  ASSERT_TRUE(item.object);
  EXPECT_EQ(item.object->name(), "binary_crossentropy");
  px::LossItem by_name = "mse";
  EXPECT_EQ(by_name.name, "mse");
}
