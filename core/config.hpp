// px::Config: a Keras config (nlohmann::ordered_json keeps Keras's key order).
//
//   px::Config cfg = layer.get_config();   // {"name": "dense", "trainable": true, ...}
//
// This header only declares the type (nlohmann/json_fwd.hpp), so that the public headers
// cost a user nothing for it; a file that reads or writes configs includes
// "core/json.hpp" (the full nlohmann::json and px::config::get_or).
//
// PLEXUS_CONFIG_FIELDS(Options, a, b, c) makes an option struct its own config, field by
// field (STYLE.md 15): to_json writes each field under its own name, in the order given;
// from_json reads each field that is present and keeps the struct's default for the others.
// Both are templates over the json type, so they cost nothing until a file that includes
// "core/json.hpp" converts the struct.
#pragma once

#include <initializer_list>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace plexus {

using Config = nlohmann::ordered_json;

namespace config {
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

// PLEXUS_PP_FOR_EACH(m, a, b, c) expands to m(a) m(b) m(c) (up to 256 arguments).
#define PLEXUS_PP_PARENS ()
#define PLEXUS_PP_EXPAND(...) PLEXUS_PP_EXPAND4(PLEXUS_PP_EXPAND4(PLEXUS_PP_EXPAND4(__VA_ARGS__)))
#define PLEXUS_PP_EXPAND4(...) PLEXUS_PP_EXPAND3(PLEXUS_PP_EXPAND3(PLEXUS_PP_EXPAND3(__VA_ARGS__)))
#define PLEXUS_PP_EXPAND3(...) PLEXUS_PP_EXPAND2(PLEXUS_PP_EXPAND2(PLEXUS_PP_EXPAND2(__VA_ARGS__)))
#define PLEXUS_PP_EXPAND2(...) PLEXUS_PP_EXPAND1(PLEXUS_PP_EXPAND1(PLEXUS_PP_EXPAND1(__VA_ARGS__)))
#define PLEXUS_PP_EXPAND1(...) __VA_ARGS__
#define PLEXUS_PP_FOR_EACH(macro, ...) \
  __VA_OPT__(PLEXUS_PP_EXPAND(PLEXUS_PP_FOR_EACH_HELPER(macro, __VA_ARGS__)))
#define PLEXUS_PP_FOR_EACH_HELPER(macro, a1, ...) \
  macro(a1) __VA_OPT__(PLEXUS_PP_FOR_EACH_AGAIN PLEXUS_PP_PARENS(macro, __VA_ARGS__))
#define PLEXUS_PP_FOR_EACH_AGAIN() PLEXUS_PP_FOR_EACH_HELPER

#define PLEXUS_CONFIG_TO(v1) plexus_json_j[#v1] = plexus_json_t.v1;
#define PLEXUS_CONFIG_FROM(v1) \
  if (auto it = plexus_json_j.find(#v1); it != plexus_json_j.end()) it->get_to(plexus_json_t.v1);

// Declares to_json/from_json for an option struct, in the struct's namespace.
#define PLEXUS_CONFIG_FIELDS(Type, ...)                                  \
  template <typename PlexusJson>                                         \
  void to_json(PlexusJson& plexus_json_j, const Type& plexus_json_t) {   \
    PLEXUS_PP_FOR_EACH(PLEXUS_CONFIG_TO, __VA_ARGS__)                    \
  }                                                                      \
  template <typename PlexusJson>                                         \
  void from_json(const PlexusJson& plexus_json_j, Type& plexus_json_t) { \
    PLEXUS_PP_FOR_EACH(PLEXUS_CONFIG_FROM, __VA_ARGS__)                  \
  }
