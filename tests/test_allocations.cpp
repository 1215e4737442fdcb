// A steady-state training step performs no heap allocation: the executor plans every
// buffer once per batch size, optimizers keep their slots, and fit() re-uses its batch
// buffers. Counted by replacing the global operator new.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <plexus.hpp>

namespace {
std::atomic<long> g_allocations{0};
}

void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  ++g_allocations;
  std::size_t al = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
// These replacements pair malloc with free throughout; GCC 12 still warns when it inlines
// a library's `delete` of memory it saw come from `new` (a false positive here).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace px = plexus;

namespace {

// Allocations made by one fit() of `epochs` epochs on n samples in batches of 8.
long allocations_of_fit(px::Model& model, std::size_t n, int epochs) {
  px::Tensor x = px::Tensor::from_shape({n, 20});
  px::Tensor y = px::Tensor::from_shape({n});
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i % 7) / 7.0f;
  for (std::size_t i = 0; i < n; ++i) y(i) = static_cast<float>(i % 5);
  const long before = g_allocations.load();
  model.fit(x, y, {.epochs = epochs, .batch_size = 8, .verbose = 0});
  return g_allocations.load() - before;
}

void expect_no_per_step_allocation(px::Model& model) {
  allocations_of_fit(model, 64, 1);  // warm-up: plans, optimizer slots, metric state
  const long few_steps = allocations_of_fit(model, 64, 2);    // 2 x 8 steps
  const long many_steps = allocations_of_fit(model, 640, 2);  // 2 x 80 steps
  // Whatever fit() allocates per call or per epoch is the same for both; per step: nothing.
  EXPECT_EQ(many_steps, few_steps)
      << "about " << (many_steps - few_steps) / 144.0 << " allocations per training step";
}

}  // namespace

TEST(Allocations, SteadyStateTrainingStepOfAnMlp) {
  px::utils::set_random_seed(1);
  px::Sequential model({px::layers::Dense(32, {.activation = "relu", .input_shape = {20}}),
                        px::layers::Dense(16, "tanh"), px::layers::Dense(5, "softmax")});
  model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  expect_no_per_step_allocation(model);
}

TEST(Allocations, SteadyStateTrainingStepOfADag) {
  px::utils::set_random_seed(2);
  auto in = px::Input({20});
  auto a = px::layers::Dense(16, "relu")(in);
  auto b = px::layers::Dense(16, "sigmoid")(in);
  auto merged = px::layers::Concatenate()({a, px::layers::Add()({a, b})});
  auto out = px::layers::Dense(5, "softmax")(px::layers::Dropout(0.2)(merged));
  px::Model model(in, out);
  model.compile(px::optim::RMSprop({.momentum = 0.9}), "sparse_categorical_crossentropy",
                {"accuracy"});
  expect_no_per_step_allocation(model);
}

TEST(Allocations, SteadyStateTrainingStepOfAConvnet) {
  // The image kernels keep their scratch (im2col columns, pooling masks, dropout masks) in
  // the kernel object, sized on the first step.
  px::utils::set_random_seed(3);
  namespace L = px::layers;
  px::Sequential model({L::Reshape({4, 5, 1}, {.input_shape = {20}}),
                        L::Conv2D(4, 3, {.padding = "same", .use_bias = false}),
                        L::BatchNormalization(), L::ReLU(), L::MaxPooling2D(2),
                        L::SpatialDropout2D(0.2f), L::Conv2DTranspose(3, 2, {.strides = 2}),
                        L::GlobalAveragePooling2D(), L::Dense(5, "softmax")});
  model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  expect_no_per_step_allocation(model);
}

TEST(Allocations, SteadyStateValueAndGradStep) {
  // px::value_and_grad of any scalar, with random draws inside, then apply_gradients: after
  // the first call with a given input shape, a call allocates nothing.
  px::utils::set_random_seed(4);
  auto in = px::Input({20});
  px::Model model(in, px::layers::Dense(5)(px::layers::Dense(16, "relu")(in)));
  px::random::SeedGenerator seed(7);
  auto step = px::value_and_grad(
      [&](const px::SymbolicTensors& xs) -> px::SymbolicTensors {
        auto h = model(xs[0]).single();
        auto noisy = h + px::random::normal(h, 0.0f, 0.1f, seed);
        return {px::ops::mean(px::ops::square(noisy - xs[1])), h};
      },
      model.trainable_weights());
  px::optim::Adam adam;
  const auto weights = model.trainable_weights();
  px::Tensor x = px::Tensor::from_shape({8, 20}), y = px::Tensor::from_shape({8, 5});
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i % 7) / 7.0f;
  y.fill(0.5f);
  const std::vector<const px::Tensor*> feeds{&x, &y};
  for (int i = 0; i < 2; ++i) {
    auto [values, grads] = step.call(feeds);
    adam.apply_gradients(grads, weights);
  }
  // (apply_gradients builds two pointer lists per call; apply() takes them made once.)
  std::vector<const px::Tensor*> grad_ptrs(weights.size());
  std::vector<px::VariableData*> var_ptrs;
  for (const auto& w : weights) var_ptrs.push_back(w.data().get());
  const long before = g_allocations.load();
  for (int i = 0; i < 5; ++i) {
    auto [values, grads] = step.call(feeds);
    for (std::size_t k = 0; k < grads.size(); ++k) grad_ptrs[k] = grads[k] ? &*grads[k] : nullptr;
    adam.apply(grad_ptrs, var_ptrs);
  }
  EXPECT_EQ(g_allocations.load() - before, 0);
}
