// Image layers (layers/convolution.hpp, pooling.hpp, reshaping.hpp, regularization.hpp,
// normalization.hpp and the activation layers): one table of configurations whose output
// shapes and parameter counts are Keras 3's (the conv cases marked "keras" are the
// parameterised cases of Keras's own conv_test.py / conv_transpose_test.py; the others
// follow Keras's documented formulas), each run like Keras's run_layer_test: traced and
// compute_output_shape shapes, weight count, a run, and gradients against finite
// differences. Then weight layouts, values, summary() and errors.
#pragma GCC diagnostic ignored "-Wuninitialized"
#ifndef __clang__  // a GCC-only warning
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "graph_helpers.hpp"
#include "layers/activations.hpp"
#include "layers/convolution.hpp"
#include "layers/core.hpp"
#include "layers/normalization.hpp"
#include "layers/pooling.hpp"
#include "layers/regularization.hpp"
#include "layers/reshaping.hpp"
#include "optim/model.hpp"

namespace px = plexus;
namespace L = plexus::layers;
using px::Dim;
using px::Shape;
using px::Tensor;
using px::test::error_message;
using px::test::random_tensor;

namespace {

enum class Inputs { kUniform, kDistinct, kAwayFromZero };

struct ImageCase {
  std::string label;
  std::function<px::LayerRef()> make;
  Shape input;                   // without the batch
  Shape expected_output;         // with the batch (-1)
  std::size_t expected_weights;  // number of weight arrays
  std::size_t expected_params;
  Inputs inputs = Inputs::kUniform;
  bool check_gradients = true;
};

std::ostream& operator<<(std::ostream& os, const ImageCase& c) { return os << c.label; }

Tensor make_input(const Shape& s, Inputs kind) {
  Tensor t = random_tensor(s, 17);
  if (kind == Inputs::kAwayFromZero) {
    for (float& v : t) v = (v < 0 ? -0.1f : 0.1f) + 0.9f * v;
  } else if (kind == Inputs::kDistinct) {
    // Values 0.05 apart in random order: finite differences (h = 0.01) never reorder a
    // pooling window.
    std::vector<float> v(t.size());
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.05f * static_cast<float>(i) - 1.0f;
    std::shuffle(v.begin(), v.end(), std::mt19937(5));
    std::copy(v.begin(), v.end(), t.begin());
  }
  return t;
}

void run_image_layer_test(const ImageCase& c) {
  px::utils::clear_session();
  px::LayerRef layer = c.make();
  auto in = px::Input(c.input);
  px::SymbolicTensor out = layer(in);
  EXPECT_EQ(out.shape(), c.expected_output) << px::shape_str(out.shape());
  EXPECT_EQ(layer->weights().size(), c.expected_weights);
  EXPECT_EQ(layer->count_params(), c.expected_params);
  Shape full{-1};
  full.insert(full.end(), c.input.begin(), c.input.end());
  EXPECT_EQ(layer->compute_output_shape(full), c.expected_output);

  px::Model model(in, out);
  const Dim batch = 2;
  Shape s = full;
  s[0] = batch;
  std::vector<Tensor> xs{make_input(s, c.inputs)};
  auto ys = model.predict(xs);
  Shape want = c.expected_output;
  want[0] = batch;
  EXPECT_EQ(px::shape_of(ys[0]), want);
  if (c.check_gradients) {
    EXPECT_LT(px::test::gradient_error(model, xs), 2e-2) << c.label;
  }
}

class ImageLayerTable : public ::testing::TestWithParam<ImageCase> {};

TEST_P(ImageLayerTable, ShapesParamsAndGradients) { run_image_layer_test(GetParam()); }

std::vector<ImageCase> image_cases() {
  const auto d = Inputs::kDistinct;
  const auto z = Inputs::kAwayFromZero;
  std::vector<ImageCase> c{
      // --- Conv1D (keras conv_test.py test_conv1d_basic) ---
      {"conv1d_keras_valid", [] { return L::Conv1D(5, 2); }, {5, 4}, {-1, 4, 5}, 2, 45},
      {"conv1d_keras_same_dilation2_groups2",
       [] { return L::Conv1D(6, 2, {.padding = "same", .dilation_rate = 2, .groups = 2}); },
       {4, 4},
       {-1, 4, 6},
       2,
       30},
      {"conv1d_keras_causal_dilation2_groups2",
       [] { return L::Conv1D(6, 2, {.padding = "causal", .dilation_rate = 2, .groups = 2}); },
       {4, 4},
       {-1, 4, 6},
       2,
       30},
      {"conv1d_keras_stride2_groups2",
       [] { return L::Conv1D(6, 2, {.strides = 2, .groups = 2}); },
       {5, 4},
       {-1, 2, 6},
       2,
       30},
      {"conv1d_channels_first_same_stride2",
       [] {
         return L::Conv1D(3, 3, {.strides = 2, .padding = "same", .data_format = "channels_first"});
       },
       {2, 7},
       {-1, 3, 4},
       2,
       21},
      // --- Conv2D (keras conv_test.py test_conv2d_basic, then the MNIST convnet) ---
      {"conv2d_keras_valid", [] { return L::Conv2D(5, 2); }, {5, 5, 4}, {-1, 4, 4, 5}, 2, 85},
      {"conv2d_keras_same_dilation2_groups2",
       [] {
         return L::Conv2D(6, 2, {.padding = "same", .dilation_rate = {2, 2}, .groups = 2});
       },
       {4, 4, 4},
       {-1, 4, 4, 6},
       2,
       54},
      {"conv2d_keras_strides_2_1_groups2",
       [] {
         return L::Conv2D(6, {2, 2}, {.strides = {2, 1}, .groups = 2});
       },
       {5, 5, 4},
       {-1, 2, 4, 6},
       2,
       54},
      {"conv2d_mnist_1",
       [] { return L::Conv2D(32, 3, {.activation = "relu"}); },
       {28, 28, 1},
       {-1, 26, 26, 32},
       2,
       320,
       Inputs::kUniform,
       false},
      {"conv2d_mnist_2",
       [] { return L::Conv2D(64, 3); },
       {13, 13, 32},
       {-1, 11, 11, 64},
       2,
       18496,
       Inputs::kUniform,
       false},
      {"conv2d_same_odd_stride2",
       [] { return L::Conv2D(8, 3, {.strides = 2, .padding = "same"}); },
       {7, 7, 3},
       {-1, 4, 4, 8},
       2,
       224},
      {"conv2d_channels_first_no_bias",
       [] {
         return L::Conv2D(4, {3, 1}, {.data_format = "channels_first", .use_bias = false});
       },
       {3, 6, 5},
       {-1, 4, 4, 5},
       1,
       36},
      {"conv2d_channels_first_same_stride2",
       [] {
         return L::Conv2D(4, 3, {.strides = 2, .padding = "same", .data_format = "channels_first"});
       },
       {2, 7, 8},
       {-1, 4, 4, 4},
       2,
       76},
      // --- transposed (keras conv_transpose_test.py basic cases) ---
      {"conv1d_transpose_keras_valid_stride2",
       [] { return L::Conv1DTranspose(5, 2, {.strides = 2}); },
       {8, 4},
       {-1, 16, 5},
       2,
       45},
      {"conv1d_transpose_keras_same_output_padding",
       [] {
         return L::Conv1DTranspose(6, 2, {.strides = 3, .padding = "same", .output_padding = 2});
       },
       {8, 4},
       {-1, 23, 6},
       2,
       54},
      {"conv2d_transpose_keras_valid_stride2",
       [] { return L::Conv2DTranspose(5, 2, {.strides = 2}); },
       {8, 8, 4},
       {-1, 16, 16, 5},
       2,
       85},
      {"conv2d_transpose_keras_same_output_padding",
       [] {
         return L::Conv2DTranspose(6, 2, {.strides = 3, .padding = "same", .output_padding = 2});
       },
       {8, 8, 4},
       {-1, 23, 23, 6},
       2,
       102},
      {"conv2d_transpose_keras_channels_first",
       [] {
         return L::Conv2DTranspose(6, {2, 3}, {.strides = {2, 1}, .data_format = "channels_first"});
       },
       {4, 8, 8},
       {-1, 6, 16, 10},
       2,
       150},
      {"conv2d_transpose_keras_kernel7_stride16",
       [] {
         return L::Conv2DTranspose(2, {7, 7}, {.strides = {16, 16}});
       },
       {14, 14, 2},
       {-1, 224, 224, 2},
       2,
       198,
       Inputs::kUniform,
       false},
      {"conv2d_transpose_same_dilation2",
       [] { return L::Conv2DTranspose(3, 3, {.padding = "same", .dilation_rate = 2}); },
       {4, 5, 2},
       {-1, 4, 5, 3},
       2,
       57},
      // --- depthwise and separable ---
      {"depthwise_conv2d", [] { return L::DepthwiseConv2D(3); }, {5, 5, 4}, {-1, 3, 3, 4}, 2, 40},
      {"depthwise_conv2d_same_multiplier2",
       [] { return L::DepthwiseConv2D(3, {.padding = "same", .depth_multiplier = 2}); },
       {5, 5, 3},
       {-1, 5, 5, 6},
       2,
       60},
      {"depthwise_conv2d_channels_first_stride2",
       [] {
         return L::DepthwiseConv2D({2, 2}, {.strides = 2, .data_format = "channels_first"});
       },
       {3, 6, 6},
       {-1, 3, 3, 3},
       2,
       15},
      {"depthwise_conv1d_multiplier2",
       [] { return L::DepthwiseConv1D(3, {.depth_multiplier = 2}); },
       {6, 2},
       {-1, 4, 4},
       2,
       16},
      {"separable_conv2d",
       [] { return L::SeparableConv2D(4, 3); },
       {6, 6, 3},
       {-1, 4, 4, 4},
       3,
       43},
      {"separable_conv2d_same_stride2_multiplier2",
       [] {
         return L::SeparableConv2D(5, 3, {.strides = 2, .padding = "same", .depth_multiplier = 2});
       },
       {7, 7, 2},
       {-1, 4, 4, 5},
       3,
       61},
      {"separable_conv1d_no_bias",
       [] { return L::SeparableConv1D(4, 3, {.use_bias = false}); },
       {8, 3},
       {-1, 6, 4},
       2,
       21},
      // --- pooling ---
      {"max_pooling2d_default",
       [] { return L::MaxPooling2D(); },
       {6, 6, 2},
       {-1, 3, 3, 2},
       0,
       0,
       d},
      {"max_pooling2d_3_stride2_same",
       [] { return L::MaxPooling2D(3, {.strides = 2, .padding = "same"}); },
       {7, 5, 2},
       {-1, 4, 3, 2},
       0,
       0,
       d},
      {"max_pooling2d_channels_first",
       [] { return L::MaxPooling2D(2, {.data_format = "channels_first"}); },
       {2, 5, 4},
       {-1, 2, 2, 2},
       0,
       0,
       d},
      {"average_pooling2d_2x3_stride1",
       [] {
         return L::AveragePooling2D({2, 3}, {.strides = 1});
       },
       {5, 6, 1},
       {-1, 4, 4, 1},
       0,
       0},
      {"average_pooling2d_same_channels_first",
       [] { return L::AveragePooling2D(2, {.padding = "same", .data_format = "channels_first"}); },
       {2, 5, 5},
       {-1, 2, 3, 3},
       0,
       0},
      {"max_pooling1d_default", [] { return L::MaxPooling1D(); }, {7, 3}, {-1, 3, 3}, 0, 0, d},
      {"average_pooling1d_3_stride2_same",
       [] { return L::AveragePooling1D(3, {.strides = 2, .padding = "same"}); },
       {7, 2},
       {-1, 4, 2},
       0,
       0},
      {"global_average_pooling2d",
       [] { return L::GlobalAveragePooling2D(); },
       {4, 5, 3},
       {-1, 3},
       0,
       0},
      {"global_max_pooling2d_keepdims",
       [] { return L::GlobalMaxPooling2D({.keepdims = true}); },
       {4, 5, 3},
       {-1, 1, 1, 3},
       0,
       0,
       d},
      {"global_average_pooling1d_channels_first",
       [] { return L::GlobalAveragePooling1D({.data_format = "channels_first"}); },
       {3, 7},
       {-1, 3},
       0,
       0},
      {"global_max_pooling1d", [] { return L::GlobalMaxPooling1D(); }, {6, 2}, {-1, 2}, 0, 0, d},
      // --- reshaping and spatial dropout ---
      {"zero_padding2d_default", [] { return L::ZeroPadding2D(); }, {3, 4, 2}, {-1, 5, 6, 2}, 0, 0},
      {"zero_padding2d_pairs",
       [] {
         return L::ZeroPadding2D({{1, 2}, {0, 3}});
       },
       {3, 4, 2},
       {-1, 6, 7, 2},
       0,
       0},
      {"zero_padding2d_symmetric_channels_first",
       [] {
         return L::ZeroPadding2D({1, 2}, {.data_format = "channels_first"});
       },
       {2, 3, 4},
       {-1, 2, 5, 8},
       0,
       0},
      {"zero_padding1d", [] { return L::ZeroPadding1D(2); }, {5, 3}, {-1, 9, 3}, 0, 0},
      {"cropping2d_pairs",
       [] {
         return L::Cropping2D({{1, 0}, {2, 1}});
       },
       {5, 6, 2},
       {-1, 4, 3, 2},
       0,
       0},
      {"cropping1d_default", [] { return L::Cropping1D(); }, {5, 3}, {-1, 3, 3}, 0, 0},
      {"up_sampling2d_default", [] { return L::UpSampling2D(); }, {3, 4, 2}, {-1, 6, 8, 2}, 0, 0},
      {"up_sampling2d_2x3_channels_first",
       [] {
         return L::UpSampling2D({2, 3}, {.data_format = "channels_first"});
       },
       {2, 3, 4},
       {-1, 2, 6, 12},
       0,
       0},
      {"up_sampling1d_3", [] { return L::UpSampling1D(3); }, {4, 2}, {-1, 12, 2}, 0, 0},
      {"spatial_dropout2d",
       [] { return L::SpatialDropout2D(0.5f); },
       {4, 4, 3},
       {-1, 4, 4, 3},
       0,
       0},
      {"spatial_dropout1d", [] { return L::SpatialDropout1D(0.3f); }, {5, 3}, {-1, 5, 3}, 0, 0},
      // --- 3-D padding, cropping, upsampling, global pooling, spatial dropout (issue 25) ---
      {"zero_padding3d_default",
       [] { return L::ZeroPadding3D(); },
       {2, 3, 2, 2},
       {-1, 4, 5, 4, 2},
       0,
       0},
      {"zero_padding3d_pairs_channels_first",
       [] {
         return L::ZeroPadding3D({{1, 0}, {0, 2}, {1, 1}}, {.data_format = "channels_first"});
       },
       {2, 2, 3, 2},
       {-1, 2, 3, 5, 4},
       0,
       0},
      {"cropping3d_pairs",
       [] {
         return L::Cropping3D({{1, 0}, {0, 1}, {1, 1}});
       },
       {3, 4, 4, 2},
       {-1, 2, 3, 2, 2},
       0,
       0},
      {"up_sampling2d_bilinear",
       [] {
         return L::UpSampling2D({2, 3}, {.interpolation = "bilinear"});
       },
       {3, 2, 2},
       {-1, 6, 6, 2},
       0,
       0},
      {"up_sampling2d_bilinear_channels_first",
       [] {
         return L::UpSampling2D(2, {.data_format = "channels_first", .interpolation = "bilinear"});
       },
       {2, 3, 2},
       {-1, 2, 6, 4},
       0,
       0},
      {"up_sampling3d",
       [] {
         return L::UpSampling3D({2, 1, 3});
       },
       {2, 2, 2, 1},
       {-1, 4, 2, 6, 1},
       0,
       0},
      {"global_max_pooling3d",
       [] { return L::GlobalMaxPooling3D(); },
       {2, 3, 2, 2},
       {-1, 2},
       0,
       0,
       d},
      {"global_average_pooling3d_keepdims_channels_first",
       [] {
         return L::GlobalAveragePooling3D({.data_format = "channels_first", .keepdims = true});
       },
       {2, 2, 3, 2},
       {-1, 2, 1, 1, 1},
       0,
       0},
      {"adaptive_average_pooling1d",
       [] { return L::AdaptiveAveragePooling1D(3); },
       {7, 2},
       {-1, 3, 2},
       0,
       0},
      {"adaptive_max_pooling2d",
       [] {
         return L::AdaptiveMaxPooling2D({2, 3});
       },
       {7, 8, 2},
       {-1, 2, 3, 2},
       0,
       0,
       d},
      {"adaptive_average_pooling3d_channels_first",
       [] { return L::AdaptiveAveragePooling3D(2, {.data_format = "channels_first"}); },
       {2, 5, 4, 3},
       {-1, 2, 2, 2, 2},
       0,
       0},
      {"adaptive_max_pooling1d_upsamples",
       [] { return L::AdaptiveMaxPooling1D(5); },
       {3, 2},
       {-1, 5, 2},
       0,
       0,
       d},
      {"spatial_dropout3d",
       [] { return L::SpatialDropout3D(0.4f); },
       {2, 2, 2, 3},
       {-1, 2, 2, 2, 3},
       0,
       0},
      // --- normalization ---
      {"batch_normalization",
       [] { return L::BatchNormalization(); },
       {4, 4, 3},
       {-1, 4, 4, 3},
       4,
       12},
      {"batch_normalization_channels_first_no_center",
       [] { return L::BatchNormalization({.axis = 1, .center = false}); },
       {3, 4, 2},
       {-1, 3, 4, 2},
       3,
       9},
      {"layer_normalization", [] { return L::LayerNormalization(); }, {5, 4}, {-1, 5, 4}, 2, 8},
      {"layer_normalization_axes_1_2",
       [] {
         return L::LayerNormalization({.axis = {1, 2}});
       },
       {3, 4, 2},
       {-1, 3, 4, 2},
       2,
       24},
      {"layer_normalization_rms_scaling",
       [] { return L::LayerNormalization({.rms_scaling = true}); },
       {6},
       {-1, 6},
       1,
       6},
      {"group_normalization_2_groups",
       [] { return L::GroupNormalization({.groups = 2}); },
       {4, 4, 6},
       {-1, 4, 4, 6},
       2,
       12},
      {"group_normalization_per_channel_axis1",
       [] { return L::GroupNormalization({.groups = -1, .axis = 1}); },
       {3, 4, 4},
       {-1, 3, 4, 4},
       2,
       6},
      {"unit_normalization", [] { return L::UnitNormalization(); }, {5}, {-1, 5}, 0, 0},
      {"unit_normalization_axes",
       [] {
         return L::UnitNormalization({.axis = {1, 2}});
       },
       {3, 2},
       {-1, 3, 2},
       0,
       0},
      // --- activation layers ---
      {"relu", [] { return L::ReLU(); }, {5}, {-1, 5}, 0, 0, z},
      {"relu6_leaky",
       [] { return L::ReLU({.max_value = 0.5f, .negative_slope = 0.1f}); },
       {5},
       {-1, 5},
       0,
       0,
       z},
      {"leaky_relu", [] { return L::LeakyReLU(); }, {5}, {-1, 5}, 0, 0, z},
      {"prelu", [] { return L::PReLU(); }, {3, 4}, {-1, 3, 4}, 1, 12, z},
      {"prelu_shared_axes",
       [] { return L::PReLU({.shared_axes = {1}}); },
       {3, 4},
       {-1, 3, 4},
       1,
       4,
       z},
      {"elu", [] { return L::ELU({.alpha = 0.5f}); }, {5}, {-1, 5}, 0, 0, z},
      {"softmax", [] { return L::Softmax(); }, {2, 5}, {-1, 2, 5}, 0, 0},
      {"softmax_axis1", [] { return L::Softmax({.axis = 1}); }, {3, 2}, {-1, 3, 2}, 0, 0},
  };
  return c;
}

INSTANTIATE_TEST_SUITE_P(ImageLayers, ImageLayerTable, ::testing::ValuesIn(image_cases()),
                         [](const auto& info) { return info.param.label; });

// --- weight layouts and values --------------------------------------------------------------

Tensor predict_one(px::LayerRef layer, const Tensor& x) {
  Shape s = px::shape_of(x);
  s.erase(s.begin());
  auto in = px::Input(s);
  px::Model m(in, layer(in));
  return m.predict(x);
}

TEST(ImageLayers, KerasWeightNamesAndLayouts) {
  px::utils::clear_session();
  auto conv = L::Conv2D(8, {3, 5}, {.groups = 2});
  conv(px::Input({10, 10, 4}));
  ASSERT_EQ(conv->weights().size(), 2u);
  EXPECT_EQ(conv->weights()[0].path(), "conv2d/kernel");
  EXPECT_EQ(px::shape_of(conv->weights()[0].value()), (Shape{3, 5, 2, 8}));
  EXPECT_EQ(conv->weights()[1].path(), "conv2d/bias");

  auto convt = L::Conv2DTranspose(6, 3);
  convt(px::Input({4, 4, 2}));
  EXPECT_EQ(convt->weights()[0].path(), "conv2d_transpose/kernel");
  EXPECT_EQ(px::shape_of(convt->weights()[0].value()), (Shape{3, 3, 6, 2}));

  auto dw = L::DepthwiseConv2D(3, {.depth_multiplier = 2});
  dw(px::Input({5, 5, 3}));
  EXPECT_EQ(dw->weights()[0].path(), "depthwise_conv2d/kernel");
  EXPECT_EQ(px::shape_of(dw->weights()[0].value()), (Shape{3, 3, 3, 2}));
  EXPECT_EQ(px::shape_of(dw->weights()[1].value()), (Shape{6}));

  auto sep = L::SeparableConv2D(7, 3, {.depth_multiplier = 2});
  sep(px::Input({5, 5, 3}));
  ASSERT_EQ(sep->weights().size(), 3u);
  EXPECT_EQ(sep->weights()[0].path(), "separable_conv2d/depthwise_kernel");
  EXPECT_EQ(px::shape_of(sep->weights()[0].value()), (Shape{3, 3, 3, 2}));
  EXPECT_EQ(sep->weights()[1].path(), "separable_conv2d/pointwise_kernel");
  EXPECT_EQ(px::shape_of(sep->weights()[1].value()), (Shape{1, 1, 6, 7}));

  auto ln = L::LayerNormalization();
  ln(px::Input({4}));
  EXPECT_EQ(ln->weights()[0].path(), "layer_normalization/gamma");
  EXPECT_EQ(ln->weights()[1].path(), "layer_normalization/beta");
  auto pr = L::PReLU();
  pr(px::Input({4}));
  EXPECT_EQ(pr->weights()[0].path(), "p_re_lu/alpha");
}

TEST(ImageLayers, ConvMatchesHandComputedValues) {
  px::utils::clear_session();
  // One 3x3 image, one 2x2 filter of ones plus bias 0.5: sums of each 2x2 block.
  auto conv = L::Conv2D(1, 2, {.bias_initializer = "ones"});
  Tensor x = Tensor::from_shape({1, 3, 3, 1});
  std::iota(x.begin(), x.end(), 1.0f);  // 1..9
  auto in = px::Input({3, 3, 1});
  px::Model m(in, conv(in));
  conv->set_weights({xt::ones<float>({2, 2, 1, 1}), Tensor({0.5f})});
  const Tensor y = m.predict(x);
  // blocks: 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9
  EXPECT_FLOAT_EQ(y(0, 0, 0, 0), 12.5f);
  EXPECT_FLOAT_EQ(y(0, 0, 1, 0), 16.5f);
  EXPECT_FLOAT_EQ(y(0, 1, 0, 0), 24.5f);
  EXPECT_FLOAT_EQ(y(0, 1, 1, 0), 28.5f);
}

TEST(ImageLayers, DepthwiseOutputChannelOrderIsChannelTimesMultiplier) {
  px::utils::clear_session();
  // Keras/TF order: output channel c * depth_multiplier + m.
  auto dw = L::DepthwiseConv2D(1, {.depth_multiplier = 2, .use_bias = false});
  Tensor x = Tensor::from_shape({1, 1, 1, 2});
  x(0, 0, 0, 0) = 1.0f;
  x(0, 0, 0, 1) = 10.0f;
  auto in = px::Input({1, 1, 2});
  px::Model m(in, dw(in));
  Tensor k = Tensor::from_shape({1, 1, 2, 2});
  k(0, 0, 0, 0) = 1.0f;  // c 0, m 0
  k(0, 0, 0, 1) = 2.0f;  // c 0, m 1
  k(0, 0, 1, 0) = 3.0f;  // c 1, m 0
  k(0, 0, 1, 1) = 4.0f;  // c 1, m 1
  dw->set_weights({k});
  const Tensor y = m.predict(x);
  EXPECT_FLOAT_EQ(y(0, 0, 0, 0), 1.0f);
  EXPECT_FLOAT_EQ(y(0, 0, 0, 1), 2.0f);
  EXPECT_FLOAT_EQ(y(0, 0, 0, 2), 30.0f);
  EXPECT_FLOAT_EQ(y(0, 0, 0, 3), 40.0f);
}

TEST(ImageLayers, ChannelsFirstAgreesWithChannelsLast) {
  px::utils::clear_session();
  const Tensor x = random_tensor({2, 6, 7, 3}, 3);
  const Tensor xt_cf = xt::transpose(x, {0, 3, 1, 2});
  auto last = L::Conv2D(4, 3, {.strides = 2, .padding = "same"});
  auto first = L::Conv2D(4, 3, {.strides = 2, .padding = "same", .data_format = "channels_first"});
  auto in_l = px::Input({6, 7, 3});
  auto in_f = px::Input({3, 6, 7});
  px::Model ml(in_l, last(in_l)), mf(in_f, first(in_f));
  first->set_weights({last->get_weights()[0], random_tensor({4}, 9)});
  last->set_weights({last->get_weights()[0], first->get_weights()[1]});
  const Tensor yl = ml.predict(x);
  const Tensor yf = mf.predict(xt_cf);
  EXPECT_LT(px::test::max_abs_diff(Tensor(xt::transpose(yf, {0, 2, 3, 1})), yl), 1e-5);
}

TEST(ImageLayers, UpSamplingRepeatsAndCroppingSlices) {
  px::utils::clear_session();
  Tensor x = Tensor::from_shape({1, 2, 2, 1});
  std::iota(x.begin(), x.end(), 1.0f);
  const Tensor up = predict_one(L::UpSampling2D({2, 3}), x);
  ASSERT_EQ(px::shape_of(up), (Shape{1, 4, 6, 1}));
  EXPECT_EQ(up(0, 1, 2, 0), 1.0f);
  EXPECT_EQ(up(0, 1, 3, 0), 2.0f);
  EXPECT_EQ(up(0, 2, 0, 0), 3.0f);
  EXPECT_EQ(up(0, 3, 5, 0), 4.0f);
  const Tensor crop = predict_one(L::Cropping2D({{1, 0}, {0, 1}}), up);
  ASSERT_EQ(px::shape_of(crop), (Shape{1, 3, 5, 1}));
  EXPECT_EQ(crop(0, 0, 0, 0), 1.0f);
  EXPECT_EQ(crop(0, 1, 4, 0), 4.0f);
  const Tensor pad = predict_one(L::ZeroPadding2D({{1, 0}, {0, 2}}), x);
  ASSERT_EQ(px::shape_of(pad), (Shape{1, 3, 4, 1}));
  EXPECT_EQ(pad(0, 0, 0, 0), 0.0f);
  EXPECT_EQ(pad(0, 1, 0, 0), 1.0f);
  EXPECT_EQ(pad(0, 2, 1, 0), 4.0f);
  EXPECT_EQ(pad(0, 2, 3, 0), 0.0f);
}

TEST(ImageLayers, NormalizationValues) {
  px::utils::clear_session();
  const Tensor x = random_tensor({3, 4, 6}, 4, -2.0f, 3.0f);
  const Tensor ln = predict_one(L::LayerNormalization({.epsilon = 0.0f}), x);
  for (std::size_t n = 0; n < 3; ++n) {
    for (std::size_t t = 0; t < 4; ++t) {
      double mean = 0, sq = 0;
      for (std::size_t c = 0; c < 6; ++c) mean += ln(n, t, c) / 6.0;
      for (std::size_t c = 0; c < 6; ++c) sq += (ln(n, t, c) - mean) * (ln(n, t, c) - mean) / 6.0;
      EXPECT_NEAR(mean, 0.0, 1e-5);
      EXPECT_NEAR(sq, 1.0, 1e-4);
    }
  }
  const Tensor gn = predict_one(L::GroupNormalization({.groups = 2, .epsilon = 0.0f}), x);
  for (std::size_t n = 0; n < 3; ++n) {
    for (std::size_t g = 0; g < 2; ++g) {
      double mean = 0;
      for (std::size_t t = 0; t < 4; ++t)
        for (std::size_t c = 3 * g; c < 3 * g + 3; ++c) mean += gn(n, t, c) / 12.0;
      EXPECT_NEAR(mean, 0.0, 1e-5);
    }
  }
  const Tensor un = predict_one(L::UnitNormalization(), x);
  for (std::size_t n = 0; n < 3; ++n) {
    double norm = 0;
    for (std::size_t c = 0; c < 6; ++c) norm += un(n, 0, c) * un(n, 0, c);
    EXPECT_NEAR(norm, 1.0, 1e-5);
  }
}

TEST(ImageLayers, BatchNormalizationTrainsOnBatchStatisticsAndUpdatesMovingOnes) {
  px::utils::clear_session();
  auto bn = L::BatchNormalization({.momentum = 0.5f, .epsilon = 1e-3f});
  auto in = px::Input({2});
  px::Model m(in, bn(in));
  ASSERT_EQ(bn->weights().size(), 4u);
  EXPECT_EQ(bn->weights()[2].path(), "batch_normalization/moving_mean");
  EXPECT_EQ(bn->trainable_weights().size(), 2u);
  EXPECT_EQ(bn->non_trainable_weights().size(), 2u);
  // Feature 0: 1, 3 (mean 2, var 1); feature 1: 10, 10 (mean 10, var 0).
  const Tensor x = {{1.0f, 10.0f}, {3.0f, 10.0f}};
  const Tensor y = {{0.0f, 0.0f}, {0.0f, 0.0f}};
  // Inference before training: moving mean 0, variance 1 -> x / sqrt(1 + epsilon).
  EXPECT_LT(px::test::max_abs_diff(m.predict(x), Tensor(x / std::sqrt(1.001f))), 1e-5);
  m.compile("sgd", "mse");
  m.train_on_batch(x, y);
  // One step: moving = 0.5 * initial + 0.5 * batch.
  EXPECT_NEAR(bn->get_weights()[2](0), 1.0, 1e-6);
  EXPECT_NEAR(bn->get_weights()[2](1), 5.0, 1e-6);
  EXPECT_NEAR(bn->get_weights()[3](0), 1.0, 1e-6);
  EXPECT_NEAR(bn->get_weights()[3](1), 0.5, 1e-6);
  // Inference uses the moving statistics: (x - mean) / sqrt(var) * gamma + beta.
  const Tensor p = m.predict(x);
  const auto w = bn->get_weights();
  EXPECT_NEAR(p(0, 0), (1.0 - 1.0) / std::sqrt(1.001) * w[0](0) + w[1](0), 1e-5);
  EXPECT_NEAR(p(1, 1), (10.0 - 5.0) / std::sqrt(0.501) * w[0](1) + w[1](1), 1e-4);
  // Frozen: inference mode in training too, and no update.
  bn->set_trainable(false);
  m.compile("sgd", "mse");
  m.train_on_batch(x, y);
  EXPECT_NEAR(bn->get_weights()[2](1), 5.0, 1e-6);
  EXPECT_LT(px::test::max_abs_diff(m.predict(x), p), 1e-6);
}

// Keras 3: freezing a whole model (or a model nested in another one) puts its
// BatchNormalization layers in inference mode in training too, and stops their updates;
// unfreezing restores both.
TEST(ImageLayers, FreezingAModelPutsItsBatchNormalizationInInferenceMode) {
  px::utils::clear_session();
  auto bn = L::BatchNormalization({.momentum = 0.5f});
  px::Sequential inner({L::Dense(2, {.kernel_initializer = "ones", .input_shape = {2}}), bn});
  auto in = px::Input({2});
  px::Model outer(in, inner(in));
  const Tensor x = {{1.0f, 10.0f}, {3.0f, 12.0f}, {-2.0f, 4.0f}};
  const Tensor y = {{0.5f, 1.0f}, {0.0f, -1.0f}, {1.0f, 0.0f}};
  auto moving_mean = [&] { return bn->get_weights()[2]; };
  outer.compile("sgd", "mse");
  const Tensor before = moving_mean();
  outer.train_on_batch(x, y);
  EXPECT_GT(px::test::max_abs_diff(moving_mean(), before), 0.1) << "trainable: updated";
  for (int which = 0; which < 2; ++which) {
    if (which == 0) {
      inner.set_trainable(false);
    } else {
      outer.set_trainable(false);
    }
    EXPECT_FALSE(bn->trainable());
    outer.compile("sgd", "mse");
    const Tensor frozen = moving_mean();
    const double inference_loss = outer.evaluate(x, y, {.verbose = 0})[0];
    // Frozen: the training step normalises with the moving statistics (the same loss as
    // evaluate) and leaves them alone.
    EXPECT_NEAR(outer.train_on_batch(x, y)[0], inference_loss, 1e-6) << which;
    EXPECT_EQ(px::test::max_abs_diff(moving_mean(), frozen), 0) << which;
    // Unfrozen again: batch statistics and updates.
    if (which == 0) {
      inner.set_trainable(true);
    } else {
      outer.set_trainable(true);
    }
    EXPECT_TRUE(bn->trainable());
    outer.compile("sgd", "mse");
    // (The weights have not moved while frozen: the same model, in the training mode.)
    EXPECT_GT(std::abs(outer.train_on_batch(x, y)[0] - inference_loss), 1e-3) << which;
    EXPECT_GT(px::test::max_abs_diff(moving_mean(), frozen), 1e-3) << which;
  }
}

TEST(ImageLayers, ActivationLayerValues) {
  px::utils::clear_session();
  const Tensor x = {{-2.0f, -0.5f, 0.5f, 3.0f, 8.0f}};
  const Tensor r = predict_one(L::ReLU({.max_value = 6.0f, .negative_slope = 0.1f}), x);
  EXPECT_FLOAT_EQ(r(0, 0), -0.2f);
  EXPECT_FLOAT_EQ(r(0, 2), 0.5f);
  EXPECT_FLOAT_EQ(r(0, 4), 6.0f);
  const Tensor l = predict_one(L::LeakyReLU(), x);
  EXPECT_FLOAT_EQ(l(0, 0), -0.6f);  // Keras 3 layer default 0.3
  const Tensor e = predict_one(L::ELU({.alpha = 2.0f}), x);
  EXPECT_NEAR(e(0, 0), 2.0 * (std::exp(-2.0) - 1.0), 1e-6);
  const Tensor p = predict_one(L::PReLU({.alpha_initializer = "ones"}), x);
  EXPECT_FLOAT_EQ(p(0, 0), -2.0f);  // alpha 1: identity
  const Tensor s = predict_one(L::Softmax(), x);
  EXPECT_NEAR(xt::sum(s)(), 1.0, 1e-6);
}

// --- summary ---------------------------------------------------------------------------------

TEST(ImageLayers, MnistConvnetSummaryAsKeras) {
  px::utils::clear_session();
  px::Sequential model({
      L::Conv2D(32, 3, {.activation = "relu", .input_shape = {28, 28, 1}}),
      L::MaxPooling2D(2),
      L::Conv2D(64, 3, {.activation = "relu"}),
      L::MaxPooling2D(2),
      L::Flatten(),
      L::Dropout(0.5f),
      L::Dense(10, "softmax"),
  });
  // keras.io/examples/vision/mnist_convnet, model.summary().
  EXPECT_EQ(model.summary_string(), R"(Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ conv2d (Conv2D)                 │ (None, 26, 26, 32)     │           320 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d (MaxPooling2D)    │ (None, 13, 13, 32)     │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_1 (Conv2D)               │ (None, 11, 11, 64)     │        18,496 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d_1 (MaxPooling2D)  │ (None, 5, 5, 64)       │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ flatten (Flatten)               │ (None, 1600)           │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dropout (Dropout)               │ (None, 1600)           │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 10)             │        16,010 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 34,826 (136.04 KB)
 Trainable params: 34,826 (136.04 KB)
 Non-trainable params: 0 (0.00 B)
)");
}

// --- errors ----------------------------------------------------------------------------------

TEST(ImageLayers, Errors) {
  px::utils::clear_session();
  EXPECT_NE(error_message([] { L::Conv2D(0, 3); }).find("Received filters=0"), std::string::npos);
  EXPECT_NE(error_message([] { L::Conv2D(4, {3, 3, 3}); }).find("kernel_size"), std::string::npos);
  EXPECT_NE(error_message([] { L::Conv2D(4, 3, {.padding = "full"}); }).find("padding"),
            std::string::npos);
  EXPECT_NE(error_message([] { L::Conv2D(5, 3, {.groups = 2}); }).find("groups=2, filters=5"),
            std::string::npos);
  EXPECT_NE(error_message([] { L::Conv2D(4, 3, {.data_format = "nhwc"}); }).find("data_format"),
            std::string::npos);
  EXPECT_NE(error_message([] {
              L::Conv2D(4, 3, {.groups = 2})(px::Input({5, 5, 3}));
            }).find("evenly divisible"),
            std::string::npos);
  EXPECT_EQ(error_message([] {
              L::Conv2D(4, 3, {.name = "c"})(px::Input({5, 5}));
            }),
            "Input 0 of layer \"c\" is incompatible with the layer: expected ndim=4, found ndim=3. "
            "Full shape received: (None, 5, 5)");
  EXPECT_NE(error_message([] {
              L::Conv2D(4, 5)(px::Input({3, 3, 1}));
            }).find("does not fit"),
            std::string::npos);
  {
    auto conv = L::Conv2D(4, 3, {.name = "shared"});
    conv(px::Input({5, 5, 3}));
    EXPECT_EQ(error_message([&] {
                conv(px::Input({5, 5, 2}));
              }),
              "Input 0 of layer \"shared\" is incompatible with the layer: expected axis -1 of "
              "input shape to have value 3, but received input with shape (None, 5, 5, 2)");
  }
  EXPECT_NE(error_message([] {
              L::Conv2DTranspose(2, 3, {.strides = 2, .output_padding = 2});
            }).find("output_padding"),
            std::string::npos);
  EXPECT_NE(error_message([] {
              L::MaxPooling2D(3)(px::Input({2, 2, 1}));
            }).find("does not fit"),
            std::string::npos);
  EXPECT_NE(error_message([] {
              L::Cropping2D(2)(px::Input({4, 4, 1}));
            }).find("removes all"),
            std::string::npos);
  EXPECT_NE(error_message([] {
              L::GroupNormalization({.groups = 4})(px::Input({5, 6}));
            }).find("number of groups (4)"),
            std::string::npos);
  EXPECT_NE(error_message([] { L::SpatialDropout2D(1.0f); }).find("rate"), std::string::npos);
  EXPECT_NE(error_message([] { L::UpSampling2D(2, {.interpolation = "bicubic"}); }).find("bicubic"),
            std::string::npos);
}

}  // namespace
