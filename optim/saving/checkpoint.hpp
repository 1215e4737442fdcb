// px::callbacks::ModelCheckpoint (Keras 3's keras.callbacks.ModelCheckpoint): saves the
// model (".keras") or its weights (".weights.h5") during fit.
//
//   px::callbacks::ModelCheckpoint({.filepath = "ckpt/m-{epoch:02d}-{val_loss:.2f}.keras",
//                                   .monitor = "val_loss", .save_best_only = true})
//
// filepath is formatted like Python's str.format with epoch (1-based), batch (1-based,
// with an integer save_freq) and every log key: "{epoch:02d}", "{val_loss:.2f}", "{{" for a
// brace. A key that is not in the logs is a px::Error listing the available ones.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "core/keywords.hpp"
#include "optim/callback.hpp"

namespace plexus::callbacks {

struct ModelCheckpointOptions {
  std::string filepath;
  std::string monitor = "val_loss";
  int verbose = 0;
  bool save_best_only = false;
  bool save_weights_only = false;  // then filepath ends in ".weights.h5", else ".keras"
  std::string mode = "auto";       // "auto", "min" or "max"
  // "epoch" (after every epoch) or every N training batches.
  std::variant<std::string, int> save_freq = std::string("epoch");
  std::optional<double> initial_value_threshold = std::nullopt;  // the best value to beat
};

class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(ModelCheckpointOptions options);
  PLEXUS_KEYWORD_CONSTRUCTOR_POSITIONAL(ModelCheckpoint, ModelCheckpointOptions,
                                        (std::string, filepath))
  void on_train_begin(const Logs& logs) override;
  void on_train_batch_end(int batch, const Logs& logs) override;
  void on_epoch_begin(int epoch, const Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  double best() const { return best_; }
  const ModelCheckpointOptions& options() const { return options_; }
  // The path the last save wrote (empty before the first).
  const std::string& last_saved() const { return last_saved_; }

 private:
  void save(int epoch, std::optional<int> batch, const Logs& logs);
  ModelCheckpointOptions options_;
  bool maximize_ = false;
  double best_ = 0.0;
  int epoch_ = 0;
  long batches_seen_ = 0;
  std::string last_saved_;
};

// Formats a checkpoint path (see above); exposed for tests.
std::string format_checkpoint_path(const std::string& pattern, int epoch, std::optional<int> batch,
                                   const Logs& logs);

}  // namespace plexus::callbacks
