// px::ops — primitive ops on symbolic tensors, for composing layers (custom ones too).
// Each appends one node whose kernel (core/kernels.hpp) carries forward and VJP, so
// anything written with these is differentiable. Called outside any layer (directly in
// Functional-API code), an op becomes a layer of its own in the model, as in Keras 3.
#pragma once

#include <vector>

#include "core/kernel.hpp"
#include "core/kernels.hpp"
#include "graph/symbolic.hpp"

namespace plexus::ops {

// Appends a node applying `kernel` to `inputs`; checks shapes symbolically and throws
// px::Error naming the op and the shapes on a mismatch.
SymbolicTensor apply(KernelPtr kernel, const std::vector<SymbolicTensor>& inputs);
// The same for a kernel with several outputs: one tensor per output, in order.
std::vector<SymbolicTensor> apply_all(KernelPtr kernel, const std::vector<SymbolicTensor>& inputs);
// A constant leaf (no gradient).
SymbolicTensor constant(Tensor value);
SymbolicTensor constant(float value);

SymbolicTensor matmul(const SymbolicTensor& a, const SymbolicTensor& b);

SymbolicTensor add(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor subtract(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor multiply(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor divide(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor pow(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor maximum(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor minimum(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor where(const SymbolicTensor& condition, const SymbolicTensor& a,
                     const SymbolicTensor& b);
// Scalar forms: x + s, x * s, ...
SymbolicTensor add(const SymbolicTensor& a, float s);
SymbolicTensor subtract(const SymbolicTensor& a, float s);
SymbolicTensor subtract(float s, const SymbolicTensor& a);
SymbolicTensor multiply(const SymbolicTensor& a, float s);
SymbolicTensor divide(const SymbolicTensor& a, float s);
SymbolicTensor pow(const SymbolicTensor& a, float s);

SymbolicTensor negative(const SymbolicTensor& x);
SymbolicTensor exp(const SymbolicTensor& x);
SymbolicTensor log(const SymbolicTensor& x);
SymbolicTensor sqrt(const SymbolicTensor& x);
SymbolicTensor square(const SymbolicTensor& x);
SymbolicTensor abs(const SymbolicTensor& x);
SymbolicTensor tanh(const SymbolicTensor& x);
SymbolicTensor sigmoid(const SymbolicTensor& x);
SymbolicTensor relu(const SymbolicTensor& x);
SymbolicTensor elu(const SymbolicTensor& x, float alpha = 1.0f);
SymbolicTensor selu(const SymbolicTensor& x);
SymbolicTensor leaky_relu(const SymbolicTensor& x, float negative_slope = 0.2f);
SymbolicTensor softplus(const SymbolicTensor& x);
SymbolicTensor gelu(const SymbolicTensor& x);
SymbolicTensor swish(const SymbolicTensor& x);
SymbolicTensor hard_sigmoid(const SymbolicTensor& x);
SymbolicTensor clip(const SymbolicTensor& x, float lo, float hi);

SymbolicTensor sum(const SymbolicTensor& x, std::vector<Dim> axes = {}, bool keepdims = false);
SymbolicTensor mean(const SymbolicTensor& x, std::vector<Dim> axes = {}, bool keepdims = false);
SymbolicTensor max(const SymbolicTensor& x, std::vector<Dim> axes = {}, bool keepdims = false);

SymbolicTensor reshape(const SymbolicTensor& x, Shape target);
SymbolicTensor transpose(const SymbolicTensor& x, std::vector<std::size_t> perm = {});
SymbolicTensor concatenate(const std::vector<SymbolicTensor>& xs, Dim axis = -1);
SymbolicTensor slice(const SymbolicTensor& x, Dim axis, Dim start, Dim stop);
// Splits x along `axis` into pieces of the given sizes (they must add up to the axis's
// length): several outputs from one op (Keras ops.split with explicit sections).
std::vector<SymbolicTensor> split(const SymbolicTensor& x, std::vector<Dim> sizes, Dim axis = -1);
SymbolicTensor gather(const SymbolicTensor& x, const SymbolicTensor& indices, Dim axis = 0);
SymbolicTensor take_along_axis(const SymbolicTensor& x, const SymbolicTensor& indices,
                               Dim axis = -1);

SymbolicTensor softmax(const SymbolicTensor& x, Dim axis = -1);
SymbolicTensor log_softmax(const SymbolicTensor& x, Dim axis = -1);
SymbolicTensor dropout(const SymbolicTensor& x, float rate, Shape noise_shape = {});
// [N, width] inverted-dropout mask for x's batch (ones outside training); no gradient.
SymbolicTensor dropout_mask(const SymbolicTensor& x, float rate, Dim width);
// a in training (and while *enabled, when given), b at inference; see kernels::training_select.
SymbolicTensor training_select(const SymbolicTensor& a, const SymbolicTensor& b,
                               std::shared_ptr<const bool> enabled = nullptr);

// Attention (core/kernels.hpp: attention, masked_softmax, expand_dims).
std::vector<SymbolicTensor> attention(const SymbolicTensor& q, const SymbolicTensor& k,
                                      const SymbolicTensor& v, kernels::AttentionConfig config,
                                      const SymbolicTensor& mask = {});
SymbolicTensor masked_softmax(const SymbolicTensor& scores, const SymbolicTensor& mask = {},
                              bool causal = false);
SymbolicTensor expand_dims(const SymbolicTensor& x, Dim axis);

// Images (core/kernels.hpp: ConvConfig, PoolConfig): x [N, spatial..., C] or channels_first.
// Spatial rank = x.rank() - 2. A bias [F] (undefined: none) is added inside the kernel.
SymbolicTensor conv(const SymbolicTensor& x, const SymbolicTensor& kernel,
                    kernels::ConvConfig config = {}, const SymbolicTensor& bias = {});
SymbolicTensor conv_transpose(const SymbolicTensor& x, const SymbolicTensor& kernel,
                              kernels::ConvConfig config = {}, std::vector<Dim> output_padding = {},
                              const SymbolicTensor& bias = {});
SymbolicTensor max_pool(const SymbolicTensor& x, kernels::PoolConfig config = {});
SymbolicTensor avg_pool(const SymbolicTensor& x, kernels::PoolConfig config = {});
SymbolicTensor pad(const SymbolicTensor& x, std::vector<std::pair<Dim, Dim>> pads);

}  // namespace plexus::ops

namespace plexus {
// Arithmetic operators on symbolic tensors, for readable custom layers.
inline SymbolicTensor operator+(const SymbolicTensor& a, const SymbolicTensor& b) {
  return ops::add(a, b);
}
inline SymbolicTensor operator-(const SymbolicTensor& a, const SymbolicTensor& b) {
  return ops::subtract(a, b);
}
inline SymbolicTensor operator*(const SymbolicTensor& a, const SymbolicTensor& b) {
  return ops::multiply(a, b);
}
inline SymbolicTensor operator/(const SymbolicTensor& a, const SymbolicTensor& b) {
  return ops::divide(a, b);
}
inline SymbolicTensor operator-(const SymbolicTensor& a) { return ops::negative(a); }
}  // namespace plexus
