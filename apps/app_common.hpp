// Plumbing shared by the walkthrough apps, kept out of their way: where the data is, what a
// missing dataset means (a clear message; exit 77 = "skipped" for CTest unless $CI is set),
// and the final "expected at least" check the walkthrough tests use.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <plexus.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace app {

namespace fs = std::filesystem;
namespace px = plexus;

// CTest's SKIP_RETURN_CODE for the walkthrough tests.
inline constexpr int kSkipped = 77;

// A dataset that is not where the app looked.
struct MissingData : std::runtime_error {
  using std::runtime_error::runtime_error;
};

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

// Writes the training curves; a missing gnuplot is a warning, not a failed run.
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

}  // namespace app
