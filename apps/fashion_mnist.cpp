// Fashion-MNIST with one hidden layer: 784 -> Dense(100, sigmoid) -> Dense(10, softmax),
// sparse labels (class ids, no one-hot), Keras's default optimizer (rmsprop), 5 epochs, and
// an 80/20 train/validation split of the training images. The Keras course version:
//
//   (train_input, train_target), (test_input, test_target) = fashion_mnist.load_data()
//   train_scaled = train_input.reshape(-1, 28 * 28) / 255.0
//   train_scaled, val_scaled, train_target, val_target = train_test_split(
//       train_scaled, train_target, test_size=0.2, random_state=42)
//   dense1 = keras.layers.Dense(100, activation="sigmoid", input_shape=(784,))
//   dense2 = keras.layers.Dense(10, activation="softmax")
//   model = keras.Sequential([dense1, dense2])
//   model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
//   model.fit(train_scaled, train_target, epochs=5)
//   model.evaluate(val_scaled, val_target)
//
// --split last uses Keras's fit(validation_split=0.2) instead: the last 20% of the images,
// unshuffled, are held out.
//
//   fashion_mnist --data /path/to/data      # the folder holding fashion_mnist/
#include <CLI/CLI.hpp>
#include <plexus.hpp>

#include "app_common.hpp"

namespace px = plexus;

int main(int argc, char** argv) {
  std::string data, curves = "fashion_mnist_curves.png", split = "shuffle";
  int epochs = 5, batch_size = 32, verbose = 1;
  std::uint64_t seed = 1;
  std::optional<double> expect_min;
  bool quiet = false, skip_if_no_data = false;

  CLI::App cli{"Fashion-MNIST with a 100-unit sigmoid hidden layer (Keras walkthrough)"};
  cli.add_option("--data", data,
                 "Folder holding fashion_mnist/ (default: $PLEXUS_DATA, then download)");
  cli.add_option("--epochs", epochs, "Training epochs")->capture_default_str();
  cli.add_option("--batch-size", batch_size, "Batch size")->capture_default_str();
  cli.add_option("--seed", seed, "Random seed")->capture_default_str();
  cli.add_option("--split", split,
                 "Validation set: shuffle = train_test_split(test_size=0.2, random_state=42), "
                 "last = fit(validation_split=0.2)")
      ->check(CLI::IsMember({"shuffle", "last"}))
      ->capture_default_str();
  cli.add_option("--verbose", verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->capture_default_str();
  cli.add_flag("--quiet", quiet, "Only print the final scores");
  cli.add_option("--curves", curves, "Training curves picture (.png or .svg; \"\" for none)")
      ->capture_default_str();
  cli.add_option("--expect-min", expect_min, "Exit 1 when the validation accuracy is below this");
  cli.add_flag("--skip-if-no-data", skip_if_no_data, "Exit 77 (skipped) when the data is missing");
  CLI11_PARSE(cli, argc, argv);
  if (quiet) verbose = 0;

  return app::guarded_main(skip_if_no_data, [&] {
    px::utils::set_random_seed(seed);

    const auto root = app::data_root(data);
    app::require_idx_dataset(root, "fashion_mnist");
    auto [train, test] = root.empty() ? px::datasets::fashion_mnist::load_data()
                                      : px::datasets::fashion_mnist::load_data(root);
    px::Tensor train_scaled = train.x / 255.0f;
    px::Tensor test_scaled = test.x / 255.0f;
    train_scaled.reshape({-1, 28 * 28});
    test_scaled.reshape({-1, 28 * 28});

    auto dense1 = px::layers::Dense(100, {.activation = "sigmoid", .input_shape = {784}});
    auto dense2 = px::layers::Dense(10, "softmax");
    px::Sequential model({dense1, dense2});
    if (!quiet) model.summary();
    model.compile({.loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});

    px::History history;
    double val_accuracy = 0;
    if (split == "shuffle") {
      auto [train_x, val_x, train_y, val_y] = px::utils::train_test_split(
          train_scaled, train.y, {.test_size = 0.2, .random_state = 42});
      history = model.fit(train_x, train_y,
                          {.epochs = epochs,
                           .batch_size = batch_size,
                           .validation_data = px::ValidationData{val_x, val_y},
                           .verbose = verbose});
      std::vector<double> val = model.evaluate(val_x, val_y, {.verbose = verbose ? 1 : 0});
      val_accuracy = val[1];
    } else {
      history = model.fit(train_scaled, train.y,
                          {.epochs = epochs,
                           .batch_size = batch_size,
                           .validation_split = 0.2,
                           .verbose = verbose});
      val_accuracy = history.history.at("val_accuracy").back();
    }
    fmt::print("Validation accuracy: {:.4f}\n", val_accuracy);

    std::vector<double> scores = model.evaluate(test_scaled, test.y, {.verbose = verbose ? 1 : 0});
    fmt::print("Test loss: {:.4f}\nTest accuracy: {:.4f}\n", scores[0], scores[1]);

    app::save_curves(history, curves, "Fashion-MNIST 784-100-10");
    return app::check_minimum("validation accuracy", val_accuracy, expect_min);
  });
}
