#include "core/kernel.hpp"

#include "core/error.hpp"
#include "graph/symbolic.hpp"

namespace plexus {

namespace {
std::vector<Shape> shapes_of(const std::vector<Tensor>& inputs) {
  std::vector<Shape> shapes;
  for (const auto& t : inputs) shapes.push_back(shape_of(t));
  return shapes;
}
std::vector<const Tensor*> pointers(const std::vector<Tensor>& inputs) {
  std::vector<const Tensor*> p;
  for (const auto& t : inputs) p.push_back(&t);
  return p;
}
}  // namespace

std::vector<SymbolicTensor> Kernel::symbolic_vjp(const std::vector<SymbolicTensor>&,
                                                 const std::vector<SymbolicTensor>&,
                                                 const std::vector<SymbolicTensor>&) const {
  return {};
}

void Kernel::set_grad_assign(std::size_t input, bool assign) {
  if (input >= 32 || !can_assign_grad(input)) {
    throw Error("{}: cannot write the gradient of input {} (it only accumulates)", name(), input);
  }
  const std::uint32_t bit = 1u << input;
  assign_mask_ = assign ? (assign_mask_ | bit) : (assign_mask_ & ~bit);
}

void MultiKernel::forward(TensorRefs, Tensor&, const Context&) {
  throw Error("{}: a kernel with {} outputs runs through forward_all()", name(), num_outputs());
}
void MultiKernel::backward(TensorRefs, const Tensor&, const Tensor&, GradRefs, const Context&) {
  throw Error("{}: a kernel with {} outputs runs through backward_all()", name(), num_outputs());
}

std::vector<Tensor> eval_all(Kernel& kernel, const std::vector<Tensor>& inputs,
                             const Context& ctx) {
  const std::vector<Shape> shapes = kernel.output_shapes(shapes_of(inputs));
  std::vector<Tensor> outs(shapes.size());
  std::vector<Tensor*> op;
  for (std::size_t k = 0; k < shapes.size(); ++k) {
    resize_to(outs[k], shapes[k]);
    op.push_back(&outs[k]);
  }
  kernel.forward_all(pointers(inputs), op, ctx);
  return outs;
}

std::vector<Tensor> eval_vjp_all(Kernel& kernel, const std::vector<Tensor>& inputs,
                                 const std::vector<Tensor>& gouts, const Context& ctx) {
  std::vector<Tensor> outs = eval_all(kernel, inputs, ctx);
  if (gouts.size() != outs.size()) {
    throw Error("eval_vjp_all({}): {} cotangents for {} outputs", kernel.name(), gouts.size(),
                outs.size());
  }
  for (std::size_t k = 0; k < outs.size(); ++k) {
    if (shape_of(outs[k]) != shape_of(gouts[k])) {
      throw Error("eval_vjp_all({}): cotangent {} has shape {}, output {}", kernel.name(), k,
                  shape_str(shape_of(gouts[k])), shape_str(shape_of(outs[k])));
    }
  }
  std::vector<Tensor> grads;
  std::vector<Tensor*> gp;
  grads.reserve(inputs.size());
  for (const auto& t : inputs) {
    grads.emplace_back(Tensor::from_shape(t.shape()));
    grads.back().fill(0.0f);
    gp.push_back(&grads.back());
  }
  kernel.backward_all(pointers(inputs), pointers(outs), pointers(gouts), gp, ctx);
  return grads;
}

Tensor eval(Kernel& kernel, const std::vector<Tensor>& inputs, const Context& ctx) {
  Tensor out;
  resize_to(out, kernel.output_shape(shapes_of(inputs)));
  kernel.forward(pointers(inputs), out, ctx);
  return out;
}

std::vector<Tensor> eval_vjp(Kernel& kernel, const std::vector<Tensor>& inputs, const Tensor& gout,
                             const Context& ctx) {
  Tensor out = eval(kernel, inputs, ctx);
  if (shape_of(out) != shape_of(gout)) {
    throw Error("eval_vjp({}): cotangent shape {} does not match output shape {}", kernel.name(),
                shape_str(shape_of(gout)), shape_str(shape_of(out)));
  }
  std::vector<Tensor> grads;
  std::vector<Tensor*> gp;
  grads.reserve(inputs.size());
  for (const auto& t : inputs) {
    grads.emplace_back(Tensor::from_shape(t.shape()));
    grads.back().fill(0.0f);
    gp.push_back(&grads.back());
  }
  kernel.backward(pointers(inputs), out, gout, gp, ctx);
  return grads;
}

}  // namespace plexus
