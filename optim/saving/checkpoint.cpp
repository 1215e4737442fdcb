#include "optim/saving/checkpoint.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "core/error.hpp"
#include "optim/distribution.hpp"
#include "optim/model.hpp"
#include "optim/saving/saving.hpp"

namespace plexus::callbacks {

namespace {
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Python's format spec on an int or a double ("02d", ".2f", ">8.3e", ...).
std::string format_value(double v, bool integer, const std::string& spec, const std::string& key,
                         const std::string& pattern) {
  try {
    const char type = spec.empty() ? '\0' : spec.back();
    if (integer && (type == '\0' || type == 'd' || type == 'x' || type == 'o' || type == 'b')) {
      return fmt::format(fmt::runtime("{:" + spec + "}"), static_cast<long long>(v));
    }
    if (!integer && type == 'd') {
      throw Error("ModelCheckpoint: filepath \"{}\" formats {} (a float) with \"{}\"", pattern, key,
                  spec);
    }
    // Python prints a float without a spec as repr(): the shortest round-trip digits.
    return fmt::format(fmt::runtime("{:" + spec + "}"), v);
  } catch (const fmt::format_error& e) {
    throw Error("ModelCheckpoint: filepath \"{}\": invalid format \"{}\" for {}: {}", pattern, spec,
                key, e.what());
  }
}
}  // namespace

std::string format_checkpoint_path(const std::string& pattern, int epoch, std::optional<int> batch,
                                   const Logs& logs) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '{' && i + 1 < pattern.size() && pattern[i + 1] == '{') {
      out += '{';
      ++i;
    } else if (c == '}' && i + 1 < pattern.size() && pattern[i + 1] == '}') {
      out += '}';
      ++i;
    } else if (c == '{') {
      const auto close = pattern.find('}', i);
      if (close == std::string::npos) {
        throw Error("ModelCheckpoint: filepath \"{}\" has an unmatched \"{{\"", pattern);
      }
      const std::string field = pattern.substr(i + 1, close - i - 1);
      const auto colon = field.find(':');
      const std::string key = field.substr(0, colon);
      const std::string spec = colon == std::string::npos ? "" : field.substr(colon + 1);
      if (key == "epoch") {
        out += format_value(epoch + 1, true, spec, key, pattern);
      } else if (key == "batch" && batch) {
        out += format_value(*batch + 1, true, spec, key, pattern);
      } else if (auto it = logs.find(key); it != logs.end()) {
        out += format_value(it->second, false, spec, key, pattern);
      } else {
        std::string known = "epoch";
        if (batch) known += ", batch";
        for (const auto& [k, v] : logs) known += ", " + k;
        throw Error(
            "ModelCheckpoint: filepath \"{}\" uses {{{}}}, which is not available (have: {})",
            pattern, key, known);
      }
      i = close;
    } else if (c == '}') {
      throw Error("ModelCheckpoint: filepath \"{}\" has an unmatched \"}}\"", pattern);
    } else {
      out += c;
    }
  }
  return out;
}

ModelCheckpoint::ModelCheckpoint(ModelCheckpointOptions options) : options_(std::move(options)) {
  const auto& p = options_.filepath;
  if (options_.save_weights_only && !ends_with(p, ".weights.h5")) {
    throw Error(
        "ModelCheckpoint: when save_weights_only is true, filepath must end in \".weights.h5\", "
        "received \"{}\"",
        p);
  }
  if (!options_.save_weights_only && !ends_with(p, ".keras") &&
      !(ends_with(p, ".h5") && !ends_with(p, ".weights.h5"))) {
    throw Error(
        "ModelCheckpoint: filepath must end in \".keras\" or \".h5\" (Keras's legacy "
        "format), or in \".weights.h5\" with save_weights_only, received \"{}\"",
        p);
  }
  if (options_.mode != "auto" && options_.mode != "min" && options_.mode != "max") {
    throw Error("ModelCheckpoint: mode must be \"auto\", \"min\" or \"max\", received \"{}\"",
                options_.mode);
  }
  if (auto* s = std::get_if<std::string>(&options_.save_freq); s && *s != "epoch") {
    throw Error(
        "ModelCheckpoint: save_freq must be \"epoch\" or a number of batches, received "
        "\"{}\"",
        *s);
  }
  if (auto* n = std::get_if<int>(&options_.save_freq); n && *n <= 0) {
    throw Error("ModelCheckpoint: save_freq must be positive, received {}", *n);
  }
  // Keras: "auto" maximises accuracies (and fmeasure), minimises everything else.
  maximize_ = options_.mode == "max" ||
              (options_.mode == "auto" && (options_.monitor.find("acc") != std::string::npos ||
                                           options_.monitor.rfind("fmeasure", 0) == 0));
}

void ModelCheckpoint::on_train_begin(const Logs&) {
  const double inf = std::numeric_limits<double>::infinity();
  best_ = options_.initial_value_threshold.value_or(maximize_ ? -inf : inf);
  batches_seen_ = 0;
}

void ModelCheckpoint::on_epoch_begin(int epoch, const Logs&) { epoch_ = epoch; }

void ModelCheckpoint::on_train_batch_end(int batch, const Logs& logs) {
  Callback::on_train_batch_end(batch, logs);
  if (auto* n = std::get_if<int>(&options_.save_freq)) {
    if (++batches_seen_ % *n == 0) save(epoch_, batch, logs);
  }
}

void ModelCheckpoint::on_epoch_end(int epoch, Logs& logs) {
  if (std::holds_alternative<std::string>(options_.save_freq)) save(epoch, std::nullopt, logs);
}

void ModelCheckpoint::save(int epoch, std::optional<int> batch, const Logs& logs) {
  if (!distribution::is_chief()) return;  // data-parallel: process 0 writes the files
  const std::string path = format_checkpoint_path(options_.filepath, epoch, batch, logs);
  if (options_.save_best_only) {
    auto it = logs.find(options_.monitor);
    if (it == logs.end()) {
      if (options_.verbose > 0) {
        std::printf("Can save best model only with %s available, skipping.\n",
                    options_.monitor.c_str());
      }
      return;
    }
    const double current = it->second;
    const bool better = !std::isnan(current) && (maximize_ ? current > best_ : current < best_);
    if (!better) {
      if (options_.verbose > 0) {
        std::printf("\nEpoch %d: %s did not improve from %.5f\n", epoch + 1,
                    options_.monitor.c_str(), best_);
      }
      return;
    }
    if (options_.verbose > 0) {
      std::printf("\nEpoch %d: %s improved from %.5f to %.5f, saving model to %s\n", epoch + 1,
                  options_.monitor.c_str(), best_, current, path.c_str());
    }
    best_ = current;
  } else if (options_.verbose > 0) {
    std::printf("\nEpoch %d: saving model to %s\n", epoch + 1, path.c_str());
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  if (options_.save_weights_only) {
    saving::save_weights(model(), path);
  } else {
    saving::save_model(model(), path);
  }
  last_saved_ = path;
}

}  // namespace plexus::callbacks
