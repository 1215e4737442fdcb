// The layer behind px::Input: it has no weights and makes the model's input node.
#pragma once

#include "graph/layer.hpp"

namespace plexus::graph {

// The dtypes an input may declare (Keras's Input(dtype=)): "float32", "int32", "int64" and
// "bool". plexus tensors hold float32, so an integer or boolean input is float storage with
// its dtype recorded: the values fed must be whole numbers within +-2^24 (16777216, the
// integers float32 holds exactly), or 0/1 for bool; check_input_values refuses others.
// Returns the canonical name; px::Error naming `where` for any other dtype.
std::string input_dtype(std::string_view dtype, std::string_view where);
// px::Error naming the input when a value of `x` does not fit `dtype` (see input_dtype).
void check_input_values(const Tensor& x, std::string_view dtype, std::string_view where);

class InputLayer : public Layer {
 public:
  // shape excludes the batch dimension; batch_size -1 is None (any batch size); dtype is
  // one of input_dtype's.
  InputLayer(Shape shape, std::string_view name = {}, Dim batch_size = -1,
             std::string_view dtype = "float32");
  std::string class_name() const override { return "InputLayer"; }
  // The symbolic tensor this layer feeds, (None, *shape); made on first use.
  SymbolicTensor output();
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }
  // The input's shape, without the batch.
  const Shape& shape() const { return shape_; }
  // The static batch size (Keras's batch_size / batch_shape[0]), -1 when None. The input
  // node itself takes any batch; a stateful RNN reads this to build its states.
  Dim batch_size() const { return batch_size_; }
  // "float32", "int32", "int64" or "bool" (Keras's Input(dtype=)).
  const std::string& dtype() const { return dtype_; }
  // Keras 3: {"batch_shape", "dtype", "sparse", "ragged", "name", "optional"}; reads
  // Keras 2's batch_input_shape too (graph/layer_config.cpp).
  Config get_config() const override;
  static LayerRef from_config(const Config& config);

 private:
  Shape shape_;
  Dim batch_size_ = -1;
  std::string dtype_ = "float32";
  NodePtr node_;
  // The call holds this layer, so the layer may only watch it: a strong reference here
  // would keep every Input alive forever.
  std::weak_ptr<LayerCall> call_;
};

// The static batch size of the Inputs `x` was computed from (the first Input found with one,
// walking the layer calls back), or -1 when none has one.
Dim static_batch_size(const SymbolicTensor& x);

}  // namespace plexus::graph
