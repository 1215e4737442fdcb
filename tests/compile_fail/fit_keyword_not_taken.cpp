// fit() does not take a layer's keyword.
// expect: keyword_not_accepted<plexus::kw::tags::activation, plexus::FitOptions>
#include "optim/model.hpp"
namespace px = plexus;
void train(px::Model& model, const px::Tensor& x, const px::Tensor& y) {
#ifdef PLEXUS_CONTROL
  model.fit(x, y, px::kw::batch_size = 64, px::kw::epochs = 2);
#else
  model.fit(x, y, px::kw::batch_size = 64, px::kw::activation = "relu");
#endif
}
