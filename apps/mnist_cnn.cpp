// MNIST with a small convnet: Keras's "Simple MNIST convnet" example
// (keras.io/examples/vision/mnist_convnet), which reaches about 99% test accuracy:
//
//   x_train = np.expand_dims(x_train.astype("float32") / 255, -1)    # (60000, 28, 28, 1)
//   y_train = keras.utils.to_categorical(y_train, 10)
//   model = keras.Sequential([
//       keras.Input(shape=(28, 28, 1)),
//       layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
//       layers.MaxPooling2D(pool_size=(2, 2)),
//       layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
//       layers.MaxPooling2D(pool_size=(2, 2)),
//       layers.Flatten(),
//       layers.Dropout(0.5),
//       layers.Dense(10, activation="softmax")])
//   model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
//   model.fit(x_train, y_train, batch_size=128, epochs=15, validation_split=0.1)
//   score = model.evaluate(x_test, y_test)
//
//   mnist_cnn --data /path/to/data          # the folder holding mnist/; the full recipe
//   mnist_cnn --epochs 1 --expect-min 0.95  # the CI walkthrough
#include <CLI/CLI.hpp>
#include <plexus.hpp>

#include "app_common.hpp"

namespace px = plexus;
namespace L = plexus::layers;

int main(int argc, char** argv) {
  app::Options o{.curves = "mnist_cnn_curves.png", .epochs = 15, .batch_size = 128};
  std::uint64_t seed = 1;
  double validation_split = 0.1;
  CLI::App cli{"MNIST digits with Keras's simple convnet (Keras walkthrough)"};
  app::add_options(cli, o, "Folder holding mnist/ (default: $PLEXUS_DATA, then download)",
                   "Exit 1 when the test accuracy is below this");
  cli.add_option("--seed", seed, "Random seed")->capture_default_str();
  cli.add_option("--validation-split", validation_split, "Fraction held out for validation")
      ->capture_default_str();
  CLI11_PARSE(cli, argc, argv);

  return app::guarded_main(o.skip_if_no_data, [&] {
    px::utils::set_random_seed(seed);

    auto [x_train, y_train, x_test, y_test] =
        app::load_flat_images(o.data, "mnist", px::datasets::mnist::load_data);
    x_train.reshape({-1, 28, 28, 1});  // np.expand_dims(x, -1)
    x_test.reshape({-1, 28, 28, 1});
    y_train = px::utils::to_categorical(y_train, 10);
    y_test = px::utils::to_categorical(y_test, 10);

    px::Sequential model({
        L::Conv2D(32, {3, 3}, {.activation = "relu", .input_shape = {28, 28, 1}}),
        L::MaxPooling2D({2, 2}),
        L::Conv2D(64, {3, 3}, {.activation = "relu"}),
        L::MaxPooling2D({2, 2}),
        L::Flatten(),
        L::Dropout(0.5f),
        L::Dense(10, "softmax"),
    });
    if (!o.quiet) model.summary();

    model.compile("adam", "categorical_crossentropy", {"accuracy"});
    px::History history = model.fit(x_train, y_train,
                                    {.epochs = o.epochs,
                                     .batch_size = o.batch_size,
                                     .validation_split = validation_split,
                                     .verbose = o.verbose});

    std::vector<double> scores = model.evaluate(x_test, y_test, {.verbose = o.verbose ? 1 : 0});
    fmt::print("Test loss: {:.4f}\nTest accuracy: {:.4f}\n", scores[0], scores[1]);
    app::save_model(model, o.save);

    app::save_curves(history, o.curves, "MNIST convnet");
    return app::check_minimum("test accuracy", scores[1], o.expect_min);
  });
}
