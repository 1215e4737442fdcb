#include "graph/function.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <unordered_set>

#include "core/error.hpp"
#include "graph/detail.hpp"
#include "graph/layer.hpp"

namespace plexus::graph {

Function::Function(std::vector<SymbolicTensor> inputs, std::vector<NamedOutput> outputs,
                   std::string_view name)
    : name_(name), inputs_(std::move(inputs)), outputs_(std::move(outputs)) {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < outputs_.size(); ++i) {
    if (!outputs_[i].tensor.defined()) {
      throw Error("Function \"{}\": output {} \"{}\" is an empty tensor", name_, i,
                  outputs_[i].name);
    }
    if (!names.insert(outputs_[i].name).second) {
      throw Error("Function \"{}\": the output name \"{}\" is used twice", name_, outputs_[i].name);
    }
  }
  std::unordered_set<const Node*> feeds;
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    if (!inputs_[i].defined() || inputs_[i].node()->kind != Node::Kind::kInput) {
      throw Error("Function \"{}\": input {} is not a symbolic input", name_, i);
    }
    if (!feeds.insert(inputs_[i].node().get()).second) {
      throw Error("Function \"{}\": input {} \"{}\" is given twice", name_, i,
                  inputs_[i].node()->name);
    }
  }
  std::vector<NodePtr> feed_nodes, out_nodes;
  for (auto& t : inputs_) feed_nodes.push_back(t.node());
  for (auto& o : outputs_) out_nodes.push_back(o.tensor.node());
  schedule_ = make_schedule(feed_nodes, out_nodes, name_);
}

namespace {
std::vector<NamedOutput> with_updates(std::vector<NamedOutput> outputs,
                                      const std::vector<StateUpdate>& updates, UpdateSet which) {
  for (const auto& u : updates) {
    if (which == UpdateSet::kNone || (which == UpdateSet::kInference && !u.at_inference)) continue;
    outputs.push_back({fmt::format("update:{}#{}", u.variable->path, outputs.size()),
                       SymbolicTensor(u.value, nullptr)});
  }
  return outputs;
}
}  // namespace

Function::Function(std::vector<SymbolicTensor> inputs, std::vector<NamedOutput> outputs,
                   const std::vector<StateUpdate>& updates, UpdateSet which, std::string_view name)
    : Function(std::move(inputs), with_updates(std::move(outputs), updates, which), name) {
  update_set_ = which;
  std::size_t k = outputs_.size();
  for (const auto& u : updates) {
    if (which == UpdateSet::kNone || (which == UpdateSet::kInference && !u.at_inference)) continue;
    updates_.push_back({u.variable, u.layer, u.at_inference, 0});
  }
  k -= updates_.size();
  for (auto& u : updates_) u.output = k++;
}

bool Function::stateful() const {
  for (const auto& u : updates_) {
    if (u.at_inference) return true;
  }
  return false;
}

void Function::check_state_batch(std::size_t batch, std::string_view what) const {
  for (const auto& u : updates_) {
    if (!u.at_inference) continue;
    const std::size_t want = u.variable->value.shape()[0];
    if (want != batch) {
      auto layer = u.layer.lock();
      throw Error(
          "{}: layer \"{}\" ({}, stateful = true) keeps states for a batch of {} samples, "
          "received a batch of {}; use batch_size = {} and a number of samples that is a "
          "multiple of it",
          what, layer ? layer->name() : u.variable->path, layer ? layer->class_name() : "?", want,
          batch, want);
    }
  }
}

namespace {
// A training set skips a frozen layer's updates (BatchNormalization under
// trainable = false) unless they are applied at inference too (a stateful RNN's states).
bool skipped(const Function::Update& u, UpdateSet set) {
  if (set != UpdateSet::kAll || u.at_inference) return false;
  auto layer = u.layer.lock();
  return layer && !layer->trainable();
}
}  // namespace

void Function::apply_updates(const Executor& exec) const {
  for (const auto& u : updates_) {
    if (skipped(u, update_set_)) continue;
    const Tensor& v = exec.output(u.output);
    if (v.size() != u.variable->value.size()) {
      auto layer = u.layer.lock();
      throw Error(
          "Layer \"{}\": a stateful layer keeps states of shape {}, this batch in \"{}\" "
          "gives {}",
          layer ? layer->name() : u.variable->path, shape_str(shape_of(u.variable->value)), name_,
          shape_str(shape_of(v)));
    }
    std::copy_n(v.data(), v.size(), u.variable->value.data());
  }
}

void Function::apply_updates(std::span<const float* const> values) const {
  if (values.size() != updates_.size()) {
    throw Error("Function \"{}\": {} update values for {} updates", name_, values.size(),
                updates_.size());
  }
  for (std::size_t k = 0; k < updates_.size(); ++k) {
    const auto& u = updates_[k];
    if (skipped(u, update_set_)) continue;
    std::copy_n(values[k], u.variable->value.size(), u.variable->value.data());
  }
}

std::size_t Function::output_index(std::string_view name) const {
  for (std::size_t i = 0; i < outputs_.size(); ++i) {
    if (outputs_[i].name == name) return i;
  }
  std::string known;
  for (auto& o : outputs_) known += (known.empty() ? "\"" : "\", \"") + o.name;
  throw Error("Function \"{}\" has no output \"{}\"; its outputs are [{}]", name_, name,
              known.empty() ? known : known + "\"");
}

bool Function::has_output(std::string_view name) const {
  for (auto& o : outputs_) {
    if (o.name == name) return true;
  }
  return false;
}

std::unique_ptr<Executor> Function::make_executor(Executor::Options options) const {
  if (!schedule_) throw Error("Function \"{}\" is empty (default-constructed)", name_);
  return std::make_unique<Executor>(schedule_, std::move(options));
}

std::vector<Tensor> Function::operator()(const std::vector<const Tensor*>& feeds,
                                         const Context& ctx) const {
  auto exec = make_executor();
  exec->forward(feeds, ctx);
  std::vector<Tensor> out;
  for (std::size_t i = 0; i < outputs_.size(); ++i) out.push_back(exec->output(i));
  return out;
}

SymbolicTensor placeholder(const Shape& shape, std::string_view name) {
  return SymbolicTensor(make_node(Node::Kind::kInput, shape, std::string(name)), nullptr);
}

}  // namespace plexus::graph

namespace plexus::detail {
void throw_disconnected(const std::string& what) { throw Error("Graph disconnected: {}", what); }
}  // namespace plexus::detail
