// Value types for Model's training API (compile/fit/evaluate/predict options).
// Optimizers, losses, metrics and callbacks live in optim/; here they are only named, so
// that options can hold "a name or an object" (`.optimizer = "adam"` or
// `.optimizer = px::optim::Adam({...})`) without graph/ depending on optim/.
#pragma once

#include <concepts>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/tensor.hpp"

namespace plexus {

namespace optim {
class Optimizer;
}
namespace losses {
class Loss;
}
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
  requires(std::derived_from<std::decay_t<T>, Base>) NameOr(T&& o)
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
  requires(std::derived_from<std::decay_t<T>, losses::Loss>) LossSpec(T&& o)
      : items{LossItem(std::forward<T>(o))} {}
  LossSpec(std::initializer_list<std::pair<std::string, LossItem>> m) : by_name(m) {}
  LossSpec(std::vector<LossItem> list) : items(std::move(list)) {}
  bool empty() const { return items.empty() && by_name.empty(); }
};

// A callback object, held by shared pointer (so a callback keeps its state after fit).
struct CallbackRef {
  std::shared_ptr<callbacks::Callback> object;
  CallbackRef(std::shared_ptr<callbacks::Callback> o) : object(std::move(o)) {}
  template <typename T>
  requires(std::derived_from<T, callbacks::Callback>) CallbackRef(std::shared_ptr<T> o)
      : object(std::move(o)) {}
  template <typename T>
  requires(std::derived_from<std::decay_t<T>, callbacks::Callback>) CallbackRef(T&& o)
      : object(std::make_shared<std::decay_t<T>>(std::forward<T>(o))) {}
};

// Inputs or targets: one tensor, a list in model order, or a map by input/output name.
// Like std::string_view, a Data refers to the caller's tensors without copying them (a
// 60000 x 784 training set is not duplicated); temporaries and xtensor expressions are
// kept alive inside it. Pass it straight to fit/evaluate/predict; do not store it.
struct Data {
  using Ref = std::shared_ptr<const Tensor>;
  std::vector<Ref> list;
  std::map<std::string, Ref> by_name;

  static Ref borrow(const Tensor& t) {
    return Ref(&t, [](const Tensor*) {});
  }
  static Ref own(Tensor t) { return std::make_shared<const Tensor>(std::move(t)); }

  Data() = default;
  Data(const Tensor& t) : list{borrow(t)} {}
  Data(Tensor&& t) : list{own(std::move(t))} {}
  template <typename E>
  Data(const xt::xexpression<E>& e) : list{own(Tensor(e))} {}  // xt::zeros<float>({n, 4}), ...
  Data(const std::vector<Tensor>& ts) {
    for (auto& t : ts) list.push_back(borrow(t));
  }
  Data(std::initializer_list<Tensor> ts) {
    for (auto& t : ts) list.push_back(borrow(t));
  }
  Data(const std::map<std::string, Tensor>& m) {
    for (auto& [k, t] : m) by_name.emplace(k, borrow(t));
  }
  bool empty() const { return list.empty() && by_name.empty(); }
};

struct CompileOptions {
  OptimizerSpec optimizer = "rmsprop";  // Keras's default
  LossSpec loss{};
  std::map<std::string, double> loss_weights{};  // by output name; default 1
  std::vector<MetricSpec> metrics{};
};

struct ValidationData {
  Data x{};
  Data y{};
  std::optional<Tensor> sample_weight{};
};

struct FitOptions {
  int epochs = 1;
  int batch_size = 32;
  double validation_split = 0.0;  // the LAST fraction, taken before shuffling (Keras)
  std::optional<ValidationData> validation_data{};
  bool shuffle = true;
  std::map<int, double> class_weight{};
  std::optional<Tensor> sample_weight{};
  int initial_epoch = 0;
  int verbose = 1;  // 0 silent, 1 progress bar, 2 one line per epoch
  std::vector<CallbackRef> callbacks{};
};

struct EvaluateOptions {
  int batch_size = 32;
  int verbose = 1;
  std::optional<Tensor> sample_weight{};
  std::vector<CallbackRef> callbacks{};
};

struct PredictOptions {
  int batch_size = 32;
  int verbose = 0;
};

// What fit() returns: one value per epoch for "loss", each metric, and "val_" versions.
struct History {
  std::map<std::string, std::vector<double>> history;
  std::vector<int> epoch;
};

// model.compute_gradients(x, y): the loss and one gradient per trainable weight.
struct Gradients {
  double loss = 0.0;
  std::vector<Tensor> grads;
};

}  // namespace plexus
