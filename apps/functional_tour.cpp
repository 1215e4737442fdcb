// A tour of the Functional API on generated data: two inputs, two outputs, one layer shared
// by both branches (one set of weights), and a whole model nested inside another as a layer.
// Prints the summary, writes the graph as DOT text and as a picture, trains briefly.
//
//   left  = Input((8,), name="left");  right = Input((8,), name="right")
//   shared = Dense(16, activation="relu", name="shared")
//   merged = Concatenate()([shared(left), shared(right)])
//   inner = Input((32,)); body = Model(inner, Dense(16, "relu")(Dense(32, "relu")(inner)),
//                                      name="body")
//   features = body(merged)
//   larger = Dense(1, activation="sigmoid", name="larger")(features)   # sum(left) > sum(right)?
//   bucket = Dense(3, activation="softmax", name="bucket")(features)   # sum(left): low/mid/high
//   model = Model([left, right], [larger, bucket], name="tour")
//
//   functional_tour --out pictures   # model.dot, model.png, model_expanded.png, tour_curves.png
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <plexus.hpp>
#include <random>

#include "app_common.hpp"

namespace px = plexus;
namespace fs = std::filesystem;

namespace {

struct TourData {
  px::Tensor left, right, larger, bucket;
};

// Random inputs; larger = [sum(left) > sum(right)], bucket = sum(left) < -1 | <= 1 | > 1.
TourData make_data(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  TourData d{px::Tensor::from_shape({n, 8}), px::Tensor::from_shape({n, 8}),
             px::Tensor::from_shape({n, 1}), px::Tensor::from_shape({n})};
  for (auto& v : d.left) v = normal(rng);
  for (auto& v : d.right) v = normal(rng);
  for (std::size_t i = 0; i < n; ++i) {
    float sl = 0, sr = 0;
    for (std::size_t j = 0; j < 8; ++j) sl += d.left(i, j), sr += d.right(i, j);
    d.larger(i, 0) = sl > sr ? 1.f : 0.f;
    d.bucket(i) = sl < -1 ? 0.f : (sl <= 1 ? 1.f : 2.f);
  }
  return d;
}

void try_plot(const px::Model& model, const std::string& path, const px::utils::DotOptions& o) {
  try {
    px::utils::plot_model(model, path, o);
    fmt::print("Model picture written to {}\n", path);
  } catch (const px::Error& e) {
    fmt::print(stderr, "warning: {}\n", e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string out = ".";
  int epochs = 20, batch_size = 32, verbose = 1;
  std::uint64_t seed = 1;
  bool quiet = false;

  CLI::App cli{"The Functional API: two inputs, two outputs, a shared layer, a nested model"};
  cli.add_option("--out", out, "Folder for model.dot, model.png, model_expanded.png and curves")
      ->capture_default_str();
  cli.add_option("--epochs", epochs, "Training epochs")->capture_default_str();
  cli.add_option("--batch-size", batch_size, "Batch size")->capture_default_str();
  cli.add_option("--seed", seed, "Random seed")->capture_default_str();
  cli.add_option("--verbose", verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->capture_default_str();
  cli.add_flag("--quiet", quiet, "Only print the results");
  std::string save;
  app::add_save_option(cli, save);
  CLI11_PARSE(cli, argc, argv);
  if (quiet) verbose = 0;

  return app::guarded_main(false, [&] {
    px::utils::set_random_seed(seed);

    // Two inputs and one layer used on both: the two calls share one kernel and one bias.
    auto left = px::Input({8}, "left");
    auto right = px::Input({8}, "right");
    auto shared = px::layers::Dense(16, {.activation = "relu", .name = "shared"});
    auto merged = px::layers::Concatenate()({shared(left), shared(right)});

    // A model is a layer: `body` is called on `merged` like any other layer.
    auto inner = px::Input({32}, "inner");
    auto b = px::layers::Dense(32, "relu")(inner);
    b = px::layers::Dense(16, "relu")(b);
    px::Model body(inner, b, "body");
    auto features = body(merged);

    // Two outputs, one loss each.
    auto larger = px::layers::Dense(1, {.activation = "sigmoid", .name = "larger"})(features);
    auto bucket = px::layers::Dense(3, {.activation = "softmax", .name = "bucket"})(features);
    px::Model model({left, right}, {larger, bucket}, "tour");

    if (!quiet) {
      model.summary();
      body.summary();
    }
    fmt::print("{} parameters; \"shared\" is one layer called twice and \"body\" a nested model\n",
               model.count_params());

    // The graph as DOT text and as pictures (nested model collapsed, then expanded).
    fs::create_directories(out);
    const std::string dot_path = (fs::path(out) / "model.dot").string();
    const px::utils::DotOptions dot_options{.show_shapes = true, .show_layer_activations = true};
    std::ofstream(dot_path) << px::utils::model_to_dot(model, dot_options);
    fmt::print("DOT written to {}\n", dot_path);
    try_plot(model, (fs::path(out) / "model.png").string(), dot_options);
    auto expanded = dot_options;
    expanded.expand_nested = true;
    try_plot(model, (fs::path(out) / "model_expanded.png").string(), expanded);

    model.compile(
        {.optimizer = "adam",
         .loss = {{"larger", "binary_crossentropy"}, {"bucket", "sparse_categorical_crossentropy"}},
         .loss_weights = {{"larger", 1.0}, {"bucket", 0.5}},
         .metrics = {"accuracy"}});

    const TourData train = make_data(2000, static_cast<std::uint32_t>(seed));
    const TourData test = make_data(500, static_cast<std::uint32_t>(seed) + 1000);
    px::History history = model.fit(
        {train.left, train.right},
        std::map<std::string, px::Tensor>{{"larger", train.larger}, {"bucket", train.bucket}},
        {.epochs = epochs, .batch_size = batch_size, .validation_split = 0.2, .verbose = verbose});

    std::vector<double> scores = model.evaluate(
        {test.left, test.right},
        std::map<std::string, px::Tensor>{{"larger", test.larger}, {"bucket", test.bucket}},
        {.verbose = verbose ? 1 : 0});
    const auto names = model.metrics_names();
    for (std::size_t i = 0; i < names.size(); ++i) {
      fmt::print("Test {}: {:.4f}\n", names[i], scores[i]);
    }
    app::save_curves(history, (fs::path(out) / "tour_curves.png").string(), "Functional tour");
    app::save_model(model, save);
    return 0;
  });
}
