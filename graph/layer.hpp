// The Layer base class with Keras's contract, and handles to layers.
//
//   constructor stores the config; build(input_shape) creates weights with add_weight()
//   once, on the first call; call() computes with px::ops on symbolic tensors;
//   compute_output_shape() answers symbolically. operator() does the bookkeeping.
#pragma once

#include <initializer_list>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/keywords.hpp"
#include "graph/symbolic.hpp"

namespace plexus {

template <typename T>
class LayerHandle;
using Config = nlohmann::ordered_json;  // core/config.hpp
template <typename Base>
class ObjectRef;  // core/registry.hpp
namespace initializers {
class Initializer;
}
namespace graph {
class EagerCache;  // graph/eager.cpp
}

// Options of an eager call: layer(x, kw::training = true), Keras's training=True.
struct CallOptions {
  bool training = false;
};

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

  // --- eager calls (graph/eager.cpp) ------------------------------------------------
  // Keras calls a layer on arrays eagerly: layer(x) on a px::Tensor returns a px::Tensor
  // (axis 0 is the batch); a list of tensors gives a list. The first call with a given
  // signature (the inputs' shapes without the batch) traces the layer on
  // graph::placeholder inputs — building an unbuilt layer, as Keras builds on the first
  // call — into a graph::Function; later calls with that signature (any batch size) only
  // run it. training = true (or kw::training = true) runs Dropout and friends in training
  // mode and applies the state updates (BatchNormalization's moving statistics), as
  // Keras's layer(x, training=True). An eager call adds no node to the layer's history
  // (summary() and models are unchanged). Calls on one layer are serialised.
  Tensor operator()(const Tensor& x, bool training = false);
  std::vector<Tensor> operator()(const std::vector<Tensor>& xs, bool training = false);
  std::vector<Tensor> operator()(std::initializer_list<Tensor> xs, bool training = false) {
    return (*this)(std::vector<Tensor>(xs), training);
  }
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) Tensor operator()(const Tensor& x, K&&... k) {
    return (*this)(x, kw::make<CallOptions>(std::forward<K>(k)...).training);
  }
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) std::vector<Tensor>
  operator()(const std::vector<Tensor>& xs, K&&... k) {
    return (*this)(xs, kw::make<CallOptions>(std::forward<K>(k)...).training);
  }
  // How many Functions the eager calls have traced so far (one per signature).
  std::size_t eager_traces() const;
  // The eager call on borrowed tensors (Model's eager calls use it without copies).
  std::vector<Tensor> call_eagerly(const std::vector<const Tensor*>& xs, bool training);

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
  // The initializer is a name ("ones") or an object (px::initializers::HeNormal({.seed = 1})).
  SymbolicTensor add_weight(std::string_view name, const Shape& shape,
                            const char* initializer = "glorot_uniform", bool trainable = true);
  // Declares that after each training step `variable` (a non-trainable weight of this
  // layer, from add_weight, or a state variable from add_state_variable) takes the value of
  // `new_value` (same shape; the batch may be -1 for a state variable). Call it from
  // call(). Without at_inference, inference never evaluates it and a frozen layer's updates
  // are not applied (BatchNormalization's moving statistics). With at_inference (a
  // stateful RNN's final states) it is applied after every batch of predict, evaluate,
  // test_on_batch and eager calls too, and also in a frozen layer (Keras assigns the
  // states in call()).
  void add_update(const SymbolicTensor& variable, const SymbolicTensor& new_value,
                  bool at_inference = false);
  // A non-trainable variable "<layer name>/<name>" of zeros that is not one of the layer's
  // weights (not counted, saved, loaded or in get_weights()): Keras 3 creates a stateful
  // RNN's states untracked. The layer keeps it alive.
  SymbolicTensor add_state_variable(std::string_view name, const Shape& shape);
  const std::vector<Variable>& state_variables() const { return state_variables_; }

  void mark_built() { built_ = true; }
  // Whether layers called inside call() become sub-layers (a Functional model's layers
  // are its own already).
  virtual bool tracks_called_layers() const { return true; }

  // --- add_weight with initializer objects, regularizers and constraints ------------
  // (core/initializers.hpp, graph/regularizers.hpp, core/constraints.hpp)
  SymbolicTensor add_weight(std::string_view name, const Shape& shape,
                            const ObjectRef<initializers::Initializer>& initializer,
                            bool trainable = true);
  SymbolicTensor add_weight(std::string_view name, const Shape& shape,
                            const ObjectRef<initializers::Initializer>& initializer, bool trainable,
                            const ObjectRef<regularizers::Regularizer>& regularizer,
                            const ObjectRef<constraints::Constraint>& constraint);

 public:
  // --- config (Keras 3 get_config; graph/layer_config.cpp) ---------------------------
  // {"name", "trainable", "dtype"} here; each layer appends its options field by field.
  // A layer class also provides `static LayerRef from_config(const Config&)`, and user
  // classes register (px::register_layer<T>("package>Name"), layers/registry.hpp).
  virtual Config get_config() const;
  // Applies the base keys of a config to a new layer: name, trainable; checks that dtype
  // is float32 (plexus computes in float32 only). px::Error naming the class otherwise.
  void apply_base_config(const Config& config);

 private:
  std::string name_;
  bool built_ = false;
  bool trainable_ = true;
  std::vector<Variable> own_weights_;
  std::vector<Variable> state_variables_;  // add_state_variable
  std::vector<std::shared_ptr<Layer>> sublayers_;
  std::vector<Shape> build_shapes_;
  Shape declared_input_shape_;
  std::size_t num_calls_ = 0;  // user-level calls so far (the next LayerCall::node_index)
  // The eager calls' Functions by signature, made on the first eager call. It holds graph
  // nodes only (no layer call history, no layer): it cannot keep this layer alive.
  std::shared_ptr<graph::EagerCache> eager_;
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
  // Layers whose calls take options beyond tensors (a CallOptions type and call_with():
  // MultiHeadAttention's attention_mask, use_causal_mask, return_attention_scores):
  // layer({q, v}, {.use_causal_mask = true}) or layer({q, v}, kw::use_causal_mask = true).
  template <typename U = T>
  requires requires { typename U::CallOptions; }
  SymbolicTensors operator()(const std::vector<SymbolicTensor>& xs,
                             const typename U::CallOptions& options) const {
    return layer_->call_with(xs, options);
  }
  template <kw::Argument... K, typename U = T>
  requires(sizeof...(K) > 0 && requires { typename U::CallOptions; }) SymbolicTensors operator()(
      const std::vector<SymbolicTensor>& xs, K&&... k) const {
    return layer_->call_with(xs, kw::make<typename U::CallOptions>(std::forward<K>(k)...));
  }
  // Eager calls (Layer's): layer(x) on tensors.
  Tensor operator()(const Tensor& x, bool training = false) const { return (*layer_)(x, training); }
  std::vector<Tensor> operator()(const std::vector<Tensor>& xs, bool training = false) const {
    return (*layer_)(xs, training);
  }
  std::vector<Tensor> operator()(std::initializer_list<Tensor> xs, bool training = false) const {
    return (*layer_)(std::vector<Tensor>(xs), training);
  }
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) Tensor operator()(const Tensor& x, K&&... k) const {
    return (*layer_)(x, std::forward<K>(k)...);
  }
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) std::vector<Tensor>
  operator()(const std::vector<Tensor>& xs, K&&... k) const {
    return (*layer_)(xs, std::forward<K>(k)...);
  }
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

// layer(x, kw::training = true) (graph/layer.hpp).
PLEXUS_KEYWORD(training, bool)
// The wrapped layer of Bidirectional and TimeDistributed.
PLEXUS_KEYWORD(layer, ::plexus::LayerRef)
