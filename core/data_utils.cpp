#include "core/data_utils.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/error.hpp"
#include "core/random.hpp"
#include "core/shape.hpp"

namespace plexus::utils {

TrainTestSplit::~TrainTestSplit() = default;
namespace {

// Uniform integer in [0, n) by rejection, so the result does not depend on the standard
// library's distribution implementation (same seed, same split on every platform).
std::uint64_t below(Generator& gen, std::uint64_t n) {
  const std::uint64_t limit = Generator::max() - (Generator::max() % n + 1) % n;
  std::uint64_t r;
  do {
    r = gen();
  } while (r > limit);
  return r % n;
}

}  // namespace

Tensor to_categorical(const Tensor& y, std::int64_t num_classes) {
  Tensor::shape_type shape = y.shape();
  if (shape.size() > 1 && shape.back() == 1) shape.pop_back();
  const std::size_t n = y.size();
  const float* labels = y.data();
  for (std::size_t i = 0; i < n; ++i) {
    const float v = labels[i];
    if (!std::isfinite(v) || v != std::floor(v)) {
      throw Error("to_categorical: label {} at index {} is not an integer class id", v, i);
    }
    if (v < 0) throw Error("to_categorical: label {} at index {} is negative", v, i);
  }
  if (num_classes <= 0) {
    if (n == 0) throw Error("to_categorical: cannot infer num_classes from an empty label tensor");
    float max = 0;
    for (std::size_t i = 0; i < n; ++i) max = std::max(max, labels[i]);
    // Checked before the conversion, which would be undefined beyond int64's range.
    if (max >= static_cast<float>(kMaxElements)) {
      throw Error("to_categorical: the largest label, {}, asks for more classes than can be held",
                  max);
    }
    num_classes = static_cast<std::int64_t>(max) + 1;
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      if (labels[i] >= static_cast<float>(num_classes)) {
        throw Error("to_categorical: label {} at index {} is out of range for num_classes={}",
                    labels[i], i, num_classes);
      }
    }
  }
  const auto k = static_cast<std::size_t>(num_classes);
  shape.push_back(k);
  Tensor out = allocate_tensor(Shape(shape.begin(), shape.end()), 0.0f,
                               fmt::format("to_categorical ({} classes)", num_classes));
  float* o = out.data();
  for (std::size_t i = 0; i < n; ++i) o[i * k + static_cast<std::size_t>(labels[i])] = 1.0f;
  return out;
}

TrainTestSplit train_test_split(const Tensor& x, const Tensor& y, const SplitOptions& options) {
  if (x.dimension() == 0 || y.dimension() == 0) {
    throw Error("train_test_split: x and y must have a first (sample) axis, got x {} and y {}",
                shape_str(shape_of(x)), shape_str(shape_of(y)));
  }
  const std::size_t n = x.shape()[0];
  if (y.shape()[0] != n) {
    throw Error("train_test_split: x and y must have the same number of samples, got x {} and y {}",
                shape_str(shape_of(x)), shape_str(shape_of(y)));
  }
  const double t = options.test_size;
  std::size_t n_test;
  if (t > 0 && t < 1) {
    n_test = static_cast<std::size_t>(std::ceil(t * static_cast<double>(n)));
  } else if (t >= 1 && t == std::floor(t)) {
    // Compared as a double first: converting a count beyond size_t's range is undefined.
    n_test = t >= static_cast<double>(n) ? n : static_cast<std::size_t>(t);
  } else {
    throw Error(
        "train_test_split: test_size must be a fraction in (0, 1) or a whole number of samples, "
        "got {}",
        t);
  }
  if (n_test >= n) {
    throw Error("train_test_split: with {} samples and test_size={}, the train set would be empty",
                n, t);
  }
  const std::size_t n_train = n - n_test;

  // The test set is the first n_test positions of the permutation, as in scikit-learn.
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (options.shuffle) {
    Generator local(static_cast<std::uint64_t>(options.random_state));
    Generator& gen = options.random_state >= 0 ? local : generator();
    for (std::size_t i = n - 1; i > 0; --i) std::swap(order[i], order[below(gen, i + 1)]);
  } else {
    std::rotate(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_train), order.end());
  }
  TrainTestSplit s;
  gather_rows(x, order, 0, n_test, s.x_test);
  gather_rows(y, order, 0, n_test, s.y_test);
  gather_rows(x, order, n_test, n_train, s.x_train);
  gather_rows(y, order, n_test, n_train, s.y_train);
  return s;
}

}  // namespace plexus::utils
