// A misspelt keyword does not exist: the compiler names it.
// expect: epoch.*(is not a member of|in namespace).*kw
#include "optim/model.hpp"
namespace px = plexus;
void train(px::Model& model, const px::Tensor& x, const px::Tensor& y) {
#ifdef PLEXUS_CONTROL
  model.fit(x, y, px::kw::epochs = 5);
#else
  model.fit(x, y, px::kw::epoch = 5);
#endif
}
