// Keyword arguments in any order (core/keywords.hpp): the course notes' calls and the
// Keras guides' calls both compile and reach the options; the literal forms of
// validation_data, a map of inputs and Keras 3's Sequential([Input, ...]) work.
// The "does not compile" half is tests/compile_fail/*.cpp (CTest: compile_fail_*).
#include <gtest/gtest.h>

#include <plexus.hpp>

#include "core/json.hpp"

namespace px = plexus;
namespace kw = px::kw;

namespace {

// Records what fit() told its callbacks.
class ParamsProbe : public px::callbacks::Callback {
 public:
  void on_train_begin(const px::callbacks::Logs&) override { seen = params(); }
  px::callbacks::Params seen;
};

px::Tensor ramp(std::size_t n, std::size_t d) {
  px::Tensor t = xt::zeros<float>({n, d});
  for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<float>(i % 7) / 7.0f;
  return t;
}

}  // namespace

TEST(Keywords, DenseInTheCourseNotesOrder) {
  // Keras: Dense(12, input_dim=8, activation='relu')
  auto d = px::layers::Dense(12, kw::input_dim = 8, kw::activation = "relu");
  EXPECT_EQ(d->units(), 12);
  EXPECT_EQ(d->options().input_dim, 8);
  EXPECT_EQ(d->options().activation, "relu");
  // The other order, and every field.
  auto e = px::layers::Dense(3, kw::name = "head", kw::use_bias = false,
                             kw::kernel_initializer = "zeros", kw::input_shape = {5},
                             kw::activation = "softmax", kw::bias_initializer = "ones");
  EXPECT_EQ(e->name(), "head");
  EXPECT_FALSE(e->options().use_bias);
  EXPECT_EQ(e->options().kernel_initializer.class_name(), "Zeros");
  EXPECT_EQ(e->options().bias_initializer.class_name(), "Ones");
  EXPECT_EQ(e->options().input_shape, px::Shape{5});
  // The designated-initializer form stays valid.
  auto f = px::layers::Dense(4, {.activation = "tanh", .name = "f"});
  EXPECT_EQ(f->options().activation, "tanh");
}

TEST(Keywords, EveryLayerFactoryTakesKeywords) {
  EXPECT_EQ(px::layers::Activation("relu", kw::name = "act")->name(), "act");
  EXPECT_FLOAT_EQ(px::layers::Dropout(0.25f, kw::name = "drop")->rate(), 0.25f);
  EXPECT_EQ(px::layers::Flatten(kw::input_shape = {2, 3}, kw::name = "flat")->name(), "flat");
  EXPECT_EQ(px::layers::Reshape({-1}, kw::name = "rs")->name(), "rs");
  EXPECT_EQ(px::layers::InputLayer({3}, kw::name = "in")->name(), "in");
  EXPECT_EQ(px::layers::Add(kw::name = "sum")->name(), "sum");
  EXPECT_EQ(px::layers::Concatenate(1, kw::name = "cat")->axis(), 1);
  EXPECT_EQ(px::layers::Concatenate(kw::name = "cat2")->name(), "cat2");
  EXPECT_EQ(px::layers::Normalization(kw::axis = -1, kw::name = "norm")->name(), "norm");
}

TEST(Keywords, ImageLayersTakeKeywords) {
  namespace L = px::layers;
  // Keras: Conv2D(8, 3, strides=2, padding="same", activation="relu", kernel_regularizer="l2")
  auto c = L::Conv2D(8, 3, kw::strides = 2, kw::padding = "same", kw::activation = "relu",
                     kw::kernel_regularizer = "l2", kw::dilation_rate = {1, 1},
                     kw::bias_constraint = px::constraints::NonNeg(), kw::name = "c");
  EXPECT_EQ(c->options().strides.values, (std::vector<px::Dim>{2, 2}));
  EXPECT_EQ(c->options().padding, "same");
  EXPECT_EQ(c->options().activation, "relu");
  EXPECT_EQ(c->options().kernel_regularizer.class_name(), "L2");
  EXPECT_EQ(c->options().bias_constraint.class_name(), "NonNeg");
  EXPECT_EQ(c->name(), "c");
  auto t = L::Conv2DTranspose(4, 3, kw::strides = {2, 2}, kw::output_padding = 1,
                              kw::kernel_constraint = "non_neg");
  EXPECT_EQ(t->options().output_padding.values, (std::vector<px::Dim>{1, 1}));
  auto d = L::DepthwiseConv2D(3, kw::depth_multiplier = 2, kw::depthwise_regularizer = "l1");
  EXPECT_EQ(d->get_config()["depth_multiplier"], 2);
  EXPECT_EQ(d->get_config()["depthwise_regularizer"]["class_name"], "L1");
  auto s =
      L::SeparableConv2D(4, 3, kw::pointwise_initializer = "he_normal", kw::depth_multiplier = 2);
  EXPECT_EQ(s->get_config()["pointwise_initializer"]["class_name"], "HeNormal");
  auto p = L::MaxPooling2D(3, kw::strides = 1, kw::padding = "same");
  EXPECT_EQ(p->get_config()["strides"], px::Config::array({1, 1}));
  auto g = L::GlobalAveragePooling2D(kw::keepdims = true, kw::data_format = "channels_first");
  EXPECT_TRUE(g->get_config()["keepdims"].get<bool>());
  auto bn = L::BatchNormalization(kw::momentum = 0.9, kw::center = false, kw::scale = true);
  EXPECT_FALSE(bn->get_config()["center"].get<bool>());
  EXPECT_EQ(bn->get_config()["momentum"], 0.9);
  EXPECT_EQ(L::ReLU(kw::name = "r")->name(), "r");
}

TEST(Keywords, CompileFitEvaluatePredictInAnyOrder) {
  px::utils::set_random_seed(3);
  px::Sequential model({px::layers::Dense(12, kw::input_dim = 8, kw::activation = "relu"),
                        px::layers::Dense(1, kw::activation = "sigmoid")});
  model.compile(kw::metrics = {"accuracy"}, kw::loss = "binary_crossentropy",
                kw::optimizer = "adam");
  EXPECT_EQ(model.metrics_names(), (std::vector<std::string>{"loss", "accuracy"}));
  const px::Tensor x = ramp(100, 8);
  px::Tensor y = xt::zeros<float>({100, 1});
  for (std::size_t i = 0; i < 100; i += 2) y(i, 0) = 1.0f;

  // The course notes: fit(x, y, epochs=1500, batch_size=64) (fewer epochs here).
  ParamsProbe probe;
  auto h1 = model.fit(x, y, kw::epochs = 3, kw::batch_size = 64, kw::verbose = 0,
                      kw::callbacks = {probe});
  EXPECT_EQ(probe.seen.epochs, 3);
  EXPECT_EQ(probe.seen.steps, 2);  // ceil(100 / 64)
  EXPECT_EQ(h1.history.at("loss").size(), 3u);
  EXPECT_EQ(h1.history.count("val_loss"), 0u);

  // The Keras guides: fit(x, y, batch_size=64, epochs=2, validation_split=0.2).
  auto h2 = model.fit(x, y, kw::batch_size = 64, kw::epochs = 2, kw::validation_split = 0.2,
                      kw::callbacks = {probe}, kw::verbose = 0);
  EXPECT_EQ(probe.seen.steps, 2);  // 80 training samples
  EXPECT_EQ(h2.history.at("val_loss").size(), 2u);

  // Both through the designated-initializer form, too.
  auto h3 = model.fit(x, y, {.epochs = 2, .batch_size = 50, .verbose = 0, .callbacks = {probe}});
  EXPECT_EQ(probe.seen.steps, 2);
  EXPECT_EQ(h3.history.at("loss").size(), 2u);

  const auto scores = model.evaluate(x, y, kw::verbose = 0, kw::batch_size = 7);
  EXPECT_EQ(scores.size(), 2u);
  const px::Tensor p = model.predict(x, kw::verbose = 0, kw::batch_size = 16);
  EXPECT_EQ(p.shape()[0], 100u);
}

TEST(Keywords, ValidationDataAsABracedPair) {
  px::utils::set_random_seed(4);
  px::Sequential model({px::Input({8}), px::layers::Dense(1)});
  model.compile(kw::optimizer = "sgd", kw::loss = "mse");
  const px::Tensor x = ramp(40, 8), y = ramp(40, 1);
  const px::Tensor xv = ramp(10, 8), yv = ramp(10, 1);
  auto h1 = model.fit(x, y, {.epochs = 2, .validation_data = {xv, yv}, .verbose = 0});
  EXPECT_EQ(h1.history.at("val_loss").size(), 2u);
  auto h2 = model.fit(x, y, kw::validation_data = {xv, yv}, kw::epochs = 1, kw::verbose = 0);
  EXPECT_EQ(h2.history.at("val_loss").size(), 1u);
  // The validation loss is the model's loss on (xv, yv).
  EXPECT_NEAR(h2.history.at("val_loss")[0], model.evaluate(xv, yv, kw::verbose = 0)[0], 1e-5);
}

TEST(Keywords, InputsAsALiteralMap) {
  px::utils::set_random_seed(5);
  auto title = px::Input({4}, "title");
  auto body = px::Input({6}, "body");
  auto merged = px::layers::concatenate({title, body});
  auto out = px::layers::Dense(1, kw::name = "priority")(merged);
  px::Model model({title, body}, {out}, "two_inputs");
  model.compile(kw::optimizer = "adam", kw::loss = "mse");
  const px::Tensor t = ramp(20, 4), b = ramp(20, 6), y = ramp(20, 1);
  auto h = model.fit({{"title", t}, {"body", b}}, y, kw::epochs = 2, kw::verbose = 0);
  EXPECT_EQ(h.history.at("loss").size(), 2u);
  // The map by name gives the same predictions as the list in model order.
  const auto by_name = model.predict({{"body", b}, {"title", t}});
  const auto by_list = model.predict({t, b});
  EXPECT_EQ(by_name[0], by_list[0]);
  EXPECT_THROW(model.fit({{"title", t}, {"bdy", b}}, y, kw::verbose = 0), px::Error);
}

TEST(Keywords, SequentialStartingWithAnInput) {
  px::Sequential model(
      {px::Input({8}), px::layers::Dense(4, kw::activation = "relu"), px::layers::Dense(1)});
  EXPECT_EQ(model.count_params(), 8u * 4 + 4 + 4 + 1);
  EXPECT_EQ(model.inputs()[0].shape(), (px::Shape{-1, 8}));
  // Only an Input may stand in the list: another tensor is an error naming its layer.
  auto x = px::Input({3});
  auto h = px::layers::Dense(2, kw::name = "not_an_input")(x);
  try {
    px::Sequential bad({h});
    FAIL() << "expected px::Error";
  } catch (const px::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not_an_input"), std::string::npos) << e.what();
  }
}

TEST(Keywords, CallbacksTakeKeywords) {
  px::callbacks::EarlyStopping es(kw::patience = 3, kw::monitor = "val_loss",
                                  kw::restore_best_weights = true);
  EXPECT_EQ(es.options().patience, 3);
  EXPECT_EQ(es.options().monitor, "val_loss");
  EXPECT_TRUE(es.options().restore_best_weights);
  px::callbacks::EarlyStopping es2({.monitor = "loss", .patience = 2});
  EXPECT_EQ(es2.options().patience, 2);
  int ends = 0;
  px::callbacks::LambdaCallback lc(kw::on_epoch_end = [&](int, px::callbacks::Logs&) { ++ends; });
  px::callbacks::ReduceLROnPlateau rl(kw::factor = 0.5, kw::patience = 1, kw::monitor = "loss");
  px::Sequential model({px::Input({2}), px::layers::Dense(1)});
  model.compile(kw::optimizer = "sgd", kw::loss = "mse");
  const px::Tensor x = ramp(8, 2), y = ramp(8, 1);
  model.fit(x, y, kw::epochs = 3, kw::verbose = 0, kw::callbacks = {lc, rl});
  EXPECT_EQ(ends, 3);
}

TEST(Keywords, OneSpellingAcrossFunctions) {
  // kw::verbose and kw::batch_size are the same objects for fit, evaluate and predict;
  // kw::name for every layer; kw::monitor/kw::patience for every callback.
  auto fit = kw::make<px::FitOptions>(kw::verbose = 2, kw::batch_size = 8);
  auto ev = kw::make<px::EvaluateOptions>(kw::batch_size = 8, kw::verbose = 2);
  auto pr = kw::make<px::PredictOptions>(kw::verbose = 2, kw::batch_size = 8);
  EXPECT_EQ(fit.verbose, 2);
  EXPECT_EQ(ev.verbose, 2);
  EXPECT_EQ(pr.verbose, 2);
  EXPECT_EQ(fit.batch_size + ev.batch_size + pr.batch_size, 24);
  auto es = kw::make<px::callbacks::EarlyStoppingOptions>(kw::monitor = "loss", kw::patience = 1);
  auto rl =
      kw::make<px::callbacks::ReduceLROnPlateauOptions>(kw::patience = 1, kw::monitor = "loss");
  EXPECT_EQ(es.monitor, rl.monitor);
  // Unset fields keep the struct's defaults.
  EXPECT_EQ(fit.epochs, px::FitOptions{}.epochs);
  EXPECT_EQ(es.min_delta, px::callbacks::EarlyStoppingOptions{}.min_delta);
}

TEST(Keywords, OptimizersAndSchedulesTakeKeywords) {
  px::optim::Adam adam(kw::beta_1 = 0.8, kw::learning_rate = 0.01);
  EXPECT_DOUBLE_EQ(adam.learning_rate(), 0.01);
  px::optim::SGD sgd(
      kw::nesterov = true, kw::momentum = 0.9,
      kw::learning_rate = px::optimizers::schedules::ExponentialDecay(
          kw::initial_learning_rate = 0.1, kw::decay_steps = 10, kw::decay_rate = 0.5));
  EXPECT_DOUBLE_EQ(sgd.learning_rate(), 0.1);
  px::Sequential model({px::Input({2}), px::layers::Dense(1)});
  model.compile(kw::loss = "mse", kw::optimizer = px::optim::RMSprop(kw::learning_rate = 0.002));
  EXPECT_DOUBLE_EQ(model.optimizer().learning_rate(), 0.002);
}

TEST(Keywords, RecurrentFactoriesInKerasOrder) {
  // Keras: LSTM(32, return_sequences=True, dropout=0.1, go_backwards=True)
  auto l = px::layers::LSTM(32, kw::return_sequences = true, kw::dropout = 0.1,
                            kw::go_backwards = true, kw::name = "enc");
  EXPECT_EQ(l->units(), 32);
  EXPECT_TRUE(l->options().return_sequences);
  EXPECT_TRUE(l->options().go_backwards);
  EXPECT_DOUBLE_EQ(l->options().dropout, 0.1);
  EXPECT_EQ(l->name(), "enc");
  auto lb =
      px::layers::LSTM(4, kw::unit_forget_bias = false, kw::recurrent_activation = "hard_sigmoid",
                       kw::return_state = true, kw::use_bias = true);
  EXPECT_FALSE(lb->options().unit_forget_bias);
  EXPECT_EQ(lb->spec().recurrent_activation, "hard_sigmoid");
  EXPECT_TRUE(lb->options().return_state);
  // GRU(8, reset_after=False, activation='relu'), SimpleRNN(3, activation='relu', unroll=True)
  auto g = px::layers::GRU(8, kw::reset_after = false, kw::activation = "relu",
                           kw::zero_output_for_mask = true);
  EXPECT_FALSE(g->options().reset_after);
  EXPECT_EQ(g->options().activation, "relu");
  EXPECT_TRUE(g->options().zero_output_for_mask);
  auto s = px::layers::SimpleRNN(3, kw::unroll = true, kw::activation = "relu");
  EXPECT_TRUE(s->options().unroll);
  EXPECT_EQ(s->spec().activation, "relu");
  // The options once refused are taken through keywords too.
  EXPECT_TRUE(px::layers::LSTM(2, kw::stateful = true)->spec().stateful);
  EXPECT_EQ(px::layers::GRU(2, kw::recurrent_dropout = 0.5)->options().recurrent_dropout, 0.5);
  // The wrappers: Bidirectional(LSTM(4), merge_mode='sum'), TimeDistributed(Dense(2), name=...)
  auto b = px::layers::Bidirectional(px::layers::LSTM(4, kw::return_sequences = true),
                                     kw::merge_mode = "sum");
  EXPECT_EQ(b->merge_mode(), "sum");
  auto t = px::layers::TimeDistributed(px::layers::Dense(2), kw::name = "per_step");
  EXPECT_EQ(t->name(), "per_step");
  auto x = px::Input({-1, 5});
  EXPECT_EQ(t(b(x)).shape(), (px::Shape{-1, -1, 2}));
}
