// The primitive ops of plexus: each factory returns a Kernel (core/kernel.hpp) whose
// forward and VJP are written side by side in core/kernels_<family>.cpp. Symbolic
// wrappers for building graphs live in graph/ops.hpp.
//
// Shapes follow NumPy: binary element-wise ops broadcast, and their VJPs sum the
// gradient back to each input's shape.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/kernel.hpp"

namespace plexus::kernels {

// --- linear algebra -------------------------------------------------------------
// [..., m, k] x [k, n] -> [..., m, n]  (leading dims of a are folded into rows), or
// [b, m, k] x [b, k, n] -> [b, m, n]. BLAS sgemm, transposes instead of copies.
KernelPtr matmul();

// --- binary element-wise, broadcasting ------------------------------------------
KernelPtr add();
KernelPtr subtract();
KernelPtr multiply();
KernelPtr divide();
KernelPtr pow();      // x ** y; d/dy uses log(x), defined for x > 0
KernelPtr maximum();  // gradient to the larger input (ties: first)
KernelPtr minimum();  // gradient to the smaller input (ties: first)
// where(condition, x, y): condition != 0 picks x; no gradient to the condition.
KernelPtr where();

// --- unary element-wise ---------------------------------------------------------
KernelPtr negative();
KernelPtr exp();
KernelPtr log();
KernelPtr sqrt();
KernelPtr square();
KernelPtr abs();
KernelPtr tanh();
KernelPtr sigmoid();
KernelPtr relu();
KernelPtr elu(float alpha = 1.0f);
KernelPtr selu();
KernelPtr leaky_relu(float negative_slope = 0.2f);  // Keras 3 default slope
KernelPtr softplus();
KernelPtr gelu();                    // exact: x * Phi(x) with erf
KernelPtr swish();                   // x * sigmoid(x), a.k.a. silu
KernelPtr hard_sigmoid();            // Keras 3: relu6(x + 3) / 6
KernelPtr clip(float lo, float hi);  // gradient passes where lo < x < hi
// x * scale + shift with constant scalars (cheap affine without constant nodes).
KernelPtr affine(float scale, float shift);

// --- reductions (axes may be negative; empty axes = all) ------------------------
KernelPtr sum(std::vector<Dim> axes = {}, bool keepdims = false);
KernelPtr mean(std::vector<Dim> axes = {}, bool keepdims = false);
KernelPtr max(std::vector<Dim> axes = {}, bool keepdims = false);  // grad to the (first) argmax

// --- shape manipulation -----------------------------------------------------------
// Target shape may hold one -1 (inferred) — the batch dimension when symbolic.
KernelPtr reshape(Shape target);
// reshape_like(lead, tail)(x, ref): x's data in the shape ref.shape[:lead] + tail, for
// shapes with several unknown leading axes (TimeDistributed's [N, T], masks); tail known.
// No gradient reaches ref.
KernelPtr reshape_like(std::size_t lead, Shape tail);
KernelPtr transpose(std::vector<std::size_t> perm = {});  // empty = reverse the axes
KernelPtr concatenate(Dim axis = -1);                     // any number of inputs
KernelPtr slice(Dim axis, Dim start, Dim stop);           // [start, stop) along axis
KernelPtr split(std::vector<Dim> sizes, Dim axis);        // several outputs: pieces along axis
// gather(x, indices) along axis: out shape x[:axis] + indices.shape + x[axis+1:];
// indices hold integer-valued floats; no gradient to indices.
KernelPtr gather(Dim axis = 0);
// take_along_axis(x, indices): x [..., n, ...], indices with x's shape but 1 at axis
// dropped -> picks one entry per position (sparse cross-entropy); no grad to indices.
KernelPtr take_along_axis(Dim axis = -1);

// --- normalised exponentials (stable for inputs like 1e4) --------------------------
KernelPtr softmax(Dim axis = -1);
KernelPtr log_softmax(Dim axis = -1);

// --- images: convolution, pooling, padding (kernels_conv.cpp, kernels_pool.cpp) ---------
// Images are [N, spatial..., C] (channels_last) or [N, C, spatial...] (channels_first),
// with 1 or 2 spatial axes. Per-axis lists may be empty (all 1) or hold one value for
// every axis. Padding "same" follows TF: ceil(in / stride) outputs, the odd padded element
// after.
struct ConvConfig {
  std::vector<Dim> strides{};
  std::vector<Dim> dilation{};
  std::string padding = "valid";  // "valid" or "same"
  Dim groups = 1;
  bool channels_first = false;
  // conv only: y = relu(conv(x, w) + bias), the activation fused into the product's output
  // pass and its VJP (Conv layers with activation "relu").
  bool relu = false;
};
// conv(x, w): w [k..., C / groups, F] (Keras's kernel layout) -> [N, out spatial..., F];
// valid: out = floor((in - (k - 1) * dilation - 1) / stride) + 1. im2col + sgemm.
KernelPtr conv(std::size_t spatial_rank, ConvConfig config = {});
// conv_transpose(x, w): w [k..., filters / groups, C_in] (Keras's Conv2DTranspose layout)
// -> [N, out spatial..., filters]: the transpose (input-gradient) of conv, with Keras's
// output lengths (in * stride for same, in * stride + max(k - stride, 0) for valid, or
// (in - 1) * stride + k - 2 * pad + output_padding when output_padding is given).
KernelPtr conv_transpose(std::size_t spatial_rank, ConvConfig config = {},
                         std::vector<Dim> output_padding = {});
struct PoolConfig {
  std::vector<Dim> pool_size{};  // empty = 2 on every axis
  std::vector<Dim> strides{};    // empty = pool_size (Keras)
  std::string padding = "valid";
  bool channels_first = false;
};
// Max / mean over each window; "same" windows ignore the padded taps (the mean counts
// only taps inside the input).
KernelPtr max_pool(std::size_t spatial_rank, PoolConfig config = {});
KernelPtr avg_pool(std::size_t spatial_rank, PoolConfig config = {});
// Zeros around x: one (before, after) pair per axis.
KernelPtr pad(std::vector<std::pair<Dim, Dim>> pads);

// --- sequences (kernels_rnn.cpp) ----------------------------------------------------------
// A whole recurrent layer as one kernel (Keras 3 layouts and gate orders):
//   inputs  x [N, T, F], kernel [F, k*U], recurrent_kernel [U, k*U], then bias if use_bias
//           ([k*U]; GRU: [2, 3*U], input and recurrent bias, reset_after=True), then the mask
//           [N, T] if masked (0 = skip the step), then the recurrent dropout mask [N, k*U]
//           if recurrent_dropout (gate g's block multiplies h_{t-1} in its recurrent term,
//           Keras 3's implementation 1; no gradient to it), then the input dropout mask
//           [N, k*F] if input_dropout (gate g's block multiplies x in its input projection,
//           implementation 1's per-gate input dropout; no gradient), then the initial states
//           [N, U] if initial_state (h; LSTM: h, c);
//   outputs the sequence [N, T, U] (return_sequences) or the last output [N, U], then the
//           final states [N, U] (h; LSTM: h, c).
// k = 1 (simple_rnn: h = act(x W + h R + b)), 4 (lstm: gates i, f, c, o), 3 (gru: z, r, h;
// h = z * h_prev + (1 - z) * act(x W_h + r * (h R_h + b_rh))). The kernel's name is the cell.
struct RecurrentConfig {
  std::string cell = "lstm";  // "simple_rnn", "lstm" or "gru"
  std::string activation = "tanh";
  std::string recurrent_activation = "sigmoid";  // LSTM and GRU gates
  bool use_bias = true;
  bool go_backwards = false;
  bool return_sequences = false;
  bool zero_output_for_mask = false;
  bool masked = false;
  bool recurrent_dropout = false;  // takes the [N, k*U] mask (dropout_mask makes it)
  bool input_dropout = false;      // takes the [N, k*F] mask
  bool initial_state = false;
  // GRU only: true (Keras 3) applies the reset gate after the recurrent matmul, with a
  // separate recurrent bias (bias [2, 3 * units]); false (Keras 2's default) resets the
  // state before it: hh = act(x W_h + b_h + (r * h) U_h), bias [3 * units].
  bool reset_after = true;
};
KernelPtr recurrent(RecurrentConfig config);
// reverse(x): x with the order of `axis` reversed (ops.flip; Bidirectional's backward
// sequence back in time order). Its VJP reverses the gradient.
KernelPtr reverse(Dim axis);

// --- attention (kernels_attention.cpp) --------------------------------------------------
// Multi-head scaled dot-product attention in one kernel (MultiHeadAttention's core):
//   inputs  q [N, T, H*K], k [N, S, H*K], v [N, S, H*Vd] (head h = columns [h*K, (h+1)*K),
//           Keras's (heads, dim) layout flattened), then the mask [Nm, Tm, Sm] if masked
//           (1 = may attend; each of Nm, Tm, Sm is 1 or N, T, S: broadcast);
//   outputs o [N, T, H*Vd] and the attention probabilities p [N, H, T, S] (before dropout).
// p = where(allowed, softmax(where(allowed, scale * q_h k_h^T, -1e9)), 0) (Keras 3's masked
// Softmax: a row with nothing allowed is zero); allowed = mask (and j <= i when causal).
// In training with dropout > 0, o_h = (p * m) v_h with an inverted-dropout mask m.
struct AttentionConfig {
  Dim heads = 1;
  float scale = 1.0f;
  bool masked = false;
  bool causal = false;
  float dropout = 0.0f;
};
KernelPtr attention(AttentionConfig config);
// masked_softmax(scores[, mask]): scores [N, T, S]; softmax over S of scores - 1e9 where not
// allowed (Keras's Attention / AdditiveAttention); mask as for attention; causal: j <= i.
KernelPtr masked_softmax(bool masked, bool causal);
// expand_dims(x): a new axis of length 1 at `axis` (of the output's rank; negative counts
// from the end): [N, T, D] with axis -2 -> [N, T, 1, D].
KernelPtr expand_dims(Dim axis);

// --- stochastic ---------------------------------------------------------------------
// Inverted dropout: in training zero with probability rate and scale by 1/(1-rate);
// identity otherwise. Draws from plexus::generator(). noise_shape (Keras): empty = one
// draw per element; else one entry per axis, 1 where the mask is shared along the axis
// (SpatialDropout2D: {-1, 1, 1, -1} drops whole channels), anything else = independent.
KernelPtr dropout(float rate, Shape noise_shape = {});
// dropout_mask(x): a mask [N, width] for x's batch N (x [N, ...], only its batch is read):
// in training each entry 1 / (1 - rate) with probability 1 - rate, else 0, drawn like
// dropout's; ones otherwise. No gradient (the recurrent layers' recurrent_dropout).
KernelPtr dropout_mask(float rate, Dim width);
// training_select(a, b): a in training, b otherwise (same shapes); the gradient goes to the
// chosen input. With `enabled` (shared, e.g. a layer's trainable flag) a is chosen only in
// training while *enabled is true.
KernelPtr training_select(std::shared_ptr<const bool> enabled = nullptr);

// --- gradient plumbing and keras.ops extras (kernels_grad.cpp) ---------------------------
// expand_like(x, ref): x broadcast to ref's shape. x has ref's rank with 1 where it is
// broadcast, or (with `axes`, the axes of ref that x lacks) ref's shape without `axes`,
// or fewer leading axes (NumPy). mean: divided by ref.size / x.size (the VJP of a mean).
// No gradient reaches ref. Its VJP is reduce_like.
KernelPtr expand_like(std::vector<Dim> axes = {}, bool mean = false);
// reduce_like(g, ref): g summed over the axes expand_like broadcasts, in ref's shape (the
// VJP of broadcasting); mean: divided by g.size / ref.size. Its VJP is expand_like.
KernelPtr reduce_like(std::vector<Dim> axes = {}, bool mean = false);
// fill_like(ref): ref's shape filled with `value` (zeros_like, ones_like, full_like).
KernelPtr fill_like(float value);
// stop_gradient(x): x, with no gradient.
KernelPtr stop_gradient();
// scatter_add_like(g, indices, ref): zeros of ref's shape with g's slices added at
// `indices` along axis (the VJP of gather; its own VJP is gather). No gradient to indices.
KernelPtr scatter_add_like(Dim axis = 0);
// take_along(x, indices): NumPy's take_along_axis: indices have x's rank (any length along
// axis, the other axes equal): out[.., j, ..] = x[.., indices[.., j, ..], ..].
KernelPtr take_along(Dim axis = -1);
// take_along_scatter(g, indices, ref): the VJP of take_along (zeros of ref's shape plus g
// at the picked entries); its own VJP is take_along.
KernelPtr take_along_scatter(Dim axis = -1);
// cumsum along axis (reverse: from the end); its VJP is the cumsum the other way.
KernelPtr cumsum(Dim axis, bool reverse = false);
// argmax / argmin along axis (the first on ties), as floats; no gradient.
KernelPtr arg_reduce(Dim axis, bool max, bool keepdims = false);
// top_k_indices(x): the indices of the k largest entries along the last axis, largest
// first (ties: lower index first); no gradient. ops::top_k/sort/argsort build on it.
KernelPtr top_k_indices(Dim k);
// einsum(spec): two or one operands, explicit "ij,jk->ik" form without ellipsis; its VJP
// is einsum again.
KernelPtr einsum(std::string spec);
// Comparison and logic (1 true, 0 false; no gradient), and further element-wise maps
// (kernels_elementwise.cpp).
KernelPtr equal();
KernelPtr not_equal();
KernelPtr greater();
KernelPtr greater_equal();
KernelPtr less();
KernelPtr less_equal();
KernelPtr logical_and();
KernelPtr logical_or();
KernelPtr logical_xor();
KernelPtr arctan2();
KernelPtr floor_divide();  // floor(a / b); no gradient
KernelPtr mod();           // a - b * floor(a / b) (Python's sign rule)
KernelPtr sin();
KernelPtr cos();
KernelPtr tan();
KernelPtr erf();
KernelPtr log1p();
KernelPtr expm1();
KernelPtr sinh();
KernelPtr cosh();
KernelPtr arctan();
KernelPtr arcsin();
KernelPtr arccos();
KernelPtr arcsinh();
KernelPtr arccosh();
KernelPtr arctanh();
KernelPtr softsign();
KernelPtr reciprocal();
// piecewise constant (no gradient): sign, floor, ceil, round (half to even), trunc,
// isnan, isinf, isfinite, logical_not.
KernelPtr sign();
KernelPtr floor();
KernelPtr ceil();
KernelPtr round();
KernelPtr trunc();
KernelPtr isnan();
KernelPtr isinf();
KernelPtr isfinite();
KernelPtr logical_not();

}  // namespace plexus::kernels
