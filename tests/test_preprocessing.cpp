// Data preparation helpers (core/preprocessing.hpp, layers/preprocessing.hpp) on the real
// datasets (housing, iris from PLEXUS_DATA) and on the two xtensor calls that crash.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <plexus.hpp>
#include <sstream>

namespace px = plexus;
namespace kw = px::kw;
namespace fs = std::filesystem;

namespace {

std::optional<fs::path> plexus_data() {
  const char* d = std::getenv("PLEXUS_DATA");
  if (!d || !*d) return std::nullopt;
  return fs::path(d);
}

#define REQUIRE_PLEXUS_DATA(var)                                                        \
  const auto var##_opt = plexus_data();                                                 \
  if (!var##_opt) {                                                                     \
    if (std::getenv("CI")) FAIL() << "PLEXUS_DATA is not set (required in CI)";         \
    GTEST_SKIP() << "PLEXUS_DATA is not set: point it to the shared data folder (with " \
                    "housing/, iris/) to run the real-data tests";                      \
  }                                                                                     \
  const fs::path var = *var##_opt

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const px::Error& e) {
    return e.what();
  }
  return "";
}

// A one-element tensor (a braced {v} would be ambiguous with xtensor's shape constructor).
px::Tensor scalar(float v) { return px::Tensor(px::Tensor::shape_type{1}, v); }

}  // namespace

// xt::reshape_view(x, {-1, 784}) throws std::bad_alloc in xtensor 0.24.3.
TEST(Preprocessing, ReshapeInfersMinusOne) {
  px::Tensor images = xt::zeros<float>({5, 28, 28});
  for (std::size_t i = 0; i < images.size(); ++i) images.data()[i] = static_cast<float>(i);
  const px::Tensor flat = px::utils::reshape(images, {-1, 784});
  ASSERT_EQ(flat.shape()[0], 5u);
  ASSERT_EQ(flat.shape()[1], 784u);
  EXPECT_EQ(flat(3, 17), images(3, 0, 17));
  EXPECT_EQ(px::utils::reshape(flat, {5, -1, 28}).shape()[1], 28u);
  const std::string e1 = error_of([&] { px::utils::reshape(images, {-1, 783}); });
  EXPECT_NE(e1.find("(5, 28, 28)"), std::string::npos) << e1;
  EXPECT_NE(e1.find("(-1, 783)"), std::string::npos) << e1;
  EXPECT_NE(error_of([&] {
              px::utils::reshape(images, {-1, -1});
            }).find("only one"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              px::utils::reshape(images, {10, 10});
            }).find("3920 elements"),
            std::string::npos);
}

// xt::stddev(x, {0}) segfaults in xtensor 0.24.3; NumPy's np.std is the population std.
TEST(Preprocessing, MeanStddevVarianceMatchNumPy) {
  const px::Tensor x = {{1.0f, 2.0f}, {3.0f, 6.0f}, {5.0f, 10.0f}};
  const px::Tensor mu = px::utils::mean(x, 0);
  EXPECT_FLOAT_EQ(mu(0), 3.0f);
  EXPECT_FLOAT_EQ(mu(1), 6.0f);
  const px::Tensor sd = px::utils::stddev(x, 0);  // np.std(x, axis=0)
  EXPECT_NEAR(sd(0), std::sqrt(8.0 / 3.0), 1e-6);
  EXPECT_NEAR(sd(1), std::sqrt(32.0 / 3.0), 1e-6);
  const px::Tensor sd1 = px::utils::stddev(x, 0, 1);  // ddof=1
  EXPECT_NEAR(sd1(0), 2.0, 1e-6);
  const px::Tensor rows = px::utils::mean(x, -1);
  EXPECT_FLOAT_EQ(rows(2), 7.5f);
  EXPECT_THROW(px::utils::mean(xt::zeros<float>({0, 3}), 0), px::Error);
  EXPECT_THROW(px::utils::variance(x, 2), px::Error);
  const px::Tensor l2 = px::utils::normalize(x);  // keras.utils.normalize
  EXPECT_NEAR(l2(0, 0) * l2(0, 0) + l2(0, 1) * l2(0, 1), 1.0, 1e-6);
}

TEST(Preprocessing, HousingStandardizedForRegression) {
  REQUIRE_PLEXUS_DATA(data);
  const px::Tensor table =
      px::datasets::load_csv(data / "housing" / "housing.csv", {.delimiter = ' '});
  ASSERT_EQ(table.shape()[0], 506u);
  ASSERT_EQ(table.shape()[1], 14u);
  px::Tensor x = xt::view(table, xt::all(), xt::range(0, 13));
  px::Tensor y = xt::view(table, xt::all(), xt::range(13, 14));
  auto split = px::utils::train_test_split(x, y, {.test_size = 0.2, .random_state = 42});
  px::utils::StandardScaler scaler;
  const px::Tensor xtr = scaler.fit_transform(split.x_train);
  const px::Tensor xte = scaler.transform(split.x_test);
  // Train columns: mean 0, population std 1.
  const px::Tensor m = px::utils::mean(xtr, 0), s = px::utils::stddev(xtr, 0);
  for (std::size_t c = 0; c < 13; ++c) {
    EXPECT_NEAR(m(c), 0.0, 1e-4) << c;
    EXPECT_NEAR(s(c), 1.0, 1e-4) << c;
  }
  // CRIM's full-data mean is 3.6135 (UCI), MEDV's 22.5328.
  EXPECT_NEAR(px::utils::mean(x, 0)(0), 3.61352, 1e-3);
  EXPECT_NEAR(px::utils::mean(y, 0)(0), 22.53281, 1e-3);
  const px::Tensor back = scaler.inverse_transform(xte);
  EXPECT_NEAR(back(0, 5), split.x_test(0, 5), 1e-4);
  EXPECT_THROW(scaler.transform(xt::zeros<float>({3, 12})), px::Error);

  // The same statistics through Keras's Normalization layer, then a regression fit.
  auto norm = px::layers::Normalization();
  norm->adapt(split.x_train);
  const auto w = norm->weights();
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].path(), norm->name() + "/mean");
  EXPECT_EQ(w[1].path(), norm->name() + "/variance");
  EXPECT_EQ(w[2].path(), norm->name() + "/count");
  for (std::size_t c = 0; c < 13; ++c) {
    EXPECT_NEAR(w[0].value()(c), scaler.mean()(c), 1e-3 * (1 + std::abs(scaler.mean()(c))));
    EXPECT_NEAR(std::sqrt(w[1].value()(c)), scaler.scale()(c), 1e-3 * (1 + scaler.scale()(c)));
  }
  EXPECT_TRUE(norm->trainable_weights().empty());
  px::utils::set_random_seed(1);
  auto in = px::Input({13});
  auto h = px::layers::Dense(32, kw::activation = "relu")(norm(in));
  px::Model model(in, px::layers::Dense(1)(h), "housing");
  EXPECT_EQ(model.non_trainable_weights().size(), 3u);
  EXPECT_EQ(model.predict(split.x_train, kw::batch_size = 512).shape()[0],
            split.x_train.shape()[0]);
  model.compile(kw::optimizer = px::optim::Adam(kw::learning_rate = 0.02), kw::loss = "mse",
                kw::metrics = {"mae"});
  auto hist = model.fit(split.x_train, split.y_train, kw::epochs = 60, kw::batch_size = 32,
                        kw::verbose = 0);
  EXPECT_LT(hist.history.at("mae").back(), 3.5);  // the mean alone gives ~6.6
  EXPECT_LT(model.evaluate(split.x_test, split.y_test, kw::verbose = 0)[1], 4.0);
}

TEST(Preprocessing, NormalizationMatchesKerasDocstring) {
  // keras.layers.Normalization(axis=-1) docstring example.
  const px::Tensor adapt = {{0.f, 7.f, 4.f}, {2.f, 9.f, 6.f}, {0.f, 7.f, 4.f}, {2.f, 9.f, 6.f}};
  auto norm = px::layers::Normalization(kw::axis = -1);
  norm->adapt(adapt);
  auto in = px::Input({3});
  px::Model m(in, norm(in));
  const px::Tensor out = m.predict(px::Tensor{{0.f, 7.f, 4.f}});
  for (std::size_t c = 0; c < 3; ++c) EXPECT_NEAR(out(0, c), -1.0f, 1e-6);
  // Given mean and variance (no weights); invert undoes it.
  auto fixed = px::layers::Normalization({.mean = scalar(3.0f), .variance = scalar(2.0f)});
  auto inv =
      px::layers::Normalization({.mean = scalar(3.0f), .variance = scalar(2.0f), .invert = true});
  auto in1 = px::Input({1});
  px::Model mf(in1, inv(fixed(in1)));
  const px::Tensor x1 = px::utils::reshape(px::Tensor{1.0f, 2.0f, 3.0f}, {3, 1});
  const px::Tensor r = mf.predict(x1);
  EXPECT_NEAR(r(0, 0), 1.0f, 1e-5);
  px::Model only(in1, fixed(in1));
  EXPECT_NEAR(only.predict(x1)(0, 0), -1.4142135f, 1e-5);
  EXPECT_TRUE(fixed->weights().empty());
  EXPECT_THROW(norm->adapt(xt::zeros<float>({4, 5})), px::Error);
}

TEST(Preprocessing, IrisTextLabelsEncoded) {
  REQUIRE_PLEXUS_DATA(data);
  const fs::path iris = data / "iris" / "iris.csv";
  // load_csv rejects the text column with a message naming it ...
  const std::string e = error_of([&] { px::datasets::load_csv(iris); });
  EXPECT_NE(e.find("Iris-setosa"), std::string::npos) << e;
  // ... load_csv_labeled encodes it.
  auto [x, y, classes] = px::datasets::load_csv_labeled(iris);
  ASSERT_EQ(x.shape()[0], 150u);
  ASSERT_EQ(x.shape()[1], 4u);
  ASSERT_EQ(y.shape()[0], 150u);
  EXPECT_EQ(classes,
            (std::vector<std::string>{"Iris-setosa", "Iris-versicolor", "Iris-virginica"}));
  EXPECT_FLOAT_EQ(x(0, 0), 5.1f);
  EXPECT_FLOAT_EQ(y(0), 0.0f);
  EXPECT_FLOAT_EQ(y(149), 2.0f);
  const px::Tensor onehot = px::utils::to_categorical(y, 3);
  EXPECT_FLOAT_EQ(xt::sum(onehot)(), 150.0f);
  // The same through read_csv_text + LabelEncoder.
  const auto text = px::datasets::read_csv_text(iris);
  px::utils::LabelEncoder enc;
  const px::Tensor y2 = enc.fit_transform(text.column(-1));
  EXPECT_EQ(y2, y);
  EXPECT_EQ(enc.inverse_transform(scalar(2.0f))[0], "Iris-virginica");
  const std::string unseen = error_of([&] { enc.transform({"Iris-unknown"}); });
  EXPECT_NE(unseen.find("Iris-unknown"), std::string::npos) << unseen;
  // Printing a tensor with std::cout works through the umbrella header (xio).
  std::ostringstream os;
  os << xt::view(x, 0, xt::all());
  EXPECT_NE(os.str().find("5.1"), std::string::npos) << os.str();
  // A small classifier on standardized features learns it.
  px::utils::set_random_seed(7);
  px::Sequential model({px::Input({4}), px::layers::Dense(16, kw::activation = "relu"),
                        px::layers::Dense(3, kw::activation = "softmax")});
  model.compile(kw::optimizer = "adam", kw::loss = "sparse_categorical_crossentropy",
                kw::metrics = {"accuracy"});
  auto h = model.fit(px::utils::standardize(x), y, kw::epochs = 60, kw::batch_size = 16,
                     kw::verbose = 0);
  EXPECT_GT(h.history.at("accuracy").back(), 0.85);
}
