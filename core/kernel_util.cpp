#include "core/kernel_util.hpp"

#include "core/error.hpp"

namespace plexus {

Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    // Right-aligned: a missing leading axis acts as 1.
    const Dim da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const Dim db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == db) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else if (db == 1) {
      out[i] = da;
    } else if (da < 0) {
      out[i] = db;  // unknown vs n: the known size (checked again at run time)
    } else if (db < 0) {
      out[i] = da;
    } else {
      throw Error("{}: cannot broadcast shapes {} and {}: axis {} has sizes {} and {}", op,
                  shape_str(a), shape_str(b), i, da, db);
    }
  }
  return out;
}

void check_arity(std::string_view op, ShapeRefs in, std::size_t n) {
  if (in.size() != n) {
    throw Error("{}: expected {} input{}, received {}", op, n, n == 1 ? "" : "s", in.size());
  }
}

void accumulate_reduced(const Tensor& g, Tensor& target) {
  if (same_shape(g, target)) {
    const float* src = g.data();
    float* dst = target.data();
    const std::size_t n = g.size();
    for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];
    return;
  }
  if (target.dimension() > g.dimension()) {
    throw Error("accumulate_reduced: gradient shape {} cannot reduce to shape {}",
                shape_str(shape_of(g)), shape_str(shape_of(target)));
  }
  const std::size_t lead = g.dimension() - target.dimension();
  for (std::size_t d = 0; d < target.dimension(); ++d) {
    const auto t = target.shape()[d];
    if (t != 1 && t != g.shape()[lead + d]) {
      throw Error("accumulate_reduced: gradient shape {} cannot reduce to shape {}",
                  shape_str(shape_of(g)), shape_str(shape_of(target)));
    }
  }
  // Thread-local so the helper stays allocation-free once warmed up.
  thread_local StridedLoop<2> loop;
  loop.reset(g.shape());
  loop.set_broadcast(0, g.shape());
  loop.set_broadcast(1, target.shape());
  const float* src = g.data();
  float* dst = target.data();
  // Operand 0 is the iteration shape itself, so its inner step is always 1.
  loop.run([&](const auto& base, std::size_t n, const auto& step) {
    const float* s = src + base[0];
    scatter_add(dst + base[1], step[1], n, [&](std::size_t i) { return s[i]; });
  });
}

}  // namespace plexus
