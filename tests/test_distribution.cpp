// px::distribution in one process (the multi-process tests run under mpirun: tests/mpi/):
// the API without the MPI component, the shards of a batch, summable metric states.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "core/error.hpp"
#include "core/random.hpp"
#include "layers/core.hpp"
#include "optim/data_parallel.hpp"
#include "optim/distribution.hpp"
#include "optim/metrics.hpp"
#include "optim/model.hpp"

namespace px = plexus;
namespace dist = plexus::distribution;
using px::Tensor;

// These three run in order: the first two before initialize().
TEST(Distribution, SetDistributionBeforeInitializeIsAnError) {
  ASSERT_FALSE(dist::initialized());
  try {
    dist::set_distribution(dist::DataParallel());
    FAIL() << "no error";
  } catch (const px::Error& e) {
    EXPECT_NE(std::string(e.what()).find("initialize() first"), std::string::npos) << e.what();
  }
}

TEST(Distribution, SeveralProcessesWithoutTheMpiComponentIsAnError) {
  ASSERT_FALSE(dist::initialized());
  ::setenv("OMPI_COMM_WORLD_SIZE", "4", 1);
  try {
    dist::initialize();
    ::unsetenv("OMPI_COMM_WORLD_SIZE");
    FAIL() << "no error";
  } catch (const px::Error& e) {
    ::unsetenv("OMPI_COMM_WORLD_SIZE");
    const std::string m = e.what();
    EXPECT_NE(m.find("started 4 processes (OMPI_COMM_WORLD_SIZE=4)"), std::string::npos) << m;
    EXPECT_NE(m.find("plexus::distribution"), std::string::npos) << m;
  }
  EXPECT_FALSE(dist::initialized());
}

TEST(Distribution, WithoutMpiIsOneProcessTrainingAsUsual) {
  dist::initialize();
  dist::initialize();  // again: nothing
  EXPECT_TRUE(dist::initialized());
  EXPECT_EQ(dist::process_id(), 0);
  EXPECT_EQ(dist::num_processes(), 1);
  EXPECT_TRUE(dist::is_chief());
  EXPECT_EQ(dist::communicator(), nullptr);
  Tensor x = Tensor::from_shape({40, 3}), y = Tensor::from_shape({40, 1});
  for (std::size_t i = 0; i < 40; ++i) {
    for (std::size_t j = 0; j < 3; ++j) x(i, j) = static_cast<float>((i * 7 + j * 3) % 11) / 11;
    y(i, 0) = x(i, 0) - x(i, 2);
  }
  auto train = [&] {
    px::utils::set_random_seed(4);
    px::Sequential m({px::layers::Dense(1, {.input_shape = {3}})});
    m.compile("sgd", "mse");
    m.fit(x, y, {.epochs = 2, .batch_size = 8, .verbose = 0});
    return m.get_weights();
  };
  const auto plain = train();
  dist::set_distribution(dist::DataParallel());
  EXPECT_TRUE(dist::distribution().has_value());
  EXPECT_FALSE(dist::active());  // one process: the usual loop
  const auto with = train();
  dist::set_distribution(std::nullopt);
  ASSERT_EQ(plain.size(), with.size());
  for (std::size_t i = 0; i < plain.size(); ++i) EXPECT_EQ(plain[i], with[i]);
}

TEST(Distribution, DataParallelChecksItsTimeout) {
  EXPECT_THROW(dist::DataParallel({.timeout_seconds = 0}), px::Error);
}

TEST(Distribution, ShardsCoverABatchContiguouslyAndEvenly) {
  for (int size = 1; size <= 5; ++size) {
    for (std::size_t count = 0; count <= 23; ++count) {
      std::size_t next = 0, lo = count, hi = 0;
      for (int r = 0; r < size; ++r) {
        const auto s = px::optim::shard_of(count, r, size);
        EXPECT_EQ(s.begin, next) << count << " rows, process " << r << " of " << size;
        next += s.count;
        lo = std::min(lo, s.count);
        hi = std::max(hi, s.count);
      }
      EXPECT_EQ(next, count);
      EXPECT_LE(hi - lo, 1u);
    }
  }
  const auto last = px::optim::shard_of(7, 2, 3);  // 3, 2, 2
  EXPECT_EQ(last.begin, 5u);
  EXPECT_EQ(last.count, 2u);
}

// Data-parallel logs sum each metric's state_values() over the processes: two metrics that
// saw the two halves, summed, give the metric that saw everything.
TEST(Distribution, MetricStatesSumToTheWholeDatasetsResult) {
  Tensor y_true = px::Tensor({1.0f, 0.0f, 1.0f, 1.0f, 0.0f, 0.0f, 1.0f, 0.0f});
  Tensor y_pred = px::Tensor({0.9f, 0.2f, 0.4f, 0.8f, 0.6f, 0.1f, 0.7f, 0.3f});
  y_true.reshape({8, 1});  // (N, 1): one value per sample
  y_pred.reshape({8, 1});
  Tensor a_true, b_true, a_pred, b_pred;
  px::copy_rows(y_true, 0, 5, a_true);
  px::copy_rows(y_true, 5, 3, b_true);
  px::copy_rows(y_pred, 0, 5, a_pred);
  px::copy_rows(y_pred, 5, 3, b_pred);
  std::vector<std::shared_ptr<px::metrics::Metric>> kinds{
      std::make_shared<px::metrics::BinaryAccuracy>(), std::make_shared<px::metrics::Precision>(),
      std::make_shared<px::metrics::Recall>(), std::make_shared<px::metrics::AUC>()};
  for (const auto& kind : kinds) {
    auto whole = kind->clone(), a = kind->clone(), b = kind->clone();
    whole->update_state(y_true, y_pred);
    a->update_state(a_true, a_pred);
    b->update_state(b_true, b_pred);
    auto sa = a->state_values(), sb = b->state_values();
    ASSERT_FALSE(sa.empty()) << kind->name();
    ASSERT_EQ(sa.size(), sb.size());
    for (std::size_t i = 0; i < sa.size(); ++i) *sa[i] += *sb[i];
    EXPECT_NEAR(a->result(), whole->result(), 1e-12) << kind->name();
    EXPECT_NE(b->result(), whole->result()) << kind->name() << ": the halves differ";
  }
}
