// Callbacks: the built-ins' Keras semantics and user-defined callbacks.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <plexus.hpp>
#include <sstream>

namespace px = plexus;

namespace {

// A single linear unit on y = 2x: small, fast and deterministic.
struct Setup {
  px::Model model;
  px::Tensor x, y;
};

Setup linear_problem(double lr = 0.05) {
  px::utils::set_random_seed(4);
  auto in = px::Input({1});
  auto out = px::layers::Dense(1, {.name = "lin"})(in);
  Setup s{px::Model(in, out), px::Tensor::from_shape({32, 1}), px::Tensor::from_shape({32, 1})};
  for (std::size_t i = 0; i < 32; ++i) {
    s.x(i, 0) = static_cast<float>(i) / 32.0f - 0.5f;
    s.y(i, 0) = 2.0f * s.x(i, 0);
  }
  s.model.compile(px::optim::SGD({.learning_rate = lr}), "mse", {"mae"});
  return s;
}

class Recorder : public px::callbacks::Callback {
 public:
  std::vector<std::string> events;
  void on_train_begin(const px::callbacks::Logs&) override { events.push_back("train_begin"); }
  void on_epoch_begin(int e, const px::callbacks::Logs&) override {
    events.push_back("epoch_begin " + std::to_string(e));
  }
  void on_batch_end(int b, const px::callbacks::Logs& logs) override {
    if (b == 0) events.push_back(logs.count("loss") ? "batch_end with loss" : "batch_end");
  }
  void on_epoch_end(int e, px::callbacks::Logs& logs) override {
    events.push_back("epoch_end " + std::to_string(e) + (logs.count("val_mae") ? " val" : ""));
    if (e == 2) model().stop_training = true;
  }
  void on_train_end(const px::callbacks::Logs&) override { events.push_back("train_end"); }
};

}  // namespace

TEST(Callbacks, UserCallbackSeesEveryEventAndCanStopTraining) {
  auto s = linear_problem();
  auto rec = std::make_shared<Recorder>();
  auto hist = s.model.fit(
      s.x, s.y,
      {.epochs = 10, .batch_size = 8, .validation_split = 0.25, .verbose = 0, .callbacks = {rec}});
  EXPECT_EQ(hist.history.at("loss").size(), 3u);  // stopped after epoch 2
  std::vector<std::string> want{"train_begin",     "epoch_begin 0", "batch_end with loss",
                                "epoch_end 0 val", "epoch_begin 1", "batch_end with loss",
                                "epoch_end 1 val", "epoch_begin 2", "batch_end with loss",
                                "epoch_end 2 val", "train_end"};
  EXPECT_EQ(rec->events, want);
  EXPECT_EQ(rec->params().steps, 3);  // 24 training samples / 8
  for (const char* k : {"loss", "mae", "val_loss", "val_mae"}) EXPECT_TRUE(hist.history.count(k));
}

TEST(Callbacks, CsvLoggerWritesOneRowPerEpoch) {
  auto s = linear_problem();
  auto path = std::filesystem::temp_directory_path() / "plexus_csvlogger_test.csv";
  s.model.fit(s.x, s.y,
              {.epochs = 3, .verbose = 0, .callbacks = {px::callbacks::CSVLogger(path.string())}});
  std::ifstream in(path);
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header, "epoch,loss,mae");
  int rows = 0;
  while (std::getline(in, line)) {
    EXPECT_EQ(line.rfind(std::to_string(rows) + ",", 0), 0u) << line;
    ++rows;
  }
  EXPECT_EQ(rows, 3);
  std::filesystem::remove(path);
}

TEST(Callbacks, ReduceLROnPlateauCutsTheRateAfterPatienceEpochs) {
  auto s = linear_problem(1e-12);  // the loss moves by far less than min_delta: a plateau
  auto reduce = std::make_shared<px::callbacks::ReduceLROnPlateau>(
      px::callbacks::ReduceLROnPlateauOptions{.monitor = "loss", .factor = 0.5, .patience = 2});
  auto hist = s.model.fit(s.x, s.y, {.epochs = 7, .verbose = 0, .callbacks = {reduce}});
  // Epoch 0 sets the best; the rate is cut at the end of epochs 2, 4 and 6 (logged before).
  const auto& lr = hist.history.at("learning_rate");
  ASSERT_EQ(lr.size(), 7u);
  EXPECT_DOUBLE_EQ(lr[2], 1e-12);
  EXPECT_DOUBLE_EQ(lr[3], 0.5e-12);
  EXPECT_DOUBLE_EQ(lr[6], 0.25e-12);
  EXPECT_DOUBLE_EQ(s.model.optimizer().learning_rate(), 0.125e-12);
}

TEST(Callbacks, TerminateOnNaNStopsAtTheFirstBadBatch) {
  auto s = linear_problem(1e6);  // diverges to inf quickly
  auto hist = s.model.fit(s.x, s.y,
                          {.epochs = 50,
                           .batch_size = 4,
                           .verbose = 0,
                           .callbacks = {px::callbacks::TerminateOnNaN()}});
  EXPECT_LT(hist.history.at("loss").size(), 50u);
}

TEST(Callbacks, LearningRateSchedulerSetsTheRateEachEpoch) {
  auto s = linear_problem();
  std::vector<double> seen;
  auto sched = px::callbacks::LearningRateScheduler(
      [](int epoch, double lr) { return epoch == 0 ? 0.1 : lr * 0.5; });
  auto hist = s.model.fit(s.x, s.y, {.epochs = 3, .verbose = 0, .callbacks = {sched}});
  EXPECT_EQ(hist.history.at("learning_rate"), (std::vector<double>{0.1, 0.05, 0.025}));
}

TEST(Callbacks, LambdaCallbackRunsTheGivenFunctions) {
  auto s = linear_problem();
  int epochs = 0, batches = 0;
  auto cb = px::callbacks::LambdaCallback(
      {.on_epoch_end = [&](int, px::callbacks::Logs&) { ++epochs; },
       .on_batch_end = [&](int, const px::callbacks::Logs&) { ++batches; }});
  s.model.fit(s.x, s.y, {.epochs = 2, .batch_size = 16, .verbose = 0, .callbacks = {cb}});
  EXPECT_EQ(epochs, 2);
  EXPECT_EQ(batches, 4);
}

TEST(Callbacks, EarlyStoppingModeAndMinDelta) {
  auto s = linear_problem(0.0);  // constant loss: never an improvement after epoch 0
  auto early = std::make_shared<px::callbacks::EarlyStopping>(
      px::callbacks::EarlyStoppingOptions{.monitor = "loss", .patience = 1});
  auto hist = s.model.fit(s.x, s.y, {.epochs = 10, .verbose = 0, .callbacks = {early}});
  EXPECT_EQ(hist.history.at("loss").size(), 2u);
  EXPECT_EQ(early->stopped_epoch(), 1);
  EXPECT_THROW(px::callbacks::EarlyStopping({.mode = "sideways"}), px::Error);
}
