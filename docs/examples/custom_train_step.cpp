// Keras's "Customizing what happens in fit()": a px::Model subclass overriding train_step
// and test_step, with its own loss trackers (the metrics property), compiled without a
// loss, trained by fit() with validation, callbacks and the progress bar. The step's
// losses come from px::value_and_grad (traced once, then run), and a custom layer draws
// random numbers with a SeedGenerator (Keras's VAE Sampling layer).
#include <cstdio>
#include <plexus.hpp>

namespace px = plexus;
namespace kw = px::kw;

// z = mean + exp(log_var / 2) * epsilon, epsilon ~ N(0, 1): a new draw at every step.
class Sampling : public px::Layer {
 public:
  std::string class_name() const override { return "Sampling"; }
  std::vector<px::SymbolicTensor> call_list(const std::vector<px::SymbolicTensor>& in) override {
    auto epsilon = px::random::normal(in[0], 0.0f, 1.0f, seed_generator_);
    return {in[0] + px::ops::exp(px::ops::multiply(in[1], 0.5f)) * epsilon};
  }

 private:
  px::random::SeedGenerator seed_generator_{1337};
};

class NoisyRegressor : public px::Model {
 public:
  explicit NoisyRegressor(px::Model net) : px::Model("noisy_regressor"), net_(net) {
    track(net_);  // Keras tracks attributes; C++ names what the model owns
    losses_.emplace(px::value_and_grad(
        [this](const px::SymbolicTensors& in) -> px::SymbolicTensors {
          auto pred = net_(in[0]).single();
          auto mse = px::ops::mean(px::ops::square(pred - in[1]));
          return {mse};  // the first value is the one differentiated
        },
        trainable_weights()));
  }

  px::Logs train_step(const px::StepData& data) override {
    auto [values, grads] = (*losses_)({data.x[0], data.y[0]});
    optimizer().apply_gradients(grads, trainable_weights());
    loss_tracker_.update_state(values[0].data()[0]);
    return {{"loss", loss_tracker_.result()}};
  }
  px::Logs test_step(const px::StepData& data) override {
    px::Tensor pred = net_.predict(data.x[0], kw::verbose = 0);
    double se = 0;
    for (std::size_t i = 0; i < pred.size(); ++i) {
      se += (pred.data()[i] - data.y[0].data()[i]) * (pred.data()[i] - data.y[0].data()[i]);
    }
    loss_tracker_.update_state(se / static_cast<double>(pred.size()));
    return {{"loss", loss_tracker_.result()}};
  }
  // Reset by fit() at the start of each epoch, and by evaluate().
  std::vector<px::metrics::Metric*> metrics() const override { return {&loss_tracker_}; }

 private:
  px::Model net_;
  std::optional<px::ValueAndGrad> losses_;
  mutable px::metrics::Mean loss_tracker_{"loss"};
};

int main() {
  px::utils::set_random_seed(1);
  // y = 2 x0 - x1 from noisy latent codes of x.
  constexpr std::size_t n = 512;
  px::Tensor x = px::random::uniform({n, 2}, -1.0f, 1.0f);
  px::Tensor y = px::Tensor::from_shape({n, 1});
  for (std::size_t i = 0; i < n; ++i) y(i, 0) = 2 * x(i, 0) - x(i, 1);

  auto inputs = px::Input({2});
  auto mean = px::layers::Dense(8)(inputs);
  auto log_var = px::layers::Dense(8)(inputs);
  px::SymbolicTensor z = px::make_layer<Sampling>()({mean, log_var});
  auto outputs = px::layers::Dense(1)(px::layers::Dense(16, kw::activation = "relu")(z));
  NoisyRegressor model(px::Model(inputs, outputs, "net"));

  model.compile(kw::optimizer = "adam");  // no loss: train_step computes it
  px::History h = model.fit(x, y, kw::epochs = 5, kw::batch_size = 32, kw::validation_split = 0.25,
                            kw::verbose = 2);
  const auto& loss = h.history.at("loss");
  std::printf("loss %.4f -> %.4f, val_loss %.4f\n", loss.front(), loss.back(),
              h.history.at("val_loss").back());
  if (!(loss.back() < loss.front())) return 1;
  return 0;
}
