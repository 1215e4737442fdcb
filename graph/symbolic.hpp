// Symbolic graph vocabulary: Node (one application of an op), SymbolicTensor (an edge),
// Variable (a weight), LayerCall (one call of a layer, grouping the nodes it made).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/kernel.hpp"
#include "core/keywords.hpp"
#include "core/tensor.hpp"

namespace plexus {

class Layer;
struct LayerCall;
struct Node;
namespace regularizers {
class Regularizer;
}
namespace constraints {
class Constraint;
}

// A weight: owned by one layer, shared by every call of it.
struct VariableData : std::enable_shared_from_this<VariableData> {
  std::string name;  // "kernel"
  std::string path;  // "dense/kernel" (Keras 3 variable path)
  Tensor value;
  bool trainable = true;
  // Keras's add_weight(regularizer=, constraint=): the training step adds the
  // regularizer's penalty (regularizers::penalty) to the loss and applies the constraint
  // to the value after each optimizer step. Either may be null.
  std::shared_ptr<regularizers::Regularizer> regularizer;
  std::shared_ptr<constraints::Constraint> constraint;
  // The variable node add_weight made (graph/regularizers.cpp builds penalties on it).
  std::weak_ptr<Node> node;
};

// A handle on a weight (model.trainable_weights() returns these).
class Variable {
 public:
  Variable() = default;
  explicit Variable(std::shared_ptr<VariableData> data) : data_(std::move(data)) {}
  const std::string& name() const { return data_->name; }
  const std::string& path() const { return data_->path; }
  Tensor& value() { return data_->value; }
  const Tensor& value() const { return data_->value; }
  Shape shape() const { return shape_of(data_->value); }
  std::size_t size() const { return data_->value.size(); }
  bool trainable() const { return data_->trainable; }
  // Replaces the value; the shape must match (px::Error otherwise).
  void assign(const Tensor& value);
  const std::shared_ptr<VariableData>& data() const { return data_; }
  bool operator==(const Variable& other) const { return data_ == other.data_; }

 private:
  std::shared_ptr<VariableData> data_;
};

// One application of an operation. An op with several outputs is one kOp node followed by
// one kOutput node per output (inputs = {the op node}, output_index = k): every edge of the
// graph is then a node, and a SymbolicTensor names output k of the op through its kOutput.
struct Node {
  enum class Kind { kInput, kVariable, kConstant, kOp, kOutput };
  Kind kind = Kind::kOp;
  std::size_t id = 0;  // creation order; inputs always have smaller ids (a topological order)
  Shape shape;         // symbolic: -1 for the batch
  std::string name;    // the Input's name, or the op's name
  KernelPtr kernel;    // kOp
  std::vector<std::shared_ptr<Node>> inputs;
  std::shared_ptr<VariableData> variable;  // kVariable
  std::shared_ptr<const Tensor> constant;  // kConstant
  std::size_t output_index = 0;            // kOutput: which output of inputs[0]
  // Keras's dtype of the value: an Input's declared dtype ("int32", ...; the values are
  // float32 underneath, graph/input_layer.hpp), "float32" for everything computed.
  std::string dtype = "float32";
  // Keras's _keras_mask: the mask ([batch, timesteps], 1 = keep the step) the value carries,
  // or null (layers/masking.hpp). Always a node computed before the value's consumers.
  std::shared_ptr<Node> mask;
};
using NodePtr = std::shared_ptr<Node>;

NodePtr make_node(Node::Kind kind, Shape shape, std::string name);

// An edge of the graph: a node's output plus the layer call that produced it (the
// "history" Keras keeps as _keras_history). Two tensors may share a node (a layer that
// returns its input) but never a history.
class SymbolicTensor {
 public:
  SymbolicTensor() = default;
  SymbolicTensor(NodePtr node, std::shared_ptr<LayerCall> history)
      : node_(std::move(node)), history_(std::move(history)) {}
  const Shape& shape() const { return node_->shape; }
  std::size_t rank() const { return node_->shape.size(); }
  const NodePtr& node() const { return node_; }
  // Which output of its op this tensor is (0 unless the op has several outputs).
  std::size_t index() const { return node_->output_index; }
  const std::shared_ptr<LayerCall>& history() const { return history_; }
  bool defined() const { return node_ != nullptr; }
  // Keras's x.dtype: an Input's declared dtype, "float32" for computed tensors.
  const std::string& dtype() const { return node_->dtype; }
  // The mask this tensor carries (Keras's x._keras_mask), or an undefined tensor.
  SymbolicTensor mask() const { return SymbolicTensor(node_ ? node_->mask : nullptr, nullptr); }

 private:
  NodePtr node_;
  std::shared_ptr<LayerCall> history_;
};

// The results of calling a layer on a list; converts to one SymbolicTensor when there is
// exactly one (so `Concatenate()({a, b})` can be passed on directly).
class SymbolicTensors : public std::vector<SymbolicTensor> {
 public:
  using std::vector<SymbolicTensor>::vector;
  SymbolicTensors(std::vector<SymbolicTensor> v) : std::vector<SymbolicTensor>(std::move(v)) {}
  operator SymbolicTensor() const { return single(); }
  const Shape& shape() const { return single().shape(); }
  const SymbolicTensor& single() const;
};

// A state update declared by a layer's call (Layer::add_update): after each training step
// `variable` takes the value of `value` (BatchNormalization's moving statistics).
// at_inference: after every inference batch too, frozen or not (a stateful RNN's states).
struct StateUpdate {
  std::shared_ptr<VariableData> variable;
  NodePtr value;
  std::shared_ptr<Layer> layer;  // the layer that declared it: a frozen layer's are skipped
  bool at_inference = false;
};
// graph::Function computes and applies them (graph/function.hpp).

// One call of a layer: its inputs (with their histories) and the nodes it output.
struct LayerCall {
  std::shared_ptr<Layer> layer;
  std::vector<SymbolicTensor> inputs;
  std::vector<NodePtr> outputs;  // nodes only: holding SymbolicTensors would form a cycle
  std::size_t id = 0;            // creation order (topological)
  // Which call of `layer` this is (Keras's node_index, shown as "dense[1][0]" in summaries).
  // Only calls made by user code count: calls made while tracing another layer (a nested
  // model re-run on new inputs) make no Keras node and share the next index.
  std::size_t node_index = 0;
  // The state updates made during this call, its sub-layers' included.
  std::vector<StateUpdate> updates;
};

// px::Input(shape, name): a symbolic input of a model; shape excludes the batch.
SymbolicTensor Input(const Shape& shape, std::string_view name = {});
// Keras's Input(shape, batch_size=, name=): px::Input({10, 8}, {.batch_size = 4}). A static
// batch size is written to the config (batch_shape [4, 10, 8]) and is what a stateful RNN
// builds its states for; other layers still take any batch size.
// dtype: "float32" (default), "int32", "int64" or "bool" — Keras's Input(dtype=) for token
// ids and labels; stored as float32, checked to be whole numbers within +-2^24 when fed
// (graph/input_layer.hpp).
struct InputOptions {
  std::optional<Dim> batch_size = std::nullopt;
  std::string name{};
  std::string dtype = "float32";
};
SymbolicTensor Input(const Shape& shape, const InputOptions& options);
// Keyword forms: px::Input({10, 8}, kw::batch_size = 4, kw::name = "seq"),
// px::Input(kw::shape = {784}), px::Input({maxlen}, kw::dtype = "int32"); also
// px::layers::Input (Keras's layers.Input).
PLEXUS_KEYWORD_FACTORY(SymbolicTensor, Input, InputOptions, (const Shape&, shape))

}  // namespace plexus
