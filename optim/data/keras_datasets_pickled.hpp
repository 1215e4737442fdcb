// Keras's built-in data sets stored as Python pickles (issue 24): CIFAR-10 and CIFAR-100
// (tar.gz archives of pickled batches), IMDB and Reuters (.npz archives of NumPy object
// arrays, and word-index .json files). See docs/data.md.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/datasets.hpp"

namespace plexus::datasets {

// --- CIFAR-10 and CIFAR-100 (Keras's datasets/cifar10.py, cifar100.py) ----------------------
//   auto [train, test] = px::datasets::cifar10::load_data();   // x (50000, 32, 32, 3), y (50000,
//   1) auto [train, test] = px::datasets::cifar100::load_data({.label_mode = "coarse"});
// Pixels 0..255 and class ids as floats, channels last, in the files' order (Keras's). The
// batches (Python pickles of a dict with a NumPy uint8 array: read by a restricted unpickler
// that resolves only NumPy's array globals, like Keras's) are looked for, in order, in
// `dir` (or $PLEXUS_DATA when `dir` is empty) as the extracted folder (cifar-10-batches-py/,
// cifar-100-python/, or the batch files themselves) or as the archive
// (cifar-10-python.tar.gz, cifar-100-python.tar.gz); then in Keras's cache layout under
// <cache_dir>/datasets/: the extracted cifar-10-batches-py-target/cifar-10-batches-py/ (or
// cifar-100-python-target/cifar-100-python/), else the archive Keras downloads,
// cifar-10-batches-py-target_archive (cifar-100-python-target_archive), read in place; else
// it is downloaded there from www.cs.toronto.edu/~kriz (or `origin`) and checked against
// Keras's SHA-256. A missing, corrupt or hostile file is a px::Error naming it.
struct CifarLoadOptions {
  std::filesystem::path dir = {};  // read only here (nothing is downloaded)
  std::filesystem::path cache_dir = {};
  std::string origin = {};  // URL of the .tar.gz; default: Keras's
  bool download = true;
  std::string label_mode = "fine";  // cifar100: "fine" (100 classes) or "coarse" (20)
};

namespace cifar10 {
inline constexpr std::array<std::string_view, 10> class_names = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
TrainTest load_data(const CifarLoadOptions& options = {});
}  // namespace cifar10
namespace cifar100 {
TrainTest load_data(const CifarLoadOptions& options = {});
}  // namespace cifar100

// --- IMDB and Reuters (Keras's datasets/imdb.py, reuters.py) ----------------------------------
// Sequences of word ids (Keras's object arrays of lists; pad them with
// px::utils::pad_sequences) and their labels (floats, shape (n,)).
struct SequenceSplit {
  std::vector<std::vector<float>> x;
  Tensor y;
};
using SequenceTrainTest = std::pair<SequenceSplit, SequenceSplit>;

// Keras's load_data arguments and semantics: shuffled with NumPy's RandomState(seed) (imdb:
// the training part, then the test part, from one generator), `start_char` prepended and
// `index_from` added to every id, sequences of `maxlen` words or more dropped, ids outside
// [skip_top, num_words) replaced by `oov_char` (or dropped when it is unset); reuters splits
// at int(n * (1 - test_split)) after that. The .npz (and the word index .json) is looked for
// as `path` (default imdb.npz / reuters.npz) in `dir` (or $PLEXUS_DATA), then in
// <cache_dir>/datasets/ (Keras's layout), else downloaded from Keras's origin folder (or
// `base_url`) and checked against Keras's SHA-256 (the word indexes: Keras's MD5).
struct TextLoadOptions {
  std::filesystem::path dir = {};  // read only here (nothing is downloaded)
  std::filesystem::path cache_dir = {};
  std::string base_url = {};  // default: Keras's origin folder
  bool download = true;
  std::string path = {};  // file name in the cache; default "imdb.npz" / "reuters.npz"
  std::optional<std::int64_t> num_words = {};
  std::int64_t skip_top = 0;
  std::optional<std::size_t> maxlen = {};
  double test_split = 0.2;  // reuters only
  std::uint64_t seed = 113;
  std::optional<std::int64_t> start_char = 1;
  std::optional<std::int64_t> oov_char = 2;
  std::int64_t index_from = 3;
};

namespace imdb {
SequenceTrainTest load_data(const TextLoadOptions& options = {});
// Word -> index (imdb_word_index.json; `options.path` names the .json here).
std::map<std::string, std::int64_t> get_word_index(const TextLoadOptions& options = {});
}  // namespace imdb
namespace reuters {
SequenceTrainTest load_data(const TextLoadOptions& options = {});
std::map<std::string, std::int64_t> get_word_index(const TextLoadOptions& options = {});
// The 46 topics, in label order (Keras's get_label_names).
const std::vector<std::string>& get_label_names();
}  // namespace reuters

// One object array of lists of integers of a NumPy .npz archive (IMDB's and Reuters's x),
// read with the restricted unpickler: one sequence per element.
std::vector<std::vector<std::int64_t>> read_npz_sequences(const std::filesystem::path& path,
                                                          const std::string& name);

}  // namespace plexus::datasets
