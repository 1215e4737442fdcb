// A custom train_step against the built-in fit step: the same MLP, the same loss (mean
// squared error), the same optimizer (Adam) and data, timed in the same run, alternating
// rounds; prints the median seconds per epoch of each and their ratio (the target:
// the custom step costs at most 1.1x the built-in one).
//
//   bench_train_step                      # 8192 rows, 784-256-256-10, batch 128
//   bench_train_step --rounds 1 --samples 1024                 # the CTest smoke run
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <plexus.hpp>

namespace px = plexus;

namespace {

px::Model make_mlp(std::size_t in, std::size_t hidden, std::size_t out) {
  auto x = px::Input({static_cast<px::Dim>(in)});
  auto h = px::layers::Dense(static_cast<px::Dim>(hidden), "relu")(x);
  h = px::layers::Dense(static_cast<px::Dim>(hidden), "relu")(h);
  return px::Model(x, px::layers::Dense(static_cast<px::Dim>(out))(h), "mlp");
}

// The built-in step's work, written as a Keras user writes a custom train_step.
class CustomMLP : public px::Model {
 public:
  explicit CustomMLP(px::Model net) : px::Model("custom_mlp"), net_(net) {
    track(net_);
    step_.emplace(px::value_and_grad(
        [this](const px::SymbolicTensors& in) -> px::SymbolicTensors {
          auto pred = net_(in[0]).single();
          return {px::ops::mean(px::ops::square(pred - in[1]))};
        },
        trainable_weights()));
    weights_ = trainable_weights();
  }
  px::Logs train_step(const px::StepData& data) override {
    feeds_.assign({&data.x[0], &data.y[0]});  // the loop's batch, not copies
    auto [values, grads] = step_->call(feeds_);
    optimizer().apply_gradients(grads, weights_);
    loss_.update_state(values[0].data()[0], static_cast<double>(data.x[0].shape()[0]));
    return {{"loss", loss_.result()}};
  }
  std::vector<px::metrics::Metric*> metrics() const override { return {&loss_}; }

 private:
  px::Model net_;
  std::optional<px::ValueAndGrad> step_;
  std::vector<px::Variable> weights_;
  std::vector<const px::Tensor*> feeds_;
  mutable px::metrics::Mean loss_{"loss"};
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t samples = 8192, hidden = 256;
  int rounds = 3, epochs = 1, batch_size = 128;
  std::optional<double> max_ratio;
  CLI::App cli{"A custom train_step against the built-in fit step (same model, loss, run)"};
  cli.add_option("--samples", samples, "Rows of synthetic data")->capture_default_str();
  cli.add_option("--hidden", hidden, "Units of each hidden layer")->capture_default_str();
  cli.add_option("--rounds", rounds, "Alternating timed rounds")->capture_default_str();
  cli.add_option("--epochs", epochs, "Epochs per round")->capture_default_str();
  cli.add_option("--batch-size", batch_size, "Batch size")->capture_default_str();
  cli.add_option("--max-ratio", max_ratio, "Exit 1 when custom / built-in is above this");
  CLI11_PARSE(cli, argc, argv);
  try {
    px::utils::set_random_seed(1);
    const std::size_t in = 784, out = 10;
    px::Tensor x = px::random::uniform({static_cast<px::Dim>(samples), static_cast<px::Dim>(in)});
    px::Tensor y = px::random::normal({static_cast<px::Dim>(samples), static_cast<px::Dim>(out)});

    px::Model builtin = make_mlp(in, hidden, out);
    CustomMLP custom(make_mlp(in, hidden, out));
    builtin.compile(px::kw::optimizer = "adam", px::kw::loss = "mse");
    custom.compile(px::kw::optimizer = "adam");
    // One untimed epoch each: the plans and buffers are made.
    builtin.fit(x, y, px::kw::epochs = 1, px::kw::batch_size = batch_size, px::kw::verbose = 0);
    custom.fit(x, y, px::kw::epochs = 1, px::kw::batch_size = batch_size, px::kw::verbose = 0);
    std::vector<double> tb, tc;
    double lb = 0, lc = 0;
    for (int r = 0; r < rounds; ++r) {
      auto t = std::chrono::steady_clock::now();
      auto hb = builtin.fit(x, y, px::kw::epochs = epochs, px::kw::batch_size = batch_size,
                            px::kw::verbose = 0);
      tb.push_back(seconds_since(t) / epochs);
      t = std::chrono::steady_clock::now();
      auto hc = custom.fit(x, y, px::kw::epochs = epochs, px::kw::batch_size = batch_size,
                           px::kw::verbose = 0);
      tc.push_back(seconds_since(t) / epochs);
      lb = hb.history.at("loss").back();
      lc = hc.history.at("loss").back();
    }
    std::sort(tb.begin(), tb.end());
    std::sort(tc.begin(), tc.end());
    const double mb = tb[tb.size() / 2], mc = tc[tc.size() / 2];
    const double ratio = mc / mb;
    fmt::print(
        "MLP {}-{}-{}-{}, {} rows, batch {}, Adam, mse; median of {} rounds\n"
        "built-in fit step: {:.3f} s/epoch (final loss {:.4f})\n"
        "custom train_step: {:.3f} s/epoch (final loss {:.4f})\n"
        "ratio custom / built-in: {:.3f}\n",
        in, hidden, hidden, out, samples, batch_size, rounds, mb, lb, mc, lc, ratio);
    if (max_ratio && ratio > *max_ratio) {
      fmt::print(stderr, "ratio {:.3f} is above --max-ratio {:.3f}\n", ratio, *max_ratio);
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_train_step: {}\n", e.what());
    return 2;
  }
}
