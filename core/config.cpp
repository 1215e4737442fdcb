#include "core/config.hpp"

#include "core/error.hpp"
#include "core/json.hpp"

namespace plexus::config {

void refuse_set(const Config& c, std::string_view where, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    auto it = c.find(key);
    if (it == c.end()) continue;
    const Config& v = *it;
    const bool unset = v.is_null() || (v.is_boolean() && !v.get<bool>()) ||
                       (v.is_number() && v.get<double>() == 0.0) || (v.is_array() && v.empty());
    if (!unset) {
      throw Error("{}: {}={} is not supported by plexus", where, key, v.dump());
    }
  }
}

std::string name_of(const Config& c) {
  if (!c.is_object()) return {};
  auto it = c.find("name");
  return it != c.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace plexus::config
