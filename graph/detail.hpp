// Internal bookkeeping shared by graph/*.cpp (not part of the public API).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "graph/symbolic.hpp"

namespace plexus::detail {

// Throws px::Error("Graph disconnected: <what>"): the one place the graph checks of
// Function, Executor and Functional report an unreachable input.
[[noreturn]] void throw_disconnected(const std::string& what);

// Next value of the global creation counter (nodes and layer calls).
std::size_t next_id();
// How many Layer::operator() calls are running on this thread: ops called at depth 0
// belong to no layer and are wrapped into a layer of their own.
int& layer_call_depth();

struct CallDepthGuard {
  CallDepthGuard() { ++layer_call_depth(); }
  ~CallDepthGuard() { --layer_call_depth(); }
  CallDepthGuard(const CallDepthGuard&) = delete;
  CallDepthGuard& operator=(const CallDepthGuard&) = delete;
};

// The layer calls running on this thread, innermost last: the parent of a layer called
// inside another's call() (it becomes a sub-layer), the weight path prefix
// ("block/dense/"), and where add_update() records state updates.
struct CallFrame {
  explicit CallFrame(Layer* layer);
  ~CallFrame();
  CallFrame(const CallFrame&) = delete;
  CallFrame& operator=(const CallFrame&) = delete;
  Layer* layer;
  CallFrame* parent;
  std::vector<StateUpdate> updates;
};
CallFrame* current_frame();
// "block/dense": the names of the layers being called, outermost first.
std::string current_path();

}  // namespace plexus::detail
