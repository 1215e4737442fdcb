// Built-in datasets (Keras: keras.datasets) and numeric file readers (IDX, CSV).
//
//   auto [train, test] = px::datasets::mnist::load_data();       // search, else download
//   auto [train, test] = px::datasets::mnist::load_data(dir);    // IDX files in dir
//   train.x: (60000, 28, 28) floats 0..255, train.y: (60000,) class ids as floats
//
// load_data() looks for the four IDX files (gzipped or plain) in, in order,
//   $PLEXUS_DATA/<name>/, $PLEXUS_DATA/, <cache_dir>/datasets/<name>/ (cache_dir: ~/.plexus),
// and downloads the missing .gz files into the cache (sha256-verified, written atomically)
// from LoadOptions::base_url, else $PLEXUS_DATASETS_URL/<name>/, else the public mirrors.
// <name> is "mnist" or "fashion_mnist".
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/tensor.hpp"

namespace plexus::datasets {

// One part of a dataset: inputs and targets. `auto [x, y] = train;` also works.
struct Split {
  Tensor x;
  Tensor y;
};
// (train, test), as Keras's load_data returns ((x_train, y_train), (x_test, y_test)).
using TrainTest = std::pair<Split, Split>;

struct LoadOptions {
  // When set, the files are read from this folder (or its <name>/ subfolder) only, and
  // nothing is downloaded.
  std::filesystem::path dir = {};
  // Root of the download cache; files go to <cache_dir>/datasets/<name>/. Default ~/.plexus.
  std::filesystem::path cache_dir = {};
  // URL of a folder holding this dataset's four .gz files. Default: $PLEXUS_DATASETS_URL
  // followed by "<name>/" when that is set (the same layout as $PLEXUS_DATA), otherwise the
  // public mirrors, tried in order.
  std::string base_url = {};
  // When false, a missing file is an error instead of a download.
  bool download = true;
};

namespace mnist {
TrainTest load_data();
TrainTest load_data(const std::filesystem::path& dir);
TrainTest load_data(const LoadOptions& options);
}  // namespace mnist

namespace fashion_mnist {
// Class names in label order.
inline constexpr std::array<std::string_view, 10> class_names = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
TrainTest load_data();
TrainTest load_data(const std::filesystem::path& dir);
TrainTest load_data(const LoadOptions& options);
}  // namespace fashion_mnist

// Reads one IDX file (gzipped or plain; any IDX element type and rank) as a float tensor of
// the shape in its header. expected_magic = 0 accepts any valid header; otherwise the magic
// number must match (2051 = 3-D unsigned-byte images, 2049 = 1-D unsigned-byte labels).
// Throws px::Error naming the file on a wrong magic number, a truncated or over-long file,
// or corrupt gzip data. The header is checked before the body is read, and no more data is
// read (or inflated) than the header says the file holds.
Tensor read_idx(const std::filesystem::path& path, std::uint32_t expected_magic = 0);

struct CsvOptions {
  // Field separator. ' ' means "whitespace": any run of spaces and tabs separates fields and
  // leading/trailing whitespace is ignored (the UCI housing.data layout).
  char delimiter = ',';
  // Lines skipped at the top of the file, e.g. 1 for a header line (numpy's skiprows).
  std::size_t skip_rows = 0;
  // Columns to keep, 0-based, in this order; negative counts from the end (numpy's usecols).
  // Empty keeps every column. Columns not kept are not parsed, so they may hold text.
  std::vector<std::ptrdiff_t> usecols = {};
  // The most text (after gzip inflation) read before giving up with a px::Error, so that a
  // small hostile .gz cannot fill the memory. 4 GiB by default.
  std::size_t max_bytes = std::size_t{4} << 30;
};

// Reads a numeric CSV file (plain or gzipped) into a (rows, cols) tensor. Blank lines are
// skipped; "\r\n" line ends and a UTF-8 byte-order mark are accepted. Ragged rows, empty
// fields and anything that is not a number raise px::Error naming file, line and column:
//   iris.csv:1: column 5: "Iris-setosa" is not a number
Tensor load_csv(const std::filesystem::path& path, const CsvOptions& options = {});

}  // namespace plexus::datasets
