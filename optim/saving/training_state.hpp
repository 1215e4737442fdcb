// Internal: what a saved model keeps of its training — Keras 3's compile_config (config.json)
// and the optimizer's variables (optimizer/vars/<i> in model.weights.h5) — and the legacy
// Keras 2 training_config.
#pragma once

#include "core/config.hpp"
#include "optim/model.hpp"
#include "optim/saving/hdf5.hpp"

namespace plexus::saving::detail {

// Keras 3's compile_config: {"optimizer": {module, class_name, config, registered_name},
// "loss", "loss_weights", "metrics", "weighted_metrics": null, "run_eagerly": false,
// "steps_per_execution": 1, "jit_compile": false}; {} for a model that is not compiled.
Config compile_config(const Model& model);
// Compiles `model` from a compile_config (Keras 3) — px::Error naming what cannot be
// rebuilt (a custom loss that is not registered, ...).
void compile_from_config(Model& model, const Config& config);
// Compiles `model` from a legacy .h5 training_config (Keras 2: optimizer_config, loss,
// metrics, loss_weights; "lr" for learning_rate). Ignored (not an error): weighted_metrics,
// sample_weight_mode. px::Error as above.
void compile_from_legacy_config(Model& model, const Config& config);

// Writes optimizer/vars/<i> for a compiled model (nothing for an uncompiled one).
void write_optimizer_state(const Model& model, const h5::Group& root);
// Restores the optimizer's state from optimizer/vars when the file has it (checked in full
// before anything is assigned). Returns whether there was a state to restore.
bool read_optimizer_state(const Model& model, const h5::Group& root);

// BackupAndRestore's file: a Keras 3 ".weights.h5" with the optimizer's variables
// (optimizer/vars) and `metadata` (JSON) in the root attribute "plexus_training_metadata",
// written atomically — one file, so weights, optimizer and position always agree.
void write_training_backup(const Model& model, const std::string& path,
                           const std::string& metadata);
// Restores weights and optimizer state (all checked before any is assigned) and returns
// the metadata; px::Error for a file that is not such a backup.
std::string read_training_backup(const Model& model, const std::string& path);

}  // namespace plexus::saving::detail
