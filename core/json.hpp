// The full definition of px::Config (nlohmann::ordered_json) and the helpers that read it.
// Include it in a file that reads or writes configs (a custom layer's get_config /
// from_config, a .cpp of the library); plexus.hpp itself only declares px::Config.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "core/config.hpp"

namespace plexus::config {
// The value at `key`, or `fallback` when the key is absent or null.
template <typename T>
T get_or(const Config& c, std::string_view key, T fallback) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null()) return fallback;
  return it->template get<T>();
}
}  // namespace plexus::config
