// Eager calls: layer(x) on px::Tensors (graph/layer.hpp).
//
// A call is traced once per signature (the inputs' shapes without the batch): the layer is
// called on graph::placeholder inputs — building it if it is unbuilt — and its outputs
// become a graph::Function run by an executor of its own. The cache keeps nodes only: the
// traced tensors' layer-call history (which holds the layer) is dropped, and a state
// update keeps a weak reference to its layer, so a layer never owns itself through it.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "core/error.hpp"
#include "graph/detail.hpp"
#include "graph/function.hpp"
#include "graph/layer.hpp"

namespace plexus::graph {

class EagerCache {
 public:
  struct Entry {
    std::size_t num_outputs = 0;
    Function inference;  // the layer's outputs, then the updates applied at inference
    Function training;   // the outputs, then every state update (empty if none)
    std::unique_ptr<Executor> run_inference, run_training;
  };
  std::mutex mutex;
  std::map<std::vector<Shape>, Entry> entries;
};

}  // namespace plexus::graph

namespace plexus {

namespace {

using graph::EagerCache;

// The symbolic shape of an eager input: its own, with -1 for the batch.
Shape signature_of(const Layer& layer, std::size_t i, const Tensor& x) {
  if (x.dimension() == 0) {
    throw Error(
        "Layer \"{}\" ({}): eager input {} is a scalar; a layer takes a batch (axis 0 is the "
        "batch, e.g. shape (1, n) for one sample)",
        layer.name(), layer.class_name(), i);
  }
  Shape s = shape_of(x);
  s[0] = -1;
  return s;
}

EagerCache::Entry& traced(Layer& layer, EagerCache& cache, const std::vector<Shape>& signature) {
  auto it = cache.entries.find(signature);
  if (it != cache.entries.end()) return it->second;
  std::vector<SymbolicTensor> ins;
  for (std::size_t i = 0; i < signature.size(); ++i) {
    ins.push_back(graph::placeholder(signature[i], fmt::format("{}_input_{}", layer.name(), i)));
  }
  SymbolicTensors outs;
  {
    // Not a user-level call: it gets no node index (summaries and later models are as if
    // the eager call never happened).
    detail::CallDepthGuard guard;
    outs = layer(ins);
  }
  EagerCache::Entry entry;
  entry.num_outputs = outs.size();
  std::vector<graph::NamedOutput> named;
  for (std::size_t k = 0; k < outs.size(); ++k) {
    named.push_back({fmt::format("output_{}", k), SymbolicTensor(outs[k].node(), nullptr)});
  }
  // (A Function keeps a weak reference to the layer of each update, so the layer does not
  // own itself through its cache.)
  const auto& updates = outs.front().history()->updates;
  entry.inference =
      graph::Function(ins, named, updates, graph::UpdateSet::kInference, layer.name() + "_eager");
  if (!updates.empty()) {
    entry.training = graph::Function(ins, named, updates, graph::UpdateSet::kAll,
                                     layer.name() + "_eager_training");
  }
  return cache.entries.emplace(signature, std::move(entry)).first->second;
}

}  // namespace

std::vector<Tensor> Layer::call_eagerly(const std::vector<const Tensor*>& xs, bool training) {
  if (xs.empty()) throw Error("Layer \"{}\" ({}) was called with no inputs", name_, class_name());
  std::vector<Shape> signature;
  for (std::size_t i = 0; i < xs.size(); ++i) signature.push_back(signature_of(*this, i, *xs[i]));
  for (std::size_t i = 1; i < xs.size(); ++i) {
    if (xs[i]->shape()[0] != xs[0]->shape()[0]) {
      throw Error(
          "Layer \"{}\" ({}): eager input {} has {} samples but input 0 has {}; all inputs need "
          "the same batch size",
          name_, class_name(), i, xs[i]->shape()[0], xs[0]->shape()[0]);
    }
  }
  if (!eager_) eager_ = std::make_shared<EagerCache>();
  std::lock_guard lock(eager_->mutex);
  EagerCache::Entry& e = traced(*this, *eager_, signature);
  const bool with_updates = training && !e.training.updates().empty();
  const graph::Function& function = with_updates ? e.training : e.inference;
  std::unique_ptr<graph::Executor>& exec = with_updates ? e.run_training : e.run_inference;
  if (!exec) exec = function.make_executor();
  exec->forward(xs, Context{.training = training});
  std::vector<Tensor> out;
  for (std::size_t k = 0; k < e.num_outputs; ++k) out.push_back(exec->output(k));
  function.apply_updates(*exec);
  return out;
}

std::vector<Tensor> Layer::operator()(const std::vector<Tensor>& xs, bool training) {
  std::vector<const Tensor*> ptrs;
  for (auto& x : xs) ptrs.push_back(&x);
  return call_eagerly(ptrs, training);
}

Tensor Layer::operator()(const Tensor& x, bool training) {
  std::vector<Tensor> out = call_eagerly({&x}, training);
  if (out.size() != 1) {
    throw Error("Layer \"{}\" ({}) returned {} outputs; call it with a list to get them all", name_,
                class_name(), out.size());
  }
  return std::move(out[0]);
}

std::size_t Layer::eager_traces() const {
  if (!eager_) return 0;
  std::lock_guard lock(eager_->mutex);
  return eager_->entries.size();
}

}  // namespace plexus
