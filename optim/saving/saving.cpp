#include "optim/saving/saving.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/file_io.hpp"
#include "core/json.hpp"
#include "graph/functional.hpp"
#include "graph/input_layer.hpp"
#include "layers/attention.hpp"
#include "layers/bidirectional.hpp"
#include "layers/core.hpp"
#include "layers/detail/keras_ops.hpp"
#include "layers/merging.hpp"
#include "layers/registry.hpp"
#include "layers/time_distributed.hpp"
#include "optim/saving/hdf5.hpp"
#include "optim/saving/onnx.hpp"
#include "optim/saving/training_state.hpp"
#include "optim/saving/zip.hpp"

namespace plexus::saving {

namespace {

// The backend named in legacy .h5 files: plexus computes as Keras's CPU backends do
// (channels_last, float32); Keras reads the name only to convert Keras 1 / Theano weights.
constexpr const char* kLegacyBackend = "numpy";
constexpr std::size_t kMaxJsonBytes = std::size_t(64) << 20;     // config.json, metadata.json
constexpr std::size_t kMaxWeightsBytes = std::size_t(16) << 30;  // model.weights.h5

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// --- atomic writes -------------------------------------------------------------------

// Runs `write(tmp)` on a temporary file in the target's folder, syncs it and renames it
// over `path` (core/file_io.hpp): a failed or interrupted save leaves the previous file whole.
void write_atomically(const std::string& path,
                      const std::function<void(const std::string&)>& write) {
  ::plexus::detail::write_file_atomic(
      path, [&](const std::filesystem::path& tmp) { write(tmp.string()); }, "save");
}

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("Cannot read \"{}\"", path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Config parse_json(const std::string& text, const std::string& what) {
  try {
    return Config::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error("{} is not valid JSON: {}", what, e.what());
  }
}

// --- model configs ---------------------------------------------------------------------

Config shape_config(const Shape& s) {
  Config c = Config::array();
  for (Dim d : s) c.push_back(d < 0 ? Config(nullptr) : Config(d));
  return c;
}

Config build_config(const Layer& layer) {
  const auto& shapes = layer.build_shapes();
  if (shapes.empty()) return {{"input_shape", nullptr}};
  // Keras builds MultiHeadAttention from named shapes (build(query_shape, value_shape,
  // key_shape)) and writes them as a shapes_dict.
  if (const auto* m = dynamic_cast<const layers::MultiHeadAttentionLayer*>(&layer)) {
    Config dict = {{"query_shape", shape_config(shapes.at(0))},
                   {"value_shape", shape_config(shapes.at(1))}};
    if (m->built_with_key()) dict["key_shape"] = shape_config(shapes.at(2));
    return {{"shapes_dict", dict}};
  }
  if (shapes.size() == 1) return {{"input_shape", shape_config(shapes[0])}};
  Config list = Config::array();
  for (auto& s : shapes) list.push_back(shape_config(s));
  return {{"input_shape", list}};
}

// Layers called on a list in Keras (merges, multi-input models).
bool takes_list(const Layer& layer, const LayerCall& call) {
  return call.inputs.size() > 1 || dynamic_cast<const layers::MergeLayer*>(&layer) ||
         dynamic_cast<const layers::ConcatenateLayer*>(&layer);
}

Config functional_config(const graph::Functional& g);

// A layer's entry in a model's "layers" list (without name/inbound_nodes).
Config layer_entry(const Layer& layer) {
  if (auto* g = dynamic_cast<const graph::Functional*>(&layer)) return functional_config(*g);
  if (auto* op = dynamic_cast<const layers::detail::KerasOpLayer*>(&layer)) {
    // Keras serializes an operation without a build_config.
    return Config{{"module", op->module()},
                  {"class_name", op->class_name()},
                  {"config", op->get_config()},
                  {"registered_name", op->class_name()}};
  }
  Config c = layers::serialize(layer);
  // Keras writes a build_config for layers that have a build step; InputLayer, Dropout and
  // Activation are built when made.
  const std::string cls = layer.class_name();
  if (cls != "InputLayer" && cls != "Dropout" && cls != "Activation") {
    c["build_config"] = build_config(layer);
  }
  return c;
}

Config sequential_config(const graph::Functional& g) {
  Config layers_list = Config::array();
  for (const auto& l : g.layers()) layers_list.push_back(layer_entry(*l));
  Config inner = Config::object();
  inner["name"] = g.name();
  inner["trainable"] = g.trainable();
  inner["dtype"] = g.Layer::get_config()["dtype"];
  inner["layers"] = layers_list;
  const Shape in = g.inputs().at(0).shape();
  inner["build_input_shape"] = shape_config(in);
  Config c = Config::object();
  c["module"] = "keras";
  c["class_name"] = "Sequential";
  c["config"] = inner;
  c["registered_name"] = nullptr;
  c["build_config"] = {{"input_shape", shape_config(in)}};
  return c;
}

Config functional_config(const graph::Functional& g) {
  if (g.class_name() == "Sequential") return sequential_config(g);
  // Keras renumbers each layer's calls within the model (node_conversion_map).
  std::map<std::pair<const Layer*, std::size_t>, std::size_t> node_index;
  std::map<const Layer*, std::vector<const LayerCall*>> calls_of;
  for (const auto& call : g.calls()) calls_of[call->layer.get()].push_back(call.get());
  for (auto& [layer, calls] : calls_of) {
    std::stable_sort(calls.begin(), calls.end(), [](const LayerCall* a, const LayerCall* b) {
      return a->node_index < b->node_index;
    });
    for (std::size_t i = 0; i < calls.size(); ++i) node_index[{layer, calls[i]->node_index}] = i;
  }
  auto history = [&](const SymbolicTensor& t) {
    const auto& h = t.history();
    if (!h) throw Error("Model \"{}\": a tensor without a layer call cannot be saved", g.name());
    auto it = node_index.find({h->layer.get(), h->node_index});
    const std::size_t idx = it == node_index.end() ? 0 : it->second;
    return Config::array({h->layer->name(), idx, graph::output_index(*h, t.node().get())});
  };
  auto keras_tensor = [&](const SymbolicTensor& t) {
    Config cfg = {{"shape", shape_config(t.shape())}, {"dtype", t.dtype()}};
    cfg["keras_history"] = history(t);
    return Config{{"class_name", "__keras_tensor__"}, {"config", cfg}};
  };
  Config layers_list = Config::array();
  for (const auto& l : g.layers()) {
    Config entry = layer_entry(*l);
    entry["name"] = l->name();
    Config nodes = Config::array();
    if (!dynamic_cast<const graph::InputLayer*>(l.get())) {
      for (const LayerCall* call : calls_of[l.get()]) {
        Config args = Config::array();
        Config kwargs = Config::object();
        if (const auto* op = dynamic_cast<const layers::detail::KerasOpLayer*>(l.get())) {
          using layers::detail::OpArgument;
          for (const auto& a : op->arguments()) {
            if (a.kind == OpArgument::Kind::kNumber) {
              args.push_back(a.number);
            } else if (a.kind == OpArgument::Kind::kTensor) {
              args.push_back(keras_tensor(call->inputs.at(a.tensor)));
            } else {
              Config list = Config::array();
              for (std::size_t k = 0; k < a.count; ++k)
                list.push_back(keras_tensor(call->inputs.at(a.tensor + k)));
              args.push_back(list);
            }
          }
          if (op->arguments().empty()) {
            for (auto& x : call->inputs) args.push_back(keras_tensor(x));
          }
        } else if (const auto* att = dynamic_cast<const layers::AttentionLayerBase*>(l.get())) {
          // Keras's call: mha(query, value[, key], attention_mask=..., use_causal_mask=...)
          // with positional tensors; attention([query, value[, key]], ...) with a list.
          const auto rec = att->call_record(call->outputs.at(0).get());
          std::vector<SymbolicTensor> tensors = call->inputs;
          if (rec.attention_mask) {
            kwargs["attention_mask"] = keras_tensor(tensors.back());
            tensors.pop_back();
          }
          if (rec.use_causal_mask) kwargs["use_causal_mask"] = true;
          if (rec.return_attention_scores) kwargs["return_attention_scores"] = true;
          Config list = Config::array();
          for (auto& x : tensors) list.push_back(keras_tensor(x));
          if (dynamic_cast<const layers::MultiHeadAttentionLayer*>(l.get())) {
            args = list;
          } else {
            args.push_back(list);
          }
        } else if (takes_list(*l, *call)) {
          Config list = Config::array();
          for (auto& x : call->inputs) list.push_back(keras_tensor(x));
          args.push_back(list);
        } else {
          args.push_back(keras_tensor(call->inputs.at(0)));
        }
        nodes.push_back({{"args", args}, {"kwargs", kwargs}});
      }
    }
    entry["inbound_nodes"] = nodes;
    layers_list.push_back(entry);
  }
  Config ins = Config::array(), outs = Config::array();
  for (auto& t : g.inputs()) ins.push_back(history(t));
  for (auto& t : g.outputs()) outs.push_back(history(t));
  Config inner = Config::object();
  inner["name"] = g.name();
  inner["trainable"] = g.trainable();
  inner["layers"] = layers_list;
  inner["input_layers"] = ins;
  inner["output_layers"] = outs;
  Config c = Config::object();
  c["module"] = "keras.src.models.functional";
  c["class_name"] = "Functional";
  c["config"] = inner;
  c["registered_name"] = "Functional";
  c["build_config"] = {{"input_shape", nullptr}};
  return c;
}

// --- building a model from a config ----------------------------------------------------

bool is_model_class(const std::string& cls) {
  return cls == "Functional" || cls == "Model" || cls == "Sequential";
}

std::string class_of(const Config& c, std::string_view where) {
  if (!c.is_object() || !c.contains("class_name") || !c["class_name"].is_string()) {
    throw Error("{}: expected a {{\"class_name\", \"config\"}} object, received {}", where,
                c.dump().substr(0, 200));
  }
  return c["class_name"].get<std::string>();
}

// An input of a Keras node: (layer name, node index, tensor index).
struct Ref {
  std::string layer;
  std::size_t node = 0, tensor = 0;
};

Ref ref_from_history(const Config& h, std::string_view where) {
  if (!h.is_array() || h.size() < 3 || !h[0].is_string() || !h[1].is_number_unsigned() ||
      !h[2].is_number_unsigned()) {
    throw Error("{}: malformed tensor reference {}", where, h.dump().substr(0, 200));
  }
  return {h[0].get<std::string>(), h[1].get<std::size_t>(), h[2].get<std::size_t>()};
}

// One call of a layer: its inputs (one tensor or a list; the layer gets them as a list).
struct NodeSpec {
  std::vector<Ref> inputs;
  bool list = false;
  // Attention layers' call options (layers/attention.hpp); the mask is the last input.
  bool attention_options = false, attention_mask = false, causal = false, scores = false;
  // A Keras op's call (layers/detail/keras_ops.hpp): its positional arguments, tensors
  // referring to `inputs` in order.
  std::optional<std::vector<layers::detail::OpArgument>> op_args;
};

Ref keras_tensor_ref(const Config& t, std::string_view where) {
  if (!t.is_object() || t.value("class_name", "") != "__keras_tensor__" || !t.contains("config") ||
      !t["config"].is_object() || !t["config"].contains("keras_history")) {
    throw Error("{}: expected a __keras_tensor__ argument, received {}", where,
                t.dump().substr(0, 200));
  }
  return ref_from_history(t["config"]["keras_history"], where);
}

std::vector<NodeSpec> parse_inbound_nodes(const Config& nodes, const std::string& where) {
  std::vector<NodeSpec> out;
  if (nodes.is_null()) return out;
  if (!nodes.is_array()) throw Error("{}: inbound_nodes must be a list", where);
  for (const auto& node : nodes) {
    NodeSpec spec;
    if (node.is_object()) {  // Keras 3: {"args": [...], "kwargs": {...}}
      Config args = node.value("args", Config::array());
      const bool tensors_only =
          args.is_array() &&
          std::all_of(args.begin(), args.end(), [](const Config& a) { return a.is_object(); });
      // Several positional tensors (MultiHeadAttention's query, value[, key]): one list.
      if (args.is_array() && args.size() > 1 && tensors_only) args = Config::array({args});
      if (!args.is_array() || args.size() != 1) {
        throw Error("{}: plexus reads layer calls with one positional argument, received {}", where,
                    args.dump().substr(0, 200));
      }
      std::optional<Ref> key, mask;
      if (node.contains("kwargs") && node["kwargs"].is_object()) {
        for (auto& [k, v] : node["kwargs"].items()) {
          // training=False (a Dropout called in inference mode) is the inference behaviour
          // plexus gives anyway; the inputs' masks are plexus's own (layers/masking.hpp);
          // attention layers' options are read; other call arguments are refused.
          if (v.is_null() || (k == "training" && v.is_boolean())) continue;
          if (k == "query_mask" || k == "value_mask" || k == "key_mask" || k == "mask") continue;
          if ((k == "use_causal_mask" || k == "return_attention_scores") && v.is_boolean()) {
            spec.attention_options = true;
            (k == "use_causal_mask" ? spec.causal : spec.scores) = v.get<bool>();
            continue;
          }
          if (k == "key" || k == "attention_mask") {
            (k == "key" ? key : mask) = keras_tensor_ref(v, where);
            spec.attention_options = true;
            continue;
          }
          throw Error("{}: the call argument {}={} is not supported", where, k,
                      v.dump().substr(0, 100));
        }
      }
      const Config& a = args[0];
      if (key || mask) {
        if (!a.is_array()) {
          throw Error("{}: key/attention_mask need a [query, value] call", where);
        }
        spec.list = true;
        for (const auto& t : a) spec.inputs.push_back(keras_tensor_ref(t, where));
        if (key) spec.inputs.push_back(*key);
        if (mask) {
          spec.inputs.push_back(*mask);
          spec.attention_mask = true;
        }
      } else if (a.is_array()) {
        spec.list = true;
        for (const auto& t : a) spec.inputs.push_back(keras_tensor_ref(t, where));
      } else {
        spec.inputs.push_back(keras_tensor_ref(a, where));
      }
    } else if (node.is_array()) {  // Keras 2: [["name", node, tensor, {kwargs}], ...]
      for (const auto& t : node) {
        spec.inputs.push_back(ref_from_history(t, where));
        if (t.size() > 3 && t[3].is_object()) {
          for (auto& [k, v] : t[3].items()) {
            if (v.is_null() || (k == "training" && v.is_boolean())) continue;
            throw Error("{}: the call argument {}={} is not supported", where, k,
                        v.dump().substr(0, 100));
          }
        }
      }
    } else {
      throw Error("{}: malformed inbound node {}", where, node.dump().substr(0, 200));
    }
    out.push_back(std::move(spec));
  }
  return out;
}

// A Keras operation's node: positional tensors, numbers and lists of tensors.
std::vector<NodeSpec> parse_op_nodes(const Config& nodes, const std::string& where) {
  using layers::detail::OpArgument;
  std::vector<NodeSpec> out;
  if (nodes.is_null()) return out;
  if (!nodes.is_array()) throw Error("{}: inbound_nodes must be a list", where);
  for (const auto& node : nodes) {
    if (!node.is_object() || !node.contains("args") || !node["args"].is_array()) {
      throw Error("{}: malformed op node {}", where, node.dump().substr(0, 200));
    }
    NodeSpec spec;
    spec.list = true;
    std::vector<OpArgument> args;
    for (const auto& a : node["args"]) {
      if (a.is_number() || a.is_boolean()) {
        OpArgument arg{OpArgument::Kind::kNumber};
        arg.number = a.is_boolean() ? (a.get<bool>() ? 1.0 : 0.0) : a.get<double>();
        args.push_back(arg);
      } else if (a.is_array()) {
        OpArgument arg{OpArgument::Kind::kTensorList, spec.inputs.size(), a.size()};
        for (const auto& t : a) spec.inputs.push_back(keras_tensor_ref(t, where));
        args.push_back(arg);
      } else {
        args.push_back({OpArgument::Kind::kTensor, spec.inputs.size()});
        spec.inputs.push_back(keras_tensor_ref(a, where));
      }
    }
    if (node.contains("kwargs") && node["kwargs"].is_object()) {
      for (auto& [k, v] : node["kwargs"].items()) {
        if (v.is_null()) continue;
        throw Error("{}: the op call argument {}={} is not supported", where, k,
                    v.dump().substr(0, 100));
      }
    }
    spec.op_args = std::move(args);
    out.push_back(std::move(spec));
  }
  return out;
}

std::vector<Ref> parse_endpoints(const Config& c, const std::string& where) {
  std::vector<Ref> out;
  if (!c.is_array() || c.empty()) throw Error("{}: expected a list of layers", where);
  if (c[0].is_string()) {  // a single [name, node, tensor]
    out.push_back(ref_from_history(c, where));
  } else {
    for (const auto& e : c) out.push_back(ref_from_history(e, where));
  }
  return out;
}

Model functional_from_config(const Config& inner, const std::string& model_name);
Model sequential_from_config(const Config& config);

// A layer (or a nested model, as a layer) from a model's "layers" entry.
LayerRef layer_from_entry(const Config& entry) {
  const std::string cls = class_of(entry, "Model config");
  if (is_model_class(cls)) return LayerRef(model_from_config(entry));
  if (layers::detail::is_keras_op_entry(entry)) {
    return LayerRef(std::static_pointer_cast<Layer>(
        make_layer<layers::detail::KerasOpLayer>(cls, entry["module"].get<std::string>(),
                                                 entry.value("config", Config::object()))
            .get()));
  }
  Config e = entry;
  // Keras 2 writes the layer name beside the config too; the config's name wins.
  if (e.contains("config") && e["config"].is_object() && !e["config"].contains("name") &&
      e.contains("name")) {
    e["config"]["name"] = e["name"];
  }
  return layers::deserialize(e);
}

Model functional_from_config(const Config& inner, const std::string& model_name) {
  const std::string where = fmt::format("Model \"{}\"", model_name);
  if (!inner.contains("layers") || !inner["layers"].is_array()) {
    throw Error("{}: the config has no \"layers\" list", where);
  }
  struct Pending {
    LayerRef layer;
    std::vector<NodeSpec> nodes;
    std::size_t done = 0;
  };
  std::vector<Pending> pending;
  std::map<std::string, std::size_t> by_name;
  std::map<std::pair<std::string, std::size_t>, std::vector<SymbolicTensor>> produced;
  for (const auto& entry : inner["layers"]) {
    LayerRef layer = layer_from_entry(entry);
    const std::string name = entry.contains("name") && entry["name"].is_string()
                                 ? entry["name"].get<std::string>()
                                 : layer->name();
    if (by_name.count(name)) throw Error("{}: the layer name \"{}\" is used twice", where, name);
    Pending p{layer, {}, 0};
    if (auto* in = dynamic_cast<graph::InputLayer*>(layer.get().get())) {
      produced[{name, 0}] = {in->output()};
    } else if (dynamic_cast<layers::detail::KerasOpLayer*>(layer.get().get())) {
      p.nodes =
          parse_op_nodes(entry.value("inbound_nodes", Config()), where + " op \"" + name + "\"");
    } else {
      p.nodes = parse_inbound_nodes(entry.value("inbound_nodes", Config()),
                                    where + " layer \"" + name + "\"");
    }
    by_name[name] = pending.size();
    pending.push_back(std::move(p));
  }
  auto resolve = [&](const Ref& r, SymbolicTensor& out) {
    auto it = produced.find({r.layer, r.node});
    if (it == produced.end()) return false;
    if (r.tensor >= it->second.size()) {
      throw Error("{}: layer \"{}\" call {} has no output {}", where, r.layer, r.node, r.tensor);
    }
    out = it->second[r.tensor];
    return true;
  };
  // Call the layers node by node, in order, as their inputs become available (Keras's
  // process_node loop).
  bool progress = true;
  while (progress) {
    progress = false;
    for (auto& p : pending) {
      while (p.done < p.nodes.size()) {
        const NodeSpec& spec = p.nodes[p.done];
        std::vector<SymbolicTensor> args;
        bool ready = true;
        for (const auto& r : spec.inputs) {
          SymbolicTensor t;
          if (!resolve(r, t)) {
            if (!by_name.count(r.layer)) {
              throw Error(
                  "{}: layer \"{}\" is called on the output of \"{}\", which the model "
                  "does not have",
                  where, p.layer->name(), r.layer);
            }
            ready = false;
            break;
          }
          args.push_back(t);
        }
        if (!ready) break;
        SymbolicTensors outs;
        if (spec.attention_options) {
          auto* att = dynamic_cast<layers::AttentionLayerBase*>(p.layer.get().get());
          if (!att) {
            throw Error("{}: layer \"{}\" ({}) takes no attention call options", where,
                        p.layer->name(), p.layer->class_name());
          }
          layers::AttentionCallOptions o;
          if (spec.attention_mask) {
            o.attention_mask = args.back();
            args.pop_back();
          }
          o.use_causal_mask = spec.causal;
          o.return_attention_scores = spec.scores;
          outs = att->call_with(args, o);
        } else {
          if (spec.op_args) {
            dynamic_cast<layers::detail::KerasOpLayer&>(*p.layer.get())
                .set_arguments(*spec.op_args);
          }
          // Every output of the call (an LSTM with return_state has three; later nodes pick
          // theirs by tensor index).
          outs = p.layer(args);
        }
        produced[{p.layer->name(), p.done}] = outs;
        ++p.done;
        progress = true;
      }
    }
  }
  for (auto& p : pending) {
    if (p.done < p.nodes.size()) {
      throw Error("{}: cannot resolve the inputs of layer \"{}\" (a cycle or a missing layer)",
                  where, p.layer->name());
    }
  }
  std::vector<SymbolicTensor> ins, outs;
  for (const auto& r :
       parse_endpoints(inner.value("input_layers", Config()), where + " input_layers")) {
    SymbolicTensor t;
    if (!resolve(r, t)) throw Error("{}: unknown input layer \"{}\"", where, r.layer);
    ins.push_back(t);
  }
  for (const auto& r :
       parse_endpoints(inner.value("output_layers", Config()), where + " output_layers")) {
    SymbolicTensor t;
    if (!resolve(r, t)) throw Error("{}: unknown output layer \"{}\"", where, r.layer);
    outs.push_back(t);
  }
  Model m(ins, outs, model_name);
  // A frozen model freezes all its layers; a trainable one keeps its layers' own flags.
  if (inner.contains("trainable") && inner["trainable"].is_boolean() &&
      !inner["trainable"].get<bool>()) {
    m.set_trainable(false);
  }
  return m;
}

Model sequential_from_config(const Config& config) {
  const Config& inner = config.contains("config") ? config["config"] : config;
  // Keras 2.0-2.1 store a Sequential config as a bare list of layers.
  const Config layers_list =
      inner.is_array() ? inner : (inner.is_object() ? inner.value("layers", Config()) : Config());
  const std::string name = inner.is_object() ? config::name_of(inner) : std::string();
  if (!layers_list.is_array()) throw Error("Sequential \"{}\": the config has no layers", name);
  Sequential seq(name);
  bool first = true;
  for (const auto& entry : layers_list) {
    LayerRef layer = layer_from_entry(entry);
    // Keras 2 writes the first layer's batch_input_shape; a static batch size in it (a
    // stateful RNN's) becomes the InputLayer's.
    const Config* batch_input = nullptr;
    if (first && entry.is_object() && entry.contains("config") && entry["config"].is_object()) {
      auto b = entry["config"].find("batch_input_shape");
      if (b != entry["config"].end() && b->is_array() && !b->empty() && (*b)[0].is_number_integer())
        batch_input = &*b;
    }
    if (batch_input && !dynamic_cast<graph::InputLayer*>(layer.get().get())) {
      seq.add(layers::InputLayer(layer->declared_input_shape(),
                                 {.batch_size = (*batch_input)[0].get<Dim>()}));
    } else if (first && !dynamic_cast<graph::InputLayer*>(layer.get().get()) &&
               layer->declared_input_shape().empty() && inner.is_object() &&
               inner.contains("build_input_shape") && inner["build_input_shape"].is_array()) {
      Shape s;
      for (const auto& d : inner["build_input_shape"]) s.push_back(d.is_null() ? -1 : d.get<Dim>());
      Dim batch = -1;
      if (!s.empty()) {
        batch = s.front();
        s.erase(s.begin());
      }
      seq.add(layers::InputLayer(
          s, {.batch_size = batch > 0 ? std::optional<Dim>(batch) : std::nullopt}));
    }
    first = false;
    seq.add(layer);
  }
  if (inner.is_object() && inner.contains("trainable") && inner["trainable"].is_boolean() &&
      !inner["trainable"].get<bool>()) {
    seq.set_trainable(false);
  }
  return seq;
}

// --- weights ----------------------------------------------------------------------------

// A layer's variables in Keras's saving order: trainable, then non-trainable.
std::vector<Variable> saving_order(const Layer& layer) {
  std::vector<Variable> out;
  for (const auto& w : layer.weights()) {
    if (w.data()->trainable) out.push_back(w);
  }
  for (const auto& w : layer.weights()) {
    if (!w.data()->trainable) out.push_back(w);
  }
  return out;
}

// Where Keras 3 keeps a layer's variables, below the layer's group: its own "vars", except
// where Keras holds them in a layer attribute: an RNN's cell ("cell/vars", the RNN's own
// "vars" empty) and a Bidirectional's two RNNs ("forward_layer/cell/vars", ...).
std::vector<std::pair<std::string, std::vector<Variable>>> var_groups(const Layer& l) {
  const std::string cls = l.class_name();
  if (cls == "SimpleRNN" || cls == "LSTM" || cls == "GRU") {
    return {{"vars", {}}, {"cell/vars", saving_order(l)}};
  }
  if (const auto* b = dynamic_cast<const layers::BidirectionalLayer*>(&l)) {
    return {{"vars", {}},
            {"forward_layer/vars", {}},
            {"forward_layer/cell/vars", saving_order(*b->forward_layer())},
            {"backward_layer/vars", {}},
            {"backward_layer/cell/vars", saving_order(*b->backward_layer())}};
  }
  // MultiHeadAttention: its four EinsumDense attributes (and the weightless _softmax and
  // _dropout_layer Keras also writes). Keras 3.15 names them key_dense, ...; Keras 3.0-3.14
  // wrote _key_dense, ... (read both: attribute_group below).
  if (const auto* m = dynamic_cast<const layers::MultiHeadAttentionLayer*>(&l)) {
    if (!m->query_dense().get()) return {{"vars", {}}};
    return {{"vars", {}},
            {"_dropout_layer/vars", {}},
            {"_softmax/vars", {}},
            {"key_dense/vars", saving_order(*m->key_dense())},
            {"output_dense/vars", saving_order(*m->output_dense())},
            {"query_dense/vars", saving_order(*m->query_dense())},
            {"value_dense/vars", saving_order(*m->value_dense())}};
  }
  // Keras 3's Wrapper keeps the wrapped layer as the attribute "layer".
  if (const auto* t = dynamic_cast<const layers::TimeDistributedLayer*>(&l)) {
    auto groups = var_groups(*t->layer());
    for (auto& g : groups) g.first = "layer/" + g.first;
    groups.insert(groups.begin(), {"vars", {}});
    return groups;
  }
  return {{"vars", saving_order(l)}};
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// Keras 3 keys: the snake_case class name, deduplicated in layer order (dense, dense_1).
std::vector<std::string> layer_keys(const std::vector<std::shared_ptr<Layer>>& layers) {
  std::map<std::string, int> used;
  std::vector<std::string> keys;
  for (const auto& l : layers) {
    // Keras operations are not layers in Keras's model.layers: no group, no number.
    if (dynamic_cast<const layers::detail::KerasOpLayer*>(l.get())) {
      keys.emplace_back();
      continue;
    }
    std::string key = to_snake_case(l->class_name());
    auto it = used.find(key);
    if (it == used.end()) {
      used[key] = 0;
    } else {
      key += "_" + std::to_string(++it->second);
    }
    keys.push_back(key);
  }
  return keys;
}

void save_layers(const graph::Functional& g, const h5::Group& group) {
  const h5::Group layers_group = group.create_group("layers");
  const auto keys = layer_keys(g.layers());
  for (std::size_t i = 0; i < g.layers().size(); ++i) {
    const Layer& l = *g.layers()[i];
    if (keys[i].empty()) continue;  // a Keras operation
    const h5::Group lg = layers_group.create_group(keys[i]);
    if (auto* nested = dynamic_cast<const graph::Functional*>(&l)) {
      save_layers(*nested, lg);
      lg.create_group("vars");
      continue;
    }
    for (const auto& [path, ws] : var_groups(l)) {
      h5::Group vars = lg;
      for (const auto& part : split_path(path)) vars = vars.create_group(part);
      for (std::size_t k = 0; k < ws.size(); ++k)
        vars.write_dataset(std::to_string(k), ws[k].value());
    }
  }
}

// The group of a layer attribute: `part` itself, or its spelling in another Keras 3 version
// (a private attribute gained or lost its underscore: MultiHeadAttention's _key_dense in
// Keras 3.0-3.14 is key_dense in Keras 3.15). Empty when neither is there.
std::string attribute_group(const h5::Group& g, const std::string& part) {
  if (g.has_group(part)) return part;
  const std::string other = !part.empty() && part[0] == '_' ? part.substr(1) : "_" + part;
  return g.has_group(other) ? other : std::string();
}

// A weight's value: a float dataset, or an integer one (Keras 3's Normalization writes its
// `count` as an int32 scalar; an optimizer's iterations are int64), converted to float32.
Tensor read_weight(const h5::Group& vars, const std::string& name, const Shape& expected,
                   const std::string& what) {
  if (!vars.dataset_is_integer(name)) return vars.read_dataset(name, &expected, what);
  const Shape shape = vars.dataset_shape(name);
  if (num_elements(shape) != 1 || num_elements(expected) != 1) {
    throw Error(
        "{}: the file holds integer values of shape {} in {}/{}; plexus reads integer "
        "weights only as scalars (expected shape {})",
        what, shape_str(shape), vars.path(), name, shape_str(expected));
  }
  Tensor t = Tensor::from_shape(Tensor::shape_type(expected.begin(), expected.end()));
  t.data()[0] = static_cast<float>(vars.read_int_scalar(name));
  return t;
}

// Reads every weight first, then assigns: a mismatch leaves the model unchanged.
void collect_layers(const graph::Functional& g, const h5::Group& group,
                    std::vector<std::pair<Variable, Tensor>>& out) {
  const auto keys = layer_keys(g.layers());
  for (std::size_t i = 0; i < g.layers().size(); ++i) {
    const Layer& l = *g.layers()[i];
    if (auto* nested = dynamic_cast<const graph::Functional*>(&l)) {
      if (nested->weights().empty()) continue;
      const std::string where = "layers/" + keys[i];
      if (!group.has_group("layers") || !group.group("layers").has_group(keys[i])) {
        throw Error("load_weights: the file has no weights for model \"{}\" (expected group {})",
                    l.name(), group.path() + "/" + where);
      }
      collect_layers(*nested, group.group("layers").group(keys[i]), out);
      continue;
    }
    for (const auto& [path, ws] : var_groups(l)) {
      if (ws.empty()) continue;
      const std::string where = group.path() + "/layers/" + keys[i] + "/" + path;
      bool found = group.has_group("layers") && group.group("layers").has_group(keys[i]);
      h5::Group vars = found ? group.group("layers").group(keys[i]) : group;
      for (const auto& part : split_path(path)) {
        if (!found) break;
        const std::string name = attribute_group(vars, part);
        found = !name.empty();
        if (found) vars = vars.group(name);
      }
      if (!found) {
        throw Error(
            "load_weights: the file has no weights for layer \"{}\" ({}; expected group {})",
            l.name(), l.class_name(), where);
      }
      const auto present = vars.children();
      if (present.size() != ws.size()) {
        throw Error("load_weights: layer \"{}\" ({}) has {} weights, the file has {} in {}",
                    l.name(), l.class_name(), ws.size(), present.size(), vars.path());
      }
      for (std::size_t k = 0; k < ws.size(); ++k) {
        const Shape expected = ws[k].shape();
        const std::string what =
            fmt::format("load_weights: layer \"{}\" weight \"{}\"", l.name(), ws[k].name());
        out.emplace_back(ws[k], read_weight(vars, std::to_string(k), expected, what));
      }
    }
  }
}

void load_keras3_weights(const Model& model, const h5::Group& root) {
  std::vector<std::pair<Variable, Tensor>> values;
  collect_layers(model.graph(), root, values);
  for (auto& [v, t] : values) v.assign(t);
}

// Legacy h5 weights (Keras 2 save_weights, or a full model's model_weights group): layers
// with weights, matched by order; each layer group lists its weights in "weight_names"
// ("dense/kernel:0", or without ":0").
void load_legacy_weights(const Model& model, const h5::Group& g) {
  std::vector<std::string> names = g.string_attribute("layer_names");
  std::vector<std::string> file_layers;
  for (const auto& n : names) {
    if (!g.has_group(n))
      throw Error("load_weights: the file lists layer \"{}\" but has no group", n);
    const h5::Group lg = g.group(n);
    if (lg.has_attribute("weight_names") && !lg.string_attribute("weight_names").empty()) {
      file_layers.push_back(n);
    }
  }
  std::vector<std::shared_ptr<Layer>> model_layers;
  for (const auto& l : model.layers()) {
    if (!l->weights().empty()) model_layers.push_back(l);
  }
  if (file_layers.size() != model_layers.size()) {
    throw Error(
        "load_weights: the model has {} layers with weights, the file has {} (file layers: {})",
        model_layers.size(), file_layers.size(), fmt::format("{}", fmt::join(file_layers, ", ")));
  }
  std::vector<std::pair<Variable, Tensor>> values;
  for (std::size_t i = 0; i < model_layers.size(); ++i) {
    const Layer& l = *model_layers[i];
    const h5::Group lg = g.group(file_layers[i]);
    const auto wnames = lg.string_attribute("weight_names");
    const auto ws = saving_order(l);
    if (wnames.size() != ws.size()) {
      throw Error("load_weights: layer \"{}\" ({}) has {} weights, the file's layer \"{}\" has {}",
                  l.name(), l.class_name(), ws.size(), file_layers[i], wnames.size());
    }
    for (std::size_t k = 0; k < ws.size(); ++k) {
      // Walk "dense/kernel:0" down from the layer group.
      h5::Group cur = lg;
      std::string rest = wnames[k];
      for (auto slash = rest.find('/'); slash != std::string::npos; slash = rest.find('/')) {
        const std::string part = rest.substr(0, slash);
        rest = rest.substr(slash + 1);
        if (!part.empty()) cur = cur.group(part);
      }
      std::string leaf = rest;
      if (!cur.has_dataset(leaf)) {
        if (ends_with(leaf, ":0") && cur.has_dataset(leaf.substr(0, leaf.size() - 2))) {
          leaf = leaf.substr(0, leaf.size() - 2);
        } else if (cur.has_dataset(leaf + ":0")) {
          leaf += ":0";
        }
      }
      const Shape expected = ws[k].shape();
      const std::string what = fmt::format("load_weights: layer \"{}\" weight \"{}\" (file {})",
                                           l.name(), ws[k].name(), wnames[k]);
      values.emplace_back(ws[k], read_weight(cur, leaf, expected, what));
    }
  }
  for (auto& [v, t] : values) v.assign(t);
}

std::string now_string() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d@%H:%M:%S", &tm);
  return buf;
}

void write_weights_file(const Model& model, const std::string& path, bool with_optimizer) {
  h5::File f = h5::File::create(path);
  save_layers(model.graph(), f.root());
  f.root().create_group("vars");
  if (with_optimizer) detail::write_optimizer_state(model, f.root());
  f.flush();
}

// Runs `fn` on the root group of a .keras archive's model.weights.h5.
template <typename F>
void with_archive_weights(const std::string& path, F&& fn) {
  const auto entries = zip::read(path, {"model.weights.h5"}, kMaxWeightsBytes);
  const std::string* w = entries.find("model.weights.h5");
  if (!w) throw Error("\"{}\" has no model.weights.h5", path);
  h5::File f = h5::File::open_image(*w, path + "/model.weights.h5");
  fn(f.root());
}

}  // namespace

// --- training backups (BackupAndRestore) -------------------------------------------------

namespace detail {

void write_training_backup(const Model& model, const std::string& path,
                           const std::string& metadata) {
  write_atomically(path, [&](const std::string& tmp) {
    h5::File f = h5::File::create(tmp);
    save_layers(model.graph(), f.root());
    f.root().create_group("vars");
    write_optimizer_state(model, f.root());
    f.root().set_string_attribute("plexus_training_metadata", metadata);
    f.flush();
  });
}

std::string read_training_backup(const Model& model, const std::string& path) {
  h5::File f = h5::File::open(path);
  const h5::Group& root = f.root();
  if (!root.has_attribute("plexus_training_metadata")) {
    throw Error("\"{}\" is not a BackupAndRestore backup (no plexus_training_metadata)", path);
  }
  const auto metadata = root.string_attribute("plexus_training_metadata");
  if (metadata.size() != 1) throw Error("\"{}\": malformed plexus_training_metadata", path);
  // Read everything before assigning anything: weights first (collected), then the
  // optimizer (checked in full by read_optimizer_state before it assigns).
  std::vector<std::pair<Variable, Tensor>> values;
  collect_layers(model.graph(), root, values);
  std::vector<Tensor> before;
  for (auto& [v, t] : values) {
    before.push_back(v.value());
    v.assign(t);
  }
  try {
    read_optimizer_state(model, root);
  } catch (...) {
    for (std::size_t i = 0; i < values.size(); ++i) values[i].first.assign(before[i]);
    throw;
  }
  return metadata[0];
}

}  // namespace detail

// --- public API ---------------------------------------------------------------------------

Config model_config(const Model& model) { return functional_config(model.graph()); }

namespace {
Model model_from_config_checked(const Config& config) {
  const std::string cls = class_of(config, "model_from_config");
  if (!is_model_class(cls)) {
    throw Error(
        "model_from_config: expected a Functional, Model or Sequential config, received "
        "class \"{}\"",
        cls);
  }
  if (cls == "Sequential") return sequential_from_config(config);
  if (!config.contains("config") || !config["config"].is_object()) {
    throw Error("model_from_config: the {} config has no \"config\" object", cls);
  }
  const Config& inner = config["config"];
  return functional_from_config(inner, config::name_of(inner));
}
}  // namespace

Model model_from_config(const Config& config) {
  // A config of the wrong JSON type where plexus did not check it (a string where an object
  // belongs, ...) is a px::Error naming what the JSON library found, never a foreign exception.
  try {
    return model_from_config_checked(config);
  } catch (const nlohmann::json::exception& e) {
    throw Error("model_from_config: the config does not have Keras's structure: {}", e.what());
  }
}

std::string to_json(const Model& model) { return model_config(model).dump(); }

Model model_from_json(const std::string& json) {
  return model_from_config(parse_json(json, "model_from_json: the text"));
}

void save_weights(const Model& model, const std::string& path) {
  if (!ends_with(path, ".weights.h5")) {
    throw Error("save_weights: the filename must end in \".weights.h5\", received \"{}\"", path);
  }
  write_atomically(path, [&](const std::string& tmp) { write_weights_file(model, tmp, false); });
}

void load_weights(const Model& model, const std::string& path) {
  if (ends_with(path, ".keras")) {
    with_archive_weights(path, [&](const h5::Group& root) { load_keras3_weights(model, root); });
    return;
  }
  h5::File f = h5::File::open(path);
  const h5::Group& root = f.root();
  if (root.has_group("model_weights")) {
    load_legacy_weights(model, root.group("model_weights"));
  } else if (root.has_attribute("layer_names")) {
    load_legacy_weights(model, root);
  } else {
    load_keras3_weights(model, root);
  }
}

namespace {

// Keras's legacy (H5 / SavedModel) config: the same dicts without "module",
// "registered_name" and "build_config" on the model and on each layer entry (nested
// objects — dtype policies, initializers — keep theirs, as Keras 3's legacy writer does).
Config legacy_model_config(Config c) {
  if (!c.is_object()) return c;
  for (const char* key : {"module", "registered_name", "build_config"}) c.erase(key);
  if (c.contains("config") && c["config"].is_object() && c["config"].contains("layers") &&
      c["config"]["layers"].is_array()) {
    for (auto& l : c["config"]["layers"]) l = legacy_model_config(l);
  }
  return c;
}

// Keras 3's legacy_h5_format.save_weights_to_hdf5_group: layer_names (every layer of
// model.layers, in order), backend and keras_version attributes; one group per layer,
// created in name order, with weight_names (the variables' paths) and a dataset at each
// path; and an empty top_level_model_weights group.
void write_legacy_weights(const Model& model, const h5::Group& g) {
  std::vector<std::shared_ptr<Layer>> layers;
  const bool sequential = model.graph().class_name() == "Sequential";
  for (const auto& l : model.layers()) {
    // Keras's Sequential.layers leaves out its InputLayer; Functional.layers has them.
    if (sequential && dynamic_cast<const graph::InputLayer*>(l.get())) continue;
    if (dynamic_cast<const layers::detail::KerasOpLayer*>(l.get())) continue;
    layers.push_back(l);
  }
  std::vector<std::string> names;
  for (const auto& l : layers) names.push_back(l->name());
  g.set_string_list_attribute("layer_names", names);
  g.set_string_attribute("backend", kLegacyBackend);
  g.set_string_attribute("keras_version", kKerasVersion);
  std::vector<std::shared_ptr<Layer>> sorted = layers;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a->name() < b->name(); });
  for (const auto& l : sorted) {
    const h5::Group lg = g.create_group(l->name());
    const auto ws = saving_order(*l);
    std::vector<std::string> weight_names;
    for (const auto& w : ws) {
      // A unique path per weight under the layer's group: the variable's path, or
      // "<layer>/<name>" for a variable without one.
      std::string path = w.path().empty() ? l->name() + "/" + w.name() : w.path();
      if (std::find(weight_names.begin(), weight_names.end(), path) != weight_names.end()) {
        path += "_" + std::to_string(weight_names.size());
      }
      weight_names.push_back(path);
    }
    lg.set_string_list_attribute("weight_names", weight_names);
    for (std::size_t k = 0; k < ws.size(); ++k) {
      auto parts = split_path(weight_names[k]);
      h5::Group cur = lg;
      for (std::size_t i = 0; i + 1 < parts.size(); ++i) cur = cur.create_group(parts[i]);
      cur.write_dataset(parts.back(), ws[k].value());
    }
  }
  g.create_group("top_level_model_weights").set_string_list_attribute("weight_names", {});
}

// Keras 3's legacy_h5_format.save_model_to_hdf5 (model.save("m.h5")): root attributes
// keras_version, backend, model_config (legacy form) and, for a compiled model,
// training_config (the compile config without its optimizer, plus optimizer_config
// {class_name, config}); the weights in model_weights. The optimizer's slots
// (optimizer_weights) are not written: a loaded model's optimizer starts fresh.
void write_legacy_h5(const Model& model, const std::string& path) {
  const Config model_config_json = legacy_model_config(model_config(model));
  Config training;
  if (model.compiled()) {
    Config compile = detail::compile_config(model);
    Config optimizer = compile.contains("optimizer") ? compile["optimizer"] : Config();
    compile.erase("optimizer");
    compile["optimizer_config"] = {
        {"class_name", optimizer.is_object() ? optimizer.value("class_name", "") : ""},
        {"config",
         optimizer.is_object() ? optimizer.value("config", Config::object()) : Config::object()}};
    training = compile;
  }
  write_atomically(path, [&](const std::string& tmp) {
    h5::File f = h5::File::create(tmp);
    const h5::Group& root = f.root();
    root.set_string_attribute("backend", kLegacyBackend);
    root.set_string_attribute("keras_version", kKerasVersion);
    root.set_string_attribute("model_config", model_config_json.dump());
    if (!training.is_null()) root.set_string_attribute("training_config", training.dump());
    write_legacy_weights(model, root.create_group("model_weights"));
    f.flush();
  });
}

}  // namespace

void save_model(const Model& model, const std::string& path) {
  if (ends_with(path, ".h5") || ends_with(path, ".hdf5")) {
    if (ends_with(path, ".weights.h5")) {
      throw Error(
          "save_model: \"{}\" names a weights file; use save_weights for \".weights.h5\", or "
          "\".keras\" / \".h5\" for a whole model",
          path);
    }
    write_legacy_h5(model, path);
    return;
  }
  if (!ends_with(path, ".keras")) {
    throw Error(
        "save_model: plexus writes Keras 3's \".keras\" archive or Keras's legacy \".h5\" "
        "file; the filename must end in \".keras\" or \".h5\", received \"{}\"",
        path);
  }
  Config metadata = {{"keras_version", kKerasVersion}, {"date_saved", now_string()}};
  Config full = model_config(model);
  full["compile_config"] = detail::compile_config(model);
  const std::string config = full.dump();
  write_atomically(path, [&](const std::string& tmp) {
    // The weights go through a file of their own (HDF5 writes files, not memory), beside
    // the temporary archive, removed whatever happens.
    const std::string weights = tmp + ".weights.h5";
    struct Remove {
      const std::string& p;
      ~Remove() { std::remove(p.c_str()); }
    } remove_weights{weights};
    write_weights_file(model, weights, true);
    zip::write(tmp, {{"metadata.json", metadata.dump()},
                     {"config.json", config},
                     {"model.weights.h5", read_whole_file(weights)}});
  });
}

Model load_model(const std::string& path, LoadOptions options) {
  if (detail::is_onnx_path(path)) return detail::load_onnx(path);  // optim/saving/onnx_import.cpp
  if (ends_with(path, ".keras")) {
    const auto entries = zip::read(path, {"config.json", "metadata.json"}, kMaxJsonBytes);
    const std::string* cfg = entries.find("config.json");
    if (!cfg) throw Error("\"{}\" is not a Keras archive: it has no config.json", path);
    const Config config = parse_json(*cfg, "\"" + path + "\" config.json");
    Model m = model_from_config(config);
    with_archive_weights(path, [&](const h5::Group& root) {
      load_keras3_weights(m, root);
      if (options.compile && config.is_object() && config.contains("compile_config")) {
        detail::compile_from_config(m, config["compile_config"]);
        detail::read_optimizer_state(m, root);
      }
    });
    return m;
  }
  if (ends_with(path, ".h5") || ends_with(path, ".hdf5")) {
    h5::File f = h5::File::open(path);
    const h5::Group& root = f.root();
    if (!root.has_attribute("model_config")) {
      throw Error(
          "\"{}\" holds no model (no model_config attribute): load it with "
          "load_weights into a model built in code",
          path);
    }
    const auto text = root.string_attribute("model_config");
    if (text.size() != 1) throw Error("\"{}\": model_config must be one string", path);
    Model m = model_from_config(parse_json(text[0], "\"" + path + "\" model_config"));
    if (!root.has_group("model_weights")) {
      throw Error("\"{}\" has a model_config but no model_weights", path);
    }
    load_legacy_weights(m, root.group("model_weights"));
    // Keras 2's training_config compiles the model; its optimizer_weights (Keras 2's own
    // slot layout and names) are not read: the optimizer starts fresh.
    if (options.compile && root.has_attribute("training_config")) {
      const auto training = root.string_attribute("training_config");
      if (training.size() == 1) {
        detail::compile_from_legacy_config(
            m, parse_json(training[0], "\"" + path + "\" training_config"));
      }
    }
    return m;
  }
  throw Error("load_model: unknown file type \"{}\" (expected .keras, .h5 or .onnx)", path);
}

}  // namespace plexus::saving

namespace plexus {
void Model::save(const std::string& path) const { saving::save_model(*this, path); }
void Model::save_weights(const std::string& path) const { saving::save_weights(*this, path); }
void Model::load_weights(const std::string& path) { saving::load_weights(*this, path); }
std::string Model::to_json() const { return saving::to_json(*this); }
}  // namespace plexus
