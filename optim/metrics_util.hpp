// Internal: shape and weighting helpers shared by the metric families (optim/metrics.cpp,
// optim/metrics_confusion.cpp). Not part of the public API.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.hpp"
#include "optim/metrics.hpp"

namespace plexus::metrics::internal {

// Keras's squeeze_or_expand_to_same_rank on shapes (the data is unchanged: only a
// trailing axis of length 1 is added or removed).
inline void same_rank(Shape& a, Shape& b, bool expand_rank_1 = true) {
  if (a.size() == b.size() + 1 && a.back() == 1) {
    if (b.size() == 1 && expand_rank_1) {
      b = Shape{b[0], 1};
    } else {
      a.pop_back();
    }
  } else if (b.size() == a.size() + 1 && b.back() == 1) {
    if (a.size() == 1 && expand_rank_1) {
      a = Shape{a[0], 1};
    } else {
      b.pop_back();
    }
  }
}

[[noreturn]] inline void mismatch(const std::string& metric, const Tensor& y_true,
                                  const Tensor& y_pred) {
  throw Error("Metric \"{}\": y_true of shape {} does not match y_pred of shape {}", metric,
              shape_str(shape_of(y_true)), shape_str(shape_of(y_pred)));
}

inline Shape drop_last(const Shape& s) { return s.empty() ? s : Shape(s.begin(), s.end() - 1); }

// out.resize(like's shape without its last axis), without allocating when out already
// has that shape (the steady state of a training loop).
inline void resize_without_last(Tensor& out, const Tensor& like) {
  const std::size_t r = like.dimension();
  bool same = r > 0 && out.dimension() == r - 1;
  for (std::size_t d = 0; same && d + 1 < r; ++d) same = out.shape()[d] == like.shape()[d];
  if (!same) resize_to(out, drop_last(shape_of(like)));
}

inline std::size_t last_dim(const Tensor& t) {
  return t.dimension() == 0 ? 1 : t.shape()[t.dimension() - 1];
}

inline std::size_t argmax_row(const float* row, std::size_t n) {
  std::size_t best = 0;
  for (std::size_t j = 1; j < n; ++j) {
    if (row[j] > row[best]) best = j;
  }
  return best;
}

// One-hot y_true against y_pred of the same shape: checks the shapes, sizes `out` to one
// value per row and returns the row length.
inline std::size_t one_hot_rows(const std::string& metric, const Tensor& y_true,
                                const Tensor& y_pred, Tensor& out) {
  const std::size_t cols = last_dim(y_pred);
  if (y_true.size() != y_pred.size() || last_dim(y_true) != cols || cols == 0) {
    mismatch(metric, y_true, y_pred);
  }
  resize_without_last(out, y_pred);
  return cols;
}

inline double divide_no_nan(double a, double b) { return b == 0.0 ? 0.0 : a / b; }

// One weight per prediction element: a scalar, one per row (the last axis has `cols`
// entries), or one per element.
class ElementWeights {
 public:
  ElementWeights(const Tensor* sw, std::size_t n, std::size_t cols, const std::string& metric)
      : w_(sw ? sw->data() : nullptr), cols_(cols) {
    if (sw == nullptr) return;
    const std::size_t m = sw->size();
    if (m == 1) {
      mode_ = kScalar;
    } else if (m == n) {
      mode_ = kElement;
    } else if (cols > 0 && m * cols == n) {
      mode_ = kRow;
    } else {
      throw Error("Metric \"{}\": sample_weight of shape {} does not fit {} predictions", metric,
                  shape_str(shape_of(*sw)), n);
    }
  }
  double operator()(std::size_t i) const {
    switch (mode_) {
      case kNone:
        return 1.0;
      case kScalar:
        return w_[0];
      case kElement:
        return w_[i];
      case kRow:
        return w_[i / cols_];
    }
    return 1.0;
  }

 private:
  enum Mode { kNone, kScalar, kElement, kRow };
  const float* w_;
  std::size_t cols_;
  Mode mode_ = kNone;
};

// Labels and predictions for confusion counts: the same number of elements (a trailing
// axis of 1 on either side aside); returns the length of the predictions' last axis.
inline std::size_t confusion_cols(const std::string& metric, const Tensor& y_true,
                                  const Tensor& y_pred) {
  Shape a = shape_of(y_pred), b = shape_of(y_true);
  same_rank(a, b);
  if (y_true.size() != y_pred.size()) mismatch(metric, y_true, y_pred);
  return a.empty() ? 1 : static_cast<std::size_t>(a.back());
}

}  // namespace plexus::metrics::internal
