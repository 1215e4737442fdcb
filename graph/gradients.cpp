// px::ops::grad: symbolic reverse-mode differentiation. The gradient is built from the
// kernels' symbolic VJPs (Kernel::symbolic_vjp) as ordinary graph nodes, so it can be
// evaluated by any graph::Function / executor, differentiated again (higher-order
// gradients), and trained through (a gradient penalty in a loss).
#include "graph/detail/gradients.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "core/error.hpp"
#include "core/kernels.hpp"
#include "graph/detail.hpp"
#include "graph/ops.hpp"

namespace plexus {
namespace {

using ST = SymbolicTensor;

// The first-order fallback for a kernel without a symbolic VJP: runs the kernel's forward
// and backward for one input's gradient. It cannot be differentiated again.
class FirstOrderVjp final : public Kernel {
 public:
  FirstOrderVjp(KernelPtr kernel, std::size_t input, std::size_t num_in)
      : kernel_(std::move(kernel)), input_(input), num_in_(num_in) {}
  std::string name() const override { return kernel_->name() + "_vjp"; }
  std::size_t num_inputs() const override { return num_in_ + kernel_->num_outputs(); }
  Shape output_shape(ShapeRefs in) const override { return in[input_]; }
  void forward(TensorRefs in, Tensor& out, const Context& ctx) override {
    const TensorRefs args = in.subspan(0, num_in_);
    std::vector<Shape> shapes;
    for (const Tensor* t : args) shapes.push_back(shape_of(*t));
    const std::vector<Shape> out_shapes = kernel_->output_shapes(shapes);
    outs_.resize(out_shapes.size());
    std::vector<Tensor*> op;
    std::vector<const Tensor*> cop;
    for (std::size_t k = 0; k < out_shapes.size(); ++k) {
      resize_to(outs_[k], out_shapes[k]);
      op.push_back(&outs_[k]);
      cop.push_back(&outs_[k]);
    }
    kernel_->forward_all(args, op, ctx);
    out.fill(0.0f);
    std::vector<Tensor*> gin(num_in_, nullptr);
    gin[input_] = &out;
    kernel_->backward_all(args, cop, in.subspan(num_in_), gin, ctx);
  }
  void backward(TensorRefs, const Tensor&, const Tensor&, GradRefs, const Context&) override {
    throw Error(
        "ops::grad: the gradient of {} cannot be differentiated again ({} has no symbolic "
        "VJP; second-order gradients go through element-wise ops, reductions, shape ops, "
        "matmul, softmax, gather, einsum, cumsum and pad)",
        kernel_->name(), kernel_->name());
  }
  KernelPtr clone() const override {
    return std::make_shared<FirstOrderVjp>(kernel_->clone(), input_, num_in_);
  }

 private:
  KernelPtr kernel_;
  std::size_t input_, num_in_;
  std::vector<Tensor> outs_;
};

bool same_shape(const Shape& a, const Shape& b) { return a == b; }

}  // namespace

namespace ops {
namespace detail {

SymbolicTensor nonzero_mask(const SymbolicTensor& x) { return not_equal(x, constant(0.0f)); }

SymbolicTensor expand_like(const SymbolicTensor& x, const SymbolicTensor& ref,
                           std::vector<Dim> axes, bool mean) {
  return apply(kernels::expand_like(std::move(axes), mean), {x, ref});
}
SymbolicTensor reduce_like(const SymbolicTensor& g, const SymbolicTensor& ref,
                           std::vector<Dim> axes, bool mean) {
  return apply(kernels::reduce_like(std::move(axes), mean), {g, ref});
}
SymbolicTensor unbroadcast(const SymbolicTensor& g, const SymbolicTensor& ref) {
  if (same_shape(g.shape(), ref.shape())) return g;
  return reduce_like(g, ref);
}
SymbolicTensor reshape_as(const SymbolicTensor& g, const SymbolicTensor& x) {
  if (same_shape(g.shape(), x.shape())) return g;
  return apply(kernels::reshape_like(x.rank(), {}), {g, x});
}

}  // namespace detail

std::vector<SymbolicTensor> grad(const SymbolicTensor& target,
                                 const std::vector<SymbolicTensor>& sources) {
  if (!target.defined()) throw Error("ops::grad: the target is an empty tensor");
  plexus::detail::CallDepthGuard raw;  // gradient nodes belong to no layer
  // Every node the target depends on, and which of them depend on a source.
  std::set<const Node*> source_nodes;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (!sources[i].defined()) throw Error("ops::grad: source {} is an empty tensor", i);
    source_nodes.insert(sources[i].node().get());
  }
  std::vector<NodePtr> nodes;
  std::unordered_map<const Node*, std::size_t> seen;
  std::map<const Node*, std::vector<NodePtr>> outputs_of;  // op -> its kOutput nodes
  std::vector<NodePtr> stack = {target.node()};
  while (!stack.empty()) {
    NodePtr n = stack.back();
    stack.pop_back();
    if (seen.count(n.get())) continue;
    seen[n.get()] = 0;
    nodes.push_back(n);
    if (n->kind == Node::Kind::kOutput) outputs_of[n->inputs.at(0).get()].push_back(n);
    for (const auto& in : n->inputs) stack.push_back(in);
  }
  std::sort(nodes.begin(), nodes.end(),
            [](const NodePtr& a, const NodePtr& b) { return a->id < b->id; });
  std::unordered_map<const Node*, bool> depends;
  for (const auto& n : nodes) {
    bool d = source_nodes.count(n.get()) > 0;
    for (const auto& in : n->inputs) d = d || depends[in.get()];
    depends[n.get()] = d;
  }

  std::unordered_map<const Node*, ST> cot;
  auto accumulate = [&](const NodePtr& node, const ST& g) {
    auto it = cot.find(node.get());
    if (it == cot.end()) {
      cot.emplace(node.get(), g);
    } else {
      it->second = add(it->second, g);
    }
  };
  if (depends[target.node().get()]) {
    cot.emplace(target.node().get(), ones_like(ST(target.node(), nullptr)));
  }
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    const NodePtr& n = *it;
    if (n->kind != Node::Kind::kOp || !depends[n.get()]) continue;
    const Kernel& kernel = *n->kernel;
    const std::size_t n_out = kernel.num_outputs();
    std::vector<ST> outs, gouts;
    bool any = false;
    if (n_out == 1) {
      outs.emplace_back(n, nullptr);
      auto c = cot.find(n.get());
      if (c != cot.end()) {
        gouts.push_back(c->second);
        any = true;
      }
    } else {
      outs.resize(n_out);
      gouts.resize(n_out);
      for (const NodePtr& o : outputs_of[n.get()]) {
        outs[o->output_index] = ST(o, nullptr);
        auto c = cot.find(o.get());
        if (c == cot.end()) continue;
        gouts[o->output_index] =
            gouts[o->output_index].defined() ? add(gouts[o->output_index], c->second) : c->second;
        any = true;
      }
      if (any) {
        for (std::size_t k = 0; k < n_out; ++k) {
          if (!outs[k].defined()) {  // an output nothing reads: a fresh edge names it
            auto o = make_node(Node::Kind::kOutput, kernel.output_shapes([&] {
              std::vector<Shape> s;
              for (const auto& in : n->inputs) s.push_back(in->shape);
              return s;
            }())[k],
                               fmt::format("{}:{}", n->name, k));
            o->inputs = {n};
            o->output_index = k;
            outs[k] = ST(o, nullptr);
          }
          if (!gouts[k].defined()) gouts[k] = zeros_like(outs[k]);
        }
      }
    }
    if (!any) continue;
    std::vector<ST> ins;
    for (const auto& in : n->inputs) ins.emplace_back(in, nullptr);
    std::vector<ST> grads = kernel.symbolic_vjp(ins, outs, gouts);
    if (grads.empty()) {  // no symbolic VJP: first-order nodes
      std::vector<ST> args = ins;
      args.insert(args.end(), gouts.begin(), gouts.end());
      grads.resize(ins.size());
      for (std::size_t i = 0; i < ins.size(); ++i) {
        if (!depends[n->inputs[i].get()]) continue;
        grads[i] = ops::apply(std::make_shared<FirstOrderVjp>(kernel.clone(), i, ins.size()), args);
      }
    }
    if (grads.size() != ins.size()) {
      throw Error("ops::grad: {}'s symbolic VJP returned {} gradients for {} inputs", kernel.name(),
                  grads.size(), ins.size());
    }
    for (std::size_t i = 0; i < ins.size(); ++i) {
      if (!grads[i].defined() || !depends[n->inputs[i].get()]) continue;
      const Shape& want = ins[i].shape();
      const Shape& got = grads[i].shape();
      bool ok = want.size() == got.size();
      for (std::size_t d = 0; ok && d < want.size(); ++d) {
        ok = want[d] < 0 || got[d] < 0 || want[d] == got[d];
      }
      if (!ok) {
        throw Error("ops::grad: {}'s gradient for input {} has shape {}, expected {}",
                    kernel.name(), i, shape_str(got), shape_str(want));
      }
      accumulate(n->inputs[i], grads[i]);
    }
  }
  std::vector<ST> result;
  for (const ST& s : sources) {
    auto c = cot.find(s.node().get());
    result.push_back(c != cot.end() ? c->second : zeros_like(ST(s.node(), nullptr)));
  }
  return result;
}

std::vector<SymbolicTensor> grad(const SymbolicTensor& target,
                                 const std::vector<Variable>& variables) {
  std::vector<SymbolicTensor> sources;
  for (const Variable& v : variables) {
    NodePtr node = v.data() ? v.data()->node.lock() : nullptr;
    if (!node) {
      throw Error("ops::grad: variable \"{}\" has no node in a graph (build the layer first)",
                  v.data() ? v.path() : std::string("?"));
    }
    sources.emplace_back(node, nullptr);
  }
  return grad(target, sources);
}

}  // namespace ops
}  // namespace plexus
