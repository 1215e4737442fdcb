// Keras's built-in regression datasets stored as NumPy .npz archives:
//   auto [train, test] = px::datasets::boston_housing::load_data();      // (404, 13), (102, 13)
//   auto [train, test] = px::datasets::california_housing::load_data();  // "large": 20,640 rows
// The file is looked for as <name>.npz in, in order, $PLEXUS_DATA/<name>/, $PLEXUS_DATA/
// and the cache <cache_dir>/datasets/ (~/.plexus/datasets/, Keras's ~/.keras/datasets/
// layout), and otherwise downloaded from Keras's origin into the cache, checked against
// Keras's SHA-256. The rows are shuffled with NumPy's RandomState(seed) permutation and split
// at int(n * (1 - test_split)), exactly as Keras's load_data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/datasets.hpp"

namespace plexus::datasets {

struct NpzLoadOptions {
  std::filesystem::path dir = {};  // read <dir>/<name>.npz (or <dir>/<name>/) only
  std::filesystem::path cache_dir = {};
  std::string base_url = {};  // default: Keras's origin folder
  bool download = true;
  double test_split = 0.2;
  std::uint64_t seed = 113;
  std::string version = "large";  // california_housing: "small" (600 rows) or "large"
};

namespace boston_housing {
TrainTest load_data(const NpzLoadOptions& options = {});
}
namespace california_housing {
TrainTest load_data(const NpzLoadOptions& options = {});
}

// One array of a NumPy .npz archive (np.savez: .npy files in a zip) as floats: dtypes
// float64/32, int64/32/16/8, uint8/16, bool, C order. px::Error naming the file otherwise.
Tensor read_npz_array(const std::filesystem::path& path, const std::string& name);

}  // namespace plexus::datasets
