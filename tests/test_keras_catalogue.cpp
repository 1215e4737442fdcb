// Every public class of Keras 3.15's catalogue exists in plexus, or is listed with the reason
// in docs/catalogue.md (issue 25). ../shared/keras_catalogue.json (written from Keras 3.15.1)
// lists the layer classes by group, the activations, losses, metrics, optimizers, learning
// rate schedules and callbacks. What plexus has is read from its registries (layers,
// activations, losses, metrics, optimizers, schedules: the names a config can name) and,
// for callbacks, which have no registry, from the list below (each name must be a class of
// px::callbacks, or this file does not compile). The test fails on a class plexus lacks that
// docs/catalogue.md does not list, and on a listed class plexus has (a stale row).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <plexus.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "optim/tensorboard.hpp"

namespace px = plexus;
namespace fs = std::filesystem;

namespace {

fs::path repo_root() { return PLEXUS_SOURCE_DIR; }

fs::path shared_dir() {
  if (const char* env = std::getenv("PLEXUS_SHARED")) return env;
  return repo_root().parent_path() / "shared";
}

// The callbacks plexus has (sizeof: a name that is not a px::callbacks class fails to compile).
#define PLEXUS_CALLBACK(N) (sizeof(px::callbacks::N) > 0 ? #N : "")
const std::set<std::string>& plexus_callbacks() {
  static const std::set<std::string> names{
      PLEXUS_CALLBACK(BackupAndRestore), PLEXUS_CALLBACK(CSVLogger),
      PLEXUS_CALLBACK(EarlyStopping),    PLEXUS_CALLBACK(History),
      PLEXUS_CALLBACK(LambdaCallback),   PLEXUS_CALLBACK(LearningRateScheduler),
      PLEXUS_CALLBACK(ModelCheckpoint),  PLEXUS_CALLBACK(ReduceLROnPlateau),
      PLEXUS_CALLBACK(TensorBoard),      PLEXUS_CALLBACK(TerminateOnNaN),
  };
  return names;
}
#undef PLEXUS_CALLBACK

// Whether plexus has the Keras class `name` of `group` ("layers", "losses", ...).
bool plexus_has(const std::string& group, const std::string& name) {
  if (group == "layers") return px::layer_registry().contains(name);
  if (group == "activations") return px::activations::Activation::registry().contains(name);
  if (group == "losses") return px::losses::Loss::registry().contains(name);
  if (group == "metrics") return px::metrics::Metric::registry().contains(name);
  if (group == "optimizers") return px::optim::Optimizer::registry().contains(name);
  if (group == "schedules") return px::optim::LearningRateSchedule::registry().contains(name);
  if (group == "callbacks") return plexus_callbacks().count(name) != 0;
  ADD_FAILURE() << "unknown catalogue group " << group;
  return false;
}

// Keras's classes by catalogue key: "layers.Conv3D", "activations.mish", "losses.CTC", ...
std::vector<std::string> keras_classes(const nlohmann::json& catalogue) {
  std::vector<std::string> out;
  for (const auto& [layer_group, names] : catalogue.at("layers").items()) {
    (void)layer_group;
    for (const auto& n : names) out.push_back("layers." + n.get<std::string>());
  }
  for (const char* group :
       {"activations", "losses", "metrics", "optimizers", "schedules", "callbacks"}) {
    for (const auto& n : catalogue.at(group))
      out.push_back(std::string(group) + "." + n.get<std::string>());
  }
  return out;
}

// docs/catalogue.md's table between the markers: rows `| `group.Class`[, ...] | reason |`.
std::map<std::string, std::string> documented_missing() {
  std::ifstream in(repo_root() / "docs" / "catalogue.md");
  EXPECT_TRUE(in) << "cannot read docs/catalogue.md";
  std::map<std::string, std::string> out;
  std::string line;
  bool inside = false, seen = false;
  while (std::getline(in, line)) {
    if (line.find("<!-- catalogue exceptions") != std::string::npos) inside = seen = true;
    if (line.find("<!-- end catalogue exceptions") != std::string::npos) inside = false;
    if (!inside || line.rfind("| `", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line.substr(1));
    for (std::string cell; std::getline(ss, cell, '|');) cells.push_back(cell);
    if (cells.size() < 2) continue;
    std::string reason = cells[1];
    reason.erase(0, reason.find_first_not_of(' '));
    reason.erase(reason.find_last_not_of(' ') + 1);
    EXPECT_FALSE(reason.empty()) << "docs/catalogue.md: a row without a reason: " << line;
    const std::string& names = cells[0];
    for (std::size_t i = names.find('`'); i != std::string::npos; i = names.find('`', i)) {
      const std::size_t j = names.find('`', i + 1);
      const std::string cls = names.substr(i + 1, j - i - 1);
      EXPECT_FALSE(out.count(cls)) << "docs/catalogue.md lists " << cls << " twice";
      out[cls] = reason;
      i = j + 1;
    }
  }
  EXPECT_TRUE(seen) << "docs/catalogue.md has no '<!-- catalogue exceptions' table";
  return out;
}

nlohmann::json read_catalogue() {
  const fs::path path = shared_dir() / "keras_catalogue.json";
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path << " (set PLEXUS_SHARED to the shared folder)";
  if (!in) return nlohmann::json::object();
  return nlohmann::json::parse(in);
}

}  // namespace

TEST(KerasCatalogue, EveryKerasClassExistsOrIsDocumented) {
  const nlohmann::json catalogue = read_catalogue();
  ASSERT_TRUE(catalogue.contains("_keras_version"));
  ASSERT_EQ(catalogue.at("_keras_version").get<std::string>().rfind("3.15", 0), 0u);

  const auto documented = documented_missing();
  const std::vector<std::string> classes = keras_classes(catalogue);
  std::map<std::string, std::pair<int, int>> per_group;  // group -> (has, total)
  std::ostringstream undocumented, lacking;
  std::size_t n_lacking = 0;
  for (const std::string& key : classes) {
    const std::string group = key.substr(0, key.find('.'));
    const std::string name = key.substr(key.find('.') + 1);
    const bool has = plexus_has(group, name);
    auto& [have, total] = per_group[group];
    ++total;
    have += has;
    if (has) {
      EXPECT_FALSE(documented.count(key))
          << "docs/catalogue.md lists " << key << " as missing, but plexus has it: remove the row";
      continue;
    }
    ++n_lacking;
    if (auto it = documented.find(key); it != documented.end()) {
      lacking << "  " << key << ": " << it->second << "\n";
    } else {
      undocumented << "  " << key << "\n";
    }
  }
  // A row naming a class the catalogue does not have is stale too.
  const std::set<std::string> all(classes.begin(), classes.end());
  for (const auto& [cls, reason] : documented) {
    EXPECT_TRUE(all.count(cls)) << "docs/catalogue.md lists " << cls
                                << ", which is not a class of keras_catalogue.json";
  }
  std::cout << "Keras 3.15 catalogue: " << classes.size() << " classes; plexus has";
  for (const auto& [group, counts] : per_group) {
    std::cout << " " << group << " " << counts.first << "/" << counts.second << ";";
  }
  std::cout << " lacks " << n_lacking << " (each in docs/catalogue.md):\n" << lacking.str();
  EXPECT_TRUE(undocumented.str().empty())
      << "Keras classes plexus lacks that docs/catalogue.md does not list:\n"
      << undocumented.str();
}

// The registries answer for the class names the test asks about (a renamed registry entry
// would otherwise read as a missing class, and the table would hide it).
TEST(KerasCatalogue, RegistriesAnswerForKnownClasses) {
  EXPECT_TRUE(plexus_has("layers", "Dense"));
  EXPECT_FALSE(plexus_has("layers", "NoSuchLayer"));
  EXPECT_TRUE(plexus_has("activations", "relu"));
  EXPECT_TRUE(plexus_has("activations", "mish"));
  EXPECT_FALSE(plexus_has("activations", "no_such_activation"));
  EXPECT_TRUE(plexus_has("losses", "MeanSquaredError"));
  EXPECT_TRUE(plexus_has("metrics", "AUC"));
  EXPECT_TRUE(plexus_has("optimizers", "Adam"));
  EXPECT_TRUE(plexus_has("schedules", "CosineDecay"));
  EXPECT_TRUE(plexus_has("callbacks", "EarlyStopping"));
  EXPECT_FALSE(plexus_has("callbacks", "NoSuchCallback"));
}
