// Eager calls: layer(x) and model(x) on px::Tensors return px::Tensors (Keras calls layers
// eagerly), traced once per input signature, with Keras's training flag.
#include <gtest/gtest.h>

#include <plexus.hpp>

namespace px = plexus;
namespace kw = px::kw;

namespace {
px::Tensor random_tensor(std::vector<std::size_t> shape, unsigned seed) {
  px::utils::set_random_seed(seed);
  return xt::random::randn<float>(shape);
}
void expect_near(const px::Tensor& a, const px::Tensor& b, float tol = 1e-5f) {
  ASSERT_EQ(a.shape(), b.shape());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a.data()[i], b.data()[i], tol) << i;
}
}  // namespace

TEST(Eager, UnbuiltLayerBuildsOnFirstCallAndComputesItsFormula) {
  auto dense = px::layers::Dense(3, kw::activation = "relu");
  EXPECT_FALSE(dense->built());
  const px::Tensor x = random_tensor({4, 5}, 1);
  const px::Tensor y = dense(x);
  EXPECT_TRUE(dense->built());
  ASSERT_EQ(dense->weights().size(), 2u);
  EXPECT_EQ(dense->weights()[0].shape(), (px::Shape{5, 3}));
  // relu(x W + b), computed by hand.
  const px::Tensor& w = dense->weights()[0].value();
  px::Tensor b = xt::random::randn<float>({3});
  dense->weights()[1].assign(b);
  const px::Tensor y2 = dense(x);
  EXPECT_EQ(y2.shape(), (std::vector<std::size_t>{4, 3}));
  for (std::size_t i = 0; i < 4; ++i) {
    for (std::size_t j = 0; j < 3; ++j) {
      float s = b(j);
      for (std::size_t k = 0; k < 5; ++k) s += x(i, k) * w(k, j);
      EXPECT_NEAR(y2(i, j), std::max(s, 0.0f), 1e-5f);
    }
  }
  // The first result used the zero bias of a fresh layer.
  EXPECT_FALSE(y == y2);
}

TEST(Eager, TracedOncePerSignatureForAnyBatchSize) {
  auto dense = px::layers::Dense(2);
  (void)dense(random_tensor({1, 3}, 2));
  (void)dense(random_tensor({7, 3}, 3));
  (void)dense(xt::ones<float>({2, 3}));  // an xtensor expression converts
  EXPECT_EQ(dense->eager_traces(), 1u);
  auto act = px::layers::Activation("tanh");
  const px::Tensor a = random_tensor({2, 3}, 4), b = random_tensor({2, 4, 5}, 5);
  expect_near(act(a), xt::tanh(a));
  expect_near(act(b), xt::tanh(b));
  EXPECT_EQ(act->eager_traces(), 2u);
  // A Dense built for 3 features refuses 4, naming the layer.
  try {
    (void)dense(random_tensor({2, 4}, 6));
    FAIL() << "expected px::Error";
  } catch (const px::Error& e) {
    EXPECT_NE(std::string(e.what()).find(dense->name()), std::string::npos) << e.what();
  }
}

TEST(Eager, EagerCallsLeaveTheSymbolicHistoryAlone) {
  auto dense = px::layers::Dense(2, kw::name = "d");
  (void)dense(random_tensor({3, 4}, 7));
  auto x = px::Input({4});
  auto y = dense(x);
  EXPECT_EQ(y.history()->node_index, 0u);  // the eager call made no Keras node
  px::Model m(x, y);
  const px::Tensor in = random_tensor({3, 4}, 8);
  expect_near(m.predict(in), dense(in));
}

TEST(Eager, SeveralInputsAndOutputs) {
  auto concat = px::layers::Concatenate();
  const px::Tensor a = random_tensor({2, 3}, 9), b = random_tensor({2, 2}, 10);
  const std::vector<px::Tensor> ab = concat({a, b});
  ASSERT_EQ(ab.size(), 1u);
  EXPECT_EQ(ab[0].shape(), (std::vector<std::size_t>{2, 5}));
  EXPECT_FLOAT_EQ(ab[0](1, 3), b(1, 0));
  // A two-input, two-output model: a list or a map by Input name, a list back.
  auto title = px::Input({3}, "title"), body = px::Input({2}, "body");
  auto h = px::layers::Dense(4, kw::activation = "relu")(px::layers::concatenate({title, body}));
  auto score = px::layers::Dense(1, kw::name = "score")(h);
  auto klass = px::layers::Dense(3, kw::activation = "softmax", kw::name = "klass")(h);
  px::Model model({title, body}, {score, klass}, "two_heads");
  const std::vector<px::Tensor> by_list = model({a, b});
  const std::vector<px::Tensor> by_map = model({{"title", a}, {"body", b}});
  const std::vector<px::Tensor> predicted = model.predict({a, b});
  ASSERT_EQ(by_list.size(), 2u);
  ASSERT_EQ(by_map.size(), 2u);
  for (std::size_t k = 0; k < 2; ++k) {
    expect_near(by_list[k], predicted[k]);
    expect_near(by_map[k], predicted[k]);
  }
  EXPECT_EQ(by_list[1].shape(), (std::vector<std::size_t>{2, 3}));
  // One tensor for a model with two inputs, or a bad shape: px::Error naming the model.
  EXPECT_THROW((void)model({a}), px::Error);
  try {
    (void)model({b, a});
    FAIL() << "expected px::Error";
  } catch (const px::Error& e) {
    EXPECT_NE(std::string(e.what()).find("two_heads"), std::string::npos) << e.what();
  }
  // A model with one input but two outputs returns them as a list.
  auto x = px::Input({3});
  auto z = px::layers::Dense(2)(x);
  px::Model split({x}, {z, px::layers::Dense(1)(z)}, "split");
  EXPECT_EQ(split({a}).size(), 2u);
  try {
    (void)split(a);
    FAIL() << "expected px::Error";
  } catch (const px::Error& e) {
    EXPECT_NE(std::string(e.what()).find("2 outputs"), std::string::npos) << e.what();
  }
}

TEST(Eager, ModelCallMatchesPredictAndSequentialBuildsOnFirstCall) {
  px::utils::set_random_seed(11);
  px::Sequential seq({px::layers::Dense(8, kw::activation = "relu"), px::layers::Dense(2)});
  const px::Tensor x = random_tensor({5, 4}, 12);
  const px::Tensor y = seq(x);
  EXPECT_EQ(y.shape(), (std::vector<std::size_t>{5, 2}));
  expect_near(y, seq.predict(x));
  EXPECT_EQ(seq.count_params(), 4u * 8 + 8 + 8 * 2 + 2);
  // A nested model is a layer: its eager call agrees with the outer model's.
  auto in = px::Input({4});
  px::Model outer(in, px::layers::Activation("sigmoid")(seq(in)));
  expect_near(outer(x), 1.0f / (1.0f + xt::exp(-y)));
}

TEST(Eager, TrainingFlagRunsDropoutInTrainingMode) {
  auto x = px::Input({1000});
  px::Model model(x, px::layers::Dropout(0.5f)(x));
  const px::Tensor ones = xt::ones<float>({2, 1000});
  expect_near(model(ones), ones);  // inference: the identity
  for (const px::Tensor& t : {model(ones, kw::training = true), model(ones, true)}) {
    std::size_t zeros = 0;
    for (float v : t) {
      if (v == 0.0f) {
        ++zeros;
      } else {
        EXPECT_FLOAT_EQ(v, 2.0f);  // kept units are scaled by 1 / (1 - rate)
      }
    }
    EXPECT_GT(zeros, 800u);
    EXPECT_LT(zeros, 1200u);
  }
  auto drop = px::layers::Dropout(0.5f);
  expect_near(drop(ones), ones);
  EXPECT_LT(xt::sum(drop(ones, kw::training = true))(), 2400.0f);
}

TEST(Eager, TrainingCallUpdatesBatchNormalizationStatistics) {
  auto bn = px::layers::BatchNormalization({.momentum = 0.5f});
  const px::Tensor x = random_tensor({64, 3}, 13) + 4.0f;
  const px::Tensor y = bn(x);  // inference: moving mean 0, variance 1
  expect_near(y, x / std::sqrt(1.0f + 1e-3f), 1e-4f);
  const px::Tensor& moving_mean = bn->weights()[2].value();
  EXPECT_EQ(bn->weights()[2].name(), "moving_mean");
  EXPECT_FLOAT_EQ(moving_mean(0), 0.0f);
  const px::Tensor yt = bn(x, kw::training = true);  // batch statistics, then the update
  const px::Tensor batch_mean = xt::mean(x, {0});
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(moving_mean(c), 0.5f * batch_mean(c), 1e-4f);
    EXPECT_NEAR(xt::mean(xt::view(yt, xt::all(), c))(), 0.0f, 1e-4f);
  }
  // A frozen layer is not updated.
  bn->set_trainable(false);
  const px::Tensor before = moving_mean;
  (void)bn(x, kw::training = true);
  expect_near(moving_mean, before, 0.0f);
}

TEST(Eager, TheCacheKeepsNoLayerOrModelAlive) {
  std::weak_ptr<px::Layer> layer_alive, bn_alive;
  std::weak_ptr<px::Layer> model_alive;
  {
    auto dense = px::layers::Dense(2);
    (void)dense(random_tensor({2, 3}, 14));
    layer_alive = dense.get();
    auto bn = px::layers::BatchNormalization();
    (void)bn(random_tensor({4, 2}, 15), true);
    bn_alive = bn.get();
    auto x = px::Input({3});
    px::Model model(x, bn(px::layers::Dense(2)(x)));
    (void)model(random_tensor({4, 3}, 16), kw::training = true);
    model_alive = model.graph().shared_from_this();
  }
  EXPECT_TRUE(layer_alive.expired());
  EXPECT_TRUE(bn_alive.expired());
  EXPECT_TRUE(model_alive.expired());
}

TEST(Eager, ErrorsNameTheLayer) {
  auto dense = px::layers::Dense(2, kw::name = "head");
  const px::Tensor scalar = px::Tensor(3.0f);
  try {
    (void)dense(scalar);
    FAIL() << "expected px::Error";
  } catch (const px::Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"head\""), std::string::npos) << e.what();
  }
  auto add = px::layers::Add();
  EXPECT_THROW((void)add({random_tensor({2, 3}, 17), random_tensor({3, 3}, 18)}), px::Error);
}
