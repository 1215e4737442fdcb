#include "optim/saving/training_state.hpp"

#include <fmt/format.h>

#include <functional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "optim/losses.hpp"
#include "optim/metrics.hpp"
#include "optim/optimizers.hpp"
#include "optim/train_state.hpp"

namespace plexus::saving::detail {

namespace {

// --- writing -----------------------------------------------------------------------------

// A Keras serialized function ({"class_name": "function", ...}): what Keras writes for a
// plain Python function, the closest thing to a C++ callable.
Config function_config(const std::string& name) {
  return {{"module", "builtins"},
          {"class_name", "function"},
          {"config", name},
          {"registered_name", "function"}};
}

Config loss_item(const LossItem& item) {
  if (!item.object) return item.name;
  if (dynamic_cast<const losses::LossFunction*>(item.object.get())) {
    return function_config(item.object->name());
  }
  return losses::Loss::registry().serialize(*item.object);
}

Config metric_item(const MetricSpec& m) {
  if (!m.object) return m.name;
  return metrics::Metric::registry().serialize(*m.object);
}

Config metric_list(const std::vector<MetricSpec>& list) {
  Config out = Config::array();
  for (const auto& m : list) out.push_back(metric_item(m));
  return out;
}

// --- reading -----------------------------------------------------------------------------

bool is_serialized_object(const Config& c) { return c.is_object() && c.contains("class_name"); }

LossItem loss_from(const Config& c) {
  if (c.is_string()) return LossItem(c.get<std::string>());
  return LossItem(losses::Loss::registry().create(c));
}

MetricSpec metric_from(const Config& c) {
  if (c.is_string()) return MetricSpec(c.get<std::string>());
  return MetricSpec(metrics::Metric::registry().create(c));
}

std::vector<MetricSpec> metric_list_from(const Config& c) {
  std::vector<MetricSpec> out;
  if (c.is_null()) return out;
  if (!c.is_array()) {
    out.push_back(metric_from(c));
    return out;
  }
  for (const auto& m : c) {
    if (!m.is_null()) out.push_back(metric_from(m));
  }
  return out;
}

CompileOptions options_from(const Model& model, const Config& optimizer, const Config& loss,
                            const Config& metrics, const Config& loss_weights) {
  CompileOptions o;
  o.optimizer = optim::Optimizer::registry().create(optimizer);
  if (loss.is_string() || is_serialized_object(loss)) {
    o.loss = LossSpec(loss_from(loss));
  } else if (loss.is_array()) {
    std::vector<LossItem> items;
    for (const auto& l : loss) items.push_back(l.is_null() ? LossItem() : loss_from(l));
    o.loss = LossSpec(std::move(items));
  } else if (loss.is_object()) {
    for (const auto& [name, l] : loss.items()) {
      if (!l.is_null()) o.loss.by_name.emplace_back(name, loss_from(l));
    }
  } else {
    throw Error("the loss must be a name, an object, a list or a dict, received {}",
                loss.dump().substr(0, 200));
  }
  if (metrics.is_object() && !is_serialized_object(metrics)) {
    for (const auto& [name, list] : metrics.items()) {
      o.metrics.by_output.emplace_back(name, metric_list_from(list));
    }
  } else {
    o.metrics = MetricsSpec(metric_list_from(metrics));
  }
  if (loss_weights.is_array()) {
    const auto names = model.output_names();
    if (loss_weights.size() != names.size()) {
      throw Error("loss_weights lists {} values for {} outputs", loss_weights.size(), names.size());
    }
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (!loss_weights[i].is_number()) throw Error("loss_weights must be numbers");
      o.loss_weights[names[i]] = loss_weights[i].get<double>();
    }
  } else if (loss_weights.is_object()) {
    for (const auto& [name, w] : loss_weights.items()) {
      if (!w.is_number()) throw Error("loss_weights must be numbers");
      o.loss_weights[name] = w.get<double>();
    }
  } else if (!loss_weights.is_null()) {
    throw Error("loss_weights must be a list or a dict, received {}",
                loss_weights.dump().substr(0, 200));
  }
  return o;
}

void compile_or_explain(Model& model, const std::function<CompileOptions()>& make,
                        const char* what) {
  CompileOptions o;
  try {
    o = make();
  } catch (const Error& e) {
    throw Error(
        "load_model: the model's {} cannot be restored: {}. Load it with compile = false "
        "(px::models::load_model(path, {{.compile = false}})) and compile it in code, or "
        "register the missing class first",
        what, e.what());
  }
  model.compile(std::move(o));
}

}  // namespace

Config compile_config(const Model& model) {
  if (!model.compiled()) return Config::object();
  const optim::TrainState& st = optim::TrainAccess::state(model);
  const CompileOptions& o = *st.compile_options;
  Config c = Config::object();
  c["optimizer"] = optim::Optimizer::registry().serialize(*st.optimizer);
  if (!o.loss.by_name.empty()) {
    Config d = Config::object();
    for (const auto& [name, item] : o.loss.by_name) d[name] = loss_item(item);
    c["loss"] = d;
  } else if (o.loss.items.size() == 1) {
    c["loss"] = loss_item(o.loss.items[0]);
  } else {
    Config list = Config::array();
    for (const auto& item : o.loss.items) {
      list.push_back(item.empty() ? Config(nullptr) : loss_item(item));
    }
    c["loss"] = list;
  }
  if (o.loss_weights.empty()) {
    c["loss_weights"] = nullptr;
  } else {
    Config d = Config::object();
    for (const auto& [name, w] : o.loss_weights) d[name] = w;
    c["loss_weights"] = d;
  }
  if (!o.metrics.by_output.empty()) {
    Config d = Config::object();
    for (const auto& [name, list] : o.metrics.by_output) d[name] = metric_list(list);
    c["metrics"] = d;
  } else if (o.metrics.all.empty()) {
    c["metrics"] = nullptr;
  } else {
    c["metrics"] = metric_list(o.metrics.all);
  }
  c["weighted_metrics"] = nullptr;
  c["run_eagerly"] = false;
  c["steps_per_execution"] = 1;
  c["jit_compile"] = false;
  return c;
}

void compile_from_config(Model& model, const Config& config) {
  if (!config.is_object() || config.empty()) return;
  compile_or_explain(
      model,
      [&] {
        if (!config.contains("optimizer") || !config.contains("loss")) {
          throw Error("it has no optimizer or no loss");
        }
        for (const char* key : {"weighted_metrics"}) {
          if (config.contains(key) && !config[key].is_null()) {
            throw Error("{} are not supported", key);
          }
        }
        return options_from(model, config["optimizer"], config["loss"],
                            config.value("metrics", Config()),
                            config.value("loss_weights", Config()));
      },
      "compile_config");
}

void compile_from_legacy_config(Model& model, const Config& config) {
  if (!config.is_object()) return;
  compile_or_explain(
      model,
      [&] {
        if (!config.contains("optimizer_config") || !config.contains("loss")) {
          throw Error("it has no optimizer_config or no loss");
        }
        return options_from(model, config["optimizer_config"], config["loss"],
                            config.value("metrics", Config()),
                            config.value("loss_weights", Config()));
      },
      "training_config");
}

void write_optimizer_state(const Model& model, const h5::Group& root) {
  if (!model.compiled()) return;
  const optim::Optimizer& opt = model.optimizer();
  // Keras builds its optimizer on the first step; before it, only iteration and rate.
  const bool built = opt.iterations() > 0 || !opt.variables().empty();
  const auto vars = opt.state_variables(model.trainable_weights(), built);
  const h5::Group g = root.create_group("optimizer").create_group("vars");
  using Type = optim::Optimizer::StateVariable::Type;
  for (std::size_t i = 0; i < vars.size(); ++i) {
    const auto& v = vars[i];
    const std::string key = std::to_string(i);
    if (v.type == Type::int64) {
      g.write_int_scalar(key, static_cast<std::int64_t>(v.scalar));
    } else if (v.type == Type::float64) {
      g.write_double_scalar(key, v.scalar);
    } else {
      Tensor t;
      resize_to(t, v.shape);
      std::copy(v.values.begin(), v.values.end(), t.data());
      g.write_dataset(key, t);
    }
  }
}

bool read_optimizer_state(const Model& model, const h5::Group& root) {
  if (!model.compiled() || !root.has_group("optimizer")) return false;
  const h5::Group og = root.group("optimizer");
  if (!og.has_group("vars")) return false;
  const h5::Group g = og.group("vars");
  optim::Optimizer& opt = model.optimizer();
  const auto trainable = model.trainable_weights();
  const auto expected = opt.state_variables(trainable, true);
  const std::size_t count = g.children().size();
  if (count > expected.size()) {
    throw Error(
        "load_model: the file's optimizer state has {} variables, optimizer \"{}\" on {} "
        "trainable weights has {}",
        count, opt.name(), trainable.size(), expected.size());
  }
  using Type = optim::Optimizer::StateVariable::Type;
  std::vector<optim::Optimizer::StateVariable> values;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string key = std::to_string(i);
    const auto& e = expected[i];
    optim::Optimizer::StateVariable v;
    v.name = e.name;
    if (e.type != Type::float32) {
      v.type = g.dataset_is_integer(key) ? Type::int64 : Type::float64;
      v.scalar = v.type == Type::int64 ? static_cast<double>(g.read_int_scalar(key))
                                       : g.read_double_scalar(key);
    } else {
      const std::string what =
          fmt::format("load_model: optimizer \"{}\" variable {} (\"{}\")", opt.name(), i, e.name);
      const Tensor t = g.read_dataset(key, &e.shape, what);
      v.shape = e.shape;
      v.values.assign(t.data(), t.data() + t.size());
    }
    values.push_back(std::move(v));
  }
  if (values.empty()) return false;
  opt.set_state_variables(trainable, values);
  return true;
}

}  // namespace plexus::saving::detail
