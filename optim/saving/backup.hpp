// px::callbacks::BackupAndRestore (Keras 3's keras.callbacks.BackupAndRestore): backs up a
// fit() so that a run that is killed resumes where it stopped when started again.
//
//   model.fit(x, y, {.epochs = 100,
//                    .callbacks = {px::callbacks::BackupAndRestore({.backup_dir = "backup"})}});
//
// Every epoch (or every save_freq batches) the callback writes backup_dir/latest.weights.h5:
// the weights, the optimizer's variables and where the run is (epoch, batch) — one file,
// written atomically, so a kill at any moment leaves the previous backup whole. When fit()
// starts and a backup exists, it restores them and fit() continues from that epoch and
// batch. After a fit() that ends normally the backup folder is deleted (delete_checkpoint).
//
// Better than Keras: the backup also holds plexus's random generator, as it was when the
// epoch began and when the backup was written, so the resumed run shuffles the interrupted
// epoch the same way, skips the batches already done, and draws the same Dropout masks
// from then on. A resumed run ends with the weights an uninterrupted run with the same
// seed gives, bit for bit (Keras resumes mid-epoch with a new shuffle). The epoch that is
// resumed logs its metrics over the remaining batches only, as in Keras.
//
// The model must be the same architecture, compiled the same way, when it is resumed.
#pragma once

#include <string>
#include <variant>

#include "core/keywords.hpp"
#include "optim/callback.hpp"

namespace plexus::callbacks {

struct BackupAndRestoreOptions {
  std::string backup_dir;
  // "epoch" (after every epoch) or every N training batches.
  std::variant<std::string, int> save_freq = std::string("epoch");
  // Keep the backup before the last one too (latest.weights.h5.bkp), used when the latest
  // cannot be read.
  bool double_checkpoint = false;
  bool delete_checkpoint = true;  // remove backup_dir after a fit() that completes
};

class BackupAndRestore : public Callback {
 public:
  explicit BackupAndRestore(BackupAndRestoreOptions options);
  PLEXUS_KEYWORD_CONSTRUCTOR_POSITIONAL(BackupAndRestore, BackupAndRestoreOptions,
                                        (std::string, backup_dir))
  void on_train_begin(const Logs& logs) override;
  void on_epoch_begin(int epoch, const Logs& logs) override;
  void on_train_batch_end(int batch, const Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_end(const Logs& logs) override;

  // The backup file (backup_dir/latest.weights.h5).
  std::string backup_path() const;
  // Whether the last on_train_begin restored a backup, and from which epoch and batch.
  bool restored() const { return restored_; }
  int restored_epoch() const { return restored_epoch_; }
  int restored_batch() const { return restored_batch_; }

 private:
  void save(int epoch, int batch);
  BackupAndRestoreOptions options_;
  int save_every_ = 0;  // 0: every epoch
  int epoch_ = 0;
  long batches_seen_ = 0;
  std::string epoch_rng_;  // the generator when the current epoch began
  bool restored_ = false;
  int restored_epoch_ = 0, restored_batch_ = 0;
};

}  // namespace plexus::callbacks
