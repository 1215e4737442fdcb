// Attention layers with Keras 3's semantics, names, defaults and weight layouts:
//   auto x = px::Input({-1, 32});                                   // [N, T, 32]
//   auto mha = px::layers::MultiHeadAttention(4, 8);                // num_heads, key_dim
//   auto y = mha({x, x});                                           // self-attention [N, T, 32]
//   auto outs = mha({q, v}, {.use_causal_mask = true, .return_attention_scores = true});
//   auto z = px::layers::Attention()({q, v});                       // Luong (dot product)
//   auto w = px::layers::AdditiveAttention()({q, v, k});            // Bahdanau
// Inputs are [query, value] or [query, value, key] (key defaults to value), each
// [batch, steps, features] (MultiHeadAttention: or of higher rank with attention_axes,
// e.g. [batch, H, W, C] attended over H and W jointly). Masks carried by the inputs
// (Embedding(mask_zero), Masking; layers/masking.hpp) are honoured as Keras does, and the query's
// mask is carried on. Call options (AttentionCallOptions): attention_mask (MultiHeadAttention
// only), use_causal_mask, return_attention_scores (a second output). Dropout acts in training.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/constraints.hpp"
#include "core/initializers.hpp"
#include "core/keywords.hpp"
#include "graph/layer.hpp"
#include "graph/regularizers.hpp"
#include "layers/recurrent.hpp"  // kw::dropout

namespace plexus::layers {

// Keras's call arguments of an attention layer beyond its tensors.
struct AttentionCallOptions {
  // MultiHeadAttention: [batch, T, S] (or [T, S], or with 1s that broadcast), 1 = the
  // query step may attend to the key step; combined (AND) with the inputs' masks.
  SymbolicTensor attention_mask{};
  bool use_causal_mask = false;          // step i attends to steps j <= i only
  bool return_attention_scores = false;  // outputs: the result, then the attention scores
};

// What the attention layers share: the call with options, and a record of each call's
// options for saving (Keras writes them as the call's kwargs).
class AttentionLayerBase : public Layer {
 public:
  using CallOptions = AttentionCallOptions;
  using Layer::Layer;
  // layer({query, value[, key]}, options) (LayerHandle forwards layer(xs, options) here).
  SymbolicTensors call_with(const std::vector<SymbolicTensor>& xs, const CallOptions& options);
  // The options of the call whose first output is `output` (defaults for a plain call).
  // The attention mask, when given, is the call's last input.
  struct CallRecord {
    bool attention_mask = false, use_causal_mask = false, return_attention_scores = false;
  };
  CallRecord call_record(const Node* output) const;

 protected:
  // The options of the call under way (set by call_with around Layer::operator()).
  const CallRecord& current() const { return current_; }

 private:
  CallRecord current_;
  std::map<const Node*, std::pair<std::weak_ptr<Node>, CallRecord>> records_;
};

// --- MultiHeadAttention ------------------------------------------------------------------

// Fields in the order of Keras's MultiHeadAttention constructor after (num_heads, key_dim).
struct MultiHeadAttentionOptions {
  std::optional<Dim> value_dim = std::nullopt;  // default: key_dim
  double dropout = 0.0;                         // on the attention probabilities
  bool use_bias = true;
  std::optional<std::vector<Dim>> output_shape = std::nullopt;  // default: the query's features
  // Keras's: the axes attended over jointly, for inputs of rank >= 3. None = all axes but
  // the batch and the features; negative axes count from the input's end (-2 = the last
  // axis before the features). The batch or feature axis, an axis out of range or named
  // twice is a px::Error at build. Normalised at build (non-negative, in the given order).
  std::optional<std::vector<Dim>> attention_axes = std::nullopt;
  initializers::InitializerRef kernel_initializer = "glorot_uniform";
  initializers::InitializerRef bias_initializer = "zeros";
  regularizers::RegularizerRef kernel_regularizer = nullptr;
  regularizers::RegularizerRef bias_regularizer = nullptr;
  regularizers::RegularizerRef activity_regularizer = nullptr;  // refused (as Dense)
  constraints::ConstraintRef kernel_constraint = nullptr;
  constraints::ConstraintRef bias_constraint = nullptr;
  std::optional<std::int64_t> seed = std::nullopt;  // kept in the config
  std::string name{};
};
PLEXUS_CONFIG_FIELDS(MultiHeadAttentionOptions, value_dim, dropout, use_bias, output_shape,
                     attention_axes, kernel_initializer, bias_initializer, kernel_regularizer,
                     bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint,
                     seed)

// MultiHeadAttention (Vaswani et al.): query [N, T, Dq], value [N, S, Dv], key [N, S, Dk]
// -> [N, T, Dq] (or [N, T, output_shape...]); scores [N, heads, T, S].
// Inputs of rank >= 4 with attention_axes (Keras's einsums): query [N, H, W, Dq] with axes
// (1, 2) -> [N, H, W, Dq], scores [N, heads, H, W, H2, W2]; with (2,) H is a batch-like axis,
// scores [N, H, heads, W, W2]. Computed by moving the other axes next to the batch and
// flattening the attention axes around the same kernel.
//   q = query·Wq + bq, k = key·Wk + bk, v = value·Wv + bv (per head),
//   p = softmax(q k^T / sqrt(key_dim)) masked, o = p v, out = o·Wo + bo.
// Sub-layers (Keras's EinsumDense, weight paths "mha/query/kernel"):
//   query (Dq, heads, key_dim) + (heads, key_dim), key (Dk, heads, key_dim) + (heads, key_dim),
//   value (Dv, heads, value_dim) + (heads, value_dim),
//   attention_output (heads, value_dim, out...) + (out...).
// The attention itself is one fused kernel (kernels::attention, BLAS per head).
class MultiHeadAttentionLayer : public AttentionLayerBase {
 public:
  MultiHeadAttentionLayer(Dim num_heads, Dim key_dim, MultiHeadAttentionOptions options);
  std::string class_name() const override { return "MultiHeadAttention"; }
  void build_list(const std::vector<Shape>& input_shapes) override;
  std::vector<SymbolicTensor> call_list(const std::vector<SymbolicTensor>& xs) override;
  Dim num_heads() const { return num_heads_; }
  Dim key_dim() const { return key_dim_; }
  Dim value_dim() const { return *options_.value_dim; }
  const MultiHeadAttentionOptions& options() const { return options_; }
  // The projections (built on the first call): Keras's _query_dense, _key_dense, ...
  const LayerRef& query_dense() const { return query_; }
  const LayerRef& key_dense() const { return key_; }
  const LayerRef& value_dense() const { return value_; }
  const LayerRef& output_dense() const { return output_; }
  // Whether the layer was built with a key input (Keras's build config has a key_shape).
  bool built_with_key() const { return built_with_key_; }
  Config get_config() const override;  // name, trainable, dtype, num_heads, key_dim, options
  static LayerRef from_config(const Config& config);

 private:
  std::vector<SymbolicTensor> call_axes(const SymbolicTensor& query, const SymbolicTensor& value,
                                        const SymbolicTensor& key, bool with_key,
                                        const CallRecord& o, const std::vector<SymbolicTensor>& xs);
  SymbolicTensor kernel_mask(SymbolicTensor mask, const Shape& scores,
                             const SymbolicTensor& query) const;

  Dim num_heads_, key_dim_;
  MultiHeadAttentionOptions options_;
  LayerRef query_, key_, value_, output_;
  bool built_with_key_ = false;
  // Set at build: the attention axes (normalised, in the given order) and the other axes
  // between the batch and the features (ascending).
  std::vector<std::size_t> axes_, others_;
};

LayerHandle<MultiHeadAttentionLayer> MultiHeadAttention(Dim num_heads, Dim key_dim,
                                                        MultiHeadAttentionOptions options = {});
PLEXUS_KEYWORD_FACTORY(LayerHandle<MultiHeadAttentionLayer>, MultiHeadAttention,
                       MultiHeadAttentionOptions, (Dim, num_heads), (Dim, key_dim))

// --- Attention and AdditiveAttention --------------------------------------------------------

// Fields in the order of Keras's Attention constructor.
struct AttentionOptions {
  bool use_scale = false;
  std::string score_mode = "dot";  // "dot" or "concat"
  double dropout = 0.0;
  std::optional<std::int64_t> seed = std::nullopt;  // accepted; not in Keras's config
  std::string name{};
};
PLEXUS_CONFIG_FIELDS(AttentionOptions, use_scale, score_mode, dropout)

struct AdditiveAttentionOptions {
  bool use_scale = true;
  double dropout = 0.0;
  std::string name{};
};
PLEXUS_CONFIG_FIELDS(AdditiveAttentionOptions, use_scale, dropout)

// Attention (Luong) and AdditiveAttention (Bahdanau): query [N, T, D], value [N, S, Dv],
// key [N, S, D] -> [N, T, Dv]; scores [N, T, S].
//   dot:      scores = q k^T (* scale, a scalar weight "scale" = 1 with use_scale)
//   concat:   scores = concat_score_weight * sum(tanh(scale * (q_i + k_j)))  (scalars)
//   additive: scores = sum(scale * tanh(q_i + k_j)), scale (D) glorot_uniform with use_scale
//   p = softmax(scores - 1e9 where the value mask / causal mask forbid), out = p v, then
//   zero where the query is masked.
class BaseAttentionLayer : public AttentionLayerBase {
 public:
  BaseAttentionLayer(bool additive, bool use_scale, std::string score_mode, double dropout,
                     std::string_view name);
  std::string class_name() const override { return additive_ ? "AdditiveAttention" : "Attention"; }
  void build_list(const std::vector<Shape>& input_shapes) override;
  std::vector<SymbolicTensor> call_list(const std::vector<SymbolicTensor>& xs) override;
  Config get_config() const override;
  static LayerRef from_config(const Config& config, bool additive);

 private:
  bool additive_, use_scale_;
  std::string score_mode_;
  double dropout_;
  SymbolicTensor scale_, concat_score_weight_;
};

LayerHandle<BaseAttentionLayer> Attention(AttentionOptions options = {});
LayerHandle<BaseAttentionLayer> AdditiveAttention(AdditiveAttentionOptions options = {});
PLEXUS_KEYWORD_FACTORY0(LayerHandle<BaseAttentionLayer>, Attention, AttentionOptions)
PLEXUS_KEYWORD_FACTORY0(LayerHandle<BaseAttentionLayer>, AdditiveAttention,
                        AdditiveAttentionOptions)

}  // namespace plexus::layers

PLEXUS_KEYWORD(value_dim, std::optional<std::ptrdiff_t>)
PLEXUS_KEYWORD(output_shape, std::optional<std::vector<std::ptrdiff_t>>)
PLEXUS_KEYWORD(attention_axes, std::optional<std::vector<std::ptrdiff_t>>)
PLEXUS_KEYWORD(use_scale, bool)
PLEXUS_KEYWORD(score_mode, std::string)
PLEXUS_KEYWORD(attention_mask, plexus::SymbolicTensor)
PLEXUS_KEYWORD(use_causal_mask, bool)
PLEXUS_KEYWORD(return_attention_scores, bool)
