// Saving and loading: real Keras files (../shared/keras_files) load and reproduce Keras's
// outputs; plexus's own saves round-trip; unknown classes, mismatches and corrupt files
// are px::Errors.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <plexus.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/process.hpp"
#include "graph_helpers.hpp"
#include "optim/saving/backup.hpp"
#include "optim/saving/checkpoint.hpp"
#include "optim/saving/hdf5.hpp"
#include "optim/saving/saving.hpp"
#include "optim/saving/training_state.hpp"
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

using px::test::contains;

using px::test::keras_files;

using px::test::read_text_tensor;

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
  const fs::path out = px::test::scratch_dir() / ("plexus_resave_" + GetParam() + ".keras");
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
    const fs::path out = px::test::scratch_dir() / ("plexus_cfg_" + stem + ".keras");
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
}

// tests/data/keras_files: inputs and numpy reference outputs for the Keras 2 conv models
// (tests/data/keras_files/conv_reference.py, which extends ../shared/keras_files/reference.py).
fs::path test_data() {
  const char* data = std::getenv("PLEXUS_TEST_DATA");
  return data ? fs::path(data) : fs::absolute(__FILE__).parent_path() / "data";
}

px::Model keras2_model(const std::string& stem) {
  const fs::path dir = keras_files() / "hls4ml_example_models";
  std::ifstream in(dir / (stem + ".json"));
  std::stringstream s;
  s << in.rdbuf();
  px::Model m = px::saving::model_from_json(s.str());
  px::saving::load_weights(m, (dir / (stem + "_weights.h5")).string());
  return m;
}

TEST(KerasFiles, Keras2ConvAndBatchNormalizationModelsGiveReferenceOutputs) {
  // BatchNormalization (epsilon 1e-6, momentum 0.9): Keras's own reference outputs.
  expect_outputs(keras2_model("KERAS_3layer_batch_norm"), keras_files() / "hls4ml_example_models",
                 "KERAS_3layer_batch_norm", 1e-5);
  // Conv2D padding "same" (Sequential as a bare list) and three Conv1D "same" (Model).
  for (const std::string stem : {"KERAS_conv2d_model", "KERAS_conv1d_small"}) {
    SCOPED_TRACE(stem);
    px::Model m = keras2_model(stem);
    expect_outputs(m, test_data() / "keras_files", stem, 1e-5);
  }
  // The conv layers read their Keras 2 options.
  px::Model c1 = keras2_model("KERAS_conv1d_small");
  EXPECT_EQ(c1.get_layer("conv1_relu").class_name(), "Conv1D");
  EXPECT_EQ(c1.get_layer("conv1_relu").get_config()["padding"], "same");
  EXPECT_EQ(c1.get_layer("conv1_relu").get_weights()[0].shape(0), 4u);
}

// A convnet with every weight kind: conv kernels and biases, BatchNormalization's four
// (two trainable, two moving statistics), a depthwise kernel, PReLU's alpha.
px::Model convnet() {
  namespace L = px::layers;
  auto x = px::Input({10, 10, 3}, "image");
  auto h = L::Conv2D(6, 3, {.padding = "same", .kernel_regularizer = "l2", .name = "conv"})(x);
  h = L::BatchNormalization({.name = "bn"})(h);
  h = L::ReLU()(h);
  h = L::MaxPooling2D(2)(h);
  h = L::DepthwiseConv2D(3, {.depth_multiplier = 2, .name = "dw"})(h);
  h = L::BatchNormalization({.center = false, .name = "bn_1"})(h);
  h = L::PReLU()(h);
  h = L::SpatialDropout2D(0.2f)(h);
  h = L::Conv2DTranspose(4, 2, {.strides = 2})(h);
  h = L::GlobalAveragePooling2D()(h);
  auto y = L::Dense(3, {.activation = "softmax", .name = "head"})(h);
  return px::Model(x, y, "convnet");
}

TEST(Saving, ConvnetWithBatchNormalizationRoundTrips) {
  px::utils::set_random_seed(8);
  px::Model m = convnet();
  m.compile("adam", "categorical_crossentropy");
  const Tensor x = random_tensor({16, 10, 10, 3}, 1);
  Tensor y = random_tensor({16, 3}, 2, 0.0f, 1.0f);
  // Two steps move the weights and the moving statistics away from their initial values.
  m.train_on_batch(x, y);
  m.train_on_batch(x, y);
  const Tensor want = m.predict(x);
  const fs::path dir = px::test::scratch_dir() / "plexus_convnet_test";
  fs::create_directories(dir);

  const std::string keras = (dir / "convnet.keras").string();
  px::saving::save_model(m, keras);
  px::Model loaded = px::saving::load_model(keras);
  EXPECT_EQ(max_abs_diff(loaded.predict(x), want), 0.0);
  EXPECT_EQ(px::saving::model_config(loaded), px::saving::model_config(m));

  const std::string weights = (dir / "convnet.weights.h5").string();
  px::saving::save_weights(m, weights);
  px::Model arch = px::saving::model_from_json(px::saving::to_json(m));
  for (auto& w : arch.weights()) w.value().fill(0.0f);
  px::saving::load_weights(arch, weights);
  EXPECT_EQ(max_abs_diff(arch.predict(x), want), 0.0);

  // Keras 3's layout: layers/<snake_case class>/vars/<i>, BatchNormalization's vars in the
  // order gamma, beta, moving_mean, moving_variance.
  const auto f = px::saving::h5::File::open(weights);
  const auto layers = f.root().group("layers");
  const auto& bn = m.get_layer("bn");
  const auto bn_vars = layers.group("batch_normalization").group("vars");
  ASSERT_EQ(bn_vars.children().size(), 4u);
  const auto bw = bn.get_weights();  // gamma, beta, moving_mean, moving_variance
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(max_abs_diff(bn_vars.read_dataset(std::to_string(i)), bw[i]), 0.0) << i;
  }
  const Tensor zero = xt::zeros<float>({6});
  EXPECT_NE(max_abs_diff(bw[2], zero), 0.0);  // moving_mean was updated
  // Without center: gamma, moving_mean, moving_variance.
  EXPECT_EQ(layers.group("batch_normalization_1").group("vars").children().size(), 3u);
  EXPECT_EQ(layers.group("depthwise_conv2d").group("vars").dataset_shape("0"), (Shape{3, 3, 6, 2}));
  EXPECT_EQ(layers.group("conv2d_transpose").group("vars").dataset_shape("0"),
            (Shape{2, 2, 4, 12}));

  // A Sequential convnet starting from the first layer's input_shape.
  namespace L = px::layers;
  px::Sequential seq({L::Conv2D(4, 3, {.activation = "relu", .input_shape = {8, 8, 1}}),
                      L::BatchNormalization(), L::MaxPooling2D(2), L::Flatten(),
                      L::Dense(2, "softmax")});
  seq.compile("sgd", "mse");
  const Tensor sx = random_tensor({5, 8, 8, 1}, 3);
  seq.train_on_batch(sx, random_tensor({5, 2}, 4));
  const std::string sk = (dir / "seq_cnn.keras").string();
  px::saving::save_model(seq, sk);
  px::Model sl = px::saving::load_model(sk);
  EXPECT_EQ(px::saving::model_config(sl)["class_name"], "Sequential");
  EXPECT_EQ(max_abs_diff(sl.predict(sx), seq.predict(sx)), 0.0);
  fs::remove_all(dir);
}

TEST(Saving, LambdaModelsSayWhyTheyCannotBeSaved) {
  auto x = px::Input({3});
  auto sq = px::layers::Lambda([](const px::SymbolicTensor& t) { return px::ops::square(t); },
                               {.name = "sq"});
  px::Model m(x, px::layers::Dense(2)(sq(x)));
  const fs::path p = px::test::scratch_dir() / "plexus_lambda.keras";
  const std::string msg = error_message([&] { px::saving::save_model(m, p.string()); });
  EXPECT_TRUE(contains(msg, "Lambda \"sq\" cannot be saved")) << msg;
  EXPECT_FALSE(fs::exists(p));
  // Weights alone need no config.
  const fs::path w = px::test::scratch_dir() / "plexus_lambda.weights.h5";
  px::saving::save_weights(m, w.string());
  px::saving::load_weights(m, w.string());
  fs::remove(w);
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
  const fs::path dir = px::test::scratch_dir() / "plexus_saving_test";
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
  const fs::path p = px::test::scratch_dir() / "plexus_mismatch.weights.h5";
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

// Found by fuzz_model_json: a "config" that is a string, not an object, escaped as the JSON
// library's own exception.
TEST(Saving, ConfigsOfTheWrongJsonTypeAreErrors) {
  for (const char* json : {R"({"class_name": "Sequential", "config": "keras"})",
                           R"({"class_name": "Sequential", "config": {"layers": 3}})",
                           R"({"class_name": "Functional", "config": {"layers": "x"}})"}) {
    SCOPED_TRACE(json);
    EXPECT_THROW(px::saving::model_from_json(json), px::Error);
  }
}

TEST(Saving, CorruptFilesAreErrors) {
  const fs::path dir = px::test::scratch_dir() / "plexus_corrupt";
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
  EXPECT_THROW(px::callbacks::ModelCheckpoint({.filepath = "m.weights.h5"}), px::Error);
  EXPECT_THROW(px::callbacks::ModelCheckpoint({.filepath = "m.json"}), px::Error);
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
  const fs::path dir = px::test::scratch_dir() / "plexus_ckpt";
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

// --- compiled models: compile_config and optimizer state ----------------------------------

px::Model resume_model() {
  namespace L = px::layers;
  auto in = px::Input({4});
  auto h = L::Dense(8, "relu")(in);
  h = L::Dropout(0.25f)(h);
  return px::Model(in, L::Dense(3, "softmax")(h), "resumable");
}

struct ResumeData {
  Tensor x = random_tensor({40, 4}, 11);
  Tensor y = Tensor::from_shape({40});
  ResumeData() {
    for (std::size_t i = 0; i < 40; ++i) y(i) = static_cast<float>((i * 7) % 3);
  }
};

std::vector<Tensor> values_of(const px::Model& m) {
  std::vector<Tensor> out;
  for (const auto& w : m.weights()) out.push_back(w.value());
  return out;
}

struct OptimizerCase {
  const char* label;
  std::function<std::shared_ptr<px::optim::Optimizer>()> make;
};

class ResumeTraining : public testing::TestWithParam<OptimizerCase> {};

// What must hold for a resumed fit to equal an uninterrupted one: the same weights and
// optimizer state (what the .keras file keeps) and the same random generator state when
// fit() continues (it draws the shuffling order and Dropout's masks; building the loaded
// model draws initial values, so the test restores the generator after loading).
TEST_P(ResumeTraining, SavedAndLoadedFitContinuesExactly) {
  const ResumeData d;
  const int n = 2, total = 5;
  auto compile = [&](px::Model& m) {
    m.compile({.optimizer = GetParam().make(),
               .loss = "sparse_categorical_crossentropy",
               .metrics = {"accuracy"}});
  };
  px::utils::set_random_seed(21);
  px::Model straight = resume_model();
  compile(straight);
  auto hs = straight.fit(d.x, d.y, {.epochs = total, .batch_size = 16, .verbose = 0});

  px::utils::set_random_seed(21);
  px::Model first = resume_model();
  compile(first);
  first.fit(d.x, d.y, {.epochs = n, .batch_size = 16, .verbose = 0});
  const fs::path dir = px::test::scratch_dir() / "plexus_resume_test";
  fs::create_directories(dir);
  const std::string path = (dir / "m.keras").string();
  first.save(path);
  std::stringstream rng;
  rng << px::generator();

  px::Model loaded = px::models::load_model(path);
  ASSERT_TRUE(loaded.compiled());
  EXPECT_EQ(loaded.optimizer().class_name(), first.optimizer().class_name());
  EXPECT_EQ(loaded.optimizer().iterations(), first.optimizer().iterations());
  EXPECT_EQ(loaded.metrics_names(), first.metrics_names());
  rng >> px::generator();
  auto hr =
      loaded.fit(d.x, d.y, {.epochs = total, .batch_size = 16, .initial_epoch = n, .verbose = 0});
  const auto want = values_of(straight), got = values_of(loaded);
  ASSERT_EQ(want.size(), got.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(max_abs_diff(got[i], want[i]), 0.0) << i;
  ASSERT_EQ(hr.history.at("loss").size(), static_cast<std::size_t>(total - n));
  for (int e = n; e < total; ++e) {
    EXPECT_EQ(hr.history.at("loss")[e - n], hs.history.at("loss")[e]) << e;
  }
  EXPECT_EQ(loaded.optimizer().iterations(), straight.optimizer().iterations());

  // The control: the same weights with a fresh optimizer do not continue the run.
  px::Model fresh = px::models::load_model(path, {.compile = false});
  compile(fresh);
  rng.clear();
  rng.seekg(0);
  rng >> px::generator();
  fresh.fit(d.x, d.y, {.epochs = total, .batch_size = 16, .initial_epoch = n, .verbose = 0});
  double diff = 0.0;
  const auto other = values_of(fresh);
  for (std::size_t i = 0; i < want.size(); ++i)
    diff = std::max(diff, max_abs_diff(other[i], want[i]));
  EXPECT_GT(diff, 0.0);
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(
    Optimizers, ResumeTraining,
    testing::Values(OptimizerCase{"Adam", [] { return std::make_shared<px::optim::Adam>(); }},
                    OptimizerCase{"AdamAmsgrad",
                                  [] {
                                    return std::make_shared<px::optim::Adam>(px::optim::AdamOptions{
                                        .learning_rate = 0.01, .amsgrad = true});
                                  }},
                    OptimizerCase{"AdamW", [] { return std::make_shared<px::optim::AdamW>(); }},
                    OptimizerCase{"SGDNesterov",
                                  [] {
                                    return std::make_shared<px::optim::SGD>(px::optim::SGDOptions{
                                        .learning_rate = 0.05, .momentum = 0.9, .nesterov = true});
                                  }},
                    OptimizerCase{"SGDSchedule",
                                  [] {
                                    return std::make_shared<px::optim::SGD>(px::optim::SGDOptions{
                                        .learning_rate = px::optim::ExponentialDecay(0.1, 3, 0.5)});
                                  }},
                    OptimizerCase{"RMSpropCentered",
                                  [] {
                                    return std::make_shared<px::optim::RMSprop>(
                                        px::optim::RMSpropOptions{.momentum = 0.5,
                                                                  .centered = true});
                                  }},
                    OptimizerCase{"Nadam", [] { return std::make_shared<px::optim::Nadam>(); }},
                    OptimizerCase{"Adagrad", [] { return std::make_shared<px::optim::Adagrad>(); }},
                    OptimizerCase{"Adadelta",
                                  [] { return std::make_shared<px::optim::Adadelta>(); }},
                    OptimizerCase{"Adamax", [] { return std::make_shared<px::optim::Adamax>(); }},
                    OptimizerCase{"Lion", [] { return std::make_shared<px::optim::Lion>(); }}),
    [](const testing::TestParamInfo<OptimizerCase>& i) { return std::string(i.param.label); });

TEST(Saving, CompileConfigAndOptimizerVariablesInKerasLayout) {
  px::utils::set_random_seed(2);
  px::Model m = resume_model();
  m.compile({.optimizer = px::optim::Adam({.learning_rate = 0.01, .amsgrad = true}),
             .loss = "sparse_categorical_crossentropy",
             .metrics = {"accuracy"}});
  const ResumeData d;
  m.fit(d.x, d.y, {.epochs = 1, .batch_size = 16, .verbose = 0});
  const fs::path dir = px::test::scratch_dir() / "plexus_compile_cfg";
  fs::create_directories(dir);
  const std::string path = (dir / "m.keras").string();
  m.save(path);
  const auto entries = px::saving::zip::read(path, {"config.json", "model.weights.h5"}, 1 << 24);
  const Config c = Config::parse(*entries.find("config.json"));
  const Config& cc = c["compile_config"];
  EXPECT_EQ(cc["optimizer"]["module"], "keras.optimizers");
  EXPECT_EQ(cc["optimizer"]["class_name"], "Adam");
  EXPECT_EQ(cc["optimizer"]["registered_name"], nullptr);
  EXPECT_DOUBLE_EQ(cc["optimizer"]["config"]["learning_rate"].get<double>(), 0.01);
  EXPECT_EQ(cc["optimizer"]["config"]["amsgrad"], true);
  EXPECT_EQ(cc["loss"], "sparse_categorical_crossentropy");
  EXPECT_EQ(cc["metrics"], Config::parse(R"(["accuracy"])"));
  EXPECT_EQ(cc["loss_weights"], nullptr);
  for (const char* key : {"weighted_metrics", "run_eagerly", "steps_per_execution", "jit_compile"})
    EXPECT_TRUE(cc.contains(key)) << key;

  // optimizer/vars: iteration, learning_rate, (momentum, velocity) per trainable weight,
  // then velocity_hat per weight — Keras 3's Adam.build order.
  const std::string h5 = (dir / "inner.weights.h5").string();
  {
    std::ofstream out(h5, std::ios::binary);
    out << *entries.find("model.weights.h5");
  }
  const auto f = px::saving::h5::File::open(h5);
  const auto vars = f.root().group("optimizer").group("vars");
  const auto tw = m.trainable_weights();
  ASSERT_EQ(vars.children().size(), 2 + 3 * tw.size());
  EXPECT_TRUE(vars.dataset_is_integer("0"));
  EXPECT_EQ(vars.read_int_scalar("0"), m.optimizer().iterations());
  EXPECT_DOUBLE_EQ(vars.read_double_scalar("1"), 0.01);
  const auto slots = m.optimizer().variables();  // model order: m, v, v_hat per weight
  ASSERT_EQ(slots.size(), 3 * tw.size());
  for (std::size_t i = 0; i < tw.size(); ++i) {
    const Shape shape = tw[i].shape();
    for (std::size_t k = 0; k < 3; ++k) {
      // Keras's index of slot k of weight i.
      const std::size_t at = k < 2 ? 2 + 2 * i + k : 2 + 2 * tw.size() + i;
      const Tensor t = vars.read_dataset(std::to_string(at), &shape, "slot");
      const auto& view = slots[3 * i + k];
      EXPECT_EQ(view.variable.get(), tw[i].data().get());
      EXPECT_EQ(view.slot, k);
      ASSERT_EQ(view.values->size(), t.size());
      for (std::size_t e = 0; e < t.size(); ++e) EXPECT_EQ(t.data()[e], (*view.values)[e]);
    }
  }
  // save_weights stays weights-only, as in Keras.
  const std::string w = (dir / "w.weights.h5").string();
  m.save_weights(w);
  EXPECT_FALSE(px::saving::h5::File::open(w).root().has_group("optimizer"));
  // compile = false: an uncompiled model.
  EXPECT_FALSE(px::models::load_model(path, {.compile = false}).compiled());
  fs::remove_all(dir);
}

TEST(Saving, UncompiledAndUnrestorableCompileConfigs) {
  px::utils::set_random_seed(2);
  const fs::path dir = px::test::scratch_dir() / "plexus_compile_cfg2";
  fs::create_directories(dir);
  // Not compiled: compile_config {} and no optimizer group, as Keras writes.
  px::Model m = resume_model();
  const std::string plain = (dir / "plain.keras").string();
  m.save(plain);
  EXPECT_FALSE(px::models::load_model(plain).compiled());
  // Compiled but not trained: iteration and learning_rate only (Keras's unbuilt optimizer).
  m.compile(px::optim::RMSprop(), "mse");
  const std::string fresh = (dir / "fresh.keras").string();
  m.save(fresh);
  px::Model f = px::models::load_model(fresh);
  ASSERT_TRUE(f.compiled());
  EXPECT_EQ(f.optimizer().class_name(), "RMSprop");
  EXPECT_EQ(f.optimizer().iterations(), 0);
  // A C++ lambda loss is written as Keras writes a function; loading it needs compile=false.
  m.compile(px::optim::SGD(), [](const px::SymbolicTensor& t, const px::SymbolicTensor& p) {
    return px::ops::mean(px::ops::square(t - p), {-1});
  });
  const std::string custom = (dir / "custom.keras").string();
  m.save(custom);
  const std::string msg = error_message([&] { px::models::load_model(custom); });
  EXPECT_TRUE(contains(msg, "compile_config")) << msg;
  EXPECT_TRUE(contains(msg, "custom_loss")) << msg;
  EXPECT_TRUE(contains(msg, "compile = false")) << msg;
  EXPECT_FALSE(px::models::load_model(custom, {.compile = false}).compiled());
  fs::remove_all(dir);
}

TEST(Saving, LegacyTrainingConfigCompiles) {
  // Keras 2.2's training_config (keras2c/model.h5's, whose LSTM plexus lacks).
  px::utils::set_random_seed(2);
  px::Model m = resume_model();
  const Config training = Config::parse(R"({"optimizer_config": {"class_name": "Adam",
      "config": {"lr": 0.004000000189989805, "beta_1": 0.8999999761581421,
                 "beta_2": 0.9990000128746033, "decay": 0.0, "epsilon": 1e-07,
                 "amsgrad": false}},
      "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"],
      "sample_weight_mode": null, "loss_weights": null})");
  px::saving::detail::compile_from_legacy_config(m, training);
  ASSERT_TRUE(m.compiled());
  EXPECT_EQ(m.optimizer().class_name(), "Adam");
  EXPECT_NEAR(m.optimizer().learning_rate(), 0.004, 1e-9);
  EXPECT_EQ(m.metrics_names(), (std::vector<std::string>{"loss", "accuracy"}));
}

// --- BackupAndRestore ----------------------------------------------------------------------

constexpr std::uint64_t kBackupSeed = 31;

struct BackupData {
  Tensor x = random_tensor({64, 4}, 13);
  Tensor y = Tensor::from_shape({64});
  BackupData() {
    for (std::size_t i = 0; i < 64; ++i) y(i) = static_cast<float>((i * 5) % 3);
  }
};

// The run every BackupAndRestore test repeats: seeded model, Adam, Dropout, shuffling,
// 4 epochs of 8 batches.
px::Model backup_run(std::vector<px::CallbackRef> callbacks, int epochs = 4) {
  const BackupData d;
  px::utils::set_random_seed(kBackupSeed);
  px::Model m = resume_model();
  m.compile({.optimizer = px::optim::Adam({.learning_rate = 0.01}),
             .loss = "sparse_categorical_crossentropy",
             .metrics = {"accuracy"}});
  m.fit(d.x, d.y,
        {.epochs = epochs, .batch_size = 8, .verbose = 0, .callbacks = std::move(callbacks)});
  return m;
}

// Kills its own process with SIGKILL when epoch 2's batch 7 begins (the backup written
// after batch 5 exists; batches 5 and 6 are done but not backed up).
class KillMidEpoch : public px::callbacks::Callback {
 public:
  void on_epoch_begin(int epoch, const px::callbacks::Logs&) override { epoch_ = epoch; }
  void on_train_batch_begin(int batch, const px::callbacks::Logs&) override {
    if (epoch_ == 2 && batch == 7) std::raise(SIGKILL);
  }

 private:
  int epoch_ = 0;
};

// The child process of BackupAndRestore.ResumesAFitKilledWithSigkill: the test binary run
// again with PLEXUS_BACKUP_CHILD=<backup_dir> does this before main() and never returns.
const bool kBackupChild = [] {
  if (const char* dir = std::getenv("PLEXUS_BACKUP_CHILD")) {
    backup_run(
        {px::callbacks::BackupAndRestore({.backup_dir = dir, .save_freq = 3}), KillMidEpoch()});
    std::_Exit(3);  // not killed: the parent reports it
  }
  return false;
}();

void expect_same_weights(const px::Model& got, const px::Model& want) {
  const auto a = values_of(got), b = values_of(want);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(max_abs_diff(a[i], b[i]), 0.0) << i;
}

TEST(BackupAndRestore, ResumesAFitKilledWithSigkill) {
  ASSERT_FALSE(kBackupChild);
  const fs::path dir = px::test::scratch_dir() / "plexus_backup_kill";
  fs::remove_all(dir);
  ::setenv("PLEXUS_BACKUP_CHILD", dir.c_str(), 1);
  const auto child = px::detail::run_program({"/proc/self/exe"}, "", "test", "the test binary",
                                             "cannot find the test binary");
  ::unsetenv("PLEXUS_BACKUP_CHILD");
  ASSERT_TRUE(WIFSIGNALED(child.status)) << child.how() << "\n" << child.errors;
  ASSERT_EQ(WTERMSIG(child.status), SIGKILL);
  ASSERT_TRUE(fs::exists(dir / "latest.weights.h5"));

  px::callbacks::BackupAndRestore backup({.backup_dir = dir.string(), .save_freq = 3});
  const px::Model resumed = backup_run({backup});
  EXPECT_TRUE(backup.restored());
  EXPECT_EQ(backup.restored_epoch(), 2);
  EXPECT_EQ(backup.restored_batch(), 5);
  EXPECT_FALSE(fs::exists(dir));  // delete_checkpoint after the completed fit
  const px::Model straight = backup_run({});
  expect_same_weights(resumed, straight);
  EXPECT_EQ(resumed.optimizer().iterations(), straight.optimizer().iterations());
}

TEST(BackupAndRestore, EpochBackupsResumeAndDoubleCheckpointFallsBack) {
  const fs::path dir = px::test::scratch_dir() / "plexus_backup_epoch";
  fs::remove_all(dir);
  const px::callbacks::BackupAndRestoreOptions o{
      .backup_dir = dir.string(), .double_checkpoint = true, .delete_checkpoint = false};
  // Two epochs, as if the run had stopped there; then the full run resumes at epoch 2.
  backup_run({px::callbacks::BackupAndRestore(o)}, 2);
  ASSERT_TRUE(fs::exists(dir / "latest.weights.h5"));
  ASSERT_TRUE(fs::exists(dir / "latest.weights.h5.bkp"));
  px::callbacks::BackupAndRestore again(o);
  const px::Model resumed = backup_run({again});
  EXPECT_TRUE(again.restored());
  EXPECT_EQ(again.restored_epoch(), 2);
  EXPECT_EQ(again.restored_batch(), 0);
  const px::Model straight = backup_run({});
  expect_same_weights(resumed, straight);

  // That run left latest (after epoch 4) and .bkp (after epoch 3). With the latest
  // truncated, the previous backup is used.
  {
    const auto size = fs::file_size(dir / "latest.weights.h5");
    fs::resize_file(dir / "latest.weights.h5", size / 2);
  }
  px::callbacks::BackupAndRestore fallback(o);
  backup_run({fallback});
  EXPECT_TRUE(fallback.restored());
  EXPECT_EQ(fallback.restored_epoch(), 3);
  // Without double_checkpoint a corrupt backup is an error naming the file.
  fs::resize_file(dir / "latest.weights.h5", 100);
  px::callbacks::BackupAndRestore strict({.backup_dir = dir.string()});
  const std::string msg = error_message([&] { backup_run({strict}); });
  EXPECT_TRUE(contains(msg, "latest.weights.h5")) << msg;
  EXPECT_TRUE(contains(error_message([] {
                         px::callbacks::BackupAndRestore({.backup_dir = "x", .save_freq = "batch"});
                       }),
                       "save_freq"));
  fs::remove_all(dir);
}

}  // namespace
