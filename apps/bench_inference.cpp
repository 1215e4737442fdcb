// Inference latency of plexus against libtorch, in one run on one machine.
//
// For the seed MLP 784-64-10 and the deep 784-512-256-128-10 (relu, softmax), at batch 1
// and 256 with one BLAS thread: the median time of
//   - model.predict(x, {.batch_size = batch})  (what users call),
//   - the bare executor: graph::Function's executor forward on the same input, and
//   - the libtorch peer (../shared/bench/libtorch_peers `lt_bench infer`), when found.
// ratio = predict / bare executor, and predict / libtorch (lower is better).
//
//   bench_inference                       # peer from $PLEXUS_LT_BENCH or the default path
//   bench_inference --calls 2000 --no-peer
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <plexus.hpp>
#include <string>
#include <vector>
#include <xtensor/xrandom.hpp>

namespace px = plexus;
using Clock = std::chrono::steady_clock;

namespace {

template <class F>
double median_us(F&& f, int calls) {
  for (int i = 0; i < std::max(10, calls / 10); ++i) f();
  std::vector<double> t(static_cast<std::size_t>(calls));
  for (auto& v : t) {
    const auto t0 = Clock::now();
    f();
    v = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

px::Model mlp(const std::vector<px::Dim>& sizes) {
  auto x = px::Input({sizes[0]});
  px::SymbolicTensor h = x;
  for (std::size_t i = 1; i + 1 < sizes.size(); ++i) h = px::layers::Dense(sizes[i], "relu")(h);
  return px::Model(x, px::layers::Dense(sizes.back(), "softmax")(h));
}

// The peer's nograd time in µs, or a negative value when it cannot be run.
double peer_us(const std::string& peer, const std::string& which, int batch, int calls) {
  if (peer.empty() || !std::filesystem::exists(peer)) return -1;
  const std::string cmd = fmt::format(
      "OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 '{}' infer {} {} {}", peer, which, batch, calls);
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  char line[512];
  double us = -1;
  while (std::fgets(line, sizeof line, p)) {
    const char* at = std::strstr(line, "nograd_us=");
    if (at) us = std::atof(at + 10);
  }
  return pclose(p) == 0 ? us : -1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"plexus inference latency vs libtorch"};
  int calls = 1000;
  bool no_peer = false;
  const char* env_peer = std::getenv("PLEXUS_LT_BENCH");
  std::string peer = env_peer ? env_peer : "../shared/bench/libtorch_peers/build/lt_bench";
  app.add_option("--calls", calls, "timed calls per measurement (median)");
  app.add_option("--peer", peer, "path to the libtorch lt_bench program");
  app.add_flag("--no-peer", no_peer, "do not run libtorch");
  CLI11_PARSE(app, argc, argv);
  if (no_peer) peer.clear();

  px::utils::set_random_seed(1);
  fmt::print("{:<28} {:>6} {:>12} {:>12} {:>12} {:>14} {:>14}\n", "model", "batch", "predict us",
             "executor us", "libtorch us", "predict/exec", "predict/torch");
  struct Job {
    const char* name;
    const char* peer_name;
    std::vector<px::Dim> sizes;
  };
  for (const Job& job : {Job{"784-64-10", "small", {784, 64, 10}},
                         Job{"784-512-256-128-10", "deep", {784, 512, 256, 128, 10}}}) {
    px::Model model = mlp(job.sizes);
    for (int batch : {1, 256}) {
      px::Tensor x = xt::random::rand<float>({std::size_t(batch), std::size_t(784)});
      volatile float sink = 0;
      const double t_predict = median_us(
          [&] {
            px::Tensor y = model.predict(x, {.batch_size = batch});
            sink = sink + y.data()[0];
          },
          calls);
      px::graph::Function f(model.inputs(), {{"y", model.outputs()[0]}});
      auto exec = f.make_executor();
      const px::Tensor* feeds[] = {&x};
      const double t_exec = median_us(
          [&] {
            exec->forward(feeds, px::Context{});
            sink = sink + exec->output(0).data()[0];
          },
          calls);
      const double t_peer = peer_us(peer, job.peer_name, batch, calls);
      fmt::print("{:<28} {:>6} {:>12.1f} {:>12.1f} {:>12} {:>14.2f} {:>14}\n", job.name, batch,
                 t_predict, t_exec, t_peer > 0 ? fmt::format("{:.1f}", t_peer) : "-",
                 t_predict / t_exec, t_peer > 0 ? fmt::format("{:.2f}", t_predict / t_peer) : "-");
    }
  }
  return 0;
}
