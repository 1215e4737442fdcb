// Value types for Model's training API (compile/fit/evaluate options). Optimizers,
// losses, metrics and callbacks are only named here, so that options can hold "a name or
// an object" (`.optimizer = "adam"` or `.optimizer = px::optim::Adam({...})`) without
// every header that takes options including them all.
#pragma once

#include <concepts>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/keywords.hpp"
#include "core/tensor.hpp"
#include "graph/data.hpp"
#include "graph/symbolic.hpp"
#include "optim/data/dataset.hpp"

namespace plexus {

namespace optim {
class Optimizer;
}
namespace losses {
class Loss;
// (y_true, y_pred) -> per-sample loss, built with px::ops (a custom loss).
using LossFn = std::function<SymbolicTensor(const SymbolicTensor&, const SymbolicTensor&)>;
// A Loss computing fn (optim/losses.hpp's LossFunction).
std::shared_ptr<Loss> make_loss_function(std::string name, LossFn fn);
}  // namespace losses
namespace metrics {
class Metric;
}
namespace callbacks {
class Callback;
}

// "a name or an object": constructible from a string or from any T derived from Base.
template <typename Base>
struct NameOr {
  std::string name;
  std::shared_ptr<Base> object;

  NameOr() = default;
  NameOr(const char* n) : name(n) {}
  NameOr(std::string_view n) : name(n) {}
  NameOr(const std::string& n) : name(n) {}
  NameOr(std::shared_ptr<Base> o) : object(std::move(o)) {}
  template <typename T>
  requires(std::derived_from<std::remove_cvref_t<T>, Base>) NameOr(T&& o)
      : object(std::make_shared<std::decay_t<T>>(std::forward<T>(o))) {}
  bool empty() const { return name.empty() && !object; }
};

using OptimizerSpec = NameOr<optim::Optimizer>;
using LossItem = NameOr<losses::Loss>;
using MetricSpec = NameOr<metrics::Metric>;

// One loss for every output, a list in output order, or a map by output name.
struct LossSpec {
  std::vector<LossItem> items;  // one item: applies to every output
  std::vector<std::pair<std::string, LossItem>> by_name;

  LossSpec() = default;
  LossSpec(const char* n) : items{LossItem(n)} {}
  LossSpec(std::string_view n) : items{LossItem(n)} {}
  LossSpec(const std::string& n) : items{LossItem(n)} {}
  LossSpec(LossItem item) : items{std::move(item)} {}
  template <typename T>
  requires(std::derived_from<std::remove_cvref_t<T>, losses::Loss>) LossSpec(T&& o)
      : items{LossItem(std::forward<T>(o))} {}
  // A C++ callable on symbolic tensors, built from px::ops (Keras's custom loss function):
  //   .loss = [](const px::SymbolicTensor& t, const px::SymbolicTensor& p) {
  //     return px::ops::mean(px::ops::square(t - p), {-1}); }
  template <typename F>
  requires(std::is_invocable_r_v<SymbolicTensor, F, const SymbolicTensor&, const SymbolicTensor&> &&
           !std::derived_from<std::decay_t<F>, losses::Loss>) LossSpec(F&& fn)
      : items{LossItem(losses::make_loss_function("custom_loss", std::forward<F>(fn)))} {}
  LossSpec(std::initializer_list<std::pair<std::string, LossItem>> m) : by_name(m) {}
  // Keras's list, one per output in output order: `kw::loss = {bce, cce}`,
  // `kw::loss = {"mse", "binary_crossentropy"}`.
  LossSpec(std::initializer_list<LossItem> list) : items(list) {}
  LossSpec(std::vector<LossItem> list) : items(std::move(list)) {}
  bool empty() const { return items.empty() && by_name.empty(); }
};

// Metrics for compile(): one list for every output with a loss (`{"accuracy"}`), or
// Keras's dict form, a list per output name (`{{"score", {"mae"}}, {"klass", {"accuracy"}}}`).
// With one list on a model with several outputs, a metric that does not apply to an
// output is left out for it ("accuracy" on a regression head: a loss that is not a
// cross-entropy or hinge); the dict form applies each metric exactly where it is named.
struct MetricsSpec {
  std::vector<MetricSpec> all;
  std::vector<std::pair<std::string, std::vector<MetricSpec>>> by_output;
  std::vector<std::vector<MetricSpec>> per_output;  // Keras's list of lists, in output order

  MetricsSpec() = default;
  MetricsSpec(std::initializer_list<MetricSpec> list) : all(list) {}
  MetricsSpec(std::vector<MetricSpec> list) : all(std::move(list)) {}
  MetricsSpec(std::initializer_list<std::pair<std::string, std::vector<MetricSpec>>> m)
      : by_output(m) {}
  // Keras's list of lists, one list per output in output order, is spelt with its type:
  // `kw::metrics = px::MetricsPerOutput{{"accuracy"}, {"mae"}}`. A bare braced
  // `{{"accuracy"}, {"mae"}}` is C++'s flat list {"accuracy", "mae"} (extra braces around
  // each name), and a braced list-of-lists constructor would make the dict form
  // `{{"out", {"accuracy"}}}` ambiguous.
  MetricsSpec(std::vector<std::vector<MetricSpec>> lists) : per_output(std::move(lists)) {}
  bool empty() const { return all.empty() && by_output.empty() && per_output.empty(); }
};
using MetricsPerOutput = std::vector<std::vector<MetricSpec>>;

// The callback objects fit() drives. A callback passed as an lvalue is the user's own
// object (referred to, not copied: `es.stopped_epoch()` is read from it after fit, so it
// must outlive the call); a temporary is moved into a shared object; a shared_ptr is
// shared.
struct CallbackRef {
  std::shared_ptr<callbacks::Callback> object;
  CallbackRef(std::shared_ptr<callbacks::Callback> o) : object(std::move(o)) {}
  template <typename T>
  requires(std::derived_from<T, callbacks::Callback>) CallbackRef(std::shared_ptr<T> o)
      : object(std::move(o)) {}
  template <typename T>
  requires(std::derived_from<T, callbacks::Callback>) CallbackRef(T& o)
      : object(std::shared_ptr<callbacks::Callback>(&o, [](callbacks::Callback*) {})) {}
  template <typename T>
  requires(std::derived_from<T, callbacks::Callback> && !std::is_lvalue_reference_v<T>)
      CallbackRef(T&& o)
      : object(std::make_shared<T>(std::move(o))) {}
};

// compile()'s loss_weights: Keras's dict by output name (`{{"score", 1.0}, {"klass", 0.2}}`)
// or its list in output order (`{1.0, 0.2}`); an output not named weighs 1.
struct LossWeightsSpec : std::map<std::string, double> {
  std::vector<double> list;  // the list form, one weight per output

  LossWeightsSpec() = default;
  LossWeightsSpec(std::initializer_list<std::pair<const std::string, double>> by_name)
      : std::map<std::string, double>(by_name) {}
  LossWeightsSpec(std::map<std::string, double> by_name)
      : std::map<std::string, double>(std::move(by_name)) {}
  LossWeightsSpec(std::initializer_list<double> weights) : list(weights) {}
  LossWeightsSpec(std::vector<double> weights) : list(std::move(weights)) {}
  bool empty() const { return std::map<std::string, double>::empty() && list.empty(); }
};

struct CompileOptions {
  OptimizerSpec optimizer = "rmsprop";  // Keras's default
  LossSpec loss{};
  LossWeightsSpec loss_weights{};  // by output name or in output order; default 1
  MetricsSpec metrics{};

  // Out of line (optim/model.cpp): the members' destructors are compiled once in the
  // library, not in every translation unit that passes options. Still an aggregate.
  ~CompileOptions();
};

struct ValidationData {
  Data x{};
  Data y{};
  std::optional<Tensor> sample_weight{};
  std::optional<data::Dataset> dataset{};  // validation_data = a dataset of batches

  ~ValidationData();  // out of line (optim/model.cpp)
};

// fit()'s validation_data: empty, or (x, y[, sample_weight]). A std::optional that also
// takes Keras's tuple as a braced list: `.validation_data = {x_val, y_val}`.
struct ValidationDataSpec : std::optional<ValidationData> {
  using std::optional<ValidationData>::optional;
  ValidationDataSpec(Data x, Data y, std::optional<Tensor> sample_weight = {})
      : std::optional<ValidationData>(
            ValidationData{std::move(x), std::move(y), std::move(sample_weight), {}}) {}
  ValidationDataSpec(data::Dataset ds)
      : std::optional<ValidationData>(ValidationData{{}, {}, {}, std::move(ds)}) {}
};

struct FitOptions {
  int epochs = 1;
  int batch_size = 32;
  double validation_split = 0.0;  // the LAST fraction, taken before shuffling (Keras)
  ValidationDataSpec validation_data{};
  bool shuffle = true;
  std::map<int, double> class_weight{};
  std::optional<Tensor> sample_weight{};
  int initial_epoch = 0;
  int verbose = 1;  // 0 silent, 1 progress bar, 2 one line per epoch
  std::vector<CallbackRef> callbacks{};
  // With a dataset: batches per epoch (default: one pass). When given, the epochs read one
  // pass after the other from the same iterator (Keras: the data must last
  // steps_per_epoch * epochs batches; training stops with a warning when it runs out).
  std::optional<int> steps_per_epoch{};
  std::optional<int> validation_steps{};  // batches of a validation dataset (default: all)

  ~FitOptions();  // out of line (optim/model.cpp)
};

struct EvaluateOptions {
  int batch_size = 32;
  int verbose = 1;
  std::optional<Tensor> sample_weight{};
  std::vector<CallbackRef> callbacks{};
  std::optional<int> steps{};  // with a dataset: batches to evaluate (default: all)

  ~EvaluateOptions();  // out of line (optim/model.cpp)
};

// What fit() returns: one value per epoch for "loss", each metric, and "val_" versions.
struct History {
  std::map<std::string, std::vector<double>> history;
  std::vector<int> epoch;
};

// model.compute_gradients(x, y): the loss and one gradient per trainable weight, in
// trainable_weights() order. A weight the loss does not reach has no gradient
// (std::nullopt, Keras's None), not zeros; Optimizer::apply_gradients skips it.
struct Gradients {
  double loss = 0.0;
  std::vector<std::optional<Tensor>> grads;
};

// What compile, fit, evaluate and predict take as keywords (read by the tests).
namespace keyword_signatures {
using compile = kw::Signature<CompileOptions>;
using fit = kw::Signature<FitOptions>;
using evaluate = kw::Signature<EvaluateOptions>;
using predict = kw::Signature<PredictOptions>;
}  // namespace keyword_signatures

}  // namespace plexus

// Keywords for compile/fit/evaluate (core/keywords.hpp): px::kw::loss = "mse", ...
PLEXUS_KEYWORD(optimizer, ::plexus::OptimizerSpec)
PLEXUS_KEYWORD(loss, ::plexus::LossSpec)
PLEXUS_KEYWORD(loss_weights, ::plexus::LossWeightsSpec)
PLEXUS_KEYWORD(metrics, ::plexus::MetricsSpec)
PLEXUS_KEYWORD(validation_data, ::plexus::ValidationDataSpec)
PLEXUS_KEYWORD(class_weight, std::map<int, double>)
PLEXUS_KEYWORD(sample_weight, ::plexus::Tensor)
PLEXUS_KEYWORD(callbacks, std::vector<::plexus::CallbackRef>)
PLEXUS_KEYWORD(steps_per_epoch, int)
PLEXUS_KEYWORD(validation_steps, int)
PLEXUS_KEYWORD(steps, int)
