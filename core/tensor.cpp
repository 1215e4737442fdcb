#include "core/tensor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <new>

#include "core/error.hpp"
#include "core/shape.hpp"

namespace plexus {

std::string shape_str(const Shape& shape, bool tuple_comma) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] < 0 ? std::string("None") : std::to_string(shape[i]);
  }
  if (shape.size() == 1 && tuple_comma) s += ",";
  return s + ")";
}

Shape shape_of(const Tensor& t) { return Shape(t.shape().begin(), t.shape().end()); }

Dim num_elements(const Shape& shape) { return checked_product(shape, 0, "num_elements"); }

std::size_t normalize_axis(Dim axis, std::size_t rank, const char* what) {
  const Dim r = static_cast<Dim>(rank);
  if (axis < -r || axis >= r) {
    throw Error("{}: axis {} is out of range for a tensor of rank {}", what, axis, rank);
  }
  return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

bool shapes_compatible(const Shape& a, const Shape& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] >= 0 && b[i] >= 0 && a[i] != b[i]) return false;
  }
  return true;
}

void resize_to(Tensor& t, const Shape& shape) {
  bool same = t.dimension() == shape.size();
  for (std::size_t i = 0; same && i < shape.size(); ++i) {
    same = static_cast<Dim>(t.shape()[i]) == shape[i];
  }
  if (same) return;
  const std::size_t count = checked_size(shape, "resize_to");
  check_allocation(count, shape, "resize_to");
  try {
    t.resize(Tensor::shape_type(shape.begin(), shape.end()));
  } catch (const std::bad_alloc&) {
    throw Error("resize_to: cannot allocate {} floats ({}) for shape {}: out of memory", count,
                byte_size_str(static_cast<double>(count) * sizeof(float)), shape_str(shape));
  }
}

}  // namespace plexus

namespace plexus {
namespace {
void shape_rows(const Tensor& src, std::size_t count, Tensor& dst) {
  bool same = dst.dimension() == src.dimension() && dst.dimension() > 0 && dst.shape()[0] == count;
  for (std::size_t i = 1; same && i < src.dimension(); ++i) same = dst.shape()[i] == src.shape()[i];
  if (same) return;
  Tensor::shape_type s = src.shape();
  s[0] = count;
  dst.resize(s);
}
}  // namespace

void copy_rows(const Tensor& src, std::size_t begin, std::size_t count, Tensor& dst) {
  if (src.dimension() == 0) {
    throw Error("copy_rows: the source is a scalar (shape ()); it has no rows to copy");
  }
  const std::size_t rows = src.shape()[0];
  if (begin > rows || count > rows - begin) {
    if (begin >= rows) {
      throw Error(
          "copy_rows: rows [{}, {}) start past the end of a tensor of {} rows (shape {}); "
          "stop the loop at start < {}",
          begin, begin + count, rows, shape_str(shape_of(src)), rows);
    }
    throw Error(
        "copy_rows: rows [{}, {}) run past the end of a tensor of {} rows (shape {}); the last "
        "batch holds {} rows: pass std::min(batch_size, n - start) as the count",
        begin, begin + count, rows, shape_str(shape_of(src)), rows - begin);
  }
  shape_rows(src, count, dst);
  const std::size_t row = rows ? src.size() / rows : 0;
  std::copy_n(src.data() + begin * row, count * row, dst.data());
}

void gather_rows(const Tensor& src, const std::vector<std::size_t>& order, std::size_t begin,
                 std::size_t count, Tensor& dst) {
  if (src.dimension() == 0) {
    throw Error("gather_rows: the source is a scalar (shape ()); it has no rows to gather");
  }
  if (begin > order.size() || count > order.size() - begin) {
    throw Error(
        "gather_rows: positions [{}, {}) run past the end of the index list, which holds {} "
        "indices",
        begin, begin + count, order.size());
  }
  const std::size_t rows = src.shape()[0];
  for (std::size_t i = 0; i < count; ++i) {
    if (order[begin + i] >= rows) {
      throw Error(
          "gather_rows: index {} (position {}) is out of range for a tensor of {} rows "
          "(shape {})",
          order[begin + i], begin + i, rows, shape_str(shape_of(src)));
    }
  }
  shape_rows(src, count, dst);
  const std::size_t row = rows ? src.size() / rows : 0;
  for (std::size_t i = 0; i < count; ++i) {
    std::copy_n(src.data() + order[begin + i] * row, row, dst.data() + i * row);
  }
}

bool all_finite(const Tensor& t) {
  // NaN and Inf are the floats whose exponent bits are all ones; OR-reducing a mask over
  // the bits vectorises, where a loop of std::isfinite does not.
  const std::uint32_t* p = reinterpret_cast<const std::uint32_t*>(t.data());
  const std::size_t n = t.size();
  constexpr std::uint32_t kExp = 0x7F800000u;
  for (std::size_t i = 0; i < n; i += 4096) {
    std::uint32_t bad = 0;
    const std::size_t end = std::min(n, i + 4096);
    for (std::size_t k = i; k < end; ++k) bad |= static_cast<std::uint32_t>((p[k] & kExp) == kExp);
    if (bad) return false;
  }
  return true;
}
}  // namespace plexus
