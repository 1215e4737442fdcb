#include "layers/spatial.hpp"

#include "core/error.hpp"
#include "core/kernel_util.hpp"

namespace plexus::layers::detail {

std::vector<Dim> resolve_tuple(const IntTuple& t, std::size_t rank, std::string_view layer,
                               std::string_view argument, bool allow_zero) {
  std::vector<Dim> v = t.values;
  if (v.size() == 1) v.assign(rank, v[0]);
  if (v.size() != rank) {
    throw Error("{}: the `{}` argument must be an int or a tuple of {} ints, received ({})", layer,
                argument, rank, join(t.values));
  }
  for (Dim d : v) {
    if (d < (allow_zero ? 0 : 1)) {
      throw Error("{}: the `{}` argument must hold {} values, received ({})", layer, argument,
                  allow_zero ? "non-negative" : "positive", join(t.values));
    }
  }
  return v;
}

std::vector<std::pair<Dim, Dim>> resolve_pads(const PadTuple& t, std::size_t rank,
                                              std::string_view layer, std::string_view argument) {
  std::vector<std::pair<Dim, Dim>> pads;
  if (!t.pairs.empty()) {
    pads = t.pairs;
  } else {
    for (Dim d : resolve_tuple(IntTuple(t.symmetric), rank, layer, argument, true)) {
      pads.emplace_back(d, d);
    }
  }
  if (pads.size() != rank) {
    throw Error("{}: the `{}` argument needs {} (before, after) pairs, received {}", layer,
                argument, rank, pads.size());
  }
  for (const auto& [a, b] : pads) {
    if (a < 0 || b < 0) {
      throw Error("{}: the `{}` argument must be non-negative, received ({}, {})", layer, argument,
                  a, b);
    }
  }
  return pads;
}

bool channels_first(std::string_view data_format, std::string_view layer) {
  if (data_format == "channels_last") return false;
  if (data_format == "channels_first") return true;
  throw Error(
      "{}: the `data_format` argument must be one of \"channels_first\", \"channels_last\". "
      "Received: data_format=\"{}\"",
      layer, data_format);
}

void check_padding(std::string_view padding, std::string_view layer) {
  if (padding != "valid" && padding != "same") {
    throw Error(
        "{}: the `padding` argument must be a list/tuple or one of \"valid\", \"same\". "
        "Received: padding=\"{}\"",
        layer, padding);
  }
}

std::vector<Dim> spatial_axes(std::size_t rank, bool cf) {
  std::vector<Dim> axes;
  for (std::size_t a = cf ? 2 : 1; a < (cf ? rank : rank - 1); ++a) axes.push_back(Dim(a));
  return axes;
}

}  // namespace plexus::layers::detail
