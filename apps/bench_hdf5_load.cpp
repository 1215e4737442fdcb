// The cost of reading model files in another process (issue 28): load_model of each file
// with libhdf5 in this process (as before the isolation; for measuring only), with the reader
// program plexus_hdf5_reader (posix_spawn: what load_model does), and with a forked child
// (the fallback when the reader program is missing), interleaved in the same run.
//
//   bench_hdf5_load [--repeats 15] [--ballast-mb 0] FILE.keras|FILE.h5...
//   bench_hdf5_load ../shared/keras_files/keras3_15_1_zoo/mobilenet_v2_a035_96.{keras,h5}
//
// --ballast-mb N first fills N MB of this process's memory: a fork's cost grows with the
// memory of the loading process (page tables copied, then one fault per page written), a
// spawned reader's does not. Per mode: median and best wall time, median CPU time of this
// process and its children per load, median minor page faults per load.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <plexus.hpp>
#include <string>
#include <vector>

#include "optim/saving/detail/hdf5_snapshot.hpp"

namespace px = plexus;
namespace h5d = px::saving::h5::detail;

namespace {

struct Usage {
  double cpu_ms;
  double faults;
};

Usage usage() {
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  auto ms = [](const timeval& t) { return t.tv_sec * 1e3 + t.tv_usec / 1e3; };
  return {ms(self.ru_utime) + ms(self.ru_stime) + ms(children.ru_utime) + ms(children.ru_stime),
          static_cast<double>(self.ru_minflt + children.ru_minflt)};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 15;
  std::size_t ballast_mb = 0;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--repeats" && i + 1 < argc) {
      repeats = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--ballast-mb" && i + 1 < argc) {
      ballast_mb = static_cast<std::size_t>(std::atol(argv[++i]));
    } else if (a.rfind("--", 0) == 0) {
      fmt::print(stderr, "usage: bench_hdf5_load [--repeats N] [--ballast-mb N] FILE...\n");
      return 2;
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) {
    fmt::print(stderr, "usage: bench_hdf5_load [--repeats N] [--ballast-mb N] FILE...\n");
    return 2;
  }
  std::vector<char> ballast(ballast_mb << 20);
  for (std::size_t i = 0; i < ballast.size(); i += 4096) ballast[i] = static_cast<char>(i >> 12);

  const std::string program = h5d::reader_program();
  fmt::print("reader program: {}\nballast: {} MB, {} loads per mode, interleaved\n",
             program.empty() ? "(none: the spawn column is a fork too)" : program, ballast_mb,
             repeats);
  struct Mode {
    const char* name;
    h5d::ReaderMode mode;
    std::vector<double> wall = {}, cpu = {}, faults = {};
  };
  try {
    for (const auto& file : files) {
      std::vector<Mode> modes = {
          {"in-process libhdf5 (before)", h5d::ReaderMode::in_process_for_benchmarks},
          {"reader program (posix_spawn)", h5d::ReaderMode::automatic},
          {"forked child", h5d::ReaderMode::fork}};
      std::size_t params = 0;
      for (int r = 0; r < repeats + 1; ++r) {  // the first round warms the caches
        for (auto& m : modes) {
          h5d::set_reader_mode(m.mode);
          const Usage u0 = usage();
          const auto t0 = std::chrono::steady_clock::now();
          px::Model model = px::saving::load_model(file);
          const auto t1 = std::chrono::steady_clock::now();
          const Usage u1 = usage();
          params = model.count_params();
          if (r == 0) continue;
          m.wall.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
          m.cpu.push_back(u1.cpu_ms - u0.cpu_ms);
          m.faults.push_back(u1.faults - u0.faults);
        }
      }
      h5d::set_reader_mode(h5d::ReaderMode::automatic);
      fmt::print("\n{} ({} parameters)\n", file, params);
      fmt::print("  {:<30} {:>12} {:>10} {:>12} {:>8} {:>14}\n", "load_model", "median wall",
                 "best wall", "median CPU", "faults", "CPU vs before");
      const double before = median(modes[0].cpu);
      for (auto& m : modes) {
        fmt::print("  {:<30} {:>9.2f} ms {:>7.2f} ms {:>9.2f} ms {:>8.0f} {:>13.2f}x\n", m.name,
                   median(m.wall), *std::min_element(m.wall.begin(), m.wall.end()), median(m.cpu),
                   median(m.faults), median(m.cpu) / before);
      }
    }
  } catch (const px::Error& e) {
    fmt::print(stderr, "{}\n", e.what());
    return 1;
  }
  return 0;
}
