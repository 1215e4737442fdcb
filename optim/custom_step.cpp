// The loops that drive a subclassed model's train_step / test_step / predict_step (Keras
// 3's Trainer.fit / evaluate / predict around the step methods): batches from arrays (rows
// gathered into reused buffers, shuffled per epoch) or from a px::data::Dataset, callbacks,
// the progress bar, History, validation (validation_data, validation_split), and the
// model's metric trackers reset at the start of each epoch and each evaluation.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>

#include "core/error.hpp"
#include "core/random.hpp"
#include "optim/callbacks.hpp"
#include "optim/distribution.hpp"
#include "optim/metrics.hpp"
#include "optim/model_state.hpp"
#include "optim/option_checks.hpp"
#include "optim/progbar.hpp"
#include "optim/train_state.hpp"

namespace plexus::optim {

namespace {

// Where a loop's batches come from: arrays or a dataset.
class Source {
 public:
  virtual ~Source() = default;
  virtual void start_epoch() = 0;
  virtual const StepData* next() = 0;  // nullptr at the end of the epoch
  virtual int steps() const = 0;       // batches per epoch (0: unknown)
};

// Rows of arrays, batch by batch, in a (per epoch shuffled) order; the batch's tensors are
// reused between steps (no allocation once their shapes are known).
class ArraySource final : public Source {
 public:
  ArraySource(std::vector<Tensor> xs, std::vector<Tensor> ys, std::optional<Tensor> sw,
              std::size_t batch_size, bool shuffle)
      : xs_(std::move(xs)),
        ys_(std::move(ys)),
        sw_(std::move(sw)),
        bs_(batch_size),
        shuffle_(shuffle) {
    const Tensor* first = !xs_.empty() ? &xs_[0] : nullptr;
    if (!first || first->dimension() == 0) throw Error("fit: the inputs need a batch axis");
    n_ = first->shape()[0];
    auto check = [&](const Tensor& t, const char* what) {
      if (t.dimension() == 0 || t.shape()[0] != n_) {
        throw Error("fit: {} has shape {}, but the first input has {} rows", what,
                    shape_str(shape_of(t)), n_);
      }
    };
    for (auto& t : xs_) check(t, "an input");
    for (auto& t : ys_) check(t, "a target");
    if (sw_) check(*sw_, "sample_weight");
    order_.resize(n_);
    batch_.x.resize(xs_.size());
    batch_.y.resize(ys_.size());
    if (sw_) batch_.sample_weight = Tensor();
  }
  std::size_t rows() const { return n_; }
  void start_epoch() override {
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    if (shuffle_) std::shuffle(order_.begin(), order_.end(), generator());
    pos_ = 0;
  }
  const StepData* next() override {
    if (pos_ >= n_) return nullptr;
    const std::size_t count = std::min(bs_, n_ - pos_);
    for (std::size_t i = 0; i < xs_.size(); ++i)
      gather_rows(xs_[i], order_, pos_, count, batch_.x[i]);
    for (std::size_t i = 0; i < ys_.size(); ++i)
      gather_rows(ys_[i], order_, pos_, count, batch_.y[i]);
    if (sw_) gather_rows(*sw_, order_, pos_, count, *batch_.sample_weight);
    pos_ += count;
    return &batch_;
  }
  int steps() const override { return static_cast<int>((n_ + bs_ - 1) / bs_); }

 private:
  std::vector<Tensor> xs_, ys_;
  std::optional<Tensor> sw_;
  std::size_t n_ = 0, bs_, pos_ = 0;
  bool shuffle_;
  std::vector<std::size_t> order_;
  StepData batch_;
};

// A dataset's batches: one pass per epoch, or steps_per_epoch batches read one epoch after
// the other from the same iterator.
class DatasetSource final : public Source {
 public:
  DatasetSource(data::Dataset ds, std::optional<int> steps_per_epoch)
      : ds_(std::move(ds)), per_epoch_(steps_per_epoch) {
    const auto card = ds_.cardinality();
    if (card == data::kInfinite && !per_epoch_) {
      throw Error("the dataset is infinite (repeat()); give steps_per_epoch (or steps)");
    }
    steps_ = per_epoch_ ? *per_epoch_ : (card >= 0 ? static_cast<int>(card) : 0);
  }
  void start_epoch() override {
    if (!it_ || !per_epoch_) it_ = ds_.begin();
    taken_ = 0;
  }
  const StepData* next() override {
    if (per_epoch_ && taken_ >= *per_epoch_) return nullptr;
    if (started_) ++*it_;  // the previous batch is done with
    started_ = false;
    if (*it_ == ds_.end()) return nullptr;
    started_ = true;
    ++taken_;
    return &**it_;
  }
  int steps() const override { return steps_; }

 private:
  data::Dataset ds_;
  std::optional<int> per_epoch_;
  std::optional<data::Dataset::iterator> it_;
  int steps_ = 0, taken_ = 0;
  bool started_ = false;
};

std::vector<Tensor> tensors(const std::vector<Data::Ref>& refs) {
  std::vector<Tensor> out;
  for (const auto& r : refs) out.push_back(*r);
  return out;
}

}  // namespace

struct CustomLoop {
  static void check(const Model& m, const char* what) {
    if (distribution::active()) {
      throw Error(
          "Model \"{}\": {} with a custom step under data-parallel training is not supported "
          "yet",
          m.name(), what);
    }
  }
  static void reset_metrics(Model& m, bool train) {
    for (metrics::Metric* t : m.metrics()) t->reset_state();
    (train ? m.state_->train_trackers : m.state_->test_trackers).reset();
  }
  // One pass of test_step over a source; the last step's logs with `prefix`.
  static Logs evaluate(Model& m, Source& src, const std::string& prefix,
                       const std::vector<std::shared_ptr<callbacks::Callback>>& cbs, int verbose) {
    reset_metrics(m, false);
    src.start_epoch();
    Progbar bar(src.steps(), verbose);
    Logs logs;
    int s = 0;
    for (const StepData* b = src.next(); b; b = src.next(), ++s) {
      for (auto& cb : cbs) cb->on_test_batch_begin(s, {});
      logs = m.test_step(*b);
      for (auto& cb : cbs) cb->on_test_batch_end(s, logs);
      if (verbose == 1) bar.update(s + 1, logs, false);
    }
    if (s == 0) throw Error("Model \"{}\": evaluation got no batch", m.name());
    bar.update(s, logs, true);
    if (prefix.empty()) return logs;
    Logs out;
    for (auto& [k, v] : logs) out[prefix + k] = v;
    return out;
  }

  static History fit(Model& m, Source& train, Source* val, FitOptions& o) {
    check(m, "fit");
    if (o.epochs < 0) throw Error("fit: epochs must not be negative");
    auto history = std::make_shared<callbacks::History>();
    std::vector<std::shared_ptr<callbacks::Callback>> cbs;
    for (auto& c : o.callbacks) cbs.push_back(c.object);
    cbs.push_back(history);
    for (auto& cb : cbs) {
      cb->set_model(&m);
      cb->set_params({.epochs = o.epochs, .steps = train.steps(), .verbose = o.verbose});
    }
    m.stop_training = false;
    for (auto& cb : cbs) cb->on_train_begin({});
    int first_epoch = o.initial_epoch;
    if (TrainAccess::has_state(m)) {
      TrainState& st = TrainAccess::state(m);
      if (st.resume) {  // BackupAndRestore: resumes at the start of the saved epoch
        first_epoch = st.resume->epoch;
        st.resume.reset();
      }
    }
    int steps = train.steps();
    for (int epoch = first_epoch; epoch < o.epochs && !m.stop_training; ++epoch) {
      if (o.verbose) std::printf("Epoch %d/%d\n", epoch + 1, o.epochs);
      for (auto& cb : cbs) cb->on_epoch_begin(epoch, {});
      reset_metrics(m, true);
      train.start_epoch();
      Progbar bar(steps, o.verbose);
      Logs logs;
      int s = 0;
      for (const StepData* b = train.next(); b && !m.stop_training; b = train.next(), ++s) {
        for (auto& cb : cbs) cb->on_train_batch_begin(s, {});
        logs = m.train_step(*b);
        for (auto& cb : cbs) cb->on_train_batch_end(s, logs);
        if (o.verbose == 1 && s + 1 != steps) bar.update(s + 1, logs, false);
      }
      if (s == 0) throw Error("fit: model \"{}\" got no batch in epoch {}", m.name(), epoch + 1);
      if (steps == 0) steps = s;
      if (val && !m.stop_training) {
        Logs vlogs = evaluate(m, *val, "val_", {}, 0);
        logs.insert(vlogs.begin(), vlogs.end());
      }
      bar.update(s, logs, true);
      for (auto& cb : cbs) cb->on_epoch_end(epoch, logs);
    }
    for (auto& cb : cbs) cb->on_train_end({});
    return history->history();
  }

  static History fit_arrays(Model& m, const Data& x, const Data& y, FitOptions& o) {
    check_fit_options(o);
    if (o.batch_size <= 0) throw Error("fit: batch_size must be positive");
    if (!o.class_weight.empty()) {
      throw Error("fit: model \"{}\" has a custom train_step; class_weight is not applied to it",
                  m.name());
    }
    std::vector<Tensor> xs = tensors(x.list), ys = tensors(y.list);
    if (!x.by_name.empty() || !y.by_name.empty()) {
      throw Error("fit: a model with a custom train_step takes lists of tensors, not maps");
    }
    const auto bs = static_cast<std::size_t>(o.batch_size);
    std::optional<ArraySource> val;
    if (o.validation_data) {
      const auto& vd = *o.validation_data;
      if (vd.dataset) {
        DatasetSource vds(*vd.dataset, o.validation_steps);
        ArraySource train(std::move(xs), std::move(ys), o.sample_weight, bs, o.shuffle);
        return fit(m, train, &vds, o);
      }
      val.emplace(tensors(vd.x.list), tensors(vd.y.list), vd.sample_weight, bs, false);
    } else if (o.validation_split > 0) {
      if (o.validation_split >= 1) {
        throw Error("fit: validation_split must be in [0, 1), received {}", o.validation_split);
      }
      const std::size_t n = xs.empty() ? 0 : xs[0].shape()[0];
      const auto split = static_cast<std::size_t>(std::floor(n * (1.0 - o.validation_split)));
      if (split == 0 || split == n) {
        throw Error("fit: validation_split={} of {} samples leaves an empty part",
                    o.validation_split, n);
      }
      auto cut = [&](std::vector<Tensor>& all, std::vector<Tensor>& head,
                     std::vector<Tensor>& tail) {
        for (auto& t : all) {
          Tensor a, b;
          copy_rows(t, 0, split, a);
          copy_rows(t, split, n - split, b);
          head.push_back(std::move(a));
          tail.push_back(std::move(b));
        }
      };
      std::vector<Tensor> tx, ty, vx, vy;
      cut(xs, tx, vx);
      cut(ys, ty, vy);
      std::optional<Tensor> tsw, vsw;
      if (o.sample_weight) {
        tsw.emplace();
        vsw.emplace();
        copy_rows(*o.sample_weight, 0, split, *tsw);
        copy_rows(*o.sample_weight, split, n - split, *vsw);
      }
      xs = std::move(tx);
      ys = std::move(ty);
      o.sample_weight = std::move(tsw);
      val.emplace(std::move(vx), std::move(vy), std::move(vsw), bs, false);
    }
    ArraySource train(std::move(xs), std::move(ys), o.sample_weight, bs, o.shuffle);
    return fit(m, train, val ? &*val : nullptr, o);
  }

  static History fit_dataset(Model& m, const data::Dataset& ds, FitOptions& o) {
    check_fit_options(o);
    if (o.validation_split > 0) {
      throw Error("fit: validation_split is only supported for tensors, not for a dataset");
    }
    DatasetSource train(ds, o.steps_per_epoch);
    std::optional<DatasetSource> vds;
    std::optional<ArraySource> varr;
    if (o.validation_data) {
      const auto& vd = *o.validation_data;
      if (vd.dataset) {
        vds.emplace(*vd.dataset, o.validation_steps);
      } else {
        varr.emplace(tensors(vd.x.list), tensors(vd.y.list), vd.sample_weight,
                     static_cast<std::size_t>(o.batch_size > 0 ? o.batch_size : 32), false);
      }
    }
    Source* val = vds ? static_cast<Source*>(&*vds) : varr ? &*varr : nullptr;
    return fit(m, train, val, o);
  }

  static std::vector<double> in_order(const Model& m, const Logs& logs) {
    std::vector<double> out;
    std::vector<std::string> seen;
    // Keras's order: metrics_names() (a custom step's trackers, or the compiled metrics).
    for (const std::string& name : m.metrics_names()) {
      auto it = logs.find(name);
      if (it != logs.end()) {
        out.push_back(it->second);
        seen.push_back(it->first);
      }
    }
    for (auto& [k, v] : logs) {
      if (std::find(seen.begin(), seen.end(), k) == seen.end()) out.push_back(v);
    }
    return out;
  }

  static std::vector<double> evaluate_source(Model& m, Source& src, EvaluateOptions& o) {
    check(m, "evaluate");
    std::vector<std::shared_ptr<callbacks::Callback>> cbs;
    for (auto& c : o.callbacks) {
      c.object->set_model(&m);
      cbs.push_back(c.object);
    }
    for (auto& cb : cbs) cb->on_test_begin({});
    Logs logs = evaluate(m, src, "", cbs, o.verbose);
    for (auto& cb : cbs) cb->on_test_end(logs);
    return in_order(m, logs);
  }

  static std::vector<Tensor> predict(const Model& m, Source& src, int verbose) {
    check(m, "predict");
    src.start_epoch();
    Progbar bar(src.steps(), verbose);
    std::vector<std::vector<Tensor>> parts;
    int s = 0;
    for (const StepData* b = src.next(); b; b = src.next(), ++s) {
      std::vector<Tensor> outs = m.predict_step(*b);
      if (parts.empty()) parts.resize(outs.size());
      if (outs.size() != parts.size()) {
        throw Error("Model \"{}\": predict_step returned {} tensors, then {}", m.name(),
                    parts.size(), outs.size());
      }
      for (std::size_t k = 0; k < outs.size(); ++k) parts[k].push_back(std::move(outs[k]));
      if (verbose == 1) bar.update(s + 1, {}, false);
    }
    bar.update(s, {}, true);
    std::vector<Tensor> result;
    for (auto& chunks : parts) {
      std::size_t rows = 0;
      for (auto& c : chunks) {
        if (c.dimension() == 0 || c.dimension() != chunks[0].dimension() ||
            !std::equal(c.shape().begin() + 1, c.shape().end(), chunks[0].shape().begin() + 1)) {
          throw Error(
              "Model \"{}\": predict_step gave outputs of shapes {} and {}, which do not "
              "stack along the batch axis",
              m.name(), shape_str(shape_of(chunks[0])), shape_str(shape_of(c)));
        }
        rows += c.shape()[0];
      }
      Tensor::shape_type shape = chunks[0].shape();
      shape[0] = rows;
      Tensor all = Tensor::from_shape(shape);
      float* p = all.data();
      for (auto& c : chunks) p = std::copy_n(c.data(), c.size(), p);
      result.push_back(std::move(all));
    }
    return result;
  }
};

}  // namespace plexus::optim

namespace plexus {

using optim::CustomLoop;

History Model::fit(const Data& x, FitOptions options) { return fit(x, Data(), std::move(options)); }

namespace optim {
// Entry points for Model's fit / evaluate / predict when custom_steps() (optim/fit.cpp and
// optim/model.cpp call them first).
History custom_fit(Model& m, const Data& x, const Data& y, FitOptions& o) {
  return CustomLoop::fit_arrays(m, x, y, o);
}
History custom_fit(Model& m, const data::Dataset& ds, FitOptions& o) {
  return CustomLoop::fit_dataset(m, ds, o);
}
std::vector<double> custom_evaluate(Model& m, const Data& x, const Data& y, EvaluateOptions& o) {
  if (o.batch_size <= 0) throw Error("evaluate: batch_size must be positive");
  ArraySource src(tensors(x.list), tensors(y.list), o.sample_weight,
                  static_cast<std::size_t>(o.batch_size), false);
  return CustomLoop::evaluate_source(m, src, o);
}
std::vector<double> custom_evaluate(Model& m, const data::Dataset& ds, EvaluateOptions& o) {
  DatasetSource src(ds, o.steps);
  return CustomLoop::evaluate_source(m, src, o);
}
std::vector<Tensor> custom_predict(const Model& m, const std::vector<Tensor>& xs,
                                   const PredictOptions& o) {
  if (o.batch_size <= 0) throw Error("predict: batch_size must be positive");
  ArraySource src(xs, {}, std::nullopt, static_cast<std::size_t>(o.batch_size), false);
  return CustomLoop::predict(m, src, o.verbose);
}
std::vector<Tensor> custom_predict(const Model& m, const data::Dataset& ds,
                                   const PredictOptions& o) {
  DatasetSource src(ds, o.steps);
  return CustomLoop::predict(m, src, o.verbose);
}
}  // namespace optim

std::vector<Tensor> Model::predict_step(const StepData& data) const {
  if (!has_graph()) {
    throw Error("Model \"{}\" has no graph of its own: override predict_step to predict with it",
                name());
  }
  const std::size_t rows = data.x.empty() || data.x[0].dimension() == 0 ? 1 : data.x[0].shape()[0];
  return predict_refs(
      Data(data.x).list,
      PredictOptions{.batch_size = static_cast<int>(std::max<std::size_t>(rows, 1)), .verbose = 0});
}

}  // namespace plexus
