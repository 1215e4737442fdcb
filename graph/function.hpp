// graph::Function: the one executable unit (Keras's ops/function.py).
//
//   Function(inputs, {{"loss", loss}, {"pred", y}})  symbolic inputs -> named outputs
//
// Validated once: every output must be computable from the inputs alone (a graph input
// that is not among them is "Graph disconnected"), output names are unique. Models,
// the training step, losses and metrics all run through Functions; outputs are looked up
// by name (output_index("loss") once, then by that index), never by a position another
// file must keep in step.
//
// State updates are part of the Function: given a graph's updates (Functional::updates(),
// a layer call's) and which of them to compute, the Function appends each one's value as
// an output "update:<variable path>#<k>" — the one place they are built — and
// apply_updates() writes them back — the one place they are applied. The training step
// computes them all; evaluate, predict and inference calls only those applied at inference
// (a stateful RNN's states): BatchNormalization's update expressions are not even in their
// graph. The graph is walked and sorted once (a Schedule); every executor shares it.
#pragma once

#include <memory>
#include <span>
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

// Which of a graph's state updates a Function computes.
enum class UpdateSet {
  kNone,
  kInference,  // those applied at inference too (evaluate, predict, inference calls)
  kAll,        // every one (a training step)
};

class Function {
 public:
  Function() = default;
  Function(std::vector<SymbolicTensor> inputs, std::vector<NamedOutput> outputs,
           std::string_view name = "function");
  // With the state updates of `updates` selected by `which` as extra outputs, after `outputs`.
  Function(std::vector<SymbolicTensor> inputs, std::vector<NamedOutput> outputs,
           const std::vector<StateUpdate>& updates, UpdateSet which,
           std::string_view name = "function");

  const std::string& name() const { return name_; }
  const std::vector<SymbolicTensor>& inputs() const { return inputs_; }
  const std::vector<NamedOutput>& outputs() const { return outputs_; }
  std::size_t num_outputs() const { return outputs_.size(); }
  // The position of output `name` (px::Error listing the names if there is none).
  std::size_t output_index(std::string_view name) const;
  bool has_output(std::string_view name) const;

  // --- state updates ---------------------------------------------------------------
  struct Update {
    std::shared_ptr<VariableData> variable;
    std::weak_ptr<Layer> layer;  // weak: a layer's eager cache holds Functions of its own
    bool at_inference = false;
    std::size_t output = 0;  // the output holding its new value
  };
  const std::vector<Update>& updates() const { return updates_; }
  UpdateSet update_set() const { return update_set_; }
  // Some update is applied at inference (a stateful RNN in the graph).
  bool stateful() const;
  // px::Error naming the layer when a batch of `batch` samples does not fit a stateful
  // layer's states; `what` is "fit", "evaluate", "predict", ...
  void check_state_batch(std::size_t batch, std::string_view what) const;
  // Writes each update's value, as computed by exec's last forward(), into its variable.
  // A training set (kAll) skips a frozen layer's updates unless applied at inference.
  void apply_updates(const Executor& exec) const;
  // The same from values[u] (update u's new value, its variable's size; data-parallel
  // training averages them across processes first).
  void apply_updates(std::span<const float* const> values) const;

  // An executor over this function (its own buffers and kernel state).
  std::unique_ptr<Executor> make_executor(Executor::Options options = {}) const;
  // Runs once, eagerly: outputs in order (allocates; for tests and one-off evaluations).
  std::vector<Tensor> operator()(const std::vector<const Tensor*>& feeds,
                                 const Context& ctx = {}) const;

 private:
  std::string name_;
  std::vector<SymbolicTensor> inputs_;
  std::vector<NamedOutput> outputs_;
  std::shared_ptr<const Schedule> schedule_;  // walked and sorted once
  std::vector<Update> updates_;
  UpdateSet update_set_ = UpdateSet::kNone;
};

// A symbolic input of a Function that belongs to no layer (targets, sample weights,
// y_true/y_pred of a loss): ops on it never become layers of a model.
SymbolicTensor placeholder(const Shape& shape, std::string_view name);

}  // namespace plexus::graph
