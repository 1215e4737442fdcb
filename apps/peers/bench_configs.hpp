// The training jobs of apps/bench_training.cpp, shared word for word with the libtorch peer
// (apps/peers/libtorch_peer.cpp) so that both frameworks train the same models. Plain C++17,
// no dependencies: the peer is compiled against libtorch, not plexus.
//
// Every job: `samples` MNIST-shaped random samples (inputs uniform in [0, 1), 784 wide;
// labels uniform in 0..9), softmax over 10 classes with (sparse) categorical cross-entropy,
// Adam(learning rate 1e-3, epsilon 1e-7), shuffled each epoch; the best epoch counts.
//
//   mlp     784 -> Dense(h1, relu) -> ... -> Dense(hk, relu) -> Dense(10, softmax)
//   dag     x = Input(784)
//           a = Dense(256, relu)(x)
//           b = Dense(256, relu)(x)
//           m = Concatenate()([a, b])          # 512 wide
//           y = Dense(10, softmax)(m)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

inline constexpr std::int64_t kInputs = 784;
inline constexpr std::int64_t kClasses = 10;
inline constexpr std::int64_t kDagBranch = 256;  // width of each of the two DAG branches

enum class Kind { mlp, dag };

struct Config {
  std::string name;
  Kind kind;
  int batch;
  std::vector<std::int64_t> hidden;  // mlp: the hidden widths; dag: unused
};

inline const std::vector<Config>& configs() {
  static const std::vector<Config> all = {
      {"mlp64_b32", Kind::mlp, 32, {64}},   {"mlp64_b128", Kind::mlp, 128, {64}},
      {"mlp256_b32", Kind::mlp, 32, {256}}, {"deep_b128", Kind::mlp, 128, {512, 256, 128}},
      {"dag_b128", Kind::dag, 128, {}},
  };
  return all;
}

inline const Config* find_config(const std::string& name) {
  for (const Config& c : configs()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// A dense layer's matrix product: (in, out), and whether its input needs a gradient (false
// for the layers reading the model input).
struct Gemm {
  std::int64_t in, out;
  bool input_grad;
};

inline std::vector<Gemm> gemms(const Config& c) {
  std::vector<Gemm> g;
  if (c.kind == Kind::dag) {
    g.push_back({kInputs, kDagBranch, false});
    g.push_back({kInputs, kDagBranch, false});
    g.push_back({2 * kDagBranch, kClasses, true});
    return g;
  }
  std::int64_t in = kInputs;
  for (std::int64_t h : c.hidden) {
    g.push_back({in, h, !g.empty()});
    in = h;
  }
  g.push_back({in, kClasses, !g.empty()});
  return g;
}

// The floating-point operations one training sample needs in matrix products: per dense
// layer 2·in·out forward, 2·in·out for the kernel gradient, and 2·in·out for the input
// gradient unless the layer reads the model input. Bias, activations, loss and optimizer
// are left out (they are O(in + out), not O(in·out)).
inline double train_flops_per_sample(const Config& c) {
  double f = 0;
  for (const Gemm& g : gemms(c)) {
    const double mac = static_cast<double>(g.in) * static_cast<double>(g.out);
    f += 2 * mac * (g.input_grad ? 3 : 2);
  }
  return f;
}

inline std::string describe(const Config& c) {
  if (c.kind == Kind::dag) {
    return "784 -> [Dense(256 relu) | Dense(256 relu)] -> Concatenate(512) -> Dense(10 softmax)";
  }
  std::string s = "784";
  for (std::int64_t h : c.hidden) s += "-" + std::to_string(h);
  return s + "-10";
}

}  // namespace bench
