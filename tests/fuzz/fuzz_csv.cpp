// libFuzzer target: datasets::load_csv with options taken from the first bytes.
// byte 0: delimiter (one of , ; | tab space, or the byte itself); byte 1: skip_rows (0..3);
// byte 2: number of usecols (0..3), bytes 3..5: each a column in -4..4; byte 6 odd: the
// text is gzip-compressed. The rest is the file. max_bytes is 1 MiB.
#include <cstddef>
#include <cstdint>

#include "core/datasets.hpp"
#include "core/error.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 7) return 0;
  plexus::datasets::CsvOptions o;
  static constexpr char kDelims[] = {',', ';', '|', '\t', ' '};
  o.delimiter = data[0] < 200 ? kDelims[data[0] % 5] : static_cast<char>(data[0]);
  o.skip_rows = data[1] % 4;
  for (int i = 0; i < data[2] % 4; ++i) o.usecols.push_back(static_cast<int>(data[3 + i] % 9) - 4);
  o.max_bytes = std::size_t{1} << 20;
  const std::string_view text(reinterpret_cast<const char*>(data) + 7, size - 7);
  const auto path = plexus_fuzz::scratch() / "input.csv";
  plexus_fuzz::write_bytes(path, (data[6] & 1) ? plexus_fuzz::gzip(text) : std::string(text));
  try {
    const plexus::Tensor t = plexus::datasets::load_csv(path, o);
    volatile float sink = t.size() ? t.data()[t.size() - 1] : 0.0f;
    (void)sink;
  } catch (const plexus::Error&) {
  }
  return 0;
}
