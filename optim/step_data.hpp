// One step's data: what a dataset yields and what a training step receives (Keras's
// `x, y, sample_weight = data`). A light header: tensors only.
#pragma once

#include <optional>
#include <vector>

#include "core/tensor.hpp"

namespace plexus {

// Inputs in model order, targets in output order (empty: none, as predict's data), and
// optional per-sample weights. An element of a dataset is one sample (no batch axis) or,
// after batch(), one batch (a leading batch axis on every tensor).
struct StepData {
  std::vector<Tensor> x;
  std::vector<Tensor> y;
  std::optional<Tensor> sample_weight;
};

}  // namespace plexus
