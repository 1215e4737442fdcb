// Keras's CIFAR-10, CIFAR-100 (tar.gz of Python pickles), IMDB and Reuters (.npz of NumPy
// object arrays, and a word-index .json) data sets, read with the restricted unpickler.
#include "optim/data/keras_datasets_pickled.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <random>

#include "core/download.hpp"
#include "core/error.hpp"
#include "core/file_io.hpp"
#include "core/json.hpp"
#include "optim/data/detail/files.hpp"
#include "optim/data/detail/pickle.hpp"
#include "optim/data/keras_datasets.hpp"
#include "optim/saving/zip.hpp"

namespace plexus::datasets {

namespace {

namespace fs = std::filesystem;
using detail::PyValue;

constexpr const char* kKerasOrigin = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/";

// --- tar archives (ustar, GNU and pax headers), read as a stream -------------------------

std::uint64_t octal(const char* p, std::size_t n) {
  std::uint64_t v = 0;
  std::size_t i = 0;
  while (i < n && (p[i] == ' ' || p[i] == '\0')) ++i;
  for (; i < n && p[i] >= '0' && p[i] <= '7'; ++i) {
    if (v > (std::uint64_t(1) << 60)) return ~std::uint64_t(0);
    v = v * 8 + static_cast<std::uint64_t>(p[i] - '0');
  }
  return v;
}

// The contents of the archive's regular files whose base names are in `wanted` (by base
// name; `max_bytes` in all). px::Error naming the archive when it is not a tar file, is
// truncated, or corrupt (gzip is inflated as it is read).
std::map<std::string, std::string> read_tar(const fs::path& archive,
                                            const std::vector<std::string>& wanted,
                                            std::uint64_t max_bytes) {
  plexus::detail::InputFile in(archive);
  std::map<std::string, std::string> out;
  std::string long_name;
  char block[512];
  std::vector<char> skip(1 << 16);
  std::uint64_t kept = 0;
  for (;;) {
    if (in.read(block, 512) != 512) {
      throw Error("{}: not a complete tar archive (it ends inside a header)", archive.string());
    }
    if (std::all_of(block, block + 512, [](char c) { return c == 0; })) break;  // the end
    std::uint64_t sum = 0;
    for (int i = 0; i < 512; ++i) {
      sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(block[i]);
    }
    if (octal(block + 148, 8) != sum) {
      throw Error("{}: not a tar archive (a header's checksum does not match)", archive.string());
    }
    const std::uint64_t size = octal(block + 124, 12);
    if (size > (std::uint64_t(1) << 40))
      throw Error("{}: a tar entry of a bad size", archive.string());
    const char type = block[156];
    std::string name = long_name.empty() ? std::string(block, strnlen(block, 100)) : long_name;
    if (long_name.empty() && std::memcmp(block + 257, "ustar", 5) == 0 && block[345] != '\0') {
      name = std::string(block + 345, strnlen(block + 345, 155)) + "/" + name;
    }
    long_name.clear();
    const std::string base = name.substr(name.find_last_of('/') + 1);
    const bool keep_long_name = type == 'L' && size <= 4096;
    const bool keep = (type == '0' || type == '\0') &&
                      std::find(wanted.begin(), wanted.end(), base) != wanted.end() &&
                      !out.count(base);
    const std::uint64_t padded = (size + 511) / 512 * 512;
    if (keep || keep_long_name) {
      if (keep && size > max_bytes - kept) {
        throw Error("{}: {} holds more than {} bytes", archive.string(), name, max_bytes);
      }
      std::string data(static_cast<std::size_t>(size), '\0');
      if (in.read(data.data(), data.size()) != data.size()) {
        throw Error("{}: the tar archive is truncated inside {}", archive.string(), name);
      }
      for (std::uint64_t left = padded - size; left > 0;) {
        const std::size_t r = in.read(skip.data(), static_cast<std::size_t>(left));
        if (r == 0) break;
        left -= r;
      }
      if (keep_long_name) {
        long_name = data.substr(0, strnlen(data.c_str(), data.size()));
      } else {
        kept += size;
        out.emplace(base, std::move(data));
      }
      if (out.size() == wanted.size()) break;
      continue;
    }
    for (std::uint64_t left = padded; left > 0;) {
      const std::size_t r = in.read(
          skip.data(), static_cast<std::size_t>(std::min<std::uint64_t>(left, skip.size())));
      if (r == 0) throw Error("{}: the tar archive is truncated inside {}", archive.string(), name);
      left -= r;
    }
  }
  return out;
}

// --- CIFAR ---------------------------------------------------------------------------------

struct CifarSpec {
  const char* title;
  const char* inner;    // the folder the archive holds: cifar-10-batches-py
  const char* archive;  // its file name at the origin: cifar-10-python.tar.gz
  const char* sha256;
  std::uint64_t size;
  std::vector<std::string> train, test;  // batch files
};

const CifarSpec& cifar10_spec() {
  static const CifarSpec spec{
      "CIFAR-10",
      "cifar-10-batches-py",
      "cifar-10-python.tar.gz",
      "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
      170498071,
      {"data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"},
      {"test_batch"}};
  return spec;
}

const CifarSpec& cifar100_spec() {
  static const CifarSpec spec{"CIFAR-100",
                              "cifar-100-python",
                              "cifar-100-python.tar.gz",
                              "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
                              169001437,
                              {"train"},
                              {"test"}};
  return spec;
}

// Where the batch files are: a folder holding them, or an archive; download if needed.
struct CifarSource {
  fs::path folder;   // set: the files are folder / name
  fs::path archive;  // else: inside this .tar.gz
};

CifarSource locate_cifar(const CifarSpec& spec, const CifarLoadOptions& o) {
  std::error_code ec;
  const std::string first = spec.train.front();
  std::vector<fs::path> roots;
  if (!o.dir.empty()) {
    roots.push_back(o.dir);
  } else if (const char* data = std::getenv("PLEXUS_DATA"); data && *data) {
    roots.push_back(data);
  }
  std::string looked;
  for (const auto& r : roots) {
    for (const fs::path& d : {r / spec.inner, r}) {
      if (fs::is_regular_file(d / first, ec)) return {d, {}};
    }
    if (fs::is_regular_file(r / spec.archive, ec)) return {{}, r / spec.archive};
    looked += (looked.empty() ? "" : ", ") + r.string();
  }
  if (!o.dir.empty()) {
    throw Error("{}: cannot find {}/{} or {} in {}", spec.title, spec.inner, first, spec.archive,
                o.dir.string());
  }
  // Keras's cache layout: get_file(fname=<inner>-target, extract=True).
  const fs::path cache_root = o.cache_dir.empty() ? utils::default_cache_dir() : o.cache_dir;
  const std::string target = std::string(spec.inner) + "-target";
  const fs::path extracted = cache_root / "datasets" / target / spec.inner;
  if (fs::is_regular_file(extracted / first, ec)) return {extracted, {}};
  const std::string archive_name = target + "_archive";
  const fs::path archive = cache_root / "datasets" / archive_name;
  if (fs::is_regular_file(archive, ec)) return {{}, archive};
  looked += (looked.empty() ? "" : ", ") + (cache_root / "datasets").string();
  if (!o.download) {
    throw Error("{}: cannot find {} or {}; looked in {}", spec.title, spec.inner, spec.archive,
                looked);
  }
  const std::string origin =
      o.origin.empty() ? std::string("https://www.cs.toronto.edu/~kriz/") + spec.archive : o.origin;
  return {{},
          utils::get_file(archive_name, origin,
                          {.file_hash = spec.sha256,
                           .cache_dir = cache_root,
                           .cache_subdir = "datasets",
                           .file_size = spec.size})};
}

// Keras's load_batch: the dict's "data" (n, 3072) uint8 as (n, 32, 32, 3) channels last, and
// its labels as (n, 1).
Split load_batch(std::string_view bytes, const std::string& what, const std::string& label_key) {
  const detail::Unpickled u = detail::unpickle(bytes, what);
  const PyValue* data = u.root->get("data");
  const PyValue* labels = u.root->get(label_key);
  if (u.root->kind != PyValue::kDict || !data || !labels) {
    throw Error("{}: not a CIFAR batch (a dict with \"data\" and \"{}\")", what, label_key);
  }
  if (data->kind != PyValue::kArray || !data->built || data->shape.size() != 2 ||
      data->shape[1] != 3072 || data->dtype->dtype_kind != 'u' || data->dtype->dtype_size != 1 ||
      data->fortran) {
    throw Error("{}: \"data\" is not a (n, 3072) uint8 array", what);
  }
  const std::vector<std::int64_t> y =
      detail::int_sequence(*labels, what + " \"" + label_key + "\"");
  const std::size_t n = data->shape[0];
  if (y.size() != n) {
    throw Error("{}: {} images but {} labels", what, n, y.size());
  }
  Split s{Tensor::from_shape({n, 32, 32, 3}), Tensor::from_shape({n, 1})};
  const auto* p = reinterpret_cast<const unsigned char*>(data->data->s.data());
  float* x = s.x.data();
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char* img = p + i * 3072;  // (3, 32, 32)
    float* out = x + i * 3072;                // (32, 32, 3)
    for (std::size_t c = 0; c < 3; ++c) {
      for (std::size_t k = 0; k < 1024; ++k) out[k * 3 + c] = img[c * 1024 + k];
    }
    s.y.data()[i] = static_cast<float>(y[i]);
  }
  return s;
}

Split concat(std::vector<Split> parts) {
  if (parts.size() == 1) return std::move(parts.front());
  std::size_t n = 0;
  for (const auto& p : parts) n += p.x.shape()[0];
  Split s{Tensor::from_shape({n, 32, 32, 3}), Tensor::from_shape({n, 1})};
  std::size_t at = 0;
  for (const auto& p : parts) {
    const std::size_t m = p.x.shape()[0];
    std::copy_n(p.x.data(), m * 3072, s.x.data() + at * 3072);
    std::copy_n(p.y.data(), m, s.y.data() + at);
    at += m;
  }
  return s;
}

TrainTest load_cifar(const CifarSpec& spec, const CifarLoadOptions& o,
                     const std::string& label_key) {
  const CifarSource src = locate_cifar(spec, o);
  std::vector<std::string> names = spec.train;
  names.insert(names.end(), spec.test.begin(), spec.test.end());
  std::map<std::string, std::string> files;
  if (!src.archive.empty()) {
    files = read_tar(src.archive, names, std::uint64_t(1) << 30);
  } else {
    for (const auto& n : names) {
      std::error_code ec;
      if (fs::is_regular_file(src.folder / n, ec)) {
        files.emplace(n, plexus::detail::read_file_bytes(src.folder / n, std::size_t(1) << 30,
                                                         "a CIFAR batch"));
      }
    }
  }
  auto part = [&](const std::vector<std::string>& batch_names) {
    std::vector<Split> parts;
    for (const auto& n : batch_names) {
      const std::string what =
          src.archive.empty() ? (src.folder / n).string() : src.archive.string() + " (" + n + ")";
      const auto it = files.find(n);
      if (it == files.end()) throw Error("{}: {} is missing", spec.title, what);
      parts.push_back(load_batch(it->second, what, label_key));
    }
    return concat(std::move(parts));
  };
  return {part(spec.train), part(spec.test)};
}

// --- IMDB and Reuters ----------------------------------------------------------------------

fs::path locate_text_file(const char* title, const std::string& file, const char* hash,
                          const TextLoadOptions& o) {
  std::error_code ec;
  std::vector<fs::path> dirs;
  if (!o.dir.empty()) {
    dirs.push_back(o.dir);
  } else if (const char* data = std::getenv("PLEXUS_DATA"); data && *data) {
    dirs.push_back(data);
  }
  for (const auto& d : dirs) {
    if (fs::is_regular_file(d / file, ec)) return d / file;
  }
  if (!o.dir.empty()) throw Error("{}: cannot find {} in {}", title, file, o.dir.string());
  const fs::path cache_root = o.cache_dir.empty() ? utils::default_cache_dir() : o.cache_dir;
  if (!o.download) {
    const fs::path cached = cache_root / "datasets" / file;
    if (fs::is_regular_file(cached, ec)) return cached;
    std::string looked;
    for (const auto& d : dirs) looked += d.string() + ", ";
    throw Error("{}: cannot find {}; looked in {}{}", title, file, looked,
                (cache_root / "datasets").string());
  }
  std::string base = o.base_url.empty() ? std::string(kKerasOrigin) : o.base_url;
  if (base.back() != '/') base += '/';
  // Keras: get_file(fname=path, origin=origin_folder + "<name>", file_hash=...): the cached
  // copy is checked against the hash too.
  const std::string origin_name = std::string(hash).size() == 32
                                      ? std::string(title) + "_word_index.json"
                                      : std::string(title) + ".npz";
  return utils::get_file(file, base + origin_name,
                         {.file_hash = hash, .cache_dir = cache_root, .cache_subdir = "datasets"});
}

using Sequences = std::vector<std::vector<std::int64_t>>;

// Keras's steps after loading: start_char / index_from, remove_long_seq, num_words /
// skip_top / oov_char. `xs` and `labels` already shuffled; returns the final sequences.
std::vector<std::vector<float>> finish(Sequences& xs, std::vector<float>& labels,
                                       const TextLoadOptions& o) {
  for (auto& x : xs) {
    for (auto& w : x) w += o.index_from;
    if (o.start_char) x.insert(x.begin(), *o.start_char);
  }
  if (o.maxlen && *o.maxlen > 0) {  // Keras: `if maxlen:` then keep len(x) < maxlen
    Sequences kept;
    std::vector<float> kept_labels;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      if (xs[i].size() < *o.maxlen) {
        kept.push_back(std::move(xs[i]));
        kept_labels.push_back(labels[i]);
      }
    }
    xs.swap(kept);
    labels.swap(kept_labels);
  }
  std::int64_t num_words = o.num_words.value_or(0);
  if (num_words == 0) {  // Keras: `if not num_words: num_words = max(max(x) for x in xs)`
    bool any = false;
    for (const auto& x : xs) {
      if (x.empty()) {
        throw Error("max() arg is an empty sequence (an empty sequence and no num_words)");
      }
      for (auto w : x) {
        num_words = any ? std::max(num_words, w) : w;
        any = true;
      }
    }
  }
  std::vector<std::vector<float>> out(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    out[i].reserve(xs[i].size());
    for (auto w : xs[i]) {
      if (o.skip_top <= w && w < num_words) {
        out[i].push_back(static_cast<float>(w));
      } else if (o.oov_char) {
        out[i].push_back(static_cast<float>(*o.oov_char));
      }
    }
  }
  return out;
}

std::vector<float> labels_of(const fs::path& path, const std::string& name) {
  const Tensor y = read_npz_array(path, name);
  if (y.dimension() != 1) {
    throw Error("{}: \"{}\" has shape {}, not one label per sequence", path.string(), name,
                shape_str(shape_of(y)));
  }
  return std::vector<float>(y.data(), y.data() + y.size());
}

void permute(Sequences& xs, std::vector<float>& ys, std::mt19937& mt) {
  std::vector<std::size_t> idx(xs.size());
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  utils::detail::numpy_shuffle(idx, mt);
  Sequences x2(xs.size());
  std::vector<float> y2(ys.size());
  for (std::size_t i = 0; i < idx.size(); ++i) {
    x2[i] = std::move(xs[idx[i]]);
    y2[i] = ys[idx[i]];
  }
  xs.swap(x2);
  ys.swap(y2);
}

Tensor vector_tensor(const std::vector<float>& v) {
  Tensor t = Tensor::from_shape({v.size()});
  std::copy(v.begin(), v.end(), t.data());
  return t;
}

std::map<std::string, std::int64_t> word_index(const fs::path& path) {
  const std::string text =
      plexus::detail::read_file_bytes(path, std::size_t(1) << 28, "a word index");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw Error("{}: not a JSON word index: {}", path.string(), e.what());
  }
  if (!j.is_object()) throw Error("{}: not a JSON object of words", path.string());
  std::map<std::string, std::int64_t> out;
  for (const auto& [k, v] : j.items()) {
    if (!v.is_number_integer())
      throw Error("{}: the index of \"{}\" is not an integer", path.string(), k);
    out.emplace(k, v.get<std::int64_t>());
  }
  return out;
}

}  // namespace

std::vector<std::vector<std::int64_t>> read_npz_sequences(const fs::path& path,
                                                          const std::string& name) {
  const auto entries = saving::zip::read(path.string(), {name + ".npy"}, std::size_t{1} << 32);
  const std::string* bytes = entries.find(name + ".npy");
  if (!bytes) throw Error("{}: the archive has no array \"{}\"", path.string(), name);
  const std::string what = fmt::format("{} ({}.npy)", path.string(), name);
  // The .npy header (versions 1 to 3), then the pickle of the object array.
  const std::string& b = *bytes;
  if (b.size() < 10 || std::memcmp(b.data(), "\x93NUMPY", 6) != 0) {
    throw Error("{}: not a .npy array (no \\x93NUMPY magic)", what);
  }
  const int major = static_cast<unsigned char>(b[6]);
  std::size_t header = 0, start = 0;
  if (major == 1) {
    header =
        static_cast<unsigned char>(b[8]) | (std::size_t(static_cast<unsigned char>(b[9])) << 8);
    start = 10;
  } else if ((major == 2 || major == 3) && b.size() >= 12) {
    for (int k = 0; k < 4; ++k)
      header |= std::size_t(static_cast<unsigned char>(b[8 + k])) << (8 * k);
    start = 12;
  } else {
    throw Error("{}: unsupported .npy format version {}", what, major);
  }
  if (header > b.size() - start) throw Error("{}: truncated .npy header", what);
  const std::string_view head(b.data() + start, header);
  if (head.find("'descr': '|O'") == std::string_view::npos) {
    throw Error("{}: not an object array (the header is {})", what, head);
  }
  const detail::Unpickled u = detail::unpickle(std::string_view(b).substr(start + header), what);
  const PyValue* a = u.root;
  if (a->kind != PyValue::kArray || !a->built || a->dtype->dtype_kind != 'O' ||
      a->shape.size() != 1) {
    throw Error("{}: the pickle is not a 1-D object array", what);
  }
  std::vector<std::vector<std::int64_t>> out;
  out.reserve(a->data->items.size());
  for (const PyValue* x : a->data->items) {
    out.push_back(detail::int_sequence(*x, what + ": a sequence"));
  }
  return out;
}

namespace cifar10 {
TrainTest load_data(const CifarLoadOptions& options) {
  return load_cifar(cifar10_spec(), options, "labels");
}
}  // namespace cifar10

namespace cifar100 {
TrainTest load_data(const CifarLoadOptions& options) {
  if (options.label_mode != "fine" && options.label_mode != "coarse") {
    throw Error("`label_mode` must be one of `\"fine\"`, `\"coarse\"`. Received: label_mode={}.",
                options.label_mode);
  }
  return load_cifar(cifar100_spec(), options, options.label_mode + "_labels");
}
}  // namespace cifar100

namespace imdb {
SequenceTrainTest load_data(const TextLoadOptions& o) {
  const fs::path path =
      locate_text_file("imdb", o.path.empty() ? "imdb.npz" : o.path,
                       "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f", o);
  Sequences x_train = read_npz_sequences(path, "x_train"),
            x_test = read_npz_sequences(path, "x_test");
  std::vector<float> y_train = labels_of(path, "y_train"), y_test = labels_of(path, "y_test");
  if (x_train.size() != y_train.size() || x_test.size() != y_test.size()) {
    throw Error("{}: {} and {} sequences but {} and {} labels", path.string(), x_train.size(),
                x_test.size(), y_train.size(), y_test.size());
  }
  std::mt19937 mt(static_cast<std::uint32_t>(o.seed));  // one RandomState for both parts
  permute(x_train, y_train, mt);
  permute(x_test, y_test, mt);
  // Keras runs remove_long_seq on each part, the rest on both together.
  TextLoadOptions first = o;
  first.num_words = std::numeric_limits<std::int64_t>::max();
  first.oov_char.reset();
  first.skip_top = std::numeric_limits<std::int64_t>::min();
  auto xtr = finish(x_train, y_train, first), xte = finish(x_test, y_test, first);
  if (o.maxlen && *o.maxlen > 0 && (xtr.empty() || xte.empty())) {
    throw Error(
        "After filtering for sequences shorter than maxlen={}, no sequence was kept. Increase "
        "maxlen.",
        *o.maxlen);
  }
  // num_words / skip_top / oov_char over both parts (the ids are final already).
  Sequences all;
  for (auto* part : {&xtr, &xte}) {
    for (auto& x : *part) all.emplace_back(x.begin(), x.end());
  }
  std::vector<float> labels(y_train);
  labels.insert(labels.end(), y_test.begin(), y_test.end());
  TextLoadOptions second = o;
  second.index_from = 0;
  second.start_char.reset();
  second.maxlen.reset();
  auto xs = finish(all, labels, second);
  const std::size_t idx = xtr.size();
  SequenceSplit train{
      std::vector<std::vector<float>>(xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(idx)),
      vector_tensor(y_train)};
  SequenceSplit test{
      std::vector<std::vector<float>>(xs.begin() + static_cast<std::ptrdiff_t>(idx), xs.end()),
      vector_tensor(y_test)};
  return {std::move(train), std::move(test)};
}

std::map<std::string, std::int64_t> get_word_index(const TextLoadOptions& o) {
  return word_index(locate_text_file("imdb", o.path.empty() ? "imdb_word_index.json" : o.path,
                                     "bfafd718b763782e994055a2d397834f", o));
}
}  // namespace imdb

namespace reuters {
SequenceTrainTest load_data(const TextLoadOptions& o) {
  if (!(o.test_split >= 0 && o.test_split <= 1)) {
    throw Error("reuters.load_data: test_split must be between 0 and 1, received {}", o.test_split);
  }
  const fs::path path =
      locate_text_file("reuters", o.path.empty() ? "reuters.npz" : o.path,
                       "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916", o);
  Sequences xs = read_npz_sequences(path, "x");
  std::vector<float> labels = labels_of(path, "y");
  if (xs.size() != labels.size()) {
    throw Error("{}: {} sequences but {} labels", path.string(), xs.size(), labels.size());
  }
  std::mt19937 mt(static_cast<std::uint32_t>(o.seed));
  permute(xs, labels, mt);
  auto out = finish(xs, labels, o);
  const auto idx = static_cast<std::size_t>(static_cast<double>(out.size()) * (1 - o.test_split));
  std::vector<float> ytr(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(idx)),
      yte(labels.begin() + static_cast<std::ptrdiff_t>(idx), labels.end());
  SequenceSplit train{
      std::vector<std::vector<float>>(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(idx)),
      vector_tensor(ytr)};
  SequenceSplit test{
      std::vector<std::vector<float>>(out.begin() + static_cast<std::ptrdiff_t>(idx), out.end()),
      vector_tensor(yte)};
  return {std::move(train), std::move(test)};
}

std::map<std::string, std::int64_t> get_word_index(const TextLoadOptions& o) {
  return word_index(locate_text_file("reuters", o.path.empty() ? "reuters_word_index.json" : o.path,
                                     "4d44cc38712099c9e383dc6e5f11a921", o));
}

const std::vector<std::string>& get_label_names() {
  static const std::vector<std::string> names = {
      "cocoa",        "grain",   "veg-oil",   "earn",
      "acq",          "wheat",   "copper",    "housing",
      "money-supply", "coffee",  "sugar",     "trade",
      "reserves",     "ship",    "cotton",    "carcass",
      "crude",        "nat-gas", "cpi",       "money-fx",
      "interest",     "gnp",     "meal-feed", "alum",
      "oilseed",      "gold",    "tin",       "strategic-metal",
      "livestock",    "retail",  "ipi",       "iron-steel",
      "rubber",       "heat",    "jobs",      "lei",
      "bop",          "zinc",    "orange",    "pet-chem",
      "dlr",          "gas",     "silver",    "wpi",
      "hog",          "lead"};
  return names;
}
}  // namespace reuters

}  // namespace plexus::datasets
