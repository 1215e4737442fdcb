// Bounds of the public data helpers: a batch past the end, an index out of range or a
// size beyond the data is a px::Error naming the sizes, never a crash or stray memory.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <plexus.hpp>
#include <string>
#include <vector>

namespace px = plexus;

namespace {

px::Tensor rows_of(std::size_t n, std::size_t width) {
  px::Tensor t = xt::zeros<float>({n, width});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < width; ++j) t(i, j) = static_cast<float>(i * 100 + j);
  return t;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const px::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(DataBounds, CopyRowsInsideCopiesTheRows) {
  const px::Tensor x = rows_of(10, 3);
  px::Tensor batch;
  px::copy_rows(x, 8, 2, batch);
  ASSERT_EQ(px::shape_of(batch), (px::Shape{2, 3}));
  EXPECT_EQ(batch(0, 0), 800.0f);
  EXPECT_EQ(batch(1, 2), 902.0f);
  px::copy_rows(x, 10, 0, batch);  // an empty batch at the end is fine
  EXPECT_EQ(batch.shape()[0], 0u);
}

TEST(DataBounds, CopyRowsPartialLastBatchThrows) {
  const px::Tensor x = rows_of(10, 3);
  px::Tensor batch;
  const std::string msg = message_of([&] { px::copy_rows(x, 8, 4, batch); });
  EXPECT_NE(msg.find("rows [8, 12)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("10 rows"), std::string::npos) << msg;
  EXPECT_NE(msg.find("holds 2 rows"), std::string::npos) << msg;
  // The loop the docs show: std::min(batch_size, n - start).
  px::copy_rows(x, 8, std::min<std::size_t>(4, 10 - 8), batch);
  EXPECT_EQ(batch.shape()[0], 2u);
}

TEST(DataBounds, CopyRowsPastTheEndThrows) {
  const px::Tensor x = rows_of(10, 3);
  px::Tensor batch;
  EXPECT_NE(message_of([&] { px::copy_rows(x, 12, 1, batch); }).find("start past the end"),
            std::string::npos);
  // begin + count overflowing size_t is still refused, not wrapped around.
  EXPECT_THROW(px::copy_rows(x, 5, static_cast<std::size_t>(-1), batch), px::Error);
  const px::Tensor scalar = 3.0f;
  EXPECT_THROW(px::copy_rows(scalar, 0, 1, batch), px::Error);
}

TEST(DataBounds, GatherRowsChecksIndicesAndPositions) {
  const px::Tensor x = rows_of(5, 2);
  px::Tensor batch;
  px::gather_rows(x, {4, 0, 2}, 0, 3, batch);
  EXPECT_EQ(batch(0, 0), 400.0f);
  EXPECT_EQ(batch(2, 1), 201.0f);
  const std::string msg = message_of([&] { px::gather_rows(x, {1, 7}, 0, 2, batch); });
  EXPECT_NE(msg.find("index 7"), std::string::npos) << msg;
  EXPECT_NE(msg.find("5 rows"), std::string::npos) << msg;
  EXPECT_NE(message_of([&] {
              px::gather_rows(x, {1, 2}, 1, 2, batch);
            }).find("index list"),
            std::string::npos);
}

TEST(DataBounds, TrainTestSplitHugeTestSizeIsAnError) {
  const px::Tensor x = rows_of(6, 2);
  const px::Tensor y = xt::zeros<float>({6});
  EXPECT_THROW(px::utils::train_test_split(x, y, {.test_size = 1e30}), px::Error);
  EXPECT_THROW(px::utils::train_test_split(x, y, {.test_size = 6}), px::Error);
  EXPECT_THROW(px::utils::train_test_split(x, xt::zeros<float>({5}), {}), px::Error);
  auto s = px::utils::train_test_split(x, y, {.test_size = 2, .random_state = 1});
  EXPECT_EQ(s.x_test.shape()[0], 2u);
  EXPECT_EQ(s.x_train.shape()[0], 4u);
}

TEST(DataBounds, LabelHelpersRefuseOutOfRangeIds) {
  EXPECT_THROW(px::utils::to_categorical(px::Tensor{0.0f, 3.0f}, 3), px::Error);
  EXPECT_THROW(px::utils::to_categorical(px::Tensor{-1.0f}), px::Error);
  EXPECT_THROW(px::utils::to_categorical(px::Tensor{0.5f}), px::Error);
  px::utils::LabelEncoder enc;
  enc.fit({"a", "b"});
  EXPECT_THROW(enc.inverse_transform(px::Tensor{2.0f}), px::Error);
  EXPECT_THROW(enc.inverse_transform(px::Tensor{-1.0f}), px::Error);
  px::utils::LabelEncoder unfitted;
  EXPECT_THROW(unfitted.inverse_transform(px::Tensor{0.0f}), px::Error);
  EXPECT_THROW(unfitted.transform({"a"}), px::Error);
}

TEST(DataBounds, PreprocessingHelpersCheckAxesAndShapes) {
  const px::Tensor x = rows_of(4, 3);
  EXPECT_THROW(px::utils::mean(x, 2), px::Error);
  EXPECT_THROW(px::utils::stddev(x, -3), px::Error);
  EXPECT_THROW(px::utils::variance(rows_of(1, 3), 0, 1), px::Error);
  EXPECT_THROW(px::utils::reshape(x, {5, -1}), px::Error);
  EXPECT_THROW(px::utils::normalize(x, 4), px::Error);
  px::utils::StandardScaler sc;
  EXPECT_THROW(sc.transform(x), px::Error);
  sc.fit(x);
  EXPECT_THROW(sc.transform(rows_of(4, 2)), px::Error);
  EXPECT_THROW(sc.inverse_transform(px::Tensor(2.0f)), px::Error);
  px::datasets::CsvText text;
  text.rows = {{"1", "2"}};
  EXPECT_THROW(text.column(2), px::Error);
  EXPECT_THROW(text.column(-3), px::Error);
}
