// Every file plexus writes goes through detail::write_file_atomic (issue 12): complete or
// absent, fsync'ed (file, then folder, around the rename), errors with the reason. Its
// users: CSVLogger, plot_model, plot_history, get_file. The order of fsync and rename is
// observed by interposing both calls in this executable (the static library's calls bind
// to the definitions below, which forward to libc).
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <plexus.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/file_io.hpp"

namespace px = plexus;
namespace fs = std::filesystem;

// ---- fsync / rename recorder ---------------------------------------------------------------

namespace {
std::mutex g_events_mutex;
std::vector<std::string> g_events;  // "fsync <path>", "rename <from> <to>"
bool g_recording = false;

std::string fd_path(int fd) {
  char buf[4096];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "?";
}
void record(std::string e) {
  std::lock_guard<std::mutex> lock(g_events_mutex);
  if (g_recording) g_events.push_back(std::move(e));
}
}  // namespace

extern "C" int fsync(int fd) {
  using Fn = int (*)(int);
  static const Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "fsync"));
  record("fsync " + fd_path(fd));
  return real(fd);
}

extern "C" int rename(const char* from, const char* to) noexcept {
  using Fn = int (*)(const char*, const char*);
  static const Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "rename"));
  record(std::string("rename ") + from + " " + to);
  return real(from, to);
}

namespace {

class Recording {
 public:
  Recording() {
    std::lock_guard<std::mutex> lock(g_events_mutex);
    g_events.clear();
    g_recording = true;
  }
  ~Recording() {
    std::lock_guard<std::mutex> lock(g_events_mutex);
    g_recording = false;
  }
  std::vector<std::string> events() const {
    std::lock_guard<std::mutex> lock(g_events_mutex);
    return g_events;
  }
};

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "plexus_files_XXXXXX").string();
    path_ = fs::canonical(::mkdtemp(pattern.data()));
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path_)) out.push_back(e.path().filename());
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  fs::path path_;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const px::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<not a px::Error: ") + e.what() + ">";
  }
  return "<no exception>";
}

// A full disk, as RLIMIT_FSIZE makes it: writes to regular files beyond `bytes` fail with
// EFBIG (SIGXFSZ ignored, as it is inherited by Graphviz and rsvg-convert too).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &old_);
    rlimit lim = old_;
    lim.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &lim);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    ::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
};

class EnvGuard {
 public:
  EnvGuard(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~EnvGuard() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

bool have(const char* program) {
  return std::system((std::string("command -v ") + program + " > /dev/null 2>&1").c_str()) == 0;
}

struct Linear {
  px::Model model;
  px::Tensor x = px::Tensor::from_shape({16, 1});
  px::Tensor y = px::Tensor::from_shape({16, 1});
};
Linear linear() {
  px::utils::set_random_seed(4);
  auto in = px::Input({1});
  Linear s{px::Model(in, px::layers::Dense(1, {.name = "lin"})(in))};
  for (std::size_t i = 0; i < 16; ++i) {
    s.x(i, 0) = static_cast<float>(i) / 16.0f;
    s.y(i, 0) = 2.0f * s.x(i, 0);
  }
  s.model.compile(px::optim::SGD({.learning_rate = 0.05}), "mse", {"mae"});
  return s;
}

px::History small_history() {
  px::History h;
  h.history["loss"] = {0.9, 0.5, 0.3};
  h.history["val_loss"] = {1.0, 0.6, 0.45};
  h.epoch = {0, 1, 2};
  return h;
}

}  // namespace

// ---- write_file_atomic ---------------------------------------------------------------------

TEST(WriteFileAtomic, FsyncsTheFileBeforeTheRenameAndTheFolderAfter) {
  ScratchDir dir;
  const fs::path target = dir.path() / "out.txt";
  std::vector<std::string> events;
  {
    Recording rec;
    px::detail::write_file_atomic(target, std::string("hello\n"), "test");
    events = rec.events();
  }
  EXPECT_EQ(read_file(target), "hello\n");
  EXPECT_EQ(dir.files(), std::vector<std::string>{"out.txt"});
  ASSERT_EQ(events.size(), 3u) << ::testing::PrintToString(events);
  // fsync(temporary in the same folder) -> rename(temporary, target) -> fsync(folder)
  const std::string tmp_prefix = (dir.path() / ".out.txt.tmp-").string();
  EXPECT_EQ(events[0].rfind("fsync " + tmp_prefix, 0), 0u) << events[0];
  const std::string tmp = events[0].substr(6);
  EXPECT_EQ(events[1], "rename " + tmp + " " + target.string());
  EXPECT_EQ(events[2], "fsync " + dir.path().string());
}

TEST(WriteFileAtomic, ReplacesAFileWithoutTouchingTheOldOne) {
  ScratchDir dir;
  const fs::path target = dir.path() / "log.csv";
  px::detail::write_file_atomic(target, std::string("old contents\n"), "test");
  // A reader that still has the old file open keeps seeing all of it: the new file is a new
  // inode renamed over the name, not the old one truncated in place.
  const int fd = ::open(target.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  px::detail::write_file_atomic(target, std::string("new\n"), "test");
  char buf[64] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  ::close(fd);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0), "old contents\n");
  EXPECT_EQ(read_file(target), "new\n");
  // Mode as fopen would give it (0666 less the umask), not mkstemp's 0600.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  struct stat st {};
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0666 & ~mask);
}

TEST(WriteFileAtomic, AWriterErrorLeavesTheTargetAndNoTemporary) {
  ScratchDir dir;
  const fs::path target = dir.path() / "keep.txt";
  px::detail::write_file_atomic(target, std::string("precious"), "test");
  EXPECT_THROW(px::detail::write_file_atomic(
                   target, [](const fs::path&) { throw px::Error("writer failed"); }, "test"),
               px::Error);
  EXPECT_EQ(read_file(target), "precious");
  EXPECT_EQ(dir.files(), std::vector<std::string>{"keep.txt"});
}

TEST(WriteFileAtomic, ErrorsGiveTheReason) {
  ScratchDir dir;
  EXPECT_EQ(error_of([&] {
              px::detail::write_file_atomic(dir.path() / "no/such/x.txt", std::string("x"), "me");
            }),
            "me: cannot write \"" + (dir.path() / "no/such/x.txt").string() +
                "\": cannot create a temporary file in \"" + (dir.path() / "no/such").string() +
                "\": No such file or directory");
  // Never replaces something that is not a regular file.
  EXPECT_NE(error_of([&] {
              px::detail::write_file_atomic(dir.path() / "", std::string("x"), "me");
            }).find("not a file name"),
            std::string::npos);
  fs::create_directory(dir.path() / "sub");
  EXPECT_NE(error_of([&] {
              px::detail::write_file_atomic(dir.path() / "sub", std::string("x"), "me");
            }).find("it is a folder"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              px::detail::write_file_atomic("/dev/null", std::string("x"), "me");
            }).find("not a regular file"),
            std::string::npos);
  // A full disk.
  {
    FileSizeLimit limit(10);
    EXPECT_EQ(error_of([&] {
                px::detail::write_file_atomic(dir.path() / "big.txt", std::string(100, 'x'), "me");
              }),
              "me: cannot write \"" + (dir.path() / "big.txt").string() + "\": File too large");
  }
  EXPECT_TRUE(fs::is_directory(dir.path() / "sub"));
  EXPECT_EQ(dir.files(), std::vector<std::string>{"sub"});
}

// ---- CSVLogger -----------------------------------------------------------------------------

TEST(CsvLoggerFiles, OpenErrorsGiveTheReason) {
  auto s = linear();
  const std::string msg = error_of([&] {
    s.model.fit(s.x, s.y,
                {.epochs = 1,
                 .verbose = 0,
                 .callbacks = {px::callbacks::CSVLogger("/nonexistent_dir/log.csv")}});
  });
  EXPECT_NE(msg.find("CSVLogger: cannot write \"/nonexistent_dir/log.csv\""), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("No such file or directory"), std::string::npos) << msg;
}

TEST(CsvLoggerFiles, AFullDiskStopsFitWithAnErrorAndKeepsCompleteRows) {
  ScratchDir dir;
  const fs::path log = dir.path() / "log.csv";
  auto s = linear();
  std::string msg;
  {
    FileSizeLimit limit(200);  // the header and a few rows fit, 50 epochs do not
    msg = error_of([&] {
      s.model.fit(s.x, s.y,
                  {.epochs = 50, .verbose = 0, .callbacks = {px::callbacks::CSVLogger(log)}});
    });
  }
  EXPECT_NE(msg.find("CSVLogger: cannot write \"" + log.string() + "\": File too large"),
            std::string::npos)
      << msg;
  // What is on disk is the last complete log: a header and whole rows, nothing cut.
  const std::string text = read_file(log);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_LE(text.size(), 200u);
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "epoch,loss,mae");
  int rows = 0;
  while (std::getline(lines, line)) {
    EXPECT_EQ(line.rfind(std::to_string(rows) + ",", 0), 0u) << line;
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), 2) << line;
    ++rows;
  }
  EXPECT_GE(rows, 1);
  EXPECT_EQ(dir.files(), std::vector<std::string>{"log.csv"});
}

TEST(CsvLoggerFiles, AppendKeepsEarlierRunsAndDoesNotTruncateInPlace) {
  ScratchDir dir;
  const fs::path log = dir.path() / "log.csv";
  auto s = linear();
  s.model.fit(s.x, s.y, {.epochs = 2, .verbose = 0, .callbacks = {px::callbacks::CSVLogger(log)}});
  const std::string first = read_file(log);
  const int fd = ::open(log.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  s.model.fit(
      s.x, s.y,
      {.epochs = 1, .verbose = 0, .callbacks = {px::callbacks::CSVLogger(log, {.append = true})}});
  // The first run's file, as a reader holding it open sees it, is intact.
  std::string seen(first.size() + 64, '\0');
  const ssize_t n = ::pread(fd, seen.data(), seen.size(), 0);
  ::close(fd);
  seen.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  EXPECT_EQ(seen, first);
  const std::string both = read_file(log);
  EXPECT_EQ(both.rfind(first, 0), 0u);
  EXPECT_EQ(std::count(both.begin(), both.end(), '\n'), 4);  // header + 2 rows + 1 row
}

// ---- plot_model and plot_history -------------------------------------------------------------

TEST(PlotFiles, PlotModelOnAFullDiskReportsTheWriteNotASyntaxError) {
  if (!have("dot")) GTEST_SKIP() << "Graphviz dot is not installed";
  ScratchDir dir;
  auto s = linear();
  const fs::path png = dir.path() / "model.png";
  std::string msg;
  {
    FileSizeLimit limit(1024);
    msg = error_of([&] { px::utils::plot_model(s.model, png.string(), {.show_shapes = true}); });
  }
  EXPECT_EQ(msg.rfind("plot_model: Graphviz \"dot -Tpng\" failed to write \"" + png.string(), 0),
            0u)
      << msg;
  EXPECT_EQ(msg.find("syntax error"), std::string::npos) << msg;
  EXPECT_TRUE(dir.files().empty());
}

TEST(PlotFiles, AMissingTmpdirDoesNotMatter) {
  ScratchDir dir;
  EnvGuard tmpdir("TMPDIR", "/nonexistent_tmpdir_for_plexus");
  auto s = linear();
  if (have("dot")) {
    EXPECT_EQ(error_of([&] { px::utils::plot_model(s.model, (dir.path() / "m.png").string()); }),
              "<no exception>");
  }
  EXPECT_EQ(
      error_of([&] { px::utils::plot_history(small_history(), (dir.path() / "c.svg").string()); }),
      "<no exception>");
  if (have("rsvg-convert")) {
    EXPECT_EQ(error_of([&] {
                px::utils::plot_history(small_history(), (dir.path() / "c.png").string());
              }),
              "<no exception>");
  }
  for (const auto& f : dir.files()) EXPECT_GT(fs::file_size(dir.path() / f), 100u) << f;
}

TEST(PlotFiles, PlotHistoryOnAFullDiskIsAnErrorAndLeavesNothing) {
  ScratchDir dir;
  {
    FileSizeLimit limit(512);
    const std::string svg = (dir.path() / "c.svg").string();
    EXPECT_EQ(error_of([&] { px::utils::plot_history(small_history(), svg); }),
              "plot_history: cannot write \"" + svg + "\": File too large");
    if (have("rsvg-convert")) {
      const std::string png = (dir.path() / "c.png").string();
      EXPECT_NE(error_of([&] {
                  px::utils::plot_history(small_history(), png);
                }).find("plot_history: rsvg-convert failed to write \"" + png + "\""),
                std::string::npos);
    }
  }
  EXPECT_TRUE(dir.files().empty());
}
