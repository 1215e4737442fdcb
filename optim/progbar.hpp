// Keras 3's progress bar:
//   Epoch 1/5
//   1875/1875 ━━━━━━━━━━━━━━━━━━━━ 2s 1ms/step - accuracy: 0.9160 - loss: 0.2931
// Redrawn in place on a terminal; on anything else (a file, a pipe, CI) one line per epoch.
#pragma once

#include <chrono>
#include <cstdio>
#include <map>
#include <string>

namespace plexus::optim {

class Progbar {
 public:
  // verbose: 1 bar, 2 one summary line per epoch (no bar). `out` defaults to stdout.
  // target_steps <= 0: unknown (a dataset of unknown length), shown as "12/Unknown".
  Progbar(int target_steps, int verbose, std::FILE* out = stdout);
  // Called after each step with the running values; `finalize` on the epoch's last call.
  void update(int step, const std::map<std::string, double>& values, bool finalize);
  static std::string format_value(double v);
  // "2s", "1ms/step", "45us/step" as Keras formats them.
  static std::string format_time_per_step(double seconds);

 private:
  int target_;
  int verbose_;
  std::FILE* out_;
  bool interactive_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace plexus::optim
