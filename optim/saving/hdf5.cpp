#include "optim/saving/hdf5.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <hdf5.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <mutex>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/error.hpp"
#include "optim/saving/detail/hdf5_snapshot.hpp"

namespace plexus::saving::h5 {

static_assert(std::is_same_v<hid_t, std::int64_t>, "HDF5 1.10+ (64-bit hid_t) is required");

namespace {

// Keras weights are small next to memory, but a hostile file may declare any shape: no
// dataset beyond 2^31 elements, no rank beyond 32.
constexpr hsize_t kMaxElements = hsize_t(1) << 31;
constexpr int kMaxRank = 32;
constexpr std::size_t kMaxStringBytes = std::size_t(1) << 28;
// A snapshot: at most this many groups and datasets, nested at most this deep (a hard link
// to an ancestor makes a cycle), at most this many attributes on one group.
constexpr std::size_t kMaxObjects = std::size_t(1) << 18;
constexpr int kMaxDepth = 32;
constexpr hsize_t kMaxAttributes = 4096;

// libhdf5 calls of this process's threads (writing files) and the fork of a reader process
// take this lock: the child must not start while another thread holds libhdf5's own lock.
// The child itself (single-threaded) takes no lock: it may have been forked holding it.
bool g_in_child = false;
std::recursive_mutex& h5_mutex() {
  static std::recursive_mutex m;
  return m;
}
class Lock {
 public:
  Lock() {
    if (!g_in_child) h5_mutex().lock();
  }
  ~Lock() {
    if (!g_in_child) h5_mutex().unlock();
  }
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;
};

// HDF5 prints its error stack to stderr by default; plexus reports errors itself.
void quiet() {
  static const bool once = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)once;
}

int close_file(hid_t id) { return H5Fclose(id); }
int close_group(hid_t id) { return H5Gclose(id); }
int close_dataset(hid_t id) { return H5Dclose(id); }
int close_space(hid_t id) { return H5Sclose(id); }
int close_type(hid_t id) { return H5Tclose(id); }
int close_attr(hid_t id) { return H5Aclose(id); }
int close_plist(hid_t id) { return H5Pclose(id); }

Handle checked(hid_t id, int (*close)(hid_t), const std::string& what) {
  if (id < 0) throw Error("HDF5: cannot {}", what);
  return Handle(id, close);
}

std::string name_z(std::string_view s) { return std::string(s); }

std::string where_of(const std::string& file, const std::string& path, std::string_view name) {
  return fmt::format("\"{}\" {}/{}", file, path == "/" ? std::string_view() : path, name);
}

std::string child_path(const std::string& path, const std::string& name) {
  return path == "/" ? "/" + name : path + "/" + name;
}

// Link exists and points at an object of the given type.
bool has_object(hid_t loc, std::string_view name, H5O_type_t type) {
  const std::string n = name_z(name);
  if (n.empty() || n.find('/') != std::string::npos) return false;
  if (H5Lexists(loc, n.c_str(), H5P_DEFAULT) <= 0) return false;
  H5O_info_t info;
  if (H5Oget_info_by_name2(loc, n.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return false;
  return info.type == type;
}

struct Extent {
  Shape shape;
  hsize_t elements = 1;
};

Extent extent_of(hid_t space, const std::string& where) {
  if (H5Sget_simple_extent_type(space) == H5S_NULL) {
    throw Error("HDF5 {}: the dataset has no data (null dataspace)", where);
  }
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0 || rank > kMaxRank) {
    throw Error("HDF5 {}: unsupported rank {}", where, rank);
  }
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space, dims.data(), nullptr) < 0) {
    throw Error("HDF5 {}: cannot read the dataset's shape", where);
  }
  Extent e;
  for (hsize_t d : dims) {
    if (d != 0 && e.elements > kMaxElements / d) {
      throw Error("HDF5 {}: the dataset is too large", where);
    }
    e.elements *= d;
    e.shape.push_back(static_cast<Dim>(d));
  }
  if (e.elements > kMaxElements) throw Error("HDF5 {}: the dataset is too large", where);
  return e;
}

// The names of a group's links, in HDF5's (alphabetical) order.
std::vector<std::string> link_names(hid_t group, const std::string& w) {
  std::vector<std::string> out;
  H5G_info_t info;
  if (H5Gget_info(group, &info) < 0) throw Error("HDF5 {}: cannot list", w);
  if (info.nlinks > 1000000) throw Error("HDF5 {}: too many children", w);
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t n =
        H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (n < 0 || n > 65536) throw Error("HDF5 {}: bad child name", w);
    std::string name(static_cast<std::size_t>(n) + 1, '\0');
    H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(),
                       H5P_DEFAULT);
    name.resize(static_cast<std::size_t>(n));
    out.push_back(std::move(name));
  }
  return out;
}

// A string attribute: scalar or 1-D, fixed or variable length (h5py writes both). `w` names
// it in errors.
std::vector<std::string> read_string_attribute(hid_t loc, const std::string& n,
                                               const std::string& w) {
  Handle attr = checked(H5Aopen(loc, n.c_str(), H5P_DEFAULT), close_attr, "open " + w);
  Handle type = checked(H5Aget_type(attr.id()), close_type, "read the type of " + w);
  Handle space = checked(H5Aget_space(attr.id()), close_space, "read the shape of " + w);
  // h5py writes an empty list as an empty float array.
  if (H5Sget_simple_extent_type(space.id()) == H5S_NULL) return {};
  const Extent e = extent_of(space.id(), w);
  if (e.elements == 0) return {};
  if (H5Tget_class(type.id()) != H5T_STRING) throw Error("HDF5 {}: expected a string", w);
  if (e.shape.size() > 1) throw Error("HDF5 {}: expected a string or a list of strings", w);
  const std::size_t count = static_cast<std::size_t>(e.elements);
  std::vector<std::string> out;
  if (H5Tis_variable_str(type.id()) > 0) {
    if (count > 1000000) throw Error("HDF5 {}: too many strings", w);
    Handle mem = checked(H5Tcopy(H5T_C_S1), close_type, "make a string type");
    H5Tset_size(mem.id(), H5T_VARIABLE);
    H5Tset_cset(mem.id(), H5Tget_cset(type.id()));
    std::vector<char*> ptrs(count, nullptr);
    if (count > 0 && H5Aread(attr.id(), mem.id(), ptrs.data()) < 0) {
      throw Error("HDF5 {}: cannot read", w);
    }
    for (char* p : ptrs) out.emplace_back(p ? p : "");
    if (count > 0) H5Dvlen_reclaim(mem.id(), space.id(), H5P_DEFAULT, ptrs.data());
  } else {
    const std::size_t width = H5Tget_size(type.id());
    if (width == 0 || (count > 0 && width > kMaxStringBytes / count)) {
      throw Error("HDF5 {}: the strings are too large", w);
    }
    std::vector<char> buf(width * count + 1, '\0');
    if (count > 0 && H5Aread(attr.id(), type.id(), buf.data()) < 0) {
      throw Error("HDF5 {}: cannot read", w);
    }
    for (std::size_t i = 0; i < count; ++i) {
      const char* p = buf.data() + i * width;
      out.emplace_back(p, strnlen(p, width));
    }
  }
  return out;
}

std::string attribute_where(const std::string& file, const std::string& path,
                            const std::string& n) {
  return where_of(file, path, "") + " attribute \"" + n + "\"";
}

// One number from a scalar (or one-element) integer or float dataset, converted by HDF5;
// an error message, or "". `extent_error`, `elements`: what extent_of gave.
template <typename T>
std::string read_scalar(hid_t ds, H5T_class_t cls, const std::string& extent_error,
                        hsize_t elements, const std::string& w, hid_t native, T& v) {
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
    return fmt::format("HDF5 {}: expected a number, found another type", w);
  }
  if (!extent_error.empty()) return extent_error;
  if (elements != 1) return fmt::format("HDF5 {}: expected one value, found {}", w, elements);
  if (H5Dread(ds, native, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) < 0) {
    return fmt::format("HDF5 {}: cannot read the value", w);
  }
  return {};
}

// Everything each read of a dataset would give (or the error it would throw). Values are
// read only within `budget` bytes (as float32; null: no limit), which is decremented.
// px::Error when the dataset cannot be opened.
detail::Dataset describe_dataset(hid_t group, const std::string& n, const std::string& w,
                                 std::uint64_t* budget) {
  detail::Dataset d;
  Handle ds = checked(H5Dopen2(group, n.c_str(), H5P_DEFAULT), close_dataset, "open dataset " + w);
  Handle type = checked(H5Dget_type(ds.id()), close_type, "read the type of " + w);
  const H5T_class_t cls = H5Tget_class(type.id());
  d.cls = cls == H5T_FLOAT ? 'F' : cls == H5T_INTEGER ? 'I' : 'X';
  // dataset_shape
  std::string extent_error;
  Extent e;
  try {
    Handle space = checked(H5Dget_space(ds.id()), close_space, "read the shape of " + w);
    e = extent_of(space.id(), w);
  } catch (const Error& err) {
    extent_error = err.what();
  }
  if (d.cls == 'X') {
    d.shape_error = fmt::format("HDF5 {}: expected a float array, found another type", w);
  } else {
    d.shape_error = extent_error;
  }
  if (extent_error.empty()) d.shape = e.shape;
  // read_dataset
  const std::size_t size = H5Tget_size(type.id());
  if (d.cls != 'F') {
    d.read_error =
        fmt::format("HDF5 {}: expected float32 or float64 values, found another type", w);
  } else if (size != 4 && size != 8 && size != 2) {
    d.read_error = fmt::format("HDF5 {}: unsupported float width of {} bytes", w, size);
  } else if (!extent_error.empty()) {
    d.read_error = extent_error;
  } else if (budget != nullptr && e.elements * 4 > *budget) {
    d.values_error = fmt::format(
        "HDF5 {}: {} values are more than a file of its size can hold (a corrupt or hostile "
        "file?)",
        w, e.elements);
  } else {
    if (budget != nullptr) *budget -= e.elements * 4;
    d.values.resize(static_cast<std::size_t>(e.elements));
    if (e.elements > 0 &&
        H5Dread(ds.id(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.values.data()) < 0) {
      d.values.clear();
      d.values_error =
          fmt::format("HDF5 {}: cannot read the values (a corrupt or truncated file?)", w);
    }
  }
  d.int_error = read_scalar<std::int64_t>(ds.id(), cls, extent_error, e.elements, w,
                                          H5T_NATIVE_INT64, d.int_value);
  d.double_error = read_scalar<double>(ds.id(), cls, extent_error, e.elements, w, H5T_NATIVE_DOUBLE,
                                       d.double_value);
  return d;
}

// The reads of h5::Group, from a detail::Dataset.
Tensor dataset_tensor(const detail::Dataset& d, const std::string& w, const Shape* expected,
                      std::string_view what) {
  if (!d.read_error.empty()) throw Error("{}", d.read_error);
  if (expected != nullptr && d.shape != *expected) {
    throw Error("{}: the file holds shape {} at {}, the model expects {}",
                what.empty() ? w : std::string(what), shape_str(d.shape), w, shape_str(*expected));
  }
  if (!d.values_error.empty()) throw Error("{}", d.values_error);
  const std::size_t count = d.raw ? d.count : d.values.size();
  Tensor t;
  resize_to(t, d.shape);
  if (t.size() != count) {
    throw Error("HDF5 {}: {} values for shape {}", w, count, shape_str(d.shape));
  }
  if (count > 0) {
    std::memcpy(t.data(), d.raw ? static_cast<const void*>(d.raw) : d.values.data(),
                count * sizeof(float));
  }
  return t;
}

// --- the reader process: the whole tree, read by libhdf5 -------------------------------

struct TreeLimits {
  std::uint64_t budget;  // bytes of float32 values still allowed
  std::size_t objects = 0;
};

std::shared_ptr<detail::Node> read_tree(hid_t group, const std::string& file,
                                        const std::string& path, int depth, TreeLimits& lim) {
  if (depth > kMaxDepth) {
    throw Error("HDF5 \"{}\": groups nest deeper than {} levels at {} (a link cycle?)", file,
                kMaxDepth, path);
  }
  auto node = std::make_shared<detail::Node>();
  node->kind = 'G';
  // Attributes: every one the group has, read as string_attribute reads it.
  H5O_info_t info;
  if (H5Oget_info2(group, &info, H5O_INFO_NUM_ATTRS) >= 0) {
    const hsize_t count = std::min<hsize_t>(info.num_attrs, kMaxAttributes);
    for (hsize_t i = 0; i < count; ++i) {
      const ssize_t len =
          H5Aget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
      if (len <= 0 || len > 65536) continue;
      std::string name(static_cast<std::size_t>(len) + 1, '\0');
      if (H5Aget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(),
                             H5P_DEFAULT) < 0) {
        continue;
      }
      name.resize(static_cast<std::size_t>(len));
      detail::Attribute a;
      try {
        a.values = read_string_attribute(group, name, attribute_where(file, path, name));
      } catch (const Error& e) {
        a.error = e.what();
      }
      node->attributes.emplace(std::move(name), std::move(a));
    }
  }
  for (auto& name : link_names(group, where_of(file, path, ""))) {
    if (name.empty() || node->children.count(name)) continue;
    if (++lim.objects > kMaxObjects) {
      throw Error("HDF5 \"{}\": more than {} groups and datasets", file, kMaxObjects);
    }
    const std::string w = where_of(file, path, name);
    std::shared_ptr<detail::Node> child;
    H5L_info_t link;
    H5O_info_t obj;
    // Hard links only: a soft or external link (which could name another file) is listed
    // but neither a group nor a dataset.
    if (name.find('/') != std::string::npos ||
        H5Lget_info(group, name.c_str(), &link, H5P_DEFAULT) < 0 || link.type != H5L_TYPE_HARD ||
        H5Oget_info_by_name2(group, name.c_str(), &obj, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
      child = std::make_shared<detail::Node>();
    } else if (obj.type == H5O_TYPE_GROUP) {
      const hid_t id = H5Gopen2(group, name.c_str(), H5P_DEFAULT);
      if (id < 0) {
        child = std::make_shared<detail::Node>();
        child->kind = 'G';
        child->error = "HDF5: cannot open group " + w;
      } else {
        Handle g(id, close_group);
        child = read_tree(g.id(), file, child_path(path, name), depth + 1, lim);
      }
    } else if (obj.type == H5O_TYPE_DATASET) {
      child = std::make_shared<detail::Node>();
      child->kind = 'D';
      try {
        child->dataset = describe_dataset(group, name, w, &lim.budget);
      } catch (const Error& e) {
        child->error = e.what();
      }
    } else {
      child = std::make_shared<detail::Node>();
    }
    node->children.emplace(name, std::move(child));
    node->names.push_back(std::move(name));
  }
  return node;
}

// Opens a file (image: null) or an in-memory image with libhdf5 in this process: only the
// reader process does this.
Handle open_with_libhdf5(const std::string& label, const std::string* image) {
  quiet();
  if (image == nullptr) {
    if (H5Fis_hdf5(label.c_str()) <= 0) {
      throw Error("\"{}\" is not an HDF5 file (or cannot be read)", label);
    }
    return checked(H5Fopen(label.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), close_file,
                   "open \"" + label + "\"");
  }
  const std::string& bytes = *image;
  if (bytes.size() < 8 || std::memcmp(bytes.data(), "\x89HDF\r\n\x1a\n", 8) != 0) {
    throw Error("\"{}\" is not an HDF5 file", label);
  }
  Handle fapl = checked(H5Pcreate(H5P_FILE_ACCESS), close_plist, "create a property list");
  if (H5Pset_fapl_core(fapl.id(), 1 << 16, false) < 0 ||
      H5Pset_file_image(fapl.id(), const_cast<char*>(bytes.data()), bytes.size()) < 0) {
    throw Error("HDF5: cannot open \"{}\" from memory", label);
  }
  return checked(H5Fopen(label.c_str(), H5F_ACC_RDONLY, fapl.id()), close_file,
                 "open \"" + label + "\" (a corrupt or truncated HDF5 file?)");
}

// The bytes of float32 values a snapshot of a file of `size` bytes may hold: float16 doubles
// a file's values, compressed chunks grow; a declared shape beyond it is not read.
std::uint64_t values_budget(std::uint64_t size) { return 8 * size + (std::uint64_t(64) << 20); }

// What a reader process does: reads the whole tree with libhdf5 and emits its stream.
void produce_snapshot(const std::string& label, std::uint64_t budget, const std::string* image,
                      const detail::Emit& emit) {
  g_in_child = true;  // the only thread of its process: no locking
  const Handle file = open_with_libhdf5(label, image);
  const Handle root = checked(H5Gopen2(file.id(), "/", H5P_DEFAULT), close_group,
                              "open the root group of \"" + label + "\"");
  TreeLimits lim{budget};
  const auto tree = read_tree(root.id(), label, "/", 0, lim);
  detail::serialize(*tree, emit);
}

// The tree read by libhdf5 in this process: ReaderMode::in_process_for_benchmarks only.
std::shared_ptr<const detail::Node> tree_in_process(const std::string& label, std::uint64_t size,
                                                    const std::string* image) {
  Lock lock;
  quiet();
  const Handle file = open_with_libhdf5(label, image);
  const Handle root = checked(H5Gopen2(file.id(), "/", H5P_DEFAULT), close_group,
                              "open the root group of \"" + label + "\"");
  TreeLimits lim{values_budget(size)};
  return read_tree(root.id(), label, "/", 0, lim);
}

// The bytes of names, messages and values a snapshot of a file of `size` bytes may hold.
std::uint64_t stream_budget(std::uint64_t size) {
  // Values, then names and error messages (each names its path): generous, but bounded.
  return values_budget(size) + 64 * size + (std::uint64_t(256) << 20);
}

// An anonymous in-memory file holding `bytes` (a reader process's standard input), closed
// when it goes out of scope.
struct MemFile {
  int fd = -1;
  MemFile(const std::string& bytes, const std::string& label) {
    fd = ::memfd_create("plexus-hdf5-image", MFD_CLOEXEC);
    if (fd < 0) {
      throw Error("\"{}\": cannot start the HDF5 reader process (memfd_create: {})", label,
                  std::strerror(errno));
    }
    if (fd <= STDERR_FILENO) {  // kept clear of the reader's standard descriptors
      const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
      ::close(fd);
      fd = moved;
      if (fd < 0) throw Error("\"{}\": cannot start the HDF5 reader process (fcntl)", label);
    }
    const char* p = bytes.data();
    std::size_t n = bytes.size();
    while (n > 0) {
      const ssize_t w = ::write(fd, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        const int err = errno;
        ::close(fd);
        throw Error("\"{}\": cannot start the HDF5 reader process (writing its input: {})", label,
                    std::strerror(err));
      }
      p += w;
      n -= static_cast<std::size_t>(w);
    }
    ::lseek(fd, 0, SEEK_SET);
  }
  ~MemFile() { ::close(fd); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
};

// The snapshot stream of a file or image, read by libhdf5 in another process: the reader
// executable when there is one (posix_spawn: its cost does not grow with this process's
// memory), else a forked child.
std::string snapshot(const std::string& label, std::uint64_t size, const std::string* image) {
  const std::uint64_t budget = values_budget(size);
  const auto max_bytes = static_cast<std::size_t>(stream_budget(size));
  const unsigned cpu = detail::reader_cpu_seconds(size);
  const auto expected = static_cast<std::size_t>(size + size / 8 + (1u << 16));
  if (detail::reader_mode() == detail::ReaderMode::in_process_for_benchmarks) {
    std::string out;
    detail::serialize(*tree_in_process(label, size, image),
                      [&](std::string_view data) { out.append(data); });
    return out;
  }
  if (const std::string& program = detail::reader_program();
      detail::reader_mode() == detail::ReaderMode::automatic && !program.empty()) {
    std::vector<std::string> args{"1", image ? "image" : "file", label, std::to_string(size),
                                  std::to_string(cpu)};
    if (image == nullptr)
      return detail::run_reader(label, max_bytes, cpu, program, args, -1, expected);
    const MemFile input(*image, label);
    return detail::run_reader(label, max_bytes, cpu, program, args, input.fd, expected);
  }
  Lock lock;  // no thread of this process is inside libhdf5 while the child is forked
  // Initialized here (no file is parsed), the library is ready in each child instead of
  // being set up again by every reader process.
  quiet();
  return detail::run_isolated(
      label, max_bytes, cpu,
      [&](const detail::Emit& emit) { produce_snapshot(label, budget, image, emit); }, expected);
}

}  // namespace

Handle::Handle(std::int64_t id, int (*close)(std::int64_t))
    : id_(new std::int64_t(id), [close](std::int64_t* p) {
        Lock lock;
        close(*p);
        delete p;
      }) {}

// --- the snapshot ----------------------------------------------------------------------

namespace detail {

unsigned reader_cpu_seconds(std::uint64_t size) {
  unsigned base = 10;
  if (const char* env = std::getenv("PLEXUS_HDF5_CPU_SECONDS")) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(env, &end, 10);
    if (end != env && *end == '\0' && v > 0 && v < 100000) base = static_cast<unsigned>(v);
  }
  return base + static_cast<unsigned>(std::min<std::uint64_t>(size >> 24, 1u << 20));
}

namespace {
std::atomic<ReaderMode> g_reader_mode{ReaderMode::automatic};
}  // namespace

void set_reader_mode(ReaderMode mode) { g_reader_mode = mode; }
ReaderMode reader_mode() { return g_reader_mode; }

const std::string& reader_program() {
  static const std::string program = [] {
    auto executable = [](const std::string& p) {
      return !p.empty() && ::access(p.c_str(), X_OK) == 0;
    };
    if (const char* env = std::getenv("PLEXUS_HDF5_READER"); env && *env) {
      if (std::string_view(env) == "fork") return std::string();
      if (!executable(env)) {
        throw Error(
            "PLEXUS_HDF5_READER={}: not an executable file (the HDF5 reader program, "
            "plexus_hdf5_reader; or \"fork\")",
            env);
      }
      return std::string(env);
    }
#ifdef PLEXUS_HDF5_READER_BUILD_PATH
    if (executable(PLEXUS_HDF5_READER_BUILD_PATH))
      return std::string(PLEXUS_HDF5_READER_BUILD_PATH);
#endif
#ifdef PLEXUS_HDF5_READER_INSTALL_PATH
    if (executable(PLEXUS_HDF5_READER_INSTALL_PATH)) {
      return std::string(PLEXUS_HDF5_READER_INSTALL_PATH);
    }
#endif
    return std::string();
  }();
  return program;
}

int reader_main(int argc, char** argv) {
  // Not for people: the arguments run_reader passes (the protocol's version first).
  if (argc != 6 || std::string_view(argv[1]) != "1") {
    std::fprintf(stderr,
                 "plexus_hdf5_reader: the HDF5 reader process of plexus (started by the "
                 "plexus library, protocol 1)\n");
    return 2;
  }
  const std::string mode = argv[2], label = argv[3];
  const std::uint64_t size = std::strtoull(argv[4], nullptr, 10);
  const auto cpu = static_cast<unsigned>(std::strtoul(argv[5], nullptr, 10));
  if (mode != "file" && mode != "image") return 2;
  // The stream goes out on a copy of standard output: child_main points 1 and 2 at /dev/null.
  const int out = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  if (out < 0) return 3;
  detail::child_main(out, cpu, [&](const detail::Emit& emit) {
    if (mode == "file") return produce_snapshot(label, values_budget(size), nullptr, emit);
    // The image: exactly `size` bytes on standard input.
    std::string image(static_cast<std::size_t>(size), '\0');
    std::size_t got = 0;
    while (got < image.size()) {
      const ssize_t r = ::read(STDIN_FILENO, image.data() + got, image.size() - got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) throw Error("\"{}\": the HDF5 reader process got a short image", label);
      got += static_cast<std::size_t>(r);
    }
    produce_snapshot(label, values_budget(size), &image, emit);
  });
}

std::string snapshot_file(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return snapshot(path, ec ? 0 : static_cast<std::uint64_t>(size), nullptr);
}

std::string snapshot_image(const std::string& bytes, const std::string& label) {
  return snapshot(label, bytes.size(), &bytes);
}

}  // namespace detail

// --- files ---------------------------------------------------------------------------

File File::open(const std::string& path) {
  if (detail::reader_mode() == detail::ReaderMode::in_process_for_benchmarks) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    return detail::from_tree(tree_in_process(path, ec ? 0 : size, nullptr), path);
  }
  return detail::from_snapshot(std::make_shared<const std::string>(detail::snapshot_file(path)),
                               path);
}

File File::open_image(const std::string& bytes, const std::string& label) {
  if (detail::reader_mode() == detail::ReaderMode::in_process_for_benchmarks) {
    return detail::from_tree(tree_in_process(label, bytes.size(), &bytes), label);
  }
  return detail::from_snapshot(
      std::make_shared<const std::string>(detail::snapshot_image(bytes, label)), label);
}

File File::create(const std::string& path) {
  Lock lock;
  quiet();
  File f;
  f.handle_ = checked(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), close_file,
                      "create \"" + path + "\"");
  f.root_ = Group(checked(H5Gopen2(f.handle_.id(), "/", H5P_DEFAULT), close_group,
                          "open the root group of \"" + path + "\""),
                  "/", path);
  return f;
}

void File::flush() const {
  if (!handle_) return;  // opened for reading: nothing to write
  Lock lock;
  if (H5Fflush(handle_.id(), H5F_SCOPE_GLOBAL) < 0) throw Error("HDF5: cannot flush the file");
}

// --- groups ----------------------------------------------------------------------------
// A group of a file opened for reading (node_) answers from its snapshot; a group of a file
// being written (handle_) asks libhdf5.

std::string Group::where(std::string_view name) const { return where_of(file_, path_, name); }

const detail::Node* Group::child(std::string_view name) const {
  const auto it = node_->children.find(name);
  return it == node_->children.end() ? nullptr : it->second.get();
}

void Group::writable(std::string_view name) const {
  if (node_) throw Error("HDF5 {}: the file was opened for reading", where(name));
}

bool Group::has_group(std::string_view name) const {
  if (node_) {
    const detail::Node* c = child(name);
    return c && c->kind == 'G';
  }
  Lock lock;
  return has_object(handle_.id(), name, H5O_TYPE_GROUP);
}

bool Group::has_dataset(std::string_view name) const {
  if (node_) {
    const detail::Node* c = child(name);
    return c && c->kind == 'D';
  }
  Lock lock;
  return has_object(handle_.id(), name, H5O_TYPE_DATASET);
}

std::vector<std::string> Group::children() const {
  if (node_) return node_->names;
  Lock lock;
  return link_names(handle_.id(), where(""));
}

Group Group::group(std::string_view name) const {
  if (!has_group(name)) throw Error("HDF5 {}: no such group", where(name));
  const std::string n = name_z(name);
  if (node_) {
    const auto& c = node_->children.find(name)->second;
    if (!c->error.empty()) throw Error("{}", c->error);
    return Group(c, child_path(path_, n), file_);
  }
  Lock lock;
  return Group(checked(H5Gopen2(handle_.id(), n.c_str(), H5P_DEFAULT), close_group,
                       "open group " + where(name)),
               child_path(path_, n), file_);
}

Group Group::create_group(std::string_view name) const {
  writable(name);
  Lock lock;
  if (has_group(name)) return group(name);
  const std::string n = name_z(name);
  return Group(checked(H5Gcreate2(handle_.id(), n.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                       close_group, "create group " + where(name)),
               child_path(path_, n), file_);
}

namespace {
// What the reads of dataset `name` give: from the snapshot, or read now from a file being
// written (without a budget: plexus wrote it).
template <typename F>
auto with_dataset(const detail::Node* node, hid_t group, std::string_view name,
                  const std::string& w, F&& fn) {
  if (node) {
    const detail::Node& c = *node->children.find(name)->second;
    if (!c.error.empty()) throw Error("{}", c.error);
    return fn(c.dataset);
  }
  Lock lock;
  const detail::Dataset d = describe_dataset(group, name_z(name), w, nullptr);
  return fn(d);
}
}  // namespace

Shape Group::dataset_shape(std::string_view name) const {
  if (!has_dataset(name)) throw Error("HDF5 {}: no such dataset", where(name));
  return with_dataset(node_.get(), handle_.id(), name, where(name), [](const detail::Dataset& d) {
    if (!d.shape_error.empty()) throw Error("{}", d.shape_error);
    return d.shape;
  });
}

Tensor Group::read_dataset(std::string_view name, const Shape* expected,
                           std::string_view what) const {
  if (!has_dataset(name)) {
    throw Error("HDF5 {}: no such dataset{}", where(name),
                what.empty() ? "" : " (for " + std::string(what) + ")");
  }
  const std::string w = where(name);
  return with_dataset(node_.get(), handle_.id(), name, w, [&](const detail::Dataset& d) {
    return dataset_tensor(d, w, expected, what);
  });
}

std::int64_t Group::read_int_scalar(std::string_view name) const {
  if (!has_dataset(name)) throw Error("HDF5 {}: no such dataset", where(name));
  return with_dataset(node_.get(), handle_.id(), name, where(name), [](const detail::Dataset& d) {
    if (!d.int_error.empty()) throw Error("{}", d.int_error);
    return d.int_value;
  });
}

double Group::read_double_scalar(std::string_view name) const {
  if (!has_dataset(name)) throw Error("HDF5 {}: no such dataset", where(name));
  return with_dataset(node_.get(), handle_.id(), name, where(name), [](const detail::Dataset& d) {
    if (!d.double_error.empty()) throw Error("{}", d.double_error);
    return d.double_value;
  });
}

bool Group::dataset_is_integer(std::string_view name) const {
  if (!has_dataset(name)) throw Error("HDF5 {}: no such dataset", where(name));
  return with_dataset(node_.get(), handle_.id(), name, where(name),
                      [](const detail::Dataset& d) { return d.cls == 'I'; });
}

void Group::write_double_scalar(std::string_view name, double value) const {
  writable(name);
  Lock lock;
  Handle space = checked(H5Screate(H5S_SCALAR), close_space, "create a dataspace");
  const std::string n = name_z(name);
  Handle ds = checked(H5Dcreate2(handle_.id(), n.c_str(), H5T_IEEE_F64LE, space.id(), H5P_DEFAULT,
                                 H5P_DEFAULT, H5P_DEFAULT),
                      close_dataset, "create dataset " + where(name));
  if (H5Dwrite(ds.id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value) < 0) {
    throw Error("HDF5 {}: cannot write the value", where(name));
  }
}

void Group::write_dataset(std::string_view name, const Tensor& value) const {
  writable(name);
  Lock lock;
  std::vector<hsize_t> dims;
  for (auto d : value.shape()) dims.push_back(static_cast<hsize_t>(d));
  Handle space =
      checked(dims.empty() ? H5Screate(H5S_SCALAR)
                           : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
              close_space, "create a dataspace for " + where(name));
  const std::string n = name_z(name);
  Handle ds = checked(H5Dcreate2(handle_.id(), n.c_str(), H5T_IEEE_F32LE, space.id(), H5P_DEFAULT,
                                 H5P_DEFAULT, H5P_DEFAULT),
                      close_dataset, "create dataset " + where(name));
  if (value.size() > 0 &&
      H5Dwrite(ds.id(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, value.data()) < 0) {
    throw Error("HDF5 {}: cannot write the values", where(name));
  }
}

void Group::write_int_scalar(std::string_view name, std::int64_t value) const {
  writable(name);
  Lock lock;
  Handle space = checked(H5Screate(H5S_SCALAR), close_space, "create a dataspace");
  const std::string n = name_z(name);
  Handle ds = checked(H5Dcreate2(handle_.id(), n.c_str(), H5T_STD_I64LE, space.id(), H5P_DEFAULT,
                                 H5P_DEFAULT, H5P_DEFAULT),
                      close_dataset, "create dataset " + where(name));
  if (H5Dwrite(ds.id(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value) < 0) {
    throw Error("HDF5 {}: cannot write the value", where(name));
  }
}

bool Group::has_attribute(std::string_view name) const {
  if (node_) return node_->attributes.find(name) != node_->attributes.end();
  Lock lock;
  const std::string n = name_z(name);
  return H5Aexists(handle_.id(), n.c_str()) > 0;
}

std::vector<std::string> Group::string_attribute(std::string_view name) const {
  const std::string n = name_z(name);
  if (!has_attribute(name)) throw Error("HDF5 {}: no attribute \"{}\"", where(""), n);
  if (node_) {
    const detail::Attribute& a = node_->attributes.find(name)->second;
    if (!a.error.empty()) throw Error("{}", a.error);
    return a.values;
  }
  Lock lock;
  return read_string_attribute(handle_.id(), n, attribute_where(file_, path_, n));
}

void Group::set_string_attribute(std::string_view name, const std::string& value) const {
  writable(name);
  Lock lock;
  const std::string n = name_z(name);
  if (has_attribute(name)) H5Adelete(handle_.id(), n.c_str());
  Handle type = checked(H5Tcopy(H5T_C_S1), close_type, "make a string type");
  H5Tset_size(type.id(), H5T_VARIABLE);
  H5Tset_cset(type.id(), H5T_CSET_UTF8);
  Handle space = checked(H5Screate(H5S_SCALAR), close_space, "create a dataspace");
  Handle attr =
      checked(H5Acreate2(handle_.id(), n.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT),
              close_attr, "create attribute " + n);
  const char* p = value.c_str();
  if (H5Awrite(attr.id(), type.id(), &p) < 0) throw Error("HDF5: cannot write attribute {}", n);
}

void Group::set_string_list_attribute(std::string_view name,
                                      const std::vector<std::string>& values) const {
  writable(name);
  Lock lock;
  const std::string n = name_z(name);
  if (has_attribute(name)) H5Adelete(handle_.id(), n.c_str());
  std::size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size());
  Handle type = checked(H5Tcopy(H5T_C_S1), close_type, "make a string type");
  H5Tset_size(type.id(), width);
  H5Tset_strpad(type.id(), H5T_STR_NULLPAD);
  hsize_t dim = values.size();
  Handle space = checked(H5Screate_simple(1, &dim, nullptr), close_space, "create a dataspace");
  Handle attr =
      checked(H5Acreate2(handle_.id(), n.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT),
              close_attr, "create attribute " + n);
  std::vector<char> buf(width * values.size(), '\0');
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::memcpy(buf.data() + i * width, values[i].data(), values[i].size());
  }
  if (!values.empty() && H5Awrite(attr.id(), type.id(), buf.data()) < 0) {
    throw Error("HDF5: cannot write attribute {}", n);
  }
}

}  // namespace plexus::saving::h5
