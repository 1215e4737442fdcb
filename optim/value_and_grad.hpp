// px::value_and_grad(fn, variables): the values of a function of symbolic tensors and the
// gradients of its first value with respect to variables (Keras 3 / JAX's value_and_grad
// for any scalar built from layers, models and px::ops).
//
//   auto step = px::value_and_grad(
//       [&](const px::SymbolicTensors& in) -> px::SymbolicTensors {
//         ... return {total, reconstruction, kl};   // the first one is differentiated
//       },
//       model.trainable_weights());
//   auto [values, grads] = step(data.x);  // values: the returned tensors; grads: per variable
//
// fn is traced once per list of input shapes (graph::placeholder inputs) into a
// graph::Function with its own executor; later calls with the same shapes only run it,
// writing into buffers kept in the object (no per-call allocation). The first returned
// tensor must have one element. It runs in training mode (dropout active, as a training
// step's forward) unless told otherwise.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

#include "core/tensor.hpp"
#include "graph/symbolic.hpp"

namespace plexus {

using SymbolicFunction = std::function<SymbolicTensors(const SymbolicTensors&)>;

class ValueAndGrad {
 public:
  // What a call returns: views of the object's buffers, valid until its next call.
  struct Result {
    const std::vector<Tensor>& values;
    const std::vector<std::optional<Tensor>>& grads;  // std::nullopt: not reached (Keras's None)
  };
  ValueAndGrad(SymbolicFunction fn, std::vector<Variable> variables, bool training = true);
  Result operator()(const std::vector<Tensor>& inputs);
  // The same on tensors held elsewhere (a step's data.x and data.y), without copying them.
  Result call(std::span<const Tensor* const> inputs);
  // How many times fn has been traced (one per distinct list of input shapes).
  std::size_t traces() const;

 private:
  struct Impl;  // optim/value_and_grad.cpp
  std::shared_ptr<Impl> impl_;
};

template <typename F>
requires(std::is_invocable_r_v<SymbolicTensors, F, const SymbolicTensors&>) ValueAndGrad
    value_and_grad(F&& fn, std::vector<Variable> variables, bool training = true) {
  return ValueAndGrad(SymbolicFunction(std::forward<F>(fn)), std::move(variables), training);
}

}  // namespace plexus
