// px::data::Dataset: the pipeline nodes (sources, transformations) and their passes.
#include "optim/data/dataset.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>

#include "core/error.hpp"
#include "core/random.hpp"
#include "optim/data/detail/node.hpp"

namespace plexus::data {

using detail::Iterator;
using detail::Node;

namespace detail {

Tensor rows_of(const Tensor& t, std::size_t begin, std::size_t count) {
  Tensor out;
  copy_rows(t, begin, count, out);
  return out;
}

namespace {
// Row i of t without its first axis.
Tensor row(const Tensor& t, std::size_t i) {
  std::vector<std::size_t> shape(t.shape().begin() + 1, t.shape().end());
  Tensor r = Tensor::from_shape(shape);
  std::copy_n(t.data() + i * r.size(), r.size(), r.data());
  return r;
}
}  // namespace

Tensor stack(const std::vector<const Tensor*>& parts, const std::string& what) {
  const Tensor& first = *parts.at(0);
  std::vector<std::size_t> shape{parts.size()};
  shape.insert(shape.end(), first.shape().begin(), first.shape().end());
  Tensor out = Tensor::from_shape(shape);
  float* p = out.data();
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const Tensor& t = *parts[i];
    if (t.shape() != first.shape()) {
      throw Error(
          "Dataset.batch: {} of element {} of the batch has shape {}, but element 0's has {} "
          "(elements of one batch must have the same shape)",
          what, i, shape_str(shape_of(t)), shape_str(shape_of(first)));
    }
    std::copy_n(t.data(), t.size(), p);
    p += t.size();
  }
  return out;
}

namespace {
// Drops the positions a selection does not want (nodes that cannot skip them earlier).
struct Selected : Iterator {
  std::unique_ptr<Iterator> up;
  Selection sel;
  std::size_t pos = 0;
  bool next(StepData& out) override {
    for (;;) {
      if (!up->next(out)) return false;
      if (sel.keeps(pos++)) return true;
    }
  }
};
}  // namespace

std::unique_ptr<Iterator> Node::iterate(const Selection* selection) const {
  if (!selection || selects()) return make(selection);
  auto it = std::make_unique<Selected>();
  it->up = make(nullptr);
  it->sel = *selection;
  return it;
}

}  // namespace detail

namespace {

using detail::Selection;

// --- ordered workers -----------------------------------------------------------------------
// Tasks run on `workers` threads; results are taken in submission order.
class OrderedPool {
 public:
  explicit OrderedPool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
  }
  ~OrderedPool() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  OrderedPool(const OrderedPool&) = delete;
  OrderedPool& operator=(const OrderedPool&) = delete;

  void submit(std::function<StepData()> task) {
    auto slot = std::make_shared<Slot>();
    slot->task = std::move(task);
    {
      std::lock_guard<std::mutex> lock(m_);
      pending_.push_back(slot);
      todo_.push_back(slot);
    }
    cv_.notify_one();
  }
  std::size_t in_flight() const { return pending_.size(); }
  // The oldest task's result (its exception rethrown).
  StepData take_front() {
    std::shared_ptr<Slot> slot;
    {
      std::unique_lock<std::mutex> lock(m_);
      slot = pending_.front();
      done_cv_.wait(lock, [&] { return slot->done; });
      pending_.pop_front();
    }
    if (slot->error) std::rethrow_exception(slot->error);
    return std::move(slot->result);
  }

 private:
  struct Slot {
    std::function<StepData()> task;
    StepData result;
    std::exception_ptr error;
    bool done = false;
  };
  void work() {
    for (;;) {
      std::shared_ptr<Slot> slot;
      {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [&] { return stop_ || !todo_.empty(); });
        if (stop_) return;
        slot = todo_.front();
        todo_.pop_front();
      }
      StepData r;
      std::exception_ptr e;
      try {
        r = slot->task();
      } catch (...) {
        e = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(m_);
        slot->result = std::move(r);
        slot->error = e;
        slot->done = true;
        slot->task = nullptr;
      }
      done_cv_.notify_all();
    }
  }
  std::mutex m_;
  std::condition_variable cv_, done_cv_;
  std::deque<std::shared_ptr<Slot>> pending_, todo_;
  std::vector<std::thread> threads_;
  bool stop_ = false;
};

int resolve_workers(int n) {
  if (n == AUTOTUNE) return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return n;
}

// --- sources ---------------------------------------------------------------------------------

struct SlicesNode : Node {
  std::vector<Tensor> x, y;
  std::optional<Tensor> sw;
  std::size_t n = 0;
  struct It : Iterator {
    const SlicesNode& node;
    std::size_t i = 0;
    std::optional<Selection> sel;
    It(const SlicesNode& nd) : node(nd) {}
    bool next(StepData& out) override {
      while (sel && i < node.n && !sel->keeps(i)) ++i;
      if (i >= node.n) return false;
      out.x.resize(node.x.size());
      for (std::size_t k = 0; k < node.x.size(); ++k) out.x[k] = detail::row(node.x[k], i);
      out.y.resize(node.y.size());
      for (std::size_t k = 0; k < node.y.size(); ++k) out.y[k] = detail::row(node.y[k], i);
      if (node.sw) {
        out.sample_weight = detail::row(*node.sw, i);
      } else {
        out.sample_weight.reset();
      }
      ++i;
      return true;
    }
  };
  std::unique_ptr<Iterator> make(const Selection* sel) const override {
    auto it = std::make_unique<It>(*this);
    if (sel) it->sel = *sel;
    return it;
  }
  bool selects() const override { return true; }
  std::int64_t cardinality() const override { return static_cast<std::int64_t>(n); }
};

struct GeneratorNode : Node {
  std::function<Dataset::Generator()> factory;
  struct It : Iterator {
    Dataset::Generator gen;
    bool next(StepData& out) override {
      auto e = gen();
      if (!e) return false;
      out = std::move(*e);
      return true;
    }
  };
  std::unique_ptr<Iterator> make(const Selection*) const override {
    auto it = std::make_unique<It>();
    it->gen = factory();
    if (!it->gen) throw Error("Dataset.from_generator: the factory returned an empty generator");
    return it;
  }
};

struct IndexedNode : Node {
  detail::IndexedSource src;
  struct It : Iterator {
    const detail::IndexedSource& src;
    std::vector<std::size_t> order;
    std::size_t submitted = 0, delivered = 0;
    std::unique_ptr<OrderedPool> pool;
    bool ended = false;
    It(const detail::IndexedSource& s, const Selection* sel) : src(s) {
      if (src.order) {
        order = src.order();
      } else {
        order.resize(src.count);
        std::iota(order.begin(), order.end(), std::size_t{0});
      }
      if (sel) {  // only the wanted positions are ever made
        std::size_t k = 0;
        for (std::size_t p = 0; p < order.size(); ++p) {
          if (sel->keeps(p)) order[k++] = order[p];
        }
        order.resize(k);
      }
      if (src.workers > 1) pool = std::make_unique<OrderedPool>(src.workers);
    }
    bool next(StepData& out) override {
      if (delivered >= order.size()) {
        if (!ended) {
          ended = true;
          if (src.end_of_pass) src.end_of_pass();
        }
        return false;
      }
      if (!pool) {
        out = src.get(order[delivered++]);
        return true;
      }
      const std::size_t window = static_cast<std::size_t>(std::max(src.queue, src.workers));
      while (submitted < order.size() && pool->in_flight() < window) {
        const std::size_t index = order[submitted++];
        pool->submit([this, index] { return src.get(index); });
      }
      ++delivered;
      out = pool->take_front();
      return true;
    }
  };
  std::unique_ptr<Iterator> make(const Selection* sel) const override {
    return std::make_unique<It>(src, sel);
  }
  bool selects() const override { return true; }
  std::int64_t cardinality() const override { return static_cast<std::int64_t>(src.count); }
};

// --- transformations ---------------------------------------------------------------------------

struct Unary : Node {
  std::shared_ptr<const Node> in;
};

struct MapNode : Unary {
  Dataset::MapFn fn;
  int workers = 1;
  struct It : Iterator {
    const MapNode& node;
    std::unique_ptr<Iterator> up;
    std::unique_ptr<OrderedPool> pool;
    bool up_done = false;
    It(const MapNode& n, const Selection* sel) : node(n), up(n.in->iterate(sel)) {
      if (n.workers > 1) pool = std::make_unique<OrderedPool>(n.workers);
    }
    bool next(StepData& out) override {
      if (!pool) {
        StepData e;
        if (!up->next(e)) return false;
        out = node.fn(std::move(e));
        return true;
      }
      const std::size_t window = 2 * static_cast<std::size_t>(node.workers);
      while (!up_done && pool->in_flight() < window) {
        auto e = std::make_shared<StepData>();
        if (!up->next(*e)) {
          up_done = true;
          break;
        }
        pool->submit([fn = &node.fn, e] { return (*fn)(std::move(*e)); });
      }
      if (pool->in_flight() == 0) return false;
      out = pool->take_front();
      return true;
    }
  };
  std::unique_ptr<Iterator> make(const Selection* sel) const override {
    return std::make_unique<It>(*this, sel);
  }
  bool selects() const override { return true; }  // one element in, one out
  std::int64_t cardinality() const override { return in->cardinality(); }
};

struct FilterNode : Unary {
  Dataset::Predicate keep;
  struct It : Iterator {
    const FilterNode& node;
    std::unique_ptr<Iterator> up;
    explicit It(const FilterNode& n) : node(n), up(n.in->iterate()) {}
    bool next(StepData& out) override {
      while (up->next(out)) {
        if (node.keep(out)) return true;
      }
      return false;
    }
  };
  std::unique_ptr<Iterator> make(const Selection*) const override {
    return std::make_unique<It>(*this);
  }
  std::int64_t cardinality() const override {
    return in->cardinality() == kInfinite ? kInfinite : kUnknown;
  }
};

struct ShuffleNode : Unary {
  std::size_t buffer_size = 1;
  std::optional<std::uint64_t> seed;
  bool reshuffle = true;
  mutable std::atomic<std::uint64_t> passes{0};
  struct It : Iterator {
    std::unique_ptr<Iterator> up;
    std::vector<StepData> buffer;
    std::mt19937_64 rng;
    std::size_t capacity;
    bool up_done = false;
    bool next(StepData& out) override {
      while (!up_done && buffer.size() < capacity) {
        StepData e;
        if (!up->next(e)) {
          up_done = true;
          break;
        }
        buffer.push_back(std::move(e));
      }
      if (buffer.empty()) return false;
      std::uniform_int_distribution<std::size_t> pick(0, buffer.size() - 1);
      const std::size_t k = pick(rng);
      out = std::move(buffer[k]);
      if (k + 1 != buffer.size()) buffer[k] = std::move(buffer.back());
      buffer.pop_back();
      // tf.data refills the slot with the next input at once: the next call does.
      return true;
    }
  };
  std::unique_ptr<Iterator> make(const Selection*) const override {
    auto it = std::make_unique<It>();
    it->up = in->iterate();
    it->capacity = buffer_size;
    const std::uint64_t pass = passes.fetch_add(1);
    if (seed) {
      it->rng.seed(*seed + (reshuffle ? pass * 0x9E3779B97F4A7C15ull : 0));
    } else {
      it->rng.seed(std::uniform_int_distribution<std::uint64_t>()(generator()));
    }
    return it;
  }
  std::int64_t cardinality() const override { return in->cardinality(); }
};

struct BatchNode : Unary {
  std::size_t size = 1;
  bool drop_remainder = false;
  struct It : Iterator {
    const BatchNode& node;
    std::unique_ptr<Iterator> up;
    std::vector<StepData> items;
    std::vector<const Tensor*> parts;
    It(const BatchNode& n, const Selection* sel) : node(n) {
      if (sel) {  // batch b wanted: its elements b * size .. b * size + size - 1
        const Selection wide{sel->period * n.size, sel->begin * n.size, sel->count * n.size};
        up = n.in->iterate(&wide);
      } else {
        up = n.in->iterate();
      }
    }
    bool next(StepData& out) override {
      items.clear();
      items.reserve(node.size);
      for (std::size_t i = 0; i < node.size; ++i) {
        StepData e;
        if (!up->next(e)) break;
        items.push_back(std::move(e));
      }
      if (items.empty() || (node.drop_remainder && items.size() < node.size)) return false;
      const StepData& f = items[0];
      for (std::size_t i = 1; i < items.size(); ++i) {
        const StepData& e = items[i];
        if (e.x.size() != f.x.size() || e.y.size() != f.y.size() ||
            e.sample_weight.has_value() != f.sample_weight.has_value()) {
          throw Error(
              "Dataset.batch: element {} of the batch has {} input(s), {} target(s){}, but "
              "element 0 has {} input(s), {} target(s){}",
              i, e.x.size(), e.y.size(), e.sample_weight ? " and sample weights" : "", f.x.size(),
              f.y.size(), f.sample_weight ? " and sample weights" : "");
        }
      }
      auto stack_field = [&](auto get, std::size_t count, std::vector<Tensor>& to,
                             const char* what) {
        to.resize(count);
        for (std::size_t k = 0; k < count; ++k) {
          parts.clear();
          for (auto& e : items) parts.push_back(&get(e, k));
          to[k] = detail::stack(parts, fmt::format("{} {}", what, k));
        }
      };
      stack_field([](const StepData& e, std::size_t k) -> const Tensor& { return e.x[k]; },
                  f.x.size(), out.x, "input");
      stack_field([](const StepData& e, std::size_t k) -> const Tensor& { return e.y[k]; },
                  f.y.size(), out.y, "target");
      if (f.sample_weight) {
        parts.clear();
        for (auto& e : items) parts.push_back(&*e.sample_weight);
        out.sample_weight = detail::stack(parts, "the sample weight");
      } else {
        out.sample_weight.reset();
      }
      return true;
    }
  };
  std::unique_ptr<Iterator> make(const Selection* sel) const override {
    return std::make_unique<It>(*this, sel);
  }
  bool selects() const override { return true; }
  std::int64_t cardinality() const override {
    const auto n = in->cardinality();
    if (n < 0) return n;
    const auto b = static_cast<std::int64_t>(size);
    return drop_remainder ? n / b : (n + b - 1) / b;
  }
};

struct UnbatchNode : Unary {
  struct It : Iterator {
    std::unique_ptr<Iterator> up;
    StepData cur;
    std::size_t rows = 0, i = 0;
    bool next(StepData& out) override {
      while (i >= rows) {
        if (!up->next(cur)) return false;
        i = 0;
        const Tensor* first = !cur.x.empty() ? &cur.x[0] : !cur.y.empty() ? &cur.y[0] : nullptr;
        if (!first || first->dimension() == 0) {
          throw Error("Dataset.unbatch: an element has no batch axis (a scalar or no tensor)");
        }
        rows = first->shape()[0];
        auto check = [&](const Tensor& t) {
          if (t.dimension() == 0 || t.shape()[0] != rows) {
            throw Error(
                "Dataset.unbatch: the tensors of an element have different batch sizes "
                "({} and {})",
                rows, shape_str(shape_of(t)));
          }
        };
        for (auto& t : cur.x) check(t);
        for (auto& t : cur.y) check(t);
        if (cur.sample_weight) check(*cur.sample_weight);
      }
      out.x.resize(cur.x.size());
      for (std::size_t k = 0; k < cur.x.size(); ++k) out.x[k] = detail::row(cur.x[k], i);
      out.y.resize(cur.y.size());
      for (std::size_t k = 0; k < cur.y.size(); ++k) out.y[k] = detail::row(cur.y[k], i);
      if (cur.sample_weight) {
        out.sample_weight = detail::row(*cur.sample_weight, i);
      } else {
        out.sample_weight.reset();
      }
      ++i;
      return true;
    }
  };
  std::unique_ptr<Iterator> make(const Selection*) const override {
    auto it = std::make_unique<It>();
    it->up = in->iterate();
    return it;
  }
  std::int64_t cardinality() const override {
    return in->cardinality() == kInfinite ? kInfinite : kUnknown;
  }
};

struct PrefetchNode : Unary {
  std::size_t buffer = 2;
  struct It : Iterator {
    std::unique_ptr<Iterator> up;
    std::size_t capacity = 2;
    std::mutex m;
    std::condition_variable cv;
    std::deque<StepData> queue;
    std::exception_ptr error;
    bool finished = false, stop = false;
    std::thread thread;
    void produce() {
      try {
        for (;;) {
          StepData e;
          if (!up->next(e)) break;
          std::unique_lock<std::mutex> lock(m);
          cv.wait(lock, [&] { return stop || queue.size() < capacity; });
          if (stop) return;
          queue.push_back(std::move(e));
          cv.notify_all();
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(m);
        error = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(m);
      finished = true;
      cv.notify_all();
    }
    bool next(StepData& out) override {
      std::unique_lock<std::mutex> lock(m);
      cv.wait(lock, [&] { return !queue.empty() || finished; });
      if (!queue.empty()) {
        out = std::move(queue.front());
        queue.pop_front();
        cv.notify_all();
        return true;
      }
      if (error) std::rethrow_exception(std::exchange(error, nullptr));
      return false;
    }
    ~It() override {
      {
        std::lock_guard<std::mutex> lock(m);
        stop = true;
      }
      cv.notify_all();
      if (thread.joinable()) thread.join();
    }
  };
  std::unique_ptr<Iterator> make(const Selection* sel) const override {
    auto it = std::make_unique<It>();
    it->up = in->iterate(sel);
    it->capacity = buffer;
    it->thread = std::thread([p = it.get()] { p->produce(); });
    return it;
  }
  bool selects() const override { return true; }
  std::int64_t cardinality() const override { return in->cardinality(); }
};

// The cache file: "PXDSCACHE1", then per element: u32 inputs, u32 targets, u32 has weight,
// then each tensor as u32 rank, u64 dims, float32 values (host byte order).
constexpr char kCacheMagic[] = "PXDSCACHE1";

void write_tensor(std::ofstream& f, const Tensor& t) {
  const auto rank = static_cast<std::uint32_t>(t.dimension());
  f.write(reinterpret_cast<const char*>(&rank), sizeof rank);
  for (auto d : t.shape()) {
    const auto v = static_cast<std::uint64_t>(d);
    f.write(reinterpret_cast<const char*>(&v), sizeof v);
  }
  f.write(reinterpret_cast<const char*>(t.data()),
          static_cast<std::streamsize>(t.size() * sizeof(float)));
}

bool read_tensor(std::ifstream& f, Tensor& t, const std::string& path) {
  std::uint32_t rank = 0;
  if (!f.read(reinterpret_cast<char*>(&rank), sizeof rank)) return false;
  if (rank > 32) throw Error("Dataset.cache: \"{}\" is corrupt (a tensor of rank {})", path, rank);
  std::vector<std::size_t> shape(rank);
  for (auto& d : shape) {
    std::uint64_t v = 0;
    if (!f.read(reinterpret_cast<char*>(&v), sizeof v)) return false;
    d = static_cast<std::size_t>(v);
  }
  t = Tensor::from_shape(shape);
  return static_cast<bool>(
      f.read(reinterpret_cast<char*>(t.data()), static_cast<std::streamsize>(t.size() * 4)));
}

struct CacheNode : Unary {
  std::string filename;
  struct Memory {
    std::mutex m;
    bool complete = false;
    std::vector<StepData> elements;
  };
  std::shared_ptr<Memory> memory = std::make_shared<Memory>();

  struct Replay : Iterator {
    std::shared_ptr<Memory> mem;
    std::size_t i = 0;
    bool next(StepData& out) override {
      if (i >= mem->elements.size()) return false;
      out = mem->elements[i++];
      return true;
    }
  };
  struct RecordMemory : Iterator {
    std::shared_ptr<Memory> mem;
    std::unique_ptr<Iterator> up;
    std::vector<StepData> seen;
    bool next(StepData& out) override {
      if (!up->next(out)) {
        std::lock_guard<std::mutex> lock(mem->m);
        if (!mem->complete) {
          mem->elements = std::move(seen);
          mem->complete = true;
        }
        return false;
      }
      seen.push_back(out);
      return true;
    }
  };
  struct ReadFile : Iterator {
    std::string path;
    std::ifstream f;
    bool next(StepData& out) override {
      std::uint32_t head[3];
      if (!f.read(reinterpret_cast<char*>(head), sizeof head)) return false;
      out.x.resize(head[0]);
      out.y.resize(head[1]);
      bool ok = true;
      for (auto& t : out.x) ok = ok && read_tensor(f, t, path);
      for (auto& t : out.y) ok = ok && read_tensor(f, t, path);
      if (head[2]) {
        Tensor w;
        ok = ok && read_tensor(f, w, path);
        out.sample_weight = std::move(w);
      } else {
        out.sample_weight.reset();
      }
      if (!ok) throw Error("Dataset.cache: \"{}\" is truncated", path);
      return true;
    }
  };
  struct RecordFile : Iterator {
    std::string path, tmp;
    std::unique_ptr<Iterator> up;
    std::ofstream f;
    bool next(StepData& out) override {
      if (!up->next(out)) {
        if (f.is_open()) {
          f.close();
          if (!f) throw Error("Dataset.cache: cannot write \"{}\"", tmp);
          std::filesystem::rename(tmp, path);
        }
        return false;
      }
      const std::uint32_t head[3] = {static_cast<std::uint32_t>(out.x.size()),
                                     static_cast<std::uint32_t>(out.y.size()),
                                     out.sample_weight ? 1u : 0u};
      f.write(reinterpret_cast<const char*>(head), sizeof head);
      for (auto& t : out.x) write_tensor(f, t);
      for (auto& t : out.y) write_tensor(f, t);
      if (out.sample_weight) write_tensor(f, *out.sample_weight);
      return true;
    }
    ~RecordFile() override {
      if (f.is_open()) {  // an abandoned pass leaves no partial cache
        f.close();
        std::error_code ec;
        std::filesystem::remove(tmp, ec);
      }
    }
  };

  std::unique_ptr<Iterator> make(const Selection*) const override {
    if (filename.empty()) {
      {
        std::lock_guard<std::mutex> lock(memory->m);
        if (memory->complete) {
          auto it = std::make_unique<Replay>();
          it->mem = memory;
          return it;
        }
      }
      auto it = std::make_unique<RecordMemory>();
      it->mem = memory;
      it->up = in->iterate();
      return it;
    }
    if (std::filesystem::exists(filename)) {
      auto it = std::make_unique<ReadFile>();
      it->path = filename;
      it->f.open(filename, std::ios::binary);
      char magic[sizeof kCacheMagic - 1];
      if (!it->f.read(magic, sizeof magic) || std::memcmp(magic, kCacheMagic, sizeof magic) != 0) {
        throw Error("Dataset.cache: \"{}\" is not a plexus dataset cache", filename);
      }
      return it;
    }
    auto it = std::make_unique<RecordFile>();
    it->path = filename;
    it->tmp = fmt::format("{}.tmp-{}-{}", filename, ::getpid(), static_cast<const void*>(it.get()));
    it->up = in->iterate();
    it->f.open(it->tmp, std::ios::binary | std::ios::trunc);
    if (!it->f) throw Error("Dataset.cache: cannot create \"{}\"", it->tmp);
    it->f.write(kCacheMagic, sizeof kCacheMagic - 1);
    return it;
  }
  std::int64_t cardinality() const override { return in->cardinality(); }
};

struct RepeatNode : Unary {
  std::int64_t count = -1;
  struct It : Iterator {
    const RepeatNode& node;
    std::unique_ptr<Iterator> up;
    std::int64_t pass = 0;
    bool any = false;
    explicit It(const RepeatNode& n) : node(n) {}
    bool next(StepData& out) override {
      for (;;) {
        if (node.count >= 0 && pass >= node.count) return false;
        if (!up) {
          up = node.in->iterate();
          any = false;
        }
        if (up->next(out)) {
          any = true;
          return true;
        }
        up.reset();
        ++pass;
        if (!any) return false;  // an empty dataset repeated stays empty
      }
    }
  };
  std::unique_ptr<Iterator> make(const Selection*) const override {
    return std::make_unique<It>(*this);
  }
  std::int64_t cardinality() const override {
    const auto n = in->cardinality();
    if (count == 0 || n == 0) return 0;
    if (count < 0) return n == kUnknown ? kUnknown : kInfinite;
    if (n < 0) return n;
    return n * count;
  }
};

struct TakeSkipNode : Unary {
  std::int64_t count = 0;
  bool take = true;
  struct It : Iterator {
    const TakeSkipNode& node;
    std::unique_ptr<Iterator> up;
    std::int64_t seen = 0;
    explicit It(const TakeSkipNode& n) : node(n), up(n.in->iterate()) {}
    bool next(StepData& out) override {
      if (node.take) {
        if (node.count >= 0 && seen >= node.count) return false;
        ++seen;
        return up->next(out);
      }
      while (seen < node.count || node.count < 0) {
        if (!up->next(out)) return false;
        ++seen;
      }
      return up->next(out);
    }
  };
  std::unique_ptr<Iterator> make(const Selection*) const override {
    return std::make_unique<It>(*this);
  }
  std::int64_t cardinality() const override {
    const auto n = in->cardinality();
    if (take) {
      if (count < 0) return n;
      if (n == kInfinite) return count;
      if (n == kUnknown) return kUnknown;
      return std::min(n, count);
    }
    if (count < 0) return n == kInfinite ? kUnknown : 0;
    if (n < 0) return n;
    return std::max<std::int64_t>(0, n - count);
  }
};

struct ShardNode : Unary {
  std::size_t num = 1, index = 0;
  struct It : Iterator {
    const ShardNode& node;
    std::unique_ptr<Iterator> up;
    std::size_t pos = 0;
    explicit It(const ShardNode& n) : node(n) {}
    bool next(StepData& out) override {
      for (;;) {
        if (!up->next(out)) return false;
        if (sel.keeps(pos++)) return true;
      }
    }
    Selection sel;
  };
  // The input makes only this shard's elements; a selection on the shard's own output
  // (a shard of a shard) is applied on top.
  std::unique_ptr<Iterator> make(const Selection* sel) const override {
    const Selection mine{num, index, 1};
    auto it = std::make_unique<It>(*this);
    it->up = in->iterate(&mine);
    it->sel = sel ? *sel : Selection{1, 0, 1};
    return it;
  }
  bool selects() const override { return true; }
  std::int64_t cardinality() const override {
    const auto n = in->cardinality();
    if (n < 0) return n;
    const auto k = static_cast<std::int64_t>(num), i = static_cast<std::int64_t>(index);
    return n > i ? (n - i + k - 1) / k : 0;
  }
};

struct ZipNode : Node {
  std::vector<std::shared_ptr<const Node>> ins;
  bool pairs = false;  // zip(inputs, targets): the second's x are the targets
  struct It : Iterator {
    const ZipNode& node;
    std::vector<std::unique_ptr<Iterator>> ups;
    StepData part;
    explicit It(const ZipNode& n) : node(n) {
      for (auto& i : n.ins) ups.push_back(i->iterate());
    }
    bool next(StepData& out) override {
      out.x.clear();
      out.y.clear();
      out.sample_weight.reset();
      for (std::size_t k = 0; k < ups.size(); ++k) {
        if (!ups[k]->next(part)) return false;
        if (node.pairs && k == 1) {
          for (auto& t : part.x) out.y.push_back(std::move(t));
        } else {
          for (auto& t : part.x) out.x.push_back(std::move(t));
        }
        for (auto& t : part.y) out.y.push_back(std::move(t));
        if (!out.sample_weight && part.sample_weight)
          out.sample_weight = std::move(part.sample_weight);
      }
      return true;
    }
  };
  std::unique_ptr<Iterator> make(const Selection*) const override {
    return std::make_unique<It>(*this);
  }
  std::int64_t cardinality() const override {
    std::int64_t best = kInfinite;
    bool unknown = false;
    for (auto& i : ins) {
      const auto n = i->cardinality();
      if (n == kUnknown) unknown = true;
      if (n >= 0) best = best == kInfinite ? n : std::min(best, n);
    }
    if (unknown) return kUnknown;
    return best;
  }
};

template <typename N>
Dataset wrap(std::shared_ptr<N> n) {
  return Dataset(std::shared_ptr<const Node>(std::move(n)));
}

template <typename N>
std::shared_ptr<N> unary(const std::shared_ptr<const Node>& in) {
  auto n = std::make_shared<N>();
  n->in = in;
  return n;
}

}  // namespace

Dataset detail::make_indexed(IndexedSource source) {
  auto n = std::make_shared<IndexedNode>();
  n->src = std::move(source);
  n->src.workers = std::max(1, resolve_workers(n->src.workers));
  n->src.queue = std::max(1, n->src.queue);
  return wrap(n);
}

// --- Dataset ---------------------------------------------------------------------------

Dataset Dataset::from_tensor_slices(std::vector<Tensor> x, std::vector<Tensor> y,
                                    std::optional<Tensor> sample_weight) {
  auto n = std::make_shared<SlicesNode>();
  const Tensor* first = !x.empty() ? &x[0] : !y.empty() ? &y[0] : nullptr;
  if (!first) throw Error("Dataset.from_tensor_slices: no tensor given");
  auto check = [&](const Tensor& t, const std::string& what) {
    if (t.dimension() == 0) {
      throw Error("Dataset.from_tensor_slices: {} is a scalar; slices need a first axis", what);
    }
    if (t.shape()[0] != first->shape()[0]) {
      throw Error(
          "Dataset.from_tensor_slices: {} has {} rows (shape {}), but the first tensor has {} "
          "(shape {}); all must have the same first dimension",
          what, t.shape()[0], shape_str(shape_of(t)), first->shape()[0],
          shape_str(shape_of(*first)));
    }
  };
  for (std::size_t i = 0; i < x.size(); ++i) check(x[i], fmt::format("input {}", i));
  for (std::size_t i = 0; i < y.size(); ++i) check(y[i], fmt::format("target {}", i));
  if (sample_weight) check(*sample_weight, "the sample weight");
  n->n = first->shape()[0];
  n->x = std::move(x);
  n->y = std::move(y);
  n->sw = std::move(sample_weight);
  return wrap(n);
}
Dataset Dataset::from_tensor_slices(Tensor x) {
  return from_tensor_slices(std::vector<Tensor>{std::move(x)});
}
Dataset Dataset::from_tensor_slices(Tensor x, Tensor y) {
  return from_tensor_slices(std::vector<Tensor>{std::move(x)}, std::vector<Tensor>{std::move(y)});
}
Dataset Dataset::from_tensor_slices(Tensor x, Tensor y, Tensor sample_weight) {
  return from_tensor_slices(std::vector<Tensor>{std::move(x)}, std::vector<Tensor>{std::move(y)},
                            std::move(sample_weight));
}

Dataset Dataset::from_generator(std::function<Generator()> make) {
  if (!make) throw Error("Dataset.from_generator: no generator factory given");
  auto n = std::make_shared<GeneratorNode>();
  n->factory = std::move(make);
  return wrap(n);
}

Dataset Dataset::from_py_dataset(std::shared_ptr<PyDataset> source, bool shuffle) {
  if (!source) throw Error("Dataset.from_py_dataset: null PyDataset");
  detail::IndexedSource s;
  s.count = source->size();
  s.workers = source->workers();
  s.queue = source->max_queue_size();
  s.get = [source](std::size_t i) { return source->get(i); };
  s.end_of_pass = [source] { source->on_epoch_end(); };
  if (shuffle) {
    s.order = [source] {
      std::vector<std::size_t> o(source->size());
      std::iota(o.begin(), o.end(), std::size_t{0});
      std::shuffle(o.begin(), o.end(), generator());
      return o;
    };
  } else {
    // size() may change after on_epoch_end (Keras reads len() each epoch).
    s.order = [source] {
      std::vector<std::size_t> o(source->size());
      std::iota(o.begin(), o.end(), std::size_t{0});
      return o;
    };
  }
  return detail::make_indexed(std::move(s));
}

Dataset Dataset::map(MapFn fn, int num_parallel_calls) const {
  if (!fn) throw Error("Dataset.map: no function given");
  if (num_parallel_calls == 0 || num_parallel_calls < AUTOTUNE) {
    throw Error("Dataset.map: num_parallel_calls must be positive or AUTOTUNE, received {}",
                num_parallel_calls);
  }
  auto n = unary<MapNode>(node_);
  n->fn = std::move(fn);
  n->workers = resolve_workers(num_parallel_calls);
  return wrap(n);
}

Dataset Dataset::filter(Predicate keep) const {
  if (!keep) throw Error("Dataset.filter: no predicate given");
  auto n = unary<FilterNode>(node_);
  n->keep = std::move(keep);
  return wrap(n);
}

Dataset Dataset::shuffle(std::size_t buffer_size, std::optional<std::uint64_t> seed,
                         bool reshuffle_each_iteration) const {
  if (buffer_size == 0) throw Error("Dataset.shuffle: buffer_size must be positive");
  auto n = unary<ShuffleNode>(node_);
  n->buffer_size = buffer_size;
  n->seed = seed;
  n->reshuffle = reshuffle_each_iteration;
  return wrap(n);
}

Dataset Dataset::batch(std::size_t batch_size, bool drop_remainder) const {
  if (batch_size == 0) throw Error("Dataset.batch: batch_size must be positive");
  auto n = unary<BatchNode>(node_);
  n->size = batch_size;
  n->drop_remainder = drop_remainder;
  return wrap(n);
}

Dataset Dataset::unbatch() const { return wrap(unary<UnbatchNode>(node_)); }

Dataset Dataset::prefetch(int buffer_size) const {
  if (buffer_size == 0 || buffer_size < AUTOTUNE) {
    throw Error("Dataset.prefetch: buffer_size must be positive or AUTOTUNE, received {}",
                buffer_size);
  }
  auto n = unary<PrefetchNode>(node_);
  n->buffer = buffer_size == AUTOTUNE ? 2 : static_cast<std::size_t>(buffer_size);
  return wrap(n);
}

Dataset Dataset::cache(const std::string& filename) const {
  auto n = unary<CacheNode>(node_);
  n->filename = filename;
  return wrap(n);
}

Dataset Dataset::repeat(std::int64_t count) const {
  if (count < -1) throw Error("Dataset.repeat: count must be -1 (forever) or >= 0");
  auto n = unary<RepeatNode>(node_);
  n->count = count;
  return wrap(n);
}

Dataset Dataset::take(std::int64_t count) const {
  auto n = unary<TakeSkipNode>(node_);
  n->count = count;
  n->take = true;
  return wrap(n);
}

Dataset Dataset::skip(std::int64_t count) const {
  auto n = unary<TakeSkipNode>(node_);
  n->count = count;
  n->take = false;
  return wrap(n);
}

Dataset Dataset::shard(std::size_t num_shards, std::size_t index) const {
  if (num_shards == 0 || index >= num_shards) {
    throw Error("Dataset.shard: index {} is not in [0, num_shards = {})", index, num_shards);
  }
  auto n = unary<ShardNode>(node_);
  n->num = num_shards;
  n->index = index;
  return wrap(n);
}

Dataset Dataset::zip(const std::vector<Dataset>& datasets) {
  if (datasets.empty()) throw Error("Dataset.zip: no dataset given");
  auto n = std::make_shared<ZipNode>();
  for (auto& d : datasets) n->ins.push_back(d.node());
  return wrap(n);
}

Dataset Dataset::zip(const Dataset& inputs, const Dataset& targets) {
  auto n = std::make_shared<ZipNode>();
  n->ins = {inputs.node(), targets.node()};
  n->pairs = true;
  return wrap(n);
}

std::int64_t Dataset::cardinality() const { return node_->cardinality(); }

Dataset::iterator::iterator(std::shared_ptr<const detail::Node> node,
                            std::shared_ptr<detail::Iterator> it)
    : node_(std::move(node)), it_(std::move(it)) {
  ++*this;
}

Dataset::iterator& Dataset::iterator::operator++() {
  if (it_ && !it_->next(current_)) it_.reset();
  return *this;
}

Dataset::iterator Dataset::begin() const {
  return iterator(node_, std::shared_ptr<detail::Iterator>(node_->iterate()));
}

}  // namespace plexus::data

// --- split_dataset ------------------------------------------------------------------------

namespace plexus::utils {

std::pair<data::Dataset, data::Dataset> split_dataset(const data::Dataset& dataset,
                                                      data::SplitOptions o) {
  if (dataset.cardinality() == data::kInfinite) {
    throw Error("split_dataset: the dataset is infinite; split_dataset needs a finite dataset");
  }
  std::vector<StepData> all;
  for (const StepData& e : dataset) all.push_back(e);
  const std::size_t total = all.size();
  if (total == 0) throw Error("split_dataset: the dataset is empty");
  // Keras's _rescale_dataset_split_sizes: a float in (0, 1) is a fraction, an integer a count.
  auto check = [&](const std::optional<double>& s, const char* name) {
    if (!s) return;
    const double v = *s;
    if (v <= 0 || (v >= 1 && v != std::floor(v))) {
      throw Error(
          "split_dataset: {} must be a fraction in (0, 1) or a whole count >= 1, "
          "received {}",
          name, v);
    }
    if (v >= 1 && v > static_cast<double>(total)) {
      throw Error("split_dataset: {}={} is larger than the dataset ({} samples)", name, v, total);
    }
  };
  check(o.left_size, "left_size");
  check(o.right_size, "right_size");
  if (!o.left_size && !o.right_size) {
    throw Error("split_dataset: give left_size, right_size or both (both are None)");
  }
  auto count = [&](double v, bool left) {
    if (v >= 1) return static_cast<std::size_t>(v);
    // Keras: round(fraction * total), Python's round (half to even).
    (void)left;
    return static_cast<std::size_t>(std::nearbyint(v * static_cast<double>(total)));
  };
  std::size_t left = 0, right = 0;
  if (o.left_size && o.right_size) {
    left = count(*o.left_size, true);
    right = count(*o.right_size, false);
  } else if (o.left_size) {
    left = count(*o.left_size, true);
    right = total - left;
  } else {
    right = count(*o.right_size, false);
    left = total - right;
  }
  if (left + right > total) {
    throw Error("split_dataset: left_size + right_size ({} + {}) is larger than the dataset ({})",
                left, right, total);
  }
  if (left == 0) throw Error("split_dataset: left_size leaves the left split empty");
  if (right == 0) throw Error("split_dataset: right_size leaves the right split empty");
  if (o.shuffle) {
    std::mt19937_64 rng(o.seed ? *o.seed
                               : std::uniform_int_distribution<std::uint64_t>()(generator()));
    std::shuffle(all.begin(), all.end(), rng);
  }
  auto part = [&](std::size_t begin, std::size_t n) {
    auto items =
        std::make_shared<std::vector<StepData>>(all.begin() + begin, all.begin() + begin + n);
    data::detail::IndexedSource s;
    s.count = n;
    s.get = [items](std::size_t i) { return (*items)[i]; };
    return data::detail::make_indexed(std::move(s));
  };
  return {part(0, left), part(left, right)};
}

}  // namespace plexus::utils
