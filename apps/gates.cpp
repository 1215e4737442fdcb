// Logic gates: a perceptron (one sigmoid neuron) learns AND and OR, but no single neuron
// can learn XOR, because XOR is not linearly separable. A hidden layer fixes that:
// Dense(32, relu) + Dense(1, sigmoid), trained with Adam, gets all four cases right.
//
//   model = Sequential([Dense(1, activation="sigmoid", input_shape=(2,))])      # perceptron
//   model = Sequential([Dense(32, activation="relu", input_shape=(2,)),
//                       Dense(1, activation="sigmoid")])                        # MLP
//   model.compile(optimizer=Adam(learning_rate=...), loss="binary_crossentropy",
//                 metrics=["accuracy"])
//   model.fit(x, y, epochs=..., batch_size=4)
//
// Exits 1 when a result differs from the textbook's (perceptron: AND and OR right, XOR not;
// MLP: XOR right).
#include <CLI/CLI.hpp>
#include <plexus.hpp>

#include "app_common.hpp"

namespace px = plexus;

namespace {

struct Settings {
  int epochs;
  int verbose;
  bool quiet;
};

// Trains `model` on the four input pairs and prints the truth table; returns the accuracy.
double train_gate(px::Sequential& model, const std::string& gate, const px::Tensor& y,
                  double learning_rate, const Settings& s) {
  const px::Tensor x = {{0.f, 0.f}, {0.f, 1.f}, {1.f, 0.f}, {1.f, 1.f}};
  model.compile(px::optim::Adam({.learning_rate = learning_rate}), "binary_crossentropy",
                {"accuracy"});
  model.fit(x, y, {.epochs = s.epochs, .batch_size = 4, .verbose = s.verbose});
  const double accuracy = model.evaluate(x, y, {.verbose = 0})[1];
  const px::Tensor out = model.predict(x);
  if (!s.quiet) {
    fmt::print("\n{} with {}\n  x1 x2 | target | output\n", gate, model.name());
    for (std::size_t i = 0; i < 4; ++i) {
      fmt::print("   {}  {} |   {}    | {:.4f} -> {}\n", x(i, 0), x(i, 1), y(i), out(i, 0),
                 out(i, 0) > 0.5f ? 1 : 0);
    }
  }
  fmt::print("{} {} accuracy: {:.2f}\n", model.name(), gate, accuracy);
  return accuracy;
}

px::Sequential perceptron() {
  return px::Sequential({px::layers::Dense(1, {.activation = "sigmoid", .input_shape = {2}})},
                        "perceptron");
}

px::Sequential mlp() {
  return px::Sequential({px::layers::Dense(32, {.activation = "relu", .input_shape = {2}}),
                         px::layers::Dense(1, "sigmoid")},
                        "mlp");
}

}  // namespace

int main(int argc, char** argv) {
  int epochs = 300, verbose = 0;
  std::uint64_t seed = 1;
  bool quiet = false;

  CLI::App cli{"Perceptron on AND/OR, its failure on XOR, and an MLP that solves XOR"};
  cli.add_option("--epochs", epochs, "Training epochs per gate")->capture_default_str();
  cli.add_option("--seed", seed, "Random seed")->capture_default_str();
  cli.add_option("--verbose", verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->capture_default_str();
  cli.add_flag("--quiet", quiet, "Only print the accuracies");
  CLI11_PARSE(cli, argc, argv);
  if (quiet) verbose = 0;
  const Settings s{epochs, verbose, quiet};

  return app::guarded_main(false, [&] {
    px::utils::set_random_seed(seed);
    const px::Tensor y_and = {0.f, 0.f, 0.f, 1.f};
    const px::Tensor y_or = {0.f, 1.f, 1.f, 1.f};
    const px::Tensor y_xor = {0.f, 1.f, 1.f, 0.f};

    auto p = perceptron();
    if (!quiet) p.summary();
    const double and_acc = train_gate(p, "AND", y_and, 0.1, s);
    auto p_or = perceptron();
    const double or_acc = train_gate(p_or, "OR", y_or, 0.1, s);
    auto p_xor = perceptron();
    const double xor_acc = train_gate(p_xor, "XOR", y_xor, 0.1, s);
    if (!quiet) {
      fmt::print("\nOne neuron draws one straight line; XOR needs two. Add a hidden layer:\n\n");
    }

    auto m = mlp();
    if (!quiet) m.summary();
    const double mlp_acc = train_gate(m, "XOR", y_xor, 0.02, s);

    const bool as_expected = and_acc == 1.0 && or_acc == 1.0 && xor_acc <= 0.75 && mlp_acc == 1.0;
    fmt::print("{}\n", as_expected ? "As in the course: the perceptron learns AND and OR, "
                                     "fails on XOR; the MLP solves XOR."
                                   : "UNEXPECTED: see the accuracies above.");
    return as_expected ? 0 : 1;
  });
}
