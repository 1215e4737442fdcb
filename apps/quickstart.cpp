// plexus quick start: no downloads, everything is generated here.
//
//  1. Logic gates: one neuron cannot learn XOR; one hidden layer can.
//  2. Two interleaved spirals (2.5 turns each), a harder problem, with the Functional API:
//       points = Input((2,)); h = Dense(64, "relu")(points); h = Dense(64, "relu")(h)
//       model = Model(points, Dense(1, "sigmoid", name="side")(h))
//     trained with Adam for up to 100 epochs (about a second; EarlyStopping keeps the best
//     epoch's weights), pictured (spirals_model.png: the graph; spirals_curves.png: loss and
//     accuracy per epoch), saved (spirals.keras, or --save PATH), loaded back and checked
//     to predict the same, and its gradients checked against finite differences.
//
//   quickstart                 # writes the pictures into the current directory
//   quickstart --out pictures  # ... or into pictures/
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>
#include <plexus.hpp>
#include <random>
#include <xtensor/xview.hpp>

#include "app_common.hpp"

namespace px = plexus;

namespace {

// Two spirals, n points each, radius 0 -> 1 over `turns` turns, class 1 rotated by pi.
// Shuffled, so that validation_split (the last 20%) holds out a fair sample.
std::pair<px::Tensor, px::Tensor> two_spirals(std::size_t n, double noise, std::uint32_t seed) {
  constexpr double turns = 2.5;
  std::mt19937 rng(seed);
  std::normal_distribution<double> jitter(0.0, noise);
  std::vector<std::size_t> order(2 * n);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  px::Tensor x = px::Tensor::from_shape({2 * n, 2});
  px::Tensor y = px::Tensor::from_shape({2 * n});
  for (std::size_t k = 0; k < 2 * n; ++k) {
    const std::size_t i = order[k] % n, label = order[k] / n;
    const double r = 0.05 + 0.95 * static_cast<double>(i) / static_cast<double>(n);
    const double t = 2 * std::numbers::pi * turns * r + std::numbers::pi * label;
    x(k, 0) = static_cast<float>(r * std::cos(t) + jitter(rng));
    x(k, 1) = static_cast<float>(r * std::sin(t) + jitter(rng));
    y(k) = static_cast<float>(label);
  }
  return {x, y};
}

double xor_accuracy(px::Sequential model, double learning_rate, int epochs) {
  const px::Tensor x = {{0.f, 0.f}, {0.f, 1.f}, {1.f, 0.f}, {1.f, 1.f}};
  const px::Tensor y = {0.f, 1.f, 1.f, 0.f};
  model.compile(px::optim::Adam({.learning_rate = learning_rate}), "binary_crossentropy",
                {"accuracy"});
  model.fit(x, y, {.epochs = epochs, .batch_size = 4, .verbose = 0});
  return model.evaluate(x, y, {.verbose = 0})[1];
}

}  // namespace

int main(int argc, char** argv) {
  std::string out = ".";
  int epochs = 100, gate_epochs = 300, batch_size = 32, verbose = 1;
  std::uint64_t seed = 1;
  std::optional<double> expect_min;
  bool quiet = false;

  CLI::App cli{"plexus quick start: logic gates and two spirals, on generated data"};
  cli.add_option("--out", out, "Folder for spirals_model.png and spirals_curves.png")
      ->capture_default_str();
  cli.add_option("--epochs", epochs, "Training epochs for the spirals")->capture_default_str();
  cli.add_option("--gate-epochs", gate_epochs, "Training epochs for the gates")
      ->capture_default_str();
  cli.add_option("--batch-size", batch_size, "Batch size for the spirals")->capture_default_str();
  cli.add_option("--seed", seed, "Random seed")->capture_default_str();
  cli.add_option("--verbose", verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->capture_default_str();
  cli.add_flag("--quiet", quiet, "Only print the results");
  cli.add_option("--expect-min", expect_min, "Exit 1 when the spirals test accuracy is below this");
  std::string save;
  cli.add_option("--save", save,
                 "Where to save the spirals model (.keras; default <out>/spirals.keras)");
  CLI11_PARSE(cli, argc, argv);
  if (quiet) verbose = 0;

  return app::guarded_main(false, [&] {
    px::utils::set_random_seed(seed);

    // --- 1. Logic gates ---------------------------------------------------------------
    fmt::print("1. XOR: one neuron against one hidden layer\n\n");
    const double one_neuron = xor_accuracy(
        px::Sequential({px::layers::Dense(1, {.activation = "sigmoid", .input_shape = {2}})}), 0.1,
        gate_epochs);
    const double hidden_layer = xor_accuracy(
        px::Sequential({px::layers::Dense(32, {.activation = "relu", .input_shape = {2}}),
                        px::layers::Dense(1, "sigmoid")}),
        0.02, gate_epochs);
    fmt::print("XOR accuracy, Dense(1, sigmoid):                  {:.2f}\n", one_neuron);
    fmt::print("XOR accuracy, Dense(32, relu) + Dense(1, sigmoid): {:.2f}\n", hidden_layer);
    fmt::print("(apps/gates.cpp shows AND, OR and XOR in full.)\n\n");

    // --- 2. Two spirals -----------------------------------------------------------------
    fmt::print("2. Two spirals with the Functional API\n\n");
    auto [x, y] = two_spirals(1000, 0.02, static_cast<std::uint32_t>(seed));
    auto [x_test, y_test] = two_spirals(500, 0.02, static_cast<std::uint32_t>(seed) + 1000);

    auto points = px::Input({2}, "points");
    auto h = px::layers::Dense(64, "relu")(points);
    h = px::layers::Dense(64, "relu")(h);
    auto side = px::layers::Dense(1, {.activation = "sigmoid", .name = "side"})(h);
    px::Model model(points, side, "spirals");
    if (!quiet) model.summary();

    model.compile(px::optim::Adam({.learning_rate = 0.005}), "binary_crossentropy", {"accuracy"});
    // Keep the weights of the best epoch: Adam can spike late in training.
    auto early_stopping = px::callbacks::EarlyStopping({.monitor = "val_loss",
                                                        .patience = 20,
                                                        .verbose = verbose ? 1 : 0,
                                                        .restore_best_weights = true});
    px::History history = model.fit(x, y,
                                    {.epochs = epochs,
                                     .batch_size = batch_size,
                                     .validation_split = 0.2,
                                     .verbose = verbose,
                                     .callbacks = {early_stopping}});
    std::vector<double> scores = model.evaluate(x_test, y_test, {.verbose = verbose ? 1 : 0});
    fmt::print("Test loss: {:.4f}\nTest accuracy: {:.4f}\n\n", scores[0], scores[1]);

    // Save the trained model as a Keras 3 archive (architecture, weights, compile config
    // and Adam's state), load it back, and check the copy predicts what the original does.
    std::filesystem::create_directories(out);
    if (save.empty()) save = (std::filesystem::path(out) / "spirals.keras").string();
    model.save(save);
    px::Model loaded = px::models::load_model(save);
    const px::Tensor original_pred = model.predict(x_test, {.verbose = 0});
    const px::Tensor loaded_pred = loaded.predict(x_test, {.verbose = 0});
    double max_diff = 0.0;
    for (std::size_t i = 0; i < original_pred.size(); ++i) {
      max_diff = std::max(
          max_diff, std::abs(static_cast<double>(original_pred.data()[i]) - loaded_pred.data()[i]));
    }
    fmt::print("Model saved to {} and loaded back: max |difference| of the predictions {:.1e}\n",
               save, max_diff);
    if (max_diff != 0.0) throw px::Error("the loaded model predicts differently");

    // Autodiff against central finite differences on a small batch.
    const px::Tensor x_small = xt::view(x, xt::range(0, 16));
    const px::Tensor y_small = xt::view(y, xt::range(0, 16));
    const double error = px::testing::check_gradients(model, {x_small}, {y_small});
    fmt::print("Gradient check (autodiff vs finite differences): max relative error {:.2e}\n",
               error);

    // Pictures: the graph (Graphviz) and the training curves (SVG; PNG via rsvg-convert).
    std::filesystem::create_directories(out);
    const std::string model_png = (std::filesystem::path(out) / "spirals_model.png").string();
    const std::string curves_png = (std::filesystem::path(out) / "spirals_curves.png").string();
    try {
      px::utils::plot_model(model, model_png,
                            {.show_shapes = true, .show_layer_activations = true});
      fmt::print("Model picture written to {}\n", model_png);
    } catch (const px::Error& e) {
      fmt::print(stderr, "warning: {}\n", e.what());
    }
    app::save_curves(history, curves_png, "Two spirals, 2-64-64-1");

    return app::check_minimum("spirals test accuracy", scores[1], expect_min);
  });
}
