#include "optim/schedules.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.hpp"
#include "core/json.hpp"

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

CosineDecayRestarts::CosineDecayRestarts(double initial_learning_rate, double first_decay_steps,
                                         double t_mul, double m_mul, double alpha)
    : initial_(initial_learning_rate),
      first_decay_steps_(first_decay_steps),
      t_mul_(t_mul),
      m_mul_(m_mul),
      alpha_(alpha) {
  require_positive_steps("CosineDecayRestarts", "first_decay_steps", first_decay_steps);
  if (!(t_mul > 0.0)) {
    throw Error("CosineDecayRestarts: t_mul must be > 0, received {}", t_mul);
  }
}

double CosineDecayRestarts::operator()(std::int64_t step) const {
  double fraction = static_cast<double>(step) / first_decay_steps_;
  double i_restart = 0.0;
  if (t_mul_ == 1.0) {
    i_restart = std::floor(fraction);
    fraction -= i_restart;
  } else {
    i_restart = std::floor(std::log(1.0 - fraction * (1.0 - t_mul_)) / std::log(t_mul_));
    const double sum_r = (1.0 - std::pow(t_mul_, i_restart)) / (1.0 - t_mul_);
    fraction = (fraction - sum_r) / std::pow(t_mul_, i_restart);
  }
  const double cosine =
      0.5 * std::pow(m_mul_, i_restart) * (1.0 + std::cos(std::numbers::pi * fraction));
  return initial_ * ((1.0 - alpha_) * cosine + alpha_);
}

// --- configs ---------------------------------------------------------------------------

Config ExponentialDecay::get_config() const {
  return {{"initial_learning_rate", initial_},
          {"decay_steps", decay_steps_},
          {"decay_rate", decay_rate_},
          {"staircase", staircase_},
          {"name", name()}};
}

Config PiecewiseConstantDecay::get_config() const {
  return {{"boundaries", boundaries_}, {"values", values_}, {"name", name()}};
}

Config PolynomialDecay::get_config() const {
  return {{"initial_learning_rate", initial_},
          {"decay_steps", decay_steps_},
          {"end_learning_rate", end_},
          {"power", power_},
          {"cycle", cycle_},
          {"name", name()}};
}

Config InverseTimeDecay::get_config() const {
  return {{"initial_learning_rate", initial_},
          {"decay_steps", decay_steps_},
          {"decay_rate", decay_rate_},
          {"staircase", staircase_},
          {"name", name()}};
}

Config CosineDecay::get_config() const {
  Config c = {{"initial_learning_rate", initial_},
              {"decay_steps", decay_steps_},
              {"alpha", alpha_},
              {"name", name()}};
  c["warmup_target"] = warmup_target_;
  c["warmup_steps"] = warmup_steps_;
  return c;
}

Config CosineDecayRestarts::get_config() const {
  return {{"initial_learning_rate", initial_},
          {"first_decay_steps", first_decay_steps_},
          {"t_mul", t_mul_},
          {"m_mul", m_mul_},
          {"alpha", alpha_},
          {"name", name()}};
}

namespace {

double required(const Config& c, const char* key, const char* cls) {
  auto it = c.find(key);
  if (it == c.end() || !it->is_number()) {
    throw Error("{}: the config needs a number \"{}\"", cls, key);
  }
  return it->get<double>();
}

void add_builtins(Registry<LearningRateSchedule>& r) {
  using config::get_or;
  r.add("ExponentialDecay", [](const Config& c) {
    return std::make_shared<ExponentialDecay>(
        required(c, "initial_learning_rate", "ExponentialDecay"),
        required(c, "decay_steps", "ExponentialDecay"),
        required(c, "decay_rate", "ExponentialDecay"), get_or<bool>(c, "staircase", false));
  });
  r.add("PiecewiseConstantDecay", [](const Config& c) {
    return std::make_shared<PiecewiseConstantDecay>(
        get_or<std::vector<double>>(c, "boundaries", {}),
        get_or<std::vector<double>>(c, "values", {}));
  });
  r.add("PolynomialDecay", [](const Config& c) {
    return std::make_shared<PolynomialDecay>(
        required(c, "initial_learning_rate", "PolynomialDecay"),
        required(c, "decay_steps", "PolynomialDecay"),
        get_or<double>(c, "end_learning_rate", 0.0001), get_or<double>(c, "power", 1.0),
        get_or<bool>(c, "cycle", false));
  });
  r.add("InverseTimeDecay", [](const Config& c) {
    return std::make_shared<InverseTimeDecay>(
        required(c, "initial_learning_rate", "InverseTimeDecay"),
        required(c, "decay_steps", "InverseTimeDecay"),
        required(c, "decay_rate", "InverseTimeDecay"), get_or<bool>(c, "staircase", false));
  });
  r.add("CosineDecayRestarts", [](const Config& c) {
    return std::make_shared<CosineDecayRestarts>(
        required(c, "initial_learning_rate", "CosineDecayRestarts"),
        required(c, "first_decay_steps", "CosineDecayRestarts"), get_or<double>(c, "t_mul", 2.0),
        get_or<double>(c, "m_mul", 1.0), get_or<double>(c, "alpha", 0.0));
  });
  r.add("CosineDecay", [](const Config& c) {
    return std::make_shared<CosineDecay>(
        required(c, "initial_learning_rate", "CosineDecay"),
        required(c, "decay_steps", "CosineDecay"), get_or<double>(c, "alpha", 0.0),
        get_or<std::optional<double>>(c, "warmup_target", std::nullopt),
        get_or<double>(c, "warmup_steps", 0.0));
  });
}

}  // namespace

Registry<LearningRateSchedule>& LearningRateSchedule::registry() {
  static Registry<LearningRateSchedule> r("learning rate schedule", "keras.optimizers.schedules");
  static const bool filled = (add_builtins(r), true);
  (void)filled;
  return r;
}

void to_json(Config& j, const LearningRate& lr) {
  if (lr.is_schedule()) {
    j = LearningRateSchedule::registry().serialize(*lr.schedule());
  } else {
    j = lr.at(0);
  }
}

void from_json(const Config& j, LearningRate& lr) {
  if (j.is_number()) {
    lr = LearningRate(j.get<double>());
  } else if (j.is_object()) {
    lr = LearningRate(LearningRateSchedule::registry().create(j));
  } else {
    throw Error("learning_rate must be a number or a schedule config, received {}", j.dump());
  }
}

}  // namespace plexus::optim
