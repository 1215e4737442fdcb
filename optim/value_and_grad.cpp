// px::value_and_grad(fn, variables): see optim/value_and_grad.hpp.
#include "optim/value_and_grad.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/error.hpp"
#include "graph/function.hpp"

namespace plexus {

struct ValueAndGrad::Impl {
  SymbolicFunction fn;
  std::vector<Variable> variables;
  bool training = true;
  struct Trace {
    std::unique_ptr<graph::Executor> executor;
    Tensor seed;  // d(value 0)/d(value 0) = 1
    bool seeded = false;
    std::vector<const Tensor*> seeds;
  };
  std::map<std::vector<Shape>, Trace> traces;
  std::vector<Shape> key;  // scratch: the call's input shapes
  std::vector<const Tensor*> feeds;
  std::vector<Tensor> values;
  std::vector<std::optional<Tensor>> grads;

  Trace& trace_for(std::span<const Tensor* const> inputs) {
    key.resize(inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const auto& s = inputs[i]->shape();
      key[i].assign(s.begin(), s.end());
    }
    auto it = traces.find(key);
    if (it != traces.end()) return it->second;
    SymbolicTensors ins;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      ins.push_back(graph::placeholder(key[i], fmt::format("value_and_grad_input_{}", i)));
    }
    SymbolicTensors outs = fn(ins);
    if (outs.empty()) throw Error("value_and_grad: the function returned no tensor");
    std::size_t n0 = 1;
    for (auto d : outs[0].shape()) n0 *= static_cast<std::size_t>(d < 0 ? 2 : d);
    if (n0 != 1) {
      throw Error(
          "value_and_grad: the first returned tensor is differentiated and must be a scalar "
          "(one element); its shape is {} (reduce it, e.g. px::ops::mean)",
          shape_str(outs[0].shape()));
    }
    std::vector<graph::NamedOutput> named;
    for (std::size_t i = 0; i < outs.size(); ++i) {
      named.push_back({fmt::format("value_{}", i), outs[i]});
    }
    graph::Function f(std::vector<SymbolicTensor>(ins.begin(), ins.end()), std::move(named),
                      "value_and_grad");
    graph::Executor::Options opt;
    for (auto& v : variables) opt.wrt_variables.push_back(v.data());
    Trace t;
    t.executor = f.make_executor(std::move(opt));
    return traces.emplace(key, std::move(t)).first->second;
  }
};

ValueAndGrad::ValueAndGrad(SymbolicFunction fn, std::vector<Variable> variables, bool training)
    : impl_(std::make_shared<Impl>()) {
  if (!fn) throw Error("value_and_grad: no function given");
  for (std::size_t i = 0; i < variables.size(); ++i) {
    if (!variables[i].data()) throw Error("value_and_grad: variable {} is empty", i);
  }
  impl_->fn = std::move(fn);
  impl_->variables = std::move(variables);
  impl_->training = training;
}

std::size_t ValueAndGrad::traces() const { return impl_->traces.size(); }

namespace {
// Copies src into dst, reshaping dst only when its shape differs (no allocation otherwise).
void copy_into(const Tensor& src, Tensor& dst) {
  if (!std::equal(src.shape().begin(), src.shape().end(), dst.shape().begin(), dst.shape().end())) {
    dst = Tensor::from_shape(src.shape());
  }
  std::copy_n(src.data(), src.size(), dst.data());
}
}  // namespace

ValueAndGrad::Result ValueAndGrad::operator()(const std::vector<Tensor>& inputs) {
  impl_->feeds.resize(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) impl_->feeds[i] = &inputs[i];
  return call(impl_->feeds);
}

ValueAndGrad::Result ValueAndGrad::call(std::span<const Tensor* const> inputs) {
  Impl& im = *impl_;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i]) throw Error("value_and_grad: input {} is null", i);
  }
  Impl::Trace& t = im.trace_for(inputs);
  graph::Executor& ex = *t.executor;
  const Context ctx{.training = im.training};
  ex.forward(inputs, ctx);
  const Tensor& v0 = ex.output(0);
  if (!t.seeded || !std::equal(v0.shape().begin(), v0.shape().end(), t.seed.shape().begin(),
                               t.seed.shape().end())) {
    t.seeded = true;
    t.seed = Tensor::from_shape(v0.shape());
    t.seed.fill(1.0f);
  }
  t.seeds.assign(ex.num_outputs(), nullptr);
  t.seeds[0] = &t.seed;
  ex.backward(t.seeds, ctx);
  im.values.resize(ex.num_outputs());
  for (std::size_t i = 0; i < ex.num_outputs(); ++i) copy_into(ex.output(i), im.values[i]);
  im.grads.resize(im.variables.size());
  for (std::size_t i = 0; i < im.variables.size(); ++i) {
    const Tensor* g = ex.variable_grad(i);
    if (!g) {
      im.grads[i].reset();
      continue;
    }
    if (!im.grads[i]) im.grads[i].emplace();
    copy_into(*g, *im.grads[i]);
  }
  return Result{im.values, im.grads};
}

}  // namespace plexus
