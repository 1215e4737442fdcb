// The libtorch side of apps/bench_rnn.cpp for inference: the network of
// ../shared/bench/libtorch_peers/lt_cnn_lstm.cpp's `lstm` mode (LSTM(64) over 50 x 16, last
// step -> Linear(1) -> sigmoid; that mode is the training peer) in eval mode under
// NoGradGuard.
//
//   libtorch_rnn_peer THREADS BATCH CALLS
//
// prints one line:
//   libtorch lstm_infer threads=1 batch=256 calls=20 best_ms=5.123
// best_ms is the best of CALLS forward passes of one batch (after 3 warm-up passes).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace {

struct LstmNetImpl : torch::nn::Module {
  LstmNetImpl()
      : lstm(register_module("lstm",
                             torch::nn::LSTM(torch::nn::LSTMOptions(16, 64).batch_first(true)))),
        fc(register_module("fc", torch::nn::Linear(64, 1))) {}
  torch::Tensor forward(torch::Tensor x) {
    auto out = std::get<0>(lstm(x));  // (N, 50, 64)
    return torch::sigmoid(fc(out.select(1, out.size(1) - 1)));
  }
  torch::nn::LSTM lstm;
  torch::nn::Linear fc;
};
TORCH_MODULE(LstmNet);

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
  LstmNet model;
  model->eval();
  torch::NoGradGuard no_grad;
  auto x = torch::rand({batch, 50, 16});
  for (int i = 0; i < 3; ++i) model->forward(x);
  double best = 1e30;
  for (int i = 0; i < calls; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto y = model->forward(x);
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::printf("libtorch lstm_infer threads=%d batch=%lld calls=%d best_ms=%.3f\n", threads,
              static_cast<long long>(batch), calls, 1e3 * best);
  return 0;
}
