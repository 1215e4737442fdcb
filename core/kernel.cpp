#include "core/kernel.hpp"

#include "core/error.hpp"

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
