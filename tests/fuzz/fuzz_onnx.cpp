// libFuzzer target: models::load_model on any ONNX bytes (saving::detail::load_onnx_bytes).
// A graph that imports is exported again (export_model) and imported back: each step either
// works or gives a px::Error. Inputs declaring a dimension above 256 are refused by the reader's
// limit (allocation by design, not a reader bug).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "fuzz_util.hpp"
#include "optim/saving/onnx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  std::optional<plexus::Model> m;
  try {
    m = plexus::saving::detail::load_onnx_bytes(bytes, "fuzz.onnx", 256);
  } catch (const plexus::Error&) {
    return 0;  // a clear error is the expected outcome for a bad file
  }
  const std::string path = (plexus_fuzz::scratch() / "again.onnx").string();
  try {
    plexus::export_model(*m, path);
  } catch (const plexus::Error&) {
    return 0;  // an imported layer with no ONNX form (a clear error)
  }
  try {
    plexus::Model back = plexus::saving::detail::load_onnx(path);
    if (back.inputs().size() != m->inputs().size()) std::abort();
  } catch (const plexus::Error&) {
    // Export writes operators that import does not read yet (Pad, for a padding the
    // importer folded into a layer): a clear error, not a crash. tests/test_onnx.cpp checks
    // the round trips that must hold.
    return 0;
  }
  return 0;
}
