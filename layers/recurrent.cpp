#include "layers/recurrent.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"
#include "core/json.hpp"
#include "graph/input_layer.hpp"
#include "graph/ops.hpp"
#include "layers/activations.hpp"
#include "layers/masking.hpp"

namespace plexus::layers {

namespace {

Dim gates_of(const std::string& cell) { return cell == "lstm" ? 4 : cell == "gru" ? 3 : 1; }

// Keras 3 keeps the weights on the cell: "lstm/lstm_cell/kernel".
void move_under_cell(const SymbolicTensor& weight, const std::string& cell_name) {
  auto& data = weight.node()->variable;
  const auto slash = data->path.rfind('/');
  const std::string scope =
      slash == std::string::npos ? std::string() : data->path.substr(0, slash);
  data->path = (scope.empty() ? "" : scope + "/") + cell_name + "/" + data->name;
  weight.node()->name = data->path;
}

// The options every recurrent layer has, copied into the shared spec.
template <typename O>
RecurrentSpec common_spec(const char* cell, const O& o) {
  RecurrentSpec s;
  s.cell = cell;
  s.use_bias = o.use_bias;
  s.kernel_initializer = o.kernel_initializer;
  s.recurrent_initializer = o.recurrent_initializer;
  s.bias_initializer = o.bias_initializer;
  s.kernel_regularizer = o.kernel_regularizer;
  s.recurrent_regularizer = o.recurrent_regularizer;
  s.bias_regularizer = o.bias_regularizer;
  s.kernel_constraint = o.kernel_constraint;
  s.recurrent_constraint = o.recurrent_constraint;
  s.bias_constraint = o.bias_constraint;
  s.dropout = o.dropout;
  s.recurrent_dropout = o.recurrent_dropout;
  s.return_sequences = o.return_sequences;
  s.return_state = o.return_state;
  s.go_backwards = o.go_backwards;
  s.stateful = o.stateful;
  s.unroll = o.unroll;
  s.zero_output_for_mask = o.zero_output_for_mask;
  return s;
}

const char* cell_class(const std::string& cell) {
  return cell == "lstm" ? "LSTM" : cell == "gru" ? "GRU" : "SimpleRNN";
}

}  // namespace

RecurrentLayer::RecurrentLayer(Dim units, RecurrentSpec spec, std::string_view name)
    : Layer(name), units_(units), spec_(std::move(spec)) {
  const char* cls = cell_class(spec_.cell);
  if (units_ <= 0) throw Error("{}: units must be positive, received {}", cls, units_);
  spec_.activation = activations::canonical_name(Config(spec_.activation), cls);
  spec_.recurrent_activation = activations::canonical_name(Config(spec_.recurrent_activation), cls);
  for (double rate : {spec_.dropout, spec_.recurrent_dropout}) {
    if (!(rate >= 0.0 && rate < 1.0)) {
      throw Error("{}: dropout rates must be in [0, 1), received {}", cls, rate);
    }
  }
  kernels::recurrent(kernel_config(false, false));  // rejects unsupported activations
}

kernels::RecurrentConfig RecurrentLayer::kernel_config(bool masked, bool initial_state) const {
  kernels::RecurrentConfig c;
  c.cell = spec_.cell;
  c.activation = spec_.activation;
  c.recurrent_activation = spec_.recurrent_activation;
  c.use_bias = spec_.use_bias;
  c.go_backwards = spec_.go_backwards;
  c.return_sequences = spec_.return_sequences;
  c.zero_output_for_mask = spec_.zero_output_for_mask;
  c.masked = masked;
  c.initial_state = initial_state;
  c.reset_after = spec_.reset_after;
  return c;
}

void RecurrentLayer::build_list(const std::vector<Shape>& input_shapes) {
  const Shape& x = input_shapes.at(0);
  if (x.size() != 3 || x[2] <= 0) {
    throw Error(
        "Input 0 of layer \"{}\" is incompatible with the layer: expected [batch, timesteps, "
        "features] with known features, received input with shape {}",
        name(), shape_str(x));
  }
  const Dim k = gates_of(spec_.cell);
  const std::string cell_name = to_snake_case(cell_class(spec_.cell)) + "_cell";
  kernel_ = add_weight("kernel", {x[2], k * units_}, spec_.kernel_initializer, true,
                       spec_.kernel_regularizer, spec_.kernel_constraint);
  recurrent_kernel_ =
      add_weight("recurrent_kernel", {units_, k * units_}, spec_.recurrent_initializer, true,
                 spec_.recurrent_regularizer, spec_.recurrent_constraint);
  move_under_cell(kernel_, cell_name);
  move_under_cell(recurrent_kernel_, cell_name);
  if (spec_.use_bias) {
    // GRU reset_after: an input and a recurrent bias; reset_after = false: one.
    const Shape shape =
        spec_.cell == "gru" && spec_.reset_after ? Shape{2, k * units_} : Shape{k * units_};
    bias_ = add_weight("bias", shape, spec_.bias_initializer, true, spec_.bias_regularizer,
                       spec_.bias_constraint);
    move_under_cell(bias_, cell_name);
    if (spec_.unit_forget_bias) {  // Keras: [init(units), ones(units), init(2 * units)]
      Tensor& b = bias_.node()->variable->value;
      std::fill(b.data() + units_, b.data() + 2 * units_, 1.0f);
    }
  }
}

SymbolicTensor RecurrentLayer::call(const SymbolicTensor& x) { return call_list({x}).at(0); }

std::vector<SymbolicTensor> RecurrentLayer::call_list(const std::vector<SymbolicTensor>& xs) {
  const std::size_t states = xs.size() - 1;
  if (states != 0 && states != num_states()) {
    throw Error("Layer \"{}\" ({}) takes the sequence and {} initial state{}, received {} inputs",
                name(), class_name(), num_states(), num_states() == 1 ? "" : "s", xs.size());
  }
  SymbolicTensor x = xs[0];
  if (x.rank() != 3 || x.shape()[2] != kernel_.shape()[0]) {
    throw Error(
        "Input 0 of layer \"{}\" is incompatible with the layer: expected [batch, timesteps, {}], "
        "received input with shape {}",
        name(), kernel_.shape()[0], shape_str(x.shape()));
  }
  const SymbolicTensor mask = masking::mask_of(x);
  // Keras 3's recurrent dropout (implementation 1): one [batch, units] mask per gate, drawn
  // once per call in training and shared by the timesteps; ones at inference. The input
  // dropout is then per gate too ([batch, features] each).
  SymbolicTensor rec_mask, in_mask;
  if (spec_.recurrent_dropout > 0.0) {
    const Dim k = gates_of(spec_.cell);
    rec_mask = ops::dropout_mask(x, static_cast<float>(spec_.recurrent_dropout), k * units_);
    if (spec_.dropout > 0.0) {
      in_mask = ops::dropout_mask(x, static_cast<float>(spec_.dropout), k * kernel_.shape()[0]);
    }
  }
  // Keras's DropoutRNNCell: one input mask per sequence, shared by its timesteps.
  if (spec_.dropout > 0.0 && !in_mask.defined()) {
    x = ops::dropout(x, static_cast<float>(spec_.dropout), {-1, 1, -1});
  }
  std::vector<SymbolicTensor> in = {x, kernel_, recurrent_kernel_};
  if (spec_.use_bias) in.push_back(bias_);
  if (mask.defined()) in.push_back(mask);
  if (rec_mask.defined()) in.push_back(rec_mask);
  if (in_mask.defined()) in.push_back(in_mask);
  for (std::size_t s = 1; s < xs.size(); ++s) in.push_back(xs[s]);
  // Keras 3: a stateful layer starts from its state variables unless given initial states,
  // and writes its final states back either way.
  if (spec_.stateful) {
    make_states(xs[0]);
    if (states == 0) {
      for (const auto& s : states_) in.push_back(s);
    }
  }
  kernels::RecurrentConfig config = kernel_config(mask.defined(), states > 0 || spec_.stateful);
  config.recurrent_dropout = rec_mask.defined();
  config.input_dropout = in_mask.defined();
  std::vector<SymbolicTensor> outs = ops::apply_all(kernels::recurrent(config), in);
  if (spec_.stateful) {
    for (std::size_t s = 0; s < states_.size(); ++s) add_update(states_[s], outs[1 + s], true);
  }
  if (spec_.return_sequences && mask.defined()) masking::set_mask(outs[0], mask);
  if (!spec_.return_state) outs.resize(1);
  return outs;
}

void RecurrentLayer::make_states(const SymbolicTensor& x) {
  const Dim batch = graph::static_batch_size(x);
  if (!states_.empty()) {
    const Dim have = states_[0].shape()[0];
    if (batch > 0 && batch != have) {
      throw Error(
          "Layer \"{}\" ({}, stateful = true) keeps states for a batch of {}, but this call's "
          "input has a static batch size of {}",
          name(), class_name(), have, batch);
    }
    return;
  }
  if (batch <= 0) {
    throw Error(
        "Layer \"{}\" ({}): when using stateful = true in a RNN, the batch size must be "
        "static. Found dynamic batch size: sequence.shape={}; give the model's Input a batch "
        "size (px::Input(shape, {{.batch_size = n}}), Keras's batch_size / batch_shape)",
        name(), class_name(), shape_str(x.shape()));
  }
  for (std::size_t s = 0; s < num_states(); ++s) {
    states_.push_back(
        add_state_variable(s == 0 ? "rnn_state" : fmt::format("rnn_state_{}", s), {batch, units_}));
  }
}

void RecurrentLayer::reset_state() {
  for (const auto& s : states_) s.node()->variable->value.fill(0.0f);
}

std::vector<Variable> RecurrentLayer::states() const {
  std::vector<Variable> out;
  for (const auto& s : states_) out.emplace_back(s.node()->variable);
  return out;
}

Shape RecurrentLayer::compute_output_shape(const Shape& input_shape) {
  if (input_shape.size() != 3) {
    throw Error("{} \"{}\": expected [batch, timesteps, features], received {}", class_name(),
                name(), shape_str(input_shape));
  }
  if (spec_.return_sequences) return {input_shape[0], input_shape[1], units_};
  return {input_shape[0], units_};
}

Config RecurrentLayer::rnn_config() const {
  Config c = Layer::get_config();
  c["return_sequences"] = spec_.return_sequences;
  c["return_state"] = spec_.return_state;
  c["go_backwards"] = spec_.go_backwards;
  c["stateful"] = spec_.stateful;
  c["unroll"] = spec_.unroll;
  c["zero_output_for_mask"] = spec_.zero_output_for_mask;
  c["units"] = units_;
  return c;
}

// --- the three layers ------------------------------------------------------------------------

namespace {
RecurrentSpec simple_spec(const SimpleRNNOptions& o) {
  RecurrentSpec s = common_spec("simple_rnn", o);
  s.activation = o.activation;
  return s;
}
RecurrentSpec lstm_spec(const LSTMOptions& o) {
  RecurrentSpec s = common_spec("lstm", o);
  s.activation = o.activation;
  s.recurrent_activation = o.recurrent_activation;
  s.unit_forget_bias = o.unit_forget_bias;
  return s;
}
RecurrentSpec gru_spec(const GRUOptions& o) {
  RecurrentSpec s = common_spec("gru", o);
  s.activation = o.activation;
  s.recurrent_activation = o.recurrent_activation;
  s.reset_after = o.reset_after;
  return s;
}

// The RNN keys of a config into the options struct (the cell keys come from from_json).
template <typename O>
O options_from(const Config& config, const std::string& where) {
  config::refuse_set(config, where, {"time_major"});
  O o = config.get<O>();
  o.return_sequences = config::get_or(config, "return_sequences", false);
  o.return_state = config::get_or(config, "return_state", false);
  o.go_backwards = config::get_or(config, "go_backwards", false);
  o.stateful = config::get_or(config, "stateful", false);
  o.unroll = config::get_or(config, "unroll", false);
  o.zero_output_for_mask = config::get_or(config, "zero_output_for_mask", false);
  if (config.contains("activation"))
    o.activation = activations::canonical_name(config["activation"], where);
  o.name = config::name_of(config);
  return o;
}

Dim units_from(const Config& config, const std::string& where) {
  auto units = config.find("units");
  if (units == config.end() || !units->is_number_integer()) {
    throw Error("{}: the config needs an integer \"units\"", where);
  }
  return units->get<Dim>();
}
}  // namespace

SimpleRNNLayer::SimpleRNNLayer(Dim units, SimpleRNNOptions options)
    : RecurrentLayer(units, simple_spec(options), options.name), options_(std::move(options)) {
  options_.activation = spec().activation;
  set_declared_input_shape(options_.input_shape);
}
LSTMLayer::LSTMLayer(Dim units, LSTMOptions options)
    : RecurrentLayer(units, lstm_spec(options), options.name), options_(std::move(options)) {
  options_.activation = spec().activation;
  options_.recurrent_activation = spec().recurrent_activation;
  set_declared_input_shape(options_.input_shape);
}
GRULayer::GRULayer(Dim units, GRUOptions options)
    : RecurrentLayer(units, gru_spec(options), options.name), options_(std::move(options)) {
  options_.activation = spec().activation;
  options_.recurrent_activation = spec().recurrent_activation;
  set_declared_input_shape(options_.input_shape);
}

Config SimpleRNNLayer::get_config() const {
  Config c = rnn_config();
  c.update(Config(options_));
  return c;
}
Config LSTMLayer::get_config() const {
  Config c = rnn_config();
  c.update(Config(options_));
  return c;
}
Config GRULayer::get_config() const {
  Config c = rnn_config();
  c.update(Config(options_));
  return c;
}

LayerRef SimpleRNNLayer::from_config(const Config& config) {
  const std::string where = fmt::format("SimpleRNN \"{}\"", config::name_of(config));
  auto o = options_from<SimpleRNNOptions>(config, where);
  auto layer = make_layer<SimpleRNNLayer>(units_from(config, where), std::move(o));
  layer->apply_base_config(config);
  return layer;
}
LayerRef LSTMLayer::from_config(const Config& config) {
  const std::string where = fmt::format("LSTM \"{}\"", config::name_of(config));
  auto o = options_from<LSTMOptions>(config, where);
  if (config.contains("recurrent_activation"))
    o.recurrent_activation = activations::canonical_name(config["recurrent_activation"], where);
  auto layer = make_layer<LSTMLayer>(units_from(config, where), std::move(o));
  layer->apply_base_config(config);
  return layer;
}
LayerRef GRULayer::from_config(const Config& config) {
  const std::string where = fmt::format("GRU \"{}\"", config::name_of(config));
  auto o = options_from<GRUOptions>(config, where);
  if (config.contains("recurrent_activation"))
    o.recurrent_activation = activations::canonical_name(config["recurrent_activation"], where);
  auto layer = make_layer<GRULayer>(units_from(config, where), std::move(o));
  layer->apply_base_config(config);
  return layer;
}

LayerHandle<SimpleRNNLayer> SimpleRNN(Dim units, SimpleRNNOptions options) {
  return make_layer<SimpleRNNLayer>(units, std::move(options));
}
LayerHandle<LSTMLayer> LSTM(Dim units, LSTMOptions options) {
  return make_layer<LSTMLayer>(units, std::move(options));
}
LayerHandle<GRULayer> GRU(Dim units, GRUOptions options) {
  return make_layer<GRULayer>(units, std::move(options));
}

}  // namespace plexus::layers
