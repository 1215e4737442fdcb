// Internal: whole-file reads shared by the IDX and CSV readers, and the temporary files
// plot_model and plot_history write under before renaming them into place.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace plexus::detail {

// Reads a whole file; gzip data (detected by its magic bytes, not the name) is inflated.
// Throws px::Error naming the file when it cannot be opened or its gzip data is corrupt
// or truncated.
std::string read_file_bytes(const std::filesystem::path& path);

// A file made by mkstemp (mode 0600), removed on scope exit unless commit() renamed it:
// a file is then written completely or not at all.
class TempFile {
 public:
  // `pattern` ends in XXXXXX. Throws px::Error
  // "<caller>: cannot create <what> \"<path>\": <reason>".
  TempFile(std::string pattern, std::string_view caller, std::string_view what);
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const { return path_; }
  // Gives the file the permissions a plain fopen would have (0666 less the umask) and
  // renames it to `target`. Throws px::Error "<caller>: cannot write \"<target>\": <reason>".
  void commit(const std::string& target);

 private:
  std::string path_;  // empty once committed
  std::string caller_;
};

}  // namespace plexus::detail
