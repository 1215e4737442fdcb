// ../shared/API.md's examples, compiled and run as written (the contract users write to).
#include <gtest/gtest.h>

#include <filesystem>
#include <plexus.hpp>

#include "graph_helpers.hpp"

namespace px = plexus;

using plexus::test::Scale;  // API.md's custom layer, as written there

TEST(Api, FunctionalSequentialTrainingAndInspectionAsDocumented) {
  px::utils::clear_session();
  px::Tensor t = xt::zeros<float>({32, 784});
  px::utils::set_random_seed(777);

  px::SymbolicTensor x = px::Input({784}, "pixels");
  auto h = px::layers::Dense(64, "relu")(x);
  auto y = px::layers::Dense(10, "softmax")(h);
  px::Model model(x, y, "mnist_mlp");

  auto a = px::Input({32}, "a");
  auto b = px::Input({32}, "b");
  auto shared = px::layers::Dense(16, {.activation = "relu", .name = "shared"});
  auto merged = px::layers::Concatenate()({shared(a), shared(b)});
  auto score = px::layers::Dense(1, {.activation = "sigmoid", .name = "score"})(merged);
  auto klass = px::layers::Dense(3, {.activation = "softmax", .name = "klass"})(merged);
  px::Model two_heads({a, b}, {score, klass}, "two_heads");

  auto encoder = px::Model(x, h, "encoder");
  auto z = encoder(px::Input({784}));
  EXPECT_EQ(z.shape(), (px::Shape{-1, 64}));
  EXPECT_EQ(h.shape(), (px::Shape{-1, 64}));
  EXPECT_EQ(model.get_layer("dense_1").name(), "dense_1");
  EXPECT_EQ(model.layers().size(), 3u);
  EXPECT_EQ(model.count_params(), 784u * 64 + 64 + 64 * 10 + 10);
  auto w = model.get_layer("dense").get_weights();
  EXPECT_EQ(px::shape_of(w[0]), (px::Shape{784, 64}));  // Keras layout: (in, units)
  model.get_layer("dense").set_weights(w);
  std::vector<std::string> paths;
  for (auto& v : model.trainable_weights()) paths.push_back(v.path());
  EXPECT_EQ(paths, (std::vector<std::string>{"dense/kernel", "dense/bias", "dense_1/kernel",
                                             "dense_1/bias"}));

  px::Sequential seq({
      px::layers::Dense(12, {.activation = "relu", .input_shape = {8}}),
      px::layers::Dense(8, "relu"),
      px::layers::Dense(1, "sigmoid"),
  });
  EXPECT_EQ(seq.count_params(), 8u * 12 + 12 + 12 * 8 + 8 + 8 + 1);
  px::Sequential m2;
  m2.add(px::layers::InputLayer({784}));
  m2.add(px::layers::Dense(64, "relu"));
  m2.add(px::layers::Dense(10, "softmax"));
  EXPECT_EQ(m2.count_params(), model.count_params());

  model.compile({.optimizer = px::optim::Adam({.learning_rate = 1e-3}),
                 .loss = "sparse_categorical_crossentropy",
                 .metrics = {"accuracy"}});
  seq.compile("adam", "binary_crossentropy", {"accuracy"});
  two_heads.compile(
      {.optimizer = "rmsprop",
       .loss = {{"score", "binary_crossentropy"}, {"klass", "sparse_categorical_crossentropy"}},
       .loss_weights = {{"score", 1.0}, {"klass", 0.5}},
       .metrics = {"accuracy"}});

  px::Tensor x_train = xt::zeros<float>({64, 784});
  px::Tensor y_train = xt::zeros<float>({64});
  px::History hist = model.fit(
      x_train, y_train,
      {.epochs = 2,
       .batch_size = 32,
       .validation_split = 0.2,
       .shuffle = true,
       .verbose = 0,
       .callbacks = {px::callbacks::EarlyStopping({.monitor = "val_loss", .patience = 3})}});
  EXPECT_EQ(hist.history.at("loss").size(), 2u);
  EXPECT_EQ(hist.history.count("val_accuracy"), 1u);
  std::vector<double> scores = model.evaluate(x_train, y_train, {.batch_size = 256, .verbose = 0});
  EXPECT_EQ(model.metrics_names(), (std::vector<std::string>{"loss", "accuracy"}));
  EXPECT_EQ(scores.size(), 2u);
  px::Tensor probs = model.predict(t);
  EXPECT_EQ(px::shape_of(probs), (px::Shape{32, 10}));
  px::Tensor xa = xt::zeros<float>({4, 32}), xb = xt::zeros<float>({4, 32});
  std::vector<px::Tensor> outs = two_heads.predict({xa, xb});
  EXPECT_EQ(outs.size(), 2u);

  model.train_on_batch(x_train, y_train);
  model.test_on_batch(x_train, y_train);
  auto [loss, grads] = model.compute_gradients(x_train, y_train);
  EXPECT_TRUE(std::isfinite(loss));
  px::optim::Adam optimizer;
  optimizer.apply_gradients(grads, model.trainable_weights());

  EXPECT_NE(model.summary_string().find("Total params: 50,890"), std::string::npos);
  std::string dot = px::utils::model_to_dot(model, {.show_shapes = true,
                                                    .show_layer_names = true,
                                                    .show_layer_activations = true,
                                                    .expand_nested = false,
                                                    .rankdir = "TB"});
  EXPECT_EQ(dot.rfind("digraph", 0), 0u);

  px::Tensor onehot = px::utils::to_categorical(px::Tensor{0.f, 2.f, 1.f}, 10);
  EXPECT_EQ(px::shape_of(onehot), (px::Shape{3, 10}));
  auto split =
      px::utils::train_test_split(x_train, y_train, {.test_size = 0.2, .random_state = 42});
  EXPECT_EQ(split.x_test.shape()[0] + split.x_train.shape()[0], 64u);

  auto out = px::make_layer<Scale>()(x);
  px::Model scaled(x, px::layers::Dense(1, "sigmoid")(out));
  scaled.compile("sgd", "mse");
  double err = px::testing::check_gradients(scaled, {x_train}, {y_train});
  EXPECT_LT(err, 1e-2);
}

TEST(Api, ErrorMessageNamesTheInputTheModelAndBothShapes) {
  auto x = px::Input({784}, "pixels");
  px::Model model(x, px::layers::Dense(10, "softmax")(x), "mnist_mlp");
  try {
    model.predict(xt::zeros<float>({60000, 783}));
    FAIL() << "no error";
  } catch (const px::Error& e) {
    EXPECT_STREQ(e.what(),
                 "Input 0 \"pixels\" of model \"mnist_mlp\": expected shape (None, 784), received "
                 "(60000, 783)");
  }
}
