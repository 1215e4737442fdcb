// CNN speed of plexus against libtorch, measured in one run on one machine: Keras's
// "Simple MNIST convnet" (Conv2D 32 3x3 relu, MaxPooling2D 2, Conv2D 64 3x3 relu,
// MaxPooling2D 2, Flatten, Dropout 0.5, Dense 10 softmax).
//  - training: one epoch of 60000 random 28x28x1 images (uniform [0, 1), labels 0..9),
//    Adam(1e-3, epsilon 1e-7), batch 128, shuffled; the peer is
//    ../shared/bench/libtorch_peers `lt_cnn_lstm cnn THREADS SAMPLES` (libtorch 1.13, oneDNN
//    convolutions), given with --lt-cnn-lstm;
//  - inference: the best of --infer-calls forward passes of one batch of 256
//    (model.predict), against apps/peers/libtorch_cnn_peer (NoGradGuard, eval mode).
// Both at 1 and 2 threads; every run is a child process, so its peak memory (max RSS) comes
// from wait4(). The GEMM peak of the BLAS (cblas_sgemm 1024^3) is measured before and after,
// and the achieved GFLOP/s are reported against it.
//
//   bench_cnn --lt-cnn-lstm /path/to/lt_cnn_lstm --infer-peer /path/to/libtorch_cnn_peer
//   bench_cnn --samples 12800 --threads 1       # a shorter run
//
// ratio = plexus / libtorch's best over its thread counts (lower is better for plexus).
#include "peer_bench.hpp"

namespace L = plexus::layers;

namespace {
using namespace bench_util;

// Multiply-adds of the convnet per sample, counted as 2 FLOPs each: forward, the weight
// gradients and the input gradients (none for the first convolution, which reads the data).
constexpr double kConv1 = 2.0 * 26 * 26 * 9 * 32;    // 3x3x1 -> 32 on 26x26
constexpr double kConv2 = 2.0 * 11 * 11 * 288 * 64;  // 3x3x32 -> 64 on 11x11
constexpr double kDense = 2.0 * 1600 * 10;
constexpr double kInferFlops = kConv1 + kConv2 + kDense;
constexpr double kTrainFlops = 2 * kConv1 + 3 * kConv2 + 3 * kDense;

std::shared_ptr<px::Model> convnet() {
  return std::make_shared<px::Sequential>(std::initializer_list<px::SequentialEntry>{
      L::Conv2D(32, 3, {.activation = "relu", .input_shape = {28, 28, 1}}),
      L::MaxPooling2D(2),
      L::Conv2D(64, 3, {.activation = "relu"}),
      L::MaxPooling2D(2),
      L::Flatten(),
      L::Dropout(0.5f),
      L::Dense(10, "softmax"),
  });
}

}  // namespace

int main(int argc, char** argv) {
  PeerBench spec{
      .job = "cnn",
      .title = "Keras's simple MNIST convnet",
      .description =
          "plexus CNN training and inference speed against libtorch (apps/bench_cnn.cpp)",
      .model = convnet,
      .sample_shape = {28, 28, 1},
      .label_shape = {},
      .classes = 10,
      .loss = "sparse_categorical_crossentropy",
      .train_batch = 128,
      .default_samples = 60000,
      .infer_peer = {},
      .infer_peer_help = "apps/peers/libtorch_cnn_peer (the inference peer)",
      .train_flops = kTrainFlops,
      .infer_flops = kInferFlops,
      .flops_counted = "multiply-adds x 2 of the convolutions and the dense layer",
  };
#ifdef PLEXUS_LIBTORCH_CNN_PEER
  spec.infer_peer = PLEXUS_LIBTORCH_CNN_PEER;
#endif
  return peer_bench_main(argc, argv, spec);
}
