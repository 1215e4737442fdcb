// Data-parallel training: the same program on 1 process (`./distributed`) or on N
// (`mpirun -np N ./distributed`); batch_size stays the global batch.
#include <cstdio>
#include <plexus.hpp>

namespace px = plexus;

int main(int argc, char** argv) {
  px::distribution::initialize(&argc, &argv);  // MPI_Init when plexus::distribution is linked
  px::distribution::set_distribution(px::distribution::DataParallel());
  const bool chief = px::distribution::is_chief();  // process 0 prints and writes files

  // Two noisy classes in 4 features; every process loads the same arrays.
  px::utils::set_random_seed(3);
  const std::size_t n = 600;
  px::Tensor x = px::Tensor::from_shape({n, std::size_t{4}});
  px::Tensor y = px::Tensor::from_shape({n});
  std::uint64_t state = 12345;
  auto uniform = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<float>(state >> 40) / static_cast<float>(1 << 24) * 2.0f - 1.0f;
  };
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < 4; ++j) x(i, j) = uniform();
    y(i) = x(i, 0) + x(i, 1) * x(i, 2) > 0 ? 1.0f : 0.0f;
  }

  px::Sequential model({
      px::layers::Dense(32, {.activation = "relu", .input_shape = {4}}),
      px::layers::Dense(1, "sigmoid"),
  });
  model.compile(px::optim::Adam({.learning_rate = 0.01}), "binary_crossentropy", {"accuracy"});
  // Each process computes its shard of every batch of 64; the gradients are all-reduced,
  // the logs are global, only process 0 prints the progress.
  px::History h =
      model.fit(x, y, {.epochs = 20, .batch_size = 64, .validation_split = 0.2, .verbose = 0});
  const std::vector<double> scores = model.evaluate(x, y, {.verbose = 0});  // sharded too
  const px::Tensor p = model.predict(x);  // sharded, gathered on every process
  if (chief) {
    std::printf("%d process(es): loss %.3f, accuracy %.3f, val_accuracy %.3f, p[0] = %.3f\n",
                px::distribution::num_processes(), scores[0], scores[1],
                h.history["val_accuracy"].back(), p(0, 0));
  }
  return scores[1] > 0.85 ? 0 : 1;
}
