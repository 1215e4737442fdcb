// Gradients of anything, gradients of gradients, and keras.ops (docs/gradients.md).
#include <cmath>
#include <iostream>
#include <plexus.hpp>

#include "graph/function.hpp"

namespace px = plexus;
namespace ops = plexus::ops;

int main() {
  // y = x^3 / 3 + 0.5 sin(x): dy/dx = x^2 + 0.5 cos(x), d2y/dx2 = 2x - 0.5 sin(x).
  const px::SymbolicTensor x = px::graph::placeholder({-1}, "x");
  const px::SymbolicTensor y = ops::power(x, ops::constant(3.0f)) / 3 + 0.5f * ops::sin(x);
  const px::SymbolicTensor dy = ops::grad(y, {x})[0];    // d sum(y) / dx: per element
  const px::SymbolicTensor d2y = ops::grad(dy, {x})[0];  // and again
  const px::graph::Function f({x}, {{"dy", dy}, {"d2y", d2y}});
  const px::Tensor xs = {0.5f, 1.0f, 2.0f};
  const auto out = f({&xs});
  for (std::size_t i = 0; i < 3; ++i) {
    const double v = xs(i);
    if (std::abs(out[0](i) - (v * v + 0.5 * std::cos(v))) > 1e-5 ||
        std::abs(out[1](i) - (2 * v - 0.5 * std::sin(v))) > 1e-5) {
      return 1;
    }
  }
  std::cout << "dy/dx " << out[0] << "\nd2y/dx2 " << out[1] << "\n";

  // keras.ops: top_k, one_hot, cumsum, einsum, logsumexp, ...
  const px::SymbolicTensor m = px::graph::placeholder({2, 3}, "m");
  const auto [values, indices] = std::pair(ops::top_k(m, 2)[0], ops::top_k(m, 2)[1]);
  const px::graph::Function g({m}, {{"values", values},
                                    {"indices", indices},
                                    {"one_hot", ops::one_hot(ops::argmax(m), 3)},
                                    {"cumsum", ops::cumsum(m, 1)},
                                    {"gram", ops::einsum("ij,kj->ik", m, m)},
                                    {"lse", ops::logsumexp(m, {1})}});
  const px::Tensor mv = {{1.0f, 3.0f, 2.0f}, {0.0f, -1.0f, 4.0f}};
  const auto r = g({&mv});
  std::cout << "top 2 " << r[0] << " at " << r[1] << "\none_hot(argmax) " << r[2] << "\n";
  return r[1](0, 0) == 1.0f && r[2](1, 2) == 1.0f ? 0 : 1;
}
