// Hochreiter & Schmidhuber's adding problem: the sequence-model counterpart of "XOR fails
// on one perceptron". Each input is T steps of (value, marker): values uniform in [0, 1),
// markers 0 except at two steps (one in each half of the sequence); the target is the sum
// of the two marked values. Predicting the mean (1) gives MSE = Var(U + U) = 1/6 ~ 0.167,
// the baseline. A SimpleRNN has to carry a value across ~T/2 steps through repeated tanh
// and matrix products (vanishing gradients) and stays near the baseline at T = 100; LSTM and
// GRU, whose gated cell state carries it additively, drive the MSE towards 0.
//
//   adding_problem                              # T = 100, all three cells
//   adding_problem --cells lstm --expect-max 0.01
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <plexus.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace px = plexus;
namespace L = plexus::layers;

namespace {

struct Data {
  px::Tensor x, y;
};

Data make_data(std::size_t n, std::size_t steps, unsigned seed) {
  Data d{px::Tensor::from_shape({n, steps, 2}), px::Tensor::from_shape({n, 1})};
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(0.0f, 1.0f);
  std::uniform_int_distribution<std::size_t> first(0, steps / 2 - 1), second(steps / 2, steps - 1);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t t = 0; t < steps; ++t) {
      d.x(i, t, 0) = value(rng);
      d.x(i, t, 1) = 0.0f;
    }
    const std::size_t a = first(rng), b = second(rng);
    d.x(i, a, 1) = d.x(i, b, 1) = 1.0f;
    d.y(i, 0) = d.x(i, a, 0) + d.x(i, b, 0);
  }
  return d;
}

px::LayerRef recurrent(const std::string& cell, px::Dim units) {
  if (cell == "lstm") return L::LSTM(units);
  if (cell == "gru") return L::GRU(units);
  if (cell == "simple_rnn") return L::SimpleRNN(units);
  throw px::Error("unknown cell \"{}\" (simple_rnn, lstm, gru)", cell);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t steps = 100, train_n = 10000, test_n = 1000;
  int epochs = 10, batch = 50, verbose = 2, units = 32;
  double lr = 1e-2;
  unsigned seed = 1;
  std::string cells = "simple_rnn,lstm,gru";
  std::optional<double> expect_max;
  CLI::App cli{"The adding problem: SimpleRNN vs LSTM vs GRU (apps/adding_problem.cpp)"};
  cli.add_option("--steps", steps, "Sequence length T")->capture_default_str();
  cli.add_option("--train", train_n, "Training sequences")->capture_default_str();
  cli.add_option("--test", test_n, "Test sequences")->capture_default_str();
  cli.add_option("--epochs", epochs, "Epochs per cell")->capture_default_str();
  cli.add_option("--batch-size", batch, "Batch size")->capture_default_str();
  cli.add_option("--units", units, "Units of the recurrent layer")->capture_default_str();
  cli.add_option("--learning-rate", lr, "Adam's learning rate")->capture_default_str();
  cli.add_option("--cells", cells, "Comma-separated cells to train")->capture_default_str();
  cli.add_option("--seed", seed, "Data and weight seed")->capture_default_str();
  cli.add_option("--verbose", verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->capture_default_str();
  cli.add_option("--expect-max", expect_max,
                 "Exit 1 when an LSTM or GRU test MSE is above this (the CTest floor)");
  CLI11_PARSE(cli, argc, argv);
  if (steps < 2) {
    fmt::print(stderr, "error: --steps must be >= 2\n");
    return 2;
  }
  try {
    const Data train = make_data(train_n, steps, seed);
    const Data test = make_data(test_n, steps, seed + 1000);
    double baseline = 0;  // predicting 1, the mean of the target
    for (float v : test.y) baseline += (v - 1.0) * (v - 1.0);
    baseline /= static_cast<double>(test.y.size());
    fmt::print(
        "Adding problem, T = {}: {} training and {} test sequences; baseline MSE "
        "(always 1) = {:.4f}\n",
        steps, train_n, test_n, baseline);
    int failures = 0;
    std::vector<std::string> summary;
    std::stringstream list(cells);
    for (std::string cell; std::getline(list, cell, ',');) {
      px::utils::clear_session();
      px::utils::set_random_seed(seed);
      auto x = px::Input({-1, 2});
      px::Model model(x, L::Dense(1)(recurrent(cell, units)(x)));
      model.compile(px::optim::Adam({.learning_rate = lr, .clipnorm = 1.0}), "mse");
      fmt::print("\n{} ({} units, {} parameters):\n", cell, units, model.count_params());
      const auto t0 = std::chrono::steady_clock::now();
      model.fit(train.x, train.y, {.epochs = epochs, .batch_size = batch, .verbose = verbose});
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double mse = model.evaluate(test.x, test.y, {.verbose = 0})[0];
      summary.push_back(fmt::format("{:<10} test MSE {:.4f} ({:.1f}% of the baseline), {:.0f} s",
                                    cell, mse, 100 * mse / baseline, secs));
      fmt::print("{}\n", summary.back());
      if (expect_max && cell != "simple_rnn" && mse > *expect_max) {
        fmt::print(stderr, "FAILED: {} test MSE {:.4f} is above the expected maximum {:.4f}\n",
                   cell, mse, *expect_max);
        ++failures;
      }
    }
    fmt::print("\nSummary (baseline {:.4f}):\n", baseline);
    for (const auto& s : summary) fmt::print("  {}\n", s);
    if (expect_max && failures == 0)
      fmt::print("PASSED: gated cells at or below {}\n", *expect_max);
    return failures ? 1 : 0;
  } catch (const px::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
