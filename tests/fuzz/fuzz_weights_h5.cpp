// libFuzzer target: the HDF5 readers. Byte 0 even: saving::load_weights into a Sequential
// Dense 8-12-8-1 (the layout of keras3_generated/seq_mlp_pima: Keras 3 ".weights.h5",
// legacy weights-only ".h5" and a legacy full model's model_weights are all dispatched on
// content); odd: models::load_model on a legacy full-model ".h5" (model_config attribute,
// skipped when it declares a size above 256, see fuzz_util.hpp declares_large_sizes).
// The rest is the file.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "fuzz_util.hpp"
#include "layers/core.hpp"
#include "optim/saving/hdf5.hpp"
#include "optim/saving/saving.hpp"

namespace {
const plexus::Sequential& pima() {
  namespace L = plexus::layers;
  static const plexus::Sequential m(
      {plexus::Input({8}), L::Dense(12, "relu"), L::Dense(8, "relu"), L::Dense(1, "sigmoid")});
  return m;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  plexus_fuzz::limit_hdf5_reader_cpu();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view file(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool full_model = data[0] & 1;
  const auto path = plexus_fuzz::scratch() / (full_model ? "input.h5" : "input.weights.h5");
  plexus_fuzz::write_bytes(path, file);
  try {
    if (full_model) {
      const auto f = plexus::saving::h5::File::open(path.string());
      if (f.root().has_attribute("model_config")) {
        for (const auto& text : f.root().string_attribute("model_config")) {
          if (plexus_fuzz::declares_large_sizes(text, 256)) return 0;
        }
      }
      const plexus::Model m = plexus::saving::load_model(path.string());
      volatile std::size_t sink = m.count_params();
      (void)sink;
    } else {
      plexus::saving::load_weights(pima(), path.string());
    }
  } catch (const plexus::Error&) {
    // A clear error is the expected outcome for a bad file.
  }
  return 0;
}
