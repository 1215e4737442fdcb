// Built-in callbacks with Keras 3 semantics and defaults. Options come as a struct or as
// keywords in any order (core/keywords.hpp):
//   px::callbacks::EarlyStopping({.monitor = "val_loss", .patience = 3})
//   px::callbacks::EarlyStopping(kw::patience = 3, kw::monitor = "val_loss")
#pragma once

#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.hpp"
#include "optim/callback.hpp"
#include "optim/model_options.hpp"

namespace plexus::callbacks {

// Records every epoch's logs; fit() returns what it recorded.
class History : public Callback {
 public:
  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  const plexus::History& history() const { return history_; }

 private:
  plexus::History history_;
};

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0.0;
  int patience = 0;
  int verbose = 0;
  std::string mode = "auto";  // "min", "max" or "auto" (max for accuracy/auc-like names)
  std::optional<double> baseline = std::nullopt;
  bool restore_best_weights = false;
  int start_from_epoch = 0;
};

// Stops training when `monitor` has stopped improving for `patience` epochs.
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {});
  PLEXUS_KEYWORD_CONSTRUCTOR(EarlyStopping, EarlyStoppingOptions)
  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_end(const Logs& logs) override;
  int stopped_epoch() const { return stopped_epoch_; }  // 0 when it did not stop training
  const EarlyStoppingOptions& options() const { return options_; }
  int best_epoch() const { return best_epoch_; }
  double best() const { return best_; }

 private:
  bool improved(double current, double reference) const;
  EarlyStoppingOptions options_;
  bool maximize_ = false;
  int wait_ = 0;
  int stopped_epoch_ = 0;
  int best_epoch_ = 0;
  double best_ = 0.0;
  std::vector<Tensor> best_weights_;
};

struct CSVLoggerOptions {
  char separator = ',';
  bool append = false;
};

// Writes epoch results to a CSV file: "epoch,<keys in sorted order>". After every epoch the
// whole log is written anew with detail::write_file_atomic (temporary file, fsync, rename),
// so the file always holds every finished epoch, never a truncated line, and a write error
// (a full disk) stops fit with a px::Error giving the reason. append = true keeps the rows
// of an existing file.
class CSVLogger : public Callback {
 public:
  explicit CSVLogger(std::string filename, CSVLoggerOptions options = {});
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) CSVLogger(std::string filename, K&&... k)
      : CSVLogger(std::move(filename), kw::make<CSVLoggerOptions>(std::forward<K>(k)...)) {}
  // CSVLogger(kw::filename = "log.csv", kw::append = true).
  template <kw::Argument... K>
  requires(sizeof...(K) > 0) explicit CSVLogger(K&&... k)
      : CSVLogger(std::string(kw::detail::value_of<kw::tags::filename>(k...)),
                  kw::detail::make_skipping<CSVLoggerOptions>(
                      kw::detail::type_list<kw::tags::filename>{}, std::forward<K>(k)...)) {
    static_assert(kw::detail::has_tag<kw::tags::filename, K...>,
                  "CSVLogger needs its filename (positional, or kw::filename)");
  }
  using keyword_signature = kw::Signature<CSVLoggerOptions, kw::tags::filename>;
  ~CSVLogger() override;
  CSVLogger(const CSVLogger& other);
  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_end(const Logs& logs) override;

 private:
  std::string filename_;
  CSVLoggerOptions options_;
  std::string contents_;  // the whole file as written so far
  bool active_ = false;   // between on_train_begin and on_train_end
  std::vector<std::string> keys_;
};

struct ReduceLROnPlateauOptions {
  std::string monitor = "val_loss";
  double factor = 0.1;
  int patience = 10;
  int verbose = 0;
  std::string mode = "auto";
  double min_delta = 1e-4;
  int cooldown = 0;
  double min_lr = 0.0;
};

// Multiplies the learning rate by `factor` when `monitor` has plateaued.
class ReduceLROnPlateau : public Callback {
 public:
  explicit ReduceLROnPlateau(ReduceLROnPlateauOptions options = {});
  PLEXUS_KEYWORD_CONSTRUCTOR(ReduceLROnPlateau, ReduceLROnPlateauOptions)
  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;

 private:
  ReduceLROnPlateauOptions options_;
  bool maximize_ = false;
  int wait_ = 0;
  int cooldown_counter_ = 0;
  double best_ = 0.0;
};

// Stops training as soon as a batch's loss is NaN or infinite.
struct TerminateOnNaNOptions {
  bool raise_error = false;  // true: a px::Error instead of stopping training
};
class TerminateOnNaN : public Callback {
 public:
  explicit TerminateOnNaN(TerminateOnNaNOptions options = {}) : options_(options) {}
  PLEXUS_KEYWORD_CONSTRUCTOR(TerminateOnNaN, TerminateOnNaNOptions)
  void on_batch_end(int batch, const Logs& logs) override;

 private:
  TerminateOnNaNOptions options_;
};

// Sets the learning rate at each epoch's start from schedule(epoch, current_lr).
struct LearningRateSchedulerOptions {
  std::function<double(int, double)> schedule = {};
  int verbose = 0;
};
class LearningRateScheduler : public Callback {
 public:
  explicit LearningRateScheduler(std::function<double(int, double)> schedule, int verbose = 0);
  explicit LearningRateScheduler(LearningRateSchedulerOptions options)
      : LearningRateScheduler(std::move(options.schedule), options.verbose) {}
  PLEXUS_KEYWORD_CONSTRUCTOR(LearningRateScheduler, LearningRateSchedulerOptions)
  void on_epoch_begin(int epoch, const Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;

 private:
  std::function<double(int, double)> schedule_;
  int verbose_;
};

struct LambdaCallbackOptions {
  std::function<void(int, Logs&)> on_epoch_begin = {};
  std::function<void(int, Logs&)> on_epoch_end = {};
  std::function<void(int, const Logs&)> on_batch_begin = {};
  std::function<void(int, const Logs&)> on_batch_end = {};
  std::function<void(const Logs&)> on_train_begin = {};
  std::function<void(const Logs&)> on_train_end = {};
  // Keras 3's names for the training batches (on_batch_* is Keras 2's; both are called).
  std::function<void(int, const Logs&)> on_train_batch_begin = {};
  std::function<void(int, const Logs&)> on_train_batch_end = {};
};

// Callbacks from plain functions (Keras's LambdaCallback).
class LambdaCallback : public Callback {
 public:
  explicit LambdaCallback(LambdaCallbackOptions options);
  PLEXUS_KEYWORD_CONSTRUCTOR(LambdaCallback, LambdaCallbackOptions)
  void on_epoch_begin(int epoch, const Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_batch_begin(int batch, const Logs& logs) override;
  void on_batch_end(int batch, const Logs& logs) override;
  void on_train_batch_begin(int batch, const Logs& logs) override;
  void on_train_batch_end(int batch, const Logs& logs) override;
  void on_train_begin(const Logs& logs) override;
  void on_train_end(const Logs& logs) override;

 private:
  LambdaCallbackOptions options_;
};

}  // namespace plexus::callbacks

// LearningRateScheduler(kw::schedule = [](int epoch, double lr) { return lr * 0.9; }).
PLEXUS_KEYWORD(schedule, std::function<double(int, double)>)
PLEXUS_KEYWORD(raise_error, bool)

// Keywords of LambdaCallback (px::kw::on_epoch_end = [](int epoch, px::Logs& logs) {...}).
PLEXUS_KEYWORD(on_epoch_begin, std::function<void(int, ::plexus::callbacks::Logs&)>)
PLEXUS_KEYWORD(on_epoch_end, std::function<void(int, ::plexus::callbacks::Logs&)>)
PLEXUS_KEYWORD(on_batch_begin, std::function<void(int, const ::plexus::callbacks::Logs&)>)
PLEXUS_KEYWORD(on_batch_end, std::function<void(int, const ::plexus::callbacks::Logs&)>)
PLEXUS_KEYWORD(on_train_begin, std::function<void(const ::plexus::callbacks::Logs&)>)
PLEXUS_KEYWORD(on_train_end, std::function<void(const ::plexus::callbacks::Logs&)>)
PLEXUS_KEYWORD(on_train_batch_begin, std::function<void(int, const ::plexus::callbacks::Logs&)>)
PLEXUS_KEYWORD(on_train_batch_end, std::function<void(int, const ::plexus::callbacks::Logs&)>)
