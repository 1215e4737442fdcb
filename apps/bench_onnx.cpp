// Inference of plexus against ONNX Runtime on the same exported files, in one run, 1 thread.
//
// For the seed MLP 784-64-10, Keras's MNIST convnet, the LSTM of the sequence benchmark
// (LSTM(64) over 50 x 16 -> Dense(1, sigmoid)), a Transformer encoder block and
// MobileNetV2 (96 x 96 x 3): plexus builds the model, exports it with
// px::export_model(..., kw::format = "onnx"), times model.predict at batch 1 and 256, and
// ONNX Runtime (npm onnxruntime-node through Node, ../shared/bench/onnxruntime/ort_bench.js)
// times the exported file. ratio = plexus / ONNX Runtime (best of CALLS runs each; lower is
// better; the target is <= 0.8).
//
//   bench_onnx                      # every model, 20 calls at batch 256, 200 at batch 1
//   bench_onnx mlp convnet          # some of them
// Environment: PLEXUS_ORT_DIR (onnxruntime-node's folder, default ~/.cache/plexus-ort),
// PLEXUS_ORT_BENCH (ort_bench.js, default ../shared/bench/onnxruntime/ort_bench.js).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <plexus.hpp>
#include <string>
#include <vector>

namespace px = plexus;
namespace L = px::layers;
namespace kw = px::kw;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

px::Model mlp() {
  auto x = px::Input({784});
  auto h = L::Dense(64, kw::activation = "relu")(x);
  return px::Model(x, L::Dense(10, kw::activation = "softmax")(h));
}

px::Model convnet() {
  auto x = px::Input({28, 28, 1});
  auto h = L::Conv2D(32, {3, 3}, kw::activation = "relu")(x);
  h = L::MaxPooling2D({2, 2})(h);
  h = L::Conv2D(64, {3, 3}, kw::activation = "relu")(h);
  h = L::MaxPooling2D({2, 2})(h);
  h = L::Dropout(0.5)(L::Flatten()(h));
  return px::Model(x, L::Dense(10, kw::activation = "softmax")(h));
}

px::Model lstm() {
  auto x = px::Input({50, 16});
  return px::Model(x, L::Dense(1, kw::activation = "sigmoid")(L::LSTM(64)(x)));
}

// Keras's Transformer encoder block (keras.io "Text classification with Transformer"):
// 64 tokens of width 64, 4 heads, feed-forward 128.
px::Model transformer() {
  auto x = px::Input({64, 64});
  auto a = L::MultiHeadAttention(4, 16)({x, x});
  auto h = L::LayerNormalization(kw::epsilon = 1e-6)(L::Add()({x, a}));
  auto f = L::Dense(128, kw::activation = "relu")(h);
  f = L::Dense(64)(f);
  auto y = L::LayerNormalization(kw::epsilon = 1e-6)(L::Add()({h, f}));
  return px::Model(x, y);
}

// keras.applications.MobileNetV2 (alpha 1.0) at 96 x 96 x 3, 1000 classes.
px::Model mobilenet_v2() {
  auto conv_bn = [](px::SymbolicTensor x, px::Dim filters, px::Dim k, px::Dim stride, bool relu) {
    x = L::Conv2D(filters, {k, k}, kw::strides = stride, kw::padding = "same",
                  kw::use_bias = false)(x);
    x = L::BatchNormalization(kw::epsilon = 1e-3, kw::momentum = 0.999)(x);
    return relu ? L::ReLU(kw::max_value = 6.0)(x) : x;
  };
  auto block = [&](px::SymbolicTensor x, px::Dim expansion, px::Dim filters, px::Dim stride) {
    const px::Dim in = x.shape().back();
    px::SymbolicTensor h = x;
    if (expansion != 1) h = conv_bn(h, in * expansion, 1, 1, true);
    h = L::DepthwiseConv2D({3, 3}, kw::strides = stride, kw::padding = "same",
                           kw::use_bias = false)(h);
    h = L::ReLU(kw::max_value = 6.0)(L::BatchNormalization(kw::epsilon = 1e-3)(h));
    h = conv_bn(h, filters, 1, 1, false);
    if (stride == 1 && in == filters) h = L::Add()({x, h});
    return h;
  };
  auto x = px::Input({96, 96, 3});
  auto h = conv_bn(x, 32, 3, 2, true);
  h = block(h, 1, 16, 1);
  const int cfg[][4] = {{6, 24, 2, 2}, {6, 32, 3, 2},  {6, 64, 4, 2},
                        {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  for (const auto& c : cfg)
    for (int i = 0; i < c[2]; ++i) h = block(h, c[0], c[1], i == 0 ? c[3] : 1);
  h = conv_bn(h, 1280, 1, 1, true);
  h = L::GlobalAveragePooling2D()(h);
  return px::Model(x, L::Dense(1000, kw::activation = "softmax")(h));
}

double best_ms(const std::function<void()>& f, int calls) {
  for (int i = 0; i < 3; ++i) f();
  double best = 1e30;
  for (int i = 0; i < calls; ++i) {
    const auto t0 = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return best;
}

// ONNX Runtime's best time in ms, or a negative value when it cannot be run.
double ort_ms(const fs::path& script, const fs::path& model, int batch, int calls,
              const px::Shape& dims) {
  const char* env = std::getenv("PLEXUS_ORT_DIR");
  const fs::path dir =
      env ? fs::path(env)
          : fs::path(std::getenv("HOME") ? std::getenv("HOME") : "/root") / ".cache" / "plexus-ort";
  std::vector<std::string> d;
  for (std::size_t i = 1; i < dims.size(); ++i) d.push_back(std::to_string(dims[i]));
  const std::string cmd =
      fmt::format("NODE_PATH='{}' node '{}' '{}' {} {} 1 {} 2>&1", (dir / "node_modules").string(),
                  script.string(), model.string(), batch, calls, fmt::join(d, ","));
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  char line[1024];
  double ms = -1;
  while (fgets(line, sizeof line, p)) {
    const char* at = std::strstr(line, "best_ms=");
    if (at) ms = std::atof(at + 8);
  }
  pclose(p);
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  px::blas::set_num_threads(1);
  const std::map<std::string, std::function<px::Model()>> all = {{"mlp", mlp},
                                                                 {"convnet", convnet},
                                                                 {"lstm", lstm},
                                                                 {"transformer", transformer},
                                                                 {"mobilenet_v2", mobilenet_v2}};
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) names.push_back(argv[i]);
  if (names.empty()) names = {"mlp", "convnet", "lstm", "transformer", "mobilenet_v2"};
  const char* script_env = std::getenv("PLEXUS_ORT_BENCH");
  const fs::path script =
      script_env ? fs::path(script_env) : fs::path("../shared/bench/onnxruntime/ort_bench.js");
  const fs::path dir = fs::temp_directory_path() / "plexus_bench_onnx";
  fs::create_directories(dir);
  fmt::print("{:<14} {:>6} {:>12} {:>12} {:>8}\n", "model", "batch", "plexus_ms", "ort_ms",
             "ratio");
  for (const auto& name : names) {
    auto it = all.find(name);
    if (it == all.end()) {
      fmt::print(stderr, "unknown model \"{}\"\n", name);
      return 2;
    }
    px::Model m = it->second();
    const fs::path file = dir / (name + ".onnx");
    try {
      px::export_model(m, file.string(), kw::format = "onnx");
    } catch (const px::Error& e) {
      fmt::print("{:<14} not exported: {}\n", name, e.what());
      continue;
    }
    const px::Shape in = m.inputs().at(0).shape();
    for (int batch : {1, 256}) {
      px::Shape shape = in;
      shape[0] = batch;
      std::vector<std::size_t> s(shape.begin(), shape.end());
      px::Tensor x = xt::random::rand<float>(s);
      const bool heavy = name == "mobilenet_v2" || name == "transformer";
      const int calls = batch == 1 ? 200 : heavy ? 5 : 20;
      const double ours =
          best_ms([&] { (void)m.predict(x, kw::batch_size = batch, kw::verbose = 0); }, calls);
      const double theirs = ort_ms(script, file, batch, calls, shape);
      fmt::print("{:<14} {:>6} {:>12.4f} {:>12.4f} {:>8}\n", name, batch, ours, theirs,
                 theirs > 0 ? fmt::format("{:.2f}", ours / theirs) : std::string("n/a"));
      std::fflush(stdout);
    }
  }
  return 0;
}
