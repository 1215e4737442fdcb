// Internal: what a Model handle shares between its copies (not part of the public API).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "graph/predictor.hpp"
#include "optim/model.hpp"

namespace plexus {

struct Model::State {
  std::shared_ptr<graph::Functional> graph;
  std::shared_ptr<graph::Predictor> predictor;  // made on first predict
  std::mutex predictor_mutex;
  std::shared_ptr<optim::TrainState> train;  // made by compile()
  std::string name;                          // before a Sequential is built
  // compute_gradients(x, y, loss)'s training Functions, by the loss's identity (fit.cpp).
  std::map<std::string, std::shared_ptr<optim::TrainState>> gradient_fns;
  // A subclassed model without a graph: the models and layers it tracks (Model::track).
  std::vector<LayerRef> tracked;
  // The built-in train_step / test_step's running logs (optim/fit.cpp; reset each epoch).
  std::shared_ptr<void> train_trackers, test_trackers;
};

}  // namespace plexus
