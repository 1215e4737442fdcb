// A keyword the function does not take (Dense has no epochs): the error names both.
// expect: keyword_not_accepted<plexus::kw::tags::epochs, plexus::layers::DenseOptions>
#include "layers/core.hpp"
namespace px = plexus;
void make() {
#ifdef PLEXUS_CONTROL
  px::layers::Dense(12, px::kw::input_dim = 8, px::kw::activation = "relu");
#else
  px::layers::Dense(12, px::kw::input_dim = 8, px::kw::epochs = 3);
#endif
}
