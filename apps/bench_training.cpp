// Training speed of plexus against libtorch, measured in one run on one machine.
//
// Each job of apps/peers/bench_configs.hpp (MLPs 784-64-10 at batch 32 and 128, 784-256-10
// at batch 32, 784-512-256-128-10 at batch 128, and a two-branch DAG at batch 128) trains
// on 60000 MNIST-shaped random samples with Adam(1e-3, epsilon 1e-7), shuffled each epoch,
// best of 3 epochs: with plexus, and with the libtorch peer (apps/peers/libtorch_peer.cpp,
// built with -DPLEXUS_BUILD_PEERS=ON when libtorch-dev is installed) at 1 and 2 threads.
// Every training run is a child process, so its peak memory (maximum resident set size)
// comes from wait4(). The program also measures the single-precision GEMM peak of the BLAS
// plexus uses (cblas_sgemm, square matrices) and reports the training step's achieved
// GFLOP/s against it.
//
//   bench_training                                   # every job, table + raw lines
//   bench_training --configs mlp64_b32,dag_b128 --epochs 5
//   bench_training --plexus-threads 1,2              # try plexus with 1 and 2 BLAS threads
//   bench_training --peer /path/to/libtorch_peer     # or --no-peer
//   bench_training --openblas-coretype SkylakeX      # when OpenBLAS mis-detects the CPU
//
// ratio = plexus best epoch / libtorch's best epoch over its thread counts (1 and 2).
// Threads: plexus runs with 1 BLAS thread unless --plexus-threads says otherwise (at these
// batch sizes the matrices are too small for a second thread to pay on a 2-core machine);
// every child gets OPENBLAS_NUM_THREADS and OMP_NUM_THREADS set to its thread count.
// Each run is stopped after --max-run-seconds (libtorch with 2 threads on a busy 2-core
// machine can take minutes per epoch); a stopped libtorch run shows as "> N s run".
#include <cblas.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <plexus.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "peers/bench_configs.hpp"

namespace px = plexus;
namespace fs = std::filesystem;

namespace {

using namespace bench_util;

// ---- the child processes -------------------------------------------------------------------

px::Model build_model(const bench::Config& c) {
  auto x = px::Input({bench::kInputs}, "x");
  px::SymbolicTensor y;
  if (c.kind == bench::Kind::dag) {
    auto a = px::layers::Dense(bench::kDagBranch, "relu")(x);
    auto b = px::layers::Dense(bench::kDagBranch, "relu")(x);
    auto m = px::layers::Concatenate()({a, b});
    y = px::layers::Dense(bench::kClasses, "softmax")(m);
  } else {
    auto h = x;
    for (auto width : c.hidden) h = px::layers::Dense(width, "relu")(h);
    y = px::layers::Dense(bench::kClasses, "softmax")(h);
  }
  return px::Model(x, y, c.name);
}

// --run CONFIG: trains with plexus and prints one line like the peer's.
int run_plexus(const bench::Config& c, int threads, int epochs, std::int64_t n,
               std::uint64_t seed) {
  px::blas::set_num_threads(threads);
  px::utils::set_random_seed(seed);

  px::Tensor x = px::Tensor::from_shape(
      {static_cast<std::size_t>(n), static_cast<std::size_t>(bench::kInputs)});
  px::Tensor y = px::Tensor::from_shape({static_cast<std::size_t>(n)});
  std::mt19937 rng(static_cast<std::uint32_t>(seed));
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  std::uniform_int_distribution<int> label(0, static_cast<int>(bench::kClasses) - 1);
  for (float* p = x.data(); p != x.data() + x.size(); ++p) *p = uniform(rng);
  for (float* p = y.data(); p != y.data() + y.size(); ++p) *p = static_cast<float>(label(rng));

  px::Model model = build_model(c);
  model.compile(px::optim::Adam({.learning_rate = 1e-3, .epsilon = 1e-7}),
                "sparse_categorical_crossentropy");
  auto timer = std::make_shared<EpochTimer>();
  model.fit(x, y,
            {.epochs = epochs,
             .batch_size = c.batch,
             .shuffle = true,
             .verbose = 0,
             .callbacks = {timer}});

  const double best = *std::min_element(timer->seconds.begin(), timer->seconds.end());
  fmt::print(
      "plexus config={} batch={} threads={} epoch_s={:.4f} samples_per_s={:.0f} loss={:.4f}\n",
      c.name, c.batch, threads, best, static_cast<double>(n) / best, timer->loss);
  return 0;
}

// ---- the parent: spawning, parsing, the table ------------------------------------------------

// One training run's result.
struct Run {
  int threads = 0;
  double epoch_s = 0;
  double rss_mb = 0;
};

std::optional<Run> best_of(const std::vector<Run>& runs) {
  std::optional<Run> best;
  for (const Run& r : runs) {
    if (!best || r.epoch_s < best->epoch_s) best = r;
  }
  return best;
}

// --peer, else the path CMake compiled in, else libtorch_peer beside this program.
std::string find_peer(const std::string& option, const std::string& self) {
  if (!option.empty()) return option;
  std::vector<fs::path> candidates;
#ifdef PLEXUS_LIBTORCH_PEER
  candidates.emplace_back(PLEXUS_LIBTORCH_PEER);
#endif
  if (!self.empty()) {
    const fs::path dir = fs::path(self).parent_path();
    candidates.push_back(dir / "peers" / "libtorch_peer");
    candidates.push_back(dir / "libtorch_peer");
  }
  for (const auto& c : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(c, ec) && access(c.c_str(), X_OK) == 0) return c.string();
  }
  return {};
}

std::string cell(const std::optional<Run>& r, bool mark_threads) {
  if (!r) return "—";
  return mark_threads ? fmt::format("{:.3f} ({}t)", r->epoch_s, r->threads)
                      : fmt::format("{:.3f}", r->epoch_s);
}

}  // namespace

int main(int argc, char** argv) {
  std::string configs_opt, plexus_threads_opt = "1", peer_threads_opt = "1,2", peer_opt,
                           gemm_threads_opt = "1,2";
  int epochs = 3, gemm_size = 1024, gemm_reps = 20;
  std::int64_t samples = 60000;
  std::uint64_t seed = 1;
  bool no_peer = false;
  ChildEnv cenv{.openblas_coretype = {}, .max_seconds = 900};
  std::string coretype_opt = "auto";
  // The hidden child modes.
  std::string run_config;
  bool run_gemm_mode = false;
  int threads = 1;

  CLI::App cli{"plexus training speed against libtorch, in one run (see apps/bench_training.cpp)"};
  std::string all_names;
  for (const auto& c : bench::configs()) all_names += (all_names.empty() ? "" : ",") + c.name;
  cli.add_option("--configs", configs_opt,
                 "Comma-separated jobs (default: all of " + all_names + ")");
  cli.add_option("--epochs", epochs, "Epochs per run; the best counts")->capture_default_str();
  cli.add_option("--samples", samples, "Training samples")->capture_default_str();
  cli.add_option("--seed", seed, "Random seed (plexus)")->capture_default_str();
  cli.add_option("--plexus-threads", plexus_threads_opt,
                 "BLAS thread counts to try for plexus (e.g. 1,2); the best counts")
      ->capture_default_str();
  cli.add_option("--peer-threads", peer_threads_opt, "Thread counts to try for libtorch")
      ->capture_default_str();
  cli.add_option("--peer", peer_opt, "The libtorch_peer program (default: the one CMake built)");
  cli.add_flag("--no-peer", no_peer, "Do not run libtorch");
  cli.add_option("--gemm-size", gemm_size, "n of the n x n x n GEMM peak measurement")
      ->capture_default_str();
  cli.add_option("--gemm-reps", gemm_reps, "GEMM repetitions (best counts)")->capture_default_str();
  cli.add_option("--gemm-threads", gemm_threads_opt, "Thread counts for the GEMM peak")
      ->capture_default_str();
  cli.add_option("--openblas-coretype", coretype_opt,
                 "OpenBLAS kernels for every run of both frameworks: a core name (SkylakeX, "
                 "Haswell, ...) set as OPENBLAS_CORETYPE; 'auto': the kernels plexus selects, "
                 "given to libtorch too; 'default': no override")
      ->capture_default_str();
  cli.add_option("--max-run-seconds", cenv.max_seconds,
                 "Stop a run (a child process) after this long and report it as timed out; "
                 "0: no limit")
      ->capture_default_str();
  cli.add_option("--run", run_config, "(internal) train one job with plexus")->group("");
  cli.add_flag("--run-gemm", run_gemm_mode, "(internal) measure the GEMM peak")->group("");
  cli.add_option("--threads", threads, "(internal) threads of a --run/--run-gemm")->group("");
  CLI11_PARSE(cli, argc, argv);

  if (epochs < 1 || samples < 1 || gemm_size < 1 || gemm_reps < 1) {
    fmt::print(stderr, "error: --epochs, --samples, --gemm-size and --gemm-reps must be >= 1\n");
    return 2;
  }

  // ---- child modes ----
  if (run_gemm_mode) return run_gemm(threads, gemm_size, gemm_reps);
  if (!run_config.empty()) {
    const bench::Config* c = bench::find_config(run_config);
    if (c == nullptr) {
      fmt::print(stderr, "error: unknown job {}\n", run_config);
      return 2;
    }
    try {
      return run_plexus(*c, threads, epochs, samples, seed);
    } catch (const px::Error& e) {
      fmt::print(stderr, "error: {}\n", e.what());
      return 1;
    }
  }

  // ---- the parent ----
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) signal(sig, stop_child_and_exit);
  std::vector<const bench::Config*> jobs;
  std::vector<int> plexus_threads, peer_threads, gemm_threads;
  try {
    plexus_threads = parse_threads(plexus_threads_opt);
    peer_threads = parse_threads(peer_threads_opt);
    gemm_threads = parse_threads(gemm_threads_opt);
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: bad thread list: {}\n", e.what());
    return 2;
  }
  {
    std::stringstream ss(configs_opt.empty() ? all_names : configs_opt);
    std::string name;
    while (std::getline(ss, name, ',')) {
      const bench::Config* c = bench::find_config(name);
      if (c == nullptr) {
        fmt::print(stderr, "error: unknown job '{}' (known: {})\n", name, all_names);
        return 2;
      }
      jobs.push_back(c);
    }
  }
  const std::string self = self_exe();
  if (self.empty()) {
    fmt::print(stderr, "error: cannot read /proc/self/exe\n");
    return 1;
  }
  const std::string peer = no_peer ? std::string() : find_peer(peer_opt, self);
  if (!peer_opt.empty() && access(peer_opt.c_str(), X_OK) != 0) {
    fmt::print(stderr, "error: --peer {} is not an executable\n", peer_opt);
    return 2;
  }

  fmt::print("# plexus vs libtorch: training speed\n\n");
  fmt::print("Machine: {} logical CPUs, load average {} (timings on a busy machine are noisy)\n",
             sysconf(_SC_NPROCESSORS_ONLN), load_average());
  fmt::print(
      "Job: {} MNIST-shaped random samples (inputs uniform [0,1), labels 0..9), Adam(lr "
      "1e-3, epsilon 1e-7), shuffled each epoch, best of {} epochs, verbose 0.\n",
      samples, epochs);
  fmt::print(
      "Loss: each framework's idiom for softmax + sparse categorical cross-entropy — plexus "
      "Dense(10, softmax) + \"sparse_categorical_crossentropy\" (Keras); libtorch "
      "Linear(10) logits + cross_entropy (log-softmax + NLL).\n");
  fmt::print(
      "Threads: plexus tries BLAS threads {{{}}}, libtorch {{{}}} (OpenMP and OpenBLAS "
      "both set); each side's best counts.\n",
      plexus_threads_opt, peer_threads_opt);
  if (peer.empty()) {
    fmt::print(
        "libtorch peer: MISSING ({}) — plexus numbers only. Build it with "
        "-DPLEXUS_BUILD_PEERS=ON (needs libtorch-dev) or pass --peer.\n",
        no_peer ? "--no-peer" : "not built");
  } else {
    fmt::print("libtorch peer: {}\n", peer);
  }
  fmt::print("\n");

  std::vector<std::string> raw;
  int failures = 0;
  // `what` names the run when it printed nothing (failed or timed out).
  auto record = [&](const ChildResult& r, const std::string& what) {
    std::string line = trim(r.out);
    if (line.empty()) {
      line = fmt::format("{} {}", what,
                         r.timed_out ? fmt::format("TIMEOUT after {:.0f} s", cenv.max_seconds)
                                     : std::string("FAILED"));
    }
    raw.push_back(fmt::format("{} max_rss_mb={:.1f}", line, r.max_rss_mb));
    fmt::print("  {}\n", raw.back());
    std::fflush(stdout);
  };

  // The GEMM peak, with the BLAS plexus links (the same OpenBLAS libtorch uses on Debian).
  const bool coretype_named = coretype_opt != "auto" && coretype_opt != "default";
  if (coretype_named) cenv.openblas_coretype = coretype_opt;
  // Measured before and after the training runs; the better of the two counts (a busy
  // machine only ever makes it lower).
  std::map<int, double> peak;
  std::string core, detected;
  auto measure_peak = [&] {
    for (int t : gemm_threads) {
      ChildResult r =
          run_child({self, "--run-gemm", "--threads", std::to_string(t), "--gemm-size",
                     std::to_string(gemm_size), "--gemm-reps", std::to_string(gemm_reps)},
                    t, cenv);
      record(r, fmt::format("gemm threads={}", t));
      if (auto g = field(r.out, "gflops"); r.ok && g) {
        peak[t] = std::max(peak[t], *g);
        auto word = [&](const std::string& key) {
          const auto at = r.out.find(" " + key + "=");
          if (at == std::string::npos) return std::string();
          const auto begin = at + key.size() + 2;
          return r.out.substr(begin, r.out.find_first_of(" \n", begin) - begin);
        };
        if (core.empty()) {
          core = word("openblas_core");
          detected = word("openblas_detected");
        }
      } else {
        ++failures;
      }
    }
  };
  fmt::print("GEMM peak (cblas_sgemm {0}x{0}x{0}, best of {1}):\n", gemm_size, gemm_reps);
  measure_peak();

  // 'auto': when plexus replaced OpenBLAS's choice, libtorch gets the same kernels.
  const char* env_coretype = std::getenv("OPENBLAS_CORETYPE");
  if (coretype_opt == "auto" && env_coretype == nullptr && !core.empty() && core != detected &&
      core != "unknown") {
    cenv.openblas_coretype = core;
  }
  std::string how;
  if (coretype_named) {
    how = fmt::format("OPENBLAS_CORETYPE={} for every run (--openblas-coretype)", coretype_opt);
  } else if (env_coretype != nullptr) {
    how = fmt::format("OPENBLAS_CORETYPE={} from the environment", env_coretype);
  } else if (!cenv.openblas_coretype.empty()) {
    how = fmt::format(
        "OpenBLAS detected {}, plexus selects {} (px::blas::ensure_cpu_kernels); libtorch gets "
        "the same through OPENBLAS_CORETYPE={} (--openblas-coretype default: leave it on {})",
        detected, core, core, detected);
  } else {
    how = coretype_opt == "default" ? "no override (--openblas-coretype default)"
                                    : "OpenBLAS's own detection, kept by plexus";
  }
  fmt::print("OpenBLAS kernels: {} — {}\n", core.empty() ? "unknown" : core, how);
  if (pre_avx_core(core) && cpu_has("avx2")) {
    fmt::print(
        "WARNING: OpenBLAS runs its {} (SSE) kernels on a CPU with {}: every BLAS call of both "
        "frameworks runs several times slower than this CPU allows. Try --openblas-coretype {} "
        "(or export OPENBLAS_CORETYPE).\n",
        core, cpu_has("avx512f") ? "AVX-512" : "AVX2", cpu_has("avx512f") ? "SkylakeX" : "Haswell");
  }

  struct Row {
    const bench::Config* config;
    std::vector<Run> plexus;
    std::map<int, Run> peer;
    std::vector<int> peer_timeout;  // thread counts stopped by --max-run-seconds
  };
  std::vector<Row> rows;
  fmt::print("\nTraining runs:\n");
  for (const bench::Config* c : jobs) {
    Row row{c, {}, {}, {}};
    for (int t : plexus_threads) {
      ChildResult r = run_child({self, "--run", c->name, "--threads", std::to_string(t), "--epochs",
                                 std::to_string(epochs), "--samples", std::to_string(samples),
                                 "--seed", std::to_string(seed)},
                                t, cenv);
      record(r, fmt::format("plexus config={} threads={}", c->name, t));
      if (auto s = field(r.out, "epoch_s"); r.ok && s) {
        row.plexus.push_back({t, *s, r.max_rss_mb});
      } else {
        ++failures;
      }
    }
    if (!peer.empty()) {
      for (int t : peer_threads) {
        ChildResult r =
            run_child({peer, "--config", c->name, "--threads", std::to_string(t), "--epochs",
                       std::to_string(epochs), "--samples", std::to_string(samples)},
                      t, cenv);
        record(r, fmt::format("libtorch config={} threads={}", c->name, t));
        if (auto s = field(r.out, "epoch_s"); r.ok && s) {
          row.peer[t] = {t, *s, r.max_rss_mb};
        } else if (r.timed_out) {
          row.peer_timeout.push_back(t);
        } else {
          ++failures;
        }
      }
    }
    rows.push_back(std::move(row));
  }

  fmt::print("\nGEMM peak again, after training:\n");
  measure_peak();

  // ---- the table ----
  fmt::print("\n## Results (best epoch; ratio = plexus / libtorch's best over its threads)\n\n");
  std::string peer_cols, peer_sep;
  for (int t : peer_threads) {
    peer_cols += fmt::format(" libtorch {}t s |", t);
    peer_sep += "---|";
  }
  fmt::print(
      "| config | plexus s |{} ratio | plexus samples/s | GFLOP/s (% of peak) | plexus max "
      "RSS MB | libtorch max RSS MB |\n",
      peer_cols);
  fmt::print("|---|---|{}---|---|---|---|---|\n", peer_sep);
  const bool several_plexus = plexus_threads.size() > 1;
  for (const Row& row : rows) {
    const auto px_best = best_of(row.plexus);
    std::vector<Run> peer_runs;
    std::string cols;
    for (int t : peer_threads) {
      auto it = row.peer.find(t);
      if (it != row.peer.end()) peer_runs.push_back(it->second);
      const bool timeout =
          std::find(row.peer_timeout.begin(), row.peer_timeout.end(), t) != row.peer_timeout.end();
      const std::string text = it != row.peer.end() ? cell(it->second, false)
                               : timeout ? fmt::format("> {:.0f} s run", cenv.max_seconds)
                                         : std::string("—");
      cols += " " + text + " |";
    }
    const auto lt_best = best_of(peer_runs);
    std::string ratio = "—", sps = "—", gf = "—", px_rss = "—", lt_rss = "—";
    if (px_best) {
      sps = fmt::format("{:.0f}", static_cast<double>(samples) / px_best->epoch_s);
      const double flops =
          bench::train_flops_per_sample(*row.config) * static_cast<double>(samples);
      const double achieved = flops / px_best->epoch_s / 1e9;
      auto pk = peak.find(px_best->threads);
      gf = pk != peak.end() ? fmt::format("{:.1f} ({:.0f}%)", achieved, 100 * achieved / pk->second)
                            : fmt::format("{:.1f}", achieved);
      px_rss = fmt::format("{:.0f}", px_best->rss_mb);
    }
    if (lt_best) {
      lt_rss = fmt::format("{:.0f} ({}t)", lt_best->rss_mb, lt_best->threads);
      if (px_best) ratio = fmt::format("{:.2f}", px_best->epoch_s / lt_best->epoch_s);
    }
    fmt::print("| {} | {} |{} {} | {} | {} | {} | {} |\n", row.config->name,
               cell(px_best, several_plexus), cols, ratio, sps, gf, px_rss, lt_rss);
  }

  fmt::print("\nJobs:\n");
  for (const Row& row : rows) {
    fmt::print("  {:<11} batch {:>3}: {}; {:.2f} MFLOP per training sample in matrix products\n",
               row.config->name, row.config->batch, bench::describe(*row.config),
               bench::train_flops_per_sample(*row.config) / 1e6);
  }
  fmt::print("GEMM peak:");
  for (auto [t, g] : peak) fmt::print(" {}t {:.1f} GFLOP/s;", t, g);
  fmt::print(
      " the better of the measurements before and after training; the % of peak is at the "
      "thread count of plexus's best run.\n");
  fmt::print(
      "FLOPs counted: per dense layer 2·B·in·out forward + 2·B·in·out kernel gradient + "
      "2·B·in·out input gradient (not for layers reading the model input).\n");
  fmt::print(
      "Max RSS: each run is a child process; ru_maxrss from wait4() (libtorch: the run at "
      "its best thread count).\n");

  fmt::print("\nRaw lines:\n");
  for (const auto& l : raw) fmt::print("{}\n", l);
  if (failures) fmt::print(stderr, "{} run(s) failed\n", failures);
  return failures ? 1 : 0;
}
