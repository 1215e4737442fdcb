// MNIST and Fashion-MNIST: locating, downloading and loading the IDX files.
#include "core/datasets.hpp"

#include <fmt/format.h>

#include <cstdlib>

#include "core/download.hpp"
#include "core/error.hpp"

namespace plexus::datasets {
namespace {

struct FileSpec {
  const char* name;    // base name; the .gz file is name + ".gz"
  const char* dotted;  // the same file as some mirrors and archives name it
  std::uint32_t magic;
  const char* sha256;  // of the .gz file
  std::uint64_t size;  // of the .gz file: downloads are capped at it
};

struct DatasetSpec {
  const char* name;   // folder name under $PLEXUS_DATA and the cache
  const char* title;  // for messages
  std::vector<const char*> mirrors;
  FileSpec files[4];  // train images, train labels, test images, test labels
};

constexpr std::uint32_t kImages = 2051;  // 0x00000803: 3-D unsigned bytes
constexpr std::uint32_t kLabels = 2049;  // 0x00000801: 1-D unsigned bytes

const DatasetSpec& mnist_spec() {
  static const DatasetSpec spec{
      "mnist",
      "MNIST",
      {"https://storage.googleapis.com/cvdf-datasets/mnist/",
       "https://ossci-datasets.s3.amazonaws.com/mnist/"},
      {{"train-images-idx3-ubyte", "train-images.idx3-ubyte", kImages,
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422},
       {"train-labels-idx1-ubyte", "train-labels.idx1-ubyte", kLabels,
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881},
       {"t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte", kImages,
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877},
       {"t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte", kLabels,
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542}}};
  return spec;
}

const DatasetSpec& fashion_spec() {
  static const DatasetSpec spec{
      "fashion_mnist",
      "Fashion-MNIST",
      {"https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
       "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"},
      {{"train-images-idx3-ubyte", "train-images.idx3-ubyte", kImages,
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880},
       {"train-labels-idx1-ubyte", "train-labels.idx1-ubyte", kLabels,
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515},
       {"t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte", kImages,
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102},
       {"t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte", kLabels,
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148}}};
  return spec;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string with_slash(std::string url) {
  if (!url.empty() && url.back() != '/') url += '/';
  return url;
}

// The first existing candidate of `file` in `dirs`, or an empty path.
std::filesystem::path find_file(const FileSpec& file,
                                const std::vector<std::filesystem::path>& dirs) {
  const std::string names[] = {std::string(file.name) + ".gz", file.name,
                               std::string(file.dotted) + ".gz", file.dotted};
  std::error_code ec;
  for (const auto& dir : dirs) {
    for (const auto& n : names) {
      const std::filesystem::path p = dir / n;
      if (std::filesystem::is_regular_file(p, ec)) return p;
    }
  }
  return {};
}

std::string list_dirs(const std::vector<std::filesystem::path>& dirs) {
  std::string s;
  for (const auto& d : dirs) s += (s.empty() ? "" : ", ") + d.string();
  return s;
}

std::filesystem::path locate(const DatasetSpec& spec, const FileSpec& file,
                             const LoadOptions& options) {
  std::vector<std::filesystem::path> dirs;
  if (!options.dir.empty()) {
    dirs = {options.dir, options.dir / spec.name};
  } else {
    if (const std::string data = env("PLEXUS_DATA"); !data.empty()) {
      dirs = {std::filesystem::path(data) / spec.name, data};
    }
  }
  const std::filesystem::path cache_root =
      options.cache_dir.empty() ? utils::default_cache_dir() : options.cache_dir;
  const std::filesystem::path cache = cache_root / "datasets" / spec.name;
  const bool use_cache = options.dir.empty();
  if (use_cache) dirs.push_back(cache);

  if (auto found = find_file(file, dirs); !found.empty()) return found;

  const std::string missing = fmt::format("{}: cannot find {}.gz (or {}); looked in {}", spec.title,
                                          file.name, file.name, list_dirs(dirs));
  const std::string hint = fmt::format(
      "Set PLEXUS_DATA (or an app's --data option) to a folder holding the {} IDX files, "
      "directly or in a {}/ subfolder",
      spec.title, spec.name);
  if (!use_cache || !options.download) throw Error("{}. {}.", missing, hint);

  std::vector<std::string> mirrors;
  if (!options.base_url.empty()) {
    mirrors = {with_slash(options.base_url)};
  } else if (const std::string root = env("PLEXUS_DATASETS_URL"); !root.empty()) {
    mirrors = {with_slash(root) + spec.name + "/"};
  } else {
    mirrors.assign(spec.mirrors.begin(), spec.mirrors.end());
  }
  std::string failures;
  const std::string gz = std::string(file.name) + ".gz";
  for (const auto& base : mirrors) {
    try {
      return utils::get_file(gz, base + gz,
                             {.file_hash = file.sha256,
                              .cache_dir = cache_root,
                              .cache_subdir = std::string("datasets/") + spec.name,
                              .file_size = file.size});
    } catch (const Error& e) {
      failures += fmt::format("\n  {}", e.what());
    }
  }
  throw Error("{}, and the download failed:{}\n{}, or set PLEXUS_DATASETS_URL to a mirror.",
              missing, failures, hint);
}

Split load_split(const DatasetSpec& spec, const FileSpec& images_file, const FileSpec& labels_file,
                 const LoadOptions& options) {
  const std::filesystem::path images_path = locate(spec, images_file, options);
  const std::filesystem::path labels_path = locate(spec, labels_file, options);
  Split s{read_idx(images_path, images_file.magic), read_idx(labels_path, labels_file.magic)};
  const std::size_t n_images = s.x.shape()[0];
  const std::size_t n_labels = s.y.shape()[0];
  if (n_images != n_labels) {
    throw Error("{}: {} holds {} labels but {} holds {} images", spec.title, labels_path.string(),
                n_labels, images_path.string(), n_images);
  }
  const float* y = s.y.data();
  for (std::size_t i = 0; i < n_labels; ++i) {
    if (y[i] > 9.0f) {
      throw Error("{}: label {} at index {} is out of range 0..9", labels_path.string(), y[i], i);
    }
  }
  return s;
}

TrainTest load(const DatasetSpec& spec, const LoadOptions& options) {
  Split train = load_split(spec, spec.files[0], spec.files[1], options);
  Split test = load_split(spec, spec.files[2], spec.files[3], options);
  return {std::move(train), std::move(test)};
}

}  // namespace

namespace mnist {
TrainTest load_data() { return load(mnist_spec(), {}); }
TrainTest load_data(const std::filesystem::path& dir) { return load(mnist_spec(), {.dir = dir}); }
TrainTest load_data(const LoadOptions& options) { return load(mnist_spec(), options); }
}  // namespace mnist

namespace fashion_mnist {
TrainTest load_data() { return load(fashion_spec(), {}); }
TrainTest load_data(const std::filesystem::path& dir) { return load(fashion_spec(), {.dir = dir}); }
TrainTest load_data(const LoadOptions& options) { return load(fashion_spec(), options); }
}  // namespace fashion_mnist

}  // namespace plexus::datasets
