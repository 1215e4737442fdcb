// Internal bookkeeping shared by graph/*.cpp (not part of the public API).
#pragma once

#include <cstddef>

namespace plexus::detail {

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

}  // namespace plexus::detail
