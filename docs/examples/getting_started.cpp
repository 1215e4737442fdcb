// Getting started: a Sequential model on a small synthetic problem, trained and used.
#include <cstdio>
#include <plexus.hpp>

namespace px = plexus;
namespace kw = px::kw;

int main() {
  px::utils::set_random_seed(42);
  // Two features; the label is 1 when they have the same sign.
  px::Tensor x = xt::random::randn<float>({512, 2});
  px::Tensor y = xt::zeros<float>({512, 1});
  for (std::size_t i = 0; i < 512; ++i) y(i, 0) = x(i, 0) * x(i, 1) > 0 ? 1.0f : 0.0f;

  px::Sequential model({px::Input({2}), px::layers::Dense(16, kw::activation = "relu"),
                        px::layers::Dense(16, kw::activation = "relu"),
                        px::layers::Dense(1, kw::activation = "sigmoid")});
  model.summary();
  model.compile(kw::optimizer = "adam", kw::loss = "binary_crossentropy",
                kw::metrics = {"accuracy"});
  px::History hist = model.fit(x, y, kw::epochs = 100, kw::batch_size = 32,
                               kw::validation_split = 0.2, kw::verbose = 0);
  std::printf("final accuracy %.3f, val_accuracy %.3f\n", hist.history.at("accuracy").back(),
              hist.history.at("val_accuracy").back());

  std::vector<double> scores = model.evaluate(x, y, kw::verbose = 0);  // {loss, accuracy}
  px::Tensor probs = model.predict(px::Tensor{{1.0f, 1.0f}, {1.0f, -1.0f}});
  std::cout << "p(same sign) for (1, 1) and (1, -1):\n" << probs << "\n";
  return scores[1] > 0.85 && probs(0, 0) > 0.5 && probs(1, 0) < 0.5 ? 0 : 1;
}
