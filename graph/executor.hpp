// The executor: runs a static graph forward and backward (reverse-mode autodiff).
//
// Built from a Schedule: the nodes the outputs depend on, walked and sorted topologically
// (by creation id — inputs are always older than the nodes using them) once per
// graph::Function and shared by all of its executors. For each set of feed shapes (in practice:
// each batch size) a plan sizes every value and gradient buffer once; later steps with the same
// shapes allocate nothing. Each executor runs its own clone of every kernel, so kernels' scratch
// state (dropout masks, im2col buffers) is never shared between two executors — a predict between a
// forward and its backward, or predicts on two threads, cannot disturb each other. One executor is
// used by one thread at a time.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "graph/symbolic.hpp"

namespace plexus::graph {

// The nodes that outputs depend on, in execution (creation) order, with the edges as
// indices: walked and sorted once (graph::Function keeps one for all its executors).
struct Schedule {
  std::vector<NodePtr> nodes;
  std::vector<std::vector<std::size_t>> inputs_of;  // node -> input node indices
  std::vector<std::size_t> feed_index;              // node index of each feed
  std::vector<std::size_t> output_index;            // node index of each output
};
// Walks back from `outputs` (iteratively) and sorts. Every graph input reached must be
// among `feeds`: "Graph disconnected" naming it and `owner` (the function) otherwise.
std::shared_ptr<const Schedule> make_schedule(const std::vector<NodePtr>& feeds,
                                              const std::vector<NodePtr>& outputs,
                                              std::string_view owner);

class Executor {
 public:
  struct Options {
    // Variables whose gradients backward() computes (trainable weights).
    std::vector<std::shared_ptr<VariableData>> wrt_variables = {};
    // Also compute gradients with respect to the feeds (gradient checks).
    bool wrt_feeds = false;
  };

  Executor(std::shared_ptr<const Schedule> schedule, Options options);
  // Walks and sorts the graph itself (tests; graph::Function shares one schedule instead).
  Executor(const std::vector<NodePtr>& feeds, const std::vector<NodePtr>& outputs, Options options);

  // Runs the graph on feeds (same order and rank as the feed nodes). The tensors must stay
  // alive until the outputs have been read and backward() has run.
  void forward(std::span<const Tensor* const> feeds, const Context& ctx);
  const Tensor& output(std::size_t i) const;
  std::size_t num_outputs() const { return output_index_.size(); }

  // Reverse pass after forward(): seeds[i] is d(loss)/d(output i) or nullptr for none.
  // `ready(i)`, when given, is called as soon as the gradient of the i-th variable of
  // Options::wrt_variables is final (every node using the variable has run its backward),
  // once per variable, in gradient_order(); variable_grad(i) may be read from then on
  // (data-parallel training starts the variable's all-reduce there).
  void backward(std::span<const Tensor* const> seeds, const Context& ctx,
                const std::function<void(std::size_t)>& ready = nullptr);
  // The order in which backward() finishes the variables' gradients (the reverse of the
  // order in which the graph first uses them).
  const std::vector<std::size_t>& gradient_order() const { return gradient_order_; }
  // Gradient of the i-th variable of Options::wrt_variables, or nullptr when the seeded
  // outputs do not depend on it ("no gradient", as Keras's None) / of the i-th feed.
  const Tensor* variable_grad(std::size_t i) const;
  const Tensor& feed_grad(std::size_t i) const;

  // Nodes in execution order (for inspection and tests).
  const std::vector<NodePtr>& nodes() const { return nodes_; }

 private:
  struct Plan {
    std::vector<Tensor> values;              // op node values (indexed by node)
    std::vector<std::vector<Tensor>> multi;  // values of the outputs of multi-output ops
    std::vector<std::vector<Tensor>> zeros;  // cotangents of their unused outputs
    std::vector<Tensor> grads;               // gradient buffers (indexed by node; empty if unused)
  };
  Plan& plan_for(std::span<const Tensor* const> feeds);

  std::shared_ptr<const Schedule> schedule_;
  const std::vector<NodePtr>& nodes_;  // topological order (the schedule's)
  const std::vector<std::vector<std::size_t>>& inputs_of_;
  const std::vector<std::size_t>& feed_index_;
  const std::vector<std::size_t>& output_index_;
  std::vector<KernelPtr> kernels_;           // this executor's clone of each op node's kernel
  std::vector<std::size_t> var_index_;       // node index of each wrt variable
  std::vector<std::size_t> gradient_order_;  // wrt variables by node index, last first
  std::vector<std::vector<std::size_t>> outputs_of_;  // multi-output op -> its kOutput nodes
  std::vector<bool> needs_grad_;
  std::vector<bool> zero_grad_;  // false: its one consumer's kernel writes the gradient
  std::vector<char> reached_;

  std::map<std::vector<Shape>, Plan> plans_;
  Plan* plan_ = nullptr;
  std::vector<const Tensor*> value_ptr_;  // current value of every node
  std::vector<std::vector<const Tensor*>> args_;
  std::vector<std::vector<Tensor*>> gargs_;
  std::vector<std::vector<Tensor*>> outs_;         // multi-output ops: output buffers
  std::vector<std::vector<const Tensor*>> couts_;  // ... as inputs of backward_all
  std::vector<std::vector<const Tensor*>> gouts_;  // ... and their cotangents
  std::vector<Shape> feed_shapes_scratch_;
};

}  // namespace plexus::graph
