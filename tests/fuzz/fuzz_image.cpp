// libFuzzer target: the image decoder (px::utils::decode_image: libjpeg-turbo, libpng,
// giflib, stb_image for BMP, behind plexus's error handling) on bytes in memory, then the resize
// that image_dataset_from_directory applies. A corrupt, truncated or oversized image must be a
// px::Error, never a crash, a leak or an exit() from libjpeg.
// Seeds: tests/fuzz/corpus/image (tiny PNG, JPEG, progressive JPEG, GIF and BMP files).
#include <cstddef>
#include <cstdint>

#include "core/error.hpp"
#include "optim/data/utils.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const plexus::utils::Image img = plexus::utils::decode_image(data, size, "fuzz input");
    if (img.pixels.size() != img.height * img.width * img.channels) __builtin_trap();
    if (img.height * img.width <= (1u << 16)) {
      const plexus::Tensor t = plexus::utils::img_to_array(img);
      const plexus::Tensor r = plexus::utils::resize_image(t, 5, 7, "bilinear", size % 2 == 0);
      volatile float sink = r.size() ? r.data()[r.size() - 1] : 0.0f;
      (void)sink;
    }
  } catch (const plexus::Error&) {
    // A clear error is the expected outcome for a bad file.
  }
  return 0;
}
