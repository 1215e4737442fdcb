// The primitive-op interface. A Kernel declares its forward and its vector-Jacobian
// product (VJP) together; everything differentiable in plexus is composed of kernels.
//
// Contract (the executor relies on it, and so does the gradient test):
//  - output_shape() answers symbolically: -1 marks an unknown dimension (the batch) and
//    is propagated; with all dimensions known it gives the concrete output shape. Bad
//    shapes throw px::Error naming the op and both shapes.
//  - forward() writes into `out`, which the caller has already sized to output_shape().
//    It must not allocate on the steady-state path (use raw loops or xt::noalias).
//  - backward() ACCUMULATES (+=) d(loss)/d(input i) into gin[i] for every non-null gin[i];
//    gin[i] has input i's shape. It may read the inputs, the output and gout.
//  - A kernel object belongs to one graph node, so it may keep scratch buffers between
//    forward and backward (a dropout mask, say).
#pragma once

#include <memory>
#include <span>
#include <string>

#include "core/tensor.hpp"

namespace plexus {

using TensorRefs = std::span<const Tensor* const>;
using GradRefs = std::span<Tensor* const>;
using ShapeRefs = std::span<const Shape>;

struct Context {
  bool training = false;  // dropout and friends act only in training
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  // The op's name, snake_case: "matmul", "add", "softmax".
  virtual std::string name() const = 0;
  virtual std::size_t num_inputs() const = 0;  // 0 means any number (concatenate)
  virtual Shape output_shape(ShapeRefs in) const = 0;
  virtual void forward(TensorRefs in, Tensor& out, const Context& ctx) = 0;
  virtual void backward(TensorRefs in, const Tensor& out, const Tensor& gout, GradRefs gin,
                        const Context& ctx) = 0;
  // A fresh kernel with the same configuration (a model re-traced on new inputs).
  virtual std::shared_ptr<Kernel> clone() const = 0;
};

using KernelPtr = std::shared_ptr<Kernel>;

// Runs one kernel eagerly on concrete tensors (tests, small utilities).
Tensor eval(Kernel& kernel, const std::vector<Tensor>& inputs, const Context& ctx = {});
// The VJP of one kernel at `inputs` for output cotangent `gout`: one gradient per input.
std::vector<Tensor> eval_vjp(Kernel& kernel, const std::vector<Tensor>& inputs, const Tensor& gout,
                             const Context& ctx = {});

}  // namespace plexus
