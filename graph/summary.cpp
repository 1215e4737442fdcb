// graph::summary_string(): Keras 3's model.summary() table, character for character.
//
// Keras renders the table with the `rich` library (box.HEAVY_HEAD, show_lines=True, fixed
// column widths, cells wrapped at spaces, over-long words cut with "…"), captured without
// colour. The column widths come from Keras's `positions` and are then squeezed by rich's
// ratio_reduce into `line_length`; both steps are reproduced here so the widths match.
#include "graph/summary.hpp"

#include <fmt/ranges.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "graph/functional.hpp"
#include "graph/input_layer.hpp"

namespace plexus {

namespace {

// --- text cells, laid out as rich does ---------------------------------------------------

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Display width: one cell per UTF-8 code point (names are ASCII in practice).
std::size_t cell_len(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// The first `cells` code points of s.
std::string crop_cells(std::string_view s, std::size_t cells) {
  std::size_t i = 0, n = 0;
  while (i < s.size()) {
    bool start = (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
    if (start && n == cells) break;
    n += start;
    ++i;
  }
  return std::string(s.substr(0, i));
}

std::string rstrip(std::string s) {
  while (!s.empty() && is_space(s.back())) s.pop_back();
  return s;
}

// rich's wrap with overflow="ellipsis": break before a word that does not fit (a word is
// `\s*\S+\s*`), never inside one; then cut lines still too long to width - 1 plus "…",
// and justify.
std::vector<std::string> wrap_cell(std::string_view text, std::size_t width, bool right) {
  std::vector<std::size_t> breaks;
  std::size_t offset = 0;  // cells used on the current line
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t start = pos;
    while (pos < text.size() && is_space(text[pos])) ++pos;
    if (pos == text.size()) break;  // trailing blanks only: part of the previous word
    while (pos < text.size() && !is_space(text[pos])) ++pos;
    const std::size_t word_len = cell_len(text.substr(start, pos - start));
    while (pos < text.size() && is_space(text[pos])) ++pos;
    const std::size_t with_space = cell_len(text.substr(start, pos - start));
    if (offset + word_len <= width) {
      offset += with_space;
    } else if (word_len > width || (offset > 0 && start > 0)) {
      if (start > 0) breaks.push_back(start);
      offset = with_space;
    }
  }
  std::vector<std::string> lines;
  std::size_t from = 0;
  breaks.push_back(text.size());
  for (std::size_t b : breaks) {
    std::string line(text.substr(from, b - from));
    from = b;
    // rstrip_end(width): drop trailing blanks that stick out past the width.
    std::size_t len = cell_len(line);
    while (len > width && !line.empty() && is_space(line.back())) {
      line.pop_back();
      --len;
    }
    if (right) line = rstrip(std::move(line));
    len = cell_len(line);
    if (len > width) {
      line = crop_cells(line, width - 1) + "…";
      len = width;
    }
    std::string pad(width - len, ' ');
    lines.push_back(right ? pad + line : line + pad);
  }
  return lines;
}

// --- the table -----------------------------------------------------------------------------

struct Table {
  std::vector<std::size_t> widths;  // column widths, padding included
  std::vector<bool> right;          // right-justified columns
  std::string out;

  void rule(const char* left, const char* fill, const char* mid, const char* end) {
    out += left;
    for (std::size_t c = 0; c < widths.size(); ++c) {
      if (c > 0) out += mid;
      for (std::size_t k = 0; k < widths[c]; ++k) out += fill;
    }
    out += end;
    out += '\n';
  }

  void row(const std::vector<std::string>& cells, const char* bar) {
    std::vector<std::vector<std::string>> lines;
    std::size_t height = 1;
    for (std::size_t c = 0; c < widths.size(); ++c) {
      lines.push_back(wrap_cell(cells[c], widths[c] - 2, right[c]));
      height = std::max(height, lines.back().size());
    }
    for (std::size_t h = 0; h < height; ++h) {
      out += bar;
      for (std::size_t c = 0; c < widths.size(); ++c) {
        if (c > 0) out += bar;
        out += ' ';
        out += h < lines[c].size() ? lines[c][h] : std::string(widths[c] - 2, ' ');
        out += ' ';
      }
      out += bar;
      out += '\n';
    }
  }
};

// Python's round(): halves go to the even neighbour.
long round_half_even(double x) { return std::lrint(x); }

// Keras's column widths from `positions`, then rich's ratio_reduce when the padded columns
// do not fit (rich gives fixed-width columns their width plus 2 for padding).
std::vector<std::size_t> column_widths(const std::vector<double>& positions, int line_length) {
  std::vector<long> widths;
  long current = 0;
  for (double p : positions) {
    long w = static_cast<long>(p * line_length) - current;
    if (w < 4) {
      throw Error("summary: line_length {} is too small to print the summary", line_length);
    }
    widths.push_back(w + 2);
    current += w;
  }
  const long max_width = line_length - static_cast<long>(positions.size()) - 1;
  long total = 0;
  for (long w : widths) total += w;
  if (total > max_width) {
    long remaining = total - max_width;
    long ratio_left = static_cast<long>(widths.size());
    for (long& w : widths) {
      long cut = std::min(w, round_half_even(static_cast<double>(remaining) / ratio_left));
      w -= cut;
      remaining -= cut;
      --ratio_left;
    }
  }
  std::vector<std::size_t> out;
  for (long w : widths) {
    if (w < 3) {
      throw Error("summary: line_length {} is too small to print the summary", line_length);
    }
    out.push_back(static_cast<std::size_t>(w));
  }
  return out;
}

// shutil.get_terminal_size().columns: $COLUMNS, else the terminal on stdout, else 80.
int terminal_columns() {
  if (const char* env = std::getenv("COLUMNS")) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && v > 0) return static_cast<int>(v);
  }
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

// --- cell contents -------------------------------------------------------------------------

// One shape, or a list of them for a layer with several outputs.
std::string output_shapes(const LayerCall& call) {
  if (call.outputs.size() == 1) return shape_str(call.outputs[0]->shape, false);
  std::vector<std::string> parts;
  for (auto& n : call.outputs) parts.push_back(shape_str(n->shape, false));
  return fmt::format("[{}]", fmt::join(parts, ", "));
}

// 58240 -> "58,240".
std::string with_commas(std::size_t n) {
  std::string digits = std::to_string(n);
  std::string s;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s += ',';
    s += digits[i];
  }
  return s;
}

// Keras's readable_memory_size: "232.00 B", "198.79 KB".
std::string readable_size(double bytes) {
  static const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  for (const char* unit : units) {
    if (bytes / 1024 < 1) return fmt::format("{:.2f} {}", bytes, unit);
    bytes /= 1024;
  }
  return fmt::format("{:.2f} {}", bytes, "PB");
}

std::size_t count(const std::vector<Variable>& vars) {
  std::size_t n = 0;
  for (auto& v : vars) n += v.size();
  return n;
}

bool is_input_layer(const Layer& layer) {
  return dynamic_cast<const graph::InputLayer*>(&layer) != nullptr;
}

// Keras's sequential_like test for a Functional: one node per depth, each with at most one
// input tensor, and no layer called twice.
bool sequential_like(const graph::Functional& g) {
  const auto& calls = g.calls();
  std::map<const LayerCall*, int> node_depth;
  std::map<const Layer*, int> layer_depth;
  for (auto it = calls.rbegin(); it != calls.rend(); ++it) {
    const LayerCall* c = it->get();
    int depth = node_depth[c];  // 0 when nothing uses this call (an output)
    depth = std::max(depth, layer_depth[c->layer.get()]);
    layer_depth[c->layer.get()] = depth;
    node_depth[c] = depth;
    for (auto& in : c->inputs) {
      int& d = node_depth[in.history().get()];
      d = std::max(d, depth + 1);
    }
  }
  std::map<int, std::vector<const LayerCall*>> by_depth;
  for (auto& [c, d] : node_depth) by_depth[d].push_back(c);
  for (auto& [d, nodes] : by_depth) {
    if (nodes.size() > 1 || nodes[0]->inputs.size() > 1) return false;
  }
  std::set<const Layer*> seen;
  for (auto& c : calls) {
    if (!seen.insert(c->layer.get()).second) return false;
  }
  return true;
}

// Model "<name>" header, the table, and the three totals.
std::string with_totals(std::string_view name, const std::string& table, std::size_t n_train,
                        std::size_t n_frozen) {
  const double bytes = sizeof(float);
  std::string out = fmt::format("Model: \"{}\"\n", name);
  out += table;
  out += fmt::format(" Total params: {} ({})\n", with_commas(n_train + n_frozen),
                     readable_size(static_cast<double>(n_train + n_frozen) * bytes));
  out += fmt::format(" Trainable params: {} ({})\n", with_commas(n_train),
                     readable_size(static_cast<double>(n_train) * bytes));
  out += fmt::format(" Non-trainable params: {} ({})\n", with_commas(n_frozen),
                     readable_size(static_cast<double>(n_frozen) * bytes));
  return out;
}

}  // namespace

std::string graph::summary_string_unbuilt(std::string_view name,
                                          const std::vector<std::shared_ptr<Layer>>& layers,
                                          int line_length) {
  if (line_length <= 0) line_length = std::min(88, terminal_columns() - 4);
  Table table;
  table.widths = column_widths({0.45, 0.80, 1.0}, line_length);
  table.right = {false, false, true};
  table.rule("┏", "━", "┳", "┓");
  table.row({"Layer (type)", "Output Shape", "Param #"}, "┃");
  table.rule("┡", "━", "╇", "┩");
  std::size_t n_train = 0, n_frozen = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Layer& layer = *layers[i];
    if (i > 0) table.rule("├", "─", "┼", "┤");
    table.row({fmt::format("{} ({})", layer.name(), layer.class_name()), "?",
               layer.built() ? with_commas(layer.count_params()) : "0 (unbuilt)"},
              "│");
    n_train += count(layer.trainable_weights());
    n_frozen += count(layer.non_trainable_weights());
  }
  table.rule("└", "─", "┴", "┘");
  return with_totals(name, table.out, n_train, n_frozen);
}

std::string graph::summary_string(const Functional& g, int line_length) {
  const bool is_sequential = g.class_name() == "Sequential";
  const bool seq_like = is_sequential || sequential_like(g);

  std::vector<double> positions;
  std::vector<std::string> header;
  std::vector<bool> right;
  int default_length = 0;
  if (seq_like) {
    default_length = 88;
    positions = {0.45, 0.80, 1.0};
    header = {"Layer (type)", "Output Shape", "Param #"};
    right = {false, false, true};
  } else {
    default_length = 108;
    positions = {0.3, 0.56, 0.74, 1.0};
    header = {"Layer (type)", "Output Shape", "Param #", "Connected to"};
    right = {false, false, true, false};
  }
  if (line_length <= 0) line_length = std::min(default_length, terminal_columns() - 4);

  Table table;
  table.widths = column_widths(positions, line_length);
  table.right = right;
  table.rule("┏", "━", "┳", "┓");
  table.row(header, "┃");
  table.rule("┡", "━", "╇", "┩");

  bool first = true;
  for (const auto& layer : g.layers()) {
    if (is_sequential && is_input_layer(*layer)) continue;  // Keras's Sequential.layers
    std::string shape = "?";
    std::string connected;
    for (const auto& c : g.calls()) {
      if (c->layer != layer) continue;
      // The last call gives the output shape (Keras's format_layer_shape).
      shape = output_shapes(*c);
      for (const auto& in : c->inputs) {
        const LayerCall& from = *in.history();
        if (!connected.empty()) connected += ", ";
        connected += fmt::format("{}[{}][{}]", from.layer->name(), from.node_index,
                                 graph::output_index(from, in.node().get()));
      }
    }
    std::vector<std::string> cells{
        fmt::format("{} ({})", layer->name(), layer->class_name()), shape,
        layer->built() ? with_commas(layer->count_params()) : "0 (unbuilt)"};
    if (!seq_like) cells.push_back(connected.empty() ? "-" : connected);
    if (!first) table.rule("├", "─", "┼", "┤");
    first = false;
    table.row(cells, "│");
  }
  table.rule("└", "─", "┴", "┘");

  const auto trainable = g.trainable_weights();
  const auto non_trainable = g.non_trainable_weights();
  const std::size_t n_train = count(trainable);
  const std::size_t n_frozen = count(non_trainable);
  return with_totals(g.name(), table.out, n_train, n_frozen);
}

}  // namespace plexus
