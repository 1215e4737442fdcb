#include "optim/option_checks.hpp"

#include <cmath>

#include "core/error.hpp"

namespace plexus::optim {

void check_fit_options(const FitOptions& o) {
  if (o.epochs < 0) throw Error("fit: epochs must not be negative, received {}", o.epochs);
  if (o.batch_size <= 0) throw Error("fit: batch_size must be positive, received {}", o.batch_size);
  if (o.initial_epoch < 0) {
    throw Error("fit: initial_epoch must not be negative, received {}", o.initial_epoch);
  }
  // Written so that NaN fails too.
  if (!(o.validation_split >= 0.0 && o.validation_split < 1.0)) {
    throw Error("fit: validation_split must be in [0, 1), received {}", o.validation_split);
  }
  for (const auto& [cls, weight] : o.class_weight) {
    if (!(std::isfinite(weight) && weight >= 0.0)) {
      throw Error("fit: class_weight for class {} must be a finite number >= 0, received {}", cls,
                  weight);
    }
  }
}

void check_learning_rate(double learning_rate, std::string_view optimizer) {
  if (!(std::isfinite(learning_rate) && learning_rate >= 0.0)) {
    throw Error("{}: learning_rate must be a finite number >= 0, received {}", optimizer,
                learning_rate);
  }
}

}  // namespace plexus::optim
