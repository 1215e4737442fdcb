// Plumbing shared by the walkthrough apps, kept out of their way: their common command
// line, where the data is, what a missing dataset means (a clear message; exit 77 =
// "skipped" for CTest unless $CI is set), loading and splitting the datasets, and the final
// "expected at least" check the walkthrough tests use.
#pragma once

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <plexus.hpp>
#include <stdexcept>
#include <string>
#include <vector>
#include <xtensor/xview.hpp>

namespace app {

namespace fs = std::filesystem;
namespace px = plexus;

// CTest's SKIP_RETURN_CODE for the walkthrough tests.
inline constexpr int kSkipped = 77;

// A dataset that is not where the app looked.
struct MissingData : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The command line every dataset walkthrough shares. An app sets its defaults, calls
// add_options, and adds its own options (--seed, ...).
struct Options {
  std::string data = {};    // the data root (default $PLEXUS_DATA)
  std::string curves = {};  // the training curves picture; "" for none
  std::string save = {};    // where to save the trained model; "" for nowhere
  int epochs = 1;
  int batch_size = 32;
  int verbose = 1;
  std::optional<double> expect_min = std::nullopt;
  bool quiet = false;
  bool skip_if_no_data = false;
};

// --save PATH: the trained model as a Keras 3 archive (".keras": architecture, weights,
// compile config and optimizer state, loadable with px::models::load_model or Keras's
// keras.saving.load_model) or its weights only (".weights.h5").
inline void add_save_option(CLI::App& cli, std::string& path) {
  cli.add_option("--save", path, "Save the trained model (.keras, or .weights.h5 for weights only)")
      ->check([](const std::string& p) -> std::string {
        const auto ends = [&](const std::string& s) {
          return p.size() >= s.size() && p.compare(p.size() - s.size(), s.size(), s) == 0;
        };
        return ends(".keras") || ends(".weights.h5") ? "" : "must end in .keras or .weights.h5";
      });
}

// Saves `model` to `path` (nothing for an empty path) and says so.
inline void save_model(const px::Model& model, const std::string& path) {
  if (path.empty()) return;
  const fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  const bool weights_only = path.size() >= 11 && path.ends_with(".weights.h5");
  if (weights_only) {
    model.save_weights(path);
  } else {
    model.save(path);
  }
  fmt::print("{} saved to {}\n", weights_only ? "Weights" : "Model", path);
}

// --data, --epochs, --batch-size, --verbose, --quiet (which sets verbose to 0), --curves,
// --save, --expect-min and --skip-if-no-data.
inline void add_options(CLI::App& cli, Options& o, const std::string& data_help,
                        const std::string& expect_min_help) {
  cli.add_option("--data", o.data, data_help);
  cli.add_option("--epochs", o.epochs, "Training epochs")->capture_default_str();
  cli.add_option("--batch-size", o.batch_size, "Batch size")->capture_default_str();
  cli.add_option("--verbose", o.verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->capture_default_str();
  cli.add_flag("--quiet", o.quiet, "Only print the final scores");
  cli.add_option("--curves", o.curves, "Training curves picture (.png or .svg; \"\" for none)")
      ->capture_default_str();
  add_save_option(cli, o.save);
  cli.add_option("--expect-min", o.expect_min, expect_min_help);
  cli.add_flag("--skip-if-no-data", o.skip_if_no_data,
               "Exit 77 (skipped) when the data is missing");
  cli.callback([&o] {
    if (o.quiet) o.verbose = 0;
  });
}

// True when $CI is set to something other than "", "0" or "false" (GitHub, GitLab, ... set
// CI=true): a missing dataset is then a failure, never a skip.
inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  if (ci == nullptr) return false;
  std::string v(ci);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return !v.empty() && v != "0" && v != "false" && v != "no";
}

// The data root: --data when given, else $PLEXUS_DATA, else empty.
inline fs::path data_root(const std::string& option) {
  if (!option.empty()) return option;
  if (const char* env = std::getenv("PLEXUS_DATA"); env != nullptr && *env != '\0') return env;
  return {};
}

// `name` looked up as <root> itself (when it is a file), <root>/<subdir>/<name> and
// <root>/<name>; MissingData naming every place tried otherwise.
inline fs::path find_data_file(const fs::path& root, const std::string& subdir,
                               const std::string& name) {
  if (root.empty()) {
    throw MissingData(fmt::format(
        "no data folder given for {}: pass --data <folder> (holding {}/{}) or set PLEXUS_DATA",
        name, subdir, name));
  }
  if (fs::is_regular_file(root)) return root;
  for (const fs::path& p : {root / subdir / name, root / name}) {
    if (fs::is_regular_file(p)) return p;
  }
  throw MissingData(fmt::format("{} not found: looked for {} and {}", name,
                                (root / subdir / name).string(), (root / name).string()));
}

// Checks that an IDX dataset (mnist, fashion_mnist) is in <root>/<name>/ or <root>/, gzipped
// or plain, so that a missing dataset is told apart from a corrupt one.
inline void require_idx_dataset(const fs::path& root, const std::string& name) {
  if (root.empty()) return;  // load_data() searches $PLEXUS_DATA, the cache, then downloads
  for (const char* file : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    bool found = false;
    for (const fs::path& dir : {root / name, root}) {
      for (const char* ext : {".gz", ""}) {
        found = found || fs::is_regular_file(dir / (std::string(file) + ext));
      }
    }
    if (!found) {
      throw MissingData(fmt::format("the {} dataset is not in {}: {}.gz not found in {} or {}",
                                    name, root.string(), file, (root / name).string(),
                                    root.string()));
    }
  }
}

// Runs an app's body: px::Error -> message and exit 1; MissingData -> message and exit 1,
// or kSkipped when the caller asked for it (--skip-if-no-data) and $CI is not set.
inline int guarded_main(bool skip_if_no_data, const std::function<int()>& body) {
  try {
    return body();
  } catch (const MissingData& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    if (skip_if_no_data && !running_in_ci()) {
      fmt::print(stderr,
                 "SKIPPED: the dataset is missing (with CI=true this is a failure). Point "
                 "--data or PLEXUS_DATA at the data folder to run this walkthrough.\n");
      return kSkipped;
    }
    return 1;
  } catch (const plexus::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}

// --expect-min: 0 when `score` reaches `minimum` (or no minimum was set), 1 otherwise.
inline int check_minimum(const std::string& what, double score, std::optional<double> minimum) {
  if (!minimum) return 0;
  if (score >= *minimum) {
    fmt::print("PASSED: {} {:.4f} >= {:.4f}\n", what, score, *minimum);
    return 0;
  }
  fmt::print(stderr, "FAILED: {} {:.4f} is below the expected minimum {:.4f}\n", what, score,
             *minimum);
  return 1;
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0.0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Writes the training curves; a missing rsvg-convert (for .png) is a warning, not a failed run.
inline void save_curves(const px::History& history, const std::string& path,
                        const std::string& title) {
  if (path.empty()) return;
  try {
    px::utils::plot_history(history, path, {.title = title});
    fmt::print("Training curves written to {}\n", path);
  } catch (const px::Error& e) {
    fmt::print(stderr, "warning: {}\n", e.what());
  }
}

// Training and test data, as Keras's load_data and the slicing in the walkthroughs give it.
struct TrainTest {
  px::Tensor x_train, y_train, x_test, y_test;
};

// A CSV table split the way the table walkthroughs do it in numpy:
//   X, Y = dataset[:, 0:inputs], dataset[:, inputs]
//   x_train, y_train, x_test, y_test = X[:train_rows], Y[:train_rows], X[train_rows:], ...
inline TrainTest split_table(const px::Tensor& dataset, std::size_t inputs,
                             std::size_t train_rows) {
  using xt::placeholders::_;
  px::Tensor X = xt::view(dataset, xt::all(), xt::range(0, inputs));
  px::Tensor Y = xt::view(dataset, xt::all(), inputs);
  return {xt::view(X, xt::range(0, train_rows)), xt::view(Y, xt::range(0, train_rows)),
          xt::view(X, xt::range(train_rows, _)), xt::view(Y, xt::range(train_rows, _))};
}

// An IDX image dataset (mnist, fashion_mnist) from the --data root (or, without one, from
// $PLEXUS_DATA, the cache or a download), with the images scaled to [0, 1] and flattened
// to 784 values: x.reshape(-1, 28 * 28) / 255.0. The labels are class ids.
inline TrainTest load_flat_images(
    const std::string& data, const std::string& name,
    px::datasets::TrainTest (*load_data)(const px::datasets::LoadOptions&)) {
  const fs::path root = data_root(data);
  require_idx_dataset(root, name);
  auto [train, test] = load_data({.dir = root});
  TrainTest out{train.x / 255.0f, std::move(train.y), test.x / 255.0f, std::move(test.y)};
  out.x_train.reshape({-1, 28 * 28});
  out.x_test.reshape({-1, 28 * 28});
  return out;
}

// --seeds 1,2,3 (also --seed): the table walkthroughs train once per seed.
inline void add_seeds_option(CLI::App& cli, std::vector<std::uint64_t>& seeds) {
  cli.add_option("--seed,--seeds", seeds, "Random seed; several (1,2,3) report the median")
      ->delimiter(',')
      ->capture_default_str();
}

// The runs of a walkthrough trained once per seed: prints each test accuracy, saves the
// first run's training curves, and checks the median against --expect-min.
class SeedRuns {
 public:
  SeedRuns(const std::vector<std::uint64_t>& seeds, const Options& o, std::string curves_title)
      : several_(seeds.size() > 1), options_(o), curves_title_(std::move(curves_title)) {}

  bool first() const { return accuracies_.empty(); }

  // One run: its history and model.evaluate's (loss, accuracy) on test_rows rows.
  void add(std::uint64_t seed, const px::History& history, const std::vector<double>& scores,
           std::size_t test_rows) {
    fmt::print("\n{}Test accuracy: {:.4f} (loss {:.4f}, {} test rows)\n",
               several_ ? fmt::format("Seed {}: ", seed) : std::string(), scores[1], scores[0],
               test_rows);
    if (first()) save_curves(history, options_.curves, curves_title_);
    accuracies_.push_back(scores[1]);
  }

  // The exit code: check_minimum of the (median) test accuracy.
  int finish() const {
    const double result = median(accuracies_);
    if (several_) {
      fmt::print("Median test accuracy over {} seeds: {:.4f}\n", accuracies_.size(), result);
    }
    return check_minimum(several_ ? "median test accuracy" : "test accuracy", result,
                         options_.expect_min);
  }

 private:
  bool several_;
  const Options& options_;
  std::string curves_title_;
  std::vector<double> accuracies_;
};

}  // namespace app
