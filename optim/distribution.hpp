// Data-parallel training on several processes (Keras 3's keras.distribution API):
//
//   px::distribution::initialize();                       // MPI_Init; rank/size from mpirun
//   px::distribution::set_distribution(px::distribution::DataParallel());
//   model.compile(...); model.fit(x, y, {.batch_size = 256});   // batch_size is global
//
// Run with `mpirun -np 4 ./train`. Each process computes its shard of every global batch;
// the gradients (weighted so that their sum is the global batch's mean gradient) and the
// state updates are summed across processes, so every process takes the step one process
// would take on the global batch. Losses and metrics are summed too (the logs are global);
// only process 0 prints and writes files (checkpoints, backups, CSV logs).
//
// The core library knows only the abstract Communicator below; the MPI implementation is
// the separate CMake target plexus::distribution (optim/distribution/mpi.cpp, built when
// Open MPI is found, -DPLEXUS_WITH_MPI=OFF leaves it out). Without it initialize() is a
// one-process run — unless the launcher started several processes (OMPI_COMM_WORLD_SIZE,
// PMI_SIZE, PMIX_RANK), which is a px::Error saying so.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace plexus::distribution {

// The collectives data-parallel training needs. Every call is collective: all processes
// make the same calls in the same order. An implementation must not hang forever on a
// vanished peer (the MPI one aborts the job after DataParallel's timeout).
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string name() const = 0;  // "MPI (Open MPI v4.1.4)"
  // Element-wise sums, in place, over all processes.
  virtual void allreduce_sum(float* data, std::size_t n) = 0;
  virtual void allreduce_sum(double* data, std::size_t n) = 0;
  // data on `root` replaces data everywhere.
  virtual void broadcast(void* data, std::size_t bytes, int root) = 0;
  // Process r's `n` values go to out[r * n, (r + 1) * n) on every process.
  virtual void allgather(const std::uint64_t* data, std::size_t n, std::uint64_t* out) = 0;
  // Process r's counts[r] floats go, in rank order, to out on every process.
  virtual void allgatherv(const float* data, const std::vector<std::size_t>& counts,
                          float* out) = 0;
  virtual void barrier() = 0;
  // A non-blocking sum: starts summing data[0, n) in place over all processes and returns
  // a request for wait(); data must not be touched until then. progress() lets started
  // requests advance (MPI moves non-blocking collectives only inside MPI calls). The
  // defaults run the blocking allreduce_sum at the start.
  virtual std::size_t start_allreduce_sum(float* data, std::size_t n) {
    allreduce_sum(data, n);
    return 0;
  }
  virtual void progress() {}
  virtual void wait(std::size_t request) { static_cast<void>(request); }
  // Stops every process of the job, after printing `why` (named with this process).
  [[noreturn]] virtual void abort(const std::string& why, int code) = 0;
  // Seconds a collective may wait for its peers before the job is aborted.
  virtual void set_timeout(double seconds) = 0;
};

// Keras 3's keras.distribution.initialize(): starts the process group (MPI_Init with the
// MPI component). Calling it again does nothing. argc/argv go to MPI_Init when given.
void initialize(int* argc = nullptr, char*** argv = nullptr);
bool initialized();
// This process's index in [0, num_processes()) and the number of processes (0 and 1
// before initialize(), and in a one-process run).
int process_id();
int num_processes();
// The process group (null before initialize() and in a one-process run).
Communicator* communicator();

struct DataParallelOptions {
  // A collective that waits longer than this for a peer aborts the whole job with an
  // error naming the operation (a peer that vanished without Open MPI noticing).
  double timeout_seconds = 300.0;
  // Gradients are summed in buckets of about this many bytes, in the order the backward
  // pass finishes them (the last layer's first); each bucket's all-reduce starts as soon as
  // its gradients are final, while the backward pass goes on with the earlier layers
  // (PyTorch DDP's bucket_cap_mb; 1 MB measured best for the 7.45 MB MLP of bench_mpi on
  // 2 processes). The last bucket, with the state updates, starts after the backward pass;
  // 0: one all-reduce of everything after it.
  std::size_t bucket_bytes = std::size_t{1} << 20;
};

// Keras 3's keras.distribution.DataParallel: the model replicated on every process, each
// global batch split across the processes along its first axis.
class DataParallel {
 public:
  explicit DataParallel(DataParallelOptions options = {});
  const DataParallelOptions& options() const { return options_; }

 private:
  DataParallelOptions options_;
};

// Keras 3's keras.distribution.set_distribution / distribution(): fit, evaluate and
// predict use it from then on (nullopt: back to one process). Setting one without
// initialize() first is a px::Error.
void set_distribution(std::optional<DataParallel> distribution);
const std::optional<DataParallel>& distribution();

// True when fit/evaluate/predict run data-parallel: a DataParallel is set and there is
// more than one process.
bool active();

// What data-parallel training spent in the gradient all-reduce (all processes' fits since
// the last reset): wall time including waiting for the slowest peer, calls, bytes.
struct Statistics {
  // Time waiting for the gradient all-reduces after the backward pass (buckets that
  // finished during it cost nothing here).
  double gradient_seconds = 0;
  std::uint64_t gradient_allreduces = 0;  // training steps
  std::uint64_t gradient_buckets = 0;     // all-reduces started (buckets of all steps)
  std::uint64_t gradient_bytes = 0;
};
Statistics& statistics();

// Ends every process of the job after printing `why` (Communicator::abort; without a
// process group, this process alone).
[[noreturn]] void abort_job(const std::string& why, int code = 1);

// Process 0 of a data-parallel run, or any one-process run: the process that prints and
// writes files.
inline bool is_chief() { return process_id() == 0; }

// --- for implementations (the MPI component registers itself) ---------------------------
using CommunicatorFactory = std::function<std::unique_ptr<Communicator>(int*, char***)>;
// Returns true, so that a component can register from a static initializer.
bool register_communicator(CommunicatorFactory factory);

}  // namespace plexus::distribution
