// Inference over a Functional model: predict() in batches through graph::Function
// executors. Safe to call from several threads at once: each concurrent caller takes an
// executor of its own from a pool (its own buffers and kernel state), and executors and
// their batch buffers are kept across calls, so a repeated predict allocates only its
// result. An input that fits in one batch is fed as it is, without a copy. A model with
// stateful RNNs writes their final states back after each batch (its predicts are
// serialised, and every batch must have the states' batch size).
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "graph/function.hpp"
#include "graph/functional.hpp"

namespace plexus::graph {

class Predictor {
 public:
  explicit Predictor(std::shared_ptr<Functional> model);
  ~Predictor();
  // xs in model input order, all with the same number of samples (checked by the caller,
  // see check_inputs); one result per model output.
  std::vector<Tensor> predict(const std::vector<const Tensor*>& xs, std::size_t batch_size) const;
  // Whether predict writes state back (the model has stateful layers).
  bool stateful() const { return function_.stateful(); }

 private:
  struct Worker;
  std::unique_ptr<Worker> acquire() const;
  void release(std::unique_ptr<Worker> worker) const;

  std::shared_ptr<Functional> model_;
  std::size_t n_out_ = 0;  // the model's outputs (function_'s first outputs)
  // The model's outputs, then the updates applied at inference (stateful RNNs' states;
  // none for most models), written back after each batch.
  Function function_;
  mutable std::mutex state_mutex_;  // stateful predicts run one at a time
  mutable std::mutex mutex_;
  mutable std::vector<std::unique_ptr<Worker>> idle_;
};

// Checks data against a model's Inputs: count, shapes, equal sample counts, not empty,
// no NaN/Inf — px::Error naming the input and the model otherwise.
void check_inputs(const Functional& model, const std::vector<const Tensor*>& xs);

}  // namespace plexus::graph
