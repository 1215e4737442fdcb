// `using namespace px::kw;` does not make the keywords usable unqualified: an unqualified
// keyword is ambiguous with its poison in px::keyword_names_need_kw_prefix, so the
// recommended spelling is the qualified one (px::kw::epochs, or kw::epochs after
// `namespace kw = px::kw;`).
// expect: reference to 'epochs' is ambiguous
#include "optim/model.hpp"
namespace px = plexus;
#ifdef PLEXUS_CONTROL
namespace kw = px::kw;
void train(px::Model& model, const px::Tensor& x, const px::Tensor& y) {
  model.fit(x, y, kw::epochs = 5, kw::batch_size = 32);
}
#else
using namespace px::kw;
void train(px::Model& model, const px::Tensor& x, const px::Tensor& y) {
  model.fit(x, y, epochs = 5, batch_size = 32);
}
#endif
