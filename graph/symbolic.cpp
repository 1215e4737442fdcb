#include "graph/symbolic.hpp"

#include <atomic>

#include "core/error.hpp"
#include "graph/detail.hpp"
#include "graph/input_layer.hpp"
#include "graph/layer.hpp"

namespace plexus {

namespace detail {
std::size_t next_id() {
  static std::atomic<std::size_t> counter{0};
  return ++counter;
}
int& layer_call_depth() {
  thread_local int depth = 0;
  return depth;
}
namespace {
thread_local CallFrame* top_frame = nullptr;
}
CallFrame::CallFrame(Layer* l) : layer(l), parent(top_frame) { top_frame = this; }
CallFrame::~CallFrame() { top_frame = parent; }
CallFrame* current_frame() { return top_frame; }
std::string current_path() {
  std::vector<const CallFrame*> frames;
  for (const CallFrame* f = top_frame; f; f = f->parent) frames.push_back(f);
  std::string path;
  for (std::size_t i = frames.size(); i-- > 0;) {
    if (!path.empty()) path += '/';
    path += frames[i]->layer->name();
  }
  return path;
}
}  // namespace detail

void Variable::assign(const Tensor& value) {
  if (shape_of(value) != shape_of(data_->value)) {
    throw Error("Variable \"{}\": expected a value of shape {}, received {}", data_->path,
                shape_str(shape_of(data_->value)), shape_str(shape_of(value)));
  }
  std::copy(value.begin(), value.end(), data_->value.begin());
}

NodePtr make_node(Node::Kind kind, Shape shape, std::string name) {
  auto node = std::make_shared<Node>();
  node->kind = kind;
  node->id = detail::next_id();
  node->shape = std::move(shape);
  node->name = std::move(name);
  return node;
}

const SymbolicTensor& SymbolicTensors::single() const {
  if (size() != 1) {
    throw Error(
        "Expected exactly one symbolic tensor, but this call produced {}; index the result "
        "(outs[0], outs[1]) or pass it on as a list",
        size());
  }
  return front();
}

SymbolicTensor Input(const Shape& shape, std::string_view name) {
  return make_layer<graph::InputLayer>(shape, name)->output();
}

SymbolicTensor Input(const Shape& shape, const InputOptions& options) {
  return make_layer<graph::InputLayer>(shape, options.name, options.batch_size.value_or(-1),
                                       options.dtype)
      ->output();
}

}  // namespace plexus
