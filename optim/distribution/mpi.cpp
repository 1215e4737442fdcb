// The MPI implementation of px::distribution::Communicator (the plexus::distribution
// target; the core library has no MPI dependency). Linking plexus::distribution pulls this
// file in (its CMake target adds -u plexus_distribution_mpi_anchor), and its static
// initializer registers the communicator that px::distribution::initialize() starts.
//
// Every collective is non-blocking (MPI_Iallreduce, ...) followed by a wait that gives up
// after the DataParallel timeout: a peer that stopped answering aborts the job with an
// error naming the operation instead of hanging it. A peer that died is normally noticed
// sooner by Open MPI itself, which aborts the job when a process exits without
// MPI_Finalize.
#include <fmt/format.h>
#include <mpi.h>
#include <sched.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "optim/distribution.hpp"

extern "C" {
// Referenced by the linker flag of plexus::distribution so that this object is linked.
int plexus_distribution_mpi_anchor = 0;
}

namespace plexus::distribution {

namespace {

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(version, &len);
    std::string v(version, static_cast<std::size_t>(len));
    if (auto nl = v.find_first_of(",\n"); nl != std::string::npos) v.resize(nl);
    name_ = "MPI (" + v + ")";
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return name_; }

  void allreduce_sum(float* data, std::size_t n) override {
    MPI_Request req;
    MPI_Iallreduce(MPI_IN_PLACE, data, count(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &req);
    wait(req, "an all-reduce");
  }
  void allreduce_sum(double* data, std::size_t n) override {
    MPI_Request req;
    MPI_Iallreduce(MPI_IN_PLACE, data, count(n), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, &req);
    wait(req, "an all-reduce");
  }
  void broadcast(void* data, std::size_t bytes, int root) override {
    MPI_Request req;
    MPI_Ibcast(data, count(bytes), MPI_BYTE, root, MPI_COMM_WORLD, &req);
    wait(req, "a broadcast");
  }
  void allgather(const std::uint64_t* data, std::size_t n, std::uint64_t* out) override {
    MPI_Request req;
    MPI_Iallgather(data, count(n), MPI_UINT64_T, out, count(n), MPI_UINT64_T, MPI_COMM_WORLD, &req);
    wait(req, "an all-gather");
  }
  void allgatherv(const float* data, const std::vector<std::size_t>& counts, float* out) override {
    if (counts.size() != static_cast<std::size_t>(size_)) {
      throw Error("distribution: allgatherv needs {} counts, received {}", size_, counts.size());
    }
    std::vector<int> c(counts.size()), displs(counts.size());
    std::size_t offset = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      c[r] = count(counts[r]);
      displs[r] = count(offset);
      offset += counts[r];
    }
    MPI_Request req;
    MPI_Iallgatherv(data, c[static_cast<std::size_t>(rank_)], MPI_FLOAT, out, c.data(),
                    displs.data(), MPI_FLOAT, MPI_COMM_WORLD, &req);
    wait(req, "an all-gather");
  }
  std::size_t start_allreduce_sum(float* data, std::size_t n) override {
    std::size_t slot = 0;
    while (slot < pending_.size() && pending_[slot] != MPI_REQUEST_NULL) ++slot;
    if (slot == pending_.size()) pending_.push_back(MPI_REQUEST_NULL);
    MPI_Iallreduce(MPI_IN_PLACE, data, count(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                   &pending_[slot]);
    return slot;
  }
  void progress() override {
    for (MPI_Request& req : pending_) {
      if (req == MPI_REQUEST_NULL) continue;
      int done = 0;
      MPI_Test(&req, &done, MPI_STATUS_IGNORE);  // one call moves every started collective
      return;
    }
  }
  void wait(std::size_t request) override {
    if (request >= pending_.size()) {
      throw Error("distribution: wait on request {}, which was never started", request);
    }
    wait(pending_[request], "an all-reduce");  // leaves MPI_REQUEST_NULL behind
  }
  void barrier() override {
    MPI_Request req;
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    wait(req, "a barrier");
  }
  [[noreturn]] void abort(const std::string& why, int code) override {
    std::fprintf(stderr, "plexus: process %d of %d: %s; aborting the job\n", rank_, size_,
                 why.c_str());
    std::fflush(stderr);
    std::fflush(stdout);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort does not return; in case it does
  }
  void set_timeout(double seconds) override { timeout_ = seconds; }

 private:
  int count(std::size_t n) const {
    if (n > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
      throw Error("distribution: {} elements in one collective is more than MPI's int count", n);
    }
    return static_cast<int>(n);
  }
  // Waits for `req`, yielding the core (the processes of a small machine share its cores);
  // aborts the job after the timeout.
  void wait(MPI_Request& req, const char* what) {
    int done = 0;
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (done) return;
    const auto start = std::chrono::steady_clock::now();
    for (unsigned spin = 1;; ++spin) {
      MPI_Test(&req, &done, MPI_STATUS_IGNORE);
      if (done) return;
      if (spin % 256 == 0) {
        const double waited =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (waited > timeout_) {
          abort(fmt::format("{} waited {:.0f} s for its peers (DataParallel timeout_seconds "
                            "= {:.0f}): a process stopped or vanished",
                            what, waited, timeout_),
                3);
        }
      }
      sched_yield();
    }
  }

  int rank_ = 0, size_ = 1;
  std::string name_;
  std::vector<MPI_Request> pending_;  // started all-reduces (MPI_REQUEST_NULL: free slot)
  double timeout_ = DataParallelOptions{}.timeout_seconds;
};

std::unique_ptr<Communicator> start_mpi(int* argc, char*** argv) {
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited) {
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
      throw Error("distribution::initialize: MPI_Init failed");
    }
    std::atexit(finalize_at_exit);
  }
  return std::make_unique<MpiCommunicator>();
}

[[maybe_unused]] const bool registered = register_communicator(start_mpi);

}  // namespace

}  // namespace plexus::distribution
