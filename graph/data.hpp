// Data for fit/evaluate/predict, and predict's options (graph-level: inference needs no
// training machinery).
#pragma once

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

  // One entry of a literal map: `fit({{"title", t}, {"body", b}}, ...)`.
  struct Named {
    std::string name;
    Ref ref;
    Named(std::string_view n, const Tensor& t) : name(n), ref(borrow(t)) {}
    Named(std::string_view n, Tensor&& t) : name(n), ref(own(std::move(t))) {}
  };

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
  Data(std::initializer_list<Named> named) {
    for (auto& n : named) by_name.emplace(n.name, n.ref);
  }
  bool empty() const { return list.empty() && by_name.empty(); }
};

// predict(x, {.batch_size = 256, .verbose = 1}); verbose 1 shows Keras's progress bar.
struct PredictOptions {
  int batch_size = 32;
  int verbose = 0;
  std::optional<int> steps{};  // with a dataset: batches to predict (default: all)
};

}  // namespace plexus
