// Recurrent layers: SimpleRNN, LSTM, GRU with Keras 3's defaults, gate orders and weight
// layouts, so Keras weights load as they are:
//   auto x = px::Input({-1, 16});                       // any number of timesteps
//   auto h = px::layers::LSTM(64)(x);                   // [N, 64]: the last output
//   auto s = px::layers::GRU(32, {.return_sequences = true})(x);         // [N, T, 32]
//   auto outs = px::layers::LSTM(8, {.return_state = true})({x});        // output, h, c
//   auto y = px::layers::LSTM(8)({x, h0, c0});          // initial states as inputs
// Weights (Keras order and shapes, paths "lstm/lstm_cell/kernel" as Keras 3's cell):
//   kernel (features, k * units), recurrent_kernel (units, k * units), bias (k * units),
//   k = 1 (SimpleRNN), 4 (LSTM: gates i, f, c, o), 3 (GRU: z, r, h; reset_after = true:
//   bias (2, 3 * units), input and recurrent bias).
// The whole sequence runs as one fused kernel (kernels::recurrent). A mask on the input
// (Embedding(mask_zero), Masking; layers/masking.hpp) skips steps: the state is carried and
// the output repeats the previous one; with return_sequences the mask is passed on.
// GRU reset_after = false (Keras 2's default) resets the state before the recurrent matmul
// and has one bias (3 * units). dropout drops input features (one mask per sequence, shared
// by the timesteps and the gates); recurrent_dropout is Keras 3's (implementation 1): in
// training, one [batch, units] mask per gate (k of them), drawn once per call from the
// library generator (px::utils::set_random_seed; `seed` is kept in the config, as Dropout's)
// and applied to h_{t-1} in that gate's recurrent term at every step; the GRU's
// z * h_{t-1} and the LSTM's cell state use the undropped state, masked steps carry it, and
// predict/evaluate drop nothing. With recurrent_dropout, dropout is per gate too (k masks
// [batch, features]), as in Keras 3.
// stateful = true (Keras's): the final states of each call are kept in state variables
// ([batch, units]; LSTM h, c) and the next call starts from them; predict, evaluate, fit,
// train/test_on_batch and eager calls all write them back (StateUpdate::at_inference).
// Needs a static batch size on the Input (px::Input({10, 3}, {.batch_size = 4}); px::Error
// naming the layer otherwise); reset_states() zeroes them. Given initial states are used
// instead (Keras 2 and 3) and the final states still kept. As in Keras 3 the states are
// not weights (not counted, saved or loaded). Bidirectional of a stateful layer: refused.
//   auto in = px::Input({10, 3}, {.batch_size = 4});
//   auto lstm = px::layers::LSTM(8, {.stateful = true});
//   px::Model m(in, lstm(in));  m.predict(part1, {.batch_size = 4});  m.predict(part2, ...);
//   lstm->reset_states();
// Not supported (px::Error when asked for): activations other than
// tanh/sigmoid/relu/hard_sigmoid/linear.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/constraints.hpp"
#include "core/initializers.hpp"
#include "core/kernels.hpp"
#include "core/keywords.hpp"
#include "graph/layer.hpp"
#include "graph/regularizers.hpp"

namespace plexus::layers {

// Fields in the order of Keras's SimpleRNN constructor after units.
struct SimpleRNNOptions {
  std::string activation = "tanh";
  bool use_bias = true;
  initializers::InitializerRef kernel_initializer = "glorot_uniform";
  initializers::InitializerRef recurrent_initializer = "orthogonal";
  initializers::InitializerRef bias_initializer = "zeros";
  regularizers::RegularizerRef kernel_regularizer = nullptr;
  regularizers::RegularizerRef recurrent_regularizer = nullptr;
  regularizers::RegularizerRef bias_regularizer = nullptr;
  regularizers::RegularizerRef activity_regularizer = nullptr;  // kept in the config
  constraints::ConstraintRef kernel_constraint = nullptr;
  constraints::ConstraintRef recurrent_constraint = nullptr;
  constraints::ConstraintRef bias_constraint = nullptr;
  double dropout = 0.0;  // on the inputs, one mask per sequence (Keras's DropoutRNNCell)
  double recurrent_dropout = 0.0;
  bool return_sequences = false;
  bool return_state = false;
  bool go_backwards = false;
  bool stateful = false;
  bool unroll = false;  // accepted; the fused kernel is the same either way
  std::optional<std::int64_t> seed = std::nullopt;
  bool zero_output_for_mask = false;  // Keras RNN: masked steps output zeros
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};
PLEXUS_CONFIG_FIELDS(SimpleRNNOptions, activation, use_bias, kernel_initializer,
                     recurrent_initializer, bias_initializer, kernel_regularizer,
                     recurrent_regularizer, bias_regularizer, activity_regularizer,
                     kernel_constraint, recurrent_constraint, bias_constraint, dropout,
                     recurrent_dropout, seed)

// Fields in the order of Keras's LSTM constructor after units.
struct LSTMOptions {
  std::string activation = "tanh";
  std::string recurrent_activation = "sigmoid";
  bool use_bias = true;
  initializers::InitializerRef kernel_initializer = "glorot_uniform";
  initializers::InitializerRef recurrent_initializer = "orthogonal";
  initializers::InitializerRef bias_initializer = "zeros";
  bool unit_forget_bias = true;  // the forget gate's bias starts at 1
  regularizers::RegularizerRef kernel_regularizer = nullptr;
  regularizers::RegularizerRef recurrent_regularizer = nullptr;
  regularizers::RegularizerRef bias_regularizer = nullptr;
  regularizers::RegularizerRef activity_regularizer = nullptr;
  constraints::ConstraintRef kernel_constraint = nullptr;
  constraints::ConstraintRef recurrent_constraint = nullptr;
  constraints::ConstraintRef bias_constraint = nullptr;
  double dropout = 0.0;
  double recurrent_dropout = 0.0;
  std::optional<std::int64_t> seed = std::nullopt;
  bool return_sequences = false;
  bool return_state = false;
  bool go_backwards = false;
  bool stateful = false;
  bool unroll = false;
  bool zero_output_for_mask = false;
  std::string name{};
  Shape input_shape{};
};
PLEXUS_CONFIG_FIELDS(LSTMOptions, activation, recurrent_activation, use_bias, kernel_initializer,
                     recurrent_initializer, bias_initializer, unit_forget_bias, kernel_regularizer,
                     recurrent_regularizer, bias_regularizer, activity_regularizer,
                     kernel_constraint, recurrent_constraint, bias_constraint, dropout,
                     recurrent_dropout, seed)

// Fields in the order of Keras's GRU constructor after units.
struct GRUOptions {
  std::string activation = "tanh";
  std::string recurrent_activation = "sigmoid";
  bool use_bias = true;
  initializers::InitializerRef kernel_initializer = "glorot_uniform";
  initializers::InitializerRef recurrent_initializer = "orthogonal";
  initializers::InitializerRef bias_initializer = "zeros";
  regularizers::RegularizerRef kernel_regularizer = nullptr;
  regularizers::RegularizerRef recurrent_regularizer = nullptr;
  regularizers::RegularizerRef bias_regularizer = nullptr;
  regularizers::RegularizerRef activity_regularizer = nullptr;
  constraints::ConstraintRef kernel_constraint = nullptr;
  constraints::ConstraintRef recurrent_constraint = nullptr;
  constraints::ConstraintRef bias_constraint = nullptr;
  double dropout = 0.0;
  double recurrent_dropout = 0.0;
  std::optional<std::int64_t> seed = std::nullopt;
  bool return_sequences = false;
  bool return_state = false;
  bool go_backwards = false;
  bool stateful = false;
  bool unroll = false;
  bool reset_after = true;
  bool zero_output_for_mask = false;
  std::string name{};
  Shape input_shape{};
};
PLEXUS_CONFIG_FIELDS(GRUOptions, activation, recurrent_activation, use_bias, kernel_initializer,
                     recurrent_initializer, bias_initializer, kernel_regularizer,
                     recurrent_regularizer, bias_regularizer, activity_regularizer,
                     kernel_constraint, recurrent_constraint, bias_constraint, dropout,
                     recurrent_dropout, seed, reset_after)

// What the three layers share, in one shape (each layer's options convert to it).
struct RecurrentSpec {
  std::string cell;  // "simple_rnn", "lstm", "gru"
  std::string activation, recurrent_activation = "sigmoid";
  bool use_bias = true;
  initializers::InitializerRef kernel_initializer, recurrent_initializer, bias_initializer;
  bool unit_forget_bias = false;
  regularizers::RegularizerRef kernel_regularizer, recurrent_regularizer, bias_regularizer;
  constraints::ConstraintRef kernel_constraint, recurrent_constraint, bias_constraint;
  double dropout = 0.0, recurrent_dropout = 0.0;
  bool return_sequences = false, return_state = false, go_backwards = false, stateful = false,
       unroll = false, reset_after = true, zero_output_for_mask = false;
};

// The recurrent layer: [N, T, F] (T may be unknown) -> [N, units] or [N, T, units], then
// the final states with return_state. Called on {x, states...} it starts from those states.
class RecurrentLayer : public Layer {
 public:
  RecurrentLayer(Dim units, RecurrentSpec spec, std::string_view name);
  void build_list(const std::vector<Shape>& input_shapes) override;
  void build(const Shape& input_shape) override { build_list({input_shape}); }
  SymbolicTensor call(const SymbolicTensor& x) override;
  std::vector<SymbolicTensor> call_list(const std::vector<SymbolicTensor>& xs) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  std::string activation_name() const override { return spec_.activation; }
  Dim units() const { return units_; }
  std::size_t num_states() const { return spec_.cell == "lstm" ? 2 : 1; }
  const RecurrentSpec& spec() const { return spec_; }
  // stateful = true: the final states of the last call ([batch, units] each; LSTM: h, c),
  // empty until the layer is first called. They are not weights (Keras 3 keeps them
  // untracked): not in weights(), get_weights() or saved files.
  std::vector<Variable> states() const;
  // Zeroes the states (Keras 3's reset_state(); reset_states() is its alias).
  void reset_state();
  void reset_states() { reset_state(); }

 protected:
  // name, trainable, dtype, then Keras's RNN keys (return_sequences, return_state,
  // go_backwards, stateful, unroll, zero_output_for_mask), then units.
  Config rnn_config() const;

 private:
  kernels::RecurrentConfig kernel_config(bool masked, bool initial_state) const;
  // stateful: creates the state variables on the first call, for the static batch size of
  // x's Inputs (px::Error naming the layer when there is none).
  void make_states(const SymbolicTensor& x);
  Dim units_;
  RecurrentSpec spec_;
  SymbolicTensor kernel_, recurrent_kernel_, bias_;
  std::vector<SymbolicTensor> states_;
};

class SimpleRNNLayer : public RecurrentLayer {
 public:
  SimpleRNNLayer(Dim units, SimpleRNNOptions options);
  std::string class_name() const override { return "SimpleRNN"; }
  const SimpleRNNOptions& options() const { return options_; }
  Config get_config() const override;
  static LayerRef from_config(const Config& config);

 private:
  SimpleRNNOptions options_;
};

class LSTMLayer : public RecurrentLayer {
 public:
  LSTMLayer(Dim units, LSTMOptions options);
  std::string class_name() const override { return "LSTM"; }
  const LSTMOptions& options() const { return options_; }
  Config get_config() const override;
  static LayerRef from_config(const Config& config);

 private:
  LSTMOptions options_;
};

class GRULayer : public RecurrentLayer {
 public:
  GRULayer(Dim units, GRUOptions options);
  std::string class_name() const override { return "GRU"; }
  const GRUOptions& options() const { return options_; }
  Config get_config() const override;
  static LayerRef from_config(const Config& config);

 private:
  GRUOptions options_;
};

LayerHandle<SimpleRNNLayer> SimpleRNN(Dim units, SimpleRNNOptions options = {});
LayerHandle<LSTMLayer> LSTM(Dim units, LSTMOptions options = {});
LayerHandle<GRULayer> GRU(Dim units, GRUOptions options = {});
PLEXUS_KEYWORD_FACTORY(LayerHandle<SimpleRNNLayer>, SimpleRNN, SimpleRNNOptions, (Dim, units))
PLEXUS_KEYWORD_FACTORY(LayerHandle<LSTMLayer>, LSTM, LSTMOptions, (Dim, units))
PLEXUS_KEYWORD_FACTORY(LayerHandle<GRULayer>, GRU, GRUOptions, (Dim, units))

}  // namespace plexus::layers

PLEXUS_KEYWORD(recurrent_activation, std::string)
PLEXUS_KEYWORD(recurrent_initializer, std::string)
PLEXUS_KEYWORD(unit_forget_bias, bool)
PLEXUS_KEYWORD(dropout, double)
PLEXUS_KEYWORD(recurrent_dropout, double)
PLEXUS_KEYWORD(return_sequences, bool)
PLEXUS_KEYWORD(return_state, bool)
PLEXUS_KEYWORD(go_backwards, bool)
PLEXUS_KEYWORD(stateful, bool)
PLEXUS_KEYWORD(unroll, bool)
PLEXUS_KEYWORD(reset_after, bool)
PLEXUS_KEYWORD(zero_output_for_mask, bool)
