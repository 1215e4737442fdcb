// Keyword arguments in any order: one spelling for every layer, compile, fit, evaluate,
// predict and callback, so that a Keras call translates to one C++ call.
//
//   Keras:  Dense(12, input_dim=8, activation='relu')
//           model.fit(x, y, batch_size=64, epochs=2, validation_split=0.2)
//   plexus: namespace kw = px::kw;
//           px::layers::Dense(12, kw::input_dim = 8, kw::activation = "relu")
//           model.fit(x, y, kw::batch_size = 64, kw::epochs = 2, kw::validation_split = 0.2)
//
// A keyword is a constant object in px::kw; `kw::epochs = 1500` makes an argument that
// sets the field `epochs` of whichever option struct the function takes (FitOptions,
// DenseOptions, EarlyStoppingOptions, ...). The typed option structs stay underneath and
// their designated-initializer form (`{.epochs = 5, .batch_size = 32}`) stays valid.
//
// Keywords are always written qualified (`px::kw::epochs`, `kw::epochs`): Keras's keyword
// names are the names of a Keras program's own variables (`epochs`, `batch_size`,
// `optimizer`, `loss`), and an unqualified keyword would silently mean the user's variable
// where one is in scope. `using namespace px::kw;` is therefore made unusable: px::kw
// nominates (with a using-directive) the namespace px::keyword_names_need_kw_prefix, which
// declares a poison object of every keyword's name. After `using namespace px::kw;` an
// unqualified `epochs` finds both and is ambiguous (a compile error naming the namespace);
// the qualified `px::kw::epochs` finds the keyword, because qualified lookup follows a
// namespace's using-directives only for names the namespace does not declare itself.
//
// Compile-time checks (each error names the keyword):
//   - a misspelt keyword does not exist:   'epoch' is not a member of 'plexus::kw'
//   - a keyword the function does not take: static assertion in
//       keyword_not_accepted<plexus::kw::tags::epochs, plexus::layers::DenseOptions>
//   - a value of the wrong type:            wrong_value_type_for_keyword<...>
//   - the same keyword twice:               keyword_given_twice<plexus::kw::tags::epochs>
//   - an unqualified keyword:               reference to 'epochs' is ambiguous
//
// Keywords are declared next to the type of their value (PLEXUS_KEYWORD): the basic ones
// here, compile/fit's in optim/model_options.hpp, all in the one namespace px::kw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

// The poison objects (see above): one per keyword, of this type, so that the compiler's
// "candidates are" note after an ambiguous unqualified keyword reads
// plexus::keyword_names_need_kw_prefix::epochs.
namespace plexus::keyword_names_need_kw_prefix {
struct write_the_keyword_as_px_kw_NAME {
  write_the_keyword_as_px_kw_NAME() = default;
  write_the_keyword_as_px_kw_NAME(const write_the_keyword_as_px_kw_NAME&) = delete;
  write_the_keyword_as_px_kw_NAME& operator=(const write_the_keyword_as_px_kw_NAME&) = delete;
};
}  // namespace plexus::keyword_names_need_kw_prefix

namespace plexus::kw {

// Unqualified use after `using namespace px::kw;` is ambiguous (see the top of the file).
// The poison namespace is a sibling of kw, not nested in it, so that names inside plexus::kw
// (this header's own code) still find the keywords first.
using namespace ::plexus::keyword_names_need_kw_prefix;

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
template <typename KeywordTag, typename OptionStruct>
struct required_argument_missing {
  static_assert(always_false<KeywordTag, OptionStruct>,
                "a required argument (a positional parameter in Keras) is given neither by "
                "position nor as a keyword (see the template arguments of "
                "required_argument_missing: the keyword's tag, then the options)");
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

template <typename... T>
struct type_list {};

template <typename Tag, typename... A>
inline constexpr bool has_tag = (std::is_same_v<Tag, tag_of<A>> || ...);

template <typename... A>
constexpr void check_not_twice() {
  (
      [] {
        if constexpr (count_tag<tag_of<A>, tag_of<A>...>() > 1) {
          (void)diagnostics::keyword_given_twice<tag_of<A>>{};
        }
      }(),
      ...);
}

// Sets the field of `a` unless its tag is one of Skip (a positional parameter).
template <typename... Skip, typename Options, typename A>
void set_unless(type_list<Skip...>, Options& o, A&& a) {
  if constexpr (!(std::is_same_v<tag_of<A>, Skip> || ...)) set_one(o, std::forward<A>(a));
}

template <typename Options, typename... Skip, typename... A>
Options make_skipping(type_list<Skip...> skip, A&&... args) {
  check_not_twice<A...>();
  Options o{};
  (set_unless(skip, o, std::forward<A>(args)), ...);
  return o;
}

// The value of the argument whose tag is Tag (which is there).
template <typename Tag, typename A, typename... R>
auto& value_of(A& a, R&... r) {
  if constexpr (std::is_same_v<tag_of<A>, Tag>) {
    return a.value;
  } else {
    return value_of<Tag>(r...);
  }
}

// f(positional values in the order of Positional..., Options from the other keywords): a
// function's positional parameters given as keywords (Keras's Conv1D(filters=64,
// kernel_size=3)). Each must be there.
template <typename Options, typename... Positional, typename F, typename... A>
decltype(auto) call(type_list<Positional...>, F&& f, A&&... args) {
  if constexpr ((has_tag<Positional, A...> && ...)) {
    return f(value_of<Positional>(args...)...,
             make_skipping<Options>(type_list<Positional...>{}, std::forward<A>(args)...));
  } else {
    (
        [] {
          if constexpr (!has_tag<Positional, A...>) {
            (void)diagnostics::required_argument_missing<Positional, Options>{};
          }
        }(),
        ...);
  }
}

// The same for one positional parameter with a default (MaxPooling2D's pool_size).
template <typename Options, typename Tag, typename T, typename F, typename... A>
decltype(auto) call_defaulted(F&& f, T fallback, A&&... args) {
  if constexpr (has_tag<Tag, A...>) {
    return f(T(value_of<Tag>(args...)),
             make_skipping<Options>(type_list<Tag>{}, std::forward<A>(args)...));
  } else {
    return f(std::move(fallback), make_skipping<Options>(type_list<>{}, std::forward<A>(args)...));
  }
}

}  // namespace detail

// The option struct `Options` (value-initialised: its defaults) with each keyword's field
// set, in the order given.
template <typename Options, Argument... A>
Options make(A&&... args) {
  return detail::make_skipping<Options>(detail::type_list<>{}, std::forward<A>(args)...);
}

// What a function or class takes as keywords: every keyword whose field Options has, and
// its positional parameters Positional... (tags), which may be given as keywords too.
// The keyword factories and constructors below declare one (px::layers::keyword_signatures::
// Dense, px::callbacks::EarlyStopping::keyword_signature, ...); tests/test_keras_signatures.cpp
// reads them to compare plexus's keywords with Keras's.
template <typename Options, typename... Positional>
struct Signature {
  using options = Options;
};

}  // namespace plexus::kw

// Declares keyword px::kw::NAME whose usual value type is TYPE; it sets the field NAME.
// Use at global scope. A keyword must be declared once (in the header that knows TYPE).
#define PLEXUS_KEYWORD(NAME, ...)                                         \
  namespace plexus::kw {                                                  \
  namespace tags {                                                        \
  struct NAME {                                                           \
    static constexpr const char* spelling = #NAME;                        \
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
  }                                                                       \
  namespace plexus::keyword_names_need_kw_prefix {                        \
  inline constexpr write_the_keyword_as_px_kw_NAME NAME{};                \
  }

// Adds the keyword overloads to a factory whose last parameter is its option struct and
// whose other parameters are Keras's required positional ones, each written (Type, name):
//   PLEXUS_KEYWORD_FACTORY(LayerHandle<ConvLayer>, Conv2D, ConvOptions, (Dim, filters),
//                          (IntTuple, kernel_size))
// for   Conv2D(Dim filters, IntTuple kernel_size, ConvOptions options)   declares
//   Conv2D(32, {3, 3}, kw::padding = "same")                  positional, then keywords
//   Conv2D(32, kw::kernel_size = 3, kw::padding = "same")     (with two positionals)
//   Conv2D(kw::filters = 32, kw::kernel_size = 3)             every argument a keyword
// and px::<namespace>::keyword_signatures::Conv2D (what it takes, for the tests). Each
// positional name must be a keyword (PLEXUS_KEYWORD). One to three positional parameters.
// PLEXUS_KEYWORD_FACTORY0 is the form for factories with no positional parameter, and
// PLEXUS_KEYWORD_FACTORY_DEFAULTED the form for one positional parameter with a default,
// (Type, name, default): MaxPooling2D(kw::strides = 1) takes pool_size = 2.
#define PLEXUS_KW_CAT_(a, b) a##b
#define PLEXUS_KW_CAT(a, b) PLEXUS_KW_CAT_(a, b)
#define PLEXUS_KW_NARGS_(_1, _2, _3, N, ...) N
#define PLEXUS_KW_NARGS(...) PLEXUS_KW_NARGS_(__VA_ARGS__ __VA_OPT__(, ) 3, 2, 1, 0)
#define PLEXUS_KW_PARAM_(T, N, ...) T N
#define PLEXUS_KW_PARAM(P) PLEXUS_KW_PARAM_ P
#define PLEXUS_KW_MOVE_(T, N, ...) std::move(N)
#define PLEXUS_KW_MOVE(P) PLEXUS_KW_MOVE_ P
#define PLEXUS_KW_TAG_(T, N, ...) ::plexus::kw::tags::N
#define PLEXUS_KW_TAG(P) PLEXUS_KW_TAG_ P
#define PLEXUS_KW_TYPE_(T, N, ...) T
#define PLEXUS_KW_TYPE(P) PLEXUS_KW_TYPE_ P
#define PLEXUS_KW_DEFAULT_(T, N, D) D
#define PLEXUS_KW_DEFAULT(P) PLEXUS_KW_DEFAULT_ P

// M applied to each element of a parenthesised list of zero to three (Type, name) pairs,
// comma-separated: PLEXUS_KW_EACH(PLEXUS_KW_TAG, (P1, P2)) is PLEXUS_KW_TAG(P1),
// PLEXUS_KW_TAG(P2). The _IND steps expand their arguments before the next macro sees them.
#define PLEXUS_KW_UNPAREN(...) __VA_ARGS__
#define PLEXUS_KW_EACH_0(M)
#define PLEXUS_KW_EACH_1(M, a) M(a)
#define PLEXUS_KW_EACH_2(M, a, b) M(a), M(b)
#define PLEXUS_KW_EACH_3(M, a, b, c) M(a), M(b), M(c)
#define PLEXUS_KW_EACH_N(M, ...) \
  PLEXUS_KW_CAT(PLEXUS_KW_EACH_, PLEXUS_KW_NARGS(__VA_ARGS__))(M __VA_OPT__(, ) __VA_ARGS__)
#define PLEXUS_KW_EACH_IND(M, ...) PLEXUS_KW_EACH_N(M, __VA_ARGS__)
#define PLEXUS_KW_EACH(M, LIST) PLEXUS_KW_EACH_IND(M, PLEXUS_KW_UNPAREN LIST)
#define PLEXUS_KW_COMMA_(...) __VA_OPT__(, )
#define PLEXUS_KW_COMMA_IND(...) PLEXUS_KW_COMMA_(__VA_ARGS__)
#define PLEXUS_KW_COMMA_IF(LIST) PLEXUS_KW_COMMA_IND(PLEXUS_KW_UNPAREN LIST)

#define PLEXUS_KW_FORWARDER(RET, NAME, ...)                                                \
  [&](auto&&... plexus_a) -> RET {                                                         \
    return NAME(__VA_ARGS__ __VA_OPT__(, ) std::forward<decltype(plexus_a)>(plexus_a)...); \
  }
#define PLEXUS_KW_FORWARDER_IND(...) PLEXUS_KW_FORWARDER(__VA_ARGS__)

// One overload: the parameters GIVEN by position, then keywords, which must include the
// positional parameters REST; NAME(GIVEN..., REST..., OPTIONS from the other keywords).
#define PLEXUS_KW_OVERLOAD(RET, NAME, OPTIONS, GIVEN, REST)                                       \
  template <::plexus::kw::Argument... PlexusKw>                                                   \
  requires(sizeof...(PlexusKw) > 0) RET NAME(                                                     \
      PLEXUS_KW_EACH(PLEXUS_KW_PARAM, GIVEN) PLEXUS_KW_COMMA_IF(GIVEN) PlexusKw&&... plexus_kw) { \
    return ::plexus::kw::detail::call<OPTIONS>(                                                   \
        ::plexus::kw::detail::type_list<PLEXUS_KW_EACH(PLEXUS_KW_TAG, REST)>{},                   \
        PLEXUS_KW_FORWARDER_IND(RET, NAME, PLEXUS_KW_EACH(PLEXUS_KW_MOVE, GIVEN)),                \
        std::forward<PlexusKw>(plexus_kw)...);                                                    \
  }
#define PLEXUS_KW_SIGNATURE(NAME, OPTIONS, PARAMS)                                 \
  namespace keyword_signatures {                                                   \
  using NAME = ::plexus::kw::Signature<OPTIONS PLEXUS_KW_COMMA_IF(PARAMS)          \
                                           PLEXUS_KW_EACH(PLEXUS_KW_TAG, PARAMS)>; \
  }

#define PLEXUS_KEYWORD_FACTORY(RET, NAME, OPTIONS, ...) \
  PLEXUS_KW_CAT(PLEXUS_KW_FACTORY_, PLEXUS_KW_NARGS(__VA_ARGS__))(RET, NAME, OPTIONS, __VA_ARGS__)
// One overload per number of parameters given by position (all of them, ..., none).
#define PLEXUS_KW_FACTORY_1(RET, NAME, OPTIONS, P1) \
  PLEXUS_KW_OVERLOAD(RET, NAME, OPTIONS, (P1), ())  \
  PLEXUS_KW_OVERLOAD(RET, NAME, OPTIONS, (), (P1))  \
  PLEXUS_KW_SIGNATURE(NAME, OPTIONS, (P1))
#define PLEXUS_KW_FACTORY_2(RET, NAME, OPTIONS, P1, P2) \
  PLEXUS_KW_OVERLOAD(RET, NAME, OPTIONS, (P1, P2), ())  \
  PLEXUS_KW_OVERLOAD(RET, NAME, OPTIONS, (P1), (P2))    \
  PLEXUS_KW_OVERLOAD(RET, NAME, OPTIONS, (), (P1, P2))  \
  PLEXUS_KW_SIGNATURE(NAME, OPTIONS, (P1, P2))
#define PLEXUS_KW_FACTORY_3(RET, NAME, OPTIONS, P1, P2, P3) \
  PLEXUS_KW_OVERLOAD(RET, NAME, OPTIONS, (P1, P2, P3), ())  \
  PLEXUS_KW_OVERLOAD(RET, NAME, OPTIONS, (P1, P2), (P3))    \
  PLEXUS_KW_OVERLOAD(RET, NAME, OPTIONS, (P1), (P2, P3))    \
  PLEXUS_KW_OVERLOAD(RET, NAME, OPTIONS, (), (P1, P2, P3))  \
  PLEXUS_KW_SIGNATURE(NAME, OPTIONS, (P1, P2, P3))

#define PLEXUS_KEYWORD_FACTORY_DEFAULTED(RET, NAME, OPTIONS, P1)                   \
  PLEXUS_KW_OVERLOAD(RET, NAME, OPTIONS, (P1), ())                                 \
  template <::plexus::kw::Argument... PlexusKw>                                    \
  requires(sizeof...(PlexusKw) > 0) RET NAME(PlexusKw&&... plexus_kw) {            \
    return ::plexus::kw::detail::call_defaulted<OPTIONS, PLEXUS_KW_TAG(P1)>(       \
        PLEXUS_KW_FORWARDER(RET, NAME), PLEXUS_KW_TYPE(P1)(PLEXUS_KW_DEFAULT(P1)), \
        std::forward<PlexusKw>(plexus_kw)...);                                     \
  }                                                                                \
  PLEXUS_KW_SIGNATURE(NAME, OPTIONS, (P1))

#define PLEXUS_KEYWORD_FACTORY0(RET, NAME, OPTIONS) \
  PLEXUS_KW_OVERLOAD(RET, NAME, OPTIONS, (), ())    \
  PLEXUS_KW_SIGNATURE(NAME, OPTIONS, ())

// A class constructor taking keywords, delegating to CLASS(OPTIONS):
//   class EarlyStopping { ... PLEXUS_KEYWORD_CONSTRUCTOR(EarlyStopping, EarlyStoppingOptions) };
// and CLASS::keyword_signature (what it takes, for the tests).
#define PLEXUS_KEYWORD_CONSTRUCTOR(CLASS, OPTIONS)                                  \
  template <::plexus::kw::Argument... PlexusKw>                                     \
  requires(sizeof...(PlexusKw) > 0) explicit CLASS(PlexusKw&&... plexus_kw)         \
      : CLASS(::plexus::kw::make<OPTIONS>(std::forward<PlexusKw>(plexus_kw)...)) {} \
  using keyword_signature = ::plexus::kw::Signature<OPTIONS>;
// The same with Keras's first positional parameter, which is a field of OPTIONS:
//   PLEXUS_KEYWORD_CONSTRUCTOR_POSITIONAL(Adam, AdamOptions, (LearningRate, learning_rate))
// also declares Adam(1e-3), Adam(1e-3, kw::beta_1 = 0.8) (Keras's Adam(1e-3)).
#define PLEXUS_KEYWORD_CONSTRUCTOR_POSITIONAL(CLASS, OPTIONS, P1)                         \
  PLEXUS_KEYWORD_CONSTRUCTOR(CLASS, OPTIONS)                                              \
  template <::plexus::kw::Argument... PlexusKw>                                           \
  explicit CLASS(PLEXUS_KW_PARAM(P1), PlexusKw&&... plexus_kw)                            \
      : CLASS(::plexus::kw::make<OPTIONS>(                                                \
            ::plexus::kw::Arg<PLEXUS_KW_TAG(P1), PLEXUS_KW_TYPE(P1)>{PLEXUS_KW_MOVE(P1)}, \
            std::forward<PlexusKw>(plexus_kw)...)) {}

// --- keywords of plain type (the others live beside their types) -------------------------
// Layers (layers/*.hpp).
PLEXUS_KEYWORD(name, std::string)
// Keras's positional parameters, which Keras code also passes by keyword
// (Conv1D(filters=64, kernel_size=3)).
PLEXUS_KEYWORD(units, std::ptrdiff_t)
PLEXUS_KEYWORD(filters, std::ptrdiff_t)
PLEXUS_KEYWORD(rate, double)
PLEXUS_KEYWORD(output_dim, std::ptrdiff_t)
PLEXUS_KEYWORD(num_heads, std::ptrdiff_t)
PLEXUS_KEYWORD(key_dim, std::ptrdiff_t)
PLEXUS_KEYWORD(shape, std::vector<std::ptrdiff_t>)
PLEXUS_KEYWORD(target_shape, std::vector<std::ptrdiff_t>)
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
// Normalization layers' weights (layers/normalization.hpp): names, objects or nullptr.
PLEXUS_KEYWORD(beta_initializer, std::string)
PLEXUS_KEYWORD(gamma_initializer, std::string)
PLEXUS_KEYWORD(moving_mean_initializer, std::string)
PLEXUS_KEYWORD(moving_variance_initializer, std::string)
PLEXUS_KEYWORD(beta_regularizer, std::string)
PLEXUS_KEYWORD(gamma_regularizer, std::string)
PLEXUS_KEYWORD(beta_constraint, std::string)
PLEXUS_KEYWORD(gamma_constraint, std::string)
// Recurrent layers' recurrent kernel (layers/recurrent.hpp).
PLEXUS_KEYWORD(recurrent_regularizer, std::string)
PLEXUS_KEYWORD(recurrent_constraint, std::string)
// Activation layers (layers/activations.hpp).
PLEXUS_KEYWORD(alpha, double)
PLEXUS_KEYWORD(max_value, std::optional<double>)
PLEXUS_KEYWORD(negative_slope, double)
PLEXUS_KEYWORD(alpha_initializer, std::string)
PLEXUS_KEYWORD(alpha_regularizer, std::string)
PLEXUS_KEYWORD(alpha_constraint, std::string)
PLEXUS_KEYWORD(shared_axes, std::vector<std::ptrdiff_t>)
// UpSampling's interpolation; Normalization's mean and variance (tensors: kw::mean = m).
PLEXUS_KEYWORD(interpolation, std::string)
PLEXUS_KEYWORD(mean, double)
PLEXUS_KEYWORD(variance, double)
// The random seed of dropout, attention dropout and initializers.
PLEXUS_KEYWORD(seed, std::optional<std::int64_t>)
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
PLEXUS_KEYWORD(filename, std::string)
// ModelCheckpoint and BackupAndRestore (optim/saving/).
PLEXUS_KEYWORD(filepath, std::string)
PLEXUS_KEYWORD(save_best_only, bool)
PLEXUS_KEYWORD(save_weights_only, bool)
PLEXUS_KEYWORD(save_freq, std::variant<std::string, int>)
PLEXUS_KEYWORD(initial_value_threshold, std::optional<double>)
PLEXUS_KEYWORD(backup_dir, std::string)
PLEXUS_KEYWORD(double_checkpoint, bool)
PLEXUS_KEYWORD(delete_checkpoint, bool)
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
PLEXUS_KEYWORD(end_learning_rate, double)
PLEXUS_KEYWORD(power, double)
PLEXUS_KEYWORD(cycle, bool)
PLEXUS_KEYWORD(warmup_target, std::optional<double>)
PLEXUS_KEYWORD(warmup_steps, double)
