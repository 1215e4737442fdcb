// model_to_dot / plot_model, following keras/src/utils/model_visualization.py: the same
// node labels (HTML-like tables), the same graph attributes, duplicate edges skipped, and
// nested models either one node or a dashed `cluster_<name>` subgraph.
#include "graph/dot.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "core/file_io.hpp"
#include "core/markup.hpp"
#include "core/process.hpp"
#include "graph/input_layer.hpp"

namespace plexus::utils {

namespace {

// Text inside an HTML-like label.
std::string html_escape(std::string_view s) { return detail::escape_markup(s, false); }

// A DOT double-quoted string.
std::string dot_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

bool is_input_layer(const Layer& layer) {
  return dynamic_cast<const graph::InputLayer*>(&layer) != nullptr;
}
const graph::Functional* as_model(const Layer& layer) {
  return dynamic_cast<const graph::Functional*>(&layer);
}
bool is_sequential(const graph::Functional& g) { return g.class_name() == "Sequential"; }

// Layers drawn for a graph: all of them, except a Sequential's InputLayer (Keras's
// Sequential.layers does not list it).
std::vector<std::shared_ptr<Layer>> drawn_layers(const graph::Functional& g) {
  std::vector<std::shared_ptr<Layer>> out;
  for (auto& l : g.layers()) {
    if (!(is_sequential(g) && is_input_layer(*l))) out.push_back(l);
  }
  return out;
}

// Python's str() of a shape, or of a list of shapes: "(None, 64)", "[(None, 16), (None, 16)]".
std::string shapes_text(const std::vector<Shape>& shapes) {
  if (shapes.size() == 1) return shape_str(shapes[0]);
  std::string s = "[";
  for (std::size_t i = 0; i < shapes.size(); ++i) s += (i ? ", " : "") + shape_str(shapes[i]);
  return s + "]";
}

class DotWriter {
 public:
  explicit DotWriter(const DotOptions& options) : opt_(options) {}

  // Nodes (or clusters) for every drawn layer of g, then g's edges.
  void body(const graph::Functional& g, const std::string& indent) {
    for (auto& layer : drawn_layers(g)) {
      const graph::Functional* sub = as_model(*layer);
      if (opt_.expand_nested && sub != nullptr) {
        out_ += fmt::format("{}subgraph {} {{\n", indent, dot_string("cluster_" + sub->name()));
        out_ += fmt::format("{}  label={};\n{}  labeljust=\"l\";\n{}  style=\"dashed\";\n", indent,
                            dot_string(sub->name()), indent, indent);
        body(*sub, indent + "  ");
        out_ += indent + "}\n";
      } else {
        out_ += fmt::format("{}{} [label=<{}>, fontname=\"Helvetica\", margin=\"0\"];\n", indent,
                            dot_string(id(layer.get())), label(g, *layer));
      }
    }
    edges(g, indent);
  }

  std::string take() { return std::move(out_); }

 private:
  const std::string& id(const Layer* layer) {
    auto it = ids_.find(layer);
    if (it == ids_.end()) it = ids_.emplace(layer, fmt::format("n{}", ids_.size())).first;
    return it->second;
  }

  void edges(const graph::Functional& g, const std::string& indent) {
    for (auto& c : g.calls()) {
      const Layer& layer = *c->layer;
      if (is_input_layer(layer)) continue;
      for (std::size_t input_index = 0; input_index < c->inputs.size(); ++input_index) {
        const SymbolicTensor& t = c->inputs[input_index];
        const LayerCall* from = t.history().get();
        const Layer* source = from->layer.get();
        // A Sequential draws no InputLayer, hence no edge from it.
        if (is_sequential(g) && is_input_layer(*source)) continue;
        const Layer* destination = &layer;
        if (opt_.expand_nested) {
          // Into a nested model: from the layer making the output used...
          std::size_t output = graph::output_index(*from, t.node().get());
          while (const graph::Functional* sub = as_model(*source)) {
            const SymbolicTensor& o = sub->outputs().at(output);
            output = graph::output_index(*o.history(), o.node().get());
            source = o.history()->layer.get();
          }
          // ...to the InputLayer receiving it (a Sequential's first drawn layer).
          while (const graph::Functional* sub = as_model(*destination)) {
            if (is_sequential(*sub)) {
              destination = drawn_layers(*sub).at(0).get();
            } else {
              destination = sub->inputs().at(input_index).history()->layer.get();
            }
          }
        }
        const std::string& a = id(source);
        const std::string& b = id(destination);
        if (!edges_.emplace(a, b).second) continue;  // Keras's add_edge skips duplicates
        out_ += fmt::format("{}{} -> {} [penwidth=2];\n", indent, dot_string(a), dot_string(b));
      }
    }
  }

  // Keras's make_layer_label.
  std::string label(const graph::Functional& g, const Layer& layer) {
    const std::string cls = html_escape(layer.class_name());
    int colspan = (opt_.show_dtype ? 1 : 0) + (opt_.show_trainable ? 1 : 0);
    if (opt_.show_shapes) colspan += 2;
    colspan = std::max(1, colspan);
    std::string s = "<table border=\"0\" cellborder=\"1\" bgcolor=\"black\" cellpadding=\"10\">";
    s += fmt::format(
        "<tr><td colspan=\"{}\" bgcolor=\"black\"><font point-size=\"16\" color=\"white\">",
        colspan);
    if (opt_.show_layer_names) {
      s += fmt::format("<b>{}</b> ({})", html_escape(layer.name()), cls);
    } else {
      s += fmt::format("<b>{}</b>", cls);
    }
    s += "</font></td></tr>";
    const std::string activation = layer.activation_name();
    if (opt_.show_layer_activations && !activation.empty()) {
      s += fmt::format(
          "<tr><td bgcolor=\"white\" colspan=\"{}\"><font point-size=\"14\">Activation: "
          "<b>{}</b></font></td></tr>",
          colspan, html_escape(activation));
    }
    std::vector<std::string> cols;
    if (opt_.show_shapes) {
      // Keras's layer.input / layer.output: the first call.
      std::string in = "?", out = "?";
      for (auto& c : g.calls()) {
        if (c->layer.get() != &layer) continue;
        std::vector<Shape> ins, outs;
        for (auto& t : c->inputs) ins.push_back(t.shape());
        for (auto& n : c->outputs) outs.push_back(n->shape);
        if (!ins.empty()) in = shapes_text(ins);
        if (!outs.empty()) out = shapes_text(outs);
        break;
      }
      if (!is_input_layer(layer)) {
        cols.push_back(fmt::format(
            "<td bgcolor=\"white\"><font point-size=\"14\">Input shape: <b>{}</b></font></td>",
            in));
      }
      cols.push_back(fmt::format(
          "<td bgcolor=\"white\"><font point-size=\"14\">Output shape: <b>{}</b></font></td>",
          out));
    }
    if (opt_.show_dtype) {
      cols.push_back(
          "<td bgcolor=\"white\"><font point-size=\"14\">Output dtype: <b>float32</b></font></td>");
    }
    if (opt_.show_trainable && !layer.weights().empty()) {
      cols.push_back(layer.trainable() ? "<td bgcolor=\"forestgreen\"><font point-size=\"14\" "
                                         "color=\"white\"><b>Trainable</b></font></td>"
                                       : "<td bgcolor=\"firebrick\"><font point-size=\"14\" "
                                         "color=\"white\"><b>Non-trainable</b></font></td>");
    }
    if (!cols.empty()) {
      s += "<tr>";
      for (auto& c : cols) s += c;
      s += "</tr>";
    }
    return s + "</table>";
  }

  const DotOptions& opt_;
  std::string out_;
  std::map<const Layer*, std::string> ids_;
  std::set<std::pair<std::string, std::string>> edges_;
};

void check_options(const DotOptions& o) {
  static const std::set<std::string> rankdirs{"TB", "LR", "BT", "RL"};
  static const std::set<std::string> splines{"ortho", "curved", "polyline", "spline",
                                             "line",  "none",   "true",     "false"};
  if (!rankdirs.count(o.rankdir)) {
    throw Error("model_to_dot: unknown rankdir \"{}\"; expected one of TB, LR, BT, RL", o.rankdir);
  }
  if (!splines.count(o.splines)) {
    throw Error(
        "model_to_dot: unknown splines \"{}\"; expected one of ortho, curved, polyline, spline, "
        "line, none, true, false",
        o.splines);
  }
  if (o.dpi <= 0) throw Error("model_to_dot: dpi must be positive, received {}", o.dpi);
}

}  // namespace

std::string model_to_dot(const graph::Functional& g, const DotOptions& options) {
  check_options(options);
  std::string out = fmt::format("digraph {} {{\n", dot_string(g.name()));
  out += fmt::format("  graph [rankdir={}, concentrate=true, dpi={}, splines={}];\n",
                     dot_string(options.rankdir), options.dpi, dot_string(options.splines));
  out += "  node [shape=\"record\"];\n";
  DotWriter writer(options);
  writer.body(g, "  ");
  out += writer.take();
  return out + "}\n";
}

void plot_model(const graph::Functional& model, std::string_view to_file,
                const DotOptions& options) {
  namespace fs = std::filesystem;
  if (to_file.empty()) throw Error("plot_model: the output file name is empty");
  const std::string target(to_file);
  std::string format = fs::path(target).extension().string();
  format = format.empty() ? "png" : format.substr(1);  // Keras: no extension means png

  const std::string text = model_to_dot(model, options);  // errors before touching files

  // The DOT text goes to Graphviz on stdin (no temporary source file, so neither TMPDIR nor
  // a full disk can hand it a truncated graph); the picture is rendered into a temporary
  // file next to the target and renamed into place only once dot has succeeded.
  const std::string type_arg = "-T" + format;
  detail::write_file_atomic(
      target,
      [&](const std::filesystem::path& tmp) {
        const detail::ProgramResult run = detail::run_program(
            {"dot", type_arg, "-o", tmp.string()}, text, "plot_model", "Graphviz \"dot\"",
            "plot_model: the Graphviz program \"dot\" was not found on PATH; install the Debian "
            "package graphviz");
        if (!run.succeeded()) {
          throw Error("plot_model: Graphviz \"dot {}\" failed to write \"{}\" ({}){}{}", type_arg,
                      target, run.how(), run.errors.empty() ? "" : ": ", run.errors);
        }
        std::error_code ec;
        if (fs::file_size(tmp, ec) == 0 || ec) {
          throw Error("plot_model: Graphviz \"dot {}\" wrote nothing to \"{}\"{}{}", type_arg,
                      target, run.errors.empty() ? "" : ": ", run.errors);
        }
      },
      "plot_model");
}

}  // namespace plexus::utils
