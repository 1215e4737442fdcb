#include "graph/input_layer.hpp"

#include <set>

#include "graph/detail.hpp"

namespace plexus::graph {

InputLayer::InputLayer(Shape shape, std::string_view name, Dim batch_size)
    : Layer(name), shape_(std::move(shape)), batch_size_(batch_size) {
  if (batch_size_ <= 0 && batch_size_ != -1) {
    throw Error("Input: batch_size must be positive (or None), received {}", batch_size_);
  }
  for (Dim d : shape_) {
    // -1 (None): a dimension known only at run time, e.g. the timesteps of a sequence.
    if (d <= 0 && d != -1) {
      throw Error("Input shape {} must have positive dimensions (or -1 for None)",
                  shape_str(shape_));
    }
  }
  mark_built();
}

SymbolicTensor InputLayer::output() {
  if (!node_) {
    Shape full{-1};
    full.insert(full.end(), shape_.begin(), shape_.end());
    node_ = make_node(Node::Kind::kInput, full, name());
  }
  std::shared_ptr<LayerCall> call = call_.lock();
  if (!call) {
    call = std::make_shared<LayerCall>();
    call->layer = shared_from_this();
    call->outputs = {node_};
    call->id = detail::next_id();
    call_ = call;
  }
  return SymbolicTensor(node_, call);
}

Dim static_batch_size(const SymbolicTensor& x) {
  std::set<const LayerCall*> seen;
  std::vector<const LayerCall*> todo;
  if (x.history()) todo.push_back(x.history().get());
  while (!todo.empty()) {
    const LayerCall* call = todo.back();
    todo.pop_back();
    if (!seen.insert(call).second) continue;
    if (const auto* in = dynamic_cast<const InputLayer*>(call->layer.get())) {
      if (in->batch_size() > 0) return in->batch_size();
    }
    for (const auto& t : call->inputs) {
      if (t.history()) todo.push_back(t.history().get());
    }
  }
  return -1;
}

}  // namespace plexus::graph
