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

struct Builtin {
  const char* name;
  Activation::Fn fn;
};
const std::vector<Builtin>& builtins() {
  static const std::vector<Builtin> b{
      {"elu", elu},
      {"exponential", ops::exp},
      {"gelu", ops::gelu},
      {"hard_sigmoid", ops::hard_sigmoid},
      {"leaky_relu", leaky_relu},
      {"linear", identity},
      {"relu", ops::relu},
      {"selu", ops::selu},
      {"sigmoid", ops::sigmoid},
      {"silu", ops::swish},
      {"softmax", softmax_last},
      {"softplus", ops::softplus},
      {"swish", ops::swish},
      {"tanh", ops::tanh},
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
