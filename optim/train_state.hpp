// Internal: what compile() attaches to a model (not part of the public API).
//
// compile() makes the training step a graph::Function on top of the model's graph: its
// inputs are the model's inputs, then a target and a sample-weight placeholder for each
// output with a loss; its named outputs are "loss" (the weighted sum of the per-output
// means), "<output>_loss" and "<output>" (the prediction, for metrics) for each trained
// output, and "update:<variable path>#k" for each state update (added by graph::Function,
// which also writes them back). One training step is one forward and one reverse pass of
// that Function's executor, then the optimizer step, the constraints and the state updates.
// Evaluation runs a second Function on the same outputs whose only updates are those
// applied at inference (a stateful RNN's states): no BatchNormalization update is computed.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "graph/function.hpp"
#include "optim/losses.hpp"
#include "optim/metrics.hpp"
#include "optim/model.hpp"
#include "optim/optimizers.hpp"

namespace plexus::optim {

struct OutputState {
  std::string name;                    // the output layer's name
  std::shared_ptr<losses::Loss> loss;  // null: this output is not trained
  double weight = 1.0;
  Shape target_shape;  // symbolic, from the loss
  std::vector<MetricSpec> metric_specs;
  bool from_flat_list = true;  // metrics given as one list for all outputs
  std::vector<std::shared_ptr<metrics::Metric>> metrics;  // resolved on first data
  std::size_t loss_out = 0;                               // the Function's "<name>_loss" output
  std::size_t pred_out = 0;  // the Function's "<name>" output (the prediction)
  // An output carrying a mask: the Function's "<name>_step_weight" output, the sample
  // weights times the mask ([N, T]), which weights the metrics (Keras 3's masked metrics).
  std::optional<std::size_t> step_weight_out;
};

// One batch, gathered from a Dataset into buffers that are re-used from step to step.
struct Batch {
  std::vector<Tensor> xs, ys, sws;
  std::size_t n = 0;
};

// Where the next fit() starts instead of its initial_epoch, set by a callback's
// on_train_begin (BackupAndRestore; Keras's model._initial_epoch / _initial_step): the
// first `step` batches of `epoch` are skipped, and after that epoch's shuffle
// `after_shuffle` runs once (to put the random generator where the interrupted run had it).
struct ResumePoint {
  int epoch = 0;
  std::size_t step = 0;
  std::function<void()> after_shuffle;
};

struct TrainState {
  std::optional<ResumePoint> resume;  // consumed by the next fit()
  std::shared_ptr<CompileOptions> compile_options;
  std::shared_ptr<Optimizer> optimizer;
  std::vector<OutputState> outputs;
  graph::Function function;  // see above
  std::unique_ptr<graph::Executor> executor;
  graph::Function inference_function;                   // evaluate / test_on_batch (see above)
  std::unique_ptr<graph::Executor> inference_executor;  // made on first use
  graph::Executor* ran = nullptr;  // the executor of the last step (its outputs are read)
  std::size_t loss_out = 0;        // the Function's "loss" output
  std::vector<Variable> trainable;
  std::vector<VariableData*> trainable_raw;
  std::vector<const Tensor*> grad_ptrs;     // null: no gradient (the loss does not reach it)
  std::vector<const float*> update_values;  // each update's new value, for apply_step
  std::vector<std::size_t> trained;         // indices of the outputs that have a loss
  bool metrics_resolved = false;
  Tensor seed;  // d(total)/d(total) = 1
  std::vector<const Tensor*> seeds;
  Batch eval_batch;  // evaluation's batch buffers, reused across calls
  std::vector<const Tensor*> eval_feeds;
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

// Checks (x, y, sample_weight, class_weight) — counts, shapes, NaN/Inf, label ranges —
// and lays them out; resolves metrics such as "accuracy" on first use.
Dataset make_dataset(const Model& model, TrainState& st, const Data& x, const Data& y,
                     const std::optional<Tensor>& sample_weight,
                     const std::map<int, double>& class_weight);
// The executor's feeds for a dataset or batch: inputs, targets, sample weights.
void feed_pointers(const Dataset& data, std::vector<const Tensor*>& feeds);
void feed_pointers(const Batch& batch, std::vector<const Tensor*>& feeds);
// One forward and one reverse pass of the total loss; leaves a gradient per trainable
// weight in st.grad_ptrs (null for weights the loss does not reach).
// `ready` as graph::Executor::backward's (each trainable weight's gradient, when final).
void backprop(TrainState& st, const std::vector<const Tensor*>& feeds, const Context& ctx,
              const std::function<void(std::size_t)>& ready = nullptr);
// One training step: backprop, the optimizer step, then the state updates.
void train_step(TrainState& st, const std::vector<const Tensor*>& feeds);
// One inference pass (evaluate, test_on_batch): forward in inference mode, then the updates
// applied at inference (a stateful RNN's states), after checking the batch fits them.
void inference_step(TrainState& st, const std::vector<const Tensor*>& feeds);
// The step after backprop: the optimizer on st.grad_ptrs, the constraints, then each state
// update u from st.update_values[u] (data-parallel training sums both across processes
// first, optim/data_parallel.cpp).
void apply_step(TrainState& st);

// Reaches a model's training state (Model befriends this).
struct TrainAccess {
  static TrainState& state(const Model& model);  // px::Error when not compiled
  static bool has_state(const Model& model);
  static void set_state(const Model& model, std::shared_ptr<TrainState> state);
};

// Makes the training Function of the compiled model and its executor.
void build_train_graph(const Model& model);
// Forgets the training Function (the model's graph changed); rebuilt on next use.
void invalidate_train_graph(TrainState& st);
// The compiled state with its training graph, built on first use (a Sequential without
// an input shape only gets its graph from the first data).
TrainState& ready_state(const Model& model);

}  // namespace plexus::optim
