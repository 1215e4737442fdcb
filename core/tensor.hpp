// Tensors and shapes: the numeric vocabulary every other part of plexus speaks.
#pragma once

#include <cstddef>
#include <string>
#include <vector>
#include <xtensor/xarray.hpp>

namespace plexus {

// A dense, row-major float tensor. All numeric work in plexus is done on these.
using Tensor = xt::xarray<float>;

// A dimension; -1 stands for a dimension unknown until run time (Keras's None, the batch).
using Dim = std::ptrdiff_t;
using Shape = std::vector<Dim>;

// "(None, 784)" — Keras's spelling, used in every message and in summary(). A shape of one
// dimension prints as Python's tuple "(8,)", or as "(8)" in summary() (Keras's format_shape)
// when `tuple_comma` is false.
std::string shape_str(const Shape& shape, bool tuple_comma = true);
// The concrete shape of a tensor as a Shape.
Shape shape_of(const Tensor& t);
// Number of elements; -1 when a dimension is unknown. Throws px::Error when the product of
// the known dimensions cannot be represented (core/shape.hpp).
Dim num_elements(const Shape& shape);
// Resolves a possibly negative axis against a rank; throws px::Error when out of range.
std::size_t normalize_axis(Dim axis, std::size_t rank, const char* what);
// True when both shapes are equal, treating -1 as a wildcard.
bool shapes_compatible(const Shape& a, const Shape& b);
// Resizes t to shape (all dimensions known) without touching the data if already that shape;
// a shape too large to represent or to allocate is a px::Error (core/shape.hpp).
void resize_to(Tensor& t, const Shape& shape);

}  // namespace plexus

namespace plexus {
// Copies rows [begin, begin + count) of src (first axis) into dst, resizing dst to
// (count, ...) only when its shape differs. Throws px::Error when the rows run past the end
// of src (a partial last batch: pass std::min(batch_size, n - start)) or src is a scalar.
void copy_rows(const Tensor& src, std::size_t begin, std::size_t count, Tensor& dst);
// Copies rows src[order[begin + i]] for i < count into dst (a shuffled batch). Throws
// px::Error when [begin, begin + count) runs past the end of order or an index is not a row
// of src.
void gather_rows(const Tensor& src, const std::vector<std::size_t>& order, std::size_t begin,
                 std::size_t count, Tensor& dst);
// True when every element is finite.
bool all_finite(const Tensor& t);
}  // namespace plexus
