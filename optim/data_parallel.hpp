// Internal: the data-parallel side of fit/evaluate/predict (see optim/distribution.hpp).
// Everything here is collective: every process calls it in the same order.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "optim/distribution.hpp"
#include "optim/train_state.hpp"

namespace plexus::optim {

// Why fit/evaluate/predict refuse a model with stateful layers in a data-parallel run.
inline constexpr const char* kStatefulDataParallel =
    "the model has stateful recurrent layers, which data-parallel runs do not support (each "
    "process would keep the states of its own shard's rows, not the global batch's)";

// Process `rank`'s rows [begin, begin + count) of a global batch's `count` rows: contiguous,
// the first count % size processes one row more.
struct Shard {
  std::size_t begin = 0, count = 0;
};
Shard shard_of(std::size_t count, int rank, int size);

// What every process must agree on before training together; compared at fit entry.
struct Fingerprint {
  std::string what;  // "fit", "evaluate"
  std::size_t samples = 0, val_samples = 0, batch_size = 0;
  std::int64_t epochs = 0, initial_epoch = 0, shuffle = 0;
};

class DataParallelRun {
 public:
  DataParallelRun(distribution::Communicator& comm, const Model& model);
  distribution::Communicator& comm() { return comm_; }

  // At entry: `local` is this process's exception from the setup (or null). Every process
  // learns whether any failed (then all throw that process's error), then checks that the
  // model (weight count and shapes), the data sizes and the options agree (px::Error
  // naming the difference and each process's value), then broadcasts process 0's weights,
  // optimizer state and random generator.
  void enter(const Fingerprint& f, std::exception_ptr local, TrainState* st);

  // One training step on this process's `mine` rows of a global batch of `global` rows:
  // backprop (skipped when mine is 0) with the weighted gradients' all-reduce started
  // bucket by bucket as the backward pass finishes them (DataParallelOptions::
  // bucket_bytes), the state updates summed with the last bucket, then the optimizer
  // step, constraints and state updates, as optim::train_step.
  void train_step(TrainState& st, const std::vector<const Tensor*>& feeds, std::size_t mine,
                  std::size_t global);

  // Sums `values` over the processes (the trackers' totals and metric states).
  void sum(std::vector<double>& values) { comm_.allreduce_sum(values.data(), values.size()); }
  // True on every process when `flag` is true on any.
  bool any(bool flag);

 private:
  distribution::Communicator& comm_;
  const Model& model_;
  // buffer_ holds the buckets one after the other, each [its weights' gradients, one
  // presence flag per weight]; the last bucket ends with the state updates.
  struct Bucket {
    std::size_t begin = 0, end = 0;  // the bucket's range in buffer_
    std::size_t weights = 0;         // how many gradients it waits for
    std::size_t pending = 0;         // ... still to come in this step
    std::size_t request = 0;         // Communicator::start_allreduce_sum's
    bool started = false;
  };
  void layout(const TrainState& st);
  void start(Bucket& b);
  std::vector<float> buffer_;
  std::vector<Bucket> buckets_;
  std::vector<std::size_t> grad_off_;    // offset of each trainable weight's gradient
  std::vector<std::size_t> flag_off_;    // ... and of its presence flag
  std::vector<std::size_t> bucket_of_;   // the bucket of each trainable weight
  std::vector<std::size_t> update_off_;  // offset of each state update
  std::vector<Tensor> reduced_;          // the summed gradients (the optimizer reads these)
  float share_ = 1.0f;                   // this process's share of the global batch
};

// Throws the same px::Error on every process when any one's `local` holds an exception
// (that process's message, named with it); returns otherwise.
void agree(distribution::Communicator& comm, const std::string& where, std::exception_ptr local);

}  // namespace plexus::optim
