// Keras masks beyond the recurrent layers (layers/masking.hpp) and TimeDistributed
// (layers/time_distributed.hpp): which layers pass a mask on, GlobalAveragePooling1D's
// masked mean, losses and metrics weighted by the mask of a 3-D output (Keras 3's
// compute_loss), each against a mean computed by hand; TimeDistributed's shapes, values,
// gradients, config and Keras 3 weight layout.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/random.hpp"
#include "graph_helpers.hpp"
#include "layers/activations.hpp"
#include "layers/convolution.hpp"
#include "layers/core.hpp"
#include "layers/embedding.hpp"
#include "layers/masking.hpp"
#include "layers/pooling.hpp"
#include "layers/recurrent.hpp"
#include "layers/registry.hpp"
#include "layers/time_distributed.hpp"
#include "optim/model.hpp"
#include "optim/optimizers.hpp"
#include "optim/saving/hdf5.hpp"
#include "optim/saving/saving.hpp"

namespace px = plexus;
namespace L = plexus::layers;
namespace fs = std::filesystem;
using px::Shape;
using px::Tensor;
using px::test::error_message;
using px::test::max_abs_diff;
using px::test::random_tensor;

namespace {

using px::test::contains;

// Token ids with right padding: sample 0 has 3 real steps, sample 1 all 5, sample 2 one.
Tensor padded_ids() { return Tensor{{3, 1, 4, 0, 0}, {2, 7, 1, 8, 2}, {5, 0, 0, 0, 0}}; }

// --- which layers pass a mask on ---------------------------------------------------------

TEST(MaskPropagation, TimeAxisLayersPassItOnOthersDropIt) {
  px::utils::clear_session();
  auto ids = px::Input({-1});
  auto e = L::Embedding(10, 4, {.mask_zero = true})(ids);
  ASSERT_TRUE(px::masking::mask_of(e).defined());
  const auto keeps = [](const px::SymbolicTensor& t) { return px::masking::mask_of(t).defined(); };
  auto d = L::Dense(3)(e);
  EXPECT_TRUE(keeps(d)) << "Dense on [N, T, F]";
  auto a = L::Activation("tanh")(d);
  EXPECT_TRUE(keeps(a)) << "Activation";
  auto r = L::Dropout(0.5)(a);
  EXPECT_TRUE(keeps(r)) << "Dropout";
  EXPECT_TRUE(keeps(L::ReLU()(r))) << "ReLU";
  EXPECT_TRUE(keeps(L::LeakyReLU()(r))) << "LeakyReLU";
  EXPECT_TRUE(keeps(L::ELU()(r))) << "ELU";
  EXPECT_TRUE(keeps(L::PReLU({.shared_axes = {1}})(r))) << "PReLU";
  auto t = L::TimeDistributed(L::Dense(2))(r);
  EXPECT_TRUE(keeps(t)) << "TimeDistributed";
  // The mask is the Embedding's: one mask object all the way.
  EXPECT_EQ(px::masking::mask_of(t).node(), px::masking::mask_of(e).node());
  // Layers that remove the time axis, or do not support masking in Keras, drop it.
  EXPECT_FALSE(keeps(L::GlobalAveragePooling1D()(t)));
  EXPECT_FALSE(keeps(L::GlobalMaxPooling1D()(t)));
  EXPECT_FALSE(keeps(L::LSTM(2)(t)));
  EXPECT_FALSE(
      keeps(L::Flatten()(L::Dense(2)(L::Embedding(10, 4, {.mask_zero = true})(px::Input({5}))))));
  // No mask in, none out.
  auto plain = px::Input({-1, 3});
  EXPECT_FALSE(keeps(L::Dense(2)(plain)));
  EXPECT_FALSE(keeps(L::TimeDistributed(L::Dense(2))(plain)));
}

// --- GlobalAveragePooling1D / GlobalMaxPooling1D --------------------------------------------

TEST(MaskedPooling, AverageIsTheMeanOfTheUnmaskedStepsByHand) {
  px::utils::clear_session();
  auto ids = px::Input({-1});
  auto emb = L::Embedding(10, 3, {.mask_zero = true});
  auto e = emb(ids);
  px::Model pooled(ids, L::GlobalAveragePooling1D()(e));
  px::Model pooled_keep(ids, L::GlobalAveragePooling1D({.keepdims = true})(e));
  px::Model seq(ids, e);
  const Tensor x = padded_ids();
  const Tensor vectors = seq.predict(x);  // [3, 5, 3]
  const Tensor got = pooled.predict(x);   // [3, 3]
  const Tensor got_keep = pooled_keep.predict(x);
  ASSERT_EQ(px::shape_of(got), (Shape{3, 3}));
  ASSERT_EQ(px::shape_of(got_keep), (Shape{3, 1, 3}));
  for (std::size_t n = 0; n < 3; ++n) {
    for (std::size_t f = 0; f < 3; ++f) {
      double sum = 0;
      int steps = 0;
      for (std::size_t t = 0; t < 5; ++t) {
        if (x(n, t) != 0.0f) {
          sum += vectors(n, t, f);
          ++steps;
        }
      }
      EXPECT_NEAR(got(n, f), sum / steps, 1e-6) << n << "," << f;
      EXPECT_NEAR(got_keep(n, 0, f), sum / steps, 1e-6);
    }
  }
  // The padding counts without the mask: sample 0's plain mean differs.
  auto plain_in = px::Input({5, 3});
  px::Model plain(plain_in, L::GlobalAveragePooling1D()(plain_in));
  EXPECT_GT(max_abs_diff(plain.predict(vectors), got), 1e-3);
}

// d L / d (every weight) against central differences (the ids are not differentiable).
double weight_gradient_error(const px::Model& model, const Tensor& x) {
  auto weights = model.trainable_weights();
  px::test::GraphRunner runner(model, weights);
  const auto cots = px::test::cotangents_for(model, x.shape()[0], 31);
  const auto analytic = runner.gradients({x}, cots);
  double worst = 0;
  const float h = 1e-2f;
  for (std::size_t w = 0; w < weights.size(); ++w) {
    Tensor& value = weights[w].value();
    for (std::size_t i = 0; i < value.size(); ++i) {
      const double numeric =
          px::detail::central_difference(value, i, h, [&] { return runner.loss({x}, cots); });
      worst = std::max(worst, px::detail::gradient_error(analytic[w].data()[i], numeric));
    }
  }
  return worst;
}

TEST(MaskedPooling, AverageGradientsMatchFiniteDifferences) {
  px::utils::clear_session();
  auto ids = px::Input({5});
  auto e =
      L::Embedding(10, 3, {.embeddings_initializer = "glorot_uniform", .mask_zero = true})(ids);
  px::Model model(ids,
                  L::Dense(2)(L::GlobalAveragePooling1D()(L::TimeDistributed(L::Dense(3))(e))));
  EXPECT_LT(weight_gradient_error(model, padded_ids()), 2e-3);
}

TEST(MaskedPooling, MaxIgnoresTheMaskAsKeras3Does) {
  px::utils::clear_session();
  auto ids = px::Input({-1});
  auto e = L::Embedding(10, 3, {.mask_zero = true})(ids);
  px::Model pooled(ids, L::GlobalMaxPooling1D()(e));
  px::Model seq(ids, e);
  const Tensor x = padded_ids();
  const Tensor v = seq.predict(x), got = pooled.predict(x);
  for (std::size_t n = 0; n < 3; ++n) {
    for (std::size_t f = 0; f < 3; ++f) {
      float best = v(n, 0, f);
      for (std::size_t t = 1; t < 5; ++t) best = std::max(best, v(n, t, f));
      EXPECT_EQ(got(n, f), best);
    }
  }
}

// --- losses and metrics weighted by the output's mask ------------------------------------

// Embedding(mask_zero) -> Dense(2): a [N, T, 2] output carrying the mask.
px::Model masked_regressor() {
  auto ids = px::Input({-1});
  auto e =
      L::Embedding(10, 3, {.embeddings_initializer = "glorot_uniform", .mask_zero = true})(ids);
  return px::Model(ids, L::Dense(2)(e));
}

TEST(MaskedLoss, MseAndMaeAreMeansOverTheUnmaskedStepsByHand) {
  px::utils::clear_session();
  px::utils::set_random_seed(4);
  px::Model model = masked_regressor();
  model.compile({.optimizer = "sgd", .loss = "mse", .metrics = {"mae", "mse"}});
  const Tensor x = padded_ids();
  const Tensor y = random_tensor({3, 5, 2}, 9);
  const Tensor p = model.predict(x);
  // Keras 3: the step losses (mean over the last axis) weighted by the mask, divided by the
  // number of unmasked steps.
  double se = 0, ae = 0;
  int steps = 0;
  for (std::size_t n = 0; n < 3; ++n) {
    for (std::size_t t = 0; t < 5; ++t) {
      if (x(n, t) == 0.0f) continue;
      ++steps;
      double s = 0, a = 0;
      for (std::size_t f = 0; f < 2; ++f) {
        const double d = p(n, t, f) - y(n, t, f);
        s += d * d;
        a += std::abs(d);
      }
      se += s / 2;
      ae += a / 2;
    }
  }
  const double mse = se / steps, mae = ae / steps;
  for (int batch : {32, 2}) {  // one batch, and batches of unequal valid counts
    SCOPED_TRACE(batch);
    const std::vector<double> r = model.evaluate(x, y, {.batch_size = batch, .verbose = 0});
    ASSERT_EQ(r.size(), 3u);
    EXPECT_NEAR(r[1], mae, 1e-5) << "masked mae metric";
    EXPECT_NEAR(r[2], mse, 1e-5) << "masked mse metric";
    if (batch == 32) {
      EXPECT_NEAR(r[0], mse, 1e-5) << "masked loss";
    }
  }
  // The unmasked mean differs (the padded steps have targets too).
  double all = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    all += (p.data()[i] - y.data()[i]) * (p.data()[i] - y.data()[i]);
  }
  EXPECT_GT(std::abs(all / p.size() - mse), 1e-3);
}

TEST(MaskedLoss, SampleWeightsMultiplyTheMaskAndMaskedStepsGetNoGradient) {
  px::utils::clear_session();
  px::utils::set_random_seed(5);
  px::Model model = masked_regressor();
  model.compile({.optimizer = "sgd", .loss = "mse"});
  const Tensor x = padded_ids();
  const Tensor y = random_tensor({3, 5, 2}, 10);
  const Tensor sw = {1.0f, 0.5f, 2.0f};
  const Tensor p = model.predict(x);
  double num = 0, valid = 0;
  for (std::size_t n = 0; n < 3; ++n) {
    for (std::size_t t = 0; t < 5; ++t) {
      if (x(n, t) == 0.0f) continue;
      valid += 1;
      double s = 0;
      for (std::size_t f = 0; f < 2; ++f) s += std::pow(p(n, t, f) - y(n, t, f), 2);
      num += sw(n) * s / 2;
    }
  }
  const double r = model.evaluate(x, y, {.batch_size = 32, .verbose = 0, .sample_weight = sw})[0];
  EXPECT_NEAR(r, num / valid, 1e-5);
  // Changing the targets of masked steps changes nothing, not the loss nor the gradients.
  Tensor y2 = y;
  y2(0, 4, 0) += 5.0f;
  y2(2, 1, 1) -= 3.0f;
  const auto g1 = model.compute_gradients(x, y), g2 = model.compute_gradients(x, y2);
  EXPECT_NEAR(g1.loss, g2.loss, 1e-6);
  ASSERT_EQ(g1.grads.size(), g2.grads.size());
  for (std::size_t i = 0; i < g1.grads.size(); ++i) {
    ASSERT_TRUE(g1.grads[i] && g2.grads[i]);
    EXPECT_LT(max_abs_diff(*g1.grads[i], *g2.grads[i]), 1e-6);
  }
  // An unmasked step's target does count.
  Tensor y3 = y;
  y3(0, 1, 0) += 1.0f;
  EXPECT_GT(std::abs(model.compute_gradients(x, y3).loss - g1.loss), 1e-3);
}

TEST(MaskedLoss, FitTrainsOnlyOnRealSteps) {
  px::utils::clear_session();
  px::utils::set_random_seed(6);
  auto ids = px::Input({-1});
  auto e = L::Embedding(10, 8, {.mask_zero = true})(ids);
  auto h = L::LSTM(8, {.return_sequences = true})(e);
  px::Model model(ids, L::TimeDistributed(L::Dense(1))(h));
  model.compile({.optimizer = px::optim::Adam({.learning_rate = 0.02}), .loss = "mse"});
  // Target: the token id / 10 at real steps; padded targets are wild and must not matter.
  Tensor x = Tensor::from_shape({64, 6}), y = Tensor::from_shape({64, 6, 1});
  std::mt19937 rng(1);
  for (std::size_t n = 0; n < 64; ++n) {
    const std::size_t len = 2 + n % 5;
    for (std::size_t t = 0; t < 6; ++t) {
      x(n, t) = t < len ? static_cast<float>(1 + rng() % 9) : 0.0f;
      y(n, t, 0) = t < len ? x(n, t) / 10.0f : 100.0f;
    }
  }
  const double before = model.evaluate(x, y, {.verbose = 0})[0];
  model.fit(x, y, {.epochs = 40, .batch_size = 16, .verbose = 0});
  const double after = model.evaluate(x, y, {.verbose = 0})[0];
  EXPECT_LT(after, 0.01) << "before " << before;
  EXPECT_LT(after, before / 10);
}

// --- TimeDistributed ---------------------------------------------------------------------

TEST(TimeDistributed, DenseOnEveryStepSharesOneKernel) {
  px::utils::clear_session();
  auto x = px::Input({-1, 4});
  auto td = L::TimeDistributed(L::Dense(3, "tanh"));
  auto y = td(x);
  EXPECT_EQ(y.shape(), (Shape{-1, -1, 3}));
  EXPECT_EQ(td->count_params(), 15u);
  ASSERT_EQ(td->weights().size(), 2u);
  EXPECT_EQ(td->weights()[0].shape(), (Shape{4, 3}));
  EXPECT_EQ(td->compute_output_shape({-1, 7, 4}), (Shape{-1, 7, 3}));
  px::Model model(x, y);
  EXPECT_EQ(model.count_params(), 15u);
  const Tensor xs = random_tensor({2, 5, 4}, 3);
  const Tensor got = model.predict(xs);
  ASSERT_EQ(px::shape_of(got), (Shape{2, 5, 3}));
  const Tensor& k = td->weights()[0].value();
  const Tensor& b = td->weights()[1].value();
  double worst = 0;
  for (std::size_t n = 0; n < 2; ++n) {
    for (std::size_t t = 0; t < 5; ++t) {
      for (std::size_t j = 0; j < 3; ++j) {
        double s = b(j);
        for (std::size_t i = 0; i < 4; ++i) s += xs(n, t, i) * k(i, j);
        worst = std::max(worst, std::abs(std::tanh(s) - got(n, t, j)));
      }
    }
  }
  EXPECT_LT(worst, 1e-5);
  auto x5 = px::Input({5, 4});
  px::Model fixed(x5, td(x5));  // the same layer on 5 known steps: its gradients
  EXPECT_LT(px::test::gradient_error(fixed, {xs}), 2e-3);
}

TEST(TimeDistributed, ConvPerFrameAndStacking) {
  px::utils::clear_session();
  auto v = px::Input({3, 6, 6, 2});
  auto f = L::TimeDistributed(L::Conv2D(4, 3))(v);
  EXPECT_EQ(f.shape(), (Shape{-1, 3, 4, 4, 4}));
  auto g = L::TimeDistributed(L::Flatten())(f);
  EXPECT_EQ(g.shape(), (Shape{-1, 3, 64}));
  px::Model model(v, L::LSTM(2)(g));
  EXPECT_EQ(model.count_params(), (3u * 3 * 2 * 4 + 4) + 4u * 2 * (64 + 2 + 1));
  const Tensor xs = random_tensor({2, 3, 6, 6, 2}, 4);
  const Tensor out = model.predict(xs);
  EXPECT_EQ(px::shape_of(out), (Shape{2, 2}));
  // Frame 1 of sample 0 alone through the conv equals the time-distributed frame.
  px::Model frames(v, f);
  auto conv = std::dynamic_pointer_cast<L::TimeDistributedLayer>(model.layers()[1]);
  ASSERT_TRUE(conv);
  auto img = px::Input({6, 6, 2});
  px::Model single(img, conv->layer()(img));
  Tensor frame = Tensor::from_shape({1, 6, 6, 2});
  for (std::size_t i = 0; i < frame.size(); ++i) frame.data()[i] = xs.data()[1 * 72 + i];
  const Tensor all = frames.predict(xs), one = single.predict(frame);
  double worst = 0;
  for (std::size_t i = 0; i < one.size(); ++i) {
    worst = std::max(worst, double(std::abs(all.data()[64 + i] - one.data()[i])));
  }
  EXPECT_LT(worst, 1e-6);
}

TEST(TimeDistributed, ConfigRoundTripAndKeras3WeightLayout) {
  px::utils::clear_session();
  auto x = px::Input({4, 3});
  auto td = L::TimeDistributed(L::Dense(2, "relu"), {.name = "per_step"});
  px::Model model(x, td(x));
  const px::Config c = td->get_config();
  EXPECT_EQ(c["name"], "per_step");
  ASSERT_TRUE(c.contains("layer"));
  EXPECT_EQ(c["layer"]["class_name"], "Dense");
  EXPECT_EQ(c["layer"]["config"]["units"], 2);
  px::LayerRef again = L::deserialize(L::serialize(*td));
  EXPECT_EQ(again->class_name(), "TimeDistributed");
  EXPECT_EQ(again->name(), "per_step");
  EXPECT_EQ(again(px::Input({4, 3})).shape(), (Shape{-1, 4, 2}));

  const Tensor xs = random_tensor({2, 4, 3}, 6);
  const Tensor y = model.predict(xs);
  const auto dir = px::test::scratch_dir() / "plexus_time_distributed";
  fs::create_directories(dir);
  const std::string weights = (dir / "td.weights.h5").string();
  model.save_weights(weights);
  {
    // Keras 3: the wrapped layer is the wrapper's attribute "layer".
    const auto f = px::saving::h5::File::open(weights);
    const auto g = f.root().group("layers").group("time_distributed");
    EXPECT_TRUE(g.has_group("vars"));
    ASSERT_TRUE(g.has_group("layer"));
    EXPECT_EQ(g.group("layer").group("vars").children(), (std::vector<std::string>{"0", "1"}));
  }
  const std::string archive = (dir / "td.keras").string();
  model.save(archive);
  EXPECT_EQ(max_abs_diff(px::saving::load_model(archive).predict(xs), y), 0.0);
  auto x2 = px::Input({4, 3});
  px::Model fresh(x2, L::TimeDistributed(L::Dense(2, "relu"))(x2));
  fresh.load_weights(weights);
  EXPECT_EQ(max_abs_diff(fresh.predict(xs), y), 0.0);
  fs::remove_all(dir);
}

TEST(TimeDistributed, ErrorsNameTheLayerAndShape) {
  px::utils::clear_session();
  const std::string rank = error_message([] { L::TimeDistributed(L::Dense(2))(px::Input({4})); });
  EXPECT_TRUE(contains(rank, "TimeDistributed") && contains(rank, "3 dimensions")) << rank;
  const std::string empty = error_message([] { L::TimeDistributed(px::LayerRef()); });
  EXPECT_TRUE(contains(empty, "TimeDistributed")) << empty;
  const std::string cfg = error_message([] {
    L::deserialize(px::Config{{"class_name", "TimeDistributed"}, {"config", {{"name", "t"}}}});
  });
  EXPECT_TRUE(contains(cfg, "\"layer\"")) << cfg;
}

}  // namespace
