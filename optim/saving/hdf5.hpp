// A small, checking wrapper over the HDF5 C API for Keras weight files. Every read checks
// the object's kind, type, rank and shape before it allocates, so a hostile file is a
// px::Error, never a crash or an unbounded allocation in plexus.
//
// A file opened for reading (File::open, File::open_image) is never parsed by libhdf5 in
// this process: a child process (fork) opens it with libhdf5, reads the whole tree (groups,
// datasets as float32 with their type and shape, string attributes) and sends it back over
// a pipe; the parent checks that stream and serves the read API below from it. A file
// that makes libhdf5 crash (libhdf5 1.10 overflows buffers on corrupt global heaps) kills
// only the child: a px::Error naming the file (optim/saving/hdf5_isolated.cpp,
// docs/saving.md). Files plexus writes (File::create) use libhdf5 directly.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.hpp"

namespace plexus::saving::h5 {

class File;
namespace detail {
struct Node;  // a group or dataset of a file opened for reading (hdf5_isolated.cpp)
File from_snapshot(std::shared_ptr<const std::string> stream, const std::string& label);
File from_tree(std::shared_ptr<const Node> root, const std::string& label);
}  // namespace detail

// An open HDF5 object (file, group, dataset, ...), closed with the right H5*close.
class Handle {
 public:
  Handle() = default;
  Handle(std::int64_t id, int (*close)(std::int64_t));
  std::int64_t id() const { return id_ ? *id_ : -1; }
  explicit operator bool() const { return id_ != nullptr; }

 private:
  std::shared_ptr<std::int64_t> id_;
};

class Group {
 public:
  Group() = default;
  Group(Handle handle, std::string path, std::string file)
      : handle_(std::move(handle)), path_(std::move(path)), file_(std::move(file)) {}
  Group(std::shared_ptr<const detail::Node> node, std::string path, std::string file)
      : node_(std::move(node)), path_(std::move(path)), file_(std::move(file)) {}

  const std::string& path() const { return path_; }  // "/layers/dense/vars"
  bool has_group(std::string_view name) const;
  bool has_dataset(std::string_view name) const;
  // Names of the direct children, in HDF5's (alphabetical) order.
  std::vector<std::string> children() const;
  Group group(std::string_view name) const;         // px::Error if missing
  Group create_group(std::string_view name) const;  // or the existing one
  // A float dataset (float32 or float64 on disk) as a Tensor. With `expected`, the shape
  // must match (px::Error naming `what` and both shapes) — checked before reading.
  Tensor read_dataset(std::string_view name, const Shape* expected = nullptr,
                      std::string_view what = {}) const;
  // The shape of a dataset without reading it (checks it is a simple float or integer array).
  Shape dataset_shape(std::string_view name) const;
  // An integer scalar dataset (optimizer iterations).
  std::int64_t read_int_scalar(std::string_view name) const;
  double read_double_scalar(std::string_view name) const;  // integer or float on disk
  bool dataset_is_integer(std::string_view name) const;
  void write_dataset(std::string_view name, const Tensor& value) const;
  void write_int_scalar(std::string_view name, std::int64_t value) const;
  void write_double_scalar(std::string_view name, double value) const;  // float64

  // String attributes: scalar or 1-D, fixed or variable length (h5py writes both).
  bool has_attribute(std::string_view name) const;
  std::vector<std::string> string_attribute(std::string_view name) const;
  void set_string_attribute(std::string_view name, const std::string& value) const;
  void set_string_list_attribute(std::string_view name, const std::vector<std::string>& v) const;

 private:
  std::string where(std::string_view name) const;
  const detail::Node* child(std::string_view name) const;  // a snapshot's child, or null
  void writable(std::string_view name) const;  // px::Error for a file opened for reading
  Handle handle_;                              // a file being written
  std::shared_ptr<const detail::Node> node_;   // or a file opened for reading
  std::string path_, file_;
};

// An HDF5 file: open(path) to read (in a child process, see above), create(path) to write
// (truncating).
class File {
 public:
  static File open(const std::string& path);
  static File create(const std::string& path);
  // Reads an in-memory image (a file inside a .keras archive).
  static File open_image(const std::string& bytes, const std::string& label);
  const Group& root() const { return root_; }
  void flush() const;

 private:
  friend File detail::from_snapshot(std::shared_ptr<const std::string> stream,
                                    const std::string& label);
  friend File detail::from_tree(std::shared_ptr<const detail::Node> root, const std::string& label);
  Handle handle_;
  Group root_;
};

}  // namespace plexus::saving::h5
