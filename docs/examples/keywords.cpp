// Keyword spelling: Keras's keyword arguments, in any order.
#include <plexus.hpp>

namespace px = plexus;
namespace kw = px::kw;

int main() {
  px::utils::set_random_seed(8);
  px::Tensor x = xt::random::rand<float>({200, 8});
  px::Tensor y = xt::cast<float>(xt::sum(x, {1}, xt::keep_dims) > 4.0f);

  // Keras (course notes): Dense(12, input_dim=8, activation='relu')
  px::Sequential model({px::layers::Dense(12, kw::input_dim = 8, kw::activation = "relu"),
                        px::layers::Dense(8, kw::activation = "relu"),
                        px::layers::Dense(1, kw::activation = "sigmoid")});
  // Keras: model.compile(loss='binary_crossentropy', optimizer=Adam(1e-2), metrics=['accuracy'])
  model.compile(kw::loss = "binary_crossentropy", kw::optimizer = px::optimizers::Adam(1e-2),
                kw::metrics = {"accuracy"});
  // Keras (course notes): model.fit(X, Y, epochs=1500, batch_size=64)  — fewer epochs here
  model.fit(x, y, kw::epochs = 20, kw::batch_size = 64, kw::verbose = 0);
  // Keras (guides): model.fit(x, y, batch_size=64, epochs=2, validation_split=0.2)
  px::History h = model.fit(x, y, kw::batch_size = 64, kw::epochs = 2, kw::validation_split = 0.2,
                            kw::verbose = 0);
  // The option structs stay valid (fields in declaration order).
  model.fit(x, y, {.epochs = 1, .batch_size = 64, .verbose = 0});
  // Callbacks, evaluate and predict spell their keywords the same way.
  px::callbacks::EarlyStopping es(kw::monitor = "val_loss", kw::patience = 3);
  model.fit(x, y, kw::epochs = 5, kw::validation_split = 0.2, kw::callbacks = {es},
            kw::verbose = 0);
  auto scores = model.evaluate(x, y, kw::batch_size = 100, kw::verbose = 0);
  // Keras's positional parameters are keywords too:
  // Conv1D(filters=4, kernel_size=3, padding="same"), Dense(units=1).
  px::Sequential conv(
      {px::Input({16, 2}),
       px::layers::Conv1D(kw::filters = 4, kw::kernel_size = 3, kw::padding = "same"),
       px::layers::GlobalAveragePooling1D(), px::layers::Dense(kw::units = 1)});
  // A variable named like a keyword does not get in the way: kw::loss is the keyword.
  std::string loss = "mse";
  conv.compile(kw::optimizer = px::optimizers::RMSprop(1e-3), kw::loss = loss);
  px::Tensor p = model.predict(x, kw::verbose = 0);
  px::Tensor q = conv.predict(xt::ones<float>({3, 16, 2}), kw::verbose = 0);
  return h.history.count("val_loss") && scores.size() == 2 && p.shape()[0] == 200 &&
                 q.shape()[0] == 3 && q.shape()[1] == 1
             ? 0
             : 1;
}
