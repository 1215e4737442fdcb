#include "core/shape.hpp"

#include <fmt/format.h>
#include <sys/sysinfo.h>

#include <algorithm>
#include <new>
#include <string>

#include "core/error.hpp"

namespace plexus {
namespace {

template <typename Dims>
std::string dims_str(const Dims& dims) {
  Shape s(dims.begin(), dims.end());
  return shape_str(s);
}

// Product of the non-zero dimensions, or false when it exceeds kMaxElements.
template <typename It>
bool bounded_product(It begin, It end, std::size_t& nonzero, bool& has_zero) {
  nonzero = 1;
  has_zero = false;
  for (It it = begin; it != end; ++it) {
    const auto d = static_cast<std::size_t>(*it);
    if (d == 0) {
      has_zero = true;
      continue;
    }
    if (__builtin_mul_overflow(nonzero, d, &nonzero) || nonzero > kMaxElements) return false;
  }
  return true;
}

[[noreturn]] void too_many(const std::string& shape, std::string_view what) {
  throw Error(
      "{}: shape {} has too many elements: the product of its dimensions does not fit in a "
      "64-bit size (at most {} floats)",
      what, shape, kMaxElements);
}

std::uint64_t machine_memory() {
  struct sysinfo info {};
  if (::sysinfo(&info) != 0) return 0;
  return (static_cast<std::uint64_t>(info.totalram) + info.totalswap) * info.mem_unit;
}

}  // namespace

std::string byte_size_str(double bytes) {
  static const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (bytes >= 1024 && u < 6) bytes /= 1024, ++u;
  return u == 0 ? fmt::format("{:.0f} bytes", bytes) : fmt::format("{:.1f} {}", bytes, units[u]);
}

std::size_t checked_size(const Shape& shape, std::string_view what) {
  for (Dim d : shape) {
    if (d < 0) throw Error("{}: shape {} has an unknown dimension", what, shape_str(shape));
  }
  std::size_t n;
  bool zero;
  if (!bounded_product(shape.begin(), shape.end(), n, zero)) too_many(shape_str(shape), what);
  return zero ? 0 : n;
}

std::size_t checked_size(const Tensor::shape_type& shape, std::string_view what) {
  std::size_t n;
  bool zero;
  if (!bounded_product(shape.begin(), shape.end(), n, zero)) too_many(dims_str(shape), what);
  return zero ? 0 : n;
}

Dim checked_product(const Shape& shape, std::size_t first, std::string_view what) {
  bool unknown = false;
  Shape known;
  for (std::size_t i = first; i < shape.size(); ++i) {
    if (shape[i] < 0) {
      unknown = true;
    } else {
      known.push_back(shape[i]);
    }
  }
  std::size_t n;
  bool zero;
  if (!bounded_product(known.begin(), known.end(), n, zero)) too_many(shape_str(shape), what);
  if (unknown) return -1;
  return zero ? 0 : static_cast<Dim>(n);
}

Dim checked_known_product(const Shape& shape, std::size_t first, std::string_view what) {
  Shape known;
  for (std::size_t i = first; i < shape.size(); ++i) {
    if (shape[i] >= 0) known.push_back(shape[i]);
  }
  std::size_t n;
  bool zero;
  if (!bounded_product(known.begin(), known.end(), n, zero)) too_many(shape_str(shape), what);
  return zero ? 0 : static_cast<Dim>(n);
}

void check_allocation(std::size_t count, const Shape& shape, std::string_view what) {
  const double bytes = static_cast<double>(count) * sizeof(float);
  if (count > kMaxElements) {
    throw Error("{}: cannot allocate {} floats ({}) for shape {}: more than a 64-bit size holds",
                what, count, byte_size_str(bytes), shape_str(shape));
  }
  const std::uint64_t memory = machine_memory();
  if (memory != 0 && bytes > static_cast<double>(memory)) {
    throw Error(
        "{}: cannot allocate {} floats ({}) for shape {}: more than this machine's memory ({} "
        "of RAM and swap)",
        what, count, byte_size_str(bytes), shape_str(shape), byte_size_str(double(memory)));
  }
}

Tensor allocate_tensor(const Shape& shape, std::string_view what) {
  const std::size_t count = checked_size(shape, what);
  check_allocation(count, shape, what);
  try {
    return Tensor(Tensor::shape_type(shape.begin(), shape.end()));
  } catch (const std::bad_alloc&) {
    throw Error("{}: cannot allocate {} floats ({}) for shape {}: out of memory", what, count,
                byte_size_str(static_cast<double>(count) * sizeof(float)), shape_str(shape));
  }
}

Tensor allocate_tensor(const Shape& shape, float fill, std::string_view what) {
  Tensor t = allocate_tensor(shape, what);
  t.fill(fill);
  return t;
}

std::optional<Shape> reshaped(const Shape& target, Dim count, std::string_view what) {
  if (count < 0) return target;
  const Dim known = checked_known_product(target, 0, what);
  Shape out = target;
  auto unknown = std::find(out.begin(), out.end(), Dim{-1});
  if (unknown == out.end()) {
    if (known != count) return std::nullopt;
  } else {
    if (known == 0 || count % known != 0) return std::nullopt;
    *unknown = count / known;
  }
  return out;
}

std::optional<Shape> concatenated(std::span<const Shape> shapes, std::size_t axis,
                                  std::size_t* bad) {
  if (shapes.empty()) return std::nullopt;
  Shape out = shapes[0];
  for (std::size_t k = 1; k < shapes.size(); ++k) {
    const Shape& s = shapes[k];
    bool fits = s.size() == out.size();
    for (std::size_t d = 0; fits && d < out.size(); ++d) {
      if (d == axis) {
        out[d] = out[d] < 0 || s[d] < 0 ? -1 : out[d] + s[d];
      } else if (out[d] < 0) {
        out[d] = s[d];
      } else {
        fits = s[d] < 0 || s[d] == out[d];
      }
    }
    if (!fits) {
      if (bad) *bad = k;
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace plexus
