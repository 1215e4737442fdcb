// The libtorch side of apps/bench_training.cpp: PyTorch's C++ frontend training the jobs of
// bench_configs.hpp, modelled on ../shared/bench/libtorch_mlp/main.cpp and extended to the
// deeper MLP and the two-branch DAG. Built only with -DPLEXUS_BUILD_PEERS=ON when CMake
// finds Torch (Debian: libtorch-dev).
//
//   libtorch_peer --config mlp64_b32 [--threads 1] [--epochs 3] [--samples 60000]
//
// prints one line:
//   libtorch config=mlp64_b32 batch=32 threads=1 epoch_s=0.650 samples_per_s=92307 loss=2.3030
// epoch_s is the best epoch; loss is the mean training loss of the last epoch. The output
// layer gives logits and the loss is cross_entropy (log-softmax + NLL): libtorch's idiom for
// the softmax + sparse categorical cross-entropy of the plexus (Keras) model.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_configs.hpp"

// OpenBLAS (libtorch's BLAS on Debian) keeps its own thread pool besides libtorch's OpenMP
// one; set both. Weak, so that a libtorch on another BLAS still links.
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace {

struct NetImpl : torch::nn::Module {
  explicit NetImpl(const bench::Config& c) : dag(c.kind == bench::Kind::dag) {
    if (dag) {
      a = register_module("a", torch::nn::Linear(bench::kInputs, bench::kDagBranch));
      b = register_module("b", torch::nn::Linear(bench::kInputs, bench::kDagBranch));
      head = register_module("head", torch::nn::Linear(2 * bench::kDagBranch, bench::kClasses));
      return;
    }
    std::int64_t in = bench::kInputs;
    for (std::size_t i = 0; i < c.hidden.size(); ++i) {
      hidden.push_back(
          register_module("hidden" + std::to_string(i), torch::nn::Linear(in, c.hidden[i])));
      in = c.hidden[i];
    }
    head = register_module("head", torch::nn::Linear(in, bench::kClasses));
  }

  // The logits.
  torch::Tensor forward(torch::Tensor x) {
    if (dag) return head(torch::cat({torch::relu(a(x)), torch::relu(b(x))}, 1));
    for (auto& layer : hidden) x = torch::relu(layer(x));
    return head(x);
  }

  bool dag;
  std::vector<torch::nn::Linear> hidden;
  torch::nn::Linear a{nullptr}, b{nullptr}, head{nullptr};
};
TORCH_MODULE(Net);

int usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s --config NAME [--threads N] [--epochs N] [--samples N]\n", argv0);
  std::fprintf(stderr, "configs:");
  for (const auto& c : bench::configs()) std::fprintf(stderr, " %s", c.name.c_str());
  std::fprintf(stderr, "\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string name;
  int threads = 1, epochs = 3;
  std::int64_t n = 60000;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (!std::strcmp(argv[i], "--config") && has_value) {
      name = argv[++i];
    } else if (!std::strcmp(argv[i], "--threads") && has_value) {
      threads = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--epochs") && has_value) {
      epochs = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--samples") && has_value) {
      n = std::atoll(argv[++i]);
    } else {
      return usage(argv[0]);
    }
  }
  const bench::Config* config = bench::find_config(name);
  if (config == nullptr || threads < 1 || epochs < 1 || n < 1) return usage(argv[0]);

  torch::set_num_threads(threads);
  if (openblas_set_num_threads != nullptr) openblas_set_num_threads(threads);
  torch::manual_seed(0);

  auto X = torch::rand({n, bench::kInputs});
  auto Y = torch::randint(0, bench::kClasses, {n}, torch::kLong);
  Net model(*config);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3).eps(1e-7));

  const std::int64_t batch = config->batch;
  double best = 1e30, epoch_loss = 0;
  for (int ep = 0; ep < epochs; ++ep) {
    const auto t0 = std::chrono::steady_clock::now();
    auto perm = torch::randperm(n);
    double sum = 0;
    std::int64_t steps = 0;
    for (std::int64_t i = 0; i < n; i += batch) {
      auto idx = perm.slice(0, i, std::min(i + batch, n));
      opt.zero_grad();
      auto loss = torch::nn::functional::cross_entropy(model->forward(X.index_select(0, idx)),
                                                       Y.index_select(0, idx));
      loss.backward();
      opt.step();
      sum += loss.item<float>();
      ++steps;
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, s);
    epoch_loss = sum / static_cast<double>(steps);
  }
  std::printf("libtorch config=%s batch=%d threads=%d epoch_s=%.4f samples_per_s=%.0f loss=%.4f\n",
              config->name.c_str(), config->batch, threads, best, static_cast<double>(n) / best,
              epoch_loss);
  return 0;
}
