// Learning-rate schedules (Keras 3's keras.optimizers.schedules). An optimizer evaluates
// its schedule at its iteration count before each update:
//
//   auto lr = px::optim::ExponentialDecay(1e-2, 10000, 0.9);
//   px::optim::SGD opt({.learning_rate = lr});
// Keras's spelling works too, with an options struct or keywords (core/keywords.hpp):
//   px::optimizers::schedules::ExponentialDecay({.initial_learning_rate = 1e-2,
//                                                .decay_steps = 10000, .decay_rate = 0.9})
//   px::optimizers::schedules::ExponentialDecay(kw::decay_rate = 0.9, kw::decay_steps = 10000,
//                                               kw::initial_learning_rate = 1e-2)
#pragma once

#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/config.hpp"
#include "core/keywords.hpp"
#include "core/registry.hpp"

namespace plexus::optim {

class LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule() = default;
  // The learning rate at optimizer step `step` (0 before the first update).
  virtual double operator()(std::int64_t step) const = 0;
  virtual std::string name() const = 0;  // Keras's default name, e.g. "ExponentialDecay"
  // Keras's class name and config (keras.optimizers.schedules), e.g.
  // {"initial_learning_rate", "decay_steps", "decay_rate", "staircase", "name"}.
  virtual std::string class_name() const = 0;
  virtual Config get_config() const = 0;
  static Registry<LearningRateSchedule>& registry();
};

// initial_learning_rate * decay_rate ^ (step / decay_steps); the exponent is floored when
// staircase is true.
struct ExponentialDecayOptions {
  double initial_learning_rate = 0.0;
  double decay_steps = 0.0;  // > 0
  double decay_rate = 0.0;
  bool staircase = false;
};
class ExponentialDecay : public LearningRateSchedule {
 public:
  std::string class_name() const override { return "ExponentialDecay"; }
  Config get_config() const override;
  ExponentialDecay(double initial_learning_rate, double decay_steps, double decay_rate,
                   bool staircase = false);
  explicit ExponentialDecay(const ExponentialDecayOptions& o)
      : ExponentialDecay(o.initial_learning_rate, o.decay_steps, o.decay_rate, o.staircase) {}
  PLEXUS_KEYWORD_CONSTRUCTOR(ExponentialDecay, ExponentialDecayOptions)
  double operator()(std::int64_t step) const override;
  std::string name() const override { return "ExponentialDecay"; }

 private:
  double initial_, decay_steps_, decay_rate_;
  bool staircase_;
};

// values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <=
// boundaries[i], values.back() after the last boundary.
struct PiecewiseConstantDecayOptions {
  std::vector<double> boundaries{};
  std::vector<double> values{};  // one more than boundaries
};
class PiecewiseConstantDecay : public LearningRateSchedule {
 public:
  std::string class_name() const override { return "PiecewiseConstantDecay"; }
  Config get_config() const override;
  PiecewiseConstantDecay(std::vector<double> boundaries, std::vector<double> values);
  explicit PiecewiseConstantDecay(PiecewiseConstantDecayOptions o)
      : PiecewiseConstantDecay(std::move(o.boundaries), std::move(o.values)) {}
  PLEXUS_KEYWORD_CONSTRUCTOR(PiecewiseConstantDecay, PiecewiseConstantDecayOptions)
  double operator()(std::int64_t step) const override;
  std::string name() const override { return "PiecewiseConstant"; }

 private:
  std::vector<double> boundaries_, values_;
};

// ((initial - end) * (1 - min(step, decay_steps) / decay_steps) ^ power) + end; with
// cycle, decay_steps grows to the first multiple of itself >= step.
struct PolynomialDecayOptions {
  double initial_learning_rate = 0.0;
  double decay_steps = 0.0;  // > 0
  double end_learning_rate = 0.0001;
  double power = 1.0;
  bool cycle = false;
};
class PolynomialDecay : public LearningRateSchedule {
 public:
  std::string class_name() const override { return "PolynomialDecay"; }
  Config get_config() const override;
  PolynomialDecay(double initial_learning_rate, double decay_steps,
                  double end_learning_rate = 0.0001, double power = 1.0, bool cycle = false);
  explicit PolynomialDecay(const PolynomialDecayOptions& o)
      : PolynomialDecay(o.initial_learning_rate, o.decay_steps, o.end_learning_rate, o.power,
                        o.cycle) {}
  PLEXUS_KEYWORD_CONSTRUCTOR(PolynomialDecay, PolynomialDecayOptions)
  double operator()(std::int64_t step) const override;
  std::string name() const override { return "PolynomialDecay"; }

 private:
  double initial_, decay_steps_, end_, power_;
  bool cycle_;
};

// initial_learning_rate / (1 + decay_rate * step / decay_steps) (floored ratio when
// staircase is true).
struct InverseTimeDecayOptions {
  double initial_learning_rate = 0.0;
  double decay_steps = 0.0;  // > 0
  double decay_rate = 0.0;
  bool staircase = false;
};
class InverseTimeDecay : public LearningRateSchedule {
 public:
  std::string class_name() const override { return "InverseTimeDecay"; }
  Config get_config() const override;
  InverseTimeDecay(double initial_learning_rate, double decay_steps, double decay_rate,
                   bool staircase = false);
  explicit InverseTimeDecay(const InverseTimeDecayOptions& o)
      : InverseTimeDecay(o.initial_learning_rate, o.decay_steps, o.decay_rate, o.staircase) {}
  PLEXUS_KEYWORD_CONSTRUCTOR(InverseTimeDecay, InverseTimeDecayOptions)
  double operator()(std::int64_t step) const override;
  std::string name() const override { return "InverseTimeDecay"; }

 private:
  double initial_, decay_steps_, decay_rate_;
  bool staircase_;
};

// Optional linear warmup from initial_learning_rate to warmup_target over warmup_steps,
// then cosine decay over decay_steps from the warmup target (or from
// initial_learning_rate without warmup) down to alpha times it:
//   lr * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha).
struct CosineDecayOptions {
  double initial_learning_rate = 0.0;
  double decay_steps = 0.0;  // > 0
  double alpha = 0.0;
  std::optional<double> warmup_target = std::nullopt;
  double warmup_steps = 0.0;
};
class CosineDecay : public LearningRateSchedule {
 public:
  std::string class_name() const override { return "CosineDecay"; }
  Config get_config() const override;
  CosineDecay(double initial_learning_rate, double decay_steps, double alpha = 0.0,
              std::optional<double> warmup_target = std::nullopt, double warmup_steps = 0.0);
  explicit CosineDecay(const CosineDecayOptions& o)
      : CosineDecay(o.initial_learning_rate, o.decay_steps, o.alpha, o.warmup_target,
                    o.warmup_steps) {}
  PLEXUS_KEYWORD_CONSTRUCTOR(CosineDecay, CosineDecayOptions)
  double operator()(std::int64_t step) const override;
  std::string name() const override { return "CosineDecay"; }

 private:
  double initial_, decay_steps_, alpha_;
  std::optional<double> warmup_target_;
  double warmup_steps_;
};

// SGDR (Keras's CosineDecayRestarts): cosine decay over first_decay_steps, restarted with
// periods t_mul times longer and peaks m_mul times lower each time:
// fraction = step / first_decay_steps; restart i and the fraction f within it (t_mul 1:
// i = floor(fraction); else i = floor(log(1 - fraction (1 - t_mul)) / log(t_mul)) and
// f = (fraction - (1 - t_mul^i) / (1 - t_mul)) / t_mul^i);
// lr = initial ((1 - alpha) 0.5 m_mul^i (1 + cos(pi f)) + alpha).
struct CosineDecayRestartsOptions {
  double initial_learning_rate = 0.0;
  double first_decay_steps = 0.0;  // > 0
  double t_mul = 2.0;
  double m_mul = 1.0;
  double alpha = 0.0;
};
class CosineDecayRestarts : public LearningRateSchedule {
 public:
  std::string class_name() const override { return "CosineDecayRestarts"; }
  Config get_config() const override;
  CosineDecayRestarts(double initial_learning_rate, double first_decay_steps, double t_mul = 2.0,
                      double m_mul = 1.0, double alpha = 0.0);
  explicit CosineDecayRestarts(const CosineDecayRestartsOptions& o)
      : CosineDecayRestarts(o.initial_learning_rate, o.first_decay_steps, o.t_mul, o.m_mul,
                            o.alpha) {}
  PLEXUS_KEYWORD_CONSTRUCTOR(CosineDecayRestarts, CosineDecayRestartsOptions)
  double operator()(std::int64_t step) const override;
  std::string name() const override { return "SGDRDecay"; }  // Keras's default name

 private:
  double initial_, first_decay_steps_, t_mul_, m_mul_, alpha_;
};

// An optimizer's learning_rate option: a constant or a schedule.
//   .learning_rate = 1e-3
//   .learning_rate = px::optim::CosineDecay(1e-3, 1000)
class LearningRate {
 public:
  LearningRate(double value) : value_(value) {}  // NOLINT: implicit by design
  LearningRate(std::shared_ptr<LearningRateSchedule> schedule) : schedule_(std::move(schedule)) {}
  template <typename S>
  requires std::derived_from<std::remove_cvref_t<S>, LearningRateSchedule> LearningRate(
      S&& schedule)  // NOLINT: implicit by design
      : schedule_(std::make_shared<std::decay_t<S>>(std::forward<S>(schedule))) {}

  // The rate at an optimizer step.
  double at(std::int64_t step) const { return schedule_ ? (*schedule_)(step) : value_; }
  bool is_schedule() const { return schedule_ != nullptr; }
  const std::shared_ptr<LearningRateSchedule>& schedule() const { return schedule_; }

 private:
  double value_ = 0.0;
  std::shared_ptr<LearningRateSchedule> schedule_;
};

// A learning rate in a config: a number, or a schedule's Keras dict.
void to_json(Config& j, const LearningRate& lr);
void from_json(const Config& j, LearningRate& lr);

}  // namespace plexus::optim

// Keras's module paths: px::optimizers::Adam, px::optimizers::schedules::ExponentialDecay
// (the same classes as px::optim's).
namespace plexus::optimizers {
using namespace ::plexus::optim;
namespace schedules {
using namespace ::plexus::optim;
}  // namespace schedules
}  // namespace plexus::optimizers

// An optimizer's learning rate: Adam(kw::learning_rate = 1e-3), or Keras's positional Adam(1e-3).
PLEXUS_KEYWORD(learning_rate, ::plexus::optim::LearningRate)
PLEXUS_KEYWORD(boundaries, std::vector<double>)
PLEXUS_KEYWORD(first_decay_steps, double)
PLEXUS_KEYWORD(t_mul, double)
PLEXUS_KEYWORD(m_mul, double)
PLEXUS_KEYWORD(values, std::vector<double>)
