#include "core/file_io.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

#include "core/error.hpp"

namespace plexus::detail {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

std::string read_plain(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw Error("cannot read {}: it is a folder, not a file", path.string());
  }
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) throw Error("cannot open {}: {}", path.string(), std::strerror(errno));
  std::string bytes;
  char chunk[1 << 16];
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec) bytes.reserve(static_cast<std::size_t>(size));
  std::size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f.get())) > 0) bytes.append(chunk, n);
  if (std::ferror(f.get())) throw Error("cannot read {}: {}", path.string(), std::strerror(errno));
  return bytes;
}

bool is_gzip(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

std::string inflate_gzip(const std::string& in, const std::filesystem::path& path) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) throw Error("{}: cannot start zlib", path.string());
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);

  // The gzip trailer holds the uncompressed size mod 2^32: a good first guess, capped by
  // deflate's maximum ratio so that a damaged trailer cannot ask for absurd memory.
  std::size_t guess = 0;
  if (in.size() >= 18) {
    const auto* t = reinterpret_cast<const unsigned char*>(in.data() + in.size() - 4);
    guess = std::size_t{t[0]} | std::size_t{t[1]} << 8 | std::size_t{t[2]} << 16 |
            std::size_t{t[3]} << 24;
  }
  guess = std::clamp<std::size_t>(guess, 1 << 16, in.size() * 1032 + (1 << 16));
  std::string out(guess, '\0');

  const auto* next = reinterpret_cast<const Bytef*>(in.data());
  std::size_t in_left = in.size();
  std::size_t written = 0;
  for (;;) {
    if (written == out.size()) out.resize(out.size() * 2);
    const std::size_t in_chunk = std::min<std::size_t>(in_left, UINT_MAX);
    const std::size_t out_chunk = std::min<std::size_t>(out.size() - written, UINT_MAX);
    zs.next_in = const_cast<Bytef*>(next);
    zs.avail_in = static_cast<uInt>(in_chunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + written);
    zs.avail_out = static_cast<uInt>(out_chunk);
    const int ret = inflate(&zs, Z_NO_FLUSH);
    next += in_chunk - zs.avail_in;
    in_left -= in_chunk - zs.avail_in;
    written += out_chunk - zs.avail_out;
    if (ret == Z_STREAM_END) {
      // A gzip file may hold several members back to back; anything else after the end
      // is ignored, as gzip itself does.
      if (in_left >= 2 && next[0] == 0x1f && next[1] == 0x8b) {
        inflateReset(&zs);
        continue;
      }
      break;
    }
    if (ret == Z_OK) continue;
    if (ret == Z_BUF_ERROR) {
      if (zs.avail_out == 0) continue;  // more room needed
      throw Error("{}: gzip data is truncated: the compressed stream ends after {} bytes",
                  path.string(), in.size());
    }
    throw Error("{}: gzip data is corrupt: {}", path.string(),
                zs.msg ? zs.msg : "zlib error " + std::to_string(ret));
  }
  out.resize(written);
  return out;
}

}  // namespace

std::string read_file_bytes(const std::filesystem::path& path) {
  std::string bytes = read_plain(path);
  if (!is_gzip(bytes)) return bytes;
  return inflate_gzip(bytes, path);
}

TempFile::TempFile(std::string pattern, std::string_view caller, std::string_view what)
    : path_(std::move(pattern)), caller_(caller) {
  const int fd = ::mkstemp(path_.data());
  if (fd < 0) {
    throw Error("{}: cannot create {} \"{}\": {}", caller, what, path_, std::strerror(errno));
  }
  ::close(fd);
}

TempFile::~TempFile() {
  if (!path_.empty()) std::remove(path_.c_str());
}

void TempFile::commit(const std::string& target) {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::chmod(path_.c_str(), 0666 & ~mask);
  std::error_code ec;
  std::filesystem::rename(path_, target, ec);
  if (ec) throw Error("{}: cannot write \"{}\": {}", caller_, target, ec.message());
  path_.clear();
}

}  // namespace plexus::detail
