// Checked shape arithmetic and allocation: a shape whose element count cannot be
// represented, or a tensor larger than the machine's memory, is a px::Error naming what
// asked for it — never a wrapped product, signed overflow inside xtensor's strides, or
// std::bad_alloc.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "core/tensor.hpp"

namespace plexus {

// The largest element count plexus accepts for a float tensor: the byte count (and every
// stride xtensor derives from the shape, as std::ptrdiff_t) must fit in a signed 64-bit
// integer.
inline constexpr std::size_t kMaxElements = static_cast<std::size_t>(PTRDIFF_MAX) / sizeof(float);

// Number of elements of a shape whose dimensions are all known (>= 0). Throws px::Error
// "<what>: shape (...) has too many elements ..." when the product of its non-zero
// dimensions exceeds kMaxElements (a zero dimension does not excuse the others: the strides
// of (0, 2^32, 2^32) still overflow), and "<what>: shape (...) has an unknown dimension"
// for a negative one.
std::size_t checked_size(const Shape& shape, std::string_view what);
std::size_t checked_size(const Tensor::shape_type& shape, std::string_view what);

// Product of shape[first..]; -1 when one of those dimensions is unknown (-1). The known
// dimensions are checked as checked_size does, so (None, 2^62 + 1, 4) is an error, not 4.
Dim checked_product(const Shape& shape, std::size_t first, std::string_view what);
// Product of the known (>= 0) dimensions of shape[first..], checked the same way.
Dim checked_known_product(const Shape& shape, std::size_t first, std::string_view what);

// Throws px::Error "<what>: cannot allocate <n> floats (<bytes>) for shape (...): ..." when
// `count` floats cannot be allocated: more than kMaxElements, or more than the machine's
// memory (RAM plus swap) — such a request can never succeed, and under overcommit it would
// be killed later instead of failing now.
void check_allocation(std::size_t count, const Shape& shape, std::string_view what);

// A tensor of `shape` (all dimensions known), checked as above; a std::bad_alloc from the
// allocator becomes the same px::Error. Elements are uninitialised unless `fill` is given.
Tensor allocate_tensor(const Shape& shape, std::string_view what);
Tensor allocate_tensor(const Shape& shape, float fill, std::string_view what);

// The shape rules the kernels, the layers and the data helpers share.
//
// Reshape (NumPy's rule): `target`, whose dimensions are >= 0 or -1 (at most one), with the
// -1 resolved so that the element count stays `count`. std::nullopt when no shape fits (the
// count is not a multiple of the known dimensions, or differs from their product). A
// negative (unknown) `count` returns `target` unchanged: it is resolved once the size is known.
std::optional<Shape> reshaped(const Shape& target, Dim count, std::string_view what);
// Concatenate: shapes of one rank, equal except along `axis` (normalised), joined there; an
// unknown (-1) dimension takes the known one, and makes the joined axis unknown. std::nullopt,
// with *bad set to the first input that does not fit, when the ranks or dimensions differ.
std::optional<Shape> concatenated(std::span<const Shape> shapes, std::size_t axis,
                                  std::size_t* bad = nullptr);

// "1.5 GiB", "12 KiB", "100 bytes".
std::string byte_size_str(double bytes);

}  // namespace plexus
