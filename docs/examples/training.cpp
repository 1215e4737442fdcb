// Training: compile options, fit with validation data, evaluate, predict, schedules,
// and the lower-level train_on_batch / compute_gradients.
#include <cstdio>
#include <plexus.hpp>

namespace px = plexus;
namespace kw = px::kw;

int main() {
  px::utils::set_random_seed(3);
  px::Tensor x = xt::random::randn<float>({400, 4});
  px::Tensor y = xt::sum(x, {1}, xt::keep_dims) * 0.5f + 1.0f;  // a linear target
  auto split = px::utils::train_test_split(x, y, {.test_size = 0.25, .random_state = 0});

  auto lr = px::optimizers::schedules::ExponentialDecay(
      {.initial_learning_rate = 0.05, .decay_steps = 100, .decay_rate = 0.9});
  px::Sequential model(
      {px::Input({4}), px::layers::Dense(8, kw::activation = "relu"), px::layers::Dense(1)});
  model.compile(
      {.optimizer = px::optim::Adam({.learning_rate = lr}), .loss = "mse", .metrics = {"mae"}});
  px::History h = model.fit(split.x_train, split.y_train, kw::epochs = 30, kw::batch_size = 32,
                            kw::validation_data = {split.x_test, split.y_test}, kw::verbose = 2);
  std::vector<double> scores = model.evaluate(split.x_test, split.y_test, kw::verbose = 0);
  std::printf("test mse %.4f, mae %.4f (%zu epochs of val_loss)\n", scores[0], scores[1],
              h.history.at("val_loss").size());
  px::Tensor pred = model.predict(split.x_test, kw::batch_size = 64, kw::verbose = 1);

  // One step by hand: the loss and a gradient per trainable weight, then an update.
  auto [loss, grads] = model.compute_gradients(split.x_train, split.y_train);
  model.optimizer().apply_gradients(grads, model.trainable_weights());
  std::vector<double> batch = model.train_on_batch(split.x_train, split.y_train);
  std::printf("loss before the manual step %.4f, after a train_on_batch %.4f\n", loss, batch[0]);
  return scores[1] < 0.5 && pred.shape()[0] == split.x_test.shape()[0] ? 0 : 1;
}
