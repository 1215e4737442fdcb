// Keras interop beyond the basic formats: integer and boolean inputs (dtype), every Keras 3
// weights layout (MultiHeadAttention's projections, integer weights), keras.ops nodes in
// functional configs, the legacy .h5 writer, multi-output plumbing and the custom-loop
// gradient cache.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <plexus.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "graph_helpers.hpp"
#include "optim/saving/hdf5.hpp"
#include "optim/saving/saving.hpp"

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

// Loads zoo case `stem` and checks Keras's predict output (tolerance from its manifest).
void expect_zoo_case(const std::string& stem, double tol = 1e-5) {
  const fs::path dir = keras_files() / "keras3_15_1_zoo";
  px::Model m = px::saving::load_model((dir / (stem + ".keras")).string());
  std::vector<Tensor> xs;
  for (int i = 0; fs::exists(dir / (stem + ".input" + std::to_string(i) + ".txt")); ++i)
    xs.push_back(read_text_tensor(dir / (stem + ".input" + std::to_string(i) + ".txt")));
  ASSERT_FALSE(xs.empty());
  const Tensor want = read_text_tensor(dir / (stem + ".output0.txt"));
  EXPECT_LE(max_abs_diff(m.predict(xs)[0], want), tol) << stem;
}

// Copies an HDF5 tree, renaming groups through `rename` (a Keras 3 weights file written in
// another version's layout).
void copy_tree(const px::saving::h5::Group& from, const px::saving::h5::Group& to,
               const std::function<std::string(const std::string&)>& rename) {
  for (const auto& name : from.children()) {
    if (from.has_group(name)) {
      copy_tree(from.group(name), to.create_group(rename(name)), rename);
    } else if (from.dataset_is_integer(name)) {
      to.write_int_scalar(name, from.read_int_scalar(name));
    } else {
      to.write_dataset(name, from.read_dataset(name));
    }
  }
}

// A text model: int32 token ids -> Embedding(mask_zero) -> LSTM -> Dense.
px::Model text_model() {
  auto ids = px::Input({5}, px::kw::dtype = "int32", px::kw::name = "ids");
  auto e = px::layers::Embedding(10, 4, {.mask_zero = true})(ids);
  auto h = px::layers::LSTM(3)(e);
  auto out = px::layers::Dense(2, {.name = "head"})(h);
  return px::Model(ids, out, "text");
}

Tensor token_ids() { return Tensor{{1, 4, 2, 0, 0}, {3, 3, 9, 7, 1}, {5, 0, 0, 0, 0}}; }

}  // namespace

// --- dtypes ----------------------------------------------------------------------------

TEST(Dtypes, InputTakesIntegerAndBoolDtypesInEverySpelling) {
  namespace kw = px::kw;
  EXPECT_EQ(px::Input({5}, kw::dtype = "int32").dtype(), "int32");
  EXPECT_EQ(px::Input({5}, {.name = "x", .dtype = "int64"}).dtype(), "int64");
  EXPECT_EQ(px::Input({5}, kw::name = "flags", kw::dtype = "bool").dtype(), "bool");
  EXPECT_EQ(px::Input({5}).dtype(), "float32");
  auto layer = px::layers::InputLayer({3}, {.dtype = "int32"});
  EXPECT_EQ(layer->dtype(), "int32");
  EXPECT_EQ(layer->output().dtype(), "int32");
  // Computed tensors are float32.
  auto ids = px::Input({5}, kw::dtype = "int32");
  EXPECT_EQ(px::layers::Embedding(10, 4)(ids).dtype(), "float32");
  const std::string msg = error_message([] { px::Input({5}, px::kw::dtype = "float16"); });
  EXPECT_TRUE(contains(msg, "float16") && contains(msg, "int32")) << msg;
}

TEST(Dtypes, IntegerInputsAreCheckedWhenFed) {
  px::Model m = text_model();
  const Tensor y = m.predict(token_ids());
  EXPECT_EQ(px::shape_of(y), (Shape{3, 2}));
  Tensor bad = token_ids();
  bad(1, 2) = 2.5f;
  std::string msg = error_message([&] { m.predict(bad); });
  EXPECT_TRUE(contains(msg, "ids") && contains(msg, "int32") && contains(msg, "whole number"))
      << msg;
  bad(1, 2) = 33554432.0f;  // 2^25: beyond float32's exact integers
  msg = error_message([&] { m.predict(bad); });
  EXPECT_TRUE(contains(msg, "2^24")) << msg;
  // Eager calls and fit check the same way.
  EXPECT_THROW(m(bad), px::Error);
  m.compile("adam", "mse");
  EXPECT_THROW(m.fit(bad, xt::zeros<float>({3, 2}), {.epochs = 1, .verbose = 0}), px::Error);
  // Bool inputs take 0 and 1 only.
  namespace kw = px::kw;
  auto flags = px::Input({2}, kw::dtype = "bool");
  px::Model b(flags, px::layers::Dense(1)(flags));
  EXPECT_NO_THROW(b.predict(Tensor{{0, 1}, {1, 1}}));
  msg = error_message([&] { b.predict(Tensor{{0, 2}}); });
  EXPECT_TRUE(contains(msg, "bool") && contains(msg, "not 0 or 1")) << msg;
}

TEST(Dtypes, IntegerIdsTrainAnEmbeddingWithIntegerLabels) {
  px::utils::set_random_seed(3);
  namespace kw = px::kw;
  auto ids = px::Input({4}, kw::dtype = "int32");
  auto e = px::layers::Embedding(6, 8)(ids);
  auto pooled = px::layers::GlobalAveragePooling1D()(e);
  auto out = px::layers::Dense(2, kw::activation = "softmax")(pooled);
  px::Model m(ids, out);
  m.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  // Label 1 when token 5 appears.
  Tensor x = xt::zeros<float>({64, 4}), y = xt::zeros<float>({64});
  for (std::size_t i = 0; i < 64; ++i) {
    for (std::size_t j = 0; j < 4; ++j) x(i, j) = static_cast<float>((i * 7 + j * 3) % 5);
    if (i % 2) x(i, i % 4) = 5.0f;
    y(i) = static_cast<float>(i % 2);
  }
  auto h = m.fit(x, y, kw::epochs = 60, kw::batch_size = 16, kw::verbose = 0);
  EXPECT_GT(h.history.at("accuracy").back(), 0.95);
}

TEST(Dtypes, DtypeIsKeptThroughConfigsAndFiles) {
  px::Model m = text_model();
  const Config c = px::saving::model_config(m);
  const Config& input = c["config"]["layers"][0];
  EXPECT_EQ(input["class_name"], "InputLayer");
  EXPECT_EQ(input["config"]["dtype"], "int32");
  // The Embedding's inbound tensor carries Keras's dtype too.
  EXPECT_EQ(c["config"]["layers"][1]["inbound_nodes"][0]["args"][0]["config"]["dtype"], "int32");
  const fs::path dir = px::test::scratch_dir();
  for (const char* file : {"text.keras", "text.h5"}) {
    const std::string path = (dir / file).string();
    m.save(path);
    px::Model back = px::saving::load_model(path);
    EXPECT_EQ(back.inputs()[0].dtype(), "int32") << file;
    EXPECT_EQ(max_abs_diff(back.predict(token_ids()), m.predict(token_ids())), 0.0) << file;
  }
  // Keras's batch_shape form with a dtype, and Keras 2's batch_input_shape.
  for (const char* text :
       {R"({"class_name": "InputLayer", "config": {"batch_shape": [null, 7], "dtype": "int64",
            "name": "tokens"}})",
        R"({"class_name": "InputLayer", "config": {"batch_input_shape": [null, 7],
            "dtype": "bool", "name": "tokens"}})"}) {
    auto layer = px::layers::deserialize(Config::parse(text));
    auto* in = dynamic_cast<px::graph::InputLayer*>(layer.get().get());
    ASSERT_NE(in, nullptr);
    EXPECT_EQ(in->shape(), (Shape{7}));
    EXPECT_EQ(in->get_config()["dtype"], Config::parse(text)["config"]["dtype"]);
  }
  const std::string msg = error_message([] {
    px::layers::deserialize(Config::parse(
        R"({"class_name": "InputLayer", "config": {"batch_shape": [null, 7], "dtype": "string",
            "name": "text"}})"));
  });
  EXPECT_TRUE(contains(msg, "text") && contains(msg, "string")) << msg;
}

// --- Keras 3 weights layouts --------------------------------------------------------------

TEST(KerasLayouts, MultiHeadAttentionFromKeras3_15LoadsAndPredicts) {
  // Keras 3.15.1 stores the projections under key_dense/, query_dense/, ...
  expect_zoo_case("MultiHeadAttention");
}

TEST(KerasLayouts, MultiHeadAttentionReadsBothLayoutsAndWritesKeras3_15s) {
  auto q = px::Input({3, 6}), v = px::Input({4, 6});
  auto mha = px::layers::MultiHeadAttention(2, 4);
  px::Model m({q, v}, mha({q, v}));
  const std::vector<Tensor> xs = {random_tensor({2, 3, 6}, 1), random_tensor({2, 4, 6}, 2)};
  const Tensor want = m.predict(xs)[0];
  const fs::path dir = px::test::scratch_dir();
  const std::string current = (dir / "mha.weights.h5").string();
  m.save_weights(current);
  {
    const auto f = px::saving::h5::File::open(current);
    const auto g = f.root().group("layers").group("multi_head_attention");
    for (const char* name : {"query_dense", "key_dense", "value_dense", "output_dense"}) {
      EXPECT_TRUE(g.has_group(name)) << name;
      EXPECT_FALSE(g.has_group(std::string("_") + name)) << name;
    }
  }
  // Keras 3.0-3.14's layout: _query_dense, _key_dense, ...
  const std::string older = (dir / "mha_old.weights.h5").string();
  {
    const auto in = px::saving::h5::File::open(current);
    auto out = px::saving::h5::File::create(older);
    copy_tree(in.root(), out.root(), [](const std::string& n) {
      return n.size() > 6 && n.substr(n.size() - 6) == "_dense" && n[0] != '_' ? "_" + n : n;
    });
    out.flush();
  }
  for (const auto& path : {current, older}) {
    for (auto& w : m.weights()) w.value().fill(0.0f);
    m.load_weights(path);
    EXPECT_EQ(max_abs_diff(m.predict(xs)[0], want), 0.0) << path;
  }
  // The legacy .h5 lists the projections' weights in Keras 2's order: query, key, value,
  // output (kernel, bias each).
  const std::string legacy = (dir / "mha.h5").string();
  m.save(legacy);
  {
    const auto f = px::saving::h5::File::open(legacy);
    const auto names = f.root()
                           .group("model_weights")
                           .group("multi_head_attention")
                           .string_attribute("weight_names");
    ASSERT_EQ(names.size(), 8u);
    EXPECT_TRUE(contains(names[0], "query") && contains(names[0], "kernel")) << names[0];
    EXPECT_TRUE(contains(names[2], "key")) << names[2];
    EXPECT_TRUE(contains(names[4], "value")) << names[4];
    EXPECT_TRUE(contains(names[7], "output") && contains(names[7], "bias")) << names[7];
  }
  EXPECT_EQ(max_abs_diff(px::saving::load_model(legacy).predict(xs)[0], want), 0.0);
}

TEST(KerasLayouts, NormalizationReadsKerasIntegerCount) {
  // Keras writes Normalization's count as an int32 scalar.
  const fs::path file = keras_files() / "keras3_15_1_zoo" / "Normalization.keras";
  expect_zoo_case("Normalization");
  expect_zoo_case("Normalization_given");
  px::Model m = px::saving::load_model(file.string());
  // Integer datasets of another shape are refused by name, not misread.
  const fs::path dir = px::test::scratch_dir();
  const std::string msg = error_message([&] {
    const std::string bad = (dir / "norm_int_vector.weights.h5").string();
    // Integer scalars where the mean (shape (4,)) belongs: refused, not broadcast.
    {
      auto f = px::saving::h5::File::create(bad);
      f.root().create_group("layers").create_group("input_layer").create_group("vars");
      auto vars = f.root().group("layers").create_group("normalization").create_group("vars");
      vars.write_int_scalar("0", 1);
      vars.write_int_scalar("1", 1);
      vars.write_int_scalar("2", 1);
      f.root().create_group("vars");
      f.flush();
    }
    m.load_weights(bad);
  });
  EXPECT_TRUE(contains(msg, "integer") && contains(msg, "normalization")) << msg;
  // A legacy .h5 whose count is an integer scalar, as Keras writes it.
  const std::string legacy = (dir / "norm.h5").string(), with_int = (dir / "norm_int.h5").string();
  m.save(legacy);
  {
    const auto in = px::saving::h5::File::open(legacy);
    auto out = px::saving::h5::File::create(with_int);
    for (const char* attr : {"backend", "keras_version", "model_config"})
      out.root().set_string_attribute(attr, in.root().string_attribute(attr)[0]);
    std::function<void(const px::saving::h5::Group&, const px::saving::h5::Group&)> copy =
        [&](const px::saving::h5::Group& from, const px::saving::h5::Group& to) {
          for (const char* attr : {"layer_names", "weight_names"})
            if (from.has_attribute(attr))
              to.set_string_list_attribute(attr, from.string_attribute(attr));
          for (const auto& name : from.children()) {
            if (from.has_group(name)) {
              copy(from.group(name), to.create_group(name));
            } else if (name == "count") {
              to.write_int_scalar(name, 7);
            } else {
              to.write_dataset(name, from.read_dataset(name));
            }
          }
        };
    copy(in.root().group("model_weights"), out.root().create_group("model_weights"));
    out.flush();
  }
  px::Model back = px::saving::load_model(with_int);
  bool found = false;
  for (const auto& w : back.weights()) {
    if (w.name() != "count") continue;
    found = true;
    EXPECT_EQ(w.value().data()[0], 7.0f);
  }
  EXPECT_TRUE(found);
}

// --- keras.ops nodes in functional configs --------------------------------------------------

namespace {

Config keras_tensor(const Config& shape, const std::string& dtype, const std::string& layer) {
  return {{"class_name", "__keras_tensor__"},
          {"config", {{"shape", shape}, {"dtype", dtype}, {"keras_history", {layer, 0u, 0u}}}}};
}

Config op_entry(const std::string& cls, const std::string& name, Config config, Config args,
                const std::string& module = "keras.src.ops.numpy") {
  config["name"] = name;
  // A one-element braced list is the element itself under clang and an array under GCC
  // (nlohmann's brace-initialization pitfall): an op node's args are always a list.
  if (!args.is_array()) args = Config::array({args});
  return {{"module", module}, {"class_name", cls},
          {"config", config}, {"registered_name", cls},
          {"name", name},     {"inbound_nodes", {{{"args", args}, {"kwargs", Config::object()}}}}};
}

Config& layer_named(Config& c, const std::string& name) {
  for (auto& l : c["config"]["layers"])
    if (l["name"] == name) return l;
  throw std::runtime_error("no layer " + name);
}

}  // namespace

TEST(KerasOps, MaskNodesAndArithmeticOnSymbolicTensorsLoad) {
  // As Keras 3.15 saves Embedding(kw::mask_zero=True) -> LSTM and `dense + 3.0`: a NotEqual node
  // on the ids, its output passed to the LSTM as mask=, and an Add op with a constant.
  px::Model plain = text_model();
  const Tensor want = plain.predict(token_ids());
  Config c = px::saving::model_config(plain);
  auto& layers = c["config"]["layers"];
  const Config ids_shape = {nullptr, 5};
  layers.push_back(op_entry("NotEqual", "not_equal", Config::object(),
                            {keras_tensor(ids_shape, "int32", "ids"), 0}));
  std::string lstm_name;
  for (auto& l : layers)
    if (l["class_name"] == "LSTM") lstm_name = l["name"];
  layer_named(c, lstm_name)["inbound_nodes"][0]["kwargs"]["mask"] =
      keras_tensor(ids_shape, "bool", "not_equal");
  layers.push_back(op_entry("Add", "add", Config::object(),
                            {keras_tensor({nullptr, 2}, "float32", "head"), 3.0}));
  layers.push_back(op_entry("Multiply", "multiply", Config::object(),
                            {2.0, keras_tensor({nullptr, 2}, "float32", "add")}));
  layers.push_back(op_entry("Any", "any", {{"axis", -1}, {"keepdims", true}},
                            {keras_tensor({nullptr, 2}, "float32", "multiply")}));
  layers.push_back(
      op_entry("Concatenate", "concatenate", {{"axis", -1}},
               Config::array({Config::array({keras_tensor({nullptr, 2}, "float32", "multiply"),
                                             keras_tensor({nullptr, 1}, "float32", "any")})})));
  c["config"]["output_layers"] = {{"concatenate", 0u, 0u}};
  px::Model m = px::saving::model_from_config(c);
  m.set_weights(plain.get_weights());
  const Tensor got = m.predict(token_ids());
  ASSERT_EQ(px::shape_of(got), (Shape{3, 3}));
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < 2; ++j) EXPECT_NEAR(got(i, j), 2.0f * (want(i, j) + 3.0f), 1e-5);
    EXPECT_EQ(got(i, 2), 1.0f);  // any(2 * (y + 3) != 0)
  }
  // Written back as Keras writes it: op classes with their constants, no weights group.
  const Config again = px::saving::model_config(m);
  bool found = false;
  for (const auto& l : again["config"]["layers"]) {
    if (l["class_name"] != "Multiply") continue;
    found = true;
    EXPECT_EQ(l["module"], "keras.src.ops.numpy");
    EXPECT_EQ(l["inbound_nodes"][0]["args"][0], 2.0);
    EXPECT_EQ(l["inbound_nodes"][0]["args"][1]["config"]["keras_history"][0], "add");
  }
  EXPECT_TRUE(found);
  const std::string path = (px::test::scratch_dir() / "ops.keras").string();
  m.save(path);
  EXPECT_EQ(max_abs_diff(px::saving::load_model(path).predict(token_ids()), got), 0.0);
}

TEST(KerasOps, MaskingNodesAndComparisonsComputeAsKeras) {
  // Masking leaves not_equal(x, mask_value) and any(..., kw::axis=-1) in the config.
  auto x = px::Input({4, 3}, "seq");
  auto masked = px::layers::Masking({.mask_value = 0.0})(x);
  auto h = px::layers::LSTM(2, {.name = "rnn"})(masked);
  px::Model plain(x, h);
  Config c = px::saving::model_config(plain);
  auto& layers = c["config"]["layers"];
  const Config shape = {nullptr, 4, 3};
  layers.push_back(op_entry("NotEqual", "not_equal", Config::object(),
                            {keras_tensor(shape, "float32", "seq"), 0.0}));
  layers.push_back(op_entry("Any", "any", {{"axis", -1}, {"keepdims", false}},
                            {keras_tensor(shape, "bool", "not_equal")}));
  layer_named(c, "rnn")["inbound_nodes"][0]["kwargs"]["mask"] =
      keras_tensor({nullptr, 4}, "bool", "any");
  // Comparisons and logic on the input, as outputs: 1 for true, 0 for false.
  for (const char* cls : {"Greater", "GreaterEqual", "Less", "LessEqual", "Equal"}) {
    std::string name = cls;
    for (auto& ch : name) ch = static_cast<char>(std::tolower(ch));
    layers.push_back(
        op_entry(cls, name, Config::object(), {keras_tensor(shape, "float32", "seq"), 0.5}));
    c["config"]["output_layers"].push_back({name, 0u, 0u});
  }
  c["config"]["output_layers"].push_back({"any", 0u, 0u});
  px::Model m = px::saving::model_from_config(c);
  m.set_weights(plain.get_weights());
  Tensor xs = random_tensor({2, 4, 3}, 5, 0.0f, 1.0f);
  xs(0, 2, 1) = 0.5f;
  for (std::size_t k = 0; k < 3; ++k) xs(1, 3, k) = 0.0f;  // a masked step
  const auto got = m.predict(std::vector<Tensor>{xs});
  ASSERT_EQ(got.size(), 7u);
  EXPECT_EQ(max_abs_diff(got[0], plain.predict(xs)), 0.0);
  const auto expect = [&](std::size_t out, auto pred) {
    for (std::size_t i = 0; i < xs.size(); ++i)
      EXPECT_EQ(got[out].data()[i], pred(xs.data()[i]) ? 1.0f : 0.0f) << out << " at " << i;
  };
  expect(1, [](float v) { return v > 0.5f; });
  expect(2, [](float v) { return v >= 0.5f; });
  expect(3, [](float v) { return v < 0.5f; });
  expect(4, [](float v) { return v <= 0.5f; });
  expect(5, [](float v) { return v == 0.5f; });
  EXPECT_EQ(got[6](1, 3), 0.0f);  // any(x != 0) over the features of the masked step
  EXPECT_EQ(got[6](1, 2), 1.0f);
}

TEST(KerasOps, UnknownOpIsAClearError) {
  px::Model plain = text_model();
  Config c = px::saving::model_config(plain);
  c["config"]["layers"].push_back(op_entry("Einsum", "einsum", {{"subscripts", "ij->ji"}},
                                           {keras_tensor({nullptr, 2}, "float32", "head")}));
  const std::string msg = error_message([&] { px::saving::model_from_config(c); });
  EXPECT_TRUE(contains(msg, "Einsum") && contains(msg, "NotEqual")) << msg;
}

// --- legacy .h5 writing -------------------------------------------------------------------

TEST(LegacyH5, ModelSaveH5WritesKerasLegacyLayoutAndLoadsBack) {
  px::utils::set_random_seed(11);
  px::Sequential m({px::Input({8}), px::layers::Dense(12, {.activation = "relu"}),
                    px::layers::Dense(1, {.activation = "sigmoid"})});
  m.compile("adam", "binary_crossentropy", {"accuracy"});
  const Tensor x = random_tensor({16, 8}, 3);
  const std::string path = (px::test::scratch_dir() / "m.h5").string();
  m.save(path);
  const auto f = px::saving::h5::File::open(path);
  const auto& root = f.root();
  EXPECT_EQ(root.string_attribute("keras_version")[0], "3.15.1");
  EXPECT_EQ(root.string_attribute("backend")[0], "numpy");
  const Config cfg = Config::parse(root.string_attribute("model_config")[0]);
  EXPECT_EQ(cfg["class_name"], "Sequential");
  EXPECT_FALSE(cfg.contains("module"));
  for (const auto& l : cfg["config"]["layers"]) EXPECT_FALSE(l.contains("build_config"));
  const Config training = Config::parse(root.string_attribute("training_config")[0]);
  EXPECT_EQ(training["optimizer_config"]["class_name"], "Adam");
  EXPECT_FALSE(training.contains("optimizer"));
  const auto weights = root.group("model_weights");
  const auto names = weights.string_attribute("layer_names");
  ASSERT_EQ(names.size(), 2u);  // Sequential: no InputLayer
  for (const auto& n : names) {
    const auto wn = weights.group(n).string_attribute("weight_names");
    ASSERT_EQ(wn.size(), 2u);
  }
  EXPECT_TRUE(weights.has_group("top_level_model_weights"));
  px::Model back = px::saving::load_model(path);
  EXPECT_TRUE(back.compiled());
  EXPECT_EQ(max_abs_diff(back.predict(x), m.predict(x)), 0.0);
  // .weights.h5 names a weights file, not a model.
  EXPECT_THROW(m.save((px::test::scratch_dir() / "m.weights.h5").string()), px::Error);
}

TEST(LegacyH5, TreeMatchesARealKerasFileUnderH5py) {
  // The Keras 3.15.1 file and plexus's save of the same architecture, compared by
  // /usr/bin/python3 + h5py when it is there (tests/data/compare_legacy_h5.py).
  const fs::path real = keras_files() / "keras3_generated" / "seq_mlp_pima.h5";
  const fs::path script =
      fs::path(std::getenv("PLEXUS_TEST_DATA") ? std::getenv("PLEXUS_TEST_DATA") : "tests/data") /
      "compare_legacy_h5.py";
  if (std::system("/usr/bin/python3 -c 'import h5py' > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 with h5py is not installed (Debian python3-h5py)";
  }
  px::Model keras = px::saving::load_model(real.string());
  const std::string ours = (px::test::scratch_dir() / "pima.h5").string();
  keras.save(ours);
  const std::string cmd =
      "/usr/bin/python3 " + script.string() + " " + real.string() + " " + ours + " 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  EXPECT_EQ(max_abs_diff(px::saving::load_model(ours).predict(random_tensor({4, 8}, 1)),
                         keras.predict(random_tensor({4, 8}, 1))),
            0.0);
}

TEST(LegacyH5, ModelCheckpointWritesH5) {
  px::utils::set_random_seed(2);
  auto x = px::Input({3});
  px::Model m(x, px::layers::Dense(1)(x));
  m.compile("sgd", "mse");
  const std::string path = (px::test::scratch_dir() / "best_model.h5").string();
  auto ckpt =
      std::make_shared<px::callbacks::ModelCheckpoint>(px::callbacks::ModelCheckpointOptions{
          .filepath = path, .monitor = "loss", .save_best_only = true});
  m.fit(random_tensor({8, 3}, 1), random_tensor({8, 1}, 2),
        {.epochs = 2, .verbose = 0, .callbacks = {ckpt}});
  ASSERT_TRUE(fs::exists(path));
  px::Model back = px::saving::load_model(path);
  EXPECT_EQ(max_abs_diff(back.get_weights()[0], m.get_weights()[0]), 0.0);
}

// --- multi-output plumbing ----------------------------------------------------------------

TEST(MultiOutput, BracedOutputsAndSymbolicCallsReturnEveryOutput) {
  auto x = px::Input({4});
  auto a = px::layers::Dense(2, {.name = "a"})(x);
  auto b = px::layers::Dense(3, {.name = "b"})(x);
  px::Model m(x, {a, b});
  EXPECT_EQ(m.outputs().size(), 2u);
  px::Model n({x}, a);
  EXPECT_EQ(n.outputs().size(), 1u);
  auto y = px::Input({4});
  auto outs = m(y);  // a symbolic call returns every output
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_EQ(outs[1].shape(), (Shape{-1, 3}));
  px::Model wrapped(y, outs);
  EXPECT_EQ(wrapped.outputs().size(), 2u);
  // One output still converts to a tensor.
  px::SymbolicTensor single = n(y);
  EXPECT_EQ(single.shape(), (Shape{-1, 2}));
}

// --- value_and_grad's graph cache ---------------------------------------------------------

TEST(GradientCache, InlineLossListIsRefusedAndAKeptOneIsBuiltOnce) {
  auto x = px::Input({3});
  px::Model m(x, px::layers::Dense(1)(x));
  const Tensor xs = random_tensor({4, 3}, 1), ys = random_tensor({4, 1}, 2);
  int traces = 0;
  auto mse = [&traces](const px::SymbolicTensor& t, const px::SymbolicTensor& p) {
    ++traces;  // runs when the training graph is built (traced), not per step
    return px::ops::mean(px::ops::square(t - p), {-1});
  };
  // A LossSpec kept by the caller: one build for every step.
  const px::LossSpec kept =
      std::vector<px::LossItem>{px::LossItem(px::losses::make_loss_function("l", mse))};
  for (int step = 0; step < 5; ++step) px::value_and_grad(m, kept, xs, ys);
  EXPECT_EQ(traces, 1);
  // A single callable passed directly: cached by its type and captures.
  traces = 0;
  for (int step = 0; step < 5; ++step) px::value_and_grad(m, mse, xs, ys);
  EXPECT_EQ(traces, 1);
  // A list written inline wraps the callable anew each call: the second step says so
  // instead of rebuilding silently.
  traces = 0;
  auto inline_step = [&] {
    return px::value_and_grad(
        m, std::vector<px::LossItem>{px::LossItem(px::losses::make_loss_function("l", mse))}, xs,
        ys);
  };
  inline_step();
  const std::string msg = error_message(inline_step);
  EXPECT_TRUE(contains(msg, "rebuilt at every step") && contains(msg, "px::LossSpec")) << msg;
  EXPECT_EQ(traces, 1);
  // Names and loss objects written inline are cached by value.
  traces = 0;
  for (int step = 0; step < 3; ++step)
    px::value_and_grad(m, std::vector<px::LossItem>{px::LossItem("mse")}, xs, ys);
}

TEST(MultiOutput, TwoOutputsOfOneLayerCollideWithAClearError) {
  auto x = px::Input({4});
  auto d = px::layers::Dense(2, {.name = "shared"});
  auto a = d(x);
  auto b = d(px::layers::Dense(4)(x));
  px::Model m(x, {a, b});
  const std::string msg = error_message([&] { m.compile("adam", "mse"); });
  EXPECT_TRUE(contains(msg, "outputs 0 and 1") && contains(msg, "\"shared\"") &&
              contains(msg, "Activation"))
      << msg;
  // The fix the message gives.
  auto b2 = px::layers::Activation("linear", {.name = "shared_1"})(b);
  px::Model fixed(x, {a, b2});
  fixed.compile("adam", "mse");
  const auto h = fixed.fit(random_tensor({8, 4}, 1),
                           std::vector<Tensor>{random_tensor({8, 2}, 2), random_tensor({8, 2}, 3)},
                           {.epochs = 1, .verbose = 0});
  EXPECT_TRUE(h.history.count("shared_loss") && h.history.count("shared_1_loss"));
}
