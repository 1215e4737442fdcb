// Internal: Keras's dataset_utils.index_directory and the label encodings shared by
// image_dataset_from_directory and text_dataset_from_directory.
#pragma once

#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "optim/data/utils.hpp"

namespace plexus::utils::detail {

struct Indexed {
  std::vector<std::string> paths, val_paths;  // training (or all) and validation files
  std::vector<int> labels, val_labels;        // empty: no labels
  std::vector<std::string> class_names;
};

// Lists the files (allowed `formats`, by lower-cased extension) as Keras does: labels
// from the sorted subfolders (or given), shuffled with NumPy's RandomState(seed), split
// by validation_split and subset; Keras's checks and messages, naming `fn`.
Indexed index_directory(const std::filesystem::path& directory, const data::Labels& labels,
                        std::string& label_mode,
                        const std::optional<std::vector<std::string>>& class_names, bool shuffle,
                        std::optional<std::uint64_t>& seed,
                        const std::optional<double>& validation_split, const std::string& subset,
                        bool follow_links, const std::vector<std::string>& formats, const char* fn,
                        const char* what, bool verbose, const std::optional<int>& batch_size);

// A label as the dataset yields it: "int" a scalar, "binary" shape (1,), "categorical"
// one-hot of num_classes.
Tensor encode_label(int label, const std::string& label_mode, std::size_t num_classes);

// NumPy's RandomState(seed).shuffle of a 1-D array (the same permutation).
void numpy_shuffle(std::vector<std::size_t>& v, std::uint64_t seed);
// The same with a generator that goes on (RandomState's state after the shuffle).
void numpy_shuffle(std::vector<std::size_t>& v, std::mt19937& mt);

}  // namespace plexus::utils::detail
