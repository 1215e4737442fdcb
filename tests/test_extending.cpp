// Extending without subclassing: Lambda layers, losses and metrics as C++ callables,
// Keras's lowercase merging functions.
#include <gtest/gtest.h>

#include <plexus.hpp>

namespace px = plexus;
namespace kw = px::kw;
using ST = px::SymbolicTensor;

TEST(Extending, LambdaLayerOfOps) {
  auto x = px::Input({3});
  auto sq = px::layers::Lambda([](const ST& t) { return px::ops::square(t); }, kw::name = "sq");
  auto y = sq(x);
  EXPECT_EQ(y.shape(), (px::Shape{-1, 3}));
  px::Model m(x, y);
  const px::Tensor in = {{1.f, -2.f, 3.f}};
  const px::Tensor out = m.predict(in);
  EXPECT_FLOAT_EQ(out(0, 1), 4.0f);
  EXPECT_EQ(m.get_layer("sq").class_name(), "Lambda");
  // Several inputs.
  auto a = px::Input({2}), b = px::Input({2});
  auto diff = px::layers::Lambda(
      [](const std::vector<ST>& xs) { return px::ops::abs(xs[0] - xs[1]); }, {.name = "absdiff"});
  px::Model m2({a, b}, {diff({a, b})});
  const auto r = m2.predict({px::Tensor{{1.f, 5.f}}, px::Tensor{{3.f, 1.f}}});
  EXPECT_FLOAT_EQ(r[0](0, 0), 2.0f);
  EXPECT_FLOAT_EQ(r[0](0, 1), 4.0f);
  // A Lambda's gradient comes from autodiff: it trains inside a model.
  px::utils::set_random_seed(2);
  auto xi = px::Input({2});
  auto h =
      px::layers::Lambda([](const ST& t) { return px::ops::tanh(t); })(px::layers::Dense(4)(xi));
  px::Model net(xi, px::layers::Dense(1)(h));
  net.compile(kw::optimizer = "adam", kw::loss = "mse");
  const px::Tensor xs = {{0.f, 1.f}, {1.f, 0.f}, {1.f, 1.f}, {0.f, 0.f}};
  const px::Tensor ys = px::utils::reshape(px::Tensor{1.f, 1.f, 0.f, 0.f}, {4, 1});
  EXPECT_LT(px::testing::check_gradients(net, {xs}, {ys}), 1e-2);
}

TEST(Extending, LossAndMetricAsCallables) {
  auto rmse = [](const ST& t, const ST& p) {
    return px::ops::sqrt(px::ops::mean(px::ops::square(t - p), {-1}));
  };
  const px::Tensor yt = {{0.f, 0.f}, {1.f, 1.f}};
  const px::Tensor yp = {{3.f, 4.f}, {1.f, 1.f}};
  px::losses::LossFunction loss("rmse", rmse);
  // per sample: sqrt((9 + 16) / 2), 0 -> mean over the batch.
  EXPECT_NEAR(loss(yt, yp), std::sqrt(12.5) / 2, 1e-6);

  px::utils::set_random_seed(3);
  px::Sequential model({px::Input({2}), px::layers::Dense(2)});
  auto max_err = px::metrics::MetricFunction(
      "max_err", [](const ST& t, const ST& p) { return px::ops::max(px::ops::abs(t - p), {-1}); });
  model.compile(kw::optimizer = "sgd", kw::loss = rmse, kw::metrics = {max_err});
  EXPECT_EQ(model.metrics_names(), (std::vector<std::string>{"loss", "max_err"}));
  const auto scores = model.evaluate(yt, yp, kw::verbose = 0);
  // The loss is the callable's, evaluated on the model's predictions.
  const px::Tensor pred = model.predict(yt);
  EXPECT_NEAR(scores[0], loss(yp, pred), 1e-5);
  const double e0 = std::max(std::abs(yp(0, 0) - pred(0, 0)), std::abs(yp(0, 1) - pred(0, 1)));
  const double e1 = std::max(std::abs(yp(1, 0) - pred(1, 0)), std::abs(yp(1, 1) - pred(1, 1)));
  EXPECT_NEAR(scores[1], (e0 + e1) / 2, 1e-5);
  // The designated form takes the callable as well.
  model.compile({.optimizer = "sgd", .loss = rmse});
  EXPECT_NEAR(model.evaluate(yt, yp, kw::verbose = 0)[0], scores[0], 1e-6);
}

TEST(Extending, LowercaseMergingFunctions) {
  auto a = px::Input({2}, "a"), b = px::Input({2}, "b");
  const px::Tensor xa = {{1.f, 4.f}}, xb = {{3.f, 2.f}};
  auto run = [&](const ST& out) { return px::Model({a, b}, {out}).predict({xa, xb})[0]; };
  EXPECT_EQ(run(px::layers::concatenate({a, b})).shape()[1], 4u);
  EXPECT_FLOAT_EQ(run(px::layers::concatenate({a, b}, -1))(0, 2), 3.0f);
  EXPECT_FLOAT_EQ(run(px::layers::add({a, b}))(0, 0), 4.0f);
  EXPECT_FLOAT_EQ(run(px::layers::subtract({a, b}))(0, 0), -2.0f);
  EXPECT_FLOAT_EQ(run(px::layers::multiply({a, b}))(0, 1), 8.0f);
  EXPECT_FLOAT_EQ(run(px::layers::average({a, b}))(0, 1), 3.0f);
  EXPECT_FLOAT_EQ(run(px::layers::maximum({a, b}))(0, 0), 3.0f);
  EXPECT_FLOAT_EQ(run(px::layers::minimum({a, b}))(0, 0), 1.0f);
  auto named = px::layers::add({a, b}, {.name = "sum"});
  EXPECT_EQ(named.history()->layer->name(), "sum");
}
