// Keras's boston_housing and california_housing datasets (.npz archives) and the .npy reader.
#include "optim/data/keras_datasets.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <regex>

#include "core/download.hpp"
#include "core/error.hpp"
#include "optim/data/detail/files.hpp"
#include "optim/saving/zip.hpp"

namespace plexus::datasets {

namespace {

template <typename T>
void convert(const char* p, std::size_t n, bool swap, float* out) {
  for (std::size_t i = 0; i < n; ++i) {
    T v;
    char b[sizeof(T)];
    std::memcpy(b, p + i * sizeof(T), sizeof(T));
    if (swap) std::reverse(b, b + sizeof(T));
    std::memcpy(&v, b, sizeof(T));
    out[i] = static_cast<float>(v);
  }
}

Tensor parse_npy(const std::string& bytes, const std::string& what) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) {
    throw Error("{}: not a .npy array (no \\x93NUMPY magic)", what);
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, start = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) |
                 (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw Error("{}: truncated .npy header", what);
    for (int k = 0; k < 4; ++k) {
      header_len |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + k])) << (8 * k);
    }
    start = 12;
  } else {
    throw Error("{}: .npy format version {} is not supported", what, major);
  }
  if (start + header_len > bytes.size()) throw Error("{}: truncated .npy header", what);
  const std::string header = bytes.substr(start, header_len);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([<>|=])([a-z])(\\d+)'"))) {
    throw Error("{}: .npy header without a plain dtype: {}", what, header);
  }
  const char order = m[1].str()[0];
  const char kind = m[2].str()[0];
  const std::size_t size = std::stoul(m[3].str());
  if (std::regex_search(header, std::regex("'fortran_order':\\s*True"))) {
    throw Error("{}: Fortran-order arrays are not supported", what);
  }
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)"))) {
    throw Error("{}: .npy header without a shape: {}", what, header);
  }
  std::vector<std::size_t> shape;
  const std::string dims = m[1].str();
  const std::regex digits("\\d+");
  for (std::sregex_iterator it(dims.begin(), dims.end(), digits), end; it != end; ++it) {
    shape.push_back(std::stoul(it->str()));
  }
  const std::size_t n =
      std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<std::size_t>());
  const std::size_t body = start + header_len;
  if (size == 0 || n > (bytes.size() - body) / size) {
    throw Error("{}: the array of shape {} needs {} bytes, the file holds {}", what,
                shape_str(Shape(shape.begin(), shape.end())), n * size, bytes.size() - body);
  }
  const bool swap = order == '>';
  Tensor t = Tensor::from_shape(shape);
  const char* p = bytes.data() + body;
  if (kind == 'f' && size == 8) {
    convert<double>(p, n, swap, t.data());
  } else if (kind == 'f' && size == 4) {
    convert<float>(p, n, swap, t.data());
  } else if (kind == 'i' && size == 8) {
    convert<std::int64_t>(p, n, swap, t.data());
  } else if (kind == 'i' && size == 4) {
    convert<std::int32_t>(p, n, swap, t.data());
  } else if (kind == 'i' && size == 2) {
    convert<std::int16_t>(p, n, swap, t.data());
  } else if (kind == 'i' && size == 1) {
    convert<std::int8_t>(p, n, false, t.data());
  } else if ((kind == 'u' || kind == 'b') && size == 1) {
    convert<std::uint8_t>(p, n, false, t.data());
  } else if (kind == 'u' && size == 2) {
    convert<std::uint16_t>(p, n, swap, t.data());
  } else {
    throw Error("{}: dtype '{}{}' is not supported", what, kind, size);
  }
  return t;
}

struct NpzSpec {
  const char* name;
  const char* sha256;
};

std::filesystem::path locate(const NpzSpec& spec, const NpzLoadOptions& o) {
  const std::string file = std::string(spec.name) + ".npz";
  std::vector<std::filesystem::path> dirs;
  if (!o.dir.empty()) {
    dirs = {o.dir / spec.name, o.dir};
  } else if (const char* data = std::getenv("PLEXUS_DATA"); data && *data) {
    dirs = {std::filesystem::path(data) / spec.name, data};
  }
  const auto cache_root = o.cache_dir.empty() ? utils::default_cache_dir() : o.cache_dir;
  if (o.dir.empty()) dirs.push_back(cache_root / "datasets");
  std::error_code ec;
  for (auto& d : dirs) {
    if (std::filesystem::is_regular_file(d / file, ec)) return d / file;
  }
  std::string looked;
  for (auto& d : dirs) looked += (looked.empty() ? "" : ", ") + d.string();
  if (!o.dir.empty() || !o.download) {
    throw Error("{}: cannot find {}; looked in {}", spec.name, file, looked);
  }
  std::string base =
      o.base_url.empty()
          ? std::string("https://storage.googleapis.com/tensorflow/tf-keras-datasets/")
          : o.base_url;
  if (base.back() != '/') base += '/';
  return utils::get_file(
      file, base + file,
      {.file_hash = spec.sha256, .cache_dir = cache_root, .cache_subdir = "datasets"});
}

// Keras: shuffle with RandomState(seed), split at int(n * (1 - test_split)).
TrainTest shuffle_split(const std::filesystem::path& path, const NpzLoadOptions& o,
                        std::size_t limit) {
  if (!(o.test_split >= 0 && o.test_split < 1)) {
    throw Error("Invalid `test_split` argument: {}. It must be between 0 and 1 (exclusive of 1).",
                o.test_split);
  }
  Tensor x = read_npz_array(path, "x"), y = read_npz_array(path, "y");
  if (x.dimension() == 0 || y.dimension() == 0 || x.shape()[0] != y.shape()[0]) {
    throw Error("{}: x of shape {} and y of shape {} do not have the same number of rows",
                path.string(), shape_str(shape_of(x)), shape_str(shape_of(y)));
  }
  const std::size_t n = std::min(x.shape()[0], limit);
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  utils::detail::numpy_shuffle(idx, o.seed);
  const auto cut = static_cast<std::size_t>(static_cast<double>(n) * (1 - o.test_split));
  auto take = [&](const Tensor& t, std::size_t b, std::size_t e) {
    std::vector<std::size_t> shape(t.shape().begin(), t.shape().end());
    shape[0] = e - b;
    Tensor out = Tensor::from_shape(shape);
    const std::size_t row = t.size() / t.shape()[0];
    for (std::size_t i = b; i < e; ++i) {
      std::copy_n(t.data() + idx[i] * row, row, out.data() + (i - b) * row);
    }
    return out;
  };
  return {Split{take(x, 0, cut), take(y, 0, cut)}, Split{take(x, cut, n), take(y, cut, n)}};
}

}  // namespace

Tensor read_npz_array(const std::filesystem::path& path, const std::string& name) {
  const auto entries = saving::zip::read(path.string(), {name + ".npy"}, std::size_t{1} << 32);
  const std::string* bytes = entries.find(name + ".npy");
  if (!bytes) throw Error("{}: the archive has no array \"{}\"", path.string(), name);
  return parse_npy(*bytes, fmt::format("{} ({}.npy)", path.string(), name));
}

namespace boston_housing {
TrainTest load_data(const NpzLoadOptions& options) {
  static const NpzSpec spec{"boston_housing",
                            "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"};
  return shuffle_split(locate(spec, options), options, static_cast<std::size_t>(-1));
}
}  // namespace boston_housing

namespace california_housing {
TrainTest load_data(const NpzLoadOptions& options) {
  if (options.version != "small" && options.version != "large") {
    throw Error("Argument `version` must be one of 'small', 'large'. Received: version={}",
                options.version);
  }
  static const NpzSpec spec{"california_housing",
                            "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"};
  return shuffle_split(locate(spec, options), options,
                       options.version == "small" ? 600 : static_cast<std::size_t>(-1));
}
}  // namespace california_housing

}  // namespace plexus::datasets
