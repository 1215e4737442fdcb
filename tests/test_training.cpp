// Training end to end: compile/fit/evaluate/predict, validation, data checks, XOR.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <plexus.hpp>
#include <sstream>

namespace px = plexus;

namespace {

px::Tensor xor_x() { return px::Tensor{{0.f, 0.f}, {0.f, 1.f}, {1.f, 0.f}, {1.f, 1.f}}; }
px::Tensor xor_y() { return px::Tensor{0.f, 1.f, 1.f, 0.f}; }

// y = 1..n as a column, x = a column of ones: a zero-initialised linear unit predicts 0, so
// the validation loss reveals which samples were held out.
px::Tensor column(std::size_t n, float start) {
  px::Tensor t = px::Tensor::from_shape({n, 1});
  for (std::size_t i = 0; i < n; ++i) t(i, 0) = start + static_cast<float>(i);
  return t;
}

px::Model zero_linear() {
  auto in = px::Input({1}, "x");
  auto out = px::layers::Dense(
      1, {.kernel_initializer = "zeros", .bias_initializer = "zeros", .name = "lin"})(in);
  return px::Model(in, out, "zero_linear");
}

}  // namespace

TEST(Training, OneLinearNeuronCannotLearnXor) {
  px::utils::set_random_seed(3);
  px::Sequential model({px::layers::Dense(1, {.input_shape = {2}})});
  model.compile(px::optim::SGD({.learning_rate = 0.1}), "mse", {"binary_accuracy"});
  model.fit(xor_x(), xor_y(), {.epochs = 300, .batch_size = 4, .verbose = 0});
  auto scores = model.evaluate(xor_x(), xor_y(), {.verbose = 0});
  // The best linear fit predicts 0.5 everywhere: loss 0.25, at most 3 of 4 right.
  EXPECT_NEAR(scores[0], 0.25, 0.01);
  EXPECT_LE(scores[1], 0.75);
}

TEST(Training, MlpWithAdamSolvesXor) {
  px::utils::set_random_seed(7);
  px::Sequential model({
      px::layers::Dense(32, {.activation = "relu", .input_shape = {2}}),
      px::layers::Dense(1, "sigmoid"),
  });
  model.compile(px::optim::Adam({.learning_rate = 0.02}), "binary_crossentropy", {"accuracy"});
  auto hist = model.fit(xor_x(), xor_y(), {.epochs = 300, .batch_size = 4, .verbose = 0});
  EXPECT_EQ(hist.history.at("loss").size(), 300u);
  EXPECT_LT(hist.history.at("loss").back(), hist.history.at("loss").front());
  auto scores = model.evaluate(xor_x(), xor_y(), {.verbose = 0});
  EXPECT_EQ(model.metrics_names(), (std::vector<std::string>{"loss", "accuracy"}));
  EXPECT_DOUBLE_EQ(scores[1], 1.0);
}

TEST(Training, ValidationSplitTakesTheLastFractionBeforeShuffling) {
  auto model = zero_linear();
  model.compile(px::optim::SGD({.learning_rate = 0.0}), "mse");
  px::Tensor x = px::Tensor::from_shape({10, 1});
  x.fill(1.0f);
  // y = 1..10; validation = the last 2 samples {9, 10}: val_loss = (81 + 100) / 2.
  auto hist = model.fit(x, column(10, 1.0f),
                        {.epochs = 1, .batch_size = 3, .validation_split = 0.2, .verbose = 0});
  EXPECT_NEAR(hist.history.at("val_loss")[0], 90.5, 1e-4);
  // Training loss over samples 1..8 only: mean of squares = 204 / 8.
  EXPECT_NEAR(hist.history.at("loss")[0], 25.5, 1e-4);
}

TEST(Training, ValidationDataOverridesTheSplit) {
  auto model = zero_linear();
  model.compile(px::optim::SGD({.learning_rate = 0.0}), "mse");
  px::Tensor x = xt::ones<float>({4, 1});
  auto hist = model.fit(x, column(4, 1.0f),
                        {.epochs = 1,
                         .validation_split = 0.5,
                         .validation_data = px::ValidationData{x, column(4, 2.0f)},
                         .verbose = 0});
  EXPECT_NEAR(hist.history.at("val_loss")[0], (4 + 9 + 16 + 25) / 4.0, 1e-4);
}

TEST(Training, SampleWeightAndClassWeightScaleTheLoss) {
  auto model = zero_linear();
  model.compile(px::optim::SGD({.learning_rate = 0.0}), "mse");
  px::Tensor x = xt::ones<float>({2, 1});
  px::Tensor y = column(2, 1.0f);  // {1, 2}
  // sum_over_batch_size: (0.3 * 1 + 0.7 * 4) / 2.
  auto h = model.fit(x, y, {.epochs = 1, .sample_weight = px::Tensor{0.3f, 0.7f}, .verbose = 0});
  EXPECT_NEAR(h.history.at("loss")[0], (0.3 + 2.8) / 2, 1e-5);
  h = model.fit(x, y, {.epochs = 1, .class_weight = {{1, 2.0}, {2, 0.5}}, .verbose = 0});
  EXPECT_NEAR(h.history.at("loss")[0], (2.0 * 1 + 0.5 * 4) / 2, 1e-5);
}

TEST(Training, TwoInputsTwoOutputsWithASharedLayerTrainAndBothLossesFall) {
  px::utils::set_random_seed(11);
  auto a = px::Input({8}, "a");
  auto b = px::Input({8}, "b");
  auto shared = px::layers::Dense(16, {.activation = "relu", .name = "shared"});
  auto merged = px::layers::Concatenate()({shared(a), shared(b)});
  auto score = px::layers::Dense(1, {.activation = "sigmoid", .name = "score"})(merged);
  auto klass = px::layers::Dense(3, {.activation = "softmax", .name = "klass"})(merged);
  px::Model model({a, b}, {score, klass}, "two_heads");
  model.compile(
      {.optimizer = "adam",
       .loss = {{"score", "binary_crossentropy"}, {"klass", "sparse_categorical_crossentropy"}},
       .loss_weights = {{"score", 1.0}, {"klass", 0.5}},
       .metrics = {"accuracy"}});
  // Targets that depend on the inputs: score = [sum(a) > sum(b)], klass = argmax of 3 sums.
  const std::size_t n = 256;
  px::Tensor xa = px::Tensor::from_shape({n, 8}), xb = px::Tensor::from_shape({n, 8});
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  for (auto& v : xa) v = nd(rng);
  for (auto& v : xb) v = nd(rng);
  px::Tensor ys = px::Tensor::from_shape({n, 1}), yk = px::Tensor::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) {
    float sa = 0, sb = 0;
    for (std::size_t j = 0; j < 8; ++j) sa += xa(i, j), sb += xb(i, j);
    ys(i, 0) = sa > sb ? 1.f : 0.f;
    yk(i) = sa > 1 ? 2.f : (sa < -1 ? 0.f : 1.f);
  }
  auto hist = model.fit({xa, xb}, std::map<std::string, px::Tensor>{{"score", ys}, {"klass", yk}},
                        {.epochs = 30, .batch_size = 32, .verbose = 0});
  for (const char* key : {"loss", "score_loss", "klass_loss"}) {
    const auto& v = hist.history.at(key);
    EXPECT_LT(v.back(), 0.8 * v.front()) << key;
  }
  // The total is the weighted sum of the per-output losses.
  EXPECT_NEAR(hist.history.at("loss").back(),
              hist.history.at("score_loss").back() + 0.5 * hist.history.at("klass_loss").back(),
              1e-3);
  EXPECT_EQ(model.metrics_names(), (std::vector<std::string>{"loss", "score_loss", "klass_loss",
                                                             "score_accuracy", "klass_accuracy"}));
  auto outs = model.predict({xa, xb});
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_EQ(px::shape_of(outs[1]), (px::Shape{static_cast<px::Dim>(n), 3}));
}

TEST(Training, EarlyStoppingRestoresTheBestWeights) {
  // Train towards y = x, validate against y = -x: validation only gets worse after epoch 0.
  px::utils::set_random_seed(1);
  auto in = px::Input({1});
  auto out = px::layers::Dense(1)(in);
  px::Model model(in, out);
  model.compile(px::optim::SGD({.learning_rate = 0.05}), "mse");
  px::Tensor x = column(16, -0.8f) / 10.0f;
  px::Tensor y = x;
  px::Tensor y_val = -x;
  std::vector<std::vector<px::Tensor>> per_epoch;
  auto record = px::callbacks::LambdaCallback({.on_epoch_end = [&](int, px::callbacks::Logs&) {
    per_epoch.push_back(model.get_weights());
  }});
  auto early = std::make_shared<px::callbacks::EarlyStopping>(px::callbacks::EarlyStoppingOptions{
      .monitor = "val_loss", .patience = 2, .restore_best_weights = true});
  auto hist = model.fit(x, y,
                        {.epochs = 50,
                         .batch_size = 4,
                         .validation_data = px::ValidationData{x, y_val},
                         .verbose = 0,
                         .callbacks = {record, early}});
  const auto& vl = hist.history.at("val_loss");
  const auto best = std::min_element(vl.begin(), vl.end()) - vl.begin();
  EXPECT_EQ(early->best_epoch(), best);
  EXPECT_EQ(early->stopped_epoch(), best + 2);
  EXPECT_EQ(vl.size(), static_cast<std::size_t>(best + 3));
  auto w = model.get_weights();
  for (std::size_t i = 0; i < w.size(); ++i) EXPECT_EQ(w[i], per_epoch[best][i]);
}

TEST(Training, CustomLoopWithComputeGradientsAndApplyGradients) {
  px::utils::set_random_seed(2);
  auto in = px::Input({2});
  auto out = px::layers::Dense(1, "sigmoid")(px::layers::Dense(8, "tanh")(in));
  px::Model model(in, out);
  model.compile("sgd", "mse");
  px::optim::SGD sgd({.learning_rate = 0.5});
  double first = 0, last = 0;
  for (int step = 0; step < 200; ++step) {
    auto [loss, grads] = model.compute_gradients(xor_x(), xor_y());
    if (step == 0) first = loss;
    last = loss;
    sgd.apply_gradients(grads, model.trainable_weights());
  }
  EXPECT_LT(last, first);
  EXPECT_EQ(sgd.iterations(), 200);
}

TEST(Training, TrainOnBatchAndTestOnBatch) {
  auto model = zero_linear();
  model.compile(px::optim::SGD({.learning_rate = 0.1}), "mse", {"mae"});
  px::Tensor x = xt::ones<float>({2, 1});
  px::Tensor y = column(2, 1.0f);
  auto before = model.test_on_batch(x, y);
  EXPECT_NEAR(before[0], 2.5, 1e-6);  // (1 + 4) / 2
  EXPECT_NEAR(before[1], 1.5, 1e-6);
  model.train_on_batch(x, y);
  EXPECT_LT(model.test_on_batch(x, y)[0], 2.5);
}

TEST(Training, InputsAndTargetsByName) {
  auto model = zero_linear();
  model.compile("sgd", "mse");
  px::Tensor x = xt::ones<float>({3, 1});
  auto by_name =
      model.evaluate(std::map<std::string, px::Tensor>{{"x", x}},
                     std::map<std::string, px::Tensor>{{"lin", column(3, 1.f)}}, {.verbose = 0});
  auto by_list = model.evaluate(x, column(3, 1.f), {.verbose = 0});
  EXPECT_EQ(by_name, by_list);
  EXPECT_THROW(model.evaluate(std::map<std::string, px::Tensor>{{"nope", x}}, column(3, 1.f)),
               px::Error);
}

// --- data checks at entry --------------------------------------------------------------

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const px::Error& e) {
    return e.what();
  }
  return "no error";
}
px::Model classifier() {
  auto in = px::Input({4}, "features");
  auto out = px::layers::Dense(3, {.activation = "softmax", .name = "probs"})(in);
  return px::Model(in, out, "clf");
}
}  // namespace

TEST(TrainingErrors, SampleCountsMustMatch) {
  auto m = classifier();
  m.compile("adam", "sparse_categorical_crossentropy");
  auto msg = error_of([&] { m.fit(xt::zeros<float>({5, 4}), xt::zeros<float>({4})); });
  EXPECT_NE(msg.find("5 samples"), std::string::npos) << msg;
  EXPECT_NE(msg.find("has 4"), std::string::npos) << msg;
}

TEST(TrainingErrors, InputShapeMustMatchTheInput) {
  auto m = classifier();
  m.compile("adam", "sparse_categorical_crossentropy");
  auto msg = error_of([&] { m.fit(xt::zeros<float>({5, 3}), xt::zeros<float>({5})); });
  EXPECT_NE(msg.find("Input 0 \"features\" of model \"clf\": expected shape (None, 4), received "
                     "(5, 3)"),
            std::string::npos)
      << msg;
}

TEST(TrainingErrors, NanOrInfInData) {
  auto m = classifier();
  m.compile("adam", "sparse_categorical_crossentropy");
  px::Tensor x = xt::zeros<float>({2, 4});
  x(1, 2) = std::nanf("");
  EXPECT_NE(error_of([&] { m.fit(x, xt::zeros<float>({2})); }).find("NaN or Inf"),
            std::string::npos);
  px::Tensor y = xt::zeros<float>({2});
  y(0) = INFINITY;
  EXPECT_NE(error_of([&] {
              m.fit(xt::zeros<float>({2, 4}), y);
            }).find("NaN or Inf"),
            std::string::npos);
}

TEST(TrainingErrors, SparseLabelOutOfRange) {
  auto m = classifier();
  m.compile("adam", "sparse_categorical_crossentropy");
  auto msg = error_of([&] { m.fit(xt::zeros<float>({2, 4}), px::Tensor{0.f, 3.f}); });
  EXPECT_NE(msg.find("sparse label 3 at index 1 is outside [0, 3)"), std::string::npos) << msg;
}

TEST(TrainingErrors, EmptyDataset) {
  auto m = classifier();
  m.compile("adam", "sparse_categorical_crossentropy");
  auto msg = error_of([&] { m.fit(xt::zeros<float>({0, 4}), xt::zeros<float>({0})); });
  EXPECT_NE(msg.find("empty"), std::string::npos) << msg;
}

TEST(TrainingErrors, ValidationSplitLeavingNoSample) {
  auto m = classifier();
  m.compile("adam", "sparse_categorical_crossentropy");
  auto msg = error_of([&] {
    m.fit(xt::zeros<float>({1, 4}), xt::zeros<float>({1}), {.validation_split = 0.2});
  });
  EXPECT_NE(msg.find("validation_split=0.2 of 1 samples leaves 0 training and 1 validation"),
            std::string::npos)
      << msg;
}

TEST(TrainingErrors, LossThatDoesNotFitTheOutput) {
  auto m = classifier();
  m.compile("adam", "categorical_crossentropy");
  // One-hot targets for 3 classes are (N, 3): a (N, 5) target does not fit.
  auto msg = error_of([&] { m.fit(xt::zeros<float>({2, 4}), xt::zeros<float>({2, 5})); });
  EXPECT_NE(msg.find("output \"probs\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("(2, 5)"), std::string::npos) << msg;
}

TEST(TrainingErrors, UnknownNamesAndUncompiledModels) {
  auto m = classifier();
  EXPECT_NE(error_of([&] {
              m.fit(xt::zeros<float>({2, 4}), xt::zeros<float>({2}));
            }).find("compile"),
            std::string::npos);
  EXPECT_NE(error_of([&] { m.compile("adma", "mse"); }).find("adma"), std::string::npos);
  EXPECT_NE(error_of([&] { m.compile("adam", "mse_typo"); }).find("mse_typo"), std::string::npos);
}

// --- progress output -------------------------------------------------------------------

TEST(Progress, OneLinePerEpochWhenNotATerminal) {
  std::FILE* f = std::tmpfile();
  px::optim::Progbar bar(1875, 1, f);
  bar.update(1, {{"loss", 0.5}}, false);  // not a terminal: nothing until the epoch ends
  bar.update(1875, {{"accuracy", 0.916}, {"loss", 0.29314}, {"val_loss", 0.1}}, true);
  std::rewind(f);
  char buf[512] = {};
  std::size_t len = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  std::string line(buf, len);
  EXPECT_EQ(line.rfind("1875/1875 \u2501\u2501", 0), 0u) << line;
  EXPECT_NE(line.find("/step - accuracy: 0.9160 - loss: 0.2931 - val_loss: 0.1000\n"),
            std::string::npos)
      << line;
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
}
