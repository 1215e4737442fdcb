// Keras's dataset_utils (index_directory, check_validation_split_arg,
// get_training_or_validation_split) and text_dataset_from_directory.
#include "optim/data/detail/files.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <random>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/random.hpp"
#include "optim/data/detail/node.hpp"

namespace plexus::utils::detail {

namespace fs = std::filesystem;

void numpy_shuffle(std::vector<std::size_t>& v, std::uint64_t seed) {
  std::mt19937 mt(static_cast<std::uint32_t>(seed));
  numpy_shuffle(v, mt);
}

void numpy_shuffle(std::vector<std::size_t>& v, std::mt19937& mt) {
  for (std::size_t i = v.size(); i-- > 1;) {
    std::uint64_t mask = i;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    std::uint64_t j;
    if (i <= 0xffffffffull) {
      do {
        j = mt() & mask;
      } while (j > i);
    } else {
      do {
        j = ((static_cast<std::uint64_t>(mt()) << 32) | mt()) & mask;
      } while (j > i);
    }
    std::swap(v[i], v[j]);
  }
}

Tensor encode_label(int label, const std::string& mode, std::size_t num_classes) {
  if (mode == "categorical") {
    Tensor t = xt::zeros<float>({num_classes});
    t(static_cast<std::size_t>(label)) = 1.0f;
    return t;
  }
  if (mode == "binary") {
    Tensor t = Tensor::from_shape({1});
    t(0) = static_cast<float>(label);
    return t;
  }
  return Tensor(static_cast<float>(label));
}

namespace {

std::string list_str(const std::vector<std::string>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", '" : "'") + v[i] + "'";
  return s + "]";
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Keras's iter_valid_files: every file under dir (sorted by folder, then name) whose
// lower-cased name ends with an allowed format; names relative to `base`.
void valid_files(const fs::path& dir, const fs::path& base, bool follow_links,
                 const std::vector<std::string>& formats, std::vector<std::string>& out) {
  std::vector<std::pair<std::string, std::string>> found;  // (folder, name)
  auto opts =
      follow_links ? fs::directory_options::follow_directory_symlink : fs::directory_options::none;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, opts, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string name = it->path().filename().string();
    const std::string l = lower(name);
    bool ok = false;
    for (auto& f : formats)
      ok |= l.size() >= f.size() && l.compare(l.size() - f.size(), f.size(), f) == 0;
    if (ok) found.emplace_back(it->path().parent_path().string(), name);
  }
  if (ec) throw Error("Cannot list directory \"{}\": {}", dir.string(), ec.message());
  std::sort(found.begin(), found.end());
  for (auto& [folder, name] : found) {
    out.push_back((fs::path(folder) / name).lexically_relative(base).string());
  }
}

std::string formats_str(const std::vector<std::string>& f) {
  std::string s = "(";
  for (std::size_t i = 0; i < f.size(); ++i) s += (i ? ", '" : "'") + f[i] + "'";
  return s + ")";
}

}  // namespace

Indexed index_directory(const fs::path& directory, const data::Labels& labels,
                        std::string& label_mode,
                        const std::optional<std::vector<std::string>>& class_names, bool shuffle,
                        std::optional<std::uint64_t>& seed,
                        const std::optional<double>& validation_split, const std::string& subset,
                        bool follow_links, const std::vector<std::string>& formats, const char* fn,
                        const char* what, bool verbose, const std::optional<int>& batch_size) {
  if (label_mode == "none" || label_mode == "None") label_mode.clear();
  if (labels.list && class_names) {
    throw Error(
        "{}: You can only pass `class_names` if `labels='inferred'`. Received: labels=[...{} "
        "labels], and class_names={}",
        fn, labels.list->size(), list_str(*class_names));
  }
  if (!label_mode.empty() && label_mode != "int" && label_mode != "categorical" &&
      label_mode != "binary") {
    throw Error(
        "{}: `label_mode` argument must be one of \"int\", \"categorical\", \"binary\", or "
        "None. Received: label_mode={}",
        fn, label_mode);
  }
  const bool no_labels = (!labels.inferred && !labels.list) || label_mode.empty();
  if (no_labels) label_mode.clear();
  if (batch_size && *batch_size <= 0) {
    throw Error("{}: batch_size must be positive (or std::nullopt), received {}", fn, *batch_size);
  }
  // check_validation_split_arg
  const double vs = validation_split.value_or(0.0);
  if (vs != 0 && !(vs > 0 && vs < 1)) {
    throw Error("{}: `validation_split` must be between 0 and 1, received: {}", fn, vs);
  }
  if ((vs != 0 || !subset.empty()) && !(vs != 0 && !subset.empty())) {
    throw Error("{}: If `subset` is set, `validation_split` must be set, and inversely.", fn);
  }
  if (!subset.empty() && subset != "training" && subset != "validation" && subset != "both") {
    throw Error(
        "{}: `subset` must be either \"training\", \"validation\" or \"both\", received: {}", fn,
        subset);
  }
  if (vs != 0 && shuffle && !seed) {
    throw Error(
        "{}: If using `validation_split` and shuffling the data, you must provide a `seed` "
        "argument, to make sure that there is no overlap between the training and validation "
        "subset.",
        fn);
  }
  if (!seed) seed = std::uniform_int_distribution<std::uint64_t>(0, 999999)(generator());

  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    throw Error("{}: Directory {} does not exist (or is not a directory)", fn, directory.string());
  }
  Indexed r;
  std::vector<std::string> subdirs;
  const bool inferred = labels.inferred && !labels.list;
  if (inferred) {
    for (auto& e : fs::directory_iterator(directory)) {
      const std::string name = e.path().filename().string();
      if (e.is_directory() && !name.empty() && name[0] != '.') subdirs.push_back(name);
    }
    std::sort(subdirs.begin(), subdirs.end());
    if (class_names) {
      const std::set<std::string> have(subdirs.begin(), subdirs.end());
      for (auto& c : *class_names) {
        if (!have.count(c)) {
          throw Error(
              "{}: The `class_names` passed did not match the names of the subdirectories of the "
              "target directory. Expected: {} (or a subset of it), but received: class_names={}",
              fn, list_str(subdirs), list_str(*class_names));
        }
      }
      subdirs = *class_names;  // the given order
    }
  } else {
    if (class_names) {
      if (!labels.list) {
        throw Error(
            "{}: When `labels=None` (no labels), argument `class_names` cannot be "
            "specified.",
            fn);
      }
      throw Error(
          "{}: When argument `labels` is specified, argument `class_names` cannot be "
          "specified (the `class_names` will be the sorted list of labels).",
          fn);
    }
    subdirs = {""};
  }
  std::vector<std::string> files;
  std::vector<int> labs;
  for (std::size_t k = 0; k < subdirs.size(); ++k) {
    const std::size_t before = files.size();
    valid_files(subdirs[k].empty() ? directory : directory / subdirs[k], directory, follow_links,
                formats, files);
    labs.resize(files.size(), static_cast<int>(k));
    (void)before;
  }
  if (inferred) {
    r.class_names = subdirs;
  } else if (labels.list) {
    if (labels.list->size() != files.size()) {
      throw Error(
          "{}: Expected the lengths of `labels` to match the number of files in the target "
          "directory. len(labels) is {} while we found {} files in directory {}.",
          fn, labels.list->size(), files.size(), directory.string());
    }
    labs = *labels.list;
    std::set<int> distinct(labs.begin(), labs.end());
    for (int l : distinct) {
      if (l < 0) throw Error("{}: labels must not be negative, received {}", fn, l);
      r.class_names.push_back(std::to_string(l));
    }
  }
  if (verbose) {
    if (no_labels && !inferred && !labels.list) {
      std::printf("Found %zu files.\n", files.size());
    } else {
      std::printf("Found %zu files belonging to %zu classes.\n", files.size(),
                  r.class_names.size());
    }
  }
  for (auto& f : files) f = (directory / f).string();
  if (shuffle) {
    std::vector<std::size_t> perm(files.size());
    std::iota(perm.begin(), perm.end(), std::size_t{0});
    numpy_shuffle(perm, *seed);
    std::vector<std::string> f2;
    std::vector<int> l2;
    for (auto p : perm) {
      f2.push_back(files[p]);
      l2.push_back(labs[p]);
    }
    files.swap(f2);
    labs.swap(l2);
  }
  if (label_mode == "binary" && r.class_names.size() != 2) {
    throw Error(
        "{}: When passing `label_mode=\"binary\"`, there must be exactly 2 class_names. "
        "Received: class_names={}",
        fn, list_str(r.class_names));
  }
  if (label_mode == "categorical" || label_mode == "binary" || label_mode == "int") {
    // Explicit labels index the classes by value (Keras's one_hot of the label).
    for (int l : labs) {
      if (label_mode != "int" && static_cast<std::size_t>(l) >= r.class_names.size() && inferred) {
        throw Error("{}: label {} out of range", fn, l);
      }
    }
  }
  if (no_labels) labs.clear();
  // get_training_or_validation_split
  const auto n = files.size();
  const auto num_val = static_cast<std::size_t>(vs * static_cast<double>(n));
  auto cut = [&](bool training, std::vector<std::string>& p, std::vector<int>& l) {
    const std::size_t b = training ? 0 : n - num_val;
    // Keras's samples[:-num_val] is empty when num_val is 0.
    const std::size_t e = training ? (num_val == 0 ? 0 : n - num_val) : n;
    p.assign(files.begin() + b, files.begin() + e);
    if (!labs.empty()) l.assign(labs.begin() + b, labs.begin() + e);
  };
  const std::string allowed = formats_str(formats);
  if (subset == "both") {
    cut(true, r.paths, r.labels);
    cut(false, r.val_paths, r.val_labels);
    if (verbose) {
      std::printf("Using %zu files for training.\nUsing %zu files for validation.\n",
                  r.paths.size(), r.val_paths.size());
    }
    if (r.paths.empty()) {
      throw Error("{}: No training {} found in directory {}. Allowed format{}: {}", fn, what,
                  directory.string(), formats.size() > 1 ? "s" : "", allowed);
    }
    if (r.val_paths.empty()) {
      throw Error("{}: No validation {} found in directory {}. Allowed format{}: {}", fn, what,
                  directory.string(), formats.size() > 1 ? "s" : "", allowed);
    }
  } else if (!subset.empty()) {
    cut(subset == "training", r.paths, r.labels);
    if (verbose) {
      std::printf("Using %zu files for %s.\n", r.paths.size(), subset.c_str());
    }
  } else {
    r.paths = files;
    r.labels = labs;
  }
  if (subset != "both" && r.paths.empty()) {
    throw Error("{}: No {} found in directory {}. Allowed format{}: {}", fn, what,
                directory.string(), formats.size() > 1 ? "s" : "", allowed);
  }
  return r;
}

}  // namespace plexus::utils::detail

// --- text_dataset_from_directory ---------------------------------------------------------------

namespace plexus::utils {

namespace {
std::string read_text(const std::string& path, std::optional<std::size_t> max_length) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("text_dataset_from_directory: cannot open \"{}\"", path);
  std::ostringstream s;
  s << f.rdbuf();
  std::string t = s.str();
  if (max_length && t.size() > *max_length) t.resize(*max_length);
  return t;
}
}  // namespace

TextDataset::TextDataset(std::vector<std::string> paths, std::vector<int> labels,
                         std::size_t num_classes, std::vector<std::string> class_names,
                         TextDatasetOptions options)
    : paths_(std::move(paths)),
      labels_(std::move(labels)),
      num_classes_(num_classes),
      class_names_(std::move(class_names)),
      options_(std::move(options)),
      passes_(std::make_shared<std::uint64_t>(0)) {}

std::int64_t TextDataset::cardinality() const {
  const auto n = static_cast<std::int64_t>(paths_.size());
  if (!options_.batch_size) return n;
  return (n + *options_.batch_size - 1) / *options_.batch_size;
}

std::vector<TextBatch> TextDataset::batches() const {
  // The order of a pass: tf.data's buffered shuffle (8 batches), seeded per pass.
  std::vector<std::size_t> order;
  {
    data::detail::IndexedSource src;
    src.count = paths_.size();
    src.get = [](std::size_t i) { return StepData{{Tensor(static_cast<float>(i))}, {}, {}}; };
    data::Dataset ds = data::detail::make_indexed(std::move(src));
    if (options_.shuffle) {
      const std::size_t buffer =
          options_.batch_size ? static_cast<std::size_t>(*options_.batch_size) * 8 : 1024;
      ds = ds.shuffle(buffer, *options_.seed + 0x9E3779B97F4A7C15ull * (*passes_)++, false);
    }
    for (const StepData& e : ds) order.push_back(static_cast<std::size_t>(e.x[0]()));
  }
  const std::size_t bs = options_.batch_size ? static_cast<std::size_t>(*options_.batch_size) : 1;
  std::vector<TextBatch> out;
  for (std::size_t b = 0; b < order.size(); b += bs) {
    TextBatch batch;
    const std::size_t n = std::min(bs, order.size() - b);
    std::vector<const Tensor*> parts;
    std::vector<Tensor> labs;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = order[b + k];
      batch.texts.push_back(read_text(paths_[i], options_.max_length));
      if (!labels_.empty()) {
        labs.push_back(detail::encode_label(labels_[i], options_.label_mode, num_classes_));
      }
    }
    if (!labs.empty()) {
      for (auto& l : labs) parts.push_back(&l);
      batch.labels = data::detail::stack(parts, "the label");
    }
    out.push_back(std::move(batch));
  }
  return out;
}

data::Dataset TextDataset::vectorize(
    std::function<Tensor(const std::vector<std::string>&)> fn) const {
  if (!fn) throw Error("TextDataset.vectorize: no function given");
  auto self = std::make_shared<TextDataset>(*this);
  return data::Dataset::from_generator([self, fn] {
    auto batches = std::make_shared<std::vector<TextBatch>>(self->batches());
    std::size_t i = 0;
    return [batches, fn, i]() mutable -> std::optional<StepData> {
      if (i >= batches->size()) return std::nullopt;
      const TextBatch& b = (*batches)[i++];
      StepData e;
      e.x.push_back(fn(b.texts));
      if (b.labels.size() > 0 || b.labels.dimension() > 0) e.y.push_back(b.labels);
      return e;
    };
  });
}

namespace {
const std::vector<std::string> kTextFormats{".txt"};

TextDatasets text_impl(const std::filesystem::path& directory, TextDatasetOptions o) {
  auto idx =
      detail::index_directory(directory, o.labels, o.label_mode, o.class_names, o.shuffle, o.seed,
                              o.validation_split, o.subset, o.follow_links, kTextFormats,
                              "text_dataset_from_directory", "text files", o.verbose, o.batch_size);
  const std::size_t k = idx.class_names.size();
  // The files were shuffled once by index_directory; the batches are shuffled per pass.
  TextDataset train(idx.paths, idx.labels, k, idx.class_names, o);
  TextDataset val(idx.val_paths, idx.val_labels, k, idx.class_names, o);
  return {std::move(train), std::move(val)};
}
}  // namespace

TextDataset text_dataset_from_directory(const std::filesystem::path& directory,
                                        TextDatasetOptions options) {
  if (options.subset == "both") {
    throw Error(
        "text_dataset_from_directory: subset=\"both\" returns two datasets: call "
        "text_dataset_from_directory_both");
  }
  return text_impl(directory, std::move(options)).first;
}

TextDatasets text_dataset_from_directory_both(const std::filesystem::path& directory,
                                              TextDatasetOptions options) {
  options.subset = "both";
  return text_impl(directory, std::move(options));
}

}  // namespace plexus::utils
