#include "optim/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "graph/input_layer.hpp"
#include "graph/predictor.hpp"
#include "graph/summary.hpp"
#include "optim/data_parallel.hpp"
#include "optim/model_state.hpp"
#include "optim/progbar.hpp"
#include "optim/train_state.hpp"

namespace plexus {

CompileOptions::~CompileOptions() = default;
ValidationData::~ValidationData() = default;
FitOptions::~FitOptions() = default;
EvaluateOptions::~EvaluateOptions() = default;

namespace optim {  // optim/custom_step.cpp
std::vector<Tensor> custom_predict(const Model& m, const std::vector<Tensor>& xs,
                                   const PredictOptions& o);
std::vector<Tensor> custom_predict(const Model& m, const data::Dataset& ds,
                                   const PredictOptions& o);
}  // namespace optim

Model::Model() : state_(std::make_shared<State>()) {}

Model::Model(const SymbolicTensor& input, const SymbolicTensor& output, std::string_view name)
    : Model(std::vector<SymbolicTensor>{input}, std::vector<SymbolicTensor>{output}, name) {}

Model::Model(ModelOptions options)
    : Model(std::move(static_cast<std::vector<SymbolicTensor>&>(options.inputs)),
            std::move(static_cast<std::vector<SymbolicTensor>&>(options.outputs)), options.name) {}

Model::Model(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs,
             std::string_view name)
    : Model() {
  state_->name = name.empty() ? unique_name("functional") : std::string(name);
  state_->graph =
      std::make_shared<graph::Functional>(std::move(inputs), std::move(outputs), state_->name);
}

Model::Model(const SymbolicTensor& input, std::vector<SymbolicTensor> outputs,
             std::string_view name)
    : Model(std::vector<SymbolicTensor>{input}, std::move(outputs), name) {}

Model::~Model() = default;

graph::Functional& Model::graph() const {
  if (!state_->graph && custom_steps()) {
    throw Error(
        "Model \"{}\" is a subclassed model without a graph of its own (its steps call the "
        "models it tracks): it has no layers, inputs or outputs of its own",
        state_->name);
  }
  if (!state_->graph) {
    throw Error(
        "Model \"{}\" has not been built yet: give its first layer an input_shape, start it "
        "with an InputLayer, or call fit()/predict() first",
        state_->name);
  }
  return *state_->graph;
}

void Model::set_graph(std::shared_ptr<graph::Functional> g) const {
  state_->graph = std::move(g);
  std::lock_guard lock(state_->predictor_mutex);
  state_->predictor.reset();
  // A compiled model whose graph changed (Sequential::add/pop) retrains the new graph: its
  // training Function is rebuilt on the next fit/evaluate, with the same compile options.
  if (state_->train) optim::invalidate_train_graph(*state_->train);
  state_->gradient_fns.clear();
}

bool Model::has_graph() const { return state_->graph != nullptr; }
void Model::set_pending_name(std::string name) { state_->name = std::move(name); }

void Model::ensure_built(const std::vector<Data::Ref>&) const {}

SymbolicTensors Model::operator()(const SymbolicTensor& x) const {
  return (*graph().shared_from_this())(std::vector<SymbolicTensor>{x});
}
SymbolicTensors Model::operator()(const std::vector<SymbolicTensor>& xs) const {
  return (*graph().shared_from_this())(xs);
}
namespace {
std::vector<const Tensor*> pointers(const std::vector<Data::Ref>& refs) {
  std::vector<const Tensor*> out;
  for (auto& r : refs) out.push_back(r.get());
  return out;
}
}  // namespace

std::vector<Tensor> Model::operator()(const std::vector<Tensor>& xs, bool training) const {
  std::vector<Data::Ref> refs = Data(xs).list;
  ensure_built(refs);
  check_inputs(refs);
  return graph().call_eagerly(pointers(refs), training);
}

std::vector<Tensor> Model::operator()(const std::map<std::string, Tensor>& xs,
                                      bool training) const {
  std::vector<Data::Ref> refs = input_list(Data(xs));
  ensure_built(refs);
  check_inputs(refs);
  return graph().call_eagerly(pointers(refs), training);
}

Tensor Model::operator()(const Tensor& x, bool training) const {
  std::vector<Data::Ref> refs{Data::borrow(x)};
  ensure_built(refs);
  if (outputs().size() != 1) {
    throw Error("Model \"{}\" has {} outputs; call it with a list ({{x}}) to get them all", name(),
                outputs().size());
  }
  check_inputs(refs);
  return std::move(graph().call_eagerly(pointers(refs), training)[0]);
}

Model::operator LayerRef() const {
  return LayerRef(std::static_pointer_cast<Layer>(graph().shared_from_this()));
}

const std::string& Model::name() const {
  return state_->graph ? state_->graph->name() : state_->name;
}
std::vector<std::shared_ptr<Layer>> Model::layers() const { return graph().layers(); }
Layer& Model::get_layer(std::string_view name) const { return graph().get_layer(name); }
const std::vector<SymbolicTensor>& Model::inputs() const { return graph().inputs(); }
const std::vector<SymbolicTensor>& Model::outputs() const { return graph().outputs(); }

std::vector<std::string> Model::input_names() const {
  std::vector<std::string> names;
  for (auto& t : inputs()) names.push_back(t.node()->name);
  return names;
}
std::vector<std::string> Model::output_names() const {
  std::vector<std::string> names;
  for (auto& t : outputs()) names.push_back(t.history()->layer->name());
  return names;
}

namespace {
// The weights of a graphless subclassed model: its tracked layers', each once, in order.
std::vector<Variable> tracked_weights(const std::vector<LayerRef>& tracked, int which) {
  std::vector<Variable> out;
  for (const auto& l : tracked) {
    auto ws = which == 0   ? l.get()->weights()
              : which == 1 ? l.get()->trainable_weights()
                           : l.get()->non_trainable_weights();
    for (auto& w : ws) {
      if (std::find(out.begin(), out.end(), w) == out.end()) out.push_back(std::move(w));
    }
  }
  return out;
}
}  // namespace

std::vector<Variable> Model::weights() const {
  if (!has_graph() && !state_->tracked.empty()) return tracked_weights(state_->tracked, 0);
  return graph().weights();
}
std::vector<Variable> Model::trainable_weights() const {
  if (!has_graph() && !state_->tracked.empty()) return tracked_weights(state_->tracked, 1);
  return graph().trainable_weights();
}
std::vector<Variable> Model::non_trainable_weights() const {
  if (!has_graph() && !state_->tracked.empty()) return tracked_weights(state_->tracked, 2);
  return graph().non_trainable_weights();
}

Model::Model(std::string_view name) : state_(std::make_shared<State>()) {
  state_->name = std::string(name);
}
void Model::track(const Model& model) { state_->tracked.push_back(LayerRef(model)); }
void Model::track(const LayerRef& layer) { state_->tracked.push_back(layer); }
bool Model::custom_steps() const {
  return typeid(*this) != typeid(Model) && typeid(*this) != typeid(Sequential);
}
std::vector<Tensor> Model::get_weights() const { return graph().get_weights(); }
void Model::set_weights(const std::vector<Tensor>& values) { graph().set_weights(values); }
std::size_t Model::count_params() const { return graph().count_params(); }
bool Model::trainable() const { return graph().trainable(); }
void Model::set_trainable(bool trainable) { graph().set_trainable(trainable); }
std::vector<Data::Ref> Model::input_list(const Data& x) const {
  if (!x.by_name.empty()) {
    const auto& ins = inputs();
    std::vector<Data::Ref> out;
    for (auto& t : ins) {
      auto it = x.by_name.find(t.node()->name);
      if (it == x.by_name.end()) {
        throw Error("Model \"{}\": no data given for input \"{}\"", name(), t.node()->name);
      }
      out.push_back(it->second);
    }
    for (auto& [k, v] : x.by_name) {
      bool known = false;
      for (auto& t : ins) known |= t.node()->name == k;
      if (!known) throw Error("Model \"{}\" has no input named \"{}\"", name(), k);
    }
    return out;
  }
  return x.list;
}

void Model::check_inputs(const std::vector<Data::Ref>& xs) const {
  std::vector<const Tensor*> ptrs;
  for (auto& r : xs) ptrs.push_back(r.get());
  graph::check_inputs(graph(), ptrs);
}

void Model::summary() const { std::fputs(summary_string().c_str(), stdout); }

std::string Model::summary_string(int line_length) const {
  // Keras 3 prints an unbuilt Sequential's layers with "0 (unbuilt)" instead of failing.
  if (!state_->graph) return graph::summary_string_unbuilt(name(), pending_layers(), line_length);
  return graph::summary_string(graph(), line_length);
}

Tensor Model::predict(const Tensor& x, PredictOptions options) const {
  if (custom_steps()) {
    auto outs = optim::custom_predict(*this, {x}, options);
    if (outs.size() != 1) {
      throw Error("Model \"{}\": predict_step gives {} outputs; call predict with a list", name(),
                  outs.size());
    }
    return std::move(outs[0]);
  }
  ensure_built({Data::borrow(x)});
  if (outputs().size() != 1) {
    throw Error("Model \"{}\" has {} outputs; call predict with a list to get them all", name(),
                outputs().size());
  }
  return predict_refs({Data::borrow(x)}, options)[0];  // the caller's tensor, not a copy
}

std::vector<Tensor> Model::predict(const std::map<std::string, Tensor>& xs,
                                   PredictOptions options) const {
  return predict_refs(input_list(Data(xs)), options);
}

std::vector<Tensor> Model::predict(const std::vector<Tensor>& xs, PredictOptions options) const {
  if (custom_steps()) return optim::custom_predict(*this, xs, options);
  return predict_refs(Data(xs).list, options);
}

std::vector<Tensor> Model::predict(const data::Dataset& dataset, PredictOptions options) const {
  if (custom_steps()) return optim::custom_predict(*this, dataset, options);
  const std::int64_t card = dataset.cardinality();
  if (card == data::kInfinite && !options.steps) {
    throw Error("Model \"{}\": predict on an infinite dataset needs steps", name());
  }
  const int steps = options.steps ? *options.steps : (card >= 0 ? static_cast<int>(card) : 0);
  optim::Progbar bar(steps, options.verbose);
  std::vector<std::vector<Tensor>> parts;
  int s = 0;
  for (auto it = dataset.begin(); it != dataset.end(); ++it) {
    if (options.steps && s >= *options.steps) break;
    const StepData& b = *it;
    if (b.x.empty()) {
      throw Error("Model \"{}\": predict: batch {} of the dataset has no inputs", name(), s);
    }
    PredictOptions one{.batch_size = static_cast<int>(
                           std::max<std::size_t>(1, b.x[0].dimension() ? b.x[0].shape()[0] : 1)),
                       .verbose = 0};
    std::vector<Tensor> outs = predict_refs(Data(b.x).list, one);
    if (parts.empty()) parts.resize(outs.size());
    for (std::size_t k = 0; k < outs.size(); ++k) parts[k].push_back(std::move(outs[k]));
    ++s;
    bar.update(s, {}, false);
  }
  bar.update(s, {}, true);
  if (parts.empty()) throw Error("Model \"{}\": predict: the dataset is empty", name());
  std::vector<Tensor> result;
  for (auto& chunks : parts) {
    std::size_t rows = 0;
    for (auto& c : chunks) rows += c.shape()[0];
    Tensor::shape_type shape = chunks[0].shape();
    shape[0] = rows;
    Tensor all = Tensor::from_shape(shape);
    float* p = all.data();
    for (auto& c : chunks) {
      if (c.dimension() != all.dimension() ||
          !std::equal(c.shape().begin() + 1, c.shape().end(), shape.begin() + 1)) {
        throw Error(
            "Model \"{}\": predict: the batches give outputs of different shapes ({} "
            "and {})",
            name(), shape_str(shape_of(chunks[0])), shape_str(shape_of(c)));
      }
      p = std::copy_n(c.data(), c.size(), p);
    }
    result.push_back(std::move(all));
  }
  return result;
}

namespace {
// Data-parallel predict: each process predicts its contiguous share of the rows, then the
// shares are gathered, in order, on every process. An exception on one process aborts the
// job (its peers wait for it in the gather).
std::vector<Tensor> predict_sharded(graph::Predictor& predictor,
                                    const std::vector<const Tensor*>& xs, std::size_t bs) {
  distribution::Communicator& comm = *distribution::communicator();
  const std::size_t n = xs.empty() ? 0 : xs[0]->shape()[0];
  try {
    const int size = comm.size();
    if (n < static_cast<std::size_t>(size)) return predictor.predict(xs, bs);  // too few rows
    const auto mine = optim::shard_of(n, comm.rank(), size);
    std::vector<Tensor> rows(xs.size());
    std::vector<const Tensor*> ptrs;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      copy_rows(*xs[i], mine.begin, mine.count, rows[i]);
      ptrs.push_back(&rows[i]);
    }
    std::vector<Tensor> part = predictor.predict(ptrs, bs);
    std::vector<Tensor> out;
    for (auto& p : part) {
      const std::size_t row = p.size() / mine.count;
      std::vector<std::size_t> counts;
      for (int r = 0; r < size; ++r) counts.push_back(optim::shard_of(n, r, size).count * row);
      Tensor::shape_type shape = p.shape();
      shape[0] = n;
      Tensor all = Tensor::from_shape(shape);
      comm.allgatherv(p.data(), counts, all.data());
      out.push_back(std::move(all));
    }
    return out;
  } catch (const std::exception& e) {
    distribution::abort_job(fmt::format("predict failed: {}", e.what()));
  }
}
}  // namespace

std::vector<Tensor> Model::predict_refs(const std::vector<Data::Ref>& refs,
                                        PredictOptions options) const {
  ensure_built(refs);
  check_inputs(refs);
  if (options.batch_size <= 0) {
    throw Error("predict: batch_size must be positive, received {}", options.batch_size);
  }
  std::shared_ptr<graph::Predictor> predictor;
  {
    std::lock_guard lock(state_->predictor_mutex);
    if (!state_->predictor) state_->predictor = std::make_shared<graph::Predictor>(state_->graph);
    predictor = state_->predictor;
  }
  std::vector<const Tensor*> xs;
  for (auto& r : refs) xs.push_back(r.get());
  const auto bs = static_cast<std::size_t>(options.batch_size);
  if (distribution::active()) {
    if (predictor->stateful()) throw Error("predict: {}", optim::kStatefulDataParallel);
    return predict_sharded(*predictor, xs, bs);
  }
  if (options.verbose == 0) return predictor->predict(xs, bs);
  // Keras's bar: "313/313 ━━━━━━━━━━━━━━━━━━━━ 0s 1ms/step". The batches go through the
  // predictor one by one (a copy of each batch's rows) so the bar can advance.
  const std::size_t n = xs[0]->shape()[0];
  const std::size_t steps = (n + bs - 1) / bs;
  optim::Progbar bar(static_cast<int>(steps), options.verbose);
  std::vector<Tensor> chunks(xs.size()), outs;
  std::vector<const Tensor*> chunk_ptrs;
  for (auto& c : chunks) chunk_ptrs.push_back(&c);
  for (std::size_t s = 0; s < steps; ++s) {
    const std::size_t begin = s * bs, count = std::min(bs, n - begin);
    for (std::size_t i = 0; i < xs.size(); ++i) copy_rows(*xs[i], begin, count, chunks[i]);
    std::vector<Tensor> part = predictor->predict(chunk_ptrs, bs);
    if (outs.empty()) {
      for (auto& p : part) {
        Tensor::shape_type shape = p.shape();
        shape[0] = n;
        outs.emplace_back(shape);
      }
    }
    for (std::size_t k = 0; k < part.size(); ++k) {
      const std::size_t row = part[k].size() / std::max<std::size_t>(count, 1);
      std::copy(part[k].data(), part[k].data() + part[k].size(), outs[k].data() + begin * row);
    }
    bar.update(static_cast<int>(s + 1), {}, s + 1 == steps);
  }
  return outs;
}

// --- Sequential -------------------------------------------------------------------------

struct Sequential::Stack {
  std::vector<LayerRef> layers;
  SymbolicTensor input;
  SymbolicTensor output;
};

Sequential::Sequential(std::string_view name) : stack_(std::make_shared<Stack>()) {
  // Model() made the state; a Sequential is named like Keras: sequential, sequential_1, ...
  set_pending_name(name.empty() ? unique_name("sequential") : std::string(name));
}

SequentialEntry::SequentialEntry(const SymbolicTensor& input) {
  if (!input.defined() || !input.history() ||
      !dynamic_cast<graph::InputLayer*>(input.history()->layer.get())) {
    throw Error(
        "Sequential: a symbolic tensor in the layer list must be a px::Input(shape) (it stands "
        "for its InputLayer); received the output of {}",
        input.defined() && input.history() ? "layer \"" + input.history()->layer->name() + "\""
                                           : std::string("nothing (an empty tensor)"));
  }
  layer = LayerRef(input.history()->layer);
}

Sequential::Sequential(std::initializer_list<SequentialEntry> layers, std::string_view name)
    : Sequential(name) {
  for (auto& l : layers) add(l.layer);
}

void Sequential::add(LayerRef layer) {
  auto* input_layer = dynamic_cast<graph::InputLayer*>(layer.get().get());
  if (input_layer) {
    if (!stack_->layers.empty() || stack_->input.defined()) {
      throw Error("Sequential \"{}\": an InputLayer can only be the first layer", name());
    }
    stack_->input = input_layer->output();
    stack_->output = stack_->input;
    return;
  }
  stack_->layers.push_back(layer);
  if (!stack_->input.defined() && stack_->layers.size() == 1 &&
      !layer->declared_input_shape().empty()) {
    stack_->input = Input(layer->declared_input_shape());
    stack_->output = stack_->input;
  }
  if (stack_->input.defined()) {
    stack_->output = (*layer)(stack_->output);
    set_graph(std::make_shared<graph::Functional>(std::vector<SymbolicTensor>{stack_->input},
                                                  std::vector<SymbolicTensor>{stack_->output},
                                                  name(), "Sequential"));
  }
}

void Sequential::pop() {
  if (stack_->layers.empty()) throw Error("Sequential \"{}\" has no layers to pop", name());
  std::string n = name();
  auto layers = stack_->layers;
  layers.pop_back();
  auto input = stack_->input;
  *stack_ = Stack{};
  set_graph(nullptr);
  stack_->input = input;
  stack_->output = input;
  for (auto& l : layers) {
    stack_->layers.push_back(l);
    if (input.defined()) stack_->output = (*l)(stack_->output);
  }
  if (input.defined() && !layers.empty()) {
    set_graph(std::make_shared<graph::Functional>(std::vector<SymbolicTensor>{stack_->input},
                                                  std::vector<SymbolicTensor>{stack_->output}, n,
                                                  "Sequential"));
  }
}

void Sequential::build_from(const Shape& input_shape) const {
  stack_->input = Input(input_shape);
  stack_->output = stack_->input;
  for (auto& l : stack_->layers) stack_->output = (*l)(stack_->output);
  set_graph(std::make_shared<graph::Functional>(std::vector<SymbolicTensor>{stack_->input},
                                                std::vector<SymbolicTensor>{stack_->output}, name(),
                                                "Sequential"));
}

std::vector<std::shared_ptr<Layer>> Sequential::pending_layers() const {
  std::vector<std::shared_ptr<Layer>> out;
  for (auto& l : stack_->layers) out.push_back(l.get());
  return out;
}

void Sequential::ensure_built(const std::vector<Data::Ref>& xs) const {
  if (has_graph()) return;
  if (stack_->layers.empty()) throw Error("Sequential \"{}\" has no layers", name());
  if (xs.size() != 1) throw Error("Sequential \"{}\" takes exactly one input", name());
  Shape s = shape_of(*xs[0]);
  s.erase(s.begin());
  build_from(s);
}

}  // namespace plexus
