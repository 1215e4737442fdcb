// Internal: reading files (plain or gzip, with a bound) and writing every file plexus writes
// (plots, logs, downloads, saved models) atomically and durably.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace plexus::detail {

// A file opened for reading. gzip data (detected by its magic bytes, not the name; several
// members back to back are one stream) is inflated by zlib's gzread as it is read, so a
// reader takes only what it asks for: a gzip bomb behind a small header costs nothing.
class InputFile {
 public:
  // Throws px::Error "cannot open <file>: <reason>" (or "...: it is a folder, not a file").
  explicit InputFile(const std::filesystem::path& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  // Reads up to n bytes into dst; fewer only at the end of the data. Throws px::Error
  // "<file>: gzip data is corrupt: <zlib's reason>" or "<file>: gzip data is truncated: the
  // compressed stream ends after <n> bytes", or "cannot read <file>: <reason>".
  std::size_t read(void* dst, std::size_t n);
  // True when at least one more byte follows (reads it).
  bool more();
  bool gzipped() const { return gzipped_; }
  // Size of the file on disk (compressed size for gzip).
  std::uint64_t stored_size() const { return stored_size_; }
  const std::string& name() const { return name_; }

 private:
  void* gz_ = nullptr;  // gzFile
  std::string name_;
  bool gzipped_ = false;
  std::uint64_t stored_size_ = 0;
};

// Reads a whole file (inflating gzip data). More than max_bytes of (inflated) data is a
// px::Error "<file>: <what> holds more than <max_bytes> bytes ..." without reading further.
std::string read_file_bytes(const std::filesystem::path& path, std::size_t max_bytes,
                            std::string_view what);

// Writes `target` so that it appears complete or not at all, and survives a power loss once
// this returns: `writer` fills a temporary file (mode 0600, created empty, in the target's
// folder, so the final rename is atomic); then the temporary is fsync'ed, given the mode a
// plain fopen would give (0666 less the umask), renamed over the target, and the folder is
// fsync'ed. When the writer throws or any step fails, the temporary is removed and the
// target is untouched; failures are px::Error "<caller>: cannot write \"<target>\": <why>"
// with strerror's reason. A target that exists and is not a regular file (a device, a
// folder) is refused rather than replaced.
void write_file_atomic(const std::filesystem::path& target,
                       const std::function<void(const std::filesystem::path& tmp)>& writer,
                       std::string_view caller);
// The same for bytes held in memory (every write(2) is checked).
void write_file_atomic(const std::filesystem::path& target, std::string_view bytes,
                       std::string_view caller);

// Writes all of `bytes` to the open descriptor `fd`, retrying short writes and EINTR;
// returns 0 or the errno of the failed write.
int write_all(int fd, std::string_view bytes);

}  // namespace plexus::detail
