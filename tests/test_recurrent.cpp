// Sequence layers (layers/recurrent.hpp, layers/embedding.hpp, layers/masking.hpp): a table
// of configurations whose output shapes, parameter counts and weight layouts are Keras 3's
// (params: SimpleRNN u(f+u+1), LSTM 4u(f+u+1), GRU reset_after 3u(f+u+2)); forward values
// against the step-by-step reference (rnn_reference.hpp); Keras's masking semantics;
// end-to-end finite-difference checks through masked, variable-length batches; configs;
// the Keras files with LSTM/GRU; errors.
#pragma GCC diagnostic ignored "-Wuninitialized"
#ifndef __clang__  // a GCC-only warning
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>
#include <xtensor/xview.hpp>

#include "core/json.hpp"
#include "core/random.hpp"
#include "graph_helpers.hpp"
#include "layers/bidirectional.hpp"
#include "layers/core.hpp"
#include "layers/embedding.hpp"
#include "layers/masking.hpp"
#include "layers/recurrent.hpp"
#include "layers/registry.hpp"
#include "optim/model.hpp"
#include "optim/saving/saving.hpp"
#include "rnn_reference.hpp"

namespace px = plexus;
namespace L = plexus::layers;
namespace fs = std::filesystem;
using px::Config;
using px::Dim;
using px::Shape;
using px::Tensor;
using px::test::error_message;
using px::test::random_tensor;

namespace {

using px::test::contains;

struct SeqCase {
  std::string label;
  std::function<px::LayerRef()> make;
  Shape input;  // without the batch
  Shape expected_output;
  std::vector<Shape> weight_shapes;
  std::vector<std::string> weight_paths;
  std::size_t expected_params;
};
std::ostream& operator<<(std::ostream& os, const SeqCase& c) { return os << c.label; }

class SeqLayerTable : public ::testing::TestWithParam<SeqCase> {};

TEST_P(SeqLayerTable, ShapesParamsAndLayouts) {
  const SeqCase& c = GetParam();
  px::utils::clear_session();
  px::LayerRef layer = c.make();
  auto in = px::Input(c.input);
  px::SymbolicTensor out = layer(in);
  EXPECT_EQ(out.shape(), c.expected_output) << px::shape_str(out.shape());
  EXPECT_EQ(layer->count_params(), c.expected_params);
  const auto ws = layer->weights();
  ASSERT_EQ(ws.size(), c.weight_shapes.size());
  for (std::size_t i = 0; i < ws.size(); ++i) {
    EXPECT_EQ(ws[i].shape(), c.weight_shapes[i]) << ws[i].path();
    EXPECT_EQ(ws[i].path(), c.weight_paths[i]);
  }
  Shape full{-1};
  full.insert(full.end(), c.input.begin(), c.input.end());
  EXPECT_EQ(layer->compute_output_shape(full), c.expected_output);
  // A run on a concrete batch (unknown timesteps take 5).
  Shape s = full;
  s[0] = 2;
  for (Dim& d : s) d = d < 0 ? 5 : d;
  px::Model model(in, out);
  Tensor x = random_tensor(s, 3, 0.0f, 1.0f);
  if (c.label.rfind("embedding", 0) == 0) {
    for (float& v : x) v = std::floor(v * 9.0f);
  }
  const Tensor y = model.predict(x);
  Shape want = c.expected_output;
  want[0] = 2;
  for (std::size_t d = 1; d < want.size(); ++d) want[d] = want[d] < 0 ? 5 : want[d];
  EXPECT_EQ(px::shape_of(y), want);
}

std::vector<SeqCase> seq_cases() {
  return {
      {"simple_rnn_last",
       [] { return L::SimpleRNN(4); },
       {5, 3},
       {-1, 4},
       {{3, 4}, {4, 4}, {4}},
       {"simple_rnn/simple_rnn_cell/kernel", "simple_rnn/simple_rnn_cell/recurrent_kernel",
        "simple_rnn/simple_rnn_cell/bias"},
       32},
      {"simple_rnn_sequences_any_length",
       [] { return L::SimpleRNN(4, {.return_sequences = true}); },
       {-1, 3},
       {-1, -1, 4},
       {{3, 4}, {4, 4}, {4}},
       {"simple_rnn/simple_rnn_cell/kernel", "simple_rnn/simple_rnn_cell/recurrent_kernel",
        "simple_rnn/simple_rnn_cell/bias"},
       32},
      {"lstm_64_on_16_features",
       [] { return L::LSTM(64); },
       {50, 16},
       {-1, 64},
       {{16, 256}, {64, 256}, {256}},
       {"lstm/lstm_cell/kernel", "lstm/lstm_cell/recurrent_kernel", "lstm/lstm_cell/bias"},
       20736},
      {"lstm_sequences",
       [] { return L::LSTM(8, {.return_sequences = true}); },
       {10, 5},
       {-1, 10, 8},
       {{5, 32}, {8, 32}, {32}},
       {"lstm/lstm_cell/kernel", "lstm/lstm_cell/recurrent_kernel", "lstm/lstm_cell/bias"},
       448},
      {"lstm_no_bias_backwards",
       [] { return L::LSTM(3, {.use_bias = false, .go_backwards = true}); },
       {4, 2},
       {-1, 3},
       {{2, 12}, {3, 12}},
       {"lstm/lstm_cell/kernel", "lstm/lstm_cell/recurrent_kernel"},
       60},
      {"gru_last",
       [] { return L::GRU(3); },
       {4, 2},
       {-1, 3},
       {{2, 9}, {3, 9}, {2, 9}},
       {"gru/gru_cell/kernel", "gru/gru_cell/recurrent_kernel", "gru/gru_cell/bias"},
       63},
      {"gru_32_sequences_any_length",
       [] { return L::GRU(32, {.return_sequences = true}); },
       {-1, 16},
       {-1, -1, 32},
       {{16, 96}, {32, 96}, {2, 96}},
       {"gru/gru_cell/kernel", "gru/gru_cell/recurrent_kernel", "gru/gru_cell/bias"},
       4800},
      {"gru_reset_before_keras2",  // reset_after = false: one bias of 3 * units
       [] { return L::GRU(3, {.reset_after = false}); },
       {4, 2},
       {-1, 3},
       {{2, 9}, {3, 9}, {9}},
       {"gru/gru_cell/kernel", "gru/gru_cell/recurrent_kernel", "gru/gru_cell/bias"},
       54},
      {"gru_no_bias",
       [] { return L::GRU(4, {.use_bias = false}); },
       {3, 2},
       {-1, 4},
       {{2, 12}, {4, 12}},
       {"gru/gru_cell/kernel", "gru/gru_cell/recurrent_kernel"},
       72},
      {"embedding_100x8",
       [] { return L::Embedding(100, 8); },
       {10},
       {-1, 10, 8},
       {{100, 8}},
       {"embedding/embeddings"},
       800},
      {"embedding_mask_zero_any_length",
       [] { return L::Embedding(20, 3, {.mask_zero = true}); },
       {-1},
       {-1, -1, 3},
       {{20, 3}},
       {"embedding/embeddings"},
       60},
      {"masking", [] { return L::Masking(); }, {5, 3}, {-1, 5, 3}, {}, {}, 0},
  };
}

INSTANTIATE_TEST_SUITE_P(Keras, SeqLayerTable, ::testing::ValuesIn(seq_cases()),
                         [](const auto& info) { return info.param.label; });

// Initial values as Keras 3: orthogonal recurrent kernel, unit_forget_bias.
TEST(Recurrent, KerasInitialValues) {
  px::utils::clear_session();
  auto lstm = L::LSTM(4);
  lstm(px::Input({3, 2}));
  const Tensor& b = lstm->weights()[2].value();
  for (std::size_t j = 0; j < 16; ++j) EXPECT_EQ(b(j), j >= 4 && j < 8 ? 1.0f : 0.0f) << j;
  const Tensor& r = lstm->weights()[1].value();  // (4, 16): orthonormal rows
  for (std::size_t i = 0; i < 4; ++i) {
    for (std::size_t k = 0; k < 4; ++k) {
      double dot = 0;
      for (std::size_t j = 0; j < 16; ++j) dot += double(r(i, j)) * r(k, j);
      EXPECT_NEAR(dot, i == k ? 1.0 : 0.0, 1e-5);
    }
  }
  auto no_forget = L::LSTM(2, {.unit_forget_bias = false});
  no_forget(px::Input({3, 2}));
  for (float v : no_forget->weights()[2].value()) EXPECT_EQ(v, 0.0f);
}

// The layers compute what the step-by-step reference computes with their weights.
px::kernels::RecurrentConfig reference_config(const std::string& cell, bool seq, bool back,
                                              bool masked = false) {
  px::kernels::RecurrentConfig c;
  c.cell = cell;
  c.return_sequences = seq;
  c.go_backwards = back;
  c.masked = masked;
  return c;
}

std::vector<Tensor> reference_outputs(const px::kernels::RecurrentConfig& c,
                                      const std::vector<Tensor>& in, Dim n, Dim t, Dim u) {
  std::vector<Tensor> outs;
  const auto parts = rnn_ref::run(c, in);
  for (std::size_t k = 0; k < parts.size(); ++k) {
    Tensor o;
    px::resize_to(o, k == 0 && c.return_sequences ? Shape{n, t, u} : Shape{n, u});
    for (std::size_t i = 0; i < o.size(); ++i) o.data()[i] = static_cast<float>(parts[k][i]);
    outs.push_back(o);
  }
  return outs;
}

TEST(Recurrent, ForwardMatchesTheStepReferenceWithReturnState) {
  for (std::string cell : {"simple_rnn", "lstm", "gru"}) {
    for (bool seq : {false, true}) {
      for (bool back : {false, true}) {
        SCOPED_TRACE(cell + (seq ? " sequences" : " last") + (back ? " backwards" : ""));
        px::utils::clear_session();
        px::LayerRef layer;
        if (cell == "lstm") {
          layer = L::LSTM(3, {.return_sequences = seq, .return_state = true, .go_backwards = back});
        } else if (cell == "gru") {
          layer = L::GRU(3, {.return_sequences = seq, .return_state = true, .go_backwards = back});
        } else {
          layer = L::SimpleRNN(
              3, {.return_sequences = seq, .return_state = true, .go_backwards = back});
        }
        auto x = px::Input({-1, 2});
        auto outs = layer(std::vector<px::SymbolicTensor>{x});
        ASSERT_EQ(outs.size(), cell == "lstm" ? 3u : 2u);
        // Non-zero biases so that they are exercised.
        for (auto& w : layer->weights()) {
          if (w.name() == "bias") w.value() = random_tensor(w.shape(), 9, -0.5f, 0.5f);
        }
        px::Model model(std::vector<px::SymbolicTensor>{x},
                        std::vector<px::SymbolicTensor>(outs.begin(), outs.end()));
        const Tensor xs = random_tensor({2, 6, 2}, 4);
        const auto got = model.predict(std::vector<Tensor>{xs});
        std::vector<Tensor> in{xs};
        for (auto& w : layer->weights()) in.push_back(w.value());
        const auto want = reference_outputs(reference_config(cell, seq, back), in, 2, 6, 3);
        ASSERT_EQ(got.size(), want.size());
        for (std::size_t k = 0; k < got.size(); ++k) {
          EXPECT_LT(px::test::max_abs_diff(got[k], want[k]), 1e-5) << "output " << k;
        }
      }
    }
  }
}

TEST(Recurrent, InitialStatesAreInputs) {
  px::utils::clear_session();
  auto x = px::Input({4, 2});
  auto h0 = px::Input({3}), c0 = px::Input({3});
  auto lstm = L::LSTM(3);
  px::Model model(std::vector<px::SymbolicTensor>{x, h0, c0},
                  std::vector<px::SymbolicTensor>{lstm({x, h0, c0})});
  const Tensor xs = random_tensor({2, 4, 2}, 1), hs = random_tensor({2, 3}, 2),
               cs = random_tensor({2, 3}, 3);
  const Tensor got = model.predict(std::vector<Tensor>{xs, hs, cs})[0];
  auto c = reference_config("lstm", false, false);
  c.initial_state = true;
  std::vector<Tensor> in{xs};
  for (auto& w : lstm->weights()) in.push_back(w.value());
  in.push_back(hs);
  in.push_back(cs);
  EXPECT_LT(px::test::max_abs_diff(got, reference_outputs(c, in, 2, 4, 3)[0]), 1e-5);
  // Different states give a different output (the states are used).
  const Tensor zero =
      model.predict(std::vector<Tensor>{xs, Tensor(0.0f * hs), Tensor(0.0f * cs)})[0];
  EXPECT_GT(px::test::max_abs_diff(got, zero), 1e-3);
  EXPECT_TRUE(contains(error_message([&] {
                         lstm(std::vector<px::SymbolicTensor>{x, h0});
                       }),
                       "2 initial states"));
}

// Keras's masking: a right-padded sequence gives the output of the unpadded one.
TEST(Masking, PaddedStepsAreSkipped) {
  for (std::string cell : {"simple_rnn", "lstm", "gru"}) {
    SCOPED_TRACE(cell);
    px::utils::clear_session();
    auto make = [&]() -> px::LayerRef {
      if (cell == "lstm") return L::LSTM(4);
      if (cell == "gru") return L::GRU(4);
      return L::SimpleRNN(4);
    };
    px::LayerRef rnn = make();
    auto x = px::Input({-1, 3});
    px::Model masked(x, rnn(L::Masking()(x)));
    px::Model plain(x, rnn(x));
    Tensor padded = random_tensor({2, 6, 3}, 5);
    // Sample 0 has 4 real steps, sample 1 all 6; the padding is all-zero features.
    for (std::size_t t = 4; t < 6; ++t) {
      for (std::size_t f = 0; f < 3; ++f) padded(0, t, f) = 0.0f;
    }
    const Tensor got = masked.predict(padded);
    Tensor short_x = xt::view(padded, xt::range(0, 1), xt::range(0, 4), xt::all());
    const Tensor want0 = plain.predict(short_x);
    for (std::size_t j = 0; j < 4; ++j) EXPECT_NEAR(got(0, j), want0(0, j), 1e-6);
    const Tensor full = plain.predict(padded);
    for (std::size_t j = 0; j < 4; ++j) EXPECT_NEAR(got(1, j), full(1, j), 1e-6);
    // Without the mask the padding changes sample 0's output.
    double diff = 0;
    for (std::size_t j = 0; j < 4; ++j)
      diff = std::max(diff, double(std::abs(full(0, j) - want0(0, j))));
    EXPECT_GT(diff, 1e-4);
  }
}

TEST(Masking, EmbeddingMaskZeroReachesTheRnnAndReturnSequencesPassesItOn) {
  px::utils::clear_session();
  auto ids = px::Input({-1});
  auto e = L::Embedding(10, 3, {.mask_zero = true})(ids);
  EXPECT_TRUE(px::masking::mask_of(e).defined());
  auto s = L::GRU(4, {.return_sequences = true})(e);
  EXPECT_TRUE(px::masking::mask_of(s).defined());
  auto last = L::LSTM(2)(s);
  EXPECT_FALSE(px::masking::mask_of(last).defined());
  px::Model model(ids, last);
  Tensor a = {{3, 5, 2, 0, 0}}, b = {{3, 5, 2}};
  EXPECT_LT(px::test::max_abs_diff(model.predict(a), model.predict(b)), 1e-6);
  Tensor c = {{3, 5, 2, 7, 7}};
  EXPECT_GT(px::test::max_abs_diff(model.predict(a), model.predict(c)), 1e-5);
}

// d L / d (every weight) against central differences, for models whose inputs are not
// differentiable (token ids) or sit on a kink (masked steps).
double weight_gradient_error(const px::Model& model, const std::vector<Tensor>& xs) {
  auto weights = model.trainable_weights();
  px::test::GraphRunner runner(model, weights);
  auto cots = px::test::cotangents_for(model, xs[0].shape()[0], 77);
  for (std::size_t o = 0; o < cots.size(); ++o) {  // shaped like the outputs of this run
    Tensor y = runner.forward(xs)[o];
    cots[o] = random_tensor(px::shape_of(y), 78 + static_cast<unsigned>(o));
  }
  auto analytic = runner.gradients(xs, cots);
  double worst = 0;
  const float h = 1e-2f;
  for (std::size_t w = 0; w < weights.size(); ++w) {
    Tensor& value = weights[w].value();
    for (std::size_t i = 0; i < value.size(); ++i) {
      const double numeric =
          px::detail::central_difference(value, i, h, [&] { return runner.loss(xs, cots); });
      worst = std::max(worst, px::detail::gradient_error(analytic[w].data()[i], numeric));
    }
  }
  return worst;
}

// BPTT end to end: Embedding(mask_zero) -> LSTM(return_sequences) -> GRU -> Dense on a
// masked batch of variable length (run at two lengths), and SimpleRNN with return_state.
TEST(RecurrentGradients, MaskedVariableLengthStackMatchesFiniteDifferences) {
  px::utils::clear_session();
  auto ids = px::Input({-1});
  auto e = L::Embedding(6, 3, {.embeddings_initializer = "glorot_uniform", .mask_zero = true})(ids);
  auto s = L::LSTM(3, {.return_sequences = true})(e);
  auto g = L::GRU(2, {.go_backwards = true})(s);
  px::Model model(ids, L::Dense(1)(g));
  for (auto& w : model.weights()) {
    if (w.name() == "bias") w.value() = random_tensor(w.shape(), 11, -0.3f, 0.3f);
  }
  const Tensor a = {{1, 4, 2, 0, 0}, {5, 3, 0, 0, 0}, {2, 2, 1, 3, 4}};
  const Tensor b = {{1, 4, 0}, {5, 3, 2}};
  EXPECT_LT(weight_gradient_error(model, {a}), 2e-3);
  EXPECT_LT(weight_gradient_error(model, {b}), 2e-3);
}

TEST(RecurrentGradients, LayersAndInputsMatchFiniteDifferences) {
  for (std::string cell : {"simple_rnn", "lstm", "gru"}) {
    SCOPED_TRACE(cell);
    px::utils::clear_session();
    auto x = px::Input({4, 2});
    std::vector<px::SymbolicTensor> outs;
    if (cell == "lstm") {
      outs = L::LSTM(
          3, {.return_sequences = true, .return_state = true})(std::vector<px::SymbolicTensor>{x});
    } else if (cell == "gru") {
      outs = L::GRU(
          3, {.return_state = true, .go_backwards = true})(std::vector<px::SymbolicTensor>{x});
    } else {
      outs = L::SimpleRNN(
          3, {.return_sequences = true, .return_state = true})(std::vector<px::SymbolicTensor>{x});
    }
    px::Model model(std::vector<px::SymbolicTensor>{x}, outs);
    EXPECT_LT(px::test::gradient_error(model, {random_tensor({2, 4, 2}, 21)}), 2e-3);
  }
}

TEST(RecurrentGradients, ThroughMaskingLayer) {
  px::utils::clear_session();
  auto x = px::Input({-1, 2});
  px::Model model(x, L::LSTM(3)(L::Masking()(x)));
  Tensor xs = random_tensor({2, 5, 2}, 8);
  for (std::size_t f = 0; f < 2; ++f) xs(0, 3, f) = xs(0, 4, f) = xs(1, 0, f) = 0.0f;
  EXPECT_LT(weight_gradient_error(model, {xs}), 2e-3);
}

// Training reduces the loss (the VJP plugs into fit), with input dropout.
TEST(Recurrent, FitLearnsASequenceSum) {
  px::utils::clear_session();
  px::utils::set_random_seed(3);
  auto x = px::Input({8, 1});
  px::Model model(x, L::Dense(1)(L::GRU(8, {.dropout = 0.1})(x)));
  model.compile({.optimizer = "adam", .loss = "mse"});
  Tensor xs = random_tensor({256, 8, 1}, 1);
  Tensor ys = xt::sum(xs, {1});
  const double before = model.evaluate(xs, ys)[0];
  model.fit(xs, ys, {.epochs = 60, .batch_size = 32, .verbose = 0});
  const double after = model.evaluate(xs, ys)[0];
  EXPECT_LT(after, 0.1 * before) << before << " -> " << after;
}

// --- Bidirectional -----------------------------------------------------------------------

// The merged outputs are the forward layer's and the backward layer's (in time order).
TEST(Bidirectional, MergesForwardAndBackwardInTimeOrder) {
  for (std::string mode : {"concat", "sum", "mul", "ave"}) {
    for (bool seq : {false, true}) {
      SCOPED_TRACE(mode + (seq ? " sequences" : " last"));
      px::utils::clear_session();
      auto bi = L::Bidirectional(L::LSTM(3, {.return_sequences = seq}), {.merge_mode = mode});
      auto x = px::Input({5, 2});
      auto y = bi(x);
      EXPECT_EQ(y.shape(), seq ? Shape({-1, 5, mode == "concat" ? 6 : 3})
                               : Shape({-1, mode == "concat" ? 6 : 3}));
      EXPECT_EQ(bi->count_params(), 2u * 4 * 3 * (2 + 3 + 1));
      EXPECT_EQ(bi->weights()[0].path(), "bidirectional/forward_lstm/lstm_cell/kernel");
      EXPECT_EQ(bi->weights()[3].path(), "bidirectional/backward_lstm/lstm_cell/kernel");
      px::Model model(x, y);
      const Tensor xs = random_tensor({2, 5, 2}, 12);
      const Tensor got = model.predict(xs);
      auto run = [&](const std::shared_ptr<L::RecurrentLayer>& l, bool back) {
        std::vector<Tensor> in{xs};
        for (auto& w : l->weights()) in.push_back(w.value());
        return reference_outputs(reference_config("lstm", seq, back), in, 2, 5, 3)[0];
      };
      const Tensor f = run(bi->forward_layer(), false);
      const Tensor b = run(bi->backward_layer(), true);
      const std::size_t steps = seq ? 5 : 1;
      double worst = 0;
      for (std::size_t n = 0; n < 2; ++n) {
        for (std::size_t t = 0; t < steps; ++t) {
          for (std::size_t j = 0; j < 3; ++j) {
            const float fv = seq ? f(n, t, j) : f(n, j);
            const float bv = seq ? b(n, 4 - t, j) : b(n, j);  // back in time order
            auto at = [&](std::size_t k) { return seq ? got(n, t, k) : got(n, k); };
            double want = 0, have = at(j);
            if (mode == "concat") {
              worst = std::max(worst, double(std::abs(at(j) - fv)));
              want = bv;
              have = at(3 + j);
            } else if (mode == "sum") {
              want = fv + bv;
            } else if (mode == "mul") {
              want = fv * bv;
            } else {
              want = 0.5 * (fv + bv);
            }
            worst = std::max(worst, std::abs(have - want));
          }
        }
      }
      EXPECT_LT(worst, 1e-5);
    }
  }
}

TEST(Bidirectional, StatesConfigAndGradients) {
  px::utils::clear_session();
  auto x = px::Input({4, 2});
  auto outs = L::Bidirectional(L::GRU(2, {.return_sequences = true, .return_state = true}))(
      std::vector<px::SymbolicTensor>{x});
  ASSERT_EQ(outs.size(), 3u);  // merged sequence, forward h, backward h
  EXPECT_EQ(outs[0].shape(), Shape({-1, 4, 4}));
  px::Model model(std::vector<px::SymbolicTensor>{x}, outs);
  EXPECT_LT(px::test::gradient_error(model, {random_tensor({2, 4, 2}, 31)}), 2e-3);

  auto bi = L::Bidirectional(L::LSTM(3), {.merge_mode = "ave"});
  bi(px::Input({3, 2}));
  const Config c = bi->get_config();
  EXPECT_EQ(c["merge_mode"], "ave");
  EXPECT_EQ(c["layer"]["class_name"], "LSTM");
  EXPECT_EQ(c["layer"]["config"]["name"], "forward_lstm");
  EXPECT_EQ(c["backward_layer"]["config"]["go_backwards"], true);
  EXPECT_EQ(L::deserialize(L::serialize(*bi))->get_config(), c);
  EXPECT_TRUE(contains(error_message([] { L::Bidirectional(L::Dense(2)); }), "recurrent layer"));
  EXPECT_TRUE(contains(error_message([] { L::Bidirectional(L::LSTM(2), {.merge_mode = "max"}); }),
                       "merge_mode"));
}

// --- configs -------------------------------------------------------------------------------

TEST(RecurrentConfig, KerasKeysAndRoundTrip) {
  px::utils::clear_session();
  auto lstm = L::LSTM(5, {.recurrent_activation = "hard_sigmoid",
                          .dropout = 0.25,
                          .return_sequences = true,
                          .go_backwards = true});
  const Config c = lstm->get_config();
  std::vector<std::string> keys;
  for (auto& [k, v] : c.items()) keys.push_back(k);
  const std::vector<std::string> want = {"name",
                                         "trainable",
                                         "dtype",
                                         "return_sequences",
                                         "return_state",
                                         "go_backwards",
                                         "stateful",
                                         "unroll",
                                         "zero_output_for_mask",
                                         "units",
                                         "activation",
                                         "recurrent_activation",
                                         "use_bias",
                                         "kernel_initializer",
                                         "recurrent_initializer",
                                         "bias_initializer",
                                         "unit_forget_bias",
                                         "kernel_regularizer",
                                         "recurrent_regularizer",
                                         "bias_regularizer",
                                         "activity_regularizer",
                                         "kernel_constraint",
                                         "recurrent_constraint",
                                         "bias_constraint",
                                         "dropout",
                                         "recurrent_dropout",
                                         "seed"};
  EXPECT_EQ(keys, want);
  EXPECT_EQ(c["recurrent_initializer"]["class_name"], "Orthogonal");
  const Config wrapped = L::serialize(*lstm);
  auto again = L::deserialize(wrapped);
  EXPECT_EQ(again->get_config(), c);
  for (auto make : {+[] { return px::LayerRef(L::GRU(3, {.return_state = true})); },
                    +[] { return px::LayerRef(L::SimpleRNN(2, {.activation = "relu"})); },
                    +[] { return px::LayerRef(L::Embedding(7, 2, {.mask_zero = true})); },
                    +[] { return px::LayerRef(L::Masking({.mask_value = -1.0})); }}) {
    auto layer = make();
    const Config lc = layer->get_config();
    EXPECT_EQ(L::deserialize(L::serialize(*layer))->get_config(), lc) << lc.dump();
  }
  EXPECT_TRUE(L::GRU(3)->get_config().contains("reset_after"));
  EXPECT_TRUE(L::Embedding(7, 2)->get_config().contains("mask_zero"));
}

TEST(RecurrentErrors, UnsupportedOptionsAndBadInputsSayWhy) {
  EXPECT_TRUE(contains(error_message([] {
                         L::LSTM(2, {.stateful = true})(px::Input({3, 4}));
                       }),
                       "batch size must be static"));  // stateful: tests/test_stateful.cpp
  EXPECT_TRUE(
      contains(error_message([] { L::GRU(2, {.recurrent_dropout = 1.0}); }), "dropout rates"));
  EXPECT_TRUE(
      contains(error_message([] { L::SimpleRNN(2, {.activation = "softmax"}); }), "softmax"));
  EXPECT_TRUE(contains(error_message([] { L::LSTM(0); }), "units"));
  const std::string rank = error_message([] { L::LSTM(2)(px::Input({4})); });
  EXPECT_TRUE(contains(rank, "[batch, timesteps, features]")) << rank;
  const std::string ids = error_message([] {
    auto in = px::Input({3});
    px::Model m(in, L::Embedding(4, 2)(in));
    m.predict(Tensor{{1, 2, 9}});
  });
  EXPECT_TRUE(contains(ids, "out of range")) << ids;
}

// --- recurrent_dropout -----------------------------------------------------------------------

// The four cells (GRU with reset_after true and false) with recurrent_dropout.
struct RdropCell {
  std::string label, cell;
  bool reset_after = true;
};
const std::vector<RdropCell> kRdropCells = {{"simple_rnn", "simple_rnn"},
                                            {"lstm", "lstm"},
                                            {"gru", "gru"},
                                            {"gru_reset_before", "gru", false}};

px::LayerRef rdrop_layer(const RdropCell& c, double rate, Dim units) {
  if (c.cell == "lstm") {
    return L::LSTM(units,
                   {.recurrent_dropout = rate, .return_sequences = true, .return_state = true});
  }
  if (c.cell == "gru") {
    return L::GRU(units, {.recurrent_dropout = rate,
                          .return_sequences = true,
                          .return_state = true,
                          .reset_after = c.reset_after});
  }
  return L::SimpleRNN(units,
                      {.recurrent_dropout = rate, .return_sequences = true, .return_state = true});
}

// In training the layer computes the step reference with one mask per gate ([batch, k *
// units], drawn once per call: the reference uses it at every step), the masked (padded)
// steps carrying the state; the mask is the one dropout_mask draws after the same seed.
// Predict is the model without recurrent dropout, bit for bit; two training calls draw
// different masks; the same seed the same ones.
TEST(RecurrentDropout, TrainingMatchesTheReferenceWithItsMaskAndInferenceIsUnaffected) {
  const double rate = 0.4;
  const Dim n = 4, t = 5, u = 3;
  for (const RdropCell& rc : kRdropCells) {
    SCOPED_TRACE(rc.label);
    px::utils::clear_session();
    auto layer = rdrop_layer(rc, rate, u);
    auto x = px::Input({-1, 2});
    auto outs = layer(std::vector<px::SymbolicTensor>{L::Masking()(x)});
    for (auto& w : layer->weights()) w.value() = random_tensor(w.shape(), 41, -0.6f, 0.6f);
    px::Model model(std::vector<px::SymbolicTensor>{x},
                    std::vector<px::SymbolicTensor>(outs.begin(), outs.end()));
    Tensor xs = random_tensor({n, t, 2}, 42);
    Tensor seq_mask = xt::ones<float>({std::size_t(n), std::size_t(t)});
    for (std::size_t f = 0; f < 2; ++f) xs(0, 4, f) = xs(1, 0, f) = xs(1, 2, f) = 0.0f;
    seq_mask(0, 4) = seq_mask(1, 0) = seq_mask(1, 2) = 0.0f;

    px::utils::set_random_seed(17);
    const auto got = model(std::vector<Tensor>{xs}, true);
    const Dim k = rc.cell == "lstm" ? 4 : rc.cell == "gru" ? 3 : 1;
    px::utils::set_random_seed(17);
    const Tensor rd =
        px::eval(*px::kernels::dropout_mask(float(rate), k * u), {xs}, {.training = true});
    std::size_t zeros = 0;
    for (float v : rd) zeros += v == 0.0f;
    ASSERT_GT(zeros, 0u);  // the seed drops something
    ASSERT_LT(zeros, rd.size());

    auto c = reference_config(rc.cell, true, false, true);
    c.reset_after = rc.reset_after;
    c.recurrent_dropout = true;
    std::vector<Tensor> in{xs};
    for (auto& w : layer->weights()) in.push_back(w.value());
    in.push_back(seq_mask);
    in.push_back(rd);
    const auto want = reference_outputs(c, in, n, t, u);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t o = 0; o < got.size(); ++o) {
      EXPECT_LT(px::test::max_abs_diff(got[o], want[o]), 1e-5) << "output " << o;
    }
    // Inference: the reference without dropout, and the layer without it, exactly.
    in.pop_back();
    c.recurrent_dropout = false;
    const auto plain = reference_outputs(c, in, n, t, u);
    const auto inferred = model.predict(std::vector<Tensor>{xs});
    EXPECT_LT(px::test::max_abs_diff(inferred[0], plain[0]), 1e-5);
    EXPECT_GT(px::test::max_abs_diff(got[0], inferred[0]), 1e-3);  // training drops
    auto no_drop = rdrop_layer(rc, 0.0, u);
    auto x2 = px::Input({-1, 2});
    auto outs2 = no_drop(std::vector<px::SymbolicTensor>{L::Masking()(x2)});
    for (std::size_t w = 0; w < layer->weights().size(); ++w) {
      no_drop->weights()[w].value() = layer->weights()[w].value();
    }
    px::Model reference_model(std::vector<px::SymbolicTensor>{x2},
                              std::vector<px::SymbolicTensor>(outs2.begin(), outs2.end()));
    const auto same = reference_model.predict(std::vector<Tensor>{xs});
    for (std::size_t o = 0; o < same.size(); ++o) {
      EXPECT_EQ(px::test::max_abs_diff(inferred[o], same[o]), 0.0) << "output " << o;
    }
    // A new mask per call; the same seed, the same mask.
    const auto again = model(std::vector<Tensor>{xs}, true);
    EXPECT_GT(px::test::max_abs_diff(again[0], got[0]), 1e-4);
    px::utils::set_random_seed(17);
    EXPECT_EQ(px::test::max_abs_diff(model(std::vector<Tensor>{xs}, true)[0], got[0]), 0.0);
  }
}

// With recurrent_dropout, Keras 3's cells (implementation 1) drop the inputs per gate too:
// k masks [batch, features]. Training against the reference with both masks, drawn after the
// same seed in the layer's order (the recurrent mask first).
TEST(RecurrentDropout, InputDropoutIsPerGateWithRecurrentDropout) {
  const Dim n = 3, t = 4, f = 3, u = 2;
  for (const RdropCell& rc : kRdropCells) {
    SCOPED_TRACE(rc.label);
    px::utils::clear_session();
    px::LayerRef layer;
    if (rc.cell == "lstm") {
      layer = L::LSTM(u, {.dropout = 0.3, .recurrent_dropout = 0.4, .return_sequences = true});
    } else if (rc.cell == "gru") {
      layer = L::GRU(u, {.dropout = 0.3,
                         .recurrent_dropout = 0.4,
                         .return_sequences = true,
                         .reset_after = rc.reset_after});
    } else {
      layer = L::SimpleRNN(u, {.dropout = 0.3, .recurrent_dropout = 0.4, .return_sequences = true});
    }
    auto x = px::Input({t, f});
    px::Model model(x, layer(x));
    for (auto& w : layer->weights()) w.value() = random_tensor(w.shape(), 71, -0.6f, 0.6f);
    const Tensor xs = random_tensor({n, t, f}, 72);
    px::utils::set_random_seed(29);
    const Tensor got = model(xs, true);
    const Dim k = rc.cell == "lstm" ? 4 : rc.cell == "gru" ? 3 : 1;
    const px::Context train{.training = true};
    px::utils::set_random_seed(29);
    const Tensor rd = px::eval(*px::kernels::dropout_mask(0.4f, k * u), {xs}, train);
    const Tensor dm = px::eval(*px::kernels::dropout_mask(0.3f, k * f), {xs}, train);
    auto c = reference_config(rc.cell, true, false);
    c.reset_after = rc.reset_after;
    c.recurrent_dropout = c.input_dropout = true;
    std::vector<Tensor> in{xs};
    for (auto& w : layer->weights()) in.push_back(w.value());
    in.push_back(rd);
    in.push_back(dm);
    EXPECT_LT(px::test::max_abs_diff(got, reference_outputs(c, in, n, t, u)[0]), 1e-5);
    // The per-gate input masks differ from each other (k > 1: not one shared mask).
    if (k > 1) {
      bool differ = false;
      for (std::size_t i = 0; i < std::size_t(n); ++i) {
        for (std::size_t j = 0; j < std::size_t(f); ++j)
          differ = differ || dm(i, j) != dm(i, f + j);
      }
      EXPECT_TRUE(differ);
    }
    // Inference drops nothing.
    c.recurrent_dropout = c.input_dropout = false;
    in.resize(in.size() - 2);
    EXPECT_LT(px::test::max_abs_diff(model.predict(xs), reference_outputs(c, in, n, t, u)[0]),
              1e-5);
  }
}

// With recurrent and input dropout on, fit still learns (the masked VJP in training).
TEST(RecurrentDropout, FitLearnsWithRecurrentDropout) {
  px::utils::clear_session();
  px::utils::set_random_seed(5);
  auto x = px::Input({8, 1});
  px::Model model(x, L::Dense(1)(L::LSTM(8, {.dropout = 0.1, .recurrent_dropout = 0.2})(x)));
  model.compile({.optimizer = "adam", .loss = "mse"});
  Tensor xs = random_tensor({256, 8, 1}, 2);
  Tensor ys = xt::sum(xs, {1});
  const double before = model.evaluate(xs, ys)[0];
  model.fit(xs, ys, {.epochs = 40, .batch_size = 32, .verbose = 0});
  const double after = model.evaluate(xs, ys)[0];
  EXPECT_LT(after, 0.2 * before) << before << " -> " << after;
}

// Bidirectional: both directions drop in training (their own masks), neither at inference;
// the option is in both directions' configs and survives the round trip.
TEST(RecurrentDropout, BidirectionalDropsInBothDirections) {
  px::utils::clear_session();
  auto x = px::Input({5, 2});
  auto bi = L::Bidirectional(L::GRU(3, {.recurrent_dropout = 0.5, .return_sequences = true}),
                             {.merge_mode = "concat"});
  px::Model model(x, bi(x));
  const Tensor xs = random_tensor({3, 5, 2}, 51);
  const Tensor inferred = model.predict(xs);
  const Tensor trained = model(xs, true);
  auto plain_bi = L::Bidirectional(L::GRU(3, {.return_sequences = true}));
  auto x2 = px::Input({5, 2});
  px::Model plain(x2, plain_bi(x2));
  for (std::size_t w = 0; w < model.weights().size(); ++w) {
    plain.weights()[w].value() = model.weights()[w].value();
  }
  EXPECT_EQ(px::test::max_abs_diff(plain.predict(xs), inferred), 0.0);
  for (std::size_t half : {0, 1}) {  // the forward and the backward direction both differ
    double diff = 0;
    for (std::size_t i = 0; i < 3; ++i) {
      for (std::size_t s = 0; s < 5; ++s) {
        for (std::size_t j = 0; j < 3; ++j) {
          diff = std::max(
              diff, double(std::abs(trained(i, s, half * 3 + j) - inferred(i, s, half * 3 + j))));
        }
      }
    }
    EXPECT_GT(diff, 1e-3) << "direction " << half;
  }
  const Config c = bi->get_config();
  EXPECT_EQ(c["layer"]["config"]["recurrent_dropout"], 0.5);
  EXPECT_EQ(c["backward_layer"]["config"]["recurrent_dropout"], 0.5);
  EXPECT_EQ(L::deserialize(L::serialize(*bi))->get_config(), c);
}

// get_config / from_config keep recurrent_dropout (and seed), and so does a .keras archive.
TEST(RecurrentDropout, ConfigAndKerasArchiveRoundTrip) {
  px::utils::clear_session();
  auto gru = L::GRU(3, {.recurrent_dropout = 0.3, .seed = 7, .reset_after = false});
  const Config c = gru->get_config();
  EXPECT_EQ(c["recurrent_dropout"], 0.3);
  EXPECT_EQ(c["seed"], 7);
  auto again = L::deserialize(L::serialize(*gru));
  EXPECT_EQ(again->get_config(), c);
  auto x = px::Input({4, 2});
  auto h = L::SimpleRNN(2, {.recurrent_dropout = 0.25, .return_sequences = true})(x);
  px::Model m(x, L::LSTM(2, {.recurrent_dropout = 0.1})(h));
  const Tensor xs = random_tensor({2, 4, 2}, 61);
  const Tensor y = m.predict(xs);
  const auto dir = px::test::scratch_dir() / "plexus_rdrop_archive";
  fs::create_directories(dir);
  const std::string path = (dir / "m.keras").string();
  m.save(path);
  px::Model loaded = px::saving::load_model(path);
  EXPECT_EQ(px::test::max_abs_diff(loaded.predict(xs), y), 0.0);
  std::vector<double> rates;
  for (auto& l : loaded.layers()) {
    const Config lc = l->get_config();
    if (lc.contains("recurrent_dropout")) rates.push_back(lc["recurrent_dropout"].get<double>());
  }
  EXPECT_EQ(rates, (std::vector<double>{0.25, 0.1}));
  fs::remove_all(dir);
}

// --- Keras files ---------------------------------------------------------------------------

using px::test::keras_files;

// keras2c's LSTM(relu) model loads (architecture and weights in Keras 2 layout) and its
// LSTM computes what the step reference computes with the loaded weights.
TEST(RecurrentKerasFiles, Keras2cLstmLoadsAndRuns) {
  px::Model m = px::saving::load_model((keras_files() / "keras2c" / "model.h5").string());
  std::shared_ptr<L::LSTMLayer> lstm;
  for (auto& l : m.layers()) {
    if (auto p = std::dynamic_pointer_cast<L::LSTMLayer>(l)) lstm = p;
  }
  ASSERT_TRUE(lstm);
  EXPECT_EQ(lstm->spec().activation, "relu");
  const auto ws = lstm->weights();
  ASSERT_EQ(ws.size(), 3u);
  double norm = 0;
  for (float v : ws[1].value()) norm += std::abs(v);
  EXPECT_GT(norm, 0.0);  // the recurrent kernel came from the file
  const Tensor x = random_tensor({2, 8, 32}, 6);
  const Tensor y = m.predict(x);
  EXPECT_TRUE(px::all_finite(y));
  // The LSTM alone against the reference.
  auto in = px::Input({8, lstm->weights()[0].shape()[0]});
  px::Model alone(in, (*lstm)(in));
  const Tensor xs = random_tensor({2, 8, lstm->weights()[0].shape()[0]}, 7);
  std::vector<Tensor> args{xs};
  for (auto& w : ws) args.push_back(w.value());
  auto c = reference_config("lstm", lstm->spec().return_sequences, false);
  c.activation = "relu";
  c.recurrent_activation = lstm->spec().recurrent_activation;  // Keras 2.2.4: hard_sigmoid
  c.use_bias = lstm->spec().use_bias;
  const Dim u = lstm->units();
  EXPECT_LT(px::test::max_abs_diff(alone.predict(xs), reference_outputs(c, args, 2, 8, u)[0]),
            1e-4);
}

// Keras 3.8's masking_lstm_model.keras: Masking (mask_value written as a tensor) + LSTM(1),
// its weights under the cell (layers/lstm/cell/vars) as Keras 3 keeps them. It loads; the
// LSTM computes what the step reference computes with the loaded weights; a plexus save
// writes the same layout and loads back to the same predictions.
TEST(RecurrentKerasFiles, MaskingLstmArchiveLoadsWithItsCellWeights) {
  const std::string path =
      (keras_files() / "keras_team_keras" / "masking_lstm_model.keras").string();
  px::Model m = px::saving::load_model(path);
  std::shared_ptr<L::LSTMLayer> lstm;
  for (auto& l : m.layers()) {
    if (auto p = std::dynamic_pointer_cast<L::LSTMLayer>(l)) lstm = p;
  }
  ASSERT_TRUE(lstm);
  const auto ws = lstm->weights();
  ASSERT_EQ(ws.size(), 3u);
  EXPECT_EQ(ws[0].shape(), (px::Shape{2, 4}));
  EXPECT_EQ(ws[1].shape(), (px::Shape{1, 4}));
  double norm = 0;
  for (float v : ws[0].value()) norm += std::abs(v);
  EXPECT_GT(norm, 0.0);  // the kernel came from the file
  auto in = px::Input({3, 2});
  px::Model alone(in, (*lstm)(in));
  const Tensor xs = random_tensor({2, 3, 2}, 8);
  std::vector<Tensor> args{xs};
  for (auto& w : ws) args.push_back(w.value());
  auto c = reference_config("lstm", lstm->spec().return_sequences, false);
  c.use_bias = lstm->spec().use_bias;
  EXPECT_LT(
      px::test::max_abs_diff(alone.predict(xs), reference_outputs(c, args, 2, 3, lstm->units())[0]),
      1e-4);
  const Tensor y = m.predict(xs);
  const auto dir = px::test::scratch_dir() / "plexus_masking_lstm";
  fs::create_directories(dir);
  const std::string again = (dir / "again.keras").string();
  m.save(again);
  EXPECT_EQ(px::test::max_abs_diff(px::saving::load_model(again).predict(xs), y), 0.0);
  fs::remove_all(dir);
}

// Keras 3's layout for recurrent weights both ways: layers/lstm/cell/vars, and
// layers/bidirectional/{forward,backward}_layer/cell/vars.
TEST(RecurrentKerasFiles, RecurrentModelsRoundTripInKerasLayout) {
  auto in = px::Input({5, 3});
  auto h = L::Bidirectional(L::LSTM(4, {.return_sequences = true}))(in);
  px::Model m(in, L::GRU(2)(h));
  const Tensor xs = random_tensor({2, 5, 3}, 9);
  const Tensor y = m.predict(xs);
  const auto dir = px::test::scratch_dir() / "plexus_rnn_layout";
  fs::create_directories(dir);
  for (const char* name : {"m.keras", "m.weights.h5"}) {
    SCOPED_TRACE(name);
    const std::string path = (dir / name).string();
    const bool archive = std::string(name) == "m.keras";
    if (archive) {
      m.save(path);
    } else {
      m.save_weights(path);
    }
    auto in2 = px::Input({5, 3});
    auto h2 = L::Bidirectional(L::LSTM(4, {.return_sequences = true}))(in2);
    px::Model fresh(in2, L::GRU(2)(h2));
    if (archive) {
      EXPECT_EQ(px::test::max_abs_diff(px::saving::load_model(path).predict(xs), y), 0.0);
    } else {
      fresh.load_weights(path);
      EXPECT_EQ(px::test::max_abs_diff(fresh.predict(xs), y), 0.0);
    }
  }
  fs::remove_all(dir);
}

// GRU(reset_after = false), Keras 2's default: the reset gate multiplies the state before
// the recurrent matmul, and the bias is one vector. Forward against the step reference,
// gradients end to end through a masked batch, and the config key round trip.
TEST(Recurrent, GruResetBeforeMatchesTheReferenceAndGradients) {
  px::utils::clear_session();
  auto x = px::Input({-1, 2});
  auto gru = L::GRU(3, {.return_sequences = true, .reset_after = false});
  px::Model model(x, gru(x));
  for (auto& w : model.weights()) w.value() = random_tensor(w.shape(), 12, -0.6f, 0.6f);
  const Tensor xs = random_tensor({2, 5, 2}, 13);
  std::vector<Tensor> args{xs};
  for (auto& w : gru->weights()) args.push_back(w.value());
  auto c = reference_config("gru", true, false);
  c.reset_after = false;
  EXPECT_LT(px::test::max_abs_diff(model.predict(xs), reference_outputs(c, args, 2, 5, 3)[0]),
            1e-5);
  // Not the reset_after = true cell with the same numbers.
  c.reset_after = true;
  Tensor two = Tensor::from_shape({2, 9});  // the same input bias, no recurrent bias
  for (std::size_t j = 0; j < 9; ++j) {
    two(0, j) = args.back()(j);
    two(1, j) = 0.0f;
  }
  args.back() = two;
  EXPECT_GT(px::test::max_abs_diff(model.predict(xs), reference_outputs(c, args, 2, 5, 3)[0]),
            1e-4);
  auto xf = px::Input({4, 2});
  px::Model grad_model(xf,
                       L::GRU(2, {.go_backwards = true, .reset_after = false})(L::Masking()(xf)));
  Tensor xm = random_tensor({2, 4, 2}, 14);
  xm(0, 3, 0) = xm(0, 3, 1) = 0.0f;
  EXPECT_LT(weight_gradient_error(grad_model, {xm}), 2e-3);
  const px::Config cfg = gru->get_config();
  EXPECT_EQ(cfg["reset_after"], false);
  auto again = L::deserialize(L::serialize(*gru));
  again(px::Input({-1, 2}));
  ASSERT_EQ(again->weights().size(), 3u);
  EXPECT_EQ(again->weights()[2].shape(), (Shape{9}));
}

// frugally-deep's lstm.h5 (Keras 2.2.5): five inputs (one with unknown timesteps, two
// initial states), nine LSTMs and six Bidirectional LSTMs. The repository ships no outputs
// recorded by Keras for it, so the check is: it loads with every weight from the file, runs
// on a batch, and each plain LSTM computes what the step reference computes with the
// loaded weights.
TEST(RecurrentKerasFiles, FrugallyDeepLstmLoadsAndItsLstmsMatchTheReference) {
  px::Model m = px::saving::load_model((keras_files() / "frugally_deep" / "lstm.h5").string());
  ASSERT_EQ(m.inputs().size(), 5u);
  std::vector<Tensor> xs;
  unsigned seed = 40;
  for (const auto& in : m.inputs()) {
    Shape s = in.shape();
    s[0] = 2;
    for (Dim& d : s) d = d < 0 ? 6 : d;
    xs.push_back(random_tensor(s, seed++));
  }
  const std::vector<Tensor> ys = m.predict(xs);
  ASSERT_FALSE(ys.empty());
  for (const auto& y : ys) EXPECT_TRUE(px::all_finite(y));
  int lstms = 0, bidirectional = 0;
  for (auto& l : m.layers()) {
    if (std::dynamic_pointer_cast<L::BidirectionalLayer>(l)) ++bidirectional;
    auto lstm = std::dynamic_pointer_cast<L::LSTMLayer>(l);
    if (!lstm) continue;
    ++lstms;
    SCOPED_TRACE(lstm->name());
    const auto ws = lstm->weights();
    ASSERT_EQ(ws.size(), lstm->spec().use_bias ? 3u : 2u);
    double norm = 0;
    for (float v : ws[1].value()) norm += std::abs(v);
    EXPECT_GT(norm, 0.0);  // the recurrent kernel came from the file
    const Dim f = ws[0].shape()[0], u = lstm->units();
    auto in = px::Input({5, f});
    px::Model alone(in, (*lstm)(std::vector<px::SymbolicTensor>{in})[0]);  // return_state: [0]
    const Tensor x = random_tensor({2, 5, f}, seed++);
    std::vector<Tensor> args{x};
    for (auto& w : ws) args.push_back(w.value());
    auto c = reference_config("lstm", lstm->spec().return_sequences, lstm->spec().go_backwards);
    c.activation = lstm->spec().activation;
    c.recurrent_activation = lstm->spec().recurrent_activation;
    c.use_bias = lstm->spec().use_bias;
    EXPECT_LT(px::test::max_abs_diff(alone.predict(x), reference_outputs(c, args, 2, 5, u)[0]),
              1e-4);
  }
  EXPECT_EQ(lstms, 9);
  EXPECT_EQ(bidirectional, 6);
}

// The kernel's inference path (no backward follows: predict, evaluate) computes what its
// training path does, for every cell and option that changes the loop.
TEST(Recurrent, InferencePathMatchesTheTrainingPath) {
  const Dim N = 3, T = 5, F = 4, U = 3;
  int cases = 0;
  for (const char* cell : {"simple_rnn", "lstm", "gru", "gru_before"}) {
    for (int bits = 0; bits < 32; ++bits) {
      px::kernels::RecurrentConfig c;
      c.cell = std::string(cell).substr(0, 3) == "gru" ? "gru" : cell;
      c.reset_after = std::string(cell) != "gru_before";
      c.masked = bits & 1;
      c.go_backwards = bits & 2;
      c.initial_state = bits & 4;
      c.return_sequences = bits & 8;
      c.zero_output_for_mask = bits & 16;
      if (!c.masked && c.zero_output_for_mask) continue;
      const Dim G = (c.cell == "lstm" ? 4 : c.cell == "gru" ? 3 : 1) * U;
      auto kernel = px::kernels::recurrent(c);
      std::vector<Tensor> in{
          random_tensor({N, T, F}, 1), random_tensor({F, G}, 2), random_tensor({U, G}, 3),
          c.cell == "gru" && c.reset_after ? random_tensor({2, G}, 4) : random_tensor({G}, 4)};
      if (c.masked) {
        Tensor m = Tensor::from_shape({std::size_t{3}, std::size_t{5}});
        m.fill(1.0f);
        m(0, 0) = m(0, 1) = m(1, 4) = m(2, 2) = 0.0f;  // a leading, trailing and inner gap
        in.push_back(m);
      }
      if (c.initial_state) {
        for (std::size_t k = 0; k < (c.cell == "lstm" ? 2u : 1u); ++k) {
          in.push_back(random_tensor({N, U}, 5 + static_cast<int>(k)));
        }
      }
      std::vector<const Tensor*> refs;
      std::vector<Shape> shapes;
      for (auto& t : in) {
        refs.push_back(&t);
        shapes.push_back(px::shape_of(t));
      }
      auto run = [&](bool backward) {
        std::vector<Tensor> outs;
        for (const Shape& s : kernel->output_shapes(shapes)) {
          outs.emplace_back();
          px::resize_to(outs.back(), s);
        }
        std::vector<Tensor*> ptrs;
        for (auto& o : outs) ptrs.push_back(&o);
        kernel->forward_all(refs, ptrs, px::Context{.backward = backward});
        return outs;
      };
      const auto trained = run(true), inferred = run(false);
      ASSERT_EQ(trained.size(), inferred.size());
      for (std::size_t o = 0; o < trained.size(); ++o) {
        EXPECT_LT(px::test::max_abs_diff(trained[o], inferred[o]), 1e-5)
            << cell << " options " << bits << " output " << o;
      }
      ++cases;
    }
  }
  EXPECT_EQ(cases, 4 * 24);
}

// The stateful GRU of frugally_deep/temp_stateful.h5: tests/test_stateful.cpp.

}  // namespace
