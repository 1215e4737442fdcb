// Shared by the libFuzzer targets: a private scratch folder per process and file writers.
#pragma once

#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace plexus_fuzz {

// <tmp>/plexus_fuzz_<pid>/, created on first use and removed at exit.
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("plexus_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    static const std::filesystem::path keep = d;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(keep, ec);
    });
    return d;
  }();
  return dir;
}

// The HDF5 targets: libhdf5 loops forever on some corrupt files; its reader process is
// stopped after 1 s of CPU time (not 10), well inside libFuzzer's -timeout. Call from
// LLVMFuzzerInitialize.
inline void limit_hdf5_reader_cpu() { setenv("PLEXUS_HDF5_CPU_SECONDS", "1", 1); }

inline void write_bytes(const std::filesystem::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) std::abort();  // the fuzzer's own disk is broken: not a finding in plexus
}

// A gzip stream (one member) holding `bytes`.
inline std::string gzip(std::string_view bytes) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::string out(deflateBound(&zs, bytes.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// True when `text` holds a run of digits worth more than `limit`. A model config declares the
// sizes of the weights plexus then allocates (Dense units, Reshape targets, input shapes), as
// Keras does: a config asking for gigabytes is a resource limit, not a reader bug, so the
// config targets skip such inputs instead of reporting the fuzzer's out-of-memory.
inline bool declares_large_sizes(std::string_view text, unsigned long limit) {
  unsigned long value = 0;
  bool in_number = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      if (!in_number) value = 0;
      in_number = true;
      if (value > limit) return true;
      value = value * 10 + static_cast<unsigned long>(c - '0');
    } else {
      if (in_number && value > limit) return true;
      in_number = false;
    }
  }
  return in_number && value > limit;
}

}  // namespace plexus_fuzz
