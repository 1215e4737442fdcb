// The Pima Indians diabetes table: 8 inputs -> Dense(12, relu) -> Dense(8, relu) ->
// Dense(1, sigmoid), binary cross-entropy with Adam, the first 700 rows for training and the
// last 68 for testing, 1500 epochs of batch 64. The Keras course version:
//
//   dataset = numpy.loadtxt("pima-indians-diabetes.csv", delimiter=",")
//   X, Y = dataset[:, 0:8], dataset[:, 8]
//   model = Sequential()
//   model.add(Dense(12, input_dim=8, activation="relu"))
//   model.add(Dense(8, activation="relu"))
//   model.add(Dense(1, activation="sigmoid"))
//   model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
//   model.fit(X[:700], Y[:700], epochs=1500, batch_size=64)
//   print("\n Accuracy: %.4f" % (model.evaluate(X[700:], Y[700:])[1]))
//
//   pima_diabetes --data /path/to/data      # the folder holding pima/ (or the CSV file)
//   pima_diabetes --seeds 1,2,3 --quiet     # three runs and their median
#include <CLI/CLI.hpp>
#include <plexus.hpp>
#include <xtensor/xview.hpp>

#include "app_common.hpp"

namespace px = plexus;
using xt::placeholders::_;

int main(int argc, char** argv) {
  std::string data, curves = "pima_curves.png";
  int epochs = 1500, batch_size = 64, verbose = 1;
  std::vector<std::uint64_t> seeds = {1};
  std::optional<double> expect_min;
  bool quiet = false, skip_if_no_data = false;

  CLI::App cli{"Pima Indians diabetes with a 12-8-1 network (Keras walkthrough)"};
  cli.add_option("--data", data, "Folder holding pima/ or the CSV file (default: $PLEXUS_DATA)");
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
    const auto file =
        app::find_data_file(app::data_root(data), "pima", "pima-indians-diabetes.csv");
    px::Tensor dataset = px::datasets::load_csv(file);
    px::Tensor X = xt::view(dataset, xt::all(), xt::range(0, 8));
    px::Tensor Y = xt::view(dataset, xt::all(), 8);
    px::Tensor x_train = xt::view(X, xt::range(0, 700)), y_train = xt::view(Y, xt::range(0, 700));
    px::Tensor x_test = xt::view(X, xt::range(700, _)), y_test = xt::view(Y, xt::range(700, _));

    std::vector<double> accuracies;
    for (std::uint64_t seed : seeds) {
      px::utils::set_random_seed(seed);
      px::Sequential model({
          px::layers::Dense(12, {.activation = "relu", .input_dim = 8}),
          px::layers::Dense(8, "relu"),
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
      if (accuracies.empty()) app::save_curves(history, curves, "Pima Indians diabetes, 12-8-1");
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
