#include "optim/data_parallel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "core/error.hpp"
#include "core/random.hpp"
#include "optim/model.hpp"

namespace plexus::optim {

Shard shard_of(std::size_t count, int rank, int size) {
  const auto p = static_cast<std::size_t>(size), r = static_cast<std::size_t>(rank);
  const std::size_t base = count / p, extra = count % p;
  return {r * base + std::min(r, extra), base + (r < extra ? 1 : 0)};
}

void agree(distribution::Communicator& comm, const std::string& where, std::exception_ptr local) {
  const auto size = static_cast<std::size_t>(comm.size());
  std::uint64_t failed = local ? 1 : 0;
  std::vector<std::uint64_t> all(size);
  comm.allgather(&failed, 1, all.data());
  const auto it = std::find(all.begin(), all.end(), std::uint64_t{1});
  if (it == all.end()) return;
  const int culprit = static_cast<int>(it - all.begin());
  std::string message;
  if (culprit == comm.rank()) {
    try {
      std::rethrow_exception(local);
    } catch (const std::exception& e) {
      message = e.what();
    } catch (...) {
      message = "an exception that is not a std::exception";
    }
  }
  std::uint64_t length = message.size();
  comm.broadcast(&length, sizeof length, culprit);
  message.resize(length);
  comm.broadcast(message.data(), length, culprit);
  if (culprit == comm.rank()) std::rethrow_exception(local);
  throw Error("{}: process {} of {} failed: {}", where, culprit, comm.size(), message);
}

namespace {

// Each process's values of one quantity, "process 0: 100, process 1: 99".
template <typename F>
std::string per_process(std::size_t size, F&& value) {
  std::string s;
  for (std::size_t r = 0; r < size; ++r) {
    s += fmt::format("{}process {}: {}", r ? ", " : "", r, value(r));
  }
  return s;
}

constexpr std::size_t kMaxDims = 8;

}  // namespace

DataParallelRun::DataParallelRun(distribution::Communicator& comm, const Model& model)
    : comm_(comm), model_(model) {}

bool DataParallelRun::any(bool flag) {
  double v = flag ? 1.0 : 0.0;
  comm_.allreduce_sum(&v, 1);
  return v > 0;
}

void DataParallelRun::enter(const Fingerprint& f, std::exception_ptr local, TrainState* st) {
  agree(comm_, f.what, local);
  const auto size = static_cast<std::size_t>(comm_.size());
  const std::vector<Variable> weights = model_.weights();
  const std::vector<Variable> trainable = model_.trainable_weights();
  std::vector<std::size_t> metric_states;
  if (st) {
    for (auto& o : st->outputs) {
      for (auto& m : o.metrics) {
        const std::size_t n = m->state_values().size();
        if (n == 0) {
          throw Error(
              "{}: metric \"{}\" ({}) does not expose its state (Metric::state_values), so "
              "it cannot be summed across the {} processes of a data-parallel run",
              f.what, m->name(), m->class_name(), size);
        }
        metric_states.push_back(n);
      }
    }
  }
  // The scalars, one row per process.
  struct Field {
    const char* name;
    std::uint64_t value;
  };
  std::size_t params = 0;
  for (auto& w : weights) params += w.size();
  std::uint64_t metric_total = 0;
  for (auto n : metric_states) metric_total += n;
  const Field fields[] = {
      {"the number of weights", weights.size()},
      {"the number of trainable weights", trainable.size()},
      {"the number of parameters", params},
      {"the number of samples", f.samples},
      {"the number of validation samples", f.val_samples},
      {"batch_size", f.batch_size},
      {"epochs", static_cast<std::uint64_t>(f.epochs)},
      {"where training starts (epoch * 1000003 + step)",
       static_cast<std::uint64_t>(f.initial_epoch)},
      {"shuffle", static_cast<std::uint64_t>(f.shuffle)},
      {"the number of metric state values", metric_total},
  };
  constexpr std::size_t kFields = sizeof fields / sizeof fields[0];
  std::vector<std::uint64_t> mine(kFields), all(kFields * size);
  for (std::size_t i = 0; i < kFields; ++i) mine[i] = fields[i].value;
  comm_.allgather(mine.data(), kFields, all.data());
  for (std::size_t i = 0; i < kFields; ++i) {
    for (std::size_t r = 1; r < size; ++r) {
      if (all[r * kFields + i] != all[i]) {
        throw Error("{}: the {} processes disagree on {} ({})", f.what, size, fields[i].name,
                    per_process(size, [&](std::size_t q) { return all[q * kFields + i]; }));
      }
    }
  }
  // Weight shapes, (rank, dims...) per weight.
  const std::size_t row = kMaxDims + 1;
  std::vector<std::uint64_t> shapes(weights.size() * row, 0), all_shapes(shapes.size() * size);
  for (std::size_t w = 0; w < weights.size(); ++w) {
    const auto& s = weights[w].value().shape();
    shapes[w * row] = s.size();
    for (std::size_t d = 0; d < s.size() && d < kMaxDims; ++d) shapes[w * row + 1 + d] = s[d];
  }
  comm_.allgather(shapes.data(), shapes.size(), all_shapes.data());
  for (std::size_t w = 0; w < weights.size(); ++w) {
    for (std::size_t r = 1; r < size; ++r) {
      if (!std::equal(
              all_shapes.begin() + static_cast<std::ptrdiff_t>(r * shapes.size() + w * row),
              all_shapes.begin() + static_cast<std::ptrdiff_t>(r * shapes.size() + (w + 1) * row),
              all_shapes.begin() + static_cast<std::ptrdiff_t>(w * row))) {
        auto shape = [&](std::size_t q) {
          const std::uint64_t* p = &all_shapes[q * shapes.size() + w * row];
          std::string s = "(";
          for (std::uint64_t d = 0; d < p[0]; ++d)
            s += fmt::format("{}{}", d ? ", " : "", p[1 + d]);
          return s + (p[0] == 1 ? ",)" : ")");
        };
        throw Error("{}: the {} processes' models differ: weight {} (\"{}\" here) has shape {}",
                    f.what, size, w, weights[w].path(), per_process(size, shape));
      }
    }
  }
  // Process 0's weights everywhere.
  for (const Variable& w : weights) {
    Tensor& v = const_cast<Variable&>(w).value();
    comm_.broadcast(v.data(), v.size() * sizeof(float), 0);
  }
  if (st && st->optimizer) {
    Optimizer& opt = *st->optimizer;
    std::uint64_t built = opt.iterations() > 0 || !opt.variables().empty() ? 1 : 0;
    comm_.broadcast(&built, sizeof built, 0);
    auto vars = opt.state_variables(trainable, built != 0);
    for (auto& v : vars) {
      comm_.broadcast(&v.scalar, sizeof v.scalar, 0);
      if (!v.values.empty()) comm_.broadcast(v.values.data(), v.values.size() * sizeof(float), 0);
    }
    opt.set_state_variables(trainable, vars);
  }
  // One shuffling stream: process 0's generator everywhere.
  std::ostringstream os;
  os << generator();
  std::string state = os.str();
  std::uint64_t length = state.size();
  comm_.broadcast(&length, sizeof length, 0);
  state.resize(length);
  comm_.broadcast(state.data(), length, 0);
  std::istringstream is(state);
  is >> generator();
}

void DataParallelRun::layout(const TrainState& st) {
  const std::size_t nw = st.trainable_raw.size(), nu = st.function.updates().size();
  const auto& dp = distribution::distribution();
  const std::size_t cap = dp ? dp->options().bucket_bytes / sizeof(float) : 0;
  grad_off_.assign(nw, 0);
  flag_off_.assign(nw, 0);
  bucket_of_.assign(nw, 0);
  update_off_.assign(nu, 0);
  reduced_.clear();
  for (VariableData* v : st.trainable_raw) reduced_.push_back(Tensor::from_shape(v->value.shape()));
  // Buckets of consecutive weights in the order the backward pass finishes them.
  buckets_.clear();
  std::size_t off = 0, filled = 0;
  std::vector<std::size_t> members;
  auto close = [&] {
    Bucket b;
    b.begin = off - filled;
    for (std::size_t i : members) {
      flag_off_[i] = off++;
      bucket_of_[i] = buckets_.size();
    }
    b.weights = members.size();
    b.end = off;
    buckets_.push_back(b);
    members.clear();
    filled = 0;
  };
  const std::vector<std::size_t>& order = st.executor->gradient_order();
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::size_t i = order[k];
    grad_off_[i] = off;
    off += st.trainable_raw[i]->value.size();
    filled += st.trainable_raw[i]->value.size();
    members.push_back(i);
    if (cap > 0 && filled >= cap && k + 1 < order.size()) close();
  }
  // The last bucket (started after the backward pass) also carries the state updates.
  const std::size_t last_begin = off - filled;
  for (std::size_t u = 0; u < nu; ++u) {
    update_off_[u] = off;
    off += st.function.updates()[u].variable->value.size();
  }
  filled = off - last_begin;
  close();
  buffer_.assign(off, 0.0f);
}

void DataParallelRun::start(Bucket& b) {
  b.request = comm_.start_allreduce_sum(buffer_.data() + b.begin, b.end - b.begin);
  b.started = true;
  ++distribution::statistics().gradient_buckets;
}

void DataParallelRun::train_step(TrainState& st, const std::vector<const Tensor*>& feeds,
                                 std::size_t mine, std::size_t global) {
  const std::size_t nw = st.trainable_raw.size(), nu = st.function.updates().size();
  if (grad_off_.size() != nw || update_off_.size() != nu || buckets_.empty()) layout(st);
  std::fill(buffer_.begin(), buffer_.end(), 0.0f);
  for (Bucket& b : buckets_) {
    b.pending = b.weights;
    b.started = false;
  }
  Bucket& last = buckets_.back();
  if (mine > 0) {
    // Each process's gradient is its shard's mean; weighted by its share of the global
    // batch, the sum over processes is the global batch's mean gradient.
    share_ = static_cast<float>(static_cast<double>(mine) / static_cast<double>(global));
    graph::Executor& ex = *st.executor;
    auto ready = [&](std::size_t i) {
      if (const Tensor* g = ex.variable_grad(i)) {
        float* out = buffer_.data() + grad_off_[i];
        const float* in = g->data();
        for (std::size_t k = 0, n = g->size(); k < n; ++k) out[k] = in[k] * share_;
        buffer_[flag_off_[i]] = 1.0f;
      }
      Bucket& b = buckets_[bucket_of_[i]];
      if (--b.pending == 0 && &b != &last) start(b);
      comm_.progress();
    };
    backprop(st, feeds, Context{.training = true}, ready);
    for (std::size_t u = 0; u < nu; ++u) {
      const Tensor& v = ex.output(st.function.updates()[u].output);
      float* out = buffer_.data() + update_off_[u];
      for (std::size_t k = 0, n = v.size(); k < n; ++k) out[k] = v.data()[k] * share_;
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (Bucket& b : buckets_) {
    if (!b.started) start(b);  // the last one, or all when this process had no rows
  }
  for (Bucket& b : buckets_) comm_.wait(b.request);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto& stats = distribution::statistics();
  stats.gradient_seconds += seconds;
  ++stats.gradient_allreduces;
  stats.gradient_bytes += buffer_.size() * sizeof(float);
  for (std::size_t i = 0; i < nw; ++i) {
    if (buffer_[flag_off_[i]] > 0) {
      std::copy_n(buffer_.data() + grad_off_[i], reduced_[i].size(), reduced_[i].data());
      st.grad_ptrs[i] = &reduced_[i];
    } else {
      st.grad_ptrs[i] = nullptr;
    }
  }
  st.update_values.resize(nu);
  for (std::size_t u = 0; u < nu; ++u) st.update_values[u] = buffer_.data() + update_off_[u];
  apply_step(st);
}

}  // namespace plexus::optim
