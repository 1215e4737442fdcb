// px::utils::plot_history: SVG content, PNG through rsvg-convert, errors, atomic writes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <plexus.hpp>
#include <sstream>
#include <string>

namespace px = plexus;
namespace fs = std::filesystem;

namespace {

px::History sample_history() {
  px::History h;
  h.history["loss"] = {0.9, 0.5, 0.3, 0.25};
  h.history["val_loss"] = {1.0, 0.6, 0.45, 0.5};
  h.history["accuracy"] = {0.6, 0.8, 0.9, 0.93};
  h.history["val_accuracy"] = {0.55, 0.75, 0.85, 0.84};
  h.epoch = {0, 1, 2, 3};
  return h;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh directory under the temp dir, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "plexus_plot_test_XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~ScratchDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  // Every file name in the directory (to see that nothing temporary is left behind).
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path_)) out.push_back(e.path().filename());
    return out;
  }

 private:
  fs::path path_;
};

// Sets PATH for the scope of the object.
class ScopedPath {
 public:
  explicit ScopedPath(const char* value) {
    if (const char* old = std::getenv("PATH")) old_ = old;
    ::setenv("PATH", value, 1);
  }
  ~ScopedPath() {
    if (old_) ::setenv("PATH", old_->c_str(), 1);
  }

 private:
  std::optional<std::string> old_;
};

bool have_rsvg() { return std::system("rsvg-convert --version > /dev/null 2>&1") == 0; }

}  // namespace

TEST(PlotHistory, SvgHasOnePanelPerFamilyWithDashedValidationCurves) {
  const std::string svg = px::utils::history_to_svg(sample_history());
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  // Two panels side by side, loss first.
  EXPECT_EQ(count(svg, "class=\"panel\""), 2u);
  EXPECT_LT(svg.find("id=\"panel-loss\""), svg.find("id=\"panel-accuracy\""));
  EXPECT_NE(svg.find("width=\"960\" height=\"360\""), std::string::npos);
  // Four curves; the two validation curves (and their legend lines) are dashed.
  EXPECT_EQ(count(svg, "class=\"series\""), 4u);
  EXPECT_EQ(count(svg, "stroke-dasharray"), 4u);
  for (const char* key : {"loss", "val_loss", "accuracy", "val_accuracy"}) {
    EXPECT_NE(svg.find(fmt::format("data-key=\"{}\"", key)), std::string::npos) << key;
    EXPECT_NE(svg.find(fmt::format(">{}</text>", key)), std::string::npos) << key;  // legend
  }
  // Axes: an "epoch" label per panel, integer epoch ticks 1..4, value ticks.
  EXPECT_EQ(count(svg, ">epoch</text>"), 2u);
  for (const char* tick : {">1</text>", ">2</text>", ">3</text>", ">4</text>"}) {
    EXPECT_NE(svg.find(tick), std::string::npos) << tick;
  }
  EXPECT_NE(svg.find(">0.2</text>"), std::string::npos);  // loss axis 0.2 .. 1.0
  EXPECT_NE(svg.find(">1.0</text>"), std::string::npos);
  // Few epochs: each point is marked.
  EXPECT_EQ(count(svg, "<circle"), 16u);
}

TEST(PlotHistory, MultiOutputKeysJoinTheirFamilyPanels) {
  px::History h;
  h.history["loss"] = {1.0, 0.5};
  h.history["score_loss"] = {0.6, 0.3};
  h.history["klass_loss"] = {0.8, 0.4};
  h.history["score_accuracy"] = {0.5, 0.7};
  h.history["klass_accuracy"] = {0.4, 0.6};
  h.history["learning_rate"] = {0.01, 0.001};
  const std::string svg = px::utils::history_to_svg(h, {.columns = 3});
  EXPECT_EQ(count(svg, "class=\"panel\""), 3u);
  EXPECT_NE(svg.find("id=\"panel-loss\""), std::string::npos);
  EXPECT_NE(svg.find("id=\"panel-accuracy\""), std::string::npos);
  EXPECT_NE(svg.find("id=\"panel-learning_rate\""), std::string::npos);
  EXPECT_EQ(count(svg, "class=\"series\""), 6u);
  EXPECT_EQ(count(svg, "stroke-dasharray"), 0u);
}

TEST(PlotHistory, KeysSelectPanelsAndGapsSkipNonFiniteValues) {
  px::History h = sample_history();
  h.history["loss"] = {0.9, NAN, 0.3, 0.25};
  const std::string svg = px::utils::history_to_svg(h, {.title = "a <title>", .keys = {"loss"}});
  EXPECT_EQ(count(svg, "class=\"panel\""), 1u);
  EXPECT_NE(svg.find(">a &lt;title&gt;</text>"), std::string::npos);
  // "loss" breaks into two polylines around the NaN; val_loss is one.
  EXPECT_EQ(count(svg, "data-key=\"loss\""), 2u);
  EXPECT_EQ(count(svg, "data-key=\"val_loss\""), 1u);
  EXPECT_EQ(svg.find("accuracy"), std::string::npos);
}

TEST(PlotHistory, LongHistoriesHaveNiceEpochTicksAndNoDots) {
  px::History h;
  for (int i = 0; i < 1500; ++i) {
    h.history["loss"].push_back(1.0 / (1 + i));
    h.epoch.push_back(i);
  }
  const std::string svg = px::utils::history_to_svg(h);
  EXPECT_EQ(count(svg, "<circle"), 0u);
  EXPECT_NE(svg.find(">200</text>"), std::string::npos);
  EXPECT_NE(svg.find(">1400</text>"), std::string::npos);
  EXPECT_EQ(svg.find(">1500</text>"), std::string::npos);
  EXPECT_NE(svg.find("width=\"480\""), std::string::npos);  // one panel, one column
}

TEST(PlotHistory, WritesSvgFilesAtomically) {
  ScratchDir dir;
  const fs::path out = dir.path() / "curves.svg";
  px::utils::plot_history(sample_history(), out.string());
  EXPECT_EQ(read_file(out), px::utils::history_to_svg(sample_history()));
  EXPECT_EQ(dir.files(), std::vector<std::string>{"curves.svg"});
}

TEST(PlotHistory, WritesPngFromTheSvg) {
  if (!have_rsvg()) GTEST_SKIP() << "rsvg-convert (librsvg2-bin) is not installed";
  ScratchDir dir;
  const fs::path out = dir.path() / "curves.png";
  px::History h = sample_history();
  h.history["val_loss"][2] = NAN;
  px::utils::plot_history(h, out.string(), {.title = "it's a\ntitle"});
  const std::string png = read_file(out);
  ASSERT_GT(png.size(), 1000u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(dir.files(), std::vector<std::string>{"curves.png"});
}

TEST(PlotHistory, ErrorsAreClearAndLeaveNoFiles) {
  ScratchDir dir;
  const std::string png = (dir.path() / "curves.png").string();
  {
    ScopedPath no_programs("/nonexistent");
    try {
      px::utils::plot_history(sample_history(), png);
      FAIL() << "expected px::Error";
    } catch (const px::Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("rsvg-convert"), std::string::npos) << msg;
      EXPECT_NE(msg.find("librsvg2-bin"), std::string::npos) << msg;
      EXPECT_NE(msg.find(".svg"), std::string::npos) << msg;
    }
  }
  EXPECT_TRUE(dir.files().empty());

  EXPECT_THROW(px::utils::plot_history(px::History{}, (dir.path() / "a.svg").string()), px::Error);
  EXPECT_THROW(px::utils::plot_history(sample_history(), (dir.path() / "a.jpg").string()),
               px::Error);
  EXPECT_THROW(px::utils::plot_history(sample_history(), ""), px::Error);
  try {
    px::utils::history_to_svg(sample_history(), {.keys = {"acc"}});
    FAIL() << "expected px::Error";
  } catch (const px::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no key \"acc\""), std::string::npos) << e.what();
  }
  EXPECT_THROW(px::utils::plot_history(sample_history(), "/nonexistent_dir/x/curves.svg"),
               px::Error);
  EXPECT_TRUE(dir.files().empty());
}

TEST(PlotHistory, PlotsWhatFitReturns) {
  px::utils::set_random_seed(1);
  px::Sequential model({px::layers::Dense(4, {.activation = "relu", .input_shape = {2}}),
                        px::layers::Dense(1, "sigmoid")});
  model.compile("adam", "binary_crossentropy", {"accuracy"});
  px::Tensor x = px::Tensor::from_shape({8, 2});
  px::Tensor y = px::Tensor::from_shape({8});
  for (std::size_t i = 0; i < 8; ++i) {
    x(i, 0) = static_cast<float>(i % 2);
    x(i, 1) = static_cast<float>(i / 4);
    y(i) = static_cast<float>(i % 2);
  }
  auto hist = model.fit(x, y, {.epochs = 3, .validation_split = 0.25, .verbose = 0});
  const std::string svg = px::utils::history_to_svg(hist);
  EXPECT_EQ(count(svg, "class=\"series\""), 4u);
}
