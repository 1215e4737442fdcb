// Reading and writing the zip archive of a .keras file (libzip).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace plexus::saving::zip {

// The entries of an archive: name -> bytes. Each entry is read with a size limit, so a
// hostile archive cannot make plexus allocate without bound.
struct Entries {
  std::vector<std::pair<std::string, std::string>> files;
  const std::string* find(const std::string& name) const;
};

// Reads every entry whose name is in `wanted` (others are skipped). px::Error for a file
// that is not a zip archive, a corrupt entry, or an entry larger than `max_bytes`.
Entries read(const std::string& path, const std::vector<std::string>& wanted,
             std::size_t max_bytes);

// Writes an archive (stored, not compressed, as Keras does for the weights) at `path`.
void write(const std::string& path, const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace plexus::saving::zip
