// CNN speed of plexus against libtorch, measured in one run on one machine: Keras's
// "Simple MNIST convnet" (Conv2D 32 3x3 relu, MaxPooling2D 2, Conv2D 64 3x3 relu,
// MaxPooling2D 2, Flatten, Dropout 0.5, Dense 10 softmax; Adam, batch 128).
// (child modes only for now)
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <plexus.hpp>
#include <random>

namespace px = plexus;
namespace L = plexus::layers;

namespace {
using Clock = std::chrono::steady_clock;

px::Sequential convnet() {
  return px::Sequential({
      L::Conv2D(32, 3, {.activation = "relu", .input_shape = {28, 28, 1}}),
      L::MaxPooling2D(2),
      L::Conv2D(64, 3, {.activation = "relu"}),
      L::MaxPooling2D(2),
      L::Flatten(),
      L::Dropout(0.5f),
      L::Dense(10, "softmax"),
  });
}

class EpochTimer : public px::callbacks::Callback {
 public:
  void on_epoch_begin(int, const px::callbacks::Logs&) override { t0_ = Clock::now(); }
  void on_epoch_end(int, px::callbacks::Logs& logs) override {
    seconds.push_back(std::chrono::duration<double>(Clock::now() - t0_).count());
    loss = logs.count("loss") ? logs.at("loss") : 0.0;
  }
  std::vector<double> seconds;
  double loss = 0;

 private:
  Clock::time_point t0_;
};

int run_train(int threads, std::int64_t n, int epochs) {
  px::blas::set_num_threads(threads);
  px::utils::set_random_seed(1);
  px::Tensor x = px::Tensor::from_shape({static_cast<std::size_t>(n), 28, 28, 1});
  px::Tensor y = px::Tensor::from_shape({static_cast<std::size_t>(n)});
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::uniform_int_distribution<int> label(0, 9);
  for (float& v : x) v = u(rng);
  for (float& v : y) v = static_cast<float>(label(rng));
  auto model = convnet();
  model.compile(px::optim::Adam({.learning_rate = 1e-3, .epsilon = 1e-7}),
                "sparse_categorical_crossentropy");
  auto timer = std::make_shared<EpochTimer>();
  model.fit(x, y, {.epochs = epochs, .batch_size = 128, .shuffle = true, .verbose = 0,
                   .callbacks = {timer}});
  const double best = *std::min_element(timer->seconds.begin(), timer->seconds.end());
  fmt::print("plexus cnn threads={} samples={} batch=128 epoch_s={:.3f} ms_per_step={:.2f} loss={:.4f}\n",
             threads, n, best, 1e3 * best / std::ceil(double(n) / 128), timer->loss);
  return 0;
}

int run_infer(int threads, int batch, int calls) {
  px::blas::set_num_threads(threads);
  auto model = convnet();
  px::Tensor x = px::Tensor::from_shape({static_cast<std::size_t>(batch), 28, 28, 1});
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (float& v : x) v = u(rng);
  px::Tensor out = model.predict(x, {.batch_size = batch, .verbose = 0});
  double best = 1e30;
  for (int i = 0; i < calls; ++i) {
    const auto t0 = Clock::now();
    out = model.predict(x, {.batch_size = batch, .verbose = 0});
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  fmt::print("plexus cnn_infer threads={} batch={} calls={} best_ms={:.3f}\n", threads, batch,
             calls, 1e3 * best);
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"bench_cnn"};
  int threads = 1, epochs = 1, batch = 256, calls = 20;
  std::int64_t samples = 60000;
  bool train = false, infer = false;
  cli.add_flag("--run-train", train);
  cli.add_flag("--run-infer", infer);
  cli.add_option("--threads", threads);
  cli.add_option("--samples", samples);
  cli.add_option("--epochs", epochs);
  cli.add_option("--batch", batch);
  cli.add_option("--calls", calls);
  CLI11_PARSE(cli, argc, argv);
  if (train) return run_train(threads, samples, epochs);
  if (infer) return run_infer(threads, batch, calls);
  return 0;
}
