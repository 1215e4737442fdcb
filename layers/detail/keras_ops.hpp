// Keras 3 operation nodes in functional configs: a keras.ops call on a symbolic tensor
// (`x + 3.0`, `keras.ops.not_equal(x, 0)`, the NotEqual / Any nodes Masking and
// Embedding(mask_zero=True) leave in Keras 3.15 configs) is saved as its op class
// ({"module": "keras.src.ops.numpy", "class_name": "NotEqual", ...}) with the constants of
// the call among its node's args. plexus reads each as a weightless layer that applies the
// matching px::ops (layers/keras_ops.cpp lists the classes), and writes it back the same way.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "core/json.hpp"
#include "graph/layer.hpp"

namespace plexus::layers::detail {

// A positional argument of the op's call: a tensor (the k-th tensor input of the layer),
// a number, or a list of tensors (ops.concatenate([a, b])).
struct OpArgument {
  enum class Kind { kTensor, kNumber, kTensorList };
  Kind kind = Kind::kTensor;
  std::size_t tensor = 0;  // kTensor: index into the call's inputs; kTensorList: the first
  std::size_t count = 0;   // kTensorList: how many
  double number = 0;       // kNumber
};

class KerasOpLayer : public Layer {
 public:
  // The op's Keras class ("NotEqual"), module ("keras.src.ops.numpy") and config
  // ({"name", "axis", ...}). px::Error naming the class when plexus has no such op.
  KerasOpLayer(std::string class_name, std::string module, Config config);
  std::string class_name() const override { return class_name_; }
  const std::string& module() const { return module_; }
  // The call's positional arguments, set from the node's args before the call.
  void set_arguments(std::vector<OpArgument> args) { args_ = std::move(args); }
  const std::vector<OpArgument>& arguments() const { return args_; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  std::vector<SymbolicTensor> call_list(const std::vector<SymbolicTensor>& xs) override;
  Config get_config() const override { return config_; }

 private:
  std::string class_name_, module_;
  Config config_;
  std::vector<OpArgument> args_;
};

// Whether a layers-list entry is a Keras operation (its module is keras.src.ops.*).
bool is_keras_op_entry(const Config& entry);
// The Keras op classes plexus reads, sorted (docs and tests).
std::vector<std::string> keras_op_classes();

}  // namespace plexus::layers::detail
