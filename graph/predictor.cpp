#include "graph/predictor.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"
#include "graph/input_layer.hpp"

namespace plexus::graph {

struct Predictor::Worker {
  std::unique_ptr<Executor> executor;
  std::vector<Tensor> batch;  // rows of each input, when the input spans several batches
  std::vector<const Tensor*> feeds;
};

namespace {
// The model's outputs; the Function adds the updates applied at inference.
std::vector<NamedOutput> named_outputs(const Functional& model) {
  std::vector<NamedOutput> out;
  for (std::size_t i = 0; i < model.outputs().size(); ++i) {
    out.push_back({fmt::format("output_{}", i), model.outputs()[i]});
  }
  return out;
}
}  // namespace

Predictor::Predictor(std::shared_ptr<Functional> model)
    : model_(std::move(model)),
      n_out_(model_->outputs().size()),
      function_(model_->inputs(), named_outputs(*model_), model_->updates(), UpdateSet::kInference,
                model_->name()) {}

Predictor::~Predictor() = default;

std::unique_ptr<Predictor::Worker> Predictor::acquire() const {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto w = std::move(idle_.back());
      idle_.pop_back();
      return w;
    }
  }
  auto w = std::make_unique<Worker>();
  w->executor = function_.make_executor();
  return w;
}

void Predictor::release(std::unique_ptr<Worker> worker) const {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(worker));
}

std::vector<Tensor> Predictor::predict(const std::vector<const Tensor*>& xs,
                                       std::size_t batch_size) const {
  if (batch_size == 0) throw Error("predict: batch_size must be positive");
  auto worker = acquire();
  struct Return {
    const Predictor* p;
    std::unique_ptr<Worker>& w;
    ~Return() { p->release(std::move(w)); }
  } give_back{this, worker};

  Executor& exec = *worker->executor;
  const std::size_t n = xs.at(0)->shape()[0];
  const std::size_t n_out = n_out_;
  std::unique_lock<std::mutex> stateful;
  const bool with_states = function_.stateful();
  if (with_states) stateful = std::unique_lock(state_mutex_);
  std::vector<Tensor> results(n_out);
  worker->batch.resize(xs.size());
  worker->feeds.resize(xs.size());
  for (std::size_t start = 0; start < n; start += batch_size) {
    const std::size_t count = std::min(batch_size, n - start);
    for (std::size_t i = 0; i < xs.size(); ++i) {
      if (count == n) {
        worker->feeds[i] = xs[i];  // one batch: the caller's tensor, not a copy
      } else {
        copy_rows(*xs[i], start, count, worker->batch[i]);
        worker->feeds[i] = &worker->batch[i];
      }
    }
    if (with_states) function_.check_state_batch(count, "predict");
    exec.forward(worker->feeds, Context{.training = false});
    function_.apply_updates(exec);
    for (std::size_t o = 0; o < n_out; ++o) {
      const Tensor& y = exec.output(o);
      if (start == 0) {
        Tensor::shape_type s = y.shape();
        s[0] = n;
        results[o] = Tensor::from_shape(s);
      }
      std::copy_n(y.data(), y.size(), results[o].data() + start * (y.size() / count));
    }
  }
  return results;
}

void check_inputs(const Functional& model, const std::vector<const Tensor*>& xs) {
  const auto& ins = model.inputs();
  const std::string& name = model.name();
  if (xs.size() != ins.size()) {
    throw Error("Model \"{}\" expects {} input(s), but received {}", name, ins.size(), xs.size());
  }
  for (std::size_t i = 0; i < xs.size(); ++i) {
    Shape got = shape_of(*xs[i]);
    if (!shapes_compatible(ins[i].shape(), got)) {
      throw Error("Input {} \"{}\" of model \"{}\": expected shape {}, received {}", i,
                  ins[i].node()->name, name, shape_str(ins[i].shape()), shape_str(got));
    }
    if (got.empty() || got[0] != shape_of(*xs[0])[0]) {
      throw Error(
          "Model \"{}\": input {} \"{}\" has {} samples but input 0 \"{}\" has {}; all inputs "
          "need the same number of samples",
          name, i, ins[i].node()->name, got.empty() ? 0 : got[0], ins[0].node()->name,
          shape_of(*xs[0])[0]);
    }
    if (got[0] == 0) throw Error("Model \"{}\": input {} is empty (0 samples)", name, i);
    if (!all_finite(*xs[i])) {
      throw Error("Input {} \"{}\" of model \"{}\" contains NaN or Inf", i, ins[i].node()->name,
                  name);
    }
    check_input_values(
        *xs[i], ins[i].dtype(),
        fmt::format("Input {} \"{}\" of model \"{}\"", i, ins[i].node()->name, name));
  }
}

}  // namespace plexus::graph
