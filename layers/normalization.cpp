// Normalization layers as compositions of px::ops (mean, subtract, square, sqrt, divide),
// so autodiff gives their gradients.
#include "layers/normalization.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/initializers.hpp"
#include "core/kernel_util.hpp"
#include "graph/ops.hpp"

namespace plexus::layers {

namespace {
// Positive, sorted, distinct axes of a rank-`rank` input; the batch axis is refused.
std::vector<Dim> normalized_axes(const std::vector<Dim>& axes, std::size_t rank,
                                 const Layer& layer) {
  std::vector<Dim> out;
  for (Dim a : axes) {
    const Dim r = Dim(rank);
    if (a < -r || a >= r || a == 0 || a == -r) {
      throw Error(
          "Layer \"{}\" ({}): axis {} is invalid for an input of rank {} (the batch axis "
          "cannot be normalised)",
          layer.name(), layer.class_name(), a, rank);
    }
    out.push_back(a < 0 ? a + r : a);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// (x - mean) / sqrt(var + eps) over `axes`, keeping dims.
SymbolicTensor standardize(const SymbolicTensor& x, const std::vector<Dim>& axes, float eps) {
  auto mean = ops::mean(x, axes, true);
  auto centred = ops::subtract(x, mean);
  auto var = ops::mean(ops::square(centred), axes, true);
  return ops::divide(centred, ops::sqrt(ops::add(var, eps)));
}
}  // namespace

// --- BatchNormalization -------------------------------------------------------------------

BatchNormalizationLayer::BatchNormalizationLayer(BatchNormalizationOptions options)
    : Layer(options.name), options_(std::move(options)) {
  if (!(options_.epsilon >= 0.0f)) {
    throw Error("BatchNormalization: epsilon must be >= 0, received {}", options_.epsilon);
  }
  set_declared_input_shape(options_.input_shape);
}

void BatchNormalizationLayer::set_trainable(bool trainable) {
  Layer::set_trainable(trainable);
  *use_batch_statistics_ = trainable;
}

void BatchNormalizationLayer::build(const Shape& input_shape) {
  const auto a =
      static_cast<std::size_t>(normalized_axes({options_.axis}, input_shape.size(), *this)[0]);
  const Dim c = input_shape[a];
  if (c <= 0) {
    throw Error(
        "Layer \"{}\" (BatchNormalization): axis {} of input tensor should have a defined "
        "dimension but the layer received an input with shape {}",
        name(), options_.axis, shape_str(input_shape));
  }
  if (options_.scale) {
    gamma_ = add_weight("gamma", {c}, options_.gamma_initializer, true, options_.gamma_regularizer,
                        options_.gamma_constraint);
  }
  if (options_.center) {
    beta_ = add_weight("beta", {c}, options_.beta_initializer, true, options_.beta_regularizer,
                       options_.beta_constraint);
  }
  moving_mean_ = add_weight("moving_mean", {c}, options_.moving_mean_initializer, false);
  moving_variance_ =
      add_weight("moving_variance", {c}, options_.moving_variance_initializer, false);
}

SymbolicTensor BatchNormalizationLayer::call(const SymbolicTensor& x) {
  const auto a = static_cast<std::size_t>(normalized_axes({options_.axis}, x.rank(), *this)[0]);
  std::vector<Dim> reduce;
  for (std::size_t d = 0; d < x.rank(); ++d) {
    if (d != a) reduce.push_back(Dim(d));
  }
  // The per-feature statistics are (C); reshaped to (C, 1, ...) when the feature axis is
  // not the last one, so that they broadcast against x.
  Shape broadcast(x.rank() - a, 1);
  broadcast[0] = x.shape()[a];
  auto shaped = [&](const SymbolicTensor& v) {
    return broadcast.size() == 1 ? v : ops::reshape(v, broadcast);
  };
  auto batch_mean = ops::mean(x, reduce);
  auto batch_var = ops::mean(ops::square(ops::subtract(x, shaped(batch_mean))), reduce);
  auto mean = ops::training_select(batch_mean, moving_mean_, use_batch_statistics_);
  auto var = ops::training_select(batch_var, moving_variance_, use_batch_statistics_);
  const float m = options_.momentum;
  add_update(moving_mean_,
             ops::add(ops::multiply(moving_mean_, m), ops::multiply(batch_mean, 1 - m)));
  add_update(moving_variance_,
             ops::add(ops::multiply(moving_variance_, m), ops::multiply(batch_var, 1 - m)));
  auto y = ops::divide(ops::subtract(x, shaped(mean)),
                       shaped(ops::sqrt(ops::add(var, options_.epsilon))));
  if (options_.scale) y = ops::multiply(y, shaped(gamma_));
  if (options_.center) y = ops::add(y, shaped(beta_));
  return y;
}

LayerHandle<BatchNormalizationLayer> BatchNormalization(BatchNormalizationOptions options) {
  return make_layer<BatchNormalizationLayer>(std::move(options));
}

// --- LayerNormalization -------------------------------------------------------------------

LayerNormalizationLayer::LayerNormalizationLayer(LayerNormalizationOptions options)
    : Layer(options.name), options_(std::move(options)) {
  if (options_.axis.empty()) throw Error("LayerNormalization: axis must not be empty");
  if (!(options_.epsilon >= 0.0f)) {
    throw Error("LayerNormalization: epsilon must be >= 0, received {}", options_.epsilon);
  }
  set_declared_input_shape(options_.input_shape);
}

std::vector<Dim> LayerNormalizationLayer::axes(std::size_t rank) const {
  return normalized_axes(options_.axis, rank, *this);
}

void LayerNormalizationLayer::build(const Shape& input_shape) {
  Shape param;
  for (Dim a : axes(input_shape.size())) {
    const Dim d = input_shape[static_cast<std::size_t>(a)];
    if (d <= 0) {
      throw Error("Layer \"{}\" (LayerNormalization): axis {} of the input shape {} must be known",
                  name(), a, shape_str(input_shape));
    }
    param.push_back(d);
  }
  if (options_.scale) {
    gamma_ = add_weight("gamma", param, options_.gamma_initializer, true,
                        options_.gamma_regularizer, options_.gamma_constraint);
  }
  if (options_.center && !options_.rms_scaling) {
    beta_ = add_weight("beta", param, options_.beta_initializer, true, options_.beta_regularizer,
                       options_.beta_constraint);
  }
}

SymbolicTensor LayerNormalizationLayer::call(const SymbolicTensor& x) {
  const std::vector<Dim> ax = axes(x.rank());
  // The weights reshaped to broadcast against x: 1 except along the normalised axes.
  Shape broadcast(x.rank(), 1);
  for (Dim a : ax) broadcast[static_cast<std::size_t>(a)] = x.shape()[static_cast<std::size_t>(a)];
  const bool last_only = ax.size() == 1 && ax[0] == Dim(x.rank()) - 1;
  auto shaped = [&](const SymbolicTensor& w) { return last_only ? w : ops::reshape(w, broadcast); };
  SymbolicTensor y;
  if (options_.rms_scaling) {
    y = ops::divide(x, ops::sqrt(ops::add(ops::mean(ops::square(x), ax, true), options_.epsilon)));
  } else {
    y = standardize(x, ax, options_.epsilon);
  }
  if (options_.scale) y = ops::multiply(y, shaped(gamma_));
  if (options_.center && !options_.rms_scaling) y = ops::add(y, shaped(beta_));
  return y;
}

LayerHandle<LayerNormalizationLayer> LayerNormalization(LayerNormalizationOptions options) {
  return make_layer<LayerNormalizationLayer>(std::move(options));
}

// --- GroupNormalization -------------------------------------------------------------------

GroupNormalizationLayer::GroupNormalizationLayer(GroupNormalizationOptions options)
    : Layer(options.name), options_(std::move(options)) {
  if (options_.groups == 0 || options_.groups < -1) {
    throw Error("GroupNormalization: groups must be positive (or -1), received {}",
                options_.groups);
  }
  set_declared_input_shape(options_.input_shape);
}

void GroupNormalizationLayer::build(const Shape& input_shape) {
  const std::size_t a = normalized_axes({options_.axis}, input_shape.size(), *this)[0];
  const Dim c = input_shape[a];
  if (c <= 0) {
    throw Error(
        "Layer \"{}\" (GroupNormalization): axis {} of input tensor should have a defined "
        "dimension but the layer received an input with shape {}",
        name(), options_.axis, shape_str(input_shape));
  }
  groups_ = options_.groups == -1 ? c : options_.groups;
  if (groups_ > c) {
    throw Error(
        "Layer \"{}\" (GroupNormalization): number of groups ({}) cannot be more than the number "
        "of channels ({})",
        name(), groups_, c);
  }
  if (c % groups_ != 0) {
    throw Error(
        "Layer \"{}\" (GroupNormalization): number of groups ({}) must be a multiple of the "
        "number of channels ({})",
        name(), groups_, c);
  }
  if (options_.scale) {
    gamma_ = add_weight("gamma", {c}, options_.gamma_initializer, true, options_.gamma_regularizer,
                        options_.gamma_constraint);
  }
  if (options_.center) {
    beta_ = add_weight("beta", {c}, options_.beta_initializer, true, options_.beta_regularizer,
                       options_.beta_constraint);
  }
}

SymbolicTensor GroupNormalizationLayer::call(const SymbolicTensor& x) {
  const std::size_t a = normalized_axes({options_.axis}, x.rank(), *this)[0];
  const Dim c = x.shape()[a];
  // [N, ..., C, ...] -> [N, ..., G, C / G, ...], normalised over all axes but N and G.
  Shape grouped{-1};
  for (std::size_t d = 1; d < x.rank(); ++d) {
    if (x.shape()[d] < 0) {
      throw Error(
          "Layer \"{}\" (GroupNormalization): all dimensions after the batch must be "
          "known, received input with shape {}",
          name(), shape_str(x.shape()));
    }
    if (d == a) {
      grouped.push_back(groups_);
      grouped.push_back(c / groups_);
    } else {
      grouped.push_back(x.shape()[d]);
    }
  }
  std::vector<Dim> reduce;
  for (std::size_t d = 1; d < grouped.size(); ++d) {
    if (d != a) reduce.push_back(Dim(d));
  }
  Shape back = x.shape();
  back[0] = -1;
  auto y = ops::reshape(standardize(ops::reshape(x, grouped), reduce, options_.epsilon), back);
  Shape broadcast(x.rank() - a, 1);
  broadcast[0] = c;
  auto shaped = [&](const SymbolicTensor& w) {
    return broadcast.size() == 1 ? w : ops::reshape(w, broadcast);
  };
  if (options_.scale) y = ops::multiply(y, shaped(gamma_));
  if (options_.center) y = ops::add(y, shaped(beta_));
  return y;
}

LayerHandle<GroupNormalizationLayer> GroupNormalization(GroupNormalizationOptions options) {
  return make_layer<GroupNormalizationLayer>(std::move(options));
}

// --- UnitNormalization --------------------------------------------------------------------

UnitNormalizationLayer::UnitNormalizationLayer(UnitNormalizationOptions options)
    : Layer(options.name), axis_(std::move(options.axis)) {
  if (axis_.empty()) throw Error("UnitNormalization: axis must not be empty");
  set_declared_input_shape(std::move(options.input_shape));
}

SymbolicTensor UnitNormalizationLayer::call(const SymbolicTensor& x) {
  const std::vector<Dim> ax = normalized_axes(axis_, x.rank(), *this);
  auto square_sum = ops::sum(ops::square(x), ax, true);
  return ops::divide(x, ops::sqrt(ops::maximum(square_sum, ops::constant(1e-12f))));
}

LayerHandle<UnitNormalizationLayer> UnitNormalization(UnitNormalizationOptions options) {
  return make_layer<UnitNormalizationLayer>(std::move(options));
}

// --- RMSNormalization ---------------------------------------------------------------------

RMSNormalizationLayer::RMSNormalizationLayer(RMSNormalizationOptions options)
    : Layer(options.name), options_(std::move(options)) {
  if (options_.axis.empty()) throw Error("RMSNormalization: axis must not be empty");
  if (!(options_.epsilon >= 0.0f)) {
    throw Error("RMSNormalization: epsilon must be >= 0, received {}", options_.epsilon);
  }
  set_declared_input_shape(options_.input_shape);
}

void RMSNormalizationLayer::build(const Shape& input_shape) {
  Shape param;
  for (Dim a : normalized_axes(options_.axis, input_shape.size(), *this)) {
    const Dim d = input_shape[static_cast<std::size_t>(a)];
    if (d <= 0) {
      throw Error("Layer \"{}\" (RMSNormalization): axis {} of the input shape {} must be known",
                  name(), a, shape_str(input_shape));
    }
    param.push_back(d);
  }
  scale_ = add_weight("scale", param, "ones");
}

SymbolicTensor RMSNormalizationLayer::call(const SymbolicTensor& x) {
  const std::vector<Dim> ax = normalized_axes(options_.axis, x.rank(), *this);
  Shape broadcast(x.rank(), 1);
  for (Dim a : ax) broadcast[static_cast<std::size_t>(a)] = x.shape()[static_cast<std::size_t>(a)];
  const bool last_only = ax.size() == 1 && ax[0] == Dim(x.rank()) - 1;
  auto y =
      ops::divide(x, ops::sqrt(ops::add(ops::mean(ops::square(x), ax, true), options_.epsilon)));
  return ops::multiply(y, last_only ? scale_ : ops::reshape(scale_, broadcast));
}

LayerHandle<RMSNormalizationLayer> RMSNormalization(RMSNormalizationOptions options) {
  return make_layer<RMSNormalizationLayer>(std::move(options));
}

}  // namespace plexus::layers
