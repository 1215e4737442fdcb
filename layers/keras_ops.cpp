#include "layers/detail/keras_ops.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>

#include "core/error.hpp"
#include "core/json.hpp"
#include "graph/ops.hpp"

namespace plexus::layers::detail {

namespace {

// An operand of the op: a tensor, a number, or a list of tensors.
struct Operand {
  std::optional<SymbolicTensor> tensor;
  double number = 0;
  std::vector<SymbolicTensor> list;
};

struct OpCall {
  const std::string& cls;
  const Config& config;
  std::vector<Operand> args;

  std::size_t size() const { return args.size(); }
  bool is_number(std::size_t i) const { return !args.at(i).tensor && args.at(i).list.empty(); }
  // Operand i as a tensor: a number becomes a broadcast constant.
  SymbolicTensor tensor(std::size_t i) const {
    need(i + 1);
    const Operand& a = args[i];
    if (a.tensor) return *a.tensor;
    if (!a.list.empty())
      throw Error("Keras op {}: argument {} is a list, expected a tensor", cls, i);
    return ops::constant(static_cast<float>(a.number));
  }
  void need(std::size_t n) const {
    if (args.size() < n) {
      throw Error("Keras op {}: expected {} positional argument(s), the node has {}", cls, n,
                  args.size());
    }
  }
  // The config's axis: null (every axis), an integer or a list.
  std::vector<Dim> axes() const {
    auto it = config.find("axis");
    if (it == config.end() || it->is_null()) return {};
    if (it->is_number_integer()) return {it->get<Dim>()};
    if (it->is_array()) return it->get<std::vector<Dim>>();
    throw Error("Keras op {}: axis must be null, an integer or a list, received {}", cls,
                it->dump());
  }
  Dim axis(Dim fallback) const {
    auto it = config.find("axis");
    if (it == config.end() || it->is_null()) return fallback;
    if (!it->is_number_integer()) {
      throw Error("Keras op {}: axis must be an integer, received {}", cls, it->dump());
    }
    return it->get<Dim>();
  }
  bool keepdims() const { return config::get_or<bool>(config, "keepdims", false); }
  double number(const char* key, double fallback) const {
    auto it = config.find(key);
    if (it == config.end() || it->is_null()) return fallback;
    if (!it->is_number()) throw Error("Keras op {}: {} must be a number", cls, key);
    return it->get<double>();
  }
};

SymbolicTensor one_where(const SymbolicTensor& c) {  // c != 0 ? 1 : 0
  return ops::where(c, ops::constant(1.0f), ops::constant(0.0f));
}
SymbolicTensor zero_where(const SymbolicTensor& c) {  // c != 0 ? 0 : 1
  return ops::where(c, ops::constant(0.0f), ops::constant(1.0f));
}
// a > b as 1/0: a - b is nonzero for distinct finite floats (gradual underflow), so
// relu(a - b) != 0 exactly when a > b.
SymbolicTensor greater(const SymbolicTensor& a, const SymbolicTensor& b) {
  return one_where(ops::relu(ops::subtract(a, b)));
}
SymbolicTensor reduce_max(const OpCall& c, const SymbolicTensor& x) {
  return ops::max(x, c.axes(), c.keepdims());
}

using OpFn = std::function<SymbolicTensor(const OpCall&)>;

const std::map<std::string, OpFn>& op_table() {
  static const std::map<std::string, OpFn> table = [] {
    std::map<std::string, OpFn> t;
    auto binary = [&](const char* name,
                      SymbolicTensor (*f)(const SymbolicTensor&, const SymbolicTensor&)) {
      t[name] = [f](const OpCall& c) {
        c.need(2);
        return f(c.tensor(0), c.tensor(1));
      };
    };
    binary("Add", ops::add);
    binary("Subtract", ops::subtract);
    binary("Multiply", ops::multiply);
    binary("Divide", ops::divide);
    binary("TrueDivide", ops::divide);
    binary("Power", ops::pow);
    binary("Maximum", ops::maximum);
    binary("Minimum", ops::minimum);
    binary("Matmul", ops::matmul);
    auto unary = [&](const char* name, SymbolicTensor (*f)(const SymbolicTensor&)) {
      t[name] = [f](const OpCall& c) { return f(c.tensor(0)); };
    };
    unary("Negative", ops::negative);
    unary("Exp", ops::exp);
    unary("Log", ops::log);
    unary("Sqrt", ops::sqrt);
    unary("Square", ops::square);
    unary("Absolute", ops::abs);
    unary("Abs", ops::abs);
    unary("Tanh", ops::tanh);
    unary("Sigmoid", ops::sigmoid);
    unary("Relu", ops::relu);
    unary("Selu", ops::selu);
    unary("Softplus", ops::softplus);
    unary("Silu", ops::swish);
    unary("HardSigmoid", ops::hard_sigmoid);
    t["Elu"] = [](const OpCall& c) {
      return ops::elu(c.tensor(0), static_cast<float>(c.number("alpha", 1.0)));
    };
    t["LeakyRelu"] = [](const OpCall& c) {
      return ops::leaky_relu(c.tensor(0), static_cast<float>(c.number("negative_slope", 0.2)));
    };
    t["Gelu"] = [](const OpCall& c) {
      if (config::get_or<bool>(c.config, "approximate", true)) {
        throw Error(
            "Keras op Gelu: approximate=True (keras.ops.gelu's default) is not supported; "
            "plexus computes the exact gelu");
      }
      return ops::gelu(c.tensor(0));
    };
    t["Softmax"] = [](const OpCall& c) { return ops::softmax(c.tensor(0), c.axis(-1)); };
    t["LogSoftmax"] = [](const OpCall& c) { return ops::log_softmax(c.tensor(0), c.axis(-1)); };
    t["Clip"] = [](const OpCall& c) {
      // ops.clip(x, x_min, x_max): the bounds are call arguments (numbers) in Keras 3.
      c.need(3);
      if (!c.is_number(1) || !c.is_number(2)) {
        throw Error("Keras op Clip: plexus reads clip with number bounds only");
      }
      return ops::clip(c.tensor(0), static_cast<float>(c.args[1].number),
                       static_cast<float>(c.args[2].number));
    };
    // Comparisons and logic: 1 for true, 0 for false (float32 underneath, as bool inputs).
    t["NotEqual"] = [](const OpCall& c) {
      c.need(2);
      return one_where(ops::subtract(c.tensor(0), c.tensor(1)));
    };
    t["Equal"] = [](const OpCall& c) {
      c.need(2);
      return zero_where(ops::subtract(c.tensor(0), c.tensor(1)));
    };
    t["Greater"] = [](const OpCall& c) {
      c.need(2);
      return greater(c.tensor(0), c.tensor(1));
    };
    t["Less"] = [](const OpCall& c) {
      c.need(2);
      return greater(c.tensor(1), c.tensor(0));
    };
    t["GreaterEqual"] = [](const OpCall& c) {
      c.need(2);
      return zero_where(ops::relu(ops::subtract(c.tensor(1), c.tensor(0))));
    };
    t["LessEqual"] = [](const OpCall& c) {
      c.need(2);
      return zero_where(ops::relu(ops::subtract(c.tensor(0), c.tensor(1))));
    };
    t["LogicalNot"] = [](const OpCall& c) { return zero_where(c.tensor(0)); };
    t["LogicalAnd"] = [](const OpCall& c) {
      c.need(2);
      return ops::multiply(one_where(c.tensor(0)), one_where(c.tensor(1)));
    };
    t["LogicalOr"] = [](const OpCall& c) {
      c.need(2);
      return ops::maximum(one_where(c.tensor(0)), one_where(c.tensor(1)));
    };
    t["Any"] = [](const OpCall& c) { return reduce_max(c, one_where(c.tensor(0))); };
    t["All"] = [](const OpCall& c) {
      return ops::subtract(1.0f, reduce_max(c, zero_where(c.tensor(0))));
    };
    t["Sum"] = [](const OpCall& c) { return ops::sum(c.tensor(0), c.axes(), c.keepdims()); };
    t["Mean"] = [](const OpCall& c) { return ops::mean(c.tensor(0), c.axes(), c.keepdims()); };
    t["Max"] = [](const OpCall& c) { return reduce_max(c, c.tensor(0)); };
    t["Amax"] = t["Max"];
    t["Cast"] = [](const OpCall& c) {
      const std::string dtype = config::get_or<std::string>(c.config, "dtype", "float32");
      const SymbolicTensor x = c.tensor(0);
      if (dtype == "bool") return one_where(x);
      if (dtype.rfind("float", 0) == 0 || dtype == "bfloat16") return x;
      // An integer cast truncates: exact only when the values are whole numbers already.
      if (x.dtype() != "float32") return x;
      throw Error("Keras op Cast: a cast of a float32 tensor to {} (truncation) is not supported",
                  dtype);
    };
    // Issue 23's keras.ops (graph/ops_more.cpp).
    unary("Sin", ops::sin);
    unary("Cos", ops::cos);
    unary("Tan", ops::tan);
    unary("Arcsin", ops::arcsin);
    unary("Arccos", ops::arccos);
    unary("Arctan", ops::arctan);
    unary("Sinh", ops::sinh);
    unary("Cosh", ops::cosh);
    unary("Arcsinh", ops::arcsinh);
    unary("Arccosh", ops::arccosh);
    unary("Arctanh", ops::arctanh);
    unary("Erf", ops::erf);
    unary("Log1p", ops::log1p);
    unary("Expm1", ops::expm1);
    unary("Log2", ops::log2);
    unary("Log10", ops::log10);
    unary("Exp2", ops::exp2);
    unary("Sign", ops::sign);
    unary("Floor", ops::floor);
    unary("Ceil", ops::ceil);
    unary("Trunc", ops::trunc);
    unary("Reciprocal", ops::reciprocal);
    unary("Rsqrt", ops::rsqrt);
    unary("Cbrt", ops::cbrt);
    unary("Softsign", ops::softsign);
    unary("Relu6", ops::relu6);
    unary("LogSigmoid", ops::log_sigmoid);
    unary("HardSilu", ops::hard_silu);
    unary("HardTanh", ops::hard_tanh);
    unary("TanhShrink", ops::tanh_shrink);
    unary("IsNan", ops::isnan);
    unary("Isnan", ops::isnan);
    unary("Isinf", ops::isinf);
    unary("Isfinite", ops::isfinite);
    unary("StopGradient", ops::stop_gradient);
    binary("Arctan2", ops::arctan2);
    binary("FloorDivide", ops::floor_divide);
    binary("Mod", ops::mod);
    binary("Hypot", ops::hypot);
    binary("Logaddexp", ops::logaddexp);
    binary("LogicalXor", ops::logical_xor);
    t["Round"] = [](const OpCall& c) {
      if (c.number("decimals", 0) != 0) throw Error("Keras op Round: decimals != 0 is not read");
      return ops::round(c.tensor(0));
    };
    auto reduction = [&](const char* name,
                         SymbolicTensor (*f)(const SymbolicTensor&, std::vector<Dim>, bool)) {
      t[name] = [f](const OpCall& c) { return f(c.tensor(0), c.axes(), c.keepdims()); };
    };
    reduction("Min", ops::min);
    reduction("Amin", ops::amin);
    reduction("Var", ops::var);
    reduction("Std", ops::std);
    reduction("Prod", ops::prod);
    reduction("Logsumexp", ops::logsumexp);
    t["Argmax"] = [](const OpCall& c) {
      if (c.axes().empty()) return ops::argmax(ops::ravel(c.tensor(0)), 0, false);
      return ops::argmax(c.tensor(0), c.axis(-1), c.keepdims());
    };
    t["Argmin"] = [](const OpCall& c) {
      if (c.axes().empty()) return ops::argmin(ops::ravel(c.tensor(0)), 0, false);
      return ops::argmin(c.tensor(0), c.axis(-1), c.keepdims());
    };
    t["Cumsum"] = [](const OpCall& c) {
      if (c.axes().empty()) return ops::cumsum(ops::ravel(c.tensor(0)), 0);
      return ops::cumsum(c.tensor(0), c.axis(-1));
    };
    t["Squeeze"] = [](const OpCall& c) { return ops::squeeze(c.tensor(0), c.axes()); };
    t["Flip"] = [](const OpCall& c) { return ops::flip(c.tensor(0), c.axes()); };
    t["Moveaxis"] = [](const OpCall& c) {
      return ops::moveaxis(c.tensor(0), static_cast<Dim>(c.number("source", 0)),
                           static_cast<Dim>(c.number("destination", 0)));
    };
    t["Swapaxes"] = [](const OpCall& c) {
      return ops::swapaxes(c.tensor(0), static_cast<Dim>(c.number("axis1", 0)),
                           static_cast<Dim>(c.number("axis2", 1)));
    };
    t["Stack"] = [](const OpCall& c) {
      c.need(1);
      if (c.args[0].list.empty()) throw Error("Keras op Stack: expected a list of tensors");
      return ops::stack(c.args[0].list, c.axis(0));
    };
    t["Where"] = [](const OpCall& c) {
      c.need(3);
      return ops::where(c.tensor(0), c.tensor(1), c.tensor(2));
    };
    t["Reshape"] = [](const OpCall& c) {
      auto it = c.config.find("newshape");
      if (it == c.config.end()) it = c.config.find("new_shape");
      if (it == c.config.end() || !it->is_array()) {
        throw Error("Keras op Reshape: the config has no newshape list");
      }
      Shape target;
      for (const auto& d : *it) target.push_back(d.is_null() ? -1 : d.get<Dim>());
      return ops::reshape(c.tensor(0), target);
    };
    t["Transpose"] = [](const OpCall& c) {
      std::vector<std::size_t> perm;
      auto it = c.config.find("axes");
      if (it != c.config.end() && !it->is_null()) perm = it->get<std::vector<std::size_t>>();
      return ops::transpose(c.tensor(0), perm);
    };
    t["ExpandDims"] = [](const OpCall& c) { return ops::expand_dims(c.tensor(0), c.axis(0)); };
    t["Concatenate"] = [](const OpCall& c) {
      c.need(1);
      if (c.args[0].list.empty()) throw Error("Keras op Concatenate: expected a list of tensors");
      return ops::concatenate(c.args[0].list, c.axis(0));
    };
    return t;
  }();
  return table;
}

}  // namespace

KerasOpLayer::KerasOpLayer(std::string class_name, std::string module, Config config)
    : Layer(config::get_or<std::string>(config, "name", "")),
      class_name_(std::move(class_name)),
      module_(std::move(module)),
      config_(std::move(config)) {
  if (!op_table().count(class_name_)) {
    throw Error("Keras op {} ({}) is not supported by plexus; the ops it reads are: {}",
                class_name_, module_, fmt::format("{}", fmt::join(keras_op_classes(), ", ")));
  }
  mark_built();
}

SymbolicTensor KerasOpLayer::call(const SymbolicTensor& x) { return call_list({x}).at(0); }

std::vector<SymbolicTensor> KerasOpLayer::call_list(const std::vector<SymbolicTensor>& xs) {
  std::vector<OpArgument> args = args_;
  if (args.empty()) {  // called directly: every input is a positional tensor
    for (std::size_t i = 0; i < xs.size(); ++i) args.push_back({OpArgument::Kind::kTensor, i});
  }
  OpCall c{class_name_, config_, {}};
  for (const auto& a : args) {
    Operand o;
    if (a.kind == OpArgument::Kind::kNumber) {
      o.number = a.number;
    } else if (a.kind == OpArgument::Kind::kTensor) {
      if (a.tensor >= xs.size()) throw Error("Keras op {}: missing tensor input", class_name_);
      o.tensor = xs[a.tensor];
    } else {
      if (a.tensor + a.count > xs.size())
        throw Error("Keras op {}: missing tensor inputs", class_name_);
      o.list.assign(xs.begin() + static_cast<std::ptrdiff_t>(a.tensor),
                    xs.begin() + static_cast<std::ptrdiff_t>(a.tensor + a.count));
    }
    c.args.push_back(std::move(o));
  }
  return {op_table().at(class_name_)(c)};
}

bool is_keras_op_entry(const Config& entry) {
  if (!entry.is_object()) return false;
  auto m = entry.find("module");
  if (m == entry.end() || !m->is_string()) return false;
  const std::string module = m->get<std::string>();
  return module.rfind("keras.src.ops", 0) == 0 || module.rfind("keras.ops", 0) == 0;
}

std::vector<std::string> keras_op_classes() {
  std::vector<std::string> out;
  for (const auto& [name, fn] : op_table()) out.push_back(name);
  return out;
}

}  // namespace plexus::layers::detail
