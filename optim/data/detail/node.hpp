// Internal: the nodes of a px::data::Dataset pipeline and their passes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "optim/data/dataset.hpp"

namespace plexus::data::detail {

// One pass over a node: next() fills `out` and returns true, or returns false at the end.
struct Iterator {
  virtual ~Iterator() = default;
  virtual bool next(StepData& out) = 0;
};

// Which output positions of a pass are wanted: p with p % period in [begin, begin + count).
// A shard asks its input for every N-th element; nodes that map one element to one (map,
// prefetch) pass the request up, batch widens it to blocks of its size, and sources skip
// the unwanted elements without making them — so a process of a data-parallel run decodes
// only the images of its own batches. Other nodes produce everything and drop the rest.
struct Selection {
  std::size_t period = 1, begin = 0, count = 1;
  bool keeps(std::size_t p) const {
    const std::size_t r = p % period;
    return r >= begin && r < begin + count;
  }
};

struct Node {
  virtual ~Node() = default;
  // One pass, restricted to `selection` when given.
  std::unique_ptr<Iterator> iterate(const Selection* selection = nullptr) const;
  virtual std::int64_t cardinality() const { return kUnknown; }

 protected:
  virtual std::unique_ptr<Iterator> make(const Selection* selection) const = 0;
  virtual bool selects() const { return false; }  // make() honours a selection itself
};

// A source of `count` elements made by `get(i)` (thread-safe), read by `workers` threads
// ahead of the consumer (up to `queue` elements), delivered in order; `end_of_pass` runs
// after each complete pass. `order` (optional) permutes the indices of each pass.
struct IndexedSource {
  std::size_t count = 0;
  std::function<StepData(std::size_t)> get;
  int workers = 1;
  int queue = 10;
  std::function<void()> end_of_pass;
  std::function<std::vector<std::size_t>()> order;
};
Dataset make_indexed(IndexedSource source);

// Rows [begin, begin + count) of t as a new tensor (the first axis).
Tensor rows_of(const Tensor& t, std::size_t begin, std::size_t count);
// Stacks equal-shaped tensors on a new first axis; `what` names them in errors.
Tensor stack(const std::vector<const Tensor*>& parts, const std::string& what);

}  // namespace plexus::data::detail
