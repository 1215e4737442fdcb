// The type-erased registry core (core/registry.hpp).
#include "core/registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "core/json.hpp"

namespace plexus {

std::string plural(const std::string& kind) {
  if (!kind.empty() && (kind.back() == 's' || kind.back() == 'x')) return kind + "es";
  return kind + "s";
}

namespace detail {

namespace {
std::string truncated(const Config& c) {
  std::string s = c.dump();
  if (s.size() > 300) s = s.substr(0, 300) + "...";
  return s;
}
}  // namespace

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string registry_key(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '_') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string did_you_mean(std::string_view name, const std::vector<std::string>& known) {
  std::string hint;
  const std::string key = to_lower(name);
  std::size_t best = 3;
  bool best_snake = false;
  for (const auto& k : known) {
    const std::size_t d = edit_distance(key, to_lower(k));
    // Among equally close names prefer the snake_case one ("adam" over "Adam").
    const bool snake = k == to_lower(k);
    if (d < best || (d == best && snake && !best_snake && !hint.empty())) {
      best = d;
      best_snake = snake;
      hint = fmt::format(" Did you mean \"{}\"?", k);
    }
  }
  return hint;
}

std::string join_sorted(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

struct RegistryCore::Entry {
  std::string class_name;
  std::string registered_name;  // "package>Name" for user classes, else empty
  std::string module;
  Factory factory;
};

RegistryCore::RegistryCore(std::string kind, std::string module, std::string register_hint)
    : kind_(std::move(kind)), module_(std::move(module)), hint_(std::move(register_hint)) {}
RegistryCore::~RegistryCore() = default;

void RegistryCore::add(std::string class_name, Factory factory, std::vector<std::string> aliases) {
  Entry e{class_name, {}, module_, std::move(factory)};
  insert(std::move(e), class_name, aliases, nullptr);
}

void RegistryCore::add_custom(const std::string& registered_name, Factory factory,
                              std::type_index type) {
  const auto gt = registered_name.find('>');
  if (gt == std::string::npos || gt == 0 || gt + 1 == registered_name.size()) {
    throw Error("Cannot register {} \"{}\": the name must have the form \"package>Name\"", kind_,
                registered_name);
  }
  const std::string cls = registered_name.substr(gt + 1);
  Entry e{cls, registered_name, registered_name.substr(0, gt), std::move(factory)};
  insert(std::move(e), registered_name, {cls}, &type);
}

bool RegistryCore::contains(std::string_view name) const {
  std::lock_guard lock(mutex_);
  return keys_.count(registry_key(name)) != 0;
}

std::string RegistryCore::class_name_of(std::string_view name) const {
  return find(name, {}, {}).class_name;
}

std::shared_ptr<void> RegistryCore::create(std::string_view name) const {
  return create(Config(name));
}

std::shared_ptr<void> RegistryCore::create(const Config& spec) const {
  if (spec.is_string()) {
    const std::string name = spec.get<std::string>();
    return build(find(name, {}, {}), Config::object(), name);
  }
  if (!spec.is_object()) {
    throw Error(
        "Cannot build a {} from {}: expected a name or a {{\"class_name\", \"config\"}} "
        "object",
        kind_, spec.dump());
  }
  auto cls = spec.find("class_name");
  if (cls == spec.end() || !cls->is_string()) {
    throw Error("Cannot build a {} from {}: \"class_name\" is missing or not a string", kind_,
                truncated(spec));
  }
  std::string class_name = cls->get<std::string>();
  std::string registered;
  if (auto r = spec.find("registered_name"); r != spec.end() && r->is_string()) {
    registered = r->get<std::string>();
  }
  std::string module;
  if (auto m = spec.find("module"); m != spec.end() && m->is_string()) {
    module = m->get<std::string>();
  }
  Config inner = Config::object();
  if (auto c = spec.find("config"); c != spec.end() && !c->is_null()) inner = *c;
  // Keras 3 writes a plain function (an activation) as class_name "function" with the
  // function's name as config.
  if (class_name == "function" && inner.is_string()) {
    const std::string name = inner.get<std::string>();
    return build(find(name, {}, module), Config::object(), name);
  }
  if (!inner.is_object()) {
    throw Error("Cannot build {} \"{}\": its \"config\" must be an object, received {}", kind_,
                class_name, truncated(inner));
  }
  const Entry e = find(class_name, registered, module);
  return build(e, inner, class_name);
}

Config RegistryCore::serialize(std::type_index type, const std::string& class_name,
                               Config config) const {
  std::string module = module_;
  Config registered = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (auto t = by_type_.find(type); t != by_type_.end()) {
      const Entry& e = entries_[t->second];
      module = e.module;
      registered = e.registered_name;
    }
  }
  Config out = Config::object();
  out["module"] = module;
  out["class_name"] = class_name;
  out["config"] = std::move(config);
  out["registered_name"] = registered;
  return out;
}

std::vector<std::string> RegistryCore::names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out = display_;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void RegistryCore::insert(Entry e, const std::string& primary,
                          const std::vector<std::string>& aliases, const std::type_index* type) {
  std::lock_guard lock(mutex_);
  std::size_t index = entries_.size();
  if (auto it = keys_.find(registry_key(primary)); it != keys_.end()) {
    index = it->second;  // re-registration replaces
    entries_[index] = std::move(e);
  } else {
    entries_.push_back(std::move(e));
    display_.push_back(primary);
  }
  keys_[registry_key(primary)] = index;
  for (const auto& a : aliases) {
    const std::string key = registry_key(a);
    // A user class's bare name never hides a built-in of the same name.
    if (type != nullptr && keys_.count(key) != 0 && keys_[key] != index) continue;
    if (std::find(display_.begin(), display_.end(), a) == display_.end()) display_.push_back(a);
    keys_[key] = index;
  }
  if (type != nullptr) by_type_.insert_or_assign(*type, index);
}

RegistryCore::Entry RegistryCore::find(std::string_view class_name, std::string_view registered,
                                       std::string_view module) const {
  {
    std::lock_guard lock(mutex_);
    if (!registered.empty()) {
      if (auto it = keys_.find(registry_key(registered)); it != keys_.end()) {
        return entries_[it->second];
      }
    }
    if (auto it = keys_.find(registry_key(class_name)); it != keys_.end()) {
      return entries_[it->second];
    }
  }
  const std::vector<std::string> known = names();
  std::string message = fmt::format("Unknown {} \"{}\"", kind_, class_name);
  const bool custom = (!registered.empty() && registered.find('>') != std::string_view::npos) ||
                      (!module.empty() && module.rfind("keras", 0) != 0);
  if (!registered.empty() && registered != class_name) {
    message += fmt::format(" (registered name \"{}\")", registered);
  } else if (custom) {
    message += fmt::format(" (module \"{}\")", module);
  }
  message += fmt::format(".{} Known {}: {}.", did_you_mean(class_name, known), plural(kind_),
                         join_sorted(known));
  if (!hint_.empty()) {
    const std::string reg = !registered.empty() && registered.find('>') != std::string_view::npos
                                ? std::string(registered)
                                : fmt::format("package>{}", class_name);
    std::string how = hint_;
    auto put = [&](std::string_view from, const std::string& to) {
      for (auto p = how.find(from); p != std::string::npos; p = how.find(from, p + to.size())) {
        how.replace(p, from.size(), to);
      }
    };
    put("{class}", std::string(class_name));
    put("{registered}", reg);
    message += fmt::format(" A custom class must be registered before it is loaded: {}", how);
  }
  throw Error(message);
}

std::shared_ptr<void> RegistryCore::build(const Entry& e, const Config& inner,
                                          std::string_view as) const {
  try {
    auto obj = e.factory(inner);
    if (!obj) throw Error("its factory returned nothing");
    return obj;
  } catch (const nlohmann::json::exception& ex) {
    throw Error("Cannot build {} \"{}\" from config {}: {}", kind_, as, truncated(inner),
                ex.what());
  }
}

}  // namespace detail

}  // namespace plexus
