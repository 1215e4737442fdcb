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
//   mpirun -np 2 mnist_mlp --data-parallel  # the same training on 2 processes (global batch 32)
#include <CLI/CLI.hpp>
#include <plexus.hpp>

#include "app_common.hpp"

namespace px = plexus;

int main(int argc, char** argv) {
  app::Options o{.curves = "mnist_curves.png", .epochs = 5, .batch_size = 32};
  std::uint64_t seed = 1;
  CLI::App cli{"MNIST digits with a 784-64-10 multilayer perceptron (Keras walkthrough)"};
  app::add_options(cli, o, "Folder holding mnist/ (default: $PLEXUS_DATA, then download)",
                   "Exit 1 when the test accuracy is below this");
  cli.add_option("--seed", seed, "Random seed")->capture_default_str();
  bool data_parallel = false;
  cli.add_flag("--data-parallel", data_parallel,
               "Train data-parallel on the processes mpirun started (batch size stays global)");
  CLI11_PARSE(cli, argc, argv);
  if (data_parallel) {
    px::distribution::initialize(&argc, &argv);
    px::distribution::set_distribution(px::distribution::DataParallel());
  }
  const bool chief = px::distribution::is_chief();  // process 0 prints and writes files

  return app::guarded_main(o.skip_if_no_data, [&] {
    px::utils::set_random_seed(seed);

    // x.reshape(-1, 784) / 255 for the images.
    auto [x_train, y_train, x_test, y_test] =
        app::load_flat_images(o.data, "mnist", px::datasets::mnist::load_data);
    y_train = px::utils::to_categorical(y_train, 10);
    y_test = px::utils::to_categorical(y_test, 10);

    px::Sequential model({
        px::layers::Dense(64, {.activation = "relu", .input_shape = {784}}),
        px::layers::Dense(10, "softmax"),
    });
    if (!o.quiet && chief) model.summary();
    if (data_parallel && chief) {
      fmt::print("Data-parallel on {} processes\n", px::distribution::num_processes());
    }

    model.compile("adam", "categorical_crossentropy", {"accuracy"});
    px::History history = model.fit(
        x_train, y_train, {.epochs = o.epochs, .batch_size = o.batch_size, .verbose = o.verbose});

    std::vector<double> scores = model.evaluate(x_test, y_test, {.verbose = o.verbose ? 1 : 0});
    if (chief) {
      fmt::print("Test loss: {:.4f}\nTest accuracy: {:.4f}\n", scores[0], scores[1]);
      app::save_model(model, o.save);
      app::save_curves(history, o.curves, "MNIST 784-64-10");
    }
    return app::check_minimum("test accuracy", scores[1], o.expect_min);
  });
}
