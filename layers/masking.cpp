#include "layers/masking.hpp"

namespace plexus::masking {

// The mask is a property of the tensor's node (Node::mask), set while the graph is built.
void set_mask(const SymbolicTensor& x, const SymbolicTensor& mask) {
  if (!x.defined()) return;
  x.node()->mask = mask.defined() ? mask.node() : nullptr;
}

SymbolicTensor mask_of(const SymbolicTensor& x) {
  return x.defined() ? x.mask() : SymbolicTensor{};
}

void pass_on(const SymbolicTensor& in, const SymbolicTensor& out) {
  if (!in.defined() || !out.defined() || out.node() == in.node()) return;
  const SymbolicTensor mask = mask_of(in);
  if (!mask.defined() || out.rank() < 2 || in.rank() < 2) return;
  const Dim a = in.shape()[1], b = out.shape()[1];
  if (a >= 0 && b >= 0 && a != b) return;
  set_mask(out, mask);
}

}  // namespace plexus::masking
