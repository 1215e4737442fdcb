// libFuzzer target: mnist::load_data(dir) on a folder of four fuzzed IDX files.
// Input: byte 0 says which files are gzipped (bit i for file i) and which use the dotted
// names some archives use (bit 4); then four parts, each a 2-byte little-endian length
// followed by that many bytes (a missing part is a missing file).
#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "core/datasets.hpp"
#include "core/error.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static constexpr const char* kNames[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
  static constexpr const char* kDotted[] = {"train-images.idx3-ubyte", "train-labels.idx1-ubyte",
                                            "t10k-images.idx3-ubyte", "t10k-labels.idx1-ubyte"};
  const auto dir = plexus_fuzz::scratch() / "mnist";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir);
  const std::uint8_t flags = data[0];
  std::size_t pos = 1;
  for (int i = 0; i < 4 && pos + 2 <= size; ++i) {
    std::size_t len = data[pos] | std::size_t{data[pos + 1]} << 8;
    pos += 2;
    len = std::min(len, size - pos);
    const std::string_view part(reinterpret_cast<const char*>(data) + pos, len);
    pos += len;
    const bool gz = flags >> i & 1;
    std::string name = (flags & 16) ? kDotted[i] : kNames[i];
    if (gz) name += ".gz";
    plexus_fuzz::write_bytes(dir / name, gz ? plexus_fuzz::gzip(part) : std::string(part));
  }
  try {
    auto [train, test] = plexus::datasets::mnist::load_data({.dir = dir, .download = false});
    volatile float sink = train.x.size() + test.y.size();
    (void)sink;
  } catch (const plexus::Error&) {
  }
  return 0;
}
