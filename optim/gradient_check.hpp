// px::testing::check_gradients: autodiff against central finite differences.
#pragma once

#include <vector>

#include "optim/model.hpp"

namespace plexus::testing {

struct GradientCheckOptions {
  float step = 1e-3f;                       // finite-difference step h
  std::size_t max_entries_per_weight = 64;  // large weights are checked on a sample of entries
};

// The compiled model's loss gradient with respect to every trainable weight, compared
// with central differences (L(w+h) - L(w-h)) / 2h, in inference mode (no dropout).
// Returns the largest relative error max|analytic - numeric| / max(1, |numeric|).
double check_gradients(Model& model, const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                       GradientCheckOptions options = {});

}  // namespace plexus::testing
