#include "optim/callbacks.hpp"

#include <fmt/format.h>

#include <cmath>

#include "core/error.hpp"
#include "core/file_io.hpp"
#include "optim/distribution.hpp"
#include "optim/model.hpp"
#include "optim/optimizers.hpp"

namespace plexus::callbacks {

namespace {
// Keras's "auto" mode: maximise accuracy-like quantities, minimise the rest.
bool maximize_for(const std::string& mode, const std::string& monitor, const char* who) {
  if (mode == "max") return true;
  if (mode == "min") return false;
  if (mode != "auto")
    throw Error("{}: mode must be \"auto\", \"min\" or \"max\", not \"{}\"", who, mode);
  for (const char* m : {"acc", "auc", "precision", "recall"}) {
    if (monitor.find(m) != std::string::npos) return true;
  }
  return false;
}
const double* find_log(const Logs& logs, const std::string& key, const char* who) {
  auto it = logs.find(key);
  if (it != logs.end()) return &it->second;
  std::string known;
  for (auto& [k, v] : logs) known += (known.empty() ? "" : ", ") + k;
  std::fprintf(stderr, "%s: metric \"%s\" is not available; available metrics are: %s\n", who,
               key.c_str(), known.c_str());
  return nullptr;
}
}  // namespace

void History::on_train_begin(const Logs&) {}

void History::on_epoch_end(int epoch, Logs& logs) {
  history_.epoch.push_back(epoch);
  for (auto& [k, v] : logs) history_.history[k].push_back(v);
}

// --- EarlyStopping -------------------------------------------------------------------

EarlyStopping::EarlyStopping(EarlyStoppingOptions options) : options_(std::move(options)) {
  maximize_ = maximize_for(options_.mode, options_.monitor, "EarlyStopping");
}

bool EarlyStopping::improved(double current, double reference) const {
  const double delta = std::abs(options_.min_delta);
  return maximize_ ? current - delta > reference : current + delta < reference;
}

void EarlyStopping::on_train_begin(const Logs&) {
  wait_ = 0;
  stopped_epoch_ = 0;
  best_epoch_ = 0;
  best_ = maximize_ ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  best_weights_.clear();
}

void EarlyStopping::on_epoch_end(int epoch, Logs& logs) {
  const double* current = find_log(logs, options_.monitor, "EarlyStopping");
  if (current == nullptr || epoch < options_.start_from_epoch) return;
  if (options_.restore_best_weights && best_weights_.empty()) {
    best_weights_ = model().get_weights();
  }
  ++wait_;
  if (improved(*current, best_)) {
    best_ = *current;
    best_epoch_ = epoch;
    if (options_.restore_best_weights) best_weights_ = model().get_weights();
    if (!options_.baseline || improved(*current, *options_.baseline)) {
      wait_ = 0;
      return;
    }
  }
  if (wait_ >= options_.patience && epoch > 0) {
    stopped_epoch_ = epoch;
    model().stop_training = true;
  }
}

void EarlyStopping::on_train_end(const Logs&) {
  if (stopped_epoch_ > 0 && options_.verbose > 0) {
    std::printf("Epoch %d: early stopping\n", stopped_epoch_ + 1);
  }
  if (options_.restore_best_weights && !best_weights_.empty()) {
    if (options_.verbose > 0) {
      std::printf("Restoring model weights from the end of the best epoch: %d.\n", best_epoch_ + 1);
    }
    model().set_weights(best_weights_);
  }
}

// --- CSVLogger -----------------------------------------------------------------------

CSVLogger::CSVLogger(std::string filename, CSVLoggerOptions options)
    : filename_(std::move(filename)), options_(options) {}

CSVLogger::CSVLogger(const CSVLogger& other)
    : Callback(other), filename_(other.filename_), options_(other.options_), keys_(other.keys_) {}

CSVLogger::~CSVLogger() = default;

void CSVLogger::on_train_begin(const Logs&) {
  contents_.clear();
  active_ = false;
  if (!distribution::is_chief()) return;  // data-parallel: process 0 writes the log
  if (options_.append) {
    std::error_code ec;
    if (std::filesystem::exists(filename_, ec)) {
      contents_ = detail::read_file_bytes(filename_, std::size_t{1} << 30, "the CSV log");
      if (!contents_.empty() && contents_.back() != '\n') contents_ += '\n';
    }
  }
  // Fails now, with the reason, when the file cannot be written at all.
  detail::write_file_atomic(filename_, contents_, "CSVLogger");
  active_ = true;
  keys_.clear();
  if (!contents_.empty()) keys_.push_back("");  // header already written by an earlier run
}

void CSVLogger::on_epoch_end(int epoch, Logs& logs) {
  if (!active_) return;
  const char sep = options_.separator;
  if (keys_.empty() || (keys_.size() == 1 && keys_[0].empty())) {
    bool write_header = keys_.empty();
    keys_.clear();
    for (auto& [k, v] : logs) keys_.push_back(k);
    if (write_header) {
      contents_ += "epoch";
      for (auto& k : keys_) contents_ += fmt::format("{}{}", sep, k);
      contents_ += '\n';
    }
  }
  contents_ += fmt::format("{}", epoch);
  for (auto& k : keys_) {
    auto it = logs.find(k);
    if (it == logs.end()) {
      contents_ += fmt::format("{}NA", sep);
    } else {
      contents_ += fmt::format("{}{}", sep, it->second);
    }
  }
  contents_ += '\n';
  detail::write_file_atomic(filename_, contents_, "CSVLogger");
}

void CSVLogger::on_train_end(const Logs&) { active_ = false; }

// --- ReduceLROnPlateau ---------------------------------------------------------------

ReduceLROnPlateau::ReduceLROnPlateau(ReduceLROnPlateauOptions options)
    : options_(std::move(options)) {
  if (options_.factor >= 1.0) {
    throw Error("ReduceLROnPlateau does not support a factor >= 1.0, received {}", options_.factor);
  }
  maximize_ = maximize_for(options_.mode, options_.monitor, "ReduceLROnPlateau");
}

void ReduceLROnPlateau::on_train_begin(const Logs&) {
  wait_ = 0;
  cooldown_counter_ = 0;
  best_ = maximize_ ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
}

void ReduceLROnPlateau::on_epoch_end(int epoch, Logs& logs) {
  auto& opt = model().optimizer();
  logs["learning_rate"] = opt.learning_rate();
  const double* current = find_log(logs, options_.monitor, "ReduceLROnPlateau");
  if (current == nullptr) return;
  const bool in_cooldown = cooldown_counter_ > 0;
  if (in_cooldown) {
    --cooldown_counter_;
    wait_ = 0;
  }
  const bool better =
      maximize_ ? *current > best_ + options_.min_delta : *current < best_ - options_.min_delta;
  if (better) {
    best_ = *current;
    wait_ = 0;
  } else if (!in_cooldown) {
    if (++wait_ >= options_.patience) {
      const double old_lr = opt.learning_rate();
      if (old_lr > options_.min_lr) {
        const double new_lr = std::max(old_lr * options_.factor, options_.min_lr);
        opt.set_learning_rate(new_lr);
        if (options_.verbose > 0) {
          std::printf("\nEpoch %d: ReduceLROnPlateau reducing learning rate to %g.\n", epoch + 1,
                      new_lr);
        }
        cooldown_counter_ = options_.cooldown;
        wait_ = 0;
      }
    }
  }
}

// --- TerminateOnNaN ------------------------------------------------------------------

void TerminateOnNaN::on_batch_end(int batch, const Logs& logs) {
  auto it = logs.find("loss");
  if (it != logs.end() && !std::isfinite(it->second)) {
    std::printf("Batch %d: Invalid loss, terminating training\n", batch);
    model().stop_training = true;
  }
}

// --- LearningRateScheduler -----------------------------------------------------------

LearningRateScheduler::LearningRateScheduler(std::function<double(int, double)> schedule,
                                             int verbose)
    : schedule_(std::move(schedule)), verbose_(verbose) {}

void LearningRateScheduler::on_epoch_begin(int epoch, const Logs&) {
  auto& opt = model().optimizer();
  const double lr = schedule_(epoch, opt.learning_rate());
  if (!std::isfinite(lr)) {
    throw Error("LearningRateScheduler: the schedule returned {} at epoch {}", lr, epoch);
  }
  opt.set_learning_rate(lr);
  if (verbose_ > 0) {
    std::printf("\nEpoch %d: LearningRateScheduler setting learning rate to %g.\n", epoch + 1, lr);
  }
}

void LearningRateScheduler::on_epoch_end(int, Logs& logs) {
  logs["learning_rate"] = model().optimizer().learning_rate();
}

// --- LambdaCallback ------------------------------------------------------------------

LambdaCallback::LambdaCallback(LambdaCallbackOptions options) : options_(std::move(options)) {}

void LambdaCallback::on_epoch_begin(int epoch, const Logs& logs) {
  if (options_.on_epoch_begin) {
    Logs copy = logs;
    options_.on_epoch_begin(epoch, copy);
  }
}
void LambdaCallback::on_epoch_end(int epoch, Logs& logs) {
  if (options_.on_epoch_end) options_.on_epoch_end(epoch, logs);
}
void LambdaCallback::on_batch_begin(int batch, const Logs& logs) {
  if (options_.on_batch_begin) options_.on_batch_begin(batch, logs);
}
void LambdaCallback::on_batch_end(int batch, const Logs& logs) {
  if (options_.on_batch_end) options_.on_batch_end(batch, logs);
}
void LambdaCallback::on_train_begin(const Logs& logs) {
  if (options_.on_train_begin) options_.on_train_begin(logs);
}
void LambdaCallback::on_train_end(const Logs& logs) {
  if (options_.on_train_end) options_.on_train_end(logs);
}

}  // namespace plexus::callbacks
