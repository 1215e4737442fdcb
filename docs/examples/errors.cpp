// Errors: every failure is a px::Error whose message says what and where.
#include <cstdio>
#include <limits>
#include <plexus.hpp>

namespace px = plexus;
namespace kw = px::kw;

int main() {
  auto x = px::Input({784}, "pixels");
  px::Model model(x, px::layers::Dense(10, kw::activation = "softmax")(x), "mnist_mlp");
  int caught = 0;
  auto report = [&](const char* what, auto&& f) {
    try {
      f();
    } catch (const px::Error& e) {
      std::printf("%s:\n  %s\n", what, e.what());
      ++caught;
    }
  };
  report("wrong input shape", [&] { model.predict(xt::zeros<float>({2, 783})); });
  report("misspelt optimizer", [&] { model.compile(kw::optimizer = "adma", kw::loss = "mse"); });
  report("class ids for a one-hot loss", [&] {
    model.compile(kw::optimizer = "adam", kw::loss = "categorical_crossentropy");
    model.fit(xt::zeros<float>({4, 784}), px::Tensor{0.f, 1.f, 2.f, 3.f}, kw::verbose = 0);
  });
  report("NaN in the data", [&] {
    px::Tensor bad = xt::zeros<float>({1, 784});
    bad(0, 3) = std::numeric_limits<float>::quiet_NaN();
    model.predict(bad);
  });
  report("reshape that cannot fit", [&] { px::utils::reshape(xt::zeros<float>({5, 7}), {-1, 3}); });
  return caught == 5 ? 0 : 1;
}
