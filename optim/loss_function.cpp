// Losses and metrics given as C++ callables (LossFunction, MetricFunction).
#include "core/error.hpp"
#include "optim/losses.hpp"
#include "optim/metrics.hpp"
#include "optim/model_options.hpp"

namespace plexus {

losses::LossFunction::LossFunction(std::string name, Fn fn)
    : name_(std::move(name)), fn_(std::move(fn)) {
  if (name_.empty()) throw Error("LossFunction: the name is empty");
  if (!fn_) throw Error("LossFunction \"{}\": the function is empty", name_);
}

std::shared_ptr<losses::Loss> losses::make_loss_function(std::string name, LossFn fn) {
  return std::make_shared<LossFunction>(std::move(name), std::move(fn));
}

std::shared_ptr<metrics::Metric> metrics::MetricFunction(
    std::string name,
    std::function<SymbolicTensor(const SymbolicTensor&, const SymbolicTensor&)> fn) {
  auto loss = std::make_shared<losses::LossFunction>(name, std::move(fn));
  return std::make_shared<LossMetric>(std::move(loss), name);
}

}  // namespace plexus
