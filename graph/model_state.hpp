// Internal: what a Model handle shares between its copies (not part of the public API).
#pragma once

#include <memory>

#include "graph/executor.hpp"
#include "graph/model.hpp"

namespace plexus {

struct Model::State {
  std::shared_ptr<graph::Functional> graph;
  std::shared_ptr<graph::Executor> predict_executor;
  std::shared_ptr<optim::TrainState> train;  // made by compile()
  std::string name;                          // before a Sequential is built
};

}  // namespace plexus
