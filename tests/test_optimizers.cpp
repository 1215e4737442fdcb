// Optimizers and learning-rate schedules: each optimizer's first three steps against its
// update rule written out here in double precision (for a 2-element variable, which runs
// the scalar tail, and a 37-element one, which runs the SIMD body too), clipping, weight
// decay, schedules, and name lookup.
#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <memory>
#include <new>
#include <numbers>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "optim/model_options.hpp"
#include "optim/optimizers.hpp"
#include "optim/schedules.hpp"

namespace px = plexus;
namespace O = px::optim;
using px::Tensor;

// Counts heap allocations while enabled (to check that a steady-state step allocates
// nothing). The replacement new/delete pair is malloc/free, which GCC cannot see when it
// inlines library code, hence the pragma.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
std::atomic<long> g_allocations{0};
std::atomic<bool> g_counting{false};
}  // namespace
void* operator new(std::size_t n) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

px::Variable make_variable(std::vector<float> values, std::string name = "kernel") {
  auto data = std::make_shared<px::VariableData>();
  data->name = name;
  data->path = "dense/" + name;
  data->value = Tensor::from_shape({values.size()});
  std::copy(values.begin(), values.end(), data->value.begin());
  return px::Variable(data);
}

Tensor vec(const std::vector<double>& v) {
  Tensor t = Tensor::from_shape({v.size()});
  for (std::size_t i = 0; i < v.size(); ++i) t(i) = static_cast<float>(v[i]);
  return t;
}

// One element's reference state: up to three slots.
struct Ref {
  double w, s0 = 0.0, s1 = 0.0, s2 = 0.0;
};
// A reference update for one element: (state, gradient, step t) -> new state.
using RefStep = std::function<void(Ref&, double g, int t)>;

// Runs three steps with fixed gradients on a variable of n elements and compares every
// element after every step with the reference.
void check_three_steps(const std::string& label, O::Optimizer& opt, const RefStep& ref,
                       std::size_t n, double tol = 2e-6) {
  SCOPED_TRACE(label + " n=" + std::to_string(n));
  std::vector<float> init(n);
  std::vector<Ref> state(n);
  for (std::size_t i = 0; i < n; ++i) {
    init[i] = i % 2 == 0 ? 1.0f + 0.1f * float(i) : -2.0f + 0.05f * float(i);
    state[i].w = init[i];
  }
  auto var = make_variable(init);
  const double base[3][2] = {{0.5, -0.3}, {0.1, 0.4}, {-0.2, 0.25}};
  for (int t = 1; t <= 3; ++t) {
    std::vector<double> g(n);
    for (std::size_t i = 0; i < n; ++i) g[i] = base[t - 1][i % 2] * (1.0 + 0.01 * double(i));
    opt.apply_gradients({vec(g)}, {var});
    for (std::size_t i = 0; i < n; ++i) {
      ref(state[i], g[i], t);
      EXPECT_NEAR(var.value()(i), state[i].w, tol * std::max(1.0, std::abs(state[i].w)))
          << "step " << t << " element " << i;
    }
  }
  EXPECT_EQ(opt.iterations(), 3);
}

void check_both_sizes(const std::string& label,
                      const std::function<std::shared_ptr<O::Optimizer>()>& make,
                      const RefStep& ref, double tol = 2e-6) {
  for (std::size_t n : {std::size_t{2}, std::size_t{37}}) {
    auto opt = make();
    check_three_steps(label, *opt, ref, n, tol);
  }
}

}  // namespace

// --- update rules ---------------------------------------------------------------------------

TEST(Optimizers, SGD) {
  check_both_sizes(
      "sgd", [] { return std::make_shared<O::SGD>(O::SGDOptions{.learning_rate = 0.1}); },
      [](Ref& r, double g, int) { r.w -= 0.1 * g; });
  check_both_sizes(
      "sgd momentum",
      [] { return std::make_shared<O::SGD>(O::SGDOptions{.learning_rate = 0.1, .momentum = 0.9}); },
      [](Ref& r, double g, int) {
        r.s0 = 0.9 * r.s0 - 0.1 * g;
        r.w += r.s0;
      });
  check_both_sizes(
      "sgd nesterov",
      [] {
        return std::make_shared<O::SGD>(
            O::SGDOptions{.learning_rate = 0.1, .momentum = 0.9, .nesterov = true});
      },
      [](Ref& r, double g, int) {
        r.s0 = 0.9 * r.s0 - 0.1 * g;
        r.w += 0.9 * r.s0 - 0.1 * g;
      });
  O::SGD defaults;
  EXPECT_EQ(defaults.learning_rate(), 0.01);
  EXPECT_EQ(defaults.options().momentum, 0.0);
  EXPECT_FALSE(defaults.options().nesterov);
  EXPECT_THROW(O::SGD({.momentum = 1.5}), px::Error);
}

TEST(Optimizers, RMSprop) {
  const double lr = 0.01, rho = 0.9, eps = 1e-7;
  check_both_sizes(
      "rmsprop",
      [] { return std::make_shared<O::RMSprop>(O::RMSpropOptions{.learning_rate = 0.01}); },
      [=](Ref& r, double g, int) {
        r.s0 = rho * r.s0 + (1 - rho) * g * g;
        r.w -= lr * g / std::sqrt(r.s0 + eps);
      });
  check_both_sizes(
      "rmsprop centered momentum",
      [] {
        return std::make_shared<O::RMSprop>(
            O::RMSpropOptions{.learning_rate = 0.01, .momentum = 0.5, .centered = true});
      },
      [=](Ref& r, double g, int) {
        r.s0 = rho * r.s0 + (1 - rho) * g * g;  // velocity
        r.s2 = rho * r.s2 + (1 - rho) * g;      // average gradient
        const double inc = lr * g / std::sqrt(r.s0 - r.s2 * r.s2 + eps);
        r.s1 = 0.5 * r.s1 + inc;  // momentum
        r.w -= r.s1;
      },
      1e-5);
  // Keras's docstring: var 10, lr 0.1, loss var^2 / 2 (gradient = var) -> 9.683772.
  O::RMSprop doc({.learning_rate = 0.1});
  auto v = make_variable({10.0f});
  doc.apply_gradients({Tensor{10.0f}}, {v});
  EXPECT_NEAR(v.value()(0), 9.683772, 1e-5);
  EXPECT_EQ(doc.name(), "rmsprop");
  EXPECT_EQ(O::RMSprop().learning_rate(), 0.001);
}

TEST(Optimizers, Adam) {
  const double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-7;
  const auto adam_ref = [=](bool amsgrad) {
    return [=](Ref& r, double g, int t) {
      const double alpha = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
      r.s0 += (g - r.s0) * (1 - b1);
      r.s1 += (g * g - r.s1) * (1 - b2);
      double v = r.s1;
      if (amsgrad) {
        r.s2 = std::max(r.s2, r.s1);
        v = r.s2;
      }
      r.w -= r.s0 * alpha / (std::sqrt(v) + eps);
    };
  };
  check_both_sizes(
      "adam", [] { return std::make_shared<O::Adam>(O::AdamOptions{.learning_rate = 0.1}); },
      adam_ref(false));
  check_both_sizes(
      "adam amsgrad",
      [] {
        return std::make_shared<O::Adam>(O::AdamOptions{.learning_rate = 0.1, .amsgrad = true});
      },
      adam_ref(true));
}

TEST(Optimizers, AdamW) {
  const double lr = 0.1, wd = 0.004, b1 = 0.9, b2 = 0.999, eps = 1e-7;
  check_both_sizes(
      "adamw", [] { return std::make_shared<O::AdamW>(O::AdamWOptions{.learning_rate = 0.1}); },
      [=](Ref& r, double g, int t) {
        r.w -= r.w * wd * lr;  // decoupled decay first
        const double alpha = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
        r.s0 += (g - r.s0) * (1 - b1);
        r.s1 += (g * g - r.s1) * (1 - b2);
        r.w -= r.s0 * alpha / (std::sqrt(r.s1) + eps);
      });
  O::AdamW defaults;
  EXPECT_EQ(defaults.name(), "adamw");
  EXPECT_EQ(defaults.weight_decay().value(), 0.004);
}

TEST(Optimizers, Nadam) {
  const double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-7;
  // The momentum-schedule product is shared by all elements; each element's reference
  // recomputes it from t.
  const auto u = [=](int t) { return b1 * (1 - 0.5 * std::pow(0.96, t)); };
  check_both_sizes(
      "nadam", [] { return std::make_shared<O::Nadam>(O::NadamOptions{.learning_rate = 0.1}); },
      [=](Ref& r, double g, int t) {
        double u_product = 1.0;
        for (int k = 1; k <= t; ++k) u_product *= u(k);
        const double u_product_next = u_product * u(t + 1);
        r.s0 += (g - r.s0) * (1 - b1);
        r.s1 += (g * g - r.s1) * (1 - b2);
        const double m_hat =
            u(t + 1) * r.s0 / (1 - u_product_next) + (1 - u(t)) * g / (1 - u_product);
        const double v_hat = r.s1 / (1 - std::pow(b2, t));
        r.w -= lr * m_hat / (std::sqrt(v_hat) + eps);
      });
}

TEST(Optimizers, Adagrad) {
  const double lr = 0.1, eps = 1e-7;
  check_both_sizes(
      "adagrad",
      [] { return std::make_shared<O::Adagrad>(O::AdagradOptions{.learning_rate = 0.1}); },
      [=](Ref& r, double g, int t) {
        if (t == 1) r.s0 = 0.1;  // initial_accumulator_value
        r.s0 += g * g;
        r.w -= lr * g / std::sqrt(r.s0 + eps);
      });
}

TEST(Optimizers, Adadelta) {
  const double lr = 1.0, rho = 0.95, eps = 1e-7;
  check_both_sizes(
      "adadelta",
      [] { return std::make_shared<O::Adadelta>(O::AdadeltaOptions{.learning_rate = 1.0}); },
      [=](Ref& r, double g, int) {
        r.s0 = rho * r.s0 + (1 - rho) * g * g;
        const double delta = -std::sqrt(r.s1 + eps) * g / std::sqrt(r.s0 + eps);
        r.s1 = rho * r.s1 + (1 - rho) * delta * delta;
        r.w += lr * delta;
      },
      1e-5);
}

TEST(Optimizers, Adamax) {
  const double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-7;
  check_both_sizes(
      "adamax", [] { return std::make_shared<O::Adamax>(O::AdamaxOptions{.learning_rate = 0.1}); },
      [=](Ref& r, double g, int t) {
        r.s0 += (g - r.s0) * (1 - b1);
        r.s1 = std::max(b2 * r.s1, std::abs(g));
        r.w -= lr * r.s0 / ((1 - std::pow(b1, t)) * (r.s1 + eps));
      });
}

TEST(Optimizers, Lion) {
  const double lr = 0.1, b1 = 0.9, b2 = 0.99;
  check_both_sizes(
      "lion", [] { return std::make_shared<O::Lion>(O::LionOptions{.learning_rate = 0.1}); },
      [=](Ref& r, double g, int) {
        const double c = b1 * r.s0 + (1 - b1) * g;
        r.w -= lr * static_cast<double>((c > 0) - (c < 0));
        r.s0 = b2 * r.s0 + (1 - b2) * g;
      });
  EXPECT_EQ(O::Lion().learning_rate(), 0.001);
  EXPECT_EQ(O::Lion().options().beta_2, 0.99);
  EXPECT_EQ(O::Lion().name(), "lion");
  EXPECT_THROW(O::Lion({.beta_1 = 0.0}), px::Error);
  EXPECT_THROW(O::Lion(px::kw::beta_1 = 1.5), px::Error);
  EXPECT_EQ(O::get("lion")->class_name(), "Lion");
}

TEST(Optimizers, KerasDefaults) {
  EXPECT_EQ(O::Adam().options().beta_1, 0.9);
  EXPECT_EQ(O::Adam().options().beta_2, 0.999);
  EXPECT_EQ(O::Adam().options().epsilon, 1e-7);
  EXPECT_EQ(O::Adam().learning_rate(), 0.001);
  EXPECT_EQ(O::RMSprop().options().rho, 0.9);
  EXPECT_EQ(O::Adagrad().options().initial_accumulator_value, 0.1);
  EXPECT_EQ(O::Adadelta().options().rho, 0.95);
  EXPECT_EQ(O::Adadelta().learning_rate(), 0.001);
  EXPECT_EQ(O::Adamax().learning_rate(), 0.001);
  EXPECT_EQ(O::Nadam().learning_rate(), 0.001);
  EXPECT_FALSE(O::Adam().weight_decay().has_value());
}

// --- clipping and weight decay --------------------------------------------------------------

TEST(Optimizers, Clipnorm) {
  O::SGD sgd({.learning_rate = 1.0, .clipnorm = 1.0});
  auto a = make_variable({0.0f, 0.0f});
  auto b = make_variable({0.0f, 0.0f}, "bias");
  // ||(3, 4)|| = 5 -> (0.6, 0.8); ||(0.3, 0.4)|| = 0.5 <= 1 -> unchanged. Per tensor.
  sgd.apply_gradients({Tensor{3.0f, 4.0f}, Tensor{0.3f, 0.4f}}, {a, b});
  EXPECT_NEAR(a.value()(0), -0.6, 1e-6);
  EXPECT_NEAR(a.value()(1), -0.8, 1e-6);
  EXPECT_NEAR(b.value()(0), -0.3, 1e-6);
  EXPECT_NEAR(b.value()(1), -0.4, 1e-6);
}

TEST(Optimizers, GlobalClipnorm) {
  O::SGD sgd({.learning_rate = 1.0, .global_clipnorm = 1.0});
  auto a = make_variable({0.0f, 0.0f});
  auto b = make_variable({0.0f}, "bias");
  // Global norm sqrt(9 + 16 + 144) = 13: every gradient scaled by 1/13.
  sgd.apply_gradients({Tensor{3.0f, 4.0f}, Tensor{12.0f}}, {a, b});
  EXPECT_NEAR(a.value()(0), -3.0 / 13.0, 1e-6);
  EXPECT_NEAR(a.value()(1), -4.0 / 13.0, 1e-6);
  EXPECT_NEAR(b.value()(0), -12.0 / 13.0, 1e-6);
  // Below the limit: unchanged.
  O::SGD small({.learning_rate = 1.0, .global_clipnorm = 100.0});
  auto c = make_variable({0.0f, 0.0f});
  small.apply_gradients({Tensor{3.0f, 4.0f}}, {c});
  EXPECT_NEAR(c.value()(1), -4.0, 1e-6);
}

TEST(Optimizers, Clipvalue) {
  O::SGD sgd({.learning_rate = 1.0, .clipvalue = 0.5});
  auto a = make_variable({0.0f, 0.0f, 0.0f});
  sgd.apply_gradients({Tensor{3.0f, -4.0f, 0.2f}}, {a});
  EXPECT_NEAR(a.value()(0), -0.5, 1e-6);
  EXPECT_NEAR(a.value()(1), 0.5, 1e-6);
  EXPECT_NEAR(a.value()(2), -0.2, 1e-6);
  // The caller's gradient is not modified.
  Tensor g = {3.0f};
  auto b = make_variable({0.0f});
  sgd.apply_gradients({g}, {b});
  EXPECT_EQ(g(0), 3.0f);
}

TEST(Optimizers, OnlyOneClippingOption) {
  EXPECT_THROW(O::Adam({.clipnorm = 1.0, .clipvalue = 1.0}), px::Error);
  EXPECT_THROW(O::SGD({.clipnorm = 1.0, .global_clipnorm = 1.0}), px::Error);
}

TEST(Optimizers, WeightDecay) {
  // Keras: w -= w * weight_decay * lr, then the update.
  O::SGD sgd({.learning_rate = 0.1, .weight_decay = 0.01});
  auto a = make_variable({2.0f, -1.0f});
  auto bias = make_variable({2.0f}, "bias");
  sgd.exclude_from_weight_decay({"bias"});
  sgd.apply_gradients({Tensor{0.5f, 0.5f}, Tensor{0.5f}}, {a, bias});
  EXPECT_NEAR(a.value()(0), 2.0 - 2.0 * 0.01 * 0.1 - 0.1 * 0.5, 1e-6);
  EXPECT_NEAR(a.value()(1), -1.0 + 1.0 * 0.01 * 0.1 - 0.1 * 0.5, 1e-6);
  EXPECT_NEAR(bias.value()(0), 2.0 - 0.1 * 0.5, 1e-6);
  EXPECT_THROW(sgd.exclude_from_weight_decay({"x"}), px::Error);  // after the first update
}

// --- iterations, schedules, learning rate -----------------------------------------------------

TEST(Optimizers, ScheduleEvaluatedAtIterations) {
  O::SGD sgd({.learning_rate = O::ExponentialDecay(0.1, 1.0, 0.5)});
  auto a = make_variable({0.0f});
  EXPECT_NEAR(sgd.learning_rate(), 0.1, 1e-12);
  double expected = 0.0;
  for (int t = 0; t < 3; ++t) {
    sgd.apply_gradients({Tensor{1.0f}}, {a});
    expected -= 0.1 * std::pow(0.5, t);  // the rate at the iteration before the increment
    EXPECT_NEAR(a.value()(0), expected, 1e-6);
  }
  EXPECT_EQ(sgd.iterations(), 3);
  EXPECT_NEAR(sgd.learning_rate(), 0.1 * 0.125, 1e-12);
  sgd.set_learning_rate(0.2);  // a constant replaces the schedule
  EXPECT_EQ(sgd.learning_rate(), 0.2);
  sgd.apply_gradients({Tensor{1.0f}}, {a});
  EXPECT_NEAR(a.value()(0), expected - 0.2, 1e-6);
  // A shared_ptr schedule works too.
  std::shared_ptr<O::LearningRateSchedule> s = std::make_shared<O::InverseTimeDecay>(0.1, 1.0, 1.0);
  O::Adam adam({.learning_rate = s});
  EXPECT_NEAR(adam.learning_rate(), 0.1, 1e-12);
}

TEST(Schedules, ExponentialDecay) {
  O::ExponentialDecay s(0.1, 10, 0.5);
  EXPECT_NEAR(s(0), 0.1, 1e-12);
  EXPECT_NEAR(s(5), 0.1 * std::pow(0.5, 0.5), 1e-12);
  EXPECT_NEAR(s(20), 0.025, 1e-12);
  O::ExponentialDecay stair(0.1, 10, 0.5, true);
  EXPECT_NEAR(stair(15), 0.05, 1e-12);
  EXPECT_NEAR(stair(9), 0.1, 1e-12);
  EXPECT_THROW(O::ExponentialDecay(0.1, 0, 0.5), px::Error);
}

TEST(Schedules, PiecewiseConstantDecay) {
  O::PiecewiseConstantDecay s({100000, 110000}, {1.0, 0.5, 0.1});
  EXPECT_EQ(s(0), 1.0);
  EXPECT_EQ(s(100000), 1.0);
  EXPECT_EQ(s(100001), 0.5);
  EXPECT_EQ(s(110000), 0.5);
  EXPECT_EQ(s(110001), 0.1);
  EXPECT_THROW(O::PiecewiseConstantDecay({1, 2}, {1.0, 0.5}), px::Error);
}

TEST(Schedules, CosineDecay) {
  O::CosineDecay s(1.0, 100, 0.1);
  EXPECT_NEAR(s(0), 1.0, 1e-12);
  EXPECT_NEAR(s(50), 0.9 * 0.5 + 0.1, 1e-12);
  EXPECT_NEAR(s(25), 0.9 * 0.5 * (1 + std::cos(std::numbers::pi / 4)) + 0.1, 1e-12);
  EXPECT_NEAR(s(100), 0.1, 1e-12);
  EXPECT_NEAR(s(1000), 0.1, 1e-12);
  // Linear warmup from 0 to 0.1 over 10 steps, then cosine decay over 100.
  O::CosineDecay w(0.0, 100, 0.0, 0.1, 10);
  EXPECT_NEAR(w(0), 0.0, 1e-12);
  EXPECT_NEAR(w(5), 0.05, 1e-12);
  EXPECT_NEAR(w(10), 0.1, 1e-12);
  EXPECT_NEAR(w(60), 0.05, 1e-12);
  EXPECT_NEAR(w(110), 0.0, 1e-12);
  EXPECT_NEAR(w(500), 0.0, 1e-12);
}

TEST(Schedules, InverseTimeDecay) {
  O::InverseTimeDecay s(0.1, 1.0, 0.5);
  EXPECT_NEAR(s(0), 0.1, 1e-12);
  EXPECT_NEAR(s(2), 0.05, 1e-12);
  O::InverseTimeDecay stair(0.1, 10, 0.5, true);
  EXPECT_NEAR(stair(15), 0.1 / 1.5, 1e-12);
  EXPECT_NEAR(stair(9), 0.1, 1e-12);
}

TEST(Schedules, PolynomialDecay) {
  O::PolynomialDecay s(0.1, 10000, 0.01, 0.5);
  EXPECT_NEAR(s(0), 0.1, 1e-12);
  EXPECT_NEAR(s(2500), 0.09 * std::sqrt(0.75) + 0.01, 1e-12);
  EXPECT_NEAR(s(20000), 0.01, 1e-12);
  O::PolynomialDecay cyc(0.1, 100, 0.0, 1.0, true);
  EXPECT_NEAR(cyc(150), 0.1 * (1 - 150.0 / 200.0), 1e-12);
}

// --- state, lookup, errors
// ------------------------------------------------------------------------

TEST(Optimizers, CloneHasFreshStateAndSameConfig) {
  O::Adam adam({.learning_rate = 0.05, .beta_1 = 0.8});
  auto a = make_variable({1.0f, 2.0f});
  adam.apply_gradients({Tensor{0.5f, -0.5f}}, {a});
  adam.apply_gradients({Tensor{0.5f, -0.5f}}, {a});
  auto copy = adam.clone();
  EXPECT_EQ(copy->iterations(), 0);
  EXPECT_EQ(copy->name(), "adam");
  EXPECT_NEAR(copy->learning_rate(), 0.05, 1e-12);
  // Its first step equals a fresh Adam's first step.
  auto b = make_variable({1.0f, 2.0f});
  auto c = make_variable({1.0f, 2.0f});
  copy->apply_gradients({Tensor{0.5f, -0.5f}}, {b});
  O::Adam({.learning_rate = 0.05, .beta_1 = 0.8}).apply_gradients({Tensor{0.5f, -0.5f}}, {c});
  EXPECT_EQ(b.value()(0), c.value()(0));
  EXPECT_EQ(b.value()(1), c.value()(1));
}

TEST(Optimizers, SkipsMissingGradientsAndChecksShapes) {
  O::SGD sgd({.learning_rate = 1.0});
  auto a = make_variable({1.0f, 1.0f});
  auto unused = make_variable({5.0f}, "bias");
  sgd.apply_gradients({Tensor{1.0f, 1.0f}, Tensor()}, {a, unused});
  EXPECT_EQ(unused.value()(0), 5.0f);
  EXPECT_EQ(a.value()(0), 0.0f);
  EXPECT_THROW(sgd.apply_gradients({Tensor()}, {unused}), px::Error);
  try {
    sgd.apply_gradients({Tensor{1.0f, 2.0f, 3.0f}}, {a});
    FAIL() << "expected px::Error";
  } catch (const px::Error& e) {
    EXPECT_NE(std::string(e.what()).find("dense/kernel"), std::string::npos) << e.what();
  }
  EXPECT_THROW(sgd.apply_gradients({Tensor{1.0f}}, {}), px::Error);
  // The fast path with raw pointers.
  const Tensor g = {1.0f, 1.0f};
  const Tensor* grads[] = {&g};
  px::VariableData* vars[] = {a.data().get()};
  sgd.apply(grads, vars);
  EXPECT_EQ(a.value()(0), -1.0f);
}

TEST(Optimizers, SteadyStateStepAllocatesNothing) {
  std::vector<std::shared_ptr<O::Optimizer>> optimizers;
  for (const auto& name : O::names()) optimizers.push_back(O::get(name));
  optimizers.push_back(std::make_shared<O::Adam>(O::AdamOptions{.amsgrad = true, .clipnorm = 1.0}));
  optimizers.push_back(std::make_shared<O::RMSprop>(
      O::RMSpropOptions{.momentum = 0.9, .centered = true, .clipvalue = 0.1}));
  optimizers.push_back(std::make_shared<O::SGD>(O::SGDOptions{
      .learning_rate = O::CosineDecay(0.1, 100), .momentum = 0.9, .global_clipnorm = 1.0}));
  for (auto& opt : optimizers) {
    auto a = make_variable(std::vector<float>(100, 1.0f));
    auto b = make_variable(std::vector<float>(7, 1.0f), "bias");
    const Tensor ga = xt::ones<float>({100}) * 3.0f;
    const Tensor gb = xt::ones<float>({7}) * 2.0f;
    const Tensor* grads[] = {&ga, &gb};
    px::VariableData* vars[] = {a.data().get(), b.data().get()};
    opt->apply(grads, vars);  // the first step creates the state
    g_allocations = 0;
    g_counting = true;
    for (int i = 0; i < 5; ++i) opt->apply(grads, vars);
    g_counting = false;
    EXPECT_EQ(g_allocations.load(), 0) << opt->name();
  }
}

TEST(Optimizers, GetByName) {
  for (const char* name :
       {"sgd", "rmsprop", "adam", "adamw", "nadam", "adagrad", "adadelta", "adamax", "lion"}) {
    auto opt = O::get(name);
    ASSERT_TRUE(opt) << name;
    std::string lower = opt->name();
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_EQ(lower, name);
  }
  EXPECT_EQ(O::get("SGD")->name(), "SGD");
  EXPECT_EQ(O::get("Adam")->name(), "adam");
  try {
    O::get("adma");
    FAIL() << "expected px::Error";
  } catch (const px::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("Unknown optimizer \"adma\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("Did you mean \"adam\"?"), std::string::npos) << msg;
    EXPECT_NE(msg.find("adadelta, adagrad, adam, adamax, adamw, lion, nadam, rmsprop, sgd"),
              std::string::npos)
        << msg;
  }
}

TEST(Optimizers, UsableAsNameOrObject) {
  px::OptimizerSpec spec = O::Adam({.learning_rate = 1e-3});
  ASSERT_TRUE(spec.object);
  EXPECT_EQ(spec.object->name(), "adam");
  O::SGD lvalue({.learning_rate = 0.5});
  px::OptimizerSpec copied = lvalue;
  EXPECT_NEAR(copied.object->learning_rate(), 0.5, 1e-12);
}
