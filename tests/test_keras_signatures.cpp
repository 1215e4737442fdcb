// Every keyword of Keras 3.15's public classes and functions exists for the plexus class or
// function of the same name (issue 22). ../shared/keras_signatures.json (written from Keras
// 3.15.1 itself) lists Keras's parameters; what plexus takes is read from the code: each
// keyword factory and constructor declares a px::kw::Signature (its option struct and its
// positional parameters), and the list of keywords is generated from the PLEXUS_KEYWORD
// declarations (tests/keyword_list.cmake), so a keyword counts as taken exactly when the
// option struct has its field or it is a positional parameter. The keywords plexus does not
// take are each listed, with the reason, in docs/keywords.md's exceptions table; the test
// fails on a missing keyword that is not listed there, and on a listed one plexus has.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <plexus.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace px = plexus;
namespace fs = std::filesystem;

namespace {

// The keywords a Signature takes: its positional parameters and every declared keyword
// whose field its option struct has.
template <typename Options, typename... Positional>
std::set<std::string> taken(px::kw::Signature<Options, Positional...>) {
  std::set<std::string> out{Positional::spelling...};
#define PLEXUS_LISTED_KEYWORD(N)                                \
  if constexpr (px::kw::tags::N::template has_field<Options>) { \
    out.insert(#N);                                             \
  }
#include "plexus_keyword_list.inc"
#undef PLEXUS_LISTED_KEYWORD
  return out;
}
// A plexus class with no keyword form (no option struct): nothing is taken, and each of
// its Keras keywords is listed in docs/keywords.md.
struct NoKeywords {};
std::set<std::string> taken(NoKeywords) { return {}; }

struct Entry {
  std::string keras;               // "layers.Conv1D"
  std::set<std::string> keywords;  // what plexus takes
};

#define LAYER(N) \
  Entry { "layers." #N, taken(px::layers::keyword_signatures::N{}) }
#define CLASS(GROUP, N, CPP) \
  Entry { GROUP "." #N, taken(CPP::keyword_signature{}) }
#define NONE(KERAS) \
  Entry { KERAS, taken(NoKeywords{}) }

std::vector<Entry> plexus_entries() {
  return {
      // layers
      LAYER(Dense),
      LAYER(Activation),
      LAYER(Dropout),
      LAYER(Flatten),
      LAYER(Reshape),
      LAYER(InputLayer),
      LAYER(Add),
      LAYER(Subtract),
      LAYER(Multiply),
      LAYER(Average),
      LAYER(Maximum),
      LAYER(Minimum),
      LAYER(Concatenate),
      LAYER(Conv1D),
      LAYER(Conv2D),
      LAYER(Conv1DTranspose),
      LAYER(Conv2DTranspose),
      LAYER(DepthwiseConv1D),
      LAYER(DepthwiseConv2D),
      LAYER(SeparableConv1D),
      LAYER(SeparableConv2D),
      LAYER(Embedding),
      LAYER(Masking),
      LAYER(Bidirectional),
      LAYER(ReLU),
      LAYER(LeakyReLU),
      LAYER(PReLU),
      LAYER(ELU),
      LAYER(Softmax),
      LAYER(MaxPooling1D),
      LAYER(MaxPooling2D),
      LAYER(AveragePooling1D),
      LAYER(AveragePooling2D),
      LAYER(GlobalMaxPooling1D),
      LAYER(GlobalMaxPooling2D),
      LAYER(GlobalAveragePooling1D),
      LAYER(GlobalAveragePooling2D),
      LAYER(TimeDistributed),
      LAYER(Normalization),
      LAYER(Rescaling),
      LAYER(Resizing),
      LAYER(CenterCrop),
      LAYER(RandomFlip),
      LAYER(RandomContrast),
      LAYER(RandomBrightness),
      LAYER(RandomRotation),
      LAYER(RandomZoom),
      LAYER(RandomTranslation),
      LAYER(BatchNormalization),
      LAYER(LayerNormalization),
      LAYER(GroupNormalization),
      LAYER(UnitNormalization),
      LAYER(MultiHeadAttention),
      LAYER(Attention),
      LAYER(AdditiveAttention),
      LAYER(SimpleRNN),
      LAYER(LSTM),
      LAYER(GRU),
      LAYER(SpatialDropout1D),
      LAYER(SpatialDropout2D),
      LAYER(ZeroPadding1D),
      LAYER(ZeroPadding2D),
      LAYER(Cropping1D),
      LAYER(Cropping2D),
      LAYER(UpSampling1D),
      LAYER(UpSampling2D),
      LAYER(SpatialDropout3D),
      LAYER(ZeroPadding3D),
      LAYER(Cropping3D),
      LAYER(UpSampling3D),
      LAYER(GlobalMaxPooling3D),
      LAYER(GlobalAveragePooling3D),
      LAYER(Identity),
      LAYER(Permute),
      LAYER(RepeatVector),
      LAYER(GaussianNoise),
      LAYER(GaussianDropout),
      LAYER(AlphaDropout),
      LAYER(RMSNormalization),
      LAYER(Dot),
      LAYER(AdaptiveAveragePooling1D),
      LAYER(AdaptiveAveragePooling2D),
      LAYER(AdaptiveAveragePooling3D),
      LAYER(AdaptiveMaxPooling1D),
      LAYER(AdaptiveMaxPooling2D),
      LAYER(AdaptiveMaxPooling3D),
      LAYER(Lambda),
      LAYER(Input),
      // callbacks
      CLASS("callbacks", EarlyStopping, px::callbacks::EarlyStopping),
      CLASS("callbacks", ReduceLROnPlateau, px::callbacks::ReduceLROnPlateau),
      CLASS("callbacks", CSVLogger, px::callbacks::CSVLogger),
      CLASS("callbacks", LambdaCallback, px::callbacks::LambdaCallback),
      CLASS("callbacks", ModelCheckpoint, px::callbacks::ModelCheckpoint),
      CLASS("callbacks", BackupAndRestore, px::callbacks::BackupAndRestore),
      CLASS("callbacks", LearningRateScheduler, px::callbacks::LearningRateScheduler),
      CLASS("callbacks", TerminateOnNaN, px::callbacks::TerminateOnNaN),
      // optimizers and schedules
      CLASS("optimizers", SGD, px::optim::SGD),
      CLASS("optimizers", RMSprop, px::optim::RMSprop),
      CLASS("optimizers", Adam, px::optim::Adam),
      CLASS("optimizers", AdamW, px::optim::AdamW),
      CLASS("optimizers", Nadam, px::optim::Nadam),
      CLASS("optimizers", Adagrad, px::optim::Adagrad),
      CLASS("optimizers", Adadelta, px::optim::Adadelta),
      CLASS("optimizers", Adamax, px::optim::Adamax),
      CLASS("optimizers", Lion, px::optim::Lion),
      CLASS("optimizers.schedules", ExponentialDecay, px::optim::ExponentialDecay),
      CLASS("optimizers.schedules", InverseTimeDecay, px::optim::InverseTimeDecay),
      CLASS("optimizers.schedules", PolynomialDecay, px::optim::PolynomialDecay),
      CLASS("optimizers.schedules", CosineDecay, px::optim::CosineDecay),
      CLASS("optimizers.schedules", PiecewiseConstantDecay, px::optim::PiecewiseConstantDecay),
      CLASS("optimizers.schedules", CosineDecayRestarts, px::optim::CosineDecayRestarts),
      // losses
      NONE("losses.MeanSquaredError"),
      NONE("losses.MeanAbsoluteError"),
      CLASS("losses", Huber, px::losses::Huber),
      NONE("losses.LogCosh"),
      NONE("losses.Poisson"),
      CLASS("losses", BinaryCrossentropy, px::losses::BinaryCrossentropy),
      CLASS("losses", CategoricalCrossentropy, px::losses::CategoricalCrossentropy),
      CLASS("losses", SparseCategoricalCrossentropy, px::losses::SparseCategoricalCrossentropy),
      NONE("losses.Hinge"),
      NONE("losses.KLDivergence"),
      NONE("losses.SquaredHinge"),
      NONE("losses.CategoricalHinge"),
      NONE("losses.MeanAbsolutePercentageError"),
      NONE("losses.MeanSquaredLogarithmicError"),
      // metrics
      NONE("metrics.Mean"),
      CLASS("metrics", BinaryAccuracy, px::metrics::BinaryAccuracy),
      NONE("metrics.CategoricalAccuracy"),
      NONE("metrics.SparseCategoricalAccuracy"),
      CLASS("metrics", TopKCategoricalAccuracy, px::metrics::TopKCategoricalAccuracy),
      NONE("metrics.MeanSquaredError"),
      NONE("metrics.MeanAbsoluteError"),
      CLASS("metrics", Precision, px::metrics::Precision),
      CLASS("metrics", Recall, px::metrics::Recall),
      CLASS("metrics", AUC, px::metrics::AUC),
      // Model and utils
      Entry{"Model.compile", taken(px::keyword_signatures::compile{})},
      Entry{"Model.fit", taken(px::keyword_signatures::fit{})},
      Entry{"Model.evaluate", taken(px::keyword_signatures::evaluate{})},
      Entry{"Model.predict", taken(px::keyword_signatures::predict{})},
      Entry{"utils.plot_model", taken(px::utils::keyword_signatures::plot_model{})},
      Entry{"utils.model_to_dot", taken(px::utils::keyword_signatures::model_to_dot{})},
  };
}

fs::path repo_root() { return PLEXUS_SOURCE_DIR; }

fs::path shared_dir() {
  if (const char* env = std::getenv("PLEXUS_SHARED")) return env;
  return repo_root().parent_path() / "shared";
}

// docs/keywords.md's exceptions: rows `| `group.Class` | `kw`, `kw` | why |` between the
// markers; a class ending in `*` matches every class it starts.
struct Exception {
  std::string pattern;
  std::set<std::string> keywords;
  std::size_t row;  // rows may name several classes
};

std::vector<Exception> documented_exceptions() {
  std::ifstream in(repo_root() / "docs" / "keywords.md");
  EXPECT_TRUE(in) << "cannot read docs/keywords.md";
  std::vector<Exception> out;
  std::string line;
  bool inside = false;
  std::size_t row = 0;
  bool seen = false;
  while (std::getline(in, line)) {
    if (line.find("<!-- keyword exceptions") != std::string::npos) inside = seen = true;
    if (line.find("<!-- end keyword exceptions") != std::string::npos) inside = false;
    if (!inside || line.rfind("| `", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line.substr(1));
    std::string cell;
    while (std::getline(ss, cell, '|')) cells.push_back(cell);
    if (cells.size() < 3) continue;
    auto ticked = [](const std::string& s) {
      std::vector<std::string> names;
      for (std::size_t i = s.find('`'); i != std::string::npos; i = s.find('`', i)) {
        const std::size_t j = s.find('`', i + 1);
        names.push_back(s.substr(i + 1, j - i - 1));
        i = j + 1;
      }
      return names;
    };
    const auto kws = ticked(cells[1]);
    for (const std::string& cls : ticked(cells[0])) {
      out.push_back({cls, {kws.begin(), kws.end()}, row});
    }
    ++row;
  }
  EXPECT_TRUE(seen) << "docs/keywords.md has no '<!-- keyword exceptions' table";
  return out;
}

bool matches(const std::string& pattern, const std::string& keras) {
  if (!pattern.empty() && pattern.back() == '*') {
    return keras.rfind(pattern.substr(0, pattern.size() - 1), 0) == 0;
  }
  return pattern == keras;
}

}  // namespace

TEST(KerasSignatures, EveryKerasKeywordIsTakenOrDocumented) {
  const fs::path path = shared_dir() / "keras_signatures.json";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot read " << path << " (set PLEXUS_SHARED to the shared folder)";
  const nlohmann::json keras = nlohmann::json::parse(in);
  ASSERT_EQ(keras.at("_keras_version").get<std::string>().rfind("3.15", 0), 0u);

  const std::vector<Exception> exceptions = documented_exceptions();
  std::set<std::pair<std::size_t, std::string>> used;  // (table row, keyword)
  std::ostringstream missing, undocumented;
  std::size_t n_missing = 0, n_keywords = 0;
  for (const Entry& e : plexus_entries()) {
    ASSERT_TRUE(keras.contains(e.keras)) << e.keras << " is not in keras_signatures.json";
    const nlohmann::json& sig = keras.at(e.keras);
    std::vector<std::string> lacks;
    for (const auto& k : sig.at("keyword")) {
      const std::string kwd = k.get<std::string>();
      ++n_keywords;
      if (e.keywords.count(kwd)) continue;
      lacks.push_back(kwd);
      bool documented = false;
      for (std::size_t i = 0; i < exceptions.size(); ++i) {
        if (matches(exceptions[i].pattern, e.keras) && exceptions[i].keywords.count(kwd)) {
          documented = true;
          used.insert({exceptions[i].row, kwd});
        }
      }
      if (!documented) undocumented << "  " << e.keras << ": " << kwd << "\n";
    }
    if (!lacks.empty()) {
      missing << "  " << e.keras << ":";
      for (const auto& l : lacks) missing << " " << l;
      missing << "\n";
      n_missing += lacks.size();
    }
  }
  std::cout << "Keras keywords of the " << plexus_entries().size() << " classes and functions "
            << "plexus has: " << n_keywords << "; plexus lacks " << n_missing
            << " (each documented in docs/keywords.md):\n"
            << missing.str();
  EXPECT_TRUE(undocumented.str().empty())
      << "Keras keywords plexus lacks and docs/keywords.md does not list:\n"
      << undocumented.str();
  // A documented exception that no class of its row lacks is stale.
  for (const Exception& x : exceptions) {
    for (const std::string& kwd : x.keywords) {
      EXPECT_TRUE(used.count({x.row, kwd}))
          << "docs/keywords.md lists `" << kwd << "` for `" << x.pattern
          << "` as missing, but plexus takes it (or no Keras class of that row takes it): "
             "remove it";
    }
  }
}

// Every layer class plexus registers under a Keras name of keras_signatures.json is checked
// above (a new layer cannot be added without its keywords being compared).
TEST(KerasSignatures, EveryRegisteredLayerIsChecked) {
  std::ifstream in(shared_dir() / "keras_signatures.json");
  ASSERT_TRUE(in);
  const nlohmann::json keras = nlohmann::json::parse(in);
  std::set<std::string> checked;
  for (const Entry& e : plexus_entries()) checked.insert(e.keras);
  for (const std::string& name : px::layer_registry().names()) {
    const std::string key = "layers." + name;
    if (!keras.contains(key) || keras.at(key).contains("alias_of")) continue;
    EXPECT_TRUE(checked.count(key)) << key << " is registered in plexus but not checked here";
  }
}
