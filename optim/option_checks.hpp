// Checks of user-given training options, so that a NaN or a nonsense value is a px::Error
// naming the option instead of a silently wrong run (every comparison with NaN is false,
// so `split < 0 || split >= 1` lets NaN through; a negative class weight makes the loss
// negative).
#pragma once

#include <string_view>

#include "optim/model_options.hpp"

namespace plexus::optim {

// Model::fit's options: epochs >= 0, batch_size > 0, initial_epoch >= 0,
// validation_split a finite number in [0, 1), every class_weight finite and >= 0.
// Throws px::Error "fit: <option> must be ..., received <value>".
void check_fit_options(const FitOptions& options);

// An optimizer's learning rate: finite and >= 0. Throws px::Error "<optimizer>: learning_rate
// must be a finite number >= 0, received nan".
void check_learning_rate(double learning_rate, std::string_view optimizer);

}  // namespace plexus::optim
