// Internal: the one central-difference step of every gradient check (the library's
// px::testing::check_gradients and the test suites' checkers).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "core/tensor.hpp"

namespace plexus::detail {

// d loss / d value[k] by central differences: (L(v + h) - L(v - h)) / ((v + h) - (v - h)),
// dividing by the step as float arithmetic rounded it. value[k] is restored.
template <typename Loss>
double central_difference(Tensor& value, std::size_t k, float h, Loss&& loss) {
  float* v = value.data() + k;
  const float saved = *v;
  *v = saved + h;
  const double up = loss();
  *v = saved - h;
  const double down = loss();
  *v = saved;
  return (up - down) / (static_cast<double>(saved + h) - static_cast<double>(saved - h));
}

// The error of an analytic gradient entry against its numeric estimate, relative to
// max(1, |numeric|).
inline double gradient_error(double analytic, double numeric) {
  return std::abs(analytic - numeric) / std::max(1.0, std::abs(numeric));
}

}  // namespace plexus::detail
