// Saving and loading: real Keras files (../shared/keras_files) load and reproduce Keras's
// outputs; plexus's own saves round-trip; unknown classes, mismatches and corrupt files
// are px::Errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <plexus.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "graph_helpers.hpp"
#include "optim/saving/checkpoint.hpp"
#include "optim/saving/saving.hpp"
#include "optim/saving/zip.hpp"

namespace px = plexus;
namespace fs = std::filesystem;
using px::Config;
using px::Shape;
using px::Tensor;
using px::test::error_message;
using px::test::max_abs_diff;
using px::test::random_tensor;

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// ../shared/keras_files next to the repository (or $PLEXUS_KERAS_FILES). ctest sets
// PLEXUS_TEST_DATA to <repo>/tests/data.
fs::path keras_files() {
  if (const char* env = std::getenv("PLEXUS_KERAS_FILES")) return env;
  const char* data = std::getenv("PLEXUS_TEST_DATA");
  const fs::path repo = data ? fs::absolute(data).parent_path().parent_path()
                             : fs::absolute(__FILE__).parent_path().parent_path();
  return repo.parent_path() / "shared" / "keras_files";
}

// "# shape: [4, 3]" then rows of numbers.
Tensor read_text_tensor(const fs::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::string header;
  std::getline(in, header);
  Shape shape;
  const auto lb = header.find('['), rb = header.find(']');
  std::stringstream dims(header.substr(lb + 1, rb - lb - 1));
  for (std::string d; std::getline(dims, d, ',');) shape.push_back(std::stol(d));
  std::vector<float> values;
  for (double v; in >> v;) values.push_back(static_cast<float>(v));
  Tensor t;
  px::resize_to(t, shape);
  EXPECT_EQ(values.size(), t.size()) << path;
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

std::vector<Tensor> read_all(const fs::path& dir, const std::string& stem, const char* kind) {
  std::vector<Tensor> out;
  for (int i = 0;; ++i) {
    const fs::path p = dir / (stem + "." + kind + std::to_string(i) + ".txt");
    if (!fs::exists(p)) break;
    out.push_back(read_text_tensor(p));
  }
  return out;
}

void expect_outputs(const px::Model& m, const fs::path& dir, const std::string& stem,
                    double tol = 1e-5) {
  const auto xs = read_all(dir, stem, "input");
  const auto ys = read_all(dir, stem, "output");
  ASSERT_FALSE(xs.empty());
  ASSERT_EQ(ys.size(), m.outputs().size());
  const auto got = m.predict(xs);
  for (std::size_t i = 0; i < ys.size(); ++i) {
    EXPECT_LE(max_abs_diff(got[i], ys[i]), tol) << stem << " output " << i;
  }
}

// --- Keras 3 files: all three formats ---------------------------------------------------

class Keras3Files : public testing::TestWithParam<std::string> {};

TEST_P(Keras3Files, KerasArchiveGivesKerasOutputs) {
  const fs::path dir = keras_files() / "keras3_generated";
  px::Model m = px::saving::load_model((dir / (GetParam() + ".keras")).string());
  expect_outputs(m, dir, GetParam());
}

TEST_P(Keras3Files, LegacyH5GivesKerasOutputs) {
  const fs::path dir = keras_files() / "keras3_generated";
  px::Model m = px::saving::load_model((dir / (GetParam() + ".h5")).string());
  expect_outputs(m, dir, GetParam());
}

TEST_P(Keras3Files, WeightsFileIntoTheArchitectureGivesKerasOutputs) {
  const fs::path dir = keras_files() / "keras3_generated";
  px::Model m = px::saving::load_model((dir / (GetParam() + ".keras")).string());
  for (auto& w : m.weights()) w.value().fill(0.0f);  // forget the archive's weights
  px::saving::load_weights(m, (dir / (GetParam() + ".weights.h5")).string());
  expect_outputs(m, dir, GetParam());
}

TEST_P(Keras3Files, ResavedArchiveGivesTheSameOutputs) {
  const fs::path dir = keras_files() / "keras3_generated";
  px::Model m = px::saving::load_model((dir / (GetParam() + ".keras")).string());
  const fs::path out = fs::temp_directory_path() / ("plexus_resave_" + GetParam() + ".keras");
  px::saving::save_model(m, out.string());
  px::Model again = px::saving::load_model(out.string());
  expect_outputs(again, dir, GetParam());
  EXPECT_EQ(px::saving::model_config(again), px::saving::model_config(m));
  fs::remove(out);
}

INSTANTIATE_TEST_SUITE_P(Generated, Keras3Files,
                         testing::Values("seq_mlp_pima", "functional_multi_io"));

TEST(KerasFiles, Keras3ConfigMatchesWhatPlexusWrites) {
  // The architecture plexus writes for a loaded model keeps Keras's layer list and graph.
  const fs::path dir = keras_files() / "keras3_generated";
  px::Model m = px::saving::load_model((dir / "functional_multi_io.keras").string());
  const Config c = px::saving::model_config(m);
  EXPECT_EQ(c["class_name"], "Functional");
  EXPECT_EQ(c["config"]["name"], "two_in_two_out");
  const Config& layers = c["config"]["layers"];
  ASSERT_EQ(layers.size(), 11u);
  EXPECT_EQ(c["config"]["input_layers"], Config::parse(R"([["in_a", 0, 0], ["in_b", 0, 0]])"));
  EXPECT_EQ(c["config"]["output_layers"],
            Config::parse(R"([["out_bin", 0, 0], ["out_cls", 0, 0]])"));
  // The shared Dense is called twice: node 1 feeds "add".
  for (const auto& l : layers) {
    if (l["name"] == "add") {
      EXPECT_EQ(l["inbound_nodes"][0]["args"][0][1]["config"]["keras_history"],
                Config::parse(R"(["shared", 1, 0])"));
    }
    if (l["name"] == "shared") {
      EXPECT_EQ(l["inbound_nodes"].size(), 2u);
    }
  }
  EXPECT_EQ(m.count_params(), 202u);
}

// What plexus writes for a Keras model is what Keras wrote, but for the keys Keras adds for
// its own bookkeeping (shared_object_id, quantization_config) and the ones plexus always
// writes (activity_regularizer: null).
void strip_bookkeeping(Config& c) {
  if (c.is_object()) {
    c.erase("shared_object_id");
    c.erase("quantization_config");
    c.erase("activity_regularizer");
    c.erase("compile_config");
    for (auto& [k, v] : c.items()) strip_bookkeeping(v);
  } else if (c.is_array()) {
    for (auto& v : c) strip_bookkeeping(v);
  }
}

TEST(KerasFiles, PlexusWritesKerasConfigs) {
  const fs::path dir = keras_files() / "keras3_generated";
  for (const std::string stem : {"seq_mlp_pima", "functional_multi_io"}) {
    SCOPED_TRACE(stem);
    px::Model m = px::saving::load_model((dir / (stem + ".keras")).string());
    const fs::path out = fs::temp_directory_path() / ("plexus_cfg_" + stem + ".keras");
    px::saving::save_model(m, out.string());
    auto config_json = [](const fs::path& p) {
      const auto entries = px::saving::zip::read(p.string(), {"config.json"}, 1 << 20);
      EXPECT_NE(entries.find("config.json"), nullptr);
      return Config::parse(*entries.find("config.json"));
    };
    Config ours = config_json(out);
    Config theirs = config_json(dir / (stem + ".keras"));
    strip_bookkeeping(ours);
    strip_bookkeeping(theirs);
    // Keras writes Dropout's call kwarg training=False; plexus writes no kwargs.
    for (auto& l : theirs["config"]["layers"]) {
      if (l.contains("inbound_nodes")) {
        for (auto& n : l["inbound_nodes"]) n["kwargs"] = Config::object();
      }
    }
    EXPECT_EQ(ours, theirs) << ours.dump(1) << "\n---\n" << theirs.dump(1);
    fs::remove(out);
  }
}

// --- older Keras and other repositories ---------------------------------------------------

TEST(KerasFiles, Keras2JsonAndLegacyWeights) {
  const fs::path dir = keras_files() / "hls4ml_example_models";
  for (const std::string stem : {"KERAS_3layer", "KERAS_1layer"}) {
    SCOPED_TRACE(stem);
    std::ifstream in(dir / (stem + ".json"));
    std::stringstream s;
    s << in.rdbuf();
    px::Model m = px::saving::model_from_json(s.str());
    px::saving::load_weights(m, (dir / (stem + "_weights.h5")).string());
    // The reference outputs are numpy float64 forward passes.
    expect_outputs(m, dir, stem, 1e-5);
  }
}

TEST(KerasFiles, UnknownLayersNameTheClass) {
  const fs::path root = keras_files();
  struct Case {
    fs::path file;
    std::string cls;
  };
  const std::vector<Case> cases{
      {root / "hls4ml_example_models" / "hgq_jet_classifier.h5", "FixedPointQuantizer"},
      {root / "hls4ml_example_models" / "qkeras-v3_3layer.keras", "QDense"},
      // The LSTM/GRU/Masking/Bidirectional files: tests/test_recurrent.cpp.
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file.string());
    const std::string msg = error_message([&] { px::saving::load_model(c.file.string()); });
    EXPECT_TRUE(contains(msg, "Unknown layer \"" + c.cls + "\"")) << msg;
    EXPECT_TRUE(contains(msg, "px::register_layer<" + c.cls + ">")) << msg;
  }
  // BatchNormalization in a Keras 2 JSON.
  std::ifstream in(root / "hls4ml_example_models" / "KERAS_3layer_batch_norm.json");
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_TRUE(contains(error_message([&] { px::saving::model_from_json(s.str()); }),
                       "Unknown layer \"BatchNormalization\""));
}

// --- plexus round trips ------------------------------------------------------------------

// A layer with a config, registered like a Keras custom object.
class Shift : public px::Layer {
 public:
  explicit Shift(std::string_view name = {}) : px::Layer(name) {}
  std::string class_name() const override { return "Shift"; }
  void build(const Shape& s) override {
    b_ = add_weight("b", {s.back()}, px::initializers::RandomNormal({.seed = 5}));
  }
  px::SymbolicTensor call(const px::SymbolicTensor& x) override { return px::ops::add(x, b_); }
  static px::LayerRef from_config(const Config& c) {
    auto l = px::make_layer<Shift>(px::config::name_of(c));
    l->apply_base_config(c);
    return l;
  }

 private:
  px::SymbolicTensor b_;
};

px::Model rich_model() {
  namespace L = px::layers;
  px::register_layer<Shift>("tests>Shift");
  auto a = px::Input({5}, "a");
  auto b = px::Input({3}, "b");
  // A nested model, called on a new input.
  auto ei = px::Input({5});
  px::Model encoder(ei, L::Dense(4, "tanh")(ei), "encoder");
  auto shared = L::Dense(4, {.activation = "relu", .name = "shared"});
  auto frozen = L::Dense(4, {.name = "frozen"});
  frozen->set_trainable(false);
  auto ha = shared(encoder(a));
  auto hb = shared(frozen(b));
  auto merged = L::Concatenate()({ha, hb});
  auto s = px::make_layer<Shift>("shift")(merged);
  auto y1 = L::Dense(1, {.activation = "sigmoid", .name = "score"})(s);
  auto y2 = L::Dense(3, {.activation = "softmax", .name = "klass"})(L::Add()({ha, hb}));
  return px::Model({a, b}, {y1, y2}, "rich");
}

TEST(Saving, RoundTripsKeepPredictions) {
  px::utils::set_random_seed(3);
  px::Model m = rich_model();
  const std::vector<Tensor> xs{random_tensor({6, 5}, 1), random_tensor({6, 3}, 2)};
  const auto want = m.predict(xs);
  const fs::path dir = fs::temp_directory_path() / "plexus_saving_test";
  fs::create_directories(dir);
  const std::string keras = (dir / "rich.keras").string();
  px::saving::save_model(m, keras);
  px::Model loaded = px::saving::load_model(keras);
  auto got = loaded.predict(xs);
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(max_abs_diff(got[i], want[i]), 0.0);
  EXPECT_FALSE(loaded.get_layer("frozen").trainable());
  EXPECT_EQ(loaded.count_params(), m.count_params());
  EXPECT_EQ(loaded.trainable_weights().size(), m.trainable_weights().size());

  // Weights only, into a fresh copy of the architecture.
  const std::string weights = (dir / "rich.weights.h5").string();
  px::saving::save_weights(m, weights);
  px::Model arch = px::saving::model_from_json(px::saving::to_json(m));
  for (auto& w : arch.weights()) w.value().fill(0.0f);
  px::saving::load_weights(arch, weights);
  got = arch.predict(xs);
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(max_abs_diff(got[i], want[i]), 0.0);

  // Sequential.
  px::Sequential seq({px::layers::Dense(6, {.activation = "relu", .input_shape = {4}}),
                      px::layers::Dropout(0.5f), px::layers::Dense(2)});
  const Tensor x = random_tensor({3, 4}, 4);
  const std::string sk = (dir / "seq.keras").string();
  px::saving::save_model(seq, sk);
  px::Model sl = px::saving::load_model(sk);
  EXPECT_EQ(px::saving::model_config(sl)["class_name"], "Sequential");
  EXPECT_EQ(max_abs_diff(sl.predict(x), seq.predict(x)), 0.0);
  // Only the final files remain: the temporary files were renamed or removed.
  std::vector<std::string> left;
  for (auto& e : fs::directory_iterator(dir)) left.push_back(e.path().filename().string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"rich.keras", "rich.weights.h5", "seq.keras"}));
  fs::remove_all(dir);
}

TEST(Saving, MismatchesNameLayerWeightAndShapes) {
  px::utils::set_random_seed(1);
  auto x = px::Input({4});
  px::Model small(x, px::layers::Dense(3, {.name = "d"})(x));
  auto x2 = px::Input({4});
  px::Model other(x2, px::layers::Dense(5, {.name = "d"})(x2));
  const fs::path p = fs::temp_directory_path() / "plexus_mismatch.weights.h5";
  px::saving::save_weights(small, p.string());
  const Tensor before = other.get_weights()[0];
  const std::string msg = error_message([&] { px::saving::load_weights(other, p.string()); });
  EXPECT_TRUE(contains(msg, "layer \"d\" weight \"kernel\"")) << msg;
  EXPECT_TRUE(contains(msg, "(4, 3)")) << msg;
  EXPECT_TRUE(contains(msg, "(4, 5)")) << msg;
  EXPECT_EQ(other.get_weights()[0], before);  // nothing was assigned
  auto x3 = px::Input({4});
  px::Model two(x3, px::layers::Dense(2)(px::layers::Dense(3)(x3)));
  EXPECT_TRUE(contains(error_message([&] { px::saving::load_weights(two, p.string()); }),
                       "no weights for layer"));
  fs::remove(p);
  EXPECT_TRUE(
      contains(error_message([&] { px::saving::save_weights(small, "w.h5"); }), ".weights.h5"));
}

TEST(Saving, CorruptFilesAreErrors) {
  const fs::path dir = fs::temp_directory_path() / "plexus_corrupt";
  fs::create_directories(dir);
  px::utils::set_random_seed(1);
  auto x = px::Input({4});
  px::Model m(x, px::layers::Dense(3)(x));
  const std::string good = (dir / "m.keras").string();
  px::saving::save_model(m, good);
  std::ifstream in(good, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  // Truncations at many points, and flipped bytes: always a px::Error, never a crash.
  for (std::size_t cut : {std::size_t(0), std::size_t(10), bytes.size() / 3, bytes.size() / 2,
                          bytes.size() - 30, bytes.size() - 1}) {
    const std::string bad = (dir / "cut.keras").string();
    std::ofstream(bad, std::ios::binary).write(bytes.data(), static_cast<long>(cut));
    EXPECT_THROW(px::saving::load_model(bad), px::Error) << cut;
  }
  for (std::size_t at = 40; at < bytes.size(); at += bytes.size() / 17) {
    std::string flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x5a);
    const std::string bad = (dir / "flip.keras").string();
    std::ofstream(bad, std::ios::binary).write(flipped.data(), static_cast<long>(flipped.size()));
    try {
      px::Model loaded = px::saving::load_model(bad);
      (void)loaded;  // a flip in unused bytes may load
    } catch (const px::Error&) {
    }
  }
  const std::string not_h5 = (dir / "x.h5").string();
  std::ofstream(not_h5) << "not hdf5";
  EXPECT_TRUE(contains(error_message([&] { px::saving::load_model(not_h5); }), "not an HDF5"));
  EXPECT_TRUE(contains(error_message([&] { px::saving::model_from_json("{\"class_name\": 3}"); }),
                       "class_name"));
  EXPECT_TRUE(
      contains(error_message([&] { px::saving::model_from_json("{oops"); }), "not valid JSON"));
  fs::remove_all(dir);
}

// --- ModelCheckpoint ------------------------------------------------------------------------

TEST(ModelCheckpoint, FormatsPathsLikePython) {
  const px::callbacks::Logs logs{{"val_loss", 0.12345}, {"accuracy", 0.5}};
  using px::callbacks::format_checkpoint_path;
  EXPECT_EQ(format_checkpoint_path("m-{epoch:02d}-{val_loss:.2f}.keras", 2, {}, logs),
            "m-03-0.12.keras");
  EXPECT_EQ(format_checkpoint_path("{{x}}-{accuracy:.3f}-{epoch}.keras", 0, {}, logs),
            "{x}-0.500-1.keras");
  EXPECT_EQ(format_checkpoint_path("b{batch:03d}.keras", 0, 9, logs), "b010.keras");
  EXPECT_TRUE(
      contains(error_message([&] { format_checkpoint_path("m-{val_acc:.2f}.keras", 0, {}, logs); }),
               "{val_acc}, which is not available (have: epoch, accuracy, val_loss)"));
  EXPECT_THROW(format_checkpoint_path("m-{epoch.keras", 0, {}, logs), px::Error);
  EXPECT_THROW(px::callbacks::ModelCheckpoint({.filepath = "m.h5"}), px::Error);
  EXPECT_THROW(px::callbacks::ModelCheckpoint({.filepath = "m.keras", .save_weights_only = true}),
               px::Error);
}

TEST(ModelCheckpoint, SavesBestModelsDuringFit) {
  px::utils::set_random_seed(4);
  auto in = px::Input({1});
  px::Model model(in, px::layers::Dense(1, {.name = "lin"})(in));
  Tensor x = Tensor::from_shape({32, 1}), y = Tensor::from_shape({32, 1});
  for (std::size_t i = 0; i < 32; ++i) {
    x(i, 0) = static_cast<float>(i) / 32.0f - 0.5f;
    y(i, 0) = 2.0f * x(i, 0);
  }
  model.compile(px::optim::SGD({.learning_rate = 0.05}), "mse");
  const fs::path dir = fs::temp_directory_path() / "plexus_ckpt";
  fs::remove_all(dir);
  auto every =
      std::make_shared<px::callbacks::ModelCheckpoint>(px::callbacks::ModelCheckpointOptions{
          .filepath = (dir / "e{epoch:02d}-{loss:.3f}.weights.h5").string(),
          .monitor = "loss",
          .save_weights_only = true});
  auto best =
      std::make_shared<px::callbacks::ModelCheckpoint>(px::callbacks::ModelCheckpointOptions{
          .filepath = (dir / "best.keras").string(), .monitor = "loss", .save_best_only = true});
  auto hist =
      model.fit(x, y, {.epochs = 3, .batch_size = 8, .verbose = 0, .callbacks = {every, best}});
  const auto& loss = hist.history.at("loss");
  for (int e = 0; e < 3; ++e) {
    const std::string name = fmt::format("e{:02d}-{:.3f}.weights.h5", e + 1, loss[e]);
    EXPECT_TRUE(fs::exists(dir / name)) << name;
  }
  // The loss falls every epoch here, so the best model is the last one.
  ASSERT_LT(loss[2], loss[1]);
  EXPECT_DOUBLE_EQ(best->best(), loss[2]);
  px::Model loaded = px::saving::load_model((dir / "best.keras").string());
  EXPECT_EQ(max_abs_diff(loaded.predict(x), model.predict(x)), 0.0);
  fs::remove_all(dir);
}

}  // namespace
