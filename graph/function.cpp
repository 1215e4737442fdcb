#include "graph/function.hpp"

#include <set>
#include <unordered_set>

#include "core/error.hpp"

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
  // Walk back from the outputs, iteratively (no recursion depth limit).
  std::unordered_set<const Node*> seen;
  std::vector<const Node*> stack;
  for (auto& o : outputs_) stack.push_back(o.tensor.node().get());
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second) continue;
    if (n->kind == Node::Kind::kInput && !feeds.count(n)) {
      std::string given;
      for (auto& t : inputs_) given += (given.empty() ? "\"" : ", \"") + t.node()->name + "\"";
      throw Error(
          "Graph disconnected: cannot find parent for tensor \"{}\" {} in function \"{}\". "
          "Its inputs are [{}]",
          n->name, shape_str(n->shape), name_, given.empty() ? given : given + "\"");
    }
    for (auto& in : n->inputs) stack.push_back(in.get());
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
  std::vector<NodePtr> feeds, outs;
  for (auto& t : inputs_) feeds.push_back(t.node());
  for (auto& o : outputs_) outs.push_back(o.tensor.node());
  return std::make_unique<Executor>(std::move(feeds), std::move(outs), std::move(options));
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
