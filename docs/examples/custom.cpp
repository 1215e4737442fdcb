// Custom layers, ops, losses, metrics and training loops.
#include <cstdio>
#include <plexus.hpp>

namespace px = plexus;
namespace kw = px::kw;
using ST = px::SymbolicTensor;

// A custom layer: weights in build(), px::ops in call(); the gradient comes from autodiff.
class Scale : public px::Layer {
 public:
  using px::Layer::Layer;
  void build(const px::Shape& input_shape) override {
    alpha_ = add_weight("alpha", {input_shape.back()}, "ones");
  }
  ST call(const ST& x) override { return px::ops::multiply(x, alpha_); }

 private:
  ST alpha_;
};

int main() {
  px::utils::set_random_seed(11);
  auto x = px::Input({4});
  auto h = px::make_layer<Scale>()(x);
  h = px::layers::Lambda([](const ST& t) { return px::ops::tanh(t) * t; })(h);  // ops compose
  px::Model model(x, px::layers::Dense(1)(h), "custom");

  // A loss and a metric as C++ callables on symbolic tensors.
  auto huber_ish = [](const ST& t, const ST& p) {
    return px::ops::mean(px::ops::log(px::ops::add(px::ops::square(t - p), 1.0f)), {-1});
  };
  auto worst = px::metrics::MetricFunction(
      "worst", [](const ST& t, const ST& p) { return px::ops::max(px::ops::abs(t - p), {-1}); });
  model.compile(kw::optimizer = "adam", kw::loss = huber_ish, kw::metrics = {"mae", worst});

  px::Tensor xs = xt::random::randn<float>({128, 4});
  px::Tensor ys = xt::sum(xs, {1}, xt::keep_dims);
  model.fit(xs, ys, kw::epochs = 5, kw::verbose = 0);

  // A custom training loop: gradients and updates by hand.
  px::optim::SGD sgd({.learning_rate = 0.01});
  double first = 0, last = 0;
  for (int step = 0; step < 50; ++step) {
    auto [loss, grads] = model.compute_gradients(xs, ys);
    sgd.apply_gradients(grads, model.trainable_weights());
    if (step == 0) first = loss;
    last = loss;
  }
  std::printf("custom loop: loss %.4f -> %.4f\n", first, last);
  // The gradients of the custom layer agree with finite differences.
  const double err = px::testing::check_gradients(model, {xs}, {ys});
  std::printf("max relative gradient error %.2e\n", err);
  return last < first && err < 1e-2 ? 0 : 1;
}
