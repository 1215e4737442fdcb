// Attention layers (layers/attention.hpp): a table of MultiHeadAttention configurations whose
// output shapes, parameter counts and weight layouts are Keras 3's; forward values against
// plain loops over the weights (masks from Embedding(mask_zero), attention_mask, causal);
// an end-to-end finite-difference check through a masked MultiHeadAttention; Attention and
// AdditiveAttention formulas; configs, registry and saving round trips; errors.
#pragma GCC diagnostic ignored "-Wuninitialized"
#ifndef __clang__  // a GCC-only warning
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/random.hpp"
#include "graph_helpers.hpp"
#include "layers/attention.hpp"
#include "layers/core.hpp"
#include "layers/embedding.hpp"
#include "layers/masking.hpp"
#include "layers/registry.hpp"
#include "optim/model.hpp"
#include "optim/saving/hdf5.hpp"
#include "optim/saving/saving.hpp"

namespace px = plexus;
namespace L = plexus::layers;
namespace fs = std::filesystem;
using px::Config;
using px::Dim;
using px::Shape;
using px::SymbolicTensor;
using px::Tensor;
using px::test::error_message;
using px::test::random_tensor;

namespace {

using px::test::contains;

// --- the table ---------------------------------------------------------------------------
// Keras 3: query/key/value kernels (dim, heads, key_dim|value_dim), biases (heads, dim);
// attention_output kernel (heads, value_dim, out...), bias (out...). Parameter counts worked
// out by hand from those shapes (Keras's summary gives the same).
struct MhaCase {
  std::string label;
  Dim heads, key_dim;
  L::MultiHeadAttentionOptions options;
  Shape query, value, key;  // without the batch; key empty = value
  Shape expected_output;
  std::vector<std::string> paths;
  std::vector<Shape> shapes;
  std::size_t params;
};
std::ostream& operator<<(std::ostream& os, const MhaCase& c) { return os << c.label; }

const std::vector<std::string> kPaths = {"mha/query/kernel",
                                         "mha/query/bias",
                                         "mha/key/kernel",
                                         "mha/key/bias",
                                         "mha/value/kernel",
                                         "mha/value/bias",
                                         "mha/attention_output/kernel",
                                         "mha/attention_output/bias"};

std::vector<MhaCase> mha_cases() {
  return {
      // 3 * (16*2*4 + 2*4) + (2*4*16 + 16) = 3 * 136 + 144 = 552
      {"self_2x4",
       2,
       4,
       {.name = "mha"},
       {6, 16},
       {6, 16},
       {},
       {-1, 6, 16},
       kPaths,
       {{16, 2, 4}, {2, 4}, {16, 2, 4}, {2, 4}, {16, 2, 4}, {2, 4}, {2, 4, 16}, {16}},
       552},
      // cross attention, key given, value_dim 3: q 8*1*5+5=45, k 7*1*5+5=40, v 6*1*3+3=21,
      // out 1*3*8+8=32 -> 138
      {"cross_key_value_dim",
       1,
       5,
       {.value_dim = 3, .name = "mha"},
       {4, 8},
       {9, 6},
       {9, 7},
       {-1, 4, 8},
       kPaths,
       {{8, 1, 5}, {1, 5}, {7, 1, 5}, {1, 5}, {6, 1, 3}, {1, 3}, {1, 3, 8}, {8}},
       138},
      // no bias, output_shape 10: 3 * 12*3*2 + 3*2*10 = 216 + 60 = 276
      {"no_bias_output_shape",
       3,
       2,
       {.use_bias = false, .output_shape = std::vector<Dim>{10}, .name = "mha"},
       {5, 12},
       {5, 12},
       {},
       {-1, 5, 10},
       {"mha/query/kernel", "mha/key/kernel", "mha/value/kernel", "mha/attention_output/kernel"},
       {{12, 3, 2}, {12, 3, 2}, {12, 3, 2}, {3, 2, 10}},
       276},
      // output_shape (2, 3): out kernel (2, 4, 2, 3) + bias (2, 3); q/k/v 3 * (5*2*4 + 8)
      // = 144, out 48 + 6 = 54 -> 198
      {"output_shape_rank2",
       2,
       4,
       {.output_shape = std::vector<Dim>{2, 3}, .name = "mha"},
       {3, 5},
       {4, 5},
       {},
       {-1, 3, 2, 3},
       kPaths,
       {{5, 2, 4}, {2, 4}, {5, 2, 4}, {2, 4}, {5, 2, 4}, {2, 4}, {2, 4, 2, 3}, {2, 3}},
       198},
      // variable lengths, 8 features: 3 * (8*2*4 + 8) + (2*4*8 + 8) = 216 + 72 = 288
      {"variable_length",
       2,
       4,
       {.name = "mha"},
       {-1, 8},
       {-1, 8},
       {},
       {-1, -1, 8},
       kPaths,
       {{8, 2, 4}, {2, 4}, {8, 2, 4}, {2, 4}, {8, 2, 4}, {2, 4}, {2, 4, 8}, {8}},
       288},
  };
}

class MhaTable : public ::testing::TestWithParam<MhaCase> {};

TEST_P(MhaTable, OutputShapeParamsAndWeightLayoutAreKeras) {
  const MhaCase& c = GetParam();
  px::utils::clear_session();
  auto mha = L::MultiHeadAttention(c.heads, c.key_dim, c.options);
  auto q = px::Input(c.query);
  auto v = px::Input(c.value);
  std::vector<SymbolicTensor> ins = {q, v};
  if (!c.key.empty()) ins.push_back(px::Input(c.key));
  SymbolicTensor y = mha(ins);
  EXPECT_EQ(y.shape(), c.expected_output);
  EXPECT_EQ(mha->count_params(), c.params);
  auto ws = mha->weights();
  ASSERT_EQ(ws.size(), c.paths.size());
  for (std::size_t i = 0; i < ws.size(); ++i) {
    EXPECT_EQ(ws[i].path(), c.paths[i]);
    EXPECT_EQ(ws[i].shape(), c.shapes[i]) << c.paths[i];
  }
  // The scores output: [batch, heads, T, S].
  auto outs = mha(ins, {.return_attention_scores = true});
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_EQ(outs[1].shape(), (Shape{-1, c.heads, c.query[0], c.value[0]}));
  // A model runs it.
  px::Model model(ins, std::vector<SymbolicTensor>{outs[0], outs[1]});
  std::vector<Tensor> xs;
  const Dim t = c.query[0] < 0 ? 3 : c.query[0], s = c.value[0] < 0 ? 4 : c.value[0];
  xs.push_back(random_tensor({2, t, c.query[1]}, 1));
  xs.push_back(random_tensor({2, s, c.value[1]}, 2));
  if (!c.key.empty()) xs.push_back(random_tensor({2, s, c.key[1]}, 3));
  auto ys = model.predict(xs);
  Shape want = c.expected_output;
  want[0] = 2;
  want[1] = t;
  EXPECT_EQ(px::shape_of(ys[0]), want);
  EXPECT_EQ(px::shape_of(ys[1]), (Shape{2, c.heads, t, s}));
}

INSTANTIATE_TEST_SUITE_P(Keras, MhaTable, ::testing::ValuesIn(mha_cases()),
                         [](const auto& info) { return info.param.label; });

// --- forward values --------------------------------------------------------------------------

// MultiHeadAttention in plain loops from the layer's weights: x [T, D] per sample.
// allowed(b, i, j) says whether query step i of sample b may attend to key step j.
Tensor mha_reference(const L::MultiHeadAttentionLayer& m, const Tensor& query, const Tensor& value,
                     const std::function<bool(std::size_t, std::size_t, std::size_t)>& allowed) {
  const auto ws = m.get_weights();  // q kernel, q bias, k kernel, k bias, v..., out kernel, bias
  const std::size_t n = query.shape()[0], t = query.shape()[1], s = value.shape()[1];
  const std::size_t h = std::size_t(m.num_heads()), kd = std::size_t(m.key_dim()),
                    vd = std::size_t(m.value_dim()), dq = query.shape()[2], dv = value.shape()[2];
  const std::size_t dout = ws[6].shape()[2];
  Tensor out = Tensor::from_shape({n, t, dout});
  auto project = [&](const Tensor& x, std::size_t b, std::size_t step, const Tensor& w,
                     const Tensor& bias, std::size_t hh, std::size_t e, std::size_t d) {
    double acc = bias(hh, e);
    for (std::size_t f = 0; f < d; ++f) acc += double(x(b, step, f)) * w(f, hh, e);
    return acc;
  };
  for (std::size_t b = 0; b < n; ++b) {
    for (std::size_t i = 0; i < t; ++i) {
      std::vector<double> o(h * vd, 0.0);
      for (std::size_t hh = 0; hh < h; ++hh) {
        std::vector<double> z(s), qv(kd);
        for (std::size_t e = 0; e < kd; ++e) qv[e] = project(query, b, i, ws[0], ws[1], hh, e, dq);
        double mx = -1e300;
        for (std::size_t j = 0; j < s; ++j) {
          double d = 0;
          for (std::size_t e = 0; e < kd; ++e)
            d += qv[e] * project(value, b, j, ws[2], ws[3], hh, e, dv);
          z[j] = allowed(b, i, j) ? d / std::sqrt(double(kd)) : -1e9;
          mx = std::max(mx, z[j]);
        }
        double sum = 0;
        for (double zj : z) sum += std::exp(zj - mx);
        for (std::size_t j = 0; j < s; ++j) {
          if (!allowed(b, i, j)) continue;
          const double p = std::exp(z[j] - mx) / sum;
          for (std::size_t e = 0; e < vd; ++e)
            o[hh * vd + e] += p * project(value, b, j, ws[4], ws[5], hh, e, dv);
        }
      }
      for (std::size_t c = 0; c < dout; ++c) {
        double acc = ws[7](c);
        for (std::size_t hh = 0; hh < h; ++hh)
          for (std::size_t e = 0; e < vd; ++e) acc += o[hh * vd + e] * ws[6](hh, e, c);
        out(b, i, c) = float(acc);
      }
    }
  }
  return out;
}

void randomise(const px::LayerRef& layer, unsigned seed) {
  for (auto& w : layer->weights()) w.value() = random_tensor(w.shape(), seed++, -0.5f, 0.5f);
}

TEST(MultiHeadAttention, ForwardMatchesLoopsWithCausalAndAttentionMasks) {
  px::utils::clear_session();
  auto q = px::Input({4, 6});
  auto v = px::Input({5, 6});
  auto am = px::Input({4, 5});
  auto mha = L::MultiHeadAttention(2, 3, {.value_dim = 2});
  SymbolicTensor plain = mha({q, v});
  SymbolicTensor masked = mha({q, v}, {.attention_mask = am});
  randomise(mha, 5);
  px::Model model({q, v, am}, std::vector<SymbolicTensor>{plain, masked});
  const Tensor xq = random_tensor({2, 4, 6}, 1), xv = random_tensor({2, 5, 6}, 2);
  Tensor m = xt::ones<float>({2, 4, 5});
  m(0, 1, 2) = m(0, 1, 4) = m(1, 3, 0) = m(1, 0, 1) = 0.0f;
  auto ys = model.predict({xq, xv, m});
  auto all = [](std::size_t, std::size_t, std::size_t) { return true; };
  EXPECT_LT(px::test::max_abs_diff(ys[0], mha_reference(*mha, xq, xv, all)), 1e-5);
  auto by_mask = [&](std::size_t b, std::size_t i, std::size_t j) { return m(b, i, j) != 0.0f; };
  EXPECT_LT(px::test::max_abs_diff(ys[1], mha_reference(*mha, xq, xv, by_mask)), 1e-5);

  // Causal self-attention: step i sees steps <= i only, so changing the last step leaves the
  // earlier outputs alone.
  auto x = px::Input({4, 6});
  px::Model causal(x, mha({x, x}, px::kw::use_causal_mask = true));
  Tensor a = random_tensor({1, 4, 6}, 7), b = a;
  for (std::size_t f = 0; f < 6; ++f) b(0, 3, f) += 1.0f;
  const Tensor ya = causal.predict(a), yb = causal.predict(b);
  auto lower = [](std::size_t, std::size_t i, std::size_t j) { return j <= i; };
  EXPECT_LT(px::test::max_abs_diff(ya, mha_reference(*mha, a, a, lower)), 1e-5);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t c = 0; c < 6; ++c) EXPECT_NEAR(ya(0, i, c), yb(0, i, c), 1e-6);
  EXPECT_GT(std::abs(ya(0, 3, 0) - yb(0, 3, 0)) + std::abs(ya(0, 3, 1) - yb(0, 3, 1)), 1e-4);
}

// Keras 3: the masks of query and value (Embedding(mask_zero)) make the attention mask;
// the output carries the query's mask; padded keys change nothing; scores sum to one over
// the allowed keys and are zero on masked ones (rows of masked queries are all zero).
TEST(MultiHeadAttention, EmbeddingMasksCombineAsKeras) {
  px::utils::clear_session();
  auto ids = px::Input({-1});
  auto e = L::Embedding(8, 6, {.mask_zero = true})(ids);
  auto mha = L::MultiHeadAttention(2, 3);
  auto outs = mha({e, e}, px::kw::return_attention_scores = true);
  EXPECT_TRUE(px::masking::mask_of(outs[0]).defined());
  px::Model model(std::vector<SymbolicTensor>{ids}, std::vector<SymbolicTensor>{outs[0], outs[1]});
  const Tensor padded = {{3, 5, 2, 0, 0}}, short_ids = {{3, 5, 2}}, other = {{3, 5, 2, 7, 1}};
  auto yp = model.predict(std::vector<Tensor>{padded});
  auto ys = model.predict(std::vector<Tensor>{short_ids});
  auto yo = model.predict(std::vector<Tensor>{other});
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t c = 0; c < 6; ++c) EXPECT_NEAR(yp[0](0, i, c), ys[0](0, i, c), 1e-6);
  EXPECT_GT(std::abs(yp[0](0, 0, 0) - yo[0](0, 0, 0)) + std::abs(yp[0](0, 1, 1) - yo[0](0, 1, 1)),
            1e-5);
  const Tensor& p = yp[1];  // [1, 2, 5, 5]
  for (std::size_t h = 0; h < 2; ++h) {
    for (std::size_t i = 0; i < 5; ++i) {
      double sum = 0;
      for (std::size_t j = 0; j < 5; ++j) sum += p(0, h, i, j);
      EXPECT_NEAR(sum, i < 3 ? 1.0 : 0.0, 1e-5);
      for (std::size_t j = 3; j < 5; ++j) EXPECT_EQ(p(0, h, i, j), 0.0f);
    }
  }
}

// --- gradients end to end --------------------------------------------------------------------

double weight_gradient_error(const px::Model& model, const std::vector<Tensor>& xs,
                             bool with_feeds = false) {
  auto weights = model.trainable_weights();
  px::test::GraphRunner runner(model, weights, with_feeds);
  std::vector<Tensor> cots;
  auto outs = runner.forward(xs);
  for (std::size_t o = 0; o < outs.size(); ++o) {
    cots.push_back(random_tensor(px::shape_of(outs[o]), 40 + static_cast<unsigned>(o)));
  }
  auto analytic = runner.gradients(xs, cots);
  std::vector<Tensor> feed_grads;
  if (with_feeds) feed_grads = runner.feed_gradients(xs, cots);
  double worst = 0;
  const float h = 1e-2f;
  auto check = [&](Tensor& value, const Tensor& grad, std::vector<Tensor>* probe) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      const double numeric = px::detail::central_difference(
          value, i, h, [&] { return runner.loss(probe ? *probe : xs, cots); });
      worst = std::max(worst, px::detail::gradient_error(grad.data()[i], numeric));
    }
  };
  for (std::size_t w = 0; w < weights.size(); ++w) check(weights[w].value(), analytic[w], nullptr);
  if (with_feeds) {
    std::vector<Tensor> probe = xs;
    for (std::size_t f = 0; f < probe.size(); ++f) check(probe[f], feed_grads[f], &probe);
  }
  return worst;
}

// Embedding(mask_zero) -> MultiHeadAttention (self, padded batch of two lengths, with the
// scores as a second output) -> Dense: every weight against central differences.
TEST(AttentionGradients, MaskedMultiHeadAttentionMatchesFiniteDifferences) {
  px::utils::clear_session();
  auto ids = px::Input({-1});
  auto e = L::Embedding(7, 4, {.embeddings_initializer = "glorot_uniform", .mask_zero = true})(ids);
  auto mha = L::MultiHeadAttention(2, 3, {.value_dim = 2});
  auto outs = mha({e, e}, {.return_attention_scores = true});
  auto y = L::Dense(2)(outs[0]);
  px::Model model(std::vector<SymbolicTensor>{ids}, std::vector<SymbolicTensor>{y, outs[1]});
  randomise(mha, 31);
  const Tensor a = {{1, 4, 2, 0, 0}, {5, 3, 6, 2, 1}, {2, 6, 0, 0, 0}};
  const Tensor b = {{1, 4, 0}, {5, 3, 2}};
  EXPECT_LT(weight_gradient_error(model, {a}), 2e-3);
  EXPECT_LT(weight_gradient_error(model, {b}), 2e-3);
}

// Cross attention with a key, an attention mask, causal mask: weights and the float inputs.
TEST(AttentionGradients, CrossAttentionInputsAndWeights) {
  px::utils::clear_session();
  auto q = px::Input({3, 4});
  auto v = px::Input({3, 5});
  auto k = px::Input({3, 2});
  auto am = px::Input({3, 3});
  auto mha = L::MultiHeadAttention(2, 2, {.output_shape = std::vector<Dim>{3}});
  auto y = mha({q, v, k}, {.attention_mask = am, .use_causal_mask = true});
  px::Model model({q, v, k, am}, y);
  randomise(mha, 3);
  Tensor m = xt::ones<float>({2, 3, 3});
  m(0, 2, 1) = m(1, 1, 0) = 0.0f;
  const std::vector<Tensor> xs = {random_tensor({2, 3, 4}, 1), random_tensor({2, 3, 5}, 2),
                                  random_tensor({2, 3, 2}, 3), m};
  auto weights = model.trainable_weights();
  px::test::GraphRunner runner(model, weights, true);
  auto outs = runner.forward(xs);
  std::vector<Tensor> cots = {random_tensor(px::shape_of(outs[0]), 9)};
  auto fg = runner.feed_gradients(xs, cots);
  EXPECT_EQ(px::test::max_abs_diff(fg[3], xt::zeros<float>({2, 3, 3})), 0.0);  // no grad to masks
  double worst = 0;
  for (std::size_t f = 0; f < 3; ++f) {
    std::vector<Tensor> probe = xs;
    for (std::size_t i = 0; i < probe[f].size(); ++i) {
      const double numeric = px::detail::central_difference(
          probe[f], i, 1e-2f, [&] { return runner.loss(probe, cots); });
      worst = std::max(worst, px::detail::gradient_error(fg[f].data()[i], numeric));
    }
  }
  EXPECT_LT(worst, 2e-3);
  EXPECT_LT(weight_gradient_error(model, xs), 2e-3);
}

// Dropout acts on the attention probabilities in training only, and trains.
TEST(MultiHeadAttention, DropoutActsInTrainingOnly) {
  px::utils::clear_session();
  auto x = px::Input({5, 4});
  auto mha = L::MultiHeadAttention(2, 2, {.dropout = 0.5});
  px::Model model(x, mha({x, x}));
  const Tensor xs = random_tensor({3, 5, 4}, 4);
  px::test::GraphRunner runner(model, model.trainable_weights());
  const Tensor inference = runner.forward({xs}, false)[0];
  EXPECT_EQ(px::test::max_abs_diff(model.predict(xs), inference), 0.0);
  const Tensor training = runner.forward({xs}, true)[0];
  EXPECT_GT(px::test::max_abs_diff(training, inference), 1e-3);
  // The VJP uses the same dropout mask as its forward: check against differences with the
  // generator reset before every forward.
  auto weights = model.trainable_weights();
  const std::vector<Tensor> cots = {random_tensor({3, 5, 4}, 8)};
  px::utils::set_random_seed(3);
  auto grads = runner.gradients({xs}, cots, true);
  auto loss = [&] {
    px::utils::set_random_seed(3);
    auto y = runner.forward({xs}, true)[0];
    double l = 0;
    for (std::size_t i = 0; i < y.size(); ++i) l += double(y.data()[i]) * cots[0].data()[i];
    return l;
  };
  double worst = 0;
  Tensor& w = weights[0].value();  // query kernel
  for (std::size_t i = 0; i < w.size(); ++i) {
    const double numeric = px::detail::central_difference(w, i, 1e-2f, loss);
    worst = std::max(worst, px::detail::gradient_error(grads[0].data()[i], numeric));
  }
  EXPECT_LT(worst, 2e-3);
}

// --- Attention and AdditiveAttention -----------------------------------------------------------

// Keras's formulas in loops: scores (dot / concat / additive), value mask, causal, query mask.
Tensor luong_reference(const Tensor& q, const Tensor& v, const Tensor& k, const std::string& mode,
                       float scale, float concat_weight, const Tensor* additive_scale,
                       const Tensor* value_mask, const Tensor* query_mask, bool causal) {
  const std::size_t n = q.shape()[0], t = q.shape()[1], s = v.shape()[1], d = q.shape()[2],
                    dv = v.shape()[2];
  Tensor out = Tensor::from_shape({n, t, dv});
  for (std::size_t b = 0; b < n; ++b) {
    for (std::size_t i = 0; i < t; ++i) {
      std::vector<double> z(s);
      double mx = -1e300;
      for (std::size_t j = 0; j < s; ++j) {
        double acc = 0;
        for (std::size_t f = 0; f < d; ++f) {
          if (mode == "dot") acc += double(q(b, i, f)) * k(b, j, f);
          if (mode == "concat") acc += std::tanh(scale * (double(q(b, i, f)) + k(b, j, f)));
          if (mode == "additive")
            acc += (additive_scale ? (*additive_scale)(f) : 1.0) *
                   std::tanh(double(q(b, i, f)) + k(b, j, f));
        }
        if (mode == "dot") acc *= scale;
        if (mode == "concat") acc *= concat_weight;
        const bool ok = (!causal || j <= i) && (!value_mask || (*value_mask)(b, j) != 0.0f);
        z[j] = ok ? acc : acc - 1e9;
        mx = std::max(mx, z[j]);
      }
      double sum = 0;
      for (double zj : z) sum += std::exp(zj - mx);
      for (std::size_t c = 0; c < dv; ++c) {
        double acc = 0;
        for (std::size_t j = 0; j < s; ++j) acc += std::exp(z[j] - mx) / sum * v(b, j, c);
        if (query_mask && (*query_mask)(b, i) == 0.0f) acc = 0;
        out(b, i, c) = float(acc);
      }
    }
  }
  return out;
}

TEST(Attention, DotConcatAndAdditiveMatchKerasFormulas) {
  px::utils::clear_session();
  const Tensor xq = random_tensor({2, 3, 4}, 1), xv = random_tensor({2, 5, 3}, 2),
               xk = random_tensor({2, 5, 4}, 3);
  auto q = px::Input({3, 4});
  auto v = px::Input({5, 3});
  auto k = px::Input({5, 4});
  {
    auto att = L::Attention({.use_scale = true});
    px::Model m({q, v, k}, att({q, v, k}));
    ASSERT_EQ(att->weights().size(), 1u);
    EXPECT_EQ(att->weights()[0].path(), "attention/scale");
    EXPECT_EQ(att->weights()[0].shape(), Shape{});
    att->weights()[0].value() = Tensor(1.7f);
    EXPECT_LT(px::test::max_abs_diff(
                  m.predict({xq, xv, xk})[0],
                  luong_reference(xq, xv, xk, "dot", 1.7f, 1, nullptr, nullptr, nullptr, false)),
              1e-5);
    EXPECT_LT(px::test::gradient_error(m, {xq, xv, xk}), 2e-3);
  }
  {
    auto att = L::Attention(px::kw::score_mode = "concat", px::kw::use_scale = true);
    px::Model m({q, v, k}, att({q, v, k}, px::kw::use_causal_mask = true));
    ASSERT_EQ(att->weights().size(), 2u);  // scale, concat_score_weight
    EXPECT_EQ(att->weights()[1].name(), "concat_score_weight");
    att->weights()[0].value() = Tensor(0.8f);
    att->weights()[1].value() = Tensor(1.3f);
    EXPECT_LT(px::test::max_abs_diff(m.predict({xq, xv, xk})[0],
                                     luong_reference(xq, xv, xk, "concat", 0.8f, 1.3f, nullptr,
                                                     nullptr, nullptr, true)),
              1e-5);
    EXPECT_LT(px::test::gradient_error(m, {xq, xv, xk}), 2e-3);
  }
  {
    auto add = L::AdditiveAttention();
    px::Model m({q, v, k}, add({q, v, k}));
    ASSERT_EQ(add->weights().size(), 1u);
    EXPECT_EQ(add->weights()[0].shape(), Shape{4});
    EXPECT_EQ(add->count_params(), 4u);
    const Tensor sc = add->weights()[0].value();
    EXPECT_LT(px::test::max_abs_diff(
                  m.predict({xq, xv, xk})[0],
                  luong_reference(xq, xv, xk, "additive", 1, 1, &sc, nullptr, nullptr, false)),
              1e-5);
    EXPECT_LT(px::test::gradient_error(m, {xq, xv, xk}), 2e-3);
  }
}

TEST(Attention, InputMasksAndScores) {
  px::utils::clear_session();
  auto qi = px::Input({-1});
  auto vi = px::Input({-1});
  auto qe = L::Embedding(9, 4, {.mask_zero = true});
  auto ve = L::Embedding(9, 4, {.mask_zero = true});
  auto eq = qe(qi), ev = ve(vi);
  for (bool additive : {false, true}) {
    SCOPED_TRACE(additive ? "AdditiveAttention" : "Attention");
    auto att = additive ? L::AdditiveAttention() : L::Attention();
    auto outs = att({eq, ev}, {.return_attention_scores = true});
    EXPECT_TRUE(px::masking::mask_of(outs[0]).defined());
    px::Model m({qi, vi}, std::vector<SymbolicTensor>{outs[0], outs[1]});
    const Tensor tq = {{1, 2, 0}, {3, 0, 0}}, tv = {{4, 5, 6, 0}, {7, 8, 0, 0}};
    auto ys = m.predict({tq, tv});
    const Tensor eqv = qe->get_weights()[0], evv = ve->get_weights()[0];
    Tensor xq = Tensor::from_shape({2, 3, 4}), xv = Tensor::from_shape({2, 4, 4});
    for (std::size_t b = 0; b < 2; ++b) {
      for (std::size_t f = 0; f < 4; ++f) {
        for (std::size_t i = 0; i < 3; ++i) xq(b, i, f) = eqv(std::size_t(tq(b, i)), f);
        for (std::size_t j = 0; j < 4; ++j) xv(b, j, f) = evv(std::size_t(tv(b, j)), f);
      }
    }
    const Tensor qm = xt::cast<float>(xt::not_equal(tq, 0.0f)),
                 vm = xt::cast<float>(xt::not_equal(tv, 0.0f));
    const Tensor sc = additive ? att->weights()[0].value() : Tensor();
    const Tensor want = luong_reference(xq, xv, xv, additive ? "additive" : "dot", 1, 1,
                                        additive ? &sc : nullptr, &vm, &qm, false);
    EXPECT_LT(px::test::max_abs_diff(ys[0], want), 1e-5);
    EXPECT_EQ(px::shape_of(ys[1]), (Shape{2, 3, 4}));
    EXPECT_EQ(ys[1](1, 0, 2), 0.0f);  // a padded key gets no weight
  }
}

// --- configs, registry, saving ------------------------------------------------------------------

TEST(AttentionConfig, KerasKeysRoundTripAndSameOutputs) {
  px::utils::clear_session();
  auto mha = L::MultiHeadAttention(3, 4,
                                   {.value_dim = 2,
                                    .dropout = 0.1,
                                    .output_shape = std::vector<Dim>{5},
                                    .kernel_initializer = "he_normal",
                                    .kernel_regularizer = "l2",
                                    .seed = 7});
  auto q = px::Input({4, 6});
  px::Model model(q, mha({q, q}));
  const Config c = mha->get_config();
  std::vector<std::string> keys;
  for (auto& [k, v] : c.items()) keys.push_back(k);
  const std::vector<std::string> want = {"name",
                                         "trainable",
                                         "dtype",
                                         "num_heads",
                                         "key_dim",
                                         "value_dim",
                                         "dropout",
                                         "use_bias",
                                         "output_shape",
                                         "attention_axes",
                                         "kernel_initializer",
                                         "bias_initializer",
                                         "kernel_regularizer",
                                         "bias_regularizer",
                                         "activity_regularizer",
                                         "kernel_constraint",
                                         "bias_constraint",
                                         "seed"};
  EXPECT_EQ(keys, want);
  EXPECT_EQ(c["value_dim"], 2);
  EXPECT_EQ(c["output_shape"], Config::array({5}));
  EXPECT_EQ(c["attention_axes"], Config::array({1}));  // normalised at build, as Keras
  auto again = L::MultiHeadAttentionLayer::from_config(c);
  auto q2 = px::Input({4, 6});
  px::Model model2(q2, again({q2, q2}));
  EXPECT_EQ(again->get_config(), c);
  again->set_weights(mha->get_weights());
  const Tensor xs = random_tensor({2, 4, 6}, 3);
  EXPECT_EQ(px::test::max_abs_diff(model.predict(xs), model2.predict(xs)), 0.0);
  // Through the registry by class name, with Keras's default value_dim (= key_dim).
  Config keras = {{"class_name", "MultiHeadAttention"},
                  {"config",
                   {{"name", "m"},
                    {"num_heads", 2},
                    {"key_dim", 8},
                    {"value_dim", nullptr},
                    {"attention_axes", nullptr}}}};
  auto from_registry = L::deserialize(keras);
  EXPECT_EQ(from_registry->class_name(), "MultiHeadAttention");
  EXPECT_EQ(from_registry->get_config()["value_dim"], 8);
  for (bool additive : {false, true}) {
    auto a = additive ? L::AdditiveAttention({.use_scale = false, .dropout = 0.2})
                      : L::Attention({.use_scale = true, .score_mode = "concat"});
    const Config ac = a->get_config();
    EXPECT_EQ(ac.contains("score_mode"), !additive);
    Config wrapped = {{"class_name", additive ? "AdditiveAttention" : "Attention"}, {"config", ac}};
    EXPECT_EQ(L::deserialize(wrapped)->get_config(), ac);
  }
}

TEST(AttentionSaving, ModelWithAttentionSavesAndLoadsBack) {
  px::utils::clear_session();
  auto ids = px::Input({6});
  auto am = px::Input({6, 6});
  auto e = L::Embedding(10, 8, {.mask_zero = true})(ids);
  auto mha = L::MultiHeadAttention(2, 4, {.name = "mha"});
  auto outs =
      mha({e, e}, {.attention_mask = am, .use_causal_mask = true, .return_attention_scores = true});
  auto a = L::Attention({.use_scale = true})({outs[0], e}, px::kw::use_causal_mask = true);
  auto y = L::Dense(3)(L::AdditiveAttention()({a, outs[0]}));
  px::Model m({ids, am}, std::vector<SymbolicTensor>{y, outs[1]});
  randomise(mha, 13);
  const Tensor xs = {{1, 2, 3, 0, 0, 0}, {4, 5, 6, 7, 8, 9}};
  Tensor mask = xt::ones<float>({2, 6, 6});
  mask(1, 4, 2) = 0.0f;
  const auto want = m.predict({xs, mask});
  const auto dir = px::test::scratch_dir() / "plexus_attention_saving";
  fs::create_directories(dir);
  const std::string archive = (dir / "m.keras").string(), weights = (dir / "m.weights.h5").string();
  m.save(archive);
  auto loaded = px::saving::load_model(archive);
  auto got = loaded.predict({xs, mask});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(px::test::max_abs_diff(got[0], want[0]), 0.0);
  EXPECT_EQ(px::test::max_abs_diff(got[1], want[1]), 0.0);
  // The archive stores Keras's call: positional query and value, the options as kwargs.
  const Config config = px::saving::model_config(m);
  bool found = false;
  for (const auto& l : config["config"]["layers"]) {
    if (l["class_name"] != "MultiHeadAttention") continue;
    found = true;
    const Config& node = l["inbound_nodes"][0];
    EXPECT_EQ(node["args"].size(), 2u);
    EXPECT_EQ(node["kwargs"]["use_causal_mask"], true);
    EXPECT_EQ(node["kwargs"]["return_attention_scores"], true);
    EXPECT_TRUE(node["kwargs"].contains("attention_mask"));
  }
  EXPECT_TRUE(found);
  // Weights only, into a fresh copy of the model: Keras 3.15's groups query_dense/vars, ...
  m.save_weights(weights);
  {
    // Keras 3's layout: the MultiHeadAttention's own vars are empty, its projections'
    // kernel and bias sit under the attribute groups; Attention's scale in its vars.
    const auto f = px::saving::h5::File::open(weights);
    const auto mg = f.root().group("layers").group("multi_head_attention");
    EXPECT_TRUE(mg.group("vars").children().empty());
    const char* groups[] = {"query_dense", "key_dense", "value_dense", "output_dense"};
    const auto sub = {mha->query_dense(), mha->key_dense(), mha->value_dense(),
                      mha->output_dense()};
    std::size_t i = 0;
    for (const auto& layer : sub) {
      const auto vars = mg.group(groups[i++]).group("vars");
      ASSERT_EQ(vars.children().size(), 2u) << groups[i - 1];
      const auto ws = layer->get_weights();
      EXPECT_EQ(px::test::max_abs_diff(vars.read_dataset("0"), ws[0]), 0.0);
      EXPECT_EQ(px::test::max_abs_diff(vars.read_dataset("1"), ws[1]), 0.0);
    }
    EXPECT_EQ(f.root().group("layers").group("attention").group("vars").children().size(), 1u);
  }
  auto fresh = px::saving::model_from_config(config);
  fresh.load_weights(weights);
  EXPECT_EQ(px::test::max_abs_diff(fresh.predict({xs, mask})[0], want[0]), 0.0);
  fs::remove_all(dir);
}

// --- attention_axes (inputs of rank >= 4) ------------------------------------------------------
// Keras 3's _build_attention_equation: with projected q [B, ..., heads, key_dim] the scores are
// [B, <other axes>, heads, <query attention axes>, <key attention axes>] (attention axes in
// the given order), the softmax runs over the key attention axes jointly, the output is the
// query's shape with the last axis = output_shape; the weights do not depend on the axes.

struct AxesCase {
  std::string label;
  std::optional<std::vector<Dim>> axes;
  Shape query, value;           // without the batch
  std::vector<Dim> normalised;  // attention_axes after build
  Shape scores;                 // without the batch
  std::optional<std::vector<Dim>> output_shape = std::nullopt;
  Shape output = {};  // without the batch; empty = the query's
};

TEST(MultiHeadAttentionAxes, ShapesParamsAndNormalisedAxesAreKeras) {
  // heads 2, key_dim 4: q/k/v kernels (C, 2, 4) + biases (2, 4), out (2, 4, C) + (C).
  const std::vector<AxesCase> cases = {
      {"default_4d", std::nullopt, {3, 4, 6}, {3, 4, 6}, {1, 2}, {2, 3, 4, 3, 4}},
      {"both", std::vector<Dim>{1, 2}, {3, 4, 6}, {5, 2, 6}, {1, 2}, {2, 3, 4, 5, 2}},
      {"width_only", std::vector<Dim>{2}, {3, 4, 6}, {3, 5, 6}, {2}, {3, 2, 4, 5}},
      {"negative", std::vector<Dim>{-3}, {3, 4, 6}, {5, 4, 6}, {1}, {4, 2, 3, 5}},
      {"reversed", std::vector<Dim>{2, 1}, {3, 4, 6}, {3, 4, 6}, {2, 1}, {2, 4, 3, 4, 3}},
      {"rank5", std::vector<Dim>{1, -2}, {2, 3, 4, 6}, {5, 3, 2, 6}, {1, 3}, {3, 2, 2, 4, 5, 2}},
      {"rank5_default", std::nullopt, {2, 3, 4, 6}, {2, 3, 4, 6}, {1, 2, 3}, {2, 2, 3, 4, 2, 3, 4}},
      {"output_shape",
       std::vector<Dim>{2},
       {3, 4, 6},
       {3, 4, 6},
       {2},
       {3, 2, 4, 4},
       std::vector<Dim>{2, 5},
       {3, 4, 2, 5}},
  };
  for (const AxesCase& c : cases) {
    SCOPED_TRACE(c.label);
    px::utils::clear_session();
    auto mha = L::MultiHeadAttention(
        2, 4, {.output_shape = c.output_shape, .attention_axes = c.axes, .name = "mha"});
    auto q = px::Input(c.query);
    auto v = px::Input(c.value);
    auto outs = mha({q, v}, {.return_attention_scores = true});
    Shape want = {-1};
    const Shape& tail = c.output.empty() ? c.query : c.output;
    want.insert(want.end(), tail.begin(), tail.end());
    EXPECT_EQ(outs[0].shape(), want);
    Shape scores = {-1};
    scores.insert(scores.end(), c.scores.begin(), c.scores.end());
    EXPECT_EQ(outs[1].shape(), scores);
    EXPECT_EQ(mha->get_config()["attention_axes"], Config(c.normalised));
    // Weights as without attention_axes: (6, 2, 4) ... (2, 4, out...).
    Shape out_kernel = {2, 4};
    const Shape out_tail = c.output_shape ? Shape(*c.output_shape) : Shape{6};
    out_kernel.insert(out_kernel.end(), out_tail.begin(), out_tail.end());
    const std::vector<Shape> shapes = {{6, 2, 4}, {2, 4}, {6, 2, 4},  {2, 4},
                                       {6, 2, 4}, {2, 4}, out_kernel, out_tail};
    auto ws = mha->weights();
    ASSERT_EQ(ws.size(), kPaths.size());
    for (std::size_t i = 0; i < ws.size(); ++i) {
      EXPECT_EQ(ws[i].path(), kPaths[i]);
      EXPECT_EQ(ws[i].shape(), shapes[i]) << kPaths[i];
    }
    Dim out_size = 1;
    for (Dim d : out_tail) out_size *= d;
    EXPECT_EQ(mha->count_params(), std::size_t(3 * (6 * 8 + 8) + 8 * out_size + out_size));
    // A model runs it with those shapes.
    px::Model model({q, v}, std::vector<SymbolicTensor>{outs[0], outs[1]});
    Shape xq = {2}, xv = {2};
    xq.insert(xq.end(), c.query.begin(), c.query.end());
    xv.insert(xv.end(), c.value.begin(), c.value.end());
    auto ys = model.predict({random_tensor(xq, 1), random_tensor(xv, 2)});
    want[0] = scores[0] = 2;
    EXPECT_EQ(px::shape_of(ys[0]), want);
    EXPECT_EQ(px::shape_of(ys[1]), scores);
  }
}

// MultiHeadAttention over [B, H, W, C] in loops (Keras's einsums written out): query
// position (i, j) attends to key positions (i2, j2) that agree with it on the axes not
// attended over, where allowed(b, i, j, i2, j2); the softmax runs over all of them jointly.
// p holds the probabilities as [b][head][i][j][i2][j2] (0 where not attended).
struct Reference4 {
  Tensor out;
  std::vector<double> p;
};
using Allowed4 =
    std::function<bool(std::size_t, std::size_t, std::size_t, std::size_t, std::size_t)>;
Reference4 mha_reference4(const L::MultiHeadAttentionLayer& m, const Tensor& query,
                          const Tensor& value, bool attend_h, bool attend_w,
                          const Allowed4& allowed) {
  const auto ws = m.get_weights();
  const std::size_t n = query.shape()[0], hq = query.shape()[1], wq = query.shape()[2],
                    dq = query.shape()[3], hk = value.shape()[1], wk = value.shape()[2],
                    dv = value.shape()[3];
  const std::size_t heads = std::size_t(m.num_heads()), kd = std::size_t(m.key_dim()),
                    vd = std::size_t(m.value_dim()), dout = ws[6].shape()[2];
  Reference4 r{Tensor::from_shape({n, hq, wq, dout}),
               std::vector<double>(n * heads * hq * wq * hk * wk, 0.0)};
  auto project = [&](const Tensor& x, std::size_t b, std::size_t i, std::size_t j, const Tensor& w,
                     const Tensor& bias, std::size_t hh, std::size_t e, std::size_t d) {
    double acc = bias(hh, e);
    for (std::size_t f = 0; f < d; ++f) acc += double(x(b, i, j, f)) * w(f, hh, e);
    return acc;
  };
  for (std::size_t b = 0; b < n; ++b) {
    for (std::size_t i = 0; i < hq; ++i) {
      for (std::size_t j = 0; j < wq; ++j) {
        std::vector<double> o(heads * vd, 0.0);
        for (std::size_t hh = 0; hh < heads; ++hh) {
          std::vector<double> qv(kd);
          for (std::size_t e = 0; e < kd; ++e)
            qv[e] = project(query, b, i, j, ws[0], ws[1], hh, e, dq);
          // The keys this query sees: the same row (attend over W) / column (over H).
          std::vector<std::pair<std::size_t, std::size_t>> keys;
          for (std::size_t i2 = 0; i2 < hk; ++i2)
            for (std::size_t j2 = 0; j2 < wk; ++j2)
              if ((attend_h || i2 == i) && (attend_w || j2 == j)) keys.push_back({i2, j2});
          std::vector<double> z(keys.size());
          double mx = -1e300;
          for (std::size_t c = 0; c < keys.size(); ++c) {
            const auto [i2, j2] = keys[c];
            double d = 0;
            for (std::size_t e = 0; e < kd; ++e)
              d += qv[e] * project(value, b, i2, j2, ws[2], ws[3], hh, e, dv);
            z[c] = allowed(b, i, j, i2, j2) ? d / std::sqrt(double(kd)) : -1e9;
            mx = std::max(mx, z[c]);
          }
          double sum = 0;
          for (double zc : z) sum += std::exp(zc - mx);
          for (std::size_t c = 0; c < keys.size(); ++c) {
            const auto [i2, j2] = keys[c];
            if (!allowed(b, i, j, i2, j2)) continue;
            const double p = std::exp(z[c] - mx) / sum;
            r.p[((((b * heads + hh) * hq + i) * wq + j) * hk + i2) * wk + j2] = p;
            for (std::size_t e = 0; e < vd; ++e)
              o[hh * vd + e] += p * project(value, b, i2, j2, ws[4], ws[5], hh, e, dv);
          }
        }
        for (std::size_t c = 0; c < dout; ++c) {
          double acc = ws[7](c);
          for (std::size_t hh = 0; hh < heads; ++hh)
            for (std::size_t e = 0; e < vd; ++e) acc += o[hh * vd + e] * ws[6](hh, e, c);
          r.out(b, i, j, c) = float(acc);
        }
      }
    }
  }
  return r;
}

TEST(MultiHeadAttentionAxes, ForwardMatchesLoopsOverTheImageAndOverWidth) {
  px::utils::clear_session();
  const std::size_t n = 2, h = 3, w = 4, hk = 2, wk = 5;
  auto q = px::Input({3, 4, 5});
  auto v2 = px::Input({2, 5, 6});      // cross attention over the image: other H and W
  auto v1 = px::Input({3, 5, 6});      // over W only: H is shared with the query
  auto am2 = px::Input({3, 4, 2, 5});  // [B, H, W, H2, W2]
  auto am1 = px::Input({3, 4, 5});     // [B, H, W, W2]
  auto am1b = px::Input({1, 4, 5});    // [B, 1, W, W2]: spread over H
  auto image =
      L::MultiHeadAttention(2, 3, {.value_dim = 2, .attention_axes = std::vector<Dim>{1, 2}});
  auto width = L::MultiHeadAttention(3, 2, {.attention_axes = std::vector<Dim>{2}});
  auto img = image({q, v2}, {.attention_mask = am2, .return_attention_scores = true});
  auto img_plain = image({q, v2});
  auto wid = width({q, v1}, {.attention_mask = am1, .return_attention_scores = true});
  auto wid_b = width({q, v1}, {.attention_mask = am1b});
  // A mask of batch 1 that varies along H (a non-attention axis): [1, H, W, W2], sample 0
  // of a mask input (the other sample is not used).
  auto am1c = px::Input({3, 4, 5});
  const SymbolicTensor first = px::ops::slice(am1c, 0, 0, 1);
  Tensor m1c = xt::ones<float>({n, h, w, wk});
  m1c(0, 0, 0, 1) = m1c(0, 2, 1, 0) = m1c(0, 2, 1, 3) = m1c(0, 1, 3, 4) = m1c(1, 0, 0, 0) = 0.0f;
  auto wid_c = width({q, v1}, {.attention_mask = first});
  randomise(image, 3);
  randomise(width, 11);
  px::Model model(
      {q, v2, v1, am2, am1, am1b, am1c},
      std::vector<SymbolicTensor>{img[0], img[1], img_plain, wid[0], wid[1], wid_b, wid_c});
  const Tensor xq = random_tensor({n, h, w, 5}, 1), xv2 = random_tensor({n, hk, wk, 6}, 2),
               xv1 = random_tensor({n, h, wk, 6}, 3);
  Tensor m2 = xt::ones<float>({n, h, w, hk, wk}), m1 = xt::ones<float>({n, h, w, wk}),
         m1b = xt::ones<float>({n, std::size_t(1), w, wk});
  m2(0, 1, 2, 0, 3) = m2(0, 1, 2, 1, 1) = m2(1, 0, 0, 1, 4) = m2(1, 2, 3, 0, 0) = 0.0f;
  m1(0, 0, 1, 2) = m1(0, 2, 3, 4) = m1(1, 1, 0, 0) = 0.0f;
  m1b(0, 0, 1, 2) = m1b(1, 0, 3, 0) = m1b(1, 0, 3, 1) = 0.0f;
  auto ys = model.predict({xq, xv2, xv1, m2, m1, m1b, m1c});

  const auto r2 = mha_reference4(
      *image, xq, xv2, true, true,
      [&](auto b, auto i, auto j, auto i2, auto j2) { return m2(b, i, j, i2, j2) != 0.0f; });
  EXPECT_LT(px::test::max_abs_diff(ys[0], r2.out), 1e-5);
  // Scores [B, heads, H, W, H2, W2]: the reference's layout exactly.
  ASSERT_EQ(px::shape_of(ys[1]), (Shape{2, 2, 3, 4, 2, 5}));
  double worst = 0;
  for (std::size_t e = 0; e < r2.p.size(); ++e)
    worst = std::max(worst, std::abs(double(ys[1].data()[e]) - r2.p[e]));
  EXPECT_LT(worst, 1e-5);
  const auto all = [](auto, auto, auto, auto, auto) { return true; };
  EXPECT_LT(px::test::max_abs_diff(ys[2], mha_reference4(*image, xq, xv2, true, true, all).out),
            1e-5);

  const auto r1 = mha_reference4(
      *width, xq, xv1, false, true,
      [&](auto b, auto i, auto j, auto, auto j2) { return m1(b, i, j, j2) != 0.0f; });
  EXPECT_LT(px::test::max_abs_diff(ys[3], r1.out), 1e-5);
  // Scores [B, H, heads, W, W2] (H is a batch axis of Keras's einsum, before the heads).
  ASSERT_EQ(px::shape_of(ys[4]), (Shape{2, 3, 3, 4, 5}));
  worst = 0;
  for (std::size_t b = 0; b < n; ++b)
    for (std::size_t hh = 0; hh < 3; ++hh)
      for (std::size_t i = 0; i < h; ++i)
        for (std::size_t j = 0; j < w; ++j)
          for (std::size_t j2 = 0; j2 < wk; ++j2) {
            const double want = r1.p[((((b * 3 + hh) * h + i) * w + j) * h + i) * wk + j2];
            worst = std::max(worst, std::abs(double(ys[4](b, i, hh, j, j2)) - want));
          }
  EXPECT_LT(worst, 1e-5);
  const auto r1b =
      mha_reference4(*width, xq, xv1, false, true,
                     [&](auto b, auto, auto j, auto, auto j2) { return m1b(b, 0, j, j2) != 0.0f; });
  EXPECT_LT(px::test::max_abs_diff(ys[5], r1b.out), 1e-5);
  const auto r1c =
      mha_reference4(*width, xq, xv1, false, true,
                     [&](auto, auto i, auto j, auto, auto j2) { return m1c(0, i, j, j2) != 0.0f; });
  EXPECT_LT(px::test::max_abs_diff(ys[6], r1c.out), 1e-5);
  EXPECT_GT(px::test::max_abs_diff(ys[6], ys[5]), 1e-4);  // the masks differ, so do the outputs
}

// Embedding(mask_zero) on ids [B, H, W]: masks [B, H, W] combine as Keras's
// _compute_attention_mask (query [B, H, W, 1] & value [B, H, 1, W2]) for attention over W.
TEST(MultiHeadAttentionAxes, InputMasksCombineAsKeras) {
  px::utils::clear_session();
  auto ids = px::Input({2, 4});
  auto e = L::Embedding(9, 5, {.mask_zero = true})(ids);
  auto mha = L::MultiHeadAttention(2, 3, {.attention_axes = std::vector<Dim>{-2}});
  auto y = mha({e, e});
  EXPECT_TRUE(px::masking::mask_of(y).defined());
  px::Model model(ids, y);
  px::Model embed(ids, e);
  randomise(mha, 71);
  const Tensor x = {{{3, 5, 0, 2}, {0, 0, 7, 1}}, {{4, 0, 0, 0}, {8, 6, 2, 5}}};
  const Tensor xe = embed.predict(x);
  const auto r =
      mha_reference4(*mha, xe, xe, false, true, [&](auto b, auto i, auto j, auto, auto j2) {
        return x(b, i, j) != 0.0f && x(b, i, j2) != 0.0f;
      });
  const Tensor got = model.predict(x);
  EXPECT_LT(px::test::max_abs_diff(got, r.out), 1e-5);
  const auto all = [](auto, auto, auto, auto, auto) { return true; };
  EXPECT_GT(px::test::max_abs_diff(got, mha_reference4(*mha, xe, xe, false, true, all).out), 1e-4);
}

TEST(MultiHeadAttentionAxes, CausalMaskAsKeras) {
  px::utils::clear_session();
  // One attention axis whose sizes are axis 1's: Keras's causal mask [1, T, S] is the lower
  // triangle over it.
  auto x = px::Input({4, 3, 5});
  auto over_h = L::MultiHeadAttention(2, 3, {.attention_axes = std::vector<Dim>{1}});
  px::Model model(x, over_h({x, x}, {.use_causal_mask = true}));
  randomise(over_h, 21);
  const Tensor a = random_tensor({2, 4, 3, 5}, 4);
  const auto r = mha_reference4(*over_h, a, a, true, false,
                                [](auto, auto i, auto, auto i2, auto) { return i2 <= i; });
  EXPECT_LT(px::test::max_abs_diff(model.predict(a), r.out), 1e-5);
  // Over W of a square image the same mask fits (Keras uses axis 1's sizes).
  auto sq = px::Input({4, 4, 5});
  auto over_w = L::MultiHeadAttention(2, 3, {.attention_axes = std::vector<Dim>{2}});
  px::Model square(sq, over_w({sq, sq}, {.use_causal_mask = true}));
  randomise(over_w, 23);
  const Tensor s = random_tensor({2, 4, 4, 5}, 6);
  const auto rs = mha_reference4(*over_w, s, s, false, true,
                                 [](auto, auto, auto j, auto, auto j2) { return j2 <= j; });
  EXPECT_LT(px::test::max_abs_diff(square.predict(s), rs.out), 1e-5);
  // Several attention axes (Keras: expand_dims out of range) or sizes that do not fit.
  const std::string many = error_message([&] {
    L::MultiHeadAttention(2, 3, {.name = "causal2"})({x, x}, {.use_causal_mask = true});
  });
  EXPECT_TRUE(contains(many, "causal2")) << many;
  EXPECT_TRUE(contains(many, "use_causal_mask")) << many;
  EXPECT_TRUE(contains(many, "(None, 4, 3, 5)")) << many;
  EXPECT_TRUE(contains(error_message([&] {
                         L::MultiHeadAttention(2, 3, {.attention_axes = std::vector<Dim>{2}})(
                             {x, x}, {.use_causal_mask = true});
                       }),
                       "causal mask [1, 4, 4]"));
}

TEST(MultiHeadAttentionAxes, GradientsMatchFiniteDifferences) {
  px::utils::clear_session();
  auto q = px::Input({2, 3, 3});
  auto v = px::Input({2, 2, 4});
  auto am = px::Input({2, 3, 2});  // [B, H, W, W2] for attention over W
  auto width = L::MultiHeadAttention(2, 2, {.attention_axes = std::vector<Dim>{2}});
  auto image = L::MultiHeadAttention(1, 3, {.value_dim = 2, .output_shape = std::vector<Dim>{2}});
  auto a = width({q, v}, {.attention_mask = am, .return_attention_scores = true});
  auto b = image({a[0], v});
  px::Model model({q, v, am}, std::vector<SymbolicTensor>{b, a[1]});
  randomise(width, 41);
  randomise(image, 51);
  Tensor mask = xt::ones<float>({2, 2, 3, 2});
  mask(0, 1, 2, 0) = mask(1, 0, 0, 1) = 0.0f;
  const std::vector<Tensor> xs = {random_tensor({2, 2, 3, 3}, 7), random_tensor({2, 2, 2, 4}, 8),
                                  mask};
  EXPECT_LT(weight_gradient_error(model, xs), 2e-3);
  // The float inputs (through the transposes and reshapes) against central differences.
  px::test::GraphRunner runner(model, model.trainable_weights(), true);
  const auto outs = runner.forward(xs);
  const std::vector<Tensor> cots = {random_tensor(px::shape_of(outs[0]), 9),
                                    random_tensor(px::shape_of(outs[1]), 10)};
  const auto fg = runner.feed_gradients(xs, cots);
  double worst = 0;
  for (std::size_t f = 0; f < 2; ++f) {
    std::vector<Tensor> probe = xs;
    for (std::size_t i = 0; i < probe[f].size(); ++i) {
      const double numeric = px::detail::central_difference(
          probe[f], i, 1e-2f, [&] { return runner.loss(probe, cots); });
      worst = std::max(worst, px::detail::gradient_error(fg[f].data()[i], numeric));
    }
  }
  EXPECT_LT(worst, 2e-3);
}

TEST(MultiHeadAttentionAxes, ConfigAndKerasArchiveKeepTheAxes) {
  px::utils::clear_session();
  auto q = px::Input({3, 4, 6});
  auto v = px::Input({3, 5, 6});
  auto am = px::Input({3, 4, 5});
  auto mha = L::MultiHeadAttention(2, 4, {.attention_axes = std::vector<Dim>{-2}, .name = "mha"});
  auto outs = mha({q, v}, {.attention_mask = am, .return_attention_scores = true});
  px::Model m({q, v, am}, std::vector<SymbolicTensor>{outs[0], outs[1]});
  randomise(mha, 61);
  const Config c = mha->get_config();
  EXPECT_EQ(c["attention_axes"], Config::array({2}));
  auto again = L::MultiHeadAttentionLayer::from_config(c);
  auto q2 = px::Input({3, 4, 6});
  auto v2 = px::Input({3, 5, 6});
  px::Model m2({q2, v2}, again({q2, v2}));
  EXPECT_EQ(again->get_config(), c);
  // Keras writes an int for one axis in older files.
  Config one = c;
  one["attention_axes"] = 2;
  EXPECT_EQ(L::MultiHeadAttentionLayer::from_config(one)->get_config()["attention_axes"],
            Config::array({2}));

  Tensor mask = xt::ones<float>({2, 3, 4, 5});
  mask(1, 2, 3, 4) = mask(0, 0, 0, 0) = 0.0f;
  const std::vector<Tensor> xs = {random_tensor({2, 3, 4, 6}, 1), random_tensor({2, 3, 5, 6}, 2),
                                  mask};
  const auto want = m.predict(xs);
  const auto dir = px::test::scratch_dir() / "plexus_attention_axes_saving";
  fs::create_directories(dir);
  const std::string archive = (dir / "m.keras").string();
  m.save(archive);
  auto loaded = px::saving::load_model(archive);
  const auto got = loaded.predict(xs);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(px::test::max_abs_diff(got[0], want[0]), 0.0);
  EXPECT_EQ(px::test::max_abs_diff(got[1], want[1]), 0.0);
  bool found = false;
  const Config config = px::saving::model_config(loaded);
  for (const auto& l : config["config"]["layers"]) {
    if (l["class_name"] != "MultiHeadAttention") continue;
    found = true;
    EXPECT_EQ(l["config"]["attention_axes"], Config::array({2}));
    EXPECT_EQ(l["build_config"]["shapes_dict"]["query_shape"], Config::array({nullptr, 3, 4, 6}));
  }
  EXPECT_TRUE(found);
  fs::remove_all(dir);
}

TEST(MultiHeadAttentionAxes, BadAxesNameTheLayerAndTheShapes) {
  px::utils::clear_session();
  auto img = px::Input({3, 4, 6});
  auto seq = px::Input({5, 6});
  struct Bad {
    std::vector<Dim> axes;
    SymbolicTensor x;
    std::string why;
  };
  const std::vector<Bad> bad = {
      {{0}, img, "axis 0 is the batch axis"},   {{-4}, img, "axis -4 is the batch axis"},
      {{3}, img, "axis 3 is the feature axis"}, {{-1}, img, "axis -1 is the feature axis"},
      {{1, 4}, img, "axis 4 is out of range"},  {{-5}, img, "axis -5 is out of range"},
      {{1, -3}, img, "axis -3 is named twice"}, {{2, 2}, img, "axis 2 is named twice"},
      {{2}, seq, "axis 2 is the feature axis"},
  };
  for (const Bad& b : bad) {
    const std::string msg = error_message([&] {
      L::MultiHeadAttention(2, 2, {.attention_axes = b.axes, .name = "bad_axes"})({b.x, b.x});
    });
    SCOPED_TRACE(msg);
    EXPECT_TRUE(contains(msg, "\"bad_axes\""));
    EXPECT_TRUE(contains(msg, b.why));
    EXPECT_TRUE(contains(msg, px::shape_str(b.x.shape())));
  }
  EXPECT_TRUE(contains(
      error_message([] { L::MultiHeadAttention(2, 2, {.attention_axes = std::vector<Dim>{}}); }),
      "attention_axes must name at least one axis"));
  // Non-attention axes are shared by query and key; masks must fit the scores.
  auto other = px::Input({2, 4, 6});
  EXPECT_TRUE(
      contains(error_message([&] {
                 L::MultiHeadAttention(2, 2, {.attention_axes = std::vector<Dim>{2}})({img, other});
               }),
               "query and key must agree on it"));
  EXPECT_TRUE(contains(error_message([&] {
                         L::MultiHeadAttention(2, 2, {.attention_axes = std::vector<Dim>{2}})(
                             {img, img}, {.attention_mask = px::Input({3, 4, 3})});
                       }),
                       "does not broadcast"));
}

// --- errors --------------------------------------------------------------------------------------

TEST(AttentionErrors, UnsupportedOptionsAndBadInputsSayWhy) {
  px::utils::clear_session();
  EXPECT_TRUE(contains(error_message([] { L::MultiHeadAttention(0, 4); }), "num_heads"));
  EXPECT_TRUE(contains(error_message([] { L::Attention({.score_mode = "mlp"}); }), "score_mode"));
  auto x = px::Input({4, 6});
  EXPECT_TRUE(contains(error_message([&] { L::MultiHeadAttention(2, 2)(x); }),
                       "takes [query, value] or [query, value, key]"));
  auto flat = px::Input({6});
  EXPECT_TRUE(contains(error_message([&] {
                         L::MultiHeadAttention(2, 2)({flat, flat});
                       }),
                       "of rank >= 3"));
  auto other = px::Input({5, 6});
  EXPECT_TRUE(contains(error_message([&] {
                         L::MultiHeadAttention(2, 2)({x, x, other});
                       }),
                       "value and key"));
  EXPECT_TRUE(contains(error_message([&] {
                         L::Attention()({x, x}, {.attention_mask = px::Input({4, 4})});
                       }),
                       "takes no attention_mask"));
}

}  // namespace
