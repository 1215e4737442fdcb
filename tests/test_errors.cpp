// The errors of API.md's Errors section, as the user sees them: one px::Error whose message
// names the layer or model, the input index, and the expected and received shapes.
#pragma GCC diagnostic ignored "-Wuninitialized"
#ifndef __clang__  // a GCC-only warning
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "graph_helpers.hpp"
#include "layers/activations.hpp"
#include "layers/core.hpp"
#include "layers/merging.hpp"
#include "optim/model.hpp"

namespace px = plexus;
using px::Shape;
using px::Tensor;
using px::test::error_message;

namespace {

px::Model mnist_mlp() {
  px::utils::clear_session();
  auto x = px::Input({784}, "pixels");
  auto h = px::layers::Dense(64, "relu")(x);
  auto y = px::layers::Dense(10, "softmax")(h);
  return px::Model(x, y, "mnist_mlp");
}

using px::test::contains;

TEST(Errors, AreRuntimeErrors) {
  try {
    mnist_mlp().get_layer("nope");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(dynamic_cast<const px::Error*>(&e), nullptr);
  }
}

TEST(Errors, WrongInputShapeFromPredict) {
  auto model = mnist_mlp();
  // Uninitialised: the shape is checked before any value is read.
  Tensor x;
  x.resize({60000, 783});
  EXPECT_EQ(error_message([&] { model.predict(x); }),
            "Input 0 \"pixels\" of model \"mnist_mlp\": expected shape (None, 784), received "
            "(60000, 783)");
  Tensor rank3 = xt::zeros<float>({2, 784, 1});
  EXPECT_EQ(error_message([&] { model.predict(rank3); }),
            "Input 0 \"pixels\" of model \"mnist_mlp\": expected shape (None, 784), received "
            "(2, 784, 1)");
}

TEST(Errors, WrongNumberOfInputsAndBadValues) {
  auto model = mnist_mlp();
  Tensor x = xt::zeros<float>({2, 784});
  EXPECT_EQ(error_message([&] {
              model.predict(std::vector<Tensor>{x, x});
            }),
            "Model \"mnist_mlp\" expects 1 input(s), but received 2");
  x(1, 3) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(error_message([&] { model.predict(x); }),
            "Input 0 \"pixels\" of model \"mnist_mlp\" contains NaN or Inf");
  Tensor ok = xt::zeros<float>({2, 784});
  EXPECT_EQ(error_message([&] { model.predict(ok, {.batch_size = 0}); }),
            "predict: batch_size must be positive, received 0");
}

TEST(Errors, WrongSymbolicInputShapeWhenCallingAModel) {
  auto model = mnist_mlp();
  EXPECT_EQ(error_message([&] { model(px::Input({783})); }),
            "Input 0 \"pixels\" of model \"mnist_mlp\": expected shape (None, 784), received "
            "(None, 783)");
}

TEST(Errors, GraphDisconnected) {
  auto a = px::Input({3}, "a");
  auto b = px::Input({3}, "b");
  auto y = px::layers::Dense(2, {.name = "d"})(b);
  std::string msg = error_message([&] { px::Model(a, y, "broken"); });
  EXPECT_EQ(msg,
            "Graph disconnected: cannot find parent for tensor from Input \"b\" (None, 3) used by "
            "layer \"d\" of model \"broken\". The model's inputs are [\"a\"]");
  // An Input given directly as an output.
  msg = error_message([&] { px::Model(a, b, "direct"); });
  EXPECT_TRUE(contains(msg, "Input \"b\" (None, 3) used as output 0 of model \"direct\"")) << msg;
  auto z = px::layers::Dense(2, {.name = "d2"})(a);
  msg = error_message([&] { px::Model({a, b}, {z}, "unused"); });
  EXPECT_EQ(msg,
            "Graph disconnected: cannot reach Input 1 \"b\" (None, 3) of model \"unused\" from its "
            "outputs");
}

TEST(Errors, InputsMustComeFromInput) {
  auto a = px::Input({3}, "a");
  auto h = px::layers::Dense(2, {.name = "hidden"})(a);
  auto y = px::layers::Dense(1)(h);
  EXPECT_EQ(error_message([&] { px::Model(h, y, "m"); }),
            "Input 0 of model \"m\" must be a tensor made by px::Input(), not the output of a "
            "layer \"hidden\"");
}

TEST(Errors, DuplicateLayerNames) {
  auto x = px::Input({3});
  auto h = px::layers::Dense(4, {.name = "d"})(x);
  auto y = px::layers::Dense(1, {.name = "d"})(h);
  EXPECT_EQ(error_message([&] { px::Model(x, y, "dup"); }),
            "The name \"d\" is used 2 times in model \"dup\". All layer names should be unique.");
}

TEST(Errors, UnknownActivationListsKnownOnes) {
  std::string msg = error_message([] { px::layers::Dense(4, "rleu"); });
  std::string known;
  for (auto& n : px::activations::names()) known += (known.empty() ? "" : ", ") + n;
  EXPECT_EQ(msg, "Dense: unknown activation \"rleu\". Known activations: " + known);
  EXPECT_TRUE(contains(msg, "relu")) << msg;
  EXPECT_TRUE(contains(msg, "softmax")) << msg;
}

TEST(Errors, DenseIncompatibleInput) {
  px::utils::clear_session();
  auto dense = px::layers::Dense(64);
  dense(px::Input({784}));
  EXPECT_EQ(error_message([&] { dense(px::Input({783})); }),
            "Input 0 of layer \"dense\" is incompatible with the layer: expected axis -1 of input "
            "shape to have value 784, but received input with shape (None, 783)");
}

TEST(Errors, SetWeightsWrongShapeOrCount) {
  auto model = mnist_mlp();
  auto& dense = model.get_layer("dense");
  auto w = dense.get_weights();
  w[0] = xt::zeros<float>({784, 65});
  EXPECT_EQ(error_message([&] { dense.set_weights(w); }),
            "Layer \"dense\" (Dense): weight 0 \"dense/kernel\" expects shape (784, 64), received "
            "(784, 65)");
  EXPECT_EQ(error_message([&] { dense.set_weights({w[1]}); }),
            "Layer \"dense\" (Dense) expects 2 weight arrays, but set_weights received 1");
  auto all = model.get_weights();
  all[3] = xt::zeros<float>({11});
  EXPECT_EQ(error_message([&] { model.set_weights(all); }),
            "Layer \"mnist_mlp\" (Functional): weight 3 \"dense_1/bias\" expects shape (10,), "
            "received (11,)");
  // Nothing was half-assigned.
  EXPECT_EQ(model.get_weights()[0], model.get_layer("dense").get_weights()[0]);
}

TEST(Errors, GetLayerUnknownName) {
  auto model = mnist_mlp();
  EXPECT_EQ(error_message([&] { model.get_layer("dnse"); }),
            "No such layer: \"dnse\" in model \"mnist_mlp\". Existing layers are: [\"pixels\", "
            "\"dense\", \"dense_1\"]");
}

TEST(Errors, LayerErrorsNameTheLayer) {
  px::utils::clear_session();
  auto a = px::Input({3});
  auto b = px::Input({4});
  EXPECT_EQ(error_message([&] {
              px::layers::Add()({a, b});
            }),
            "Layer \"add\" (Add): inputs must have compatible shapes, received (None, 3) and "
            "(None, 4)");
  EXPECT_EQ(error_message([&] {
              px::layers::Dense(2, {.name = "single"})({a, b});
            }),
            "Layer \"single\" (Dense) expects 1 input, but it received 2 inputs");
}

}  // namespace
