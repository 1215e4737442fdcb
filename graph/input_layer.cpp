#include "graph/input_layer.hpp"

#include "graph/detail.hpp"

namespace plexus::graph {

InputLayer::InputLayer(Shape shape, std::string_view name) : Layer(name), shape_(std::move(shape)) {
  for (Dim d : shape_) {
    if (d <= 0) throw Error("Input shape {} must have positive dimensions", shape_str(shape_));
  }
  mark_built();
}

SymbolicTensor InputLayer::output() {
  if (auto call = call_.lock()) return SymbolicTensor(node_, std::move(call));
  if (!node_) {
    Shape full{-1};
    full.insert(full.end(), shape_.begin(), shape_.end());
    node_ = make_node(Node::Kind::kInput, full, name());
    call_id_ = detail::next_id();
  }
  auto call = std::make_shared<LayerCall>();
  call->layer = shared_from_this();
  call->outputs = {node_};
  call->id = call_id_;
  call_ = call;
  return SymbolicTensor(node_, std::move(call));
}

}  // namespace plexus::graph
