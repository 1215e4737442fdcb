// Hostile sizes and nonsense options through the public API (issue 12): shape products that
// overflow, allocations larger than the machine, NaN and negative options. Each must be a
// px::Error naming the layer or option — not a wrapped shape, std::bad_alloc or a silent
// wrong run.
#include <gtest/gtest.h>
#include <sys/sysinfo.h>

#include <cmath>
#include <functional>
#include <limits>
#include <plexus.hpp>
#include <string>

#include "core/shape.hpp"

namespace px = plexus;

namespace {

// The px::Error message of f, or a marker when f throws something else or nothing.
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const px::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<not a px::Error: ") + typeid(e).name() + ": " + e.what() + ">";
  }
  return "<no exception>";
}

#define EXPECT_ERROR_WITH(f, ...)                                                \
  do {                                                                           \
    const std::string msg_ = error_of(f);                                        \
    for (const std::string part_ : {__VA_ARGS__}) {                              \
      EXPECT_NE(msg_.find(part_), std::string::npos) << part_ << " in " << msg_; \
    }                                                                            \
  } while (0)

constexpr px::Dim k2pow62 = px::Dim{1} << 62;

double machine_memory_bytes() {
  struct sysinfo info {};
  sysinfo(&info);
  return (double(info.totalram) + double(info.totalswap)) * info.mem_unit;
}

}  // namespace

// ---- checked shape arithmetic ------------------------------------------------------------

TEST(CheckedShapes, ProductsThatDoNotFitAreErrors) {
  EXPECT_EQ(px::checked_size(px::Shape{2, 3, 4}, "t"), 24u);
  EXPECT_EQ(px::checked_size(px::Shape{0, 5}, "t"), 0u);
  EXPECT_ERROR_WITH(
      [] {
        px::checked_size(px::Shape{k2pow62, 4}, "op");
      },
      "op: shape", "too many elements");
  // A zero dimension does not make (0, 2^32-1, 2^32-1) safe: its strides overflow.
  EXPECT_ERROR_WITH(
      [] {
        px::checked_size(px::Shape{0, 4294967295, 4294967295}, "idx");
      },
      "too many elements");
  EXPECT_EQ(px::num_elements({-1, 3}), -1);
  EXPECT_ERROR_WITH([] { px::num_elements({-1, k2pow62 + 1, 4}); }, "too many elements");
  EXPECT_EQ(px::checked_product({-1, 3, 4}, 1, "f"), 12);
  EXPECT_EQ(px::checked_known_product({-1, 3, 4}, 0, "f"), 12);
}

TEST(CheckedShapes, DenseWithAnOverflowingKernelIsAnErrorNotZeroParameters) {
  auto in = px::Input({4});
  // 4 x 2^62 wraps to 0 elements: the old code built a model with 0 parameters.
  EXPECT_ERROR_WITH([&] { px::layers::Dense(k2pow62, {.name = "huge"})(in); }, "\"huge\"",
                    "(4, 4611686018427387904)");
}

TEST(CheckedShapes, ReshapeWhoseTargetWrapsIsRejected) {
  auto in = px::Input({4});
  // (2^62 + 1) * 4 wraps to 4, which the old code took for "unchanged size".
  EXPECT_ERROR_WITH(
      [&] {
        px::layers::Reshape({k2pow62 + 1, 4}, {.name = "wrap"})(in);
      },
      "\"wrap\"", "too many elements");
}

TEST(CheckedShapes, FlattenOfAnUnrepresentableShapeIsRejected) {
  auto in = px::Input({k2pow62 + 1, 4});
  // The old code answered (None, 4).
  EXPECT_ERROR_WITH([&] { px::layers::Flatten({.name = "flat"})(in); }, "\"flat\"",
                    "too many elements");
}

// ---- allocations larger than the machine -------------------------------------------------

TEST(HugeAllocations, DenseReportsTheSizeAndTheLayer) {
  auto in = px::Input({4});
  EXPECT_ERROR_WITH([&] { px::layers::Dense(1'000'000'000'000, {.name = "big"})(in); }, "\"big\"",
                    "4000000000000 floats", "(4, 1000000000000)", "memory");
  // 4 x 3e9 floats = 48 GB: more than this machine, unless it is a very large one.
  if (4 * 3e9 * sizeof(float) > machine_memory_bytes()) {
    EXPECT_ERROR_WITH([&] { px::layers::Dense(3'000'000'000, {.name = "b3"})(in); }, "\"b3\"",
                      "12000000000 floats", "(4, 3000000000)");
  }
}

TEST(HugeAllocations, InitializersMakeNamesWhatItAllocates) {
  EXPECT_ERROR_WITH(
      [] {
        px::initializers::make("zeros", {1'000'000, 1'000'000'000}, "weight \"d/kernel\"");
      },
      "weight \"d/kernel\"", "1000000000000000 floats", "memory");
  EXPECT_ERROR_WITH(
      [] {
        px::initializers::make("ones", {k2pow62, 8});
      },
      "initializer \"Ones\"", "too many elements");
}

TEST(HugeAllocations, ToCategoricalReportsTheSize) {
  const px::Tensor y = {0.0f, 1e12f};
  EXPECT_ERROR_WITH([&] { px::utils::to_categorical(y); }, "to_categorical", "floats", "memory");
  EXPECT_ERROR_WITH([&] { px::utils::to_categorical(px::Tensor{0.0f}, k2pow62); }, "to_categorical",
                    "too many elements");
  EXPECT_ERROR_WITH([&] { px::utils::to_categorical(px::Tensor{3e38f}); }, "to_categorical",
                    "more classes");
}

TEST(HugeAllocations, ResizeToReportsTheSize) {
  px::Tensor t;
  EXPECT_ERROR_WITH([&] { px::resize_to(t, {1'000'000, 1'000'000, 1000}); }, "resize_to", "memory");
  EXPECT_ERROR_WITH([&] { px::resize_to(t, {k2pow62, 2, 2}); }, "too many elements");
}

// ---- nonsense options --------------------------------------------------------------------

namespace {
struct Tiny {
  px::Model model;
  px::Tensor x = px::Tensor::from_shape({8, 2});
  px::Tensor y = px::Tensor::from_shape({8, 1});
};
Tiny tiny(const px::OptimizerSpec& optimizer = "sgd") {
  px::utils::set_random_seed(3);
  auto in = px::Input({2});
  Tiny t{px::Model(in, px::layers::Dense(1, "sigmoid")(in))};
  for (std::size_t i = 0; i < 8; ++i) {
    t.x(i, 0) = float(i % 2);
    t.x(i, 1) = float(i / 4);
    t.y(i, 0) = float(i % 2);
  }
  t.model.compile(optimizer, "binary_crossentropy");
  return t;
}
}  // namespace

TEST(NonsenseOptions, ValidationSplitNaNIsRejected) {
  auto t = tiny();
  EXPECT_ERROR_WITH([&] { t.model.fit(t.x, t.y, {.validation_split = NAN, .verbose = 0}); },
                    "validation_split", "nan");
  EXPECT_ERROR_WITH([&] { t.model.fit(t.x, t.y, {.validation_split = 1.0, .verbose = 0}); },
                    "validation_split");
}

TEST(NonsenseOptions, NegativeOrNaNClassWeightIsRejected) {
  auto t = tiny();
  EXPECT_ERROR_WITH(
      [&] {
        t.model.fit(t.x, t.y, {.class_weight = {{0, 1.0}, {1, -2.0}}, .verbose = 0});
      },
      "class_weight", "class 1", "-2");
  EXPECT_ERROR_WITH(
      [&] {
        t.model.fit(t.x, t.y, {.class_weight = {{0, NAN}, {1, 1.0}}, .verbose = 0});
      },
      "class_weight", "class 0");
  // Zero is allowed (Keras: a class that does not count).
  EXPECT_NO_THROW(t.model.fit(t.x, t.y, {.class_weight = {{0, 0.0}, {1, 1.0}}, .verbose = 0}));
}

TEST(NonsenseOptions, NaNLearningRateIsRejected) {
  EXPECT_ERROR_WITH([] { px::optim::Adam({.learning_rate = NAN}); }, "learning_rate", "nan");
  EXPECT_ERROR_WITH([] { px::optim::SGD({.learning_rate = -0.1}); }, "learning_rate", "-0.1");
  EXPECT_ERROR_WITH(
      [] { px::optim::RMSprop({.learning_rate = std::numeric_limits<double>::infinity()}); },
      "learning_rate", "inf");
  // A rate set later (ReduceLROnPlateau-style) is checked where it is used.
  auto t = tiny(px::optim::SGD({.learning_rate = 0.1}));
  t.model.optimizer().set_learning_rate(NAN);
  EXPECT_ERROR_WITH([&] { t.model.fit(t.x, t.y, {.verbose = 0}); }, "learning_rate", "nan");
}

// ---- leaks the sanitizer stage found -----------------------------------------------------

TEST(Leaks, AnInputIsFreedWithTheLastTensorThatUsesIt) {
  // The InputLayer held its call, which holds the InputLayer: every Input() leaked (LSan's
  // first finding in .ci/run's sanitizer stage).
  std::weak_ptr<void> layer;
  {
    auto x = px::Input({3});
    layer = x.history()->layer;
    EXPECT_FALSE(layer.expired());
  }
  EXPECT_TRUE(layer.expired());
  {
    auto in = px::Input({3});
    px::Model model(in, px::layers::Dense(2)(in));
    layer = in.history()->layer;
    in = px::SymbolicTensor();
    // The model keeps its input alive, and with it the same tensor.
    EXPECT_FALSE(layer.expired());
    EXPECT_EQ(model.predict(px::Tensor(xt::zeros<float>({2, 3}))).shape()[1], 2u);
  }
  EXPECT_TRUE(layer.expired());
}
