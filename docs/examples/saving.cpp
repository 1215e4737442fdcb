// Saving and loading: a .keras archive that resumes training, weights only, JSON, and a
// fit that survives being killed (BackupAndRestore).
#include <cstdio>
#include <filesystem>
#include <plexus.hpp>
#include <sstream>

namespace px = plexus;
namespace fs = std::filesystem;

double max_abs_diff(const px::Tensor& a, const px::Tensor& b) {
  double m = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i)
    m = std::max(m, double(std::abs(a.data()[i] - b.data()[i])));
  return m;
}

int main() {
  const fs::path dir = fs::temp_directory_path() / "plexus_doc_saving";
  fs::create_directories(dir);
  px::utils::set_random_seed(7);

  // y = 2 x0 - x1 on 64 points.
  px::Tensor x = px::Tensor::from_shape({64, 2}), y = px::Tensor::from_shape({64, 1});
  for (std::size_t i = 0; i < 64; ++i) {
    x(i, 0) = float(i % 8) / 8.0f;
    x(i, 1) = float(i / 8) / 8.0f;
    y(i, 0) = 2.0f * x(i, 0) - x(i, 1);
  }
  auto in = px::Input({2});
  auto h = px::layers::Dense(8, "tanh")(in);
  px::Model model(in, px::layers::Dense(1)(h), "regressor");
  model.compile(px::optim::Adam({.learning_rate = 0.01}), "mse", {"mae"});
  model.fit(x, y, {.epochs = 5, .batch_size = 16, .verbose = 0});

  // 1. The whole model: architecture, weights, compile config and Adam's state.
  const std::string path = (dir / "regressor.keras").string();
  model.save(path);
  px::Model loaded = px::models::load_model(path);
  std::printf("loaded: compiled %d, optimizer %s at step %lld, max |diff| %.1g\n",
              int(loaded.compiled()), loaded.optimizer().class_name().c_str(),
              static_cast<long long>(loaded.optimizer().iterations()),
              max_abs_diff(loaded.predict(x, {.verbose = 0}), model.predict(x, {.verbose = 0})));
  // It trains on from where the original stopped (pass .initial_epoch to keep the count).
  loaded.fit(x, y, {.epochs = 10, .batch_size = 16, .initial_epoch = 5, .verbose = 0});

  // 2. Weights only (Keras 3's .weights.h5), into the same architecture from JSON.
  model.save_weights((dir / "regressor.weights.h5").string());
  px::Model copy = px::models::model_from_json(model.to_json());
  copy.load_weights((dir / "regressor.weights.h5").string());
  std::printf("json + weights: max |diff| %.1g\n",
              max_abs_diff(copy.predict(x, {.verbose = 0}), model.predict(x, {.verbose = 0})));

  // 3. A fit that can be killed and started again: each epoch is backed up; started again
  // the fit resumes from the backup; once it completes the backup folder is deleted.
  px::callbacks::BackupAndRestore backup({.backup_dir = (dir / "backup").string()});
  model.fit(x, y, {.epochs = 8, .batch_size = 16, .verbose = 0, .callbacks = {backup}});
  std::printf("backup restored: %d, backup folder left: %d\n", int(backup.restored()),
              int(fs::exists(dir / "backup")));

  // 4. Errors name what is wrong.
  try {
    auto i2 = px::Input({3});
    px::Model other(i2, px::layers::Dense(1)(px::layers::Dense(8, "tanh")(i2)));
    other.load_weights((dir / "regressor.weights.h5").string());
  } catch (const px::Error& e) {
    std::printf("error: %s\n", e.what());
  }
  fs::remove_all(dir);
  return 0;
}
