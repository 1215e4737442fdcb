#include "optim/saving/hdf5.hpp"

#include <fmt/format.h>
#include <hdf5.h>

#include <cstring>
#include <limits>
#include <type_traits>

#include "core/error.hpp"

namespace plexus::saving::h5 {

static_assert(std::is_same_v<hid_t, std::int64_t>, "HDF5 1.10+ (64-bit hid_t) is required");

namespace {

// Keras weights are small next to memory, but a hostile file may declare any shape: no
// dataset beyond 2^31 elements, no rank beyond 32.
constexpr hsize_t kMaxElements = hsize_t(1) << 31;
constexpr int kMaxRank = 32;
constexpr std::size_t kMaxStringBytes = std::size_t(1) << 28;

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

}  // namespace

Handle::Handle(std::int64_t id, int (*close)(std::int64_t))
    : id_(new std::int64_t(id), [close](std::int64_t* p) {
        close(*p);
        delete p;
      }) {}

// --- files ---------------------------------------------------------------------------

File File::open(const std::string& path) {
  quiet();
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    throw Error("\"{}\" is not an HDF5 file (or cannot be read)", path);
  }
  File f;
  f.handle_ = checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), close_file,
                      "open \"" + path + "\"");
  f.root_ = Group(checked(H5Gopen2(f.handle_.id(), "/", H5P_DEFAULT), close_group,
                          "open the root group of \"" + path + "\""),
                  "/", path);
  return f;
}

File File::create(const std::string& path) {
  quiet();
  File f;
  f.handle_ = checked(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), close_file,
                      "create \"" + path + "\"");
  f.root_ = Group(checked(H5Gopen2(f.handle_.id(), "/", H5P_DEFAULT), close_group,
                          "open the root group of \"" + path + "\""),
                  "/", path);
  return f;
}

File File::open_image(const std::string& bytes, const std::string& label) {
  quiet();
  if (bytes.size() < 8 || std::memcmp(bytes.data(), "\x89HDF\r\n\x1a\n", 8) != 0) {
    throw Error("\"{}\" is not an HDF5 file", label);
  }
  Handle fapl = checked(H5Pcreate(H5P_FILE_ACCESS), close_plist, "create a property list");
  if (H5Pset_fapl_core(fapl.id(), 1 << 16, false) < 0 ||
      H5Pset_file_image(fapl.id(), const_cast<char*>(bytes.data()), bytes.size()) < 0) {
    throw Error("HDF5: cannot open \"{}\" from memory", label);
  }
  File f;
  f.handle_ = checked(H5Fopen(label.c_str(), H5F_ACC_RDONLY, fapl.id()), close_file,
                      "open \"" + label + "\" (a corrupt or truncated HDF5 file?)");
  f.root_ = Group(checked(H5Gopen2(f.handle_.id(), "/", H5P_DEFAULT), close_group,
                          "open the root group of \"" + label + "\""),
                  "/", label);
  return f;
}

void File::flush() const {
  if (H5Fflush(handle_.id(), H5F_SCOPE_GLOBAL) < 0) throw Error("HDF5: cannot flush the file");
}

// --- groups ----------------------------------------------------------------------------

std::string Group::where(std::string_view name) const {
  return fmt::format("\"{}\" {}/{}", file_, path_ == "/" ? std::string_view() : path_, name);
}

bool Group::has_group(std::string_view name) const {
  return has_object(handle_.id(), name, H5O_TYPE_GROUP);
}
bool Group::has_dataset(std::string_view name) const {
  return has_object(handle_.id(), name, H5O_TYPE_DATASET);
}

std::vector<std::string> Group::children() const {
  std::vector<std::string> out;
  H5G_info_t info;
  if (H5Gget_info(handle_.id(), &info) < 0) throw Error("HDF5 {}: cannot list", where(""));
  if (info.nlinks > 1000000) throw Error("HDF5 {}: too many children", where(""));
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t n = H5Lget_name_by_idx(handle_.id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr,
                                         0, H5P_DEFAULT);
    if (n < 0 || n > 65536) throw Error("HDF5 {}: bad child name", where(""));
    std::string name(static_cast<std::size_t>(n) + 1, '\0');
    H5Lget_name_by_idx(handle_.id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(),
                       H5P_DEFAULT);
    name.resize(static_cast<std::size_t>(n));
    out.push_back(std::move(name));
  }
  return out;
}

Group Group::group(std::string_view name) const {
  if (!has_group(name)) throw Error("HDF5 {}: no such group", where(name));
  const std::string n = name_z(name);
  return Group(checked(H5Gopen2(handle_.id(), n.c_str(), H5P_DEFAULT), close_group,
                       "open group " + where(name)),
               path_ == "/" ? "/" + n : path_ + "/" + n, file_);
}

Group Group::create_group(std::string_view name) const {
  if (has_group(name)) return group(name);
  const std::string n = name_z(name);
  return Group(checked(H5Gcreate2(handle_.id(), n.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                       close_group, "create group " + where(name)),
               path_ == "/" ? "/" + n : path_ + "/" + n, file_);
}

Shape Group::dataset_shape(std::string_view name) const {
  if (!has_dataset(name)) throw Error("HDF5 {}: no such dataset", where(name));
  const std::string n = name_z(name);
  Handle ds = checked(H5Dopen2(handle_.id(), n.c_str(), H5P_DEFAULT), close_dataset,
                      "open dataset " + where(name));
  Handle type = checked(H5Dget_type(ds.id()), close_type, "read the type of " + where(name));
  const H5T_class_t cls = H5Tget_class(type.id());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) {
    throw Error("HDF5 {}: expected a float array, found another type", where(name));
  }
  Handle space = checked(H5Dget_space(ds.id()), close_space, "read the shape of " + where(name));
  return extent_of(space.id(), where(name)).shape;
}

Tensor Group::read_dataset(std::string_view name, const Shape* expected,
                           std::string_view what) const {
  if (!has_dataset(name)) {
    throw Error("HDF5 {}: no such dataset{}", where(name),
                what.empty() ? "" : " (for " + std::string(what) + ")");
  }
  const std::string n = name_z(name);
  Handle ds = checked(H5Dopen2(handle_.id(), n.c_str(), H5P_DEFAULT), close_dataset,
                      "open dataset " + where(name));
  Handle type = checked(H5Dget_type(ds.id()), close_type, "read the type of " + where(name));
  if (H5Tget_class(type.id()) != H5T_FLOAT) {
    throw Error("HDF5 {}: expected float32 or float64 values, found another type", where(name));
  }
  const std::size_t size = H5Tget_size(type.id());
  if (size != 4 && size != 8 && size != 2) {
    throw Error("HDF5 {}: unsupported float width of {} bytes", where(name), size);
  }
  Handle space = checked(H5Dget_space(ds.id()), close_space, "read the shape of " + where(name));
  const Extent e = extent_of(space.id(), where(name));
  if (expected != nullptr && e.shape != *expected) {
    throw Error("{}: the file holds shape {} at {}, the model expects {}",
                what.empty() ? where(name) : std::string(what), shape_str(e.shape), where(name),
                shape_str(*expected));
  }
  Tensor t;
  resize_to(t, e.shape);
  if (e.elements > 0 &&
      H5Dread(ds.id(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data()) < 0) {
    throw Error("HDF5 {}: cannot read the values (a corrupt or truncated file?)", where(name));
  }
  return t;
}

namespace {
// One number from a scalar (or one-element) integer or float dataset, converted by HDF5.
template <typename T>
T read_scalar(hid_t group, std::string_view name, const std::string& w, hid_t native) {
  const std::string n = name_z(name);
  Handle ds = checked(H5Dopen2(group, n.c_str(), H5P_DEFAULT), close_dataset, "open dataset " + w);
  Handle type = checked(H5Dget_type(ds.id()), close_type, "read the type of " + w);
  const H5T_class_t cls = H5Tget_class(type.id());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
    throw Error("HDF5 {}: expected a number, found another type", w);
  }
  Handle space = checked(H5Dget_space(ds.id()), close_space, "read the shape of " + w);
  const Extent e = extent_of(space.id(), w);
  if (e.elements != 1) throw Error("HDF5 {}: expected one value, found {}", w, e.elements);
  T v{};
  if (H5Dread(ds.id(), native, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) < 0) {
    throw Error("HDF5 {}: cannot read the value", w);
  }
  return v;
}
}  // namespace

std::int64_t Group::read_int_scalar(std::string_view name) const {
  if (!has_dataset(name)) throw Error("HDF5 {}: no such dataset", where(name));
  return read_scalar<std::int64_t>(handle_.id(), name, where(name), H5T_NATIVE_INT64);
}

double Group::read_double_scalar(std::string_view name) const {
  if (!has_dataset(name)) throw Error("HDF5 {}: no such dataset", where(name));
  return read_scalar<double>(handle_.id(), name, where(name), H5T_NATIVE_DOUBLE);
}

bool Group::dataset_is_integer(std::string_view name) const {
  if (!has_dataset(name)) throw Error("HDF5 {}: no such dataset", where(name));
  const std::string n = name_z(name);
  Handle ds = checked(H5Dopen2(handle_.id(), n.c_str(), H5P_DEFAULT), close_dataset,
                      "open dataset " + where(name));
  Handle type = checked(H5Dget_type(ds.id()), close_type, "read the type of " + where(name));
  return H5Tget_class(type.id()) == H5T_INTEGER;
}

void Group::write_double_scalar(std::string_view name, double value) const {
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
  const std::string n = name_z(name);
  return H5Aexists(handle_.id(), n.c_str()) > 0;
}

std::vector<std::string> Group::string_attribute(std::string_view name) const {
  const std::string n = name_z(name);
  if (!has_attribute(name)) throw Error("HDF5 {}: no attribute \"{}\"", where(""), n);
  const std::string w = where("") + " attribute \"" + n + "\"";
  Handle attr = checked(H5Aopen(handle_.id(), n.c_str(), H5P_DEFAULT), close_attr, "open " + w);
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

void Group::set_string_attribute(std::string_view name, const std::string& value) const {
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
