// Issue 22's keyword spellings: the qualified keyword passes beside a user's variable of
// the same name (the unqualified form is refused: tests/compile_fail/unqualified_keyword.cpp,
// local_optimizer_collision.cpp, local_epochs_collision.cpp).
#include <gtest/gtest.h>

#include <plexus.hpp>

#include "core/json.hpp"
#include "graph/input_layer.hpp"

namespace px = plexus;
namespace kw = px::kw;

TEST(KeywordSpelling, QualifiedKeywordBesideALocalOfTheSameName) {
  // A Keras program's own variables carry the keyword names.
  px::optim::Adam optimizer(kw::learning_rate = 0.25);
  int epochs = 3;
  int batch_size = 4;
  std::string loss = "mae";
  px::SymbolicTensor in = px::Input({2});
  px::Model model(in, px::layers::Dense(1)(in));
  model.compile(kw::optimizer = px::optim::Adam(kw::learning_rate = 0.5), kw::loss = loss);
  // The model got the new Adam; the local is untouched.
  EXPECT_DOUBLE_EQ(model.optimizer().learning_rate(), 0.5);
  EXPECT_DOUBLE_EQ(optimizer.learning_rate(), 0.25);
  EXPECT_EQ(loss, "mae");
  px::Tensor x = xt::ones<float>({8, 2});
  px::History h = model.fit(x, xt::ones<float>({8, 1}), kw::epochs = epochs,
                            kw::batch_size = batch_size, kw::verbose = 0);
  EXPECT_EQ(h.history.at("loss").size(), 3u);
  EXPECT_EQ(epochs, 3);
  EXPECT_EQ(batch_size, 4);
}

// Keras's positional parameters are keywords too, in any order, or positional then keywords.
TEST(KeywordSpelling, PositionalParametersAsKeywords) {
  // Keras: Conv1D(filters=64, kernel_size=3, padding="same")
  auto c = px::layers::Conv1D(kw::filters = 64, kw::kernel_size = 3, kw::padding = "same");
  EXPECT_EQ(c->filters(), 64);
  EXPECT_EQ(c->kernel_size(), std::vector<px::Dim>{3});
  EXPECT_EQ(c->options().padding, "same");
  // Keras: Conv2D(32, kernel_size=(3, 3), activation="relu"), and the keywords reversed.
  auto d = px::layers::Conv2D(32, kw::activation = "relu", kw::kernel_size = {3, 3});
  EXPECT_EQ(d->filters(), 32);
  EXPECT_EQ(d->kernel_size(), (std::vector<px::Dim>{3, 3}));
  EXPECT_EQ(d->options().activation, "relu");
  auto e = px::layers::Conv2D(kw::kernel_size = 5, kw::filters = 8);
  EXPECT_EQ(e->filters(), 8);
  EXPECT_EQ(px::layers::Dense(kw::units = 7, kw::activation = "tanh")->units(), 7);
  EXPECT_EQ(px::layers::Dense(kw::activation = "tanh", kw::units = 7)->options().activation,
            "tanh");
  // A defaulted positional (pool_size = 2) may be left out.
  auto p = px::layers::MaxPooling2D(kw::strides = 1, kw::padding = "same");
  EXPECT_EQ(p->get_config().at("pool_size"), px::Config::array({2, 2}));
  EXPECT_EQ(p->get_config().at("strides"), px::Config::array({1, 1}));
  auto q = px::layers::MaxPooling2D(kw::pool_size = 3);
  EXPECT_EQ(q->get_config().at("pool_size"), px::Config::array({3, 3}));
  auto emb = px::layers::Embedding(kw::output_dim = 4, kw::input_dim = 10);
  EXPECT_EQ(emb->get_config().at("input_dim"), 10);
  EXPECT_EQ(emb->get_config().at("output_dim"), 4);
  auto mha = px::layers::MultiHeadAttention(2, kw::key_dim = 16);
  EXPECT_EQ(mha->get_config().at("key_dim"), 16);
  auto drop = px::layers::Dropout(kw::rate = 0.25);
  EXPECT_DOUBLE_EQ(drop->get_config().at("rate").get<double>(), 0.25);
  auto bi = px::layers::Bidirectional(kw::layer = px::layers::LSTM(kw::units = 3));
  EXPECT_EQ(bi->get_config().at("merge_mode"), "concat");
  auto cat = px::layers::Concatenate(kw::axis = 1, kw::name = "joined");
  EXPECT_EQ(cat->name(), "joined");
  EXPECT_EQ(cat->get_config().at("axis"), 1);
  // layers.Input is px::Input, with keywords.
  px::SymbolicTensor in = px::layers::Input(kw::shape = {5}, kw::name = "features");
  EXPECT_EQ(in.shape(), (px::Shape{-1, 5}));
  px::SymbolicTensor in2 = px::layers::Input({3, 2}, kw::batch_size = 4);
  EXPECT_EQ(in2.shape(), (px::Shape{-1, 3, 2}));
  EXPECT_EQ(px::graph::static_batch_size(in2), 4);
}

TEST(KeywordSpelling, OptimizersTakeAPositionalLearningRate) {
  px::optim::RMSprop r(1e-3);
  EXPECT_DOUBLE_EQ(r.learning_rate(), 1e-3);
  px::optim::Adam a(2e-3, kw::beta_1 = 0.8);
  EXPECT_DOUBLE_EQ(a.learning_rate(), 2e-3);
  EXPECT_DOUBLE_EQ(a.options().beta_1, 0.8);
  px::optim::SGD s(0.1, kw::momentum = 0.9, kw::nesterov = true);
  EXPECT_TRUE(s.options().nesterov);
  EXPECT_DOUBLE_EQ(px::optim::Adagrad(0.5).learning_rate(), 0.5);
  EXPECT_DOUBLE_EQ(px::optim::Adadelta(0.5).learning_rate(), 0.5);
  EXPECT_DOUBLE_EQ(px::optim::Adamax(0.5).learning_rate(), 0.5);
  EXPECT_DOUBLE_EQ(px::optim::Nadam(0.5).learning_rate(), 0.5);
  EXPECT_DOUBLE_EQ(px::optim::AdamW(0.5).learning_rate(), 0.5);
}

TEST(KeywordSpelling, CallbacksLossesAndPlotModel) {
  px::callbacks::ModelCheckpoint ck("best.keras", kw::save_best_only = true,
                                    kw::monitor = "val_accuracy");
  EXPECT_EQ(ck.options().filepath, "best.keras");
  EXPECT_TRUE(ck.options().save_best_only);
  EXPECT_EQ(ck.options().monitor, "val_accuracy");
  const auto bce =
      px::losses::BinaryCrossentropy(kw::from_logits = true, kw::label_smoothing = 0.1);
  EXPECT_TRUE(bce.options().from_logits);
  EXPECT_DOUBLE_EQ(bce.options().label_smoothing, 0.1);
  EXPECT_TRUE(
      px::losses::SparseCategoricalCrossentropy(kw::from_logits = true).options().from_logits);
  EXPECT_TRUE(px::losses::CategoricalCrossentropy(kw::from_logits = true).options().from_logits);
  EXPECT_DOUBLE_EQ(px::losses::Huber(kw::delta = 2.0).options().delta, 2.0);
  EXPECT_DOUBLE_EQ(
      px::metrics::BinaryAccuracy(kw::threshold = 0.3).get_config().at("threshold").get<double>(),
      0.3);

  px::SymbolicTensor in = px::Input({3});
  px::Model model(in, px::layers::Dense(2)(in));
  const std::string with = px::utils::model_to_dot(model, kw::show_shapes = true);
  const std::string without = px::utils::model_to_dot(model);
  EXPECT_NE(with, without);
  EXPECT_NE(with.find("Output shape"), std::string::npos);
  EXPECT_EQ(px::utils::model_to_dot(model, kw::rankdir = "LR").find("rankdir=TB"),
            std::string::npos);
}

// Keras's list forms of compile: loss = [bce, cce], loss_weights = [1.0, 0.2].
TEST(KeywordSpelling, LossAndLossWeightListsPerOutput) {
  px::utils::set_random_seed(3);
  px::SymbolicTensor in = px::Input({4});
  px::SymbolicTensor h = px::layers::Dense(8, kw::activation = "relu")(in);
  px::SymbolicTensor a = px::layers::Dense(1, kw::activation = "sigmoid", kw::name = "a")(h);
  px::SymbolicTensor b = px::layers::Dense(3, kw::activation = "softmax", kw::name = "b")(h);
  px::Model model(std::vector<px::SymbolicTensor>{in}, std::vector<px::SymbolicTensor>{a, b});
  const auto bce = px::losses::BinaryCrossentropy();
  const auto cce = px::losses::CategoricalCrossentropy();
  model.compile(kw::optimizer = "adam", kw::loss = {bce, cce}, kw::loss_weights = {1.0, 0.2});
  px::Tensor x = xt::random::rand<float>({16, 4});
  px::Tensor ya = xt::ones<float>({16, 1});
  px::Tensor yb = xt::zeros<float>({16, 3});
  for (std::size_t i = 0; i < 16; ++i) yb(i, i % 3) = 1.0f;
  std::vector<double> scores = model.evaluate(x, {ya, yb}, kw::verbose = 0);
  // loss = 1.0 * a_loss + 0.2 * b_loss.
  ASSERT_EQ(scores.size(), 3u);
  EXPECT_NEAR(scores[0], scores[1] + 0.2 * scores[2], 1e-4);
  model.fit(x, {ya, yb}, kw::epochs = 1, kw::verbose = 0);

  // Names work in the list too, and a list of the wrong length is refused by name.
  try {
    model.compile(kw::loss = {"binary_crossentropy", "categorical_crossentropy"},
                  kw::loss_weights = {1.0, 0.2, 3.0});
    model.evaluate(x, {ya, yb}, kw::verbose = 0);
    FAIL() << "three loss weights for two outputs were accepted";
  } catch (const px::Error& e) {
    EXPECT_NE(std::string(e.what()).find("loss_weights lists 3 weights"), std::string::npos)
        << e.what();
  }
}

// Keras's metrics as a list of lists, one per output in output order.
TEST(KeywordSpelling, MetricListsPerOutput) {
  px::SymbolicTensor in = px::Input({4});
  px::SymbolicTensor a = px::layers::Dense(1, kw::activation = "sigmoid", kw::name = "a")(in);
  px::SymbolicTensor b = px::layers::Dense(3, kw::activation = "softmax", kw::name = "b")(in);
  px::Model model(std::vector<px::SymbolicTensor>{in}, std::vector<px::SymbolicTensor>{a, b});
  model.compile(
      kw::loss = {"binary_crossentropy", "categorical_crossentropy"},
      kw::metrics = px::MetricsPerOutput{{"binary_accuracy", "mse"}, {"categorical_accuracy"}});
  px::Tensor x = xt::ones<float>({6, 4});
  px::Tensor ya = xt::ones<float>({6, 1});
  px::Tensor yb = xt::zeros<float>({6, 3});
  for (std::size_t i = 0; i < 6; ++i) yb(i, i % 3) = 1.0f;
  std::vector<double> scores = model.evaluate(x, {ya, yb}, kw::verbose = 0);
  const std::vector<std::string> names = model.metrics_names();
  EXPECT_EQ(scores.size(), names.size());
  auto has = [&](const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  EXPECT_TRUE(has("a_binary_accuracy")) << testing::PrintToString(names);
  EXPECT_TRUE(has("a_mse")) << testing::PrintToString(names);
  EXPECT_TRUE(has("b_categorical_accuracy")) << testing::PrintToString(names);
  EXPECT_FALSE(has("b_mse")) << testing::PrintToString(names);
  EXPECT_FALSE(has("a_categorical_accuracy")) << testing::PrintToString(names);
  // One metric per output.
  model.compile(kw::loss = {"binary_crossentropy", "categorical_crossentropy"},
                kw::metrics = px::MetricsPerOutput{{"binary_accuracy"}, {"categorical_accuracy"}});
  model.evaluate(x, {ya, yb}, kw::verbose = 0);
  const std::vector<std::string> one = model.metrics_names();
  EXPECT_EQ(std::count(one.begin(), one.end(), "a_binary_accuracy"), 1);
  EXPECT_EQ(std::count(one.begin(), one.end(), "b_categorical_accuracy"), 1);
  EXPECT_EQ(one.size(), 5u) << testing::PrintToString(one);
  // A list per output of the wrong length is refused.
  EXPECT_THROW(
      {
        model.compile(kw::loss = "mse", kw::metrics = px::MetricsPerOutput{{"mae"}});
        model.evaluate(x, {ya, yb}, kw::verbose = 0);
      },
      px::Error);
}

TEST(KeywordSpelling, SchedulerTerminateOnNaNAndPiecewiseKeywords) {
  px::callbacks::TerminateOnNaN strict(kw::raise_error = true);
  px::callbacks::Logs logs{{"loss", std::nan("")}};
  try {
    strict.on_batch_end(3, logs);
    FAIL() << "a NaN loss with raise_error = true did not raise";
  } catch (const px::Error& e) {
    EXPECT_NE(std::string(e.what()).find("batch 3"), std::string::npos) << e.what();
  }
  px::callbacks::LearningRateScheduler sched(
      kw::verbose = 0, kw::schedule = [](int, double lr) { return lr / 2; });
  EXPECT_THROW(px::callbacks::LearningRateScheduler(kw::verbose = 1), px::Error);
  px::optim::PiecewiseConstantDecay pw(kw::boundaries = {10}, kw::values = {1.0, 0.5});
  EXPECT_DOUBLE_EQ(pw(5), 1.0);
  EXPECT_DOUBLE_EQ(pw(20), 0.5);
}

// Keras 3's LambdaCallback names (on_train_batch_*) and Keras 2's (on_batch_*) both fire.
TEST(KeywordSpelling, LambdaCallbackTrainBatchHooks) {
  int keras3 = 0, keras2 = 0;
  px::callbacks::LambdaCallback cb(
      kw::on_train_batch_end = [&](int, const px::callbacks::Logs&) { ++keras3; },
      kw::on_batch_end = [&](int, const px::callbacks::Logs&) { ++keras2; });
  px::SymbolicTensor in = px::Input({2});
  px::Model model(in, px::layers::Dense(1)(in));
  model.compile(kw::optimizer = "sgd", kw::loss = "mse");
  model.fit(xt::ones<float>({8, 2}), xt::ones<float>({8, 1}), kw::batch_size = 4, kw::epochs = 2,
            kw::verbose = 0, kw::callbacks = {cb});
  EXPECT_EQ(keras3, 4);
  EXPECT_EQ(keras2, 4);
}
