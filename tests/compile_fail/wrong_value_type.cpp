// A value that does not fit the keyword's field.
// expect: wrong_value_type_for_keyword<plexus::kw::tags::epochs, plexus::FitOptions
#include "optim/model.hpp"
namespace px = plexus;
void train(px::Model& model, const px::Tensor& x, const px::Tensor& y) {
#ifdef PLEXUS_CONTROL
  model.fit(x, y, px::kw::epochs = 2);
#else
  model.fit(x, y, px::kw::epochs = "two");
#endif
}
