#include "graph/input_layer.hpp"

#include "graph/detail.hpp"

namespace plexus::graph {

InputLayer::InputLayer(Shape shape, std::string_view name) : Layer(name), shape_(std::move(shape)) {
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

}  // namespace plexus::graph
