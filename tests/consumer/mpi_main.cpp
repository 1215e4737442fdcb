// A separate project linking plexus::distribution from the install tree: initialize()
// starts MPI (one process when run without mpirun), and a data-parallel fit runs.
#include <cstdio>
#include <plexus.hpp>

namespace px = plexus;

int main(int argc, char** argv) {
  px::distribution::initialize(&argc, &argv);
  px::distribution::set_distribution(px::distribution::DataParallel());
  px::utils::set_random_seed(1);
  px::Sequential model({px::layers::Dense(1, {.input_shape = {2}})});
  model.compile("sgd", "mse");
  px::Tensor x = xt::ones<float>({8, 2}), y = xt::ones<float>({8, 1});
  const px::History h = model.fit(x, y, {.epochs = 2, .batch_size = 4, .verbose = 0});
  std::printf("processes=%d epochs=%zu\n", px::distribution::num_processes(),
              h.history.at("loss").size());
  return h.history.at("loss").size() == 2 ? 0 : 1;
}
