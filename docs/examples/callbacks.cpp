// Callbacks: built-in ones with keywords or structs, a LambdaCallback, a custom one.
#include <cstdio>
#include <filesystem>
#include <plexus.hpp>

namespace px = plexus;
namespace kw = px::kw;

// A user callback: counts epochs and stops after a loss threshold.
class StopBelow : public px::callbacks::Callback {
 public:
  explicit StopBelow(double threshold) : threshold_(threshold) {}
  void on_epoch_end(int epoch, px::callbacks::Logs& logs) override {
    last_epoch = epoch;
    if (logs.at("loss") < threshold_) model().stop_training = true;
  }
  int last_epoch = -1;

 private:
  double threshold_;
};

int main() {
  px::utils::set_random_seed(5);
  px::Tensor x = xt::random::randn<float>({256, 3});
  px::Tensor y = xt::sum(x, {1}, xt::keep_dims);
  px::Sequential model({px::Input({3}), px::layers::Dense(1)});
  model.compile(kw::optimizer = px::optim::Adam(kw::learning_rate = 0.05), kw::loss = "mse");

  px::callbacks::EarlyStopping early(kw::monitor = "val_loss", kw::patience = 3,
                                     kw::restore_best_weights = true);
  px::callbacks::ReduceLROnPlateau plateau({.monitor = "val_loss", .factor = 0.5, .patience = 2});
  const std::string log = (std::filesystem::temp_directory_path() / "plexus_docs_log.csv").string();
  px::callbacks::CSVLogger csv(log, kw::separator = ',');
  int epochs_seen = 0;
  px::callbacks::LambdaCallback counter(
      kw::on_epoch_end = [&](int, px::callbacks::Logs&) { ++epochs_seen; });
  StopBelow stop(1e-2);

  model.fit(x, y, kw::epochs = 200, kw::batch_size = 32, kw::validation_split = 0.2,
            kw::verbose = 0, kw::callbacks = {early, plateau, csv, counter, stop});
  std::printf("trained %d epochs (early stopping at %d, custom callback saw epoch %d)\n",
              epochs_seen, early.stopped_epoch(), stop.last_epoch);
  std::filesystem::remove(log);
  return epochs_seen > 0 && epochs_seen < 200 ? 0 : 1;
}
