// Embedding and Masking (Keras 3 names, defaults and weight layout):
//   auto ids = px::Input({-1});                                  // token ids, any length
//   auto e = px::layers::Embedding(10000, 64, {.mask_zero = true})(ids);   // [N, T, 64]
//   auto h = px::layers::LSTM(32)(e);                  // skips the steps whose id is 0
//   auto m = px::layers::Masking({.mask_value = 0.0})(px::Input({-1, 16}));
// Both attach a mask [N, T] to their output (layers/masking.hpp) that the recurrent layers
// consume.
#pragma once

#include <string>

#include "core/config.hpp"
#include "core/constraints.hpp"
#include "core/initializers.hpp"
#include "core/keywords.hpp"
#include "graph/layer.hpp"
#include "graph/regularizers.hpp"

namespace plexus::layers {

// Fields in the order of Keras's Embedding constructor after (input_dim, output_dim).
struct EmbeddingOptions {
  initializers::InitializerRef embeddings_initializer = "uniform";  // RandomUniform(-0.05, 0.05)
  regularizers::RegularizerRef embeddings_regularizer = nullptr;
  regularizers::RegularizerRef activity_regularizer = nullptr;  // kept in the config
  constraints::ConstraintRef embeddings_constraint = nullptr;
  bool mask_zero = false;
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};
PLEXUS_CONFIG_FIELDS(EmbeddingOptions, embeddings_initializer, embeddings_regularizer,
                     activity_regularizer, embeddings_constraint, mask_zero)

// Embedding: integer ids [N, ...] (held as floats) -> [N, ..., output_dim]; row id of the
// weight `embeddings` (input_dim, output_dim). An id outside [0, input_dim) is a px::Error
// when the model runs. With mask_zero, id 0 is padding: the output carries the mask ids != 0
// (input_dim must then leave room for id 0, as in Keras).
class EmbeddingLayer : public Layer {
 public:
  EmbeddingLayer(Dim input_dim, Dim output_dim, EmbeddingOptions options);
  std::string class_name() const override { return "Embedding"; }
  void build(const Shape& input_shape) override;
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  Dim input_dim() const { return input_dim_; }
  Dim output_dim() const { return output_dim_; }
  const EmbeddingOptions& options() const { return options_; }
  Config get_config() const override;  // + input_dim, output_dim, EmbeddingOptions
  static LayerRef from_config(const Config& config);

 private:
  Dim input_dim_, output_dim_;
  EmbeddingOptions options_;
  SymbolicTensor embeddings_;
};

LayerHandle<EmbeddingLayer> Embedding(Dim input_dim, Dim output_dim, EmbeddingOptions options = {});
PLEXUS_KEYWORD_FACTORY(LayerHandle<EmbeddingLayer>, Embedding, EmbeddingOptions, (Dim, input_dim),
                       (Dim, output_dim))

// --- Masking -------------------------------------------------------------------------------

struct MaskingOptions {
  double mask_value = 0.0;
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};
PLEXUS_CONFIG_FIELDS(MaskingOptions, mask_value)

// Masking: [N, T, ...] -> [N, T, ...]. A step whose features all equal mask_value is
// masked: its output is zeroed and the mask [N, T] (any feature != mask_value) is attached.
class MaskingLayer : public Layer {
 public:
  explicit MaskingLayer(MaskingOptions options);
  std::string class_name() const override { return "Masking"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }
  double mask_value() const { return options_.mask_value; }
  Config get_config() const override;  // + mask_value
  static LayerRef from_config(const Config& config);

 private:
  MaskingOptions options_;
};

LayerHandle<MaskingLayer> Masking(MaskingOptions options = {});
PLEXUS_KEYWORD_FACTORY0(LayerHandle<MaskingLayer>, Masking, MaskingOptions)

}  // namespace plexus::layers

PLEXUS_KEYWORD(embeddings_initializer, plexus::initializers::InitializerRef)
PLEXUS_KEYWORD(embeddings_regularizer, plexus::regularizers::RegularizerRef)
PLEXUS_KEYWORD(embeddings_constraint, plexus::constraints::ConstraintRef)
PLEXUS_KEYWORD(mask_zero, bool)
PLEXUS_KEYWORD(mask_value, double)
