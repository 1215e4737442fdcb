// The Functional API: two inputs, a shared layer, two outputs, a nested model.
#include <cstdio>
#include <plexus.hpp>

namespace px = plexus;
namespace kw = px::kw;

int main() {
  px::utils::set_random_seed(1);
  auto title = px::Input({8}, "title");
  auto body = px::Input({8}, "body");
  auto shared =
      px::layers::Dense(16, kw::activation = "relu", kw::name = "shared");  // one set of weights
  auto merged = px::layers::concatenate({shared(title), shared(body)});
  auto priority = px::layers::Dense(1, kw::activation = "sigmoid", kw::name = "priority")(merged);
  auto department =
      px::layers::Dense(3, kw::activation = "softmax", kw::name = "department")(merged);
  px::Model model({title, body}, {priority, department}, "ticket_router");

  model.compile(kw::optimizer = "rmsprop",
                kw::loss = {{"priority", "binary_crossentropy"},
                            {"department", "sparse_categorical_crossentropy"}},
                kw::loss_weights = {{"priority", 1.0}, {"department", 0.5}},
                kw::metrics = {{"priority", {"accuracy"}}, {"department", {"accuracy"}}});
  model.summary();

  px::Tensor t = xt::random::rand<float>({64, 8}), b = xt::random::rand<float>({64, 8});
  px::Tensor p = xt::cast<float>(xt::sum(t, {1}) > 4.0f);
  px::Tensor d = xt::zeros<float>({64});
  for (std::size_t i = 0; i < 64; ++i) d(i) = static_cast<float>(i % 3);
  // Inputs and targets by name, as Keras's dicts.
  px::History h = model.fit({{"title", t}, {"body", b}}, {{"priority", p}, {"department", d}},
                            kw::epochs = 3, kw::batch_size = 16, kw::verbose = 0);
  std::printf("keys: ");
  for (auto& [k, v] : h.history) std::printf("%s ", k.c_str());
  std::printf("\n");

  // A model is a layer: call it on new inputs (weights shared, not copied).
  auto encoder = px::Model(title, shared(title), "encoder");
  auto again = encoder(px::Input({8}));
  std::printf("encoder output %s, %zu parameters\n", px::shape_str(again.shape()).c_str(),
              encoder.count_params());
  std::vector<px::Tensor> outs = model.predict({t, b});  // a list in, a list out
  return outs.size() == 2 && outs[1].shape()[1] == 3 && h.history.count("department_accuracy") ? 0
                                                                                               : 1;
}
