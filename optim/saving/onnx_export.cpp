// px::export_model(model, "m.onnx", kw::format = "onnx"): one ONNX graph (opset 17) from
// a model's layer calls, read through each layer's public class, config and weights.
#include <fmt/format.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/file_io.hpp"
#include "core/json.hpp"
#include "graph/functional.hpp"
#include "graph/input_layer.hpp"
#include "layers/attention.hpp"
#include "optim/saving/detail/onnx.hpp"
#include "optim/saving/onnx.hpp"

namespace plexus {

namespace {

using onnx_detail::add_attr;
using onnx_detail::OnnxGraph;

// What the exporter knows about a layer while it writes its nodes.
struct LayerView {
  const Layer& layer;
  Config config;
  std::map<std::string, Tensor> weights;  // by variable name ("kernel")
  std::string cls;

  explicit LayerView(const Layer& l) : layer(l), config(l.get_config()), cls(l.class_name()) {
    for (const Variable& v : l.weights()) weights[v.name()] = v.value();
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw Error("export_model: layer \"{}\" ({}) cannot be exported to ONNX: {}", layer.name(), cls,
                why);
  }
  const Tensor& weight(const std::string& name) const {
    auto it = weights.find(name);
    if (it == weights.end()) fail(fmt::format("it has no weight \"{}\"", name));
    return it->second;
  }
  bool has_weight(const std::string& name) const { return weights.count(name) > 0; }
  template <typename T>
  T get(const char* key, T fallback) const {
    auto it = config.find(key);
    if (it == config.end() || it->is_null()) return fallback;
    return it->template get<T>();
  }
  std::vector<std::int64_t> ints(const char* key, std::size_t rank) const {
    auto it = config.find(key);
    if (it == config.end() || it->is_null()) fail(fmt::format("its config has no \"{}\"", key));
    std::vector<std::int64_t> v;
    if (it->is_array()) {
      for (auto& e : *it) v.push_back(e.get<std::int64_t>());
    } else {
      v.assign(rank, it->get<std::int64_t>());
    }
    if (v.size() != rank)
      fail(fmt::format("\"{}\" has {} values, expected {}", key, v.size(), rank));
    return v;
  }
  std::string activation(const char* key = "activation") const {
    auto it = config.find(key);
    if (it == config.end() || it->is_null()) return "linear";
    if (it->is_string()) return it->get<std::string>();
    if (it->is_object() && it->contains("config") && (*it)["config"].is_string())
      return (*it)["config"].get<std::string>();
    fail(fmt::format("its {} is not a built-in activation", key));
  }
};

std::int64_t positive_axis(std::int64_t axis, std::size_t rank) {
  return axis < 0 ? axis + static_cast<std::int64_t>(rank) : axis;
}

// Keras's activation by name on `x`.
std::string activation(OnnxGraph& g, const LayerView& v, const std::string& name,
                       const std::string& x) {
  if (name == "linear" || name.empty()) return x;
  if (name == "relu") return g.op("Relu", {x});
  if (name == "sigmoid") return g.op("Sigmoid", {x});
  if (name == "tanh") return g.op("Tanh", {x});
  if (name == "softmax") return g.op("Softmax", {x}, {add_attr("axis", std::int64_t(-1))});
  if (name == "log_softmax") return g.op("LogSoftmax", {x}, {add_attr("axis", std::int64_t(-1))});
  if (name == "elu") return g.op("Elu", {x}, {add_attr("alpha", 1.0f)});
  if (name == "selu") return g.op("Selu", {x});
  if (name == "softplus") return g.op("Softplus", {x});
  if (name == "softsign") return g.op("Softsign", {x});
  if (name == "exponential") return g.op("Exp", {x});
  if (name == "relu6") return g.op("Clip", {x, g.scalar(0.0f), g.scalar(6.0f)});
  if (name == "leaky_relu") return g.op("LeakyRelu", {x}, {add_attr("alpha", 0.2f)});
  // Keras 3: hard_sigmoid(x) = relu6(x + 3) / 6.
  if (name == "hard_sigmoid")
    return g.op("HardSigmoid", {x}, {add_attr("alpha", 1.0f / 6.0f), add_attr("beta", 0.5f)});
  if (name == "hard_silu" || name == "hard_swish")
    return g.op("Mul", {x, g.op("HardSigmoid", {x},
                                {add_attr("alpha", 1.0f / 6.0f), add_attr("beta", 0.5f)})});
  if (name == "swish" || name == "silu") return g.op("Mul", {x, g.op("Sigmoid", {x})});
  if (name == "mish") return g.op("Mul", {x, g.op("Tanh", {g.op("Softplus", {x})})});
  if (name == "gelu") {  // Keras's default: the exact form, 0.5 x (1 + erf(x / sqrt(2)))
    auto e = g.op("Erf", {g.op("Mul", {x, g.scalar(float(1.0 / std::sqrt(2.0)))})});
    return g.op("Mul", {g.op("Mul", {x, g.scalar(0.5f)}), g.op("Add", {e, g.scalar(1.0f)})});
  }
  v.fail(fmt::format("activation \"{}\" has no ONNX form here", name));
}

// Moves the channels of a channels_last tensor of `rank` spatial dims to axis 1, and back.
std::vector<std::int64_t> to_channels_first(std::size_t spatial) {
  std::vector<std::int64_t> p{0, static_cast<std::int64_t>(spatial) + 1};
  for (std::size_t i = 1; i <= spatial; ++i) p.push_back(static_cast<std::int64_t>(i));
  return p;
}
std::vector<std::int64_t> to_channels_last(std::size_t spatial) {
  std::vector<std::int64_t> p{0};
  for (std::size_t i = 2; i <= spatial + 1; ++i) p.push_back(static_cast<std::int64_t>(i));
  p.push_back(1);
  return p;
}

// Explicit ONNX pads (begin..., end...) for Keras's "valid", "same" and "causal".
std::vector<std::int64_t> keras_pads(const LayerView& v, const std::string& padding,
                                     const Shape& spatial_in, const std::vector<std::int64_t>& k,
                                     const std::vector<std::int64_t>& s,
                                     const std::vector<std::int64_t>& d) {
  const std::size_t n = k.size();
  std::vector<std::int64_t> pads(2 * n, 0);
  if (padding == "valid") return pads;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t eff = (k[i] - 1) * d[i] + 1;
    if (padding == "causal") {
      pads[i] = eff - 1;
      continue;
    }
    if (padding != "same") v.fail(fmt::format("padding \"{}\" is not supported", padding));
    if (spatial_in[i] < 0) v.fail("\"same\" padding needs static spatial sizes");
    const std::int64_t in = spatial_in[i];
    const std::int64_t out = (in + s[i] - 1) / s[i];
    const std::int64_t total = std::max<std::int64_t>((out - 1) * s[i] + eff - in, 0);
    pads[i] = total / 2;
    pads[i + n] = total - total / 2;
  }
  return pads;
}

class Exporter {
 public:
  explicit Exporter(OnnxGraph& g) : g_(g) {}

  // Emits the calls of `f`; `inputs` are the ONNX names of f's inputs. Returns the names of
  // f's outputs.
  std::vector<std::string> emit(const graph::Functional& f,
                                const std::vector<std::string>& inputs) {
    if (inputs.size() != f.inputs().size())
      throw Error("export_model: model \"{}\" takes {} inputs, called with {}", f.name(),
                  f.inputs().size(), inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) names_[f.inputs()[i].node().get()] = inputs[i];
    for (const auto& call : f.calls()) {
      if (dynamic_cast<const graph::InputLayer*>(call->layer.get())) continue;
      std::vector<std::string> in;
      std::vector<Shape> in_shapes;
      for (const auto& t : call->inputs) {
        in.push_back(name_of(t.node().get(), *call->layer));
        in_shapes.push_back(t.shape());
      }
      std::vector<Shape> out_shapes;
      for (const auto& n : call->outputs) out_shapes.push_back(n->shape);
      std::vector<std::string> out;
      if (const auto* inner = dynamic_cast<const graph::Functional*>(call->layer.get())) {
        Exporter sub(g_);
        out = sub.emit(*inner, in);
      } else {
        if (const auto* att = dynamic_cast<const layers::AttentionLayerBase*>(call->layer.get())) {
          const auto rec = att->call_record(call->outputs.at(0).get());
          if (rec.attention_mask || rec.use_causal_mask || rec.return_attention_scores)
            throw Error(
                "export_model: layer \"{}\" ({}) cannot be exported to ONNX: attention "
                "masks and returned scores are not supported",
                call->layer->name(), call->layer->class_name());
        }
        out = layer(*call->layer, in, in_shapes, out_shapes);
      }
      if (out.size() != call->outputs.size())
        throw Error("export_model: layer \"{}\" gave {} ONNX outputs for {} outputs",
                    call->layer->name(), out.size(), call->outputs.size());
      for (std::size_t i = 0; i < out.size(); ++i) names_[call->outputs[i].get()] = out[i];
    }
    std::vector<std::string> result;
    for (const auto& t : f.outputs()) result.push_back(name_of(t.node().get(), f));
    return result;
  }

 private:
  OnnxGraph& g_;
  std::map<const Node*, std::string> names_;

  std::string name_of(const Node* n, const Layer& user) {
    auto it = names_.find(n);
    if (it == names_.end())
      throw Error("export_model: layer \"{}\" reads a tensor made outside its model's layers",
                  user.name());
    return it->second;
  }

  std::vector<std::string> layer(const Layer& l, const std::vector<std::string>& in,
                                 const std::vector<Shape>& in_shapes,
                                 const std::vector<Shape>& out_shapes) {
    LayerView v(l);
    const std::string& c = v.cls;
    const std::string x = in.at(0);
    const Shape& xs = in_shapes.at(0);
    auto one = [](std::string s) { return std::vector<std::string>{std::move(s)}; };

    if (c == "Dense") {
      std::string y = g_.op("MatMul", {x, g_.init(v.weight("kernel"))});
      if (v.has_weight("bias")) y = g_.op("Add", {y, g_.init(v.weight("bias"))});
      return one(activation(g_, v, v.activation(), y));
    }
    if (c == "Activation") return one(activation(g_, v, v.activation(), x));
    if (c == "ReLU") {
      const float slope = v.get<float>("negative_slope", 0.0f);
      const float threshold = v.get<float>("threshold", 0.0f);
      if (slope != 0.0f || threshold != 0.0f) v.fail("negative_slope/threshold are not supported");
      auto max_value = v.config.find("max_value");
      if (max_value != v.config.end() && !max_value->is_null())
        return one(g_.op("Clip", {x, g_.scalar(0.0f), g_.scalar(max_value->get<float>())}));
      return one(g_.op("Relu", {x}));
    }
    if (c == "LeakyReLU")
      return one(
          g_.op("LeakyRelu", {x}, {add_attr("alpha", v.get<float>("negative_slope", 0.3f))}));
    if (c == "ELU") return one(g_.op("Elu", {x}, {add_attr("alpha", v.get<float>("alpha", 1.0f))}));
    if (c == "PReLU") return one(g_.op("PRelu", {x, g_.init(v.weight("alpha"))}));
    if (c == "Softmax") {
      auto ax = v.config.find("axis");
      std::int64_t axis = -1;
      if (ax != v.config.end() && ax->is_number_integer()) axis = ax->get<std::int64_t>();
      if (ax != v.config.end() && ax->is_array()) {
        if (ax->size() != 1) v.fail("softmax over several axes");
        axis = (*ax)[0].get<std::int64_t>();
      }
      return one(g_.op("Softmax", {x}, {add_attr("axis", axis)}));
    }
    if (c == "Dropout" || c == "SpatialDropout1D" || c == "SpatialDropout2D" ||
        c == "SpatialDropout3D" || c == "GaussianNoise" || c == "GaussianDropout" ||
        c == "AlphaDropout" || c == "ActivityRegularization" || c == "Identity")
      return one(g_.op("Identity", {x}));
    if (c == "Rescaling") {
      const auto scale = v.config.at("scale");
      const auto offset = v.config.at("offset");
      if (!scale.is_number() || !offset.is_number()) v.fail("per-channel scale/offset");
      return one(g_.op("Add", {g_.op("Mul", {x, g_.scalar(scale.get<float>())}),
                               g_.scalar(offset.get<float>())}));
    }
    if (c == "Flatten") {
      std::string y = x;
      if (xs.size() > 2 && v.get<std::string>("data_format", "channels_last") == "channels_first") {
        std::vector<std::int64_t> perm{0};
        for (std::size_t i = 2; i < xs.size(); ++i) perm.push_back(std::int64_t(i));
        perm.push_back(1);
        y = g_.op("Transpose", {y}, {add_attr("perm", perm)});
      }
      return one(g_.op("Flatten", {y}, {add_attr("axis", std::int64_t(1))}));
    }
    if (c == "Reshape") return one(reshape(v, x, out_shapes.at(0)));
    if (c == "Permute") {
      std::vector<std::int64_t> perm{0};
      for (auto d : v.config.at("dims")) perm.push_back(d.get<std::int64_t>());
      return one(g_.op("Transpose", {x}, {add_attr("perm", perm)}));
    }
    if (c == "RepeatVector") {
      const auto n = v.get<std::int64_t>("n", 1);
      auto u = g_.op("Unsqueeze", {x, g_.ints({1})});
      return one(g_.op("Tile", {u, g_.ints({1, n, 1})}));
    }
    if (c == "Add" || c == "Multiply" || c == "Maximum" || c == "Minimum" || c == "Subtract" ||
        c == "Average") {
      const char* op = c == "Add" || c == "Average" ? "Add"
                       : c == "Multiply"            ? "Mul"
                       : c == "Maximum"             ? "Max"
                       : c == "Minimum"             ? "Min"
                                                    : "Sub";
      if (c == "Maximum" || c == "Minimum") return one(g_.op(op, in));
      std::string y = in[0];
      for (std::size_t i = 1; i < in.size(); ++i) y = g_.op(op, {y, in[i]});
      if (c == "Average") y = g_.op("Mul", {y, g_.scalar(1.0f / float(in.size()))});
      return one(y);
    }
    if (c == "Concatenate")
      return one(g_.op("Concat", in, {add_attr("axis", v.get<std::int64_t>("axis", -1))}));
    if (c == "Embedding") {
      auto idx = g_.op("Cast", {x}, {add_attr("to", std::int64_t(onnx::TensorProto::INT64))});
      return one(g_.op("Gather", {g_.init(v.weight("embeddings")), idx}));
    }
    if (c == "BatchNormalization") return one(batch_norm(v, x, xs));
    if (c == "LayerNormalization") return one(layer_norm(v, x, xs));
    if (c == "Conv1D" || c == "Conv2D" || c == "Conv3D" || c == "DepthwiseConv1D" ||
        c == "DepthwiseConv2D" || c == "SeparableConv1D" || c == "SeparableConv2D")
      return one(conv(v, x, xs));
    if (c == "MaxPooling1D" || c == "MaxPooling2D" || c == "MaxPooling3D" ||
        c == "AveragePooling1D" || c == "AveragePooling2D" || c == "AveragePooling3D")
      return one(pool(v, x, xs));
    if (c.rfind("GlobalAveragePooling", 0) == 0 || c.rfind("GlobalMaxPooling", 0) == 0) {
      const bool first = v.get<std::string>("data_format", "channels_last") == "channels_first";
      std::vector<std::int64_t> axes;
      for (std::size_t i = 1; i + 1 < xs.size(); ++i)
        axes.push_back(std::int64_t(first ? i + 1 : i));
      const bool avg = c.rfind("GlobalAverage", 0) == 0;
      const auto keepdims = add_attr("keepdims", std::int64_t(v.get<bool>("keepdims", false)));
      return one(g_.op(avg ? "ReduceMean" : "ReduceMax", {x}, {add_attr("axes", axes), keepdims}));
    }
    if (c == "ZeroPadding1D" || c == "ZeroPadding2D" || c == "ZeroPadding3D")
      return one(zero_pad(v, x, xs));
    if (c == "SimpleRNN" || c == "LSTM" || c == "GRU") return rnn(v, x, xs);
    if (c == "MultiHeadAttention") return one(attention(v, in, in_shapes));
    v.fail("plexus has no ONNX form for this layer class");
  }

  // Keras's MultiHeadAttention without masks: per-head projections (EinsumDense kernels
  // (dim, heads, key_dim) flattened to matrices), scaled dot products, softmax, output
  // projection.
  std::string attention(const LayerView& v, const std::vector<std::string>& in,
                        const std::vector<Shape>& shapes) {
    if (in.size() < 2 || in.size() > 3) v.fail("it is called on query, value[, key] only");
    for (const auto& s : shapes)
      if (s.size() != 3) v.fail("only (batch, sequence, features) inputs are supported");
    std::map<std::string, Tensor> w;
    for (const Variable& var : v.layer.weights()) {
      const std::string& p = var.path();
      const auto slash = p.rfind('/');
      const auto slash2 = slash == std::string::npos ? slash : p.rfind('/', slash - 1);
      w[slash2 == std::string::npos ? p : p.substr(slash2 + 1)] = var.value();
    }
    auto get = [&](const std::string& k) -> const Tensor* {
      auto it = w.find(k);
      return it == w.end() ? nullptr : &it->second;
    };
    for (const char* k : {"query/kernel", "key/kernel", "value/kernel", "attention_output/kernel"})
      if (!get(k)) v.fail(fmt::format("it has no weight \"{}\"", k));
    const auto heads = std::int64_t(get("query/kernel")->shape()[1]);
    const auto key_dim = std::int64_t(get("query/kernel")->shape()[2]);
    const auto value_dim = std::int64_t(get("value/kernel")->shape()[2]);
    auto project = [&](const std::string& x, const std::string& name, std::int64_t per_head) {
      Tensor k = *get(name + "/kernel");
      k.reshape({k.shape()[0], k.shape()[1] * k.shape()[2]});
      std::string y = g_.op("MatMul", {x, g_.init(k)});
      if (const Tensor* b = get(name + "/bias")) {
        Tensor bf = *b;
        bf.reshape({bf.size()});
        y = g_.op("Add", {y, g_.init(bf)});
      }
      return g_.op("Reshape", {y, g_.ints({0, 0, heads, per_head})});  // (B, T, H, d)
    };
    const std::string& query = in[0];
    const std::string& value = in[1];
    const std::string& key = in.size() == 3 ? in[2] : in[1];
    auto q = g_.op("Transpose", {project(query, "query", key_dim)},
                   {add_attr("perm", std::vector<std::int64_t>{0, 2, 1, 3})});
    q = g_.op("Mul", {q, g_.scalar(float(1.0 / std::sqrt(double(key_dim))))});
    auto k = g_.op("Transpose", {project(key, "key", key_dim)},
                   {add_attr("perm", std::vector<std::int64_t>{0, 2, 3, 1})});
    auto val = g_.op("Transpose", {project(value, "value", value_dim)},
                     {add_attr("perm", std::vector<std::int64_t>{0, 2, 1, 3})});
    auto probs = g_.op("Softmax", {g_.op("MatMul", {q, k})}, {add_attr("axis", std::int64_t(-1))});
    auto o = g_.op("Transpose", {g_.op("MatMul", {probs, val})},
                   {add_attr("perm", std::vector<std::int64_t>{0, 2, 1, 3})});
    o = g_.op("Reshape", {o, g_.ints({0, 0, heads * value_dim})});
    Tensor ko = *get("attention_output/kernel");
    const std::size_t rows = ko.shape()[0] * ko.shape()[1];
    ko.reshape({rows, ko.size() / rows});
    std::string y = g_.op("MatMul", {o, g_.init(ko)});
    if (const Tensor* b = get("attention_output/bias")) {
      Tensor bf = *b;
      bf.reshape({bf.size()});
      y = g_.op("Add", {y, g_.init(bf)});
    }
    return y;
  }

  std::string reshape(const LayerView& v, const std::string& x, const Shape& out) {
    std::vector<std::int64_t> shape{-1};
    for (std::size_t i = 1; i < out.size(); ++i) {
      if (out[i] < 0) v.fail("the target shape is not static");
      shape.push_back(out[i]);
    }
    return g_.op("Reshape", {x, g_.ints(shape)});
  }

  std::string batch_norm(const LayerView& v, const std::string& x, const Shape& xs) {
    // Inference form folded into a scale and a shift along the axis.
    std::int64_t axis = -1;
    auto ax = v.config.find("axis");
    if (ax != v.config.end()) {
      if (ax->is_array()) {
        if (ax->size() != 1) v.fail("normalization over several axes");
        axis = (*ax)[0].get<std::int64_t>();
      } else {
        axis = ax->get<std::int64_t>();
      }
    }
    axis = positive_axis(axis, xs.size());
    const float eps = v.get<float>("epsilon", 1e-3f);
    const Tensor& mean = v.weight("moving_mean");
    const Tensor& var = v.weight("moving_variance");
    const std::size_t n = mean.size();
    Tensor scale = xt::ones<float>({n});
    Tensor shift = xt::zeros<float>({n});
    for (std::size_t i = 0; i < n; ++i) {
      const float gamma = v.has_weight("gamma") ? v.weight("gamma")(i) : 1.0f;
      const float beta = v.has_weight("beta") ? v.weight("beta")(i) : 0.0f;
      const float s = gamma / std::sqrt(var(i) + eps);
      scale(i) = s;
      shift(i) = beta - mean(i) * s;
    }
    std::vector<std::size_t> bshape{n};
    for (std::size_t i = std::size_t(axis) + 1; i < xs.size(); ++i) bshape.push_back(1);
    scale.reshape(bshape);
    shift.reshape(bshape);
    return g_.op("Add", {g_.op("Mul", {x, g_.init(scale)}), g_.init(shift)});
  }

  std::string layer_norm(const LayerView& v, const std::string& x, const Shape& xs) {
    std::vector<std::int64_t> axes;
    auto ax = v.config.find("axis");
    if (ax == v.config.end() || ax->is_null()) {
      axes.push_back(std::int64_t(xs.size()) - 1);
    } else if (ax->is_array()) {
      for (auto& a : *ax) axes.push_back(positive_axis(a.get<std::int64_t>(), xs.size()));
    } else {
      axes.push_back(positive_axis(ax->get<std::int64_t>(), xs.size()));
    }
    std::sort(axes.begin(), axes.end());
    for (std::size_t i = 0; i < axes.size(); ++i)
      if (axes[i] != std::int64_t(xs.size() - axes.size() + i))
        v.fail("normalization axes that are not the trailing axes");
    if (v.get<bool>("rms_scaling", false)) v.fail("rms_scaling");
    std::vector<std::size_t> pshape;
    for (auto a : axes) pshape.push_back(std::size_t(xs[std::size_t(a)]));
    Tensor gamma = v.has_weight("gamma") ? v.weight("gamma") : Tensor(xt::ones<float>(pshape));
    Tensor beta = v.has_weight("beta") ? v.weight("beta") : Tensor(xt::zeros<float>(pshape));
    gamma.reshape(pshape);
    beta.reshape(pshape);
    return g_.op(
        "LayerNormalization", {x, g_.init(gamma), g_.init(beta)},
        {add_attr("axis", axes.front()), add_attr("epsilon", v.get<float>("epsilon", 1e-3f))});
  }

  std::string conv(const LayerView& v, const std::string& x, const Shape& xs) {
    const std::string& c = v.cls;
    const std::size_t n = xs.size() - 2;
    const bool first = v.get<std::string>("data_format", "channels_last") == "channels_first";
    const auto k = v.ints("kernel_size", n);
    const auto s = v.ints("strides", n);
    const auto d = v.ints("dilation_rate", n);
    Shape spatial;
    for (std::size_t i = 0; i < n; ++i) spatial.push_back(xs[first ? i + 2 : i + 1]);
    const auto pads = keras_pads(v, v.get<std::string>("padding", "valid"), spatial, k, s, d);
    const Dim cin = first ? xs[1] : xs.back();
    std::string y = first ? x : g_.op("Transpose", {x}, {add_attr("perm", to_channels_first(n))});
    // Keras kernels are (k..., in, out); ONNX's are (out, in, k...).
    std::vector<std::size_t> perm{n + 1, n};
    for (std::size_t i = 0; i < n; ++i) perm.push_back(i);
    auto conv_node = [&](const Tensor& w, std::int64_t group, const std::vector<std::int64_t>& p,
                         const std::vector<std::int64_t>& strides,
                         const std::vector<std::int64_t>& dil, const std::string& in,
                         const Tensor* bias) {
      Tensor wt = xt::transpose(w, perm);
      std::vector<std::string> args{in, g_.init(wt)};
      if (bias) args.push_back(g_.init(*bias));
      std::vector<std::int64_t> ks(wt.shape().begin() + 2, wt.shape().end());
      return g_.op("Conv", args,
                   {add_attr("kernel_shape", ks), add_attr("strides", strides),
                    add_attr("dilations", dil), add_attr("pads", p), add_attr("group", group)});
    };
    const Tensor* bias = v.has_weight("bias") ? &v.weight("bias") : nullptr;
    if (c == "Conv1D" || c == "Conv2D" || c == "Conv3D") {
      y = conv_node(v.weight("kernel"), v.get<std::int64_t>("groups", 1), pads, s, d, y, bias);
    } else {
      // Depthwise kernels are (k..., in, multiplier): ONNX's (in * multiplier, 1, k...),
      // grouped by input channel (output channel c * multiplier + m, as Keras orders them).
      Tensor dw = v.weight(c.rfind("Depthwise", 0) == 0 ? "kernel" : "depthwise_kernel");
      const auto mult = dw.shape()[n + 1];
      std::vector<std::size_t> ds(dw.shape().begin(), dw.shape().begin() + std::ptrdiff_t(n));
      ds.push_back(1);
      ds.push_back(std::size_t(cin) * mult);
      dw.reshape(ds);
      const bool separable = c.rfind("Separable", 0) == 0;
      y = conv_node(dw, cin, pads, s, d, y, separable ? nullptr : bias);
      if (separable) {
        std::vector<std::int64_t> ones(n, 1), zeros(2 * n, 0);
        y = conv_node(v.weight("pointwise_kernel"), 1, zeros, ones, ones, y, bias);
      }
    }
    if (!first) y = g_.op("Transpose", {y}, {add_attr("perm", to_channels_last(n))});
    return activation(g_, v, v.activation(), y);
  }

  std::string pool(const LayerView& v, const std::string& x, const Shape& xs) {
    const std::size_t n = xs.size() - 2;
    const bool first = v.get<std::string>("data_format", "channels_last") == "channels_first";
    const auto k = v.ints("pool_size", n);
    auto st = v.config.find("strides");
    const auto s = st == v.config.end() || st->is_null() ? k : v.ints("strides", n);
    Shape spatial;
    for (std::size_t i = 0; i < n; ++i) spatial.push_back(xs[first ? i + 2 : i + 1]);
    const auto pads = keras_pads(v, v.get<std::string>("padding", "valid"), spatial, k, s,
                                 std::vector<std::int64_t>(n, 1));
    std::string y = first ? x : g_.op("Transpose", {x}, {add_attr("perm", to_channels_first(n))});
    const bool max = v.cls.rfind("Max", 0) == 0;
    std::vector<onnx::AttributeProto> attrs{add_attr("kernel_shape", k), add_attr("strides", s),
                                            add_attr("pads", pads)};
    // Keras averages over the window's valid elements only.
    if (!max) attrs.push_back(add_attr("count_include_pad", std::int64_t(0)));
    y = g_.op(max ? "MaxPool" : "AveragePool", {y}, attrs);
    if (!first) y = g_.op("Transpose", {y}, {add_attr("perm", to_channels_last(n))});
    return y;
  }

  std::string zero_pad(const LayerView& v, const std::string& x, const Shape& xs) {
    const std::size_t n = xs.size() - 2;
    const bool first = v.get<std::string>("data_format", "channels_last") == "channels_first";
    std::vector<std::int64_t> begin(xs.size(), 0), end(xs.size(), 0);
    const Config& p = v.config.at("padding");
    for (std::size_t i = 0; i < n; ++i) {
      std::int64_t a = 0, b = 0;
      if (p.is_number()) {
        a = b = p.get<std::int64_t>();
      } else if (p[i].is_array()) {
        a = p[i][0].get<std::int64_t>();
        b = p[i][1].get<std::int64_t>();
      } else if (n == 1 && p.size() == 2) {
        a = p[0].get<std::int64_t>();
        b = p[1].get<std::int64_t>();
      } else {
        a = b = p[i].get<std::int64_t>();
      }
      const std::size_t axis = first ? i + 2 : i + 1;
      begin[axis] = a;
      end[axis] = b;
    }
    begin.insert(begin.end(), end.begin(), end.end());
    return g_.op("Pad", {x, g_.ints(begin)});
  }

  // Keras's SimpleRNN/LSTM/GRU as ONNX's RNN/LSTM/GRU (batch-major tensors moved to ONNX's
  // time-major layout around the op).
  std::vector<std::string> rnn(const LayerView& v, const std::string& x, const Shape& xs) {
    const std::string& c = v.cls;
    if (v.get<bool>("stateful", false)) v.fail("stateful recurrent layers");
    const bool seqs = v.get<bool>("return_sequences", false);
    const bool states = v.get<bool>("return_state", false);
    const bool backwards = v.get<bool>("go_backwards", false);
    if (backwards && seqs) v.fail("go_backwards with return_sequences");
    const Tensor& k = v.weight("kernel");
    const Tensor& rk = v.weight("recurrent_kernel");
    const std::size_t units = rk.shape()[0];
    const std::size_t gates = c == "LSTM" ? 4 : c == "GRU" ? 3 : 1;
    // Keras's gate order -> ONNX's: LSTM i f c o -> i o f c; GRU z r h -> z r h.
    std::vector<std::size_t> order(gates);
    for (std::size_t i = 0; i < gates; ++i) order[i] = i;
    if (c == "LSTM") order = {0, 3, 1, 2};
    auto reorder = [&](const Tensor& w) {  // (in, gates*units) -> (1, gates*units, in)
      const std::size_t in = w.shape()[0];
      Tensor out = xt::zeros<float>({std::size_t(1), gates * units, in});
      for (std::size_t gi = 0; gi < gates; ++gi)
        for (std::size_t u = 0; u < units; ++u)
          for (std::size_t j = 0; j < in; ++j)
            out(0, gi * units + u, j) = w(j, order[gi] * units + u);
      return out;
    };
    Tensor bias = xt::zeros<float>({std::size_t(1), 2 * gates * units});
    bool linear_before_reset = false;
    if (v.has_weight("bias")) {
      const Tensor& b = v.weight("bias");
      const bool two_rows = b.dimension() == 2;  // GRU reset_after: (2, 3 units)
      if (c == "GRU") linear_before_reset = v.get<bool>("reset_after", true);
      for (std::size_t gi = 0; gi < gates; ++gi)
        for (std::size_t u = 0; u < units; ++u) {
          const std::size_t src = order[gi] * units + u;
          bias(0, gi * units + u) = two_rows ? b(0, src) : b(src);
          if (two_rows) bias(0, (gates + gi) * units + u) = b(1, src);
        }
    } else if (c == "GRU") {
      linear_before_reset = v.get<bool>("reset_after", true);
    }
    auto act_name = [&](const std::string& a) -> std::string {
      if (a == "tanh") return "Tanh";
      if (a == "sigmoid") return "Sigmoid";
      if (a == "relu") return "Relu";
      v.fail(fmt::format("recurrent activation \"{}\" has no ONNX RNN form", a));
    };
    std::vector<std::string> acts;
    if (c != "SimpleRNN") acts.push_back(act_name(v.activation("recurrent_activation")));
    acts.push_back(act_name(v.activation()));
    if (c == "LSTM") acts.push_back(acts.back());
    auto xt_major = g_.op("Transpose", {x}, {add_attr("perm", std::vector<std::int64_t>{1, 0, 2})});
    const char* op = c == "LSTM" ? "LSTM" : c == "GRU" ? "GRU" : "RNN";
    std::vector<onnx::AttributeProto> attrs{
        add_attr("hidden_size", std::int64_t(units)), add_attr("activations", acts),
        add_attr("direction", std::string(backwards ? "reverse" : "forward"))};
    if (c == "GRU")
      attrs.push_back(add_attr("linear_before_reset", std::int64_t(linear_before_reset)));
    const std::size_t n_out = c == "LSTM" ? 3 : 2;
    auto outs = g_.op_n(op, {xt_major, g_.init(reorder(k)), g_.init(reorder(rk)), g_.init(bias)},
                        n_out, attrs);
    (void)xs;
    std::vector<std::string> result;
    if (seqs) {  // Y (time, 1, batch, units) -> (batch, time, units)
      auto y = g_.op("Squeeze", {outs[0], g_.ints({1})});
      result.push_back(
          g_.op("Transpose", {y}, {add_attr("perm", std::vector<std::int64_t>{1, 0, 2})}));
    } else {
      result.push_back(g_.op("Squeeze", {outs[1], g_.ints({0})}));
    }
    if (states) {
      result.push_back(g_.op("Squeeze", {outs[1], g_.ints({0})}));
      if (c == "LSTM") result.push_back(g_.op("Squeeze", {outs[2], g_.ints({0})}));
    }
    return result;
  }
};

}  // namespace

void export_model(const Model& model, const std::string& path, ExportOptions options) {
  if (options.format != "onnx")
    throw Error("export_model(\"{}\"): format \"{}\" is not supported (plexus exports \"onnx\")",
                path, options.format);
  if (options.opset_version != 17)
    throw Error(
        "export_model(\"{}\"): opset_version {} is not supported: plexus writes opset 17 "
        "(the newest Debian's ONNX 1.12 checker knows)",
        path, options.opset_version);
  onnx::ModelProto proto;
  proto.set_ir_version(8);
  proto.set_producer_name("plexus");
  proto.set_producer_version("0.1");
  auto* opset = proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(options.opset_version);
  auto* graph = proto.mutable_graph();
  graph->set_name(model.name());
  OnnxGraph g(*graph);

  const graph::Functional& f = model.graph();
  std::vector<std::string> inputs;
  for (std::size_t i = 0; i < f.inputs().size(); ++i) {
    const SymbolicTensor& t = f.inputs()[i];
    const std::string name = model.input_names().at(i);
    int type = onnx::TensorProto::FLOAT;
    if (t.dtype() == "int32") type = onnx::TensorProto::INT32;
    if (t.dtype() == "int64") type = onnx::TensorProto::INT64;
    if (t.dtype() == "bool") type = onnx::TensorProto::BOOL;
    onnx_detail::add_value_info(graph->add_input(), name, type, t.shape());
    inputs.push_back(
        type == onnx::TensorProto::FLOAT
            ? name
            : g.op("Cast", {name}, {add_attr("to", std::int64_t(onnx::TensorProto::FLOAT))}));
  }
  Exporter e(g);
  const auto outs = e.emit(f, inputs);
  const auto out_names = model.output_names();
  std::map<std::string, int> used;
  for (std::size_t i = 0; i < outs.size(); ++i) {
    std::string name = out_names.at(i);
    if (used[name]++ > 0) name += fmt::format("_{}", used[name] - 1);
    g.op_named("Identity", {outs[i]}, name);
    onnx_detail::add_value_info(graph->add_output(), name, onnx::TensorProto::FLOAT,
                                f.outputs()[i].shape());
  }
  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception& ex) {
    throw Error("export_model(\"{}\"): the ONNX checker rejects the graph: {}", path, ex.what());
  }
  std::string bytes;
  if (!proto.SerializeToString(&bytes))
    throw Error("export_model(\"{}\"): the model does not serialize ({} bytes of weights?)", path,
                proto.ByteSizeLong());
  ::plexus::detail::write_file_atomic(path, bytes, "export_model");
}

}  // namespace plexus
