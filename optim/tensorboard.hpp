// The TensorBoard callback (Keras 3's keras.callbacks.TensorBoard): event files that
// TensorBoard reads, under log_dir/train and log_dir/validation.
//
//   px::callbacks::TensorBoard tb({.log_dir = "logs", .histogram_freq = 1});
//   model.fit(x, y, {.epochs = 10, .callbacks = {tb}});
//   // then: tensorboard --logdir logs
//
// What is written, as Keras writes it:
// - per epoch, each training log as the scalar "epoch_<name>" at step = epoch (train run),
//   the "val_" logs as "epoch_<name>" in the validation run, and "epoch_learning_rate";
// - with update_freq "batch" or N, each training batch's logs as "batch_<name>" every N
//   batches, at step = the number of training batches so far;
// - with histogram_freq N, every N epochs a histogram of each weight ("dense/kernel/
//   histogram", 30 equal-width buckets);
// - with write_graph, the model's Keras JSON as the "keras" summary of TensorBoard's
//   graph_keras_model plugin (the Graphs dashboard draws the conceptual graph).
// The files are TFRecords of tensorflow.Event protobuf messages (length, masked CRC-32C of
// the length, the message, masked CRC-32C of the message), written with no dependency.
// Not taken: write_images, profile_batch, embeddings_freq, embeddings_metadata (there are no
// images of weights, profiler or embedding projector files).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "optim/callback.hpp"

namespace plexus::callbacks {

// Keras's update_freq: "epoch", "batch" or a number of batches.
struct UpdateFreq {
  UpdateFreq(const char* s) : UpdateFreq(std::string_view(s)) {}  // NOLINT: implicit
  UpdateFreq(std::string_view s);                                 // NOLINT: implicit
  UpdateFreq(int batches);                                        // NOLINT: implicit
  int batches = 0;                                                // 0: per epoch only
};

struct TensorBoardOptions {
  std::string log_dir = "logs";
  int histogram_freq = 0;  // epochs between weight histograms; 0: none
  bool write_graph = true;
  bool write_steps_per_second = false;
  UpdateFreq update_freq = "epoch";
};

class TensorBoard : public Callback {
 public:
  explicit TensorBoard(TensorBoardOptions options = {});
  ~TensorBoard() override;
  TensorBoard(const TensorBoard&) = delete;
  TensorBoard& operator=(const TensorBoard&) = delete;

  void on_train_begin(const Logs& logs) override;
  void on_train_end(const Logs& logs) override;
  void on_epoch_begin(int epoch, const Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_batch_begin(int batch, const Logs& logs) override;
  void on_train_batch_end(int batch, const Logs& logs) override;

  const TensorBoardOptions& options() const { return options_; }
  // The event files written so far (train, then validation once it has data).
  std::vector<std::string> files() const;

 private:
  class Writer;
  Writer& train();
  Writer& validation();

  TensorBoardOptions options_;
  std::unique_ptr<Writer> train_, validation_;
  std::int64_t global_batch_ = 0;
  double epoch_start_ = 0.0;
  int epoch_batches_ = 0;
};

namespace tensorboard {
// CRC-32C (Castagnoli), as TFRecord uses it, and its masked form
// ((crc >> 15 | crc << 17) + 0xa282ead8).
std::uint32_t crc32c(std::string_view data);
std::uint32_t masked_crc32c(std::string_view data);
}  // namespace tensorboard

}  // namespace plexus::callbacks
