#include "graph/input_layer.hpp"

#include <cmath>
#include <set>

#include "graph/detail.hpp"

namespace plexus::graph {

std::string input_dtype(std::string_view dtype, std::string_view where) {
  for (const char* known : {"float32", "int32", "int64", "bool"}) {
    if (dtype == known) return known;
  }
  throw Error(
      "{}: dtype \"{}\" is not supported; plexus inputs are float32, int32, int64 or bool "
      "(integers and booleans are held as float32, see docs/saving.md)",
      where, dtype);
}

void check_input_values(const Tensor& x, std::string_view dtype, std::string_view where) {
  if (dtype == "float32") return;
  const bool boolean = dtype == "bool";
  constexpr float kLimit = 16777216.0f;  // 2^24: float32 holds every integer up to here
  const float* p = x.data();
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float v = p[i];
    const bool ok = boolean ? (v == 0.0f || v == 1.0f)
                            : (std::isfinite(v) && v == std::floor(v) && std::fabs(v) <= kLimit);
    if (ok) continue;
    if (boolean) {
      throw Error("{} (dtype bool): value {} at flat index {} is not 0 or 1", where, v, i);
    }
    if (std::isfinite(v) && v == std::floor(v)) {
      throw Error(
          "{} (dtype {}): value {} at flat index {} is beyond +-2^24 = 16777216, the largest "
          "integers plexus holds exactly (inputs are float32 underneath)",
          where, dtype, v, i);
    }
    throw Error("{} (dtype {}): value {} at flat index {} is not a whole number", where, dtype, v,
                i);
  }
}

InputLayer::InputLayer(Shape shape, std::string_view name, Dim batch_size, std::string_view dtype)
    : Layer(name),
      shape_(std::move(shape)),
      batch_size_(batch_size),
      dtype_(input_dtype(dtype, "Input")) {
  if (batch_size_ <= 0 && batch_size_ != -1) {
    throw Error("Input: batch_size must be positive (or None), received {}", batch_size_);
  }
  for (Dim d : shape_) {
    // -1 (None): a dimension known only at run time, e.g. the timesteps of a sequence.
    if (d <= 0 && d != -1) {
      throw Error("Input shape {} must have positive dimensions (or -1 for None)",
                  shape_str(shape_));
    }
  }
  mark_built();
}

SymbolicTensor InputLayer::output() {
  if (!node_) {
    Shape full{-1};
    full.insert(full.end(), shape_.begin(), shape_.end());
    node_ = make_node(Node::Kind::kInput, full, name());
    node_->dtype = dtype_;
  }
  std::shared_ptr<LayerCall> call = call_.lock();
  if (!call) {
    call = std::make_shared<LayerCall>();
    call->layer = shared_from_this();
    call->outputs = {node_};
    call->id = detail::next_id();
    call_ = call;
  }
  return SymbolicTensor(node_, call);
}

Dim static_batch_size(const SymbolicTensor& x) {
  std::set<const LayerCall*> seen;
  std::vector<const LayerCall*> todo;
  if (x.history()) todo.push_back(x.history().get());
  while (!todo.empty()) {
    const LayerCall* call = todo.back();
    todo.pop_back();
    if (!seen.insert(call).second) continue;
    if (const auto* in = dynamic_cast<const InputLayer*>(call->layer.get())) {
      if (in->batch_size() > 0) return in->batch_size();
    }
    for (const auto& t : call->inputs) {
      if (t.history()) todo.push_back(t.history().get());
    }
  }
  return -1;
}

}  // namespace plexus::graph
