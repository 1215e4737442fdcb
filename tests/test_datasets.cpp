// Datasets and data utilities: IDX and CSV readers, MNIST loading and downloading,
// get_file's checksummed cache, to_categorical, train_test_split.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include "core/data_utils.hpp"
#include "core/datasets.hpp"
#include "core/download.hpp"
#include "core/error.hpp"
#include "core/random.hpp"

extern char** environ;

namespace px = plexus;
namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------- helpers

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "plexus_datasets_XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Sets (or, with nullopt, unsets) an environment variable for the scope.
class EnvGuard {
 public:
  EnvGuard(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  ~EnvGuard() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

void write_file(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void write_gz(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

std::string read_whole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void put_be32(std::string& s, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s += static_cast<char>((v >> shift) & 0xff);
}

// An IDX file: magic, dims, then the payload as given.
std::string idx_bytes(std::uint32_t magic, const std::vector<std::uint32_t>& dims,
                      const std::string& payload) {
  std::string s;
  put_be32(s, magic);
  for (auto d : dims) put_be32(s, d);
  return s + payload;
}

// n images of h x w with pixel (i, r, c) = (i * 7 + r * w + c) % 256, and labels i % 10.
std::string image_payload(std::uint32_t n, std::uint32_t h, std::uint32_t w) {
  std::string s;
  for (std::uint32_t i = 0; i < n; ++i)
    for (std::uint32_t p = 0; p < h * w; ++p) s += static_cast<char>((i * 7 + p) % 256);
  return s;
}
std::string label_payload(std::uint32_t n) {
  std::string s;
  for (std::uint32_t i = 0; i < n; ++i) s += static_cast<char>(i % 10);
  return s;
}

// A small MNIST-shaped set: 6 train and 4 test images of 5 x 3.
void write_small_mnist(const fs::path& dir, bool gz_train_images, bool gz_train_labels) {
  const auto images = [](std::uint32_t n) {
    return idx_bytes(2051, {n, 5, 3}, image_payload(n, 5, 3));
  };
  const auto labels = [](std::uint32_t n) { return idx_bytes(2049, {n}, label_payload(n)); };
  if (gz_train_images) {
    write_gz(dir / "train-images-idx3-ubyte.gz", images(6));
  } else {
    write_file(dir / "train-images-idx3-ubyte", images(6));
  }
  if (gz_train_labels) {
    write_gz(dir / "train-labels-idx1-ubyte.gz", labels(6));
  } else {
    write_file(dir / "train-labels-idx1-ubyte", labels(6));
  }
  write_gz(dir / "t10k-images-idx3-ubyte.gz", images(4));
  write_file(dir / "t10k-labels-idx1-ubyte", labels(4));
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const px::Error& e) {
    return e.what();
  }
  return "<no px::Error thrown>";
}

// Every regular file under dir (recursively).
std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  return out;
}

// `python3 -m http.server` on 127.0.0.1 serving a folder, for the lifetime of the object.
class LocalHttpServer {
 public:
  explicit LocalHttpServer(const fs::path& dir) {
    port_ = free_port();
    const std::string port = std::to_string(port_);
    const std::string folder = dir.string();
    std::vector<const char*> argv = {"python3",     "-m",           "http.server",
                                     "--bind",      "127.0.0.1",    port.c_str(),
                                     "--directory", folder.c_str(), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    const int rc = posix_spawnp(&pid_, "python3", &actions, nullptr,
                                const_cast<char* const*>(argv.data()), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      return;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: no usable python3
        pid_ = -1;
        return;
      }
      if (can_connect()) {
        ready_ = true;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~LocalHttpServer() { stop(); }
  void stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    ready_ = false;
  }
  bool ready() const { return ready_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  static int free_port() {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
    close(s);
    return ntohs(addr.sin_port);
  }
  bool can_connect() const {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    const bool ok = connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(s);
    return ok;
  }

  pid_t pid_ = -1;
  int port_ = 0;
  bool ready_ = false;
};

#define START_SERVER_OR_SKIP(server)                                        \
  if (!(server).ready()) {                                                  \
    GTEST_SKIP() << "python3 is not available to run a local HTTP server "  \
                    "(python3 -m http.server); the download tests need it"; \
  }

std::optional<fs::path> plexus_data() {
  const char* d = std::getenv("PLEXUS_DATA");
  if (!d || !*d) return std::nullopt;
  return fs::path(d);
}

#define REQUIRE_PLEXUS_DATA(var)                                                        \
  const auto var##_opt = plexus_data();                                                 \
  if (!var##_opt) {                                                                     \
    GTEST_SKIP() << "PLEXUS_DATA is not set: point it to the shared data folder (with " \
                    "mnist/, fashion_mnist/, iris/, ...) to run the real-data tests";   \
  }                                                                                     \
  const fs::path var = *var##_opt

// ---------------------------------------------------------------- SHA-256

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(px::utils::sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(px::utils::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(px::utils::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(px::utils::sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  TempDir tmp;
  write_file(tmp.path() / "f", std::string(100000, 'a') + "xyz");
  EXPECT_EQ(px::utils::sha256_file(tmp.path() / "f"),
            px::utils::sha256_hex(std::string(100000, 'a') + "xyz"));
}

// ---------------------------------------------------------------- IDX and MNIST files

TEST(Idx, RoundTripPlainAndGzipped) {
  for (const bool gz : {false, true}) {
    TempDir tmp;
    write_small_mnist(tmp.path(), gz, !gz);
    auto [train, test] = px::datasets::mnist::load_data(tmp.path());
    ASSERT_EQ(px::shape_of(train.x), (px::Shape{6, 5, 3}));
    ASSERT_EQ(px::shape_of(train.y), (px::Shape{6}));
    ASSERT_EQ(px::shape_of(test.x), (px::Shape{4, 5, 3}));
    ASSERT_EQ(px::shape_of(test.y), (px::Shape{4}));
    for (std::size_t i = 0; i < 6; ++i) {
      EXPECT_EQ(train.y(i), static_cast<float>(i % 10));
      for (std::size_t r = 0; r < 5; ++r)
        for (std::size_t c = 0; c < 3; ++c)
          EXPECT_EQ(train.x(i, r, c), static_cast<float>((i * 7 + r * 3 + c) % 256));
    }
    EXPECT_EQ(test.x(3, 4, 2), static_cast<float>((3 * 7 + 14) % 256));
    auto [x, y] = test;  // a Split binds as (x, y) too
    EXPECT_EQ(x.shape()[0], y.shape()[0]);
  }
}

TEST(Idx, FindsFilesInDatasetSubfolderAndFashion) {
  TempDir tmp;
  write_small_mnist(tmp.path() / "fashion_mnist", true, true);
  auto [train, test] = px::datasets::fashion_mnist::load_data(tmp.path());
  EXPECT_EQ(px::shape_of(train.x), (px::Shape{6, 5, 3}));
  EXPECT_EQ(px::shape_of(test.y), (px::Shape{4}));
  EXPECT_EQ(px::datasets::fashion_mnist::class_names[9], "Ankle boot");
}

TEST(Idx, ReadsOtherElementTypes) {
  TempDir tmp;
  std::string payload;
  for (float v : {1.5f, -2.0f, 3.25f, 0.0f, 1e6f, -7.0f}) {
    std::uint32_t bits;
    std::memcpy(&bits, &v, 4);
    put_be32(payload, bits);
  }
  write_file(tmp.path() / "f.idx", idx_bytes(0x00000D02, {2, 3}, payload));
  px::Tensor t = px::datasets::read_idx(tmp.path() / "f.idx");
  ASSERT_EQ(px::shape_of(t), (px::Shape{2, 3}));
  EXPECT_EQ(t(0, 0), 1.5f);
  EXPECT_EQ(t(0, 1), -2.0f);
  EXPECT_EQ(t(1, 1), 1e6f);
  EXPECT_EQ(t(1, 2), -7.0f);
  std::string shorts;
  for (std::uint32_t v : {0xFFFFu, 0x0102u}) {
    shorts += static_cast<char>(v >> 8);
    shorts += static_cast<char>(v & 0xff);
  }
  write_file(tmp.path() / "s.idx", idx_bytes(0x00000B01, {2}, shorts));
  px::Tensor s = px::datasets::read_idx(tmp.path() / "s.idx");
  EXPECT_EQ(s(0), -1.0f);
  EXPECT_EQ(s(1), 258.0f);
}

TEST(Idx, TruncatedFile) {
  TempDir tmp;
  write_small_mnist(tmp.path(), false, false);
  const fs::path images = tmp.path() / "train-images-idx3-ubyte";
  std::string bytes = read_whole(images);
  write_file(images, bytes.substr(0, bytes.size() - 10));
  const std::string msg = error_of([&] { px::datasets::mnist::load_data(tmp.path()); });
  EXPECT_EQ(msg, images.string() +
                     ": truncated IDX file: expected 106 bytes (16-byte header + 6 x 5 x 3 bytes), "
                     "got 96");
  // a file cut inside its header
  write_file(images, bytes.substr(0, 9));
  EXPECT_NE(error_of([&] {
              px::datasets::mnist::load_data(tmp.path());
            }).find("truncated IDX file: expected a 16-byte header for 3 dimensions, got 9 bytes"),
            std::string::npos);
  // and one with bytes after the data
  write_file(images, bytes + "xx");
  EXPECT_NE(error_of([&] { px::datasets::mnist::load_data(tmp.path()); })
                .find("over-long IDX file: expected 106 bytes (16-byte header + 6 x 5 x 3 bytes), "
                      "got 108"),
            std::string::npos);
}

TEST(Idx, WrongMagic) {
  TempDir tmp;
  write_small_mnist(tmp.path(), false, false);
  const fs::path labels = tmp.path() / "train-labels-idx1-ubyte";
  write_file(labels, idx_bytes(2051, {6, 1, 1}, label_payload(6)));
  EXPECT_EQ(error_of([&] { px::datasets::mnist::load_data(tmp.path()); }),
            labels.string() +
                ": wrong IDX magic number: expected 2049 (1-D unsigned byte), got 2051 "
                "(3-D unsigned byte)");
  // Not an IDX file at all, e.g. an HTML error page saved under the IDX name.
  write_file(labels, "<html>not found</html>");
  EXPECT_NE(error_of([&] { px::datasets::mnist::load_data(tmp.path()); })
                .find("wrong IDX magic number: expected 2049 (1-D unsigned byte), got 1013478509 "
                      "(not an IDX header)"),
            std::string::npos);
  EXPECT_NE(error_of([&] { px::datasets::read_idx(labels); }).find("not an IDX file"),
            std::string::npos);
}

TEST(Idx, MismatchedCounts) {
  TempDir tmp;
  write_small_mnist(tmp.path(), false, false);
  write_file(tmp.path() / "train-labels-idx1-ubyte", idx_bytes(2049, {5}, label_payload(5)));
  EXPECT_EQ(error_of([&] { px::datasets::mnist::load_data(tmp.path()); }),
            "MNIST: " + (tmp.path() / "train-labels-idx1-ubyte").string() + " holds 5 labels but " +
                (tmp.path() / "train-images-idx3-ubyte").string() + " holds 6 images");
}

TEST(Idx, LabelOutOfRange) {
  TempDir tmp;
  write_small_mnist(tmp.path(), false, false);
  write_file(tmp.path() / "t10k-labels-idx1-ubyte",
             idx_bytes(2049, {4}, std::string("\0\1\14\3", 4)));
  EXPECT_EQ(error_of([&] { px::datasets::mnist::load_data(tmp.path()); }),
            (tmp.path() / "t10k-labels-idx1-ubyte").string() +
                ": label 12 at index 2 is out of range 0..9");
}

TEST(Idx, CorruptAndTruncatedGzip) {
  TempDir tmp;
  write_small_mnist(tmp.path(), true, true);
  const fs::path images = tmp.path() / "train-images-idx3-ubyte.gz";
  const std::string good = read_whole(images);
  std::string bad = good;
  bad[bad.size() - 6] ^= 0x55;  // inside the CRC-32 trailer
  write_file(images, bad);
  EXPECT_EQ(error_of([&] { px::datasets::mnist::load_data(tmp.path()); }),
            images.string() + ": gzip data is corrupt: incorrect data check");
  write_file(images, good.substr(0, good.size() / 2));
  EXPECT_EQ(error_of([&] { px::datasets::mnist::load_data(tmp.path()); }),
            images.string() + ": gzip data is truncated: the compressed stream ends after " +
                std::to_string(good.size() / 2) + " bytes");
}

TEST(Idx, MissingFileSaysWhereItLooked) {
  TempDir tmp;
  const std::string msg = error_of([&] { px::datasets::mnist::load_data(tmp.path()); });
  EXPECT_EQ(msg,
            "MNIST: cannot find train-images-idx3-ubyte.gz (or train-images-idx3-ubyte); "
            "looked in " +
                tmp.path().string() + ", " + (tmp.path() / "mnist").string() +
                ". Set PLEXUS_DATA (or an app's --data option) to a folder holding the MNIST "
                "IDX files, directly or in a mnist/ subfolder.");

  // Without a folder: PLEXUS_DATA, then the cache; download switched off.
  TempDir data, cache;
  EnvGuard env("PLEXUS_DATA", data.path().string());
  const std::string msg2 = error_of([&] {
    px::datasets::fashion_mnist::load_data({.cache_dir = cache.path(), .download = false});
  });
  EXPECT_NE(msg2.find("Fashion-MNIST: cannot find train-images-idx3-ubyte.gz"), std::string::npos);
  EXPECT_NE(msg2.find((data.path() / "fashion_mnist").string() + ", " + data.path().string() +
                      ", " + (cache.path() / "datasets" / "fashion_mnist").string()),
            std::string::npos)
      << msg2;
}

// ---------------------------------------------------------------- CSV

TEST(Csv, ReadsNumbersAndSkipsBlankLines) {
  TempDir tmp;
  write_file(tmp.path() / "a.csv", "\n1,2,3\r\n\n 4 , -5.5,6e2\n   \n+7,.5,-0\n\n");
  px::Tensor t = px::datasets::load_csv(tmp.path() / "a.csv");
  ASSERT_EQ(px::shape_of(t), (px::Shape{3, 3}));
  EXPECT_EQ(t(0, 0), 1.0f);
  EXPECT_EQ(t(1, 1), -5.5f);
  EXPECT_EQ(t(1, 2), 600.0f);
  EXPECT_EQ(t(2, 0), 7.0f);
  EXPECT_EQ(t(2, 1), 0.5f);
  // gzipped works the same
  write_gz(tmp.path() / "a.csv.gz", "1,2\n3,4\n");
  EXPECT_EQ(px::shape_of(px::datasets::load_csv(tmp.path() / "a.csv.gz")), (px::Shape{2, 2}));
}

TEST(Csv, WhitespaceSeparated) {
  TempDir tmp;
  write_file(tmp.path() / "h.csv", " 0.00632  18.00   2.310  0  24.00\n\t1  2\t\t3 4   5  \n");
  px::Tensor t = px::datasets::load_csv(tmp.path() / "h.csv", {.delimiter = ' '});
  ASSERT_EQ(px::shape_of(t), (px::Shape{2, 5}));
  EXPECT_FLOAT_EQ(t(0, 0), 0.00632f);
  EXPECT_EQ(t(0, 4), 24.0f);
  EXPECT_EQ(t(1, 2), 3.0f);
  // other delimiters are literal
  write_file(tmp.path() / "s.csv", "1;2\n3;4\n");
  EXPECT_EQ(px::datasets::load_csv(tmp.path() / "s.csv", {.delimiter = ';'})(1, 1), 4.0f);
}

TEST(Csv, TextGivesLineAndColumn) {
  TempDir tmp;
  const fs::path p = tmp.path() / "iris.csv";
  write_file(p, "5.1,3.5,1.4,0.2,Iris-setosa\n4.9,3.0,1.4,0.2,Iris-setosa\n\n");
  EXPECT_EQ(error_of([&] { px::datasets::load_csv(p); }),
            p.string() + ":1: column 5: \"Iris-setosa\" is not a number");
  // usecols leaves the text column out (and a negative index counts from the end)
  px::Tensor t = px::datasets::load_csv(p, {.usecols = {0, 1, 2, 3}});
  ASSERT_EQ(px::shape_of(t), (px::Shape{2, 4}));
  EXPECT_EQ(t(1, 1), 3.0f);
  px::Tensor last = px::datasets::load_csv(p, {.usecols = {-2}});
  EXPECT_EQ(px::shape_of(last), (px::Shape{2, 1}));
  EXPECT_FLOAT_EQ(last(0, 0), 0.2f);
  EXPECT_EQ(error_of([&] { px::datasets::load_csv(p, {.usecols = {5}}); }),
            p.string() + ":1: usecols index 5 is out of range for 5 columns");
}

TEST(Csv, HeaderRaggedEmptyAndBadFields) {
  TempDir tmp;
  const fs::path p = tmp.path() / "t.csv";
  write_file(p, "a,b,c\n1,2,3\n4,5,6\n");
  EXPECT_EQ(error_of([&] { px::datasets::load_csv(p); }),
            p.string() +
                ":1: column 1: \"a\" is not a number (if line 1 is a header, pass .skip_rows = 1)");
  EXPECT_EQ(px::shape_of(px::datasets::load_csv(p, {.skip_rows = 1})), (px::Shape{2, 3}));

  write_file(p, "1,2,3\n\n4,5\n");
  EXPECT_EQ(error_of([&] { px::datasets::load_csv(p); }),
            p.string() + ":3: expected 3 columns (as on line 1), got 2");
  write_file(p, "1,2,3\n4,,6\n");
  EXPECT_EQ(error_of([&] { px::datasets::load_csv(p); }),
            p.string() + ":2: column 2: empty field, expected a number");
  write_file(p, "1,2,3\n4,5x,6\n");
  EXPECT_EQ(error_of([&] { px::datasets::load_csv(p); }),
            p.string() + ":2: column 2: \"5x\" is not a number");
  write_file(p, "0.5  18.00   2.310\n");
  EXPECT_EQ(error_of([&] { px::datasets::load_csv(p); }),
            p.string() +
                ":1: column 1: \"0.5  18.00   2.310\" is not a number (the line looks "
                "whitespace-separated: pass .delimiter = ' ')");
  write_file(p, "1;2;3\n");
  EXPECT_EQ(error_of([&] { px::datasets::load_csv(p); }),
            p.string() +
                ":1: column 1: \"1;2;3\" is not a number (the line looks separated by "
                "';': pass .delimiter = ';')");
  write_file(p, "1,1e99\n");
  EXPECT_EQ(error_of([&] { px::datasets::load_csv(p); }),
            p.string() + ":1: column 2: \"1e99\" is out of the float range");
  write_file(p, "\n  \n");
  EXPECT_EQ(error_of([&] { px::datasets::load_csv(p); }),
            p.string() + ": no data rows (the file is empty or holds only blank lines)");
  const fs::path missing = tmp.path() / "missing.csv";
  EXPECT_EQ(error_of([&] { px::datasets::load_csv(missing); }),
            "cannot open " + missing.string() + ": No such file or directory");
}

TEST(Csv, RealFiles) {
  REQUIRE_PLEXUS_DATA(data);
  px::Tensor pima = px::datasets::load_csv(data / "pima" / "pima-indians-diabetes.csv");
  EXPECT_EQ(px::shape_of(pima), (px::Shape{768, 9}));
  EXPECT_EQ(xt::sum(xt::view(pima, xt::all(), 8))(), 268.0f);
  px::Tensor thoracic = px::datasets::load_csv(data / "thoracic" / "ThoraricSurgery.csv");
  EXPECT_EQ(px::shape_of(thoracic), (px::Shape{470, 18}));
  px::Tensor housing = px::datasets::load_csv(data / "housing" / "housing.csv", {.delimiter = ' '});
  EXPECT_EQ(px::shape_of(housing), (px::Shape{506, 14}));
  EXPECT_EQ(xt::amax(xt::view(housing, xt::all(), 13))(), 50.0f);
  const fs::path iris = data / "iris" / "iris.csv";
  EXPECT_EQ(error_of([&] { px::datasets::load_csv(iris); }),
            iris.string() + ":1: column 5: \"Iris-setosa\" is not a number");
  EXPECT_EQ(px::shape_of(px::datasets::load_csv(iris, {.usecols = {0, 1, 2, 3}})),
            (px::Shape{150, 4}));
}

// ---------------------------------------------------------------- downloads

TEST(Download, GetFileVerifiesAndCaches) {
  TempDir served, cache;
  const std::string body = std::string(200000, 'q') + "payload";
  write_file(served.path() / "blob.bin", body);
  LocalHttpServer server(served.path());
  START_SERVER_OR_SKIP(server);

  const std::string hash = px::utils::sha256_hex(body);
  const fs::path got = px::utils::get_file("blob.bin", server.url() + "blob.bin",
                                           {.file_hash = hash, .cache_dir = cache.path()});
  EXPECT_EQ(got, cache.path() / "datasets" / "blob.bin");
  EXPECT_EQ(read_whole(got), body);
  EXPECT_EQ(files_under(cache.path()), std::vector<fs::path>{got});  // no temporary left

  // Cached: no network needed the second time.
  server.stop();
  EXPECT_EQ(px::utils::get_file("blob.bin", server.url() + "blob.bin",
                                {.file_hash = hash, .cache_dir = cache.path()}),
            got);
  // Forcing a download with the server gone fails and keeps the cached copy intact.
  const std::string msg = error_of([&] {
    px::utils::get_file("blob.bin", server.url() + "blob.bin",
                        {.cache_dir = cache.path(), .force_download = true});
  });
  EXPECT_NE(msg.find("downloading " + server.url() + "blob.bin failed:"), std::string::npos) << msg;
  EXPECT_EQ(read_whole(got), body);
  EXPECT_EQ(files_under(cache.path()).size(), 1u);
}

TEST(Download, BadChecksumLeavesNothingBehind) {
  TempDir served, cache;
  write_file(served.path() / "blob.bin", "not what you expected");
  LocalHttpServer server(served.path());
  START_SERVER_OR_SKIP(server);
  const std::string wrong(64, '0');
  const std::string url = server.url() + "blob.bin";
  EXPECT_EQ(error_of([&] {
              px::utils::get_file("blob.bin", url, {.file_hash = wrong, .cache_dir = cache.path()});
            }),
            "checksum mismatch for " + url + ": expected sha256 " + wrong + ", got " +
                px::utils::sha256_hex(std::string("not what you expected")) +
                "; the download was discarded (nothing was written to " +
                (cache.path() / "datasets" / "blob.bin").string() + ")");
  EXPECT_TRUE(files_under(cache.path()).empty());

  // HTTP errors are reported with the URL, and leave nothing either.
  const std::string msg = error_of([&] {
    px::utils::get_file("nope.bin", server.url() + "nope.bin", {.cache_dir = cache.path()});
  });
  EXPECT_NE(msg.find("downloading " + server.url() + "nope.bin failed: "), std::string::npos);
  EXPECT_NE(msg.find("404"), std::string::npos) << msg;
  EXPECT_TRUE(files_under(cache.path()).empty());
}

TEST(Download, MnistRejectsWrongFileFromMirror) {
  // A mirror (PLEXUS_DATASETS_URL/<name>/) serving a file that is not the real MNIST one.
  TempDir served, cache, empty_data;
  write_gz(served.path() / "mnist" / "train-images-idx3-ubyte.gz",
           idx_bytes(2051, {1, 2, 2}, "abcd"));
  LocalHttpServer server(served.path());
  START_SERVER_OR_SKIP(server);
  EnvGuard data("PLEXUS_DATA", std::nullopt);
  EnvGuard url("PLEXUS_DATASETS_URL", server.url());
  const std::string msg =
      error_of([&] { px::datasets::mnist::load_data({.cache_dir = cache.path()}); });
  EXPECT_NE(msg.find("MNIST: cannot find train-images-idx3-ubyte.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("checksum mismatch for " + server.url() +
                     "mnist/train-images-idx3-ubyte.gz: expected sha256 "
                     "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
            std::string::npos)
      << msg;
  EXPECT_TRUE(files_under(cache.path()).empty());
}

TEST(Download, MnistAndFashionFromLocalMirror) {
  REQUIRE_PLEXUS_DATA(data);
  LocalHttpServer server(data);
  START_SERVER_OR_SKIP(server);
  TempDir cache;
  EnvGuard no_data("PLEXUS_DATA", std::nullopt);
  {
    auto [train, test] = px::datasets::mnist::load_data(
        {.cache_dir = cache.path(), .base_url = server.url() + "mnist"});
    EXPECT_EQ(px::shape_of(train.x), (px::Shape{60000, 28, 28}));
    EXPECT_EQ(train.y(0), 5.0f);
    EXPECT_EQ(px::shape_of(test.y), (px::Shape{10000}));
  }
  {
    EnvGuard url("PLEXUS_DATASETS_URL", server.url());
    auto [train, test] = px::datasets::fashion_mnist::load_data({.cache_dir = cache.path()});
    EXPECT_EQ(px::shape_of(train.x), (px::Shape{60000, 28, 28}));
    EXPECT_EQ(px::shape_of(test.x), (px::Shape{10000, 28, 28}));
  }
  // Exactly the eight verified .gz files are cached, nothing half-written.
  auto cached = files_under(cache.path());
  ASSERT_EQ(cached.size(), 8u);
  for (const auto& f : cached) {
    const fs::path rel = fs::relative(f, cache.path() / "datasets");
    EXPECT_EQ(px::utils::sha256_file(f), px::utils::sha256_file(data / rel)) << rel;
  }
  // A second load needs no server.
  server.stop();
  auto [train, test] = px::datasets::mnist::load_data({.cache_dir = cache.path()});
  EXPECT_EQ(test.y(0), 7.0f);
}

// ---------------------------------------------------------------- real MNIST

TEST(Mnist, RealDataFromPlexusData) {
  REQUIRE_PLEXUS_DATA(data);
  auto [train, test] = px::datasets::mnist::load_data();
  ASSERT_EQ(px::shape_of(train.x), (px::Shape{60000, 28, 28}));
  ASSERT_EQ(px::shape_of(train.y), (px::Shape{60000}));
  ASSERT_EQ(px::shape_of(test.x), (px::Shape{10000, 28, 28}));
  ASSERT_EQ(px::shape_of(test.y), (px::Shape{10000}));
  EXPECT_EQ(train.y(0), 5.0f);
  EXPECT_EQ(test.y(0), 7.0f);
  EXPECT_EQ(xt::amax(train.x)(), 255.0f);
  EXPECT_EQ(xt::amin(train.x)(), 0.0f);
  auto [ftrain, ftest] = px::datasets::fashion_mnist::load_data(data);
  EXPECT_EQ(px::shape_of(ftrain.x), (px::Shape{60000, 28, 28}));
  EXPECT_EQ(ftrain.y(0), 9.0f);  // Ankle boot
  EXPECT_EQ(px::shape_of(ftest.y), (px::Shape{10000}));
}

// ---------------------------------------------------------------- to_categorical

TEST(ToCategorical, OneHot) {
  px::Tensor y = {2.0f, 0.0f, 1.0f};
  px::Tensor c = px::utils::to_categorical(y);
  px::Tensor expected = px::Tensor::from_shape({3, 3});
  expected.fill(0.0f);
  expected(0, 2) = expected(1, 0) = expected(2, 1) = 1.0f;
  EXPECT_EQ(c, expected);
  px::Tensor c5 = px::utils::to_categorical(y, 5);
  EXPECT_EQ(px::shape_of(c5), (px::Shape{3, 5}));
  EXPECT_EQ(c5(0, 2), 1.0f);
  // (n, 1) labels lose the trailing 1, as in Keras; other ranks keep their shape
  px::Tensor col = px::Tensor::from_shape({2, 1});
  col(0, 0) = 1.0f;
  col(1, 0) = 3.0f;
  EXPECT_EQ(px::shape_of(px::utils::to_categorical(col)), (px::Shape{2, 4}));
  px::Tensor grid = {{1.0f, 0.0f}, {0.0f, 1.0f}};
  EXPECT_EQ(px::shape_of(px::utils::to_categorical(grid)), (px::Shape{2, 2, 2}));
}

TEST(ToCategorical, BadLabels) {
  EXPECT_EQ(error_of([] {
              px::utils::to_categorical(px::Tensor{1.0f, -1.0f});
            }),
            "to_categorical: label -1 at index 1 is negative");
  EXPECT_EQ(error_of([] { px::utils::to_categorical(px::Tensor{1.5f}); }),
            "to_categorical: label 1.5 at index 0 is not an integer class id");
  EXPECT_EQ(error_of([] {
              px::utils::to_categorical(px::Tensor{1.0f, 10.0f}, 10);
            }),
            "to_categorical: label 10 at index 1 is out of range for num_classes=10");
  EXPECT_NE(error_of([] { px::utils::to_categorical(px::Tensor{NAN}); }).find("not an integer"),
            std::string::npos);
}

// ---------------------------------------------------------------- train_test_split

TEST(TrainTestSplit, ShapesAndRowsStayTogether) {
  px::Tensor x = px::Tensor::from_shape({10, 2, 3});
  px::Tensor y = px::Tensor::from_shape({10});
  for (std::size_t i = 0; i < 10; ++i) {
    y(i) = static_cast<float>(i);
    for (std::size_t j = 0; j < 6; ++j) x.data()[i * 6 + j] = static_cast<float>(i * 100 + j);
  }
  auto s = px::utils::train_test_split(x, y, {.test_size = 0.25, .random_state = 42});
  EXPECT_EQ(px::shape_of(s.x_train), (px::Shape{7, 2, 3}));  // ceil(2.5) = 3 test samples
  EXPECT_EQ(px::shape_of(s.x_test), (px::Shape{3, 2, 3}));
  EXPECT_EQ(px::shape_of(s.y_train), (px::Shape{7}));
  EXPECT_EQ(px::shape_of(s.y_test), (px::Shape{3}));
  std::vector<int> seen(10, 0);
  for (std::size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(s.x_train(i, 1, 2), s.y_train(i) * 100 + 5);
    seen[static_cast<std::size_t>(s.y_train(i))]++;
  }
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(s.x_test(i, 0, 0), s.y_test(i) * 100);
    seen[static_cast<std::size_t>(s.y_test(i))]++;
  }
  EXPECT_EQ(seen, std::vector<int>(10, 1));
  auto counted = px::utils::train_test_split(x, y, {.test_size = 4});
  EXPECT_EQ(counted.y_test.size(), 4u);
}

TEST(TrainTestSplit, Deterministic) {
  px::Tensor x = px::Tensor::from_shape({50, 3});
  px::Tensor y = px::Tensor::from_shape({50});
  for (std::size_t i = 0; i < 50; ++i) y(i) = static_cast<float>(i);
  x.fill(1.0f);
  auto a = px::utils::train_test_split(x, y, {.test_size = 0.2, .random_state = 7});
  auto b = px::utils::train_test_split(x, y, {.test_size = 0.2, .random_state = 7});
  auto c = px::utils::train_test_split(x, y, {.test_size = 0.2, .random_state = 8});
  EXPECT_EQ(a.y_test, b.y_test);
  EXPECT_EQ(a.y_train, b.y_train);
  EXPECT_NE(a.y_test, c.y_test);
  // random_state < 0 draws from the library generator: set_random_seed makes it repeatable
  px::utils::set_random_seed(3);
  auto d = px::utils::train_test_split(x, y);
  px::utils::set_random_seed(3);
  auto e = px::utils::train_test_split(x, y);
  EXPECT_EQ(d.y_test, e.y_test);
  EXPECT_EQ(d.y_test.size(), 13u);  // ceil(0.25 * 50)
  // without shuffling the test set is the tail, in order
  auto f = px::utils::train_test_split(x, y, {.test_size = 0.1, .shuffle = false});
  EXPECT_EQ(f.y_test, (px::Tensor{45.0f, 46.0f, 47.0f, 48.0f, 49.0f}));
  EXPECT_EQ(f.y_train(0), 0.0f);
  EXPECT_EQ(f.y_train(44), 44.0f);
}

TEST(TrainTestSplit, Errors) {
  px::Tensor x = px::Tensor::from_shape({4, 2});
  px::Tensor y = px::Tensor::from_shape({3});
  EXPECT_EQ(error_of([&] { px::utils::train_test_split(x, y); }),
            "train_test_split: x and y must have the same number of samples, got x (4, 2) and y "
            "(3,)");
  px::Tensor y4 = px::Tensor::from_shape({4});
  EXPECT_NE(error_of([&] {
              px::utils::train_test_split(x, y4, {.test_size = 1.5});
            }).find("test_size must be a fraction in (0, 1) or a whole number"),
            std::string::npos);
  EXPECT_EQ(error_of([&] { px::utils::train_test_split(x, y4, {.test_size = 4}); }),
            "train_test_split: with 4 samples and test_size=4, the train set would be empty");
}

}  // namespace

// ---------------------------------------------------------------- hostile files (issue 12)

namespace {

// A gzip member holding `bytes` (zlib's gzip wrapper).
std::string gzip_member(const std::string& bytes) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, bytes.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// `head` followed by `mib` MiB of zeros, as about mib KiB of gzip: one member per MiB of
// zeros, back to back (gzip's concatenated members are one stream), so the bomb is built
// in milliseconds and never held inflated by the test.
std::string gzip_bomb(const std::string& head, std::size_t mib) {
  std::string out = gzip_member(head);
  const std::string zeros = gzip_member(std::string(1 << 20, '\0'));
  for (std::size_t i = 0; i < mib; ++i) out += zeros;
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST(Idx, ZeroDimensionWithHugeOthersIsAnError) {
  // dims (0, 4294967295, 4294967295): 0 bytes of data, so the old size check passed and the
  // tensor's stride computation overflowed (signed overflow, undefined behaviour).
  TempDir tmp;
  const fs::path p = tmp.path() / "zero.idx";
  write_file(p,
             std::string("\x00\x00\x08\x03\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff", 16));
  EXPECT_EQ(error_of([&] { px::datasets::read_idx(p); }),
            p.string() + ": IDX header sizes 0 x 4294967295 x 4294967295 are too large");
  write_gz(tmp.path() / "zero.idx.gz", read_whole(p));
  EXPECT_NE(
      error_of([&] { px::datasets::read_idx(tmp.path() / "zero.idx.gz"); }).find("are too large"),
      std::string::npos);
  // A zero dimension with sizes that fit is an empty tensor, as numpy gives.
  write_file(p, idx_bytes(0x00000803, {0, 28, 28}, ""));
  EXPECT_EQ(px::shape_of(px::datasets::read_idx(p)), (px::Shape{0, 28, 28}));
}

TEST(Idx, GzipBombIsRejectedAfterTheHeaderWithoutInflatingIt) {
  // A valid 1-element IDX file followed by 1 GiB of zeros in about 1 MB of gzip: the old
  // reader inflated all of it (1.2 GB RSS, 27 s) before looking at the header.
  TempDir tmp;
  const fs::path p = tmp.path() / "bomb-idx1-ubyte.gz";
  write_file(p, gzip_bomb(idx_bytes(0x00000801, {1}, "\x07"), 1024));
  EXPECT_LT(fs::file_size(p), 2u << 20);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(
      error_of([&] { px::datasets::read_idx(p); }),
      p.string() +
          ": over-long IDX file: expected 9 bytes (8-byte header + 1 bytes), got more than 9");
  EXPECT_LT(seconds_since(t0), 2.0);  // stops at the first byte past the stated size
}

TEST(Idx, GzipHeaderClaimingMoreThanItHoldsCostsOnlyWhatItHolds) {
  // 1 GiB claimed (8 x 2^27 bytes), 100 bytes present: the body buffer grows with the data
  // that arrives, so this is a quick "truncated" error, not a 1 GiB allocation.
  TempDir tmp;
  const fs::path p = tmp.path() / "liar.gz";
  write_gz(p, idx_bytes(0x00000802, {8, 1u << 27}, std::string(100, 'x')));
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  EXPECT_EQ(error_of([&] { px::datasets::read_idx(p); }),
            p.string() +
                ": truncated IDX file: expected 1073741836 bytes (12-byte header + 8 x 134217728 "
                "bytes), got 112");
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 200 * 1024);  // KiB: far below 1 GiB
}

TEST(Csv, GzipBombStopsAtTheCap) {
  TempDir tmp;
  const fs::path p = tmp.path() / "bomb.csv.gz";
  write_file(p, gzip_bomb("1,2\n3,4\n", 64));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(error_of([&] { px::datasets::load_csv(p, {.max_bytes = 1 << 20}); }),
            p.string() +
                ": the CSV text holds more than 1048576 bytes once inflated; refusing to read "
                "further (raise the limit if the file is really that large)");
  EXPECT_LT(seconds_since(t0), 2.0);
  // Under the cap the same reader works, gzip members and all.
  write_file(p, gzip_member("1,2\n") + gzip_member("3,4\n"));
  const px::Tensor t = px::datasets::load_csv(p, {.max_bytes = 8});
  EXPECT_EQ(px::shape_of(t), (px::Shape{2, 2}));
  EXPECT_EQ(t(1, 1), 4.0f);
}

TEST(Download, ALargerFileThanExpectedIsStoppedAndDiscarded) {
  TempDir served, cache;
  write_file(served.path() / "big.bin", std::string(300000, 'z'));
  const std::string url = "file://" + (served.path() / "big.bin").string();
  const std::string msg = error_of(
      [&] { px::utils::get_file("big.bin", url, {.cache_dir = cache.path(), .file_size = 1000}); });
  EXPECT_EQ(msg, "downloading " + url +
                     ": the file is larger than the expected 1000 bytes; the download was stopped "
                     "and discarded (nothing was written to " +
                     (cache.path() / "datasets" / "big.bin").string() + ")");
  EXPECT_TRUE(files_under(cache.path()).empty());
  // The same over HTTP, where the size is only known as the body arrives.
  LocalHttpServer server(served.path());
  START_SERVER_OR_SKIP(server);
  EXPECT_NE(error_of([&] {
              px::utils::get_file("big.bin", server.url() + "big.bin",
                                  {.cache_dir = cache.path(), .file_size = 1000});
            }).find("larger than the expected 1000 bytes"),
            std::string::npos);
  EXPECT_TRUE(files_under(cache.path()).empty());
  // The expected size itself is fine.
  EXPECT_EQ(read_whole(px::utils::get_file("big.bin", url,
                                           {.cache_dir = cache.path(), .file_size = 300000})),
            std::string(300000, 'z'));
}
