// Option types shared by the image layers (convolution, pooling, reshaping): Keras's
// "an int or a tuple of ints" arguments, and the data_format rules.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/keywords.hpp"
#include "core/tensor.hpp"

namespace plexus::layers {

// Keras's `kernel_size=3` or `kernel_size=(3, 5)`: one value for every spatial axis, or
// one per axis. Empty means None (e.g. pooling strides, which then default to pool_size).
struct IntTuple {
  IntTuple() = default;
  IntTuple(Dim v) : values{v} {}  // NOLINT: implicit, as Keras takes a bare int
  IntTuple(std::initializer_list<Dim> v) : values(v) {}
  IntTuple(std::vector<Dim> v) : values(std::move(v)) {}  // NOLINT
  bool empty() const { return values.empty(); }
  std::vector<Dim> values;
};

// Keras's ZeroPadding2D / Cropping2D argument: an int (every side), (h, w) symmetric
// amounts, or ((top, bottom), (left, right)).
struct PadTuple {
  PadTuple(Dim v) : symmetric{v} {}  // NOLINT: implicit, as Keras takes a bare int
  PadTuple(std::initializer_list<Dim> v) : symmetric(v) {}
  PadTuple(std::initializer_list<std::pair<Dim, Dim>> v) : pairs(v) {}
  std::vector<Dim> symmetric;
  std::vector<std::pair<Dim, Dim>> pairs;
};

namespace detail {
// `values` resolved to `rank` entries (one value is repeated); throws px::Error naming the
// layer class and argument otherwise, or when a value is < 1 (< 0 with allow_zero).
std::vector<Dim> resolve_tuple(const IntTuple& t, std::size_t rank, std::string_view layer,
                               std::string_view argument, bool allow_zero = false);
// (before, after) per spatial axis of a PadTuple.
std::vector<std::pair<Dim, Dim>> resolve_pads(const PadTuple& t, std::size_t rank,
                                              std::string_view layer, std::string_view argument);
// "channels_last" -> false, "channels_first" -> true; throws otherwise.
bool channels_first(std::string_view data_format, std::string_view layer);
// Throws unless padding is "valid" or "same" (Keras's message).
void check_padding(std::string_view padding, std::string_view layer);
// The channel axis of a rank-`rank` tensor in the given layout.
inline std::size_t channel_axis(std::size_t rank, bool cf) { return cf ? 1 : rank - 1; }
// The spatial axes of a rank-`rank` tensor in the given layout.
std::vector<Dim> spatial_axes(std::size_t rank, bool cf);
}  // namespace detail

}  // namespace plexus::layers

// Keywords whose value is an IntTuple (`kw::strides = 2`, `kw::strides = {2, 1}`).
PLEXUS_KEYWORD(kernel_size, ::plexus::layers::IntTuple)
PLEXUS_KEYWORD(pool_size, ::plexus::layers::IntTuple)
PLEXUS_KEYWORD(size, ::plexus::layers::IntTuple)
PLEXUS_KEYWORD(cropping, ::plexus::layers::PadTuple)
PLEXUS_KEYWORD(strides, ::plexus::layers::IntTuple)
PLEXUS_KEYWORD(dilation_rate, ::plexus::layers::IntTuple)
PLEXUS_KEYWORD(output_padding, ::plexus::layers::IntTuple)
