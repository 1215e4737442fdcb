// The collision of issue 22: a Keras program's own variable named like a keyword. With a
// local `optimizer`, `compile(optimizer = Adam(...), loss = "mse")` after
// `using namespace px::kw;` used to compile and assign a new Adam to the local; now the
// unqualified keyword is refused, and the qualified spelling (the control) passes the
// keyword while the local stays untouched.
// expect: reference to 'loss' is ambiguous
#include "optim/model.hpp"
#include "optim/optimizers.hpp"
namespace px = plexus;
#ifdef PLEXUS_CONTROL
namespace kw = px::kw;
void build(px::Model& model) {
  px::optim::Adam optimizer(kw::learning_rate = 1e-3);
  model.compile(kw::optimizer = px::optim::Adam(kw::learning_rate = 1e-2), kw::loss = "mse");
  (void)optimizer;
}
#else
using namespace px::kw;
void build(px::Model& model) {
  px::optim::Adam optimizer(px::kw::learning_rate = 1e-3);
  model.compile(optimizer = px::optim::Adam(px::kw::learning_rate = 1e-2), loss = "mse");
}
#endif
