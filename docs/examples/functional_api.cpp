// The Functional API: two inputs, a shared layer, two outputs, a nested model.
#include <cstdio>
#include <plexus.hpp>

namespace px = plexus;
using namespace px::kw;

int main() {
  px::utils::set_random_seed(1);
  auto title = px::Input({8}, "title");
  auto body = px::Input({8}, "body");
  auto shared = px::layers::Dense(16, activation = "relu", name = "shared");  // one set of weights
  auto merged = px::layers::concatenate({shared(title), shared(body)});
  auto priority = px::layers::Dense(1, activation = "sigmoid", name = "priority")(merged);
  auto department = px::layers::Dense(3, activation = "softmax", name = "department")(merged);
  px::Model model({title, body}, {priority, department}, "ticket_router");

  model.compile(optimizer = "rmsprop",
                loss = {{"priority", "binary_crossentropy"},
                        {"department", "sparse_categorical_crossentropy"}},
                loss_weights = {{"priority", 1.0}, {"department", 0.5}},
                metrics = {{"priority", {"accuracy"}}, {"department", {"accuracy"}}});
  model.summary();

  px::Tensor t = xt::random::rand<float>({64, 8}), b = xt::random::rand<float>({64, 8});
  px::Tensor p = xt::cast<float>(xt::sum(t, {1}) > 4.0f);
  px::Tensor d = xt::zeros<float>({64});
  for (std::size_t i = 0; i < 64; ++i) d(i) = static_cast<float>(i % 3);
  // Inputs and targets by name, as Keras's dicts.
  px::History h = model.fit({{"title", t}, {"body", b}}, {{"priority", p}, {"department", d}},
                            epochs = 3, batch_size = 16, verbose = 0);
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
