#include "optim/distribution.hpp"

#include <cstdio>
#include <cstdlib>

#include "core/error.hpp"
#include "core/random.hpp"

namespace plexus::distribution {

namespace {

struct Registry {
  CommunicatorFactory factory;
  std::unique_ptr<Communicator> comm;
  bool initialized = false;
  std::optional<DataParallel> distribution;
};

Registry& registry() {
  static Registry r;
  return r;
}

// The number of processes a launcher (mpirun, srun) started, from its environment; 1 when
// none did.
int launched_processes(std::string& variable) {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_NTASKS"}) {
    if (const char* v = std::getenv(name)) {
      const int n = std::atoi(v);
      if (n > 1) {
        variable = name;
        return n;
      }
    }
  }
  return 1;
}

}  // namespace

bool register_communicator(CommunicatorFactory factory) {
  registry().factory = std::move(factory);
  return true;
}

void initialize(int* argc, char*** argv) {
  Registry& r = registry();
  if (r.initialized) return;
  if (!r.factory) {
    std::string variable;
    const int n = launched_processes(variable);
    if (n > 1) {
      throw Error(
          "distribution::initialize: the launcher started {} processes ({}={}), but this "
          "program has no MPI component: plexus was built with -DPLEXUS_WITH_MPI=OFF (or "
          "without Open MPI), or the program does not link plexus::distribution. Each "
          "process would train alone on all the data",
          n, variable, n);
    }
    r.initialized = true;  // one process
    return;
  }
  r.comm = r.factory(argc, argv);
  r.initialized = true;
  if (r.comm && r.comm->size() <= 1) {
    r.comm.reset();  // a one-process run needs no collectives
  }
  if (r.comm) {
    // Dropout masks differ between processes (process 0 keeps the one-process stream).
    std::uint64_t z = static_cast<std::uint64_t>(r.comm->rank()) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    process_stream_salt() = z ^ (z >> 31);
  }
}

bool initialized() { return registry().initialized; }

Statistics& statistics() {
  static Statistics s;
  return s;
}

int process_id() {
  const auto& c = registry().comm;
  return c ? c->rank() : 0;
}

int num_processes() {
  const auto& c = registry().comm;
  return c ? c->size() : 1;
}

Communicator* communicator() { return registry().comm.get(); }

void abort_job(const std::string& why, int code) {
  if (auto* c = communicator()) c->abort(why, code);
  std::fprintf(stderr, "plexus: %s; aborting\n", why.c_str());
  std::fflush(stderr);
  std::_Exit(code);
}

DataParallel::DataParallel(DataParallelOptions options) : options_(options) {
  if (!(options_.timeout_seconds > 0)) {
    throw Error("DataParallel: timeout_seconds must be positive, received {}",
                options_.timeout_seconds);
  }
}

void set_distribution(std::optional<DataParallel> distribution) {
  Registry& r = registry();
  if (distribution && !r.initialized) {
    throw Error(
        "distribution::set_distribution: call px::distribution::initialize() first (it "
        "starts the process group)");
  }
  r.distribution = std::move(distribution);
  if (r.distribution && r.comm) r.comm->set_timeout(r.distribution->options().timeout_seconds);
}

const std::optional<DataParallel>& distribution() { return registry().distribution; }

bool active() {
  const Registry& r = registry();
  return r.distribution.has_value() && r.comm != nullptr;
}

}  // namespace plexus::distribution
