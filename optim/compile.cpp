// compile(): the training step as a graph::Function over the model's graph (see
// optim/train_state.hpp), and metrics_names().
#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"
#include "graph/ops.hpp"
#include "graph/regularizers.hpp"
#include "layers/masking.hpp"
#include "optim/metrics.hpp"
#include "optim/model_state.hpp"
#include "optim/train_state.hpp"

namespace plexus {

using optim::OutputState;
using optim::TrainState;

namespace optim {

// The training Function of `model` for st.compile_options, in `st` (a compiled model's
// state, or compute_gradients(x, y, loss)'s own, which needs no compile()).
void build_train_graph(const Model& model, TrainState& st);

std::string loss_key(const TrainState& st, const OutputState& o) {
  return st.outputs.size() > 1 ? o.name + "_loss" : "loss";
}
std::string metric_key(const TrainState& st, const OutputState& o, const std::string& m) {
  return st.outputs.size() > 1 ? o.name + "_" + m : m;
}

}  // namespace optim

namespace {
std::string spec_name(const MetricSpec& m) { return m.object ? m.object->name() : m.name; }
}  // namespace

void Model::compile(OptimizerSpec optimizer, LossSpec loss, MetricsSpec metrics) {
  compile(CompileOptions{.optimizer = std::move(optimizer),
                         .loss = std::move(loss),
                         .loss_weights = {},
                         .metrics = std::move(metrics)});
}

void Model::compile(CompileOptions options) {
  auto st = std::make_shared<TrainState>();
  // An optimizer object is used as given (its state persists across fits), as in Keras.
  st->optimizer =
      options.optimizer.object ? options.optimizer.object : optim::get(options.optimizer.name);
  // A subclassed model's train_step computes its own loss: compile(kw::optimizer = "adam").
  const bool own_loss = options.loss.empty() && custom_steps();
  if (options.loss.empty() && !own_loss) {
    throw Error("Model \"{}\": compile() needs a loss (e.g. .loss = \"mse\")", name());
  }
  st->compile_options = std::make_shared<CompileOptions>(std::move(options));
  state_->train = st;
  if (has_graph() && !own_loss) optim::build_train_graph(*this);
}

bool Model::compiled() const { return state_->train != nullptr; }

optim::Optimizer& Model::optimizer() const {
  if (!state_->train) throw Error("Model \"{}\" has not been compiled", name());
  return *state_->train->optimizer;
}

std::vector<std::string> Model::metrics_names() const {
  if (!state_->train) throw Error("Model \"{}\" has not been compiled", name());
  if (custom_steps() && state_->train->compile_options->loss.empty()) {
    std::vector<std::string> names;  // a custom step's trackers (Keras's metrics property)
    for (const metrics::Metric* m : metrics()) names.push_back(m->name());
    return names;
  }
  const TrainState& st = optim::ready_state(*this);
  std::vector<std::string> names{"loss"};
  if (st.outputs.size() > 1) {
    for (auto& o : st.outputs) {
      if (o.loss) names.push_back(optim::loss_key(st, o));
    }
  }
  for (auto& o : st.outputs) {
    if (!o.loss) continue;
    if (st.metrics_resolved) {
      for (auto& m : o.metrics) names.push_back(optim::metric_key(st, o, m->name()));
    } else {
      for (auto& m : o.metric_specs) names.push_back(optim::metric_key(st, o, spec_name(m)));
    }
  }
  return names;
}

namespace optim {

TrainState& TrainAccess::state(const Model& model) {
  if (!model.state_->train) {
    throw Error(
        "Model \"{}\" must be compiled before training or evaluating it; call "
        "compile() first",
        model.name());
  }
  return *model.state_->train;
}
bool TrainAccess::has_state(const Model& model) { return model.state_->train != nullptr; }
void TrainAccess::set_state(const Model& model, std::shared_ptr<TrainState> state) {
  model.state_->train = std::move(state);
}

TrainState& ready_state(const Model& model) {
  TrainState& st = TrainAccess::state(model);
  if (!st.executor) build_train_graph(model);
  return st;
}

void invalidate_train_graph(TrainState& st) {
  st.executor.reset();
  st.inference_executor.reset();
  st.ran = nullptr;
  st.function = graph::Function();
  st.inference_function = graph::Function();
  st.outputs.clear();
  st.metrics_resolved = false;
}

namespace {

// The loss item of each output, from one loss, a list in output order, or a map by name.
std::vector<LossItem> losses_per_output(const Model& model, const CompileOptions& opt,
                                        const std::vector<std::string>& out_names) {
  const std::size_t n_out = out_names.size();
  std::vector<LossItem> per_output(n_out);
  if (!opt.loss.by_name.empty()) {
    for (auto& [k, item] : opt.loss.by_name) {
      auto it = std::find(out_names.begin(), out_names.end(), k);
      if (it == out_names.end()) {
        throw Error("compile: model \"{}\" has no output named \"{}\"; its outputs are [{}]",
                    model.name(), k, fmt::format("{}", fmt::join(out_names, ", ")));
      }
      per_output[it - out_names.begin()] = item;
    }
  } else if (opt.loss.items.size() == 1) {
    std::fill(per_output.begin(), per_output.end(), opt.loss.items[0]);
  } else if (opt.loss.items.size() == n_out) {
    per_output = opt.loss.items;
  } else {
    throw Error("compile: model \"{}\" has {} outputs but {} losses were given", model.name(),
                n_out, opt.loss.items.size());
  }
  if (!opt.loss_weights.list.empty() && opt.loss_weights.list.size() != n_out) {
    throw Error(
        "compile: loss_weights lists {} weights, but model \"{}\" has {} outputs ([{}]); give "
        "one per output, in output order, or a dict by output name",
        opt.loss_weights.list.size(), model.name(), n_out,
        fmt::format("{}", fmt::join(out_names, ", ")));
  }
  for (auto& [k, w] : opt.loss_weights) {
    if (std::find(out_names.begin(), out_names.end(), k) == out_names.end()) {
      throw Error("compile: loss_weights names \"{}\", which is not an output of model \"{}\"", k,
                  model.name());
    }
  }
  return per_output;
}

// The metric specs of each output: the flat list for all, or the dict form by name.
std::vector<std::vector<MetricSpec>> metrics_per_output(const Model& model,
                                                        const CompileOptions& opt,
                                                        const std::vector<std::string>& out_names) {
  std::vector<std::vector<MetricSpec>> per_output(out_names.size(), opt.metrics.all);
  if (!opt.metrics.per_output.empty()) {
    if (opt.metrics.per_output.size() != out_names.size()) {
      throw Error(
          "compile: metrics lists {} lists, but model \"{}\" has {} outputs ([{}]); give one "
          "list per output, in output order, or a dict by output name",
          opt.metrics.per_output.size(), model.name(), out_names.size(),
          fmt::format("{}", fmt::join(out_names, ", ")));
    }
    return opt.metrics.per_output;
  }
  if (!opt.metrics.by_output.empty()) {
    for (auto& list : per_output) list.clear();
    for (auto& [k, list] : opt.metrics.by_output) {
      auto it = std::find(out_names.begin(), out_names.end(), k);
      if (it == out_names.end()) {
        throw Error(
            "compile: metrics name \"{}\", which is not an output of model \"{}\"; its outputs "
            "are [{}]",
            k, model.name(), fmt::format("{}", fmt::join(out_names, ", ")));
      }
      auto& dst = per_output[it - out_names.begin()];
      dst.insert(dst.end(), list.begin(), list.end());
    }
  }
  return per_output;
}

}  // namespace

void build_train_graph(const Model& model) { build_train_graph(model, TrainAccess::state(model)); }

void build_train_graph(const Model& model, TrainState& st) {
  const CompileOptions& opt = *st.compile_options;
  auto& g = model.graph();
  const auto out_names = model.output_names();
  const std::size_t n_out = g.outputs().size();
  const std::vector<LossItem> per_output = losses_per_output(model, opt, out_names);
  const auto metric_specs = metrics_per_output(model, opt, out_names);
  // Keras names an output by the layer that made it, so two outputs of one layer (an LSTM's
  // return_state, a layer called twice) share a name, and their losses, metrics and logs
  // would too.
  for (std::size_t i = 0; i < n_out; ++i) {
    for (std::size_t j = i + 1; j < n_out; ++j) {
      if (out_names[i] != out_names[j]) continue;
      const auto used = [&](std::size_t o) {
        return !per_output[o].empty() || !metric_specs[o].empty();
      };
      if (!used(i) || !used(j)) continue;
      throw Error(
          "Model \"{}\": outputs {} and {} both come from layer \"{}\", and Keras names outputs "
          "by their layer, so their losses and metrics (\"{}_loss\", ...) would collide. Give "
          "one its own layer: px::layers::Activation(\"linear\", {{.name = \"{}_{}\"}})(output)",
          model.name(), i, j, out_names[i], out_names[i], out_names[i], j);
    }
  }

  st.outputs.clear();
  std::vector<SymbolicTensor> inputs = g.inputs();
  std::vector<SymbolicTensor> targets, weights;
  std::vector<graph::NamedOutput> outs{{"loss", {}}};
  SymbolicTensor total;
  for (std::size_t o = 0; o < n_out; ++o) {
    OutputState os;
    os.name = out_names[o];
    const SymbolicTensor& pred = g.outputs()[o];
    if (!per_output[o].empty()) {
      os.loss = per_output[o].object ? per_output[o].object : losses::get(per_output[o].name);
      os.loss->check_output(pred.shape(), os.name);
      if (!opt.loss_weights.list.empty()) {
        os.weight = opt.loss_weights.list[o];
      } else {
        auto w = opt.loss_weights.find(os.name);
        os.weight = w == opt.loss_weights.end() ? 1.0 : w->second;
      }
      os.target_shape = os.loss->target_shape(pred.shape());
      // Placeholders belong to no layer, so the loss's ops never become model layers.
      SymbolicTensor target = graph::placeholder(os.target_shape, os.name + "_target");
      SymbolicTensor sw = graph::placeholder({-1}, os.name + "_sample_weight");
      SymbolicTensor bare_pred(pred.node(), nullptr);
      SymbolicTensor per = os.loss->per_sample(target, bare_pred);
      const SymbolicTensor mask = masking::mask_of(pred);
      SymbolicTensor value;
      if (mask.defined() && per.rank() >= 2) {
        // Keras 3's compute_loss on an output with a mask ([N, T]): the mask joins the sample
        // weights, step by step, and "sum_over_batch_size" divides by the unmasked steps:
        // sum(loss * sample_weight * mask) / (sum(mask) + epsilon). The metrics get the same
        // step weights (the "<output>_step_weight" output).
        while (per.rank() > 2) per = ops::mean(per, {-1});
        SymbolicTensor steps = ops::multiply(mask, ops::reshape(sw, {-1, 1}));
        value = ops::divide(ops::sum(ops::multiply(per, steps)), ops::add(ops::sum(mask), 1e-7f));
        os.step_weight_out = outs.size();
        outs.push_back({os.name + "_step_weight", steps});
      } else {
        while (per.rank() > 1) per = ops::mean(per, {-1});
        // Keras's "sum_over_batch_size": sum(loss * sample_weight) / batch size.
        value = ops::mean(ops::multiply(per, sw));
      }
      SymbolicTensor weighted = os.weight == 1.0 ? value : ops::multiply(value, float(os.weight));
      total = total.defined() ? ops::add(total, weighted) : weighted;
      os.metric_specs = metric_specs[o];
      os.from_flat_list = opt.metrics.by_output.empty();
      targets.push_back(target);
      weights.push_back(sw);
      os.loss_out = outs.size();
      outs.push_back({os.name + "_loss", value});
      os.pred_out = outs.size();
      outs.push_back({os.name, bare_pred});
    }
    st.outputs.push_back(std::move(os));
  }
  if (!total.defined()) throw Error("compile: no output of model \"{}\" has a loss", model.name());
  // Keras adds the weights' regularization penalties to the loss (and so to the logged
  // "loss"), on the weights' own nodes so their gradients add up with the model's.
  for (auto& w : model.weights()) {
    if (w.data()->regularizer) {
      total = ops::add(total, regularizers::penalty(*w.data()->regularizer, w.data()));
    }
  }
  outs[0].tensor = total;
  st.trained.clear();
  for (std::size_t o = 0; o < st.outputs.size(); ++o) {
    if (st.outputs[o].loss) st.trained.push_back(o);
  }
  inputs.insert(inputs.end(), targets.begin(), targets.end());
  inputs.insert(inputs.end(), weights.begin(), weights.end());
  // The training Function computes every state update (BatchNormalization's moving
  // statistics); evaluate's computes only those applied at inference (a stateful RNN's
  // states), on the same outputs otherwise (so an output's index is the same in both).
  const std::vector<StateUpdate> updates = g.updates();
  st.inference_function =
      graph::Function(inputs, outs, updates, graph::UpdateSet::kInference, model.name() + "_test");
  st.inference_executor.reset();
  st.function = graph::Function(std::move(inputs), std::move(outs), updates, graph::UpdateSet::kAll,
                                model.name() + "_train");
  st.loss_out = st.function.output_index("loss");

  st.trainable = model.trainable_weights();
  graph::Executor::Options eo;
  st.trainable_raw.clear();
  for (auto& v : st.trainable) {
    eo.wrt_variables.push_back(v.data());
    st.trainable_raw.push_back(v.data().get());
  }
  st.executor = st.function.make_executor(eo);
  st.grad_ptrs.assign(st.trainable.size(), nullptr);
  st.metrics_resolved = false;
}

}  // namespace optim
}  // namespace plexus
