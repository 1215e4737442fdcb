// The smaller friction points of issue "A Keras user's first hour": summary() of an
// unbuilt Sequential, predict's progress bar, the plural in unknown-name errors, Keras's
// schedule spelling, and the hint for a loss/target shape mismatch.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <plexus.hpp>

namespace px = plexus;
namespace kw = px::kw;

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const px::Error& e) {
    return e.what();
  }
  return "";
}

// Runs f with stdout sent to a temporary file; returns what it printed.
std::string capture_stdout(const std::function<void()>& f) {
  std::fflush(stdout);
  std::FILE* tmp = std::tmpfile();
  const int saved = dup(fileno(stdout));
  dup2(fileno(tmp), fileno(stdout));
  f();
  std::fflush(stdout);
  dup2(saved, fileno(stdout));
  close(saved);
  std::rewind(tmp);
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, tmp)) > 0) out.append(buf, n);
  std::fclose(tmp);
  return out;
}
}  // namespace

TEST(FirstHour, SummaryOfAnUnbuiltSequential) {
  px::utils::clear_session();
  px::Sequential model;
  model.add(px::layers::Dense(64, "relu"));
  model.add(px::layers::Dense(10, "softmax"));
  // Keras 3, model.summary() before the model is built (line_length 88):
  const std::string expected =
      "Model: \"sequential\"\n"
      "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓\n"
      "┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃\n"
      "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩\n"
      "│ dense (Dense)                        │ ?                           │     0 (unbuilt) │\n"
      "├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤\n"
      "│ dense_1 (Dense)                      │ ?                           │     0 (unbuilt) │\n"
      "└──────────────────────────────────────┴─────────────────────────────┴─────────────────┘\n"
      " Total params: 0 (0.00 B)\n"
      " Trainable params: 0 (0.00 B)\n"
      " Non-trainable params: 0 (0.00 B)\n";
  EXPECT_EQ(model.summary_string(88), expected);
  // Once built (by predict), the usual table.
  model.predict(xt::zeros<float>({2, 8}));
  EXPECT_NE(model.summary_string(88).find("(None, 64)"), std::string::npos);
}

TEST(FirstHour, PredictHonoursVerbose) {
  px::Sequential model({px::Input({3}), px::layers::Dense(2)});
  const px::Tensor x = xt::ones<float>({70, 3});
  px::Tensor quiet, loud;
  const std::string none = capture_stdout([&] { quiet = model.predict(x, kw::verbose = 0); });
  EXPECT_EQ(none, "");
  const std::string bar =
      capture_stdout([&] { loud = model.predict(x, kw::verbose = 1, kw::batch_size = 32); });
  EXPECT_NE(bar.find("3/3"), std::string::npos) << bar;  // ceil(70 / 32) steps
  EXPECT_NE(bar.find("/step"), std::string::npos) << bar;
  EXPECT_EQ(quiet, loud);  // the same predictions, batch by batch
  const std::string line = capture_stdout([&] { model.predict(x, {.verbose = 2}); });
  EXPECT_NE(line.find("3/3"), std::string::npos) << line;
}

TEST(FirstHour, UnknownNamesUseTheRightPlural) {
  const std::string e = error_of([] { px::losses::get("msee"); });
  EXPECT_NE(e.find("Known losses:"), std::string::npos) << e;
  EXPECT_EQ(e.find("losss"), std::string::npos) << e;
  const std::string m = error_of([] { px::optim::get("adma"); });
  EXPECT_NE(m.find("Known optimizers:"), std::string::npos) << m;
}

TEST(FirstHour, KerasScheduleSpelling) {
  px::optimizers::schedules::ExponentialDecay a(
      {.initial_learning_rate = 0.1, .decay_steps = 10, .decay_rate = 0.5});
  px::optimizers::schedules::ExponentialDecay b(kw::decay_rate = 0.5, kw::decay_steps = 10,
                                                kw::initial_learning_rate = 0.1);
  px::optim::ExponentialDecay c(0.1, 10, 0.5);  // the positional form still works
  EXPECT_DOUBLE_EQ(a(20), 0.025);
  EXPECT_DOUBLE_EQ(b(20), c(20));
  px::optimizers::schedules::InverseTimeDecay d(
      {.initial_learning_rate = 1.0, .decay_steps = 1, .decay_rate = 1.0});
  EXPECT_DOUBLE_EQ(d(1), 0.5);
  px::optimizers::schedules::CosineDecay e({.initial_learning_rate = 1.0, .decay_steps = 10});
  EXPECT_NEAR(e(10), 0.0, 1e-12);
  px::optimizers::SGD sgd({.learning_rate = a});
  EXPECT_DOUBLE_EQ(sgd.learning_rate(), 0.1);
  EXPECT_THROW(px::optimizers::schedules::ExponentialDecay({.initial_learning_rate = 0.1}),
               px::Error);  // decay_steps must be > 0
}

TEST(FirstHour, ShapeMismatchSuggestsTheSparseLossOrOneHot) {
  auto x = px::Input({4});
  px::Model model(x, px::layers::Dense(3, "softmax")(x));
  model.compile("adam", "categorical_crossentropy");
  const px::Tensor xs = xt::ones<float>({6, 4});
  const px::Tensor ids = {0.f, 1.f, 2.f, 0.f, 1.f, 2.f};
  const std::string e = error_of([&] { model.fit(xs, ids, kw::verbose = 0); });
  EXPECT_NE(e.find("sparse_categorical_crossentropy"), std::string::npos) << e;
  EXPECT_NE(e.find("to_categorical(y, 3)"), std::string::npos) << e;
  model.compile("adam", "sparse_categorical_crossentropy");
  const std::string e2 =
      error_of([&] { model.fit(xs, px::utils::to_categorical(ids, 3), kw::verbose = 0); });
  EXPECT_NE(e2.find("\"categorical_crossentropy\""), std::string::npos) << e2;
  // With the suggestion applied, both train.
  EXPECT_NO_THROW(model.fit(xs, ids, kw::verbose = 0));
}
