// Stateful recurrent layers (layers/recurrent.hpp, stateful = true): the final states of a
// call are kept in state variables ([batch, units]) and the next call of predict, evaluate,
// fit, train_on_batch or an eager call starts from them, so a sequence predicted in two
// halves equals the whole sequence through a non-stateful layer with the same weights;
// reset_states(); states are per-sample rows across fit's batches; the static batch size
// (px::Input's batch_size, Keras's batch_shape) and its errors; configs and saving (Keras 3
// does not save the states); the Keras 2 file with a stateful GRU given initial states.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>
#include <xtensor/xview.hpp>

#include "core/json.hpp"
#include "graph_helpers.hpp"
#include "layers/bidirectional.hpp"
#include "layers/core.hpp"
#include "layers/recurrent.hpp"
#include "optim/model.hpp"
#include "optim/optimizers.hpp"
#include "optim/saving/saving.hpp"

namespace px = plexus;
namespace L = plexus::layers;
namespace fs = std::filesystem;
using px::Dim;
using px::Tensor;
using px::test::error_message;
using px::test::max_abs_diff;
using px::test::random_tensor;

namespace {

using px::test::contains;

// Timesteps [begin, end) of a [N, T, F] tensor.
Tensor steps(const Tensor& x, std::size_t begin, std::size_t end) {
  return xt::eval(xt::view(x, xt::all(), xt::range(begin, end), xt::all()));
}

// a and b ([N, T, F] each) joined along axis 0 (samples) or 1 (timesteps).
Tensor join(const Tensor& a, const Tensor& b, std::size_t axis) {
  px::Shape shape = px::shape_of(a);
  shape[axis] += px::shape_of(b)[axis];
  Tensor out;
  px::resize_to(out, shape);
  const std::size_t na = a.shape()[axis];
  if (axis == 0) {
    xt::view(out, xt::range(0, na), xt::all(), xt::all()) = a;
    xt::view(out, xt::range(na, shape[0]), xt::all(), xt::all()) = b;
  } else {
    xt::view(out, xt::all(), xt::range(0, na), xt::all()) = a;
    xt::view(out, xt::all(), xt::range(na, shape[1]), xt::all()) = b;
  }
  return out;
}

// A recurrent layer of the given cell, with options common to the three.
px::LayerHandle<L::RecurrentLayer> make_rnn(const std::string& cell, Dim units, bool stateful,
                                            bool return_sequences = false) {
  if (cell == "lstm")
    return L::LSTM(units, {.return_sequences = return_sequences, .stateful = stateful});
  if (cell == "gru")
    return L::GRU(units, {.return_sequences = return_sequences, .stateful = stateful});
  return L::SimpleRNN(units, {.return_sequences = return_sequences, .stateful = stateful});
}

constexpr Dim kBatch = 2, kSteps = 6, kFeatures = 3, kUnits = 4;

// A non-stateful model on whole sequences and a stateful one on halves (static batch size
// kBatch), sharing weights.
struct Pair {
  px::Model whole, halves;
  std::shared_ptr<L::RecurrentLayer> rnn;  // the stateful layer
};

Pair make_pair(const std::string& cell, bool return_sequences = false) {
  px::utils::clear_session();
  auto w_in = px::Input({-1, kFeatures});  // any number of timesteps
  auto w_rnn = make_rnn(cell, kUnits, false, return_sequences);
  px::Model whole(w_in, w_rnn(w_in));
  auto h_in = px::Input({kSteps / 2, kFeatures}, {.batch_size = kBatch});
  auto h_rnn = make_rnn(cell, kUnits, true, return_sequences);
  px::Model halves(h_in, h_rnn(h_in));
  halves.set_weights(whole.get_weights());
  return {whole, halves, h_rnn.get()};
}

class StatefulCells : public ::testing::TestWithParam<std::string> {};

TEST_P(StatefulCells, TwoHalvesEqualTheWholeSequence) {
  Pair p = make_pair(GetParam());
  const Tensor x = random_tensor({kBatch, kSteps, kFeatures}, 7);
  const Tensor first = p.halves.predict(steps(x, 0, kSteps / 2), {.batch_size = kBatch});
  EXPECT_LT(max_abs_diff(first, p.whole.predict(steps(x, 0, kSteps / 2))), 1e-6);
  // The states are the last call's final states, one row per sample.
  ASSERT_EQ(p.rnn->states().size(), GetParam() == "lstm" ? 2u : 1u);
  EXPECT_EQ(p.rnn->states()[0].shape(), (px::Shape{kBatch, kUnits}));
  EXPECT_LT(max_abs_diff(p.rnn->states()[0].value(), first), 1e-6);
  const Tensor second = p.halves.predict(steps(x, kSteps / 2, kSteps), {.batch_size = kBatch});
  EXPECT_LT(max_abs_diff(second, p.whole.predict(x)), 1e-5);
  // ... which differs from the second half alone (from zeros): the state was carried.
  EXPECT_GT(max_abs_diff(second, p.whole.predict(steps(x, kSteps / 2, kSteps))), 1e-3);
}

TEST_P(StatefulCells, ResetStatesStartsFromZeros) {
  Pair p = make_pair(GetParam(), /*return_sequences=*/true);
  const Tensor x = random_tensor({kBatch, kSteps, kFeatures}, 8);
  const Tensor a = steps(x, 0, kSteps / 2), b = steps(x, kSteps / 2, kSteps);
  p.halves.predict(a, {.batch_size = kBatch});
  p.rnn->reset_states();
  for (const auto& s : p.rnn->states()) EXPECT_EQ(xt::amax(xt::abs(s.value()))(), 0.0f);
  EXPECT_LT(max_abs_diff(p.halves.predict(b, {.batch_size = kBatch}), p.whole.predict(b)), 1e-6);
  p.rnn->reset_state();  // Keras 3's name
  EXPECT_LT(max_abs_diff(p.halves.predict(a, {.batch_size = kBatch}), p.whole.predict(a)), 1e-6);
}

TEST_P(StatefulCells, EvaluateAndEagerCallsCarryTheStatesToo) {
  Pair p = make_pair(GetParam());
  const Tensor x = random_tensor({kBatch, kSteps, kFeatures}, 9);
  const Tensor a = steps(x, 0, kSteps / 2), b = steps(x, kSteps / 2, kSteps);
  p.halves.compile({.optimizer = "sgd", .loss = "mse"});
  p.halves.evaluate(a, Tensor(xt::zeros<float>({kBatch, kUnits})),
                    {.batch_size = kBatch, .verbose = 0});
  EXPECT_LT(max_abs_diff(p.halves.predict(b, {.batch_size = kBatch}), p.whole.predict(x)), 1e-5);
  p.rnn->reset_states();
  p.halves(a);  // Keras's model(x): an eager call writes the states as well
  EXPECT_LT(max_abs_diff(p.halves(b), p.whole.predict(x)), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(AllCells, StatefulCells, ::testing::Values("simple_rnn", "lstm", "gru"));

// fit(shuffle = false) with batches [a0, a1], [b0, b1] where b_i continues a_i: with a zero
// learning rate the states after the epoch are those of the whole sequences, row by row.
TEST(Stateful, FitCarriesStatesBetweenBatchesPerSample) {
  Pair p = make_pair("lstm");
  const Tensor x = random_tensor({kBatch, kSteps, kFeatures}, 10);
  const Tensor a = steps(x, 0, kSteps / 2), b = steps(x, kSteps / 2, kSteps);
  const Tensor data = join(a, b, 0);  // [a0, a1, b0, b1]
  const Tensor y = xt::zeros<float>({2 * kBatch, kUnits});
  p.halves.compile({.optimizer = px::optim::SGD({.learning_rate = 0.0}), .loss = "mse"});
  p.halves.fit(data, y, {.epochs = 1, .batch_size = kBatch, .shuffle = false, .verbose = 0});
  const Tensor whole = p.whole.predict(x);  // LSTM: the output is the final h
  EXPECT_LT(max_abs_diff(p.rnn->states()[0].value(), whole), 1e-5);
  // Rows are samples: swapping the samples of the second batch mixes the rows up.
  p.rnn->reset_states();
  Tensor swapped = data;  // [a0, a1, b1, b0]
  for (Dim t = 0; t < kSteps / 2; ++t) {
    for (Dim f = 0; f < kFeatures; ++f) std::swap(swapped(2, t, f), swapped(3, t, f));
  }
  p.halves.fit(swapped, y, {.epochs = 1, .batch_size = kBatch, .shuffle = false, .verbose = 0});
  EXPECT_GT(max_abs_diff(p.rnn->states()[0].value(), whole), 1e-3);
  // A real step trains from the carried states and keeps them finite.
  p.halves.compile({.optimizer = "adam", .loss = "mse"});
  p.rnn->reset_states();
  p.halves.fit(data, y, {.epochs = 2, .batch_size = kBatch, .shuffle = false, .verbose = 0});
  for (float v : p.rnn->states()[1].value()) EXPECT_TRUE(std::isfinite(v));
  // train_on_batch writes the states back too.
  p.rnn->reset_states();
  p.halves.train_on_batch(a, Tensor(xt::zeros<float>({kBatch, kUnits})));
  EXPECT_GT(xt::amax(xt::abs(p.rnn->states()[0].value()))(), 0.0f);
}

TEST(Stateful, StaticBatchSizeIsRequiredAndChecked) {
  px::utils::clear_session();
  const std::string dynamic = error_message([] {
    auto in = px::Input({3, 2});
    L::LSTM(4, {.stateful = true, .name = "stateful_lstm"})(in);
  });
  EXPECT_TRUE(contains(dynamic, "stateful_lstm")) << dynamic;
  EXPECT_TRUE(contains(dynamic, "batch size must be static")) << dynamic;
  EXPECT_TRUE(contains(dynamic, "batch_size")) << dynamic;
  // predict / fit batches must have the states' batch size.
  auto in = px::Input({3, 2}, {.batch_size = 4});
  px::Model m(in, L::GRU(2, {.stateful = true, .name = "g"})(in));
  const std::string odd = error_message([&] {
    m.predict(random_tensor({6, 3, 2}, 1), {.batch_size = 4});
  });
  EXPECT_TRUE(contains(odd, "\"g\"")) << odd;
  EXPECT_TRUE(contains(odd, "batch of 4")) << odd;
  m.compile({.optimizer = "sgd", .loss = "mse"});
  const std::string fit = error_message([&] {
    m.fit(random_tensor({4, 3, 2}, 2), random_tensor({4, 2}, 3),
          {.batch_size = 2, .shuffle = false, .verbose = 0});
  });
  EXPECT_TRUE(contains(fit, "\"g\"")) << fit;
  EXPECT_NO_THROW(m.predict(random_tensor({8, 3, 2}, 4), {.batch_size = 4}));
  // Input and InputLayer take a static batch size; a bad one is refused.
  EXPECT_THROW(px::Input({3}, {.batch_size = 0}), px::Error);
  EXPECT_EQ(L::InputLayer({3}, {.batch_size = 5})->batch_size(), 5);
  // Bidirectional of a stateful layer is refused by name.
  const std::string bidi =
      error_message([] { L::Bidirectional(L::LSTM(2, {.stateful = true, .name = "inner"})); });
  EXPECT_TRUE(contains(bidi, "stateful")) << bidi;
}

TEST(Stateful, ConfigKeepsStatefulAndTheBatchShape) {
  Pair p = make_pair("gru");
  const px::Config c = px::saving::model_config(p.halves);
  const std::string json = c.dump();
  EXPECT_TRUE(contains(json, "\"stateful\":true")) << json;
  EXPECT_TRUE(contains(json, "\"batch_shape\":[2,3,3]")) << json;
  px::Model again = px::saving::model_from_json(px::saving::to_json(p.halves));
  EXPECT_EQ(px::saving::model_config(again), c);
  // The rebuilt model is stateful with the same batch size.
  again.set_weights(p.halves.get_weights());
  const Tensor x = random_tensor({kBatch, kSteps, kFeatures}, 11);
  again.predict(steps(x, 0, kSteps / 2), {.batch_size = kBatch});
  EXPECT_LT(max_abs_diff(again.predict(steps(x, kSteps / 2, kSteps), {.batch_size = kBatch}),
                         p.whole.predict(x)),
            1e-5);
}

// Keras 2 Sequential files give the batch on the first layer (batch_input_shape).
TEST(Stateful, Keras2BatchInputShapeGivesTheStaticBatchSize) {
  px::utils::clear_session();
  px::Model m = px::saving::model_from_json(R"({"class_name": "Sequential", "config": {
      "name": "s", "layers": [{"class_name": "LSTM", "config": {"name": "l", "units": 2,
      "batch_input_shape": [3, 4, 1], "stateful": true}}]}})");
  auto* lstm = dynamic_cast<L::LSTMLayer*>(&m.get_layer("l"));
  ASSERT_NE(lstm, nullptr);
  ASSERT_EQ(lstm->states().size(), 2u);
  EXPECT_EQ(lstm->states()[0].shape(), (px::Shape{3, 2}));
  EXPECT_TRUE(contains(px::saving::model_config(m).dump(), "[3,4,1]"))
      << px::saving::model_config(m).dump();
}

// Keras 3 creates the states untracked: they are no weights and are not saved; a loaded
// model starts from zeros, with the weights and the config (stateful, batch_shape) kept.
TEST(Stateful, SavingKeepsTheWeightsNotTheStates) {
  Pair p = make_pair("lstm");
  EXPECT_EQ(p.halves.get_weights().size(), 3u);  // kernel, recurrent_kernel, bias
  EXPECT_EQ(p.rnn->count_params(), p.whole.count_params());
  const Tensor x = random_tensor({kBatch, kSteps, kFeatures}, 12);
  const Tensor a = steps(x, 0, kSteps / 2), b = steps(x, kSteps / 2, kSteps);
  p.halves.predict(a, {.batch_size = kBatch});
  const std::string path = (px::test::scratch_dir() / "stateful.keras").string();
  px::saving::save_model(p.halves, path);
  px::Model loaded = px::saving::load_model(path);
  EXPECT_LT(max_abs_diff(loaded.predict(b, {.batch_size = kBatch}), p.whole.predict(b)), 1e-6);
  EXPECT_LT(max_abs_diff(loaded.predict(a, {.batch_size = kBatch}), p.whole.predict(join(b, a, 1))),
            1e-5);
}

using px::test::keras_files;

// Keras 2.2.4: GRU(1, stateful, use_bias = False, linear, reset_after) on [1, 3, 1] with a
// second input as its initial state. As in Keras (2 and 3), given initial states are used
// on every call (so two predicts on the same inputs agree) and the final state is still
// written to the layer's state.
TEST(StatefulKerasFiles, StatefulGruWithInitialStateLoadsAndRuns) {
  const fs::path file = keras_files() / "frugally_deep" / "temp_stateful.h5";
  if (!fs::exists(file)) GTEST_SKIP() << "no " << file;
  px::Model m = px::saving::load_model(file.string());
  auto* gru = dynamic_cast<L::GRULayer*>(&m.get_layer("gru_1"));
  ASSERT_NE(gru, nullptr);
  EXPECT_TRUE(gru->spec().stateful);
  const auto ws = m.get_weights();
  ASSERT_EQ(ws.size(), 2u);  // kernel (1, 3), recurrent_kernel (1, 3): z, r, h
  Tensor x = xt::zeros<float>({1, 3, 1});
  x(0, 0, 0) = 1.0f;
  x(0, 2, 0) = -0.5f;
  Tensor h0 = xt::zeros<float>({1, 1});
  h0(0, 0) = 2.75f;
  // The step-by-step reference (Keras's GRUCell, reset_after, no bias).
  auto sigmoid = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  std::vector<double> want;
  double h = h0(0, 0);
  for (std::size_t t = 0; t < 3; ++t) {
    const double xt_ = x(0, t, 0);
    const double z = sigmoid(xt_ * ws[0](0, 0) + h * ws[1](0, 0));
    const double r = sigmoid(xt_ * ws[0](0, 1) + h * ws[1](0, 1));
    const double hh = xt_ * ws[0](0, 2) + r * (h * ws[1](0, 2));  // linear activation
    h = z * h + (1 - z) * hh;
    want.push_back(h);
  }
  for (int call = 0; call < 2; ++call) {
    const std::vector<Tensor> out = m.predict(std::vector<Tensor>{x, h0});
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(px::shape_of(out[0]), (px::Shape{1, 3, 1}));
    for (std::size_t t = 0; t < 3; ++t) EXPECT_NEAR(out[0](0, t, 0), want[t], 1e-5) << call;
    ASSERT_EQ(gru->states().size(), 1u);
    EXPECT_NEAR(gru->states()[0].value()(0, 0), want.back(), 1e-5);
  }
}

}  // namespace
