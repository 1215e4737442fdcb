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
//    Exception: a kernel that says can_assign_grad(i) may be switched (set_grad_assign)
//    to WRITE (=) every element of gin[i] instead, whatever gin[i] held before; the
//    executor does so when the kernel is the only consumer of input i, and skips zeroing
//    that gradient buffer.
//  - A kernel object belongs to one executor: each executor runs its own clone() of every
//    node's kernel, so a kernel may keep scratch buffers between forward and backward (a
//    dropout mask, say) without two executors (predict and train, two threads) sharing them.
//  - A kernel with several outputs (split, an LSTM with its states) derives from
//    MultiKernel: num_outputs() > 1, output_shapes(), forward_all(), backward_all().
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.hpp"

namespace plexus {

class SymbolicTensor;  // graph/symbolic.hpp

using TensorRefs = std::span<const Tensor* const>;
using GradRefs = std::span<Tensor* const>;
using ShapeRefs = std::span<const Shape>;

struct Context {
  bool training = false;  // dropout and friends act only in training
  // False when no backward() follows this forward() (the executor sets it per node: no
  // gradient flows through it, as in predict); a kernel may then skip saving what only its
  // backward needs.
  bool backward = true;
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
  // A fresh kernel with the same configuration and no scratch state.
  virtual std::shared_ptr<Kernel> clone() const = 0;

  // --- several outputs (the defaults describe a single-output kernel) ---------------
  virtual std::size_t num_outputs() const { return 1; }
  virtual std::vector<Shape> output_shapes(ShapeRefs in) const { return {output_shape(in)}; }
  // outs[k] is sized to output_shapes()[k].
  virtual void forward_all(TensorRefs in, std::span<Tensor* const> outs, const Context& ctx) {
    forward(in, *outs[0], ctx);
  }
  // gouts[k] = d(loss)/d(output k) (zeros for an output nothing uses); accumulates into gin.
  virtual void backward_all(TensorRefs in, TensorRefs outs, TensorRefs gouts, GradRefs gin,
                            const Context& ctx) {
    backward(in, *outs[0], *gouts[0], gin, ctx);
  }

  // --- the VJP as ops on symbolic tensors (px::ops::grad, higher-order gradients) --------
  // in: the op's inputs; outs: its outputs; gouts: their cotangents (zeros for an output
  // nothing uses). Returns one gradient per input (an undefined tensor: no gradient, as
  // for indices and conditions), built from differentiable ops so it can be differentiated
  // again. An empty vector means the kernel has no symbolic VJP: ops::grad then uses a
  // first-order node running backward() (graph/gradients.cpp), which cannot be
  // differentiated again.
  virtual std::vector<SymbolicTensor> symbolic_vjp(const std::vector<SymbolicTensor>& in,
                                                   const std::vector<SymbolicTensor>& outs,
                                                   const std::vector<SymbolicTensor>& gouts) const;

  // --- writing a gradient instead of adding to it ------------------------------------
  // Whether backward() can write (=) all of gin[input] when told so by set_grad_assign.
  virtual bool can_assign_grad(std::size_t /*input*/) const { return false; }
  // Switches input's gradient between accumulate (the default) and assign; only for an
  // input with can_assign_grad (throws otherwise). clone() starts in accumulate mode.
  void set_grad_assign(std::size_t input, bool assign);
  bool assigns_grad(std::size_t input) const {
    return input < 32 && ((assign_mask_ >> input) & 1u) != 0;
  }

 private:
  std::uint32_t assign_mask_ = 0;
};

// Base of kernels with several outputs: they implement output_shapes/forward_all/
// backward_all; the single-output entry points are not used for them.
class MultiKernel : public Kernel {
 public:
  Shape output_shape(ShapeRefs in) const final { return output_shapes(in).at(0); }
  void forward(TensorRefs, Tensor&, const Context&) final;
  void backward(TensorRefs, const Tensor&, const Tensor&, GradRefs, const Context&) final;
  std::vector<Shape> output_shapes(ShapeRefs in) const override = 0;
  void forward_all(TensorRefs in, std::span<Tensor* const> outs, const Context& ctx) override = 0;
  void backward_all(TensorRefs in, TensorRefs outs, TensorRefs gouts, GradRefs gin,
                    const Context& ctx) override = 0;
};

using KernelPtr = std::shared_ptr<Kernel>;

// Runs one kernel eagerly on concrete tensors (tests, small utilities).
Tensor eval(Kernel& kernel, const std::vector<Tensor>& inputs, const Context& ctx = {});
std::vector<Tensor> eval_all(Kernel& kernel, const std::vector<Tensor>& inputs,
                             const Context& ctx = {});
// The VJP of one kernel at `inputs` for output cotangent `gout`: one gradient per input.
std::vector<Tensor> eval_vjp(Kernel& kernel, const std::vector<Tensor>& inputs, const Tensor& gout,
                             const Context& ctx = {});
// The same for a kernel with several outputs: one cotangent per output.
std::vector<Tensor> eval_vjp_all(Kernel& kernel, const std::vector<Tensor>& inputs,
                                 const std::vector<Tensor>& gouts, const Context& ctx = {});

}  // namespace plexus
