// libFuzzer target: models::load_model on a ".keras" archive (libzip, config.json,
// metadata.json, model.weights.h5 through HDF5's file-image driver, compile_config and
// the optimizer's variables). Archives whose config.json declares a size above 256 are
// skipped (fuzz_util.hpp declares_large_sizes), read with the same bounded zip reader.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "core/json.hpp"
#include "fuzz_util.hpp"
#include "optim/saving/saving.hpp"
#include "optim/saving/zip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = plexus_fuzz::scratch() / "input.keras";
  plexus_fuzz::write_bytes(path, std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    const auto entries = plexus::saving::zip::read(path.string(), {"config.json"}, 1 << 20);
    const std::string* config = entries.find("config.json");
    if (config != nullptr && plexus_fuzz::declares_large_sizes(*config, 256)) return 0;
    const plexus::Model m = plexus::saving::load_model(path.string());
    volatile std::size_t sink = m.count_params();
    (void)sink;
  } catch (const plexus::Error&) {
    // A clear error is the expected outcome for a bad archive.
  }
  return 0;
}
