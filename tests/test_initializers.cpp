// Initializers: Keras 3 formulas (bounds and spreads on big tensors), fans, seeding,
// orthogonality, names and error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>
#include <xtensor/xmath.hpp>

#include "core/error.hpp"
#include "core/initializers.hpp"
#include "core/random.hpp"

namespace px = plexus;
namespace init = plexus::initializers;
using px::Shape;
using px::Tensor;

namespace {

constexpr double kTrunc = 0.87962566103423978;

struct Stats {
  double mean, stddev, min, max;
};

Stats stats(const Tensor& t) {
  double s = 0, ss = 0, lo = 1e300, hi = -1e300;
  for (float v : t) {
    s += v;
    ss += double(v) * v;
    lo = std::min(lo, double(v));
    hi = std::max(hi, double(v));
  }
  const double n = double(t.size());
  const double mean = s / n;
  return {mean, std::sqrt(ss / n - mean * mean), lo, hi};
}

TEST(Initializers, Fans) {
  auto f = init::compute_fans({784, 64});
  EXPECT_EQ(f.fan_in, 784);
  EXPECT_EQ(f.fan_out, 64);
  f = init::compute_fans({3, 3, 16, 32});  // conv kernel: receptive field 9
  EXPECT_EQ(f.fan_in, 144);
  EXPECT_EQ(f.fan_out, 288);
  f = init::compute_fans({10});
  EXPECT_EQ(f.fan_in, 10);
  EXPECT_EQ(f.fan_out, 10);
}

// Uniform variance-scaling initializers: every value inside (-limit, limit), the extremes
// close to it, and the spread of a uniform, limit / sqrt 3.
struct UniformCase {
  const char* name;
  Shape shape;
  double limit;
};

class UniformInit : public testing::TestWithParam<UniformCase> {};

TEST_P(UniformInit, BoundsAndSpread) {
  const auto& c = GetParam();
  px::utils::set_random_seed(11);
  const Tensor w = init::make(c.name, c.shape);
  ASSERT_EQ(px::shape_of(w), c.shape);
  const Stats s = stats(w);
  EXPECT_GE(s.min, -c.limit);
  EXPECT_LT(s.max, c.limit);
  EXPECT_GT(s.max, 0.99 * c.limit);
  EXPECT_LT(s.min, -0.99 * c.limit);
  // >= 60000 samples: the sample mean's stddev is ~0.0024 limit, the stddev's ~0.2%.
  EXPECT_NEAR(s.mean, 0.0, 0.01 * c.limit);
  EXPECT_NEAR(s.stddev, c.limit / std::sqrt(3.0), 0.01 * c.limit);
}

INSTANTIATE_TEST_SUITE_P(
    Keras, UniformInit,
    testing::Values(UniformCase{"glorot_uniform", {300, 200}, std::sqrt(6.0 / 500)},
                    UniformCase{"he_uniform", {400, 150}, std::sqrt(6.0 / 400)},
                    UniformCase{"lecun_uniform", {400, 150}, std::sqrt(3.0 / 400)},
                    UniformCase{"glorot_uniform", {5, 5, 40, 60}, std::sqrt(6.0 / (25 * 100))}),
    [](const auto& info) {
      return std::string(info.param.name) + "_" + std::to_string(info.index);
    });

// Truncated-normal variance-scaling initializers: values within 2 untruncated stddevs and
// a measured stddev equal to the target (that is what dividing by 0.8796 buys).
struct NormalCase {
  const char* name;
  Shape shape;
  double stddev;  // the target spread of the result
};

class NormalInit : public testing::TestWithParam<NormalCase> {};

TEST_P(NormalInit, TruncationAndSpread) {
  const auto& c = GetParam();
  px::utils::set_random_seed(12);
  const Tensor w = init::make(c.name, c.shape);
  const Stats s = stats(w);
  const double bound = 2.0 * c.stddev / kTrunc;
  EXPECT_GE(s.min, -bound);
  EXPECT_LE(s.max, bound);
  EXPECT_NEAR(s.mean, 0.0, 0.02 * c.stddev);
  EXPECT_NEAR(s.stddev, c.stddev, 0.02 * c.stddev);
}

INSTANTIATE_TEST_SUITE_P(
    Keras, NormalInit,
    testing::Values(NormalCase{"he_normal", {500, 400}, std::sqrt(2.0 / 500)},
                    NormalCase{"glorot_normal", {300, 200}, std::sqrt(2.0 / 500)},
                    NormalCase{"lecun_normal", {400, 150}, std::sqrt(1.0 / 400)},
                    NormalCase{"he_normal", {3, 3, 32, 64}, std::sqrt(2.0 / 288)}),
    [](const auto& info) {
      return std::string(info.param.name) + "_" + std::to_string(info.index);
    });

TEST(Initializers, Constants) {
  EXPECT_EQ(init::make("zeros", {3, 2}), xt::zeros<float>({3, 2}));
  EXPECT_EQ(init::make("ones", {4}), xt::ones<float>({4}));
  const Tensor c = init::Constant(3.5)({2, 2});
  for (float v : c) EXPECT_EQ(v, 3.5f);
  const Tensor id = init::make("identity", {3, 4});
  EXPECT_EQ(id, (Tensor{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}}));
}

TEST(Initializers, RandomDistributions) {
  px::utils::set_random_seed(5);
  Stats s = stats(init::RandomNormal({.mean = 1.0, .stddev = 2.0})({200, 300}));
  EXPECT_NEAR(s.mean, 1.0, 0.03);
  EXPECT_NEAR(s.stddev, 2.0, 0.03);

  s = stats(init::RandomUniform({.minval = -1.0, .maxval = 3.0})({200, 300}));
  EXPECT_GE(s.min, -1.0);
  EXPECT_LT(s.max, 3.0);
  EXPECT_NEAR(s.mean, 1.0, 0.03);
  EXPECT_NEAR(s.stddev, 4.0 / std::sqrt(12.0), 0.03);

  // Keras defaults: N(0, 0.05), U(-0.05, 0.05).
  s = stats(init::make("random_normal", {200, 300}));
  EXPECT_NEAR(s.stddev, 0.05, 0.001);
  s = stats(init::make("random_uniform", {200, 300}));
  EXPECT_GE(s.min, -0.05);
  EXPECT_LT(s.max, 0.05);

  // Truncated at mean +- 2 stddev (so the spread shrinks to 0.8796 stddev).
  s = stats(init::TruncatedNormal({.mean = 0.5, .stddev = 0.1})({200, 300}));
  EXPECT_GE(s.min, 0.5 - 0.2 - 1e-6);
  EXPECT_LE(s.max, 0.5 + 0.2 + 1e-6);
  EXPECT_NEAR(s.mean, 0.5, 0.002);
  EXPECT_NEAR(s.stddev, 0.1 * kTrunc, 0.002);
}

TEST(Initializers, SameSeedSameWeights) {
  for (const char* name : {"glorot_uniform", "he_normal", "random_normal", "orthogonal"}) {
    px::utils::set_random_seed(99);
    const Tensor a = init::make(name, {20, 30});
    px::utils::set_random_seed(99);
    const Tensor b = init::make(name, {20, 30});
    const Tensor c = init::make(name, {20, 30});  // the generator moved on
    EXPECT_EQ(a, b) << name;
    EXPECT_NE(a, c) << name;
  }
}

// max |M - gain^2 I| for M = A^T A (columns) or A A^T (rows) of a [rows, cols] matrix.
double orthogonality_error(const Tensor& w, std::size_t rows, std::size_t cols, bool by_columns,
                           double gain) {
  const std::size_t n = by_columns ? cols : rows;
  const std::size_t len = by_columns ? rows : cols;
  double worst = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      double dot = 0;
      for (std::size_t l = 0; l < len; ++l) {
        const double a = by_columns ? w.data()[l * cols + i] : w.data()[i * cols + l];
        const double b = by_columns ? w.data()[l * cols + j] : w.data()[j * cols + l];
        dot += a * b;
      }
      worst = std::max(worst, std::abs(dot - (i == j ? gain * gain : 0.0)));
    }
  }
  return worst;
}

TEST(Initializers, OrthogonalIsOrthogonal) {
  px::utils::set_random_seed(3);
  // Tall: orthonormal columns (Q^T Q = I).
  EXPECT_LT(orthogonality_error(init::make("orthogonal", {64, 16}), 64, 16, true, 1.0), 1e-5);
  // Wide: orthonormal rows (Q Q^T = I).
  EXPECT_LT(orthogonality_error(init::make("orthogonal", {8, 40}), 8, 40, false, 1.0), 1e-5);
  // Square, with gain: Q^T Q = gain^2 I.
  EXPECT_LT(orthogonality_error(init::Orthogonal({.gain = 2.0})({32, 32}), 32, 32, true, 2.0),
            1e-4);
  // Conv kernel [3, 3, 4, 8] -> flattened [36, 8].
  EXPECT_LT(orthogonality_error(init::make("Orthogonal", {3, 3, 4, 8}), 36, 8, true, 1.0), 1e-5);
  EXPECT_THROW(init::make("orthogonal", {5}), px::Error);
}

TEST(Initializers, OrthogonalIsTheQOfTheDrawnMatrixWithKerasSignFix) {
  // Keras: q, r = qr(a); q *= sign(diag(r)). So a = q r with r upper triangular and a
  // positive diagonal: r = q^T a must be that, for the normal matrix a the seed draws.
  for (const Shape& shape : {Shape{7, 3}, Shape{3, 7}}) {
    const std::size_t rows = shape[0], cols = shape[1];
    const std::size_t tall = std::max(rows, cols), wide = std::min(rows, cols);
    px::utils::set_random_seed(11);
    std::vector<double> a(tall * wide);  // [tall, wide], row-major, in draw order
    std::normal_distribution<double> normal(0.0, 1.0);
    for (double& v : a) v = normal(px::generator());
    px::utils::set_random_seed(11);
    const Tensor w = init::make("orthogonal", shape);
    // q [tall, wide]: w itself when tall, its transpose when wide.
    auto q = [&](std::size_t i, std::size_t j) { return double(rows >= cols ? w(i, j) : w(j, i)); };
    for (std::size_t i = 0; i < wide; ++i) {
      for (std::size_t j = 0; j < wide; ++j) {
        double r = 0;
        for (std::size_t k = 0; k < tall; ++k) r += q(k, i) * a[k * wide + j];
        if (i > j) {
          EXPECT_NEAR(r, 0.0, 1e-5) << i << "," << j;
        }
        if (i == j) {
          EXPECT_GT(r, 0.0) << i;
        }
      }
    }
  }
}

TEST(Initializers, NamesAliasesAndClassNames) {
  px::utils::set_random_seed(1);
  const Tensor a = init::make("GlorotUniform", {4, 4});
  px::utils::set_random_seed(1);
  const Tensor b = init::make(std::string("glorot_uniform"), {4, 4});
  EXPECT_EQ(a, b);
  const auto& reg = init::Initializer::registry();
  EXPECT_EQ(reg.class_name_of("he_normal"), "HeNormal");
  EXPECT_EQ(reg.class_name_of("normal"), "RandomNormal");
  EXPECT_EQ(reg.class_name_of("uniform"), "RandomUniform");
  EXPECT_EQ(reg.class_name_of("zero"), "Zeros");
  EXPECT_EQ(reg.class_name_of(std::string_view("truncated_normal")), "TruncatedNormal");
  Tensor t = xt::ones<float>({2, 2});
  init::Zeros().fill(t);
  EXPECT_EQ(t, xt::zeros<float>({2, 2}));
}

// A seeded initializer draws from its own generator: the same values on every call and
// whatever the library seed (Keras 3); different seeds differ.
TEST(Initializers, SeededInitializersRepeat) {
  px::utils::set_random_seed(1);
  const Tensor a = init::HeNormal({.seed = 7})({30, 20});
  px::utils::set_random_seed(2);
  const Tensor b = init::HeNormal({.seed = 7})({30, 20});
  EXPECT_EQ(a, b);
  EXPECT_NE(a, init::HeNormal({.seed = 8})({30, 20}));
  EXPECT_EQ(init::RandomUniform({.seed = 3})({5, 5}), init::RandomUniform({.seed = 3})({5, 5}));
}

TEST(Initializers, VarianceScalingMatchesNamedOnes) {
  const Tensor a = init::VarianceScaling(
      {.scale = 2.0, .mode = "fan_in", .distribution = "uniform", .seed = 4})({40, 30});
  const Tensor b = init::HeUniform({.seed = 4})({40, 30});
  EXPECT_EQ(a, b);
  // fan_out: the limit follows the second dimension.
  const Tensor c = init::VarianceScaling(
      {.scale = 1.0, .mode = "fan_out", .distribution = "uniform", .seed = 4})({400, 30});
  EXPECT_LT(stats(c).max, std::sqrt(3.0 / 30));
  EXPECT_GT(stats(c).max, 0.95 * std::sqrt(3.0 / 30));
  EXPECT_THROW(init::VarianceScaling({.mode = "fan_sideways"}), px::Error);
  EXPECT_THROW(init::VarianceScaling({.distribution = "cauchy"}), px::Error);
}

TEST(Initializers, UnknownNameListsKnownOnes) {
  try {
    init::make("glorot_unifrom", {2, 2});
    FAIL() << "expected px::Error";
  } catch (const px::Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("Unknown initializer \"glorot_unifrom\". Did you mean \"glorot_uniform\"? "
                        "Known initializers: ",
                        0),
              0u)
        << msg;
    for (const char* n : {"GlorotUniform", "he_normal", "Orthogonal", "zeros", "VarianceScaling"}) {
      EXPECT_NE(msg.find(n), std::string::npos) << n << " in " << msg;
    }
  }
  // A name fails when it is resolved (an InitializerRef is built), not when it is used.
  EXPECT_THROW(init::InitializerRef("nope"), px::Error);
}

}  // namespace
