#include "core/download.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>

#include "core/error.hpp"

namespace plexus::utils {
namespace {

// ---- SHA-256 (FIPS 180-4) ----
class Sha256 {
 public:
  void update(const unsigned char* p, std::size_t n) {
    total_ += n;
    if (used_) {
      const std::size_t take = std::min(n, sizeof buf_ - used_);
      std::memcpy(buf_ + used_, p, take);
      used_ += take;
      p += take;
      n -= take;
      if (used_ < sizeof buf_) return;
      block(buf_);
      used_ = 0;
    }
    for (; n >= 64; p += 64, n -= 64) block(p);
    std::memcpy(buf_, p, n);
    used_ = n;
  }

  std::string hex() {
    const std::uint64_t bits = total_ * 8;
    const unsigned char pad = 0x80;
    update(&pad, 1);
    const unsigned char zero = 0;
    while (used_ != 56) update(&zero, 1);
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
    update(len, 8);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (std::uint32_t v : h_) {
      for (int s = 28; s >= 0; s -= 4) out += digits[(v >> s) & 0xf];
    }
    return out;
  }

 private:
  static std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

  void block(const unsigned char* p) {
    static constexpr std::uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2};
    std::uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      w[i] = std::uint32_t{p[4 * i]} << 24 | std::uint32_t{p[4 * i + 1]} << 16 |
             std::uint32_t{p[4 * i + 2]} << 8 | std::uint32_t{p[4 * i + 3]};
    }
    for (int i = 16; i < 64; ++i) {
      const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3];
    std::uint32_t e = h_[4], f = h_[5], g = h_[6], h = h_[7];
    for (int i = 0; i < 64; ++i) {
      const std::uint32_t t1 =
          h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      const std::uint32_t t2 =
          (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
    h_[5] += f;
    h_[6] += g;
    h_[7] += h;
  }

  std::uint32_t h_[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                         0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  unsigned char buf_[64] = {};
  std::size_t used_ = 0;
  std::uint64_t total_ = 0;
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Removes the temporary download unless it was renamed into place.
struct TempFile {
  std::filesystem::path path;
  ~TempFile() {
    if (!path.empty()) {
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
  }
};

struct Sink {
  std::FILE* file;
  Sha256 hash;
  bool write_failed = false;
  int write_errno = 0;
};

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  if (std::fwrite(data, 1, n, sink->file) != n) {
    sink->write_failed = true;
    sink->write_errno = errno;
    return 0;
  }
  sink->hash.update(reinterpret_cast<const unsigned char*>(data), n);
  return n;
}

void download(const std::string& url, const std::filesystem::path& dest,
              const std::string& expected_hash) {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });

  std::string tmpl = dest.string() + ".part-XXXXXX";
  const int fd = mkstemp(tmpl.data());
  if (fd < 0) {
    throw Error("cannot create a temporary file next to {}: {}", dest.string(),
                std::strerror(errno));
  }
  TempFile temp{tmpl};
  fchmod(fd, 0644);
  std::unique_ptr<std::FILE, FileCloser> file(fdopen(fd, "wb"));
  if (!file) {
    ::close(fd);
    throw Error("cannot write {}: {}", tmpl, std::strerror(errno));
  }

  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw Error("downloading {}: cannot start libcurl", url);
  Sink sink{file.get(), {}};
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl.get(), CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);  // abort a stalled transfer
  curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "plexus");
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(curl.get(), CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
  const CURLcode rc = curl_easy_perform(curl.get());
  if (sink.write_failed) {
    throw Error("downloading {}: cannot write {}: {}", url, tmpl, std::strerror(sink.write_errno));
  }
  if (rc != CURLE_OK) {
    throw Error("downloading {} failed: {}", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
  }
  if (std::fflush(file.get()) != 0 || ::fsync(fileno(file.get())) != 0) {
    throw Error("downloading {}: cannot write {}: {}", url, tmpl, std::strerror(errno));
  }
  std::FILE* raw = file.release();
  if (std::fclose(raw) != 0) {
    throw Error("downloading {}: cannot write {}: {}", url, tmpl, std::strerror(errno));
  }
  const std::string got = sink.hash.hex();
  if (!expected_hash.empty() && got != expected_hash) {
    throw Error(
        "checksum mismatch for {}: expected sha256 {}, got {}; the download was discarded "
        "(nothing was written to {})",
        url, expected_hash, got, dest.string());
  }
  std::error_code ec;
  std::filesystem::rename(temp.path, dest, ec);
  if (ec) throw Error("cannot move {} to {}: {}", tmpl, dest.string(), ec.message());
  temp.path.clear();
}

}  // namespace

std::string sha256_hex(const void* data, std::size_t size) {
  Sha256 h;
  h.update(static_cast<const unsigned char*>(data), size);
  return h.hex();
}

std::string sha256_file(const std::filesystem::path& path) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) throw Error("cannot open {}: {}", path.string(), std::strerror(errno));
  Sha256 h;
  std::array<unsigned char, 1 << 16> chunk;
  std::size_t n;
  while ((n = std::fread(chunk.data(), 1, chunk.size(), f.get())) > 0) h.update(chunk.data(), n);
  if (std::ferror(f.get())) throw Error("cannot read {}: {}", path.string(), std::strerror(errno));
  return h.hex();
}

std::filesystem::path default_cache_dir() {
  const char* home = std::getenv("HOME");
  std::string dir = home && *home ? home : "";
  if (dir.empty()) {
    if (const passwd* pw = getpwuid(getuid()); pw && pw->pw_dir) dir = pw->pw_dir;
  }
  if (dir.empty() || ::access(dir.c_str(), W_OK) != 0) return "/tmp/.plexus";
  return std::filesystem::path(dir) / ".plexus";
}

std::filesystem::path get_file(std::string_view fname, std::string_view origin,
                               const GetFileOptions& options) {
  const std::filesystem::path name(fname);
  if (fname.empty() || name.has_parent_path() || fname == "." || fname == "..") {
    throw Error("get_file: fname must be a plain file name, got \"{}\"", fname);
  }
  const std::string hash = lower(options.file_hash);
  if (!hash.empty() &&
      (hash.size() != 64 || hash.find_first_not_of("0123456789abcdef") != std::string::npos)) {
    throw Error("get_file: file_hash for {} must be a SHA-256 of 64 hex digits, got \"{}\"", fname,
                options.file_hash);
  }
  const std::filesystem::path root =
      options.cache_dir.empty() ? default_cache_dir() : options.cache_dir;
  const std::filesystem::path folder = root / options.cache_subdir;
  const std::filesystem::path dest = folder / name;

  std::error_code ec;
  if (!options.force_download && std::filesystem::is_regular_file(dest, ec)) {
    if (hash.empty() || sha256_file(dest) == hash) return dest;
    std::fprintf(stderr,
                 "A local file was found, but it seems to be incomplete or outdated because its "
                 "sha256 does not match the expected value; downloading it again: %s\n",
                 dest.c_str());
  }
  std::filesystem::create_directories(folder, ec);
  if (ec) throw Error("cannot create the cache folder {}: {}", folder.string(), ec.message());
  std::fprintf(stderr, "Downloading data from %.*s\n", static_cast<int>(origin.size()),
               origin.data());
  download(std::string(origin), dest, hash);
  return dest;
}

}  // namespace plexus::utils
