#include "optim/saving/zip.hpp"

#include <zip.h>

#include <algorithm>
#include <memory>

#include "core/error.hpp"

namespace plexus::saving::zip {

const std::string* Entries::find(const std::string& name) const {
  for (const auto& [n, bytes] : files) {
    if (n == name) return &bytes;
  }
  return nullptr;
}

Entries read(const std::string& path, const std::vector<std::string>& wanted,
             std::size_t max_bytes) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (z == nullptr) {
    zip_error_t e;
    zip_error_init_with_code(&e, err);
    std::string msg = zip_error_strerror(&e);
    zip_error_fini(&e);
    throw Error("Cannot open \"{}\" as a zip archive (.keras, .npz): {}", path, msg);
  }
  std::unique_ptr<zip_t, void (*)(zip_t*)> guard(z, [](zip_t* p) { zip_discard(p); });
  Entries out;
  const zip_int64_t n = zip_get_num_entries(z, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(z, static_cast<zip_uint64_t>(i), 0);
    if (name == nullptr) continue;
    if (std::find(wanted.begin(), wanted.end(), name) == wanted.end()) continue;
    zip_stat_t st;
    if (zip_stat_index(z, static_cast<zip_uint64_t>(i), 0, &st) != 0 ||
        !(st.valid & ZIP_STAT_SIZE)) {
      throw Error("\"{}\": cannot read the size of entry \"{}\"", path, name);
    }
    if (st.size > max_bytes) {
      throw Error("\"{}\": entry \"{}\" is {} bytes, more than the limit of {}", path, name,
                  st.size, max_bytes);
    }
    std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> f(
        zip_fopen_index(z, static_cast<zip_uint64_t>(i), 0), zip_fclose);
    if (!f) throw Error("\"{}\": cannot open entry \"{}\": {}", path, name, zip_strerror(z));
    std::string bytes;
    bytes.resize(static_cast<std::size_t>(st.size));
    std::size_t got = 0;
    while (got < bytes.size()) {
      const zip_int64_t r = zip_fread(f.get(), bytes.data() + got, bytes.size() - got);
      if (r < 0) {
        throw Error("\"{}\": entry \"{}\" is corrupt: {}", path, name, zip_file_strerror(f.get()));
      }
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    if (got != bytes.size()) {
      throw Error("\"{}\": entry \"{}\" is truncated ({} of {} bytes)", path, name, got,
                  bytes.size());
    }
    out.files.emplace_back(name, std::move(bytes));
  }
  return out;
}

void write(const std::string& path, const std::vector<std::pair<std::string, std::string>>& files) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (z == nullptr) throw Error("Cannot create the archive \"{}\" (libzip error {})", path, err);
  for (const auto& [name, bytes] : files) {
    zip_source_t* src = zip_source_buffer(z, bytes.data(), bytes.size(), 0);
    if (src == nullptr) {
      zip_discard(z);
      throw Error("\"{}\": cannot add \"{}\"", path, name);
    }
    const zip_int64_t idx = zip_file_add(z, name.c_str(), src, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
      zip_source_free(src);
      zip_discard(z);
      throw Error("\"{}\": cannot add \"{}\"", path, name);
    }
    zip_set_file_compression(
        z, static_cast<zip_uint64_t>(idx),
        name.size() > 3 && name.substr(name.size() - 3) == ".h5" ? ZIP_CM_STORE : ZIP_CM_DEFLATE,
        0);
  }
  if (zip_close(z) != 0) {
    std::string msg = zip_strerror(z);
    zip_discard(z);
    throw Error("Cannot write the archive \"{}\": {}", path, msg);
  }
}

}  // namespace plexus::saving::zip
