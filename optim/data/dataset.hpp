// px::data::Dataset: a stream of StepData elements (samples, or batches after batch()),
// in the manner of tf.data and Keras 3's PyDataset. fit, evaluate and predict take one.
//
//   auto ds = px::data::Dataset::from_tensor_slices(x, y)
//                 .shuffle(1024, 42)
//                 .map(augment, 2)        // on 2 worker threads, results in order
//                 .batch(32)
//                 .prefetch(2);           // a background thread keeps 2 batches ready
//   for (const px::StepData& b : ds) { ... }
//   model.fit(ds, px::kw::epochs = 5, px::kw::validation_data = val_ds);
//
// A Dataset is a cheap handle on an immutable pipeline description: every transformation
// returns a new Dataset, and each iteration (each `for`, each epoch of fit) starts a fresh
// pass with its own worker threads, which end with the pass. An exception thrown by a
// source, a generator, a map function or a worker is rethrown to the consumer, in order.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.hpp"
#include "optim/step_data.hpp"

namespace plexus::data {

// tf.data's cardinality constants.
inline constexpr std::int64_t kInfinite = -1;
inline constexpr std::int64_t kUnknown = -2;
// num_parallel_calls = px::data::AUTOTUNE: one worker per hardware thread.
inline constexpr int AUTOTUNE = -1;

// Keras 3's PyDataset: a random-access source of whole batches. size() is the number of
// batches of an epoch (Keras's __len__), get(i) returns batch i (__getitem__) and is
// called from `workers` threads at once when workers > 1 (it must be thread-safe), the
// batches being delivered in index order; on_epoch_end() runs after each complete pass.
class PyDataset {
 public:
  explicit PyDataset(int workers = 1, int max_queue_size = 10)
      : workers_(workers), max_queue_size_(max_queue_size) {}
  virtual ~PyDataset() = default;
  virtual std::size_t size() const = 0;
  virtual StepData get(std::size_t index) = 0;
  virtual void on_epoch_end() {}
  int workers() const { return workers_; }
  int max_queue_size() const { return max_queue_size_; }

 private:
  int workers_;
  int max_queue_size_;
};

namespace detail {
struct Node;      // optim/data/dataset.cpp
struct Iterator;  // one pass over a Node
}  // namespace detail

class Dataset {
 public:
  // A generator: returns the next element, std::nullopt at the end.
  using Generator = std::function<std::optional<StepData>()>;
  using MapFn = std::function<StepData(StepData)>;
  using Predicate = std::function<bool(const StepData&)>;

  // --- sources ---------------------------------------------------------------------
  // Row i of every tensor (all with the same first dimension): element i has x = the rows
  // of `x`, y = the rows of `y`, sample_weight = the row of `sample_weight`.
  static Dataset from_tensor_slices(std::vector<Tensor> x, std::vector<Tensor> y = {},
                                    std::optional<Tensor> sample_weight = std::nullopt);
  static Dataset from_tensor_slices(Tensor x);
  static Dataset from_tensor_slices(Tensor x, Tensor y);
  static Dataset from_tensor_slices(Tensor x, Tensor y, Tensor sample_weight);
  // A C++ generator (tf.data's from_generator): `make` is called at the start of each
  // pass and returns the pass's generator. cardinality(): unknown (kUnknown).
  static Dataset from_generator(std::function<Generator()> make);
  // A PyDataset: its batches, get(i) for i in [0, size()), then on_epoch_end();
  // `shuffle` visits the batches in a new random order each pass (Keras's fit(shuffle=True)).
  static Dataset from_py_dataset(std::shared_ptr<PyDataset> source, bool shuffle = false);
  template <typename T>
  requires(std::derived_from<T, PyDataset>) static Dataset
      from_py_dataset(std::shared_ptr<T> source, bool shuffle = false) {
    return from_py_dataset(std::shared_ptr<PyDataset>(std::move(source)), shuffle);
  }

  // --- transformations ---------------------------------------------------------------
  // fn on each element; with num_parallel_calls > 1 (or AUTOTUNE) on that many worker
  // threads, the results delivered in the input order (deterministic).
  Dataset map(MapFn fn, int num_parallel_calls = 1) const;
  Dataset filter(Predicate keep) const;
  // tf.data's shuffle: a buffer of buffer_size elements, each output drawn uniformly from
  // it and replaced by the next input. With a seed, the same orders on every run (a new
  // order each pass when reshuffle_each_iteration); without one, drawn from px's
  // generator (px::utils::set_random_seed).
  Dataset shuffle(std::size_t buffer_size, std::optional<std::uint64_t> seed = std::nullopt,
                  bool reshuffle_each_iteration = true) const;
  // Stacks n consecutive elements on a new first axis; the last, smaller batch is kept
  // unless drop_remainder. Elements of different shapes are a px::Error naming both.
  Dataset batch(std::size_t batch_size, bool drop_remainder = false) const;
  // The inverse of batch(): each row of each element.
  Dataset unbatch() const;
  // A background thread keeps up to buffer_size elements ready (AUTOTUNE: 2).
  Dataset prefetch(int buffer_size = AUTOTUNE) const;
  // The first complete pass is recorded, in memory (filename empty) or in a file, and the
  // later passes read the record instead of the pipeline above. A file cache written by
  // an earlier program is read if it exists (tf.data's cache(filename)).
  Dataset cache(const std::string& filename = {}) const;
  // count passes over the data; -1 forever.
  Dataset repeat(std::int64_t count = -1) const;
  Dataset take(std::int64_t count) const;
  Dataset skip(std::int64_t count) const;
  // Every num_shards-th element starting at index (each process's share).
  Dataset shard(std::size_t num_shards, std::size_t index) const;
  // Element i of each dataset, joined: x and y lists concatenated, the first sample weight.
  // zip(inputs, targets) with datasets of x only makes (x, y) pairs (tf.data's zip).
  static Dataset zip(const std::vector<Dataset>& datasets);
  static Dataset zip(const Dataset& inputs, const Dataset& targets);

  // Elements of one pass (kInfinite, or kUnknown when it cannot be known in advance).
  std::int64_t cardinality() const;

  // --- iteration -----------------------------------------------------------------------
  class iterator {
   public:
    using value_type = StepData;
    using difference_type = std::ptrdiff_t;
    using reference = const StepData&;
    using pointer = const StepData*;
    using iterator_category = std::input_iterator_tag;
    iterator() = default;
    const StepData& operator*() const { return current_; }
    const StepData* operator->() const { return &current_; }
    iterator& operator++();
    void operator++(int) { ++*this; }
    bool operator==(const iterator& o) const { return done() == o.done(); }
    // The element, moved out (the next ++ replaces it).
    StepData take() { return std::move(current_); }

   private:
    friend class Dataset;
    iterator(std::shared_ptr<const detail::Node> node, std::shared_ptr<detail::Iterator> it);
    bool done() const { return !it_; }
    // The pipeline stays alive while its pass runs (`auto it = ds.map(f).begin();` outlives
    // the temporary dataset); declared first, so the pass (and its threads) ends before it.
    std::shared_ptr<const detail::Node> node_;
    std::shared_ptr<detail::Iterator> it_;
    StepData current_;
  };
  iterator begin() const;
  iterator end() const { return {}; }

  // The pipeline underneath (for the library's own sources).
  explicit Dataset(std::shared_ptr<const detail::Node> node) : node_(std::move(node)) {}
  const std::shared_ptr<const detail::Node>& node() const { return node_; }

 private:
  std::shared_ptr<const detail::Node> node_;
};

// Keras's keras.utils.split_dataset: the first left_size elements and the rest, after an
// optional shuffle (with seed). Sizes as fractions in (0, 1) or counts (>= 1); one may be
// omitted (the complement). The dataset must be finite; its elements are materialized.
struct SplitOptions {
  std::optional<double> left_size{};
  std::optional<double> right_size{};
  bool shuffle = false;
  std::optional<std::uint64_t> seed{};
};

}  // namespace plexus::data

namespace plexus::utils {
std::pair<data::Dataset, data::Dataset> split_dataset(const data::Dataset& dataset,
                                                      data::SplitOptions options);
}  // namespace plexus::utils
