// The Layer base class with Keras's contract, and handles to layers.
//
//   constructor stores the config; build(input_shape) creates weights with add_weight()
//   once, on the first call; call() computes with px::ops on symbolic tensors;
//   compute_output_shape() answers symbolically. operator() does the bookkeeping.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "graph/symbolic.hpp"

namespace plexus {

template <typename T>
class LayerHandle;

class Layer : public std::enable_shared_from_this<Layer> {
 public:
  explicit Layer(std::string_view name = {});
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  // "Dense"; the default is the C++ type's name.
  virtual std::string class_name() const;
  // Unique default names are given by make_layer from class_name(): dense, dense_1, ...
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  // --- the Keras contract -------------------------------------------------------
  virtual void build(const Shape& input_shape);
  // Layers taking several inputs override this one; the default forwards a single shape.
  virtual void build_list(const std::vector<Shape>& input_shapes);
  virtual SymbolicTensor call(const SymbolicTensor& x);
  // Layers taking or returning several tensors override this one.
  virtual std::vector<SymbolicTensor> call_list(const std::vector<SymbolicTensor>& xs);
  // Output shape without building a graph; the default traces call() on a fresh Input.
  virtual Shape compute_output_shape(const Shape& input_shape);
  // The activation a layer applies ("relu"), or empty: shown by DOT's show_layer_activations.
  virtual std::string activation_name() const { return {}; }

  // --- calling ------------------------------------------------------------------
  SymbolicTensor operator()(const SymbolicTensor& x);
  SymbolicTensors operator()(const std::vector<SymbolicTensor>& xs);

  // --- sub-layers -------------------------------------------------------------------
  // Layers this layer owns, in the order they were tracked: every layer called inside its
  // call() (or build()), and layers given to track(). Their weights are this layer's too
  // (counted, trained, saved, with paths "block/dense/kernel"), as Keras tracks layers
  // held as attributes.
  const std::vector<std::shared_ptr<Layer>>& sublayers() const { return sublayers_; }
  void track(const std::shared_ptr<Layer>& layer);
  template <typename T>
  void track(const LayerHandle<T>& layer) {
    track(std::static_pointer_cast<Layer>(layer.get()));
  }

  // --- weights --------------------------------------------------------------------
  bool built() const { return built_; }
  // All weights in Keras order: this layer's own in creation order, then each
  // sub-layer's, each weight once.
  virtual std::vector<Variable> weights() const;
  // Keras: nothing is trainable in a frozen layer (set_trainable(false)); models ask
  // their layers, so freezing one layer of a model freezes its weights.
  virtual std::vector<Variable> trainable_weights() const;
  virtual std::vector<Variable> non_trainable_weights() const;
  std::vector<Tensor> get_weights() const;
  void set_weights(const std::vector<Tensor>& values);  // shape-checked
  std::size_t count_params() const;
  bool trainable() const { return trainable_; }
  // Freezing a layer freezes its sub-layers (Keras sets the flag recursively).
  virtual void set_trainable(bool trainable);

  // Input shapes seen at build time (-1 for the batch), for summaries.
  const std::vector<Shape>& build_shapes() const { return build_shapes_; }
  // The Keras input_shape option, given to layers that can start a Sequential.
  const Shape& declared_input_shape() const { return declared_input_shape_; }
  void set_declared_input_shape(Shape shape) { declared_input_shape_ = std::move(shape); }

 protected:
  // Creates a weight "<layer name>/<name>" and returns it as a symbolic tensor for call().
  SymbolicTensor add_weight(std::string_view name, const Shape& shape,
                            std::string_view initializer = "glorot_uniform", bool trainable = true);
  // Declares that after each training step `variable` (a non-trainable weight of this
  // layer, from add_weight) takes the value of `new_value` (same shape). Call it from
  // call(); inference never evaluates it, and a frozen layer's updates are not applied.
  void add_update(const SymbolicTensor& variable, const SymbolicTensor& new_value);
  void mark_built() { built_ = true; }
  // Whether layers called inside call() become sub-layers (a Functional model's layers
  // are its own already).
  virtual bool tracks_called_layers() const { return true; }

 private:
  std::string name_;
  bool built_ = false;
  bool trainable_ = true;
  std::vector<Variable> own_weights_;
  std::vector<std::shared_ptr<Layer>> sublayers_;
  std::vector<Shape> build_shapes_;
  Shape declared_input_shape_;
  std::size_t num_calls_ = 0;  // user-level calls so far (the next LayerCall::node_index)
};

// A unique name: base, base_1, base_2, ... (one counter per base name, as Keras does).
std::string unique_name(std::string_view base);
// "DenseLayer" -> "dense_layer", "ReLU" -> "re_lu" (Keras's to_snake_case).
std::string to_snake_case(std::string_view name);
// Resets the unique-name counters (Keras: keras.backend.clear_session()).
namespace utils {
void clear_session();
}

// A shared handle to a layer: copies refer to the same layer (one set of weights).
template <typename T>
class LayerHandle {
 public:
  LayerHandle() = default;
  explicit LayerHandle(std::shared_ptr<T> layer) : layer_(std::move(layer)) {}
  template <typename U>
  requires std::is_base_of_v<T, U> LayerHandle(const LayerHandle<U>& other) : layer_(other.get()) {}

  SymbolicTensor operator()(const SymbolicTensor& x) const { return (*layer_)(x); }
  SymbolicTensors operator()(const std::vector<SymbolicTensor>& xs) const { return (*layer_)(xs); }
  T* operator->() const { return layer_.get(); }
  T& operator*() const { return *layer_; }
  const std::shared_ptr<T>& get() const { return layer_; }

 private:
  std::shared_ptr<T> layer_;
};
using LayerRef = LayerHandle<Layer>;

// Creates a layer (built-in or user-defined) and names it uniquely if it has no name.
template <typename T, typename... Args>
LayerHandle<T> make_layer(Args&&... args) {
  auto layer = std::make_shared<T>(std::forward<Args>(args)...);
  if (layer->name().empty()) layer->set_name(unique_name(to_snake_case(layer->class_name())));
  return LayerHandle<T>(std::move(layer));
}

}  // namespace plexus
