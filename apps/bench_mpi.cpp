// Data-parallel training speed: the seed MLP (784-64-10, the MNIST walkthrough) and a
// larger MLP (784-1024-1024-10) trained on synthetic MNIST-shaped data with 1 process and
// with the N processes of mpirun, at the same global batch:
//
//   bench_mpi                                   # 1 process
//   mpirun -np 2 bench_mpi                      # process 0 first measures 1 process alone
//                                               # (the others wait), then all N together
//
// Prints, per model: samples/s, step time, the time per step waiting for the gradient
// all-reduce after the backward pass (including waiting for the slowest process; buckets
// that finished during the backward pass cost nothing there), for each --bucket-mb, the scaling
// efficiency (samples/s with N) / (N x samples/s with 1); and the raw all-reduce cost (latency of
// an 8-byte all-reduce, time and bandwidth of one of the gradient's size) for the README's cost
// model. Each process uses --threads BLAS threads (1 by default: N processes on N cores).
#include <CLI/CLI.hpp>
#include <chrono>
#include <plexus.hpp>
#include <random>

namespace px = plexus;
namespace dist = plexus::distribution;
using Clock = std::chrono::steady_clock;

namespace {

struct Spec {
  std::string name;
  std::vector<int> hidden;
};

px::Model build(const Spec& s) {
  px::utils::set_random_seed(1);
  px::Sequential m;
  bool first = true;
  for (int h : s.hidden) {
    if (first) {
      m.add(px::layers::Dense(h, {.activation = "relu", .input_shape = {784}}));
    } else {
      m.add(px::layers::Dense(h, "relu"));
    }
    first = false;
  }
  m.add(px::layers::Dense(10, "softmax"));
  m.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  return m;
}

struct Result {
  double samples_per_s = 0, step_ms = 0, allreduce_ms = 0;
  std::size_t params = 0;
};

Result measure(const Spec& s, const px::Tensor& x, const px::Tensor& y, int batch, int steps) {
  px::Model m = build(s);
  Result r;
  for (auto& w : m.trainable_weights()) r.params += w.size();
  const auto warm = static_cast<std::size_t>(batch) * 5;
  px::Tensor xw, yw;
  px::copy_rows(x, 0, warm, xw);
  px::copy_rows(y, 0, warm, yw);
  m.fit(xw, yw, {.epochs = 1, .batch_size = batch, .verbose = 0});  // warm-up
  dist::statistics() = {};
  const auto t0 = Clock::now();
  m.fit(x, y, {.epochs = 1, .batch_size = batch, .verbose = 0});
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  r.samples_per_s = static_cast<double>(steps) * batch / seconds;
  r.step_ms = seconds * 1e3 / steps;
  r.allreduce_ms = dist::statistics().gradient_seconds * 1e3 / steps;
  return r;
}

// Seconds per all-reduce of n floats (best of 5 rounds of `reps`).
double allreduce_seconds(std::size_t n, int reps) {
  std::vector<float> buf(n, 1.0f);
  auto* comm = dist::communicator();
  double best = 1e30;
  for (int round = 0; round < 5; ++round) {
    comm->barrier();
    const auto t0 = Clock::now();
    for (int i = 0; i < reps; ++i) comm->allreduce_sum(buf.data(), n);
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count() / reps);
  }
  double mean = best;  // the processes' mean
  comm->allreduce_sum(&mean, 1);
  return mean / comm->size();
}

}  // namespace

int main(int argc, char** argv) {
  int steps = 100, threads = 1;
  std::vector<int> batches{32, 256};
  // 0: one all-reduce after the backward pass; otherwise buckets started during it.
  std::vector<double> bucket_mb{0, 1};
  CLI::App cli{"Data-parallel training speed with 1 and N processes (run under mpirun)"};
  cli.add_option("--steps", steps, "Timed training steps per model and batch size")
      ->capture_default_str();
  cli.add_option("--batch", batches, "Global batch sizes")->capture_default_str();
  cli.add_option("--threads", threads, "BLAS threads per process")->capture_default_str();
  cli.add_option("--bucket-mb", bucket_mb,
                 "DataParallel bucket sizes to compare, MB (0: one all-reduce after the "
                 "backward pass)")
      ->capture_default_str();
  CLI11_PARSE(cli, argc, argv);
  dist::initialize(&argc, &argv);
  px::blas::set_num_threads(threads);
  const int np = dist::num_processes();
  const bool chief = dist::is_chief();
  const std::vector<Spec> specs{{"seed MLP 784-64-10", {64}},
                                {"large MLP 784-1024-1024-10", {1024, 1024}}};
  if (chief) {
    fmt::print("{} process(es), {} BLAS thread(s) each, {} timed steps; {}\n", np, threads, steps,
               dist::communicator() ? dist::communicator()->name() : "no MPI");
    fmt::print("{:<28} {:>6} {:>3} {:>7} {:>11} {:>9} {:>13} {:>10}\n", "model", "batch", "np",
               "bucket", "samples/s", "step ms", "allreduce ms", "efficiency");
  }
  for (const Spec& s : specs) {
    for (int batch : batches) {
      const auto n = static_cast<std::size_t>(steps) * static_cast<std::size_t>(batch);
      std::mt19937 rng(3);
      std::uniform_real_distribution<float> u(0.0f, 1.0f);
      px::Tensor x = px::Tensor::from_shape({n, std::size_t{784}});
      px::Tensor y = px::Tensor::from_shape({n});
      for (float& v : x) v = u(rng);
      for (std::size_t i = 0; i < n; ++i) y(i) = static_cast<float>(rng() % 10);
      Result one;
      if (chief) {  // one process alone (the others wait at the barrier)
        dist::set_distribution(std::nullopt);
        one = measure(s, x, y, batch, steps);
        fmt::print("{:<28} {:>6} {:>3} {:>7} {:>11.0f} {:>9.2f} {:>13} {:>10}\n", s.name, batch, 1,
                   "-", one.samples_per_s, one.step_ms, "-", "-");
      }
      if (np < 2) continue;
      for (double mb : bucket_mb) {
        dist::communicator()->barrier();
        dist::set_distribution(
            dist::DataParallel({.bucket_bytes = static_cast<std::size_t>(mb * 1024 * 1024)}));
        const Result all = measure(s, x, y, batch, steps);
        if (chief) {
          fmt::print("{:<28} {:>6} {:>3} {:>7} {:>11.0f} {:>9.2f} {:>8.2f} ({:>2.0f}%) {:>9.0f}%\n",
                     s.name, batch, np, mb > 0 ? fmt::format("{}MB", mb) : "after",
                     all.samples_per_s, all.step_ms, all.allreduce_ms,
                     100 * all.allreduce_ms / all.step_ms,
                     100 * all.samples_per_s / (np * one.samples_per_s));
        }
      }
    }
  }
  if (np >= 2) {
    const double lat = allreduce_seconds(2, 2000);
    if (chief) fmt::print("all-reduce of 8 B: {:.1f} us\n", lat * 1e6);
    for (const Spec& s : specs) {
      std::size_t params = 0;
      for (auto& w : build(s).trainable_weights()) params += w.size();
      const double t = allreduce_seconds(params, 20);
      if (chief) {
        fmt::print(
            "all-reduce of {} ({:.2f} MB, {} gradients): {:.3f} ms, {:.2f} GB/s algorithm "
            "bandwidth\n",
            s.name, params * 4e-6, params, t * 1e3, params * 4.0 / t / 1e9);
      }
    }
  }
  return 0;
}
