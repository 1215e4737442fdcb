// Keras's metrics=[["accuracy"], ["mae"]] (one metric per output) cannot be told apart in
// C++ from the flat list {"accuracy", "mae"} with extra braces: the braced form must not
// compile into the flat list (every metric on every output). The control spells it with
// px::MetricsPerOutput.
// expect: ambiguous
#include "optim/model.hpp"
namespace px = plexus;
namespace kw = px::kw;
void build(px::Model& model) {
#ifdef PLEXUS_CONTROL
  model.compile(kw::loss = "mse", kw::metrics = px::MetricsPerOutput{{"accuracy"}, {"mae"}});
#else
  model.compile(kw::loss = "mse", kw::metrics = {{"accuracy"}, {"mae"}});
#endif
}
