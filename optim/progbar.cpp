#include "optim/progbar.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>

namespace plexus::optim {

Progbar::Progbar(int target_steps, int verbose, std::FILE* out)
    : target_(target_steps), verbose_(verbose), out_(out) {
  interactive_ = isatty(fileno(out_)) != 0;
  start_ = std::chrono::steady_clock::now();
  last_draw_ = start_;
}

std::string Progbar::format_value(double v) {
  return std::abs(v) > 1e-3 || v == 0.0 ? fmt::format("{:.4f}", v) : fmt::format("{:.4e}", v);
}

std::string Progbar::format_time_per_step(double seconds) {
  if (seconds >= 1 || seconds == 0) return fmt::format("{:.0f}s/step", seconds);
  if (seconds >= 1e-3) return fmt::format("{:.0f}ms/step", seconds * 1e3);
  return fmt::format("{:.0f}us/step", seconds * 1e6);
}

void Progbar::update(int step, const std::map<std::string, double>& values, bool finalize) {
  if (verbose_ <= 0) return;
  auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  // Not a terminal (or verbose 2): only the epoch's final line.
  if ((!interactive_ || verbose_ == 2) && !finalize) return;
  if (interactive_ && verbose_ == 1 && !finalize &&
      std::chrono::duration<double>(now - last_draw_).count() < 0.05) {
    return;  // Keras redraws at most every 50 ms
  }
  last_draw_ = now;
  const double per_step = step > 0 ? elapsed / step : 0.0;
  std::string digits = std::to_string(target_);
  // An unknown number of steps (a dataset of unknown cardinality): Keras's "12/Unknown".
  std::string line = target_ > 0 ? fmt::format("{:>{}}/{}", step, digits.size(), target_)
                                 : fmt::format("{}/Unknown", step);
  if (verbose_ == 1 && target_ <= 0) {
    line += fmt::format(" {:.0f}s {}", elapsed, format_time_per_step(per_step));
  } else if (verbose_ == 1) {
    const int width = 20;
    int done = target_ > 0 ? static_cast<int>(width * static_cast<double>(step) / target_) : width;
    std::string bar;
    for (int i = 0; i < done; ++i) bar += "\u2501";
    if (done < width) {
      if (interactive_) bar += "\x1b[2m";
      for (int i = done; i < width; ++i) bar += "\u2501";
      if (interactive_) bar += "\x1b[0m";
    }
    // While running: the estimated time left; at the end: the time it took.
    double shown = finalize ? elapsed : per_step * (target_ - step);
    line += fmt::format(" {} {:.0f}s {}", bar, shown, format_time_per_step(per_step));
  } else {
    line += fmt::format(" - {:.0f}s - {}", elapsed, format_time_per_step(per_step));
  }
  // Training values first, then validation values, each alphabetically (as Keras shows them).
  for (int pass = 0; pass < 2; ++pass) {
    for (auto& [k, v] : values) {
      bool val = k.rfind("val_", 0) == 0;
      if (val == (pass == 1)) line += fmt::format(" - {}: {}", k, format_value(v));
    }
  }
  if (interactive_ && verbose_ == 1) {
    // Back to the line's start, draw, and erase what a longer previous line left behind.
    std::fprintf(out_, "\r%s\x1b[K", line.c_str());
    if (finalize) std::fputc('\n', out_);
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

}  // namespace plexus::optim
