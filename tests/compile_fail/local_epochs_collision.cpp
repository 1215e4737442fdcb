// A local `int epochs` with `using namespace px::kw;`: the unqualified name is the local
// (C++ finds the innermost declaration), so `epochs = 30` is an int assignment, and fit
// takes no int in its place: the call does not compile (it must never compile into an
// assignment that fit then ignores). The control spells the keyword qualified beside the
// local.
// expect: no matching (member )?function for call to .*fit
#include "optim/model.hpp"
namespace px = plexus;
#ifdef PLEXUS_CONTROL
namespace kw = px::kw;
void train(px::Model& model, const px::Tensor& x, const px::Tensor& y) {
  int epochs = 15;
  model.fit(x, y, kw::epochs = epochs + 15);
}
#else
using namespace px::kw;
void train(px::Model& model, const px::Tensor& x, const px::Tensor& y) {
  int epochs = 15;
  model.fit(x, y, epochs = 30);
}
#endif
