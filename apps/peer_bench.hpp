// The driver shared by bench_cnn and bench_rnn: one model trained and run for inference by
// plexus and by libtorch peers, each run a child process (max RSS from wait4()), at every
// thread count, with the BLAS's GEMM peak measured before and after; a table of times,
// ratios (plexus best / libtorch best), GFLOP/s against the peak and max RSS, then the raw
// lines. A benchmark program fills a PeerBench and calls peer_bench_main.
#pragma once

#include <CLI/CLI.hpp>
#include <cmath>
#include <functional>

#include "bench_util.hpp"

namespace bench_util {

struct PeerBench {
  std::string job;          // the peer's job name and the raw lines' tag: "cnn", "lstm"
  std::string title;        // "Keras's simple MNIST convnet"
  std::string description;  // the --help line
  std::function<std::shared_ptr<px::Model>()> model;  // a Sequential or a Functional model
  std::vector<std::size_t> sample_shape;              // one input sample: {28, 28, 1}
  std::vector<std::size_t> label_shape;               // one label: {} (sparse class ids) or {1}
  int classes = 2;                                    // labels drawn uniformly from 0..classes-1
  std::string loss;
  int train_batch = 32;
  std::int64_t default_samples = 60000;
  std::string infer_peer;                   // the inference peer CMake built, or empty
  std::string infer_peer_help;              // "apps/peers/libtorch_cnn_peer (the inference peer)"
  double train_flops = 0, infer_flops = 0;  // per sample
  std::string flops_counted;                // what the FLOPs count, for the footer
};

// A batch of `n` random samples of spec.sample_shape, uniform in [0, 1).
inline px::Tensor random_inputs(const PeerBench& spec, std::size_t n, std::mt19937& rng) {
  std::vector<std::size_t> shape{n};
  shape.insert(shape.end(), spec.sample_shape.begin(), spec.sample_shape.end());
  px::Tensor x = px::Tensor::from_shape(shape);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (float& v : x) v = u(rng);
  return x;
}

inline int run_train(const PeerBench& spec, int threads, std::int64_t n, int epochs) {
  px::blas::set_num_threads(threads);
  px::utils::set_random_seed(1);
  std::mt19937 rng(1);
  const auto count = static_cast<std::size_t>(n);
  px::Tensor x = random_inputs(spec, count, rng);
  std::vector<std::size_t> label_shape{count};
  label_shape.insert(label_shape.end(), spec.label_shape.begin(), spec.label_shape.end());
  px::Tensor y = px::Tensor::from_shape(label_shape);
  std::uniform_int_distribution<int> label(0, spec.classes - 1);
  for (float& v : y) v = static_cast<float>(label(rng));
  auto model = spec.model();
  model->compile(px::optim::Adam({.learning_rate = 1e-3, .epsilon = 1e-7}), spec.loss);
  auto timer = std::make_shared<EpochTimer>();
  model->fit(x, y,
             {.epochs = epochs,
              .batch_size = spec.train_batch,
              .shuffle = true,
              .verbose = 0,
              .callbacks = {timer}});
  const double best = *std::min_element(timer->seconds.begin(), timer->seconds.end());
  fmt::print(
      "plexus {} threads={} samples={} batch={} epoch_s={:.3f} ms_per_step={:.2f} "
      "loss={:.4f}\n",
      spec.job, threads, n, spec.train_batch, best,
      1e3 * best / std::ceil(double(n) / spec.train_batch), timer->loss);
  return 0;
}

inline int run_infer(const PeerBench& spec, int threads, int batch, int calls) {
  px::blas::set_num_threads(threads);
  auto model = spec.model();
  std::mt19937 rng(1);
  px::Tensor x = random_inputs(spec, static_cast<std::size_t>(batch), rng);
  // model.predict, as a user would call it: the first call builds the executor.
  px::Tensor out = model->predict(x, {.batch_size = batch, .verbose = 0});
  double best = 1e30;
  for (int i = 0; i < calls; ++i) {
    const auto t0 = Clock::now();
    out = model->predict(x, {.batch_size = batch, .verbose = 0});
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  fmt::print("plexus {}_infer threads={} batch={} calls={} best_ms={:.3f}\n", spec.job, threads,
             batch, calls, 1e3 * best);
  return 0;
}

struct Run {
  int threads = 0;
  double value = 0;  // epoch seconds or milliseconds per batch
  double rss_mb = 0;
};

inline std::optional<Run> best_of(const std::vector<Run>& runs) {
  std::optional<Run> best;
  for (const Run& r : runs) {
    if (!best || r.value < best->value) best = r;
  }
  return best;
}

inline std::string executable_or_empty(const std::string& path) {
  return !path.empty() && access(path.c_str(), X_OK) == 0 ? path : std::string();
}

// The whole program: the options, the child runs (--run-train, --run-infer, --run-gemm) and
// the parent, which runs every child at every thread count and prints the table.
inline int peer_bench_main(int argc, char** argv, const PeerBench& spec) {
  int epochs = 1, batch = 256, calls = 20, gemm_size = 1024, gemm_reps = 10, threads = 1;
  std::int64_t samples = spec.default_samples;
  bool train = false, infer = false, run_gemm_mode = false, no_peer = false;
  std::string threads_opt = "1,2", lt_train, lt_infer = spec.infer_peer;
  ChildEnv cenv{.openblas_coretype = {}, .max_seconds = 900};
  CLI::App cli{spec.description};
  cli.add_option("--samples", samples, "Training samples (one epoch)")->capture_default_str();
  cli.add_option("--threads-list", threads_opt, "Thread counts for both frameworks")
      ->capture_default_str();
  cli.add_option("--infer-batch", batch, "Inference batch")->capture_default_str();
  cli.add_option("--infer-calls", calls, "Inference calls (the best counts)")
      ->capture_default_str();
  cli.add_option("--lt-cnn-lstm", lt_train,
                 "../shared/bench/libtorch_peers' lt_cnn_lstm (the training peer)");
  cli.add_option("--infer-peer", lt_infer, spec.infer_peer_help)->capture_default_str();
  cli.add_flag("--no-peer", no_peer, "Do not run libtorch");
  cli.add_option("--gemm-size", gemm_size, "n of the GEMM peak")->capture_default_str();
  cli.add_option("--gemm-reps", gemm_reps, "GEMM repetitions")->capture_default_str();
  cli.add_option("--max-run-seconds", cenv.max_seconds, "Stop a run after this long (0: never)")
      ->capture_default_str();
  cli.add_flag("--run-train", train, "(internal) one plexus training epoch")->group("");
  cli.add_flag("--run-infer", infer, "(internal) plexus inference")->group("");
  cli.add_flag("--run-gemm", run_gemm_mode, "(internal) the GEMM peak")->group("");
  cli.add_option("--threads", threads, "(internal) threads of a child run")->group("");
  cli.add_option("--epochs", epochs, "(internal) epochs of a --run-train")->group("");
  CLI11_PARSE(cli, argc, argv);
  if (samples < 1 || batch < 1 || calls < 1) {
    fmt::print(stderr, "error: --samples, --infer-batch and --infer-calls must be >= 1\n");
    return 2;
  }
  try {
    if (train) return run_train(spec, threads, samples, epochs);
    if (infer) return run_infer(spec, threads, batch, calls);
  } catch (const px::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  if (run_gemm_mode) return run_gemm(threads, gemm_size, gemm_reps);

  // ---- the parent ----
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) signal(sig, stop_child_and_exit);
  std::vector<int> thread_counts;
  try {
    thread_counts = parse_threads(threads_opt);
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: bad thread list: {}\n", e.what());
    return 2;
  }
  const std::string self = self_exe();
  const std::string peer_train = no_peer ? std::string() : executable_or_empty(lt_train);
  const std::string peer_infer = no_peer ? std::string() : executable_or_empty(lt_infer);
  fmt::print("# plexus vs libtorch: {}\n\n", spec.title);
  fmt::print("Machine: {} logical CPUs, load average {} (timings on a busy machine are noisy)\n",
             sysconf(_SC_NPROCESSORS_ONLN), load_average());
  fmt::print("Training: {} samples, batch {}, Adam; inference: batch {}, best of {} calls\n",
             samples, spec.train_batch, batch, calls);
  fmt::print("libtorch training peer: {}\nlibtorch inference peer: {}\n\n",
             peer_train.empty() ? "MISSING (--lt-cnn-lstm)" : peer_train,
             peer_infer.empty() ? "MISSING (--infer-peer)" : peer_infer);

  std::vector<std::string> raw;
  int failures = 0;
  auto record = [&](const ChildResult& r, const std::string& what) {
    std::string line = trim(r.out);
    if (line.empty()) line = what + (r.timed_out ? " TIMEOUT" : " FAILED");
    raw.push_back(fmt::format("{} max_rss_mb={:.1f}", line, r.max_rss_mb));
    fmt::print("  {}\n", raw.back());
    std::fflush(stdout);
    if (!r.ok) ++failures;
  };
  std::map<int, double> peak;
  auto measure_peak = [&] {
    for (int t : thread_counts) {
      ChildResult r =
          run_child({self, "--run-gemm", "--threads", std::to_string(t), "--gemm-size",
                     std::to_string(gemm_size), "--gemm-reps", std::to_string(gemm_reps)},
                    t, cenv);
      record(r, fmt::format("gemm threads={}", t));
      if (auto g = field(r.out, "gflops"); r.ok && g) peak[t] = std::max(peak[t], *g);
    }
  };
  fmt::print("GEMM peak:\n");
  measure_peak();

  std::vector<Run> px_train, lt_train_runs, px_infer, lt_infer_runs;
  auto run = [&](std::vector<std::string> args, int t, const char* key, double scale,
                 std::vector<Run>& into, const std::string& what) {
    ChildResult r = run_child(args, t, cenv);
    record(r, what);
    if (auto v = field(r.out, key); r.ok && v) into.push_back({t, *v * scale, r.max_rss_mb});
  };
  fmt::print("\nRuns:\n");
  for (int t : thread_counts) {
    const std::string ts = std::to_string(t);
    run({self, "--run-train", "--threads", ts, "--samples", std::to_string(samples)}, t, "epoch_s",
        1.0, px_train, "plexus " + spec.job + " threads=" + ts);
    if (!peer_train.empty()) {
      run({peer_train, spec.job, ts, std::to_string(samples)}, t, "epoch_s", 1.0, lt_train_runs,
          "libtorch " + spec.job + " threads=" + ts);
    }
    run({self, "--run-infer", "--threads", ts, "--infer-batch", std::to_string(batch),
         "--infer-calls", std::to_string(calls)},
        t, "best_ms", 1.0, px_infer, "plexus " + spec.job + "_infer threads=" + ts);
    if (!peer_infer.empty()) {
      run({peer_infer, ts, std::to_string(batch), std::to_string(calls)}, t, "best_ms", 1.0,
          lt_infer_runs, "libtorch " + spec.job + "_infer threads=" + ts);
    }
  }
  fmt::print("\nGEMM peak again:\n");
  measure_peak();

  auto cells = [&](const std::vector<Run>& runs) {
    std::string s;
    for (int t : thread_counts) {
      auto it =
          std::find_if(runs.begin(), runs.end(), [&](const Run& r) { return r.threads == t; });
      s += it == runs.end() ? " — |" : fmt::format(" {:.3f} |", it->value);
    }
    return s;
  };
  std::string head, sep;
  for (int t : thread_counts) {
    head += fmt::format(" plexus {}t |", t);
    sep += "---|";
  }
  for (int t : thread_counts) {
    head += fmt::format(" libtorch {}t |", t);
    sep += "---|";
  }
  fmt::print("\n## Results (ratio = plexus best / libtorch best)\n\n");
  fmt::print(
      "| job |{} ratio | plexus GFLOP/s (% of peak) | plexus max RSS MB | libtorch max RSS "
      "MB |\n|---|{}---|---|---|---|\n",
      head, sep);
  auto row = [&](const char* name, const std::vector<Run>& p, const std::vector<Run>& l,
                 double flops, double unit) {
    const auto pb = best_of(p), lb = best_of(l);
    std::string ratio = "—", gf = "—", prss = "—", lrss = "—";
    if (pb) {
      const double g = flops / (pb->value * unit) / 1e9;
      auto pk = peak.find(pb->threads);
      gf = pk != peak.end()
               ? fmt::format("{:.1f} ({:.0f}%, {}t)", g, 100 * g / pk->second, pb->threads)
               : fmt::format("{:.1f}", g);
      prss = fmt::format("{:.0f}", pb->rss_mb);
    }
    if (lb) lrss = fmt::format("{:.0f}", lb->rss_mb);
    if (pb && lb) ratio = fmt::format("{:.2f}", pb->value / lb->value);
    fmt::print("| {} |{}{} {} | {} | {} | {} |\n", name, cells(p), cells(l), ratio, gf, prss, lrss);
  };
  row("train epoch (s)", px_train, lt_train_runs, spec.train_flops * static_cast<double>(samples),
      1.0);
  row("inference batch (ms)", px_infer, lt_infer_runs, spec.infer_flops * batch, 1e-3);
  fmt::print("\nGEMM peak:");
  for (auto [t, g] : peak) fmt::print(" {}t {:.1f} GFLOP/s;", t, g);
  fmt::print(
      " FLOPs: {:.1f} MFLOP per training sample, {:.2f} MFLOP per inference sample "
      "({}).\n",
      spec.train_flops / 1e6, spec.infer_flops / 1e6, spec.flops_counted);
  fmt::print("\nRaw lines:\n");
  for (const auto& l : raw) fmt::print("{}\n", l);
  return failures ? 1 : 0;
}

}  // namespace bench_util
