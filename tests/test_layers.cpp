// Core and merging layers (layers/core.hpp, layers/merging.hpp): one table of cases run
// through run_layer_test (output shape symbolically and at run time, weight count,
// compute_output_shape, gradients against finite differences), then activations by name,
// dropout, and each layer's errors.
#pragma GCC diagnostic ignored "-Wuninitialized"
#ifndef __clang__  // a GCC-only warning
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/random.hpp"
#include "graph_helpers.hpp"
#include "layers/activations.hpp"
#include "layers/core.hpp"
#include "layers/merging.hpp"
#include "layers/normalization.hpp"
#include "layers/regularization.hpp"
#include "layers/reshaping.hpp"
#include "optim/model.hpp"

namespace px = plexus;
using px::Dim;
using px::Shape;
using px::Tensor;
using px::test::error_message;
using px::test::max_abs_diff;
using px::test::random_tensor;

namespace {

struct LayerCase {
  std::string label;
  std::function<px::LayerRef()> make;
  std::vector<Shape> input_shapes;  // without the batch
  Shape expected_output;            // with the batch (-1)
  std::size_t expected_weights;     // number of weight arrays
  std::size_t expected_params;
  // Inputs for the gradient check; default: uniform [-1, 1).
  std::function<std::vector<Tensor>(std::size_t batch)> inputs = nullptr;
  bool check_gradients = true;
};

std::ostream& operator<<(std::ostream& os, const LayerCase& c) { return os << c.label; }

// Inputs for max/min: every pair of entries at least 0.2 apart, so that finite differences
// never straddle the kink where the larger input changes.
std::vector<Tensor> separated(std::size_t batch, const std::vector<Shape>& shapes) {
  std::vector<Tensor> xs;
  Tensor base;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    Shape s = shapes[i];
    s.insert(s.begin(), static_cast<Dim>(batch));
    Tensor t = random_tensor(s, 40 + static_cast<unsigned>(i), -0.05f, 0.05f);
    Tensor sign = random_tensor(s, 80 + static_cast<unsigned>(i));
    for (std::size_t k = 0; k < t.size(); ++k) {
      t.data()[k] += (sign.data()[k] > 0 ? 0.3f : -0.3f) * static_cast<float>(i + 1);
    }
    xs.push_back(t);
  }
  return xs;
}

// Uniform in [-1, -0.1] u [0.1, 1].
Tensor away_from_zero(const std::vector<std::size_t>& shape) {
  Shape s(shape.begin(), shape.end());
  Tensor t = random_tensor(s, 21);
  for (float& v : t) v = (v < 0 ? -0.1f : 0.1f) + 0.9f * v;
  return t;
}

// Keras's run_layer_test, in small: build on Inputs, check shapes and weights, run, and
// check gradients with respect to the inputs and the weights.
void run_layer_test(const LayerCase& c) {
  px::LayerRef layer = c.make();
  std::vector<px::SymbolicTensor> ins;
  for (auto& s : c.input_shapes) ins.push_back(px::Input(s));
  px::SymbolicTensor out = layer(ins);
  EXPECT_EQ(out.shape(), c.expected_output) << px::shape_str(out.shape());
  EXPECT_EQ(layer->weights().size(), c.expected_weights);
  EXPECT_EQ(layer->count_params(), c.expected_params);

  // compute_output_shape agrees with the traced graph (single-input layers).
  if (c.input_shapes.size() == 1) {
    Shape in{-1};
    in.insert(in.end(), c.input_shapes[0].begin(), c.input_shapes[0].end());
    EXPECT_EQ(layer->compute_output_shape(in), c.expected_output);
  }

  px::Model model(ins, {out});
  const std::size_t batch = 3;
  std::vector<Tensor> xs;
  if (c.inputs) {
    xs = c.inputs(batch);
  } else {
    for (std::size_t i = 0; i < c.input_shapes.size(); ++i) {
      Shape s = c.input_shapes[i];
      s.insert(s.begin(), static_cast<Dim>(batch));
      xs.push_back(random_tensor(s, 7 + static_cast<unsigned>(i)));
    }
  }
  auto ys = model.predict(xs);
  ASSERT_EQ(ys.size(), 1u);
  Shape want = c.expected_output;
  want[0] = static_cast<Dim>(batch);
  EXPECT_EQ(px::shape_of(ys[0]), want);
  if (c.check_gradients) {
    EXPECT_LT(px::test::gradient_error(model, xs), 2e-2) << c.label;
  }
}

class LayerTable : public ::testing::TestWithParam<LayerCase> {};

TEST_P(LayerTable, ShapesWeightsAndGradients) { run_layer_test(GetParam()); }

std::vector<LayerCase> layer_cases() {
  namespace L = px::layers;
  std::vector<LayerCase> cases{
      {"dense", [] { return L::Dense(4, "tanh"); }, {{3}}, {-1, 4}, 2, 16},
      {"dense_no_bias", [] { return L::Dense(4, {.use_bias = false}); }, {{3}}, {-1, 4}, 1, 12},
      {"dense_rank3", [] { return L::Dense(2); }, {{5, 3}}, {-1, 5, 2}, 2, 8},
      {"activation", [] { return L::Activation("sigmoid"); }, {{2, 3}}, {-1, 2, 3}, 0, 0},
      {"dropout", [] { return L::Dropout(0.5f); }, {{6}}, {-1, 6}, 0, 0},
      {"dropout_zero", [] { return L::Dropout(0.0f); }, {{6}}, {-1, 6}, 0, 0},
      {"dropout_noise_shape",
       [] {
         return L::Dropout(0.5f, px::kw::noise_shape = Shape{-1, 1, 4});
       },
       {{3, 4}},
       {-1, 3, 4},
       0,
       0},
      // --- issue 25: the remaining core, reshaping, noise and normalization layers ---
      {"identity", [] { return L::Identity(); }, {{2, 3}}, {-1, 2, 3}, 0, 0},
      {"permute",
       [] {
         return L::Permute({2, 1});
       },
       {{3, 4}},
       {-1, 4, 3},
       0,
       0},
      {"permute_rank4",
       [] {
         return L::Permute({3, 1, 2});
       },
       {{2, 3, 4}},
       {-1, 4, 2, 3},
       0,
       0},
      {"repeat_vector", [] { return L::RepeatVector(3); }, {{4}}, {-1, 3, 4}, 0, 0},
      {"gaussian_noise", [] { return L::GaussianNoise(0.3f); }, {{5}}, {-1, 5}, 0, 0},
      {"gaussian_dropout", [] { return L::GaussianDropout(0.4f); }, {{2, 3}}, {-1, 2, 3}, 0, 0},
      {"alpha_dropout", [] { return L::AlphaDropout(0.2f); }, {{5}}, {-1, 5}, 0, 0},
      {"rms_normalization", [] { return L::RMSNormalization(); }, {{3, 6}}, {-1, 3, 6}, 1, 6},
      {"rms_normalization_two_axes",
       [] {
         return L::RMSNormalization({.axis = {1, 2}, .epsilon = 1e-3f});
       },
       {{3, 4}},
       {-1, 3, 4},
       1,
       12},
      {"flatten", [] { return L::Flatten(); }, {{2, 3, 4}}, {-1, 24}, 0, 0},
      {"flatten_flat", [] { return L::Flatten(); }, {{5}}, {-1, 5}, 0, 0},
      {"reshape",
       [] {
         return L::Reshape({3, 4});
       },
       {{12}},
       {-1, 3, 4},
       0,
       0},
      {"reshape_infer",
       [] {
         return L::Reshape({-1, 2});
       },
       {{3, 4}},
       {-1, 6, 2},
       0,
       0},
      {"add", [] { return L::Add(); }, {{4}, {4}}, {-1, 4}, 0, 0},
      {"add3", [] { return L::Add(); }, {{2, 3}, {2, 3}, {2, 3}}, {-1, 2, 3}, 0, 0},
      {"add_broadcast", [] { return L::Add(); }, {{1, 3}, {4, 3}}, {-1, 4, 3}, 0, 0},
      {"add_lower_rank", [] { return L::Add(); }, {{3}, {4, 3}}, {-1, 4, 3}, 0, 0},
      {"subtract", [] { return L::Subtract(); }, {{4}, {4}}, {-1, 4}, 0, 0},
      {"multiply", [] { return L::Multiply(); }, {{4}, {4}, {4}}, {-1, 4}, 0, 0},
      {"average", [] { return L::Average(); }, {{2, 2}, {2, 2}}, {-1, 2, 2}, 0, 0},
      {"concatenate", [] { return L::Concatenate(); }, {{2}, {3}}, {-1, 5}, 0, 0},
      {"dot", [] { return L::Dot(1); }, {{4}, {4}}, {-1, 1}, 0, 0},
      {"dot_rank3", [] { return L::Dot(2); }, {{2, 4}, {3, 4}}, {-1, 2, 3}, 0, 0},
      {"dot_pair_normalize",
       [] {
         return L::Dot({2, 1}, {.normalize = true});
       },
       {{2, 4}, {4, 3}},
       {-1, 2, 3},
       0,
       0},
      {"dot_negative_axes", [] { return L::Dot(-1); }, {{3, 2, 4}, {4}}, {-1, 3, 2}, 0, 0},
      {"concatenate_axis1", [] { return L::Concatenate(1); }, {{2, 4}, {3, 4}}, {-1, 5, 4}, 0, 0},
      {"concatenate_three",
       [] { return L::Concatenate(-1); },
       {{2, 1}, {2, 2}, {2, 3}},
       {-1, 2, 6},
       0,
       0},
  };
  LayerCase max{"maximum", [] { return L::Maximum(); }, {{4}, {4}}, {-1, 4}, 0, 0};
  max.inputs = [](std::size_t b) { return separated(b, {{4}, {4}}); };
  LayerCase min{"minimum", [] { return L::Minimum(); }, {{2, 3}, {2, 3}, {2, 3}}, {-1, 2, 3}, 0, 0};
  min.inputs = [](std::size_t b) { return separated(b, {{2, 3}, {2, 3}, {2, 3}}); };
  cases.push_back(max);
  cases.push_back(min);
  for (const auto& name : px::activations::names()) {
    // glu halves the last axis.
    const px::Dim width = name == "glu" ? 6 : 5, out = name == "glu" ? 3 : 5;
    LayerCase c{
        "activation_" + name, [name] { return L::Activation(name); }, {{width}}, {-1, out}, 0, 0};
    // relu, leaky_relu and selu have a kink at 0 that finite differences must not straddle;
    // hard_shrink and soft_shrink have theirs at +-0.5.
    c.inputs = [width](std::size_t b) {
      return std::vector<Tensor>{away_from_zero({b, static_cast<std::size_t>(width)})};
    };
    if (name == "hard_shrink" || name == "soft_shrink") {
      c.inputs = [](std::size_t b) {
        Tensor t = Tensor::from_shape({b, 5});
        const float v[] = {1.3f, -1.7f, 0.1f, -0.2f, 2.4f, -0.9f, 0.3f};
        for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = v[i % 7];
        return std::vector<Tensor>{t};
      };
    }
    cases.push_back(c);
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Layers, LayerTable, ::testing::ValuesIn(layer_cases()),
                         [](const auto& info) { return info.param.label; });

// --- values --------------------------------------------------------------------------------

Tensor predict_one(px::LayerRef layer, const Tensor& x) {
  Shape s = px::shape_of(x);
  s.erase(s.begin());
  auto in = px::Input(s);
  px::Model m(in, layer(in));
  return m.predict(x);
}

float reference_activation(const std::string& name, float x) {
  const float sig = 1.0f / (1.0f + std::exp(-x));
  if (name == "linear") return x;
  if (name == "relu") return std::max(x, 0.0f);
  if (name == "sigmoid") return sig;
  if (name == "tanh") return std::tanh(x);
  if (name == "elu") return x > 0 ? x : std::exp(x) - 1.0f;
  if (name == "selu") {
    const float a = 1.6732632423543772f, s = 1.0507009873554805f;
    return x > 0 ? s * x : s * a * (std::exp(x) - 1.0f);
  }
  if (name == "leaky_relu") return x > 0 ? x : 0.2f * x;
  if (name == "gelu") return 0.5f * x * (1.0f + std::erf(x / std::sqrt(2.0f)));
  if (name == "swish" || name == "silu") return x * sig;
  if (name == "softplus") return std::log1p(std::exp(x));
  if (name == "hard_sigmoid") return std::min(std::max(x + 3.0f, 0.0f), 6.0f) / 6.0f;
  if (name == "exponential") return std::exp(x);
  // Issue 25's (tests/test_catalogue_functions.cpp checks them further).
  if (name == "celu") return x > 0 ? x : std::exp(x) - 1.0f;
  if (name == "hard_shrink") return std::abs(x) > 0.5f ? x : 0.0f;
  if (name == "hard_silu" || name == "hard_swish")
    return x * std::min(std::max(x + 3.0f, 0.0f), 6.0f) / 6.0f;
  if (name == "hard_tanh") return std::min(std::max(x, -1.0f), 1.0f);
  if (name == "log_sigmoid") return std::log(sig);
  if (name == "mish") return x * std::tanh(std::log1p(std::exp(x)));
  if (name == "relu6") return std::min(std::max(x, 0.0f), 6.0f);
  if (name == "soft_shrink") return x > 0.5f ? x - 0.5f : (x < -0.5f ? x + 0.5f : 0.0f);
  if (name == "softsign") return x / (std::abs(x) + 1.0f);
  if (name == "sparse_plus") return x <= -1 ? 0.0f : (x >= 1 ? x : (x + 1) * (x + 1) / 4.0f);
  if (name == "sparse_sigmoid") return x <= -1 ? 0.0f : (x >= 1 ? 1.0f : 0.5f * (x + 1));
  if (name == "squareplus") return (x + std::sqrt(x * x + 4.0f)) / 2.0f;
  if (name == "tanh_shrink") return x - std::tanh(x);
  ADD_FAILURE() << "no reference for " << name;
  return 0;
}

TEST(Activation, EveryNameMatchesItsFormula) {
  Tensor x = {{-3.5f, -1.0f, -0.25f, 0.0f, 0.5f, 2.0f, 4.0f}};
  for (const auto& name : px::activations::names()) {
    SCOPED_TRACE(name);
    // Over the last axis (tests/test_catalogue_functions.cpp checks them).
    if (name == "glu" || name == "log_softmax") continue;
    Tensor y = predict_one(px::layers::Activation(name), x);
    if (name == "softmax") {
      double total = 0;
      for (float v : y) total += v;
      EXPECT_NEAR(total, 1.0, 1e-5);
      EXPECT_NEAR(y(0, 6) / y(0, 5), std::exp(2.0f), 1e-3);
      continue;
    }
    for (std::size_t i = 0; i < x.size(); ++i) {
      EXPECT_NEAR(y.data()[i], reference_activation(name, x.data()[i]), 1e-5)
          << "at x = " << x.data()[i];
    }
  }
}

TEST(Activation, ListsEveryKerasNameOfApiMd) {
  for (const char* name :
       {"linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "leaky_relu", "gelu",
        "swish", "silu", "softplus", "hard_sigmoid", "exponential"}) {
    EXPECT_NO_THROW(px::layers::Activation(name)) << name;
  }
  auto a = px::layers::Activation("tanh", {.name = "squash"});
  EXPECT_EQ(a->name(), "squash");
  EXPECT_EQ(a->class_name(), "Activation");
  EXPECT_EQ(a->activation_name(), "tanh");
}

TEST(Merging, Values) {
  namespace L = px::layers;
  Tensor a = {{1.0f, -2.0f, 3.0f}};
  Tensor b = {{4.0f, 5.0f, -6.0f}};
  auto run = [&](px::LayerRef layer) {
    auto ia = px::Input({3});
    auto ib = px::Input({3});
    px::Model m({ia, ib}, {layer({ia, ib})});
    return m.predict(std::vector<Tensor>{a, b})[0];
  };
  EXPECT_EQ(run(L::Add()), Tensor({{5.0f, 3.0f, -3.0f}}));
  EXPECT_EQ(run(L::Subtract()), Tensor({{-3.0f, -7.0f, 9.0f}}));
  EXPECT_EQ(run(L::Multiply()), Tensor({{4.0f, -10.0f, -18.0f}}));
  EXPECT_EQ(run(L::Average()), Tensor({{2.5f, 1.5f, -1.5f}}));
  EXPECT_EQ(run(L::Maximum()), Tensor({{4.0f, 5.0f, 3.0f}}));
  EXPECT_EQ(run(L::Minimum()), Tensor({{1.0f, -2.0f, -6.0f}}));
  EXPECT_EQ(run(L::Concatenate()), Tensor({{1.0f, -2.0f, 3.0f, 4.0f, 5.0f, -6.0f}}));
}

TEST(Merging, LowerRankInputBroadcastsAfterTheBatch) {
  auto a = px::Input({2});
  auto b = px::Input({3, 2});
  px::Model m({a, b}, {px::layers::Add()({a, b})});
  Tensor xa = {{1.0f, 2.0f}};
  Tensor xb = {{{10.0f, 20.0f}, {30.0f, 40.0f}, {50.0f, 60.0f}}};
  EXPECT_EQ(m.predict(std::vector<Tensor>{xa, xb})[0],
            Tensor({{{11.0f, 22.0f}, {31.0f, 42.0f}, {51.0f, 62.0f}}}));
}

TEST(Merging, ComputeOutputShapeOfAList) {
  auto add = px::layers::Add();
  EXPECT_EQ(add->compute_output_shape(std::vector<Shape>{{-1, 1, 3}, {-1, 4, 1}}),
            (Shape{-1, 4, 3}));
  auto cat = px::layers::Concatenate(1);
  EXPECT_EQ(cat->compute_output_shape(std::vector<Shape>{{-1, 2, 4}, {-1, 3, 4}}),
            (Shape{-1, 5, 4}));
  EXPECT_EQ(cat->axis(), 1);
}

TEST(Flatten, RowMajorOrder) {
  Tensor x = {{{1.0f, 2.0f}, {3.0f, 4.0f}}};
  EXPECT_EQ(predict_one(px::layers::Flatten(), x), Tensor({{1.0f, 2.0f, 3.0f, 4.0f}}));
}

TEST(Reshape, KeepsOrderAndInfersMinusOne) {
  Tensor x = {{1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f}};
  auto r = px::layers::Reshape({-1, 3});
  EXPECT_EQ(r->compute_output_shape({-1, 6}), (Shape{-1, 2, 3}));
  EXPECT_EQ(predict_one(r, x), Tensor({{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}}}));
}

// --- dropout ---------------------------------------------------------------------------------

TEST(Dropout, IdentityAtInferenceActiveInTraining) {
  px::utils::set_random_seed(3);
  auto in = px::Input({1000});
  auto drop = px::layers::Dropout(0.25f);
  px::Model m(in, drop(in));
  Tensor x = xt::ones<float>({2, 1000});
  EXPECT_EQ(m.predict(x), x);  // predict runs in inference mode

  px::test::GraphRunner runner(m, {});
  Tensor y = runner.forward({x}, /*training=*/true)[0];
  std::size_t zeros = 0;
  for (float v : y) {
    if (v == 0.0f) {
      ++zeros;
    } else {
      EXPECT_FLOAT_EQ(v, 1.0f / 0.75f);  // inverted dropout keeps the expected value
    }
  }
  EXPECT_GT(zeros, 400u);  // about 500 of 2000
  EXPECT_LT(zeros, 600u);
  EXPECT_EQ(runner.forward({x}, /*training=*/false)[0], x);
}

TEST(Dropout, SameSeedSameMask) {
  auto in = px::Input({64});
  px::Model m(in, px::layers::Dropout(0.5f)(in));
  Tensor x = xt::ones<float>({4, 64});
  px::test::GraphRunner runner(m, {});
  px::utils::set_random_seed(11);
  Tensor first = runner.forward({x}, true)[0];
  px::utils::set_random_seed(11);
  EXPECT_EQ(runner.forward({x}, true)[0], first);
}

TEST(Dropout, GradientFlowsOnlyThroughKeptUnits) {
  px::utils::set_random_seed(5);
  auto in = px::Input({50});
  px::Model m(in, px::layers::Dropout(0.4f)(in));
  Tensor x = random_tensor({2, 50}, 1, 0.5f, 1.0f);
  px::test::GraphRunner runner(m, {}, /*wrt_feeds=*/true);
  // With cotangent 1 the input gradient is the mask, and y = x * mask.
  Tensor ones = xt::ones<float>({2, 50});
  Tensor dx = runner.feed_gradients({x}, {ones}, /*training=*/true)[0];
  const Tensor& y = runner.output(0);
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(y.data()[i], x.data()[i] * dx.data()[i], 1e-6);
    dropped += dx.data()[i] == 0.0f;
  }
  EXPECT_GT(dropped, 0u);
  EXPECT_LT(dropped, 100u);
}

// --- InputLayer and Sequential starts --------------------------------------------------------

TEST(InputLayer, StartsASequential) {
  px::Sequential m;
  m.add(px::layers::InputLayer({6}, "features"));
  m.add(px::layers::Dense(2));
  EXPECT_EQ(m.inputs()[0].shape(), (Shape{-1, 6}));
  EXPECT_EQ(m.input_names(), std::vector<std::string>{"features"});
  auto il = px::layers::InputLayer({4}, {.name = "x"});
  EXPECT_EQ(il->class_name(), "InputLayer");
  EXPECT_EQ(il->output().shape(), (Shape{-1, 4}));
}

TEST(InputShape, EveryCoreLayerCanStartASequential) {
  namespace L = px::layers;
  px::Sequential a({L::Activation("relu", {.input_shape = {3}})});
  px::Sequential d({L::Dropout(0.1f, {.input_shape = {3}})});
  px::Sequential f({L::Flatten({.input_shape = {2, 3}})});
  px::Sequential r({L::Reshape({3, 2}, {.input_shape = {6}})});
  EXPECT_EQ(a.outputs()[0].shape(), (Shape{-1, 3}));
  EXPECT_EQ(d.outputs()[0].shape(), (Shape{-1, 3}));
  EXPECT_EQ(f.outputs()[0].shape(), (Shape{-1, 6}));
  EXPECT_EQ(r.outputs()[0].shape(), (Shape{-1, 3, 2}));
}

TEST(Names, ClassNamesAndDefaultNames) {
  px::utils::clear_session();
  namespace L = px::layers;
  EXPECT_EQ(L::Activation("relu")->name(), "activation");
  EXPECT_EQ(L::Dropout(0.5f)->name(), "dropout");
  EXPECT_EQ(L::Flatten()->name(), "flatten");
  EXPECT_EQ(L::Reshape({2})->name(), "reshape");
  EXPECT_EQ(L::Add()->name(), "add");
  EXPECT_EQ(L::Add()->name(), "add_1");
  EXPECT_EQ(L::Subtract()->class_name(), "Subtract");
  EXPECT_EQ(L::Multiply()->class_name(), "Multiply");
  EXPECT_EQ(L::Average()->class_name(), "Average");
  EXPECT_EQ(L::Maximum()->class_name(), "Maximum");
  EXPECT_EQ(L::Minimum()->class_name(), "Minimum");
  EXPECT_EQ(L::Concatenate()->name(), "concatenate");
  EXPECT_EQ(L::Concatenate({.name = "join"})->name(), "join");
  EXPECT_EQ(L::InputLayer({3})->name(), "input_layer");
}

// --- errors ------------------------------------------------------------------------------------

TEST(LayerErrors, MergeShapesAreNamed) {
  px::utils::clear_session();
  auto a = px::Input({3});
  auto b = px::Input({4});
  EXPECT_EQ(error_message([&] {
              px::layers::Add()({a, b});
            }),
            "Layer \"add\" (Add): inputs must have compatible shapes, received (None, 3) and "
            "(None, 4)");
  EXPECT_EQ(error_message([&] {
              px::layers::Multiply({.name = "mul"})({a, b});
            }),
            "Layer \"mul\" (Multiply): inputs must have compatible shapes, received (None, 3) and "
            "(None, 4)");
  auto c = px::Input({3});
  EXPECT_EQ(error_message([&] {
              px::layers::Subtract()({a, c, c});
            }),
            "Layer \"subtract\" (Subtract) must be called on exactly 2 inputs, received 3: "
            "(None, 3), (None, 3) and (None, 3)");
}

TEST(LayerErrors, SecondCallIsCheckedToo) {
  auto add = px::layers::Add({.name = "sum"});
  add({px::Input({3}), px::Input({3})});
  std::string msg = error_message([&] { add({px::Input({3}), px::Input({5})}); });
  EXPECT_NE(msg.find("Layer \"sum\" (Add)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(None, 3) and (None, 5)"), std::string::npos) << msg;
}

TEST(LayerErrors, Concatenate) {
  auto a = px::Input({3});
  auto b = px::Input({4, 2});
  EXPECT_EQ(error_message([&] {
              px::layers::Concatenate({.name = "cat"})({a, b});
            }),
            "Layer \"cat\" (Concatenate): a Concatenate layer requires inputs with matching "
            "shapes except for the concatenation axis -1, received (None, 3) and (None, 4, 2)");
  auto c = px::Input({2, 5});
  auto d = px::Input({3, 5});
  EXPECT_NE(error_message([&] {
              px::layers::Concatenate(-1, {.name = "c2"})({c, d});
            })
                .find("except for the concatenation axis -1, received (None, 2, 5) and "
                      "(None, 3, 5)"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              px::layers::Concatenate(0)({c, d});
            }).find("cannot concatenate along the batch axis"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              px::layers::Concatenate(3)({c, d});
            }).find("out of range"),
            std::string::npos);
}

TEST(LayerErrors, ReshapeAndDropoutArguments) {
  EXPECT_NE(error_message([] {
              px::layers::Reshape({-1, -1});
            }).find("at most one -1"),
            std::string::npos);
  EXPECT_NE(error_message([] { px::layers::Reshape({0, 2}); }).find("positive"), std::string::npos);
  auto x = px::Input({12});
  std::string msg = error_message([&] { px::layers::Reshape({5, 3}, {.name = "rs"})(x); });
  EXPECT_EQ(msg,
            "Layer \"rs\" (Reshape): the total size of the new array must be unchanged, "
            "received input with shape (None, 12) and target_shape (5, 3)");
  msg = error_message([&] { px::layers::Reshape({-1, 5}, {.name = "rs2"})(x); });
  EXPECT_NE(msg.find("total size of the new array must be unchanged"), std::string::npos);
  EXPECT_NE(error_message([] { px::layers::Dropout(1.0f); }).find("rate=1"), std::string::npos);
  EXPECT_NE(error_message([] { px::layers::Dropout(-0.1f); }).find("[0, 1)"), std::string::npos);
}

TEST(LayerErrors, UnknownActivation) {
  std::string msg = error_message([] { px::layers::Activation("rleu"); });
  EXPECT_NE(msg.find("Activation: unknown activation \"rleu\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("relu"), std::string::npos);
  EXPECT_NE(msg.find("hard_sigmoid"), std::string::npos);
}

}  // namespace
