// A small Transformer encoder (Vaswani et al.) built with the Functional API, classifying
// synthetic token sequences by a rule that needs attention across positions:
//   --task repeat (default): T tokens drawn from 3..V-1; the label is 1 when the first token
//   occurs again later in the sequence. The answer depends on whether two tokens are EQUAL,
//   a pairwise relation: no sum of per-position features (a bag of (token, position) pairs,
//   what the model is without attention) can decide it, but one attention head whose query
//   at any step looks for the first token can.
//   --task order: one token A (= 1) and one B (= 2); label 1 when A comes first. Easier than
//   it looks: with positional embeddings a per-position score (-a for A, +b for B) summed
//   over the sequence decides it, so it does not need attention; kept for comparison.
// The baseline (always the majority class) is printed beside the test accuracy.
//
//   tokens [N, T] -> Embedding(V, d) + Embedding(T, d)(positions)     token + position
//     -> MultiHeadAttention(heads, d / heads)(x, x) -> Add -> LayerNormalization
//     -> Dense(ff, relu) -> Dense(d) -> Add -> LayerNormalization
//     -> GlobalAveragePooling1D -> Dense(2, softmax)
//
//   transformer_encoder                       # defaults: repeat, T = 16, 8000 sequences
//   transformer_encoder --task order
//   transformer_encoder --ablate              # also without the attention sub-layer
//   transformer_encoder --expect-min 0.9      # the CTest walkthrough floor
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <optional>
#include <plexus.hpp>
#include <random>
#include <string>

namespace px = plexus;
namespace L = plexus::layers;

namespace {

struct Data {
  px::Tensor x, y;
};

// task "repeat": label 1 when the first token occurs again later in the sequence. Half of
// the sequences (at random) hold it at 1 to 3 later positions, the others not at all.
// task "order": one token A (= 1) and one B (= 2) at random positions; label 1 when A
// comes first.
Data make_data(const std::string& task, std::size_t n, std::size_t steps, std::size_t vocab,
               unsigned seed) {
  Data d{px::Tensor::from_shape({n, steps}), px::Tensor::from_shape({n, 1})};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::size_t> token(3, vocab - 1), pos(0, steps - 1);
  std::uniform_int_distribution<std::size_t> later(1, steps - 1), copies(1, 3);
  std::bernoulli_distribution coin(0.5);
  for (std::size_t i = 0; i < n; ++i) {
    if (task == "order") {
      for (std::size_t t = 0; t < steps; ++t) d.x(i, t) = static_cast<float>(token(rng));
      const std::size_t a = pos(rng);
      std::size_t b = pos(rng);
      while (b == a) b = pos(rng);
      d.x(i, a) = 1.0f;  // token A
      d.x(i, b) = 2.0f;  // token B
      d.y(i, 0) = a < b ? 1.0f : 0.0f;
      continue;
    }
    const std::size_t first = token(rng);
    d.x(i, 0) = static_cast<float>(first);
    for (std::size_t t = 1; t < steps; ++t) {
      std::size_t v = token(rng);
      while (v == first) v = token(rng);
      d.x(i, t) = static_cast<float>(v);
    }
    const bool repeats = coin(rng);
    if (repeats) {
      for (std::size_t c = copies(rng); c > 0; --c) d.x(i, later(rng)) = static_cast<float>(first);
    }
    d.y(i, 0) = repeats ? 1.0f : 0.0f;
  }
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t steps = 16, vocab = 20, train_n = 8000, test_n = 2000;
  int epochs = 12, batch = 64, verbose = 2, dim = 32, heads = 4, ff = 64;
  double lr = 2e-3;
  unsigned seed = 1;
  std::string task = "repeat";
  bool ablate = false;
  std::optional<double> expect_min;
  CLI::App cli{"A small Transformer encoder on synthetic sequences (apps/transformer_encoder.cpp)"};
  cli.add_option("--task", task,
                 "repeat (does the first token occur again?) or order (A before B?)")
      ->capture_default_str();
  cli.add_option("--steps", steps, "Sequence length T")->capture_default_str();
  cli.add_option("--vocab", vocab, "Vocabulary size V (tokens 0..V-1; 1 = A, 2 = B)")
      ->capture_default_str();
  cli.add_option("--train", train_n, "Training sequences")->capture_default_str();
  cli.add_option("--test", test_n, "Test sequences")->capture_default_str();
  cli.add_option("--epochs", epochs, "Epochs")->capture_default_str();
  cli.add_option("--batch-size", batch, "Batch size")->capture_default_str();
  cli.add_option("--dim", dim, "Model width d")->capture_default_str();
  cli.add_option("--heads", heads, "Attention heads (key_dim = d / heads)")->capture_default_str();
  cli.add_option("--ff", ff, "Feed-forward width")->capture_default_str();
  cli.add_option("--learning-rate", lr, "Adam's learning rate")->capture_default_str();
  cli.add_option("--seed", seed, "Data and weight seed")->capture_default_str();
  cli.add_option("--verbose", verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->capture_default_str();
  cli.add_flag("--ablate", ablate,
               "Also train the same network without its attention sub-layer, for comparison");
  cli.add_option("--expect-min", expect_min,
                 "Exit 1 when the test accuracy is below this (the CTest floor)");
  CLI11_PARSE(cli, argc, argv);
  if (steps < 2 || vocab < 4 || heads <= 0 || dim % heads != 0) {
    fmt::print(stderr, "error: need --steps >= 2, --vocab >= 4 and --dim a multiple of --heads\n");
    return 2;
  }
  try {
    if (task != "repeat" && task != "order") {
      fmt::print(stderr, "error: --task must be repeat or order\n");
      return 2;
    }
    const Data train = make_data(task, train_n, steps, vocab, seed);
    const Data test = make_data(task, test_n, steps, vocab, seed + 1000);
    double ones = 0;
    for (float v : test.y) ones += v;
    const double baseline =
        std::max(ones, static_cast<double>(test_n) - ones) / static_cast<double>(test_n);

    fmt::print(
        "Task {} ({}), T = {}, vocabulary {}: {} training and {} test sequences; baseline "
        "(majority class) test accuracy {:.4f}\n",
        task, task == "repeat" ? "does the first token occur again?" : "does A come before B?",
        steps, vocab, train_n, test_n, baseline);
    // The encoder, and (with --ablate) the same network without its attention sub-layer.
    auto run = [&](bool attention) {
      px::utils::clear_session();
      px::utils::set_random_seed(seed);
      const px::Dim T = static_cast<px::Dim>(steps), d = dim;
      auto tokens = px::Input({T}, "tokens");
      // Positional embedding by composition: an Embedding over the positions 0..T-1, added
      // to the token embedding. The positions are made from the tokens (tokens * 0 +
      // [0..T-1]; ops on symbolic tensors become layers of the model): one input.
      px::Tensor arange = px::Tensor::from_shape({1, steps});
      for (std::size_t t = 0; t < steps; ++t) arange(0, t) = static_cast<float>(t);
      auto positions = px::ops::add(px::ops::multiply(tokens, 0.0f), px::ops::constant(arange));
      auto token_embedding =
          L::Embedding(static_cast<px::Dim>(vocab), d, {.name = "token_embedding"});
      auto position_embedding = L::Embedding(T, d, {.name = "position_embedding"});
      auto x = L::Add()({token_embedding(tokens), position_embedding(positions)});
      // The encoder block: self-attention and a feed-forward network, each with a residual
      // connection and layer normalisation (post-norm, as in the paper).
      px::SymbolicTensor h = x;
      if (attention) {
        auto attended = L::MultiHeadAttention(heads, d / heads, {.name = "mha"})({x, x});
        h = L::LayerNormalization({.epsilon = 1e-6f})(L::Add()({x, attended}));
      }
      auto f = L::Dense(d)(L::Dense(ff, "relu")(h));
      auto encoded = L::LayerNormalization({.epsilon = 1e-6f})(L::Add()({h, f}));
      auto probs = L::Dense(2, "softmax")(L::GlobalAveragePooling1D()(encoded));
      px::Model model(tokens, probs, attention ? "transformer_encoder" : "without_attention");
      model.compile(px::optim::Adam({.learning_rate = lr}), "sparse_categorical_crossentropy",
                    {"accuracy"});
      if (verbose > 0 && attention) model.summary();
      fmt::print("\n{} ({} parameters):\n", model.name(), model.count_params());
      const auto t0 = std::chrono::steady_clock::now();
      model.fit(train.x, train.y, {.epochs = epochs, .batch_size = batch, .verbose = verbose});
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const auto scores = model.evaluate(test.x, test.y, {.verbose = 0});
      fmt::print("{}: test accuracy {:.4f} (baseline {:.4f}), test loss {:.4f}, {:.1f} s\n",
                 model.name(), scores.at(1), baseline, scores.at(0), secs);
      return scores.at(1);
    };
    const double accuracy = run(true);
    if (ablate) {
      const double without = run(false);
      fmt::print("\nSummary: with attention {:.4f}, without {:.4f}, baseline {:.4f}\n", accuracy,
                 without, baseline);
    }
    if (expect_min) {
      if (accuracy < *expect_min) {
        fmt::print(stderr, "FAILED: test accuracy {:.4f} is below the expected minimum {:.4f}\n",
                   accuracy, *expect_min);
        return 1;
      }
      fmt::print("PASSED: test accuracy {:.4f} >= {:.4f}\n", accuracy, *expect_min);
    }
    return 0;
  } catch (const px::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
