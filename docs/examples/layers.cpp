// Layers: each factory takes its option struct (fields in declaration order) or keywords.
#include <plexus.hpp>

namespace px = plexus;
namespace kw = px::kw;

int main() {
  // Dense: the struct form and the keyword form build the same layer.
  auto a = px::layers::Dense(
      12,
      {.activation = "relu", .use_bias = true, .kernel_initializer = "he_uniform", .name = "a"});
  auto b = px::layers::Dense(12, kw::kernel_initializer = "he_uniform", kw::activation = "relu",
                             kw::name = "b");
  auto x = px::Input({8});
  auto h = b(a(px::layers::Dropout(0.1f)(x)));
  h = px::layers::Activation("tanh")(h);
  h = px::layers::Reshape({3, 4})(h);
  h = px::layers::Flatten()(h);
  auto sq = px::layers::Lambda([](const px::SymbolicTensor& t) { return px::ops::square(t); });
  auto merged = px::layers::Add()({h, sq(h)});
  auto joined = px::layers::Concatenate(-1, {.name = "joined"})({merged, h});
  px::Model model(x, px::layers::Dense(1)(joined), "layers_tour");
  model.summary();

  // Normalization learns mean and variance from data (non-trainable weights).
  auto norm = px::layers::Normalization();
  norm->adapt(px::Tensor{{0.f, 7.f}, {2.f, 9.f}});
  auto xi = px::Input({2});
  px::Model scaler(xi, norm(xi));
  px::Tensor z = scaler.predict(px::Tensor{{0.f, 7.f}});
  std::cout << "normalized: " << z << "\n";  // -1, -1
  return std::abs(z(0, 0) + 1.0f) < 1e-5f && model.count_params() > 0 ? 0 : 1;
}
