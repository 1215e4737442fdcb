// Training data: targets by output, the entry checks (counts, shapes, NaN/Inf, label
// ranges, sample and class weights), metric resolution, and the executor's feeds.
#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.hpp"
#include "optim/train_state.hpp"

namespace plexus {

using optim::Dataset;
using optim::OutputState;
using optim::TrainState;

namespace {

const std::vector<std::size_t>& trained_outputs(const TrainState& st) { return st.trained; }

// Whether a metric of a flat list applies to an output trained with `loss`: a
// classification metric does not apply to a regression head.
bool metric_applies(const MetricSpec& spec, const losses::Loss& loss) {
  static const std::set<std::string, std::less<>> classification{"accuracy",
                                                                 "acc",
                                                                 "binary_accuracy",
                                                                 "categorical_accuracy",
                                                                 "sparse_categorical_accuracy",
                                                                 "top_k_categorical_accuracy",
                                                                 "precision",
                                                                 "recall",
                                                                 "auc"};
  const std::string name = spec.object ? spec.object->name() : spec.name;
  if (!classification.count(name)) return true;
  const std::string& l = loss.name();
  return l.find("crossentropy") != std::string::npos || l.find("hinge") != std::string::npos ||
         l.find("kl_divergence") != std::string::npos;
}

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
    std::set<const metrics::Metric*> used;
    for (std::size_t k = 0; k < trained.size(); ++k) {
      OutputState& o = st.outputs[trained[k]];
      o.metrics.clear();
      for (auto& spec : o.metric_specs) {
        if (o.from_flat_list && st.outputs.size() > 1 && !metric_applies(spec, *o.loss)) continue;
        std::shared_ptr<metrics::Metric> m =
            spec.object
                ? spec.object
                : metrics::get(spec.name, shape_of(*d.ys[k]), model.outputs()[trained[k]].shape());
        // One metric object given for several outputs: each output tracks its own copy.
        if (!used.insert(m.get()).second) m = m->clone();
        o.metrics.push_back(std::move(m));
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

}  // namespace plexus
