// Internal: what compile() attaches to a model (not part of the public API).
//
// compile() appends the loss to the model's graph: each output gets a target feed and a
// sample-weight feed, its per-sample loss is built from px::ops, and the total loss is
// the weighted sum of the per-output means. One executor then runs one training step as
// one forward and one reverse pass over the same sorted nodes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "graph/executor.hpp"
#include "graph/model.hpp"
#include "optim/losses.hpp"
#include "optim/metrics.hpp"
#include "optim/optimizers.hpp"

namespace plexus::optim {

struct OutputState {
  std::string name;                    // the output layer's name
  std::shared_ptr<losses::Loss> loss;  // null: this output is not trained
  double weight = 1.0;
  Shape target_shape;  // symbolic, from the loss
  std::vector<MetricSpec> metric_specs;
  std::vector<std::shared_ptr<metrics::Metric>> metrics;  // resolved on first data
  NodePtr target;
  NodePtr sample_weight;
  NodePtr loss_value;  // weighted mean over the batch
};

struct TrainState {
  std::shared_ptr<CompileOptions> compile_options;
  std::shared_ptr<Optimizer> optimizer;
  std::vector<OutputState> outputs;
  NodePtr total_loss;
  std::unique_ptr<graph::Executor> executor;
  std::vector<Variable> trainable;
  std::vector<VariableData*> trainable_raw;
  std::vector<const Tensor*> grad_ptrs;
  std::vector<Tensor> zero_grads;    // for trainable weights the loss does not reach
  std::vector<std::size_t> trained;  // indices of the outputs that have a loss
  bool metrics_resolved = false;
  Tensor seed;  // d(total)/d(total) = 1
};

// Data laid out for batching: inputs in model order (the caller's tensors, not copies),
// then for each output with a loss its target (conformed to the loss's target shape) and
// its sample weights (n).
struct Dataset {
  std::vector<Data::Ref> xs;
  std::vector<Data::Ref> ys;
  std::vector<Data::Ref> sws;
  std::size_t n = 0;
};

// One batch, gathered from a Dataset into buffers that are re-used from step to step.
struct Batch {
  std::vector<Tensor> xs, ys, sws;
  std::size_t n = 0;
};

// Checks (x, y, sample_weight, class_weight) — counts, shapes, NaN/Inf, label ranges —
// and lays them out; resolves metrics such as "accuracy" on first use.
Dataset make_dataset(const Model& model, TrainState& st, const Data& x, const Data& y,
                     const std::optional<Tensor>& sample_weight,
                     const std::map<int, double>& class_weight);
// The executor's feeds for a dataset or batch: inputs, targets, sample weights.
void feed_pointers(const Dataset& data, std::vector<const Tensor*>& feeds);
void feed_pointers(const Batch& batch, std::vector<const Tensor*>& feeds);
// One forward and one reverse pass of the total loss; leaves a gradient per trainable
// weight in st.grad_ptrs (zeros for weights the loss does not reach).
void backprop(TrainState& st, const std::vector<const Tensor*>& feeds, const Context& ctx);

// Reaches a model's training state (Model befriends this).
struct TrainAccess {
  static TrainState& state(const Model& model);  // px::Error when not compiled
  static bool has_state(const Model& model);
  static void set_state(const Model& model, std::shared_ptr<TrainState> state);
};

// Appends the loss graph of the compiled model and makes its executor.
void build_train_graph(const Model& model);

}  // namespace plexus::optim
