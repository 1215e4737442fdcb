// Preprocessing layers: Normalization (Keras 3's keras.layers.Normalization).
//
//   auto norm = px::layers::Normalization();      // axis -1: one mean/variance per feature
//   norm->adapt(x_train);                         // learns them from the data
//   auto h = norm(px::Input({13}));               // (x - mean) / max(sqrt(variance), 1e-7)
#pragma once

#include <optional>
#include <string>

#include "core/keywords.hpp"
#include "graph/layer.hpp"

namespace plexus::layers {

struct NormalizationOptions {
  Dim axis = -1;                 // the axis kept (one statistic per index along it)
  std::optional<Tensor> mean{};  // given mean and variance (then no adapt, no weights)
  std::optional<Tensor> variance{};
  bool invert = false;  // de-normalize: mean + x * max(sqrt(variance), 1e-7)
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// Normalization: [batch, ...] -> [batch, ...]; y = (x - mean) / max(sqrt(variance), eps)
// with eps = 1e-7 (keras.backend.epsilon()), mean and variance broadcast along every axis
// but `axis`. Without given mean/variance its weights are, in Keras 3's names and order,
// mean (d), variance (d) and count () — all non-trainable; d = input_shape[axis]. adapt()
// sets mean and the population variance (NumPy's np.var) over every other axis; count
// stays 0 as in Keras 3's array path ("for backwards compatibility").
class NormalizationLayer : public Layer {
 public:
  explicit NormalizationLayer(NormalizationOptions options);
  std::string class_name() const override { return "Normalization"; }
  void build(const Shape& input_shape) override;
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }
  // data: (samples, ...) with the kept axis's size matching the built layer (it builds the
  // layer when not yet built). px::Error on a shape mismatch, empty data or NaN/Inf.
  void adapt(const Tensor& data);
  const NormalizationOptions& options() const { return options_; }
  // {"axis" (a list, as Keras 3 stores it), "invert", "mean", "variance"}: mean and
  // variance are the given values as nested lists, or null when the layer adapts (its
  // statistics are then weights, saved with the weights).
  Config get_config() const override;
  static LayerRef from_config(const Config& config);

 private:
  NormalizationOptions options_;
  Shape built_shape_;
  std::size_t keep_ = 0;  // the kept axis, resolved at build
  SymbolicTensor mean_, variance_;
};

LayerHandle<NormalizationLayer> Normalization(NormalizationOptions options = {});
PLEXUS_KEYWORD_FACTORY0(LayerHandle<NormalizationLayer>, Normalization, NormalizationOptions)

}  // namespace plexus::layers
