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

struct Node {
  virtual ~Node() = default;
  virtual std::unique_ptr<Iterator> iterate() const = 0;
  virtual std::int64_t cardinality() const { return kUnknown; }
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
