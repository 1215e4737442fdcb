// The callback interface (Keras's keras.callbacks.Callback). Built-in callbacks are in
// optim/callbacks.hpp; users derive from Callback and override what they need.
#pragma once

#include <map>
#include <string>

namespace plexus {
class Model;
}

namespace plexus::callbacks {

// "loss", "accuracy", "val_loss", ... -> value (Keras's logs dict).
using Logs = std::map<std::string, double>;

// What fit() tells callbacks before training starts (Keras's callback.params).
struct Params {
  int epochs = 1;
  int steps = 0;  // batches per epoch
  int verbose = 1;
};

class Callback {
 public:
  virtual ~Callback() = default;

  // Set by fit()/evaluate() before on_train_begin; the model being trained.
  void set_model(Model* model) { model_ = model; }
  void set_params(const Params& params) { params_ = params; }
  Model& model() const;  // px::Error when no model is attached
  const Params& params() const { return params_; }

  virtual void on_train_begin(const Logs& /*logs*/) {}
  virtual void on_train_end(const Logs& /*logs*/) {}
  virtual void on_epoch_begin(int /*epoch*/, const Logs& /*logs*/) {}
  // Callbacks may add entries to the epoch's logs (Keras passes the dict by reference).
  virtual void on_epoch_end(int /*epoch*/, Logs& /*logs*/) {}
  // Training batches; the defaults forward to on_batch_begin/end (Keras aliases).
  virtual void on_train_batch_begin(int batch, const Logs& logs) { on_batch_begin(batch, logs); }
  virtual void on_train_batch_end(int batch, const Logs& logs) { on_batch_end(batch, logs); }
  virtual void on_batch_begin(int /*batch*/, const Logs& /*logs*/) {}
  virtual void on_batch_end(int /*batch*/, const Logs& /*logs*/) {}
  virtual void on_test_begin(const Logs& /*logs*/) {}
  virtual void on_test_end(const Logs& /*logs*/) {}
  virtual void on_test_batch_begin(int /*batch*/, const Logs& /*logs*/) {}
  virtual void on_test_batch_end(int /*batch*/, const Logs& /*logs*/) {}

 private:
  Model* model_ = nullptr;
  Params params_;
};

}  // namespace plexus::callbacks
