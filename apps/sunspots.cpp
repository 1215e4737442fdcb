// Yearly sunspot numbers (1700-2008) forecast one year ahead by an LSTM, against the
// persistence baseline (next year = this year). The Keras version:
//
//   series = pandas.read_csv("sunspots.csv")["SUNACTIVITY"].to_numpy("float32")
//   test_years = 40; split = len(series) - test_years          # targets 1969..2008 are test
//   mean, std = series[:split].mean(), series[:split].std()    # scaled with the past only
//   z = (series - mean) / std
//   train = keras.utils.timeseries_dataset_from_array(z[:, None], z[W:], W, end_index=split - 1,
//                                                      batch_size=16, shuffle=True, seed=1)
//   every = keras.utils.timeseries_dataset_from_array(z[:, None], z[W:], W, batch_size=256)
//   model = keras.Sequential([keras.Input((W, 1)), keras.layers.LSTM(32), keras.layers.Dense(1)])
//   model.compile(keras.optimizers.Adam(3e-3), "mse")
//   model.fit(train, epochs=150)
//   forecast = model.predict(every)[split - W:, 0] * std + mean
//   mse = ((forecast - series[split:]) ** 2).mean()
//   persistence = ((series[split - 1:-1] - series[split:]) ** 2).mean()
//
//   sunspots --data /path/to/data                 # the folder holding timeseries/sunspots.csv
//   sunspots --plot forecast.svg --expect-max-ratio 0.8
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <plexus.hpp>
#include <string>
#include <vector>

#include "app_common.hpp"

namespace px = plexus;
namespace L = plexus::layers;

namespace {

struct Series {
  std::vector<double> year, value;
};

Series load_series(const app::fs::path& file) {
  const px::Tensor table = px::datasets::load_csv(file, {.skip_rows = 1});
  if (table.dimension() != 2 || table.shape(1) != 2 || table.shape(0) < 3) {
    throw px::Error("{}: expected rows of (year, sunspot number), got a table of shape ({}, {})",
                    file.string(), table.shape(0), table.dimension() == 2 ? table.shape(1) : 0);
  }
  Series s;
  for (std::size_t i = 0; i < table.shape(0); ++i) {
    s.year.push_back(table(i, 0));
    s.value.push_back(table(i, 1));
  }
  return s;
}

double mean_squared(const std::vector<double>& a, const std::vector<double>& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return sum / static_cast<double>(a.size());
}

// One polyline of (year, value) points in the plot's coordinates.
std::string polyline(const std::vector<double>& x, const std::vector<double>& y,
                     const std::function<double(double)>& px_x,
                     const std::function<double(double)>& px_y, const char* color,
                     const char* dash) {
  std::string points;
  for (std::size_t i = 0; i < x.size(); ++i) {
    points += fmt::format("{:.1f},{:.1f} ", px_x(x[i]), px_y(y[i]));
  }
  return fmt::format(
      "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.6\"{} points=\"{}\"/>\n", color,
      *dash ? fmt::format(" stroke-dasharray=\"{}\"", dash) : std::string(), points);
}

// The truth over the plotted years, the LSTM's one-step forecasts (training years fitted,
// test years forecast) and the persistence forecast on the test years; a dashed vertical
// line where the test years start.
std::string forecast_svg(const std::vector<double>& years, const std::vector<double>& truth,
                         const std::vector<double>& forecast,
                         const std::vector<double>& persistence, std::size_t test_from,
                         const std::string& title) {
  const double width = 960, height = 420, left = 60, right = 20, top = 40, bottom = 50;
  const double x0 = years.front(), x1 = years.back();
  double y1 = 0;
  for (const auto* v : {&truth, &forecast, &persistence}) {
    for (double y : *v) y1 = std::max(y1, y);
  }
  y1 = std::ceil(y1 / 50) * 50;
  const auto px_x = [&](double x) { return left + (x - x0) / (x1 - x0) * (width - left - right); };
  const auto px_y = [&](double y) { return top + (1 - y / y1) * (height - top - bottom); };
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{3}</text>\n",
      width, height, width / 2, title);  // the title is ours: no markup characters
  // Axes, ticks every 25 years and every 50 sunspots.
  svg += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n", left,
      top, width - left - right, height - top - bottom);
  for (double x = std::ceil(x0 / 25) * 25; x <= x1; x += 25) {
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#ddd\"/>"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4:.0f}</text>\n",
        px_x(x), top, height - bottom, height - bottom + 16, x);
  }
  for (double y = 0; y <= y1; y += 50) {
    svg += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#ddd\"/>"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5:.0f}</text>\n",
        left, width - right, px_y(y), left - 6, px_y(y) + 4, y);
  }
  svg += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">year</text>\n"
      "<text x=\"16\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {})\">sunspot "
      "number</text>\n",
      left + (width - left - right) / 2, height - 12, top + (height - top - bottom) / 2,
      top + (height - top - bottom) / 2);
  const double split_x = px_x(years[test_from] - 0.5);
  svg += fmt::format(
      "<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#888\" "
      "stroke-dasharray=\"5,4\"/><text x=\"{3:.1f}\" y=\"{4}\">test</text>\n",
      split_x, top, height - bottom, split_x + 4, top + 14);
  const std::vector<double> test_years(years.begin() + test_from, years.end());
  svg += polyline(years, truth, px_x, px_y, "#1f77b4", "");
  svg += polyline(years, forecast, px_x, px_y, "#ff7f0e", "");
  svg += polyline(test_years, persistence, px_x, px_y, "#7f7f7f", "3,3");
  // Legend.
  const char* names[] = {"truth", "LSTM forecast", "persistence (test years)"};
  const char* colors[] = {"#1f77b4", "#ff7f0e", "#7f7f7f"};
  for (int i = 0; i < 3; ++i) {
    const double y = top + 14 + 16 * i, x = left + 12;
    svg += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"{3}\" stroke-width=\"2\"{4}/>"
        "<text x=\"{5}\" y=\"{6}\">{7}</text>\n",
        x, x + 22, y, colors[i], i == 2 ? " stroke-dasharray=\"3,3\"" : "", x + 28, y + 4,
        names[i]);
  }
  return svg + "</svg>\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string data, plot = "sunspots_forecast.svg", curves, save;
  int window = 12, units = 32, epochs = 150, batch = 16, verbose = 0, test_years = 40;
  double lr = 3e-3;
  std::uint64_t seed = 1;
  std::optional<double> expect_max_ratio;
  bool skip_if_no_data = false;
  CLI::App cli{"Sunspots: an LSTM one-year-ahead forecast against persistence"};
  cli.add_option("--data", data,
                 "Folder holding timeseries/sunspots.csv, or the CSV file (default: $PLEXUS_DATA)");
  cli.add_option("--window", window, "Past years the LSTM sees")->capture_default_str();
  cli.add_option("--units", units, "LSTM units")->capture_default_str();
  cli.add_option("--epochs", epochs, "Training epochs")->capture_default_str();
  cli.add_option("--batch-size", batch, "Batch size")->capture_default_str();
  cli.add_option("--learning-rate", lr, "Adam's learning rate")->capture_default_str();
  cli.add_option("--test-years", test_years, "Last years held out for testing")
      ->capture_default_str();
  cli.add_option("--seed", seed, "Weight and shuffling seed")->capture_default_str();
  cli.add_option("--verbose", verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->capture_default_str();
  cli.add_option("--plot", plot, "Forecast vs truth picture (.svg; \"\" for none)")
      ->capture_default_str();
  cli.add_option("--curves", curves, "Training curves picture (.png or .svg)");
  app::add_save_option(cli, save);
  cli.add_option("--expect-max-ratio", expect_max_ratio,
                 "Exit 1 when the LSTM's test MSE is above this fraction of persistence's");
  cli.add_flag("--skip-if-no-data", skip_if_no_data, "Exit 77 (skipped) when the data is missing");
  CLI11_PARSE(cli, argc, argv);

  return app::guarded_main(skip_if_no_data, [&] {
    const auto file = app::find_data_file(app::data_root(data), "timeseries", "sunspots.csv");
    const Series s = load_series(file);
    const std::size_t n = s.value.size(), w = static_cast<std::size_t>(window);
    if (window < 1 || test_years < 1 || n < w + static_cast<std::size_t>(test_years) + 2) {
      throw px::Error("{} years, a window of {} and {} test years leave no training window", n,
                      window, test_years);
    }
    const std::size_t split = n - static_cast<std::size_t>(test_years);  // first test target

    // Standardised with the training years' mean and standard deviation only.
    double mean = 0, var = 0;
    for (std::size_t i = 0; i < split; ++i) mean += s.value[i];
    mean /= static_cast<double>(split);
    for (std::size_t i = 0; i < split; ++i) var += (s.value[i] - mean) * (s.value[i] - mean);
    const double sd = std::sqrt(var / static_cast<double>(split));

    // Window i: years i .. i+w-1 -> year i+w (Keras's timeseries_dataset_from_array with
    // targets z[w:]); the training windows end before the first test target (end_index).
    const std::size_t windows = n - w, train_n = split - w;
    px::Tensor z = px::Tensor::from_shape({n, 1});
    for (std::size_t i = 0; i < n; ++i) z(i, 0) = (s.value[i] - mean) / sd;
    const px::Tensor targets = xt::view(z, xt::range(w, n));
    px::utils::set_random_seed(seed);
    const auto train = px::utils::timeseries_dataset_from_array(
        z, targets, window, px::kw::end_index = static_cast<std::ptrdiff_t>(split - 1),
        px::kw::batch_size = batch, px::kw::shuffle = true, px::kw::seed = seed);
    const auto all =
        px::utils::timeseries_dataset_from_array(z, targets, window, px::kw::batch_size = 256);
    if (train.cardinality() != static_cast<std::int64_t>((train_n + batch - 1) / batch)) {
      throw px::Error("sunspots: {} training batches, expected {}", train.cardinality(),
                      (train_n + batch - 1) / batch);
    }

    fmt::print(
        "Sunspots {:.0f}-{:.0f}: {} training windows of {} years (targets {:.0f}-{:.0f}), test "
        "targets {:.0f}-{:.0f}\n",
        s.year.front(), s.year.back(), train_n, window, s.year[w], s.year[split - 1], s.year[split],
        s.year.back());
    auto in = px::Input({static_cast<px::Dim>(w), 1});
    px::Model model(in, L::Dense(1)(L::LSTM(units)(in)));
    model.compile(px::optim::Adam({.learning_rate = lr}), "mse");
    if (verbose) model.summary();
    const px::History history = model.fit(train, {.epochs = epochs, .verbose = verbose});
    app::save_curves(history, curves, "Sunspots LSTM");
    app::save_model(model, save);

    const px::Tensor forecast_z = model.predict(all, {.verbose = 0})[0];
    if (forecast_z.shape()[0] != windows) {
      throw px::Error("sunspots: {} forecasts for {} windows", forecast_z.shape()[0], windows);
    }
    std::vector<double> forecast(windows), truth(windows), years(windows);
    for (std::size_t i = 0; i < windows; ++i) {
      forecast[i] = forecast_z(i, 0) * sd + mean;
      truth[i] = s.value[i + w];
      years[i] = s.year[i + w];
    }
    const std::vector<double> test_truth(truth.begin() + train_n, truth.end()),
        test_forecast(forecast.begin() + train_n, forecast.end()),
        persistence(s.value.begin() + split - 1, s.value.end() - 1),
        train_truth(truth.begin(), truth.begin() + train_n),
        train_forecast(forecast.begin(), forecast.begin() + train_n);
    const double lstm_mse = mean_squared(test_forecast, test_truth);
    const double persistence_mse = mean_squared(persistence, test_truth);
    fmt::print("Training MSE (LSTM, original units): {:.1f}\n",
               mean_squared(train_forecast, train_truth));
    fmt::print("Test MSE over the last {} years, in sunspots squared:\n", test_years);
    fmt::print("  LSTM ({} units, window {}): {:.1f}  (RMSE {:.1f})\n", units, window, lstm_mse,
               std::sqrt(lstm_mse));
    fmt::print("  persistence (next = this year): {:.1f}  (RMSE {:.1f})\n", persistence_mse,
               std::sqrt(persistence_mse));
    const double ratio = lstm_mse / persistence_mse;
    fmt::print("  LSTM / persistence: {:.3f}\n", ratio);

    if (!plot.empty()) {
      const std::string title = fmt::format(
          "Sunspots: LSTM one-year-ahead forecast (test MSE {:.0f}) vs persistence ({:.0f})",
          lstm_mse, persistence_mse);
      std::ofstream out(plot);
      out << forecast_svg(years, truth, forecast, persistence, train_n, title);
      if (!out.flush()) throw px::Error("cannot write the plot to {}", plot);
      fmt::print("Forecast plot written to {}\n", plot);
    }
    if (!expect_max_ratio) return 0;
    if (ratio <= *expect_max_ratio) {
      fmt::print("PASSED: LSTM / persistence test MSE {:.3f} <= {:.3f}\n", ratio,
                 *expect_max_ratio);
      return 0;
    }
    fmt::print(stderr, "FAILED: LSTM / persistence test MSE {:.3f} is above {:.3f}\n", ratio,
               *expect_max_ratio);
    return 1;
  });
}
