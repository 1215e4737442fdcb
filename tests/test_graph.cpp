// The Functional API graph (graph/functional, graph/model, graph/layer): DAG shapes that are
// not chains, shared layers, nested models, Sequential == Functional, custom layers made of
// px::ops, naming, weight access and batched prediction.
#pragma GCC diagnostic ignored "-Wuninitialized"
#ifndef __clang__  // a GCC-only warning
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "core/random.hpp"
#include "graph/ops.hpp"
#include "graph_helpers.hpp"
#include "layers/core.hpp"
#include "layers/merging.hpp"
#include "optim/model.hpp"

namespace px = plexus;
using px::Dim;
using px::Shape;
using px::Tensor;
using px::test::error_message;
using px::test::max_abs_diff;
using px::test::random_tensor;

namespace {

// Reference arithmetic in plain loops: x (n, in) · w (in, out) + b (out).
Tensor affine(const Tensor& x, const Tensor& w, const Tensor& b) {
  const std::size_t n = x.shape()[0], in = w.shape()[0], out = w.shape()[1];
  Tensor y = xt::zeros<float>({n, out});
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < out; ++j) {
      double s = b.size() ? b(j) : 0.0;
      for (std::size_t k = 0; k < in; ++k) s += static_cast<double>(x(i, k)) * w(k, j);
      y(i, j) = static_cast<float>(s);
    }
  }
  return y;
}

Tensor map(Tensor t, float (*f)(float)) {
  for (float& v : t) v = f(v);
  return t;
}
float tanh_f(float v) { return std::tanh(v); }

// --- DAG shapes -------------------------------------------------------------------------------

TEST(Graph, DiamondDag) {
  // x -> stem -> (left, right) -> add -> y
  auto x = px::Input({4}, "x");
  auto stem = px::layers::Dense(3, {.activation = "tanh", .name = "stem"})(x);
  auto left = px::layers::Dense(2, {.activation = "tanh", .name = "left"})(stem);
  auto right = px::layers::Dense(2, {.name = "right"})(stem);
  auto y = px::layers::Add({.name = "join"})({left, right});
  px::Model model(x, y, "diamond");

  std::vector<std::string> names;
  for (auto& l : model.layers()) names.push_back(l->name());
  EXPECT_EQ(names, (std::vector<std::string>{"x", "stem", "left", "right", "join"}));

  Tensor xv = random_tensor({5, 4}, 1);
  auto w = model.get_weights();  // stem k, b, left k, b, right k, b
  ASSERT_EQ(w.size(), 6u);
  Tensor h = map(affine(xv, w[0], w[1]), tanh_f);
  Tensor want = map(affine(h, w[2], w[3]), tanh_f) + affine(h, w[4], w[5]);
  EXPECT_LT(max_abs_diff(model.predict(xv), want), 1e-5);
  EXPECT_LT(px::test::gradient_error(model, {xv}), 1e-2);
}

TEST(Graph, TwoInputsTwoOutputs) {
  auto a = px::Input({3}, "a");
  auto b = px::Input({2}, "b");
  auto merged = px::layers::Concatenate({.name = "merged"})({a, b});
  auto h = px::layers::Dense(4, {.activation = "sigmoid", .name = "hidden"})(merged);
  auto out1 = px::layers::Dense(1, {.name = "out1"})(h);
  auto out2 = px::layers::Dense(2, {.activation = "softmax", .name = "out2"})(merged);
  px::Model model({a, b}, {out1, out2}, "two_by_two");

  EXPECT_EQ(model.input_names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(model.output_names(), (std::vector<std::string>{"out1", "out2"}));
  Tensor xa = random_tensor({6, 3}, 2), xb = random_tensor({6, 2}, 3);
  auto ys = model.predict(std::vector<Tensor>{xa, xb});
  ASSERT_EQ(ys.size(), 2u);
  EXPECT_EQ(px::shape_of(ys[0]), (Shape{6, 1}));
  EXPECT_EQ(px::shape_of(ys[1]), (Shape{6, 2}));
  // By name, in any order: the same results.
  auto by_name = model.predict(std::map<std::string, Tensor>{{"b", xb}, {"a", xa}});
  EXPECT_EQ(by_name[0], ys[0]);
  EXPECT_EQ(by_name[1], ys[1]);
  EXPECT_LT(px::test::gradient_error(model, {xa, xb}), 1e-2);
}

TEST(Graph, SharedLayerGradientIsTheSumOverItsCalls) {
  auto a = px::Input({3}, "a");
  auto b = px::Input({3}, "b");
  auto shared = px::layers::Dense(2, {.name = "shared"});
  auto ya = shared(a);
  auto yb = shared(b);
  px::Model model({a, b}, {ya, yb});
  ASSERT_EQ(model.layers().size(), 3u);  // a, b, shared: listed once
  EXPECT_EQ(model.count_params(), 8u);

  Tensor xa = random_tensor({4, 3}, 4), xb = random_tensor({4, 3}, 5);
  auto cots = px::test::cotangents_for(model, 4, 9);
  px::test::GraphRunner runner(model, model.trainable_weights());
  auto grads = runner.gradients({xa, xb}, cots);
  ASSERT_EQ(grads.size(), 2u);
  // d/dkernel = xa^T ca + xb^T cb; d/dbias = sum_rows(ca + cb).
  Tensor dk = xt::zeros<float>({3, 2});
  Tensor db = xt::zeros<float>({2});
  for (std::size_t i = 0; i < 4; ++i) {
    for (std::size_t j = 0; j < 2; ++j) {
      db(j) += cots[0](i, j) + cots[1](i, j);
      for (std::size_t k = 0; k < 3; ++k) {
        dk(k, j) += xa(i, k) * cots[0](i, j) + xb(i, k) * cots[1](i, j);
      }
    }
  }
  EXPECT_LT(max_abs_diff(grads[0], dk), 1e-5);
  EXPECT_LT(max_abs_diff(grads[1], db), 1e-5);
  EXPECT_LT(px::test::gradient_error(model, {xa, xb}), 1e-2);
}

TEST(Graph, NestedModelSharesWeights) {
  px::utils::clear_session();
  auto x = px::Input({4});
  auto h = px::layers::Dense(3, {.activation = "tanh", .name = "enc_dense"})(x);
  px::Model encoder(x, h, "encoder");

  auto x2 = px::Input({4}, "x2");
  auto z = encoder(x2);
  EXPECT_EQ(z.shape(), (Shape{-1, 3}));
  auto y = px::layers::Dense(1, {.name = "head"})(z);
  px::Model outer(x2, y, "outer");

  ASSERT_EQ(outer.layers().size(), 3u);
  EXPECT_EQ(outer.layers()[1]->name(), "encoder");
  EXPECT_EQ(outer.layers()[1]->class_name(), "Functional");
  EXPECT_EQ(&outer.get_layer("encoder"), &encoder.graph());
  // The encoder's weights are the outer model's, not copies.
  auto ws = outer.trainable_weights();
  ASSERT_EQ(ws.size(), 4u);
  EXPECT_EQ(ws[0], encoder.trainable_weights()[0]);
  EXPECT_EQ(ws[0].path(), "enc_dense/kernel");
  EXPECT_EQ(outer.count_params(), 4u * 3 + 3 + 3 + 1);

  Tensor xv = random_tensor({3, 4}, 6);
  auto w = outer.get_weights();
  Tensor want = affine(encoder.predict(xv), w[2], w[3]);
  EXPECT_LT(max_abs_diff(outer.predict(xv), want), 1e-5);

  // Changing the encoder changes the outer model.
  auto ew = encoder.get_weights();
  ew[0] = ew[0] * 2.0f;
  encoder.set_weights(ew);
  Tensor want2 = affine(encoder.predict(xv), w[2], w[3]);
  EXPECT_LT(max_abs_diff(outer.predict(xv), want2), 1e-5);
  EXPECT_GT(max_abs_diff(want, want2), 1e-3);
  EXPECT_LT(px::test::gradient_error(outer, {xv}), 1e-2);
}

TEST(Graph, SequentialAndFunctionalAgree) {
  px::Sequential seq({
      px::layers::Dense(6, {.activation = "relu", .input_shape = {5}}),
      px::layers::Dropout(0.3f),
      px::layers::Dense(4, "tanh"),
      px::layers::Dense(2, "softmax"),
  });
  auto x = px::Input({5});
  auto h = px::layers::Dense(6, "relu")(x);
  h = px::layers::Dropout(0.3f)(h);
  h = px::layers::Dense(4, "tanh")(h);
  px::Model fun(x, px::layers::Dense(2, "softmax")(h));
  EXPECT_EQ(seq.graph().class_name(), "Sequential");
  EXPECT_EQ(seq.layers().size(), 5u);  // InputLayer included, as in Keras's functional layers
  fun.set_weights(seq.get_weights());
  Tensor xv = random_tensor({7, 5}, 8);
  EXPECT_LT(max_abs_diff(seq.predict(xv), fun.predict(xv)), 1e-6);
}

// --- custom layers ------------------------------------------------------------------------------

// Scale (API.md's example) is in graph_helpers.hpp, shared with test_api.cpp.
using plexus::test::Scale;

// A custom layer with a less trivial composition: y = x * sigmoid(x · w) + b^2.
class Gate : public px::Layer {
 public:
  using px::Layer::Layer;
  void build(const px::Shape& input_shape) override {
    w_ = add_weight("w", {input_shape.back(), input_shape.back()}, "glorot_uniform");
    b_ = add_weight("b", {input_shape.back()}, "ones");
  }
  px::SymbolicTensor call(const px::SymbolicTensor& x) override {
    return x * px::ops::sigmoid(px::ops::matmul(x, w_)) + px::ops::square(b_);
  }

 private:
  px::SymbolicTensor w_, b_;
};

TEST(CustomLayer, ScaleFromApiMd) {
  px::utils::clear_session();
  auto x = px::Input({3});
  auto scale = px::make_layer<Scale>();
  EXPECT_EQ(scale->name(), "scale");
  px::Model model(x, scale(x));
  EXPECT_EQ(model.trainable_weights()[0].path(), "scale/alpha");
  Tensor xv = random_tensor({2, 3}, 10);
  EXPECT_EQ(model.predict(xv), xv);  // alpha starts at ones
  model.get_layer("scale").set_weights({Tensor({1.0f, 2.0f, 3.0f})});
  Tensor y = model.predict(xv);
  EXPECT_FLOAT_EQ(y(1, 2), 3.0f * xv(1, 2));
  EXPECT_LT(px::test::gradient_error(model, {xv}), 1e-2);
}

TEST(CustomLayer, CompositionPassesFiniteDifferences) {
  auto x = px::Input({4});
  auto gate = px::make_layer<Gate>("gate");
  auto y = px::layers::Dense(2, "tanh")(gate(x));
  px::Model model(x, y);
  EXPECT_EQ(gate->count_params(), 20u);
  EXPECT_LT(px::test::gradient_error(model, {random_tensor({3, 4}, 11)}), 1e-2);
}

TEST(Graph, RawOpsOutsideLayersBecomeLayers) {
  px::utils::clear_session();
  auto a = px::Input({3}, "a");
  auto b = px::Input({3}, "b");
  auto y = px::ops::multiply(a, b) + a;
  px::Model model({a, b}, {y});
  std::vector<std::string> classes;
  for (auto& l : model.layers()) classes.push_back(l->class_name());
  EXPECT_EQ(classes, (std::vector<std::string>{"InputLayer", "InputLayer", "Multiply", "Add"}));
  Tensor xa = random_tensor({2, 3}, 12), xb = random_tensor({2, 3}, 13);
  Tensor want = xa * xb + xa;
  EXPECT_LT(max_abs_diff(model.predict(std::vector<Tensor>{xa, xb})[0], want), 1e-6);
}

// The executor zeroes a gradient buffer only when its node has several contributions: a
// node read by one kernel that can write its gradient (the unary ops here) is written
// instead, every step. Stale buffers would show as gradients growing from step to step.
TEST(Graph, WrittenAndAccumulatedGradientsAreFreshEveryStep) {
  px::utils::clear_session();
  auto x = px::Input({4}, "x");
  auto h = px::layers::Dense(3, {.name = "h"})(x);
  auto t = px::ops::tanh(h);                                     // h: one consumer
  auto y = px::ops::sigmoid(t) + px::ops::tanh(t);               // t: two consumers
  auto out = px::ops::tanh(y);                                   // y: one consumer
  px::Model model(x, px::ops::add(out, px::ops::sigmoid(out)));  // out: two consumers
  Tensor xv = random_tensor({5, 4}, 21);
  auto cots = px::test::cotangents_for(model, 5, 22);
  px::test::GraphRunner runner(model, model.trainable_weights(), /*wrt_feeds=*/true);
  const auto first = runner.gradients({xv}, cots);
  const auto first_x = runner.feed_gradients({xv}, cots);
  const auto second = runner.gradients({xv}, cots);
  const auto second_x = runner.feed_gradients({xv}, cots);
  ASSERT_EQ(first.size(), second.size());
  for (std::size_t i = 0; i < first.size(); ++i) EXPECT_EQ(max_abs_diff(first[i], second[i]), 0);
  EXPECT_EQ(max_abs_diff(first_x[0], second_x[0]), 0);
  EXPECT_LT(px::test::gradient_error(model, {xv}), 1e-2);
}

// --- names and weights ------------------------------------------------------------------------

TEST(Names, DefaultUniqueNames) {
  px::utils::clear_session();
  auto x = px::Input({8});
  auto d0 = px::layers::Dense(4);
  auto d1 = px::layers::Dense(2);
  EXPECT_EQ(d0->name(), "dense");
  EXPECT_EQ(d1->name(), "dense_1");
  px::Model m(x, d1(d0(x)));
  EXPECT_EQ(m.name(), "functional");
  EXPECT_EQ(m.input_names(), std::vector<std::string>{"input_layer"});
  EXPECT_EQ(px::Input({2}).node()->name, "input_layer_1");
  px::Model m2(x, d0(x));
  EXPECT_EQ(m2.name(), "functional_1");
  px::Sequential s;
  EXPECT_EQ(s.name(), "sequential");
  px::utils::clear_session();
  EXPECT_EQ(px::layers::Dense(1)->name(), "dense");
}

TEST(Weights, GetLayerPathsAndCounts) {
  px::utils::clear_session();
  auto x = px::Input({784}, "pixels");
  auto h = px::layers::Dense(64, "relu")(x);
  auto y = px::layers::Dense(10, "softmax")(h);
  px::Model model(x, y, "mnist_mlp");

  EXPECT_EQ(model.get_layer("dense_1").class_name(), "Dense");
  std::vector<std::string> paths;
  for (auto& v : model.trainable_weights()) paths.push_back(v.path());
  EXPECT_EQ(paths, (std::vector<std::string>{"dense/kernel", "dense/bias", "dense_1/kernel",
                                             "dense_1/bias"}));
  EXPECT_EQ(model.count_params(), 784u * 64 + 64 + 64 * 10 + 10);
  EXPECT_TRUE(model.non_trainable_weights().empty());

  auto w = model.get_layer("dense").get_weights();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(px::shape_of(w[0]), (Shape{784, 64}));  // Keras layout: (in, units)
  EXPECT_EQ(px::shape_of(w[1]), (Shape{64}));
  w[1] = xt::ones<float>({64});
  model.get_layer("dense").set_weights(w);
  EXPECT_EQ(model.get_layer("dense").get_weights()[1], w[1]);

  model.get_layer("dense").set_trainable(false);
  EXPECT_EQ(model.trainable_weights().size(), 2u);
  EXPECT_EQ(model.non_trainable_weights().size(), 2u);
  EXPECT_EQ(model.count_params(), 784u * 64 + 64 + 64 * 10 + 10);
}

TEST(Predict, BatchesEqualOneBigBatch) {
  auto x = px::Input({6});
  auto h = px::layers::Dense(5, "tanh")(x);
  px::Model model(x, px::layers::Dense(3, "softmax")(h));
  Tensor xv = random_tensor({70, 6}, 14);  // 70 = 2 * 32 + 6
  Tensor batched = model.predict(xv);
  Tensor whole = model.predict(xv, {.batch_size = 70});
  Tensor odd = model.predict(xv, {.batch_size = 9});
  EXPECT_EQ(px::shape_of(batched), (Shape{70, 3}));
  EXPECT_LT(max_abs_diff(batched, whole), 1e-6);
  EXPECT_LT(max_abs_diff(odd, whole), 1e-6);
}

TEST(Graph, ModelCalledTwiceReusesWeights) {
  auto x = px::Input({2});
  px::Model inner(x, px::layers::Dense(2, "tanh")(x), "inner");
  auto a = px::Input({2}, "a");
  auto b = px::Input({2}, "b");
  auto y = px::layers::Subtract()({inner(a), inner(b)});
  px::Model model({a, b}, {y});
  EXPECT_EQ(model.count_params(), 6u);
  Tensor xv = random_tensor({3, 2}, 15);
  EXPECT_LT(
      max_abs_diff(model.predict(std::vector<Tensor>{xv, xv})[0], Tensor(xt::zeros<float>({3, 2}))),
      1e-7);
  EXPECT_LT(px::test::gradient_error(model, {xv, random_tensor({3, 2}, 16)}), 1e-2);
}

TEST(Graph, LayerCallIndicesCountUserCalls) {
  auto a = px::Input({2}, "a");
  auto b = px::Input({2}, "b");
  auto shared = px::layers::Dense(2);
  auto ya = shared(a);
  auto yb = shared(b);
  EXPECT_EQ(ya.history()->node_index, 0u);
  EXPECT_EQ(yb.history()->node_index, 1u);
}

}  // namespace
