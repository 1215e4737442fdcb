// Optimizers (Keras 3's keras.optimizers), with Keras's defaults and update rules.
//
//   model.compile({.optimizer = px::optim::Adam({.learning_rate = 1e-3}), ...});
//   px::optim::SGD sgd({.learning_rate = 0.1, .momentum = 0.9, .nesterov = true});
//   sgd.apply_gradients(grads, model.trainable_weights());
//
// Every optimizer also takes weight_decay (decoupled: var -= var * weight_decay * lr before
// the update), clipnorm (per gradient), global_clipnorm (over all gradients) and
// clipvalue (element-wise) — at most one of the three clipping options. A step:
// clip the gradients, decay the weights, update, then iterations += 1; the learning rate
// (or schedule) is read at the iteration count before the increment.
//
// State ("slots": momentums, velocities, ...) is kept per variable, keyed by its
// VariableData, created on first sight and updated in place: after the first step an
// update allocates nothing.
#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/config.hpp"
#include "core/keywords.hpp"
#include "core/registry.hpp"
#include "core/tensor.hpp"
#include "graph/symbolic.hpp"
#include "optim/schedules.hpp"

namespace plexus::optim {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Keras's default name: "SGD", "rmsprop", "adam", "adamw", "nadam", ...
  virtual std::string name() const = 0;

  // Keras: optimizer.apply_gradients(zip(grads, vars)). A missing gradient — an empty or
  // default-constructed (rank-0) Tensor for a weight with axes, e.g. for a weight the loss
  // does not reach — is skipped, as Keras skips None gradients.
  // As model.compute_gradients() returns them: std::nullopt is "no gradient" (skipped).
  void apply_gradients(const std::vector<std::optional<Tensor>>& grads,
                       const std::vector<Variable>& vars);
  // A plain list of tensors (a braced list goes to the overload above).
  template <typename G>
  requires std::same_as<G, std::vector<Tensor>>
  void apply_gradients(const G& grads, const std::vector<Variable>& vars) {
    apply_tensors(grads, vars);
  }
  // The same without copies, for fit(): grads[i] is the gradient of vars[i] (same number
  // of elements), or nullptr / missing as above to skip it. Increments iterations() once.
  void apply(std::span<const Tensor* const> grads, std::span<VariableData* const> vars);

  void apply_tensors(const std::vector<Tensor>& grads, const std::vector<Variable>& vars);

  std::int64_t iterations() const { return iterations_; }
  // The current rate (a schedule is evaluated at iterations()).
  double learning_rate() const { return config_.learning_rate.at(iterations_); }
  // Sets a constant rate (replacing a schedule), for ReduceLROnPlateau and friends.
  void set_learning_rate(double lr) { config_.learning_rate = LearningRate(lr); }

  // Variables whose name contains one of these strings get no weight decay (Keras's
  // exclude_from_weight_decay(var_names=...)); call before the first update.
  void exclude_from_weight_decay(std::vector<std::string> var_names);

  // A fresh optimizer (no state, iterations 0) with the same configuration.
  virtual std::shared_ptr<Optimizer> clone() const = 0;

  // The optimizer's state, enumerable in the order the variables were first updated
  // (model order for fit()): for each variable, each slot the optimizer uses (Adam: m, v).
  struct SlotView {
    std::shared_ptr<VariableData> variable;
    std::size_t slot;
    const std::vector<float>* values;
  };
  std::vector<SlotView> variables() const;

  // --- state in Keras 3's layout (optim/optimizer_config.cpp) -----------------------
  // Keras 3's optimizer.variables for an optimizer built on `trainable` (the model's
  // trainable weights, in order): "iteration" (int64 scalar), "learning_rate" (absent with
  // a schedule), then the slots in the order each Keras optimizer's build() creates them
  // (Adam: momentum and velocity of each variable interleaved, then every velocity_hat with
  // amsgrad; RMSprop: every velocity, then every momentum, then every average_gradient;
  // SGD with momentum: every momentum; Adagrad: every accumulator; Adadelta, Adamax and
  // Nadam: two slots per variable interleaved), then Nadam's u_product. A variable that
  // has had no update yet gets its slots' initial values, as Keras builds them all. The
  // scalars are written as float64 (Keras's are float32; it loads either) so that a
  // restored optimizer continues bit for bit.
  struct StateVariable {
    enum class Type { int64, float64, float32 };
    std::string name;  // Keras's: "iteration", "learning_rate", "dense_kernel_momentum"
    Type type = Type::float32;
    Shape shape;                // {} for the scalars
    double scalar = 0.0;        // int64 / float64
    std::vector<float> values;  // float32
  };
  // `built` false: only the first two (Keras's optimizer before its first step).
  std::vector<StateVariable> state_variables(const std::vector<Variable>& trainable,
                                             bool built = true) const;
  // Restores what state_variables() gave (same count — or only the first two — types and
  // shapes; px::Error naming the variable otherwise, leaving the optimizer unchanged).
  // A learning rate equal to the configured one rounded to float32 keeps the exact one.
  void set_state_variables(const std::vector<Variable>& trainable,
                           const std::vector<StateVariable>& values);

  const std::optional<double>& weight_decay() const { return config_.weight_decay; }
  const std::optional<double>& clipnorm() const { return config_.clipnorm; }
  const std::optional<double>& clipvalue() const { return config_.clipvalue; }
  const std::optional<double>& global_clipnorm() const { return config_.global_clipnorm; }

  // --- config (optim/optimizer_config.cpp) -----------------------------------------
  // Keras's class name ("Adam"; name() is Keras's default instance name "adam").
  virtual std::string class_name() const = 0;
  // Keras 3's keys: name, learning_rate (the current one; a schedule as its dict),
  // weight_decay, clipnorm, global_clipnorm, clipvalue, use_ema (false), ema_momentum,
  // ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps (null), then
  // the optimizer's own options (beta_1, ...).
  Config get_config() const;
  // Every built-in by class name ("Adam", also "adam"); user classes add_custom.
  static Registry<Optimizer>& registry();

 protected:
  // The option struct as a config (its fields by name).
  virtual Config options_config() const = 0;

  static constexpr std::size_t kMaxSlots = 3;
  using Slots = std::array<float*, kMaxSlots>;

  // The options every optimizer shares.
  struct Shared {
    LearningRate learning_rate;
    std::optional<double> weight_decay;
    std::optional<double> clipnorm;
    std::optional<double> clipvalue;
    std::optional<double> global_clipnorm;
    std::vector<std::string> exclude_from_weight_decay;
  };
  // Throws px::Error naming `optimizer` when more than one clipping option is set.
  Optimizer(const char* optimizer, Shared config);
  // The shared options of one of the option structs below (they all name them alike).
  template <typename Options>
  Optimizer(const char* optimizer, const Options& o)
      : Optimizer(
            optimizer,
            {o.learning_rate, o.weight_decay, o.clipnorm, o.clipvalue, o.global_clipnorm, {}}) {}

  // Which of the kMaxSlots state buffers an optimizer uses, and their initial value.
  virtual bool uses_slot(std::size_t slot) const = 0;
  virtual float slot_initial_value(std::size_t /*slot*/) const { return 0.0f; }
  // Keras's build() order: groups of slots, each group created for every variable in turn
  // with its slots interleaved (Adam: {{0, 1}, {2}}). Default: one group, every used slot.
  virtual std::vector<std::vector<std::size_t>> slot_groups() const;
  // Slot names as Keras gives them ("momentum", "velocity", ...): the built-ins' kSlots,
  // "slot<k>" by default.
  virtual std::string slot_name(std::size_t slot) const;
  // Scalars an optimizer keeps besides its slots (Nadam's u_product), after the slots.
  virtual std::vector<std::pair<std::string, double>> extra_state() const { return {}; }
  virtual void set_extra_state(const std::vector<double>& /*values*/) {}
  // Once per step, before the variables are updated; step = iterations() + 1.
  virtual void begin_step(std::int64_t /*step*/) {}
  // Updates var[0..n) in place from grad[0..n) (already clipped); unused slots are null.
  virtual void update_step(float* var, const float* grad, std::size_t n, const Slots& slots,
                           float lr, std::int64_t step) = 0;
  // clone() of a T made from `options`: a fresh T with this optimizer's shared
  // configuration (the learning rate as currently set).
  template <typename T, typename Options>
  std::shared_ptr<Optimizer> clone_as(const Options& options) const {
    auto c = std::make_shared<T>(options);
    static_cast<Optimizer&>(*c).config_ = config_;
    return c;
  }

 private:
  struct VariableState {
    std::weak_ptr<VariableData> variable;  // the key, checked: an address can be reused
    bool owned = true;                     // false: a variable not held by a shared_ptr
    std::array<std::vector<float>, kMaxSlots> slots;
    std::vector<float> clipped;  // the clipped gradient, when clipping is on
    bool decay = true;           // weight decay applies to this variable
  };
  VariableState& state_for(const VariableData& var, std::size_t n);

  Shared config_;
  std::int64_t iterations_ = 0;
  std::deque<VariableState> state_;  // in first-update order (references stay valid)
  std::unordered_map<const VariableData*, std::size_t> index_;
};

// --- the optimizers ----------------------------------------------------------------------
// Everything but the update rule is KerasOptimizer<Derived, Options>'s: the constructors
// (options struct, keywords, Keras's positional learning rate), name(), class_name(),
// clone(), options(), the config and the slot names. A built-in optimizer declares
//   static constexpr const char* kClassName = "Adam", *kName = "adam";
//   static constexpr std::array<const char*, N> kSlots{...};   // Keras's slot names
// optionally `static void validate(const Options&)` (throws px::Error), and overrides
// uses_slot() and update_step() (and, when it needs them, the other hooks of Optimizer).
template <typename Derived, typename Options>
class KerasOptimizer : public Optimizer {
 public:
  explicit KerasOptimizer(Options options = {})
      : Optimizer(Derived::kClassName, options), options_(std::move(options)) {
    Derived::validate(options_);
  }
  PLEXUS_KEYWORD_CONSTRUCTOR_POSITIONAL(
      KerasOptimizer, Options,
      (LearningRate, learning_rate))  // Adam(1e-3), Adam(kw::learning_rate = 1e-3, ...)

  std::string name() const override { return Derived::kName; }
  std::string class_name() const override { return Derived::kClassName; }
  std::shared_ptr<Optimizer> clone() const override { return clone_as<Derived>(options_); }
  const Options& options() const { return options_; }

  static void validate(const Options& /*options*/) {}

 protected:
  // The options struct by field name (optim/optimizers.cpp, instantiated there for each).
  Config options_config() const override;
  std::string slot_name(std::size_t slot) const override {
    if (slot < Derived::kSlots.size()) return Derived::kSlots[slot];
    return Optimizer::slot_name(slot);
  }

 private:
  Options options_;
};

// Option structs list Keras's arguments in Keras's order.

struct SGDOptions {
  LearningRate learning_rate = 0.01;
  double momentum = 0.0;  // in [0, 1]
  bool nesterov = false;
  std::optional<double> weight_decay = std::nullopt;
  std::optional<double> clipnorm = std::nullopt;
  std::optional<double> clipvalue = std::nullopt;
  std::optional<double> global_clipnorm = std::nullopt;
};
PLEXUS_CONFIG_FIELDS(SGDOptions, learning_rate, momentum, nesterov, weight_decay, clipnorm,
                     clipvalue, global_clipnorm)
// momentum 0: w -= lr g. Otherwise v = momentum v - lr g, then w += v, or with nesterov
// w += momentum v - lr g.
class SGD : public KerasOptimizer<SGD, SGDOptions> {
 public:
  using KerasOptimizer::KerasOptimizer;
  static constexpr const char* kClassName = "SGD";
  static constexpr const char* kName = "SGD";
  static constexpr std::array<const char*, 1> kSlots{"momentum"};
  static void validate(const SGDOptions& options);

 protected:
  bool uses_slot(std::size_t slot) const override { return slot == 0 && options().momentum != 0.0; }
  void update_step(float* var, const float* grad, std::size_t n, const Slots& slots, float lr,
                   std::int64_t step) override;
};

struct RMSpropOptions {
  LearningRate learning_rate = 0.001;
  double rho = 0.9;
  double momentum = 0.0;
  double epsilon = 1e-7;
  bool centered = false;
  std::optional<double> weight_decay = std::nullopt;
  std::optional<double> clipnorm = std::nullopt;
  std::optional<double> clipvalue = std::nullopt;
  std::optional<double> global_clipnorm = std::nullopt;
};
PLEXUS_CONFIG_FIELDS(RMSpropOptions, learning_rate, rho, momentum, epsilon, centered, weight_decay,
                     clipnorm, clipvalue, global_clipnorm)
// v = rho v + (1 - rho) g^2; centered: a = rho a + (1 - rho) g, d = v - a^2 + eps, else
// d = v + eps; inc = lr g / sqrt(d); with momentum m = momentum m + inc, w -= m; else
// w -= inc.
class RMSprop : public KerasOptimizer<RMSprop, RMSpropOptions> {
 public:
  using KerasOptimizer::KerasOptimizer;
  static constexpr const char* kClassName = "RMSprop";
  static constexpr const char* kName = "rmsprop";
  static constexpr std::array<const char*, 3> kSlots{"velocity", "momentum", "average_gradient"};

 protected:
  // Slots: 0 velocity, 1 momentum (momentum > 0), 2 average gradient (centered).
  bool uses_slot(std::size_t slot) const override {
    return slot == 0 || (slot == 1 && options().momentum > 0.0) ||
           (slot == 2 && options().centered);
  }
  std::vector<std::vector<std::size_t>> slot_groups() const override;
  void update_step(float* var, const float* grad, std::size_t n, const Slots& slots, float lr,
                   std::int64_t step) override;
};

struct AdamOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  bool amsgrad = false;
  std::optional<double> weight_decay = std::nullopt;
  std::optional<double> clipnorm = std::nullopt;
  std::optional<double> clipvalue = std::nullopt;
  std::optional<double> global_clipnorm = std::nullopt;
};
PLEXUS_CONFIG_FIELDS(AdamOptions, learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay,
                     clipnorm, clipvalue, global_clipnorm)
// t = iterations + 1; alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t);
// m += (g - m)(1 - beta_1); v += (g^2 - v)(1 - beta_2); (amsgrad: v_hat = max(v_hat, v));
// w -= alpha m / (sqrt(v) + eps).
class Adam : public KerasOptimizer<Adam, AdamOptions> {
 public:
  using KerasOptimizer::KerasOptimizer;
  static constexpr const char* kClassName = "Adam";
  static constexpr const char* kName = "adam";
  static constexpr std::array<const char*, 3> kSlots{"momentum", "velocity", "velocity_hat"};

 protected:
  // Slots: 0 momentum, 1 velocity, 2 velocity_hat (amsgrad).
  bool uses_slot(std::size_t slot) const override { return slot < 2 || options().amsgrad; }
  std::vector<std::vector<std::size_t>> slot_groups() const override;
  void update_step(float* var, const float* grad, std::size_t n, const Slots& slots, float lr,
                   std::int64_t step) override;
};

struct AdamWOptions {
  LearningRate learning_rate = 0.001;
  double weight_decay = 0.004;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  bool amsgrad = false;
  std::optional<double> clipnorm = std::nullopt;
  std::optional<double> clipvalue = std::nullopt;
  std::optional<double> global_clipnorm = std::nullopt;
};
PLEXUS_CONFIG_FIELDS(AdamWOptions, learning_rate, weight_decay, beta_1, beta_2, epsilon, amsgrad,
                     clipnorm, clipvalue, global_clipnorm)
// Adam's rule with decoupled weight decay (on by default).
class AdamW : public KerasOptimizer<AdamW, AdamWOptions> {
 public:
  using KerasOptimizer::KerasOptimizer;
  static constexpr const char* kClassName = "AdamW";
  static constexpr const char* kName = "adamw";
  static constexpr std::array<const char*, 3> kSlots = Adam::kSlots;

 protected:
  bool uses_slot(std::size_t slot) const override { return slot < 2 || options().amsgrad; }
  std::vector<std::vector<std::size_t>> slot_groups() const override;
  void update_step(float* var, const float* grad, std::size_t n, const Slots& slots, float lr,
                   std::int64_t step) override;
};

struct NadamOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  std::optional<double> weight_decay = std::nullopt;
  std::optional<double> clipnorm = std::nullopt;
  std::optional<double> clipvalue = std::nullopt;
  std::optional<double> global_clipnorm = std::nullopt;
};
PLEXUS_CONFIG_FIELDS(NadamOptions, learning_rate, beta_1, beta_2, epsilon, weight_decay, clipnorm,
                     clipvalue, global_clipnorm)
// Adam with Nesterov momentum and Keras's momentum schedule
// u_t = beta_1 (1 - 0.5 * 0.96^t), u_product = prod u_t:
// m_hat = u_{t+1} m / (1 - u_product u_{t+1}) + (1 - u_t) g / (1 - u_product),
// v_hat = v / (1 - beta_2^t), w -= lr m_hat / (sqrt(v_hat) + eps).
class Nadam : public KerasOptimizer<Nadam, NadamOptions> {
 public:
  using KerasOptimizer::KerasOptimizer;
  static constexpr const char* kClassName = "Nadam";
  static constexpr const char* kName = "nadam";
  static constexpr std::array<const char*, 2> kSlots{"momentum", "velocity"};

 protected:
  bool uses_slot(std::size_t slot) const override { return slot < 2; }
  std::vector<std::pair<std::string, double>> extra_state() const override {
    return {{"u_product", u_product_}};
  }
  void set_extra_state(const std::vector<double>& values) override { u_product_ = values.at(0); }
  void begin_step(std::int64_t step) override;
  void update_step(float* var, const float* grad, std::size_t n, const Slots& slots, float lr,
                   std::int64_t step) override;

 private:
  double u_product_ = 1.0;
};

struct AdagradOptions {
  LearningRate learning_rate = 0.001;
  double initial_accumulator_value = 0.1;
  double epsilon = 1e-7;
  std::optional<double> weight_decay = std::nullopt;
  std::optional<double> clipnorm = std::nullopt;
  std::optional<double> clipvalue = std::nullopt;
  std::optional<double> global_clipnorm = std::nullopt;
};
PLEXUS_CONFIG_FIELDS(AdagradOptions, learning_rate, initial_accumulator_value, epsilon,
                     weight_decay, clipnorm, clipvalue, global_clipnorm)
// acc += g^2 (starting at initial_accumulator_value); w -= lr g / sqrt(acc + eps).
class Adagrad : public KerasOptimizer<Adagrad, AdagradOptions> {
 public:
  using KerasOptimizer::KerasOptimizer;
  static constexpr const char* kClassName = "Adagrad";
  static constexpr const char* kName = "adagrad";
  static constexpr std::array<const char*, 1> kSlots{"accumulator"};
  static void validate(const AdagradOptions& options);

 protected:
  bool uses_slot(std::size_t slot) const override { return slot == 0; }
  float slot_initial_value(std::size_t /*slot*/) const override {
    return static_cast<float>(options().initial_accumulator_value);
  }
  void update_step(float* var, const float* grad, std::size_t n, const Slots& slots, float lr,
                   std::int64_t step) override;
};

struct AdadeltaOptions {
  LearningRate learning_rate = 0.001;
  double rho = 0.95;
  double epsilon = 1e-7;
  std::optional<double> weight_decay = std::nullopt;
  std::optional<double> clipnorm = std::nullopt;
  std::optional<double> clipvalue = std::nullopt;
  std::optional<double> global_clipnorm = std::nullopt;
};
PLEXUS_CONFIG_FIELDS(AdadeltaOptions, learning_rate, rho, epsilon, weight_decay, clipnorm,
                     clipvalue, global_clipnorm)
// a = rho a + (1 - rho) g^2; d = -sqrt(b + eps) g / sqrt(a + eps);
// b = rho b + (1 - rho) d^2; w += lr d.
class Adadelta : public KerasOptimizer<Adadelta, AdadeltaOptions> {
 public:
  using KerasOptimizer::KerasOptimizer;
  static constexpr const char* kClassName = "Adadelta";
  static constexpr const char* kName = "adadelta";
  static constexpr std::array<const char*, 2> kSlots{"accumulated_grad", "accumulated_delta_var"};

 protected:
  bool uses_slot(std::size_t slot) const override { return slot < 2; }
  void update_step(float* var, const float* grad, std::size_t n, const Slots& slots, float lr,
                   std::int64_t step) override;
};

struct AdamaxOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  std::optional<double> weight_decay = std::nullopt;
  std::optional<double> clipnorm = std::nullopt;
  std::optional<double> clipvalue = std::nullopt;
  std::optional<double> global_clipnorm = std::nullopt;
};
PLEXUS_CONFIG_FIELDS(AdamaxOptions, learning_rate, beta_1, beta_2, epsilon, weight_decay, clipnorm,
                     clipvalue, global_clipnorm)
// m += (g - m)(1 - beta_1); u = max(beta_2 u, |g|); w -= lr m / ((1 - beta_1^t)(u + eps)).
class Adamax : public KerasOptimizer<Adamax, AdamaxOptions> {
 public:
  using KerasOptimizer::KerasOptimizer;
  static constexpr const char* kClassName = "Adamax";
  static constexpr const char* kName = "adamax";
  static constexpr std::array<const char*, 2> kSlots{"momentum", "norm"};

 protected:
  bool uses_slot(std::size_t slot) const override { return slot < 2; }
  void update_step(float* var, const float* grad, std::size_t n, const Slots& slots, float lr,
                   std::int64_t step) override;
};

struct LionOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;  // in (0, 1]
  double beta_2 = 0.99;
  std::optional<double> weight_decay = std::nullopt;
  std::optional<double> clipnorm = std::nullopt;
  std::optional<double> clipvalue = std::nullopt;
  std::optional<double> global_clipnorm = std::nullopt;
};
PLEXUS_CONFIG_FIELDS(LionOptions, learning_rate, beta_1, beta_2, weight_decay, clipnorm, clipvalue,
                     global_clipnorm)
// w -= lr sign(beta_1 m + (1 - beta_1) g); then m = beta_2 m + (1 - beta_2) g.
class Lion : public KerasOptimizer<Lion, LionOptions> {
 public:
  using KerasOptimizer::KerasOptimizer;
  static constexpr const char* kClassName = "Lion";
  static constexpr const char* kName = "lion";
  static constexpr std::array<const char*, 1> kSlots{"momentum"};
  static void validate(const LionOptions& options);

 protected:
  bool uses_slot(std::size_t slot) const override { return slot == 0; }
  void update_step(float* var, const float* grad, std::size_t n, const Slots& slots, float lr,
                   std::int64_t step) override;
};

// An optimizer with Keras's defaults by name (case-insensitive): "sgd", "rmsprop", "adam",
// "adamw", "nadam", "adagrad", "adadelta", "adamax", "lion". Unknown names throw px::Error listing
// the known ones.
std::shared_ptr<Optimizer> get(std::string_view name);
std::vector<std::string> names();

}  // namespace plexus::optim

// Optimizer keywords (core/keywords.hpp): px::optim::Adam(kw::learning_rate = 1e-3).
PLEXUS_KEYWORD(momentum, double)
PLEXUS_KEYWORD(nesterov, bool)
PLEXUS_KEYWORD(rho, double)
PLEXUS_KEYWORD(epsilon, double)
PLEXUS_KEYWORD(centered, bool)
PLEXUS_KEYWORD(beta_1, double)
PLEXUS_KEYWORD(beta_2, double)
PLEXUS_KEYWORD(amsgrad, bool)
PLEXUS_KEYWORD(initial_accumulator_value, double)
PLEXUS_KEYWORD(weight_decay, std::optional<double>)
PLEXUS_KEYWORD(clipnorm, std::optional<double>)
PLEXUS_KEYWORD(clipvalue, std::optional<double>)
PLEXUS_KEYWORD(global_clipnorm, std::optional<double>)
