// Eager calls: layer(x) and model(x) on tensors, as Keras calls layers on arrays.
#include <cstdio>
#include <plexus.hpp>

namespace px = plexus;
namespace kw = px::kw;

int main() {
  px::utils::set_random_seed(3);
  // A layer called on a tensor builds on its first call and returns a tensor.
  auto dense = px::layers::Dense(4, kw::activation = "relu");
  px::Tensor x = xt::random::randn<float>({2, 3});
  px::Tensor h = dense(x);  // (2, 4); dense now has a kernel (3, 4) and a bias (4)
  std::cout << "dense(x) =\n" << h << "\n";

  // A model too. Several inputs: a list in input order or a map by Input name; several
  // outputs come back as a list in output order.
  auto title = px::Input({3}, "title"), body = px::Input({5}, "body");
  auto merged = px::layers::concatenate({title, body});
  auto priority = px::layers::Dense(1, kw::name = "priority")(merged);
  auto department =
      px::layers::Dense(4, kw::activation = "softmax", kw::name = "department")(merged);
  px::Model model({title, body}, {priority, department}, "tickets");
  px::Tensor t = xt::random::randn<float>({2, 3}), b = xt::random::randn<float>({2, 5});
  std::vector<px::Tensor> outs = model({{"title", t}, {"body", b}});
  std::printf("priority (%zu, %zu), department (%zu, %zu)\n", outs[0].shape()[0],
              outs[0].shape()[1], outs[1].shape()[0], outs[1].shape()[1]);

  // training = true, Keras's model(x, training=True): Dropout drops units.
  px::Sequential net(
      {px::Input({8}), px::layers::Dense(8), px::layers::Dropout(0.5), px::layers::Dense(1)});
  px::Tensor xs = xt::ones<float>({4, 8});
  px::Tensor first = net(xs), again = net(xs);  // inference: the same every time
  px::Tensor dropped = net(xs, kw::training = true);
  const bool deterministic = first == again, differs = !(first == dropped);
  std::printf("inference repeatable: %d, training differs: %d\n", deterministic, differs);
  return deterministic && differs && outs.size() == 2 && h.shape()[1] == 4 ? 0 : 1;
}
