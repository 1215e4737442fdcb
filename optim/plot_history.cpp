// plot_history: one renderer, the SVG written here; a .png is that SVG rasterised by
// rsvg-convert, so a .png and a .svg of the same history show the same picture.
#include "optim/plot_history.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <set>
#include <utility>

#include "core/error.hpp"
#include "core/file_io.hpp"
#include "core/markup.hpp"
#include "core/process.hpp"

namespace plexus::utils {

namespace {

// matplotlib's "tab10", the colours Keras users see in their history plots.
constexpr std::array<const char*, 10> kPalette = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                                  "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                                  "#bcbd22", "#17becf"};

// Metric names a history key can end with; a multi-output model logs "<output>_<name>".
// Longest first, so "score_binary_accuracy" belongs to binary_accuracy, not accuracy.
constexpr std::array<const char*, 14> kFamilies = {"top_k_categorical_accuracy",
                                                   "sparse_categorical_accuracy",
                                                   "categorical_accuracy",
                                                   "mean_absolute_error",
                                                   "mean_squared_error",
                                                   "binary_accuracy",
                                                   "precision",
                                                   "accuracy",
                                                   "recall",
                                                   "loss",
                                                   "acc",
                                                   "auc",
                                                   "mae",
                                                   "mse"};

struct Series {
  std::string key;
  std::vector<double> y;
  bool validation = false;
  const char* color = kPalette[0];
};

struct Axis {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
  int decimals = 0;
};

struct Panel {
  std::string family;
  std::vector<Series> series;
  Axis x, y;
};

struct Layout {
  std::vector<Panel> panels;
  std::vector<double> epochs;  // x value of the i-th entry of every series
  int columns = 1, rows = 1;
};

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string family_of(const std::string& base) {
  for (const char* f : kFamilies) {
    if (base == f) return base;
  }
  for (const char* f : kFamilies) {
    if (ends_with(base, std::string("_") + f)) return f;
  }
  return base;
}

// 1, 2 or 5 times a power of ten, near range / target.
double nice_step(double range, int target) {
  const double raw = range / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0) * mag;
}

Axis value_axis(double lo, double hi) {
  Axis a;
  if (!std::isfinite(lo) || !std::isfinite(hi)) {
    lo = 0;
    hi = 1;
  }
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) {
    const double pad = std::abs(hi) > 0 ? 0.1 * std::abs(hi) : 0.5;
    lo -= pad;
    hi += pad;
  }
  const double step = nice_step(hi - lo, 5);
  a.lo = std::floor(lo / step + 1e-9) * step;
  a.hi = std::ceil(hi / step - 1e-9) * step;
  for (double t = a.lo; t <= a.hi + step * 1e-6; t += step) a.ticks.push_back(t);
  a.decimals = std::clamp(static_cast<int>(-std::floor(std::log10(step) + 1e-9)), 0, 10);
  return a;
}

Axis epoch_axis(double first, double last) {
  Axis a;
  if (last <= first) {
    a.lo = first - 1;
    a.hi = first + 1;
  } else {
    a.lo = first;
    a.hi = last;
  }
  const double step = std::max(1.0, nice_step(a.hi - a.lo, 6));
  for (double t = std::ceil(a.lo / step) * step; t <= a.hi + 1e-9; t += step) {
    a.ticks.push_back(t);
  }
  return a;
}

Layout make_layout(const History& history, const PlotHistoryOptions& options) {
  if (options.panel_width < 160 || options.panel_height < 120) {
    throw Error("plot_history: panels must be at least 160x120 pixels, received {}x{}",
                options.panel_width, options.panel_height);
  }
  if (options.columns < 1) {
    throw Error("plot_history: columns must be at least 1, received {}", options.columns);
  }
  const auto& h = history.history;
  std::size_t n = 0;
  for (const auto& [key, values] : h) n = std::max(n, values.size());
  if (n == 0) throw Error("plot_history: the history is empty (no epochs recorded)");

  // The keys to plot: every key, or the requested ones and their val_ twins.
  std::vector<std::string> keys;
  if (options.keys.empty()) {
    for (const auto& [key, values] : h) {
      if (!values.empty()) keys.push_back(key);
    }
  } else {
    std::set<std::string> wanted;
    for (const auto& k : options.keys) {
      const bool has = h.count(k) != 0, has_val = h.count("val_" + k) != 0;
      if (!has && !has_val) {
        std::string known;
        for (const auto& [key, values] : h) known += (known.empty() ? "" : ", ") + key;
        throw Error("plot_history: the history has no key \"{}\" (it has: {})", k, known);
      }
      if (has) wanted.insert(k);
      if (has_val) wanted.insert("val_" + k);
    }
    keys.assign(wanted.begin(), wanted.end());
  }

  // Group by family (loss first, then in order of first appearance); within a family the
  // family's own key first, then the rest by name, each followed by its val_ twin.
  Layout layout;
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;  // family -> bases
  std::set<std::string> bases;
  for (const auto& k : keys) bases.insert(starts_with(k, "val_") ? k.substr(4) : k);
  for (const auto& base : bases) {
    const std::string fam = family_of(base);
    auto it =
        std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == fam; });
    if (it == groups.end()) {
      groups.push_back({fam, {}});
      it = groups.end() - 1;
    }
    it->second.push_back(base);
  }
  std::stable_partition(groups.begin(), groups.end(),
                        [](const auto& g) { return g.first == "loss"; });
  const std::set<std::string> key_set(keys.begin(), keys.end());
  for (auto& group : groups) {
    const std::string& fam = group.first;
    auto& members = group.second;
    std::stable_partition(members.begin(), members.end(),
                          [&fam](const std::string& b) { return b == fam; });
    Panel p;
    p.family = fam;
    double lo = INFINITY, hi = -INFINITY;
    for (std::size_t i = 0; i < members.size(); ++i) {
      for (const std::string& key : {members[i], "val_" + members[i]}) {
        if (!key_set.count(key)) continue;
        Series s{key, h.at(key), starts_with(key, "val_"), kPalette[i % kPalette.size()]};
        for (double v : s.y) {
          if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
        }
        p.series.push_back(std::move(s));
      }
    }
    p.y = value_axis(lo, hi);
    layout.panels.push_back(std::move(p));
  }

  for (std::size_t i = 0; i < n; ++i) {
    layout.epochs.push_back(i < history.epoch.size() ? history.epoch[i] + 1.0
                                                     : static_cast<double>(i + 1));
  }
  const double first = *std::min_element(layout.epochs.begin(), layout.epochs.end());
  const double last = *std::max_element(layout.epochs.begin(), layout.epochs.end());
  for (auto& p : layout.panels) p.x = epoch_axis(first, last);
  const int count = static_cast<int>(layout.panels.size());
  layout.columns = std::min(options.columns, count);
  layout.rows = (count + layout.columns - 1) / layout.columns;
  return layout;
}

std::string fixed(double v, int decimals) {
  if (std::abs(v) < 0.5 * std::pow(10.0, -decimals)) v = 0;  // no "-0.00" tick labels
  return fmt::format("{:.{}f}", v, decimals);
}

std::string xml_escape(std::string_view s) { return detail::escape_markup(s, true); }

// --- SVG -------------------------------------------------------------------------------

constexpr int kTitleHeight = 30;
constexpr double kCharWidth = 7.0;  // approximate advance of a 12px sans-serif character

void svg_panel(std::string& out, const Panel& p, const std::vector<double>& epochs, double ox,
               double oy, const PlotHistoryOptions& o) {
  const double pw = o.panel_width, ph = o.panel_height;
  // Legend entries below the x axis, wrapped to the plot width.
  const double left = ox + 70, right = ox + pw - 20, top = oy + 34;
  std::vector<std::vector<std::size_t>> rows(1);
  double row_width = 0;
  for (std::size_t i = 0; i < p.series.size(); ++i) {
    const double w = 34 + kCharWidth * static_cast<double>(p.series[i].key.size()) + 14;
    if (row_width > 0 && row_width + w > right - left) {
      rows.emplace_back();
      row_width = 0;
    }
    rows.back().push_back(i);
    row_width += w;
  }
  const double legend_h = 18.0 * static_cast<double>(rows.size());
  const double bottom = oy + ph - 46 - legend_h;
  auto sx = [&](double x) { return left + (x - p.x.lo) / (p.x.hi - p.x.lo) * (right - left); };
  auto sy = [&](double y) { return bottom - (y - p.y.lo) / (p.y.hi - p.y.lo) * (bottom - top); };

  out += fmt::format(
      "<g class=\"panel\" id=\"panel-{}\">\n"
      "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"14\" "
      "font-weight=\"bold\">{}</text>\n",
      xml_escape(p.family), (left + right) / 2, oy + 22, xml_escape(p.family));
  // Grid and tick labels.
  for (double t : p.y.ticks) {
    out += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e5e5e5\"/>\n"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" font-size=\"11\">{}</text>\n",
        left, sy(t), right, sy(t), left - 6, sy(t) + 4, fixed(t, p.y.decimals));
  }
  for (double t : p.x.ticks) {
    out += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e5e5e5\"/>\n"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"11\">{}</text>\n",
        sx(t), top, sx(t), bottom, sx(t), bottom + 16, fixed(t, 0));
  }
  out += fmt::format(
      "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" "
      "stroke=\"#444\"/>\n"
      "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"12\">epoch</text>\n",
      left, top, right - left, bottom - top, (left + right) / 2, bottom + 34);

  // Curves: one polyline per run of finite values; dots when there are few epochs.
  const bool dots = epochs.size() <= 50;
  for (const auto& s : p.series) {
    const std::string style = fmt::format("fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{}",
                                          s.color, s.validation ? " stroke-dasharray=\"7,4\"" : "");
    std::string points;
    auto flush = [&] {
      if (!points.empty()) {
        out += fmt::format("<polyline class=\"series\" data-key=\"{}\" {} points=\"{}\"/>\n",
                           xml_escape(s.key), style, points);
      }
      points.clear();
    };
    for (std::size_t i = 0; i < s.y.size() && i < epochs.size(); ++i) {
      if (!std::isfinite(s.y[i])) {
        flush();
        continue;
      }
      points +=
          fmt::format("{}{:.2f},{:.2f}", points.empty() ? "" : " ", sx(epochs[i]), sy(s.y[i]));
      if (dots) {
        out += fmt::format(
            "<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"2.5\" fill=\"{}\" stroke=\"none\"/>\n",
            sx(epochs[i]), sy(s.y[i]), s.color);
      }
    }
    flush();
  }

  // Legend.
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const double y = bottom + 52 + 18.0 * static_cast<double>(r);
    double x = left;
    for (std::size_t i : rows[r]) {
      const Series& s = p.series[i];
      out += fmt::format(
          "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
          "stroke-width=\"2\"{}/>\n"
          "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\">{}</text>\n",
          x, y - 4, x + 28, y - 4, s.color, s.validation ? " stroke-dasharray=\"7,4\"" : "", x + 34,
          y, xml_escape(s.key));
      x += 34 + kCharWidth * static_cast<double>(s.key.size()) + 14;
    }
  }
  out += "</g>\n";
}

// --- PNG ---------------------------------------------------------------------------------

// The SVG rasterised by librsvg's rsvg-convert, read from stdin.
void render_png(const std::string& svg, const std::filesystem::path& tmp,
                const std::string& target) {
  const detail::ProgramResult run = detail::run_program(
      {"rsvg-convert", "--format=png", "--output", tmp.string()}, svg, "plot_history",
      "\"rsvg-convert\"",
      fmt::format("plot_history: \"rsvg-convert\" was not found on PATH, so \"{}\" cannot be "
                  "rendered; install it (Debian package librsvg2-bin) or write an .svg file "
                  "instead, which needs no external program",
                  target));
  if (!run.succeeded()) {
    throw Error("plot_history: rsvg-convert failed to write \"{}\" ({}){}{}", target, run.how(),
                run.errors.empty() ? "" : ": ", run.errors);
  }
  std::error_code ec;
  if (std::filesystem::file_size(tmp, ec) == 0 || ec) {
    throw Error("plot_history: rsvg-convert wrote nothing to \"{}\"", target);
  }
}

}  // namespace

std::string history_to_svg(const History& history, const PlotHistoryOptions& options) {
  const Layout layout = make_layout(history, options);
  const int title_h = options.title.empty() ? 0 : kTitleHeight;
  const int width = layout.columns * options.panel_width;
  const int height = layout.rows * options.panel_height + title_h;
  std::string out = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      width, height);
  if (title_h) {
    out += fmt::format(
        "<text x=\"{:.1f}\" y=\"21\" text-anchor=\"middle\" font-size=\"16\" "
        "font-weight=\"bold\">{}</text>\n",
        width / 2.0, xml_escape(options.title));
  }
  for (std::size_t i = 0; i < layout.panels.size(); ++i) {
    const int col = static_cast<int>(i) % layout.columns;
    const int row = static_cast<int>(i) / layout.columns;
    svg_panel(out, layout.panels[i], layout.epochs, col * options.panel_width,
              title_h + row * options.panel_height, options);
  }
  return out + "</svg>\n";
}

void plot_history(const History& history, std::string_view path,
                  const PlotHistoryOptions& options) {
  namespace fs = std::filesystem;
  if (path.empty()) throw Error("plot_history: the output file name is empty");
  const std::string target(path);
  std::string ext = fs::path(target).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext != ".svg" && ext != ".png") {
    throw Error("plot_history: cannot write \"{}\": the file name must end in .svg or .png",
                target);
  }
  const std::string svg = history_to_svg(history, options);  // errors before touching files
  if (ext == ".svg") {
    detail::write_file_atomic(target, svg, "plot_history");
  } else {
    detail::write_file_atomic(
        target, [&](const fs::path& tmp) { render_png(svg, tmp, target); }, "plot_history");
  }
}

}  // namespace plexus::utils
