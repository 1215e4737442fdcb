// libFuzzer target: models::model_from_json on any text (Keras 3 and Keras 2 configs).
// A config that loads must serialize again (to_json) and load back: a config plexus
// writes and cannot read is a finding. Inputs declaring a size above 256 anywhere are
// skipped (fuzz_util.hpp declares_large_sizes: allocation by design, not a reader bug).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/error.hpp"
#include "core/json.hpp"
#include "fuzz_util.hpp"
#include "optim/saving/saving.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (plexus_fuzz::declares_large_sizes(text, 256)) return 0;
  std::string again;
  try {
    const plexus::Model m = plexus::saving::model_from_json(text);
    again = plexus::saving::to_json(m);
  } catch (const plexus::Error&) {
    return 0;  // a clear error is the expected outcome for a bad config
  }
  try {
    const plexus::Model back = plexus::saving::model_from_json(again);
    if (plexus::saving::to_json(back) != again) std::abort();  // not a fixed point
  } catch (const plexus::Error& e) {
    std::fprintf(stderr, "plexus cannot read the config it wrote: %s\n%s\n", e.what(),
                 again.c_str());
    std::abort();
  }
  return 0;
}
