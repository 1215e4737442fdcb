// Image preprocessing layers (layers/preprocessing_image.hpp): Rescaling, Resizing and
// CenterCrop against Keras 3.15.1's files and jax.image.resize's formulas; output shapes,
// parameter counts, defaults, config round trips, gradients and errors.
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
#include "optim/saving/saving.hpp"

namespace px = plexus;
namespace kw = px::kw;
namespace fs = std::filesystem;
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

// A one-layer model on images of `shape` (without the batch axis).
px::Model one_layer(const px::LayerRef& layer, const Shape& shape) {
  auto x = px::Input(shape);
  return px::Model(x, (*layer)(x));
}

// The layer applied to one (1, h, w, 1) image given row by row.
Tensor apply_2d(const px::LayerRef& layer, const std::vector<std::vector<float>>& rows) {
  const auto h = rows.size(), w = rows[0].size();
  Tensor img = Tensor::from_shape({1, h, w, 1});
  for (std::size_t i = 0; i < h; ++i)
    for (std::size_t j = 0; j < w; ++j) img(0, i, j, 0) = rows[i][j];
  return one_layer(layer, {static_cast<px::Dim>(h), static_cast<px::Dim>(w), 1}).predict(img);
}

// Config -> layer -> config is the identity; the class name survives serialize/deserialize.
void expect_round_trip(const px::Layer& layer) {
  const Config c = layer.get_config();
  const px::LayerRef again = px::layers::deserialize(px::layers::serialize(layer));
  EXPECT_EQ(again->class_name(), layer.class_name());
  EXPECT_EQ(again->get_config().dump(), c.dump());
}

}  // namespace

// --- Keras's files ---------------------------------------------------------------------------

// Keras 3.15.1: Rescaling(1/255) -> Resizing(24, 24, bilinear) -> CenterCrop(20, 20) ->
// Conv2D -> GlobalAveragePooling2D -> Dense, in .keras and legacy .h5.
TEST(ImagePreprocessing, KerasRescalingResizingCenterCropModelPredictsAsKeras) {
  const fs::path dir = zoo();
  if (!fs::exists(dir / "prep_bilinear_crop.keras")) GTEST_SKIP() << "no " << dir;
  const Tensor x = read_text_tensor(dir / "prep_bilinear_crop.input0.txt");
  const Tensor want = read_text_tensor(dir / "prep_bilinear_crop.output0.txt");
  for (const char* file : {"prep_bilinear_crop.keras", "prep_bilinear_crop.h5"}) {
    px::Model m = px::saving::load_model((dir / file).string());
    EXPECT_LE(max_abs_diff(m.predict(x), want), 1e-4) << file;
    // The cropped image (Keras's intermediate output), from the loaded layers.
    auto in = px::Input({32, 32, 3});
    auto h = m.get_layer("rescale")(in);
    h = m.get_layer("resize")(h);
    h = m.get_layer("crop")(h);
    const Tensor crop = px::Model(in, h).predict(x);
    EXPECT_LE(max_abs_diff(crop, read_text_tensor(dir / "prep_bilinear_crop.intermediate.txt")),
              1e-5)
        << file;
  }
}

// --- Rescaling -------------------------------------------------------------------------------

TEST(ImagePreprocessing, RescalingScalesAndOffsets) {
  auto r = px::layers::Rescaling(1.0 / 127.5, kw::offset = -1.0);
  px::Model m = one_layer(r, {2, 2, 1});
  Tensor x = Tensor::from_shape({1, 2, 2, 1});
  x(0, 0, 0, 0) = 0.0f;
  x(0, 0, 1, 0) = 127.5f;
  x(0, 1, 0, 0) = 255.0f;
  x(0, 1, 1, 0) = 51.0f;
  const Tensor y = m.predict(x);
  EXPECT_NEAR(y(0, 0, 0, 0), -1.0f, 1e-6);
  EXPECT_NEAR(y(0, 0, 1, 0), 0.0f, 1e-6);
  EXPECT_NEAR(y(0, 1, 0, 0), 1.0f, 1e-6);
  EXPECT_NEAR(y(0, 1, 1, 0), -0.6f, 1e-6);
  EXPECT_EQ(m.count_params(), 0u);
  // Any rank: the output shape is the input's.
  EXPECT_EQ(one_layer(px::layers::Rescaling(2.0), {7}).outputs()[0].shape(), (Shape{-1, 7}));
  // Defaults, keyword and positional forms.
  EXPECT_EQ(px::layers::Rescaling(0.5)->offset(), 0.0);
  EXPECT_EQ(px::layers::Rescaling(kw::scale = 0.25)->scale(), 0.25);
  EXPECT_LT(px::test::gradient_error(one_layer(px::layers::Rescaling(0.5, kw::offset = 2.0), {3}),
                                     {random_tensor({2, 3}, 3)}),
            1e-3);
}

TEST(ImagePreprocessing, RescalingConfigAsKeras) {
  auto r = px::layers::Rescaling(1.0 / 255, kw::name = "rescale");
  const Config c = r->get_config();
  EXPECT_EQ(c["name"], "rescale");
  EXPECT_DOUBLE_EQ(c["scale"].get<double>(), 1.0 / 255);
  EXPECT_EQ(c["offset"].get<double>(), 0.0);
  expect_round_trip(*r);
  Config bad = c;
  bad["scale"] = Config::array({0.5, 0.25});
  const std::string msg = error_message([&] { px::layers::RescalingLayer::from_config(bad); });
  EXPECT_TRUE(contains(msg, "Rescaling \"rescale\"") && contains(msg, "scale")) << msg;
  EXPECT_THROW(px::layers::Rescaling(NAN), px::Error);
}

// --- Resizing --------------------------------------------------------------------------------

// tf.image.resize's documented example (half-pixel bilinear, as jax.image.resize).
TEST(ImagePreprocessing, ResizingBilinearMatchesTheDocumentedExample) {
  const std::vector<std::vector<float>> eye = {
      {1, 0, 0, 0, 0}, {0, 1, 0, 0, 0}, {0, 0, 1, 0, 0}, {0, 0, 0, 1, 0}, {0, 0, 0, 0, 1}};
  const Tensor y = apply_2d(px::layers::Resizing(3, 5), eye);
  ASSERT_EQ(px::shape_of(y), (Shape{1, 3, 5, 1}));
  const float want[3][5] = {
      {0.6666667f, 0.3333333f, 0, 0, 0}, {0, 0, 1, 0, 0}, {0, 0, 0, 0.3333333f, 0.6666667f}};
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 5; ++j) EXPECT_NEAR(y(0, i, j, 0), want[i][j], 1e-6) << i << j;
}

TEST(ImagePreprocessing, ResizingNearestTakesTheHalfPixelSource) {
  // 4 -> 3: sources floor((o + 0.5) * 4 / 3) = 0, 2, 3; 2 -> 4: 0, 0, 1, 1.
  const Tensor y = apply_2d(px::layers::Resizing(4, 3, kw::interpolation = "nearest"),
                            {{1, 2, 3, 4}, {5, 6, 7, 8}});
  const float want[4][3] = {{1, 3, 4}, {1, 3, 4}, {5, 7, 8}, {5, 7, 8}};
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 3; ++j) EXPECT_EQ(y(0, i, j, 0), want[i][j]) << i << j;
}

// Upsampling 2 -> 4 with Keys' cubic (a = -0.5): sample positions -0.25, 0.25, 0.75, 1.25;
// weights k(|s - i|) over the two inputs, normalised.
TEST(ImagePreprocessing, ResizingBicubicAndLanczosFollowTheirKernels) {
  auto keys = [](double x) {
    x = std::abs(x);
    if (x >= 2) return 0.0;
    if (x >= 1) return ((-0.5 * x + 2.5) * x - 4) * x + 2;
    return (1.5 * x - 2.5) * x * x + 1;
  };
  auto lanczos = [](double r, double x) {
    x = std::abs(x);
    if (x > r) return 0.0;
    if (x < 1e-3) return 1.0;
    const double pi = std::acos(-1.0);
    return r * std::sin(pi * x) * std::sin(pi * x / r) / (pi * pi * x * x);
  };
  const std::vector<std::vector<float>> row = {{2, 10}};
  for (const std::string method : {"bicubic", "lanczos3", "lanczos5"}) {
    const Tensor y = apply_2d(px::layers::Resizing(1, 4, kw::interpolation = method), row);
    for (int o = 0; o < 4; ++o) {
      const double s = (o + 0.5) / 2.0 - 0.5;
      auto k = [&](double x) {
        return method == "bicubic" ? keys(x) : lanczos(method == "lanczos3" ? 3 : 5, x);
      };
      const double w0 = k(s), w1 = k(s - 1);
      EXPECT_NEAR(y(0, 0, o, 0), (2 * w0 + 10 * w1) / (w0 + w1), 1e-5) << method << o;
    }
  }
  // Every interpolation keeps a constant image constant (weights sum to 1).
  for (const std::string method : {"bilinear", "nearest", "bicubic", "lanczos3", "lanczos5"}) {
    for (bool aa : {false, true}) {
      auto layer = px::layers::Resizing(3, 7, kw::interpolation = method, kw::antialias = aa);
      const Tensor y =
          one_layer(layer, {9, 4, 2}).predict(Tensor(xt::ones<float>({2, 9, 4, 2}) * 3.0f));
      EXPECT_LE(max_abs_diff(y, Tensor(xt::ones<float>({2, 3, 7, 2}) * 3.0f)), 1e-5) << method;
    }
  }
}

// Antialiased downscaling 4 -> 2 widens the triangle by 2: output 0 samples 0.5 and weighs
// inputs 0, 1, 2 by 0.75, 0.75, 0.25 (normalised by 1.75).
TEST(ImagePreprocessing, ResizingAntialiasWidensTheKernel) {
  const std::vector<std::vector<float>> row = {{1, 2, 4, 8}};
  const Tensor aa = apply_2d(px::layers::Resizing(1, 2, kw::antialias = true), row);
  EXPECT_NEAR(aa(0, 0, 0, 0), (0.75 * 1 + 0.75 * 2 + 0.25 * 4) / 1.75, 1e-6);
  EXPECT_NEAR(aa(0, 0, 1, 0), (0.25 * 2 + 0.75 * 4 + 0.75 * 8) / 1.75, 1e-6);
  const Tensor plain = apply_2d(px::layers::Resizing(1, 2), row);
  EXPECT_NEAR(plain(0, 0, 0, 0), 1.5, 1e-6);
  EXPECT_NEAR(plain(0, 0, 1, 0), 6.0, 1e-6);
}

TEST(ImagePreprocessing, ResizingCropsOrPadsToTheAspectRatio) {
  // 2 x 4 -> 2 x 2 with crop: the centred 2 x 2 window (columns 1, 2).
  const std::vector<std::vector<float>> img = {{1, 2, 3, 4}, {5, 6, 7, 8}};
  const Tensor c = apply_2d(px::layers::Resizing(2, 2, kw::crop_to_aspect_ratio = true), img);
  EXPECT_EQ(c(0, 0, 0, 0), 2);
  EXPECT_EQ(c(0, 0, 1, 0), 3);
  EXPECT_EQ(c(0, 1, 1, 0), 7);
  // ... with pad: one row of fill_value above and below (4 x 4), then resized to 2 x 2.
  const Tensor p = apply_2d(
      px::layers::Resizing(4, 4, kw::pad_to_aspect_ratio = true, kw::fill_value = -1.0), img);
  for (std::size_t j = 0; j < 4; ++j) {
    EXPECT_EQ(p(0, 0, j, 0), -1);
    EXPECT_EQ(p(0, 1, j, 0), img[0][j]);
    EXPECT_EQ(p(0, 3, j, 0), -1);
  }
  // channels_first resizes axes 2 and 3.
  auto cf = px::layers::Resizing(5, 6, kw::data_format = "channels_first");
  EXPECT_EQ(one_layer(cf, {3, 10, 12}).outputs()[0].shape(), (Shape{-1, 3, 5, 6}));
}

TEST(ImagePreprocessing, ResizingDefaultsConfigAndErrors) {
  auto r = px::layers::Resizing(24, 32, kw::name = "resize");
  EXPECT_EQ(r->options().interpolation, "bilinear");
  EXPECT_FALSE(r->options().crop_to_aspect_ratio);
  EXPECT_FALSE(r->options().pad_to_aspect_ratio);
  EXPECT_FALSE(r->options().antialias);
  EXPECT_EQ(r->options().fill_mode, "constant");
  px::Model m = one_layer(r, {10, 12, 3});
  EXPECT_EQ(m.outputs()[0].shape(), (Shape{-1, 24, 32, 3}));
  EXPECT_EQ(m.count_params(), 0u);
  const Config c = r->get_config();
  for (const char* key :
       {"name", "trainable", "dtype", "data_format", "height", "width", "interpolation",
        "crop_to_aspect_ratio", "pad_to_aspect_ratio", "fill_mode", "fill_value", "antialias"})
    EXPECT_TRUE(c.contains(key)) << key;
  expect_round_trip(*r);
  expect_round_trip(*px::layers::Resizing(3, 4, kw::interpolation = "lanczos5",
                                          kw::pad_to_aspect_ratio = true, kw::fill_value = 2.5));
  std::string msg = error_message([] { px::layers::Resizing(2, 2, kw::interpolation = "area"); });
  EXPECT_TRUE(contains(msg, "interpolation") && contains(msg, "area")) << msg;
  msg = error_message([] {
    px::layers::Resizing(2, 2, kw::crop_to_aspect_ratio = true, kw::pad_to_aspect_ratio = true);
  });
  EXPECT_TRUE(contains(msg, "crop_to_aspect_ratio")) << msg;
  EXPECT_THROW(px::layers::Resizing(2, 2, kw::fill_mode = "reflect"), px::Error);
  EXPECT_THROW(px::layers::Resizing(0, 2), px::Error);
  auto vec = px::Input({5});
  msg = error_message([&] { (*px::layers::Resizing(2, 2, kw::name = "rs"))(vec); });
  EXPECT_TRUE(contains(msg, "\"rs\"") && contains(msg, "ndim=4") && contains(msg, "5)")) << msg;
}

TEST(ImagePreprocessing, ResizingGradientsMatchFiniteDifferences) {
  for (const std::string method : {"bilinear", "bicubic", "lanczos3", "nearest"}) {
    px::Model m = one_layer(px::layers::Resizing(3, 5, kw::interpolation = method), {4, 3, 2});
    EXPECT_LT(px::test::gradient_error(m, {random_tensor({2, 4, 3, 2}, 7)}), 1e-3) << method;
  }
  px::Model aa = one_layer(px::layers::Resizing(2, 5, kw::antialias = true), {6, 3, 1});
  EXPECT_LT(px::test::gradient_error(aa, {random_tensor({1, 6, 3, 1}, 8)}), 1e-3);
}

// --- CenterCrop ------------------------------------------------------------------------------

TEST(ImagePreprocessing, CenterCropTakesTheCentralWindow) {
  // 5 x 4 -> 2 x 3: start rows int(3 / 2) = 1, columns int(1 / 2) = 0.
  std::vector<std::vector<float>> img(5, std::vector<float>(4));
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t j = 0; j < 4; ++j) img[i][j] = static_cast<float>(10 * i + j);
  const Tensor y = apply_2d(px::layers::CenterCrop(2, 3), img);
  ASSERT_EQ(px::shape_of(y), (Shape{1, 2, 3, 1}));
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j) EXPECT_EQ(y(0, i, j, 0), img[i + 1][j]);
  // Smaller than the target: Keras's smart_resize (aspect crop, then bilinear).
  const Tensor up = apply_2d(px::layers::CenterCrop(4, 4), {{1, 2, 3, 4}, {5, 6, 7, 8}});
  const Tensor want = apply_2d(px::layers::Resizing(4, 4, kw::crop_to_aspect_ratio = true),
                               {{1, 2, 3, 4}, {5, 6, 7, 8}});
  EXPECT_LE(max_abs_diff(up, want), 0.0);
  auto cf = px::layers::CenterCrop(2, 2, kw::data_format = "channels_first");
  EXPECT_EQ(one_layer(cf, {3, 6, 6}).outputs()[0].shape(), (Shape{-1, 3, 2, 2}));
}

TEST(ImagePreprocessing, CenterCropConfigGradientsAndErrors) {
  auto c = px::layers::CenterCrop(kw::height = 3, kw::width = 2, kw::name = "crop");
  const Config cfg = c->get_config();
  EXPECT_EQ(cfg["height"], 3);
  EXPECT_EQ(cfg["width"], 2);
  EXPECT_EQ(cfg["data_format"], "channels_last");
  expect_round_trip(*c);
  px::Model m = one_layer(c, {5, 4, 2});
  EXPECT_EQ(m.count_params(), 0u);
  EXPECT_LT(px::test::gradient_error(m, {random_tensor({2, 5, 4, 2}, 9)}), 1e-3);
  px::Model up = one_layer(px::layers::CenterCrop(6, 6), {3, 4, 1});
  EXPECT_LT(px::test::gradient_error(up, {random_tensor({1, 3, 4, 1}, 10)}), 1e-3);
  EXPECT_THROW(px::layers::CenterCrop(2, 0), px::Error);
  EXPECT_THROW(px::layers::CenterCrop(2, 2, kw::data_format = "nhwc"), px::Error);
}

// Eagerly on a batch (a dataset map): the same numbers as in a model.
TEST(ImagePreprocessing, LayersRunEagerlyOnABatch) {
  auto r = px::layers::Resizing(3, 3, kw::interpolation = "bicubic");
  const Tensor x = random_tensor({2, 5, 4, 3}, 11);
  const Tensor eager = (*r)(x);
  EXPECT_LE(max_abs_diff(eager, one_layer(r, {5, 4, 3}).predict(x)), 1e-6);
}

// --- random augmentation ---------------------------------------------------------------------

namespace {
// An image batch with distinct values in the middle of [0, 255].
Tensor ramp(std::size_t n, std::size_t h, std::size_t w, std::size_t c) {
  Tensor x = Tensor::from_shape({n, h, w, c});
  for (std::size_t i = 0; i < x.size(); ++i)
    x.data()[i] = 60.0f + static_cast<float>((i * 37) % 101);
  return x;
}
}  // namespace

// Keras 3.15.1 files (seeded, called with training=True when built): predict is the identity.
TEST(ImagePreprocessing, KerasRandomLayerFilesLoadAndAreIdentityAtInference) {
  const fs::path dir = zoo();
  if (!fs::exists(dir / "RandomFlip.keras")) GTEST_SKIP() << "no " << dir;
  for (const char* stem : {"RandomFlip", "RandomZoom", "RandomContrast"}) {
    px::Model m = px::saving::load_model((dir / (std::string(stem) + ".keras")).string());
    const Tensor x = read_text_tensor(dir / (std::string(stem) + ".input0.txt"));
    const Tensor want = read_text_tensor(dir / (std::string(stem) + ".output0.txt"));
    EXPECT_LE(max_abs_diff(m.predict(x), want), 1e-5) << stem;
    EXPECT_EQ(m.count_params(), 0u);
  }
  px::Model z = px::saving::load_model((dir / "RandomZoom.keras").string());
  const Config c = z.layers().back()->get_config();
  EXPECT_EQ(c["height_factor"].get<double>(), 0.1);
  EXPECT_TRUE(c["width_factor"].is_null());
  EXPECT_EQ(c["fill_mode"], "reflect");
  EXPECT_EQ(c["seed"], 1);
}

TEST(ImagePreprocessing, RandomFlipFlipsWholeImagesReproducibly) {
  const Tensor x = ramp(16, 3, 4, 2);
  auto flip = px::layers::RandomFlip("horizontal", kw::seed = 7);
  EXPECT_LE(max_abs_diff(flip(x), x), 0.0);  // inference
  const Tensor y = flip(x, kw::training = true);
  int flipped = 0;
  for (std::size_t b = 0; b < 16; ++b) {
    bool same = true, mirrored = true;
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t j = 0; j < 4; ++j)
        for (std::size_t c = 0; c < 2; ++c) {
          same = same && y(b, i, j, c) == x(b, i, j, c);
          mirrored = mirrored && y(b, i, j, c) == x(b, i, 3 - j, c);
        }
    EXPECT_TRUE(same != mirrored) << b;
    flipped += mirrored ? 1 : 0;
  }
  EXPECT_GT(flipped, 0);
  EXPECT_LT(flipped, 16);
  // The same seed in a fresh layer: the same flips; vertical mode flips rows.
  EXPECT_LE(
      max_abs_diff(px::layers::RandomFlip("horizontal", kw::seed = 7)(x, kw::training = true), y),
      0.0);
  const Tensor v = px::layers::RandomFlip("vertical", kw::seed = 7)(x, kw::training = true);
  for (std::size_t b = 0; b < 16; ++b) {
    const bool was = y(b, 0, 0, 0) != x(b, 0, 0, 0) || y(b, 1, 1, 1) != x(b, 1, 1, 1);
    EXPECT_EQ(v(b, 0, 1, 0), was ? x(b, 2, 1, 0) : x(b, 0, 1, 0)) << b;
  }
  auto f = px::layers::RandomFlip(kw::seed = 3, kw::name = "flip");
  EXPECT_EQ(f->spec().mode, "horizontal_and_vertical");
  const Config c = f->get_config();
  EXPECT_EQ(c["seed"], 3);
  EXPECT_EQ(c["mode"], "horizontal_and_vertical");
  expect_round_trip(*f);
  EXPECT_THROW(px::layers::RandomFlip("diagonal"), px::Error);
  EXPECT_LT(px::test::gradient_error(one_layer(f, {3, 4, 2}), {random_tensor({2, 3, 4, 2}, 12)}),
            1e-3);
}

TEST(ImagePreprocessing, RandomContrastAndBrightnessFollowKerasFormulas) {
  const Tensor x = ramp(8, 4, 5, 3);
  auto contrast = px::layers::RandomContrast(0.2, kw::seed = 1);
  EXPECT_EQ(contrast->spec().factor, (std::vector<double>{0.0, 0.2}));  // Keras 3 stores (0, f)
  const Tensor y = contrast(x, kw::training = true);
  for (std::size_t b = 0; b < 8; ++b) {
    for (std::size_t c = 0; c < 3; ++c) {
      double mx = 0, my = 0;
      for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t j = 0; j < 5; ++j) {
          mx += x(b, i, j, c);
          my += y(b, i, j, c);
        }
      mx /= 20;
      my /= 20;
      EXPECT_NEAR(my, mx, 1e-3);  // no clipping in [60, 160] for factors <= 1.2
      // y - m = (x - m) * f with one f per image in [1, 1.2].
      const double f = (y(b, 0, 0, c) - mx) / (x(b, 0, 0, c) - mx);
      EXPECT_GE(f, 1.0 - 1e-4);
      EXPECT_LE(f, 1.2 + 1e-4);
    }
  }
  auto bright = px::layers::RandomBrightness(0.5, kw::value_range = {0.0, 255.0}, kw::seed = 2);
  EXPECT_EQ(bright->spec().factor, (std::vector<double>{-0.5, 0.5}));
  const Tensor z = bright(x, kw::training = true);
  for (std::size_t b = 0; b < 8; ++b) {
    for (std::size_t k = 0; k < 60; ++k) {
      const float xv = x.data()[b * 60 + k], zv = z.data()[b * 60 + k];
      EXPECT_GE(zv, 0.0f);
      EXPECT_LE(zv, 255.0f);
      if (zv > 0.0f && zv < 255.0f) {
        const float delta = z.data()[b * 60] - x.data()[b * 60];
        if (z.data()[b * 60] > 0.0f && z.data()[b * 60] < 255.0f) {
          EXPECT_NEAR(zv - xv, delta, 1e-3);
        }
        EXPECT_LE(std::abs(zv - xv), 127.5f + 1e-3f);
      }
    }
  }
  expect_round_trip(*contrast);
  expect_round_trip(*bright);
  EXPECT_EQ(contrast->get_config()["value_range"], Config::array({0.0, 255.0}));
  EXPECT_THROW(px::layers::RandomContrast(1.5), px::Error);
  EXPECT_THROW(px::layers::RandomBrightness(0.2, kw::value_range = {1.0, 0.0}), px::Error);
}

// Fixed ranges make the affine layers deterministic: rotation by half a turn, zoom and
// translation by known amounts.
TEST(ImagePreprocessing, RandomRotationZoomTranslationResampleAsKeras) {
  const Tensor x = ramp(2, 4, 5, 1);
  const Tensor r = px::layers::RandomRotation({0.5, 0.5})(x, kw::training = true);
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 5; ++j) EXPECT_NEAR(r(1, i, j, 0), x(1, 3 - i, 4 - j, 0), 1e-3);
  // Translation down by a quarter of 4 rows = 1 row, constant fill.
  const Tensor t =
      px::layers::RandomTranslation({0.25, 0.25}, {0.0, 0.0}, kw::fill_mode = "constant",
                                    kw::fill_value = -1.0)(x, kw::training = true);
  for (std::size_t j = 0; j < 5; ++j) {
    EXPECT_NEAR(t(0, 0, j, 0), -1.0f, 1e-5);
    for (std::size_t i = 1; i < 4; ++i) EXPECT_NEAR(t(0, i, j, 0), x(0, i - 1, j, 0), 1e-4);
  }
  // Reflect fill: the row above row 0 is row 0 (d c b a | a b c d).
  const Tensor tr = px::layers::RandomTranslation({0.25, 0.25}, {0.0, 0.0})(x, kw::training = true);
  for (std::size_t j = 0; j < 5; ++j) EXPECT_NEAR(tr(0, 0, j, 0), x(0, 0, j, 0), 1e-4);
  // Zoom factor -0.5: zoom 0.5 about the centre ((w - 1) / 2, (h - 1) / 2); a 5 x 5 image's
  // centre pixel stays, its neighbour (2, 3) reads (2, 2.5).
  const Tensor sq = ramp(1, 5, 5, 1);
  const Tensor z =
      px::layers::RandomZoom({-0.5, -0.5}, kw::interpolation = "bilinear")(sq, kw::training = true);
  EXPECT_NEAR(z(0, 2, 2, 0), sq(0, 2, 2, 0), 1e-4);
  EXPECT_NEAR(z(0, 2, 3, 0), 0.5f * (sq(0, 2, 2, 0) + sq(0, 2, 3, 0)), 1e-4);
  // Random draws stay within their ranges: a small rotation keeps the centre pixel of an
  // odd image.
  const Tensor small = px::layers::RandomRotation(0.1, kw::seed = 4)(sq, kw::training = true);
  EXPECT_NEAR(small(0, 2, 2, 0), sq(0, 2, 2, 0), 1e-3);
  // Configs and errors.
  auto zoom = px::layers::RandomZoom(0.1, kw::width_factor = 0.2, kw::seed = 1);
  const Config c = zoom->get_config();
  EXPECT_EQ(c["height_factor"].get<double>(), 0.1);
  EXPECT_EQ(c["width_factor"].get<double>(), 0.2);
  expect_round_trip(*zoom);
  auto rot = px::layers::RandomRotation(0.2, kw::fill_mode = "wrap");
  EXPECT_EQ(rot->get_config()["factor"], Config::array({-0.2, 0.2}));
  expect_round_trip(*rot);
  expect_round_trip(
      *px::layers::RandomTranslation(0.1, {-0.2, 0.3}, kw::interpolation = "nearest"));
  EXPECT_THROW(px::layers::RandomRotation(0.1, kw::fill_mode = "edge"), px::Error);
  EXPECT_THROW(px::layers::RandomZoom(0.1, kw::interpolation = "bicubic"), px::Error);
  const std::string msg = error_message([] { (*px::layers::RandomZoom(0.1))(px::Input({4})); });
  EXPECT_TRUE(contains(msg, "RandomZoom") && contains(msg, "ndim=4")) << msg;
}

// In a model: identity in predict, random in fit's training pass; the model trains.
TEST(ImagePreprocessing, RandomLayersTrainInAModel) {
  auto x = px::Input({6, 6, 1});
  auto h = px::layers::RandomFlip("horizontal", kw::seed = 1)(x);
  h = px::layers::RandomRotation(0.05, kw::seed = 2)(h);
  h = px::layers::Rescaling(1.0 / 255)(h);
  auto out = px::layers::Dense(1)(px::layers::Flatten()(h));
  px::Model m(x, out);
  m.compile("sgd", "mse");
  const Tensor xs = ramp(8, 6, 6, 1);
  const Tensor ys = xt::zeros<float>({8, 1});
  const auto hist = m.fit(xs, ys, kw::epochs = 3, kw::verbose = 0);
  EXPECT_EQ(px::shape_of(m.predict(xs)), (Shape{8, 1}));
}

// Saved and loaded in Keras 3's .keras and the legacy .h5: the same configs and outputs.
TEST(ImagePreprocessing, ModelsWithPreprocessingLayersSaveAndLoad) {
  auto x = px::Input({12, 10, 3});
  auto h = px::layers::Rescaling(1.0 / 127.5, kw::offset = -1.0)(x);
  h = px::layers::Resizing(9, 9, kw::interpolation = "lanczos3",
                           kw::crop_to_aspect_ratio = true)(h);
  h = px::layers::CenterCrop(7, 6)(h);
  h = px::layers::RandomFlip("vertical", kw::seed = 5)(h);
  h = px::layers::RandomZoom({-0.2, 0.1}, kw::width_factor = 0.3, kw::fill_mode = "constant")(h);
  h = px::layers::RandomTranslation(0.1, 0.2)(h);
  h = px::layers::RandomRotation(0.3, kw::interpolation = "nearest")(h);
  h = px::layers::RandomContrast({0.1, 0.4})(h);
  h = px::layers::RandomBrightness(0.1, kw::value_range = {-1.0, 1.0})(h);
  h = px::layers::Conv2D(2, 3)(h);
  px::Model m(x, px::layers::Dense(1)(px::layers::Flatten()(h)));
  const Tensor in = random_tensor({2, 12, 10, 3}, 21, 0.0f, 255.0f);
  const Tensor want = m.predict(in);
  for (const char* file : {"prep.keras", "prep.h5"}) {
    const std::string path = (px::test::scratch_dir() / file).string();
    px::saving::save_model(m, path);
    px::Model again = px::saving::load_model(path);
    EXPECT_LE(max_abs_diff(again.predict(in), want), 1e-5) << file;
    for (std::size_t i = 0; i < m.layers().size(); ++i) {
      EXPECT_EQ(again.layers()[i]->get_config().dump(), m.layers()[i]->get_config().dump())
          << file << " " << m.layers()[i]->class_name();
    }
  }
}
