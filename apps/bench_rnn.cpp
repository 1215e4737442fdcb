// LSTM speed of plexus against libtorch, measured in one run on one machine: LSTM(64) over
// sequences of 50 steps x 16 features, the last output -> Dense(1, sigmoid).
//  - training: one epoch of 20000 random sequences (uniform [0, 1), labels 0/1), Adam(1e-3,
//    epsilon 1e-7), batch 64, shuffled, binary cross-entropy; the peer is
//    ../shared/bench/libtorch_peers `lt_cnn_lstm lstm THREADS SAMPLES` (libtorch's fused
//    LSTM, logits + BCE-with-logits), given with --lt-cnn-lstm;
//  - inference: the best of --infer-calls forward passes of one batch of 256
//    (model.predict), against apps/peers/libtorch_rnn_peer (NoGradGuard, eval mode), given
//    with --infer-peer.
// Both at 1 and 2 threads; every run is a child process, so its peak memory (max RSS) comes
// from wait4(). The GEMM peak of the BLAS (cblas_sgemm 1024^3) is measured before and after.
//
//   bench_rnn --lt-cnn-lstm /tmp/build-ltp/lt_cnn_lstm --infer-peer /path/to/libtorch_rnn_peer
//   bench_rnn --samples 2000 --threads-list 1       # a shorter run
//
// ratio = plexus / libtorch's best over its thread counts (lower is better for plexus).
#include "peer_bench.hpp"

namespace L = plexus::layers;

namespace {
using namespace bench_util;

// Multiply-adds x 2 per sample: 50 steps of x (16) and h (64) times the 4 gates (256).
// Training: forward, the weight gradients, and the input gradients of h (not of x, which
// libtorch skips for the data): 115 GFLOP per epoch of 20000, the figure.
constexpr double kSteps = 50, kFeatures = 16, kUnits = 64, kGates = 4 * kUnits;
constexpr double kInferFlops = kSteps * 2 * (kFeatures + kUnits) * kGates;
constexpr double kTrainFlops = 3 * kInferFlops - kSteps * 2 * kFeatures * kGates;

std::shared_ptr<px::Model> lstm_net() {
  auto x = px::Input({static_cast<px::Dim>(kSteps), static_cast<px::Dim>(kFeatures)});
  auto h = L::LSTM(static_cast<px::Dim>(kUnits))(x);
  return std::make_shared<px::Model>(x, L::Dense(1, "sigmoid")(h));
}

}  // namespace

int main(int argc, char** argv) {
  PeerBench spec{
      .job = "lstm",
      .title = "LSTM(64) over 50 x 16 -> Dense(1, sigmoid)",
      .description =
          "plexus LSTM training and inference speed against libtorch (apps/bench_rnn.cpp)",
      .model = lstm_net,
      .sample_shape = {50, 16},
      .label_shape = {1},
      .classes = 2,
      .loss = "binary_crossentropy",
      .train_batch = 64,
      .default_samples = 20000,
      .infer_peer = {},
      .infer_peer_help = "apps/peers/libtorch_rnn_peer (the inference peer)",
      .train_flops = kTrainFlops,
      .infer_flops = kInferFlops,
      .flops_counted = "multiply-adds x 2 of the LSTM's GEMMs",
  };
#ifdef PLEXUS_LIBTORCH_RNN_PEER
  spec.infer_peer = PLEXUS_LIBTORCH_RNN_PEER;
#endif
  return peer_bench_main(argc, argv, spec);
}
