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
  app::Options o{.curves = "fashion_mnist_curves.png", .epochs = 5, .batch_size = 32};
  std::uint64_t seed = 1;
  std::string split = "shuffle";
  CLI::App cli{"Fashion-MNIST with a 100-unit sigmoid hidden layer (Keras walkthrough)"};
  app::add_options(cli, o, "Folder holding fashion_mnist/ (default: $PLEXUS_DATA, then download)",
                   "Exit 1 when the validation accuracy is below this");
  cli.add_option("--seed", seed, "Random seed")->capture_default_str();
  cli.add_option("--split", split,
                 "Validation set: shuffle = train_test_split(test_size=0.2, random_state=42), "
                 "last = fit(validation_split=0.2)")
      ->check(CLI::IsMember({"shuffle", "last"}))
      ->capture_default_str();
  CLI11_PARSE(cli, argc, argv);

  return app::guarded_main(o.skip_if_no_data, [&] {
    px::utils::set_random_seed(seed);

    // train_input.reshape(-1, 28 * 28) / 255.0, and the same for the test images.
    auto [train_scaled, train_target, test_scaled, test_target] =
        app::load_flat_images(o.data, "fashion_mnist", px::datasets::fashion_mnist::load_data);

    auto dense1 = px::layers::Dense(100, {.activation = "sigmoid", .input_shape = {784}});
    auto dense2 = px::layers::Dense(10, "softmax");
    px::Sequential model({dense1, dense2});
    if (!o.quiet) model.summary();
    model.compile({.loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});

    px::History history;
    double val_accuracy = 0;
    if (split == "shuffle") {
      auto [train_x, val_x, train_y, val_y] = px::utils::train_test_split(
          train_scaled, train_target, {.test_size = 0.2, .random_state = 42});
      history = model.fit(train_x, train_y,
                          {.epochs = o.epochs,
                           .batch_size = o.batch_size,
                           .validation_data = px::ValidationData{val_x, val_y},
                           .verbose = o.verbose});
      std::vector<double> val = model.evaluate(val_x, val_y, {.verbose = o.verbose ? 1 : 0});
      val_accuracy = val[1];
    } else {
      history = model.fit(train_scaled, train_target,
                          {.epochs = o.epochs,
                           .batch_size = o.batch_size,
                           .validation_split = 0.2,
                           .verbose = o.verbose});
      val_accuracy = history.history.at("val_accuracy").back();
    }
    fmt::print("Validation accuracy: {:.4f}\n", val_accuracy);

    std::vector<double> scores =
        model.evaluate(test_scaled, test_target, {.verbose = o.verbose ? 1 : 0});
    fmt::print("Test loss: {:.4f}\nTest accuracy: {:.4f}\n", scores[0], scores[1]);
    app::save_model(model, o.save);

    app::save_curves(history, o.curves, "Fashion-MNIST 784-100-10");
    return app::check_minimum("validation accuracy", val_accuracy, o.expect_min);
  });
}
