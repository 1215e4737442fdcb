#include "core/file_io.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "core/error.hpp"
#include "core/shape.hpp"

namespace plexus::detail {
namespace {

gzFile gz(void* p) { return static_cast<gzFile>(p); }

// zlib's message without the "<fd:3>: " it prefixes for a gzdopen'ed file.
std::string zlib_reason(const char* msg) {
  std::string m = msg && *msg ? msg : "zlib error";
  if (const auto p = m.find(">: "); m.rfind("<fd:", 0) == 0 && p != std::string::npos) {
    m.erase(0, p + 3);
  }
  return m;
}

// Closes a descriptor on scope exit unless released.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  // close(2) with its result: a deferred write error (NFS, quotas) shows up here.
  int close() {
    const int rc = ::close(fd);
    fd = -1;
    return rc == 0 ? 0 : errno;
  }
};

int fsync_path(const std::filesystem::path& path, int flags) {
  Fd f{::open(path.c_str(), flags | O_CLOEXEC)};
  if (f.fd < 0) return errno;
  if (::fsync(f.fd) != 0) return errno;
  return f.close();
}

}  // namespace

InputFile::InputFile(const std::filesystem::path& path) : name_(path.string()) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot open {}: {}", name_, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    throw Error("cannot open {}: {}", name_, std::strerror(e));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw Error("cannot read {}: it is a folder, not a file", name_);
  }
  stored_size_ = static_cast<std::uint64_t>(st.st_size);
  unsigned char magic[2] = {0, 0};
  const ssize_t got = ::pread(fd, magic, 2, 0);
  gzipped_ = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  gz_ = gzdopen(fd, "rb");  // owns fd from here on
  if (gz_ == nullptr) {
    ::close(fd);
    throw Error("cannot open {}: out of memory for zlib", name_);
  }
  gzbuffer(gz(gz_), 1 << 17);
}

InputFile::~InputFile() {
  if (gz_) gzclose_r(gz(gz_));
}

std::size_t InputFile::read(void* dst, std::size_t n) {
  auto* out = static_cast<char*>(dst);
  std::size_t done = 0;
  while (done < n) {
    const auto chunk = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30));
    const int got = gzread(gz(gz_), out + done, chunk);
    int code = Z_OK;
    const char* msg = gzerror(gz(gz_), &code);
    if (code == Z_BUF_ERROR) {  // zlib's "unexpected end of file"
      throw Error("{}: gzip data is truncated: the compressed stream ends after {} bytes", name_,
                  stored_size_);
    }
    if (code == Z_ERRNO) throw Error("cannot read {}: {}", name_, std::strerror(errno));
    if (code != Z_OK || got < 0) {
      throw Error("{}: gzip data is corrupt: {}", name_, zlib_reason(msg));
    }
    done += static_cast<std::size_t>(got);
    if (static_cast<unsigned>(got) < chunk) break;  // the end of the data
  }
  return done;
}

bool InputFile::more() {
  char c;
  return read(&c, 1) == 1;
}

std::string read_file_bytes(const std::filesystem::path& path, std::size_t max_bytes,
                            std::string_view what) {
  InputFile in(path);
  std::string bytes;
  // A plain file's size is known; gzip data grows the buffer as it inflates.
  if (!in.gzipped()) bytes.reserve(std::min<std::uint64_t>(in.stored_size(), max_bytes));
  char chunk[1 << 16];
  for (;;) {
    const std::size_t room = max_bytes - bytes.size();
    const std::size_t got = in.read(chunk, std::min(sizeof chunk, room + 1));
    if (got > room) {
      throw Error(
          "{}: {} holds more than {} bytes{}; refusing to read further (raise the limit if the "
          "file is really that large)",
          in.name(), what, max_bytes, in.gzipped() ? " once inflated" : "");
    }
    bytes.append(chunk, got);
    if (got < std::min(sizeof chunk, room + 1)) return bytes;
  }
}

int write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

namespace {

// The steps around a temporary file in the target's folder; see write_file_atomic.
class AtomicWrite {
 public:
  AtomicWrite(const std::filesystem::path& target, std::string_view caller)
      : target_(target), caller_(caller) {
    if (target.filename().empty()) throw fail("not a file name");
    struct stat st {};
    if (::stat(target.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      throw fail(S_ISDIR(st.st_mode) ? "it is a folder" : "it exists and is not a regular file");
    }
    dir_ = target.has_parent_path() ? target.parent_path() : ".";
    std::string base = ".";
    base.append(target.filename().string()).append(".tmp-XXXXXX");
    tmp_ = (dir_ / base).string();
    fd_.fd = ::mkstemp(tmp_.data());
    if (fd_.fd < 0) {
      const int e = errno;
      tmp_.clear();
      throw fail(fmt::format("cannot create a temporary file in \"{}\": {}", dir_.string(),
                             std::strerror(e)));
    }
  }
  ~AtomicWrite() {
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
  }
  AtomicWrite(const AtomicWrite&) = delete;
  AtomicWrite& operator=(const AtomicWrite&) = delete;

  const std::string& tmp() const { return tmp_; }
  Fd& fd() { return fd_; }
  Error fail(const std::string& why) const {
    return Error("{}: cannot write \"{}\": {}", caller_, target_.string(), why);
  }
  void check(int e) const {
    if (e != 0) throw fail(std::strerror(e));
  }

  // The temporary is complete and on disk: give it its mode, rename it into place and
  // make the rename durable.
  void commit() {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    if (::chmod(tmp_.c_str(), 0666 & ~mask) != 0) check(errno);
    if (::rename(tmp_.c_str(), target_.c_str()) != 0) check(errno);
    tmp_.clear();
    // Some file systems cannot fsync a folder (EINVAL): nothing more can be done there.
    if (const int e = fsync_path(dir_, O_RDONLY | O_DIRECTORY); e != 0 && e != EINVAL) {
      throw fail(
          fmt::format("the file was renamed into place, but its folder could not be synced: {}",
                      std::strerror(e)));
    }
  }

 private:
  std::filesystem::path target_, dir_;
  std::string caller_;
  std::string tmp_;  // empty once renamed (or never created)
  Fd fd_;
};

}  // namespace

void write_file_atomic(const std::filesystem::path& target,
                       const std::function<void(const std::filesystem::path& tmp)>& writer,
                       std::string_view caller) {
  AtomicWrite w(target, caller);
  w.check(w.fd().close());
  writer(w.tmp());
  w.check(fsync_path(w.tmp(), O_RDONLY));
  w.commit();
}

void write_file_atomic(const std::filesystem::path& target, std::string_view bytes,
                       std::string_view caller) {
  AtomicWrite w(target, caller);
  w.check(write_all(w.fd().fd, bytes));
  if (::fsync(w.fd().fd) != 0) w.check(errno);
  w.check(w.fd().close());
  w.commit();
}

}  // namespace plexus::detail
