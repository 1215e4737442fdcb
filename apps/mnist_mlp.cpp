// MNIST with a multilayer perceptron: 784 -> Dense(64, relu) -> Dense(10, softmax),
// one-hot labels, Adam, 5 epochs of batch 32. The Keras course version:
//
//   (x_train, y_train), (x_test, y_test) = mnist.load_data()
//   x_train = x_train.reshape(60000, 784).astype("float32") / 255
//   y_train = to_categorical(y_train, 10)
//   model = Sequential([Dense(64, activation="relu", input_shape=(784,)),
//                       Dense(10, activation="softmax")])
//   model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
//   model.fit(x_train, y_train, epochs=5, batch_size=32)
//   test_loss, test_acc = model.evaluate(x_test, y_test)
//
//   mnist_mlp --data /path/to/data          # the folder holding mnist/ (or the IDX files)
#include <CLI/CLI.hpp>
#include <plexus.hpp>

#include "app_common.hpp"

namespace px = plexus;

int main(int argc, char** argv) {
  std::string data, curves = "mnist_curves.png";
  int epochs = 5, batch_size = 32, verbose = 1;
  std::uint64_t seed = 1;
  std::optional<double> expect_min;
  bool quiet = false, skip_if_no_data = false;

  CLI::App cli{"MNIST digits with a 784-64-10 multilayer perceptron (Keras walkthrough)"};
  cli.add_option("--data", data, "Folder holding mnist/ (default: $PLEXUS_DATA, then download)");
  cli.add_option("--epochs", epochs, "Training epochs")->capture_default_str();
  cli.add_option("--batch-size", batch_size, "Batch size")->capture_default_str();
  cli.add_option("--seed", seed, "Random seed")->capture_default_str();
  cli.add_option("--verbose", verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->capture_default_str();
  cli.add_flag("--quiet", quiet, "Only print the final scores");
  cli.add_option("--curves", curves, "Training curves picture (.png or .svg; \"\" for none)")
      ->capture_default_str();
  cli.add_option("--expect-min", expect_min, "Exit 1 when the test accuracy is below this");
  cli.add_flag("--skip-if-no-data", skip_if_no_data, "Exit 77 (skipped) when the data is missing");
  CLI11_PARSE(cli, argc, argv);
  if (quiet) verbose = 0;

  return app::guarded_main(skip_if_no_data, [&] {
    px::utils::set_random_seed(seed);

    const auto root = app::data_root(data);
    app::require_idx_dataset(root, "mnist");
    auto [train, test] =
        root.empty() ? px::datasets::mnist::load_data() : px::datasets::mnist::load_data(root);

    px::Tensor x_train = train.x / 255.0f;
    px::Tensor x_test = test.x / 255.0f;
    x_train.reshape({-1, 784});
    x_test.reshape({-1, 784});
    px::Tensor y_train = px::utils::to_categorical(train.y, 10);
    px::Tensor y_test = px::utils::to_categorical(test.y, 10);

    px::Sequential model({
        px::layers::Dense(64, {.activation = "relu", .input_shape = {784}}),
        px::layers::Dense(10, "softmax"),
    });
    if (!quiet) model.summary();

    model.compile("adam", "categorical_crossentropy", {"accuracy"});
    px::History history = model.fit(
        x_train, y_train, {.epochs = epochs, .batch_size = batch_size, .verbose = verbose});

    std::vector<double> scores = model.evaluate(x_test, y_test, {.verbose = verbose ? 1 : 0});
    fmt::print("Test loss: {:.4f}\nTest accuracy: {:.4f}\n", scores[0], scores[1]);

    app::save_curves(history, curves, "MNIST 784-64-10");
    return app::check_minimum("test accuracy", scores[1], expect_min);
  });
}
