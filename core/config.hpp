// px::Config: a Keras config (nlohmann::ordered_json keeps Keras's key order).
//
//   px::Config cfg = layer.get_config();   // {"name": "dense", "trainable": true, ...}
//
// PLEXUS_CONFIG_FIELDS(Options, a, b, c) makes an option struct its own config, field by
// field (STYLE.md 15): to_json writes each field under its own name, in the order given;
// from_json reads each field that is present and keeps the struct's default for the others.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace plexus {

using Config = nlohmann::ordered_json;

namespace config {
// The value at `key`, or `fallback` when the key is absent or null.
template <typename T>
T get_or(const Config& c, std::string_view key, T fallback) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null()) return fallback;
  return it->template get<T>();
}
// Throws px::Error naming `where` when one of `keys` holds a value other than null, false,
// 0 or an empty list (a Keras option plexus cannot honour, e.g. Dense's lora_rank).
void refuse_set(const Config& c, std::string_view where, std::initializer_list<const char*> keys);
// The "name" of a layer config, or "" when it has none.
std::string name_of(const Config& c);
}  // namespace config

}  // namespace plexus

// std::optional<T> as a value or null (nlohmann 3.11.2 has no built-in conversion).
namespace nlohmann {
template <typename T>
struct adl_serializer<std::optional<T>> {
  template <typename Json>
  static void to_json(Json& j, const std::optional<T>& v) {
    if (v) {
      j = *v;
    } else {
      j = nullptr;
    }
  }
  template <typename Json>
  static void from_json(const Json& j, std::optional<T>& v) {
    if (j.is_null()) {
      v.reset();
    } else {
      v = j.template get<T>();
    }
  }
};
}  // namespace nlohmann

#define PLEXUS_CONFIG_TO(v1) nlohmann_json_j[#v1] = nlohmann_json_t.v1;
#define PLEXUS_CONFIG_FROM(v1)                                          \
  if (auto it = nlohmann_json_j.find(#v1); it != nlohmann_json_j.end()) \
    it->get_to(nlohmann_json_t.v1);

// Declares to_json/from_json for an option struct, in the struct's namespace.
#define PLEXUS_CONFIG_FIELDS(Type, ...)                                                   \
  inline void to_json(::plexus::Config& nlohmann_json_j, const Type& nlohmann_json_t) {   \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(PLEXUS_CONFIG_TO, __VA_ARGS__))              \
  }                                                                                       \
  inline void from_json(const ::plexus::Config& nlohmann_json_j, Type& nlohmann_json_t) { \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(PLEXUS_CONFIG_FROM, __VA_ARGS__))            \
  }
