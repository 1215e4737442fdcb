// A Keras positional parameter given neither by position nor as a keyword: the error names
// it (Keras: "missing 1 required positional argument: 'kernel_size'").
// expect: required_argument_missing<plexus::kw::tags::kernel_size
#include "layers/convolution.hpp"
namespace px = plexus;
namespace kw = px::kw;
void build() {
#ifdef PLEXUS_CONTROL
  px::layers::Conv2D(kw::filters = 32, kw::kernel_size = 3, kw::padding = "same");
#else
  px::layers::Conv2D(kw::filters = 32, kw::padding = "same");
#endif
}
