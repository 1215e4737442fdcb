// Downloading files into a local cache (Keras: keras.utils.get_file), and SHA-256.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace plexus::utils {

struct GetFileOptions {
  // Expected SHA-256 of the file, as 64 hex digits (or an MD5 of 32, as Keras's
  // hash_algorithm="auto" reads its legacy hashes); empty skips the check.
  std::string file_hash = {};
  // Cache root; default ~/.plexus (or /tmp/.plexus when there is no home folder).
  std::filesystem::path cache_dir = {};
  // Folder under cache_dir that receives the file.
  std::string cache_subdir = "datasets";
  // Download even when a cached copy exists.
  bool force_download = false;
  // Expected size in bytes; when set, a download that grows past it is stopped and
  // discarded (a hostile or broken mirror cannot fill the disk). 0: unknown, no cap.
  std::uint64_t file_size = 0;
};

// Returns <cache_dir>/<cache_subdir>/<fname>, downloading it from origin (http, https or
// file URL, through libcurl) unless a cached copy exists that matches file_hash. A download
// is written to a temporary file next to the target and renamed into place only when it is
// complete and its checksum matches (and fsync'ed, with its folder: detail::write_file_atomic),
// so the cache never holds a partial or wrong file.
// Throws px::Error naming the URL on a network or HTTP error and on a checksum mismatch.
std::filesystem::path get_file(std::string_view fname, std::string_view origin,
                               const GetFileOptions& options = {});

// The default cache root: ~/.plexus, or /tmp/.plexus without a usable home folder.
std::filesystem::path default_cache_dir();

// SHA-256 as 64 lower-case hex digits (OpenSSL EVP).
std::string sha256_hex(const void* data, std::size_t size);
inline std::string sha256_hex(std::string_view bytes) {
  return sha256_hex(bytes.data(), bytes.size());
}
std::string sha256_file(const std::filesystem::path& path);

}  // namespace plexus::utils
