// px::ops — primitive ops on symbolic tensors, for composing layers (custom ones too).
// Each appends one node whose kernel (core/kernels.hpp) carries forward and VJP, so
// anything written with these is differentiable. Called outside any layer (directly in
// Functional-API code), an op becomes a layer of its own in the model, as in Keras 3.
#pragma once

#include <string>
#include <utility>
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

// ---- gradients ------------------------------------------------------------------------
// Symbolic gradients of `target` with respect to each source (any tensors of its graph:
// inputs, intermediate tensors, or variables): d sum(target) / d source, as ordinary ops,
// so they can be evaluated in any Function, trained through (a gradient penalty) and
// differentiated again (d2u/dx2). A source the target does not depend on gets zeros.
// Kernels without a symbolic VJP (conv, pooling, recurrent, attention) give first-order
// gradients only: differentiating those again throws px::Error naming the kernel.
std::vector<SymbolicTensor> grad(const SymbolicTensor& target,
                                 const std::vector<SymbolicTensor>& sources);
std::vector<SymbolicTensor> grad(const SymbolicTensor& target,
                                 const std::vector<Variable>& variables);

// ---- keras.ops (graph/ops_more.cpp): Keras 3's names and semantics ---------------------
// Shapes and types. shape(): symbolic, -1 for the unknown batch. dtype(): "float32" etc.
Shape shape(const SymbolicTensor& x);
Dim ndim(const SymbolicTensor& x);
Dim size(const SymbolicTensor& x);  // -1 when a dimension is unknown
std::string dtype(const SymbolicTensor& x);
// cast: float dtypes keep x; integer dtypes truncate toward zero; "bool" gives x != 0.
SymbolicTensor cast(const SymbolicTensor& x, const std::string& dtype);
SymbolicTensor convert_to_tensor(const Tensor& value);
bool is_tensor(const SymbolicTensor& x);
SymbolicTensor copy(const SymbolicTensor& x);
SymbolicTensor stop_gradient(const SymbolicTensor& x);
SymbolicTensor affine(const SymbolicTensor& x, float scale, float shift);

// Creation (constants; no gradient).
SymbolicTensor zeros(const Shape& shape);
SymbolicTensor ones(const Shape& shape);
SymbolicTensor full(const Shape& shape, float value);
SymbolicTensor empty(const Shape& shape);
SymbolicTensor zeros_like(const SymbolicTensor& x);
SymbolicTensor ones_like(const SymbolicTensor& x);
SymbolicTensor full_like(const SymbolicTensor& x, float value);
SymbolicTensor empty_like(const SymbolicTensor& x);
SymbolicTensor arange(float start, float stop, float step = 1.0f);
SymbolicTensor arange(float stop);
SymbolicTensor linspace(float start, float stop, Dim num = 50, bool endpoint = true);
SymbolicTensor logspace(float start, float stop, Dim num = 50, bool endpoint = true,
                        float base = 10.0f);
SymbolicTensor geomspace(float start, float stop, Dim num = 50, bool endpoint = true);
SymbolicTensor eye(Dim n, Dim m = -1, Dim k = 0);
SymbolicTensor identity(Dim n);
SymbolicTensor tri(Dim n, Dim m = -1, Dim k = 0);
// meshgrid(xs..., indexing "xy" or "ij") of 1-D constants.
std::vector<SymbolicTensor> meshgrid(const std::vector<Tensor>& xs,
                                     const std::string& indexing = "xy");

// Element-wise, unary.
SymbolicTensor absolute(const SymbolicTensor& x);
SymbolicTensor fabs(const SymbolicTensor& x);
SymbolicTensor sin(const SymbolicTensor& x);
SymbolicTensor cos(const SymbolicTensor& x);
SymbolicTensor tan(const SymbolicTensor& x);
SymbolicTensor arcsin(const SymbolicTensor& x);
SymbolicTensor arccos(const SymbolicTensor& x);
SymbolicTensor arctan(const SymbolicTensor& x);
SymbolicTensor sinh(const SymbolicTensor& x);
SymbolicTensor cosh(const SymbolicTensor& x);
SymbolicTensor arcsinh(const SymbolicTensor& x);
SymbolicTensor arccosh(const SymbolicTensor& x);
SymbolicTensor arctanh(const SymbolicTensor& x);
SymbolicTensor erf(const SymbolicTensor& x);
SymbolicTensor erfc(const SymbolicTensor& x);
SymbolicTensor log1p(const SymbolicTensor& x);
SymbolicTensor expm1(const SymbolicTensor& x);
SymbolicTensor log2(const SymbolicTensor& x);
SymbolicTensor log10(const SymbolicTensor& x);
SymbolicTensor exp2(const SymbolicTensor& x);
SymbolicTensor reciprocal(const SymbolicTensor& x);
SymbolicTensor rsqrt(const SymbolicTensor& x);
SymbolicTensor cbrt(const SymbolicTensor& x);
SymbolicTensor sign(const SymbolicTensor& x);
SymbolicTensor floor(const SymbolicTensor& x);
SymbolicTensor ceil(const SymbolicTensor& x);
SymbolicTensor round(const SymbolicTensor& x);  // half to even, as NumPy
SymbolicTensor trunc(const SymbolicTensor& x);
SymbolicTensor isnan(const SymbolicTensor& x);
SymbolicTensor isinf(const SymbolicTensor& x);
SymbolicTensor isfinite(const SymbolicTensor& x);
SymbolicTensor isposinf(const SymbolicTensor& x);
SymbolicTensor isneginf(const SymbolicTensor& x);
SymbolicTensor signbit(const SymbolicTensor& x);
SymbolicTensor nan_to_num(const SymbolicTensor& x, float nan = 0.0f, float posinf = 3.4028235e38f,
                          float neginf = -3.4028235e38f);
SymbolicTensor deg2rad(const SymbolicTensor& x);
SymbolicTensor rad2deg(const SymbolicTensor& x);
SymbolicTensor sinc(const SymbolicTensor& x);

// Element-wise, binary (NumPy broadcasting; comparisons and logic give 1 / 0).
SymbolicTensor true_divide(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor power(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor floor_divide(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor mod(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor arctan2(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor hypot(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor logaddexp(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor logaddexp2(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor divide_no_nan(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor fmax(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor fmin(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor heaviside(const SymbolicTensor& x, const SymbolicTensor& h0);
SymbolicTensor equal(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor not_equal(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor greater(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor greater_equal(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor less(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor less_equal(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor logical_and(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor logical_or(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor logical_xor(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor logical_not(const SymbolicTensor& x);
SymbolicTensor isclose(const SymbolicTensor& a, const SymbolicTensor& b, float rtol = 1e-5f,
                       float atol = 1e-8f);
// select(conditions, choices, default): the first choice whose condition holds.
SymbolicTensor select(const std::vector<SymbolicTensor>& conditions,
                      const std::vector<SymbolicTensor>& choices, float default_value = 0.0f);

// Activations (keras.ops.nn).
SymbolicTensor silu(const SymbolicTensor& x);
SymbolicTensor relu6(const SymbolicTensor& x);
SymbolicTensor celu(const SymbolicTensor& x, float alpha = 1.0f);
SymbolicTensor glu(const SymbolicTensor& x, Dim axis = -1);
SymbolicTensor hard_silu(const SymbolicTensor& x);
SymbolicTensor hard_swish(const SymbolicTensor& x);
SymbolicTensor hard_tanh(const SymbolicTensor& x);
SymbolicTensor hard_shrink(const SymbolicTensor& x, float threshold = 0.5f);
SymbolicTensor soft_shrink(const SymbolicTensor& x, float threshold = 0.5f);
SymbolicTensor tanh_shrink(const SymbolicTensor& x);
SymbolicTensor log_sigmoid(const SymbolicTensor& x);
SymbolicTensor softsign(const SymbolicTensor& x);
SymbolicTensor squareplus(const SymbolicTensor& x, float b = 4.0f);
SymbolicTensor sparse_plus(const SymbolicTensor& x);
SymbolicTensor sparse_sigmoid(const SymbolicTensor& x);
SymbolicTensor threshold(const SymbolicTensor& x, float threshold, float default_value);
SymbolicTensor normalize(const SymbolicTensor& x, Dim axis = -1, float order = 2.0f,
                         float epsilon = 1e-12f);

// Reductions (axes empty = all).
SymbolicTensor amax(const SymbolicTensor& x, std::vector<Dim> axes = {}, bool keepdims = false);
SymbolicTensor min(const SymbolicTensor& x, std::vector<Dim> axes = {}, bool keepdims = false);
SymbolicTensor amin(const SymbolicTensor& x, std::vector<Dim> axes = {}, bool keepdims = false);
SymbolicTensor prod(const SymbolicTensor& x, std::vector<Dim> axes = {}, bool keepdims = false);
SymbolicTensor var(const SymbolicTensor& x, std::vector<Dim> axes = {}, bool keepdims = false);
SymbolicTensor std(const SymbolicTensor& x, std::vector<Dim> axes = {}, bool keepdims = false);
SymbolicTensor ptp(const SymbolicTensor& x, std::vector<Dim> axes = {}, bool keepdims = false);
SymbolicTensor logsumexp(const SymbolicTensor& x, std::vector<Dim> axes = {},
                         bool keepdims = false);
SymbolicTensor any(const SymbolicTensor& x, std::vector<Dim> axes = {}, bool keepdims = false);
SymbolicTensor all(const SymbolicTensor& x, std::vector<Dim> axes = {}, bool keepdims = false);
SymbolicTensor count_nonzero(const SymbolicTensor& x, std::vector<Dim> axes = {});
SymbolicTensor average(const SymbolicTensor& x, std::vector<Dim> axes = {},
                       const SymbolicTensor& weights = {});
// norm: ord 2 (default; Frobenius over two axes), 1, inf (the max), any p >= 1 for vectors.
SymbolicTensor norm(const SymbolicTensor& x, float ord = 2.0f, std::vector<Dim> axes = {},
                    bool keepdims = false);
std::pair<SymbolicTensor, SymbolicTensor> moments(const SymbolicTensor& x, std::vector<Dim> axes,
                                                  bool keepdims = false);
SymbolicTensor argmax(const SymbolicTensor& x, Dim axis = -1, bool keepdims = false);
SymbolicTensor argmin(const SymbolicTensor& x, Dim axis = -1, bool keepdims = false);
SymbolicTensor cumsum(const SymbolicTensor& x, Dim axis = -1);
SymbolicTensor diff(const SymbolicTensor& x, Dim n = 1, Dim axis = -1);
SymbolicTensor trapezoid(const SymbolicTensor& y, float dx = 1.0f, Dim axis = -1);

// Sorting and selection along the last axis.
// top_k: {values, indices}, largest first (ties: lower index first).
std::vector<SymbolicTensor> top_k(const SymbolicTensor& x, Dim k, bool sorted = true);
SymbolicTensor sort(const SymbolicTensor& x, Dim axis = -1);
SymbolicTensor argsort(const SymbolicTensor& x, Dim axis = -1);
SymbolicTensor in_top_k(const SymbolicTensor& targets, const SymbolicTensor& predictions, Dim k);
SymbolicTensor one_hot(const SymbolicTensor& x, Dim num_classes, Dim axis = -1);
SymbolicTensor multi_hot(const SymbolicTensor& x, Dim num_classes, Dim axis = -1);
// take(x, indices, axis): axis None (std::nullopt-like: kNoAxis) takes from the flattened x.
inline constexpr Dim kNoAxis = -1000000;
SymbolicTensor take(const SymbolicTensor& x, const SymbolicTensor& indices, Dim axis = kNoAxis);

// Shape manipulation.
SymbolicTensor broadcast_to(const SymbolicTensor& x, const Shape& shape);
SymbolicTensor squeeze(const SymbolicTensor& x, std::vector<Dim> axes = {});
SymbolicTensor ravel(const SymbolicTensor& x);
SymbolicTensor moveaxis(const SymbolicTensor& x, Dim source, Dim destination);
SymbolicTensor swapaxes(const SymbolicTensor& x, Dim axis1, Dim axis2);
SymbolicTensor flip(const SymbolicTensor& x, std::vector<Dim> axes = {});
SymbolicTensor fliplr(const SymbolicTensor& x);
SymbolicTensor flipud(const SymbolicTensor& x);
SymbolicTensor rot90(const SymbolicTensor& x, int k = 1, std::pair<Dim, Dim> axes = {0, 1});
SymbolicTensor roll(const SymbolicTensor& x, Dim shift, Dim axis = kNoAxis);
SymbolicTensor stack(const std::vector<SymbolicTensor>& xs, Dim axis = 0);
std::vector<SymbolicTensor> unstack(const SymbolicTensor& x, Dim axis = 0);
SymbolicTensor hstack(const std::vector<SymbolicTensor>& xs);
SymbolicTensor vstack(const std::vector<SymbolicTensor>& xs);
SymbolicTensor dstack(const std::vector<SymbolicTensor>& xs);
SymbolicTensor append(const SymbolicTensor& a, const SymbolicTensor& b, Dim axis = kNoAxis);
// array_split: `sections` near-equal parts (the first ones one longer), as NumPy.
std::vector<SymbolicTensor> array_split(const SymbolicTensor& x, Dim sections, Dim axis = 0);
std::vector<SymbolicTensor> hsplit(const SymbolicTensor& x, Dim sections);
std::vector<SymbolicTensor> vsplit(const SymbolicTensor& x, Dim sections);
std::vector<SymbolicTensor> dsplit(const SymbolicTensor& x, Dim sections);
SymbolicTensor tile(const SymbolicTensor& x, std::vector<Dim> repeats);
SymbolicTensor repeat(const SymbolicTensor& x, Dim repeats, Dim axis = kNoAxis);
// Keras slice(inputs, start_indices, shape) and slice_update(inputs, start_indices, updates).
SymbolicTensor slice(const SymbolicTensor& x, const std::vector<Dim>& start_indices,
                     const Shape& shape);
SymbolicTensor slice_update(const SymbolicTensor& x, const std::vector<Dim>& start_indices,
                            const SymbolicTensor& updates);
// scatter(indices [N, r], values [N, ...], shape): zeros of `shape` with values added at
// the indexed entries; scatter_update writes them into x instead.
SymbolicTensor scatter(const SymbolicTensor& indices, const SymbolicTensor& values,
                       const Shape& shape);
SymbolicTensor scatter_update(const SymbolicTensor& x, const SymbolicTensor& indices,
                              const SymbolicTensor& updates);
SymbolicTensor tril(const SymbolicTensor& x, Dim k = 0);
SymbolicTensor triu(const SymbolicTensor& x, Dim k = 0);
SymbolicTensor diagonal(const SymbolicTensor& x, Dim offset = 0);
SymbolicTensor diag(const SymbolicTensor& x, Dim k = 0);
SymbolicTensor diagflat(const SymbolicTensor& x);
SymbolicTensor trace(const SymbolicTensor& x, Dim offset = 0);

// Linear algebra.
SymbolicTensor dot(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor vdot(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor inner(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor outer(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor tensordot(const SymbolicTensor& a, const SymbolicTensor& b, Dim axes = 2);
SymbolicTensor kron(const SymbolicTensor& a, const SymbolicTensor& b);
SymbolicTensor cross(const SymbolicTensor& a, const SymbolicTensor& b);
// einsum("ij,jk->ik", a, b): explicit specs, one or two operands, no ellipsis.
SymbolicTensor einsum(const std::string& spec, const SymbolicTensor& a);
SymbolicTensor einsum(const std::string& spec, const SymbolicTensor& a, const SymbolicTensor& b);

// Losses and normalisation (keras.ops.nn), per sample.
SymbolicTensor binary_crossentropy(const SymbolicTensor& target, const SymbolicTensor& output,
                                   bool from_logits = false);
SymbolicTensor categorical_crossentropy(const SymbolicTensor& target, const SymbolicTensor& output,
                                        bool from_logits = false, Dim axis = -1);
SymbolicTensor sparse_categorical_crossentropy(const SymbolicTensor& target,
                                               const SymbolicTensor& output,
                                               bool from_logits = false, Dim axis = -1);
SymbolicTensor layer_normalization(const SymbolicTensor& x, const SymbolicTensor& gamma = {},
                                   const SymbolicTensor& beta = {}, Dim axis = -1,
                                   float epsilon = 1e-3f);
SymbolicTensor rms_normalization(const SymbolicTensor& x, const SymbolicTensor& scale = {},
                                 Dim axis = -1, float epsilon = 1e-6f);
SymbolicTensor batch_normalization(const SymbolicTensor& x, const SymbolicTensor& mean,
                                   const SymbolicTensor& variance, Dim axis = -1,
                                   const SymbolicTensor& offset = {},
                                   const SymbolicTensor& scale = {}, float epsilon = 1e-3f);
SymbolicTensor psnr(const SymbolicTensor& x1, const SymbolicTensor& x2, float max_val);
// dot_product_attention(q [B, T, H, D], k [B, S, H, D], v [B, S, H, D]) -> [B, T, H, D].
SymbolicTensor dot_product_attention(const SymbolicTensor& query, const SymbolicTensor& key,
                                     const SymbolicTensor& value, float scale = 0.0f,
                                     bool is_causal = false);

// Convolution and pooling with keras.ops's arguments (channels_last).
SymbolicTensor depthwise_conv(const SymbolicTensor& x, const SymbolicTensor& kernel,
                              kernels::ConvConfig config = {});
SymbolicTensor separable_conv(const SymbolicTensor& x, const SymbolicTensor& depthwise_kernel,
                              const SymbolicTensor& pointwise_kernel,
                              kernels::ConvConfig config = {});
SymbolicTensor average_pool(const SymbolicTensor& x, kernels::PoolConfig config = {});

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
// Scalar arithmetic: 0.5f * x, 1.0f - x, x / 2, x + 1.
inline SymbolicTensor operator+(const SymbolicTensor& a, float s) { return ops::add(a, s); }
inline SymbolicTensor operator+(float s, const SymbolicTensor& a) { return ops::add(a, s); }
inline SymbolicTensor operator-(const SymbolicTensor& a, float s) { return ops::subtract(a, s); }
inline SymbolicTensor operator-(float s, const SymbolicTensor& a) { return ops::subtract(s, a); }
inline SymbolicTensor operator*(const SymbolicTensor& a, float s) { return ops::multiply(a, s); }
inline SymbolicTensor operator*(float s, const SymbolicTensor& a) { return ops::multiply(a, s); }
inline SymbolicTensor operator/(const SymbolicTensor& a, float s) { return ops::divide(a, s); }
inline SymbolicTensor operator/(float s, const SymbolicTensor& a) {
  return ops::multiply(ops::reciprocal(a), s);
}
}  // namespace plexus
