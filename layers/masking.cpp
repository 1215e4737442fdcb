#include "layers/masking.hpp"

#include <map>
#include <memory>
#include <mutex>

namespace plexus::masking {
namespace {
// Keyed by node; the weak pointer tells a live node from a new one at a reused address.
struct Entry {
  std::weak_ptr<Node> node;
  SymbolicTensor mask;
};
std::mutex& table_mutex() {
  static std::mutex m;
  return m;
}
std::map<const Node*, Entry>& table() {
  static std::map<const Node*, Entry> t;
  return t;
}
}  // namespace

void set_mask(const SymbolicTensor& x, const SymbolicTensor& mask) {
  if (!x.defined()) return;
  std::lock_guard lock(table_mutex());
  auto& t = table();
  for (auto it = t.begin(); it != t.end();) {  // drop the entries of dead nodes
    it = it->second.node.expired() ? t.erase(it) : std::next(it);
  }
  if (!mask.defined()) {
    t.erase(x.node().get());
    return;
  }
  t[x.node().get()] = Entry{x.node(), mask};
}

SymbolicTensor mask_of(const SymbolicTensor& x) {
  if (!x.defined()) return {};
  std::lock_guard lock(table_mutex());
  auto& t = table();
  auto it = t.find(x.node().get());
  if (it == t.end() || it->second.node.lock() != x.node()) return {};
  return it->second.mask;
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
