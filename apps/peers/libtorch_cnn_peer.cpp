// The libtorch side of apps/bench_cnn.cpp for inference: Keras's "Simple MNIST convnet"
// (the network of ../shared/bench/libtorch_peers/lt_cnn_lstm.cpp, whose `cnn` mode is the
// training peer) in eval mode under NoGradGuard, NCHW as libtorch prefers.
//
//   libtorch_cnn_peer THREADS BATCH CALLS
//
// prints one line:
//   libtorch cnn_infer threads=1 batch=256 calls=20 best_ms=25.123
// best_ms is the best of CALLS forward passes of one batch (after 3 warm-up passes).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace {

struct CnnImpl : torch::nn::Module {
  CnnImpl()
      : c1(register_module("c1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 32, 3)))),
        c2(register_module("c2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3)))),
        drop(register_module("drop", torch::nn::Dropout(0.5))),
        fc(register_module("fc", torch::nn::Linear(1600, 10))) {}
  torch::Tensor forward(torch::Tensor x) {
    x = torch::max_pool2d(torch::relu(c1(x)), 2);
    x = torch::max_pool2d(torch::relu(c2(x)), 2);
    return torch::softmax(fc(drop(x.flatten(1))), 1);
  }
  torch::nn::Conv2d c1, c2;
  torch::nn::Dropout drop;
  torch::nn::Linear fc;
};
TORCH_MODULE(Cnn);

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s THREADS BATCH CALLS\n", argv[0]);
    return 2;
  }
  const int threads = std::atoi(argv[1]);
  const int64_t batch = std::atoll(argv[2]);
  const int calls = std::atoi(argv[3]);
  torch::set_num_threads(threads);
  if (openblas_set_num_threads) openblas_set_num_threads(threads);
  torch::manual_seed(0);
  Cnn model;
  model->eval();
  torch::NoGradGuard no_grad;
  auto x = torch::rand({batch, 1, 28, 28});
  for (int i = 0; i < 3; ++i) model->forward(x);
  double best = 1e30;
  for (int i = 0; i < calls; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto y = model->forward(x);
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::printf("libtorch cnn_infer threads=%d batch=%lld calls=%d best_ms=%.3f\n", threads,
              static_cast<long long>(batch), calls, 1e3 * best);
  return 0;
}
