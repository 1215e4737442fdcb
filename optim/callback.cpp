#include "optim/callback.hpp"

#include "core/error.hpp"

namespace plexus::callbacks {

Model& Callback::model() const {
  if (model_ == nullptr) throw Error("Callback: no model is attached (it is set by fit())");
  return *model_;
}

}  // namespace plexus::callbacks
