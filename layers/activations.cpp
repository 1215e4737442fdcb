#include "layers/activations.hpp"

#include <limits>

#include "core/error.hpp"
#include "core/initializers.hpp"
#include "core/json.hpp"
#include "graph/ops.hpp"
#include "layers/masking.hpp"

namespace plexus::activations {

namespace {
SymbolicTensor identity(const SymbolicTensor& x) { return x; }
SymbolicTensor softmax_last(const SymbolicTensor& x) { return ops::softmax(x, -1); }
SymbolicTensor elu(const SymbolicTensor& x) { return ops::elu(x); }
SymbolicTensor leaky_relu(const SymbolicTensor& x) { return ops::leaky_relu(x); }

// Keras 3's activations with their default arguments (keras/src/activations/activations.py),
// composed from primitive ops so that their gradients come from the ops'.
// celu(x, alpha=1): max(0, x) + min(0, alpha (exp(x / alpha) - 1)), which is elu for alpha 1.
SymbolicTensor celu(const SymbolicTensor& x) { return ops::elu(x, 1.0f); }
// glu(x, axis=-1): a * sigmoid(b) for the two halves a, b of the last axis.
SymbolicTensor glu(const SymbolicTensor& x) {
  const Shape& s = x.shape();
  const Dim d = s.empty() ? -1 : s.back();
  if (d < 0 || d % 2 != 0) {
    throw Error("activation glu: the last axis must have an even, known size; received shape {}",
                shape_str(s));
  }
  const auto halves = ops::split(x, {d / 2, d / 2}, -1);
  return halves[0] * ops::sigmoid(halves[1]);
}
// soft_shrink(x, threshold=0.5): x - 0.5 above 0.5, x + 0.5 below -0.5, else 0.
SymbolicTensor soft_shrink(const SymbolicTensor& x) {
  return ops::relu(ops::subtract(x, 0.5f)) - ops::relu(ops::subtract(-x, 0.5f));
}
// hard_shrink(x, threshold=0.5): x where |x| > 0.5, else 0 (soft_shrink is nonzero exactly
// there).
SymbolicTensor hard_shrink(const SymbolicTensor& x) {
  return ops::where(soft_shrink(x), x, ops::constant(0.0f));
}
// hard_silu(x) = x * hard_sigmoid(x), hard_sigmoid(x) = relu6(x + 3) / 6.
SymbolicTensor hard_silu(const SymbolicTensor& x) { return x * ops::hard_sigmoid(x); }
SymbolicTensor hard_tanh(const SymbolicTensor& x) { return ops::clip(x, -1.0f, 1.0f); }
// log_sigmoid(x) = -softplus(-x).
SymbolicTensor log_sigmoid(const SymbolicTensor& x) { return -ops::softplus(-x); }
SymbolicTensor log_softmax_last(const SymbolicTensor& x) { return ops::log_softmax(x, -1); }
// mish(x) = x * tanh(softplus(x)).
SymbolicTensor mish(const SymbolicTensor& x) { return x * ops::tanh(ops::softplus(x)); }
SymbolicTensor relu6(const SymbolicTensor& x) { return ops::clip(ops::relu(x), 0.0f, 6.0f); }
// softsign(x) = x / (|x| + 1).
SymbolicTensor softsign(const SymbolicTensor& x) { return x / ops::add(ops::abs(x), 1.0f); }
// sparse_plus(x): 0 for x <= -1, x for x >= 1, (x + 1)^2 / 4 between.
SymbolicTensor sparse_plus(const SymbolicTensor& x) {
  const SymbolicTensor c = ops::clip(x, -1.0f, 1.0f);
  return ops::multiply(ops::square(ops::add(c, 1.0f)), 0.25f) + ops::relu(ops::subtract(x, 1.0f));
}
// sparse_sigmoid(x): 0 for x <= -1, 1 for x >= 1, (x + 1) / 2 between.
SymbolicTensor sparse_sigmoid(const SymbolicTensor& x) {
  return ops::multiply(ops::add(ops::clip(x, -1.0f, 1.0f), 1.0f), 0.5f);
}
// squareplus(x, b=4) = (x + sqrt(x^2 + b)) / 2.
SymbolicTensor squareplus(const SymbolicTensor& x) {
  return ops::multiply(x + ops::sqrt(ops::add(ops::square(x), 4.0f)), 0.5f);
}
// tanh_shrink(x) = x - tanh(x).
SymbolicTensor tanh_shrink(const SymbolicTensor& x) { return x - ops::tanh(x); }

struct Builtin {
  const char* name;
  Activation::Fn fn;
};
const std::vector<Builtin>& builtins() {
  static const std::vector<Builtin> b{
      {"celu", celu},
      {"elu", elu},
      {"exponential", ops::exp},
      {"gelu", ops::gelu},
      {"glu", glu},
      {"hard_shrink", hard_shrink},
      {"hard_sigmoid", ops::hard_sigmoid},
      {"hard_silu", hard_silu},
      {"hard_swish", hard_silu},
      {"hard_tanh", hard_tanh},
      {"leaky_relu", leaky_relu},
      {"linear", identity},
      {"log_sigmoid", log_sigmoid},
      {"log_softmax", log_softmax_last},
      {"mish", mish},
      {"relu", ops::relu},
      {"relu6", relu6},
      {"selu", ops::selu},
      {"sigmoid", ops::sigmoid},
      {"silu", ops::swish},
      {"soft_shrink", soft_shrink},
      {"softmax", softmax_last},
      {"softplus", ops::softplus},
      {"softsign", softsign},
      {"sparse_plus", sparse_plus},
      {"sparse_sigmoid", sparse_sigmoid},
      {"squareplus", squareplus},
      {"swish", ops::swish},
      {"tanh", ops::tanh},
      {"tanh_shrink", tanh_shrink},
  };
  return b;
}

[[noreturn]] void unknown(std::string_view name, std::string_view where) {
  std::string known;
  for (auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("{}: unknown activation \"{}\". Known activations: {}", where, name, known);
}
}  // namespace

Registry<Activation>& Activation::registry() {
  static Registry<Activation> r("activation", "keras.activations");
  static const bool filled = [] {
    for (const auto& b : builtins()) {
      const std::string name = b.name;
      const Fn fn = b.fn;
      r.add(name, [name, fn](const Config&) { return std::make_shared<Activation>(name, fn); });
    }
    return true;
  }();
  (void)filled;
  return r;
}

const std::vector<std::string>& names() {
  static const std::vector<std::string> n = [] {
    std::vector<std::string> out;
    for (const auto& b : builtins()) out.push_back(b.name);
    return out;
  }();
  return n;
}

std::string canonical_name(const Config& activation, std::string_view where) {
  if (activation.is_null()) return "linear";  // Keras: activation=None is linear
  std::string given = activation.is_string() ? activation.get<std::string>() : activation.dump();
  if (activation.is_string() && given.empty()) return "linear";
  try {
    return Activation::registry().create(activation)->class_name();
  } catch (const Error&) {
    if (activation.is_object()) {
      if (auto c = activation.find("class_name"); c != activation.end() && c->is_string()) {
        given = c->get<std::string>();
        if (given == "function") {
          if (auto f = activation.find("config"); f != activation.end() && f->is_string()) {
            given = f->get<std::string>();
          }
        }
      }
    }
    unknown(given, where);
  }
}

void check_name(std::string_view name, std::string_view where) {
  canonical_name(Config(name), where);
}

SymbolicTensor apply(std::string_view name, const SymbolicTensor& x) {
  if (name.empty() || name == "linear") return x;
  return (*Activation::registry().create(
      Config(canonical_name(Config(name), "activations::apply"))))(x);
}

Config Activation::get_config() const { return Config::object(); }

}  // namespace plexus::activations

// --- activation layers ------------------------------------------------------------------------

namespace plexus::layers {

ReLULayer::ReLULayer(ReLUOptions options) : Layer(options.name), options_(std::move(options)) {
  if (options_.max_value && *options_.max_value < 0.0f) {
    throw Error("ReLU: max_value of a ReLU layer cannot be a negative value. Received: {}",
                *options_.max_value);
  }
  if (options_.negative_slope < 0.0f) {
    throw Error("ReLU: negative_slope of a ReLU layer cannot be a negative value. Received: {}",
                options_.negative_slope);
  }
  if (options_.threshold != 0.0f) {
    throw Error("ReLU: threshold {} is not available in plexus (only 0)", options_.threshold);
  }
  set_declared_input_shape(options_.input_shape);
}

SymbolicTensor ReLULayer::call(const SymbolicTensor& x) {
  SymbolicTensor y =
      options_.negative_slope == 0.0f ? ops::relu(x) : ops::leaky_relu(x, options_.negative_slope);
  if (options_.max_value) {
    y = ops::clip(y, -std::numeric_limits<float>::max(), *options_.max_value);
  }
  masking::pass_on(x, y);
  return y;
}

LayerHandle<ReLULayer> ReLU(ReLUOptions options) {
  return make_layer<ReLULayer>(std::move(options));
}

LeakyReLULayer::LeakyReLULayer(LeakyReLUOptions options)
    : Layer(options.name), options_(std::move(options)) {
  if (options_.negative_slope < 0.0f) {
    throw Error(
        "LeakyReLU: the negative_slope value of a Leaky ReLU layer cannot be None or negative "
        "value. Expected a float. Received: negative_slope={}",
        options_.negative_slope);
  }
  set_declared_input_shape(options_.input_shape);
}

SymbolicTensor LeakyReLULayer::call(const SymbolicTensor& x) {
  SymbolicTensor y = ops::leaky_relu(x, options_.negative_slope);
  masking::pass_on(x, y);
  return y;
}

LayerHandle<LeakyReLULayer> LeakyReLU(LeakyReLUOptions options) {
  return make_layer<LeakyReLULayer>(std::move(options));
}

PReLULayer::PReLULayer(PReLUOptions options) : Layer(options.name), options_(std::move(options)) {
  set_declared_input_shape(options_.input_shape);
}

void PReLULayer::build(const Shape& input_shape) {
  Shape param(input_shape.begin() + (input_shape.empty() ? 0 : 1), input_shape.end());
  for (Dim a : options_.shared_axes) {
    if (a < 1 || a >= Dim(input_shape.size())) {
      throw Error("Layer \"{}\" (PReLU): shared axis {} is out of range for input shape {}", name(),
                  a, shape_str(input_shape));
    }
    param[static_cast<std::size_t>(a - 1)] = 1;
  }
  for (Dim d : param) {
    if (d <= 0) {
      throw Error(
          "Layer \"{}\" (PReLU): the input shape {} must be known after the batch "
          "(or the unknown axes shared)",
          name(), shape_str(input_shape));
    }
  }
  alpha_ = add_weight("alpha", param, options_.alpha_initializer, true, options_.alpha_regularizer,
                      options_.alpha_constraint);
}

SymbolicTensor PReLULayer::call(const SymbolicTensor& x) {
  SymbolicTensor y =
      ops::subtract(ops::relu(x), ops::multiply(alpha_, ops::relu(ops::negative(x))));
  masking::pass_on(x, y);
  return y;
}

LayerHandle<PReLULayer> PReLU(PReLUOptions options) {
  return make_layer<PReLULayer>(std::move(options));
}

ELULayer::ELULayer(ELUOptions options) : Layer(options.name), options_(std::move(options)) {
  set_declared_input_shape(options_.input_shape);
}

SymbolicTensor ELULayer::call(const SymbolicTensor& x) {
  SymbolicTensor y = ops::elu(x, options_.alpha);
  masking::pass_on(x, y);
  return y;
}

LayerHandle<ELULayer> ELU(ELUOptions options) { return make_layer<ELULayer>(std::move(options)); }

SoftmaxLayer::SoftmaxLayer(SoftmaxOptions options)
    : Layer(options.name), options_(std::move(options)) {
  set_declared_input_shape(options_.input_shape);
}

SymbolicTensor SoftmaxLayer::call(const SymbolicTensor& x) {
  return ops::softmax(x, options_.axis);
}

LayerHandle<SoftmaxLayer> Softmax(SoftmaxOptions options) {
  return make_layer<SoftmaxLayer>(std::move(options));
}

}  // namespace plexus::layers
