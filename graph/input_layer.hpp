// The layer behind px::Input: it has no weights and makes the model's input node.
#pragma once

#include "graph/layer.hpp"

namespace plexus::graph {

class InputLayer : public Layer {
 public:
  // shape excludes the batch dimension.
  InputLayer(Shape shape, std::string_view name = {});
  std::string class_name() const override { return "InputLayer"; }
  // The symbolic tensor this layer feeds, (None, *shape); made on first use.
  SymbolicTensor output();
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }

 private:
  Shape shape_;
  // The call is held weakly: it holds this layer, so a strong reference here was a cycle
  // that leaked every Input(). Whoever holds the returned tensor keeps the call alive; made
  // again (same node and id) if all of those are gone.
  NodePtr node_;
  std::weak_ptr<LayerCall> call_;
  std::size_t call_id_ = 0;
};

}  // namespace plexus::graph
