// Internal: whole-file reads shared by the IDX and CSV readers.
#pragma once

#include <filesystem>
#include <string>

namespace plexus::detail {

// Reads a whole file; gzip data (detected by its magic bytes, not the name) is inflated.
// Throws px::Error naming the file when it cannot be opened or its gzip data is corrupt
// or truncated.
std::string read_file_bytes(const std::filesystem::path& path);

}  // namespace plexus::detail
