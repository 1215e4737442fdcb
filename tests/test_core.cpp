// The core under every layer family (issue "The core for what comes next"): sub-layers
// tracked as Keras tracks them, state updates, multi-output ops, graph::Function, executor
// isolation (predict between forward and backward, predict on several threads), and the
// regressions found in review (leaking Inputs, Sequential edits after compile, weights the
// loss does not reach, callbacks copied, per-output metrics).
#pragma GCC diagnostic ignored "-Wuninitialized"
#ifndef __clang__  // a GCC-only warning
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "core/constraints.hpp"
#include "core/random.hpp"
#include "graph/executor.hpp"
#include "graph/function.hpp"
#include "graph/ops.hpp"
#include "graph/regularizers.hpp"
#include "graph/summary.hpp"
#include "graph_helpers.hpp"
#include "layers/core.hpp"
#include "layers/merging.hpp"
#include "layers/normalization.hpp"
#include "optim/callbacks.hpp"
#include "optim/gradient_check.hpp"
#include "optim/model.hpp"
#include "optim/optimizers.hpp"

namespace px = plexus;
using px::Shape;
using px::Tensor;
using px::test::error_message;
using px::test::max_abs_diff;
using px::test::random_tensor;

namespace {

// The commonest Keras subclassing pattern: a layer holding two Dense members.
class Block : public px::Layer {
 public:
  Block() : px::Layer("block") {}
  px::SymbolicTensor call(const px::SymbolicTensor& x) override { return d2_(d1_(x)); }

 private:
  px::LayerRef d1_ = px::layers::Dense(8, "relu");
  px::LayerRef d2_ = px::layers::Dense(8, "relu");
};

px::Model block_model() {
  auto x = px::Input({8}, "x");
  auto h = px::make_layer<Block>()(x);
  auto y = px::layers::Dense(1, {.activation = "sigmoid", .name = "head"})(h);
  return px::Model(x, y, "with_block");
}

}  // namespace

TEST(SubLayers, CustomLayerWithTwoDenseMembersCountsTrainsAndShows) {
  px::utils::clear_session();
  px::utils::set_random_seed(1);
  px::Model m = block_model();
  // Keras: block 2 x (8*8 + 8) = 144, head 8 + 1 = 9.
  EXPECT_EQ(m.count_params(), 153u);
  EXPECT_EQ(m.trainable_weights().size(), 6u);
  auto& block = m.get_layer("block");
  ASSERT_EQ(block.sublayers().size(), 2u);
  std::vector<std::string> paths;
  for (auto& w : m.weights()) paths.push_back(w.path());
  EXPECT_EQ(paths, (std::vector<std::string>{"block/dense/kernel", "block/dense/bias",
                                             "block/dense_1/kernel", "block/dense_1/bias",
                                             "head/kernel", "head/bias"}));
  EXPECT_NE(m.summary_string(100).find("│ block (Block)"), std::string::npos);
  EXPECT_NE(m.summary_string(100).find("144"), std::string::npos);
  EXPECT_NE(m.summary_string(100).find("Total params: 153"), std::string::npos);

  // get_weights / set_weights of the custom layer in Keras order.
  auto ws = block.get_weights();
  ASSERT_EQ(ws.size(), 4u);
  EXPECT_EQ(px::shape_of(ws[0]), (Shape{8, 8}));
  for (auto& w : ws) w.fill(0.25f);
  block.set_weights(ws);
  EXPECT_EQ(block.sublayers()[1]->get_weights()[1](0), 0.25f);

  // The inner weights are trained.
  const Tensor before = block.sublayers()[0]->get_weights()[0];
  Tensor x = random_tensor({64, 8}, 3);
  Tensor y = Tensor::from_shape({64, 1});
  for (std::size_t i = 0; i < 64; ++i) y(i, 0) = x(i, 0) > 0.0f ? 1.0f : 0.0f;
  m.compile("adam", "binary_crossentropy");
  m.fit(x, y, {.epochs = 2, .batch_size = 16, .verbose = 0});
  EXPECT_GT(max_abs_diff(before, block.sublayers()[0]->get_weights()[0]), 1e-4);
}

TEST(SubLayers, FreezingALayerFreezesItsSubLayers) {
  px::utils::clear_session();
  px::Model m = block_model();
  m.get_layer("block").set_trainable(false);
  EXPECT_EQ(m.trainable_weights().size(), 2u);      // head only
  EXPECT_EQ(m.non_trainable_weights().size(), 4u);  // the block's Dense weights
}

TEST(Leaks, InputLayerIsFreedWithItsTensors) {
  std::weak_ptr<px::Layer> layer;
  {
    auto x = px::Input({3});
    layer = x.history()->layer;
    EXPECT_FALSE(layer.expired());
  }
  EXPECT_TRUE(layer.expired());
}

TEST(Leaks, ModelGraphIsFreedWithTheModel) {
  std::weak_ptr<px::Layer> dense;
  {
    auto x = px::Input({3});
    auto d = px::layers::Dense(2);
    dense = d.get();
    px::Model m(x, d(x));
    m.predict(Tensor(xt::ones<float>({2, 3})));
  }
  EXPECT_TRUE(dense.expired());
}

namespace {
// A layer with a state update: counts the training steps and keeps the last batch mean.
class Counter : public px::Layer {
 public:
  using px::Layer::Layer;
  void build(const Shape& s) override {
    count_ = add_weight("count", {1}, "zeros", false);
    mean_ = add_weight("mean", {s.back()}, "zeros", false);
  }
  px::SymbolicTensor call(const px::SymbolicTensor& x) override {
    add_update(count_, px::ops::add(count_, 1.0f));
    add_update(mean_, px::ops::mean(x, {0}));
    return x;
  }

 private:
  px::SymbolicTensor count_, mean_;
};
}  // namespace

TEST(StateUpdates, AppliedOncePerTrainingStepNeverInInference) {
  px::utils::clear_session();
  auto x = px::Input({2});
  auto counter = px::make_layer<Counter>();
  auto y = px::layers::Dense(1)(counter(x));
  px::Model m(x, y);
  m.compile("sgd", "mse");
  Tensor xs = random_tensor({10, 2}, 5), ys = random_tensor({10, 1}, 6);
  m.predict(xs);
  m.evaluate(xs, ys, {.verbose = 0});
  EXPECT_EQ(counter->get_weights()[0](0), 0.0f);  // inference never updates
  m.fit(xs, ys, {.epochs = 2, .batch_size = 4, .shuffle = false, .verbose = 0});
  EXPECT_EQ(counter->get_weights()[0](0), 6.0f);  // 3 steps per epoch
  // The last batch holds samples 8 and 9.
  EXPECT_NEAR(counter->get_weights()[1](1), (xs(8, 1) + xs(9, 1)) / 2, 1e-6);
  m.train_on_batch(xs, ys);
  EXPECT_EQ(counter->get_weights()[0](0), 7.0f);
  counter->set_trainable(false);  // a frozen layer's updates are not applied
  m.train_on_batch(xs, ys);
  EXPECT_EQ(counter->get_weights()[0](0), 7.0f);
}

namespace {
// x + 1, counting its forward calls (in every executor: clones share the counter).
std::atomic<int> plus_one_calls{0};
class CountingPlusOne : public px::Kernel {
 public:
  std::string name() const override { return "counting_plus_one"; }
  std::size_t num_inputs() const override { return 1; }
  Shape output_shape(px::ShapeRefs in) const override { return in[0]; }
  void forward(px::TensorRefs in, Tensor& out, const px::Context&) override {
    ++plus_one_calls;
    for (std::size_t i = 0; i < out.size(); ++i) out.data()[i] = in[0]->data()[i] + 1.0f;
  }
  void backward(px::TensorRefs, const Tensor&, const Tensor&, px::GradRefs,
                const px::Context&) override {}
  std::shared_ptr<px::Kernel> clone() const override { return std::make_shared<CountingPlusOne>(); }
};
// A layer whose one state update (not applied at inference) runs CountingPlusOne.
class CountedUpdate : public px::Layer {
 public:
  using px::Layer::Layer;
  void build(const Shape&) override { count_ = add_weight("count", {1}, "zeros", false); }
  px::SymbolicTensor call(const px::SymbolicTensor& x) override {
    add_update(count_, px::ops::apply(std::make_shared<CountingPlusOne>(), {count_}));
    return x;
  }

 private:
  px::SymbolicTensor count_;
};
}  // namespace

// Keras computes a state update only in a training step: evaluate, test_on_batch, predict
// and inference-mode eager calls do not even run its expression (not just skip writing it).
TEST(StateUpdates, InferenceComputesNoUpdateExpression) {
  px::utils::clear_session();
  auto x = px::Input({2});
  auto counted = px::make_layer<CountedUpdate>();
  px::Model m(x, px::layers::Dense(1)(counted(x)));
  m.compile("sgd", "mse");
  Tensor xs = random_tensor({8, 2}, 5), ys = random_tensor({8, 1}, 6);
  plus_one_calls = 0;
  m.evaluate(xs, ys, {.batch_size = 4, .verbose = 0});
  m.test_on_batch(xs, ys);
  m.predict(xs);
  (*counted)(xs, false);
  EXPECT_EQ(plus_one_calls.load(), 0) << "an inference pass computed a state update";
  EXPECT_EQ(counted->get_weights()[0](0), 0.0f);
  m.fit(xs, ys, {.epochs = 1, .batch_size = 4, .verbose = 0});
  EXPECT_EQ(plus_one_calls.load(), 2);  // one per training step
  EXPECT_EQ(counted->get_weights()[0](0), 2.0f);
  (*counted)(xs, true);  // an eager training call computes and applies it
  EXPECT_EQ(plus_one_calls.load(), 3);
  EXPECT_EQ(counted->get_weights()[0](0), 3.0f);
}

// BatchNormalization: evaluate's graph holds none of the nodes of its moving statistics.
TEST(StateUpdates, EvaluateGraphOfABatchNormModelHasNoUpdateNodes) {
  px::utils::clear_session();
  auto x = px::Input({3});
  auto bn = px::layers::BatchNormalization();
  px::Model m(x, px::layers::Dense(1)(bn(x)));
  m.compile("sgd", "mse");
  Tensor xs = random_tensor({6, 3}, 7), ys = random_tensor({6, 1}, 8);
  const Tensor before = bn->get_weights()[2];  // the moving mean
  m.evaluate(xs, ys, {.verbose = 0});
  EXPECT_EQ(max_abs_diff(bn->get_weights()[2], before), 0.0);
  auto updates = m.graph().updates();
  ASSERT_EQ(updates.size(), 2u);  // moving mean and variance
  px::graph::Function train(m.inputs(), {{"y", m.outputs()[0]}}, updates,
                            px::graph::UpdateSet::kAll);
  px::graph::Function test(m.inputs(), {{"y", m.outputs()[0]}}, updates,
                           px::graph::UpdateSet::kInference);
  EXPECT_EQ(train.updates().size(), 2u);
  EXPECT_TRUE(test.updates().empty());
  EXPECT_TRUE(train.has_output(fmt::format("update:{}#1", updates[0].variable->path)));
  auto has = [](const px::graph::Executor& e, const px::NodePtr& n) {
    return std::find(e.nodes().begin(), e.nodes().end(), n) != e.nodes().end();
  };
  auto te = train.make_executor(), ie = test.make_executor();
  for (auto& u : updates) {
    EXPECT_TRUE(has(*te, u.value));
    EXPECT_FALSE(has(*ie, u.value)) << u.variable->path;
  }
  EXPECT_LT(ie->nodes().size(), te->nodes().size());
  // Executors of one Function share its one walk and order of the graph.
  auto te2 = train.make_executor();
  EXPECT_EQ(&te->nodes(), &te2->nodes());
}

TEST(StateUpdates, NestedModelsCarryTheirUpdates) {
  px::utils::clear_session();
  auto a = px::Input({2});
  auto counter = px::make_layer<Counter>();
  px::Model inner(a, counter(a), "inner");
  auto b = px::Input({2});
  px::Model outer(b, px::layers::Dense(1)(inner(b)), "outer");
  outer.compile("sgd", "mse");
  outer.train_on_batch(Tensor(xt::ones<float>({3, 2})), Tensor(xt::ones<float>({3, 1})));
  EXPECT_EQ(counter->get_weights()[0](0), 1.0f);
}

TEST(StateUpdates, RejectsTrainableOrForeignWeightsAndBadShapes) {
  class Bad : public px::Layer {
   public:
    using px::Layer::Layer;
    void build(const Shape&) override { w_ = add_weight("w", {2}, "zeros", true); }
    px::SymbolicTensor call(const px::SymbolicTensor& x) override {
      add_update(w_, w_);
      return x;
    }
    px::SymbolicTensor w_;
  };
  auto x = px::Input({2});
  EXPECT_NE(error_message([&] { px::make_layer<Bad>()(x); }).find("trainable weight"),
            std::string::npos);
}

TEST(MultiOutput, SplitGivesSeveralTensorsWithIndicesAndGradients) {
  auto x = px::Input({6}, "x");
  auto parts = px::ops::split(x, {1, 2, 3});
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[2].shape(), (Shape{-1, 3}));
  auto sum = px::layers::Add()({px::layers::Dense(2, {.name = "p0"})(parts[0]),
                                px::layers::Dense(2, {.name = "p2"})(parts[2])});
  px::Model m(x, sum);
  // parts[1] is unused: its cotangent is zero, the others flow.
  m.compile("sgd", "mse");
  double err =
      px::testing::check_gradients(m, {random_tensor({4, 6}, 9)}, {random_tensor({4, 2}, 10)});
  EXPECT_LT(err, 2e-3);
  EXPECT_EQ(parts[0].index(), 0u);
  EXPECT_EQ(parts[2].index(), 2u);
  Tensor in = random_tensor({2, 6}, 11);
  px::graph::Function f({x}, {{"a", parts[0]}, {"c", parts[2]}});
  auto outs = f({&in});
  EXPECT_EQ(outs[1](1, 2), in(1, 5));
  EXPECT_EQ(outs[0](0, 0), in(0, 0));
}

TEST(Function, NamedOutputsAndDisconnectedInputs) {
  auto a = px::graph::placeholder({-1, 2}, "a");
  auto b = px::graph::placeholder({-1, 2}, "b");
  px::graph::Function f({a}, {{"double", px::ops::multiply(a, 2.0f)}, {"sq", px::ops::square(a)}});
  EXPECT_EQ(f.output_index("sq"), 1u);
  EXPECT_NE(error_message([&] { f.output_index("cube"); }).find("[\"double\", \"sq\"]"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              px::graph::Function({a}, {{"x", px::ops::add(a, b)}});
            }).find("Graph disconnected: cannot find parent for tensor \"b\""),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              px::graph::Function({a}, {{"x", a}, {"x", a}});
            }).find("used twice"),
            std::string::npos);
}

TEST(Executors, EachExecutorOwnsItsKernelsState) {
  // Dropout keeps its mask between forward and backward. Two executors over one graph
  // (training and predict, two training loops) used to share the kernel and its mask: a
  // forward of the second between the first's forward and backward corrupted the first.
  px::utils::clear_session();
  auto x = px::Input({16});
  auto y = px::layers::Dense(1)(px::layers::Dropout(0.5)(px::layers::Dense(16)(x)));
  px::Model m(x, y);
  Tensor xs = random_tensor({8, 16}, 1), cot = random_tensor({8, 1}, 2);
  px::test::GraphRunner a(m, m.trainable_weights()), b(m, m.trainable_weights());
  px::utils::set_random_seed(7);
  auto ref = a.gradients({xs}, {cot}, true);
  const std::vector<Tensor> feed{xs}, other{random_tensor({8, 16}, 3)};  // alive until backward
  px::utils::set_random_seed(7);
  a.forward(feed, true);
  px::utils::set_random_seed(8);
  b.forward(other, true);  // another mask, between a's passes
  m.predict(random_tensor({100, 16}, 4));
  auto got = a.backward({cot}, true);
  for (std::size_t i = 0; i < ref.size(); ++i) EXPECT_EQ(max_abs_diff(ref[i], got[i]), 0.0);
}

// The ready hook of backward() (data-parallel training starts each gradient's all-reduce
// there): once per variable, in gradient_order(), and the gradient it sees is already the
// final one — through a shared layer called twice, a skip connection and an unused weight.
TEST(Executors, ReadyHookSeesEachGradientFinalInGradientOrder) {
  px::utils::clear_session();
  auto x = px::Input({6});
  auto shared = px::layers::Dense(6, "tanh");
  auto h1 = shared(x);
  auto h2 = px::layers::Dense(6, "relu")(h1);
  auto h3 = shared(px::layers::Add()({h1, h2}));  // the shared layer's second call
  auto unused_layer = px::layers::Dense(2);
  unused_layer(x);  // not in the model
  px::Model m(x, px::layers::Dense(3)(h3));
  std::vector<px::Variable> wrt = m.trainable_weights();
  wrt.push_back(unused_layer->trainable_weights().at(0));
  std::vector<px::NodePtr> feeds{x.node()}, outs{m.outputs()[0].node()};
  px::graph::Executor::Options options;
  for (auto& v : wrt) options.wrt_variables.push_back(v.data());
  px::graph::Executor ex(feeds, outs, options);
  const Tensor xs = random_tensor({5, 6}, 1), cot = random_tensor({5, 3}, 2);
  const std::vector<const Tensor*> feed{&xs}, seeds{&cot};
  ex.forward(feed, px::Context{});
  std::vector<std::size_t> calls;
  std::vector<Tensor> seen(wrt.size());
  std::vector<bool> had(wrt.size(), false);
  ex.backward(seeds, px::Context{}, [&](std::size_t i) {
    calls.push_back(i);
    if (const Tensor* g = ex.variable_grad(i)) {
      seen[i] = *g;
      had[i] = true;
    }
  });
  EXPECT_EQ(calls, ex.gradient_order());
  std::vector<std::size_t> sorted = calls;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < wrt.size(); ++i) ASSERT_EQ(sorted[i], i);
  // The output layer's weights come first, the shared layer's last (its first call is the
  // graph's first use); the unused weight has no gradient.
  EXPECT_EQ(calls.back() / 2, 0u);
  for (std::size_t i = 0; i < wrt.size(); ++i) {
    const Tensor* g = ex.variable_grad(i);
    ASSERT_EQ(g != nullptr, had[i]) << i;
    if (g) {
      EXPECT_EQ(max_abs_diff(*g, seen[i]), 0.0) << "weight " << i << " changed after ready";
    }
  }
  EXPECT_FALSE(had.back());
}

TEST(Executors, PredictFromFourThreadsMatchesOneThread) {
  px::utils::clear_session();
  auto x = px::Input({32});
  auto h = px::layers::Dense(64, "relu")(x);
  px::Model m(x, px::layers::Dense(10, "softmax")(h));
  std::vector<Tensor> inputs, expected;
  for (int t = 0; t < 4; ++t) {
    inputs.push_back(random_tensor({100 + 7 * t, 32}, 20 + t));
    expected.push_back(m.predict(inputs.back(), {.batch_size = 16}));
  }
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 25; ++rep) {
        Tensor got = m.predict(inputs[t], {.batch_size = 16 + (rep % 3)});
        if (max_abs_diff(got, expected[t]) > 1e-6) ++mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, (std::vector<int>{0, 0, 0, 0}));
}

TEST(Sequential, AddAndPopAfterCompileTrainTheNewGraph) {
  px::utils::clear_session();
  px::Sequential s({px::layers::Dense(4, {.input_shape = {3}})});
  s.compile("sgd", "mse");
  Tensor xs = random_tensor({8, 3}, 1);
  s.fit(xs, random_tensor({8, 4}, 2), {.verbose = 0});
  s.add(px::layers::Dense(2, {.name = "added"}));
  // The old graph's output has 4 columns; the new one 2: fit must use the new graph.
  s.fit(xs, random_tensor({8, 2}, 3), {.epochs = 1, .verbose = 0});
  const Tensor w = s.get_layer("added").get_weights()[0];
  s.fit(xs, random_tensor({8, 2}, 3), {.epochs = 3, .verbose = 0});
  EXPECT_GT(max_abs_diff(w, s.get_layer("added").get_weights()[0]), 1e-6);
  s.pop();
  EXPECT_EQ(s.evaluate(xs, random_tensor({8, 4}, 2), {.verbose = 0}).size(), 1u);
}

TEST(NoGradient, WeightsTheLossDoesNotReachAreLeftAlone) {
  px::utils::clear_session();
  auto x = px::Input({3}, "x");
  auto used = px::layers::Dense(1, {.name = "used"})(x);
  auto unused = px::layers::Dense(1, {.name = "unused"})(x);
  px::Model m({x}, {used, unused});
  // Only "used" has a loss; AdamW's decay and SGD's momentum must not move "unused".
  for (const char* opt : {"adamw", "sgd_momentum"}) {
    px::OptimizerSpec spec = std::string(opt) == "adamw"
                                 ? px::OptimizerSpec("adamw")
                                 : px::OptimizerSpec(px::optim::SGD({.momentum = 0.9}));
    m.compile({.optimizer = spec, .loss = {{"used", "mse"}}});
    const auto before = m.get_layer("unused").get_weights();
    m.fit(random_tensor({16, 3}, 1), random_tensor({16, 1}, 2), {.epochs = 2, .verbose = 0});
    const auto after = m.get_layer("unused").get_weights();
    EXPECT_EQ(max_abs_diff(before[0], after[0]), 0.0) << opt;
    EXPECT_EQ(max_abs_diff(before[1], after[1]), 0.0) << opt;
  }
  auto [loss, grads] = m.compute_gradients(random_tensor({4, 3}, 3), random_tensor({4, 1}, 4));
  ASSERT_EQ(grads.size(), 4u);  // used/kernel, used/bias, unused/kernel, unused/bias
  EXPECT_TRUE(grads[0].has_value());
  EXPECT_FALSE(grads[2].has_value());
  EXPECT_FALSE(grads[3].has_value());
  m.optimizer().apply_gradients(grads, m.trainable_weights());  // skips the missing ones
}

TEST(Callbacks, TheObjectPassedIsTheOneFitDrives) {
  px::utils::clear_session();
  auto x = px::Input({1});
  px::Model m(x, px::layers::Dense(1)(x));
  m.compile(px::optim::SGD({.learning_rate = 0.0}), "mse");  // the loss never improves
  px::callbacks::EarlyStopping es({.monitor = "loss", .patience = 1});
  Tensor xy = Tensor::from_shape({2, 1});
  xy(0, 0) = 1.0f;
  xy(1, 0) = 2.0f;
  m.fit(xy, xy, {.epochs = 10, .verbose = 0, .callbacks = {es}});
  EXPECT_EQ(es.stopped_epoch(), 1);
}

TEST(Metrics, PerOutputDictAndNoAccuracyOnARegressionHead) {
  px::utils::clear_session();
  auto x = px::Input({4}, "x");
  auto h = px::layers::Dense(8, "relu")(x);
  auto priority = px::layers::Dense(1, {.name = "priority"})(h);
  auto klass = px::layers::Dense(3, {.activation = "softmax", .name = "klass"})(h);
  px::Model m({x}, {priority, klass});
  Tensor xs = random_tensor({12, 4}, 1), yp = random_tensor({12, 1}, 2);
  Tensor yk = xt::zeros<float>({12});
  // Keras's dict form: a list per output.
  m.compile({.optimizer = "adam",
             .loss = {{"priority", "mse"}, {"klass", "sparse_categorical_crossentropy"}},
             .metrics = {{"priority", {"mae"}}, {"klass", {"accuracy"}}}});
  auto h1 = m.fit(xs, std::vector<Tensor>{yp, yk}, {.verbose = 0});
  EXPECT_TRUE(h1.history.count("priority_mae"));
  EXPECT_TRUE(h1.history.count("klass_accuracy"));
  EXPECT_FALSE(h1.history.count("priority_accuracy"));
  EXPECT_FALSE(h1.history.count("klass_mae"));
  // One list for all outputs: accuracy does not apply to the mse head.
  m.compile({.optimizer = "adam",
             .loss = {{"priority", "mse"}, {"klass", "sparse_categorical_crossentropy"}},
             .metrics = {"accuracy"}});
  auto h2 = m.fit(xs, std::vector<Tensor>{yp, yk}, {.verbose = 0});
  EXPECT_TRUE(h2.history.count("klass_accuracy"));
  EXPECT_FALSE(h2.history.count("priority_accuracy"));
  EXPECT_EQ(m.metrics_names(),
            (std::vector<std::string>{"loss", "priority_loss", "klass_loss", "klass_accuracy"}));
  EXPECT_NE(error_message([&] {
              m.compile({.optimizer = "adam", .loss = "mse", .metrics = {{"nope", {"mae"}}}});
              m.fit(xs, std::vector<Tensor>{yp, yk}, {.verbose = 0});
            }).find("\"nope\""),
            std::string::npos);
}

TEST(Optimizers, StateIsKeyedByTheVariableAndEnumerable) {
  px::optim::Adam adam;
  auto make = [] {
    auto d = std::make_shared<px::VariableData>();
    d->name = "w";
    d->path = "layer/w";
    d->value = xt::zeros<float>({2});
    return px::Variable(d);
  };
  {
    auto v = make();
    adam.apply_gradients(std::vector<std::optional<Tensor>>{Tensor{1.0f, 1.0f}}, {v});
    ASSERT_EQ(adam.variables().size(), 2u);  // m and v of the one variable
    EXPECT_EQ(adam.variables()[0].variable->path, "layer/w");
  }
  // The first variable is gone: a new one (perhaps at the same address) starts fresh.
  auto w = make();
  adam.apply_gradients(std::vector<std::optional<Tensor>>{Tensor{1.0f, 1.0f}}, {w});
  auto vars = adam.variables();
  ASSERT_EQ(vars.size(), 2u);
  EXPECT_EQ(vars[0].variable, w.data());
  // Adam's first moment after one step from zero: (1 - beta_1) * g = 0.1.
  EXPECT_NEAR((*vars[0].values)[0], 0.1f, 1e-6);
}

TEST(Regularizers, PenaltiesJoinTheLossAndConstraintsFollowEachStep) {
  px::utils::clear_session();
  auto x = px::Input({2});
  auto y = px::layers::Dense(1, {.use_bias = false,
                                 .kernel_initializer = "ones",
                                 .kernel_regularizer = px::regularizers::L2(0.5),
                                 .kernel_constraint = px::constraints::NonNeg()})(x);
  px::Model m(x, y);
  m.compile(px::optim::SGD({.learning_rate = 2.0}), "mse");
  Tensor xs = xt::zeros<float>({4, 2}), ys = xt::zeros<float>({4, 1});
  // mse is 0 on zero inputs; the loss is the penalty 0.5 * (1 + 1).
  EXPECT_NEAR(m.evaluate(xs, ys, {.verbose = 0})[0], 1.0, 1e-6);
  // One SGD step: w -= 2 * d(0.5 w^2)/dw gives -1; NonNeg then projects it to 0.
  m.train_on_batch(xs, ys);
  EXPECT_EQ(m.get_weights()[0](0, 0), 0.0f);
  EXPECT_EQ(m.get_weights()[0](1, 0), 0.0f);
}
