// Internal: text inside markup — DOT's HTML-like labels (plot_model) and SVG (plot_history).
#pragma once

#include <string>
#include <string_view>

namespace plexus::detail {

// `s` with &, <, > and " as entities, and ' too when `apostrophe` is set (for text that may
// end up in a single-quoted attribute).
inline std::string escape_markup(std::string_view s, bool apostrophe) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += apostrophe ? "&apos;" : "'";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace plexus::detail
