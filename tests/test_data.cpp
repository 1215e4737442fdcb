// px::data::Dataset: sources, transformations, worker threads, and fit/evaluate/predict on
// datasets.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "plexus.hpp"

namespace px = plexus;
using px::StepData;
using px::Tensor;
using px::data::Dataset;

namespace {

Tensor column(std::size_t n, float start = 0) {
  Tensor t = Tensor::from_shape({n, 1});
  for (std::size_t i = 0; i < n; ++i) t(i, 0) = start + static_cast<float>(i);
  return t;
}

// The first value of each element's first input.
std::vector<float> firsts(const Dataset& ds) {
  std::vector<float> out;
  for (const StepData& b : ds) out.push_back(b.x.at(0).data()[0]);
  return out;
}

Tensor rows(const Tensor& t, std::size_t begin, std::size_t n) {
  Tensor out;
  px::copy_rows(t, begin, n, out);
  return out;
}

std::vector<float> iota_f(int begin, int end) {
  std::vector<float> v;
  for (int i = begin; i < end; ++i) v.push_back(static_cast<float>(i));
  return v;
}

}  // namespace

TEST(Dataset, FromTensorSlicesYieldsRowsWithoutTheBatchAxis) {
  Tensor x = xt::reshape_view(xt::arange<float>(12), {4, 3});
  Tensor y = xt::arange<float>(4) * 10;
  auto ds = Dataset::from_tensor_slices(x, y);
  EXPECT_EQ(ds.cardinality(), 4);
  int i = 0;
  for (const StepData& e : ds) {
    ASSERT_EQ(e.x.size(), 1u);
    ASSERT_EQ(e.y.size(), 1u);
    EXPECT_EQ(px::shape_of(e.x[0]), (px::Shape{3}));
    EXPECT_EQ(e.x[0](2), static_cast<float>(3 * i + 2));
    EXPECT_EQ(e.y[0](), static_cast<float>(10 * i));
    EXPECT_FALSE(e.sample_weight.has_value());
    ++i;
  }
  EXPECT_EQ(i, 4);
}

TEST(Dataset, FromTensorSlicesRejectsDifferentRowCounts) {
  try {
    Dataset::from_tensor_slices(column(4), column(5));
    FAIL() << "no error";
  } catch (const px::Error& e) {
    EXPECT_NE(std::string(e.what()).find("target 0 has 5 rows"), std::string::npos) << e.what();
  }
}

TEST(Dataset, BatchStacksAndKeepsOrDropsTheRemainder) {
  auto ds = Dataset::from_tensor_slices(column(10), column(10, 100), xt::ones<float>({10}));
  auto b = ds.batch(4);
  EXPECT_EQ(b.cardinality(), 3);
  std::vector<std::size_t> sizes;
  for (const StepData& e : b) {
    sizes.push_back(e.x[0].shape()[0]);
    EXPECT_EQ(e.x[0].dimension(), 2u);
    ASSERT_TRUE(e.sample_weight.has_value());
    EXPECT_EQ(e.sample_weight->shape()[0], e.x[0].shape()[0]);
    EXPECT_EQ(e.y[0](0, 0), e.x[0](0, 0) + 100);
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{4, 4, 2}));
  EXPECT_EQ(ds.batch(4, true).cardinality(), 2);
  EXPECT_EQ(firsts(ds.batch(4, true)), (std::vector<float>{0, 4}));
  // unbatch undoes batch
  EXPECT_EQ(firsts(ds.batch(3).unbatch()), iota_f(0, 10));
}

TEST(Dataset, BatchOfDifferentShapesNamesBoth) {
  auto ds = Dataset::from_generator([] {
    int i = 0;
    return [i]() mutable -> std::optional<StepData> {
      if (i == 2) return std::nullopt;
      return StepData{{Tensor::from_shape({static_cast<std::size_t>(2 + i++)})}, {}, {}};
    };
  });
  try {
    for (const StepData& b : ds.batch(2)) (void)b;
    FAIL() << "no error";
  } catch (const px::Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("input 0 of element 1 of the batch has shape (3,)"), std::string::npos) << m;
    EXPECT_NE(m.find("(2,)"), std::string::npos) << m;
  }
}

TEST(Dataset, GeneratorStartsAFreshPassEachIteration) {
  std::atomic<int> made{0};
  auto ds = Dataset::from_generator([&made] {
    ++made;
    int i = 0;
    return [i]() mutable -> std::optional<StepData> {
      if (i == 5) return std::nullopt;
      return StepData{{Tensor{static_cast<float>(i++)}}, {}, {}};
    };
  });
  EXPECT_EQ(ds.cardinality(), px::data::kUnknown);
  EXPECT_EQ(firsts(ds), iota_f(0, 5));
  EXPECT_EQ(firsts(ds), iota_f(0, 5));
  EXPECT_EQ(made.load(), 2);
}

TEST(Dataset, TakeSkipRepeatShardZip) {
  auto ds = Dataset::from_tensor_slices(column(6));
  EXPECT_EQ(firsts(ds.take(2)), (std::vector<float>{0, 1}));
  EXPECT_EQ(firsts(ds.skip(4)), (std::vector<float>{4, 5}));
  EXPECT_EQ(ds.skip(4).cardinality(), 2);
  EXPECT_EQ(ds.skip(10).cardinality(), 0);
  EXPECT_EQ(firsts(ds.repeat(2)), (std::vector<float>{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(ds.repeat(2).cardinality(), 12);
  EXPECT_EQ(ds.repeat().cardinality(), px::data::kInfinite);
  EXPECT_EQ(firsts(ds.repeat().take(8)), (std::vector<float>{0, 1, 2, 3, 4, 5, 0, 1}));
  EXPECT_EQ(firsts(ds.shard(4, 1)), (std::vector<float>{1, 5}));
  EXPECT_EQ(ds.shard(4, 1).cardinality(), 2);
  EXPECT_EQ(ds.shard(4, 3).cardinality(), 1);
  EXPECT_THROW(ds.shard(2, 2), px::Error);
  // zip(inputs, targets): the second's inputs become the targets; it ends with the shorter.
  auto z = Dataset::zip(ds, Dataset::from_tensor_slices(column(4, 50)));
  EXPECT_EQ(z.cardinality(), 4);
  int n = 0;
  for (const StepData& e : z) {
    ASSERT_EQ(e.y.size(), 1u);
    EXPECT_EQ(e.y[0](0), e.x[0](0) + 50);
    ++n;
  }
  EXPECT_EQ(n, 4);
  auto z3 = Dataset::zip({ds, ds, ds});
  for (const StepData& e : z3) EXPECT_EQ(e.x.size(), 3u);
}

TEST(Dataset, ShuffleIsAPermutationReproducibleWithASeed) {
  auto ds = Dataset::from_tensor_slices(column(100));
  auto a = firsts(ds.shuffle(100, 7));
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, iota_f(0, 100));
  EXPECT_NE(a, iota_f(0, 100));
  // The same seed: the same first pass in a new pipeline; a new order in the next pass.
  auto s = ds.shuffle(100, 7);
  auto p1 = firsts(s), p2 = firsts(s);
  EXPECT_EQ(p1, a);
  EXPECT_NE(p1, p2);
  EXPECT_EQ(firsts(ds.shuffle(100, 7, false)), firsts(ds.shuffle(100, 7, false)));
  // A buffer of 1 does not shuffle; a small buffer keeps elements near their place
  // (tf.data's semantics: element i cannot come out before position i - buffer + 1).
  EXPECT_EQ(firsts(ds.shuffle(1, 3)), iota_f(0, 100));
  auto local = firsts(ds.shuffle(5, 3));
  for (std::size_t pos = 0; pos < local.size(); ++pos) {
    EXPECT_LE(local[pos], static_cast<float>(pos + 4)) << pos;
  }
}

TEST(Dataset, ParallelMapKeepsTheOrderAndUsesSeveralThreads) {
  std::mutex m;
  std::set<std::thread::id> threads;
  auto ds = Dataset::from_tensor_slices(column(64))
                .map(
                    [&](StepData e) {
                      {
                        std::lock_guard<std::mutex> lock(m);
                        threads.insert(std::this_thread::get_id());
                      }
                      // Later elements finish first: the order must still be the input's.
                      const int v = static_cast<int>(e.x[0](0));
                      std::this_thread::sleep_for(std::chrono::microseconds(200 * ((64 - v) % 5)));
                      e.x[0] *= 2.0f;
                      return e;
                    },
                    4);
  std::vector<float> expect;
  for (int i = 0; i < 64; ++i) expect.push_back(2.0f * static_cast<float>(i));
  EXPECT_EQ(firsts(ds), expect);
  EXPECT_GE(threads.size(), 2u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
}

TEST(Dataset, AnExceptionInAWorkerReachesTheConsumerInOrder) {
  auto ds = Dataset::from_tensor_slices(column(20))
                .map(
                    [](StepData e) {
                      if (e.x[0](0) == 7.0f) throw px::Error("bad element 7");
                      return e;
                    },
                    3);
  std::vector<float> seen;
  try {
    for (const StepData& e : ds.prefetch(2)) seen.push_back(e.x[0](0));
    FAIL() << "no error";
  } catch (const px::Error& e) {
    EXPECT_STREQ(e.what(), "bad element 7");
  }
  EXPECT_EQ(seen, iota_f(0, 7));
}

TEST(Dataset, PrefetchRunsAheadOnAThreadAndAnAbandonedPassEnds) {
  std::atomic<int> produced{0};
  auto ds = Dataset::from_tensor_slices(column(100))
                .map(
                    [&](StepData e) {
                      ++produced;
                      return e;
                    },
                    1)
                .prefetch(3);
  {
    auto it = ds.begin();
    EXPECT_EQ(it->x[0](0), 0.0f);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    // One taken, three waiting, one in the producer's hands: not the whole dataset.
    EXPECT_GE(produced.load(), 3);
    EXPECT_LE(produced.load(), 6);
  }  // the iterator's thread ends here
  EXPECT_EQ(firsts(ds), iota_f(0, 100));
}

TEST(Dataset, CacheInMemoryRunsThePipelineOnce) {
  std::atomic<int> calls{0};
  auto ds = Dataset::from_tensor_slices(column(10))
                .map(
                    [&](StepData e) {
                      ++calls;
                      return e;
                    },
                    2)
                .cache();
  EXPECT_EQ(firsts(ds), iota_f(0, 10));
  EXPECT_EQ(firsts(ds), iota_f(0, 10));
  EXPECT_EQ(calls.load(), 10);
  // A partial first pass is not a cache.
  auto ds2 = Dataset::from_tensor_slices(column(10))
                 .map([&](StepData e) {
                   ++calls;
                   return e;
                 })
                 .cache();
  calls = 0;
  EXPECT_EQ(firsts(ds2.take(3)), iota_f(0, 3));
  EXPECT_EQ(firsts(ds2), iota_f(0, 10));
  EXPECT_EQ(firsts(ds2), iota_f(0, 10));
  EXPECT_EQ(calls.load(), 3 + 10);
}

TEST(Dataset, CacheInAFileIsReadByALaterPipeline) {
  const auto path = std::filesystem::temp_directory_path() / "px_test_data_cache.bin";
  std::filesystem::remove(path);
  std::atomic<int> calls{0};
  auto make = [&] {
    return Dataset::from_tensor_slices(column(7), column(7, 1), xt::ones<float>({7}))
        .map([&](StepData e) {
          ++calls;
          return e;
        })
        .batch(3)
        .cache(path.string());
  };
  std::vector<float> first;
  for (const StepData& b : make()) first.push_back(b.y[0](0, 0));
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(calls.load(), 7);
  std::vector<float> again;
  std::size_t rows = 0;
  for (const StepData& b : make()) {  // a new pipeline: read from the file
    again.push_back(b.y[0](0, 0));
    rows += b.x[0].shape()[0];
    ASSERT_TRUE(b.sample_weight.has_value());
  }
  EXPECT_EQ(calls.load(), 7);
  EXPECT_EQ(first, again);
  EXPECT_EQ(rows, 7u);
  std::filesystem::remove(path);
}

namespace {
class Squares : public px::data::PyDataset {
 public:
  Squares() : PyDataset(/*workers=*/3, /*max_queue_size=*/4) {}
  std::size_t size() const override { return 5; }
  StepData get(std::size_t i) override {
    ++gets;
    Tensor x = column(2, static_cast<float>(2 * i));
    Tensor y = x * x;
    return {{x}, {y}, {}};
  }
  void on_epoch_end() override { ++epochs_ended; }
  std::atomic<int> gets{0}, epochs_ended{0};
};
}  // namespace

TEST(Dataset, PyDatasetGivesItsBatchesInOrderThenEndsTheEpoch) {
  auto src = std::make_shared<Squares>();
  auto ds = Dataset::from_py_dataset(src);
  EXPECT_EQ(ds.cardinality(), 5);
  EXPECT_EQ(firsts(ds), (std::vector<float>{0, 2, 4, 6, 8}));
  EXPECT_EQ(src->epochs_ended.load(), 1);
  EXPECT_EQ(src->gets.load(), 5);
  auto shuffled = firsts(Dataset::from_py_dataset(src, true));
  std::sort(shuffled.begin(), shuffled.end());
  EXPECT_EQ(shuffled, (std::vector<float>{0, 2, 4, 6, 8}));
}

TEST(Dataset, SplitDatasetAsKeras) {
  auto ds = Dataset::from_tensor_slices(column(10));
  auto [l, r] = px::utils::split_dataset(ds, {.left_size = 0.8});
  EXPECT_EQ(firsts(l), iota_f(0, 8));
  EXPECT_EQ(firsts(r), iota_f(8, 10));
  auto [l2, r2] = px::utils::split_dataset(ds, {.right_size = 3});
  EXPECT_EQ(l2.cardinality(), 7);
  EXPECT_EQ(r2.cardinality(), 3);
  auto [l3, r3] = px::utils::split_dataset(ds, {.left_size = 0.5, .shuffle = true, .seed = 1});
  auto all = firsts(l3);
  auto right = firsts(r3);
  all.insert(all.end(), right.begin(), right.end());
  EXPECT_NE(all, iota_f(0, 10));
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, iota_f(0, 10));
  EXPECT_THROW(px::utils::split_dataset(ds, {}), px::Error);
  EXPECT_THROW(px::utils::split_dataset(ds, {.left_size = 11}), px::Error);
  EXPECT_THROW(px::utils::split_dataset(ds, {.left_size = 6, .right_size = 6}), px::Error);
  EXPECT_THROW(px::utils::split_dataset(ds.repeat(), {.left_size = 0.5}), px::Error);
}

// --- fit / evaluate / predict on a dataset --------------------------------------------------

namespace {
px::Model small_model() {
  px::utils::set_random_seed(3);
  auto in = px::Input({2});
  auto out = px::layers::Dense(1)(in);
  px::Model m(in, out);
  m.compile(px::kw::optimizer = "sgd", px::kw::loss = "mse");
  return m;
}
// y = x0 + 2 x1
std::pair<Tensor, Tensor> linear_data(std::size_t n) {
  Tensor x = Tensor::from_shape({n, 2});
  Tensor y = Tensor::from_shape({n, 1});
  for (std::size_t i = 0; i < n; ++i) {
    x(i, 0) = static_cast<float>(i % 7) / 7.0f;
    x(i, 1) = static_cast<float>(i % 5) / 5.0f;
    y(i, 0) = x(i, 0) + 2 * x(i, 1);
  }
  return {x, y};
}
}  // namespace

TEST(DatasetFit, FitOnADatasetEqualsFitOnTheSameBatches) {
  auto [x, y] = linear_data(40);
  px::Model a = small_model();
  auto ha = a.fit(x, y, px::kw::batch_size = 8, px::kw::epochs = 3, px::kw::shuffle = false,
                  px::kw::verbose = 0);
  px::Model b = small_model();
  auto hb = b.fit(Dataset::from_tensor_slices(x, y).batch(8).prefetch(2), px::kw::epochs = 3,
                  px::kw::verbose = 0);
  ASSERT_EQ(hb.history["loss"].size(), 3u);
  for (int e = 0; e < 3; ++e) EXPECT_NEAR(ha.history["loss"][e], hb.history["loss"][e], 1e-6);
  EXPECT_EQ(a.get_weights()[0], b.get_weights()[0]);
  // evaluate and predict agree with the tensor forms.
  auto ea = a.evaluate(x, y, px::kw::verbose = 0);
  auto eb = b.evaluate(Dataset::from_tensor_slices(x, y).batch(16), px::kw::verbose = 0);
  EXPECT_NEAR(ea[0], eb[0], 1e-6);
  Tensor pa = a.predict(x);
  auto pb = b.predict(Dataset::from_tensor_slices(x).batch(16));
  ASSERT_EQ(pb.size(), 1u);
  EXPECT_EQ(px::shape_of(pb[0]), (px::Shape{40, 1}));
  EXPECT_TRUE(xt::allclose(pa, pb[0]));
}

TEST(DatasetFit, ValidationDatasetStepsAndHistory) {
  auto [x, y] = linear_data(32);
  px::Model m = small_model();
  auto train = Dataset::from_tensor_slices(x, y).batch(4);
  auto val = Dataset::from_tensor_slices(x, y).batch(8);
  int batches = 0;
  px::callbacks::LambdaCallback count(
      px::kw::on_batch_end = [&](int, const px::callbacks::Logs&) { ++batches; });
  auto h = m.fit(train, px::kw::epochs = 2, px::kw::validation_data = val,
                 px::kw::validation_steps = 2, px::kw::verbose = 0, px::kw::callbacks = {count});
  EXPECT_EQ(batches, 16);
  ASSERT_EQ(h.history["val_loss"].size(), 2u);
  // validation_steps = 2: the first 16 rows only.
  auto e = m.evaluate(val.take(2), px::kw::verbose = 0);
  EXPECT_NEAR(h.history["val_loss"][1], e[0], 1e-6);
  EXPECT_NEAR(m.evaluate(val, px::kw::steps = 2, px::kw::verbose = 0)[0], e[0], 1e-6);
}

TEST(DatasetFit, StepsPerEpochReadsOnAcrossEpochsAndStopsWhenDataRunsOut) {
  auto [x, y] = linear_data(24);
  std::atomic<int> passes{0};
  auto ds = Dataset::from_generator([&, x = x, y = y] {
    ++passes;
    std::size_t i = 0;
    return [i, x, y]() mutable -> std::optional<StepData> {
      if (i >= 24) return std::nullopt;
      StepData b{{rows(x, i, 4)}, {rows(y, i, 4)}, {}};
      i += 4;
      return b;
    };
  });
  px::Model m = small_model();
  // 6 batches a pass; 3 epochs of 2 steps read one pass.
  auto h = m.fit(ds, px::kw::epochs = 3, px::kw::steps_per_epoch = 2, px::kw::verbose = 0);
  EXPECT_EQ(h.history["loss"].size(), 3u);
  EXPECT_EQ(passes.load(), 1);
  // 4 epochs of 2 steps need 8 batches: training stops in epoch 4 (Keras's warning).
  px::Model m2 = small_model();
  auto h2 = m2.fit(ds, px::kw::epochs = 5, px::kw::steps_per_epoch = 2, px::kw::verbose = 0);
  EXPECT_EQ(h2.history["loss"].size(), 3u);
  // An infinite dataset needs steps_per_epoch.
  EXPECT_THROW(m.fit(Dataset::from_tensor_slices(x, y).batch(4).repeat(), px::kw::verbose = 0),
               px::Error);
  auto h3 = m.fit(Dataset::from_tensor_slices(x, y).batch(4).repeat(), px::kw::epochs = 2,
                  px::kw::steps_per_epoch = 10, px::kw::verbose = 0);
  EXPECT_EQ(h3.history["loss"].size(), 2u);
}

TEST(DatasetFit, ErrorsNameTheProblem) {
  auto [x, y] = linear_data(8);
  px::Model m = small_model();
  auto ds = Dataset::from_tensor_slices(x, y).batch(4);
  EXPECT_THROW(m.fit(ds, px::kw::validation_split = 0.2, px::kw::verbose = 0), px::Error);
  EXPECT_THROW(m.fit(ds.take(0), px::kw::verbose = 0), px::Error);
  // Wrong input shape: the model's own message.
  auto bad = Dataset::from_tensor_slices(Tensor(xt::zeros<float>({8, 3})), y).batch(4);
  try {
    m.fit(bad, px::kw::verbose = 0);
    FAIL() << "no error";
  } catch (const px::Error& e) {
    EXPECT_NE(std::string(e.what()).find("(None, 2)"), std::string::npos) << e.what();
  }
}

TEST(DatasetFit, SampleWeightsFromTheDataset) {
  auto [x, y] = linear_data(16);
  Tensor w = xt::zeros<float>({16});
  px::Model m = small_model();
  auto before = m.get_weights();
  m.fit(Dataset::from_tensor_slices(x, y, w).batch(4), px::kw::verbose = 0);
  // Zero weights: zero loss, zero gradient, the weights unchanged.
  EXPECT_EQ(before[0], m.get_weights()[0]);
  EXPECT_EQ(m.evaluate(Dataset::from_tensor_slices(x, y, w).batch(4), px::kw::verbose = 0)[0], 0.0);
}

TEST(DatasetFit, UnbuiltSequentialBuildsFromTheFirstBatch) {
  auto [x, y] = linear_data(16);
  px::Sequential m({px::layers::Dense(1)});
  m.compile(px::kw::optimizer = "sgd", px::kw::loss = "mse");
  auto h = m.fit(Dataset::from_tensor_slices(x, y).batch(4), px::kw::verbose = 0);
  EXPECT_EQ(h.history["loss"].size(), 1u);
  EXPECT_EQ(m.count_params(), 3u);
}

TEST(Dataset, AShardMakesOnlyItsOwnElements) {
  // shard(3, 1) of batches of 4 over a map: the map runs on batch 1's and 4's rows only
  // (the request goes up through prefetch, batch and map to the source), and after a
  // shuffle (which must see everything) the map still runs on the shard's elements only.
  std::atomic<int> calls{0};
  auto count = [&](StepData e) {
    ++calls;
    return e;
  };
  auto ds = Dataset::from_tensor_slices(column(20)).map(count, 2).batch(4).prefetch(2);
  std::vector<float> got;
  for (const StepData& b : ds.shard(3, 1)) {
    for (std::size_t r = 0; r < b.x[0].shape()[0]; ++r) got.push_back(b.x[0](r, 0));
  }
  EXPECT_EQ(got, (std::vector<float>{4, 5, 6, 7, 16, 17, 18, 19}));
  EXPECT_EQ(calls.load(), 8);
  calls = 0;
  auto shuffled = Dataset::from_tensor_slices(column(20)).shuffle(20, 3).map(count).batch(5);
  int rows = 0;
  for (const StepData& b : shuffled.shard(2, 0)) rows += static_cast<int>(b.x[0].shape()[0]);
  EXPECT_EQ(rows, 10);
  EXPECT_EQ(calls.load(), 10);
  // A shard of a shard.
  EXPECT_EQ(firsts(Dataset::from_tensor_slices(column(12)).shard(2, 1).shard(3, 2)),
            (std::vector<float>{5, 11}));
}

TEST(Dataset, AnIteratorKeepsItsPipelineAlive) {
  // The dataset is a temporary; the iterator (and its worker threads) outlive it.
  auto it = Dataset::from_tensor_slices(column(6))
                .map([](StepData e) { return e; }, 2)
                .shuffle(6, 1)
                .batch(2)
                .prefetch(1)
                .begin();
  std::size_t rows = 0;
  for (; it != Dataset::iterator(); ++it) rows += it->x[0].shape()[0];
  EXPECT_EQ(rows, 6u);
}
