#include "graph/layer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <mutex>
#include <typeinfo>

#include "core/constraints.hpp"
#include "core/detail/type_name.hpp"
#include "core/initializers.hpp"
#include "graph/detail.hpp"
#include "graph/regularizers.hpp"

namespace plexus {

namespace {
std::mutex& names_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, int, std::less<>>& name_counters() {
  static std::map<std::string, int, std::less<>> counters;
  return counters;
}
}  // namespace

std::string unique_name(std::string_view base) {
  std::lock_guard lock(names_mutex());
  auto& counters = name_counters();
  auto it = counters.find(base);
  if (it == counters.end()) {
    counters.emplace(std::string(base), 1);
    return std::string(base);
  }
  return fmt::format("{}_{}", base, it->second++);
}

namespace utils {
void clear_session() {
  std::lock_guard lock(names_mutex());
  name_counters().clear();
}
}  // namespace utils

std::string to_snake_case(std::string_view name) {
  // Keras: re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name), then "([a-z])([A-Z])" -> r"\1_\2".
  std::string s;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool upper = std::isupper(static_cast<unsigned char>(c));
    if (upper && i > 0) {
      bool next_lower =
          i + 1 < name.size() && std::islower(static_cast<unsigned char>(name[i + 1]));
      bool prev_lower = std::islower(static_cast<unsigned char>(name[i - 1]));
      if (prev_lower || next_lower) s += '_';
    }
    s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

Layer::Layer(std::string_view name) : name_(name) {}

std::string Layer::class_name() const { return detail::unqualified_type_name(typeid(*this)); }

void Layer::build(const Shape&) {}

void Layer::build_list(const std::vector<Shape>& input_shapes) {
  if (input_shapes.size() == 1) build(input_shapes[0]);
}

SymbolicTensor Layer::call(const SymbolicTensor&) {
  throw Error("Layer \"{}\" ({}) does not implement call()", name_, class_name());
}

std::vector<SymbolicTensor> Layer::call_list(const std::vector<SymbolicTensor>& xs) {
  if (xs.size() != 1) {
    throw Error("Layer \"{}\" ({}) expects 1 input, but it received {} inputs", name_, class_name(),
                xs.size());
  }
  return {call(xs[0])};
}

Shape Layer::compute_output_shape(const Shape& input_shape) {
  auto probe = make_node(Node::Kind::kInput, input_shape, "probe");
  detail::CallFrame frame(this);
  if (!built_) {
    build_shapes_ = {input_shape};
    build(input_shape);
    built_ = true;
  }
  detail::CallDepthGuard guard;
  return call(SymbolicTensor(probe, nullptr)).shape();
}

void Layer::track(const std::shared_ptr<Layer>& layer) {
  if (!layer)
    throw Error("Layer \"{}\" ({}): track() received an empty layer", name_, class_name());
  if (layer.get() == this) return;
  for (auto& l : sublayers_) {
    if (l == layer) return;
  }
  // A layer may not own (directly or not) the layer that owns it.
  std::vector<const Layer*> stack{layer.get()};
  while (!stack.empty()) {
    const Layer* l = stack.back();
    stack.pop_back();
    if (l == this) {
      throw Error("Layer \"{}\" ({}) cannot own layer \"{}\", which owns it", name_, class_name(),
                  layer->name());
    }
    for (auto& s : l->sublayers_) stack.push_back(s.get());
  }
  sublayers_.push_back(layer);
}

void Layer::set_trainable(bool trainable) {
  trainable_ = trainable;
  for (auto& l : sublayers_) l->set_trainable(trainable);
}

void Layer::add_update(const SymbolicTensor& variable, const SymbolicTensor& new_value,
                       bool at_inference) {
  if (!variable.defined() || variable.node()->kind != Node::Kind::kVariable) {
    throw Error("Layer \"{}\" ({}): add_update() needs a weight made by add_weight()", name_,
                class_name());
  }
  const auto& data = variable.node()->variable;
  bool own = false;
  for (auto& w : own_weights_) own |= w.data() == data;
  bool state = false;
  for (auto& w : state_variables_) state |= w.data() == data;
  own |= state;
  if (!own) {
    throw Error("Layer \"{}\" ({}): add_update() on \"{}\", which is not a weight of this layer",
                name_, class_name(), data->path);
  }
  if (data->trainable) {
    throw Error(
        "Layer \"{}\" ({}): add_update() on trainable weight \"{}\"; state updates are for "
        "non-trainable weights (add_weight(..., trainable = false))",
        name_, class_name(), data->path);
  }
  const bool fits =
      new_value.defined() && (state ? shapes_compatible(new_value.shape(), shape_of(data->value))
                                    : new_value.shape() == shape_of(data->value));
  if (!fits) {
    throw Error("Layer \"{}\" ({}): the update of \"{}\" has shape {}, the weight {}", name_,
                class_name(), data->path,
                new_value.defined() ? shape_str(new_value.shape()) : std::string("(empty)"),
                shape_str(shape_of(data->value)));
  }
  detail::CallFrame* frame = detail::current_frame();
  if (frame == nullptr) return;  // not inside a call (a shape probe): nothing to update
  frame->updates.push_back(StateUpdate{data, new_value.node(), shared_from_this(), at_inference});
}

SymbolicTensor Layer::add_state_variable(std::string_view name, const Shape& shape) {
  auto data = std::make_shared<VariableData>();
  data->name = std::string(name);
  data->path = fmt::format("{}/{}", name_, name);
  resize_to(data->value, shape);
  data->value.fill(0.0f);
  data->trainable = false;
  state_variables_.emplace_back(data);
  auto node = make_node(Node::Kind::kVariable, shape, data->path);
  node->variable = data;
  data->node = node;
  return SymbolicTensor(node, nullptr);
}

SymbolicTensor Layer::operator()(const SymbolicTensor& x) {
  SymbolicTensors out = (*this)(std::vector<SymbolicTensor>{x});
  if (out.size() != 1) {
    throw Error("Layer \"{}\" ({}) returned {} outputs; call it with a list to get them all", name_,
                class_name(), out.size());
  }
  return out[0];
}

SymbolicTensors Layer::operator()(const std::vector<SymbolicTensor>& xs) {
  if (xs.empty()) throw Error("Layer \"{}\" ({}) was called with no inputs", name_, class_name());
  std::vector<Shape> shapes;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (!xs[i].defined()) {
      throw Error("Input {} of layer \"{}\" ({}) is an empty symbolic tensor", i, name_,
                  class_name());
    }
    shapes.push_back(xs[i].shape());
  }
  const bool user_call = detail::layer_call_depth() == 0;
  detail::CallFrame* parent = detail::current_frame();
  if (parent && parent->layer != this && parent->layer->tracks_called_layers()) {
    parent->layer->track(shared_from_this());
  }
  detail::CallFrame frame(this);
  std::vector<SymbolicTensor> outs;
  {
    detail::CallDepthGuard guard;
    try {
      if (!built_) {
        build_shapes_ = shapes;
        build_list(shapes);
        built_ = true;
      }
      outs = call_list(xs);
    } catch (const Error& e) {
      std::string what = e.what();
      if (what.find('"' + name_ + '"') != std::string::npos) throw;
      throw Error("Exception in layer \"{}\" ({}): {}", name_, class_name(), what);
    }
  }
  auto record = std::make_shared<LayerCall>();
  record->layer = shared_from_this();
  record->inputs = xs;
  record->id = detail::next_id();
  record->node_index = user_call ? num_calls_++ : num_calls_;
  record->updates = frame.updates;
  if (parent)
    parent->updates.insert(parent->updates.end(), frame.updates.begin(), frame.updates.end());
  SymbolicTensors result;
  for (auto& o : outs) {
    record->outputs.push_back(o.node());
    result.emplace_back(o.node(), record);
  }
  return result;
}

namespace {
// Appends the weights of `from` to `out`, each once.
void append_unique(std::vector<Variable>& out, const std::vector<Variable>& from) {
  for (auto& w : from) {
    if (std::find(out.begin(), out.end(), w) == out.end()) out.push_back(w);
  }
}
}  // namespace

std::vector<Variable> Layer::weights() const {
  std::vector<Variable> out = own_weights_;
  for (auto& l : sublayers_) append_unique(out, l->weights());
  return out;
}

std::vector<Variable> Layer::trainable_weights() const {
  std::vector<Variable> out;
  if (!trainable_) return out;
  for (auto& w : own_weights_) {
    if (w.trainable()) out.push_back(w);
  }
  for (auto& l : sublayers_) append_unique(out, l->trainable_weights());
  return out;
}

std::vector<Variable> Layer::non_trainable_weights() const {
  if (!trainable_) return weights();
  std::vector<Variable> out;
  for (auto& w : own_weights_) {
    if (!w.trainable()) out.push_back(w);
  }
  for (auto& l : sublayers_) append_unique(out, l->non_trainable_weights());
  return out;
}

std::vector<Tensor> Layer::get_weights() const {
  std::vector<Tensor> out;
  for (auto& w : weights()) out.push_back(w.value());
  return out;
}

void Layer::set_weights(const std::vector<Tensor>& values) {
  auto ws = weights();
  if (values.size() != ws.size()) {
    throw Error("Layer \"{}\" ({}) expects {} weight arrays, but set_weights received {}", name_,
                class_name(), ws.size(), values.size());
  }
  for (std::size_t i = 0; i < ws.size(); ++i) {
    if (shape_of(values[i]) != ws[i].shape()) {
      throw Error("Layer \"{}\" ({}): weight {} \"{}\" expects shape {}, received {}", name_,
                  class_name(), i, ws[i].path(), shape_str(ws[i].shape()),
                  shape_str(shape_of(values[i])));
    }
  }
  for (std::size_t i = 0; i < ws.size(); ++i) ws[i].assign(values[i]);
}

std::size_t Layer::count_params() const {
  std::size_t n = 0;
  for (auto& w : weights()) n += w.size();
  return n;
}

SymbolicTensor Layer::add_weight(std::string_view name, const Shape& shape, const char* initializer,
                                 bool trainable) {
  return add_weight(name, shape, initializers::InitializerRef(initializer), trainable, {}, {});
}

SymbolicTensor Layer::add_weight(std::string_view name, const Shape& shape,
                                 const initializers::InitializerRef& initializer, bool trainable) {
  return add_weight(name, shape, initializer, trainable, {}, {});
}

SymbolicTensor Layer::add_weight(std::string_view name, const Shape& shape,
                                 const initializers::InitializerRef& initializer, bool trainable,
                                 const regularizers::RegularizerRef& regularizer,
                                 const constraints::ConstraintRef& constraint) {
  auto data = std::make_shared<VariableData>();
  data->name = std::string(name);
  // Keras 3 paths: the names of the layers being called, outermost first ("block/dense").
  detail::CallFrame* frame = detail::current_frame();
  const std::string scope = frame && frame->layer == this ? detail::current_path() : name_;
  data->path = fmt::format("{}/{}", scope, name);
  data->value = initializers::make(initializer, shape, fmt::format("weight \"{}\"", data->path));
  data->trainable = trainable;
  data->regularizer = regularizer.get();
  data->constraint = constraint.get();
  own_weights_.emplace_back(data);
  auto node = make_node(Node::Kind::kVariable, shape, data->path);
  node->variable = data;
  data->node = node;
  return SymbolicTensor(node, nullptr);
}

}  // namespace plexus
