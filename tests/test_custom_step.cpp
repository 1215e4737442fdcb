// Subclassed models with train_step / test_step / predict_step overrides driven by fit,
// evaluate and predict; px::value_and_grad of any scalar; px::random ops.
#include <gtest/gtest.h>

#include <cmath>
#include <plexus.hpp>

namespace px = plexus;

namespace {

// y = 3 x0 - 2 x1 + 1 and a little structure, n rows.
void regression(std::size_t n, px::Tensor& x, px::Tensor& y) {
  x = px::Tensor::from_shape({n, 2});
  y = px::Tensor::from_shape({n, 1});
  for (std::size_t i = 0; i < n; ++i) {
    const float a = std::sin(0.37f * static_cast<float>(i)),
                b = std::cos(0.11f * static_cast<float>(i));
    x(i, 0) = a;
    x(i, 1) = b;
    y(i, 0) = 3 * a - 2 * b + 1;
  }
}

px::Model linear_model() {
  auto in = px::Input({2});
  auto out = px::layers::Dense(1)(in);
  return px::Model(in, out, "linear");
}

// A custom step computing the batch's mean squared error, as the built-in fit with "mse".
class Regressor : public px::Model {
 public:
  explicit Regressor(px::Model net) : px::Model("regressor"), net(net) {
    track(net);
    step.emplace(px::value_and_grad(
        [this](const px::SymbolicTensors& in) -> px::SymbolicTensors {
          auto pred = this->net(in[0]).single();
          auto err = px::ops::mean(px::ops::square(pred - in[1]));
          return {err, px::ops::mean(px::ops::abs(pred - in[1]))};
        },
        trainable_weights()));
  }
  px::Logs train_step(const px::StepData& data) override {
    ++train_calls;
    inputs_.assign({data.x[0], data.y[0]});
    auto [values, grads] = (*step)(inputs_);
    optimizer().apply_gradients(grads, trainable_weights());
    batch_losses.push_back(values[0].data()[0]);
    loss_tracker.update_state(values[0].data()[0], static_cast<double>(data.x[0].shape()[0]));
    mae_tracker.update_state(values[1].data()[0], static_cast<double>(data.x[0].shape()[0]));
    return {{"loss", loss_tracker.result()}, {"mae", mae_tracker.result()}};
  }
  px::Logs test_step(const px::StepData& data) override {
    auto pred = net.predict(data.x[0], px::kw::verbose = 0);
    double se = 0;
    for (std::size_t i = 0; i < pred.size(); ++i) {
      const double d = pred.data()[i] - data.y[0].data()[i];
      se += d * d;
    }
    loss_tracker.update_state(se / static_cast<double>(pred.size()),
                              static_cast<double>(pred.size()));
    return {{"loss", loss_tracker.result()}};
  }
  std::vector<px::metrics::Metric*> metrics() const override {
    return {&loss_tracker, &mae_tracker};
  }
  std::vector<px::Tensor> predict_step(const px::StepData& data) const override {
    px::Tensor p = net.predict(data.x[0], px::kw::verbose = 0);
    return {p * 2.0f};
  }

  px::Model net;
  int train_calls = 0;
  std::vector<double> batch_losses;
  std::optional<px::ValueAndGrad> step;

 private:
  std::vector<px::Tensor> inputs_;
  mutable px::metrics::Mean loss_tracker{"loss"}, mae_tracker{"mae"};
};

// A subclass that overrides nothing: the built-in steps.
class Plain : public px::Model {
 public:
  Plain(const px::SymbolicTensor& in, const px::SymbolicTensor& out) : px::Model(in, out) {}
};

}  // namespace

TEST(CustomStep, FitDrivesTrainStepWithTrackersResetEachEpoch) {
  px::utils::set_random_seed(3);
  px::Tensor x, y;
  regression(100, x, y);
  Regressor model(linear_model());
  model.compile(px::kw::optimizer = "adam");
  EXPECT_EQ(model.metrics_names(), (std::vector<std::string>{"loss", "mae"}));
  px::History h = model.fit(x, y, px::kw::epochs = 3, px::kw::batch_size = 32, px::kw::verbose = 0);
  EXPECT_EQ(model.train_calls, 12);  // 4 batches (32, 32, 32, 4) per epoch
  ASSERT_EQ(h.history.at("loss").size(), 3u);
  ASSERT_EQ(h.history.at("mae").size(), 3u);
  // Epoch 3's loss is the mean over its own batches (weighted by rows), not over all epochs.
  const double e3 = (32 * (model.batch_losses[8] + model.batch_losses[9] + model.batch_losses[10]) +
                     4 * model.batch_losses[11]) /
                    100.0;
  EXPECT_NEAR(h.history.at("loss")[2], e3, 1e-6);
  EXPECT_LT(h.history.at("loss")[2], h.history.at("loss")[0]);
}

TEST(CustomStep, SameWeightsAsTheBuiltInFit) {
  px::Tensor x, y;
  regression(64, x, y);
  px::utils::set_random_seed(5);
  px::Model reference = linear_model();
  px::utils::set_random_seed(5);
  Regressor custom(linear_model());
  custom.net.set_weights(reference.get_weights());
  reference.compile(px::kw::optimizer = "sgd", px::kw::loss = "mse");
  custom.compile(px::kw::optimizer = "sgd");
  reference.fit(x, y, px::kw::epochs = 2, px::kw::batch_size = 16, px::kw::shuffle = false,
                px::kw::verbose = 0);
  custom.fit(x, y, px::kw::epochs = 2, px::kw::batch_size = 16, px::kw::shuffle = false,
             px::kw::verbose = 0);
  auto a = reference.get_weights(), b = custom.net.get_weights();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t k = 0; k < a[i].size(); ++k) {
      EXPECT_NEAR(a[i].data()[k], b[i].data()[k], 1e-5);
    }
  }
}

TEST(CustomStep, EvaluatePredictValidationAndDataset) {
  px::utils::set_random_seed(4);
  px::Tensor x, y;
  regression(50, x, y);
  Regressor model(linear_model());
  model.compile(px::kw::optimizer = "adam");
  px::History h = model.fit(x, y, px::kw::epochs = 2, px::kw::batch_size = 10,
                            px::kw::validation_split = 0.2, px::kw::verbose = 0);
  EXPECT_EQ(model.train_calls, 8);  // 40 training rows
  ASSERT_EQ(h.history.at("val_loss").size(), 2u);
  // evaluate: test_step over the batches, the tracker reset first.
  std::vector<double> r = model.evaluate(x, y, px::kw::batch_size = 7, px::kw::verbose = 0);
  ASSERT_EQ(r.size(), 1u);
  px::Tensor p = model.net.predict(x, px::kw::verbose = 0);
  double se = 0;
  for (std::size_t i = 0; i < p.size(); ++i) se += std::pow(p.data()[i] - y.data()[i], 2);
  EXPECT_NEAR(r[0], se / 50.0, 1e-5);
  // predict: predict_step's outputs, stacked.
  px::Tensor q = model.predict(x, px::kw::batch_size = 16);
  ASSERT_EQ(q.shape()[0], 50u);
  for (std::size_t i = 0; i < q.size(); ++i) EXPECT_NEAR(q.data()[i], 2 * p.data()[i], 1e-5);
  // a dataset of batches.
  auto ds = px::data::Dataset::from_tensor_slices(x, y).batch(25);
  model.train_calls = 0;
  px::History hd = model.fit(ds, px::kw::epochs = 2, px::kw::verbose = 0);
  EXPECT_EQ(model.train_calls, 4);
  EXPECT_EQ(hd.history.at("loss").size(), 2u);
  EXPECT_EQ(model.evaluate(ds, px::kw::verbose = 0).size(), 1u);
}

TEST(CustomStep, CompileWithoutLossOnlyForSubclasses) {
  px::Model plain = linear_model();
  EXPECT_THROW(plain.compile(px::kw::optimizer = "adam"), px::Error);
  Regressor custom(linear_model());
  EXPECT_NO_THROW(custom.compile(px::kw::optimizer = "adam"));
  // A subclass that does not override train_step needs the loss for the built-in step.
  auto in = px::Input({2});
  Plain p(in, px::layers::Dense(1)(in));
  p.compile(px::kw::optimizer = "adam");
  px::Tensor x, y;
  regression(8, x, y);
  EXPECT_THROW(p.fit(x, y, px::kw::verbose = 0), px::Error);
}

TEST(CustomStep, DefaultStepsAreTheBuiltInOnes) {
  px::Tensor x, y;
  regression(40, x, y);
  auto in1 = px::Input({2});
  auto d1 = px::layers::Dense(1);
  px::Model reference(in1, d1(in1));
  auto in2 = px::Input({2});
  Plain sub(in2, px::layers::Dense(1)(in2));
  sub.set_weights(reference.get_weights());
  reference.compile(px::kw::optimizer = "sgd", px::kw::loss = "mse", px::kw::metrics = {"mae"});
  sub.compile(px::kw::optimizer = "sgd", px::kw::loss = "mse", px::kw::metrics = {"mae"});
  auto hr = reference.fit(x, y, px::kw::epochs = 2, px::kw::batch_size = 8, px::kw::shuffle = false,
                          px::kw::verbose = 0);
  auto hs = sub.fit(x, y, px::kw::epochs = 2, px::kw::batch_size = 8, px::kw::shuffle = false,
                    px::kw::verbose = 0);
  for (const char* k : {"loss", "mae"}) {
    ASSERT_EQ(hs.history.at(k).size(), 2u) << k;
    for (int e = 0; e < 2; ++e) EXPECT_NEAR(hs.history.at(k)[e], hr.history.at(k)[e], 1e-5) << k;
  }
  auto er = reference.evaluate(x, y, px::kw::verbose = 0);
  auto es = sub.evaluate(x, y, px::kw::verbose = 0);
  ASSERT_EQ(er.size(), es.size());
  for (std::size_t i = 0; i < er.size(); ++i) EXPECT_NEAR(er[i], es[i], 1e-5);
}

TEST(ValueAndGrad, GradientsOfAnyScalarMatchFiniteDifferencesAndTraceOncePerShape) {
  px::utils::set_random_seed(11);
  px::Model net = linear_model();
  auto weights = net.trainable_weights();
  auto f = px::value_and_grad(
      [&](const px::SymbolicTensors& in) -> px::SymbolicTensors {
        auto h = net(in[0]).single();
        auto s = px::ops::sum(px::ops::tanh(h) * h);  // any scalar of intermediate tensors
        return {s, h};
      },
      weights);
  px::Tensor x, y;
  regression(6, x, y);
  std::vector<px::Tensor> in{x};
  auto [values, grads] = f(in);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[1].shape()[0], 6u);
  ASSERT_EQ(grads.size(), weights.size());
  auto value_at = [&] {
    px::Tensor h = net.predict(x, px::kw::verbose = 0);
    double s = 0;
    for (std::size_t i = 0; i < h.size(); ++i) s += std::tanh(h.data()[i]) * h.data()[i];
    return s;
  };
  EXPECT_NEAR(values[0].data()[0], value_at(), 1e-4);
  for (std::size_t w = 0; w < weights.size(); ++w) {
    ASSERT_TRUE(grads[w].has_value());
    for (std::size_t k = 0; k < weights[w].size(); ++k) {
      float& v = weights[w].value().data()[k];
      const float keep = v;
      v = keep + 1e-3f;
      const double up = value_at();
      v = keep - 1e-3f;
      const double down = value_at();
      v = keep;
      EXPECT_NEAR(grads[w]->data()[k], (up - down) / 2e-3, 2e-2 * (1 + std::abs(up - down) / 2e-3));
    }
  }
  f(in);
  EXPECT_EQ(f.traces(), 1u);
  px::Tensor x2, y2;
  regression(3, x2, y2);
  f({x2});
  EXPECT_EQ(f.traces(), 2u);
  // A first value that is not a scalar is refused, naming its shape.
  auto bad = px::value_and_grad(
      [&](const px::SymbolicTensors& in) -> px::SymbolicTensors { return {net(in[0]).single()}; },
      weights);
  try {
    bad(in);
    FAIL() << "expected px::Error";
  } catch (const px::Error& e) {
    EXPECT_NE(std::string(e.what()).find("scalar"), std::string::npos) << e.what();
  }
}

TEST(RandomOps, SeedGeneratorSemantics) {
  px::random::SeedGenerator a(1337), b(1337), c(7);
  px::Tensor a1 = px::random::normal({1000}, 0.0f, 1.0f, a);
  px::Tensor a2 = px::random::normal({1000}, 0.0f, 1.0f, a);
  px::Tensor b1 = px::random::normal({1000}, 0.0f, 1.0f, b);
  px::Tensor c1 = px::random::normal({1000}, 0.0f, 1.0f, c);
  EXPECT_EQ(a.counter(), 2u);
  EXPECT_TRUE(std::equal(a1.begin(), a1.end(), b1.begin()));   // same seed, same draw
  EXPECT_FALSE(std::equal(a1.begin(), a1.end(), a2.begin()));  // the counter advances
  EXPECT_FALSE(std::equal(a1.begin(), a1.end(), c1.begin()));
  double mean = 0, var = 0;
  for (float v : a1) mean += v;
  mean /= 1000;
  for (float v : a1) var += (v - mean) * (v - mean);
  var /= 1000;
  EXPECT_NEAR(mean, 0.0, 0.1);
  EXPECT_NEAR(var, 1.0, 0.15);
  px::Tensor t = px::random::truncated_normal({2000}, 1.0f, 0.5f, a);
  for (float v : t) EXPECT_LE(std::abs(v - 1.0f), 1.0f + 1e-6f);
  px::Tensor u = px::random::uniform({2000}, -2.0f, 3.0f, a);
  for (float v : u) EXPECT_TRUE(v >= -2.0f && v < 3.0f);
  px::Tensor r = px::random::randint({2000}, 0, 5, a);
  std::vector<int> seen(5, 0);
  for (float v : r) {
    ASSERT_TRUE(v >= 0 && v < 5 && v == std::floor(v));
    ++seen[static_cast<int>(v)];
  }
  for (int k : seen) EXPECT_GT(k, 300);
  // Without a seed generator: reproducible under set_random_seed.
  px::utils::set_random_seed(9);
  px::Tensor s1 = px::random::uniform({16});
  px::utils::set_random_seed(9);
  px::Tensor s2 = px::random::uniform({16});
  EXPECT_TRUE(std::equal(s1.begin(), s1.end(), s2.begin()));
  EXPECT_THROW(px::random::uniform({4}, 1.0f, 1.0f), px::Error);
  EXPECT_THROW(px::random::normal({-1, 4}), px::Error);
}

TEST(RandomOps, EagerCategoricalShuffleDropout) {
  px::random::SeedGenerator g(3);
  px::Tensor logits = px::Tensor::from_shape({2, 3});
  const float l[] = {0.0f, 0.0f, 50.0f, 50.0f, 0.0f, 0.0f};
  std::copy_n(l, 6, logits.data());
  px::Tensor c = px::random::categorical(logits, 20, g);
  ASSERT_EQ(c.shape()[1], 20u);
  for (int k = 0; k < 20; ++k) {
    EXPECT_EQ(c(0, k), 2.0f);
    EXPECT_EQ(c(1, k), 0.0f);
  }
  px::Tensor rows = px::Tensor::from_shape({10, 2});
  for (std::size_t i = 0; i < 10; ++i) rows(i, 0) = rows(i, 1) = static_cast<float>(i);
  px::Tensor sh = px::random::shuffle(rows, g);
  std::vector<float> firsts;
  for (std::size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(sh(i, 0), sh(i, 1));  // rows move whole
    firsts.push_back(sh(i, 0));
  }
  std::sort(firsts.begin(), firsts.end());
  for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(firsts[i], static_cast<float>(i));
  px::Tensor ones = px::Tensor::from_shape({4000});
  ones.fill(1.0f);
  px::Tensor d = px::random::dropout(ones, 0.25f, g);
  int kept = 0;
  for (float v : d) {
    ASSERT_TRUE(v == 0.0f || std::abs(v - 1.0f / 0.75f) < 1e-6f);
    kept += v != 0.0f;
  }
  EXPECT_NEAR(kept / 4000.0, 0.75, 0.03);
}

TEST(RandomOps, SymbolicDrawsInsideGraphsDifferPerRunAndFollowTheSeed) {
  auto run = [](std::uint64_t seed) {
    px::random::SeedGenerator g(seed);
    auto x = px::graph::placeholder({3, 4}, "x");
    auto n = px::random::normal(x, 2.0f, 0.5f, g);
    auto d = px::random::dropout(x, 0.5f, g);
    px::graph::Function f({x}, {{"n", n}, {"d", d}});
    px::Tensor in = px::Tensor::from_shape({3, 4});
    in.fill(1.0f);
    auto r1 = f({&in});
    auto r2 = f({&in});
    return std::make_pair(r1, r2);
  };
  auto [a1, a2] = run(5);
  auto [b1, b2] = run(5);
  EXPECT_EQ(a1[0].shape()[0], 3u);
  EXPECT_TRUE(std::equal(a1[0].begin(), a1[0].end(), b1[0].begin()));
  EXPECT_TRUE(std::equal(a2[0].begin(), a2[0].end(), b2[0].begin()));
  EXPECT_FALSE(std::equal(a1[0].begin(), a1[0].end(), a2[0].begin()));
  // The dropout's gradient is its kept mask: d(sum(dropout(x)))/dx = mask.
  px::random::SeedGenerator g(1);
  auto w = px::Input({4});
  px::Model id(w, px::layers::Dense(4, px::kw::use_bias = false)(w));
  auto vg = px::value_and_grad(
      [&](const px::SymbolicTensors& in) -> px::SymbolicTensors {
        auto dd = px::random::dropout(id(in[0]).single(), 0.5f, g);
        return {px::ops::sum(dd), dd};
      },
      id.trainable_weights());
  px::Tensor ones = px::Tensor::from_shape({1, 4});
  ones.fill(1.0f);
  auto [vals, grads] = vg({ones});
  // kernel (4, 4): d/dW[i][j] = x_i * mask_j = mask_j; mask_j = dropped output != 0 ? 2 : 0.
  px::Tensor out = id.predict(ones, px::kw::verbose = 0);
  for (std::size_t j = 0; j < 4; ++j) {
    const float mask = vals[1](0, j) == 0.0f ? 0.0f : 2.0f;
    if (mask != 0.0f) {
      EXPECT_NEAR(vals[1](0, j), 2 * out(0, j), 1e-5);
    }
    for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR((*grads[0])(i, j), mask, 1e-6);
  }
}
