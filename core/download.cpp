#include "core/download.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
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
#include "core/file_io.hpp"

namespace plexus::utils {
namespace {

// SHA-256 (or, for Keras's legacy 32-digit file hashes, MD5) by OpenSSL's EVP interface.
class Sha256 {
 public:
  explicit Sha256(bool md5 = false) : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), md5 ? EVP_md5() : EVP_sha256(), nullptr) != 1) {
      throw Error("sha256: cannot start OpenSSL's {}", md5 ? "MD5" : "SHA-256");
    }
  }
  void update(const void* p, std::size_t n) {
    if (EVP_DigestUpdate(ctx_.get(), p, n) != 1) throw Error("sha256: OpenSSL digest failed");
  }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), digest, &len) != 1) {
      throw Error("sha256: OpenSSL digest failed");
    }
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
      out += digits[digest[i] >> 4];
      out += digits[digest[i] & 0xf];
    }
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A file's SHA-256, or its MD5 (Keras's legacy 32-digit hashes, hash_algorithm="auto").
std::string file_hash_hex(const std::filesystem::path& path, bool md5) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) throw Error("cannot open {}: {}", path.string(), std::strerror(errno));
  Sha256 h(md5);
  std::array<unsigned char, 1 << 16> chunk;
  std::size_t n;
  while ((n = std::fread(chunk.data(), 1, chunk.size(), f.get())) > 0) h.update(chunk.data(), n);
  if (std::ferror(f.get())) throw Error("cannot read {}: {}", path.string(), std::strerror(errno));
  return h.hex();
}

struct Sink {
  int fd;
  Sha256 hash;
  std::uint64_t written = 0;
  std::uint64_t max_size = 0;  // 0: no cap
  int write_errno = 0;
  bool too_large = false;
};

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  if (sink->max_size != 0 && sink->written + n > sink->max_size) {
    sink->too_large = true;
    return 0;  // aborts the transfer
  }
  if (const int e = detail::write_all(sink->fd, std::string_view(data, n))) {
    sink->write_errno = e;
    return 0;
  }
  sink->written += n;
  sink->hash.update(data, n);
  return n;
}

// Downloads url into tmp (an empty file made by write_file_atomic).
void download_to(const std::string& url, const std::filesystem::path& tmp,
                 const std::filesystem::path& dest, const std::string& expected_hash,
                 std::uint64_t max_size) {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });

  struct Fd {
    int fd;
    ~Fd() {
      if (fd >= 0) ::close(fd);
    }
  } out{::open(tmp.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC)};
  if (out.fd < 0) {
    throw Error("downloading {}: cannot write {}: {}", url, tmp.string(), std::strerror(errno));
  }
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw Error("downloading {}: cannot start libcurl", url);
  Sink sink{out.fd, Sha256(expected_hash.size() == 32), 0, max_size};
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
  // A server announcing more than the cap is refused before the body is sent; one that
  // does not announce it is stopped by write_body.
  if (max_size != 0) {
    curl_easy_setopt(curl.get(), CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_size));
  }
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(curl.get(), CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
  const CURLcode rc = curl_easy_perform(curl.get());
  if (sink.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    throw Error(
        "downloading {}: the file is larger than the expected {} bytes; the download was "
        "stopped and discarded (nothing was written to {})",
        url, max_size, dest.string());
  }
  if (sink.write_errno != 0) {
    throw Error("downloading {}: cannot write {}: {}", url, tmp.string(),
                std::strerror(sink.write_errno));
  }
  if (rc != CURLE_OK) {
    throw Error("downloading {} failed: {}", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
  }
  const int fd = out.fd;
  out.fd = -1;
  if (::close(fd) != 0) {
    throw Error("downloading {}: cannot write {}: {}", url, tmp.string(), std::strerror(errno));
  }
  const std::string got = sink.hash.hex();
  if (!expected_hash.empty() && got != expected_hash) {
    throw Error(
        "checksum mismatch for {}: expected {} {}, got {}; the download was discarded "
        "(nothing was written to {})",
        url, expected_hash.size() == 32 ? "md5" : "sha256", expected_hash, got, dest.string());
  }
}

void download(const std::string& url, const std::filesystem::path& dest,
              const std::string& expected_hash, std::uint64_t max_size) {
  detail::write_file_atomic(
      dest,
      [&](const std::filesystem::path& tmp) {
        download_to(url, tmp, dest, expected_hash, max_size);
      },
      fmt::format("downloading {}", url));
}

}  // namespace

std::string sha256_hex(const void* data, std::size_t size) {
  Sha256 h;
  h.update(data, size);
  return h.hex();
}

std::string sha256_file(const std::filesystem::path& path) { return file_hash_hex(path, false); }

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
  if (!hash.empty() && ((hash.size() != 64 && hash.size() != 32) ||
                        hash.find_first_not_of("0123456789abcdef") != std::string::npos)) {
    throw Error(
        "get_file: file_hash for {} must be a SHA-256 of 64 hex digits (or an MD5 of 32), got "
        "\"{}\"",
        fname, options.file_hash);
  }
  const std::filesystem::path root =
      options.cache_dir.empty() ? default_cache_dir() : options.cache_dir;
  const std::filesystem::path folder = root / options.cache_subdir;
  const std::filesystem::path dest = folder / name;

  std::error_code ec;
  if (!options.force_download && std::filesystem::is_regular_file(dest, ec)) {
    if (hash.empty() || file_hash_hex(dest, hash.size() == 32) == hash) return dest;
    std::fprintf(stderr,
                 "A local file was found, but it seems to be incomplete or outdated because its "
                 "%s does not match the expected value; downloading it again: %s\n",
                 hash.size() == 32 ? "md5" : "sha256", dest.c_str());
  }
  std::filesystem::create_directories(folder, ec);
  if (ec) throw Error("cannot create the cache folder {}: {}", folder.string(), ec.message());
  std::fprintf(stderr, "Downloading data from %.*s\n", static_cast<int>(origin.size()),
               origin.data());
  download(std::string(origin), dest, hash, options.file_size);
  return dest;
}

}  // namespace plexus::utils
