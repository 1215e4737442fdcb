// The remaining Keras layers of issue 25 beyond the family tables (test_layers.cpp,
// test_conv_layers.cpp): real Keras 3.15.1 files of these classes (keras3_15_1_zoo) load and
// predict as Keras did; configs round trip with Keras's keys and defaults; the noise layers
// are the identity at inference, random in training with the moments of Keras's formulas,
// and reproducible from px::utils::set_random_seed; values against formulas; errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <plexus.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "graph_helpers.hpp"

namespace px = plexus;
namespace fs = std::filesystem;
namespace L = px::layers;
using px::Config;
using px::Shape;
using px::Tensor;
using px::test::contains;
using px::test::error_message;
using px::test::max_abs_diff;
using px::test::random_tensor;
using px::test::read_text_tensor;

namespace {

// The zoo of tiny Keras 3.15.1 models (tests/graph_helpers.hpp finds ../shared/keras_files).
fs::path zoo() { return px::test::keras_files() / "keras3_15_1_zoo"; }

// Config -> layer -> config gives the same dict.
void expect_config_round_trip(const px::LayerRef& layer) {
  const Config c = px::layers::serialize(*layer);
  const Config again = px::layers::serialize(*px::layers::deserialize(c));
  EXPECT_EQ(again.dump(), c.dump());
}

Tensor predict_one(const px::LayerRef& layer, const Tensor& x) {
  Shape s = px::shape_of(x);
  s.erase(s.begin());
  auto in = px::Input(s);
  px::Model m(in, layer(in));
  return m.predict(x);
}

// Mean and (population) variance of a tensor's entries.
std::pair<double, double> moments(const Tensor& t) {
  double sum = 0, sq = 0;
  for (float v : t) sum += v;
  const double mean = sum / static_cast<double>(t.size());
  for (float v : t) sq += (v - mean) * (v - mean);
  return {mean, sq / static_cast<double>(t.size())};
}

}  // namespace

// --- real Keras files ----------------------------------------------------------------------

class KerasZooRemainingLayers : public ::testing::TestWithParam<std::string> {};

TEST_P(KerasZooRemainingLayers, LoadsAndPredictsAsKeras) {
  const std::string stem = GetParam();
  const fs::path keras = zoo() / (stem + ".keras");
  if (!fs::exists(keras)) GTEST_SKIP() << "no " << keras;
  px::Model m = px::saving::load_model(keras.string());
  std::vector<Tensor> xs;
  for (int i = 0; fs::exists(zoo() / (stem + ".input" + std::to_string(i) + ".txt")); ++i)
    xs.push_back(read_text_tensor(zoo() / (stem + ".input" + std::to_string(i) + ".txt")));
  ASSERT_FALSE(xs.empty());
  const Tensor want = read_text_tensor(zoo() / (stem + ".output0.txt"));
  const Tensor got = m.predict(xs)[0];
  ASSERT_EQ(px::shape_of(got), px::shape_of(want)) << stem;
  EXPECT_LE(max_abs_diff(got, want), 1e-5) << stem;
  // The layer's config survives plexus's own round trip through .keras, .weights.h5 and .h5.
  const fs::path dir = px::test::scratch_dir();
  px::saving::save_model(m, (dir / (stem + ".keras")).string());
  px::saving::save_model(m, (dir / (stem + ".h5")).string());
  EXPECT_LE(
      max_abs_diff(px::saving::load_model((dir / (stem + ".keras")).string()).predict(xs)[0], want),
      1e-5);
  EXPECT_LE(
      max_abs_diff(px::saving::load_model((dir / (stem + ".h5")).string()).predict(xs)[0], want),
      1e-5);
  px::Model fresh = px::saving::load_model(keras.string());
  px::saving::save_weights(m, (dir / (stem + ".weights.h5")).string());
  px::saving::load_weights(fresh, (dir / (stem + ".weights.h5")).string());
  EXPECT_LE(max_abs_diff(fresh.predict(xs)[0], want), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Issue25, KerasZooRemainingLayers,
                         ::testing::Values("Permute", "RepeatVector", "GaussianNoise",
                                           "AlphaDropout", "SpatialDropout3D",
                                           "Dropout_noise_shape", "RMSNormalization",
                                           "UpSampling3D", "GlobalMaxPooling3D",
                                           "AdaptiveAveragePooling1D", "AdaptiveMaxPooling2D",
                                           "AdaptiveAveragePooling3D"),
                         [](const auto& info) { return info.param; });

// --- configs -------------------------------------------------------------------------------

TEST(RemainingLayerConfigs, KerasKeysAndDefaults) {
  Config c = L::RMSNormalization()->get_config();
  EXPECT_EQ(c["axis"].dump(), "[-1]");
  EXPECT_DOUBLE_EQ(c["epsilon"].get<double>(), 1e-6);
  c = L::Permute({2, 1})->get_config();
  EXPECT_EQ(c["dims"].dump(), "[2,1]");
  EXPECT_EQ(L::RepeatVector(3)->get_config()["n"], 3);
  c = L::GaussianNoise(0.1f, px::kw::seed = 3)->get_config();
  EXPECT_DOUBLE_EQ(c["stddev"].get<double>(), 0.1);
  EXPECT_EQ(c["seed"], 3);
  c = L::GaussianDropout(0.3f)->get_config();
  EXPECT_DOUBLE_EQ(c["rate"].get<double>(), 0.3);
  EXPECT_TRUE(c["seed"].is_null());
  c = L::AlphaDropout(0.2f)->get_config();
  EXPECT_TRUE(c["noise_shape"].is_null());
  c = L::Dropout(0.3f, px::kw::noise_shape = Shape{-1, 1, 4})->get_config();
  EXPECT_EQ(c["noise_shape"].dump(), "[null,1,4]");
  c = L::SpatialDropout3D(0.2f)->get_config();
  EXPECT_EQ(c["data_format"], "channels_last");
  EXPECT_FALSE(c.contains("trainable"));  // as Keras 3 writes spatial dropout
  c = L::UpSampling3D()->get_config();
  EXPECT_EQ(c["size"].dump(), "[2,2,2]");
  EXPECT_FALSE(c.contains("interpolation"));  // Keras's UpSampling3D has none
  EXPECT_EQ(L::ZeroPadding3D()->get_config()["padding"].dump(), "[[1,1],[1,1],[1,1]]");
  EXPECT_EQ(L::Cropping3D()->get_config()["cropping"].dump(), "[[0,0],[0,0],[0,0]]");
  EXPECT_EQ(L::GlobalAveragePooling3D()->get_config()["keepdims"], false);
  EXPECT_EQ(L::Identity()->get_config().size(), 3u);  // name, trainable, dtype
  EXPECT_EQ(L::AdaptiveAveragePooling1D(3)->get_config()["output_size"].dump(), "[3]");
  EXPECT_EQ(L::AdaptiveMaxPooling3D(2)->get_config()["output_size"].dump(), "[2,2,2]");
  // Class names, default names and aliases.
  px::utils::clear_session();
  EXPECT_EQ(L::GlobalMaxPooling3D()->name(), "global_max_pooling3d");
  EXPECT_EQ(L::SpatialDropout3D(0.1f)->name(), "spatial_dropout3d");
  EXPECT_EQ(L::RMSNormalization()->name(), "rms_normalization");
  EXPECT_EQ(px::layers::deserialize(Config("GlobalAvgPool3D"))->class_name(),
            "GlobalAveragePooling3D");
}

TEST(RemainingLayerConfigs, RoundTrip) {
  expect_config_round_trip(L::Identity());
  expect_config_round_trip(L::Permute({3, 1, 2}));
  expect_config_round_trip(L::RepeatVector(5));
  expect_config_round_trip(L::GaussianNoise(0.25f, px::kw::seed = 7));
  expect_config_round_trip(L::GaussianDropout(0.5f));
  expect_config_round_trip(L::AlphaDropout(0.1f, px::kw::noise_shape = Shape{-1, 1, 3}));
  expect_config_round_trip(L::Dropout(0.2f, px::kw::noise_shape = Shape{-1, 1, 4}));
  expect_config_round_trip(L::RMSNormalization({.axis = {1, 2}, .epsilon = 1e-3f}));
  expect_config_round_trip(L::SpatialDropout3D(0.3f, {.data_format = "channels_first"}));
  expect_config_round_trip(L::UpSampling3D({1, 2, 3}));
  expect_config_round_trip(L::ZeroPadding3D({{1, 0}, {0, 2}, {1, 1}}));
  expect_config_round_trip(L::Cropping3D(1, {.data_format = "channels_first"}));
  expect_config_round_trip(L::GlobalMaxPooling3D({.keepdims = true}));
  expect_config_round_trip(L::GlobalAveragePooling3D());
  expect_config_round_trip(L::AdaptiveAveragePooling2D({2, 3}));
  expect_config_round_trip(L::AdaptiveMaxPooling3D(2, {.data_format = "channels_first"}));
}

// --- values --------------------------------------------------------------------------------

TEST(RemainingLayerValues, PermuteAndRepeatVector) {
  Tensor x = random_tensor({2, 3, 4}, 3);
  Tensor y = predict_one(L::Permute({2, 1}), x);
  ASSERT_EQ(px::shape_of(y), (Shape{2, 4, 3}));
  for (std::size_t b = 0; b < 2; ++b)
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t j = 0; j < 4; ++j) EXPECT_EQ(y(b, j, i), x(b, i, j));
  Tensor v = random_tensor({2, 4}, 4);
  Tensor r = predict_one(L::RepeatVector(3), v);
  ASSERT_EQ(px::shape_of(r), (Shape{2, 3, 4}));
  for (std::size_t b = 0; b < 2; ++b)
    for (std::size_t k = 0; k < 3; ++k)
      for (std::size_t j = 0; j < 4; ++j) EXPECT_EQ(r(b, k, j), v(b, j));
}

TEST(RemainingLayerValues, RMSNormalizationFormula) {
  Tensor x = random_tensor({2, 3, 4}, 9);
  auto layer = L::RMSNormalization({.axis = {1, 2}, .epsilon = 1e-3f});
  Tensor y = predict_one(layer, x);
  for (std::size_t b = 0; b < 2; ++b) {
    double ms = 0;
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t j = 0; j < 4; ++j) ms += x(b, i, j) * x(b, i, j);
    const double inv = 1.0 / std::sqrt(ms / 12.0 + 1e-3);
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t j = 0; j < 4; ++j) EXPECT_NEAR(y(b, i, j), x(b, i, j) * inv, 1e-5);
  }
  EXPECT_EQ(layer->weights()[0].shape(), (Shape{3, 4}));
}

TEST(RemainingLayerValues, AdaptivePoolingBins) {
  // Length 5 into 3 bins: [0, 2), [1, 4), [3, 5) (floor(i L / O), ceil((i + 1) L / O)).
  // [1, steps, 1] from the values of the steps.
  auto seq = [](std::initializer_list<float> v) {
    Tensor t;
    px::resize_to(t, {1, static_cast<px::Dim>(v.size()), 1});
    std::copy(v.begin(), v.end(), t.data());
    return t;
  };
  const Tensor x = seq({1, 2, 3, 4, 5});
  EXPECT_EQ(predict_one(L::AdaptiveAveragePooling1D(3), x), seq({1.5f, 3.0f, 4.5f}));
  EXPECT_EQ(predict_one(L::AdaptiveMaxPooling1D(3), x), seq({2, 4, 5}));
  // More bins than steps repeat the steps.
  EXPECT_EQ(predict_one(L::AdaptiveMaxPooling1D(4), seq({1, 2})), seq({1, 1, 2, 2}));
}

TEST(RemainingLayerValues, BilinearUpSampling2D) {
  // Keras (jax.image.resize / tf.image.resize with half-pixel centres) upsamples [0, 1, 2, 3]
  // by 2 to [0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3]: source (o + 0.5) / 2 - 0.5, clamped.
  Tensor x = xt::zeros<float>({std::size_t{1}, std::size_t{1}, std::size_t{4}, std::size_t{1}});
  for (std::size_t i = 0; i < 4; ++i) x(0, 0, i, 0) = static_cast<float>(i);
  const Tensor y = predict_one(L::UpSampling2D({1, 2}, {.interpolation = "bilinear"}), x);
  ASSERT_EQ(px::shape_of(y), (Shape{1, 1, 8, 1}));
  const float want[] = {0, 0.25f, 0.75f, 1.25f, 1.75f, 2.25f, 2.75f, 3};
  for (std::size_t i = 0; i < 8; ++i) EXPECT_NEAR(y(0, 0, i, 0), want[i], 1e-6) << i;
  // Both axes: separable, and constant images stay constant.
  Tensor ones = xt::ones<float>({std::size_t{2}, std::size_t{3}, std::size_t{2}, std::size_t{3}});
  const Tensor u = predict_one(L::UpSampling2D(3, {.interpolation = "bilinear"}), ones);
  ASSERT_EQ(px::shape_of(u), (Shape{2, 9, 6, 3}));
  for (float v : u) EXPECT_NEAR(v, 1.0f, 1e-6);
  expect_config_round_trip(L::UpSampling2D(2, {.interpolation = "bilinear"}));
  EXPECT_EQ(L::UpSampling2D(2, {.interpolation = "bilinear"})->get_config()["interpolation"],
            "bilinear");
  EXPECT_THROW(L::UpSampling3D(2, {.interpolation = "bilinear"}), px::Error);
}

TEST(RemainingLayerValues, GlobalPooling3DAndUpSampling3D) {
  Tensor x = random_tensor({2, 2, 3, 2, 4}, 5);
  Tensor mx = predict_one(L::GlobalMaxPooling3D(), x);
  Tensor av = predict_one(L::GlobalAveragePooling3D(), x);
  for (std::size_t b = 0; b < 2; ++b) {
    for (std::size_t c = 0; c < 4; ++c) {
      float m = -1e30f;
      double s = 0;
      for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 3; ++j)
          for (std::size_t k = 0; k < 2; ++k) {
            m = std::max(m, x(b, i, j, k, c));
            s += x(b, i, j, k, c);
          }
      EXPECT_EQ(mx(b, c), m);
      EXPECT_NEAR(av(b, c), s / 12.0, 1e-6);
    }
  }
  Tensor u = predict_one(L::UpSampling3D({2, 1, 3}), x);
  ASSERT_EQ(px::shape_of(u), (Shape{2, 4, 3, 6, 4}));
  EXPECT_EQ(u(1, 3, 2, 5, 3), x(1, 1, 2, 1, 3));
  EXPECT_EQ(u(0, 2, 1, 2, 0), x(0, 1, 1, 0, 0));
  Tensor p = predict_one(L::ZeroPadding3D(1), x);
  ASSERT_EQ(px::shape_of(p), (Shape{2, 4, 5, 4, 4}));
  EXPECT_EQ(p(0, 0, 0, 0, 0), 0.0f);
  EXPECT_EQ(p(1, 1, 1, 1, 2), x(1, 0, 0, 0, 2));
  Tensor c = predict_one(L::Cropping3D({{1, 0}, {1, 1}, {0, 1}}), x);
  ASSERT_EQ(px::shape_of(c), (Shape{2, 1, 1, 1, 4}));
  EXPECT_EQ(c(1, 0, 0, 0, 3), x(1, 1, 1, 0, 3));
}

// --- the noise layers: identity at inference, Keras's moments in training ---------------------

TEST(NoiseLayers, IdentityAtInference) {
  Tensor x = random_tensor({4, 50}, 11);
  EXPECT_EQ(predict_one(L::GaussianNoise(0.5f), x), x);
  EXPECT_EQ(predict_one(L::GaussianDropout(0.5f), x), x);
  EXPECT_EQ(predict_one(L::AlphaDropout(0.5f), x), x);
  EXPECT_EQ(predict_one(L::Dropout(0.5f, px::kw::noise_shape = Shape{-1, 1}), x), x);
  Tensor v = random_tensor({2, 2, 2, 2, 3}, 12);
  EXPECT_EQ(predict_one(L::SpatialDropout3D(0.5f), v), v);
}

TEST(NoiseLayers, TrainingMomentsFollowKerasFormulas) {
  px::utils::set_random_seed(21);
  const std::size_t n = 200000;
  auto in = px::Input({static_cast<px::Dim>(n)});
  Tensor zeros = xt::zeros<float>({std::size_t{1}, n});
  Tensor ones = xt::ones<float>({std::size_t{1}, n});
  // GaussianNoise: x + N(0, stddev^2).
  px::Model gn(in, L::GaussianNoise(0.5f)(in));
  auto [m0, v0] = moments(gn(zeros, true));
  EXPECT_NEAR(m0, 0.0, 0.01);
  EXPECT_NEAR(v0, 0.25, 0.01);
  // GaussianDropout: x * N(1, rate / (1 - rate)).
  px::Model gd(in, L::GaussianDropout(0.2f)(in));
  auto [m1, v1] = moments(gd(ones, true));
  EXPECT_NEAR(m1, 1.0, 0.01);
  EXPECT_NEAR(v1, 0.25, 0.01);
  // AlphaDropout keeps zero mean and unit variance of standard normal inputs.
  px::Model noise(in, L::GaussianNoise(1.0f)(in));
  const Tensor normal = noise(zeros, true);
  px::Model ad(in, L::AlphaDropout(0.3f)(in));
  const Tensor y = ad(normal, true);
  auto [m2, v2] = moments(y);
  EXPECT_NEAR(m2, 0.0, 0.02);
  EXPECT_NEAR(v2, 1.0, 0.03);
  // The dropped entries all take the same value, a * alpha' + b.
  const double alpha_p = -1.6732632423543772 * 1.0507009873554805, r = 0.3;
  const double a = std::pow((1 - r) * (1 + r * alpha_p * alpha_p), -0.5);
  const double dropped = a * alpha_p - a * alpha_p * r;
  std::size_t count = 0;
  for (float v : y) count += std::abs(v - dropped) < 1e-6 ? 1 : 0;
  EXPECT_NEAR(static_cast<double>(count) / n, r, 0.01);
}

TEST(NoiseLayers, ReproducibleFromTheLibrarySeed) {
  auto in = px::Input({64});
  px::Model m(in, L::GaussianDropout(0.3f)(L::GaussianNoise(0.2f)(in)));
  Tensor x = random_tensor({3, 64}, 2);
  px::utils::set_random_seed(5);
  const Tensor a = m(x, true);
  const Tensor b = m(x, true);
  px::utils::set_random_seed(5);
  const Tensor c = m(x, true);
  EXPECT_EQ(a, c);
  EXPECT_NE(a, b);
}

TEST(NoiseLayers, DropoutNoiseShapeSharesTheMask) {
  px::utils::set_random_seed(8);
  auto in = px::Input({6, 40});
  px::Model m(in, L::Dropout(0.5f, px::kw::noise_shape = Shape{-1, 1, 40})(in));
  Tensor x = xt::ones<float>({2, 6, 40});
  const Tensor y = m(x, true);
  std::size_t dropped = 0;
  for (std::size_t b = 0; b < 2; ++b) {
    for (std::size_t f = 0; f < 40; ++f) {
      for (std::size_t t = 1; t < 6; ++t) EXPECT_EQ(y(b, t, f), y(b, 0, f));
      EXPECT_TRUE(y(b, 0, f) == 0.0f || y(b, 0, f) == 2.0f);
      dropped += y(b, 0, f) == 0.0f;
    }
  }
  EXPECT_GT(dropped, 10u);
  EXPECT_LT(dropped, 70u);
}

TEST(NoiseLayers, GradientsInTrainingFollowTheDrawnNoise) {
  // GaussianDropout's gradient is the drawn factor: y / x elementwise.
  px::utils::set_random_seed(4);
  auto in = px::Input({8});
  px::Model m(in, L::GaussianDropout(0.3f)(in));
  px::test::GraphRunner runner(m, {}, /*wrt_feeds=*/true);
  Tensor x = random_tensor({2, 8}, 6, 0.5f, 1.0f);
  Tensor g = xt::ones<float>({2, 8});
  const Tensor gx = runner.feed_gradients({x}, {g}, /*training=*/true)[0];
  px::utils::set_random_seed(4);  // the same draw again
  const Tensor y2 = runner.forward({x}, /*training=*/true)[0];
  for (std::size_t i = 0; i < x.size(); ++i)
    EXPECT_NEAR(gx.data()[i], y2.data()[i] / x.data()[i], 1e-5);
}

// --- errors --------------------------------------------------------------------------------

TEST(RemainingLayerErrors, ArgumentsAndShapes) {
  std::string msg = error_message([] { L::Permute({1, 3}); });
  EXPECT_TRUE(contains(msg, "Permute") && contains(msg, "(1, 3)")) << msg;
  msg = error_message([] {
    auto in = px::Input({3, 4, 5});
    L::Permute({2, 1})(in);
  });
  EXPECT_TRUE(contains(msg, "ndim=3") && contains(msg, "ndim=4")) << msg;
  msg = error_message([] { L::RepeatVector(0); });
  EXPECT_TRUE(contains(msg, "RepeatVector") && contains(msg, "n=0")) << msg;
  msg = error_message([] {
    auto in = px::Input({3, 4});
    L::RepeatVector(2)(in);
  });
  EXPECT_TRUE(contains(msg, "ndim=2")) << msg;
  msg = error_message([] { L::GaussianNoise(-1.0f); });
  EXPECT_TRUE(contains(msg, "GaussianNoise") && contains(msg, "stddev")) << msg;
  msg = error_message([] { L::GaussianDropout(1.0f); });
  EXPECT_TRUE(contains(msg, "GaussianDropout") && contains(msg, "rate")) << msg;
  msg = error_message([] { L::AlphaDropout(-0.1f); });
  EXPECT_TRUE(contains(msg, "AlphaDropout")) << msg;
  msg = error_message([] {
    auto in = px::Input({3, 4});
    L::Dropout(0.5f, px::kw::noise_shape = Shape{-1, 2, 4})(in);
  });
  EXPECT_TRUE(contains(msg, "noise_shape") && contains(msg, "(None, 2, 4)")) << msg;
  msg = error_message([] {
    auto in = px::Input({3, 4});
    L::Dropout(0.5f, px::kw::noise_shape = Shape{-1, 4})(in);
  });
  EXPECT_TRUE(contains(msg, "one entry per axis")) << msg;
  msg = error_message([] {
    auto in = px::Input({3, 4});
    L::SpatialDropout3D(0.5f)(in);
  });
  EXPECT_TRUE(contains(msg, "ndim=5")) << msg;
  msg = error_message([] {
    auto in = px::Input({2, 3, 4});
    L::GlobalMaxPooling3D()(in);
  });
  EXPECT_TRUE(contains(msg, "ndim=5")) << msg;
  msg = error_message([] {
    px::layers::deserialize(Config::parse(
        R"({"class_name": "AlphaDropout", "config": {"name": "a", "rate": 0.1, "noise_shape": "x"}})"));
  });
  EXPECT_TRUE(contains(msg, "AlphaDropout \"a\"") && contains(msg, "noise_shape")) << msg;
}
