// Configs and the one registry: every layer, initializer, regularizer, constraint, loss,
// metric, optimizer and schedule round-trips through its Keras 3 config; bare names and
// Keras 2 / Keras 3 dicts build the same objects; unknown classes are clear errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <plexus.hpp>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "graph_helpers.hpp"

namespace px = plexus;
using px::Config;
using px::Shape;
using px::Tensor;
using px::test::error_message;
using px::test::max_abs_diff;
using px::test::random_tensor;

namespace {

using px::test::contains;

// --- the registry ----------------------------------------------------------------------

TEST(Registry, BareNamesKeras3AndKeras2DictsBuildTheSameObject) {
  auto& reg = px::initializers::Initializer::registry();
  const Config k3 = {{"module", "keras.initializers"},
                     {"class_name", "GlorotUniform"},
                     {"config", {{"seed", 3}, {"input_axes", nullptr}, {"output_axes", nullptr}}},
                     {"registered_name", nullptr}};
  const Config k2 = {{"class_name", "GlorotUniform"}, {"config", {{"seed", 3}}}};
  const Tensor a = (*reg.create(k3))({6, 5});
  const Tensor b = (*reg.create(k2))({6, 5});
  EXPECT_EQ(a, b);
  EXPECT_EQ(reg.create(Config("glorot_uniform"))->class_name(), "GlorotUniform");
  EXPECT_EQ(reg.create(Config("GlorotUniform"))->class_name(), "GlorotUniform");
  // serialize writes Keras 3's dict, registered_name null for built-ins.
  const Config s = reg.serialize(px::initializers::GlorotUniform({.seed = 3}));
  EXPECT_EQ(s, k3);
}

TEST(Registry, AliasesLiveInOnePlace) {
  EXPECT_EQ(px::losses::Loss::registry().class_name_of("mse"), "MeanSquaredError");
  EXPECT_EQ(px::losses::Loss::registry().class_name_of("kld"), "KLDivergence");
  EXPECT_EQ(px::metrics::Metric::registry().class_name_of("mae"), "MeanAbsoluteError");
  EXPECT_EQ(px::optim::Optimizer::registry().class_name_of("adam"), "Adam");
  EXPECT_EQ(px::regularizers::Regularizer::registry().class_name_of("l2"), "L2");
  EXPECT_EQ(px::constraints::Constraint::registry().class_name_of("max_norm"), "MaxNorm");
  EXPECT_EQ(px::initializers::Initializer::registry().class_name_of("uniform"), "RandomUniform");
}

TEST(Registry, UnknownNamesListKnownOnes) {
  const std::string msg =
      error_message([] { px::optim::Optimizer::registry().create(Config("adma")); });
  EXPECT_TRUE(contains(msg, "Unknown optimizer \"adma\". Did you mean \"adam\"?")) << msg;
  EXPECT_TRUE(contains(msg, "Known optimizers: ")) << msg;
  EXPECT_TRUE(contains(msg, "Adamax")) << msg;
  // Not a name or a dict.
  EXPECT_TRUE(contains(error_message([] { px::losses::Loss::registry().create(Config(3)); }),
                       "Cannot build a loss from 3"));
  // A config of the wrong type is a px::Error naming the class, not a JSON exception.
  const std::string bad = error_message([] {
    px::initializers::Initializer::registry().create(
        Config{{"class_name", "RandomNormal"}, {"config", {{"stddev", "wide"}}}});
  });
  EXPECT_TRUE(contains(bad, "RandomNormal")) << bad;
}

// --- layers ------------------------------------------------------------------------------

// serialize -> deserialize gives the same config; with the old weights the new layer
// computes the same outputs.
void expect_layer_round_trip(px::LayerRef layer, const std::vector<Shape>& input_shapes,
                             unsigned seed) {
  SCOPED_TRACE(layer->class_name());
  std::vector<px::SymbolicTensor> ins;
  for (auto& s : input_shapes) ins.push_back(px::Input(s));
  px::SymbolicTensors out = ins.size() == 1 ? px::SymbolicTensors{layer(ins[0])} : layer(ins);
  // Weights away from their initial values (positive, so variances stay valid), so that
  // the comparison below sees every weight.
  std::vector<Tensor> ws = layer->get_weights();
  for (std::size_t i = 0; i < ws.size(); ++i) {
    ws[i] = random_tensor(px::shape_of(ws[i]), seed * 31 + static_cast<unsigned>(i), 0.5f, 1.5f);
  }
  layer->set_weights(ws);
  const Config c = px::layers::serialize(*layer);
  ASSERT_EQ(c["class_name"], layer->class_name());
  if (c["registered_name"].is_null()) {
    ASSERT_EQ(c["module"], "keras.layers");
  }
  px::LayerRef again = px::layers::deserialize(c);
  EXPECT_EQ(px::layers::serialize(*again), c);
  EXPECT_EQ(again->name(), layer->name());

  std::vector<px::SymbolicTensor> ins2;
  for (auto& s : input_shapes) ins2.push_back(px::Input(s));
  px::SymbolicTensors out2 = ins2.size() == 1 ? px::SymbolicTensors{again(ins2[0])} : again(ins2);
  again->set_weights(layer->get_weights());
  px::Model m1(ins, {out[0]}), m2(ins2, {out2[0]});
  std::vector<Tensor> xs;
  for (std::size_t i = 0; i < input_shapes.size(); ++i) {
    Shape s = input_shapes[i];
    s.insert(s.begin(), 3);
    xs.push_back(random_tensor(s, seed + static_cast<unsigned>(i)));
  }
  EXPECT_EQ(max_abs_diff(m1.predict(xs)[0], m2.predict(xs)[0]), 0.0);
}

TEST(LayerConfig, EveryLayerRoundTrips) {
  namespace L = px::layers;
  px::utils::set_random_seed(4);
  expect_layer_round_trip(L::Dense(5, "relu"), {{4}}, 1);
  expect_layer_round_trip(
      L::Dense(3, {.activation = "tanh",
                   .use_bias = false,
                   .kernel_initializer = px::initializers::HeNormal({.seed = 1}),
                   .kernel_regularizer = px::regularizers::L2(1e-4),
                   .kernel_constraint = px::constraints::MaxNorm({.max_value = 3.0})}),
      {{4}}, 2);
  expect_layer_round_trip(L::Activation("softmax"), {{6}}, 3);
  expect_layer_round_trip(L::Dropout(0.25f), {{6}}, 4);
  expect_layer_round_trip(L::Flatten(), {{2, 3}}, 5);
  expect_layer_round_trip(L::Reshape({3, -1}), {{6}}, 6);
  expect_layer_round_trip(L::Add(), {{4}, {4}}, 7);
  expect_layer_round_trip(L::Subtract(), {{4}, {4}}, 8);
  expect_layer_round_trip(L::Multiply(), {{4}, {4}}, 9);
  expect_layer_round_trip(L::Average(), {{4}, {4}, {4}}, 10);
  expect_layer_round_trip(L::Maximum(), {{4}, {4}}, 11);
  expect_layer_round_trip(L::Minimum(), {{4}, {4}}, 12);
  expect_layer_round_trip(L::Concatenate(1), {{2}, {3}}, 13);
}

TEST(LayerConfig, EveryImageLayerRoundTrips) {
  namespace L = px::layers;
  px::utils::set_random_seed(5);
  unsigned seed = 100;
  auto rt = [&](px::LayerRef layer, Shape in) { expect_layer_round_trip(layer, {in}, ++seed); };
  rt(L::Conv1D(4, 3, {.padding = "causal", .dilation_rate = 2, .activation = "relu"}), {9, 2});
  rt(L::Conv2D(6, {3, 2},
               {.strides = {2, 1},
                .padding = "same",
                .groups = 2,
                .activation = "tanh",
                .kernel_initializer = px::initializers::HeNormal({.seed = 3}),
                .kernel_regularizer = px::regularizers::L1L2(0.01, 0.02),
                .bias_regularizer = "l2",
                .kernel_constraint = px::constraints::MaxNorm({.max_value = 3.0}),
                .bias_constraint = px::constraints::NonNeg()}),
     {7, 6, 4});
  rt(L::Conv2D(3, 3, {.data_format = "channels_first", .use_bias = false}), {2, 6, 5});
  rt(L::Conv1DTranspose(3, 3, {.strides = 2}), {5, 2});
  rt(L::Conv2DTranspose(4, 3, {.strides = 2, .padding = "same", .output_padding = 1}), {4, 5, 3});
  rt(L::DepthwiseConv1D(3, {.depth_multiplier = 2}), {8, 3});
  rt(L::DepthwiseConv2D({3, 3},
                        {.padding = "same", .depth_multiplier = 2, .depthwise_regularizer = "l1"}),
     {6, 6, 3});
  rt(L::SeparableConv1D(4, 3), {8, 3});
  rt(L::SeparableConv2D(5, 3, {.dilation_rate = 2, .depth_multiplier = 2, .activation = "relu"}),
     {8, 8, 3});
  rt(L::MaxPooling1D(2), {8, 3});
  rt(L::MaxPooling2D({2, 3}, {.strides = 1, .padding = "same"}), {6, 7, 2});
  rt(L::AveragePooling1D(3, {.strides = 2}), {9, 2});
  rt(L::AveragePooling2D(2, {.data_format = "channels_first"}), {3, 6, 6});
  rt(L::GlobalAveragePooling1D(), {5, 3});
  rt(L::GlobalAveragePooling2D({.keepdims = true}), {4, 4, 3});
  rt(L::GlobalMaxPooling1D({.data_format = "channels_first"}), {3, 5});
  rt(L::GlobalMaxPooling2D(), {4, 4, 3});
  rt(L::ZeroPadding1D({{1, 2}}), {5, 2});
  rt(L::ZeroPadding2D({{1, 2}, {0, 3}}), {4, 4, 2});
  rt(L::Cropping1D({{1, 2}}), {7, 2});
  rt(L::Cropping2D({{1, 0}, {2, 1}}, {.data_format = "channels_first"}), {2, 6, 6});
  rt(L::UpSampling1D(3), {4, 2});
  rt(L::UpSampling2D({2, 3}), {3, 3, 2});
  rt(L::SpatialDropout1D(0.3f), {5, 3});
  rt(L::SpatialDropout2D(0.25f, {.data_format = "channels_first", .seed = 7}), {3, 4, 4});
  rt(L::BatchNormalization(
         {.axis = 1, .momentum = 0.9f, .epsilon = 1e-5f, .gamma_regularizer = "l2"}),
     {3, 4, 4});
  rt(L::BatchNormalization({.center = false, .beta_constraint = px::constraints::NonNeg()}),
     {4, 4, 3});
  rt(L::LayerNormalization({.axis = {1, 2}, .epsilon = 1e-4f}), {3, 4});
  rt(L::LayerNormalization({.rms_scaling = true}), {5});
  rt(L::GroupNormalization({.groups = 2, .scale = false}), {4, 4, 6});
  rt(L::UnitNormalization({.axis = {1, 2}}), {3, 4});
  rt(L::ReLU({.max_value = 6.0f, .negative_slope = 0.1f}), {6});
  rt(L::LeakyReLU({.negative_slope = 0.2f}), {6});
  rt(L::PReLU({.alpha_initializer = "ones", .shared_axes = {1}}), {4, 3});
  rt(L::ELU({.alpha = 0.5f}), {6});
  rt(L::Softmax({.axis = 1}), {3, 4});
  // Normalization: adapted (mean and variance are weights) and given (in the config).
  auto adapted = L::Normalization();
  adapted->adapt(random_tensor({20, 4}, 9));
  rt(adapted, {4});
  Tensor mean = random_tensor({3}, 10), var = random_tensor({3}, 11, 0.5f, 2.0f);
  auto given = L::Normalization({.axis = -1, .mean = mean, .variance = var, .invert = true});
  rt(given, {3});
  const Config gc = given->get_config();
  ASSERT_TRUE(gc["mean"].is_array());
  EXPECT_EQ(gc["mean"].size(), 3u);
  EXPECT_EQ(gc["axis"], Config::array({-1}));
}

TEST(LayerConfig, EveryBuiltInLayerClassIsRegistered) {
  const std::vector<std::string> classes{"InputLayer",
                                         "Dense",
                                         "Activation",
                                         "Dropout",
                                         "Flatten",
                                         "Reshape",
                                         "Add",
                                         "Subtract",
                                         "Multiply",
                                         "Average",
                                         "Maximum",
                                         "Minimum",
                                         "Concatenate",
                                         "Conv1D",
                                         "Conv2D",
                                         "Conv1DTranspose",
                                         "Conv2DTranspose",
                                         "DepthwiseConv1D",
                                         "DepthwiseConv2D",
                                         "SeparableConv1D",
                                         "SeparableConv2D",
                                         "MaxPooling1D",
                                         "MaxPooling2D",
                                         "AveragePooling1D",
                                         "AveragePooling2D",
                                         "GlobalMaxPooling1D",
                                         "GlobalMaxPooling2D",
                                         "GlobalAveragePooling1D",
                                         "GlobalAveragePooling2D",
                                         "ZeroPadding1D",
                                         "ZeroPadding2D",
                                         "Cropping1D",
                                         "Cropping2D",
                                         "UpSampling1D",
                                         "UpSampling2D",
                                         "SpatialDropout1D",
                                         "SpatialDropout2D",
                                         "BatchNormalization",
                                         "LayerNormalization",
                                         "GroupNormalization",
                                         "UnitNormalization",
                                         "ReLU",
                                         "LeakyReLU",
                                         "PReLU",
                                         "ELU",
                                         "Softmax",
                                         "Normalization",
                                         "Lambda",
                                         "Embedding",
                                         "Masking",
                                         "SimpleRNN",
                                         "LSTM",
                                         "GRU",
                                         "Bidirectional"};
  const auto names = px::layer_registry().names();
  for (const auto& c : classes) {
    EXPECT_NE(std::find(names.begin(), names.end(), c), names.end()) << c;
  }
  // Keras's aliases.
  EXPECT_EQ(px::layer_registry().class_name_of("MaxPool2D"), "MaxPooling2D");
  EXPECT_EQ(px::layer_registry().class_name_of("Convolution2D"), "Conv2D");
}

std::vector<std::string> keys_of(const Config& c) {
  std::vector<std::string> keys;
  for (auto& [k, v] : c.items()) keys.push_back(k);
  return keys;
}

// The key lists of Keras 3's get_config (keras/src/layers/.../*.py), in order.
TEST(LayerConfig, ImageLayersHaveKeras3Keys) {
  namespace L = px::layers;
  const std::vector<std::string> base{"name", "trainable", "dtype"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> k = base;
    k.insert(k.end(), more.begin(), more.end());
    return k;
  };
  auto conv = L::Conv2D(8, 3, {.name = "c"});
  conv(px::Input({6, 6, 2}));
  const Config cc = conv->get_config();
  EXPECT_EQ(keys_of(cc),
            with({"filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
                  "groups", "activation", "use_bias", "kernel_initializer", "bias_initializer",
                  "kernel_regularizer", "bias_regularizer", "activity_regularizer",
                  "kernel_constraint", "bias_constraint"}));
  EXPECT_EQ(cc["kernel_size"], Config::array({3, 3}));
  EXPECT_EQ(cc["strides"], Config::array({1, 1}));
  EXPECT_EQ(cc["padding"], "valid");
  EXPECT_EQ(cc["data_format"], "channels_last");
  EXPECT_EQ(cc["activation"], "linear");
  EXPECT_EQ(cc["kernel_initializer"]["class_name"], "GlorotUniform");
  EXPECT_EQ(keys_of(L::Conv2DTranspose(4, 3)->get_config()),
            with({"filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
                  "activation", "use_bias", "kernel_initializer", "bias_initializer",
                  "kernel_regularizer", "bias_regularizer", "activity_regularizer",
                  "kernel_constraint", "bias_constraint"}));
  EXPECT_EQ(keys_of(L::DepthwiseConv2D(3)->get_config()),
            with({"depth_multiplier", "kernel_size", "strides", "padding", "data_format",
                  "dilation_rate", "activation", "use_bias", "depthwise_initializer",
                  "bias_initializer", "depthwise_regularizer", "bias_regularizer",
                  "activity_regularizer", "depthwise_constraint", "bias_constraint"}));
  EXPECT_EQ(keys_of(L::SeparableConv2D(4, 3)->get_config()),
            with({"depth_multiplier", "filters", "kernel_size", "strides", "padding", "data_format",
                  "dilation_rate", "activation", "use_bias", "depthwise_initializer",
                  "pointwise_initializer", "bias_initializer", "depthwise_regularizer",
                  "pointwise_regularizer", "bias_regularizer", "activity_regularizer",
                  "depthwise_constraint", "pointwise_constraint", "bias_constraint"}));
  const Config pool = L::MaxPooling2D(2)->get_config();
  EXPECT_EQ(keys_of(pool), with({"pool_size", "padding", "strides", "data_format"}));
  EXPECT_EQ(pool["strides"], Config::array({2, 2}));  // None is stored as the pool size
  EXPECT_EQ(keys_of(L::GlobalAveragePooling2D()->get_config()), with({"data_format", "keepdims"}));
  const Config zp = L::ZeroPadding2D(1)->get_config();
  EXPECT_EQ(keys_of(zp), with({"padding", "data_format"}));
  EXPECT_EQ(zp["padding"], Config::parse("[[1, 1], [1, 1]]"));
  EXPECT_EQ(keys_of(L::UpSampling2D(2)->get_config()),
            with({"size", "data_format", "interpolation"}));
  EXPECT_EQ(keys_of(L::Cropping2D(1)->get_config()), with({"cropping", "data_format"}));
  EXPECT_EQ(keys_of(L::SpatialDropout2D(0.5f)->get_config()),
            (std::vector<std::string>{"rate", "seed", "name", "dtype", "data_format"}));
  const Config bn = L::BatchNormalization()->get_config();
  EXPECT_EQ(keys_of(bn),
            with({"axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
                  "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
                  "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint",
                  "synchronized"}));
  EXPECT_EQ(bn["momentum"], 0.99);
  EXPECT_EQ(bn["epsilon"], 0.001);
  EXPECT_EQ(bn["moving_variance_initializer"]["class_name"], "Ones");
  EXPECT_EQ(keys_of(L::LayerNormalization()->get_config()),
            with({"axis", "epsilon", "center", "scale", "rms_scaling", "beta_initializer",
                  "gamma_initializer", "beta_regularizer", "gamma_regularizer", "beta_constraint",
                  "gamma_constraint"}));
  EXPECT_EQ(
      keys_of(L::GroupNormalization()->get_config()),
      with({"groups", "axis", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
            "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"}));
  EXPECT_EQ(keys_of(L::UnitNormalization()->get_config()), with({"axis"}));
  EXPECT_EQ(keys_of(L::ReLU()->get_config()), with({"max_value", "negative_slope", "threshold"}));
  EXPECT_EQ(L::LeakyReLU()->get_config()["negative_slope"], 0.3);
  EXPECT_EQ(keys_of(L::PReLU()->get_config()),
            with({"alpha_initializer", "alpha_regularizer", "alpha_constraint", "shared_axes"}));
  EXPECT_EQ(keys_of(L::ELU()->get_config()), with({"alpha"}));
  EXPECT_EQ(keys_of(L::Softmax()->get_config()), with({"axis"}));
  EXPECT_EQ(keys_of(L::Normalization()->get_config()),
            with({"axis", "invert", "mean", "variance"}));
}

// Configs as Keras 2 (tf.keras) wrote them: absent keys take Keras's defaults.
TEST(LayerConfig, ReadsKeras2ImageConfigs) {
  auto conv = px::layers::deserialize(Config::parse(R"({"class_name": "Conv1D", "config": {
      "name": "conv1_relu", "trainable": true, "batch_input_shape": [null, 10, 4],
      "filters": 3, "kernel_size": [4], "strides": [1], "padding": "same",
      "dilation_rate": [1], "activation": "relu", "use_bias": true,
      "kernel_initializer": {"class_name": "VarianceScaling", "config": {"distribution":
          "normal", "mode": "fan_in", "scale": 2.0, "seed": null}},
      "bias_initializer": {"class_name": "Zeros", "config": {}},
      "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.0}},
      "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null,
      "bias_constraint": null}})"));
  EXPECT_EQ(conv->class_name(), "Conv1D");
  EXPECT_EQ(conv->declared_input_shape(), (Shape{10, 4}));
  const Config cc = conv->get_config();
  EXPECT_EQ(cc["groups"], 1);
  EXPECT_EQ(cc["data_format"], "channels_last");
  EXPECT_EQ(cc["kernel_regularizer"]["class_name"], "L1L2");
  auto bn = px::layers::deserialize(Config::parse(R"({"class_name": "BatchNormalization",
      "config": {"axis": [3], "beta_constraint": null, "beta_initializer": {"class_name":
      "Zeros", "config": {}}, "beta_regularizer": null, "center": true, "epsilon": 1e-06,
      "gamma_constraint": null, "gamma_initializer": {"class_name": "Ones", "config": {}},
      "gamma_regularizer": null, "momentum": 0.9, "moving_mean_initializer": {"class_name":
      "Zeros", "config": {}}, "moving_variance_initializer": {"class_name": "Ones",
      "config": {}}, "name": "bn1", "scale": true, "trainable": true, "renorm": false,
      "fused": null}})"));
  const Config bc = bn->get_config();
  EXPECT_EQ(bc["axis"], 3);
  EXPECT_EQ(bc["epsilon"], 1e-6);
  EXPECT_EQ(bc["momentum"], 0.9);
  auto leaky = px::layers::deserialize(
      Config{{"class_name", "LeakyReLU"}, {"config", {{"name", "lr"}, {"alpha", 0.1}}}});
  EXPECT_EQ(leaky->get_config()["negative_slope"], 0.1);
  auto pool = px::layers::deserialize(Config::parse(R"({"class_name": "MaxPooling2D",
      "config": {"name": "mp", "trainable": true, "pool_size": [2, 2], "padding": "valid",
      "strides": [2, 2], "data_format": "channels_last"}})"));
  EXPECT_EQ(pool->get_config()["pool_size"], Config::array({2, 2}));
}

TEST(LayerConfig, ImageLayersRefuseWhatPlexusCannotHonour) {
  auto msg = [](const char* json) {
    return error_message([&] { px::layers::deserialize(Config::parse(json)); });
  };
  auto expect_has = [](const std::string& m, std::initializer_list<const char*> parts) {
    for (const char* p : parts) EXPECT_TRUE(contains(m, p)) << m << "\n  lacks: " << p;
  };
  expect_has(msg(R"({"class_name": "Conv2D", "config": {"name": "c1", "filters": 2,
                 "kernel_size": 3, "padding": "full"}})"),
             {"Conv2D \"c1\"", "padding", "full"});
  expect_has(msg(R"({"class_name": "Conv2D", "config": {"name": "c2", "filters": 2,
                 "kernel_size": 3, "lora_rank": 4}})"),
             {"Conv2D \"c2\"", "lora_rank=4"});
  expect_has(msg(R"({"class_name": "Conv2D", "config": {"name": "c3", "filters": 2,
                 "kernel_size": 3, "activity_regularizer": "l2"}})"),
             {"Conv2D \"c3\"", "activity_regularizer"});
  expect_has(msg(R"({"class_name": "Conv2D", "config": {"name": "c4", "filters": 2,
                 "kernel_size": "3"}})"),
             {"Conv2D \"c4\"", "kernel_size", "\"3\""});
  expect_has(msg(R"({"class_name": "Conv2D", "config": {"name": "c5", "filters": 2,
                 "kernel_size": 3, "kernel_initializer": "glorot_uniformm"}})"),
             {"Conv2D \"c5\"", "kernel_initializer", "glorot_uniformm"});
  expect_has(msg(R"({"class_name": "BatchNormalization", "config": {"name": "b1",
                 "renorm": true}})"),
             {"BatchNormalization \"b1\"", "renorm=true"});
  expect_has(msg(R"({"class_name": "BatchNormalization", "config": {"name": "b2",
                 "axis": [1, 2]}})"),
             {"BatchNormalization \"b2\"", "axis=[1,2]"});
  expect_has(msg(R"({"class_name": "UpSampling2D", "config": {"name": "u1",
                 "interpolation": "bicubic"}})"),
             {"UpSampling2D \"u1\"", "interpolation", "bicubic"});
  expect_has(msg(R"({"class_name": "ReLU", "config": {"name": "r1", "threshold": 0.5}})"),
             {"ReLU \"r1\"", "threshold", "0.5"});
  expect_has(msg(R"({"class_name": "SpatialDropout2D", "config": {"name": "s1",
                 "rate": 0.5, "data_format": "channels_middle"}})"),
             {"SpatialDropout2D \"s1\"", "channels_middle"});
  expect_has(msg(R"({"class_name": "Normalization", "config": {"name": "n1",
                 "mean": [[1, 2], [3]], "variance": [1, 2]}})"),
             {"Normalization \"n1\"", "mean"});
  // Conv layers in C++ refuse an activity regularizer too: it would be silently unused.
  EXPECT_TRUE(
      contains(error_message([] { px::layers::Conv2D(2, 3, {.activity_regularizer = "l2"}); }),
               "activity_regularizer"));
  const std::string dense =
      error_message([] { px::layers::Dense(4, {.activity_regularizer = "l2", .name = "d"}); });
  EXPECT_TRUE(contains(dense, "Dense \"d\": activity_regularizer=L2 is not supported")) << dense;
}

TEST(LayerConfig, LambdaIsAClearErrorBothWays) {
  auto lam = px::layers::Lambda([](const px::SymbolicTensor& x) { return px::ops::square(x); },
                                {.name = "square_it"});
  auto x = px::Input({3});
  px::Model m(x, lam(x));
  const std::string save = error_message([&] { px::layers::serialize(*lam); });
  EXPECT_TRUE(contains(save, "Lambda \"square_it\" cannot be saved")) << save;
  EXPECT_TRUE(contains(save, "px::register_layer")) << save;
  const std::string load = error_message([] {
    px::layers::deserialize(Config::parse(R"({"module": "keras.layers", "class_name": "Lambda",
        "config": {"name": "lam", "function": {"class_name": "__lambda__", "config":
        {"code": "4wEAAAAAAAAA", "defaults": null, "closure": null}}},
        "registered_name": null})"));
  });
  EXPECT_TRUE(contains(load, "Lambda \"lam\" cannot be loaded")) << load;
}

TEST(Regularizers, ConvPenaltiesJoinTheLossAndConstraintsFollowEachStep) {
  px::utils::clear_session();
  auto x = px::Input({3, 3, 1});
  auto y = px::layers::Conv2D(1, 2,
                              {.use_bias = false,
                               .kernel_initializer = "ones",
                               .kernel_regularizer = px::regularizers::L2(0.5),
                               .kernel_constraint = px::constraints::NonNeg()})(x);
  px::Model m(x, y);
  m.compile(px::optim::SGD({.learning_rate = 2.0}), "mse");
  Tensor xs = xt::zeros<float>({2, 3, 3, 1}), ys = xt::zeros<float>({2, 2, 2, 1});
  // Zero inputs and targets: the loss is the penalty 0.5 * 4 * 1^2.
  EXPECT_NEAR(m.evaluate(xs, ys, {.verbose = 0})[0], 2.0, 1e-6);
  // One SGD step: w -= 2 * d(0.5 w^2)/dw = -1, then NonNeg projects to 0.
  m.train_on_batch(xs, ys);
  const std::vector<Tensor> after = m.get_weights();
  ASSERT_EQ(after[0].size(), 4u);
  for (float v : after[0]) EXPECT_EQ(v, 0.0f);
}

TEST(LayerConfig, DenseHasKeras3Keys) {
  auto d = px::layers::Dense(12, {.activation = "relu", .name = "dense"});
  d(px::Input({8}));
  const Config c = d->get_config();
  std::vector<std::string> keys;
  for (auto& [k, v] : c.items()) keys.push_back(k);
  const std::vector<std::string> expected{"name",
                                          "trainable",
                                          "dtype",
                                          "units",
                                          "activation",
                                          "use_bias",
                                          "kernel_initializer",
                                          "bias_initializer",
                                          "kernel_regularizer",
                                          "bias_regularizer",
                                          "activity_regularizer",
                                          "kernel_constraint",
                                          "bias_constraint"};
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(c["dtype"]["class_name"], "DTypePolicy");
  EXPECT_EQ(c["dtype"]["config"]["name"], "float32");
  EXPECT_EQ(c["kernel_initializer"]["class_name"], "GlorotUniform");
  EXPECT_EQ(c["kernel_initializer"]["config"],
            (Config{{"seed", nullptr}, {"input_axes", nullptr}, {"output_axes", nullptr}}));
  EXPECT_EQ(c["bias_initializer"]["class_name"], "Zeros");
  EXPECT_TRUE(c["kernel_regularizer"].is_null());
}

// A Dense entry exactly as Keras 3.15.1 wrote it in keras3_generated/seq_mlp_pima.keras.
const char* kKerasDense = R"({
  "module": "keras.layers", "class_name": "Dense",
  "config": {"name": "dense_1", "trainable": true,
    "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
              "registered_name": null, "shared_object_id": 140130517048208},
    "units": 8, "activation": "relu", "use_bias": true,
    "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
      "config": {"seed": null, "input_axes": null, "output_axes": null}, "registered_name": null},
    "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {},
      "registered_name": null},
    "kernel_regularizer": null, "bias_regularizer": null, "kernel_constraint": null,
    "bias_constraint": null, "quantization_config": null},
  "registered_name": null, "build_config": {"input_shape": [null, 12]}})";

TEST(LayerConfig, ReadsKerasFiles) {
  auto layer = px::layers::deserialize(Config::parse(kKerasDense));
  auto* dense = dynamic_cast<px::layers::DenseLayer*>(layer.get().get());
  ASSERT_NE(dense, nullptr);
  EXPECT_EQ(dense->name(), "dense_1");
  EXPECT_EQ(dense->units(), 8);
  EXPECT_EQ(dense->options().activation, "relu");
  EXPECT_EQ(dense->options().kernel_initializer.class_name(), "GlorotUniform");
  // Keras 2: a Policy-free dtype string, VarianceScaling and L1L2 dicts, batch_input_shape.
  const Config k2 = Config::parse(R"({"class_name": "Dense", "config": {"name": "fc1",
      "trainable": false, "batch_input_shape": [null, 16], "dtype": "float32", "units": 64,
      "activation": "relu", "use_bias": true,
      "kernel_initializer": {"class_name": "VarianceScaling", "config": {"scale": 1.0,
          "mode": "fan_avg", "distribution": "uniform", "seed": null}},
      "bias_initializer": {"class_name": "Zeros", "config": {}},
      "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.001}},
      "bias_regularizer": null, "activity_regularizer": null,
      "kernel_constraint": {"class_name": "MaxNorm", "config": {"max_value": 2, "axis": 0}},
      "bias_constraint": null}})");
  auto l2 = px::layers::deserialize(k2);
  EXPECT_FALSE(l2->trainable());
  EXPECT_EQ(l2->declared_input_shape(), (Shape{16}));
  l2(px::Input({16}));
  const auto w = l2->weights();
  ASSERT_EQ(w.size(), 2u);
  ASSERT_NE(w[0].data()->regularizer, nullptr);
  EXPECT_EQ(w[0].data()->regularizer->class_name(), "L1L2");
  ASSERT_NE(w[0].data()->constraint, nullptr);
  EXPECT_EQ(w[0].data()->constraint->class_name(), "MaxNorm");
  EXPECT_EQ(w[1].data()->regularizer, nullptr);
  // InputLayer, Keras 3 and Keras 2.
  auto in3 = px::layers::deserialize(Config::parse(
      R"({"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 8],
          "dtype": "float32", "sparse": false, "ragged": false, "name": "input_layer",
          "optional": false}, "registered_name": null})"));
  EXPECT_EQ(in3->name(), "input_layer");
  EXPECT_EQ(px::layers::serialize(*in3)["config"],
            Config::parse(R"({"batch_shape": [null, 8], "dtype": "float32", "sparse": false,
                              "ragged": false, "name": "input_layer", "optional": false})"));
  auto in2 = px::layers::deserialize(Config::parse(
      R"({"class_name": "InputLayer", "config": {"batch_input_shape": [null, 16],
          "dtype": "float32", "sparse": false, "name": "input_1"}})"));
  EXPECT_EQ(dynamic_cast<px::graph::InputLayer&>(*in2).shape(), (Shape{16}));
}

TEST(LayerConfig, RefusesWhatPlexusCannotHonour) {
  Config c = Config::parse(kKerasDense);
  c["config"]["dtype"] = "mixed_float16";
  EXPECT_TRUE(contains(error_message([&] { px::layers::deserialize(c); }),
                       "dtype \"mixed_float16\" is not supported"));
  c = Config::parse(kKerasDense);
  c["config"]["lora_rank"] = 4;
  EXPECT_TRUE(contains(error_message([&] { px::layers::deserialize(c); }), "lora_rank=4"));
  c = Config::parse(kKerasDense);
  c["config"]["activation"] = "rleu";
  EXPECT_TRUE(
      contains(error_message([&] { px::layers::deserialize(c); }), "unknown activation \"rleu\""));
  c = Config::parse(kKerasDense);
  c["config"].erase("units");
  EXPECT_TRUE(contains(error_message([&] { px::layers::deserialize(c); }), "units"));
  // Dropout's noise_shape is honoured (issue 25); a malformed one is refused by name.
  Config drop = {{"class_name", "Dropout"}, {"config", {{"rate", 0.5}, {"noise_shape", {1, 4}}}}};
  EXPECT_NO_THROW(px::layers::deserialize(drop));
  drop["config"]["noise_shape"] = Config::array({1, "x"});
  EXPECT_TRUE(contains(error_message([&] { px::layers::deserialize(drop); }), "noise_shape"));
}

TEST(LayerConfig, UnknownClassNamesItAndHowToRegister) {
  const Config q = Config::parse(R"({"module": "qkeras.qlayers", "class_name": "QDense",
      "config": {"name": "fc1", "units": 64}, "registered_name": "qkeras>QDense"})");
  const std::string msg = error_message([&] { px::layers::deserialize(q); });
  EXPECT_TRUE(contains(msg, "Unknown layer \"QDense\" (registered name \"qkeras>QDense\")")) << msg;
  EXPECT_TRUE(contains(msg, "Known layers: ")) << msg;
  EXPECT_TRUE(contains(msg, "px::register_layer<QDense>(\"qkeras>QDense\")")) << msg;
  const std::string k2 = error_message([] {
    px::layers::deserialize(Config{{"class_name", "ConvLSTM2D"}, {"config", Config::object()}});
  });
  EXPECT_TRUE(contains(k2, "Unknown layer \"ConvLSTM2D\"")) << k2;
  EXPECT_TRUE(contains(k2, "px::register_layer<ConvLSTM2D>(\"package>ConvLSTM2D\")")) << k2;
}

// API.md's custom layer, made serializable.
class ConfigScale : public px::Layer {
 public:
  explicit ConfigScale(float init, std::string_view name = {}) : px::Layer(name), init_(init) {}
  std::string class_name() const override { return "ConfigScale"; }
  void build(const Shape& input_shape) override {
    alpha_ = add_weight("alpha", {input_shape.back()}, px::initializers::Constant(init_));
  }
  px::SymbolicTensor call(const px::SymbolicTensor& x) override {
    return px::ops::multiply(x, alpha_);
  }
  Config get_config() const override {
    Config c = px::Layer::get_config();
    c["init"] = init_;
    return c;
  }
  static px::LayerRef from_config(const Config& c) {
    auto layer = px::make_layer<ConfigScale>(c.at("init").get<float>(), px::config::name_of(c));
    layer->apply_base_config(c);
    return layer;
  }

 private:
  float init_;
  px::SymbolicTensor alpha_;
};

TEST(LayerConfig, RegisteredCustomLayerRoundTrips) {
  px::register_layer<ConfigScale>("my_package>ConfigScale");
  auto layer = px::make_layer<ConfigScale>(2.5f, "scale");
  const Config c = px::layers::serialize(*layer);
  EXPECT_EQ(c["registered_name"], "my_package>ConfigScale");
  EXPECT_EQ(c["module"], "my_package");
  EXPECT_EQ(c["class_name"], "ConfigScale");
  EXPECT_EQ(c["config"]["init"], 2.5);
  expect_layer_round_trip(layer, {{3}}, 20);
  // Found by its registered name, and by its bare class name (Keras 2 dicts).
  auto again =
      px::layers::deserialize(Config{{"class_name", "ConfigScale"}, {"config", c["config"]}});
  EXPECT_EQ(again->name(), "scale");
  EXPECT_THROW(px::register_layer<ConfigScale>("no_package"), px::Error);
}

// --- initializers ------------------------------------------------------------------------

void expect_round_trip(const px::initializers::Initializer& init) {
  SCOPED_TRACE(init.class_name());
  auto& reg = px::initializers::Initializer::registry();
  const Config c = reg.serialize(init);
  auto again = reg.create(c);
  EXPECT_EQ(reg.serialize(*again), c);
  // Seeded or constant ones give identical values.
  const Tensor a = init({7, 5});
  const Tensor b = (*again)({7, 5});
  if (!c["config"].contains("seed") || !c["config"]["seed"].is_null()) {
    EXPECT_EQ(a, b);
  }
}

TEST(InitializerConfig, EveryClassRoundTrips) {
  namespace I = px::initializers;
  expect_round_trip(I::Zeros());
  expect_round_trip(I::Ones());
  expect_round_trip(I::Constant(1.5));
  expect_round_trip(I::RandomNormal({.mean = 1.0, .stddev = 0.5, .seed = 3}));
  expect_round_trip(I::RandomUniform({.minval = -2.0, .maxval = 1.0, .seed = 4}));
  expect_round_trip(I::TruncatedNormal({.mean = 0.1, .stddev = 0.2, .seed = 5}));
  expect_round_trip(I::VarianceScaling(
      {.scale = 0.5, .mode = "fan_out", .distribution = "untruncated_normal", .seed = 6}));
  expect_round_trip(I::GlorotUniform({.seed = 1}));
  expect_round_trip(I::GlorotNormal({.seed = 1}));
  expect_round_trip(I::HeUniform({.seed = 1}));
  expect_round_trip(I::HeNormal({.seed = 1}));
  expect_round_trip(I::LecunUniform({.seed = 1}));
  expect_round_trip(I::LecunNormal({.seed = 1}));
  expect_round_trip(I::Orthogonal({.gain = 2.0, .seed = 2}));
  expect_round_trip(I::Identity({.gain = 3.0}));
  expect_round_trip(I::HeNormal());
  auto& reg = I::Initializer::registry();
  EXPECT_EQ(reg.serialize(I::Constant(1.5))["config"], (Config{{"value", 1.5}}));
  EXPECT_EQ(reg.serialize(I::RandomNormal())["config"],
            (Config{{"mean", 0.0}, {"stddev", 0.05}, {"seed", nullptr}}));
  EXPECT_TRUE(contains(
      error_message([&] {
        reg.create(Config{{"class_name", "GlorotUniform"}, {"config", {{"input_axes", {0}}}}});
      }),
      "input_axes"));
}

// --- regularizers and constraints -------------------------------------------------------

double eval_penalty(const px::regularizers::Regularizer& r, const Tensor& w) {
  auto data = std::make_shared<px::VariableData>();
  data->name = "w";
  data->path = "w";
  data->value = w;
  px::SymbolicTensor p = px::regularizers::penalty(r, data);
  px::graph::Executor exec({}, {p.node()}, {});
  exec.forward({}, px::Context{});
  return exec.output(0).data()[0];
}

TEST(RegularizerConfig, PenaltiesAndRoundTrips) {
  namespace R = px::regularizers;
  const Tensor w = {{1.0f, -2.0f}, {0.5f, 3.0f}};  // sum |w| = 6.5, sum w^2 = 14.25
  EXPECT_NEAR(eval_penalty(R::L1(0.1), w), 0.65, 1e-6);
  EXPECT_NEAR(eval_penalty(R::L2(0.01), w), 0.1425, 1e-6);
  EXPECT_NEAR(eval_penalty(R::L1L2(0.1, 0.01), w), 0.7925, 1e-6);
  auto& reg = R::Regularizer::registry();
  // Keras 3 defaults: "l1"/"l2" 0.01; the L1L2 class (and its name "l1_l2") 0 and 0.
  EXPECT_NEAR(eval_penalty(*reg.create(Config("l2")), w), 0.1425, 1e-6);
  EXPECT_NEAR(eval_penalty(*reg.create(Config("l1")), w), 0.065, 1e-6);
  EXPECT_EQ(reg.serialize(*reg.create(Config("l1_l2")))["config"],
            (Config{{"l1", 0.0}, {"l2", 0.0}}));
  EXPECT_EQ(reg.serialize(*reg.create(
                Config{{"class_name", "L1L2"}, {"config", Config::object()}}))["config"],
            (Config{{"l1", 0.0}, {"l2", 0.0}}));
  for (const R::Regularizer* r :
       std::vector<const R::Regularizer*>{new R::L1(0.3), new R::L2(0.2), new R::L1L2(0.1, 0.4)}) {
    const Config c = reg.serialize(*r);
    EXPECT_EQ(reg.serialize(*reg.create(c)), c);
    EXPECT_NEAR(eval_penalty(*reg.create(c), w), eval_penalty(*r, w), 1e-7);
    delete r;
  }
  EXPECT_THROW(R::L2(-1.0), px::Error);
}

TEST(RegularizerConfig, PenaltyUsesTheWeightsOwnNode) {
  auto d = px::layers::Dense(2, {.kernel_regularizer = px::regularizers::L2(0.5)});
  d(px::Input({3}));
  auto w = d->weights()[0];
  px::SymbolicTensor p = px::regularizers::penalty(*w.data()->regularizer, w.data());
  // The penalty's graph reads the same variable node the model reads.
  std::vector<px::NodePtr> stack{p.node()};
  bool found = false;
  while (!stack.empty()) {
    auto n = stack.back();
    stack.pop_back();
    if (n == w.data()->node.lock()) found = true;
    for (auto& i : n->inputs) stack.push_back(i);
  }
  EXPECT_TRUE(found);
}

TEST(ConstraintConfig, KerasFormulasAndRoundTrips) {
  namespace C = px::constraints;
  const Tensor w = {{3.0f, 0.0f}, {4.0f, 0.5f}};  // column norms 5 and 0.5
  Tensor a = w;
  C::MaxNorm({.max_value = 2.0}).apply(a);  // axis 0: each column's norm <= 2
  EXPECT_NEAR(a(0, 0), 3.0 * 2.0 / 5.0, 1e-6);
  EXPECT_NEAR(a(1, 0), 4.0 * 2.0 / 5.0, 1e-6);
  EXPECT_NEAR(a(1, 1), 0.5, 1e-6);  // already inside
  Tensor b = w;
  C::UnitNorm({.axis = {1}}).apply(b);  // rows: norms 3 and sqrt(16.25)
  EXPECT_NEAR(b(0, 0), 1.0, 1e-6);
  EXPECT_NEAR(b(1, 0), 4.0 / std::sqrt(16.25), 1e-6);
  Tensor c = w;
  C::MinMaxNorm({.min_value = 1.0, .max_value = 2.0, .rate = 0.5}).apply(c);
  // column 1: norm 0.5 -> desired 0.5 * 1 + 0.5 * 0.5 = 0.75
  EXPECT_NEAR(c(1, 1), 0.5 * 0.75 / 0.5, 1e-5);
  Tensor n = {{-1.0f, 2.0f}};
  C::NonNeg().apply(n);
  EXPECT_EQ(n, (Tensor{{0.0f, 2.0f}}));
  auto& reg = C::Constraint::registry();
  EXPECT_EQ(reg.serialize(C::MaxNorm())["config"], (Config{{"max_value", 2.0}, {"axis", 0}}));
  EXPECT_EQ(reg.serialize(C::MinMaxNorm())["config"],
            (Config{{"min_value", 0.0}, {"max_value", 1.0}, {"rate", 1.0}, {"axis", 0}}));
  for (const Config& cfg : {reg.serialize(C::MaxNorm({.max_value = 3.0, .axis = {0, 1}})),
                            reg.serialize(C::NonNeg()), reg.serialize(C::UnitNorm({.axis = {1}})),
                            reg.serialize(C::MinMaxNorm({.min_value = 0.5}))}) {
    EXPECT_EQ(reg.serialize(*reg.create(cfg)), cfg);
  }
  Tensor bad = w;
  EXPECT_THROW(C::UnitNorm({.axis = {2}}).apply(bad), px::Error);
}

// --- losses, metrics, optimizers, schedules ---------------------------------------------

template <typename Base>
void expect_config_round_trip(const Base& obj) {
  SCOPED_TRACE(obj.class_name());
  auto& reg = Base::registry();
  const Config c = reg.serialize(obj);
  EXPECT_EQ(reg.serialize(*reg.create(c)), c);
}

TEST(LossConfig, EveryClassRoundTrips) {
  namespace L = px::losses;
  expect_config_round_trip<L::Loss>(L::MeanSquaredError());
  expect_config_round_trip<L::Loss>(L::MeanAbsoluteError());
  expect_config_round_trip<L::Loss>(L::Huber({.delta = 2.0}));
  expect_config_round_trip<L::Loss>(L::LogCosh());
  expect_config_round_trip<L::Loss>(L::Poisson());
  expect_config_round_trip<L::Loss>(
      L::BinaryCrossentropy({.from_logits = true, .label_smoothing = 0.1}));
  expect_config_round_trip<L::Loss>(L::CategoricalCrossentropy({.label_smoothing = 0.2}));
  expect_config_round_trip<L::Loss>(L::SparseCategoricalCrossentropy({.from_logits = true}));
  expect_config_round_trip<L::Loss>(L::Hinge());
  expect_config_round_trip<L::Loss>(L::KLDivergence());
  const Config c = L::Loss::registry().serialize(L::BinaryCrossentropy());
  EXPECT_EQ(c["config"], Config::parse(R"({"name": "binary_crossentropy",
      "reduction": "sum_over_batch_size", "from_logits": false, "label_smoothing": 0.0,
      "axis": -1})"));
  // Options survive: from_logits changes the value.
  const Tensor y = xt::ones<float>({1, 1}), p = 0.3f * xt::ones<float>({1, 1});
  auto logits = L::Loss::registry().create(
      L::Loss::registry().serialize(L::BinaryCrossentropy({.from_logits = true})));
  EXPECT_NEAR((*logits)(y, p), L::BinaryCrossentropy({.from_logits = true})(y, p), 1e-7);
  EXPECT_GT(std::abs((*logits)(y, p) - L::BinaryCrossentropy()(y, p)), 0.1);
  Config sum = c;
  sum["config"]["reduction"] = "sum";
  EXPECT_TRUE(contains(error_message([&] { L::Loss::registry().create(sum); }), "reduction"));
}

TEST(MetricConfig, EveryClassRoundTrips) {
  namespace M = px::metrics;
  expect_config_round_trip<M::Metric>(M::Mean("m"));
  expect_config_round_trip<M::Metric>(M::BinaryAccuracy({.name = "acc", .threshold = 0.3}));
  expect_config_round_trip<M::Metric>(M::CategoricalAccuracy());
  expect_config_round_trip<M::Metric>(M::SparseCategoricalAccuracy());
  expect_config_round_trip<M::Metric>(M::TopKCategoricalAccuracy({.k = 3}));
  expect_config_round_trip<M::Metric>(M::MeanSquaredError());
  expect_config_round_trip<M::Metric>(M::MeanAbsoluteError());
  expect_config_round_trip<M::Metric>(
      M::LossMetric(std::make_shared<px::losses::Huber>(px::losses::HuberOptions{.delta = 0.5})));
  expect_config_round_trip<M::Metric>(M::Precision({.thresholds = 0.7, .class_id = 1}));
  expect_config_round_trip<M::Metric>(M::Recall({.top_k = 2}));
  expect_config_round_trip<M::Metric>(M::AUC({.num_thresholds = 50, .curve = "PR"}));
  EXPECT_EQ(M::Metric::registry().serialize(M::BinaryAccuracy())["config"],
            (Config{{"name", "binary_accuracy"}, {"dtype", "float32"}, {"threshold", 0.5}}));
  // The rebuilt metric computes as the original.
  auto again = M::Metric::registry().create(
      M::Metric::registry().serialize(M::BinaryAccuracy({.threshold = 0.3})));
  Tensor t = {1.0f, 0.0f}, q = {0.4f, 0.2f};
  t.reshape({2, 1});
  q.reshape({2, 1});
  again->update_state(t, q);
  EXPECT_EQ(again->result(), 1.0);
}

TEST(OptimizerConfig, EveryClassRoundTripsWithKeras3Keys) {
  namespace O = px::optim;
  expect_config_round_trip<O::Optimizer>(O::SGD({.learning_rate = 0.1, .momentum = 0.9}));
  expect_config_round_trip<O::Optimizer>(O::RMSprop({.centered = true}));
  expect_config_round_trip<O::Optimizer>(O::Adam({.amsgrad = true, .clipnorm = 1.0}));
  expect_config_round_trip<O::Optimizer>(O::AdamW({.weight_decay = 0.01}));
  expect_config_round_trip<O::Optimizer>(O::Nadam());
  expect_config_round_trip<O::Optimizer>(O::Adagrad({.initial_accumulator_value = 0.2}));
  expect_config_round_trip<O::Optimizer>(O::Adadelta({.rho = 0.9}));
  expect_config_round_trip<O::Optimizer>(O::Adamax({.global_clipnorm = 2.0}));
  const Config c = O::Adam().get_config();
  std::vector<std::string> keys;
  for (auto& [k, v] : c.items()) keys.push_back(k);
  const std::vector<std::string> expected{"name",
                                          "learning_rate",
                                          "weight_decay",
                                          "clipnorm",
                                          "global_clipnorm",
                                          "clipvalue",
                                          "use_ema",
                                          "ema_momentum",
                                          "ema_overwrite_frequency",
                                          "loss_scale_factor",
                                          "gradient_accumulation_steps",
                                          "beta_1",
                                          "beta_2",
                                          "epsilon",
                                          "amsgrad"};
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(c["name"], "adam");
  EXPECT_EQ(c["learning_rate"], 0.001);
  // The current rate is written (ReduceLROnPlateau changes it).
  O::SGD sgd;
  sgd.set_learning_rate(0.5);
  EXPECT_EQ(sgd.get_config()["learning_rate"], 0.5);
  // Keras 2's "lr"; refusals.
  auto k2 = O::Optimizer::registry().create(Config::parse(
      R"({"class_name": "Adam", "config": {"lr": 0.01, "beta_1": 0.8, "decay": 0.0}})"));
  EXPECT_DOUBLE_EQ(k2->learning_rate(), 0.01);
  EXPECT_EQ(k2->get_config()["beta_1"], 0.8);
  EXPECT_TRUE(contains(error_message([] {
                         O::Optimizer::registry().create(
                             Config{{"class_name", "Adam"}, {"config", {{"use_ema", true}}}});
                       }),
                       "use_ema=true"));
}

TEST(ScheduleConfig, EveryClassRoundTripsAndKeepsValues) {
  namespace O = px::optim;
  std::vector<std::shared_ptr<O::LearningRateSchedule>> all{
      std::make_shared<O::ExponentialDecay>(0.1, 100, 0.5, true),
      std::make_shared<O::PiecewiseConstantDecay>(std::vector<double>{10, 20},
                                                  std::vector<double>{1.0, 0.5, 0.1}),
      std::make_shared<O::PolynomialDecay>(0.1, 50, 0.001, 2.0, true),
      std::make_shared<O::InverseTimeDecay>(0.1, 10, 0.5),
      std::make_shared<O::CosineDecay>(0.1, 100, 0.1, 0.2, 10)};
  auto& reg = O::LearningRateSchedule::registry();
  for (auto& s : all) {
    SCOPED_TRACE(s->class_name());
    const Config c = reg.serialize(*s);
    EXPECT_EQ(c["module"], "keras.optimizers.schedules");
    auto again = reg.create(c);
    EXPECT_EQ(reg.serialize(*again), c);
    for (std::int64_t step : {0, 5, 15, 60, 500}) EXPECT_DOUBLE_EQ((*again)(step), (*s)(step));
  }
  // A schedule inside an optimizer config.
  O::SGD sgd({.learning_rate = O::ExponentialDecay(0.1, 10, 0.5)});
  const Config c = sgd.get_config();
  EXPECT_EQ(c["learning_rate"]["class_name"], "ExponentialDecay");
  auto again = O::Optimizer::registry().create(O::Optimizer::registry().serialize(sgd));
  EXPECT_EQ(again->get_config(), c);
}

TEST(ActivationConfig, NamesAndKerasFunctionDicts) {
  auto& reg = px::activations::Activation::registry();
  EXPECT_EQ(reg.create(Config("relu"))->class_name(), "relu");
  EXPECT_EQ(reg.create(Config::parse(R"({"module": "keras.activations", "class_name": "function",
                                         "config": "tanh", "registered_name": "function"})"))
                ->class_name(),
            "tanh");
  for (const auto& n : px::activations::names()) EXPECT_TRUE(reg.contains(n)) << n;
  EXPECT_EQ(px::activations::canonical_name(Config(nullptr), "x"), "linear");
}

}  // namespace
