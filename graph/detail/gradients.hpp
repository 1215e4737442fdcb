// Internal helpers of the symbolic VJPs (Kernel::symbolic_vjp, graph/gradients.cpp).
#pragma once

#include <vector>

#include "graph/symbolic.hpp"

namespace plexus::ops::detail {

// x != 0 as 1/0 (a condition for where).
SymbolicTensor nonzero_mask(const SymbolicTensor& x);
// x broadcast to ref's shape (kernels::expand_like): `axes` are ref's axes x lacks (or has
// as 1); mean divides by ref.size / x.size.
SymbolicTensor expand_like(const SymbolicTensor& x, const SymbolicTensor& ref,
                           std::vector<Dim> axes = {}, bool mean = false);
// g summed to ref's shape (kernels::reduce_like), the VJP of expand_like.
SymbolicTensor reduce_like(const SymbolicTensor& g, const SymbolicTensor& ref,
                           std::vector<Dim> axes = {}, bool mean = false);
// g summed over the axes along which ref was broadcast (g itself when the shapes agree).
SymbolicTensor unbroadcast(const SymbolicTensor& g, const SymbolicTensor& ref);
// g in x's shape (g has x's element count): the VJP of reshapes.
SymbolicTensor reshape_as(const SymbolicTensor& g, const SymbolicTensor& x);

}  // namespace plexus::ops::detail
