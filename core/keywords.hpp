// Keyword arguments in any order: one spelling for every layer, compile, fit, evaluate,
// predict and callback, so that a Keras call translates to one C++ call.
//
//   Keras:  Dense(12, input_dim=8, activation='relu')
//           model.fit(x, y, batch_size=64, epochs=2, validation_split=0.2)
//   plexus: using namespace px::kw;      // or write px::kw::epochs, ...
//           px::layers::Dense(12, input_dim = 8, activation = "relu")
//           model.fit(x, y, batch_size = 64, epochs = 2, validation_split = 0.2)
//
// A keyword is a constant object in px::kw; `kw::epochs = 1500` makes an argument that
// sets the field `epochs` of whichever option struct the function takes (FitOptions,
// DenseOptions, EarlyStoppingOptions, ...). The typed option structs stay underneath and
// their designated-initializer form (`{.epochs = 5, .batch_size = 32}`) stays valid.
//
// Compile-time checks (each error names the keyword):
//   - a misspelt keyword does not exist:   'epoch' is not a member of 'plexus::kw'
//   - a keyword the function does not take: static assertion in
//       keyword_not_accepted<plexus::kw::tags::epochs, plexus::layers::DenseOptions>
//   - a value of the wrong type:            wrong_value_type_for_keyword<...>
//   - the same keyword twice:               keyword_given_twice<plexus::kw::tags::epochs>
//
// Keywords are declared next to the type of their value (PLEXUS_KEYWORD): the basic ones
// here, compile/fit's in optim/model_options.hpp, all in the one namespace px::kw.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace plexus::kw {

// An argument: the keyword's tag and its value.
template <typename Tag, typename V>
struct Arg {
  using tag_type = Tag;
  V value;
};

template <typename T>
struct is_arg : std::false_type {};
template <typename Tag, typename V>
struct is_arg<Arg<Tag, V>> : std::true_type {};

// Any keyword argument (kw::epochs = 5).
template <typename T>
concept Argument = is_arg<std::remove_cvref_t<T>>::value;

// A keyword. T is the type of its usual value, so that braced lists work
// (`kw::input_shape = {8}`, `kw::validation_data = {x_val, y_val}`); any other value is
// kept as given and assigned to the field.
template <typename Tag, typename T>
struct Keyword {
  using tag = Tag;
  Arg<Tag, T> operator=(T value) const { return {std::move(value)}; }
  template <typename V>
  requires(!std::is_same_v<std::decay_t<V>, T>) Arg<Tag, std::decay_t<V>>
  operator=(V&& value) const { return {std::forward<V>(value)}; }
  // A constant object: the assignment above builds an argument, it changes nothing.
  Keyword() = default;
  Keyword(const Keyword&) = delete;
  Keyword& operator=(const Keyword&) = delete;
};

namespace diagnostics {
template <typename...>
inline constexpr bool always_false = false;
// Instantiated (and failing) only on a wrong call: the compiler's message names the
// keyword's tag and the option struct.
template <typename KeywordTag, typename OptionStruct>
struct keyword_not_accepted {
  static_assert(always_false<KeywordTag, OptionStruct>,
                "this keyword is not an option of this function (see the template arguments "
                "of keyword_not_accepted: the keyword's tag, then the options it was given to)");
};
template <typename KeywordTag, typename OptionStruct, typename Value>
struct wrong_value_type_for_keyword {
  static_assert(always_false<KeywordTag, OptionStruct, Value>,
                "the value cannot be assigned to this keyword's field (see the template "
                "arguments of wrong_value_type_for_keyword: keyword, options, value type)");
};
template <typename KeywordTag>
struct keyword_given_twice {
  static_assert(always_false<KeywordTag>, "the same keyword is given twice in one call");
};
}  // namespace diagnostics

namespace detail {

template <typename Tag, typename... Tags>
constexpr std::size_t count_tag() {
  return (std::size_t{0} + ... + (std::is_same_v<Tag, Tags> ? 1 : 0));
}

template <typename Options, typename A>
void set_one(Options& o, A&& a) {
  using Plain = std::remove_cvref_t<A>;
  [&]<typename Tag, typename V>(Arg<Tag, V>*) {
    if constexpr (!Tag::template has_field<Options>) {
      (void)diagnostics::keyword_not_accepted<Tag, Options>{};
    } else if constexpr (!Tag::template assignable<Options, V>) {
      (void)diagnostics::wrong_value_type_for_keyword<Tag, Options, V>{};
    } else {
      Tag::set(o, std::forward<A>(a).value);
    }
  }(static_cast<Plain*>(nullptr));
}

template <typename A>
using tag_of = typename std::remove_cvref_t<A>::tag_type;

}  // namespace detail

// The option struct `Options` (value-initialised: its defaults) with each keyword's field
// set, in the order given.
template <typename Options, Argument... A>
Options make(A&&... args) {
  (
      [] {
        if constexpr (detail::count_tag<detail::tag_of<A>, detail::tag_of<A>...>() > 1) {
          (void)diagnostics::keyword_given_twice<detail::tag_of<A>>{};
        }
      }(),
      ...);
  Options o{};
  (detail::set_one(o, std::forward<A>(args)), ...);
  return o;
}

}  // namespace plexus::kw

// Declares keyword px::kw::NAME whose usual value type is TYPE; it sets the field NAME.
// Use at global scope. A keyword must be declared once (in the header that knows TYPE).
#define PLEXUS_KEYWORD(NAME, ...)                                         \
  namespace plexus::kw {                                                  \
  namespace tags {                                                        \
  struct NAME {                                                           \
    template <typename O>                                                 \
    static constexpr bool has_field = requires(O & o) {                   \
      o.NAME;                                                             \
    };                                                                    \
    template <typename O, typename V>                                     \
    static constexpr bool assignable = requires(O & o, V&& v) {           \
      o.NAME = std::forward<V>(v);                                        \
    };                                                                    \
    template <typename O, typename V>                                     \
    static void set(O& o, V&& v) {                                        \
      o.NAME = std::forward<V>(v);                                        \
    }                                                                     \
  };                                                                      \
  }                                                                       \
  inline constexpr ::plexus::kw::Keyword<tags::NAME, __VA_ARGS__> NAME{}; \
  }

// Adds a keyword overload to a factory whose last parameter is its option struct:
//   PLEXUS_KEYWORD_FACTORY(LayerHandle<DenseLayer>, Dense, DenseOptions, (Dim units), (units))
// declares   template <kw::Argument... K> LayerHandle<DenseLayer> Dense(Dim units, K&&... k)
// calling    Dense(units, kw::make<DenseOptions>(k...)).
// PLEXUS_KEYWORD_FACTORY0 is the form for factories with no positional parameter.
#define PLEXUS_KW_UNPAREN(...) __VA_ARGS__
#define PLEXUS_KEYWORD_FACTORY(RET, NAME, OPTIONS, PARAMS, ARGS)                                  \
  template <::plexus::kw::Argument... PlexusKw>                                                   \
  requires(sizeof...(PlexusKw) > 0) RET NAME(PLEXUS_KW_UNPAREN PARAMS, PlexusKw&&... plexus_kw) { \
    return NAME(PLEXUS_KW_UNPAREN ARGS,                                                           \
                ::plexus::kw::make<OPTIONS>(std::forward<PlexusKw>(plexus_kw)...));               \
  }
// A class constructor taking keywords, delegating to CLASS(OPTIONS):
//   class EarlyStopping { ... PLEXUS_KEYWORD_CONSTRUCTOR(EarlyStopping, EarlyStoppingOptions) };
#define PLEXUS_KEYWORD_CONSTRUCTOR(CLASS, OPTIONS)                          \
  template <::plexus::kw::Argument... PlexusKw>                             \
  requires(sizeof...(PlexusKw) > 0) explicit CLASS(PlexusKw&&... plexus_kw) \
      : CLASS(::plexus::kw::make<OPTIONS>(std::forward<PlexusKw>(plexus_kw)...)) {}
#define PLEXUS_KEYWORD_FACTORY0(RET, NAME, OPTIONS)                                 \
  template <::plexus::kw::Argument... PlexusKw>                                     \
  requires(sizeof...(PlexusKw) > 0) RET NAME(PlexusKw&&... plexus_kw) {             \
    return NAME(::plexus::kw::make<OPTIONS>(std::forward<PlexusKw>(plexus_kw)...)); \
  }

// --- keywords of plain type (the others live beside their types) -------------------------
// Layers (layers/*.hpp).
PLEXUS_KEYWORD(name, std::string)
// px::Input / InputLayer (graph/symbolic.hpp): "float32", "int32", "int64", "bool".
PLEXUS_KEYWORD(dtype, std::string)
PLEXUS_KEYWORD(activation, std::string)
PLEXUS_KEYWORD(use_bias, bool)
PLEXUS_KEYWORD(kernel_initializer, std::string)
PLEXUS_KEYWORD(bias_initializer, std::string)
PLEXUS_KEYWORD(input_shape, std::vector<std::ptrdiff_t>)
PLEXUS_KEYWORD(input_dim, std::ptrdiff_t)
PLEXUS_KEYWORD(axis, std::ptrdiff_t)
PLEXUS_KEYWORD(invert, bool)
// Regularizers and constraints take a name ("l2"), an object (px::regularizers::L2(1e-4))
// or nullptr; std::string is only the type of a braced value.
PLEXUS_KEYWORD(kernel_regularizer, std::string)
PLEXUS_KEYWORD(bias_regularizer, std::string)
PLEXUS_KEYWORD(activity_regularizer, std::string)
PLEXUS_KEYWORD(kernel_constraint, std::string)
PLEXUS_KEYWORD(bias_constraint, std::string)
// Image layers (layers/convolution.hpp, pooling.hpp, normalization.hpp); strides,
// dilation_rate and output_padding live in layers/spatial.hpp beside IntTuple.
PLEXUS_KEYWORD(padding, std::string)
PLEXUS_KEYWORD(data_format, std::string)
PLEXUS_KEYWORD(groups, std::ptrdiff_t)
PLEXUS_KEYWORD(depth_multiplier, std::ptrdiff_t)
PLEXUS_KEYWORD(depthwise_initializer, std::string)
PLEXUS_KEYWORD(pointwise_initializer, std::string)
PLEXUS_KEYWORD(depthwise_regularizer, std::string)
PLEXUS_KEYWORD(pointwise_regularizer, std::string)
PLEXUS_KEYWORD(depthwise_constraint, std::string)
PLEXUS_KEYWORD(pointwise_constraint, std::string)
PLEXUS_KEYWORD(keepdims, bool)
PLEXUS_KEYWORD(center, bool)
PLEXUS_KEYWORD(scale, bool)
// fit / evaluate / predict (optim/model_options.hpp, graph/data.hpp).
PLEXUS_KEYWORD(epochs, int)
PLEXUS_KEYWORD(batch_size, int)
PLEXUS_KEYWORD(validation_split, double)
PLEXUS_KEYWORD(shuffle, bool)
PLEXUS_KEYWORD(initial_epoch, int)
PLEXUS_KEYWORD(verbose, int)
// Callbacks (optim/callbacks.hpp).
PLEXUS_KEYWORD(monitor, std::string)
PLEXUS_KEYWORD(min_delta, double)
PLEXUS_KEYWORD(patience, int)
PLEXUS_KEYWORD(mode, std::string)
PLEXUS_KEYWORD(baseline, std::optional<double>)
PLEXUS_KEYWORD(restore_best_weights, bool)
PLEXUS_KEYWORD(start_from_epoch, int)
PLEXUS_KEYWORD(factor, double)
PLEXUS_KEYWORD(cooldown, int)
PLEXUS_KEYWORD(min_lr, double)
PLEXUS_KEYWORD(separator, char)
PLEXUS_KEYWORD(append, bool)
// Losses and metrics (optim/losses.hpp, optim/metrics.hpp).
PLEXUS_KEYWORD(from_logits, bool)
PLEXUS_KEYWORD(label_smoothing, double)
PLEXUS_KEYWORD(delta, double)
PLEXUS_KEYWORD(threshold, double)
PLEXUS_KEYWORD(thresholds, std::optional<double>)
PLEXUS_KEYWORD(top_k, std::optional<int>)
PLEXUS_KEYWORD(class_id, std::optional<int>)
PLEXUS_KEYWORD(k, int)
PLEXUS_KEYWORD(num_thresholds, int)
PLEXUS_KEYWORD(curve, std::string)
PLEXUS_KEYWORD(summation_method, std::string)
// Learning-rate schedules (optim/schedules.hpp).
PLEXUS_KEYWORD(initial_learning_rate, double)
PLEXUS_KEYWORD(decay_steps, double)
PLEXUS_KEYWORD(decay_rate, double)
PLEXUS_KEYWORD(staircase, bool)
