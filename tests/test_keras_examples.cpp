// Official Keras examples, ported line by line as a Keras user writes them: the Keras
// source's lines are in the comments above each C++ line. Each model must compile as
// written, have Keras's parameter counts, and learn (on small synthetic data of the
// example's shapes: the real datasets belong to the walkthroughs in apps/).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <plexus.hpp>
#include <string>
#include <vector>

#include "graph_helpers.hpp"

namespace px = plexus;
namespace kw = px::kw;
namespace keras = px;           // keras.Sequential, keras.Input, keras.Model, keras.utils
namespace layers = px::layers;  // from keras import layers

namespace {

// Integer token ids in [1, vocab): class 1 sequences hold token 1 somewhere, class 0 never.
void token_task(std::size_t n, std::size_t len, int vocab, px::Tensor& x, px::Tensor& y,
                unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> tok(2, vocab - 1);
  std::uniform_int_distribution<std::size_t> pos(0, len - 1);
  x = px::Tensor::from_shape({n, len});
  y = px::Tensor::from_shape({n, 1});
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t t = 0; t < len; ++t) x(i, t) = static_cast<float>(tok(rng));
    const bool positive = i % 2 == 0;
    if (positive) x(i, pos(rng)) = 1.0f;
    y(i, 0) = positive ? 1.0f : 0.0f;
  }
}

double first_and_last(const px::History& h, const std::string& key, bool last) {
  const auto& v = h.history.at(key);
  return last ? v.back() : v.front();
}

}  // namespace

// https://keras.io/examples/vision/mnist_convnet/
TEST(KerasExamples, MnistConvnet) {
  px::utils::set_random_seed(1);
  // num_classes = 10
  // input_shape = (28, 28, 1)
  const int num_classes = 10;
  const px::Shape input_shape = {28, 28, 1};
  // Synthetic digits: class c is a bright 7x7 square at one of ten places.
  const std::size_t n = 320;
  px::Tensor x_train = xt::zeros<float>({n, std::size_t{28}, std::size_t{28}, std::size_t{1}});
  px::Tensor labels = px::Tensor::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = i % 10, r0 = 2 + (c / 5) * 12, c0 = 1 + (c % 5) * 5;
    for (std::size_t r = r0; r < r0 + 7; ++r)
      for (std::size_t k = c0; k < c0 + 4; ++k) x_train(i, r, k, 0) = 1.0f;
    labels(i) = static_cast<float>(c);
  }
  // y_train = keras.utils.to_categorical(y_train, num_classes)
  px::Tensor y_train = keras::utils::to_categorical(labels, num_classes);

  // model = keras.Sequential([keras.Input(shape=input_shape),
  //     layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
  //     layers.MaxPooling2D(pool_size=(2, 2)), ...])
  keras::Sequential model({
      keras::Input(kw::shape = input_shape),
      layers::Conv2D(32, kw::kernel_size = {3, 3}, kw::activation = "relu"),
      layers::MaxPooling2D(kw::pool_size = {2, 2}),
      layers::Conv2D(64, kw::kernel_size = {3, 3}, kw::activation = "relu"),
      layers::MaxPooling2D(kw::pool_size = {2, 2}),
      layers::Flatten(),
      layers::Dropout(0.5),
      layers::Dense(num_classes, kw::activation = "softmax"),
  });
  // model.summary()
  const std::string summary = model.summary_string();
  EXPECT_NE(summary.find("Total params: 34,826"), std::string::npos) << summary;

  // batch_size = 128; epochs = 15 (3 here)
  const int batch_size = 32;
  const int epochs = 3;
  // model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
  model.compile(kw::loss = "categorical_crossentropy", kw::optimizer = "adam",
                kw::metrics = {"accuracy"});
  // model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1)
  px::History history = model.fit(x_train, y_train, kw::batch_size = batch_size,
                                  kw::epochs = epochs, kw::validation_split = 0.1, kw::verbose = 0);
  // score = model.evaluate(x_test, y_test, verbose=0)
  std::vector<double> score = model.evaluate(x_train, y_train, kw::verbose = 0);
  EXPECT_LT(first_and_last(history, "loss", true), first_and_last(history, "loss", false));
  EXPECT_GT(score[1], 0.5) << "accuracy after 3 epochs on separable synthetic digits";
}

// https://keras.io/examples/nlp/bidirectional_lstm_imdb/
TEST(KerasExamples, BidirectionalLstmImdb) {
  px::utils::set_random_seed(1);
  // max_features = 20000; maxlen = 200
  const int max_features = 20000;
  const int maxlen = 24;  // 200 in the example
  // inputs = keras.Input(shape=(None,), dtype="int32")
  auto inputs = keras::Input(kw::shape = {-1}, kw::dtype = "int32");
  // x = layers.Embedding(max_features, 128)(inputs)
  auto x = layers::Embedding(max_features, 128)(inputs);
  // x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
  x = layers::Bidirectional(layers::LSTM(64, kw::return_sequences = true))(x);
  // x = layers.Bidirectional(layers.LSTM(64))(x)
  x = layers::Bidirectional(layers::LSTM(64))(x);
  // outputs = layers.Dense(1, activation="sigmoid")(x)
  auto outputs = layers::Dense(1, kw::activation = "sigmoid")(x);
  // model = keras.Model(inputs, outputs)
  keras::Model model(inputs, outputs);
  EXPECT_EQ(model.count_params(), 2757761u);

  px::Tensor x_train, y_train, x_val, y_val;
  token_task(96, maxlen, 50, x_train, y_train, 1);
  token_task(32, maxlen, 50, x_val, y_val, 2);
  // model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
  model.compile(kw::optimizer = "adam", kw::loss = "binary_crossentropy",
                kw::metrics = {"accuracy"});
  // model.fit(x_train, y_train, batch_size=32, epochs=2, validation_data=(x_val, y_val))
  px::History history = model.fit(x_train, y_train, kw::batch_size = 32, kw::epochs = 4,
                                  kw::validation_data = {x_val, y_val}, kw::verbose = 0);
  EXPECT_LT(first_and_last(history, "loss", true), first_and_last(history, "loss", false));
  EXPECT_EQ(history.history.at("val_accuracy").size(), 4u);
}

// https://keras.io/examples/timeseries/timeseries_classification_from_scratch/
TEST(KerasExamples, TimeseriesClassificationFromScratch) {
  px::utils::set_random_seed(1);
  // Two classes of univariate series: a slow or a fast sine, with noise.
  const std::size_t n = 120, steps = 64;
  px::Tensor x_train = px::Tensor::from_shape({n, steps, std::size_t{1}});
  px::Tensor y_train = px::Tensor::from_shape({n});
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  for (std::size_t i = 0; i < n; ++i) {
    const float freq = i % 2 == 0 ? 0.1f : 0.4f;
    for (std::size_t t = 0; t < steps; ++t)
      x_train(i, t, 0) = std::sin(freq * static_cast<float>(t)) + noise(rng);
    y_train(i) = static_cast<float>(i % 2);
  }
  const int num_classes = 2;

  // def make_model(input_shape):
  auto make_model = [&](const px::Shape& input_shape) {
    // input_layer = keras.layers.Input(input_shape)
    auto input_layer = keras::layers::Input(input_shape);
    // conv1 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(input_layer)
    auto conv1 = keras::layers::Conv1D(kw::filters = 64, kw::kernel_size = 3,
                                       kw::padding = "same")(input_layer);
    // conv1 = keras.layers.BatchNormalization()(conv1)
    conv1 = keras::layers::BatchNormalization()(conv1);
    // conv1 = keras.layers.ReLU()(conv1)
    conv1 = keras::layers::ReLU()(conv1);
    auto conv2 =
        keras::layers::Conv1D(kw::filters = 64, kw::kernel_size = 3, kw::padding = "same")(conv1);
    conv2 = keras::layers::BatchNormalization()(conv2);
    conv2 = keras::layers::ReLU()(conv2);
    auto conv3 =
        keras::layers::Conv1D(kw::filters = 64, kw::kernel_size = 3, kw::padding = "same")(conv2);
    conv3 = keras::layers::BatchNormalization()(conv3);
    conv3 = keras::layers::ReLU()(conv3);
    // gap = keras.layers.GlobalAveragePooling1D()(conv3)
    auto gap = keras::layers::GlobalAveragePooling1D()(conv3);
    // output_layer = keras.layers.Dense(num_classes, activation="softmax")(gap)
    auto output_layer = keras::layers::Dense(num_classes, kw::activation = "softmax")(gap);
    // return keras.models.Model(inputs=input_layer, outputs=output_layer)
    return keras::Model(kw::inputs = input_layer, kw::outputs = output_layer);
  };
  // model = make_model(input_shape=x_train.shape[1:])
  keras::Model model = make_model({static_cast<px::Dim>(steps), 1});
  EXPECT_EQ(model.count_params(), 25858u);

  // epochs = 500 (6 here); batch_size = 32
  const int epochs = 6;
  const int batch_size = 32;
  const std::string best = (px::test::scratch_dir() / "ts_best_model.h5").string();
  // callbacks = [keras.callbacks.ModelCheckpoint("best_model.h5", save_best_only=True,
  //     monitor="val_loss"), keras.callbacks.ReduceLROnPlateau(monitor="val_loss",
  //     factor=0.5, patience=20, min_lr=0.0001),
  //     keras.callbacks.EarlyStopping(monitor="val_loss", patience=50, verbose=1)]
  std::vector<px::CallbackRef> callbacks = {
      keras::callbacks::ModelCheckpoint(best, kw::save_best_only = true, kw::monitor = "val_loss"),
      keras::callbacks::ReduceLROnPlateau(kw::monitor = "val_loss", kw::factor = 0.5,
                                          kw::patience = 20, kw::min_lr = 0.0001),
      keras::callbacks::EarlyStopping(kw::monitor = "val_loss", kw::patience = 50, kw::verbose = 1),
  };
  // model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
  //     metrics=["accuracy"])
  model.compile(kw::optimizer = "adam", kw::loss = "sparse_categorical_crossentropy",
                kw::metrics = {"accuracy"});
  // history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
  //     callbacks=callbacks, validation_split=0.2, verbose=1)
  px::History history =
      model.fit(x_train, y_train, kw::batch_size = batch_size, kw::epochs = epochs,
                kw::callbacks = callbacks, kw::validation_split = 0.2, kw::verbose = 0);
  EXPECT_LT(first_and_last(history, "loss", true), first_and_last(history, "loss", false));
  // model = keras.models.load_model("best_model.h5")
  model = keras::models::load_model(best);
  // y_pred = model.predict(x_test).argmax(axis=1)
  const px::Tensor probabilities = model.predict(x_train);
  ASSERT_EQ(probabilities.shape(0), n);
  std::size_t agree = 0;  // the reloaded best model's predictions against the labels
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t y_pred = probabilities(i, 1) > probabilities(i, 0) ? 1 : 0;
    agree += y_pred == static_cast<std::size_t>(y_train(i)) ? 1 : 0;
  }
  EXPECT_GT(agree, n / 2) << "accuracy of best_model.h5 on the training series";
}

// https://keras.io/guides/functional_api/ — "Models with multiple inputs and outputs".
TEST(KerasExamples, FunctionalApiTicketClassifier) {
  px::utils::set_random_seed(1);
  // num_tags = 12; num_words = 10000; num_departments = 4
  const int num_tags = 12;
  const int num_words = 10000;
  const int num_departments = 4;
  // title_input = keras.Input(shape=(None,), name="title")
  auto title_input = keras::Input(kw::shape = {-1}, kw::name = "title");
  // body_input = keras.Input(shape=(None,), name="body")
  auto body_input = keras::Input(kw::shape = {-1}, kw::name = "body");
  // tags_input = keras.Input(shape=(num_tags,), name="tags")
  auto tags_input = keras::Input(kw::shape = {num_tags}, kw::name = "tags");
  // title_features = layers.Embedding(num_words, 64)(title_input)
  auto title_features = layers::Embedding(num_words, 64)(title_input);
  // body_features = layers.Embedding(num_words, 64)(body_input)
  auto body_features = layers::Embedding(num_words, 64)(body_input);
  // title_features = layers.LSTM(128)(title_features)
  title_features = layers::LSTM(128)(title_features);
  // body_features = layers.LSTM(32)(body_features)
  body_features = layers::LSTM(32)(body_features);
  // x = layers.concatenate([title_features, body_features, tags_input])
  auto x = layers::concatenate({title_features, body_features, tags_input});
  // priority_pred = layers.Dense(1, name="priority")(x)
  auto priority_pred = layers::Dense(1, kw::name = "priority")(x);
  // department_pred = layers.Dense(num_departments, name="department")(x)
  auto department_pred = layers::Dense(num_departments, kw::name = "department")(x);
  // model = keras.Model(inputs=[title_input, body_input, tags_input],
  //     outputs={"priority": priority_pred, "department": department_pred})
  keras::Model model(kw::inputs = {title_input, body_input, tags_input},
                     kw::outputs = {priority_pred, department_pred});
  // Its weights, layer by layer: two Embedding(10000, 64), LSTM(128) and LSTM(32) on 64
  // features, Dense(1) and Dense(4) on the 172 concatenated features.
  EXPECT_EQ(model.count_params(), 2u * 640000u + 98816u + 12416u + 173u + 692u);

  // model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
  //     loss=[keras.losses.BinaryCrossentropy(from_logits=True),
  //           keras.losses.CategoricalCrossentropy(from_logits=True)],
  //     loss_weights=[1.0, 0.2])
  model.compile(kw::optimizer = keras::optimizers::RMSprop(1e-3),
                kw::loss = {keras::losses::BinaryCrossentropy(kw::from_logits = true),
                            keras::losses::CategoricalCrossentropy(kw::from_logits = true)},
                kw::loss_weights = {1.0, 0.2});

  // title_data = np.random.randint(num_words, size=(1280, 10)) (128 here) ...
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> word(0, num_words - 1);
  const std::size_t n = 128;
  px::Tensor title_data = px::Tensor::from_shape({n, std::size_t{10}});
  px::Tensor body_data = px::Tensor::from_shape({n, std::size_t{100}});
  for (auto& v : title_data) v = static_cast<float>(word(rng));
  for (auto& v : body_data) v = static_cast<float>(word(rng));
  // tags_data = np.random.randint(2, size=(1280, num_tags)).astype("float32")
  px::Tensor tags_data = px::Tensor::from_shape({n, std::size_t(num_tags)});
  for (auto& v : tags_data) v = static_cast<float>(word(rng) % 2);
  // priority_targets = np.random.random(size=(1280, 1))
  // dept_targets = np.random.randint(2, size=(1280, num_departments))
  px::Tensor priority_targets = px::Tensor::from_shape({n, std::size_t{1}});
  px::Tensor dept_targets = px::Tensor::from_shape({n, std::size_t(num_departments)});
  for (std::size_t i = 0; i < n; ++i) {
    priority_targets(i, 0) = tags_data(i, 0);  // learnable from the tags
    for (int d = 0; d < num_departments; ++d) dept_targets(i, d) = d == int(i % 4) ? 1.0f : 0.0f;
  }
  // model.fit({"title": title_data, "body": body_data, "tags": tags_data},
  //     {"priority": priority_targets, "department": dept_targets}, epochs=2, batch_size=32)
  px::History history = model.fit({{"title", title_data}, {"body", body_data}, {"tags", tags_data}},
                                  {{"priority", priority_targets}, {"department", dept_targets}},
                                  kw::epochs = 4, kw::batch_size = 32, kw::verbose = 0);
  EXPECT_LT(first_and_last(history, "loss", true), first_and_last(history, "loss", false));
}
