// The same keyword twice in one call.
// expect: keyword_given_twice<plexus::kw::tags::patience>
#include "optim/callbacks.hpp"
namespace px = plexus;
void make() {
#ifdef PLEXUS_CONTROL
  px::callbacks::EarlyStopping es(px::kw::patience = 1, px::kw::monitor = "loss");
#else
  px::callbacks::EarlyStopping es(px::kw::patience = 1, px::kw::patience = 2);
#endif
}
