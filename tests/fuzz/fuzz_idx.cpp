// libFuzzer target: datasets::read_idx on a plain or gzipped file.
// Input: byte 0 selects the encoding (odd: the rest is gzip-compressed first, so the IDX
// parser runs behind the bounded inflater; even: written as is, which also covers raw
// gzip streams starting 1f 8b); byte 1 selects expected_magic (0, 2049 or 2051).
#include <cstddef>
#include <cstdint>

#include "core/datasets.hpp"
#include "core/error.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  const auto path = plexus_fuzz::scratch() / "input.idx";
  plexus_fuzz::write_bytes(path, (data[0] & 1) ? plexus_fuzz::gzip(rest) : std::string(rest));
  static constexpr std::uint32_t kMagic[] = {0, 2049, 2051};
  try {
    const plexus::Tensor t = plexus::datasets::read_idx(path, kMagic[data[1] % 3]);
    volatile float sink = t.size() ? t.data()[t.size() - 1] : 0.0f;
    (void)sink;
  } catch (const plexus::Error&) {
    // A clear error is the expected outcome for a bad file.
  }
  return 0;
}
