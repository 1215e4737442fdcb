// Reading HDF5 files in a child process (issue 28): libhdf5 1.10 dereferences corrupt
// structures (a global heap's lengths, for one) before any caller can check them, so a
// hostile file could crash or corrupt the process that parses it. plexus parses files it did
// not just write in a forked child (hdf5.cpp: read_tree); only the checked stream the child
// sends comes back. See docs/saving.md ("Untrusted files").
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <tuple>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "optim/saving/detail/hdf5_snapshot.hpp"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define PLEXUS_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(PLEXUS_SANITIZED)
#define PLEXUS_SANITIZED 1
#endif
#ifdef PLEXUS_SANITIZED
#include <sanitizer/common_interface_defs.h>
#endif

namespace plexus::saving::h5::detail {

namespace {

constexpr std::size_t kMaxFrame = std::size_t(1) << 24;
constexpr std::size_t kMaxMessage = std::size_t(1) << 16;
constexpr char kMagic[] = "PXH5\x01";
constexpr std::size_t kMagicSize = 5;
constexpr int kMaxDepth = 64;

// --- the child's side of the pipe ------------------------------------------------------

void write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) ::_exit(3);  // the parent went away
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

// A frame: one type byte ('D' data, 'E' error message, 'Z' end), a 4-byte length, the bytes.
void write_frame(int fd, char type, std::string_view data) {
  do {
    const std::size_t n = std::min(data.size(), kMaxFrame);
    char header[5];
    header[0] = type;
    const auto len = static_cast<std::uint32_t>(n);
    std::memcpy(header + 1, &len, 4);
    write_all(fd, header, 5);
    write_all(fd, data.data(), n);
    data.remove_prefix(n);
  } while (!data.empty());
}

}  // namespace

void child_main(int fd, unsigned cpu_seconds, const std::function<void(const Emit&)>& produce) {
  // A file can make libhdf5 loop forever (a corrupt global heap, for one): the kernel stops
  // the child at `cpu_seconds` of CPU time (SIGXCPU, then SIGKILL a second later).
  if (cpu_seconds > 0) {
    const rlimit limit{cpu_seconds, cpu_seconds + 1};
    ::setrlimit(RLIMIT_CPU, &limit);
  }
  // Die by the signal itself (the parent reports it) rather than run a crash handler the
  // program installed; under the sanitizers, do not run the fuzzer's death callback (it
  // would save the input as the fuzzer's own crash).
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS, SIGPIPE, SIGXCPU}) {
    std::signal(sig, SIG_DFL);
  }
#ifdef PLEXUS_SANITIZED
  __sanitizer_set_death_callback(nullptr);
#endif
  // What a crashing libhdf5 prints (glibc's "free(): invalid pointer", a sanitizer's report)
  // is not the user's business: the parent reports the failure as a px::Error.
  const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null_fd >= 0) {
    ::dup2(null_fd, STDERR_FILENO);
    ::dup2(null_fd, STDOUT_FILENO);
    ::close(null_fd);
  }
  try {
    produce([fd](std::string_view data) {
      if (!data.empty()) write_frame(fd, 'D', data);
    });
    write_frame(fd, 'Z', {});
  } catch (const std::exception& e) {
    const std::string_view what = e.what();
    write_frame(fd, 'E', what.substr(0, kMaxMessage));
  } catch (...) {
    write_frame(fd, 'E', "an unknown exception in the HDF5 reader process");
  }
  ::_exit(0);
}

namespace {

// --- the parent's side -------------------------------------------------------------------

// Reads exactly n bytes; false at end of file (or an error).
bool read_exact(int fd, char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

std::string signal_name(int sig) {
  switch (sig) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGBUS:
      return "SIGBUS";
    case SIGABRT:
      return "SIGABRT";
    case SIGFPE:
      return "SIGFPE";
    case SIGILL:
      return "SIGILL";
    case SIGKILL:
      return "SIGKILL";
    case SIGTRAP:
      return "SIGTRAP";
    case SIGXCPU:
      return "SIGXCPU";
    default:
      return "signal " + std::to_string(sig);
  }
}

// Reads the frames a reader process sends on `fd` (and closes it), reaps `pid` and turns how
// it ended into the stream or a px::Error naming `label`.
std::string collect(const std::string& label, pid_t pid, int fd, std::size_t max_bytes,
                    unsigned cpu_seconds, std::size_t expected_bytes) {
  std::string out, message;
  out.reserve(std::min({expected_bytes, max_bytes, std::size_t(1) << 28}));
  enum { kEof, kDone, kError, kMalformed, kTooLarge } end = kEof;
  for (;;) {
    char header[5];
    if (!read_exact(fd, header, 5)) break;
    std::uint32_t len = 0;
    std::memcpy(&len, header + 1, 4);
    if (len > kMaxFrame) {
      end = kMalformed;
      break;
    }
    if (header[0] == 'D') {
      if (len > max_bytes - out.size()) {
        end = kTooLarge;
        break;
      }
      const std::size_t at = out.size();
      out.resize(at + len);
      if (!read_exact(fd, out.data() + at, len)) {
        out.resize(at);
        break;
      }
    } else if (header[0] == 'E' && len <= kMaxMessage) {
      message.resize(len);
      end = read_exact(fd, message.data(), len) ? kError : kEof;
      break;
    } else if (header[0] == 'Z' && len == 0) {
      end = kDone;
      break;
    } else {
      end = kMalformed;
      break;
    }
  }
  ::close(fd);
  if (end == kMalformed || end == kTooLarge) ::kill(pid, SIGKILL);
  int status = 0;
  pid_t w;
  do {
    w = ::waitpid(pid, &status, 0);
  } while (w < 0 && errno == EINTR);
  // w < 0 (ECHILD): the program reaps its children itself; the stream then tells alone.
  const bool known = w == pid;
  if (end == kTooLarge) {
    throw Error(
        "\"{}\": the HDF5 file holds more than {} bytes of values and names, more than "
        "a file of its size can (a corrupt or hostile file?)",
        label, max_bytes);
  }
  if (end == kMalformed) {
    throw Error("\"{}\": the HDF5 reader process sent a malformed stream", label);
  }
  if (known && WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU) {
    throw Error(
        "\"{}\": libhdf5 did not finish reading this file within {} s of CPU time "
        "(SIGXCPU in the HDF5 reader process): the file is corrupt or was made to hang "
        "HDF5 readers",
        label, cpu_seconds);
  }
  if (known && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
    throw Error(
        "\"{}\": the HDF5 reader process was killed (SIGKILL: over its {} s CPU-time "
        "limit, or out of memory) reading this file: the file is corrupt or hostile",
        label, cpu_seconds);
  }
  if (known && WIFSIGNALED(status)) {
    throw Error(
        "\"{}\": libhdf5 crashed reading this file ({} in the HDF5 reader process): the "
        "file is corrupt or was made to crash HDF5 readers",
        label, signal_name(WTERMSIG(status)));
  }
  if (known && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
    throw Error(
        "\"{}\": the HDF5 reader process failed (exit status {}): the file is corrupt "
        "or was made to crash HDF5 readers",
        label, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  if (end == kError) throw Error("{}", message);
  if (end != kDone) {
    throw Error("\"{}\": the HDF5 reader process ended before it sent the whole file", label);
  }
  return out;
}

// A pipe whose read end is kept, for a reader's stream.
void stream_pipe(const std::string& label, int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw Error("\"{}\": cannot start the HDF5 reader process (pipe: {})", label,
                std::strerror(errno));
  }
  ::fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);  // fewer round trips (the default is 64 KB)
  // A program that closed its standard descriptors gets them back from pipe2: moved above
  // 2, so that setting up the reader's 0, 1 and 2 cannot overwrite them.
  for (int k = 0; k < 2; ++k) {
    if (fds[k] <= STDERR_FILENO) {
      const int moved = ::fcntl(fds[k], F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
      if (moved >= 0) {
        ::close(fds[k]);
        fds[k] = moved;
      }
    }
  }
}

}  // namespace

std::string run_isolated(const std::string& label, std::size_t max_bytes, unsigned cpu_seconds,
                         const std::function<void(const Emit&)>& produce,
                         std::size_t expected_bytes) {
  int fds[2];
  stream_pipe(label, fds);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    throw Error("\"{}\": cannot start the HDF5 reader process (fork: {})", label,
                std::strerror(err));
  }
  if (pid == 0) {
    ::close(fds[0]);
    child_main(fds[1], cpu_seconds, produce);
  }
  ::close(fds[1]);
  return collect(label, pid, fds[0], max_bytes, cpu_seconds, expected_bytes);
}

std::string run_reader(const std::string& label, std::size_t max_bytes, unsigned cpu_seconds,
                       const std::string& program, const std::vector<std::string>& args,
                       int input_fd, std::size_t expected_bytes) {
  int fds[2];
  stream_pipe(label, fds);
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  // stdin: the file's image (or nothing); stdout: the stream; stderr: what a crashing
  // libhdf5 prints is not the user's business (the failure is reported as a px::Error).
  if (input_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, input_fd, STDIN_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  // No other descriptor of the program reaches the reader.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  // Default signal dispositions and an empty mask, whatever the calling thread has.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int err = ::posix_spawn(&pid, program.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (err != 0) {
    ::close(fds[0]);
    throw Error("\"{}\": cannot start the HDF5 reader process {} ({})", label, program,
                std::strerror(err));
  }
  return collect(label, pid, fds[0], max_bytes, cpu_seconds, expected_bytes);
}

// --- the stream ----------------------------------------------------------------------------

namespace {

class Writer {
 public:
  explicit Writer(const Emit& emit) : emit_(emit) {}
  ~Writer() = default;
  void u8(char c) { buf_.push_back(c); }
  void u32(std::uint32_t v) { raw(&v, 4); }
  void u64(std::uint64_t v) { raw(&v, 8); }
  void f64(double v) { raw(&v, 8); }
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    buf_.append(s);
    maybe_flush();
  }
  void floats(const std::vector<float>& v) {
    u64(v.size());
    const std::string_view bytes(reinterpret_cast<const char*>(v.data()), v.size() * 4);
    if (bytes.size() > (1u << 16)) {
      flush();
      emit_(bytes);
    } else {
      buf_.append(bytes);
      maybe_flush();
    }
  }
  void flush() {
    if (!buf_.empty()) emit_(buf_);
    buf_.clear();
  }

 private:
  void raw(const void* p, std::size_t n) { buf_.append(static_cast<const char*>(p), n); }
  void maybe_flush() {
    if (buf_.size() > (1u << 20)) flush();
  }
  const Emit& emit_;
  std::string buf_;
};

void write_node(Writer& w, const Node& n) {
  w.u8(n.kind);
  w.str(n.error);
  w.u32(static_cast<std::uint32_t>(n.attributes.size()));
  for (const auto& [name, a] : n.attributes) {
    w.str(name);
    w.str(a.error);
    w.u32(static_cast<std::uint32_t>(a.values.size()));
    for (const auto& v : a.values) w.str(v);
  }
  if (n.kind == 'D') {
    const Dataset& d = n.dataset;
    w.u8(d.cls);
    w.str(d.shape_error);
    w.u32(static_cast<std::uint32_t>(d.shape.size()));
    for (Dim x : d.shape) w.u64(static_cast<std::uint64_t>(x));
    w.str(d.read_error);
    w.str(d.values_error);
    w.floats(d.values);
    w.str(d.int_error);
    w.u64(static_cast<std::uint64_t>(d.int_value));
    w.str(d.double_error);
    w.f64(d.double_value);
  }
  w.u32(static_cast<std::uint32_t>(n.names.size()));
  for (const auto& name : n.names) {
    w.str(name);
    write_node(w, *n.children.at(name));
  }
}

class Reader {
 public:
  Reader(std::string_view s, const std::string& label) : s_(s), label_(label) {}
  [[noreturn]] void fail(const char* what) const {
    throw Error("\"{}\": the HDF5 reader process sent a malformed stream ({} at byte {})", label_,
                what, pos_);
  }
  const char* take(std::size_t n, const char* what) {
    if (n > s_.size() - pos_) fail(what);
    const char* p = s_.data() + pos_;
    pos_ += n;
    return p;
  }
  char u8(const char* what) { return *take(1, what); }
  std::uint32_t u32(const char* what) {
    std::uint32_t v;
    std::memcpy(&v, take(4, what), 4);
    return v;
  }
  std::uint64_t u64(const char* what) {
    std::uint64_t v;
    std::memcpy(&v, take(8, what), 8);
    return v;
  }
  double f64(const char* what) {
    double v;
    std::memcpy(&v, take(8, what), 8);
    return v;
  }
  std::string str(const char* what) {
    const std::uint32_t n = u32(what);
    return std::string(take(n, what), n);
  }
  // A count of items each at least `min_bytes` long: no more than what is left can hold.
  std::uint32_t count(std::size_t min_bytes, const char* what) {
    const std::uint32_t n = u32(what);
    if (n > (s_.size() - pos_) / min_bytes) fail(what);
    return n;
  }
  // n float32 values: where they start in the stream, and n.
  std::pair<const char*, std::size_t> floats(const char* what) {
    const std::uint64_t n = u64(what);
    if (n > (s_.size() - pos_) / 4) fail(what);
    return {take(static_cast<std::size_t>(n) * 4, what), static_cast<std::size_t>(n)};
  }
  bool at_end() const { return pos_ == s_.size(); }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
  const std::string& label_;
};

std::shared_ptr<const Node> read_node(Reader& r, int depth,
                                      const std::shared_ptr<const std::string>& buffer) {
  if (depth > kMaxDepth) r.fail("groups nested too deep");
  auto n = std::make_shared<Node>();
  n->kind = r.u8("a kind");
  if (n->kind != 'G' && n->kind != 'D' && n->kind != 'O') r.fail("an unknown kind");
  n->error = r.str("an error");
  for (std::uint32_t i = 0, c = r.count(12, "attributes"); i < c; ++i) {
    std::string name = r.str("an attribute name");
    Attribute a;
    a.error = r.str("an attribute error");
    for (std::uint32_t j = 0, k = r.count(4, "attribute values"); j < k; ++j) {
      a.values.push_back(r.str("an attribute value"));
    }
    if (!n->attributes.emplace(std::move(name), std::move(a)).second) {
      r.fail("a repeated attribute");
    }
  }
  if (n->kind == 'D') {
    Dataset& d = n->dataset;
    d.cls = r.u8("a dataset class");
    if (d.cls != 'F' && d.cls != 'I' && d.cls != 'X') r.fail("an unknown dataset class");
    d.shape_error = r.str("a shape error");
    const std::uint32_t rank = r.u32("a rank");
    if (rank > 32) r.fail("a rank above 32");
    std::uint64_t elements = 1;
    for (std::uint32_t i = 0; i < rank; ++i) {
      const std::uint64_t dim = r.u64("a dimension");
      if (dim > (std::uint64_t(1) << 31) ||
          (dim != 0 && elements > (std::uint64_t(1) << 31) / dim)) {
        r.fail("a dimension too large");
      }
      elements *= dim;
      d.shape.push_back(static_cast<Dim>(dim));
    }
    d.read_error = r.str("a read error");
    d.values_error = r.str("a values error");
    std::tie(d.raw, d.count) = r.floats("values");
    if (d.count > 0) d.buffer = buffer;
    // Values come with the shape they fill, or not at all.
    if (d.read_error.empty() && d.values_error.empty() &&
        (!d.shape_error.empty() || d.count != elements)) {
      r.fail("values that do not fill the shape");
    }
    d.int_error = r.str("an integer error");
    d.int_value = static_cast<std::int64_t>(r.u64("an integer"));
    d.double_error = r.str("a number error");
    d.double_value = r.f64("a number");
  }
  for (std::uint32_t i = 0, c = r.count(6, "children"); i < c; ++i) {
    std::string name = r.str("a child name");
    if (name.empty()) r.fail("an empty child name");
    if (!n->children.count(name)) {
      n->children.emplace(name, read_node(r, depth + 1, buffer));
      n->names.push_back(std::move(name));
    } else {
      r.fail("a repeated child name");
    }
  }
  return n;
}

}  // namespace

void serialize(const Node& root, const Emit& emit) {
  Writer w(emit);
  w.u8(kMagic[0]);
  for (std::size_t i = 1; i < kMagicSize; ++i) w.u8(kMagic[i]);
  write_node(w, root);
  w.flush();
}

std::shared_ptr<const Node> parse(const std::shared_ptr<const std::string>& stream,
                                  const std::string& label) {
  Reader r(*stream, label);
  if (std::string_view(r.take(kMagicSize, "the header"), kMagicSize) !=
      std::string_view(kMagic, kMagicSize)) {
    r.fail("a bad header");
  }
  auto root = read_node(r, 0, stream);
  if (root->kind != 'G') r.fail("a root that is not a group");
  if (!root->error.empty()) throw Error("{}", root->error);
  if (!r.at_end()) r.fail("bytes after the tree");
  return root;
}

File from_tree(std::shared_ptr<const Node> root, const std::string& label) {
  File f;
  f.root_ = Group(std::move(root), "/", label);
  return f;
}

File from_snapshot(std::shared_ptr<const std::string> stream, const std::string& label) {
  File f;
  f.root_ = Group(parse(stream, label), "/", label);
  return f;
}

}  // namespace plexus::saving::h5::detail
