// Internal: name lookup shared by losses::get, metrics::get and optim::get.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace plexus::detail {

// Names (lower case) to factories of fresh objects with Keras's defaults.
template <typename Base>
using Registry = std::map<std::string, std::function<std::shared_ptr<Base>()>>;

// A Registry entry: a fresh T with its default options.
template <typename T>
auto make() {
  return [] { return std::make_shared<T>(); };
}

inline std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Levenshtein distance, for "did you mean" hints.
inline std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// Throws: Unknown <what> "adma". Did you mean "adam"? Known <what>s: adadelta, adagrad, ...
// ("losses" for what = "loss").
[[noreturn]] inline void throw_unknown_name(std::string_view what, std::string_view name,
                                            std::vector<std::string> known) {
  std::sort(known.begin(), known.end());
  known.erase(std::unique(known.begin(), known.end()), known.end());
  std::string hint;
  const std::string key = to_lower(name);
  std::size_t best = 3;  // only suggest close matches
  for (const auto& k : known) {
    const std::size_t d = edit_distance(key, k);
    if (d < best) {
      best = d;
      hint = fmt::format(" Did you mean \"{}\"?", k);
    }
  }
  // English plural: "losses", "metrics", "optimizers".
  const std::string plural =
      !what.empty() && what.back() == 's' ? std::string(what) + "es" : std::string(what) + "s";
  throw Error("Unknown {} \"{}\".{} Known {}: {}", what, name, hint, plural,
              fmt::join(known, ", "));
}

}  // namespace plexus::detail
