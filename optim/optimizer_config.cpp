// Optimizer configs (Keras 3's base_optimizer.get_config) and the optimizer registry.
#include "core/config.hpp"
#include "core/error.hpp"
#include "optim/optimizers.hpp"

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
