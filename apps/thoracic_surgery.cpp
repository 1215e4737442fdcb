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

#include "app_common.hpp"

namespace px = plexus;

int main(int argc, char** argv) {
  app::Options o{.curves = "thoracic_curves.png", .epochs = 100, .batch_size = 10};
  std::vector<std::uint64_t> seeds = {1};
  CLI::App cli{"Thoracic surgery survival with a 30-20-10-1 network (Keras walkthrough)"};
  app::add_options(cli, o, "Folder holding thoracic/ or the CSV file (default: $PLEXUS_DATA)",
                   "Exit 1 when the (median) test accuracy is below this");
  app::add_seeds_option(cli, seeds);
  CLI11_PARSE(cli, argc, argv);

  return app::guarded_main(o.skip_if_no_data, [&] {
    const auto file =
        app::find_data_file(app::data_root(o.data), "thoracic", "ThoraricSurgery.csv");
    px::Tensor data_set = px::datasets::load_csv(file);
    auto [x_train, y_train, x_test, y_test] = app::split_table(data_set, 17, 420);

    app::SeedRuns runs(seeds, o, "Thoracic surgery, 30-20-10-1");
    for (std::uint64_t seed : seeds) {
      px::utils::set_random_seed(seed);
      px::Sequential model({
          px::layers::Dense(30, {.activation = "relu", .input_dim = 17}),
          px::layers::Dense(20, "relu"),
          px::layers::Dense(10, "relu"),
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
