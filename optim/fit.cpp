// Model's training API: compile, fit, evaluate, train_on_batch, test_on_batch,
// compute_gradients. See optim/train_state.hpp for how the loss joins the graph.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "core/error.hpp"
#include "core/random.hpp"
#include "graph/detail.hpp"
#include "graph/model_state.hpp"
#include "graph/ops.hpp"
#include "optim/callbacks.hpp"
#include "optim/option_checks.hpp"
#include "optim/progbar.hpp"
#include "optim/train_state.hpp"

namespace plexus {

using optim::OutputState;
using optim::TrainState;

using optim::Dataset;

namespace {

std::string loss_key(const TrainState& st, const OutputState& o) {
  return st.outputs.size() > 1 ? o.name + "_loss" : "loss";
}
std::string metric_key(const TrainState& st, const OutputState& o, const std::string& m) {
  return st.outputs.size() > 1 ? o.name + "_" + m : m;
}
std::string spec_name(const MetricSpec& m) { return m.object ? m.object->name() : m.name; }

}  // namespace

// --- compile ---------------------------------------------------------------------------

void Model::compile(OptimizerSpec optimizer, LossSpec loss, std::vector<MetricSpec> metrics) {
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
  if (options.loss.empty()) {
    throw Error("Model \"{}\": compile() needs a loss (e.g. .loss = \"mse\")", name());
  }
  st->compile_options = std::make_shared<CompileOptions>(std::move(options));
  state_->train = st;
  if (has_graph()) optim::build_train_graph(*this);
}

bool Model::compiled() const { return state_->train != nullptr; }

optim::Optimizer& Model::optimizer() const {
  if (!state_->train) throw Error("Model \"{}\" has not been compiled", name());
  return *state_->train->optimizer;
}

std::vector<std::string> Model::metrics_names() const {
  if (!state_->train) throw Error("Model \"{}\" has not been compiled", name());
  if (!state_->train->executor) optim::build_train_graph(*this);
  const TrainState& st = *state_->train;
  std::vector<std::string> names{"loss"};
  if (st.outputs.size() > 1) {
    for (auto& o : st.outputs) {
      if (o.loss) names.push_back(loss_key(st, o));
    }
  }
  for (auto& o : st.outputs) {
    if (!o.loss) continue;
    for (auto& m : o.metric_specs) names.push_back(metric_key(st, o, spec_name(m)));
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

void build_train_graph(const Model& model) {
  TrainState& st = TrainAccess::state(model);
  const CompileOptions& opt = *st.compile_options;
  auto& g = model.graph();
  const auto out_names = model.output_names();
  const std::size_t n_out = g.outputs().size();

  // Resolve the loss of each output.
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
  for (auto& [k, w] : opt.loss_weights) {
    if (std::find(out_names.begin(), out_names.end(), k) == out_names.end()) {
      throw Error("compile: loss_weights names \"{}\", which is not an output of model \"{}\"", k,
                  model.name());
    }
  }

  detail::CallDepthGuard no_auto_layers;  // the loss graph is not part of the model's layers
  st.outputs.clear();
  SymbolicTensor total;
  std::vector<NodePtr> feeds, outs_loss, outs_pred;
  for (auto& t : g.inputs()) feeds.push_back(t.node());
  std::vector<NodePtr> target_feeds, weight_feeds;
  for (std::size_t o = 0; o < n_out; ++o) {
    OutputState os;
    os.name = out_names[o];
    const SymbolicTensor pred(g.outputs()[o].node(), nullptr);
    if (!per_output[o].empty()) {
      os.loss = per_output[o].object ? per_output[o].object : losses::get(per_output[o].name);
      os.loss->check_output(pred.shape(), os.name);
      auto w = opt.loss_weights.find(os.name);
      os.weight = w == opt.loss_weights.end() ? 1.0 : w->second;
      os.target_shape = os.loss->target_shape(pred.shape());
      os.target = make_node(Node::Kind::kInput, os.target_shape, os.name + "_target");
      os.sample_weight = make_node(Node::Kind::kInput, {-1}, os.name + "_sample_weight");
      SymbolicTensor per = os.loss->per_sample(SymbolicTensor(os.target, nullptr), pred);
      while (per.rank() > 1) per = ops::mean(per, {-1});
      // Keras's "sum_over_batch_size": sum(loss * sample_weight) / batch size.
      SymbolicTensor value =
          ops::mean(ops::multiply(per, SymbolicTensor(os.sample_weight, nullptr)));
      os.loss_value = value.node();
      SymbolicTensor weighted = os.weight == 1.0 ? value : ops::multiply(value, float(os.weight));
      total = total.defined() ? ops::add(total, weighted) : weighted;
      os.metric_specs = opt.metrics;
      target_feeds.push_back(os.target);
      weight_feeds.push_back(os.sample_weight);
      outs_loss.push_back(os.loss_value);
    }
    outs_pred.push_back(pred.node());
    st.outputs.push_back(std::move(os));
  }
  if (!total.defined()) throw Error("compile: no output of model \"{}\" has a loss", model.name());
  st.trained.clear();
  for (std::size_t o = 0; o < st.outputs.size(); ++o) {
    if (st.outputs[o].loss) st.trained.push_back(o);
  }
  st.total_loss = total.node();
  feeds.insert(feeds.end(), target_feeds.begin(), target_feeds.end());
  feeds.insert(feeds.end(), weight_feeds.begin(), weight_feeds.end());
  std::vector<NodePtr> outs{st.total_loss};
  outs.insert(outs.end(), outs_loss.begin(), outs_loss.end());
  outs.insert(outs.end(), outs_pred.begin(), outs_pred.end());

  st.trainable = model.trainable_weights();
  graph::Executor::Options eo;
  st.trainable_raw.clear();
  for (auto& v : st.trainable) {
    eo.wrt_variables.push_back(v.data());
    st.trainable_raw.push_back(v.data().get());
  }
  st.executor = std::make_unique<graph::Executor>(feeds, outs, eo);
  st.grad_ptrs.assign(st.trainable.size(), nullptr);
  st.zero_grads.clear();
  st.zero_grads.reserve(st.trainable.size());
  for (auto& v : st.trainable) st.zero_grads.push_back(xt::zeros<float>(v.value().shape()));
  st.metrics_resolved = false;
}

}  // namespace optim

namespace {

using optim::TrainAccess;

// The compiled state with its training graph (built on first use: a Sequential without an
// input shape only gets its graph from the first data).
TrainState& ready_state(const Model& model) {
  TrainState& st = TrainAccess::state(model);
  if (!st.executor) optim::build_train_graph(model);
  return st;
}

const std::vector<std::size_t>& trained_outputs(const TrainState& st) { return st.trained; }

// Targets in trained-output order from a tensor, a list or a map by output name.
std::vector<Data::Ref> target_list(const Model& model, const TrainState& st, const Data& y) {
  const auto& trained = trained_outputs(st);
  std::vector<Data::Ref> ys;
  if (!y.by_name.empty()) {
    for (auto o : trained) {
      auto it = y.by_name.find(st.outputs[o].name);
      if (it == y.by_name.end()) {
        throw Error("Model \"{}\": no target given for output \"{}\"", model.name(),
                    st.outputs[o].name);
      }
      ys.push_back(it->second);
    }
    return ys;
  }
  if (y.list.size() == trained.size()) return y.list;
  if (y.list.size() == st.outputs.size()) {
    for (auto o : trained) ys.push_back(y.list[o]);
    return ys;
  }
  throw Error("Model \"{}\" has {} output(s) with a loss, but {} target array(s) were given",
              model.name(), trained.size(), y.list.size());
}

void check_sparse_labels(const Tensor& y, Dim classes, const std::string& output) {
  const float* p = y.data();
  for (std::size_t i = 0; i < y.size(); ++i) {
    const float v = p[i];
    if (v != std::floor(v) || v < 0 || v >= static_cast<float>(classes)) {
      throw Error(
          "Target for output \"{}\": sparse label {} at index {} is outside [0, {}) (the output "
          "has {} classes)",
          output, v, i, classes, classes);
    }
  }
}

}  // namespace

Dataset optim::make_dataset(const Model& model, TrainState& st, const Data& x, const Data& y,
                            const std::optional<Tensor>& sample_weight,
                            const std::map<int, double>& class_weight) {
  Dataset d;
  d.xs = model.input_list(x);
  if (d.xs.empty()) throw Error("Model \"{}\": no input data given", model.name());
  model.check_inputs(d.xs);
  d.n = d.xs[0]->shape()[0];
  auto raw = target_list(model, st, y);
  const auto& trained = trained_outputs(st);
  for (std::size_t k = 0; k < trained.size(); ++k) {
    const OutputState& o = st.outputs[trained[k]];
    const Shape& pred_shape = model.outputs()[trained[k]].shape();
    Shape want = o.loss->conform_target_shape(shape_of(*raw[k]), pred_shape, o.name);
    Data::Ref ref = raw[k];
    if (want != shape_of(*raw[k])) {  // (N,) for (N, 1) and the like: reshape a copy
      Tensor reshaped = *raw[k];
      reshaped.reshape(std::vector<std::size_t>(want.begin(), want.end()));
      ref = Data::own(std::move(reshaped));
    }
    const Tensor& t = *ref;
    if (t.dimension() == 0 || t.shape()[0] != d.n) {
      throw Error(
          "Model \"{}\": inputs have {} samples but the target for output \"{}\" has {}; they "
          "must match",
          model.name(), d.n, o.name, t.dimension() ? t.shape()[0] : 0);
    }
    if (!all_finite(t)) {
      throw Error("Target for output \"{}\" of model \"{}\" contains NaN or Inf", o.name,
                  model.name());
    }
    if (o.loss->name() == "sparse_categorical_crossentropy") {
      check_sparse_labels(t, pred_shape.back(), o.name);
    }
    Tensor sw = xt::ones<float>({d.n});
    if (sample_weight) {
      if (sample_weight->size() != d.n) {
        throw Error("sample_weight has {} entries but there are {} samples", sample_weight->size(),
                    d.n);
      }
      if (!all_finite(*sample_weight)) throw Error("sample_weight contains NaN or Inf");
      std::copy(sample_weight->begin(), sample_weight->end(), sw.begin());
    }
    if (!class_weight.empty()) {
      // Keras: class ids are the argmax of one-hot targets, else the rounded label.
      const std::size_t row = t.size() / d.n;
      for (std::size_t i = 0; i < d.n; ++i) {
        const float* r = t.data() + i * row;
        int cls = row > 1 ? static_cast<int>(std::max_element(r, r + row) - r)
                          : static_cast<int>(std::lround(r[0]));
        auto it = class_weight.find(cls);
        if (it == class_weight.end()) {
          throw Error("class_weight has no entry for class {} (sample {})", cls, i);
        }
        sw[i] *= static_cast<float>(it->second);
      }
    }
    d.ys.push_back(std::move(ref));
    d.sws.push_back(Data::own(std::move(sw)));
  }
  // Metrics such as "accuracy" resolve from the first targets' shapes (Keras's rule).
  if (!st.metrics_resolved) {
    for (std::size_t k = 0; k < trained.size(); ++k) {
      OutputState& o = st.outputs[trained[k]];
      o.metrics.clear();
      for (auto& spec : o.metric_specs) {
        o.metrics.push_back(spec.object ? spec.object
                                        : metrics::get(spec.name, shape_of(*d.ys[k]),
                                                       model.outputs()[trained[k]].shape()));
      }
    }
    st.metrics_resolved = true;
  }
  return d;
}

void optim::feed_pointers(const Dataset& d, std::vector<const Tensor*>& feeds) {
  feeds.clear();
  for (auto& t : d.xs) feeds.push_back(t.get());
  for (auto& t : d.ys) feeds.push_back(t.get());
  for (auto& t : d.sws) feeds.push_back(t.get());
}

void optim::feed_pointers(const Batch& b, std::vector<const Tensor*>& feeds) {
  feeds.clear();
  for (auto& t : b.xs) feeds.push_back(&t);
  for (auto& t : b.ys) feeds.push_back(&t);
  for (auto& t : b.sws) feeds.push_back(&t);
}

void optim::backprop(TrainState& st, const std::vector<const Tensor*>& feeds, const Context& ctx) {
  auto& ex = *st.executor;
  ex.forward(feeds, ctx);
  if (shape_of(st.seed) != shape_of(ex.output(0)) || st.seed.data()[0] != 1.0f) {
    st.seed = Tensor::from_shape(ex.output(0).shape());  // d(total)/d(total) = 1
    st.seed.fill(1.0f);
  }
  const Tensor* seed = &st.seed;
  ex.backward(std::span<const Tensor* const>(&seed, 1), ctx);
  for (std::size_t i = 0; i < st.trainable.size(); ++i) {
    const Tensor& g = ex.variable_grad(i);
    st.grad_ptrs[i] = g.size() ? &g : &st.zero_grads[i];
  }
}

namespace {

using optim::feed_pointers;
using optim::make_dataset;

// Rows [begin, begin + count) of every array (validation_split's slices).
Dataset take(const Dataset& d, std::size_t begin, std::size_t count) {
  Dataset out;
  out.n = count;
  auto slice = [&](const std::vector<Data::Ref>& from, std::vector<Data::Ref>& to) {
    for (auto& t : from) {
      Tensor part;
      copy_rows(*t, begin, count, part);
      to.push_back(Data::own(std::move(part)));
    }
  };
  slice(d.xs, out.xs);
  slice(d.ys, out.ys);
  slice(d.sws, out.sws);
  return out;
}

using optim::Batch;

// Gathers rows order[begin, begin + count) (or plain rows when order is null) into a batch.
void fill_batch(const Dataset& d, const std::vector<std::size_t>* order, std::size_t begin,
                std::size_t count, Batch& b) {
  auto fill = [&](const std::vector<Data::Ref>& from, std::vector<Tensor>& to) {
    to.resize(from.size());
    for (std::size_t i = 0; i < from.size(); ++i) {
      if (order) {
        gather_rows(*from[i], *order, begin, count, to[i]);
      } else {
        copy_rows(*from[i], begin, count, to[i]);
      }
    }
  };
  fill(d.xs, b.xs);
  fill(d.ys, b.ys);
  fill(d.sws, b.sws);
  b.n = count;
}

// Running means and metric states over one pass (an epoch, or an evaluation).
struct Trackers {
  double loss_sum = 0, count = 0;
  std::vector<double> out_sums;

  void reset(TrainState& st) {
    loss_sum = count = 0;
    out_sums.assign(st.outputs.size(), 0.0);
    ys_.assign(st.trained.size(), nullptr);
    sws_.assign(st.trained.size(), nullptr);
    for (auto& o : st.outputs) {
      for (auto& m : o.metrics) m->reset_state();
    }
  }
  // Keras 3 tracks the loss as a mean weighted by batch size.
  void update(TrainState& st, const Batch& batch) {
    std::size_t k = 0;
    for (auto& y : batch.ys) ys_[k++] = &y;
    k = 0;
    for (auto& w : batch.sws) sws_[k++] = &w;
    update(st, batch.n);
  }
  void update(TrainState& st, const Dataset& data) {
    std::size_t k = 0;
    for (auto& y : data.ys) ys_[k++] = y.get();
    k = 0;
    for (auto& w : data.sws) sws_[k++] = w.get();
    update(st, data.n);
  }
  void update(TrainState& st, std::size_t n) {
    auto& ex = *st.executor;
    const double b = static_cast<double>(n);
    loss_sum += ex.output(0).data()[0] * b;
    count += b;
    const auto& trained = trained_outputs(st);
    for (std::size_t k = 0; k < trained.size(); ++k) {
      OutputState& o = st.outputs[trained[k]];
      out_sums[trained[k]] += ex.output(1 + k).data()[0] * b;
      const Tensor& pred = ex.output(1 + trained.size() + trained[k]);
      for (auto& m : o.metrics) m->update_state(*ys_[k], pred, sws_[k]);
    }
  }
  std::vector<const Tensor*> ys_, sws_;
  callbacks::Logs logs(const TrainState& st, const std::string& prefix) const {
    callbacks::Logs l;
    l[prefix + "loss"] = count > 0 ? loss_sum / count : 0.0;
    for (std::size_t o = 0; o < st.outputs.size(); ++o) {
      const OutputState& os = st.outputs[o];
      if (!os.loss) continue;
      if (st.outputs.size() > 1) l[prefix + loss_key(st, os)] = count > 0 ? out_sums[o] / count : 0;
      for (auto& m : os.metrics) l[prefix + metric_key(st, os, m->name())] = m->result();
    }
    return l;
  }
};

void train_step(TrainState& st, const std::vector<const Tensor*>& feeds) {
  optim::backprop(st, feeds, Context{.training = true});
  st.optimizer->apply(st.grad_ptrs, st.trainable_raw);
}

// Evaluates a dataset in batches (no training); returns logs with the given key prefix.
callbacks::Logs run_evaluation(TrainState& st, const Dataset& d, std::size_t batch_size,
                               const std::string& prefix,
                               const std::vector<std::shared_ptr<callbacks::Callback>>& cbs,
                               int verbose) {
  Trackers tr;
  tr.reset(st);
  const std::size_t steps = (d.n + batch_size - 1) / batch_size;
  optim::Progbar bar(static_cast<int>(steps), verbose);
  Batch batch;
  std::vector<const Tensor*> feeds;
  for (std::size_t s = 0; s < steps; ++s) {
    const std::size_t begin = s * batch_size, count = std::min(batch_size, d.n - begin);
    for (auto& cb : cbs) cb->on_test_batch_begin(static_cast<int>(s), {});
    fill_batch(d, nullptr, begin, count, batch);
    feed_pointers(batch, feeds);
    st.executor->forward(feeds, Context{.training = false});
    tr.update(st, batch);
    if (verbose || !cbs.empty()) {
      auto logs = tr.logs(st, prefix);
      for (auto& cb : cbs) cb->on_test_batch_end(static_cast<int>(s), logs);
      bar.update(static_cast<int>(s + 1), logs, s + 1 == steps);
    }
  }
  return tr.logs(st, prefix);
}

std::vector<double> logs_in_order(const Model& model, const callbacks::Logs& logs) {
  std::vector<double> out;
  for (auto& n : model.metrics_names()) out.push_back(logs.at(n));
  return out;
}

}  // namespace

// --- fit -----------------------------------------------------------------------------------

History Model::fit(const Data& x, const Data& y, FitOptions options) {
  optim::check_fit_options(options);
  ensure_built(input_list(x));
  TrainState& st = ready_state(*this);
  if (options.batch_size <= 0) throw Error("fit: batch_size must be positive");
  if (options.epochs < 0) throw Error("fit: epochs must not be negative");
  if (options.validation_split < 0 || options.validation_split >= 1) {
    throw Error("fit: validation_split must be in [0, 1), received {}", options.validation_split);
  }
  Dataset all = make_dataset(*this, st, x, y, options.sample_weight, options.class_weight);
  Dataset train, val;
  bool has_val = false;
  if (options.validation_data) {
    const auto& vd = *options.validation_data;
    val = make_dataset(*this, st, vd.x, vd.y, vd.sample_weight, {});
    train = std::move(all);
    has_val = true;
  } else if (options.validation_split > 0) {
    // Keras: the LAST fraction of the samples, taken before any shuffling.
    const auto split_at =
        static_cast<std::size_t>(std::floor(all.n * (1.0 - options.validation_split)));
    if (split_at == 0 || split_at == all.n) {
      throw Error(
          "fit: validation_split={} of {} samples leaves {} training and {} validation "
          "samples; both need at least one",
          options.validation_split, all.n, split_at, all.n - split_at);
    }
    train = take(all, 0, split_at);
    val = take(all, split_at, all.n - split_at);
    has_val = true;
  } else {
    train = std::move(all);
  }

  auto history_cb = std::make_shared<callbacks::History>();
  std::vector<std::shared_ptr<callbacks::Callback>> cbs;
  for (auto& c : options.callbacks) cbs.push_back(c.object);
  cbs.push_back(history_cb);
  const std::size_t bs = static_cast<std::size_t>(options.batch_size);
  const std::size_t steps = (train.n + bs - 1) / bs;
  for (auto& cb : cbs) {
    cb->set_model(this);
    cb->set_params(
        {.epochs = options.epochs, .steps = static_cast<int>(steps), .verbose = options.verbose});
  }
  stop_training = false;
  for (auto& cb : cbs) cb->on_train_begin({});

  std::vector<std::size_t> order(train.n);
  Batch batch;
  std::vector<const Tensor*> feeds;
  Trackers tr;
  const bool batch_callbacks = cbs.size() > 1;
  for (int epoch = options.initial_epoch; epoch < options.epochs && !stop_training; ++epoch) {
    if (options.verbose) std::printf("Epoch %d/%d\n", epoch + 1, options.epochs);
    for (auto& cb : cbs) cb->on_epoch_begin(epoch, {});
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (options.shuffle) std::shuffle(order.begin(), order.end(), generator());
    tr.reset(st);
    optim::Progbar bar(static_cast<int>(steps), options.verbose);
    for (std::size_t s = 0; s < steps && !stop_training; ++s) {
      const std::size_t begin = s * bs, count = std::min(bs, train.n - begin);
      if (batch_callbacks) {
        for (auto& cb : cbs) cb->on_train_batch_begin(static_cast<int>(s), {});
      }
      fill_batch(train, &order, begin, count, batch);
      feed_pointers(batch, feeds);
      train_step(st, feeds);
      tr.update(st, batch);
      const bool last = s + 1 == steps;
      if (batch_callbacks || (options.verbose == 1 && !last)) {
        auto logs = tr.logs(st, "");
        if (batch_callbacks) {
          for (auto& cb : cbs) cb->on_train_batch_end(static_cast<int>(s), logs);
        }
        if (!last) bar.update(static_cast<int>(s + 1), logs, false);
      }
    }
    callbacks::Logs logs = tr.logs(st, "");
    if (has_val && !stop_training) {
      auto vlogs = run_evaluation(st, val, bs, "val_", {}, 0);
      logs.insert(vlogs.begin(), vlogs.end());
    }
    bar.update(static_cast<int>(steps), logs, true);
    for (auto& cb : cbs) cb->on_epoch_end(epoch, logs);
  }
  for (auto& cb : cbs) cb->on_train_end({});
  return history_cb->history();
}

std::vector<double> Model::evaluate(const Data& x, const Data& y, EvaluateOptions options) {
  ensure_built(input_list(x));
  TrainState& st = ready_state(*this);
  if (options.batch_size <= 0) throw Error("evaluate: batch_size must be positive");
  Dataset d = make_dataset(*this, st, x, y, options.sample_weight, {});
  std::vector<std::shared_ptr<callbacks::Callback>> cbs;
  for (auto& c : options.callbacks) {
    c.object->set_model(this);
    cbs.push_back(c.object);
  }
  for (auto& cb : cbs) cb->on_test_begin({});
  auto logs =
      run_evaluation(st, d, static_cast<std::size_t>(options.batch_size), "", cbs, options.verbose);
  for (auto& cb : cbs) cb->on_test_end(logs);
  return logs_in_order(*this, logs);
}

namespace {
// train_on_batch / test_on_batch: the data as one batch, one step, the batch's logs.
std::vector<double> one_batch(Model& model, TrainState& st, const Dataset& d, bool train) {
  std::vector<const Tensor*> feeds;
  optim::feed_pointers(d, feeds);
  if (train) {
    train_step(st, feeds);
  } else {
    st.executor->forward(feeds, Context{.training = false});
  }
  Trackers tr;
  tr.reset(st);
  tr.update(st, d);
  return logs_in_order(model, tr.logs(st, ""));
}
}  // namespace

std::vector<double> Model::train_on_batch(const Data& x, const Data& y,
                                          std::optional<Tensor> sample_weight) {
  ensure_built(input_list(x));
  TrainState& st = ready_state(*this);
  return one_batch(*this, st, make_dataset(*this, st, x, y, sample_weight, {}), true);
}

std::vector<double> Model::test_on_batch(const Data& x, const Data& y,
                                         std::optional<Tensor> sample_weight) {
  ensure_built(input_list(x));
  TrainState& st = ready_state(*this);
  return one_batch(*this, st, make_dataset(*this, st, x, y, sample_weight, {}), false);
}

Gradients Model::compute_gradients(const Data& x, const Data& y) {
  ensure_built(input_list(x));
  TrainState& st = ready_state(*this);
  Dataset d = make_dataset(*this, st, x, y, std::nullopt, {});
  std::vector<const Tensor*> feeds;
  feed_pointers(d, feeds);
  optim::backprop(st, feeds, Context{.training = true});
  Gradients g;
  g.loss = st.executor->output(0).data()[0];
  for (const Tensor* gi : st.grad_ptrs) g.grads.push_back(*gi);
  return g;
}

}  // namespace plexus
