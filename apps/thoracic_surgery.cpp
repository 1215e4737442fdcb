// The thoracic surgery table (post-operative survival of lung cancer patients): 17 inputs ->
// Dense(30, relu) -> Dense(20, relu) -> Dense(10, relu) -> Dense(1, sigmoid), binary
// cross-entropy with Adam, the first 420 rows for training and the last 50 for testing,
// 100 epochs. As in the course (and the textbook code it comes from), the inputs are the
// first 17 columns of ThoraricSurgery.csv as they are, and column 17 is the target:
//
//   Data_set = numpy.loadtxt("ThoraricSurgery.csv", delimiter=",")
//   X, Y = Data_set[:, 0:17], Data_set[:, 17]
//   model = Sequential()
//   model.add(Dense(30, input_dim=17, activation="relu"))
//   model.add(Dense(20, activation="relu"))
//   model.add(Dense(10, activation="relu"))
//   model.add(Dense(1, activation="sigmoid"))
//   model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
//   model.fit(X[:420], Y[:420], epochs=100, batch_size=10)
//   print("\n Accuracy: %.4f" % (model.evaluate(X[420:], Y[420:])[1]))
//
//   thoracic_surgery --data /path/to/data   # the folder holding thoracic/ (or the CSV file)
//   thoracic_surgery --seeds 1,2,3 --quiet  # three runs and their median
#include <CLI/CLI.hpp>
#include <plexus.hpp>
#include <xtensor/xview.hpp>

#include "app_common.hpp"

namespace px = plexus;
using xt::placeholders::_;

int main(int argc, char** argv) {
  std::string data, curves = "thoracic_curves.png";
  int epochs = 100, batch_size = 10, verbose = 1;
  std::vector<std::uint64_t> seeds = {1};
  std::optional<double> expect_min;
  bool quiet = false, skip_if_no_data = false;

  CLI::App cli{"Thoracic surgery survival with a 30-20-10-1 network (Keras walkthrough)"};
  cli.add_option("--data", data,
                 "Folder holding thoracic/ or the CSV file (default: $PLEXUS_DATA)");
  cli.add_option("--epochs", epochs, "Training epochs")->capture_default_str();
  cli.add_option("--batch-size", batch_size, "Batch size")->capture_default_str();
  cli.add_option("--seed,--seeds", seeds, "Random seed; several (1,2,3) report the median")
      ->delimiter(',')
      ->capture_default_str();
  cli.add_option("--verbose", verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->capture_default_str();
  cli.add_flag("--quiet", quiet, "Only print the final scores");
  cli.add_option("--curves", curves, "Training curves picture (.png or .svg; \"\" for none)")
      ->capture_default_str();
  cli.add_option("--expect-min", expect_min,
                 "Exit 1 when the (median) test accuracy is below this");
  cli.add_flag("--skip-if-no-data", skip_if_no_data, "Exit 77 (skipped) when the data is missing");
  CLI11_PARSE(cli, argc, argv);
  if (quiet) verbose = 0;

  return app::guarded_main(skip_if_no_data, [&] {
    const auto file = app::find_data_file(app::data_root(data), "thoracic", "ThoraricSurgery.csv");
    px::Tensor data_set = px::datasets::load_csv(file);
    px::Tensor X = xt::view(data_set, xt::all(), xt::range(0, 17));
    px::Tensor Y = xt::view(data_set, xt::all(), 17);
    px::Tensor x_train = xt::view(X, xt::range(0, 420)), y_train = xt::view(Y, xt::range(0, 420));
    px::Tensor x_test = xt::view(X, xt::range(420, _)), y_test = xt::view(Y, xt::range(420, _));

    std::vector<double> accuracies;
    for (std::uint64_t seed : seeds) {
      px::utils::set_random_seed(seed);
      px::Sequential model({
          px::layers::Dense(30, {.activation = "relu", .input_dim = 17}),
          px::layers::Dense(20, "relu"),
          px::layers::Dense(10, "relu"),
          px::layers::Dense(1, "sigmoid"),
      });
      model.compile("adam", "binary_crossentropy", {"accuracy"});
      if (!quiet && accuracies.empty()) model.summary();

      px::History history = model.fit(
          x_train, y_train, {.epochs = epochs, .batch_size = batch_size, .verbose = verbose});
      std::vector<double> scores = model.evaluate(x_test, y_test, {.verbose = verbose ? 1 : 0});
      fmt::print("\n{}Test accuracy: {:.4f} (loss {:.4f}, {} test rows)\n",
                 seeds.size() > 1 ? fmt::format("Seed {}: ", seed) : std::string(), scores[1],
                 scores[0], x_test.shape(0));
      if (accuracies.empty()) app::save_curves(history, curves, "Thoracic surgery, 30-20-10-1");
      accuracies.push_back(scores[1]);
    }
    const double result = app::median(accuracies);
    if (seeds.size() > 1) {
      fmt::print("Median test accuracy over {} seeds: {:.4f}\n", seeds.size(), result);
    }
    return app::check_minimum(seeds.size() > 1 ? "median test accuracy" : "test accuracy", result,
                              expect_min);
  });
}
