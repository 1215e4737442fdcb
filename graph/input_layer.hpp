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
  NodePtr node_;
  // The call holds this layer, so the layer may only watch it: a strong reference here
  // would keep every Input alive forever.
  std::weak_ptr<LayerCall> call_;
};

}  // namespace plexus::graph
