// Issue 22's keyword spellings: the qualified keyword passes beside a user's variable of
// the same name (the unqualified form is refused: tests/compile_fail/unqualified_keyword.cpp,
// local_optimizer_collision.cpp, local_epochs_collision.cpp).
#include <gtest/gtest.h>

#include <plexus.hpp>

namespace px = plexus;
namespace kw = px::kw;

TEST(KeywordSpelling, QualifiedKeywordBesideALocalOfTheSameName) {
  // A Keras program's own variables carry the keyword names.
  px::optim::Adam optimizer(kw::learning_rate = 0.25);
  int epochs = 3;
  int batch_size = 4;
  std::string loss = "mae";
  px::SymbolicTensor in = px::Input({2});
  px::Model model(in, px::layers::Dense(1)(in));
  model.compile(kw::optimizer = px::optim::Adam(kw::learning_rate = 0.5), kw::loss = loss);
  // The model got the new Adam; the local is untouched.
  EXPECT_DOUBLE_EQ(model.optimizer().learning_rate(), 0.5);
  EXPECT_DOUBLE_EQ(optimizer.learning_rate(), 0.25);
  EXPECT_EQ(loss, "mae");
  px::Tensor x = xt::ones<float>({8, 2});
  px::History h = model.fit(x, xt::ones<float>({8, 1}), kw::epochs = epochs,
                            kw::batch_size = batch_size, kw::verbose = 0);
  EXPECT_EQ(h.history.at("loss").size(), 3u);
  EXPECT_EQ(epochs, 3);
  EXPECT_EQ(batch_size, 4);
}
