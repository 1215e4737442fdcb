// px::models::load_model("m.onnx"): a trainable px::Model built from an ONNX graph's
// operators, with its initializers as the layers' weights. NCHW tensors (PyTorch's layout)
// become channels_first layers; ONNX's time-major recurrent tensors are tracked as a layout
// of plexus's batch-major ones rather than transposed.
#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "layers/registry.hpp"
#include "optim/saving/onnx.hpp"

namespace plexus {

namespace {

constexpr std::size_t kMaxOnnxBytes = std::size_t(2) << 30;  // protobuf's own limit

// A constant: an initializer or a Constant node's value.
struct Constant {
  std::vector<std::int64_t> dims;
  std::vector<float> f;         // float data (also int data as floats)
  std::vector<std::int64_t> i;  // integer data (int32/int64), else empty
  std::size_t size() const {
    std::size_t n = 1;
    for (auto d : dims) n *= std::size_t(d);
    return n;
  }
  Tensor tensor() const {
    std::vector<std::size_t> shape;
    for (auto d : dims) shape.push_back(std::size_t(d));
    Tensor t = xt::zeros<float>(shape);
    std::copy(f.begin(), f.end(), t.data());
    return t;
  }
};

// How an ONNX value's axes relate to the plexus tensor that holds it.
enum class Layout {
  kSame,        // the same axes
  kTimeMajor,   // ONNX (time, batch, ...) held as (batch, time, ...)
  kRnnY,        // ONNX (time, 1, batch, units) held as (batch, time, units)
  kLeadingOne,  // ONNX (1, batch, units) held as (batch, units)
};

struct Value {
  SymbolicTensor t;
  Layout layout = Layout::kSame;
};

class Importer {
 public:
  Importer(const onnx::ModelProto& m, std::string what, std::int64_t max_dim)
      : m_(m), what_(std::move(what)), max_dim_(max_dim) {}

  Model run() {
    const auto& g = m_.graph();
    for (const auto& t : g.initializer()) constants_[t.name()] = read_tensor(t, t.name());
    for (const auto& n : g.node())
      for (const auto& i : n.input()) ++consumers_[i];
    std::vector<SymbolicTensor> inputs;
    for (const auto& in : g.input()) {
      if (constants_.count(in.name())) continue;
      if (!in.type().has_tensor_type()) fail_input(in.name(), "is not a tensor");
      const auto& tt = in.type().tensor_type();
      if (tt.elem_type() != onnx::TensorProto::FLOAT &&
          tt.elem_type() != onnx::TensorProto::INT64 && tt.elem_type() != onnx::TensorProto::INT32)
        fail_input(in.name(), fmt::format("has element type {} (plexus reads float32, int32 and "
                                          "int64 inputs)",
                                          tt.elem_type()));
      Shape shape;
      const auto& dims = tt.shape().dim();
      if (dims.empty()) fail_input(in.name(), "has no batch axis");
      for (int k = 1; k < dims.size(); ++k) {
        const std::int64_t d = dims[k].has_dim_value() ? dims[k].dim_value() : -1;
        if (d == 0 || d < -1 || d > max_dim_)
          fail_input(in.name(), fmt::format("has dimension {} (at most {})", d, max_dim_));
        shape.push_back(Dim(d));
      }
      InputOptions opt;
      opt.name = unique(in.name());
      if (tt.elem_type() != onnx::TensorProto::FLOAT)
        opt.dtype = tt.elem_type() == onnx::TensorProto::INT64 ? "int64" : "int32";
      auto t = Input(shape, opt);
      values_[in.name()] = {t, Layout::kSame};
      inputs.push_back(t);
    }
    if (inputs.empty()) throw Error("load_model(\"{}\"): the ONNX graph has no input", what_);
    for (const auto& n : g.node()) node(n);
    std::vector<SymbolicTensor> outputs;
    for (const auto& out : g.output()) {
      const Value& v = value(out.name(), "the graph's output");
      if (v.layout != Layout::kSame)
        throw Error(
            "load_model(\"{}\"): output \"{}\" is in a time-major layout plexus does not "
            "hold",
            what_, out.name());
      outputs.push_back(v.t);
    }
    if (outputs.empty()) throw Error("load_model(\"{}\"): the ONNX graph has no output", what_);
    std::string name = sanitize(g.name());
    if (name.empty()) name = "onnx_model";
    return Model(inputs, outputs, name);
  }

 private:
  const onnx::ModelProto& m_;
  std::string what_;
  std::int64_t max_dim_;
  std::map<std::string, Constant> constants_;
  std::map<std::string, Value> values_;
  std::map<std::string, int> consumers_;
  std::set<std::string> names_;
  std::set<const onnx::NodeProto*> fused_;
  // Shape arithmetic on the batch size (PyTorch's zero initial states of recurrent layers:
  // Shape -> Gather -> Unsqueeze -> Concat -> ConstantOfShape): integer vectors where
  // kBatch stands for the batch size.
  static constexpr std::int64_t kBatch = std::numeric_limits<std::int64_t>::min();
  std::map<std::string, std::vector<std::int64_t>> shapes_;
  std::set<std::string> zeros_;  // tensors of zeros of a batch-dependent shape

  bool shape_op(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    auto is_shape = [&](int k) { return k < n.input_size() && shapes_.count(n.input(k)); };
    auto ints_of = [&](int k) -> std::vector<std::int64_t> {
      if (is_shape(k)) return shapes_.at(n.input(k));
      return need_constant(n, k, "shape operand").i;
    };
    if (op == "Shape") {
      const Value& v = in(n, 0);
      std::vector<std::int64_t> dims{kBatch};
      for (std::size_t k = 1; k < v.t.rank(); ++k) dims.push_back(v.t.shape()[k]);
      if (v.layout == Layout::kTimeMajor) std::swap(dims[0], dims[1]);
      if (v.layout != Layout::kSame && v.layout != Layout::kTimeMajor)
        fail(n, "the shape of a recurrent layer's raw output is not supported");
      if (std::any_of(dims.begin() + 1, dims.end(), [](auto d) { return d < 0; }))
        fail(n, "the input has dimensions of unknown size besides the batch");
      shapes_[n.output(0)] = dims;
      return true;
    }
    if (op == "Gather" && is_shape(0)) {
      const auto& dims = shapes_.at(n.input(0));
      const Constant& idx = need_constant(n, 1, "index");
      std::vector<std::int64_t> r;
      for (auto i : idx.i) {
        if (i < 0) i += std::int64_t(dims.size());
        if (i < 0 || i >= std::int64_t(dims.size())) fail(n, "index out of range");
        r.push_back(dims[std::size_t(i)]);
      }
      shapes_[n.output(0)] = r;
      return true;
    }
    if ((op == "Unsqueeze" || op == "Squeeze" || op == "Identity" || op == "Cast") && is_shape(0)) {
      shapes_[n.output(0)] = shapes_.at(n.input(0));
      return true;
    }
    if (op == "Concat" && (is_shape(0) || (n.input_size() > 1 && is_shape(1)) ||
                           (n.input_size() > 2 && is_shape(2)))) {
      std::vector<std::int64_t> r;
      for (int k = 0; k < n.input_size(); ++k) {
        const auto v = ints_of(k);
        r.insert(r.end(), v.begin(), v.end());
      }
      shapes_[n.output(0)] = r;
      return true;
    }
    if (op == "ConstantOfShape") {
      const auto dims = ints_of(0);
      const auto* a = attr(n, "value");
      if (a && a->has_t()) {
        const Constant c = read_tensor(a->t(), n.output(0));
        if (c.f.size() != 1 || c.f[0] != 0.0f) fail(n, "only tensors of zeros are supported");
      }
      if (std::find(dims.begin(), dims.end(), kBatch) == dims.end()) {
        Constant c;
        c.dims = dims;
        // A hostile shape must not allocate without bound (found by fuzz_onnx).
        std::int64_t count = 1;
        for (const auto d : dims) {
          if (d < 0 || d > (std::int64_t{1} << 24) ||
              (count *= std::max<std::int64_t>(d, 1)) > (std::int64_t{1} << 26))
            fail(n, "a constant shape out of range");
        }
        c.f.assign(c.size(), 0.0f);
        c.i.assign(c.size(), 0);
        constants_[n.output(0)] = c;
      } else {
        zeros_.insert(n.output(0));
      }
      return true;
    }
    return false;
  }

  [[noreturn]] void fail_input(const std::string& name, const std::string& why) const {
    throw Error("load_model(\"{}\"): ONNX input \"{}\" {}", what_, name, why);
  }
  [[noreturn]] static void fail(const onnx::NodeProto& n, const std::string& why) {
    throw Error("ONNX operator {} (node \"{}\"): {}", n.op_type(), n.name(), why);
  }

  static std::string sanitize(const std::string& s) {
    std::string r;
    for (char c : s) {
      if (std::isalnum(static_cast<unsigned char>(c))) {
        r += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      } else if (!r.empty() && r.back() != '_') {
        r += '_';
      }
    }
    while (!r.empty() && r.back() == '_') r.pop_back();
    return r;
  }
  std::string unique(const std::string& base) {
    std::string b = sanitize(base);
    if (b.empty()) b = "onnx";
    std::string n = b;
    for (int k = 1; names_.count(n); ++k) n = fmt::format("{}_{}", b, k);
    names_.insert(n);
    return n;
  }

  Constant read_tensor(const onnx::TensorProto& t, const std::string& name) const {
    Constant c;
    for (auto d : t.dims()) {
      if (d < 0 || d > (std::int64_t(1) << 32))
        throw Error("load_model(\"{}\"): tensor \"{}\" has dimension {}", what_, name, d);
      c.dims.push_back(d);
    }
    std::size_t n = 1;
    for (auto d : c.dims) {
      if (d != 0 && n > kMaxOnnxBytes / std::size_t(d))
        throw Error("load_model(\"{}\"): tensor \"{}\" is too large", what_, name);
      n *= std::size_t(d);
    }
    if (t.data_location() == onnx::TensorProto::EXTERNAL)
      throw Error(
          "load_model(\"{}\"): tensor \"{}\" is stored in an external file; plexus reads "
          "self-contained ONNX files",
          what_, name);
    auto check = [&](std::size_t got) {
      if (got != n)
        throw Error("load_model(\"{}\"): tensor \"{}\" holds {} values for shape {} ({} values)",
                    what_, name, got, fmt::join(c.dims, "x"), n);
    };
    const std::string& raw = t.raw_data();
    switch (t.data_type()) {
      case onnx::TensorProto::FLOAT:
        if (!raw.empty()) {
          check(raw.size() / 4);
          if (raw.size() % 4) check(std::size_t(-1));
          c.f.resize(n);
          std::memcpy(c.f.data(), raw.data(), n * 4);
        } else {
          check(std::size_t(t.float_data_size()));
          c.f.assign(t.float_data().begin(), t.float_data().end());
        }
        break;
      case onnx::TensorProto::INT64:
        if (!raw.empty()) {
          check(raw.size() / 8);
          if (raw.size() % 8) check(std::size_t(-1));
          c.i.resize(n);
          std::memcpy(c.i.data(), raw.data(), n * 8);
        } else {
          check(std::size_t(t.int64_data_size()));
          c.i.assign(t.int64_data().begin(), t.int64_data().end());
        }
        break;
      case onnx::TensorProto::INT32:
        if (!raw.empty()) {
          check(raw.size() / 4);
          if (raw.size() % 4) check(std::size_t(-1));
          std::vector<std::int32_t> v(n);
          std::memcpy(v.data(), raw.data(), n * 4);
          c.i.assign(v.begin(), v.end());
        } else {
          check(std::size_t(t.int32_data_size()));
          c.i.assign(t.int32_data().begin(), t.int32_data().end());
        }
        break;
      default:
        throw Error(
            "load_model(\"{}\"): tensor \"{}\" has data type {} (plexus reads float32 and "
            "integer constants)",
            what_, name, t.data_type());
    }
    if (c.f.empty() && !c.i.empty()) c.f.assign(c.i.begin(), c.i.end());
    return c;
  }

  const Value& value(const std::string& name, const std::string& user) const {
    auto it = values_.find(name);
    if (it == values_.end())
      throw Error("load_model(\"{}\"): {} reads \"{}\", which no earlier node computes{}", what_,
                  user, name, constants_.count(name) ? " (it is a constant)" : "");
    return it->second;
  }
  const Value& in(const onnx::NodeProto& n, int k) const {
    if (k >= n.input_size() || n.input(k).empty()) fail(n, fmt::format("input {} is missing", k));
    return value(n.input(k), fmt::format("{} node \"{}\"", n.op_type(), n.name()));
  }
  const Constant* constant(const onnx::NodeProto& n, int k) const {
    if (k >= n.input_size() || n.input(k).empty()) return nullptr;
    auto it = constants_.find(n.input(k));
    return it == constants_.end() ? nullptr : &it->second;
  }
  const Constant& need_constant(const onnx::NodeProto& n, int k, const char* what) const {
    const Constant* c = constant(n, k);
    if (!c) fail(n, fmt::format("its {} (input {}) must be a constant", what, k));
    return *c;
  }
  bool present(const onnx::NodeProto& n, int k) const {
    return k < n.input_size() && !n.input(k).empty();
  }
  void set(const onnx::NodeProto& n, int k, SymbolicTensor t, Layout layout = Layout::kSame) {
    if (k >= n.output_size()) return;
    values_[n.output(k)] = {std::move(t), layout};
  }
  void alias(const onnx::NodeProto& n, const Value& v, Layout layout) {
    if (n.output_size() > 0) values_[n.output(0)] = {v.t, layout};
  }
  const Value& same(const onnx::NodeProto& n, int k) const {
    const Value& v = in(n, k);
    if (v.layout != Layout::kSame)
      fail(n,
           "its input is in ONNX's time-major recurrent layout, which this operator does not "
           "take here");
    return v;
  }

  static const onnx::AttributeProto* attr(const onnx::NodeProto& n, const char* name) {
    for (const auto& a : n.attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  static std::int64_t attr_i(const onnx::NodeProto& n, const char* name, std::int64_t fallback) {
    const auto* a = attr(n, name);
    return a ? a->i() : fallback;
  }
  static float attr_f(const onnx::NodeProto& n, const char* name, float fallback) {
    const auto* a = attr(n, name);
    return a ? a->f() : fallback;
  }
  static std::string attr_s(const onnx::NodeProto& n, const char* name, std::string fallback) {
    const auto* a = attr(n, name);
    return a ? a->s() : fallback;
  }
  static std::vector<std::int64_t> attr_ints(const onnx::NodeProto& n, const char* name) {
    const auto* a = attr(n, name);
    if (!a) return {};
    return {a->ints().begin(), a->ints().end()};
  }

  // Makes a layer from a Keras config, calls it and sets its weights.
  SymbolicTensors make(const onnx::NodeProto& n, const std::string& cls, Config config,
                       const std::vector<SymbolicTensor>& xs, const std::vector<Tensor>& w = {}) {
    config["name"] = unique(n.name().empty() ? cls + "_" + n.op_type() : n.name());
    LayerRef layer;
    try {
      layer = layers::deserialize(Config{{"class_name", cls}, {"config", config}});
    } catch (const Error& e) {
      fail(n, fmt::format("cannot make a {} layer: {}", cls, e.what()));
    }
    SymbolicTensors out;
    try {
      // Merges take a list; recurrent layers return their states as a list.
      out = xs.size() == 1 && cls != "Add" && cls != "Multiply" && cls != "Subtract" &&
                    cls != "Concatenate" && cls != "LSTM" && cls != "GRU" && cls != "SimpleRNN"
                ? SymbolicTensors{(*layer)(xs[0])}
                : (*layer)(xs);
    } catch (const Error& e) {
      fail(n, fmt::format("the {} layer does not take its inputs: {}", cls, e.what()));
    }
    if (!w.empty()) {
      try {
        layer->set_weights(w);
      } catch (const Error& e) {
        fail(n, fmt::format("the weights do not fit the {} layer: {}", cls, e.what()));
      }
    }
    return out;
  }
  SymbolicTensor make1(const onnx::NodeProto& n, const std::string& cls, Config config,
                       const std::vector<SymbolicTensor>& xs, const std::vector<Tensor>& w = {}) {
    return make(n, cls, std::move(config), xs, w).at(0);
  }

  std::int64_t axis_of(const onnx::NodeProto& n, std::int64_t axis, std::size_t rank) const {
    const auto r = std::int64_t(rank);
    if (axis < -r || axis >= r) fail(n, fmt::format("axis {} is outside rank {}", axis, rank));
    if (axis < 0) axis += r;
    if (axis == 0) fail(n, "it works along the batch axis, which plexus's layers do not");
    return axis;
  }

  static bool is_scalar(const Constant& c) { return c.size() == 1; }

  void node(const onnx::NodeProto& n) {
    if (fused_.count(&n)) return;
    const std::string& op = n.op_type();
    // Every operator plexus reads has an output: reading output(0) of a node without one
    // would abort inside protobuf (found by fuzz_onnx).
    if (n.output_size() < 1) fail(n, "a node without outputs");
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      fail(n, fmt::format("operators of domain \"{}\" are not supported", n.domain()));
    if (op == "Constant") {
      const auto* a = attr(n, "value");
      if (!a || !a->has_t()) fail(n, "only tensor-valued Constants are supported");
      constants_[n.output(0)] = read_tensor(a->t(), n.output(0));
      return;
    }
    if (shape_op(n)) return;
    if (op == "Identity" || op == "Dropout") {
      if (const Constant* c = constant(n, 0)) {
        constants_[n.output(0)] = *c;
        return;
      }
      const Value& v = in(n, 0);
      alias(n, v, v.layout);
      return;
    }
    // Activations.
    static const std::map<std::string, std::string> acts = {
        {"Relu", "relu"},         {"Sigmoid", "sigmoid"},    {"Tanh", "tanh"},
        {"Softplus", "softplus"}, {"Softsign", "softsign"},  {"Exp", "exponential"},
        {"Selu", "selu"},         {"HardSwish", "hard_silu"}};
    if (auto it = acts.find(op); it != acts.end()) {
      const Value& v = in(n, 0);
      set(n, 0, make1(n, "Activation", {{"activation", it->second}}, {v.t}), v.layout);
      return;
    }
    if (op == "Elu") {
      set(n, 0, make1(n, "ELU", {{"alpha", attr_f(n, "alpha", 1.0f)}}, {same(n, 0).t}));
      return;
    }
    if (op == "LeakyRelu") {
      set(n, 0,
          make1(n, "LeakyReLU", {{"negative_slope", attr_f(n, "alpha", 0.01f)}}, {same(n, 0).t}));
      return;
    }
    if (op == "HardSigmoid") {
      if (std::abs(attr_f(n, "alpha", 0.2f) - 1.0f / 6) > 1e-6f ||
          std::abs(attr_f(n, "beta", 0.5f) - 0.5f) > 1e-6f)
        fail(n, "only alpha = 1/6, beta = 0.5 (Keras's hard_sigmoid) is supported");
      set(n, 0, make1(n, "Activation", {{"activation", "hard_sigmoid"}}, {same(n, 0).t}));
      return;
    }
    if (op == "Clip") {
      const Constant* lo = constant(n, 1);
      const Constant* hi = constant(n, 2);
      if (!lo || !hi || lo->f.at(0) != 0.0f)
        fail(n, "only Clip(0, max) with constant bounds (ReLU with max_value) is supported");
      set(n, 0, make1(n, "ReLU", {{"max_value", hi->f.at(0)}}, {same(n, 0).t}));
      return;
    }
    if (op == "Softmax" || op == "LogSoftmax") {
      const Value& v = same(n, 0);
      const auto axis = axis_of(n, attr_i(n, "axis", -1), v.t.rank());
      if (op == "LogSoftmax") {
        if (axis != std::int64_t(v.t.rank()) - 1) fail(n, "only the last axis is supported");
        set(n, 0, make1(n, "Activation", {{"activation", "log_softmax"}}, {v.t}));
      } else {
        set(n, 0, make1(n, "Softmax", {{"axis", axis}}, {v.t}));
      }
      return;
    }
    if (op == "Gemm") return gemm(n);
    if (op == "MatMul") return matmul(n);
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") return arithmetic(n);
    if (op == "Conv") return conv(n);
    if (op == "MaxPool" || op == "AveragePool") return pool(n);
    if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
      const Value& v = same(n, 0);
      const std::size_t spatial = v.t.rank() - 2;
      if (spatial < 1 || spatial > 3) fail(n, "plexus pools 1 to 3 spatial axes");
      const std::string cls =
          fmt::format("Global{}Pooling{}D", op == "GlobalAveragePool" ? "Average" : "Max", spatial);
      set(n, 0, make1(n, cls, {{"data_format", "channels_first"}, {"keepdims", true}}, {v.t}));
      return;
    }
    if (op == "ReduceMean") {
      const Value& v = same(n, 0);
      std::vector<std::int64_t> axes = attr_ints(n, "axes");
      if (const Constant* c = constant(n, 1)) axes = c->i;
      for (auto& a : axes) a = axis_of(n, a, v.t.rank());
      std::sort(axes.begin(), axes.end());
      const std::size_t spatial = v.t.rank() - 2;
      bool global = axes.size() == spatial;
      for (std::size_t i = 0; global && i < axes.size(); ++i)
        global = axes[i] == std::int64_t(i + 2);
      if (!global)
        fail(n, "only the mean over all spatial axes of NCHW (global pooling) is supported");
      set(n, 0,
          make1(n, fmt::format("GlobalAveragePooling{}D", spatial),
                {{"data_format", "channels_first"}, {"keepdims", attr_i(n, "keepdims", 1) != 0}},
                {v.t}));
      return;
    }
    if (op == "BatchNormalization") {
      const Value& v = same(n, 0);
      std::vector<Tensor> w;
      for (int k = 1; k <= 4; ++k) w.push_back(need_constant(n, k, "statistics").tensor());
      set(n, 0,
          make1(n, "BatchNormalization",
                {{"axis", 1},
                 {"epsilon", attr_f(n, "epsilon", 1e-5f)},
                 {"momentum", attr_f(n, "momentum", 0.9f)}},
                {v.t}, w));
      return;
    }
    if (op == "LayerNormalization") {
      const Value& v = same(n, 0);
      const auto axis = axis_of(n, attr_i(n, "axis", -1), v.t.rank());
      if (axis != std::int64_t(v.t.rank()) - 1) fail(n, "only the last axis is supported");
      std::vector<Tensor> w{need_constant(n, 1, "scale").tensor()};
      const bool center = present(n, 2);
      if (center) w.push_back(need_constant(n, 2, "bias").tensor());
      set(n, 0,
          make1(n, "LayerNormalization",
                {{"axis", -1}, {"epsilon", attr_f(n, "epsilon", 1e-5f)}, {"center", center}}, {v.t},
                w));
      return;
    }
    if (op == "Flatten") {
      const Value& v = same(n, 0);
      if (attr_i(n, "axis", 1) != 1) fail(n, "only axis = 1 is supported");
      set(n, 0, v.t.rank() == 2 ? v.t : make1(n, "Flatten", Config::object(), {v.t}));
      return;
    }
    if (op == "Reshape") {
      const Value& v = same(n, 0);
      const Constant& c = need_constant(n, 1, "shape");
      if (c.i.empty() || (c.i[0] != 0 && c.i[0] != -1))
        fail(n, "the target shape must keep the batch axis (0 or -1 first)");
      Config target = Config::array();
      for (std::size_t k = 1; k < c.i.size(); ++k) {
        std::int64_t d = c.i[k];
        if (d == 0) {
          if (k >= v.t.rank() || v.t.shape()[k] < 0) fail(n, "a 0 dimension without a size");
          d = v.t.shape()[k];
        }
        target.push_back(d);
      }
      set(n, 0, make1(n, "Reshape", {{"target_shape", target}}, {v.t}));
      return;
    }
    if (op == "Transpose") {
      const Value& v = in(n, 0);
      auto perm = attr_ints(n, "perm");
      const bool swap01 = perm.size() >= 2 && perm[0] == 1 && perm[1] == 0 && [&] {
        for (std::size_t k = 2; k < perm.size(); ++k)
          if (perm[k] != std::int64_t(k)) return false;
        return true;
      }();
      if (swap01 && v.layout == Layout::kSame) return alias(n, v, Layout::kTimeMajor);
      if (swap01 && v.layout == Layout::kTimeMajor) return alias(n, v, Layout::kSame);
      if (v.layout != Layout::kSame || perm.empty() || perm[0] != 0)
        fail(n, "a permutation that moves the batch axis is not supported");
      Config dims = Config::array();
      for (std::size_t k = 1; k < perm.size(); ++k) dims.push_back(perm[k]);
      set(n, 0, make1(n, "Permute", {{"dims", dims}}, {v.t}));
      return;
    }
    if (op == "Concat") {
      std::vector<SymbolicTensor> xs;
      for (int k = 0; k < n.input_size(); ++k) xs.push_back(same(n, k).t);
      const auto axis = axis_of(n, attr_i(n, "axis", 0), xs.at(0).rank());
      set(n, 0, make1(n, "Concatenate", {{"axis", axis}}, xs));
      return;
    }
    if (op == "Squeeze" || op == "Gather") return squeeze_or_gather(n);
    if (op == "LSTM" || op == "GRU" || op == "RNN") return rnn(n);
    fail(n, "plexus has no layer for this operator");
  }

  void gemm(const onnx::NodeProto& n) {
    const Value& v = same(n, 0);
    if (attr_i(n, "transA", 0) != 0) fail(n, "transA = 1 is not supported");
    const Constant& b = need_constant(n, 1, "weight");
    if (b.dims.size() != 2) fail(n, "the weight is not a matrix");
    Tensor w = b.tensor() * attr_f(n, "alpha", 1.0f);
    if (attr_i(n, "transB", 0) != 0) w = xt::transpose(w);
    std::vector<Tensor> weights{w};
    const bool bias = present(n, 2);
    if (bias) {
      const Constant& c = need_constant(n, 2, "bias");
      Tensor bt = xt::zeros<float>({w.shape()[1]});
      if (c.size() == 1) {
        bt.fill(c.f[0]);
      } else if (c.size() == w.shape()[1]) {
        std::copy(c.f.begin(), c.f.end(), bt.data());
      } else {
        fail(n, "the bias does not broadcast over the units");
      }
      weights.push_back(bt * attr_f(n, "beta", 1.0f));
    }
    set(n, 0, make1(n, "Dense", {{"units", w.shape()[1]}, {"use_bias", bias}}, {v.t}, weights));
  }

  void matmul(const onnx::NodeProto& n) {
    const Value& v = same(n, 0);
    const Constant& b = need_constant(n, 1, "weight");
    if (b.dims.size() != 2) fail(n, "the right operand is not a constant matrix");
    std::vector<Tensor> weights{b.tensor()};
    // A following Add of a bias vector is the Dense layer's bias.
    const onnx::NodeProto* add = nullptr;
    if (consumers_[n.output(0)] == 1) {
      for (const auto& m : m_.graph().node()) {
        if (m.op_type() != "Add" || m.input_size() != 2) continue;
        for (int k = 0; k < 2; ++k)
          if (m.input(k) == n.output(0)) {
            auto it = constants_.find(m.input(1 - k));
            if (it != constants_.end() && it->second.size() == std::size_t(b.dims[1]) &&
                it->second.dims.size() == 1)
              add = &m;
          }
      }
    }
    if (add) {
      weights.push_back((add->input(0) == n.output(0) ? constants_.at(add->input(1))
                                                      : constants_.at(add->input(0)))
                            .tensor());
      fused_.insert(add);
    }
    auto y =
        make1(n, "Dense", {{"units", b.dims[1]}, {"use_bias", add != nullptr}}, {v.t}, weights);
    set(n, 0, y);
    if (add) values_[add->output(0)] = {y, Layout::kSame};
  }

  void arithmetic(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    const Constant* c0 = constant(n, 0);
    const Constant* c1 = constant(n, 1);
    if (!c0 && !c1) {
      const Value& a = same(n, 0);
      const Value& b = same(n, 1);
      if (op == "Div") fail(n, "division of two tensors is not supported");
      const char* cls = op == "Add" ? "Add" : op == "Sub" ? "Subtract" : "Multiply";
      set(n, 0, make1(n, cls, Config::object(), {a.t, b.t}));
      return;
    }
    // A scalar constant: Rescaling(scale, offset).
    const Constant* c = c1 ? c1 : c0;
    if (c0 && c1) fail(n, "both operands are constants");
    if (!is_scalar(*c)) fail(n, "only scalar constants are supported as an operand");
    const Value& v = same(n, c1 ? 0 : 1);
    const float k = c->f.at(0);
    float scale = 1.0f, offset = 0.0f;
    if (op == "Add") offset = k;
    if (op == "Mul") scale = k;
    if (op == "Sub") {
      if (c1) {
        offset = -k;
      } else {
        scale = -1.0f;
        offset = k;
      }
    }
    if (op == "Div") {
      if (!c1 || k == 0.0f) fail(n, "only division by a non-zero constant is supported");
      scale = 1.0f / k;
    }
    set(n, 0, make1(n, "Rescaling", {{"scale", scale}, {"offset", offset}}, {v.t}));
  }

  // Keras's "same" pads for a window (begin, end) when they are what ONNX asks; else none.
  static bool keras_same(const Shape& spatial, const std::vector<std::int64_t>& k,
                         const std::vector<std::int64_t>& s, const std::vector<std::int64_t>& d,
                         const std::vector<std::int64_t>& pads) {
    const std::size_t r = k.size();
    for (std::size_t i = 0; i < r; ++i) {
      if (spatial[i] < 0) return false;
      const std::int64_t eff = (k[i] - 1) * d[i] + 1;
      const std::int64_t out = (spatial[i] + s[i] - 1) / s[i];
      const std::int64_t total = std::max<std::int64_t>((out - 1) * s[i] + eff - spatial[i], 0);
      if (pads[i] != total / 2 || pads[i + r] != total - total / 2) return false;
    }
    return true;
  }

  struct Window {
    std::vector<std::int64_t> k, s, d, pads;
    Shape spatial;
  };
  Window window(const onnx::NodeProto& n, const Value& v, std::vector<std::int64_t> k) const {
    Window w;
    const std::size_t r = v.t.rank() - 2;
    if (k.empty()) k = attr_ints(n, "kernel_shape");
    if (k.size() != r)
      fail(n, fmt::format("kernel_shape has {} axes for {} spatial axes", k.size(), r));
    w.k = k;
    w.s = attr_ints(n, "strides");
    if (w.s.empty()) w.s.assign(r, 1);
    w.d = attr_ints(n, "dilations");
    if (w.d.empty()) w.d.assign(r, 1);
    w.pads = attr_ints(n, "pads");
    if (w.pads.empty()) w.pads.assign(2 * r, 0);
    if (w.s.size() != r || w.d.size() != r || w.pads.size() != 2 * r)
      fail(n, "strides, dilations or pads do not match the spatial axes");
    const std::string auto_pad = attr_s(n, "auto_pad", "NOTSET");
    for (std::size_t i = 0; i < r; ++i) w.spatial.push_back(v.t.shape()[i + 1]);
    if (auto_pad == "SAME_UPPER") {
      if (!keras_same(w.spatial, w.k, w.s, w.d, w.pads)) {
        // Keras's "same" is ONNX's SAME_UPPER: fill in the pads it implies.
        for (std::size_t i = 0; i < r; ++i) {
          const std::int64_t eff = (w.k[i] - 1) * w.d[i] + 1;
          const std::int64_t out = (w.spatial[i] + w.s[i] - 1) / w.s[i];
          const std::int64_t total =
              std::max<std::int64_t>((out - 1) * w.s[i] + eff - w.spatial[i], 0);
          w.pads[i] = total / 2;
          w.pads[i + r] = total - total / 2;
        }
      }
    } else if (auto_pad != "NOTSET" && auto_pad != "VALID") {
      fail(n, fmt::format("auto_pad {} is not supported", auto_pad));
    }
    return w;
  }

  void conv(const onnx::NodeProto& n) {
    const Value& v = same(n, 0);
    const std::size_t r = v.t.rank() - 2;
    if (r < 1 || r > 3) fail(n, "plexus convolves 1 to 3 spatial axes");
    const Constant& wc = need_constant(n, 1, "kernel");
    if (wc.dims.size() != r + 2) fail(n, "the kernel's rank does not match the input");
    std::vector<std::int64_t> ks(wc.dims.begin() + 2, wc.dims.end());
    Window w = window(n, v, ks);
    // (out, in/groups, k...) -> Keras's (k..., in/groups, out).
    std::vector<std::size_t> perm;
    for (std::size_t i = 0; i < r; ++i) perm.push_back(i + 2);
    perm.push_back(1);
    perm.push_back(0);
    Tensor kernel = xt::transpose(wc.tensor(), perm);
    std::vector<Tensor> weights{kernel};
    const bool bias = present(n, 2);
    if (bias) weights.push_back(need_constant(n, 2, "bias").tensor());
    SymbolicTensor x = v.t;
    std::string padding = "valid";
    const bool any_pad = std::any_of(w.pads.begin(), w.pads.end(), [](auto p) { return p != 0; });
    if (any_pad && keras_same(w.spatial, w.k, w.s, w.d, w.pads)) {
      padding = "same";
    } else if (any_pad) {
      Config pads = Config::array();
      for (std::size_t i = 0; i < r; ++i) pads.push_back(Config::array({w.pads[i], w.pads[i + r]}));
      x = make1(n, fmt::format("ZeroPadding{}D", r),
                {{"padding", r == 1 ? pads[0] : pads}, {"data_format", "channels_first"}}, {x});
    }
    Config cfg = {{"filters", wc.dims[0]},
                  {"kernel_size", ks},
                  {"strides", w.s},
                  {"padding", padding},
                  {"data_format", "channels_first"},
                  {"dilation_rate", w.d},
                  {"groups", attr_i(n, "group", 1)},
                  {"use_bias", bias}};
    set(n, 0, make1(n, fmt::format("Conv{}D", r), cfg, {x}, weights));
  }

  void pool(const onnx::NodeProto& n) {
    const Value& v = same(n, 0);
    const std::size_t r = v.t.rank() - 2;
    if (r < 1 || r > 3) fail(n, "plexus pools 1 to 3 spatial axes");
    Window w = window(n, v, {});
    if (attr_i(n, "ceil_mode", 0) != 0) fail(n, "ceil_mode = 1 is not supported");
    if (std::any_of(w.d.begin(), w.d.end(), [](auto d) { return d != 1; }))
      fail(n, "dilated pooling is not supported");
    const bool avg = n.op_type() == "AveragePool";
    const bool any_pad = std::any_of(w.pads.begin(), w.pads.end(), [](auto p) { return p != 0; });
    std::string padding = "valid";
    if (any_pad) {
      if (!keras_same(w.spatial, w.k, w.s, w.d, w.pads))
        fail(n, fmt::format("pads [{}] are neither none nor Keras's \"same\"",
                            fmt::join(w.pads, ", ")));
      if (avg && attr_i(n, "count_include_pad", 0) != 0)
        fail(n, "count_include_pad = 1 with padding is not supported");
      padding = "same";
    }
    const std::string cls = fmt::format("{}Pooling{}D", avg ? "Average" : "Max", r);
    set(n, 0,
        make1(n, cls,
              {{"pool_size", w.k},
               {"strides", w.s},
               {"padding", padding},
               {"data_format", "channels_first"}},
              {v.t}));
  }

  void squeeze_or_gather(const onnx::NodeProto& n) {
    const Value& v = in(n, 0);
    if (n.op_type() == "Gather") {
      if (const Constant* table = constant(n, 0)) {  // an embedding lookup
        if (table->dims.size() != 2) fail(n, "the table is not a matrix");
        if (attr_i(n, "axis", 0) != 0) fail(n, "only lookups along axis 0 are supported");
        const Value& idx = same(n, 1);
        set(n, 0,
            make1(n, "Embedding", {{"input_dim", table->dims[0]}, {"output_dim", table->dims[1]}},
                  {idx.t}, {table->tensor()}));
        return;
      }
      const Constant& idx = need_constant(n, 1, "index");
      const std::int64_t axis = attr_i(n, "axis", 0);
      if (v.layout == Layout::kLeadingOne && axis == 0 && idx.dims.empty() &&
          (idx.i.at(0) == 0 || idx.i.at(0) == -1))
        return alias(n, v, Layout::kSame);
      fail(n, "only the lookup of a recurrent layer's final state is supported");
    }
    std::vector<std::int64_t> axes = attr_ints(n, "axes");
    if (const Constant* c = constant(n, 1)) axes = c->i;
    if (axes.size() == 1 && axes[0] == 0 && v.layout == Layout::kLeadingOne)
      return alias(n, v, Layout::kSame);
    if (axes.size() == 1 && axes[0] == 1 && v.layout == Layout::kRnnY)
      return alias(n, v, Layout::kTimeMajor);
    fail(n, "only squeezing a recurrent layer's direction axis is supported");
  }

  void rnn(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    const Value& v = in(n, 0);
    if (v.layout != Layout::kTimeMajor)
      fail(n, "its input must be the time-major transpose of a batch-major tensor");
    if (attr_s(n, "direction", "forward") != "forward")
      fail(n, "only direction = forward is supported");
    if (attr_i(n, "layout", 0) != 0) fail(n, "only layout = 0 is supported");
    if (present(n, 4)) fail(n, "sequence_lens is not supported");
    for (int k = 5; k < n.input_size(); ++k) {
      if (!present(n, k) || zeros_.count(n.input(k))) continue;
      const Constant* c = constant(n, k);
      if (c && std::all_of(c->f.begin(), c->f.end(), [](float v) { return v == 0.0f; })) continue;
      fail(n, "initial states other than zeros and peepholes are not supported");
    }
    if (attr(n, "clip")) fail(n, "clip is not supported");
    const auto acts = attr(n, "activations");
    std::vector<std::string> names;
    if (acts)
      for (const auto& a : acts->strings()) names.push_back(a);
    const std::size_t gates = op == "LSTM" ? 4 : op == "GRU" ? 3 : 1;
    std::vector<std::string> expect;
    if (op != "RNN") expect.push_back("Sigmoid");
    expect.push_back("Tanh");
    if (op == "LSTM") expect.push_back("Tanh");
    if (!names.empty() && names != expect)
      fail(n, "only the default activations (sigmoid gates, tanh) are supported");
    const Constant& W = need_constant(n, 1, "W");
    const Constant& R = need_constant(n, 2, "R");
    const std::int64_t units = attr_i(n, "hidden_size", R.dims.size() == 3 ? R.dims[2] : 0);
    if (W.dims.size() != 3 || W.dims[0] != 1 || W.dims[1] != std::int64_t(gates) * units ||
        R.dims.size() != 3 || R.dims[1] != std::int64_t(gates) * units || R.dims[2] != units)
      fail(n, "W/R do not have the shapes hidden_size implies");
    const std::size_t u = std::size_t(units);
    const std::size_t in_dim = std::size_t(W.dims[2]);
    std::vector<std::size_t> order(gates);
    for (std::size_t i = 0; i < gates; ++i) order[i] = i;
    if (op == "LSTM") order = {0, 2, 3, 1};  // Keras gate g (i f c o) is ONNX gate order[g]
    auto keras = [&](const Constant& c,
                     std::size_t cols) {  // (1, gates*u, cols) -> (cols, gates*u)
      Tensor out = xt::zeros<float>({cols, gates * u});
      for (std::size_t g = 0; g < gates; ++g)
        for (std::size_t k = 0; k < u; ++k)
          for (std::size_t j = 0; j < cols; ++j)
            out(j, g * u + k) = c.f[(order[g] * u + k) * cols + j];
      return out;
    };
    std::vector<Tensor> weights{keras(W, in_dim), keras(R, u)};
    const bool lbr = attr_i(n, "linear_before_reset", 0) != 0;
    std::vector<float> b(2 * gates * u, 0.0f);
    if (present(n, 3)) {
      const Constant& B = need_constant(n, 3, "B");
      if (B.size() != b.size()) fail(n, "B does not have 2 * gates * hidden_size values");
      b = B.f;
    }
    if (op == "GRU" && lbr) {
      Tensor bias = xt::zeros<float>({std::size_t(2), gates * u});
      for (std::size_t g = 0; g < gates; ++g)
        for (std::size_t k = 0; k < u; ++k) {
          bias(0, g * u + k) = b[order[g] * u + k];
          bias(1, g * u + k) = b[(gates + order[g]) * u + k];
        }
      weights.push_back(bias);
    } else {
      Tensor bias = xt::zeros<float>({gates * u});
      for (std::size_t g = 0; g < gates; ++g)
        for (std::size_t k = 0; k < u; ++k)
          bias(g * u + k) = b[order[g] * u + k] + b[(gates + order[g]) * u + k];
      weights.push_back(bias);
    }
    const bool want_y = n.output_size() > 0 && !n.output(0).empty() && consumers_[n.output(0)] > 0;
    Config cfg = {{"units", units}, {"return_sequences", want_y}, {"return_state", true}};
    if (op == "GRU") cfg["reset_after"] = lbr;
    const char* cls = op == "LSTM" ? "LSTM" : op == "GRU" ? "GRU" : "SimpleRNN";
    auto outs = make(n, cls, cfg, {v.t}, weights);
    set(n, 0, outs.at(0), Layout::kRnnY);
    set(n, 1, outs.at(1), Layout::kLeadingOne);
    if (op == "LSTM") set(n, 2, outs.at(2), Layout::kLeadingOne);
  }
};

}  // namespace

namespace saving::detail {

bool is_onnx_path(const std::string& path) {
  return path.size() >= 5 && path.compare(path.size() - 5, 5, ".onnx") == 0;
}

Model load_onnx_bytes(const std::string& bytes, const std::string& what,
                      std::int64_t max_input_dim) {
  onnx::ModelProto proto;
  if (bytes.size() > kMaxOnnxBytes || !proto.ParseFromString(bytes))
    throw Error("load_model(\"{}\"): not a valid ONNX model (the protobuf does not parse)", what);
  if (!proto.has_graph()) throw Error("load_model(\"{}\"): the ONNX model has no graph", what);
  for (const auto& o : proto.opset_import())
    if ((o.domain().empty() || o.domain() == "ai.onnx") && o.version() < 7)
      throw Error("load_model(\"{}\"): opset {} is older than 7, which plexus does not read", what,
                  o.version());
  Importer imp(proto, what, max_input_dim);
  return imp.run();
}

Model load_onnx(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("load_model: cannot read \"{}\"", path);
  std::ostringstream s;
  s << f.rdbuf();
  return load_onnx_bytes(s.str(), path);
}

}  // namespace saving::detail

}  // namespace plexus
