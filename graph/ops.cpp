#include "graph/ops.hpp"

#include <fmt/format.h>

#include <cctype>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/kernels.hpp"
#include "graph/detail.hpp"
#include "graph/layer.hpp"

namespace plexus {

namespace graph {

// A raw op called in Functional-API code, outside any layer, becomes this layer (Keras 3
// does the same), so it shows in summary() and DOT and re-runs when the model is called.
class OpLayer : public Layer {
 public:
  OpLayer(KernelPtr prototype, std::vector<SymbolicTensor> fixed)
      : prototype_(std::move(prototype)), fixed_(std::move(fixed)) {}
  std::string class_name() const override {
    std::string s;
    bool up = true;
    for (char c : prototype_->name()) {
      if (c == '_') {
        up = true;
        continue;
      }
      s += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      up = false;
    }
    return s;
  }
  std::vector<SymbolicTensor> call_list(const std::vector<SymbolicTensor>& xs) override {
    std::vector<SymbolicTensor> args;
    std::size_t next = 0;
    for (const auto& f : fixed_) {
      if (f.defined()) {
        args.push_back(f);
      } else {
        if (next >= xs.size()) throw Error("Layer \"{}\" received too few inputs", name());
        args.push_back(xs[next++]);
      }
    }
    return ops::apply_all(prototype_->clone(), args);
  }

 private:
  KernelPtr prototype_;
  std::vector<SymbolicTensor> fixed_;  // undefined where the input comes from a call
};

}  // namespace graph

namespace ops {

namespace k = plexus::kernels;

SymbolicTensor apply(KernelPtr kernel, const std::vector<SymbolicTensor>& inputs) {
  if (kernel->num_outputs() != 1) {
    throw Error("{} has {} outputs: use ops::apply_all", kernel->name(), kernel->num_outputs());
  }
  return apply_all(std::move(kernel), inputs)[0];
}

std::vector<SymbolicTensor> apply_all(KernelPtr kernel, const std::vector<SymbolicTensor>& inputs) {
  std::vector<Shape> shapes;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) throw Error("{}: input {} is an empty tensor", kernel->name(), i);
    shapes.push_back(inputs[i].shape());
  }
  if (kernel->num_inputs() != 0 && kernel->num_inputs() != inputs.size()) {
    throw Error("{}: expects {} inputs, received {}", kernel->name(), kernel->num_inputs(),
                inputs.size());
  }
  if (detail::layer_call_depth() == 0) {
    // Outside any layer: wrap into an OpLayer when some input comes from a layer call.
    std::vector<SymbolicTensor> fixed, varying;
    for (const auto& x : inputs) {
      if (x.history()) {
        fixed.emplace_back();
        varying.push_back(x);
      } else {
        fixed.push_back(x);
      }
    }
    if (!varying.empty()) {
      auto layer = make_layer<graph::OpLayer>(kernel, fixed);
      return (*layer)(varying);  // (SymbolicTensors converts to the vector)
    }
  }
  const std::size_t n_out = kernel->num_outputs();
  std::vector<Shape> out_shapes = kernel->output_shapes(shapes);
  auto node = make_node(Node::Kind::kOp, out_shapes.at(0), kernel->name());
  node->kernel = std::move(kernel);
  for (const auto& x : inputs) node->inputs.push_back(x.node());
  if (n_out == 1) return {SymbolicTensor(node, nullptr)};
  // Several outputs: one kOutput node per output names it (see graph/symbolic.hpp).
  std::vector<SymbolicTensor> outs;
  for (std::size_t k = 0; k < n_out; ++k) {
    auto out = make_node(Node::Kind::kOutput, out_shapes[k], fmt::format("{}:{}", node->name, k));
    out->inputs = {node};
    out->output_index = k;
    outs.emplace_back(out, nullptr);
  }
  return outs;
}

std::vector<SymbolicTensor> split(const SymbolicTensor& x, std::vector<Dim> sizes, Dim axis) {
  return apply_all(k::split(std::move(sizes), axis), {x});
}

SymbolicTensor constant(Tensor value) {
  auto node = make_node(Node::Kind::kConstant, shape_of(value), "constant");
  node->constant = std::make_shared<const Tensor>(std::move(value));
  return SymbolicTensor(node, nullptr);
}

SymbolicTensor constant(float value) { return constant(Tensor({value})); }

SymbolicTensor matmul(const SymbolicTensor& a, const SymbolicTensor& b) {
  return apply(k::matmul(), {a, b});
}
SymbolicTensor add(const SymbolicTensor& a, const SymbolicTensor& b) {
  return apply(k::add(), {a, b});
}
SymbolicTensor subtract(const SymbolicTensor& a, const SymbolicTensor& b) {
  return apply(k::subtract(), {a, b});
}
SymbolicTensor multiply(const SymbolicTensor& a, const SymbolicTensor& b) {
  return apply(k::multiply(), {a, b});
}
SymbolicTensor divide(const SymbolicTensor& a, const SymbolicTensor& b) {
  return apply(k::divide(), {a, b});
}
SymbolicTensor pow(const SymbolicTensor& a, const SymbolicTensor& b) {
  return apply(k::pow(), {a, b});
}
SymbolicTensor maximum(const SymbolicTensor& a, const SymbolicTensor& b) {
  return apply(k::maximum(), {a, b});
}
SymbolicTensor minimum(const SymbolicTensor& a, const SymbolicTensor& b) {
  return apply(k::minimum(), {a, b});
}
SymbolicTensor where(const SymbolicTensor& c, const SymbolicTensor& a, const SymbolicTensor& b) {
  return apply(k::where(), {c, a, b});
}
SymbolicTensor add(const SymbolicTensor& a, float s) { return apply(k::affine(1.0f, s), {a}); }
SymbolicTensor subtract(const SymbolicTensor& a, float s) {
  return apply(k::affine(1.0f, -s), {a});
}
SymbolicTensor subtract(float s, const SymbolicTensor& a) {
  return apply(k::affine(-1.0f, s), {a});
}
SymbolicTensor multiply(const SymbolicTensor& a, float s) { return apply(k::affine(s, 0.0f), {a}); }
SymbolicTensor divide(const SymbolicTensor& a, float s) {
  return apply(k::affine(1.0f / s, 0.0f), {a});
}
SymbolicTensor pow(const SymbolicTensor& a, float s) { return apply(k::pow(), {a, constant(s)}); }

SymbolicTensor negative(const SymbolicTensor& x) { return apply(k::negative(), {x}); }
SymbolicTensor exp(const SymbolicTensor& x) { return apply(k::exp(), {x}); }
SymbolicTensor log(const SymbolicTensor& x) { return apply(k::log(), {x}); }
SymbolicTensor sqrt(const SymbolicTensor& x) { return apply(k::sqrt(), {x}); }
SymbolicTensor square(const SymbolicTensor& x) { return apply(k::square(), {x}); }
SymbolicTensor abs(const SymbolicTensor& x) { return apply(k::abs(), {x}); }
SymbolicTensor tanh(const SymbolicTensor& x) { return apply(k::tanh(), {x}); }
SymbolicTensor sigmoid(const SymbolicTensor& x) { return apply(k::sigmoid(), {x}); }
SymbolicTensor relu(const SymbolicTensor& x) { return apply(k::relu(), {x}); }
SymbolicTensor elu(const SymbolicTensor& x, float alpha) { return apply(k::elu(alpha), {x}); }
SymbolicTensor selu(const SymbolicTensor& x) { return apply(k::selu(), {x}); }
SymbolicTensor leaky_relu(const SymbolicTensor& x, float slope) {
  return apply(k::leaky_relu(slope), {x});
}
SymbolicTensor softplus(const SymbolicTensor& x) { return apply(k::softplus(), {x}); }
SymbolicTensor gelu(const SymbolicTensor& x) { return apply(k::gelu(), {x}); }
SymbolicTensor swish(const SymbolicTensor& x) { return apply(k::swish(), {x}); }
SymbolicTensor hard_sigmoid(const SymbolicTensor& x) { return apply(k::hard_sigmoid(), {x}); }
SymbolicTensor clip(const SymbolicTensor& x, float lo, float hi) {
  return apply(k::clip(lo, hi), {x});
}

SymbolicTensor sum(const SymbolicTensor& x, std::vector<Dim> axes, bool keepdims) {
  return apply(k::sum(std::move(axes), keepdims), {x});
}
SymbolicTensor mean(const SymbolicTensor& x, std::vector<Dim> axes, bool keepdims) {
  return apply(k::mean(std::move(axes), keepdims), {x});
}
SymbolicTensor max(const SymbolicTensor& x, std::vector<Dim> axes, bool keepdims) {
  return apply(k::max(std::move(axes), keepdims), {x});
}

SymbolicTensor reshape(const SymbolicTensor& x, Shape target) {
  return apply(k::reshape(std::move(target)), {x});
}
SymbolicTensor transpose(const SymbolicTensor& x, std::vector<std::size_t> perm) {
  return apply(k::transpose(std::move(perm)), {x});
}
SymbolicTensor concatenate(const std::vector<SymbolicTensor>& xs, Dim axis) {
  return apply(k::concatenate(axis), xs);
}
SymbolicTensor slice(const SymbolicTensor& x, Dim axis, Dim start, Dim stop) {
  return apply(k::slice(axis, start, stop), {x});
}
SymbolicTensor gather(const SymbolicTensor& x, const SymbolicTensor& indices, Dim axis) {
  return apply(k::gather(axis), {x, indices});
}
SymbolicTensor take_along_axis(const SymbolicTensor& x, const SymbolicTensor& indices, Dim axis) {
  // NumPy's form (indices of x's rank) or plexus's one-per-position form (the axis dropped).
  if (indices.rank() == x.rank()) return apply(k::take_along(axis), {x, indices});
  return apply(k::take_along_axis(axis), {x, indices});
}
SymbolicTensor softmax(const SymbolicTensor& x, Dim axis) { return apply(k::softmax(axis), {x}); }
SymbolicTensor log_softmax(const SymbolicTensor& x, Dim axis) {
  return apply(k::log_softmax(axis), {x});
}
SymbolicTensor dropout(const SymbolicTensor& x, float rate, Shape noise_shape) {
  return apply(k::dropout(rate, std::move(noise_shape)), {x});
}
SymbolicTensor dropout_mask(const SymbolicTensor& x, float rate, Dim width) {
  return apply(k::dropout_mask(rate, width), {x});
}

std::vector<SymbolicTensor> attention(const SymbolicTensor& query, const SymbolicTensor& key,
                                      const SymbolicTensor& value, kernels::AttentionConfig config,
                                      const SymbolicTensor& mask) {
  config.masked = mask.defined();
  std::vector<SymbolicTensor> in = {query, key, value};
  if (mask.defined()) in.push_back(mask);
  return apply_all(k::attention(config), in);
}
SymbolicTensor masked_softmax(const SymbolicTensor& scores, const SymbolicTensor& mask,
                              bool causal) {
  if (mask.defined()) return apply(k::masked_softmax(true, causal), {scores, mask});
  return apply(k::masked_softmax(false, causal), {scores});
}
SymbolicTensor expand_dims(const SymbolicTensor& x, Dim axis) {
  return apply(k::expand_dims(axis), {x});
}

SymbolicTensor training_select(const SymbolicTensor& a, const SymbolicTensor& b,
                               std::shared_ptr<const bool> enabled) {
  return apply(k::training_select(std::move(enabled)), {a, b});
}

namespace {
std::size_t spatial_rank(const SymbolicTensor& x, const char* op) {
  if (x.rank() != 3 && x.rank() != 4) {
    throw Error(
        "{}: expected an input of rank 3 or 4 (batch, spatial..., channels), received "
        "shape {}",
        op, shape_str(x.shape()));
  }
  return x.rank() - 2;
}
}  // namespace

SymbolicTensor conv(const SymbolicTensor& x, const SymbolicTensor& kernel, k::ConvConfig config,
                    const SymbolicTensor& bias) {
  std::vector<SymbolicTensor> in = {x, kernel};
  if (bias.defined()) in.push_back(bias);
  return ops::apply(k::conv(spatial_rank(x, "conv"), std::move(config)), in);
}
SymbolicTensor conv_transpose(const SymbolicTensor& x, const SymbolicTensor& kernel,
                              k::ConvConfig config, std::vector<Dim> output_padding,
                              const SymbolicTensor& bias) {
  std::vector<SymbolicTensor> in = {x, kernel};
  if (bias.defined()) in.push_back(bias);
  return ops::apply(k::conv_transpose(spatial_rank(x, "conv_transpose"), std::move(config),
                                      std::move(output_padding)),
                    in);
}
SymbolicTensor max_pool(const SymbolicTensor& x, k::PoolConfig config) {
  return apply(k::max_pool(spatial_rank(x, "max_pool"), std::move(config)), {x});
}
SymbolicTensor avg_pool(const SymbolicTensor& x, k::PoolConfig config) {
  return apply(k::avg_pool(spatial_rank(x, "avg_pool"), std::move(config)), {x});
}
SymbolicTensor pad(const SymbolicTensor& x, std::vector<std::pair<Dim, Dim>> pads) {
  return apply(k::pad(std::move(pads)), {x});
}

}  // namespace ops
}  // namespace plexus
