// The restricted unpickler of Keras's built-in data sets (detail/pickle.hpp).
#include "optim/data/detail/pickle.hpp"

#include <fmt/format.h>

#include <cstring>
#include <unordered_map>

#include "core/error.hpp"

namespace plexus::datasets::detail {

const PyValue* PyValue::get(std::string_view key) const {
  if (kind != kDict) return nullptr;
  for (std::size_t k = 0; k + 1 < items.size(); k += 2) {
    const PyValue* name = items[k];
    if ((name->kind == kBytes || name->kind == kStr) && name->s == key) return items[k + 1];
  }
  return nullptr;
}

namespace {

class Unpickler {
 public:
  Unpickler(std::string_view in, const std::string& what, Unpickled& out)
      : in_(in), what_(what), out_(out) {}

  const PyValue* run() {
    for (;;) {
      const std::size_t at = pos_;
      const auto op = static_cast<unsigned char>(*take(1));
      switch (op) {
        case 0x80:  // PROTO
          if (static_cast<unsigned char>(*take(1)) > 5) fail(at, "an unknown protocol");
          break;
        case 0x95:  // FRAME: a hint only
          take(8);
          break;
        case '.':  // STOP
          if (stack_.size() != 1 || !marks_.empty())
            fail(at, "STOP with a stack of other than one value");
          return stack_.back();
        case '(':
          marks_.push_back(stack_.size());
          break;
        case '0':
          pop(at);
          break;
        case '1':
          stack_.resize(pop_mark(at));
          break;
        case '2':
          push(top(at));
          break;
        case 'N':
          push(make(PyValue::kNone));
          break;
        case 0x88:
        case 0x89: {
          PyValue* v = make(PyValue::kBool);
          v->i = op == 0x88;
          push(v);
          break;
        }
        case 'J': {
          std::int32_t x;
          std::memcpy(&x, take(4), 4);
          push_int(x);
          break;
        }
        case 'K':
          push_int(static_cast<unsigned char>(*take(1)));
          break;
        case 'M':
          push_int(static_cast<std::int64_t>(le(take(2), 2)));
          break;
        case 0x8a: {  // LONG1: a little-endian two's-complement integer of n bytes
          const std::size_t n = static_cast<unsigned char>(*take(1));
          if (n > 8) fail(at, "an integer wider than 64 bits");
          std::uint64_t x = n ? le(take(n), n) : 0;
          if (n > 0 && n < 8 && (x >> (8 * n - 1)) & 1) x |= ~std::uint64_t(0) << (8 * n);
          push_int(static_cast<std::int64_t>(x));
          break;
        }
        case 'G': {  // BINFLOAT: big-endian
          const char* p = take(8);
          char b[8];
          for (int k = 0; k < 8; ++k) b[k] = p[7 - k];
          PyValue* v = make(PyValue::kFloat);
          std::memcpy(&v->f, b, 8);
          push(v);
          break;
        }
        case 'T':  // BINSTRING (Python 2 str; bytes, as Keras reads them with encoding="bytes")
          push_text(PyValue::kBytes, le(take(4), 4), at);
          break;
        case 'U':
          push_text(PyValue::kBytes, static_cast<unsigned char>(*take(1)), at);
          break;
        case 'B':
          push_text(PyValue::kBytes, le(take(4), 4), at);
          break;
        case 'C':
          push_text(PyValue::kBytes, static_cast<unsigned char>(*take(1)), at);
          break;
        case 0x8e:
          push_text(PyValue::kBytes, le(take(8), 8), at);
          break;
        case 'X':
          push_text(PyValue::kStr, le(take(4), 4), at);
          break;
        case 0x8c:
          push_text(PyValue::kStr, static_cast<unsigned char>(*take(1)), at);
          break;
        case 0x8d:
          push_text(PyValue::kStr, le(take(8), 8), at);
          break;
        case ']':
          push(make(PyValue::kList));
          break;
        case '}':
          push(make(PyValue::kDict));
          break;
        case ')':
          push(make(PyValue::kTuple));
          break;
        case 'a': {  // APPEND
          const PyValue* x = pop(at);
          mutable_of(top(at), PyValue::kList, at)->items.push_back(x);
          break;
        }
        case 'e': {  // APPENDS
          const std::size_t m = pop_mark(at);
          PyValue* list = mutable_of(below(m, at), PyValue::kList, at);
          list->items.insert(list->items.end(), stack_.begin() + static_cast<std::ptrdiff_t>(m),
                             stack_.end());
          stack_.resize(m);
          break;
        }
        case 's': {  // SETITEM
          const PyValue* value = pop(at);
          const PyValue* key = pop(at);
          PyValue* dict = mutable_of(top(at), PyValue::kDict, at);
          dict->items.push_back(key);
          dict->items.push_back(value);
          break;
        }
        case 'u': {  // SETITEMS
          const std::size_t m = pop_mark(at);
          if ((stack_.size() - m) % 2 != 0) fail(at, "SETITEMS with an odd number of values");
          PyValue* dict = mutable_of(below(m, at), PyValue::kDict, at);
          dict->items.insert(dict->items.end(), stack_.begin() + static_cast<std::ptrdiff_t>(m),
                             stack_.end());
          stack_.resize(m);
          break;
        }
        case 't': {
          const std::size_t m = pop_mark(at);
          PyValue* t = make(PyValue::kTuple);
          t->items.assign(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
          stack_.resize(m);
          push(t);
          break;
        }
        case 0x85:
        case 0x86:
        case 0x87: {
          const std::size_t n = op - 0x84u;
          if (stack_.size() < n + floor()) fail(at, "a tuple of values that are not there");
          PyValue* t = make(PyValue::kTuple);
          t->items.assign(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
          stack_.resize(stack_.size() - n);
          push(t);
          break;
        }
        case 'c': {  // GLOBAL "module\nname\n"
          const std::string_view module = line(at), name = line(at);
          push(global(module, name, at));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          const PyValue* name = pop(at);
          const PyValue* module = pop(at);
          if (name->kind != PyValue::kStr || module->kind != PyValue::kStr) {
            fail(at, "STACK_GLOBAL without two strings");
          }
          push(global(module->s, name->s, at));
          break;
        }
        case 'R': {
          const PyValue* args = pop(at);
          const PyValue* fn = pop(at);
          push(reduce(fn, args, at));
          break;
        }
        case 'b': {
          const PyValue* state = pop(at);
          build(const_cast<PyValue*>(top(at)), state, at);
          break;
        }
        case 'q':
          memo_[static_cast<unsigned char>(*take(1))] = top(at);
          break;
        case 'r':
          memo_[static_cast<std::uint32_t>(le(take(4), 4))] = top(at);
          break;
        case 0x94:
          memo_[static_cast<std::uint32_t>(memo_.size())] = top(at);
          break;
        case 'h':
          push(memo(static_cast<unsigned char>(*take(1)), at));
          break;
        case 'j':
          push(memo(static_cast<std::uint32_t>(le(take(4), 4)), at));
          break;
        default:
          fail(at, fmt::format("the opcode 0x{:02x}, which a NumPy array or a list of numbers "
                               "does not need",
                               op));
      }
    }
  }

 private:
  [[noreturn]] void fail(std::size_t at, std::string_view why) const {
    throw Error("{}: not a pickle of the data Keras stores ({} at byte {})", what_, why, at);
  }
  const char* take(std::size_t n) {
    if (n > in_.size() - pos_) fail(pos_, "a truncated pickle");
    const char* p = in_.data() + pos_;
    pos_ += n;
    return p;
  }
  static std::uint64_t le(const char* p, std::size_t n) {
    std::uint64_t x = 0;
    for (std::size_t k = 0; k < n; ++k)
      x |= std::uint64_t(static_cast<unsigned char>(p[k])) << (8 * k);
    return x;
  }
  std::string_view line(std::size_t at) {
    const std::size_t end = in_.find('\n', pos_);
    if (end == std::string_view::npos || end - pos_ > 256) fail(at, "a GLOBAL without its name");
    const std::string_view s = in_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }
  PyValue* make(PyValue::Kind kind) {
    out_.arena.push_back(std::make_unique<PyValue>());
    out_.arena.back()->kind = kind;
    return out_.arena.back().get();
  }
  void push(const PyValue* v) { stack_.push_back(v); }
  void push_int(std::int64_t x) {
    PyValue* v = make(PyValue::kInt);
    v->i = x;
    push(v);
  }
  void push_text(PyValue::Kind kind, std::uint64_t n, std::size_t at) {
    if (n > in_.size() - pos_) fail(at, "a string longer than the rest of the pickle");
    PyValue* v = make(kind);
    v->s = std::string_view(take(static_cast<std::size_t>(n)), static_cast<std::size_t>(n));
    push(v);
  }
  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  const PyValue* top(std::size_t at) const {
    if (stack_.size() <= floor()) fail(at, "an empty stack");
    return stack_.back();
  }
  // The value just below a MARK that was at `m` (the list or dict APPENDS and SETITEMS fill).
  const PyValue* below(std::size_t m, std::size_t at) const {
    if (m == 0 || m - 1 < floor()) fail(at, "no list or dict below the MARK");
    return stack_[m - 1];
  }
  const PyValue* pop(std::size_t at) {
    const PyValue* v = top(at);
    stack_.pop_back();
    return v;
  }
  std::size_t pop_mark(std::size_t at) {
    if (marks_.empty()) fail(at, "no MARK");
    const std::size_t m = marks_.back();
    marks_.pop_back();
    return m;
  }
  PyValue* mutable_of(const PyValue* v, PyValue::Kind kind, std::size_t at) {
    if (v->kind != kind)
      fail(at, kind == PyValue::kList ? "APPEND to a non-list" : "SETITEM on a non-dict");
    return const_cast<PyValue*>(v);
  }
  const PyValue* memo(std::uint32_t key, std::size_t at) const {
    const auto it = memo_.find(key);
    if (it == memo_.end()) fail(at, "a memo entry that was never stored");
    return it->second;
  }
  // Keras's _ALLOWED_PICKLE_GLOBALS, and nothing else.
  const PyValue* global(std::string_view module, std::string_view name, std::size_t at) {
    const bool reconstruct =
        (module == "numpy.core.multiarray" || module == "numpy._core.multiarray") &&
        name == "_reconstruct";
    const bool allowed =
        reconstruct || (module == "numpy" && (name == "ndarray" || name == "dtype"));
    if (!allowed) {
      throw Error(
          "{}: refusing to deserialize `{}.{}` while loading a Keras dataset (byte {}). The file "
          "may be corrupted or malicious.",
          what_, module, name, at);
    }
    PyValue* v = make(PyValue::kGlobal);
    v->s = reconstruct ? "_reconstruct" : name == "ndarray" ? "ndarray" : "dtype";
    return v;
  }
  const PyValue* arg(const PyValue* args, std::size_t k, std::size_t at) const {
    if (args->kind != PyValue::kTuple || k >= args->items.size())
      fail(at, "REDUCE with too few arguments");
    return args->items[k];
  }
  const PyValue* reduce(const PyValue* fn, const PyValue* args, std::size_t at) {
    if (fn->kind != PyValue::kGlobal) fail(at, "REDUCE of something not callable");
    if (fn->s == "_reconstruct") {  // _reconstruct(ndarray, (0,), b'b'): an empty array
      const PyValue* cls = arg(args, 0, at);
      if (cls->kind != PyValue::kGlobal || cls->s != "ndarray")
        fail(at, "_reconstruct of a non-array");
      return make(PyValue::kArray);
    }
    if (fn->s == "dtype") {  // dtype('u1', False, True)
      const PyValue* spec = arg(args, 0, at);
      if (spec->kind != PyValue::kStr && spec->kind != PyValue::kBytes)
        fail(at, "a dtype without a name");
      std::string_view s = spec->s;
      PyValue* d = make(PyValue::kDtype);
      if (!s.empty() && (s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '=')) {
        d->byteorder = s[0];
        s.remove_prefix(1);
      }
      if (s.size() < 2 || s.size() > 4) fail(at, "a dtype name NumPy does not write");
      d->dtype_kind = s[0];
      std::size_t size = 0;
      for (char c : s.substr(1)) {
        if (c < '0' || c > '9') fail(at, "a dtype name NumPy does not write");
        size = size * 10 + static_cast<std::size_t>(c - '0');
      }
      if (size == 0 || size > 16) fail(at, "a dtype size NumPy does not write");
      d->dtype_size = size;
      return d;
    }
    fail(at, "REDUCE of numpy.ndarray");
  }
  void build(PyValue* obj, const PyValue* state, std::size_t at) {
    if (obj->built) fail(at, "BUILD of an object twice");
    if (state->kind != PyValue::kTuple) fail(at, "BUILD without a tuple");
    const auto& s = state->items;
    if (obj->kind == PyValue::kDtype) {  // (3, '|', None, None, None, -1, -1, flags)
      if (s.size() < 2 || (s[1]->kind != PyValue::kStr && s[1]->kind != PyValue::kBytes) ||
          s[1]->s.size() != 1) {
        fail(at, "a dtype state without a byte order");
      }
      obj->byteorder = s[1]->s[0];
      obj->built = true;
      return;
    }
    if (obj->kind != PyValue::kArray) fail(at, "BUILD of something that is not an array or dtype");
    // (version, shape, dtype, is_fortran, data) or the same without the version.
    const std::size_t o = s.size() == 5 ? 1 : s.size() == 4 ? 0 : 9;
    if (o == 9) fail(at, "an array state of other than 4 or 5 items");
    const PyValue *shape = s[o], *dtype = s[o + 1], *fortran = s[o + 2], *data = s[o + 3];
    if (shape->kind != PyValue::kTuple || shape->items.size() > 32)
      fail(at, "an array without a shape");
    if (dtype->kind != PyValue::kDtype) fail(at, "an array without a dtype");
    std::uint64_t n = 1;
    for (const PyValue* d : shape->items) {
      if (d->kind != PyValue::kInt || d->i < 0 || d->i > (std::int64_t(1) << 40))
        fail(at, "a bad dimension");
      n *= static_cast<std::uint64_t>(d->i);
      if (n > (std::uint64_t(1) << 40)) fail(at, "an array too large");
      obj->shape.push_back(static_cast<std::size_t>(d->i));
    }
    if (dtype->dtype_kind == 'O') {
      if (data->kind != PyValue::kList || data->items.size() != n) {
        fail(at, "an object array whose list does not fill its shape");
      }
    } else {
      if ((data->kind != PyValue::kBytes && data->kind != PyValue::kStr) ||
          data->s.size() != n * dtype->dtype_size) {
        fail(at,
             fmt::format("an array of {} elements of {} bytes whose data has other than {} bytes",
                         n, dtype->dtype_size, n * dtype->dtype_size));
      }
    }
    obj->dtype = dtype;
    obj->fortran =
        (fortran->kind == PyValue::kBool || fortran->kind == PyValue::kInt) && fortran->i != 0;
    obj->data = data;
    obj->built = true;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  const std::string& what_;
  Unpickled& out_;
  std::vector<const PyValue*> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint32_t, const PyValue*> memo_;
};

}  // namespace

Unpickled unpickle(std::string_view bytes, const std::string& what) {
  Unpickled out;
  Unpickler u(bytes, what, out);
  out.root = u.run();
  return out;
}

std::vector<std::int64_t> array_ints(const PyValue& a, const std::string& what) {
  if (a.kind != PyValue::kArray || !a.built) throw Error("{}: not a NumPy array", what);
  const PyValue& d = *a.dtype;
  const std::size_t size = d.dtype_size;
  if (!((d.dtype_kind == 'i' || d.dtype_kind == 'u') &&
        (size == 1 || size == 2 || size == 4 || size == 8)) &&
      !(d.dtype_kind == 'b' && size == 1)) {
    throw Error("{}: an array of dtype '{}{}', not integers", what, d.dtype_kind, size);
  }
  const std::size_t n = a.data->s.size() / size;
  const bool big = d.byteorder == '>';
  std::vector<std::int64_t> out(n);
  const auto* p = reinterpret_cast<const unsigned char*>(a.data->s.data());
  for (std::size_t k = 0; k < n; ++k, p += size) {
    std::uint64_t x = 0;
    for (std::size_t b = 0; b < size; ++b) x |= std::uint64_t(p[big ? size - 1 - b : b]) << (8 * b);
    if (d.dtype_kind == 'i' && size < 8 && (x >> (8 * size - 1)) & 1)
      x |= ~std::uint64_t(0) << (8 * size);
    out[k] = static_cast<std::int64_t>(x);
  }
  return out;
}

std::vector<std::int64_t> int_sequence(const PyValue& v, const std::string& what) {
  if (v.kind == PyValue::kArray) {
    if (v.shape.size() != 1)
      throw Error("{}: an array of rank {}, not a sequence", what, v.shape.size());
    return array_ints(v, what);
  }
  if (v.kind != PyValue::kList && v.kind != PyValue::kTuple) {
    throw Error("{}: not a list of integers", what);
  }
  std::vector<std::int64_t> out;
  out.reserve(v.items.size());
  for (const PyValue* x : v.items) {
    if (x->kind != PyValue::kInt)
      throw Error("{}: a list holding something other than integers", what);
    out.push_back(x->i);
  }
  return out;
}

}  // namespace plexus::datasets::detail
