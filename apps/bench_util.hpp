// Plumbing shared by the benchmark apps (bench_training, bench_cnn): every measured run is
// a child process (so that its peak memory comes from wait4()), the GEMM peak of the BLAS
// plexus links, and small parsing helpers for the children's one-line results.
#pragma once

#include <cblas.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <plexus.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace bench_util {

namespace px = plexus;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// --run-gemm: the best of `reps` n x n x n cblas_sgemm calls, in GFLOP/s.
inline int run_gemm(int threads, int n, int reps) {
  // The kernels plexus trains with: OpenBLAS's own choice, unless plexus replaces it
  // (px::blas::ensure_cpu_kernels, run by plexus before its first GEMM).
  auto core_of = [](const std::string& d) {
    return d.starts_with("OpenBLAS ") ? d.substr(9) : std::string("unknown");
  };
  const std::string detected = core_of(px::blas::description());
  px::blas::ensure_cpu_kernels();
  const std::string core = core_of(px::blas::description());
  px::blas::set_num_threads(threads);
  const std::size_t size = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
  std::vector<float> a(size), b(size), c(size);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (float& v : a) v = uniform(rng);
  for (float& v : b) v = uniform(rng);
  auto gemm = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n,
                0.0f, c.data(), n);
  };
  gemm();  // warm-up: thread pool, caches, page faults
  double best = std::numeric_limits<double>::infinity();
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    gemm();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  const double gflops = 2.0 * n * static_cast<double>(n) * n / best / 1e9;
  fmt::print(
      "gemm n={} threads={} best_s={:.5f} gflops={:.2f} openblas_detected={} "
      "openblas_core={}\n",
      n, threads, best, gflops, detected, core);
  return 0;
}

struct ChildResult {
  bool ok = false;
  bool timed_out = false;
  std::string out;        // its stdout
  double max_rss_mb = 0;  // ru_maxrss from wait4
};

// The running child, killed when the parent is interrupted or terminated.
inline volatile sig_atomic_t running_child = 0;

inline void stop_child_and_exit(int sig) {
  if (running_child > 0) kill(static_cast<pid_t>(running_child), SIGKILL);
  signal(sig, SIG_DFL);
  raise(sig);
}

// What every child gets besides its thread count.
struct ChildEnv {
  std::string openblas_coretype;  // OPENBLAS_CORETYPE when not empty
  double max_seconds = 0;         // the child is killed after this long (0: no limit)
};

// Runs `args` (args[0] the program) with OPENBLAS_NUM_THREADS and OMP_NUM_THREADS set to
// `threads`, captures its stdout, and returns it with the child's peak memory. The parent
// must stay small: Linux folds the parent's resident set at spawn time into the child's
// ru_maxrss, so nothing large is allocated here.
inline ChildResult run_child(const std::vector<std::string>& args, int threads,
                             const ChildEnv& cenv) {
  ChildResult r;
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string s(*e);
    if (s.starts_with("OPENBLAS_NUM_THREADS=") || s.starts_with("OMP_NUM_THREADS=") ||
        s.starts_with("GOTO_NUM_THREADS=") ||
        (!cenv.openblas_coretype.empty() && s.starts_with("OPENBLAS_CORETYPE="))) {
      continue;
    }
    env_strings.push_back(s);
  }
  if (!cenv.openblas_coretype.empty()) {
    env_strings.push_back("OPENBLAS_CORETYPE=" + cenv.openblas_coretype);
  }
  env_strings.push_back(fmt::format("OPENBLAS_NUM_THREADS={}", threads));
  env_strings.push_back(fmt::format("OMP_NUM_THREADS={}", threads));
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> arg_copy = args;
  for (auto& s : arg_copy) argv.push_back(s.data());
  argv.push_back(nullptr);

  int fds[2];
  if (pipe(fds) != 0) {
    fmt::print(stderr, "error: pipe: {}\n", std::strerror(errno));
    return r;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::fflush(stdout);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc == 0) running_child = pid;
  if (rc != 0) {
    close(fds[0]);
    fmt::print(stderr, "error: cannot run {}: {}\n", args[0], std::strerror(rc));
    return r;
  }
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(cenv.max_seconds));
  char buf[4096];
  for (;;) {
    if (cenv.max_seconds > 0) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd pfd{fds[0], POLLIN, 0};
      const int ready = left.count() > 0 ? poll(&pfd, 1,
                                                static_cast<int>(std::min<long long>(
                                                    left.count(), std::numeric_limits<int>::max())))
                                         : 0;
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) {
        kill(pid, SIGKILL);
        r.timed_out = true;
        break;
      }
    }
    const ssize_t got = read(fds[0], buf, sizeof buf);
    if (got > 0) {
      r.out.append(buf, static_cast<std::size_t>(got));
    } else if (got == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  running_child = 0;
  r.max_rss_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux
  r.ok = !r.timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!r.ok) {
    std::string command;
    for (const auto& a : args) command += (command.empty() ? "" : " ") + a;
    if (r.timed_out) {
      fmt::print(stderr, "warning: `{}` stopped after --max-run-seconds {}\n", command,
                 cenv.max_seconds);
    } else {
      fmt::print(stderr, "error: `{}` failed (wait status {})\n", command, status);
    }
  }
  return r;
}

// The number after `key=` in a result line, if any.
inline std::optional<double> field(const std::string& out, const std::string& key) {
  const std::string k = " " + key + "=";
  const auto at = out.find(k);
  if (at == std::string::npos) return std::nullopt;
  const char* begin = out.c_str() + at + k.size();
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  if (end == begin) return std::nullopt;
  return v;
}

inline std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

inline std::vector<int> parse_threads(const std::string& list) {
  std::vector<int> out;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    const int t = std::stoi(item);
    if (t < 1) throw std::invalid_argument("thread counts must be >= 1");
    out.push_back(t);
  }
  if (out.empty()) throw std::invalid_argument("empty thread list");
  return out;
}

inline std::string self_exe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

// True when /proc/cpuinfo lists `flag` (e.g. "avx2").
inline bool cpu_has(const std::string& flag) {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.starts_with("flags")) return (line + " ").find(" " + flag + " ") != std::string::npos;
  }
  return false;
}

// OpenBLAS cores without AVX kernels (a DYNAMIC_ARCH build falls back to them on CPUs it does
// not recognise: OpenBLAS 0.3.21 picks Prescott on some recent Xeons).
inline bool pre_avx_core(const std::string& core) {
  for (const char* c : {"Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Atom", "Core2",
                        "Penryn", "Dunnington", "Nehalem", "Athlon", "Opteron", "Barcelona"}) {
    if (core.starts_with(c)) return true;
  }
  return false;
}

inline std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  if (!(f >> a >> b >> c)) return "unknown";
  return a + " " + b + " " + c;
}
// The wall time of each epoch, from fit()'s callbacks.
class EpochTimer : public px::callbacks::Callback {
 public:
  void on_epoch_begin(int, const px::callbacks::Logs&) override { t0_ = Clock::now(); }
  void on_epoch_end(int, px::callbacks::Logs& logs) override {
    seconds.push_back(std::chrono::duration<double>(Clock::now() - t0_).count());
    loss = logs.count("loss") ? logs.at("loss") : 0.0;
  }
  std::vector<double> seconds;
  double loss = 0;

 private:
  Clock::time_point t0_;
};

}  // namespace bench_util
