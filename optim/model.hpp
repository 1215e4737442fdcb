// px::Model and px::Sequential: the user-facing handles on a Functional graph.
//
// A Model is a cheap handle: copies share the graph, the weights and the training state.
// It joins the two halves Keras's Model joins: the graph (graph::Functional — layers,
// weights, summary, DOT — and graph::Predictor for inference) and the trainer (compile,
// fit, evaluate: optim/fit.cpp), which is why it lives in optim/: graph/ knows nothing of
// training.
#pragma once

#include <concepts>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "graph/functional.hpp"
#include "optim/model_options.hpp"
#include "optim/step_data.hpp"

namespace plexus {

namespace optim {
struct TrainState;
struct TrainAccess;  // optim/fit.cpp
struct CustomLoop;   // optim/custom_step.cpp
}  // namespace optim

// What a training/test step returns: name -> value (Keras's logs dict).
using Logs = std::map<std::string, double>;

// model.stop_training = true (from a callback) ends fit() after the current batch/epoch.
class StopFlag {
 public:
  StopFlag() : flag_(std::make_shared<bool>(false)) {}
  StopFlag& operator=(bool v) {
    *flag_ = v;
    return *this;
  }
  operator bool() const { return *flag_; }

 private:
  std::shared_ptr<bool> flag_;
};

// Keras's Model(inputs=..., outputs=..., name=...): each of inputs and outputs is one
// symbolic tensor or a braced list of them.
struct TensorList : std::vector<SymbolicTensor> {
  TensorList() = default;
  TensorList(const SymbolicTensor& t) : std::vector<SymbolicTensor>{t} {}
  TensorList(std::initializer_list<SymbolicTensor> ts) : std::vector<SymbolicTensor>(ts) {}
  TensorList(std::vector<SymbolicTensor> ts) : std::vector<SymbolicTensor>(std::move(ts)) {}
};
struct ModelOptions {
  TensorList inputs{};
  TensorList outputs{};
  std::string name{};
};

class Model {
 public:
  Model(const SymbolicTensor& input, const SymbolicTensor& output, std::string_view name = {});
  Model(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs,
        std::string_view name = {});
  // Keras's Model(x, [a, b]): one input, a braced list of outputs (or a layer's list of
  // results). Several inputs take both lists braced: Model({x1, x2}, {y}).
  Model(const SymbolicTensor& input, std::vector<SymbolicTensor> outputs,
        std::string_view name = {});
  // Keras's keyword form: Model(kw::inputs = x, kw::outputs = {a, b}, kw::name = "m").
  explicit Model(ModelOptions options);
  PLEXUS_KEYWORD_CONSTRUCTOR(Model, ModelOptions)
  virtual ~Model();
  Model(const Model&) = default;
  Model& operator=(const Model&) = default;

  // --- a model is a layer ---------------------------------------------------------
  // One result per model output, as Keras's model(x); converts to a SymbolicTensor when the
  // model has one output.
  SymbolicTensors operator()(const SymbolicTensor& x) const;
  SymbolicTensors operator()(const std::vector<SymbolicTensor>& xs) const;
  operator LayerRef() const;  // to nest a model in a Sequential or another model

  // --- eager calls (Keras's model(x)) ------------------------------------------------
  // model(x) on tensors runs the model once on them and returns its outputs: one tensor
  // for a model with one output, a list (in output order) otherwise; several inputs come
  // as a list in input order or a map by Input name, as predict's. training = true (or
  // kw::training = true) runs Dropout in training mode and applies the state updates, as
  // Keras's model(x, training=True). Traced once per input signature (Layer's eager
  // calls); an unbuilt Sequential builds from the first call's shape.
  Tensor operator()(const Tensor& x, bool training = false) const;
  std::vector<Tensor> operator()(const std::vector<Tensor>& xs, bool training = false) const;
  std::vector<Tensor> operator()(std::initializer_list<Tensor> xs, bool training = false) const {
    return (*this)(std::vector<Tensor>(xs), training);
  }
  std::vector<Tensor> operator()(const std::map<std::string, Tensor>& xs,
                                 bool training = false) const;
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) Tensor operator()(const Tensor& x, K&&... k) const {
    return (*this)(x, kw::make<CallOptions>(std::forward<K>(k)...).training);
  }
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) std::vector<Tensor>
  operator()(const std::vector<Tensor>& xs, K&&... k) const {
    return (*this)(xs, kw::make<CallOptions>(std::forward<K>(k)...).training);
  }
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) std::vector<Tensor>
  operator()(std::initializer_list<Tensor> xs, K&&... k) const {
    return (*this)(std::vector<Tensor>(xs), kw::make<CallOptions>(std::forward<K>(k)...).training);
  }
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) std::vector<Tensor>
  operator()(const std::map<std::string, Tensor>& xs, K&&... k) const {
    return (*this)(xs, kw::make<CallOptions>(std::forward<K>(k)...).training);
  }

  // --- inspection -------------------------------------------------------------------
  const std::string& name() const;
  std::vector<std::shared_ptr<Layer>> layers() const;
  Layer& get_layer(std::string_view name) const;
  const std::vector<SymbolicTensor>& inputs() const;
  const std::vector<SymbolicTensor>& outputs() const;
  std::vector<std::string> input_names() const;
  std::vector<std::string> output_names() const;  // the names of the layers making them
  std::vector<Variable> weights() const;
  std::vector<Variable> trainable_weights() const;
  std::vector<Variable> non_trainable_weights() const;
  std::vector<Tensor> get_weights() const;
  void set_weights(const std::vector<Tensor>& values);
  std::size_t count_params() const;
  bool trainable() const;
  void set_trainable(bool trainable);
  void summary() const;  // prints summary_string() to stdout
  std::string summary_string(int line_length = 0) const;
  graph::Functional& graph() const;                              // the underlying Functional layer
  operator const graph::Functional&() const { return graph(); }  // for summary, DOT

  // --- training (optim/fit.cpp) -----------------------------------------------------
  void compile(CompileOptions options);
  void compile(OptimizerSpec optimizer, LossSpec loss, MetricsSpec metrics = {});
  History fit(const Data& x, const Data& y, FitOptions options = {});
  std::vector<double> evaluate(const Data& x, const Data& y, EvaluateOptions options = {});
  // Keyword forms, keywords in any order (core/keywords.hpp):
  //   model.compile(kw::loss = "mse", kw::optimizer = "adam", kw::metrics = {"mae"});
  //   model.fit(x, y, kw::batch_size = 64, kw::epochs = 2, kw::validation_split = 0.2);
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) void compile(K&&... k) {
    compile(kw::make<CompileOptions>(std::forward<K>(k)...));
  }
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) History fit(const Data& x, const Data& y, K&&... k) {
    return fit(x, y, kw::make<FitOptions>(std::forward<K>(k)...));
  }
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) std::vector<double> evaluate(const Data& x, const Data& y, K&&... k) {
    return evaluate(x, y, kw::make<EvaluateOptions>(std::forward<K>(k)...));
  }
  // A dataset of batches (px::data::Dataset: StepData elements with x, y and optional
  // sample weights), as Keras's fit(dataset): one pass per epoch unless steps_per_epoch;
  // validation_data may be a dataset (validation_steps batches of it); validation_split
  // is refused (Keras: only for arrays); shuffle is the dataset's own (Dataset::shuffle).
  // Under data-parallel training each process reads only its shard of the batches
  // (Dataset::shard(size, rank)), and a step trains on the union of the processes' batches.
  History fit(const data::Dataset& dataset, FitOptions options = {});
  std::vector<double> evaluate(const data::Dataset& dataset, EvaluateOptions options = {});
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) History fit(const data::Dataset& dataset, K&&... k) {
    return fit(dataset, kw::make<FitOptions>(std::forward<K>(k)...));
  }
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) std::vector<double> evaluate(const data::Dataset& dataset, K&&... k) {
    return evaluate(dataset, kw::make<EvaluateOptions>(std::forward<K>(k)...));
  }
  std::vector<double> train_on_batch(const Data& x, const Data& y,
                                     std::optional<Tensor> sample_weight = {});
  std::vector<double> test_on_batch(const Data& x, const Data& y,
                                    std::optional<Tensor> sample_weight = {});
  // The compiled loss's value on (x, y) and its gradients (see Gradients).
  Gradients compute_gradients(const Data& x, const Data& y);
  // A custom training loop without compile() (Keras 3's value_and_grad; px::value_and_grad
  // below is the same call): the loss of the model on (x, y) — run in training mode, plus
  // the weights' regularization penalties, exactly as fit() computes it — and its gradient
  // for each trainable weight, in trainable_weights() order:
  //   auto [loss, grads] = model.compute_gradients(x, y, "sparse_categorical_crossentropy");
  //   optimizer.apply_gradients(grads, model.trainable_weights());
  // `loss` is what compile() takes: a name, a loss object, a C++ callable
  // (y_true, y_pred) -> per-sample loss built from px::ops, or one per output (a list or
  // a map by output name). The Function is built on the first call and cached for the
  // loss (rebuilt when the trainable weights change): a name by its name, a built-in loss
  // object by its class and get_config(), a LossFunction by identity, a callable by its
  // type and captured values. A callable is traced once, as jax.jit and tf.function
  // trace: values it captures are read when it is traced.
  Gradients compute_gradients(const Data& x, const Data& y, const LossSpec& loss);
  template <typename F>
  requires(std::is_invocable_r_v<SymbolicTensor, F, const SymbolicTensor&, const SymbolicTensor&> &&
           !std::derived_from<std::decay_t<F>, losses::Loss>) Gradients
      compute_gradients(const Data& x, const Data& y, F&& fn) {
    using Fn = std::decay_t<F>;
    std::string key;  // empty: not cached (a callable that cannot be compared)
    if constexpr (std::is_trivially_copyable_v<Fn>) {
      key = std::string("callable:") + typeid(Fn).name();
      if constexpr (!std::is_empty_v<Fn>) {
        const Fn copy = fn;
        char bytes[sizeof(Fn)];
        std::memcpy(bytes, static_cast<const void*>(&copy), sizeof(Fn));
        key.append(bytes, sizeof(Fn));
      }
    }
    return gradients_for(x, y, LossSpec(std::forward<F>(fn)), key);
  }
  std::vector<std::string> metrics_names() const;
  optim::Optimizer& optimizer() const;
  bool compiled() const;

  // --- subclassing: custom steps (optim/custom_step.cpp, docs/custom.md) -------------
  // Keras 3's Model.train_step / test_step / predict_step. A class derived from px::Model
  // overrides them; fit / evaluate / predict then drive the overrides with callbacks, the
  // progress bar, History, validation and datasets:
  //   class VAE : public px::Model {
  //    public:
  //     px::Logs train_step(const px::StepData& data) override;   // data.x, data.y, ...
  //     std::vector<px::metrics::Metric*> metrics() const override;  // reset each epoch
  //   };
  // Inside a step: optimizer().apply_gradients(grads, trainable_weights()) (under
  // data-parallel training the gradients are all-reduced there, weighted by each
  // process's rows). A class that does not override a step gets the built-in one.
  virtual Logs train_step(const StepData& data);
  virtual Logs test_step(const StepData& data);
  virtual std::vector<Tensor> predict_step(const StepData& data) const;
  // Keras's `metrics` property: the trackers fit() / evaluate() reset at the start of each
  // epoch (and evaluation); their names are metrics_names() of a custom model.
  virtual std::vector<metrics::Metric*> metrics() const { return {}; }
  // fit / evaluate without targets (a custom train_step, or a model whose loss is its own).
  History fit(const Data& x, FitOptions options = {});
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) History fit(const Data& x, K&&... k) {
    return fit(x, kw::make<FitOptions>(std::forward<K>(k)...));
  }

  // --- saving (optim/saving/) ------------------------------------------------------
  void save(const std::string& path) const;          // ".keras": Keras 3's archive
  void save_weights(const std::string& path) const;  // ".weights.h5": Keras 3's layout
  void load_weights(const std::string& path);        // also legacy ".h5" weights
  std::string to_json() const;                       // config.json's model entry

  // --- inference ----------------------------------------------------------------------
  Tensor predict(const Tensor& x, PredictOptions options = {}) const;
  std::vector<Tensor> predict(const std::vector<Tensor>& xs, PredictOptions options = {}) const;
  std::vector<Tensor> predict(std::initializer_list<Tensor> xs, PredictOptions options = {}) const {
    return predict(std::vector<Tensor>(xs), options);
  }
  std::vector<Tensor> predict(const std::map<std::string, Tensor>& xs,
                              PredictOptions options = {}) const;
  // The outputs (one tensor per output, in output order) over a dataset's batches (their x).
  std::vector<Tensor> predict(const data::Dataset& dataset, PredictOptions options = {}) const;
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) std::vector<Tensor> predict(const data::Dataset& dataset, K&&... k)
  const { return predict(dataset, kw::make<PredictOptions>(std::forward<K>(k)...)); }
  // Keyword forms: model.predict(x, kw::batch_size = 256, kw::verbose = 0).
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) Tensor predict(const Tensor& x, K&&... k)
  const { return predict(x, kw::make<PredictOptions>(std::forward<K>(k)...)); }
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) std::vector<Tensor> predict(const std::vector<Tensor>& xs, K&&... k)
  const { return predict(xs, kw::make<PredictOptions>(std::forward<K>(k)...)); }
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) std::vector<Tensor> predict(std::initializer_list<Tensor> xs, K&&... k)
  const {
    return predict(std::vector<Tensor>(xs), kw::make<PredictOptions>(std::forward<K>(k)...));
  }
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) std::vector<Tensor> predict(const std::map<std::string, Tensor>& xs,
                                                         K&&... k)
  const { return predict(xs, kw::make<PredictOptions>(std::forward<K>(k)...)); }

  // --- helpers shared with optim/ -----------------------------------------------------
  std::vector<Tensor> predict_refs(const std::vector<Data::Ref>& xs, PredictOptions options) const;
  // Inputs in model order from a Data (list or map by Input name).
  std::vector<Data::Ref> input_list(const Data& x) const;
  // Checks each input against its Input's shape (and NaN/Inf) — px::Error otherwise.
  void check_inputs(const std::vector<Data::Ref>& xs) const;

  StopFlag stop_training;

 protected:
  Model();
  // A subclassed model without a graph of its own (Keras's VAE(encoder, decoder)): its
  // weights are those of the models and layers it tracks (Keras tracks attributes).
  explicit Model(std::string_view name);
  void track(const Model& model);
  void track(const LayerRef& layer);
  // Whether fit/evaluate/predict drive the step methods (a class derived from Model).
  bool custom_steps() const;
  // Sequential builds its graph on first use from the data's shape when no input shape
  // was declared; a Functional model is always built.
  virtual void ensure_built(const std::vector<Data::Ref>& xs) const;
  // The layers of a model whose graph does not exist yet (an unbuilt Sequential's), for
  // summary(); empty for a Functional model.
  virtual std::vector<std::shared_ptr<Layer>> pending_layers() const { return {}; }
  void set_graph(std::shared_ptr<graph::Functional> g) const;
  bool has_graph() const;
  void set_pending_name(std::string name);  // the name before the graph exists

 private:
  struct State;  // optim/model.cpp
  std::shared_ptr<State> state_;
  // compute_gradients(x, y, loss) with the loss's cache key (empty: not cached).
  Gradients gradients_for(const Data& x, const Data& y, const LossSpec& loss,
                          const std::string& key);
  friend struct optim::TrainAccess;
  friend struct optim::CustomLoop;
};

// Keras 3's value_and_grad for a model: model.compute_gradients(x, y, loss).
//   auto [loss, grads] = px::value_and_grad(model, loss_fn, x, y);
template <typename L>
Gradients value_and_grad(Model& model, L&& loss, const Data& x, const Data& y) {
  return model.compute_gradients(x, y, std::forward<L>(loss));
}

// One element of Sequential's list: a layer, a model, or px::Input(shape) — Keras 3's
// recommended start, `px::Sequential({px::Input({8}), px::layers::Dense(...)})`, which
// stands for its InputLayer.
struct SequentialEntry {
  LayerRef layer;
  SequentialEntry(LayerRef l) : layer(std::move(l)) {}
  template <typename T>
  SequentialEntry(const LayerHandle<T>& l) : layer(l) {}
  SequentialEntry(const SymbolicTensor& input);  // must be a px::Input
  SequentialEntry(const Model& model) : layer(model) {}
};

class Sequential : public Model {
 public:
  explicit Sequential(std::string_view name = {});
  Sequential(std::initializer_list<SequentialEntry> layers, std::string_view name = {});
  void add(LayerRef layer);
  void pop();

 protected:
  void ensure_built(const std::vector<Data::Ref>& xs) const override;
  std::vector<std::shared_ptr<Layer>> pending_layers() const override;

 private:
  struct Stack;
  std::shared_ptr<Stack> stack_;
  void build_from(const Shape& input_shape) const;
};

}  // namespace plexus

// Model's keyword form (Keras's keras.Model(inputs=..., outputs=...)).
PLEXUS_KEYWORD(inputs, ::plexus::TensorList)
PLEXUS_KEYWORD(outputs, ::plexus::TensorList)
