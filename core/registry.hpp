// One registry shape for every configurable family (Keras's object_registration +
// serialization_lib): layers, activations, initializers, regularizers, constraints,
// losses, metrics, optimizers and learning-rate schedules.
//
// A class is keyed by its Keras class name ("MeanSquaredError"); aliases ("mse",
// "mean_squared_error") are given in the one add() call. Lookups ignore case and
// underscores, so "GlorotUniform", "glorot_uniform" and "glorotuniform" are one key.
// create() accepts
//   - a bare name:               "relu", "glorot_uniform", "adam"
//   - Keras 3's dict:            {"module", "class_name", "config", "registered_name"}
//   - Keras 2's dict:            {"class_name", "config"}
// and serialize() writes Keras 3's dict: built-ins get registered_name null, user classes
// (add_custom) their "package>Name" and module "package".
//
// The objects a registry builds expose `std::string class_name() const` and
// `px::Config get_config() const`.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeindex>
#include <typeinfo>
#include <utility>
#include <vector>

#include "core/config.hpp"
#include "core/error.hpp"

namespace plexus {

// "loss" -> "losses", "optimizer" -> "optimizers" (English plural for error messages).
std::string plural(const std::string& kind);

namespace detail {
std::string to_lower(std::string_view s);
// The lookup key: lower case without underscores ("GlorotUniform" == "glorot_uniform").
std::string registry_key(std::string_view s);
// Levenshtein distance, for "did you mean" hints.
std::size_t edit_distance(std::string_view a, std::string_view b);
// ' Did you mean "adam"?' for the closest known name within 2 edits, else "".
std::string did_you_mean(std::string_view name, const std::vector<std::string>& known);
// "a, b, c" (sorted, unique).
std::string join_sorted(std::vector<std::string> names);

// U, as a type that depends on T (delays a use of px::Config to instantiation).
template <typename T, typename U>
struct Dependent {
  using type = U;
};

// The type-erased registry behind Registry<Base> (core/registry.cpp): the names, the
// lookups, the config parsing and the messages, compiled once in the library. Objects
// travel as shared_ptr<void> pointing at their Base sub-object.
class RegistryCore {
 public:
  using Factory = std::function<std::shared_ptr<void>(const Config& config)>;
  RegistryCore(std::string kind, std::string module, std::string register_hint);
  ~RegistryCore();
  void add(std::string class_name, Factory factory, std::vector<std::string> aliases);
  void add_custom(const std::string& registered_name, Factory factory, std::type_index type);
  bool contains(std::string_view name) const;
  std::string class_name_of(std::string_view name) const;
  std::shared_ptr<void> create(const Config& spec) const;
  std::shared_ptr<void> create(std::string_view name) const;
  // Keras 3's dict for an object of dynamic type `type`.
  Config serialize(std::type_index type, const std::string& class_name, Config config) const;
  std::vector<std::string> names() const;
  const std::string& kind() const { return kind_; }
  const std::string& module() const { return module_; }

 private:
  struct Entry;
  void insert(Entry e, const std::string& primary, const std::vector<std::string>& aliases,
              const std::type_index* type);
  Entry find(std::string_view class_name, std::string_view registered,
             std::string_view module) const;
  std::shared_ptr<void> build(const Entry& e, const Config& inner, std::string_view as) const;

  std::string kind_, module_, hint_;
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
  std::vector<std::string> display_;
  std::map<std::string, std::size_t> keys_;
  std::map<std::type_index, std::size_t> by_type_;
};

}  // namespace detail

template <typename Base>
class Registry {
 public:
  // Builds an object from its inner config ({} for a bare name).
  using Factory = std::function<std::shared_ptr<Base>(const Config& config)>;

  // kind: "layer", "initializer", ... (for messages); module: Keras's module for the
  // built-ins ("keras.layers"); register_hint: how a user registers a class, with {} for
  // the class name (e.g. "px::register_layer<{}>(\"package>{}\")"), or empty.
  Registry(std::string kind, std::string module, std::string register_hint = {})
      : core_(std::move(kind), std::move(module), std::move(register_hint)) {}

  // A built-in class, by its Keras class name, with the other names it answers to.
  void add(std::string class_name, Factory factory, std::vector<std::string> aliases = {}) {
    core_.add(std::move(class_name), erase(std::move(factory)), std::move(aliases));
  }
  // A user class T under "package>Name" (Keras's register_keras_serializable). Also found
  // by its bare class name. Registering the same name again replaces the entry.
  template <typename T>
  void add_custom(const std::string& registered_name, Factory factory) {
    core_.add_custom(registered_name, erase(std::move(factory)), std::type_index(typeid(T)));
  }

  bool contains(std::string_view name) const { return core_.contains(name); }
  // The Keras class name a name or alias stands for; px::Error for an unknown name.
  std::string class_name_of(std::string_view name) const { return core_.class_name_of(name); }

  // An object from a bare name or a Keras 2/3 dict (see the top of this file).
  std::shared_ptr<Base> create(const Config& spec) const {
    return std::static_pointer_cast<Base>(core_.create(spec));
  }
  std::shared_ptr<Base> create(std::string_view name) const {
    return std::static_pointer_cast<Base>(core_.create(name));
  }

  // Keras 3's {"module", "class_name", "config", "registered_name"} for an object.
  // (A template so that the json type is only needed where it is called.)
  template <typename B = Base>
  typename detail::Dependent<B, Config>::type serialize(const B& obj) const {
    return core_.serialize(std::type_index(typeid(obj)), obj.class_name(), obj.get_config());
  }

  // Every accepted name (class names, aliases, registered names), sorted.
  std::vector<std::string> names() const { return core_.names(); }
  const std::string& kind() const { return core_.kind(); }
  const std::string& module() const { return core_.module(); }

 private:
  static detail::RegistryCore::Factory erase(Factory factory) {
    return [f = std::move(factory)](const Config& config) -> std::shared_ptr<void> {
      std::shared_ptr<Base> obj = f(config);
      return obj;
    };
  }
  detail::RegistryCore core_;
};

// An option field holding a registered object (an initializer, a regularizer, ...):
// empty (null), or built from a name ("l2"), an object (px::regularizers::L2(1e-4)), a
// shared pointer or a config. Base::registry() resolves names and configs, so an unknown
// name fails where the option is written. Copies share the object.
template <typename Base>
class ObjectRef {
 public:
  ObjectRef() = default;
  ObjectRef(std::nullptr_t) {}                                               // NOLINT
  ObjectRef(const char* name) : ObjectRef(std::string_view(name)) {}         // NOLINT
  ObjectRef(const std::string& name) : ObjectRef(std::string_view(name)) {}  // NOLINT
  ObjectRef(std::string_view name) : ptr_(Base::registry().create(name)) {}  // NOLINT
  ObjectRef(std::shared_ptr<Base> object) : ptr_(std::move(object)) {}       // NOLINT
  template <typename T>
  requires(std::is_base_of_v<Base, std::remove_cvref_t<T>> &&
           !std::is_same_v<std::remove_cvref_t<T>, Base>) ObjectRef(T&& object)  // NOLINT
      : ptr_(std::make_shared<std::decay_t<T>>(std::forward<T>(object))) {}

  explicit operator bool() const { return ptr_ != nullptr; }
  const Base* operator->() const { return ptr_.get(); }
  const Base& operator*() const { return *ptr_; }
  const std::shared_ptr<Base>& get() const { return ptr_; }
  // The Keras class name, or "" when empty.
  std::string class_name() const { return ptr_ ? ptr_->class_name() : std::string(); }

 private:
  std::shared_ptr<Base> ptr_;
};

// Templates over the json type (instantiated where "core/json.hpp" is included).
template <typename Json, typename Base>
void to_json(Json& j, const ObjectRef<Base>& ref) {
  if (ref) {
    j = Base::registry().serialize(*ref);
  } else {
    j = nullptr;
  }
}
template <typename Json, typename Base>
void from_json(const Json& j, ObjectRef<Base>& ref) {
  ref = j.is_null() ? ObjectRef<Base>() : ObjectRef<Base>(Base::registry().create(j));
}

}  // namespace plexus
