#include "optim/saving/backup.hpp"

#include <filesystem>
#include <sstream>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/random.hpp"
#include "optim/distribution.hpp"
#include "optim/model.hpp"
#include "optim/saving/training_state.hpp"
#include "optim/train_state.hpp"

namespace plexus::callbacks {

namespace fs = std::filesystem;

namespace {

std::string generator_state() {
  std::ostringstream s;
  s << generator();
  return s.str();
}

Generator parse_generator(const std::string& state, const std::string& path) {
  std::istringstream s(state);
  Generator g;
  s >> g;
  if (!s) throw Error("BackupAndRestore: \"{}\" holds a malformed random generator state", path);
  return g;
}

}  // namespace

BackupAndRestore::BackupAndRestore(BackupAndRestoreOptions options) : options_(std::move(options)) {
  if (options_.backup_dir.empty()) throw Error("BackupAndRestore: backup_dir must be set");
  if (const auto* freq = std::get_if<int>(&options_.save_freq)) {
    if (*freq <= 0) {
      throw Error(
          "BackupAndRestore: save_freq must be \"epoch\" or a positive integer, received {}",
          *freq);
    }
    save_every_ = *freq;
  } else if (std::get<std::string>(options_.save_freq) != "epoch") {
    throw Error(
        "BackupAndRestore: save_freq must be \"epoch\" or a positive integer, received \"{}\"",
        std::get<std::string>(options_.save_freq));
  }
}

std::string BackupAndRestore::backup_path() const {
  return (fs::path(options_.backup_dir) / "latest.weights.h5").string();
}

void BackupAndRestore::on_train_begin(const Logs&) {
  restored_ = false;
  batches_seen_ = 0;
  Model& m = model();
  const std::string latest = backup_path();
  const std::string previous = latest + ".bkp";
  std::string path = latest, metadata;
  if (!fs::exists(latest) && !(options_.double_checkpoint && fs::exists(previous))) return;
  try {
    if (!fs::exists(latest)) throw Error("BackupAndRestore: \"{}\" is missing", latest);
    metadata = saving::detail::read_training_backup(m, latest);
  } catch (const Error&) {
    if (!options_.double_checkpoint || !fs::exists(previous)) throw;
    path = previous;
    metadata = saving::detail::read_training_backup(m, previous);
  }
  Config c;
  try {
    c = Config::parse(metadata);
  } catch (const nlohmann::json::exception& e) {
    throw Error("BackupAndRestore: \"{}\": the training metadata is not JSON: {}", path, e.what());
  }
  if (!c.is_object() || !c.contains("epoch") || !c["epoch"].is_number_integer() ||
      !c.contains("batch") || !c["batch"].is_number_integer() || !c.contains("rng") ||
      !c["rng"].is_string() || !c.contains("epoch_rng") || !c["epoch_rng"].is_string() ||
      c["epoch"].get<long>() < 0 || c["batch"].get<long>() < 0) {
    throw Error("BackupAndRestore: \"{}\": malformed training metadata {}", path,
                metadata.substr(0, 200));
  }
  int epoch = c["epoch"].get<int>();
  int batch = c["batch"].get<int>();
  const Generator rng = parse_generator(c["rng"].get<std::string>(), path);
  const Generator epoch_rng = parse_generator(c["epoch_rng"].get<std::string>(), path);
  optim::ResumePoint resume;
  if (batch == 0 || batch >= params().steps) {
    // At an epoch boundary: the generator is where the next epoch begins.
    if (batch > 0) ++epoch;
    generator() = rng;
    resume = {epoch, 0, {}};
  } else {
    // Mid-epoch: shuffle as the interrupted epoch did, then continue its draws.
    generator() = epoch_rng;
    resume = {epoch, static_cast<std::size_t>(batch), [rng] { generator() = rng; }};
  }
  optim::TrainAccess::state(m).resume = std::move(resume);
  restored_ = true;
  restored_epoch_ = epoch;
  restored_batch_ = static_cast<int>(batch >= params().steps ? 0 : batch);
  epoch_ = epoch;
}

void BackupAndRestore::on_epoch_begin(int epoch, const Logs&) {
  epoch_ = epoch;
  epoch_rng_ = generator_state();
}

void BackupAndRestore::on_train_batch_end(int batch, const Logs&) {
  if (save_every_ == 0) return;
  if (++batches_seen_ >= save_every_) {
    batches_seen_ = 0;
    save(epoch_, batch + 1);
  }
}

void BackupAndRestore::on_epoch_end(int epoch, Logs&) {
  if (save_every_ == 0) save(epoch + 1, 0);
}

void BackupAndRestore::on_train_end(const Logs&) {
  if (!options_.delete_checkpoint || !distribution::is_chief()) return;
  std::error_code ec;
  fs::remove_all(options_.backup_dir, ec);
  if (ec) {
    throw Error("BackupAndRestore: cannot delete \"{}\": {}", options_.backup_dir, ec.message());
  }
}

void BackupAndRestore::save(int epoch, int batch) {
  if (!distribution::is_chief()) return;  // data-parallel: process 0 writes the backup
  std::error_code ec;
  fs::create_directories(options_.backup_dir, ec);
  if (ec) {
    throw Error("BackupAndRestore: cannot create \"{}\": {}", options_.backup_dir, ec.message());
  }
  const std::string latest = backup_path();
  if (options_.double_checkpoint && fs::exists(latest)) {
    fs::copy_file(latest, latest + ".bkp", fs::copy_options::overwrite_existing, ec);
    if (ec) throw Error("BackupAndRestore: cannot copy \"{}\": {}", latest, ec.message());
  }
  Config metadata = Config::object();
  metadata["epoch"] = epoch;  // Keras's training_metadata.json keys
  metadata["batch"] = batch;
  metadata["epoch_rng"] = epoch_rng_;
  metadata["rng"] = generator_state();
  saving::detail::write_training_backup(model(), latest, metadata.dump());
}

}  // namespace plexus::callbacks
