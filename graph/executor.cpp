#include "graph/executor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <unordered_map>

#include "core/cpu.hpp"
#include "core/error.hpp"
#include "graph/detail.hpp"

namespace plexus::graph {

namespace {
bool same_shape(const Tensor& t, const Shape& s) {
  if (t.dimension() != s.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (static_cast<Dim>(t.shape()[i]) != s[i]) return false;
  }
  return true;
}
void zero(Tensor& t) { std::memset(t.data(), 0, t.size() * sizeof(float)); }
}  // namespace

std::shared_ptr<const Schedule> make_schedule(const std::vector<NodePtr>& feeds,
                                              const std::vector<NodePtr>& outputs,
                                              std::string_view owner) {
  auto sch = std::make_shared<Schedule>();
  std::unordered_map<const Node*, std::size_t> is_feed;
  for (std::size_t f = 0; f < feeds.size(); ++f) is_feed.emplace(feeds[f].get(), f);
  // Collect every node the outputs depend on, without recursion.
  std::unordered_map<const Node*, NodePtr> seen;
  std::vector<NodePtr> stack(outputs.begin(), outputs.end());
  while (!stack.empty()) {
    NodePtr n = stack.back();
    stack.pop_back();
    if (!seen.emplace(n.get(), n).second) continue;
    if (n->kind == Node::Kind::kInput && !is_feed.count(n.get())) {
      std::string given;
      for (auto& f : feeds) given += (given.empty() ? "\"" : "\", \"") + f->name;
      detail::throw_disconnected(fmt::format(
          "cannot find parent for tensor \"{}\" {} in function \"{}\". Its inputs are [{}]",
          n->name, shape_str(n->shape), owner, given.empty() ? given : given + "\""));
    }
    for (auto& in : n->inputs) stack.push_back(in);
  }
  for (auto& f : feeds) seen.emplace(f.get(), f);
  auto& nodes = sch->nodes;
  for (auto& [ptr, n] : seen) nodes.push_back(n);
  std::sort(nodes.begin(), nodes.end(), [](auto& a, auto& b) { return a->id < b->id; });
  std::unordered_map<const Node*, std::size_t> index;
  for (std::size_t i = 0; i < nodes.size(); ++i) index[nodes[i].get()] = i;
  sch->inputs_of.resize(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    for (auto& in : nodes[i]->inputs) sch->inputs_of[i].push_back(index.at(in.get()));
  }
  for (auto& f : feeds) sch->feed_index.push_back(index.at(f.get()));
  for (auto& o : outputs) sch->output_index.push_back(index.at(o.get()));
  return sch;
}

Executor::Executor(const std::vector<NodePtr>& feeds, const std::vector<NodePtr>& outputs,
                   Options options)
    : Executor(make_schedule(feeds, outputs, "executor"), std::move(options)) {}

Executor::Executor(std::shared_ptr<const Schedule> schedule, Options options)
    : schedule_(std::move(schedule)),
      nodes_(schedule_->nodes),
      inputs_of_(schedule_->inputs_of),
      feed_index_(schedule_->feed_index),
      output_index_(schedule_->output_index) {
  outputs_of_.resize(nodes_.size());
  kernels_.resize(nodes_.size());
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = *nodes_[i];
    if (n.kind == Node::Kind::kOp) {
      kernels_[i] = n.kernel->clone();
      if (kernels_[i]->num_outputs() > 1) {
        outputs_of_[i].assign(kernels_[i]->num_outputs(), nodes_.size());
      }
    }
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i]->kind != Node::Kind::kOutput) continue;
    const std::size_t op = inputs_of_[i].at(0);
    outputs_of_[op].at(nodes_[i]->output_index) = i;
  }

  // Which nodes carry a gradient: the wanted leaves and everything computed from them.
  needs_grad_.assign(nodes_.size(), false);
  for (auto& v : options.wrt_variables) {
    std::size_t found = nodes_.size();
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i]->kind == Node::Kind::kVariable && nodes_[i]->variable == v) found = i;
    }
    var_index_.push_back(found);  // == nodes_.size(): the variable is unused (no gradient)
    if (found < nodes_.size()) needs_grad_[found] = true;
  }
  gradient_order_.resize(var_index_.size());
  std::iota(gradient_order_.begin(), gradient_order_.end(), std::size_t{0});
  // (std::sort with a tie-break: stable_sort's temporary buffer would be the one allocation
  // of its kind, which the allocation-counting test's operator new replacement does not see.)
  std::sort(gradient_order_.begin(), gradient_order_.end(), [&](std::size_t a, std::size_t b) {
    return var_index_[a] != var_index_[b] ? var_index_[a] > var_index_[b] : a < b;
  });
  if (options.wrt_feeds) {
    for (auto i : feed_index_) needs_grad_[i] = true;
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const auto kind = nodes_[i]->kind;
    if (kind != Node::Kind::kOp && kind != Node::Kind::kOutput) continue;
    for (auto j : inputs_of_[i]) {
      if (needs_grad_[j]) needs_grad_[i] = true;
    }
  }
  // A gradient buffer whose only contribution comes from one kernel that can write it
  // (Kernel::can_assign_grad) need not be zeroed before each backward: that kernel is
  // switched to writing it. Seeded outputs and feeds (read by feed_grad() even when
  // unreached) keep their zeroing, and so do the outputs of multi-output ops (their op reads
  // every output's cotangent, reached or not). Otherwise, if the one consumer is not
  // reached, neither is the node, and nothing reads its stale buffer (variable_grad()
  // checks reached_).
  zero_grad_.assign(nodes_.size(), true);
  std::vector<std::size_t> contributions(nodes_.size(), 0);
  std::vector<std::pair<std::size_t, std::size_t>> writer(nodes_.size(), {nodes_.size(), 0});
  for (std::size_t r = 0; r < nodes_.size(); ++r) {
    for (std::size_t a = 0; a < inputs_of_[r].size(); ++a) {
      const std::size_t j = inputs_of_[r][a];
      ++contributions[j];
      if (nodes_[r]->kind == Node::Kind::kOp) writer[j] = {r, a};
    }
  }
  for (auto o : output_index_) ++contributions[o];
  for (auto f : feed_index_) ++contributions[f];
  for (std::size_t j = 0; j < nodes_.size(); ++j) {
    const auto [r, a] = writer[j];
    if (!needs_grad_[j] || contributions[j] != 1 || r == nodes_.size()) continue;
    if (nodes_[j]->kind == Node::Kind::kOutput || !outputs_of_[j].empty()) continue;
    if (!kernels_[r]->can_assign_grad(a)) continue;
    kernels_[r]->set_grad_assign(a, true);
    zero_grad_[j] = false;
  }
  reached_.assign(nodes_.size(), 0);
  value_ptr_.assign(nodes_.size(), nullptr);
  args_.resize(nodes_.size());
  gargs_.resize(nodes_.size());
  outs_.resize(nodes_.size());
  couts_.resize(nodes_.size());
  gouts_.resize(nodes_.size());
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    args_[i].resize(inputs_of_[i].size());
    gargs_[i].resize(inputs_of_[i].size());
    outs_[i].resize(outputs_of_[i].size());
    couts_[i].resize(outputs_of_[i].size());
    gouts_[i].resize(outputs_of_[i].size());
    const Node& n = *nodes_[i];
    if (n.kind == Node::Kind::kVariable) value_ptr_[i] = &n.variable->value;
    if (n.kind == Node::Kind::kConstant) value_ptr_[i] = n.constant.get();
  }
}

Executor::Plan& Executor::plan_for(std::span<const Tensor* const> feeds) {
  if (plan_ != nullptr) {
    bool same = true;
    for (std::size_t f = 0; same && f < feeds.size(); ++f) {
      same = same_shape(*feeds[f], feed_shapes_scratch_[f]);
    }
    if (same) return *plan_;
  }
  std::vector<Shape> key;
  for (std::size_t f = 0; f < feeds.size(); ++f) {
    const Node& n = *nodes_[feed_index_[f]];
    Shape s = shape_of(*feeds[f]);
    if (!shapes_compatible(s, n.shape)) {
      throw Error("Input {} \"{}\": expected shape {}, received {}", f, n.name, shape_str(n.shape),
                  shape_str(s));
    }
    key.push_back(std::move(s));
  }
  auto it = plans_.find(key);
  if (it == plans_.end()) {
    Plan plan;
    plan.values.resize(nodes_.size());
    plan.multi.resize(nodes_.size());
    plan.zeros.resize(nodes_.size());
    plan.grads.resize(nodes_.size());
    std::vector<Shape> concrete(nodes_.size());
    for (std::size_t f = 0; f < feeds.size(); ++f) concrete[feed_index_[f]] = key[f];
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      const Node& n = *nodes_[i];
      if (n.kind == Node::Kind::kOp) {
        std::vector<Shape> in;
        for (auto j : inputs_of_[i]) in.push_back(concrete[j]);
        if (outputs_of_[i].empty()) {
          concrete[i] = kernels_[i]->output_shape(in);
          resize_to(plan.values[i], concrete[i]);
        } else {
          const std::vector<Shape> shapes = kernels_[i]->output_shapes(in);
          plan.multi[i].resize(shapes.size());
          plan.zeros[i].resize(shapes.size());
          for (std::size_t k = 0; k < shapes.size(); ++k) {
            resize_to(plan.multi[i][k], shapes[k]);
            if (needs_grad_[i] && outputs_of_[i][k] == nodes_.size()) {
              resize_to(plan.zeros[i][k], shapes[k]);
              plan.zeros[i][k].fill(0.0f);
            }
          }
          concrete[i] = shapes.at(0);
        }
      } else if (n.kind == Node::Kind::kOutput) {
        const std::size_t op = inputs_of_[i][0];
        concrete[i] = shape_of(plan.multi[op].at(n.output_index));
      } else if (n.kind == Node::Kind::kVariable) {
        concrete[i] = shape_of(n.variable->value);
      } else if (n.kind == Node::Kind::kConstant) {
        concrete[i] = shape_of(*n.constant);
      }
      if (needs_grad_[i] && outputs_of_[i].empty()) resize_to(plan.grads[i], concrete[i]);
    }
    it = plans_.emplace(key, std::move(plan)).first;
  }
  feed_shapes_scratch_ = key;
  plan_ = &it->second;
  return *plan_;
}

void Executor::forward(std::span<const Tensor* const> feeds, const Context& ctx) {
  if (feeds.size() != feed_index_.size()) {
    throw Error("Executor: expected {} feeds, received {}", feed_index_.size(), feeds.size());
  }
  FlushDenormals ftz;
  Plan& plan = plan_for(feeds);
  for (std::size_t f = 0; f < feeds.size(); ++f) value_ptr_[feed_index_[f]] = feeds[f];
  Context node_ctx = ctx;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = *nodes_[i];
    if (n.kind == Node::Kind::kOutput) {
      value_ptr_[i] = &plan.multi[inputs_of_[i][0]][n.output_index];
      continue;
    }
    if (n.kind != Node::Kind::kOp) continue;
    auto& args = args_[i];
    for (std::size_t a = 0; a < args.size(); ++a) args[a] = value_ptr_[inputs_of_[i][a]];
    node_ctx.backward = ctx.backward && needs_grad_[i];
    if (outputs_of_[i].empty()) {
      kernels_[i]->forward(args, plan.values[i], node_ctx);
      value_ptr_[i] = &plan.values[i];
    } else {
      auto& outs = outs_[i];
      for (std::size_t k = 0; k < outs.size(); ++k) outs[k] = &plan.multi[i][k];
      kernels_[i]->forward_all(args, outs, node_ctx);
      value_ptr_[i] = &plan.multi[i][0];
    }
  }
}

const Tensor& Executor::output(std::size_t i) const { return *value_ptr_[output_index_.at(i)]; }

void Executor::backward(std::span<const Tensor* const> seeds, const Context& ctx,
                        const std::function<void(std::size_t)>& ready) {
  if (plan_ == nullptr) throw Error("Executor: backward() called before forward()");
  FlushDenormals ftz;
  Plan& plan = *plan_;
  std::fill(reached_.begin(), reached_.end(), 0);
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (needs_grad_[i] && zero_grad_[i]) zero(plan.grads[i]);
  }
  for (std::size_t o = 0; o < seeds.size() && o < output_index_.size(); ++o) {
    if (seeds[o] == nullptr) continue;
    std::size_t i = output_index_[o];
    if (!needs_grad_[i]) continue;
    Tensor& g = plan.grads[i];
    if (g.size() != seeds[o]->size()) {
      throw Error("Executor: seed {} has {} elements, output has {}", o, seeds[o]->size(),
                  g.size());
    }
    const float* s = seeds[o]->data();
    float* d = g.data();
    for (std::size_t k = 0; k < g.size(); ++k) d[k] += s[k];
    reached_[i] = 1;
  }
  // Nodes are in creation order and every node is younger than its inputs, so when the
  // reverse pass reaches node r every user of a variable at index >= r is done.
  std::size_t next_ready = 0;
  auto signal_ready = [&](std::size_t r) {
    while (next_ready < gradient_order_.size() && var_index_[gradient_order_[next_ready]] >= r) {
      ready(gradient_order_[next_ready++]);
    }
  };
  for (std::size_t r = nodes_.size(); r-- > 0;) {
    if (ready) signal_ready(r);
    Node& n = *nodes_[r];
    if (!reached_[r]) continue;
    if (n.kind == Node::Kind::kOutput) {
      reached_[inputs_of_[r][0]] = 1;  // its gradient buffer is read by the op's backward_all
      continue;
    }
    if (n.kind != Node::Kind::kOp) continue;
    auto& args = args_[r];
    auto& gargs = gargs_[r];
    bool any = false;
    for (std::size_t a = 0; a < args.size(); ++a) {
      std::size_t j = inputs_of_[r][a];
      args[a] = value_ptr_[j];
      gargs[a] = needs_grad_[j] ? &plan.grads[j] : nullptr;
      if (needs_grad_[j]) {
        reached_[j] = 1;
        any = true;
      }
    }
    if (!any) continue;
    if (outputs_of_[r].empty()) {
      kernels_[r]->backward(args, plan.values[r], plan.grads[r], gargs, ctx);
    } else {
      auto& couts = couts_[r];
      auto& gouts = gouts_[r];
      for (std::size_t k = 0; k < couts.size(); ++k) {
        const std::size_t o = outputs_of_[r][k];
        couts[k] = &plan.multi[r][k];
        gouts[k] = o < nodes_.size() ? &plan.grads[o] : &plan.zeros[r][k];
      }
      kernels_[r]->backward_all(args, couts, gouts, gargs, ctx);
    }
  }
  if (ready) signal_ready(0);
}

const Tensor* Executor::variable_grad(std::size_t i) const {
  std::size_t j = var_index_.at(i);
  if (j >= nodes_.size() || !reached_[j]) return nullptr;  // the outputs do not depend on it
  return &plan_->grads[j];
}

const Tensor& Executor::feed_grad(std::size_t i) const { return plan_->grads[feed_index_.at(i)]; }

}  // namespace plexus::graph
