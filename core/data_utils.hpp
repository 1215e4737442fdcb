// Label and split helpers (Keras: keras.utils.to_categorical; scikit-learn's
// train_test_split, which Keras users reach for).
#pragma once

#include <cstdint>

#include "core/tensor.hpp"

namespace plexus::utils {

// One-hot encodes integer class ids: output shape is y's shape (minus a trailing 1 when
// y has rank > 1) followed by num_classes. num_classes <= 0 infers max(y) + 1.
// Throws px::Error on a negative, non-integer or out-of-range label.
Tensor to_categorical(const Tensor& y, std::int64_t num_classes = -1);

struct SplitOptions {
  // In (0, 1): fraction of the samples that go to the test set (rounded up);
  // a whole number >= 1: the number of test samples.
  double test_size = 0.25;
  // >= 0: shuffle with a generator seeded with this value (same value, same split);
  // < 0: draw from the library-wide generator (plexus::generator(), see set_random_seed).
  std::int64_t random_state = -1;
  // When false the test set is the last samples, in order.
  bool shuffle = true;
};

struct TrainTestSplit {
  Tensor x_train;
  Tensor x_test;
  Tensor y_train;
  Tensor y_test;

  ~TrainTestSplit();  // out of line (core/data_utils.cpp)
};

// Splits x and y (any rank) along their first axis, keeping rows of x and y together.
TrainTestSplit train_test_split(const Tensor& x, const Tensor& y, const SplitOptions& options = {});

}  // namespace plexus::utils
