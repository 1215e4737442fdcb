// A separate project using an installed plexus: build a model, run it, print its size.
// Built both with CMake (plexus::plexus) and with a plain `g++ -I PREFIX/include`
// (run_consumer.cmake): both spellings of the umbrella header work either way.
#include <cstdio>
#include <plexus.hpp>
#include <plexus/plexus.hpp>

namespace px = plexus;

int main() {
  px::utils::set_random_seed(1);
  auto x = px::Input({4}, "x");
  auto y = px::layers::Dense(2, "softmax")(px::layers::Dense(8, "relu")(x));
  px::Model model(x, y, "consumer");
  // Keywords and the umbrella's xtensor headers work from the install tree, too.
  auto extra = px::layers::Dense(3, px::kw::activation = "relu", px::kw::name = "extra");
  if (extra->options().activation != "relu") return 1;
  px::Tensor batch = xt::ones<float>({3, 4});
  px::Tensor out = model.predict(batch);
  std::printf("params=%ld rows=%zu\n", static_cast<long>(model.count_params()), out.shape()[0]);
  return model.count_params() == 58 && out.shape()[0] == 3 ? 0 : 1;
}
