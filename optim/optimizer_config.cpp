// Optimizer configs (Keras 3's base_optimizer.get_config) and the optimizer registry.
#include <map>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "optim/optimizers.hpp"
#include "optim/option_checks.hpp"

namespace plexus::optim {

Config Optimizer::get_config() const {
  Config c = Config::object();
  c["name"] = name();
  c["learning_rate"] = config_.learning_rate;
  c["weight_decay"] = config_.weight_decay;
  c["clipnorm"] = config_.clipnorm;
  c["global_clipnorm"] = config_.global_clipnorm;
  c["clipvalue"] = config_.clipvalue;
  c["use_ema"] = false;
  c["ema_momentum"] = 0.99;
  c["ema_overwrite_frequency"] = nullptr;
  c["loss_scale_factor"] = nullptr;
  c["gradient_accumulation_steps"] = nullptr;
  const Config own = options_config();
  for (const auto& [key, value] : own.items()) {
    if (!c.contains(key)) c[key] = value;
  }
  return c;
}

namespace {

// Options from a Keras 3 (or Keras 2) optimizer config; refuses what plexus cannot do.
template <typename Options>
Options options_from(const Config& config, const char* cls) {
  Config c = config;
  config::refuse_set(c, cls,
                     {"use_ema", "loss_scale_factor", "gradient_accumulation_steps", "decay"});
  // Keras 2 spelled the rate "lr".
  if (!c.contains("learning_rate") && c.contains("lr")) c["learning_rate"] = c["lr"];
  for (const char* key : {"weight_decay", "clipnorm", "clipvalue", "global_clipnorm"}) {
    if (auto it = c.find(key); it != c.end() && !it->is_null() && !it->is_number()) {
      throw Error("{}: {} must be a number or null, received {}", cls, key, it->dump());
    }
  }
  return c.get<Options>();
}

template <typename T, typename Options>
Registry<Optimizer>::Factory factory(const char* cls) {
  return [cls](const Config& c) -> std::shared_ptr<Optimizer> {
    return std::make_shared<T>(options_from<Options>(c, cls));
  };
}

void add_builtins(Registry<Optimizer>& r) {
  r.add("SGD", factory<SGD, SGDOptions>("SGD"), {"sgd"});
  r.add("RMSprop", factory<RMSprop, RMSpropOptions>("RMSprop"), {"rmsprop"});
  r.add("Adam", factory<Adam, AdamOptions>("Adam"), {"adam"});
  r.add("AdamW", factory<AdamW, AdamWOptions>("AdamW"), {"adamw"});
  r.add("Nadam", factory<Nadam, NadamOptions>("Nadam"), {"nadam"});
  r.add("Adagrad", factory<Adagrad, AdagradOptions>("Adagrad"), {"adagrad"});
  r.add("Adadelta", factory<Adadelta, AdadeltaOptions>("Adadelta"), {"adadelta"});
  r.add("Adamax", factory<Adamax, AdamaxOptions>("Adamax"), {"adamax"});
  r.add("Lion", factory<Lion, LionOptions>("Lion"), {"lion"});
}

}  // namespace

Registry<Optimizer>& Optimizer::registry() {
  static Registry<Optimizer> r("optimizer", "keras.optimizers");
  static const bool filled = (add_builtins(r), true);
  (void)filled;
  return r;
}

std::vector<std::string> names() { return Optimizer::registry().names(); }

std::shared_ptr<Optimizer> get(std::string_view name) { return Optimizer::registry().create(name); }

}  // namespace plexus::optim

// --- state in Keras 3's layout ---------------------------------------------------------

namespace plexus::optim {

std::vector<std::vector<std::size_t>> Optimizer::slot_groups() const {
  std::vector<std::size_t> all;
  for (std::size_t k = 0; k < kMaxSlots; ++k) {
    if (uses_slot(k)) all.push_back(k);
  }
  if (all.empty()) return {};
  return {all};
}

std::string Optimizer::slot_name(std::size_t slot) const { return "slot" + std::to_string(slot); }

std::vector<std::vector<std::size_t>> RMSprop::slot_groups() const {
  std::vector<std::vector<std::size_t>> groups;
  for (std::size_t k = 0; k < kMaxSlots; ++k) {
    if (uses_slot(k)) groups.push_back({k});
  }
  return groups;
}

std::vector<std::vector<std::size_t>> Adam::slot_groups() const {
  if (options().amsgrad) return {{0, 1}, {2}};
  return {{0, 1}};
}

std::vector<std::vector<std::size_t>> AdamW::slot_groups() const {
  if (options().amsgrad) return {{0, 1}, {2}};
  return {{0, 1}};
}

namespace {

std::string keras_var_name(const VariableData& v, const std::string& slot) {
  std::string base = v.path.empty() ? v.name : v.path;
  for (char& c : base) {
    if (c == '/' || c == ':') c = '_';
  }
  return base + "_" + slot;
}

const char* type_name(Optimizer::StateVariable::Type t) {
  switch (t) {
    case Optimizer::StateVariable::Type::int64:
      return "int64";
    case Optimizer::StateVariable::Type::float64:
      return "float64";
    default:
      return "float32";
  }
}

}  // namespace

std::vector<Optimizer::StateVariable> Optimizer::state_variables(
    const std::vector<Variable>& trainable, bool built) const {
  using Type = StateVariable::Type;
  std::vector<StateVariable> out;
  out.push_back({"iteration", Type::int64, {}, static_cast<double>(iterations_), {}});
  if (!config_.learning_rate.is_schedule()) {
    out.push_back({"learning_rate", Type::float64, {}, config_.learning_rate.at(0), {}});
  }
  if (!built) return out;
  for (const auto& group : slot_groups()) {
    for (const auto& var : trainable) {
      const VariableData& v = *var.data();
      const VariableState* s = nullptr;
      if (auto it = index_.find(&v); it != index_.end()) {
        const VariableState& cand = state_[it->second];
        if (!cand.owned || cand.variable.lock().get() == &v) s = &cand;
      }
      for (std::size_t k : group) {
        StateVariable sv{
            keras_var_name(v, slot_name(k)), Type::float32, shape_of(v.value), 0.0, {}};
        if (s != nullptr && s->slots[k].size() == v.value.size()) {
          sv.values = s->slots[k];
        } else {
          sv.values.assign(v.value.size(), slot_initial_value(k));
        }
        out.push_back(std::move(sv));
      }
    }
  }
  for (const auto& [name, value] : extra_state()) {
    out.push_back({name, Type::float64, {}, value, {}});
  }
  return out;
}

void Optimizer::set_state_variables(const std::vector<Variable>& trainable,
                                    const std::vector<StateVariable>& values) {
  const auto expected = state_variables(trainable);
  const std::size_t base = config_.learning_rate.is_schedule() ? 1 : 2;
  if (values.size() != expected.size() && values.size() != base) {
    throw Error(
        "Optimizer \"{}\": the saved state has {} variables, this optimizer on {} trainable "
        "weights has {} ({} before its first step)",
        name(), values.size(), trainable.size(), expected.size(), base);
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    const StateVariable& e = expected[i];
    const StateVariable& v = values[i];
    const bool scalar_ok = e.type != StateVariable::Type::float32 &&
                           v.type != StateVariable::Type::float32 && v.shape.empty();
    const bool tensor_ok = e.type == StateVariable::Type::float32 &&
                           v.type == StateVariable::Type::float32 && v.shape == e.shape &&
                           v.values.size() == static_cast<std::size_t>(num_elements(e.shape));
    if (!scalar_ok && !tensor_ok) {
      throw Error(
          "Optimizer \"{}\": saved variable {} (\"{}\") is a {} of shape {}, expected a {} of "
          "shape {}",
          name(), i, e.name, type_name(v.type), shape_str(v.shape), type_name(e.type),
          shape_str(e.shape));
    }
  }
  if (values[0].scalar < 0) {
    throw Error("Optimizer \"{}\": the saved iteration count {} is negative", name(),
                values[0].scalar);
  }
  // Everything checked: assign.
  iterations_ = static_cast<std::int64_t>(values[0].scalar);
  if (base == 2) {
    const double saved = values[1].scalar;
    const double configured = config_.learning_rate.at(0);
    if (saved != configured && saved != static_cast<double>(static_cast<float>(configured))) {
      check_learning_rate(saved, name());
      config_.learning_rate = LearningRate(saved);
    }
  }
  if (values.size() == base) return;
  std::size_t i = base;
  for (const auto& group : slot_groups()) {
    for (const auto& var : trainable) {
      VariableState& s = state_for(*var.data(), var.data()->value.size());
      for (std::size_t k : group) s.slots[k] = values[i++].values;
    }
  }
  std::vector<double> extra;
  for (; i < values.size(); ++i) extra.push_back(values[i].scalar);
  if (!extra.empty()) set_extra_state(extra);
}

}  // namespace plexus::optim
