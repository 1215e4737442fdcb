#include "optim/schedules.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.hpp"

namespace plexus::optim {

namespace {
void require_positive_steps(const char* schedule, const char* what, double steps) {
  if (!(steps > 0.0)) throw Error("{}: {} must be > 0, received {}", schedule, what, steps);
}
}  // namespace

ExponentialDecay::ExponentialDecay(double initial_learning_rate, double decay_steps,
                                   double decay_rate, bool staircase)
    : initial_(initial_learning_rate),
      decay_steps_(decay_steps),
      decay_rate_(decay_rate),
      staircase_(staircase) {
  require_positive_steps("ExponentialDecay", "decay_steps", decay_steps);
}

double ExponentialDecay::operator()(std::int64_t step) const {
  double p = static_cast<double>(step) / decay_steps_;
  if (staircase_) p = std::floor(p);
  return initial_ * std::pow(decay_rate_, p);
}

PiecewiseConstantDecay::PiecewiseConstantDecay(std::vector<double> boundaries,
                                               std::vector<double> values)
    : boundaries_(std::move(boundaries)), values_(std::move(values)) {
  if (boundaries_.size() + 1 != values_.size()) {
    throw Error(
        "PiecewiseConstantDecay: the length of boundaries should be 1 less than the length of "
        "values; received {} boundaries and {} values",
        boundaries_.size(), values_.size());
  }
  if (!std::is_sorted(boundaries_.begin(), boundaries_.end()) ||
      std::adjacent_find(boundaries_.begin(), boundaries_.end()) != boundaries_.end()) {
    throw Error("PiecewiseConstantDecay: boundaries must be strictly increasing");
  }
}

double PiecewiseConstantDecay::operator()(std::int64_t step) const {
  const double s = static_cast<double>(step);
  for (std::size_t i = 0; i < boundaries_.size(); ++i) {
    if (s <= boundaries_[i]) return values_[i];
  }
  return values_.back();
}

PolynomialDecay::PolynomialDecay(double initial_learning_rate, double decay_steps,
                                 double end_learning_rate, double power, bool cycle)
    : initial_(initial_learning_rate),
      decay_steps_(decay_steps),
      end_(end_learning_rate),
      power_(power),
      cycle_(cycle) {
  require_positive_steps("PolynomialDecay", "decay_steps", decay_steps);
}

double PolynomialDecay::operator()(std::int64_t step) const {
  double s = static_cast<double>(step);
  double steps = decay_steps_;
  if (cycle_) {
    steps *= s == 0.0 ? 1.0 : std::ceil(s / decay_steps_);
  } else {
    s = std::min(s, decay_steps_);
  }
  return (initial_ - end_) * std::pow(1.0 - s / steps, power_) + end_;
}

InverseTimeDecay::InverseTimeDecay(double initial_learning_rate, double decay_steps,
                                   double decay_rate, bool staircase)
    : initial_(initial_learning_rate),
      decay_steps_(decay_steps),
      decay_rate_(decay_rate),
      staircase_(staircase) {
  require_positive_steps("InverseTimeDecay", "decay_steps", decay_steps);
}

double InverseTimeDecay::operator()(std::int64_t step) const {
  double p = static_cast<double>(step) / decay_steps_;
  if (staircase_) p = std::floor(p);
  return initial_ / (1.0 + decay_rate_ * p);
}

CosineDecay::CosineDecay(double initial_learning_rate, double decay_steps, double alpha,
                         std::optional<double> warmup_target, double warmup_steps)
    : initial_(initial_learning_rate),
      decay_steps_(decay_steps),
      alpha_(alpha),
      warmup_target_(warmup_target),
      warmup_steps_(warmup_steps) {
  require_positive_steps("CosineDecay", "decay_steps", decay_steps);
  if (warmup_target_ && warmup_steps_ < 0.0) {
    throw Error("CosineDecay: warmup_steps must be >= 0, received {}", warmup_steps_);
  }
}

double CosineDecay::operator()(std::int64_t step) const {
  const auto decay = [this](double s, double from) {
    const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * s / decay_steps_));
    return from * ((1.0 - alpha_) * cosine + alpha_);
  };
  double s = static_cast<double>(step);
  if (!warmup_target_) return decay(std::min(s, decay_steps_), initial_);
  s = std::min(s, decay_steps_ + warmup_steps_);
  if (s < warmup_steps_) {
    return (*warmup_target_ - initial_) * (s / warmup_steps_) + initial_;
  }
  return decay(s - warmup_steps_, *warmup_target_);
}

}  // namespace plexus::optim
