// Model's training loops: fit, evaluate, train_on_batch, test_on_batch,
// compute_gradients. See optim/train_state.hpp for the training Function.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <functional>
#include <numeric>
#include <utility>

#include "core/constraints.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/random.hpp"
#include "optim/callbacks.hpp"
#include "optim/data_parallel.hpp"
#include "optim/model_state.hpp"
#include "optim/option_checks.hpp"
#include "optim/progbar.hpp"
#include "optim/train_state.hpp"

namespace plexus {

using optim::Dataset;
using optim::OutputState;
using optim::TrainState;

namespace optim {
void build_train_graph(const Model& model, TrainState& st);  // optim/compile.cpp
std::string loss_key(const TrainState& st, const OutputState& o);
std::string metric_key(const TrainState& st, const OutputState& o, const std::string& m);
}  // namespace optim
using optim::loss_key;
using optim::metric_key;
using optim::ready_state;

namespace optim {  // optim/custom_step.cpp: the loops around a subclass's step methods
History custom_fit(Model& m, const Data& x, const Data& y, FitOptions& o);
History custom_fit(Model& m, const data::Dataset& ds, FitOptions& o);
std::vector<double> custom_evaluate(Model& m, const Data& x, const Data& y, EvaluateOptions& o);
std::vector<double> custom_evaluate(Model& m, const data::Dataset& ds, EvaluateOptions& o);
}  // namespace optim

void optim::backprop(TrainState& st, const std::vector<const Tensor*>& feeds, const Context& ctx,
                     const std::function<void(std::size_t)>& ready) {
  auto& ex = *st.executor;
  st.ran = &ex;
  ex.forward(feeds, ctx);
  const Tensor& loss = ex.output(st.loss_out);
  if (shape_of(st.seed) != shape_of(loss) || st.seed.data()[0] != 1.0f) {
    st.seed = Tensor::from_shape(loss.shape());  // d(total)/d(total) = 1
    st.seed.fill(1.0f);
  }
  st.seeds.assign(ex.num_outputs(), nullptr);  // (no allocation after the first step)
  st.seeds[st.loss_out] = &st.seed;
  ex.backward(st.seeds, ctx, ready);
  for (std::size_t i = 0; i < st.trainable.size(); ++i) st.grad_ptrs[i] = ex.variable_grad(i);
}

void optim::train_step(TrainState& st, const std::vector<const Tensor*>& feeds) {
  if (st.function.stateful()) st.function.check_state_batch(feeds.at(0)->shape()[0], "fit");
  optim::backprop(st, feeds, Context{.training = true});
  const auto& updates = st.function.updates();
  st.update_values.resize(updates.size());
  for (std::size_t u = 0; u < updates.size(); ++u) {
    st.update_values[u] = st.executor->output(updates[u].output).data();
  }
  apply_step(st);
}

void optim::apply_step(TrainState& st) {
  bool any = false;
  for (const Tensor* g : st.grad_ptrs) any |= g != nullptr;
  if (any) st.optimizer->apply(st.grad_ptrs, st.trainable_raw);
  // Constraints project the weights after each optimizer step (Keras's kernel_constraint).
  for (VariableData* v : st.trainable_raw) {
    if (v->constraint) v->constraint->apply(v->value);
  }
  // State updates, once per step, after the optimizer (a frozen layer's are skipped).
  st.function.apply_updates(st.update_values);
}

void optim::inference_step(TrainState& st, const std::vector<const Tensor*>& feeds) {
  const graph::Function& f = st.inference_function;
  if (!st.inference_executor) st.inference_executor = f.make_executor();
  st.ran = st.inference_executor.get();
  if (f.stateful()) f.check_state_batch(feeds.at(0)->shape()[0], "evaluate");
  st.inference_executor->forward(feeds, Context{.training = false, .backward = false});
  // A stateful RNN's final states are written back at inference too.
  f.apply_updates(*st.inference_executor);
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
    auto& ex = *st.ran;  // the training or the inference executor, whichever ran last
    const double b = static_cast<double>(n);
    loss_sum += ex.output(st.loss_out).data()[0] * b;
    count += b;
    const auto& trained = st.trained;
    for (std::size_t k = 0; k < trained.size(); ++k) {
      OutputState& o = st.outputs[trained[k]];
      out_sums[trained[k]] += ex.output(o.loss_out).data()[0] * b;
      const Tensor& pred = ex.output(o.pred_out);
      const Tensor* sw = o.step_weight_out ? &ex.output(*o.step_weight_out) : sws_[k];
      for (auto& m : o.metrics) m->update_state(*ys_[k], pred, sw);
    }
  }
  std::vector<const Tensor*> ys_, sws_;
  // The logs over every process of a data-parallel run (par null: this process's): the
  // totals and the metric states summed, the local states restored afterwards.
  callbacks::Logs logs(TrainState& st, const std::string& prefix, optim::DataParallelRun* par) {
    if (!par) return logs(st, prefix);
    scratch_.clear();
    scratch_.push_back(loss_sum);
    scratch_.push_back(count);
    scratch_.insert(scratch_.end(), out_sums.begin(), out_sums.end());
    states_.clear();
    for (auto& o : st.outputs) {
      for (auto& m : o.metrics) {
        for (double* v : m->state_values()) {
          states_.push_back(v);
          scratch_.push_back(*v);
        }
      }
    }
    saved_ = scratch_;
    par->sum(scratch_);
    loss_sum = scratch_[0];
    count = scratch_[1];
    std::copy_n(scratch_.begin() + 2, out_sums.size(), out_sums.begin());
    const std::size_t m0 = 2 + out_sums.size();
    for (std::size_t i = 0; i < states_.size(); ++i) *states_[i] = scratch_[m0 + i];
    callbacks::Logs l = logs(st, prefix);
    loss_sum = saved_[0];
    count = saved_[1];
    std::copy_n(saved_.begin() + 2, out_sums.size(), out_sums.begin());
    for (std::size_t i = 0; i < states_.size(); ++i) *states_[i] = saved_[m0 + i];
    return l;
  }
  std::vector<double> scratch_, saved_;
  std::vector<double*> states_;
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

// Evaluates a dataset in batches (no training); returns logs with the given key prefix.
callbacks::Logs run_evaluation(TrainState& st, const Dataset& d, std::size_t batch_size,
                               const std::string& prefix,
                               const std::vector<std::shared_ptr<callbacks::Callback>>& cbs,
                               int verbose, optim::DataParallelRun* par = nullptr) {
  Trackers tr;
  tr.reset(st);
  const std::size_t steps = (d.n + batch_size - 1) / batch_size;
  optim::Progbar bar(static_cast<int>(steps), verbose);
  Batch& batch = st.eval_batch;  // kept across calls: a repeated evaluate reuses its buffers
  std::vector<const Tensor*>& feeds = st.eval_feeds;
  for (std::size_t s = 0; s < steps; ++s) {
    const std::size_t begin = s * batch_size, count = std::min(batch_size, d.n - begin);
    for (auto& cb : cbs) cb->on_test_batch_begin(static_cast<int>(s), {});
    if (par) {
      // This process's shard of the batch; the logs are summed over the processes.
      const auto sh = optim::shard_of(count, par->comm().rank(), par->comm().size());
      if (sh.count > 0) {
        fill_batch(d, nullptr, begin + sh.begin, sh.count, batch);
        feed_pointers(batch, feeds);
        optim::inference_step(st, feeds);
        tr.update(st, batch);
      }
      auto logs = tr.logs(st, prefix, par);
      for (auto& cb : cbs) cb->on_test_batch_end(static_cast<int>(s), logs);
      bar.update(static_cast<int>(s + 1), logs, s + 1 == steps);
      if (s + 1 == steps) return logs;
      continue;
    }
    if (steps == 1) {
      feed_pointers(d, feeds);  // one batch: the caller's tensors, not copies
    } else {
      fill_batch(d, nullptr, begin, count, batch);
      feed_pointers(batch, feeds);
    }
    optim::inference_step(st, feeds);
    if (steps == 1) {
      tr.update(st, d);
    } else {
      tr.update(st, batch);
    }
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

// evaluate's callbacks around one evaluation run(cbs) (on_test_begin, on_test_end) and its
// logs in the model's order; in a data-parallel run an error aborts the job.
template <typename Callbacks, typename Run>
std::vector<double> evaluate_with_callbacks(Model& model, const Callbacks& callbacks,
                                            optim::DataParallelRun* par, Run&& run) {
  std::vector<std::shared_ptr<callbacks::Callback>> cbs;
  for (auto& c : callbacks) {
    c.object->set_model(&model);
    cbs.push_back(c.object);
  }
  try {
    for (auto& cb : cbs) cb->on_test_begin({});
    auto logs = run(cbs);
    for (auto& cb : cbs) cb->on_test_end(logs);
    return logs_in_order(model, logs);
  } catch (const std::exception& e) {
    if (!par) throw;
    distribution::abort_job(fmt::format("evaluate failed: {}", e.what()));
  }
}

}  // namespace

// --- fit -----------------------------------------------------------------------------------

History Model::fit(const Data& x, const Data& y, FitOptions options) {
  if (custom_steps()) return optim::custom_fit(*this, x, y, options);
  // Data-parallel (optim/distribution.hpp): the setup's errors are agreed on by every
  // process at entry (DataParallelRun::enter); after it, an exception on one process
  // aborts the job, since its peers would wait for it in the next collective.
  std::optional<optim::DataParallelRun> par;
  if (distribution::active()) par.emplace(*distribution::communicator(), *this);
  if (par && !distribution::is_chief()) options.verbose = 0;  // process 0 prints
  std::exception_ptr setup_error;
  TrainState* stp = nullptr;
  Dataset train, val;
  bool has_val = false;
  auto history_cb = std::make_shared<callbacks::History>();
  std::vector<std::shared_ptr<callbacks::Callback>> cbs;
  std::size_t bs = 0, steps = 0;
  int first_epoch = options.initial_epoch;
  std::size_t first_step = 0;
  std::function<void()> after_shuffle;
  try {
    optim::check_fit_options(options);
    ensure_built(input_list(x));
    stp = &ready_state(*this);
    TrainState& st = *stp;
    if (par && st.function.stateful()) throw Error("fit: {}", optim::kStatefulDataParallel);
    if (options.batch_size <= 0) throw Error("fit: batch_size must be positive");
    if (options.epochs < 0) throw Error("fit: epochs must not be negative");
    if (options.validation_split < 0 || options.validation_split >= 1) {
      throw Error("fit: validation_split must be in [0, 1), received {}", options.validation_split);
    }
    Dataset all = make_dataset(*this, st, x, y, options.sample_weight, options.class_weight);
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

    for (auto& c : options.callbacks) cbs.push_back(c.object);
    cbs.push_back(history_cb);
    bs = static_cast<std::size_t>(options.batch_size);
    steps = (train.n + bs - 1) / bs;
    for (auto& cb : cbs) {
      cb->set_model(this);
      cb->set_params(
          {.epochs = options.epochs, .steps = static_cast<int>(steps), .verbose = options.verbose});
    }
    stop_training = false;
    for (auto& cb : cbs) cb->on_train_begin({});
    if (st.resume) {  // a callback restored an interrupted run (BackupAndRestore)
      first_epoch = st.resume->epoch;
      first_step = st.resume->step;
      after_shuffle = std::move(st.resume->after_shuffle);
      st.resume.reset();
    }
  } catch (...) {
    if (!par) throw;
    setup_error = std::current_exception();
  }
  if (par) {
    par->enter({.what = "fit",
                .samples = train.n,
                .val_samples = has_val ? val.n : 0,
                .batch_size = bs,
                .epochs = options.epochs,
                .initial_epoch = first_epoch * 1000003LL + static_cast<long long>(first_step),
                .shuffle = options.shuffle},
               setup_error, stp);
  }
  TrainState& st = *stp;
  const int rank = par ? par->comm().rank() : 0, size = par ? par->comm().size() : 1;

  std::vector<std::size_t> order(train.n);
  Batch batch;
  std::vector<const Tensor*> feeds;
  Trackers tr;
  const bool batch_callbacks = cbs.size() > 1;
  try {
    for (int epoch = first_epoch; epoch < options.epochs && !stop_training; ++epoch) {
      if (options.verbose) std::printf("Epoch %d/%d\n", epoch + 1, options.epochs);
      for (auto& cb : cbs) cb->on_epoch_begin(epoch, {});
      std::iota(order.begin(), order.end(), std::size_t{0});
      if (options.shuffle) std::shuffle(order.begin(), order.end(), generator());
      if (after_shuffle) std::exchange(after_shuffle, nullptr)();
      tr.reset(st);
      optim::Progbar bar(static_cast<int>(steps), options.verbose);
      for (std::size_t s = epoch == first_epoch ? first_step : 0; s < steps && !stop_training;
           ++s) {
        const std::size_t begin = s * bs, count = std::min(bs, train.n - begin);
        if (batch_callbacks) {
          for (auto& cb : cbs) cb->on_train_batch_begin(static_cast<int>(s), {});
        }
        const bool last = s + 1 == steps;
        if (par) {
          // This process's shard of the global batch; the step is the global batch's.
          const auto sh = optim::shard_of(count, rank, size);
          if (sh.count > 0) {
            fill_batch(train, &order, begin + sh.begin, sh.count, batch);
            feed_pointers(batch, feeds);
          }
          par->train_step(st, feeds, sh.count, count);
          if (sh.count > 0) tr.update(st, batch);
          auto logs = tr.logs(st, "", &*par);
          if (batch_callbacks) {
            for (auto& cb : cbs) cb->on_train_batch_end(static_cast<int>(s), logs);
          }
          if (!last) bar.update(static_cast<int>(s + 1), logs, false);
          stop_training = par->any(stop_training);
          continue;
        }
        fill_batch(train, &order, begin, count, batch);
        feed_pointers(batch, feeds);
        optim::train_step(st, feeds);
        tr.update(st, batch);
        if (batch_callbacks || (options.verbose == 1 && !last)) {
          auto logs = tr.logs(st, "");
          if (batch_callbacks) {
            for (auto& cb : cbs) cb->on_train_batch_end(static_cast<int>(s), logs);
          }
          if (!last) bar.update(static_cast<int>(s + 1), logs, false);
        }
      }
      callbacks::Logs logs = par ? tr.logs(st, "", &*par) : tr.logs(st, "");
      if (has_val && !stop_training) {
        auto vlogs = run_evaluation(st, val, bs, "val_", {}, 0, par ? &*par : nullptr);
        logs.insert(vlogs.begin(), vlogs.end());
      }
      bar.update(static_cast<int>(steps), logs, true);
      for (auto& cb : cbs) cb->on_epoch_end(epoch, logs);
      if (par) stop_training = par->any(stop_training);
    }
    for (auto& cb : cbs) cb->on_train_end({});
  } catch (const std::exception& e) {
    if (!par) throw;
    distribution::abort_job(fmt::format("fit failed: {}", e.what()));
  }
  return history_cb->history();
}

std::vector<double> Model::evaluate(const Data& x, const Data& y, EvaluateOptions options) {
  if (custom_steps()) return optim::custom_evaluate(*this, x, y, options);
  std::optional<optim::DataParallelRun> par;
  if (distribution::active()) par.emplace(*distribution::communicator(), *this);
  if (par && !distribution::is_chief()) options.verbose = 0;
  std::exception_ptr setup_error;
  TrainState* stp = nullptr;
  Dataset d;
  try {
    ensure_built(input_list(x));
    stp = &ready_state(*this);
    if (par && stp->function.stateful()) throw Error("evaluate: {}", optim::kStatefulDataParallel);
    if (options.batch_size <= 0) throw Error("evaluate: batch_size must be positive");
    d = make_dataset(*this, *stp, x, y, options.sample_weight, {});
  } catch (...) {
    if (!par) throw;
    setup_error = std::current_exception();
  }
  if (par) {
    par->enter({.what = "evaluate",
                .samples = d.n,
                .batch_size = static_cast<std::size_t>(std::max(options.batch_size, 0))},
               setup_error, stp);
  }
  return evaluate_with_callbacks(*this, options.callbacks, par ? &*par : nullptr, [&](auto& cbs) {
    return run_evaluation(*stp, d, static_cast<std::size_t>(options.batch_size), "", cbs,
                          options.verbose, par ? &*par : nullptr);
  });
}

namespace {
// train_on_batch / test_on_batch: the data as one batch, one step, the batch's logs.
std::vector<double> one_batch(Model& model, TrainState& st, const Dataset& d, bool train) {
  std::vector<const Tensor*> feeds;
  optim::feed_pointers(d, feeds);
  if (train) {
    optim::train_step(st, feeds);
  } else {
    optim::inference_step(st, feeds);
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

namespace {
// The loss, one forward and one reverse pass (training mode) on (x, y), the gradients.
Gradients gradients_of(const Model& model, TrainState& st, const Data& x, const Data& y) {
  Dataset d = make_dataset(model, st, x, y, std::nullopt, {});
  std::vector<const Tensor*> feeds;
  feed_pointers(d, feeds);
  optim::backprop(st, feeds, Context{.training = true});
  Gradients g;
  g.loss = st.executor->output(st.loss_out).data()[0];
  for (const Tensor* gi : st.grad_ptrs) {
    g.grads.push_back(gi ? std::optional<Tensor>(*gi) : std::nullopt);
  }
  return g;
}

// What identifies a loss for compute_gradients' cache (see Model::compute_gradients).
std::string identity(const LossItem& item) {
  if (!item.object) return "name:" + item.name;
  if (dynamic_cast<const losses::LossFunction*>(item.object.get())) {
    // Its function cannot be compared: the object itself (the cache holds it, so its
    // address is not reused while the entry lives).
    return fmt::format("function@{}", static_cast<const void*>(item.object.get()));
  }
  const auto& object = *item.object;
  return fmt::format("{}:{}:{}", typeid(object).name(), object.class_name(),
                     object.get_config().dump());
}
// The key without the identities of LossFunction objects: two losses of the same structure
// whose callables were wrapped separately.
std::string structure_of(const std::string& key) {
  std::string out;
  for (std::size_t i = 0; i < key.size();) {
    const std::size_t at = key.find("function@", i);
    if (at == std::string::npos) {
      out.append(key, i, std::string::npos);
      break;
    }
    out.append(key, i, at - i).append("function");
    i = at + 9;
    while (i < key.size() && std::isxdigit(static_cast<unsigned char>(key[i])) != 0) ++i;
    if (i < key.size() && key[i] == 'x') {  // "0x..."
      ++i;
      while (i < key.size() && std::isxdigit(static_cast<unsigned char>(key[i])) != 0) ++i;
    }
  }
  return out;
}
// Whether every LossFunction of a cached training state is held by that state alone (its
// LossSpec and its outputs): the caller's copy (a loss list written inline in the call) is
// gone.
bool functions_held_only_by_cache(const TrainState& st) {
  const LossSpec& spec = st.compile_options->loss;
  bool any = false;
  auto check = [&](const LossItem& item) {
    if (!dynamic_cast<const losses::LossFunction*>(item.object.get())) return true;
    any = true;
    long internal = 0;
    for (auto& i : spec.items) internal += i.object == item.object ? 1 : 0;
    for (auto& [n, i] : spec.by_name) internal += i.object == item.object ? 1 : 0;
    for (auto& o : st.outputs) internal += o.loss == item.object ? 1 : 0;
    return item.object.use_count() <= internal;
  };
  for (auto& item : spec.items)
    if (!check(item)) return false;
  for (auto& [name, item] : spec.by_name)
    if (!check(item)) return false;
  return any;
}
std::string identity(const LossSpec& spec) {
  std::string key;
  for (auto& item : spec.items) key.append(fmt::format("[{}]", identity(item)));
  for (auto& [name, item] : spec.by_name)
    key.append(fmt::format("{{{}={}}}", name, identity(item)));
  return key;
}
}  // namespace

Gradients Model::compute_gradients(const Data& x, const Data& y) {
  ensure_built(input_list(x));
  return gradients_of(*this, ready_state(*this), x, y);
}

Gradients Model::compute_gradients(const Data& x, const Data& y, const LossSpec& loss) {
  // A callable given inside a LossSpec is a LossFunction, identified by its object.
  return gradients_for(x, y, loss, identity(loss));
}

Gradients Model::gradients_for(const Data& x, const Data& y, const LossSpec& loss,
                               const std::string& key) {
  if (loss.empty()) {
    throw Error("Model \"{}\": compute_gradients(x, y, loss) needs a loss (e.g. \"mse\")", name());
  }
  ensure_built(input_list(x));
  auto& cache = state_->gradient_fns;
  std::shared_ptr<TrainState> st;
  if (!key.empty()) {
    auto it = cache.find(key);
    // Trainable weights frozen or unfrozen since: the Function differentiates the old set.
    if (it != cache.end() && it->second->trainable == trainable_weights()) st = it->second;
  }
  if (!st && key.find("function@") != std::string::npos) {
    // A loss list (or map) holding a C++ callable, written inline in a training loop, wraps
    // the callable anew at every call: each step would build (and trace) a new training
    // graph. Refused when a loss of the same structure was built before and its caller's
    // copy is gone; a LossSpec kept by the caller is cached and reused.
    const std::string structure = structure_of(key);
    for (const auto& [k, cached] : cache) {
      if (k != key && structure_of(k) == structure && functions_held_only_by_cache(*cached)) {
        throw Error(
            "Model \"{}\": value_and_grad / compute_gradients was given a loss list holding a "
            "C++ callable made anew for this call, as for the previous one; the training graph "
            "would be rebuilt at every step. Make the loss once, before the loop "
            "(`px::LossSpec loss = {{...}};`, then value_and_grad(model, loss, x, y)), or pass a "
            "single callable directly",
            name());
      }
    }
  }
  if (!st) {
    st = std::make_shared<TrainState>();
    CompileOptions options;
    options.loss = loss;
    st->compile_options = std::make_shared<CompileOptions>(std::move(options));
    optim::build_train_graph(*this, *st);
    if (!key.empty()) {
      // A bounded cache: a loop making a new LossFunction per step cannot grow it forever.
      if (cache.size() >= 16) cache.clear();
      cache[key] = st;
    }
  }
  return gradients_of(*this, *st, x, y);
}

}  // namespace plexus

// --- fit / evaluate on a dataset -------------------------------------------------------------

namespace plexus {

namespace {

// The rows of a batch (its first input's, else its first target's first dimension).
std::size_t batch_rows(const StepData& b) {
  const Tensor* t = !b.x.empty() ? &b.x[0] : !b.y.empty() ? &b.y[0] : nullptr;
  return t && t->dimension() > 0 ? t->shape()[0] : 0;
}

// One batch as the training Function's layout (checked: shapes, NaN/Inf, label ranges).
Dataset batch_data(const Model& model, TrainState& st, const StepData& b,
                   const std::map<int, double>& class_weight) {
  return make_dataset(model, st, Data(b.x), Data(b.y), b.sample_weight, class_weight);
}

// Evaluates `steps` batches of a dataset (all of them when steps is empty). In a
// data-parallel run, each process reads its own shard of the batches, and the logs are
// summed over the processes.
callbacks::Logs run_dataset_evaluation(const Model& model, TrainState& st, const data::Dataset& ds,
                                       std::optional<int> steps, const std::string& prefix,
                                       const std::vector<std::shared_ptr<callbacks::Callback>>& cbs,
                                       int verbose, optim::DataParallelRun* par) {
  Trackers tr;
  tr.reset(st);
  const std::int64_t card = ds.cardinality();
  if (card == data::kInfinite && !steps) {
    throw Error("Model \"{}\": evaluating an infinite dataset needs steps (validation_steps)",
                model.name());
  }
  const int target = steps ? *steps : (card >= 0 ? static_cast<int>(card) : 0);
  optim::Progbar bar(target, verbose);
  const data::Dataset mine = par ? ds.shard(par->comm().size(), par->comm().rank()) : ds;
  std::vector<const Tensor*> feeds;
  auto it = mine.begin();
  int s = 0;
  for (; !steps || s < *steps; ++s) {
    const bool have = it != mine.end();
    std::size_t n = have ? batch_rows(*it) : 0;
    if (par) {
      std::vector<double> total{static_cast<double>(n)};
      par->sum(total);
      if (total[0] == 0) break;
    } else if (!have) {
      break;
    }
    for (auto& cb : cbs) cb->on_test_batch_begin(s, {});
    if (have) {
      Dataset d = batch_data(model, st, *it, {});
      optim::feed_pointers(d, feeds);
      optim::inference_step(st, feeds);
      tr.update(st, d);
      ++it;
    }
    if (!cbs.empty()) {
      auto logs = par ? tr.logs(st, prefix, par) : tr.logs(st, prefix);
      for (auto& cb : cbs) cb->on_test_batch_end(s, logs);
    }
    if (!par && verbose == 1) bar.update(s + 1, tr.logs(st, prefix), false);
  }
  if (s == 0) {
    throw Error("Model \"{}\": the {}dataset gave no batch", model.name(),
                prefix.empty() ? "" : "validation ");
  }
  auto logs = par ? tr.logs(st, prefix, par) : tr.logs(st, prefix);
  bar.update(s, logs, true);
  return logs;
}

}  // namespace

History Model::fit(const data::Dataset& dataset, FitOptions options) {
  if (custom_steps()) return optim::custom_fit(*this, dataset, options);
  std::optional<optim::DataParallelRun> par;
  if (distribution::active()) par.emplace(*distribution::communicator(), *this);
  if (par && !distribution::is_chief()) options.verbose = 0;
  std::exception_ptr setup_error;
  TrainState* stp = nullptr;
  auto history_cb = std::make_shared<callbacks::History>();
  std::vector<std::shared_ptr<callbacks::Callback>> cbs;
  const int rank = par ? par->comm().rank() : 0, size = par ? par->comm().size() : 1;
  // Each process's shard of the batches (the whole dataset in a one-process run).
  const data::Dataset mine = par ? dataset.shard(size, rank) : dataset;
  const std::int64_t card = dataset.cardinality();
  std::optional<data::Dataset::iterator> it;
  int steps = 0;  // 0: unknown
  int first_epoch = options.initial_epoch;
  std::optional<data::Dataset> val;
  try {
    optim::check_fit_options(options);
    if (options.epochs < 0) throw Error("fit: epochs must not be negative");
    if (options.validation_split > 0) {
      throw Error(
          "fit: validation_split is only supported for tensors, not for a dataset (Keras: "
          "\"`validation_split` is only supported for Tensors or NumPy arrays\"); split the "
          "dataset (px::utils::split_dataset, take/skip) and pass validation_data");
    }
    if (options.steps_per_epoch && *options.steps_per_epoch <= 0) {
      throw Error("fit: steps_per_epoch must be positive, received {}", *options.steps_per_epoch);
    }
    if (options.validation_steps && *options.validation_steps <= 0) {
      throw Error("fit: validation_steps must be positive, received {}", *options.validation_steps);
    }
    if (card == data::kInfinite && !options.steps_per_epoch) {
      throw Error(
          "fit: the dataset is infinite (repeat()); give steps_per_epoch, the batches of an "
          "epoch");
    }
    if (options.validation_data) {
      const auto& vd = *options.validation_data;
      if (vd.dataset) {
        val = *vd.dataset;
      } else {
        val =
            data::Dataset::from_tensor_slices(
                [&] {
                  std::vector<Tensor> v;
                  for (auto& r : vd.x.list) v.push_back(*r);
                  return v;
                }(),
                [&] {
                  std::vector<Tensor> v;
                  for (auto& r : vd.y.list) v.push_back(*r);
                  return v;
                }(),
                vd.sample_weight)
                .batch(static_cast<std::size_t>(options.batch_size > 0 ? options.batch_size : 32));
        if (!vd.x.by_name.empty() || !vd.y.by_name.empty()) {
          throw Error("fit: with a dataset, validation_data takes lists of tensors or a dataset");
        }
      }
    }
    it = mine.begin();
    if (*it == mine.end() && !par) throw Error("fit: the dataset is empty (it gave no batch)");
    if (*it != mine.end()) ensure_built(input_list(Data((**it).x)));
    stp = &ready_state(*this);
    if (par && stp->function.stateful()) throw Error("fit: {}", optim::kStatefulDataParallel);
    if (options.steps_per_epoch) {
      steps = *options.steps_per_epoch;
    } else if (card >= 0) {
      steps = static_cast<int>(card);
    }
    for (auto& c : options.callbacks) cbs.push_back(c.object);
    cbs.push_back(history_cb);
    for (auto& cb : cbs) {
      cb->set_model(this);
      cb->set_params({.epochs = options.epochs, .steps = steps, .verbose = options.verbose});
    }
    stop_training = false;
    for (auto& cb : cbs) cb->on_train_begin({});
    if (stp->resume) {  // BackupAndRestore: the epoch (a dataset resumes at an epoch start)
      first_epoch = stp->resume->epoch;
      stp->resume.reset();
    }
  } catch (...) {
    if (!par) throw;
    setup_error = std::current_exception();
  }
  if (par) {
    par->enter(
        {.what = "fit(dataset)",
         .samples = card >= 0 ? static_cast<std::size_t>(card) : 0,
         .val_samples =
             val && val->cardinality() >= 0 ? static_cast<std::size_t>(val->cardinality()) : 0,
         .batch_size = 0,
         .epochs = options.epochs,
         .initial_epoch = first_epoch,
         .shuffle = options.steps_per_epoch.value_or(0)},
        setup_error, stp);
  }
  TrainState& st = *stp;
  const bool persistent = options.steps_per_epoch.has_value();
  std::vector<const Tensor*> feeds;
  Trackers tr;
  const bool batch_callbacks = cbs.size() > 1;
  try {
    for (int epoch = first_epoch; epoch < options.epochs && !stop_training; ++epoch) {
      if (options.verbose) std::printf("Epoch %d/%d\n", epoch + 1, options.epochs);
      for (auto& cb : cbs) cb->on_epoch_begin(epoch, {});
      if (!persistent && epoch != first_epoch) it = mine.begin();
      tr.reset(st);
      optim::Progbar bar(steps, options.verbose);
      int s = 0;
      bool ran_out = false;
      for (; (!persistent || s < steps) && !stop_training; ++s) {
        const bool have = *it != mine.end();
        const std::size_t n = have ? batch_rows(**it) : 0;
        std::size_t global = n;
        if (par) {
          std::vector<double> total{static_cast<double>(n)};
          par->sum(total);
          global = static_cast<std::size_t>(total[0]);
        }
        if (global == 0) {
          ran_out = persistent;
          break;
        }
        if (batch_callbacks) {
          for (auto& cb : cbs) cb->on_train_batch_begin(s, {});
        }
        std::optional<Dataset> d;
        if (have) {
          d = batch_data(*this, st, **it, options.class_weight);
          optim::feed_pointers(*d, feeds);
        } else {
          feeds.clear();
        }
        if (par) {
          par->train_step(st, feeds, n, global);
        } else {
          optim::train_step(st, feeds);
        }
        if (d) tr.update(st, *d);
        d.reset();
        if (par) {
          auto logs = tr.logs(st, "", &*par);
          if (batch_callbacks) {
            for (auto& cb : cbs) cb->on_train_batch_end(s, logs);
          }
          bar.update(s + 1, logs, false);
          stop_training = par->any(stop_training);
        } else if (batch_callbacks || options.verbose == 1) {
          auto logs = tr.logs(st, "");
          if (batch_callbacks) {
            for (auto& cb : cbs) cb->on_train_batch_end(s, logs);
          }
          bar.update(s + 1, logs, false);
        }
        // The next batch is read after the batch's callbacks: the time between a batch's
        // on_train_batch_end and the next on_train_batch_begin is the wait on the data.
        if (have) ++*it;
      }
      if (s == 0 && !ran_out) throw Error("fit: the dataset gave no batch in epoch {}", epoch + 1);
      if (steps == 0) steps = s;  // learnt from the first pass (Keras's "Unknown" epoch)
      callbacks::Logs logs = par ? tr.logs(st, "", &*par) : tr.logs(st, "");
      if (val && !stop_training && !ran_out) {
        auto vlogs = run_dataset_evaluation(*this, st, *val, options.validation_steps, "val_", {},
                                            0, par ? &*par : nullptr);
        logs.insert(vlogs.begin(), vlogs.end());
      }
      if (s > 0) bar.update(s, logs, true);
      if (ran_out) {
        std::fprintf(stderr,
                     "Warning: your input ran out of data; interrupting training. Make sure "
                     "that your dataset can generate at least `steps_per_epoch * epochs` "
                     "batches (repeat()).\n");
        stop_training = true;
        if (s == 0) break;
      }
      for (auto& cb : cbs) cb->on_epoch_end(epoch, logs);
      if (par) stop_training = par->any(stop_training);
    }
    for (auto& cb : cbs) cb->on_train_end({});
  } catch (const std::exception& e) {
    if (!par) throw;
    distribution::abort_job(fmt::format("fit failed: {}", e.what()));
  }
  return history_cb->history();
}

std::vector<double> Model::evaluate(const data::Dataset& dataset, EvaluateOptions options) {
  if (custom_steps()) return optim::custom_evaluate(*this, dataset, options);
  std::optional<optim::DataParallelRun> par;
  if (distribution::active()) par.emplace(*distribution::communicator(), *this);
  if (par && !distribution::is_chief()) options.verbose = 0;
  std::exception_ptr setup_error;
  TrainState* stp = nullptr;
  try {
    if (options.sample_weight) {
      throw Error("evaluate: sample_weight is given by the dataset's elements, not as an option");
    }
    if (options.steps && *options.steps <= 0) {
      throw Error("evaluate: steps must be positive, received {}", *options.steps);
    }
    if (!has_graph()) {  // an unbuilt Sequential: built from the first batch
      auto it = dataset.begin();
      if (it == dataset.end()) throw Error("evaluate: the dataset is empty (it gave no batch)");
      ensure_built(input_list(Data(it->x)));
    }
    stp = &ready_state(*this);
    if (par && stp->function.stateful()) throw Error("evaluate: {}", optim::kStatefulDataParallel);
  } catch (...) {
    if (!par) throw;
    setup_error = std::current_exception();
  }
  if (par) {
    const auto card = dataset.cardinality();
    par->enter({.what = "evaluate(dataset)",
                .samples = card >= 0 ? static_cast<std::size_t>(card) : 0,
                .batch_size = 0},
               setup_error, stp);
  }
  return evaluate_with_callbacks(*this, options.callbacks, par ? &*par : nullptr, [&](auto& cbs) {
    return run_dataset_evaluation(*this, *stp, dataset, options.steps, "", cbs, options.verbose,
                                  par ? &*par : nullptr);
  });
}

// --- the built-in steps, as a subclass's train_step / test_step (optim/custom_step.cpp) ---

namespace {
// The step on one batch with the running logs of the current epoch (or evaluation): the
// trackers live in the model until the loop resets them (Model::State's *_trackers).
Logs builtin_step(Model& model, TrainState& st, std::shared_ptr<void>& holder, const StepData& data,
                  bool train) {
  if (!holder) {
    auto tr = std::make_shared<Trackers>();
    tr->reset(st);
    holder = tr;
  }
  auto& tr = *std::static_pointer_cast<Trackers>(holder);
  Dataset d = batch_data(model, st, data, {});
  std::vector<const Tensor*> feeds;
  optim::feed_pointers(d, feeds);
  if (train) {
    optim::train_step(st, feeds);
  } else {
    optim::inference_step(st, feeds);
  }
  tr.update(st, d);
  return tr.logs(st, "");
}

TrainState& builtin_state(Model& model, const StepData& data, const char* step) {
  if (!optim::TrainAccess::has_state(model)) {
    throw Error("Model \"{}\" must be compiled before {} runs; call compile() first", model.name(),
                step);
  }
  const auto& options = *optim::TrainAccess::state(model).compile_options;
  if (options.loss.empty()) {
    throw Error(
        "Model \"{}\" was compiled without a loss and does not override {}: the built-in "
        "step needs compile(kw::loss = ...)",
        model.name(), step);
  }
  model.check_inputs(model.input_list(Data(data.x)));
  return ready_state(model);
}
}  // namespace

Logs Model::train_step(const StepData& data) {
  TrainState& st = builtin_state(*this, data, "train_step");
  return builtin_step(*this, st, state_->train_trackers, data, true);
}

Logs Model::test_step(const StepData& data) {
  TrainState& st = builtin_state(*this, data, "test_step");
  return builtin_step(*this, st, state_->test_trackers, data, false);
}

}  // namespace plexus
