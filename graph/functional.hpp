// A Functional graph: the layer-level DAG between Inputs and outputs. It is itself a
// layer, so a model can be called on new symbolic tensors (weights shared, not copied).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "graph/layer.hpp"

namespace plexus::graph {

class Functional : public Layer {
 public:
  // Validates the graph once: outputs must come from layer calls, every path must end at
  // one of `inputs`, every input must be used, and layer names must be unique.
  Functional(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs,
             std::string_view name, std::string class_name = "Functional");

  std::string class_name() const override { return class_name_; }
  const std::vector<SymbolicTensor>& inputs() const { return inputs_; }
  const std::vector<SymbolicTensor>& outputs() const { return outputs_; }
  // Layers in topological order of their first call, InputLayers included (Keras 3).
  const std::vector<std::shared_ptr<Layer>>& layers() const { return layers_; }
  // Layer calls in topological order, InputLayer calls included.
  const std::vector<std::shared_ptr<LayerCall>>& calls() const { return calls_; }
  Layer& get_layer(std::string_view name) const;

  // A model's sub-layers are its layers: weights, freezing and saving recurse into them.
  bool tracks_called_layers() const override { return false; }
  // The state updates of every layer call in the graph (nested models' included).
  std::vector<StateUpdate> updates() const;
  SymbolicTensor call(const SymbolicTensor& x) override;
  std::vector<SymbolicTensor> call_list(const std::vector<SymbolicTensor>& xs) override;

 private:
  std::string class_name_;
  std::vector<SymbolicTensor> inputs_;
  std::vector<SymbolicTensor> outputs_;
  std::vector<std::shared_ptr<Layer>> layers_;
  std::vector<std::shared_ptr<LayerCall>> calls_;
};

// The index of `node` among the outputs of `call` (a layer may return several tensors).
std::size_t output_index(const LayerCall& call, const Node* node);

}  // namespace plexus::graph
