// Keras's data helpers (keras.utils): datasets from folders of images or text files and
// from time series, image files, and sequence padding. Each takes Keras's arguments, as
// keywords or as its option struct:
//
//   auto train = px::utils::image_dataset_from_directory(dir, px::kw::image_size = {180, 180},
//       px::kw::batch_size = 32, px::kw::validation_split = 0.2, px::kw::subset = "training",
//       px::kw::seed = 1);
//   train.class_names();     // the sorted subfolder names
//   auto [tr, va] = px::utils::image_dataset_from_directory(dir, ..., px::kw::subset = "both");
//
// Images are decoded by libjpeg-turbo, libpng and giflib (BMP as Keras reads it), on
// worker threads, a batch at a time: a folder of any size streams in constant memory.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/keywords.hpp"
#include "core/tensor.hpp"
#include "optim/data/dataset.hpp"

namespace plexus::data {

// What the directory helpers return: a dataset of batches with Keras's class_names; with
// subset = "both", also the validation dataset: `auto [train, val] = ...` (a structured
// binding of the two; for the other subsets the second is an error).
class DirectoryDataset : public Dataset {
 public:
  DirectoryDataset(Dataset ds, std::vector<std::string> class_names,
                   std::optional<Dataset> validation = std::nullopt)
      : Dataset(std::move(ds)),
        class_names_(std::move(class_names)),
        validation_(std::move(validation)) {}
  const std::vector<std::string>& class_names() const { return class_names_; }
  // The file paths in the order of an unshuffled pass (Keras's file_paths).
  const std::vector<std::string>& file_paths() const { return file_paths_; }
  void set_file_paths(std::vector<std::string> p) { file_paths_ = std::move(p); }
  bool has_validation() const { return validation_.has_value(); }
  template <std::size_t I>
  DirectoryDataset get() const {
    if constexpr (I == 0) {
      DirectoryDataset t(Dataset(*this), class_names_);
      t.file_paths_ = file_paths_;
      return t;
    } else {
      if (!validation_) {
        throw_no_validation();
      }
      DirectoryDataset v(*validation_, class_names_);
      v.file_paths_ = validation_paths_;
      return v;
    }
  }
  void set_validation_paths(std::vector<std::string> p) { validation_paths_ = std::move(p); }

 private:
  [[noreturn]] static void throw_no_validation();
  std::vector<std::string> class_names_;
  std::optional<Dataset> validation_;
  std::vector<std::string> file_paths_, validation_paths_;
};

// labels: "inferred" (from the subfolders), nullptr / "none" (no labels), or one int per
// file in the sorted order of the files (Keras's list of labels).
struct Labels {
  bool inferred = true;
  std::optional<std::vector<int>> list;
  Labels() = default;
  Labels(const char* s);
  Labels(const std::string& s) : Labels(s.c_str()) {}
  Labels(std::nullptr_t) : inferred(false) {}
  Labels(std::vector<int> l) : inferred(false), list(std::move(l)) {}
};

}  // namespace plexus::data

// Keras's positional parameters of the helpers below, which Keras code also passes by keyword
// (timeseries_dataset_from_array(data=..., targets=None, sequence_length=10)).
PLEXUS_KEYWORD(data, ::plexus::Tensor)
PLEXUS_KEYWORD(targets, std::optional<::plexus::Tensor>)
PLEXUS_KEYWORD(sequence_length, std::ptrdiff_t)
PLEXUS_KEYWORD(path, std::string)
PLEXUS_KEYWORD(directory, std::string)
PLEXUS_KEYWORD(sequences, std::vector<std::vector<float>>)

template <>
struct std::tuple_size<plexus::data::DirectoryDataset> : std::integral_constant<std::size_t, 2> {};
template <std::size_t I>
struct std::tuple_element<I, plexus::data::DirectoryDataset> {
  using type = plexus::data::DirectoryDataset;
};

namespace plexus::utils {

// --- time series ----------------------------------------------------------------------------

struct TimeseriesOptions {
  std::ptrdiff_t sequence_stride = 1;
  std::ptrdiff_t sampling_rate = 1;
  std::optional<int> batch_size = 128;  // std::nullopt: single samples
  bool shuffle = false;
  std::optional<std::uint64_t> seed{};
  std::optional<std::ptrdiff_t> start_index{};
  std::optional<std::ptrdiff_t> end_index{};
};

// Keras's timeseries_dataset_from_array: windows data[s + p + k * sampling_rate], k <
// sequence_length, for p = 0, sequence_stride, ... (s = start_index), with target
// targets[s + p]. Axis 0 of data (and targets) is time. shuffle permutes the window
// starts as Keras does (NumPy's RandomState(seed).shuffle, the same permutation), then
// shuffles locally in a buffer of 8 batches (tf.data's algorithm; not TensorFlow's stream).
data::Dataset timeseries_dataset_from_array(const Tensor& data, std::optional<Tensor> targets,
                                            std::ptrdiff_t sequence_length,
                                            TimeseriesOptions options = {});
PLEXUS_KEYWORD_FACTORY(data::Dataset, timeseries_dataset_from_array, TimeseriesOptions,
                       (const Tensor&, data), (std::optional<Tensor>, targets),
                       (std::ptrdiff_t, sequence_length))

// --- images ---------------------------------------------------------------------------------

// A decoded image: height x width x channels bytes, row-major (channels 1, 3 or 4).
struct Image {
  std::size_t height = 0, width = 0, channels = 0;
  std::vector<std::uint8_t> pixels;
};

struct LoadImgOptions {
  std::string color_mode = "rgb";  // "grayscale", "rgb", "rgba"
  // (height, width): resized with `interpolation` ("nearest", "bilinear", "bicubic" as
  // Keras's PIL resample names; "bilinear" here is PIL's, with antialiasing).
  std::optional<std::array<std::size_t, 2>> target_size{};
  std::string interpolation = "nearest";
  bool keep_aspect_ratio = false;  // crop the center to the target's aspect ratio first
};
// Keras's load_img: JPEG, PNG, GIF (first frame) or BMP. A missing, unreadable, corrupt or
// truncated file is a px::Error naming it.
Image load_img(const std::filesystem::path& path, LoadImgOptions options = {});
PLEXUS_KEYWORD_FACTORY(Image, load_img, LoadImgOptions, (const std::filesystem::path&, path))
// Decodes an image held in memory (`what` names it in errors).
Image decode_image(const std::uint8_t* bytes, std::size_t size, const std::string& what);
// (height, width, channels) floats 0..255.
Tensor img_to_array(const Image& image);
// From (height, width, channels) with channels 1, 3 or 4. scale: shifted and scaled to
// 0..255 by the array's min and max (Keras's scale=True); otherwise clipped to 0..255.
Image array_to_img(const Tensor& array, bool scale = true);
// Writes a PNG or JPEG by the file's extension (".png", ".jpg", ".jpeg"); `quality` for JPEG.
void save_img(const std::filesystem::path& path, const Tensor& array, bool scale = true,
              int quality = 95);
void save_img(const std::filesystem::path& path, const Image& image, int quality = 95);

// Keras's smart_resize-free path: resizes an (h, w, c) float image as Keras's
// image_dataset_from_directory does (tf.image.resize with antialias=False), with
// optional crop or pad to the target aspect ratio first.
Tensor resize_image(const Tensor& image, std::size_t height, std::size_t width,
                    const std::string& interpolation = "bilinear",
                    bool crop_to_aspect_ratio = false, bool pad_to_aspect_ratio = false);

struct ImageDatasetOptions {
  data::Labels labels = "inferred";
  std::string label_mode = "int";  // "int", "categorical", "binary", or "" (None)
  std::optional<std::vector<std::string>> class_names{};
  std::string color_mode = "rgb";  // "grayscale", "rgb", "rgba"
  std::optional<int> batch_size = 32;
  std::array<std::size_t, 2> image_size = {256, 256};
  bool shuffle = true;
  std::optional<std::uint64_t> seed{};
  std::optional<double> validation_split{};
  std::string subset = {};  // "training", "validation", "both"
  std::string interpolation = "bilinear";
  bool follow_links = false;
  bool crop_to_aspect_ratio = false;
  bool pad_to_aspect_ratio = false;
  std::string data_format = "channels_last";
  bool verbose = true;
  // plexus: decode threads (AUTOTUNE: one per hardware thread) and batches kept ready.
  int num_parallel_calls = data::AUTOTUNE;
};
data::DirectoryDataset image_dataset_from_directory(const std::filesystem::path& directory,
                                                    ImageDatasetOptions options = {});
PLEXUS_KEYWORD_FACTORY(data::DirectoryDataset, image_dataset_from_directory, ImageDatasetOptions,
                       (const std::filesystem::path&, directory))

// --- text ---------------------------------------------------------------------------------

// A text dataset's elements hold strings, which tensors cannot: each element's x is empty
// and the texts are in `texts` — see TextBatch and text_batches().
struct TextDatasetOptions {
  data::Labels labels = "inferred";
  std::string label_mode = "int";
  std::optional<std::vector<std::string>> class_names{};
  std::optional<int> batch_size = 32;
  std::optional<std::size_t> max_length{};  // characters kept of each text
  bool shuffle = true;
  std::optional<std::uint64_t> seed{};
  std::optional<double> validation_split{};
  std::string subset = {};
  bool follow_links = false;
  bool verbose = true;
};
// One batch of texts and its labels (empty when label_mode is None).
struct TextBatch {
  std::vector<std::string> texts;
  Tensor labels;
};
// Keras's text_dataset_from_directory: .txt files in class subfolders. C++ tensors hold
// numbers, so the texts come as a TextDataset whose batches are TextBatch values; a
// vectorizer (a function from texts to a tensor) turns it into a Dataset for fit:
//   auto ds = px::utils::text_dataset_from_directory(dir, px::kw::batch_size = 32);
//   for (const px::utils::TextBatch& b : ds.batches()) { ... }
//   px::data::Dataset numeric = ds.vectorize([&](const std::vector<std::string>& t) { ... });
class TextDataset {
 public:
  TextDataset(std::vector<std::string> paths, std::vector<int> labels, std::size_t num_classes,
              std::vector<std::string> class_names, TextDatasetOptions options);
  const std::vector<std::string>& class_names() const { return class_names_; }
  const std::vector<std::string>& file_paths() const { return paths_; }
  std::int64_t cardinality() const;
  // The batches of one pass (in a new shuffled order each pass when shuffle).
  std::vector<TextBatch> batches() const;
  // A numeric dataset: x = vectorize(texts), y = the labels.
  data::Dataset vectorize(std::function<Tensor(const std::vector<std::string>&)> fn) const;

 private:
  std::vector<std::string> paths_;
  std::vector<int> labels_;
  std::size_t num_classes_;
  std::vector<std::string> class_names_;
  TextDatasetOptions options_;
  std::shared_ptr<std::uint64_t> passes_;
};
// Returns the training (or only) dataset; with subset = "both" use
// text_dataset_from_directory_both.
TextDataset text_dataset_from_directory(const std::filesystem::path& directory,
                                        TextDatasetOptions options = {});
using TextDatasets = std::pair<TextDataset, TextDataset>;
TextDatasets text_dataset_from_directory_both(const std::filesystem::path& directory,
                                              TextDatasetOptions options = {});
PLEXUS_KEYWORD_FACTORY(TextDataset, text_dataset_from_directory, TextDatasetOptions,
                       (const std::filesystem::path&, directory))
PLEXUS_KEYWORD_FACTORY(TextDatasets, text_dataset_from_directory_both, TextDatasetOptions,
                       (const std::filesystem::path&, directory))

// --- sequences ----------------------------------------------------------------------------

struct PadSequencesOptions {
  std::optional<std::size_t> maxlen{};
  std::string padding = "pre";     // "pre" or "post"
  std::string truncating = "pre";  // "pre" or "post"
  float value = 0.0f;
};
// Keras's pad_sequences: (len(sequences), maxlen) with each sequence padded or truncated.
Tensor pad_sequences(const std::vector<std::vector<float>>& sequences,
                     PadSequencesOptions options = {});
PLEXUS_KEYWORD_FACTORY(Tensor, pad_sequences, PadSequencesOptions,
                       (const std::vector<std::vector<float>>&, sequences))

}  // namespace plexus::utils

// Keywords of the data helpers (batch_size, shuffle, validation_split, padding, data_format,
// interpolation are shared with fit and the layers).
PLEXUS_KEYWORD(sequence_stride, std::ptrdiff_t)
PLEXUS_KEYWORD(sampling_rate, std::ptrdiff_t)
PLEXUS_KEYWORD(start_index, std::ptrdiff_t)
PLEXUS_KEYWORD(end_index, std::ptrdiff_t)
PLEXUS_KEYWORD(labels, ::plexus::data::Labels)
PLEXUS_KEYWORD(label_mode, std::string)
PLEXUS_KEYWORD(class_names, std::vector<std::string>)
PLEXUS_KEYWORD(color_mode, std::string)
PLEXUS_KEYWORD(image_size, std::array<std::size_t, 2>)
PLEXUS_KEYWORD(target_size, std::array<std::size_t, 2>)
PLEXUS_KEYWORD(subset, std::string)
PLEXUS_KEYWORD(follow_links, bool)
PLEXUS_KEYWORD(crop_to_aspect_ratio, bool)
PLEXUS_KEYWORD(pad_to_aspect_ratio, bool)
PLEXUS_KEYWORD(keep_aspect_ratio, bool)
PLEXUS_KEYWORD(max_length, std::size_t)
PLEXUS_KEYWORD(maxlen, std::size_t)
PLEXUS_KEYWORD(truncating, std::string)
PLEXUS_KEYWORD(value, float)
PLEXUS_KEYWORD(num_parallel_calls, int)
