// A custom training loop without compile(): px::value_and_grad(model, loss, x, y) /
// model.compute_gradients(x, y, loss), then optimizer.apply_gradients(grads, weights) —
// Keras's "Writing a training loop from scratch" guide, written in plexus.
#include <gtest/gtest.h>

#include <plexus.hpp>

namespace px = plexus;
namespace kw = px::kw;
using ST = px::SymbolicTensor;

namespace {

// MNIST-like data: 784 features, 10 classes, each class a noisy copy of its own pattern.
struct Digits {
  px::Tensor x, y;
};
Digits make_digits(std::size_t n, unsigned seed) {
  px::utils::set_random_seed(seed);
  const px::Tensor patterns = xt::random::rand<float>({10, 784});
  Digits d{px::Tensor::from_shape({n, 784}), px::Tensor::from_shape({n})};
  const px::Tensor noise = xt::random::rand<float>(std::vector<std::size_t>{n, 784});
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = i % 10;
    d.y(i) = static_cast<float>(c);
    for (std::size_t j = 0; j < 784; ++j) {
      d.x(i, j) = 0.5f * patterns(c, j) + 0.5f * noise(i, j);
    }
  }
  return d;
}

// The guide's model: 784 -> Dense(64, relu) -> Dense(64, relu) -> Dense(10) logits.
px::Model make_model(const char* name) {
  auto inputs = px::Input({784}, "digits");
  auto x1 = px::layers::Dense(64, kw::activation = "relu")(inputs);
  auto x2 = px::layers::Dense(64, kw::activation = "relu")(x1);
  auto outputs = px::layers::Dense(10, kw::name = "predictions")(x2);
  return px::Model(inputs, outputs, name);
}

px::Tensor rows(const px::Tensor& t, std::size_t begin, std::size_t count) {
  px::Tensor out;
  px::copy_rows(t, begin, count, out);
  return out;
}

void expect_same(const std::vector<px::Tensor>& a, const std::vector<px::Tensor>& b, float tol) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    ASSERT_EQ(a[k].shape(), b[k].shape());
    for (std::size_t i = 0; i < a[k].size(); ++i) {
      ASSERT_NEAR(a[k].data()[i], b[k].data()[i], tol) << "weight " << k << " element " << i;
    }
  }
}

int traces = 0;  // how many times the counting loss below was traced

}  // namespace

TEST(CustomLoop, KerasGuideTrainingLoopFromScratch) {
  const Digits train = make_digits(640, 1);
  px::utils::set_random_seed(2);
  px::Model model = make_model("mnist_guide");
  // optimizer = keras.optimizers.Adam(1e-3); loss_fn = SparseCategoricalCrossentropy(True)
  px::optim::Adam optimizer({.learning_rate = 1e-3});
  px::losses::SparseCategoricalCrossentropy loss_fn({.from_logits = true});
  px::metrics::SparseCategoricalAccuracy train_acc;
  const std::size_t batch_size = 32, steps = train.x.shape()[0] / batch_size;
  std::vector<double> epoch_loss;
  for (int epoch = 0; epoch < 3; ++epoch) {
    double sum = 0;
    train_acc.reset_state();
    for (std::size_t step = 0; step < steps; ++step) {
      const px::Tensor xb = rows(train.x, step * batch_size, batch_size);
      const px::Tensor yb = rows(train.y, step * batch_size, batch_size);
      // with GradientTape: logits = model(x, training=True); loss = loss_fn(y, logits)
      auto [loss, grads] = px::value_and_grad(model, loss_fn, xb, yb);
      ASSERT_EQ(grads.size(), model.trainable_weights().size());
      optimizer.apply_gradients(grads, model.trainable_weights());
      train_acc.update_state(yb, model(xb));
      sum += loss;
    }
    epoch_loss.push_back(sum / steps);
  }
  EXPECT_FALSE(model.compiled());  // no compile() anywhere
  EXPECT_EQ(optimizer.iterations(), static_cast<std::int64_t>(3 * steps));
  EXPECT_LT(epoch_loss[2], 0.5 * epoch_loss[0]) << epoch_loss[0] << " -> " << epoch_loss[2];
  EXPECT_GT(train_acc.result(), 0.9);
  // The loss value is the loss of the model's training-mode output (no dropout here: the
  // eager call's).
  const px::Tensor xb = rows(train.x, 0, 64), yb = rows(train.y, 0, 64);
  EXPECT_NEAR(model.compute_gradients(xb, yb, loss_fn).loss, loss_fn(yb, model(xb)), 1e-5);
}

TEST(CustomLoop, GradientsEqualCompileAndTrainOnBatch) {
  const Digits data = make_digits(64, 3);
  const px::Tensor xb = rows(data.x, 0, 32), yb = rows(data.y, 0, 32);
  for (const char* opt : {"sgd", "adam"}) {
    px::utils::set_random_seed(4);
    px::Model loop = make_model("loop");
    px::Model compiled = make_model("compiled");
    compiled.set_weights(loop.get_weights());
    auto loss = px::losses::SparseCategoricalCrossentropy({.from_logits = true});
    compiled.compile(kw::optimizer = opt, kw::loss = loss);
    // Gradients: uncompiled value_and_grad == the compiled model's.
    const px::Gradients mine = px::value_and_grad(loop, loss, xb, yb);
    const px::Gradients theirs = compiled.compute_gradients(xb, yb);
    EXPECT_NEAR(mine.loss, theirs.loss, 1e-6);
    ASSERT_EQ(mine.grads.size(), theirs.grads.size());
    std::vector<px::Tensor> a, b;
    for (std::size_t k = 0; k < mine.grads.size(); ++k) {
      ASSERT_TRUE(mine.grads[k] && theirs.grads[k]);
      a.push_back(*mine.grads[k]);
      b.push_back(*theirs.grads[k]);
    }
    expect_same(a, b, 1e-6f);
    // A few steps: apply_gradients after value_and_grad == train_on_batch.
    auto optimizer = px::optim::get(opt);
    for (int step = 0; step < 3; ++step) {
      const px::Tensor x = rows(data.x, 32 * (step % 2), 32), y = rows(data.y, 32 * (step % 2), 32);
      auto [l, grads] = loop.compute_gradients(x, y, loss);
      optimizer->apply_gradients(grads, loop.trainable_weights());
      const double tl = compiled.train_on_batch(x, y)[0];
      EXPECT_NEAR(l, tl, 1e-5) << opt << " step " << step;
    }
    expect_same(loop.get_weights(), compiled.get_weights(), 1e-5f);
  }
}

TEST(CustomLoop, TakesWhatCompileTakes) {
  const Digits data = make_digits(40, 5);
  px::utils::set_random_seed(6);
  auto x = px::Input({784});
  auto h = px::layers::Dense(
      8, {.activation = "relu", .kernel_regularizer = px::regularizers::L2(1e-2)})(x);
  auto score = px::layers::Dense(1, kw::name = "score")(h);
  auto klass = px::layers::Dense(10, kw::activation = "softmax", kw::name = "klass")(h);
  px::Model model({x}, {score, klass}, "two_heads");
  const px::Tensor target = xt::ones<float>({40, 1});
  const std::vector<px::Tensor> ys{target, data.y};
  // A map by output name, a list, names, objects and a callable built from px::ops.
  auto mse = [](const ST& t, const ST& p) { return px::ops::mean(px::ops::square(t - p), {-1}); };
  const px::Gradients by_map = model.compute_gradients(
      data.x, ys, {{"score", "mse"}, {"klass", "sparse_categorical_crossentropy"}});
  const px::Gradients by_list = model.compute_gradients(
      data.x, ys,
      std::vector<px::LossItem>{px::losses::MeanSquaredError(),
                                px::losses::SparseCategoricalCrossentropy()});
  // The same loss the compiled model computes (its regularization penalty included).
  px::Model twin = model;  // a handle on the same model
  twin.compile(kw::optimizer = "sgd",
               kw::loss = {{"score", px::losses::LossFunction("my_mse", mse)},
                           {"klass", "sparse_categorical_crossentropy"}});
  const px::Gradients compiled = twin.compute_gradients(data.x, ys);
  EXPECT_NEAR(by_map.loss, compiled.loss, 1e-6);
  EXPECT_NEAR(by_list.loss, compiled.loss, 1e-6);
  const double penalty = 1e-2 * xt::sum(xt::square(model.get_weights()[0]))();
  EXPECT_GT(by_map.loss, penalty);
  // A callable on one output; the other output has no loss, so its head has no gradient.
  auto only_score = [](const ST& t, const ST& p) {
    return px::ops::mean(px::ops::abs(t - p), {-1});
  };
  px::Model single(x, score, "score_only");
  const px::Gradients g = single.compute_gradients(data.x, target, only_score);
  EXPECT_EQ(g.grads.size(), single.trainable_weights().size());
  for (auto& gr : g.grads) EXPECT_TRUE(gr.has_value());
  EXPECT_THROW((void)model.compute_gradients(data.x, ys, px::LossSpec{}), px::Error);
}

TEST(CustomLoop, TheFunctionIsCachedPerLoss) {
  const Digits data = make_digits(20, 7);
  px::utils::set_random_seed(8);
  px::Model model = make_model("cached");
  const px::Tensor onehot = px::utils::to_categorical(data.y, 10);
  auto counting = [](const ST& t, const ST& p) {
    ++traces;
    return px::ops::mean(px::ops::square(t - p), {-1});
  };
  traces = 0;
  for (int i = 0; i < 4; ++i) (void)model.compute_gradients(data.x, onehot, counting);
  EXPECT_EQ(traces, 1);
  // A callable with captured values: one trace per value.
  traces = 0;
  for (float scale : {1.0f, 2.0f, 1.0f, 2.0f}) {
    auto scaled = [scale](const ST& t, const ST& p) {
      ++traces;
      return px::ops::multiply(px::ops::mean(px::ops::square(t - p), {-1}), scale);
    };
    const double l = model.compute_gradients(data.x, onehot, scaled).loss;
    const double base = model.compute_gradients(data.x, onehot, counting).loss;
    EXPECT_NEAR(l, scale * base, 1e-5 * scale * base);
  }
  EXPECT_EQ(traces, 2);
  // A LossFunction shared across calls is traced once; freezing a layer rebuilds.
  traces = 0;
  auto shared = px::LossSpec(px::LossItem(px::losses::make_loss_function("mine", counting)));
  (void)model.compute_gradients(data.x, onehot, shared);
  (void)model.compute_gradients(data.x, onehot, shared);
  EXPECT_EQ(traces, 1);
  model.layers()[1]->set_trainable(false);
  const px::Gradients frozen = model.compute_gradients(data.x, onehot, shared);
  EXPECT_EQ(traces, 2);
  EXPECT_EQ(frozen.grads.size(), model.trainable_weights().size());
  EXPECT_EQ(frozen.grads.size(), 4u);
}
