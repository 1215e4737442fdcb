// graph::Function: the one executable unit (Keras's ops/function.py).
//
//   Function(inputs, {{"loss", loss}, {"pred", y}})  symbolic inputs -> named outputs
//
// Validated once: every output must be computable from the inputs alone (a graph input
// that is not among them is "Graph disconnected"), output names are unique. Models,
// the training step, losses and metrics all run through Functions; outputs are looked up
// by name (output_index("loss") once, then by that index), never by a position another
// file must keep in step.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "graph/executor.hpp"

namespace plexus::graph {

struct NamedOutput {
  std::string name;
  SymbolicTensor tensor;
};

class Function {
 public:
  Function() = default;
  Function(std::vector<SymbolicTensor> inputs, std::vector<NamedOutput> outputs,
           std::string_view name = "function");

  const std::string& name() const { return name_; }
  const std::vector<SymbolicTensor>& inputs() const { return inputs_; }
  const std::vector<NamedOutput>& outputs() const { return outputs_; }
  std::size_t num_outputs() const { return outputs_.size(); }
  // The position of output `name` (px::Error listing the names if there is none).
  std::size_t output_index(std::string_view name) const;
  bool has_output(std::string_view name) const;

  // An executor over this function (its own buffers and kernel state).
  std::unique_ptr<Executor> make_executor(Executor::Options options = {}) const;
  // Runs once, eagerly: outputs in order (allocates; for tests and one-off evaluations).
  std::vector<Tensor> operator()(const std::vector<const Tensor*>& feeds,
                                 const Context& ctx = {}) const;

 private:
  std::string name_;
  std::vector<SymbolicTensor> inputs_;
  std::vector<NamedOutput> outputs_;
};

// A symbolic input of a Function that belongs to no layer (targets, sample weights,
// y_true/y_pred of a loss): ops on it never become layers of a model.
SymbolicTensor placeholder(const Shape& shape, std::string_view name);

}  // namespace plexus::graph
