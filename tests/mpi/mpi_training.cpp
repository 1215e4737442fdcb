// Data-parallel training under mpirun (tests/mpi/CMakeLists.txt runs it with -np 2 and 3).
//
//   mpi_training suite            GoogleTest: N processes train exactly as one process on
//                                 the same global batches; entry checks; predict/evaluate
//   mpi_training kill DIR         fit with BackupAndRestore in DIR; process 1 kills itself
//                                 with SIGKILL mid-epoch (the job must end, non-zero)
//   mpi_training resume DIR       the same fit relaunched: resumes from DIR, and process 0
//                                 checks the weights against one uninterrupted process
//   mpi_training throw            process 1 raises in a callback mid-fit (the job aborts)
//   mpi_training hang             process 1 stops answering (sleeps) mid-fit; the others'
//                                 collective times out after 3 s and aborts the job
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "core/random.hpp"
#include "layers/core.hpp"
#include "layers/normalization.hpp"
#include "layers/recurrent.hpp"
#include "optim/callbacks.hpp"
#include "optim/data/dataset.hpp"
#include "optim/distribution.hpp"
#include "optim/metrics.hpp"
#include "optim/model.hpp"
#include "optim/optimizers.hpp"
#include "optim/saving/backup.hpp"
#include "optim/saving/checkpoint.hpp"

namespace px = plexus;
namespace dist = plexus::distribution;
using px::Tensor;

namespace {

constexpr std::size_t kSamples = 103, kFeatures = 5;

Tensor features(std::size_t n = kSamples, unsigned seed = 7) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Tensor t = Tensor::from_shape({n, kFeatures});
  for (float& v : t) v = u(rng);
  return t;
}

Tensor labels(const Tensor& x) {
  const std::size_t n = x.shape()[0];
  Tensor y = Tensor::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) {
    const float s = x(i, 0) + 0.5f * x(i, 1) - x(i, 2) * x(i, 3);
    y(i) = s < -0.3f ? 0.0f : (s < 0.3f ? 1.0f : 2.0f);
  }
  return y;
}

px::Model mlp(std::uint64_t seed, int hidden = 16) {
  px::utils::set_random_seed(seed);
  px::Sequential m({
      px::layers::Dense(hidden, {.activation = "relu", .input_shape = {kFeatures}}),
      px::layers::Dense(3, "softmax"),
  });
  m.compile({.optimizer = px::optim::Adam({.learning_rate = 0.01}),
             .loss = "sparse_categorical_crossentropy",
             .metrics = {"accuracy"}});
  return m;
}

std::vector<float> flat_weights(const px::Model& m) {
  std::vector<float> out;
  for (const Tensor& w : m.get_weights()) out.insert(out.end(), w.begin(), w.end());
  return out;
}

// Process 0's values on every process.
std::vector<float> from_chief(std::vector<float> v) {
  dist::communicator()->broadcast(v.data(), v.size() * sizeof(float), 0);
  return v;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
  }
  return m;
}

// Runs `f` as one process (no distribution) on process 0 only; the others wait.
template <typename F>
void on_chief_alone(F&& f) {
  if (dist::is_chief()) {
    dist::set_distribution(std::nullopt);
    f();
    dist::set_distribution(dist::DataParallel());
  }
  dist::communicator()->barrier();
}

px::FitOptions fit_options() {
  return {.epochs = 3,
          .batch_size = 16,  // 82 training rows: 5 full batches and one of 2 (uneven)
          .validation_split = 0.2,
          .shuffle = true,
          .class_weight = {{0, 1.0}, {1, 2.0}, {2, 0.5}},
          .verbose = 0};
}

TEST(DataParallel, TrainsAsOneProcessOnTheGlobalBatches) {
  const Tensor x = features(), y = labels(x);
  px::Model m = mlp(11);
  const auto calls = dist::statistics().gradient_allreduces;
  const px::History h = m.fit(x, y, fit_options());
  EXPECT_EQ(dist::statistics().gradient_allreduces - calls, 3u * 6u);  // 3 epochs of 6 steps
  const std::vector<float> w = flat_weights(m);
  // Identical on every process, bit for bit.
  EXPECT_EQ(max_diff(w, from_chief(w)), 0.0);
  const std::vector<double> scores = m.evaluate(x, y, {.batch_size = 10, .verbose = 0});
  const Tensor pred = m.predict(x, {.batch_size = 10});
  on_chief_alone([&] {
    px::Model ref = mlp(11);
    const px::History rh = ref.fit(x, y, fit_options());
    const std::vector<float> rw = flat_weights(ref);
    std::printf("%d processes vs 1: max |dw| = %.3g after 3 epochs (weights up to %.3g)\n",
                dist::num_processes(), max_diff(w, rw),
                max_diff(rw, std::vector<float>(rw.size(), 0.0f)));
    EXPECT_LT(max_diff(w, rw), 1e-6) << "weights after 3 epochs";
    for (const char* key : {"loss", "accuracy", "val_loss", "val_accuracy"}) {
      ASSERT_EQ(h.history.at(key).size(), 3u) << key;
      for (std::size_t e = 0; e < 3; ++e) {
        EXPECT_NEAR(h.history.at(key)[e], rh.history.at(key)[e], 1e-6) << key << " epoch " << e;
      }
    }
    const std::vector<double> rs = ref.evaluate(x, y, {.batch_size = 10, .verbose = 0});
    ASSERT_EQ(scores.size(), rs.size());
    for (std::size_t i = 0; i < rs.size(); ++i) EXPECT_NEAR(scores[i], rs[i], 1e-6) << i;
    const Tensor rp = ref.predict(x, {.batch_size = 10});
    ASSERT_EQ(pred.shape(), rp.shape());
    double d = 0;
    for (std::size_t i = 0; i < rp.size(); ++i) {
      d = std::max(d, std::abs(static_cast<double>(pred.data()[i]) - rp.data()[i]));
    }
    EXPECT_LT(d, 1e-6) << "predict";
  });
}

// fit on a dataset: each process reads only its own shard of the batches (batch i goes to
// process i % N), and a step trains on the union of the processes' batches — the same as
// one process on batches N times larger (the batches are consecutive rows, unshuffled).
TEST(DataParallel, DatasetShardsTrainAsOneProcessOnTheUnionOfTheBatches) {
  const Tensor x = features(82), y = labels(x);  // 11 batches of 8, the last of 2 rows
  const int n = dist::num_processes();
  std::atomic<int> read{0};
  auto ds = px::data::Dataset::from_tensor_slices(x, y).batch(8).map([&](px::StepData b) {
    ++read;
    return b;
  });
  px::Model m = mlp(5);
  const auto calls = dist::statistics().gradient_allreduces;
  const px::History h = m.fit(ds, px::kw::epochs = 2, px::kw::verbose = 0);
  const int steps = (11 + n - 1) / n;
  EXPECT_EQ(dist::statistics().gradient_allreduces - calls, 2u * steps);
  // This process's share of the 11 batches, each epoch.
  const int rank = dist::communicator()->rank();
  EXPECT_EQ(read.load(), 2 * ((11 - rank + n - 1) / n));
  const std::vector<float> w = flat_weights(m);
  EXPECT_EQ(max_diff(w, from_chief(w)), 0.0);
  const std::vector<double> scores = m.evaluate(ds, px::kw::verbose = 0);
  on_chief_alone([&] {
    px::Model ref = mlp(5);
    const px::History rh = ref.fit(px::data::Dataset::from_tensor_slices(x, y).batch(8 * n),
                                   px::kw::epochs = 2, px::kw::verbose = 0);
    EXPECT_LT(max_diff(w, flat_weights(ref)), 1e-6);
    for (std::size_t e = 0; e < 2; ++e) {
      EXPECT_NEAR(h.history.at("loss")[e], rh.history.at("loss")[e], 1e-6) << e;
    }
    const std::vector<double> rs =
        ref.evaluate(px::data::Dataset::from_tensor_slices(x, y).batch(8), px::kw::verbose = 0);
    for (std::size_t i = 0; i < rs.size(); ++i) EXPECT_NEAR(scores[i], rs[i], 1e-6) << i;
  });
}

// Buckets started during the backward pass (DataParallelOptions::bucket_bytes) give the
// same step as one all-reduce after it: 0 = one bucket; 64 and 256 bytes split the MLP's
// four gradients (12, 192, 64 and 320 bytes in the order the backward pass finishes them)
// into 3 and 2 buckets.
TEST(DataParallel, BucketsStartedDuringBackwardGiveTheSameStep) {
  const Tensor x = features(), y = labels(x);
  std::vector<float> ref;
  on_chief_alone([&] {
    px::Model r = mlp(11);
    r.fit(x, y, fit_options());
    ref = flat_weights(r);
  });
  ref = from_chief(ref.empty() ? std::vector<float>(flat_weights(mlp(11)).size()) : ref);
  for (const auto& [bytes, buckets] :
       std::vector<std::pair<std::size_t, std::uint64_t>>{{0, 1}, {64, 3}, {256, 2}}) {
    dist::set_distribution(dist::DataParallel({.timeout_seconds = 120.0, .bucket_bytes = bytes}));
    px::Model m = mlp(11);
    const auto before = dist::statistics();
    m.fit(x, y, fit_options());
    const auto& after = dist::statistics();
    EXPECT_EQ(after.gradient_buckets - before.gradient_buckets, 3u * 6u * buckets)
        << "bucket_bytes " << bytes;
    const std::vector<float> w = flat_weights(m);
    EXPECT_EQ(max_diff(w, from_chief(w)), 0.0) << "bucket_bytes " << bytes;
    EXPECT_LT(max_diff(w, ref), 1e-6) << "bucket_bytes " << bytes;
  }
  dist::set_distribution(dist::DataParallel({.timeout_seconds = 120.0}));
}

TEST(DataParallel, BroadcastsProcessZerosWeightsAtEntry) {
  const Tensor x = features(), y = labels(x);
  // Each process initialises differently; fit starts from process 0's weights and ends
  // identical everywhere.
  px::Model m = mlp(100 + static_cast<std::uint64_t>(dist::process_id()));
  const std::vector<float> initial = from_chief(flat_weights(m));
  m.fit(x, y, {.epochs = 1, .batch_size = 32, .verbose = 0});
  const std::vector<float> w = flat_weights(m);
  EXPECT_EQ(max_diff(w, from_chief(w)), 0.0);
  on_chief_alone([&] {
    px::Model ref = mlp(100);
    EXPECT_EQ(max_diff(flat_weights(ref), initial), 0.0);
    ref.fit(x, y, {.epochs = 1, .batch_size = 32, .verbose = 0});
    EXPECT_LT(max_diff(w, flat_weights(ref)), 1e-6);
  });
}

TEST(DataParallel, DropoutAndBatchNormStayInStep) {
  const Tensor x = features(), y = labels(x);
  px::utils::set_random_seed(5);
  px::Sequential m({
      px::layers::Dense(16, {.activation = "relu", .input_shape = {kFeatures}}),
      px::layers::BatchNormalization(),
      px::layers::Dropout(0.3),
      px::layers::Dense(3, "softmax"),
  });
  m.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  m.fit(x, y, {.epochs = 2, .batch_size = 16, .verbose = 0});
  const std::vector<float> w = flat_weights(m);  // includes the moving statistics
  EXPECT_EQ(max_diff(w, from_chief(w)), 0.0);
  // Each process draws its own dropout masks from the shared generator.
  std::vector<std::uint64_t> salts(static_cast<std::size_t>(dist::num_processes()));
  const std::uint64_t salt = px::process_stream_salt();
  dist::communicator()->allgather(&salt, 1, salts.data());
  for (std::size_t r = 0; r < salts.size(); ++r) {
    for (std::size_t q = 0; q < r; ++q) EXPECT_NE(salts[r], salts[q]) << r << " " << q;
  }
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const px::Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(DataParallel, EntryNamesADataSizeMismatch) {
  const std::size_t n = dist::process_id() == 1 ? kSamples - 1 : kSamples;
  const Tensor x = features(n), y = labels(x);
  px::Model m = mlp(3);
  const std::string e = error_of([&] { m.fit(x, y, {.epochs = 1, .verbose = 0}); });
  EXPECT_NE(e.find("disagree on the number of samples"), std::string::npos) << e;
  EXPECT_NE(e.find("process 1: 102"), std::string::npos) << e;
  EXPECT_NE(e.find("process 0: 103"), std::string::npos) << e;
}

TEST(DataParallel, EntryNamesAModelMismatch) {
  const Tensor x = features(), y = labels(x);
  px::Model m = mlp(3, dist::process_id() == 1 ? 17 : 16);
  const std::string e = error_of([&] { m.fit(x, y, {.epochs = 1, .verbose = 0}); });
  EXPECT_NE(e.find("disagree on the number of parameters"), std::string::npos) << e;
}

TEST(DataParallel, OneProcessesSetupErrorReachesEveryProcess) {
  const Tensor x = features();
  Tensor y = labels(x);
  if (dist::process_id() == 1) y(4) = 7.0f;  // out of range for 3 classes, on process 1 only
  px::Model m = mlp(3);
  const std::string e = error_of([&] { m.fit(x, y, {.epochs = 1, .verbose = 0}); });
  if (dist::process_id() == 1) {
    EXPECT_NE(e.find("7"), std::string::npos) << e;  // its own error
  } else {
    EXPECT_NE(e.find("fit: process 1 of"), std::string::npos) << e;
  }
  // The processes are still in step: a fit afterwards works.
  const Tensor y2 = labels(x);
  m.fit(x, y2, {.epochs = 1, .verbose = 0});
  const std::vector<float> w = flat_weights(m);
  EXPECT_EQ(max_diff(w, from_chief(w)), 0.0);
}

// A metric with no summable state.
class Opaque : public px::metrics::Metric {
 public:
  Opaque() : Metric("opaque") {}
  void reset_state() override {}
  void update_state(const Tensor&, const Tensor&, const Tensor*) override {}
  double result() const override { return 0; }
  std::shared_ptr<Metric> clone() const override { return std::make_shared<Opaque>(); }
};

// A stateful RNN keeps states per row of its batch; sharded, each process would keep its
// shard's: fit, evaluate and predict refuse it on every process (no hang).
TEST(DataParallel, StatefulLayersAreRefusedByName) {
  auto in = px::Input({3, kFeatures}, {.batch_size = 4});
  px::Model m(in, px::layers::Dense(1)(px::layers::LSTM(2, {.stateful = true})(in)));
  m.compile("sgd", "mse");
  const Tensor x = Tensor::from_shape({8, 3, kFeatures}), y = Tensor::from_shape({8, 1});
  for (const std::string& msg :
       {error_of([&] { m.fit(x, y, {.batch_size = 4, .verbose = 0}); }),
        error_of([&] { m.evaluate(x, y, {.batch_size = 4, .verbose = 0}); }),
        error_of([&] { m.predict(x, {.batch_size = 4}); })}) {
    EXPECT_NE(msg.find("stateful recurrent layers"), std::string::npos) << msg;
  }
}

TEST(DataParallel, AMetricWithoutStateIsAnError) {
  const Tensor x = features(), y = labels(x);
  px::utils::set_random_seed(3);
  px::Sequential m({px::layers::Dense(3, {.activation = "softmax", .input_shape = {kFeatures}})});
  m.compile(
      {.optimizer = "adam", .loss = "sparse_categorical_crossentropy", .metrics = {Opaque()}});
  const std::string e = error_of([&] { m.fit(x, y, {.epochs = 1, .verbose = 0}); });
  EXPECT_NE(e.find("metric \"opaque\""), std::string::npos) << e;
}

TEST(DataParallel, OnlyProcessZeroWritesFiles) {
  const Tensor x = features(), y = labels(x);
  const std::string me = std::to_string(dist::process_id());
  const std::filesystem::path dir = std::filesystem::current_path() / "chief_only";
  const std::string log = (dir / ("log_" + me + ".csv")).string();
  const std::string ckpt = (dir / ("ckpt_" + me + ".weights.h5")).string();
  if (dist::is_chief()) std::filesystem::create_directories(dir);
  dist::communicator()->barrier();
  std::filesystem::remove(log);
  std::filesystem::remove(ckpt);
  px::Model m = mlp(8);
  m.fit(x, y,
        {.epochs = 2,
         .batch_size = 16,
         .verbose = 0,
         .callbacks = {
             px::callbacks::CSVLogger(log),
             px::callbacks::ModelCheckpoint({.filepath = ckpt, .save_weights_only = true})}});
  EXPECT_EQ(std::filesystem::exists(log), dist::is_chief()) << log;
  EXPECT_EQ(std::filesystem::exists(ckpt), dist::is_chief()) << ckpt;
}

// --- the fault and resume modes -----------------------------------------------------------

px::Model backup_run(const std::string& dir, std::vector<px::CallbackRef> extra) {
  const Tensor x = features(), y = labels(x);
  px::Model m = mlp(21);
  std::vector<px::CallbackRef> cbs = std::move(extra);
  if (!dir.empty()) cbs.emplace_back(px::callbacks::BackupAndRestore({.backup_dir = dir}));
  m.fit(x, y, {.epochs = 4, .batch_size = 16, .verbose = 0, .callbacks = std::move(cbs)});
  return m;
}

// Calls `act` on process `who` when epoch `epoch`'s batch `batch` begins.
class At : public px::callbacks::Callback {
 public:
  At(int who, int epoch, int batch, std::function<void()> act)
      : who_(who), epoch_at_(epoch), batch_(batch), act_(std::move(act)) {}
  void on_epoch_begin(int epoch, const px::callbacks::Logs&) override { epoch_ = epoch; }
  void on_train_batch_begin(int batch, const px::callbacks::Logs&) override {
    if (dist::process_id() == who_ && epoch_ == epoch_at_ && batch == batch_) act_();
  }

 private:
  int who_, epoch_at_, batch_;
  std::function<void()> act_;
  int epoch_ = 0;
};

int run_mode(const std::string& mode, const std::string& dir) {
  if (mode == "kill") {
    backup_run(dir, {At(1, 2, 3, [] { std::raise(SIGKILL); })});
    std::fprintf(stderr, "process %d: the fit was not killed\n", dist::process_id());
    return 0;  // the test expects the job to fail: reaching here fails it
  }
  if (mode == "resume") {
    if (!std::filesystem::exists(std::filesystem::path(dir) / "latest.weights.h5")) {
      std::fprintf(stderr, "no backup in %s\n", dir.c_str());
      return 1;
    }
    const px::Model resumed = backup_run(dir, {});
    const std::vector<float> w = flat_weights(resumed);
    int bad = max_diff(w, from_chief(w)) == 0.0 ? 0 : 1;
    if (dist::is_chief()) {
      dist::set_distribution(std::nullopt);
      const double d = max_diff(w, flat_weights(backup_run("", {})));
      std::printf("resumed vs one uninterrupted process: max |dw| = %.3g\n", d);
      if (!(d < 1e-6)) bad = 1;
      dist::set_distribution(dist::DataParallel());
    }
    double total = bad;
    dist::communicator()->allreduce_sum(&total, 1);
    return total == 0 ? 0 : 1;
  }
  if (mode == "throw") {
    backup_run("", {At(1, 0, 3, [] { throw px::Error("injected failure on process 1"); })});
    return 0;
  }
  if (mode == "hang") {
    backup_run("", {At(1, 0, 2, [] { std::this_thread::sleep_for(std::chrono::seconds(120)); })});
    return 0;
  }
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  dist::initialize(&argc, &argv);
  const std::string mode = argc > 1 ? argv[1] : "suite";
  dist::set_distribution(dist::DataParallel({.timeout_seconds = mode == "hang" ? 3.0 : 120.0}));
  if (dist::num_processes() < 2) {
    std::fprintf(stderr, "run under mpirun with at least 2 processes\n");
    return 1;
  }
  if (mode != "suite") return run_mode(mode, argc > 2 ? argv[2] : "");
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
