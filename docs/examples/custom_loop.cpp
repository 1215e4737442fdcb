// Keras's "Writing a training loop from scratch", without compile(): value_and_grad, then
// the optimizer's apply_gradients, on MNIST-shaped data (784 features, 10 classes).
#include <algorithm>
#include <cstdio>
#include <plexus.hpp>

namespace px = plexus;
namespace kw = px::kw;

int main() {
  px::utils::set_random_seed(7);
  // Synthetic digits: each class a noisy copy of its own 784-pixel pattern.
  constexpr std::size_t n = 1000, pixels = 784, classes = 10;
  px::Tensor patterns = xt::random::rand<float>({classes, pixels});
  px::Tensor x_train = 0.5f * xt::random::rand<float>({n, pixels});
  px::Tensor y_train = xt::zeros<float>({n});
  for (std::size_t i = 0; i < n; ++i) {
    y_train(i) = static_cast<float>(i % classes);
    xt::row(x_train, i) += 0.5f * xt::row(patterns, i % classes);
  }

  auto inputs = px::Input({784}, "digits");
  auto x1 = px::layers::Dense(64, kw::activation = "relu")(inputs);
  auto x2 = px::layers::Dense(64, kw::activation = "relu")(x1);
  auto outputs = px::layers::Dense(10, kw::name = "predictions")(x2);
  px::Model model(inputs, outputs);

  px::optim::Adam optimizer({.learning_rate = 1e-3});
  // Anything compile() takes as a loss: a name, a loss object, or a C++ callable.
  px::losses::SparseCategoricalCrossentropy loss_fn({.from_logits = true});
  px::metrics::SparseCategoricalAccuracy train_acc_metric;

  const std::size_t batch_size = 32;
  double first_loss = 0, last_loss = 0;
  for (int epoch = 0; epoch < 3; ++epoch) {
    train_acc_metric.reset_state();
    double epoch_loss = 0;
    for (std::size_t start = 0; start < n; start += batch_size) {
      // The last batch is partial (1000 = 31 * 32 + 8): copy_rows refuses rows past the end.
      const std::size_t count = std::min(batch_size, n - start);
      px::Tensor x_batch, y_batch;
      px::copy_rows(x_train, start, count, x_batch);
      px::copy_rows(y_train, start, count, y_batch);
      // Keras: with GradientTape() as tape: logits = model(x, training=True);
      //        loss = loss_fn(y, logits); grads = tape.gradient(loss, weights)
      auto [loss_value, grads] = px::value_and_grad(model, loss_fn, x_batch, y_batch);
      optimizer.apply_gradients(grads, model.trainable_weights());
      train_acc_metric.update_state(y_batch, model(x_batch));  // an eager call
      epoch_loss += loss_value * static_cast<double>(count) / n;
    }
    std::printf("epoch %d: loss %.4f, accuracy %.4f\n", epoch, epoch_loss,
                train_acc_metric.result());
    if (epoch == 0) first_loss = epoch_loss;
    last_loss = epoch_loss;
  }
  return last_loss < 0.5 * first_loss && train_acc_metric.result() > 0.9 ? 0 : 1;
}
