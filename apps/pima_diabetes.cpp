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

#include "app_common.hpp"

namespace px = plexus;

int main(int argc, char** argv) {
  app::Options o{.curves = "pima_curves.png", .epochs = 1500, .batch_size = 64};
  std::vector<std::uint64_t> seeds = {1};
  CLI::App cli{"Pima Indians diabetes with a 12-8-1 network (Keras walkthrough)"};
  app::add_options(cli, o, "Folder holding pima/ or the CSV file (default: $PLEXUS_DATA)",
                   "Exit 1 when the (median) test accuracy is below this");
  app::add_seeds_option(cli, seeds);
  CLI11_PARSE(cli, argc, argv);

  return app::guarded_main(o.skip_if_no_data, [&] {
    const auto file =
        app::find_data_file(app::data_root(o.data), "pima", "pima-indians-diabetes.csv");
    px::Tensor dataset = px::datasets::load_csv(file);
    auto [x_train, y_train, x_test, y_test] = app::split_table(dataset, 8, 700);

    app::SeedRuns runs(seeds, o, "Pima Indians diabetes, 12-8-1");
    for (std::uint64_t seed : seeds) {
      px::utils::set_random_seed(seed);
      px::Sequential model({
          px::layers::Dense(12, {.activation = "relu", .input_dim = 8}),
          px::layers::Dense(8, "relu"),
          px::layers::Dense(1, "sigmoid"),
      });
      model.compile("adam", "binary_crossentropy", {"accuracy"});
      if (!o.quiet && runs.first()) model.summary();

      px::History history = model.fit(
          x_train, y_train, {.epochs = o.epochs, .batch_size = o.batch_size, .verbose = o.verbose});
      if (runs.first()) app::save_model(model, o.save);
      runs.add(seed, history, model.evaluate(x_test, y_test, {.verbose = o.verbose ? 1 : 0}),
               x_test.shape(0));
    }
    return runs.finish();
  });
}
