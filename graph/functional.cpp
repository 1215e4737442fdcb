#include "graph/functional.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "graph/detail.hpp"
#include "graph/input_layer.hpp"

namespace plexus::graph {

std::size_t output_index(const LayerCall& call, const Node* node) {
  for (std::size_t i = 0; i < call.outputs.size(); ++i) {
    if (call.outputs[i].get() == node) return i;
  }
  throw Error("Internal error: tensor is not an output of layer \"{}\"", call.layer->name());
}

namespace {
bool is_input_call(const LayerCall& call) {
  return dynamic_cast<const InputLayer*>(call.layer.get()) != nullptr;
}
std::string names_list(const std::vector<SymbolicTensor>& ts) {
  std::string s;
  for (auto& t : ts) s += fmt::format("{}\"{}\"", s.empty() ? "" : ", ", t.node()->name);
  return "[" + s + "]";
}
}  // namespace

Functional::Functional(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs,
                       std::string_view name, std::string class_name)
    : Layer(name),
      class_name_(std::move(class_name)),
      inputs_(std::move(inputs)),
      outputs_(std::move(outputs)) {
  const std::string& model = this->name();
  if (inputs_.empty()) throw Error("Model \"{}\" needs at least one input", model);
  if (outputs_.empty()) throw Error("Model \"{}\" needs at least one output", model);
  std::set<const Node*> input_nodes;
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    const auto& t = inputs_[i];
    if (!t.defined() || !t.history() || !is_input_call(*t.history())) {
      throw Error(
          "Input {} of model \"{}\" must be a tensor made by px::Input(), not the output of a "
          "layer{}",
          i, model, t.defined() && t.history() ? " \"" + t.history()->layer->name() + "\"" : "");
    }
    if (!input_nodes.insert(t.node().get()).second) {
      throw Error("Input {} \"{}\" of model \"{}\" is given twice", i, t.node()->name, model);
    }
  }
  // Walk back from the outputs over layer calls, iteratively.
  std::set<const LayerCall*> seen;
  std::set<const Node*> used_inputs;
  std::vector<std::pair<SymbolicTensor, std::string>> stack;  // tensor, the layer using it
  for (std::size_t i = 0; i < outputs_.size(); ++i) {
    if (!outputs_[i].defined() || !outputs_[i].history()) {
      throw Error("Output {} of model \"{}\" is not the result of a layer call", i, model);
    }
    stack.emplace_back(outputs_[i], fmt::format("as output {}", i));
  }
  while (!stack.empty()) {
    auto [t, user] = stack.back();
    stack.pop_back();
    if (!t.history()) {
      detail::throw_disconnected(
          fmt::format("in model \"{}\": a tensor used {} comes from no layer", model, user));
    }
    const LayerCall* call = t.history().get();
    if (is_input_call(*call)) {
      if (!input_nodes.count(t.node().get())) {
        detail::throw_disconnected(fmt::format(
            "cannot find parent for tensor from Input \"{}\" {} used {} of model \"{}\". The "
            "model's inputs are {}",
            t.node()->name, shape_str(t.shape()), user, model, names_list(inputs_)));
      }
      used_inputs.insert(t.node().get());
    }
    if (!seen.insert(call).second) continue;
    calls_.push_back(t.history());
    for (auto& in : call->inputs) {
      stack.emplace_back(in, fmt::format("by layer \"{}\"", call->layer->name()));
    }
  }
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    if (!used_inputs.count(inputs_[i].node().get())) {
      detail::throw_disconnected(
          fmt::format("cannot reach Input {} \"{}\" {} of model \"{}\" from its outputs", i,
                      inputs_[i].node()->name, shape_str(inputs_[i].shape()), model));
    }
  }
  std::sort(calls_.begin(), calls_.end(), [](auto& a, auto& b) { return a->id < b->id; });
  // Model inputs' InputLayer calls may have been made out of order with other inputs.
  std::set<const Layer*> listed;
  std::map<std::string, int> name_count;
  for (auto& c : calls_) {
    if (listed.insert(c->layer.get()).second) {
      layers_.push_back(c->layer);
      if (++name_count[c->layer->name()] == 2) {
        throw Error(
            "The name \"{}\" is used 2 times in model \"{}\". All layer names should be unique.",
            c->layer->name(), model);
      }
    }
    if (c->layer.get() == this) throw Error("Model \"{}\" cannot contain itself", model);
  }
  for (auto& l : layers_) track(l);
  mark_built();
}

Layer& Functional::get_layer(std::string_view name) const {
  std::string known;
  for (auto& l : layers_) {
    if (l->name() == name) return *l;
    known += (known.empty() ? "\"" : ", \"") + l->name() + "\"";
  }
  throw Error("No such layer: \"{}\" in model \"{}\". Existing layers are: [{}]", name,
              this->name(), known);
}

std::vector<StateUpdate> Functional::updates() const {
  std::vector<StateUpdate> out;
  for (auto& c : calls_) out.insert(out.end(), c->updates.begin(), c->updates.end());
  return out;
}

SymbolicTensor Functional::call(const SymbolicTensor& x) {
  auto out = call_list({x});
  if (out.size() != 1) {
    throw Error("Model \"{}\" has {} outputs; call it with a list", name(), out.size());
  }
  return out[0];
}

std::vector<SymbolicTensor> Functional::call_list(const std::vector<SymbolicTensor>& xs) {
  if (xs.size() != inputs_.size()) {
    throw Error("Model \"{}\" expects {} inputs, but it received {}", name(), inputs_.size(),
                xs.size());
  }
  std::map<std::pair<const LayerCall*, const Node*>, SymbolicTensor> mapped;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const Shape& want = inputs_[i].shape();
    if (!shapes_compatible(want, xs[i].shape())) {
      throw Error("Input {} \"{}\" of model \"{}\": expected shape {}, received {}", i,
                  inputs_[i].node()->name, name(), shape_str(want), shape_str(xs[i].shape()));
    }
    mapped[{inputs_[i].history().get(), inputs_[i].node().get()}] = xs[i];
  }
  for (auto& c : calls_) {
    if (is_input_call(*c)) continue;
    std::vector<SymbolicTensor> args;
    for (auto& in : c->inputs) args.push_back(mapped.at({in.history().get(), in.node().get()}));
    auto outs = (*c->layer)(args);
    for (std::size_t k = 0; k < outs.size(); ++k) {
      mapped[{c.get(), c->outputs[k].get()}] = outs[k];
    }
  }
  std::vector<SymbolicTensor> result;
  for (auto& o : outputs_) result.push_back(mapped.at({o.history().get(), o.node().get()}));
  return result;
}

}  // namespace plexus::graph
