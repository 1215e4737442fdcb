// Merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot.
// Each is called on a list of symbolic tensors and returns one:
//   auto merged = px::layers::Concatenate()({a, b});
//   auto sum = px::layers::Add()({x, y, z});
#pragma once

#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/keywords.hpp"
#include "graph/layer.hpp"

namespace plexus::layers {

struct MergeOptions {
  std::string name{};
};

// The element-wise merges: [batch, ...] x n -> [batch, ...]. Shapes after the batch must be
// equal or broadcast (a dimension of 1 stretches; a lower-rank input gains axes of size 1
// right after the batch), as in Keras's Merge base class.
class MergeLayer : public Layer {
 public:
  explicit MergeLayer(MergeOptions options) : Layer(options.name) {}
  void build_list(const std::vector<Shape>& input_shapes) override;
  std::vector<SymbolicTensor> call_list(const std::vector<SymbolicTensor>& xs) override;
  // The merged shape of a list of inputs; px::Error naming the layer and the shapes when
  // they are incompatible.
  Shape compute_output_shape(const std::vector<Shape>& input_shapes);
  // A list of one input.
  Shape compute_output_shape(const Shape& input_shape) override;
  // Merges have the base config only; from_config builds any of them by class name.
  template <typename T>
  static LayerRef from_config(const Config& config);

 protected:
  // Folds the inputs (already brought to one rank) into the result.
  virtual SymbolicTensor merge(const std::vector<SymbolicTensor>& xs) = 0;
  // Subtract accepts exactly 2 inputs; the others any number >= 1.
  virtual std::size_t required_inputs() const { return 0; }
};

// Add: x1 + x2 + ... + xn.
class AddLayer : public MergeLayer {
 public:
  using MergeLayer::MergeLayer;
  std::string class_name() const override { return "Add"; }

 protected:
  SymbolicTensor merge(const std::vector<SymbolicTensor>& xs) override;
};

// Subtract: x1 - x2 (exactly two inputs).
class SubtractLayer : public MergeLayer {
 public:
  using MergeLayer::MergeLayer;
  std::string class_name() const override { return "Subtract"; }

 protected:
  SymbolicTensor merge(const std::vector<SymbolicTensor>& xs) override;
  std::size_t required_inputs() const override { return 2; }
};

// Multiply: x1 * x2 * ... * xn (element-wise).
class MultiplyLayer : public MergeLayer {
 public:
  using MergeLayer::MergeLayer;
  std::string class_name() const override { return "Multiply"; }

 protected:
  SymbolicTensor merge(const std::vector<SymbolicTensor>& xs) override;
};

// Average: (x1 + ... + xn) / n.
class AverageLayer : public MergeLayer {
 public:
  using MergeLayer::MergeLayer;
  std::string class_name() const override { return "Average"; }

 protected:
  SymbolicTensor merge(const std::vector<SymbolicTensor>& xs) override;
};

// Maximum: element-wise max(x1, ..., xn).
class MaximumLayer : public MergeLayer {
 public:
  using MergeLayer::MergeLayer;
  std::string class_name() const override { return "Maximum"; }

 protected:
  SymbolicTensor merge(const std::vector<SymbolicTensor>& xs) override;
};

// Minimum: element-wise min(x1, ..., xn).
class MinimumLayer : public MergeLayer {
 public:
  using MergeLayer::MergeLayer;
  std::string class_name() const override { return "Minimum"; }

 protected:
  SymbolicTensor merge(const std::vector<SymbolicTensor>& xs) override;
};

// Concatenate: joins the inputs along `axis` (default -1, never the batch); every other
// dimension must match. [batch, a] x [batch, b] -> [batch, a + b].
class ConcatenateLayer : public Layer {
 public:
  ConcatenateLayer(Dim axis, MergeOptions options);
  std::string class_name() const override { return "Concatenate"; }
  void build_list(const std::vector<Shape>& input_shapes) override;
  std::vector<SymbolicTensor> call_list(const std::vector<SymbolicTensor>& xs) override;
  Shape compute_output_shape(const std::vector<Shape>& input_shapes);
  Shape compute_output_shape(const Shape& input_shape) override;
  Dim axis() const { return axis_; }
  Config get_config() const override;  // + axis
  static LayerRef from_config(const Config& config);

 private:
  Dim axis_;
};

struct DotOptions {
  bool normalize = false;  // L2-normalise each input along its axis first (cosine proximity)
  std::string name{};
};

// Dot(axes): the batched dot product of two inputs along one axis of each (Keras's
// batch_dot). axes: one axis for both inputs, or {axis of x1, axis of x2}; negative axes count
// from the end. [N, a, d] x [N, b, d] with axes 2 -> [N, a, b]; [N, d] x [N, d] -> [N, 1].
class DotLayer : public Layer {
 public:
  DotLayer(std::vector<Dim> axes, DotOptions options);
  std::string class_name() const override { return "Dot"; }
  void build_list(const std::vector<Shape>& input_shapes) override;
  std::vector<SymbolicTensor> call_list(const std::vector<SymbolicTensor>& xs) override;
  Shape compute_output_shape(const std::vector<Shape>& input_shapes);
  Shape compute_output_shape(const Shape& input_shape) override;
  const std::vector<Dim>& axes() const { return axes_; }
  Config get_config() const override;  // + axes (an int or a pair, as given), normalize
  static LayerRef from_config(const Config& config);

 private:
  std::pair<std::size_t, std::size_t> resolved(const std::vector<Shape>& shapes) const;
  std::vector<Dim> axes_;
  bool normalize_;
};

template <typename T>
LayerRef MergeLayer::from_config(const Config& config) {
  auto layer = make_layer<T>(MergeOptions{config::name_of(config)});
  layer->apply_base_config(config);
  return layer;
}

LayerHandle<AddLayer> Add(MergeOptions options = {});
LayerHandle<SubtractLayer> Subtract(MergeOptions options = {});
LayerHandle<MultiplyLayer> Multiply(MergeOptions options = {});
LayerHandle<AverageLayer> Average(MergeOptions options = {});
LayerHandle<MaximumLayer> Maximum(MergeOptions options = {});
LayerHandle<MinimumLayer> Minimum(MergeOptions options = {});
LayerHandle<ConcatenateLayer> Concatenate(Dim axis = -1, MergeOptions options = {});
LayerHandle<ConcatenateLayer> Concatenate(MergeOptions options);
LayerHandle<DotLayer> Dot(std::vector<Dim> axes, DotOptions options = {});
LayerHandle<DotLayer> Dot(Dim axes, DotOptions options = {});
// Keyword forms: px::layers::Add(kw::name = "sum"), Concatenate(1, kw::name = "joined").
PLEXUS_KEYWORD_FACTORY0(LayerHandle<AddLayer>, Add, MergeOptions)
PLEXUS_KEYWORD_FACTORY0(LayerHandle<SubtractLayer>, Subtract, MergeOptions)
PLEXUS_KEYWORD_FACTORY0(LayerHandle<MultiplyLayer>, Multiply, MergeOptions)
PLEXUS_KEYWORD_FACTORY0(LayerHandle<AverageLayer>, Average, MergeOptions)
PLEXUS_KEYWORD_FACTORY0(LayerHandle<MaximumLayer>, Maximum, MergeOptions)
PLEXUS_KEYWORD_FACTORY0(LayerHandle<MinimumLayer>, Minimum, MergeOptions)
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<ConcatenateLayer>, Concatenate, MergeOptions,
                                 (Dim, axis, -1))
}  // namespace plexus::layers

PLEXUS_KEYWORD(axes, std::vector<std::ptrdiff_t>)
PLEXUS_KEYWORD(normalize, bool)

namespace plexus::layers {
PLEXUS_KEYWORD_FACTORY(LayerHandle<DotLayer>, Dot, DotOptions, (std::vector<Dim>, axes))

// Keras's functional forms (keras.layers.add(inputs), concatenate(inputs, axis)): a new
// merging layer applied to `xs`, returning its output.
//   auto h = px::layers::concatenate({a, b});          // [batch, a] x [batch, b] -> [batch, a + b]
//   auto s = px::layers::add({x, y}, {.name = "sum"});
inline SymbolicTensor concatenate(const std::vector<SymbolicTensor>& xs, Dim axis = -1,
                                  MergeOptions options = {}) {
  return Concatenate(axis, std::move(options))(xs);
}
inline SymbolicTensor add(const std::vector<SymbolicTensor>& xs, MergeOptions options = {}) {
  return Add(std::move(options))(xs);
}
inline SymbolicTensor subtract(const std::vector<SymbolicTensor>& xs, MergeOptions options = {}) {
  return Subtract(std::move(options))(xs);
}
inline SymbolicTensor multiply(const std::vector<SymbolicTensor>& xs, MergeOptions options = {}) {
  return Multiply(std::move(options))(xs);
}
inline SymbolicTensor average(const std::vector<SymbolicTensor>& xs, MergeOptions options = {}) {
  return Average(std::move(options))(xs);
}
inline SymbolicTensor maximum(const std::vector<SymbolicTensor>& xs, MergeOptions options = {}) {
  return Maximum(std::move(options))(xs);
}
inline SymbolicTensor minimum(const std::vector<SymbolicTensor>& xs, MergeOptions options = {}) {
  return Minimum(std::move(options))(xs);
}

}  // namespace plexus::layers
