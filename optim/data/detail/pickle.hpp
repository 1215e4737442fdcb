// Internal: a restricted unpickler for Keras's built-in data sets (issue 24). The CIFAR-10/100
// batches are Python 2 pickles of a dict holding a NumPy uint8 array and lists of ints; the
// IMDB and Reuters .npz archives hold NumPy object arrays (lists of word ids), which NumPy
// stores as a pickle. Like Keras's RestrictedUnpickler (datasets/npz_utils.py), the only
// globals resolved are numpy.ndarray, numpy.dtype and numpy[._]core.multiarray._reconstruct;
// nothing is ever called or imported: the opcodes build plain values (None, bool, int,
// float, bytes, str, list, tuple, dict) and NumPy arrays and dtypes. Every length is checked
// against the input, and a malformed or hostile pickle is a px::Error naming `what`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::datasets::detail {

struct PyValue {
  enum Kind {
    kNone,
    kBool,
    kInt,
    kFloat,
    kBytes,
    kStr,
    kList,
    kTuple,
    kDict,
    kGlobal,
    kDtype,
    kArray
  };
  Kind kind = kNone;
  std::int64_t i = 0;                 // kBool, kInt
  double f = 0;                       // kFloat
  std::string_view s;                 // kBytes, kStr (into the input); kGlobal: its name
  std::vector<const PyValue*> items;  // kList, kTuple; kDict: key, value, key, value...
  char dtype_kind = 0;                // kDtype: 'u', 'i', 'f', 'b', 'O'...
  std::size_t dtype_size = 0;         // kDtype: bytes per element
  char byteorder = '|';               // kDtype: '<', '>', '|' or '='
  std::vector<std::size_t> shape;     // kArray
  const PyValue* dtype = nullptr;     // kArray: a kDtype once built
  bool fortran = false;               // kArray
  const PyValue* data = nullptr;      // kArray: kBytes/kStr (numbers) or kList (objects)
  bool built = false;                 // kArray, kDtype: BUILD has set the state

  // A dict's value for a bytes or str key, or null.
  const PyValue* get(std::string_view key) const;
};

// The objects of one unpickled stream; `root` is what STOP returned. The values point into
// the input bytes, which must outlive it.
struct Unpickled {
  const PyValue* root = nullptr;
  std::vector<std::unique_ptr<PyValue>> arena;
};

Unpickled unpickle(std::string_view bytes, const std::string& what);

// A NumPy array's elements as integers (integer, bool and uint dtypes) and its element
// count; px::Error naming `what` for other dtypes or a size mismatch.
std::vector<std::int64_t> array_ints(const PyValue& array, const std::string& what);
// A list, tuple or 1-D integer array of ints.
std::vector<std::int64_t> int_sequence(const PyValue& v, const std::string& what);

}  // namespace plexus::datasets::detail
