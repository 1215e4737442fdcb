// Fashion-MNIST with a convnet and BatchNormalization: two Conv2D -> BatchNormalization ->
// ReLU -> MaxPooling2D blocks, then Flatten, Dropout and a softmax classifier. The Keras
// version:
//
//   x_train = np.expand_dims(x_train.astype("float32") / 255, -1)
//   model = keras.Sequential([
//       keras.Input(shape=(28, 28, 1)),
//       layers.Conv2D(32, 3, padding="same", use_bias=False),
//       layers.BatchNormalization(), layers.ReLU(), layers.MaxPooling2D(2),
//       layers.Conv2D(64, 3, padding="same", use_bias=False),
//       layers.BatchNormalization(), layers.ReLU(), layers.MaxPooling2D(2),
//       layers.Flatten(), layers.Dropout(0.3), layers.Dense(10, activation="softmax")])
//   model.compile(loss="sparse_categorical_crossentropy", optimizer="adam",
//                 metrics=["accuracy"])
//   model.fit(x_train, y_train, batch_size=128, epochs=10, validation_split=0.1)
//   model.evaluate(x_test, y_test)
//
//   fashion_cnn --data /path/to/data        # the folder holding fashion_mnist/
#include <CLI/CLI.hpp>
#include <plexus.hpp>

#include "app_common.hpp"

namespace px = plexus;
namespace L = plexus::layers;

int main(int argc, char** argv) {
  app::Options o{.curves = "fashion_cnn_curves.png", .epochs = 10, .batch_size = 128};
  std::uint64_t seed = 1;
  double validation_split = 0.1;
  CLI::App cli{"Fashion-MNIST with a convnet and BatchNormalization (Keras walkthrough)"};
  app::add_options(cli, o, "Folder holding fashion_mnist/ (default: $PLEXUS_DATA, then download)",
                   "Exit 1 when the test accuracy is below this");
  cli.add_option("--seed", seed, "Random seed")->capture_default_str();
  cli.add_option("--validation-split", validation_split, "Fraction held out for validation")
      ->capture_default_str();
  CLI11_PARSE(cli, argc, argv);

  return app::guarded_main(o.skip_if_no_data, [&] {
    px::utils::set_random_seed(seed);

    auto [x_train, y_train, x_test, y_test] =
        app::load_flat_images(o.data, "fashion_mnist", px::datasets::fashion_mnist::load_data);
    x_train.reshape({-1, 28, 28, 1});
    x_test.reshape({-1, 28, 28, 1});

    px::Sequential model({
        L::Conv2D(32, 3, {.padding = "same", .use_bias = false, .input_shape = {28, 28, 1}}),
        L::BatchNormalization(),
        L::ReLU(),
        L::MaxPooling2D(2),
        L::Conv2D(64, 3, {.padding = "same", .use_bias = false}),
        L::BatchNormalization(),
        L::ReLU(),
        L::MaxPooling2D(2),
        L::Flatten(),
        L::Dropout(0.3f),
        L::Dense(10, "softmax"),
    });
    if (!o.quiet) model.summary();

    model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
    px::History history = model.fit(x_train, y_train,
                                    {.epochs = o.epochs,
                                     .batch_size = o.batch_size,
                                     .validation_split = validation_split,
                                     .verbose = o.verbose});

    std::vector<double> scores = model.evaluate(x_test, y_test, {.verbose = o.verbose ? 1 : 0});
    fmt::print("Test loss: {:.4f}\nTest accuracy: {:.4f}\n", scores[0], scores[1]);
    app::save_model(model, o.save);

    app::save_curves(history, o.curves, "Fashion-MNIST convnet with BatchNormalization");
    return app::check_minimum("test accuracy", scores[1], o.expect_min);
  });
}
