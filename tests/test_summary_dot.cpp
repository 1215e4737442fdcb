// model.summary() (graph/summary.cpp) and model_to_dot / plot_model (graph/dot.hpp).
//
// The expected tables are Keras 3's: rich's HEAVY_HEAD box with a rule between rows, the
// column widths Keras computes from `positions` squeezed by rich into the line length (76
// when the terminal is 80 columns wide, as when output is captured), cells wrapped at
// spaces and over-long words cut with "…".
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "graph/dot.hpp"
#include "graph_helpers.hpp"
#include "layers/core.hpp"
#include "layers/merging.hpp"
#include "optim/model.hpp"

namespace px = plexus;
namespace fs = std::filesystem;
using px::test::error_message;

namespace {

// summary() sizes itself like Keras from the terminal: pin it to 80 columns.
class Summary : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("COLUMNS", "80", 1);
    px::utils::clear_session();
  }
  void TearDown() override { unsetenv("COLUMNS"); }
};

px::Model two_heads() {
  auto a = px::Input({32}, "a");
  auto b = px::Input({32}, "b");
  auto shared = px::layers::Dense(16, {.activation = "relu", .name = "shared"});
  auto merged = px::layers::Concatenate()({shared(a), shared(b)});
  auto score = px::layers::Dense(1, {.activation = "sigmoid", .name = "score"})(merged);
  auto klass = px::layers::Dense(3, {.activation = "softmax", .name = "klass"})(merged);
  return px::Model({a, b}, {score, klass}, "two_heads");
}

TEST_F(Summary, Sequential) {
  px::Sequential model({
      px::layers::Dense(12, {.activation = "relu", .input_shape = {8}}),
      px::layers::Dense(8, "relu"),
      px::layers::Dense(1, "sigmoid"),
  });
  EXPECT_EQ(model.summary_string(), R"(Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ dense (Dense)                   │ (None, 12)             │           108 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 8)              │           104 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_2 (Dense)                 │ (None, 1)              │             9 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 221 (884.00 B)
 Trainable params: 221 (884.00 B)
 Non-trainable params: 0 (0.00 B)
)");
}

TEST_F(Summary, SequentialWithThousandsAndExplicitLineLength) {
  px::Sequential model({}, "mnist_mlp");
  model.add(px::layers::InputLayer({784}));
  model.add(px::layers::Dense(64, "relu"));
  model.add(px::layers::Dropout(0.2f));
  model.add(px::layers::Dense(10, "softmax"));
  model.get_layer("dense_1").set_trainable(false);
  EXPECT_EQ(model.summary_string(100), R"(Model: "mnist_mlp"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)                               ┃ Output Shape                    ┃           Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ dense (Dense)                              │ (None, 64)                      │            50,240 │
├────────────────────────────────────────────┼─────────────────────────────────┼───────────────────┤
│ dropout (Dropout)                          │ (None, 64)                      │                 0 │
├────────────────────────────────────────────┼─────────────────────────────────┼───────────────────┤
│ dense_1 (Dense)                            │ (None, 10)                      │               650 │
└────────────────────────────────────────────┴─────────────────────────────────┴───────────────────┘
 Total params: 50,890 (198.79 KB)
 Trainable params: 50,240 (196.25 KB)
 Non-trainable params: 650 (2.54 KB)
)");
}

TEST_F(Summary, TwoInputsTwoOutputs) {
  EXPECT_EQ(two_heads().summary_string(), R"(Model: "two_heads"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ a (InputLayer)      │ (None, 32)        │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ b (InputLayer)      │ (None, 32)        │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ shared (Dense)      │ (None, 16)        │        528 │ a[0][0], b[0][0]  │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ concatenate         │ (None, 32)        │          0 │ shared[0][0],     │
│ (Concatenate)       │                   │            │ shared[1][0]      │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ score (Dense)       │ (None, 1)         │         33 │ concatenate[0][0] │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ klass (Dense)       │ (None, 3)         │         99 │ concatenate[0][0] │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 660 (2.58 KB)
 Trainable params: 660 (2.58 KB)
 Non-trainable params: 0 (0.00 B)
)");
}

TEST_F(Summary, WideTerminalUsesKerasDefaultWidth) {
  setenv("COLUMNS", "200", 1);
  const std::string s = two_heads().summary_string();
  // 108 columns: Keras's default for a non-sequential model.
  EXPECT_NE(s.find("┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳"
                   "━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓\n"),
            std::string::npos)
      << s;
  EXPECT_NE(
      s.find("│ shared (Dense)                │ (None, 16)                │             528 │ "
             "a[0][0], b[0][0]           │\n"),
      std::string::npos)
      << s;
  EXPECT_EQ(error_message([] { two_heads().summary_string(10); }),
            "summary: line_length 10 is too small to print the summary");
}

TEST_F(Summary, ChainFunctionalIsSequentialLikeButListsItsInput) {
  auto x = px::Input({4}, "features");
  auto h = px::layers::Dense(2, {.name = "a_rather_long_layer_name_here"})(x);
  px::Model model(x, px::layers::Activation("relu")(h), "chain");
  EXPECT_EQ(model.summary_string(), R"(Model: "chain"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ features (InputLayer)           │ (None, 4)              │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ a_rather_long_layer_name_here   │ (None, 2)              │            10 │
│ (Dense)                         │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ activation (Activation)         │ (None, 2)              │             0 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 10 (40.00 B)
 Trainable params: 10 (40.00 B)
 Non-trainable params: 0 (0.00 B)
)");
}

TEST_F(Summary, NestedModelIsOneRowAndLongWordsAreCut) {
  auto x = px::Input({8});
  px::Model encoder(x, px::layers::Dense(4, "relu")(x), "encoder");
  auto a = px::Input({8}, "left_input_tensor");
  auto b = px::Input({8}, "right_input_tensor");
  auto diff = px::layers::Subtract({.name = "difference_of_encodings"})({encoder(a), encoder(b)});
  px::Model model({a, b}, {diff}, "siamese");
  EXPECT_EQ(model.summary_string(), R"(Model: "siamese"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ left_input_tensor   │ (None, 8)         │          0 │ -                 │
│ (InputLayer)        │                   │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ right_input_tensor  │ (None, 8)         │          0 │ -                 │
│ (InputLayer)        │                   │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ encoder             │ (None, 4)         │         36 │ left_input_tenso… │
│ (Functional)        │                   │            │ right_input_tens… │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ difference_of_enco… │ (None, 4)         │          0 │ encoder[0][0],    │
│ (Subtract)          │                   │            │ encoder[1][0]     │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 36 (144.00 B)
 Trainable params: 36 (144.00 B)
 Non-trainable params: 0 (0.00 B)
)");
}

TEST_F(Summary, PrintsToStdout) {
  auto model = two_heads();
  ::testing::internal::CaptureStdout();
  model.summary();
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), model.summary_string());
}

// --- DOT ------------------------------------------------------------------------------------

bool have_dot() { return std::system("command -v dot > /dev/null 2>&1") == 0; }

// A scratch directory removed at the end of the test.
class Dot : public ::testing::Test {
 protected:
  void SetUp() override {
    px::utils::clear_session();
    dir_ = fs::temp_directory_path() /
           ("plexus_test_dot_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Renders `dot_text` with `dot -Tsvg`; returns the exit status (0 on success).
  int render(const std::string& dot_text) {
    const fs::path src = dir_ / "model.dot";
    std::ofstream(src) << dot_text;
    const std::string cmd = "dot -Tsvg '" + src.string() + "' -o '" +
                            (dir_ / "model.svg").string() + "' 2> '" +
                            (dir_ / "stderr.txt").string() + "'";
    int rc = std::system(cmd.c_str());
    std::ifstream err(dir_ / "stderr.txt");
    std::string warnings((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
    EXPECT_EQ(warnings, "") << "Graphviz complained about:\n" << dot_text;
    return rc;
  }

  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path dir_;
};

std::size_t occurrences(const std::string& s, const std::string& part) {
  std::size_t n = 0;
  for (auto p = s.find(part); p != std::string::npos; p = s.find(part, p + 1)) ++n;
  return n;
}

TEST_F(Dot, ExactTextForASmallModel) {
  auto x = px::Input({3}, "x");
  auto y = px::layers::Dense(2, {.activation = "relu", .name = "d"})(x);
  px::Model model(x, y, "tiny");
  EXPECT_EQ(px::utils::model_to_dot(model, {.show_shapes = true, .show_layer_activations = true}),
            R"(digraph "tiny" {
  graph [rankdir="TB", concentrate=true, dpi=200, splines="ortho"];
  node [shape="record"];
  "n0" [label=<<table border="0" cellborder="1" bgcolor="black" cellpadding="10"><tr><td colspan="2" bgcolor="black"><font point-size="16" color="white"><b>x</b> (InputLayer)</font></td></tr><tr><td bgcolor="white"><font point-size="14">Output shape: <b>(None, 3)</b></font></td></tr></table>>, fontname="Helvetica", margin="0"];
  "n1" [label=<<table border="0" cellborder="1" bgcolor="black" cellpadding="10"><tr><td colspan="2" bgcolor="black"><font point-size="16" color="white"><b>d</b> (Dense)</font></td></tr><tr><td bgcolor="white" colspan="2"><font point-size="14">Activation: <b>relu</b></font></td></tr><tr><td bgcolor="white"><font point-size="14">Input shape: <b>(None, 3)</b></font></td><td bgcolor="white"><font point-size="14">Output shape: <b>(None, 2)</b></font></td></tr></table>>, fontname="Helvetica", margin="0"];
  "n0" -> "n1" [penwidth=2];
}
)");
  const std::string plain = px::utils::model_to_dot(model, {.show_layer_names = false});
  EXPECT_NE(plain.find("<b>Dense</b></font>"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("Activation"), std::string::npos);
  EXPECT_EQ(plain.find("Output shape"), std::string::npos);
}

TEST_F(Dot, MultiBranchModelRendersAndSkipsDuplicateEdges) {
  auto model = two_heads();
  const std::string dot = px::utils::model_to_dot(model, {.show_shapes = true,
                                                          .show_layer_names = true,
                                                          .show_layer_activations = true,
                                                          .expand_nested = false,
                                                          .rankdir = "LR"});
  EXPECT_EQ(dot, px::utils::model_to_dot(model, {.show_shapes = true,
                                                 .show_layer_names = true,
                                                 .show_layer_activations = true,
                                                 .expand_nested = false,
                                                 .rankdir = "LR"}));  // deterministic
  EXPECT_EQ(dot.rfind("digraph \"two_heads\" {\n", 0), 0u);
  EXPECT_NE(dot.find("rankdir=\"LR\""), std::string::npos);
  // Nodes n0..n5 in layer order; shared -> concatenate twice in the graph, once drawn.
  EXPECT_NE(dot.find("\"n2\" [label=<<table"), std::string::npos);
  EXPECT_NE(dot.find("<b>shared</b> (Dense)"), std::string::npos);
  EXPECT_EQ(occurrences(dot, "\"n2\" -> \"n3\""), 1u);
  EXPECT_EQ(occurrences(dot, " -> "), 5u);
  EXPECT_NE(dot.find("Input shape: <b>[(None, 16), (None, 16)]</b>"), std::string::npos);
  EXPECT_NE(dot.find("Activation: <b>softmax</b>"), std::string::npos);
  if (!have_dot()) GTEST_SKIP() << "Graphviz dot is not installed";
  EXPECT_EQ(render(dot), 0);
}

px::Model nested_model() {
  auto x = px::Input({4}, "enc_in");
  auto h = px::layers::Dense(3, {.name = "enc_dense"})(x);
  px::Model encoder(x, h, "encoder");
  px::Sequential head({px::layers::Dense(2, {.name = "head_dense", .input_shape = {3}}),
                       px::layers::Activation("softmax", {.name = "head_softmax"})},
                      "head");
  auto in = px::Input({4}, "in");
  auto out = head(encoder(in));
  return px::Model(in, out, "outer");
}

TEST_F(Dot, NestedModelsAreOneNodeUnlessExpanded) {
  auto model = nested_model();
  const std::string flat = px::utils::model_to_dot(model);
  EXPECT_NE(flat.find("<b>encoder</b> (Functional)"), std::string::npos) << flat;
  EXPECT_NE(flat.find("<b>head</b> (Sequential)"), std::string::npos) << flat;
  EXPECT_EQ(flat.find("cluster"), std::string::npos);
  EXPECT_EQ(occurrences(flat, " -> "), 2u);

  const std::string dot = px::utils::model_to_dot(model, {.expand_nested = true});
  EXPECT_NE(dot.find("  subgraph \"cluster_encoder\" {\n    label=\"encoder\";\n"),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("subgraph \"cluster_head\" {"), std::string::npos);
  EXPECT_NE(dot.find("style=\"dashed\""), std::string::npos);
  // n0 in, n1 enc_in, n2 enc_dense, n3 head_dense, n4 head_softmax: the Sequential's own
  // InputLayer is not drawn; edges go into the clusters and out of them.
  EXPECT_NE(dot.find("<b>enc_in</b> (InputLayer)"), std::string::npos);
  EXPECT_EQ(occurrences(dot, "(InputLayer)"), 2u);
  EXPECT_NE(dot.find("\"n0\" -> \"n1\""), std::string::npos) << dot;  // in -> enc_in
  EXPECT_NE(dot.find("\"n1\" -> \"n2\""), std::string::npos);         // inside encoder
  EXPECT_NE(dot.find("\"n3\" -> \"n4\""), std::string::npos);         // inside head
  EXPECT_NE(dot.find("\"n2\" -> \"n3\""), std::string::npos);         // encoder -> head
  EXPECT_EQ(occurrences(dot, " -> "), 4u);
  if (!have_dot()) GTEST_SKIP() << "Graphviz dot is not installed";
  EXPECT_EQ(render(dot), 0);
  EXPECT_EQ(render(flat), 0);
}

TEST_F(Dot, SequentialDrawsNoInputLayer) {
  px::Sequential model({px::layers::Dense(4, {.activation = "relu", .input_shape = {3}}),
                        px::layers::Dropout(0.5f), px::layers::Dense(1, "sigmoid")});
  const std::string dot = px::utils::model_to_dot(model);
  EXPECT_EQ(dot.rfind("digraph \"sequential\" {", 0), 0u);
  EXPECT_EQ(dot.find("InputLayer"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"n0\" -> \"n1\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"n1\" -> \"n2\""), std::string::npos) << dot;
  EXPECT_EQ(occurrences(dot, " -> "), 2u);
}

TEST_F(Dot, OptionsAreChecked) {
  auto model = two_heads();
  EXPECT_EQ(error_message([&] { px::utils::model_to_dot(model, {.rankdir = "XY"}); }),
            "model_to_dot: unknown rankdir \"XY\"; expected one of TB, LR, BT, RL");
  const std::string dot = px::utils::model_to_dot(
      model, {.show_dtype = true, .show_trainable = true, .dpi = 96, .splines = "curved"});
  EXPECT_NE(dot.find("Output dtype: <b>float32</b>"), std::string::npos);
  EXPECT_NE(dot.find("<b>Trainable</b>"), std::string::npos);
  EXPECT_NE(dot.find("dpi=96, splines=\"curved\""), std::string::npos);
}

TEST_F(Dot, PlotModelWritesTheImage) {
  if (!have_dot()) GTEST_SKIP() << "Graphviz dot is not installed";
  auto model = nested_model();
  const fs::path png = dir_ / "model.png";
  px::utils::plot_model(model, png.string(), {.show_shapes = true, .expand_nested = true});
  std::ifstream in(png, std::ios::binary);
  std::string magic(8, '\0');
  in.read(magic.data(), 8);
  EXPECT_EQ(magic, "\x89PNG\r\n\x1a\n");
  const fs::path svg = dir_ / "model.svg";
  px::utils::plot_model(model, svg.string());
  std::ifstream s(svg);
  std::string text((std::istreambuf_iterator<char>(s)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("<svg"), std::string::npos);
  EXPECT_EQ(files(), (std::vector<std::string>{"model.png", "model.svg"}));  // no leftovers
}

TEST_F(Dot, PlotModelFailsCleanly) {
  auto model = two_heads();
  const fs::path out = dir_ / "model.png";
  const char* old_path = std::getenv("PATH");
  const std::string saved = old_path ? old_path : "";
  setenv("PATH", dir_.c_str(), 1);  // an existing directory without `dot`
  const std::string msg = error_message([&] { px::utils::plot_model(model, out.string()); });
  setenv("PATH", saved.c_str(), 1);
  EXPECT_EQ(msg,
            "plot_model: the Graphviz program \"dot\" was not found on PATH; install the Debian "
            "package graphviz");
  EXPECT_TRUE(files().empty());

  if (!have_dot()) GTEST_SKIP() << "Graphviz dot is not installed";
  // An unknown format: dot fails, nothing is left behind.
  const fs::path bad = dir_ / "model.notaformat";
  const std::string why = error_message([&] { px::utils::plot_model(model, bad.string()); });
  EXPECT_NE(why.find("plot_model: Graphviz"), std::string::npos) << why;
  EXPECT_NE(why.find("-Tnotaformat"), std::string::npos) << why;
  EXPECT_TRUE(files().empty());
  // A directory that does not exist.
  EXPECT_NE(error_message([&] {
              px::utils::plot_model(model, (dir_ / "no/such.png").string());
            }).find("cannot create"),
            std::string::npos);
}

}  // namespace
