// Merging layers, composed of px::ops (gradients come from the ops' VJPs).
#include "layers/merging.hpp"

#include <fmt/format.h>

#include <utility>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/shape.hpp"
#include "graph/ops.hpp"

namespace plexus::layers {

namespace {
// "(None, 3) and (None, 4)", "(None, 3), (None, 3) and (None, 4)".
std::string shapes_list(const std::vector<Shape>& shapes) {
  std::string s;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    if (i > 0) s += i + 1 == shapes.size() ? " and " : ", ";
    s += shape_str(shapes[i]);
  }
  return s;
}

std::vector<Shape> shapes_of(const std::vector<SymbolicTensor>& xs) {
  std::vector<Shape> shapes;
  for (auto& x : xs) shapes.push_back(x.shape());
  return shapes;
}

// The batch dimension shared by all inputs: -1 unless some input knows it.
Dim merged_batch(const Layer& layer, const std::vector<Shape>& shapes) {
  Dim batch = -1;
  for (auto& s : shapes) {
    if (s.empty()) {
      throw Error("Layer \"{}\" ({}): every input needs a batch axis, received {}", layer.name(),
                  layer.class_name(), shapes_list(shapes));
    }
    if (s[0] < 0) continue;
    if (batch >= 0 && s[0] != batch) {
      throw Error("Layer \"{}\" ({}): inputs must have the same batch size, received {}",
                  layer.name(), layer.class_name(), shapes_list(shapes));
    }
    batch = s[0];
  }
  return batch;
}
}  // namespace

// --- element-wise merges -----------------------------------------------------------------

Shape MergeLayer::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const std::size_t n = input_shapes.size();
  if (n == 0) {
    throw Error("Layer \"{}\" ({}) must be called on a list of at least 1 input", name(),
                class_name());
  }
  if (required_inputs() != 0 && n != required_inputs()) {
    throw Error("Layer \"{}\" ({}) must be called on exactly {} inputs, received {}: {}", name(),
                class_name(), required_inputs(), n, shapes_list(input_shapes));
  }
  const Dim batch = merged_batch(*this, input_shapes);
  // Keras's _compute_elemwise_op_output_shape over the dimensions after the batch, aligned
  // on the right; a dimension of 1 broadcasts.
  Shape out(input_shapes[0].begin() + 1, input_shapes[0].end());
  for (std::size_t i = 1; i < n; ++i) {
    Shape s(input_shapes[i].begin() + 1, input_shapes[i].end());
    Shape longer = out.size() >= s.size() ? out : s;
    const Shape& shorter = out.size() >= s.size() ? s : out;
    const std::size_t offset = longer.size() - shorter.size();
    for (std::size_t k = 0; k < shorter.size(); ++k) {
      Dim& a = longer[offset + k];
      const Dim b = shorter[k];
      if (a < 0 || b < 0) {
        a = -1;
      } else if (a == 1) {
        a = b;
      } else if (b != 1 && a != b) {
        Shape acc{batch};
        acc.insert(acc.end(), out.begin(), out.end());
        throw Error("Layer \"{}\" ({}): inputs must have compatible shapes, received {} and {}{}",
                    name(), class_name(), shape_str(acc), shape_str(input_shapes[i]),
                    n > 2 ? fmt::format(" (input {})", i) : std::string());
      }
    }
    out = std::move(longer);
  }
  out.insert(out.begin(), batch);
  return out;
}

Shape MergeLayer::compute_output_shape(const Shape& input_shape) {
  return compute_output_shape(std::vector<Shape>{input_shape});
}

void MergeLayer::build_list(const std::vector<Shape>& input_shapes) {
  compute_output_shape(input_shapes);  // shape validation only: merges have no weights
}

std::vector<SymbolicTensor> MergeLayer::call_list(const std::vector<SymbolicTensor>& xs) {
  const Shape out = compute_output_shape(shapes_of(xs));
  if (xs.size() == 1) return {xs[0]};
  // Inputs of lower rank gain axes of size 1 right after the batch (Keras expands dims at
  // axis 1), so that the ops' right-aligned broadcasting matches the shape rule above.
  std::vector<SymbolicTensor> same_rank;
  for (auto& x : xs) {
    if (x.rank() == out.size()) {
      same_rank.push_back(x);
      continue;
    }
    Shape target{-1};
    target.insert(target.end(), out.size() - x.rank(), 1);
    target.insert(target.end(), x.shape().begin() + 1, x.shape().end());
    same_rank.push_back(ops::reshape(x, std::move(target)));
  }
  return {merge(same_rank)};
}

SymbolicTensor AddLayer::merge(const std::vector<SymbolicTensor>& xs) {
  SymbolicTensor y = xs[0];
  for (std::size_t i = 1; i < xs.size(); ++i) y = ops::add(y, xs[i]);
  return y;
}

SymbolicTensor SubtractLayer::merge(const std::vector<SymbolicTensor>& xs) {
  return ops::subtract(xs[0], xs[1]);
}

SymbolicTensor MultiplyLayer::merge(const std::vector<SymbolicTensor>& xs) {
  SymbolicTensor y = xs[0];
  for (std::size_t i = 1; i < xs.size(); ++i) y = ops::multiply(y, xs[i]);
  return y;
}

SymbolicTensor AverageLayer::merge(const std::vector<SymbolicTensor>& xs) {
  SymbolicTensor y = xs[0];
  for (std::size_t i = 1; i < xs.size(); ++i) y = ops::add(y, xs[i]);
  return ops::divide(y, static_cast<float>(xs.size()));
}

SymbolicTensor MaximumLayer::merge(const std::vector<SymbolicTensor>& xs) {
  SymbolicTensor y = xs[0];
  for (std::size_t i = 1; i < xs.size(); ++i) y = ops::maximum(y, xs[i]);
  return y;
}

SymbolicTensor MinimumLayer::merge(const std::vector<SymbolicTensor>& xs) {
  SymbolicTensor y = xs[0];
  for (std::size_t i = 1; i < xs.size(); ++i) y = ops::minimum(y, xs[i]);
  return y;
}

// --- Concatenate -------------------------------------------------------------------------

ConcatenateLayer::ConcatenateLayer(Dim axis, MergeOptions options)
    : Layer(options.name), axis_(axis) {}

Shape ConcatenateLayer::compute_output_shape(const std::vector<Shape>& input_shapes) {
  if (input_shapes.empty()) {
    throw Error("Layer \"{}\" (Concatenate) must be called on a list of at least 1 input", name());
  }
  merged_batch(*this, input_shapes);
  const std::size_t rank = input_shapes[0].size();
  auto mismatch = [&] {
    return Error(
        "Layer \"{}\" (Concatenate): a Concatenate layer requires inputs with matching shapes "
        "except for the concatenation axis {}, received {}",
        name(), axis_, shapes_list(input_shapes));
  };
  for (auto& s : input_shapes) {
    if (s.size() != rank) throw mismatch();
  }
  const Dim r = static_cast<Dim>(rank);
  if (axis_ < -r || axis_ >= r) {
    throw Error("Layer \"{}\" (Concatenate): axis {} is out of range for inputs of rank {}: {}",
                name(), axis_, rank, shapes_list(input_shapes));
  }
  const std::size_t axis = static_cast<std::size_t>(axis_ < 0 ? axis_ + r : axis_);
  if (axis == 0) {
    throw Error(
        "Layer \"{}\" (Concatenate): cannot concatenate along the batch axis (axis {}), "
        "received {}",
        name(), axis_, shapes_list(input_shapes));
  }
  if (auto out = concatenated(input_shapes, axis)) return *out;
  throw mismatch();
}

Shape ConcatenateLayer::compute_output_shape(const Shape& input_shape) {
  return compute_output_shape(std::vector<Shape>{input_shape});
}

void ConcatenateLayer::build_list(const std::vector<Shape>& input_shapes) {
  compute_output_shape(input_shapes);
}

std::vector<SymbolicTensor> ConcatenateLayer::call_list(const std::vector<SymbolicTensor>& xs) {
  compute_output_shape(shapes_of(xs));
  if (xs.size() == 1) return {xs[0]};
  return {ops::concatenate(xs, axis_)};
}

// --- Dot ----------------------------------------------------------------------------------

DotLayer::DotLayer(std::vector<Dim> axes, DotOptions options)
    : Layer(options.name), axes_(std::move(axes)), normalize_(options.normalize) {
  if (axes_.size() != 1 && axes_.size() != 2) {
    throw Error("Dot: `axes` must be one axis or a pair of axes, received {}", shape_str(axes_));
  }
}

std::pair<std::size_t, std::size_t> DotLayer::resolved(const std::vector<Shape>& shapes) const {
  if (shapes.size() != 2) {
    throw Error("Layer \"{}\" (Dot) must be called on a list of exactly 2 inputs, received {}",
                name(), shapes_list(shapes));
  }
  std::size_t out[2];
  for (std::size_t i = 0; i < 2; ++i) {
    const Dim r = static_cast<Dim>(shapes[i].size());
    const Dim a = axes_.size() == 1 ? axes_[0] : axes_[i];
    if (r < 2 || a < -r || a >= r || a == 0 || a == -r) {
      throw Error(
          "Layer \"{}\" (Dot): axis {} of input {} is invalid for its shape {} (the batch "
          "axis 0 cannot be contracted)",
          name(), a, i, shape_str(shapes[i]));
    }
    out[i] = static_cast<std::size_t>(a < 0 ? a + r : a);
  }
  const Dim d1 = shapes[0][out[0]], d2 = shapes[1][out[1]];
  if (d1 >= 0 && d2 >= 0 && d1 != d2) {
    throw Error(
        "Layer \"{}\" (Dot): incompatible input shapes: {} (at axis {}) != {} (at axis {}). "
        "Full input shapes: {}",
        name(), d1, out[0], d2, out[1], shapes_list(shapes));
  }
  return {out[0], out[1]};
}

Shape DotLayer::compute_output_shape(const std::vector<Shape>& input_shapes) {
  const auto [a1, a2] = resolved(input_shapes);
  merged_batch(*this, input_shapes);
  Shape out;
  for (std::size_t d = 0; d < input_shapes[0].size(); ++d)
    if (d != a1) out.push_back(input_shapes[0][d]);
  for (std::size_t d = 1; d < input_shapes[1].size(); ++d)
    if (d != a2) out.push_back(input_shapes[1][d]);
  if (out.size() == 1) out.push_back(1);
  return out;
}

Shape DotLayer::compute_output_shape(const Shape& input_shape) {
  return compute_output_shape(std::vector<Shape>{input_shape});
}

void DotLayer::build_list(const std::vector<Shape>& input_shapes) {
  compute_output_shape(input_shapes);
}

std::vector<SymbolicTensor> DotLayer::call_list(const std::vector<SymbolicTensor>& xs) {
  const std::vector<Shape> shapes = shapes_of(xs);
  const Shape out = compute_output_shape(shapes);
  const auto [a1, a2] = resolved(shapes);
  for (std::size_t i = 0; i < 2; ++i) {
    for (std::size_t d = 1; d < shapes[i].size(); ++d) {
      if (shapes[i][d] < 0) {
        throw Error("Layer \"{}\" (Dot): all dimensions after the batch must be known, received {}",
                    name(), shapes_list(shapes));
      }
    }
  }
  SymbolicTensor x1 = xs[0], x2 = xs[1];
  if (normalize_) {
    // Keras's ops.normalize: x / max(||x||_2, epsilon), epsilon = backend.epsilon() = 1e-7.
    auto l2 = [](const SymbolicTensor& x, std::size_t axis) {
      auto norm = ops::sqrt(ops::sum(ops::square(x), {static_cast<Dim>(axis)}, true));
      return ops::divide(x, ops::maximum(norm, ops::constant(1e-7f)));
    };
    x1 = l2(x1, a1);
    x2 = l2(x2, a2);
  }
  // x1 -> [N, A, d] (the contracted axis last), x2 -> [N, d, B] (it first): one batched
  // matmul [N, A, B], then the kept axes of each.
  const Dim d = shapes[0][a1];
  std::vector<std::size_t> p1{0}, p2{0, a2};
  Dim A = 1, B = 1;
  for (std::size_t k = 1; k < shapes[0].size(); ++k) {
    if (k == a1) continue;
    p1.push_back(k);
    A *= shapes[0][k];
  }
  p1.push_back(a1);
  for (std::size_t k = 1; k < shapes[1].size(); ++k) {
    if (k == a2) continue;
    p2.push_back(k);
    B *= shapes[1][k];
  }
  auto t1 = ops::reshape(ops::transpose(x1, p1), {-1, A, d});
  auto t2 = ops::reshape(ops::transpose(x2, p2), {-1, d, B});
  Shape target = out;
  target[0] = -1;
  return {ops::reshape(ops::matmul(t1, t2), std::move(target))};
}

// --- factories ---------------------------------------------------------------------------

LayerHandle<AddLayer> Add(MergeOptions options) { return make_layer<AddLayer>(std::move(options)); }
LayerHandle<SubtractLayer> Subtract(MergeOptions options) {
  return make_layer<SubtractLayer>(std::move(options));
}
LayerHandle<MultiplyLayer> Multiply(MergeOptions options) {
  return make_layer<MultiplyLayer>(std::move(options));
}
LayerHandle<AverageLayer> Average(MergeOptions options) {
  return make_layer<AverageLayer>(std::move(options));
}
LayerHandle<MaximumLayer> Maximum(MergeOptions options) {
  return make_layer<MaximumLayer>(std::move(options));
}
LayerHandle<MinimumLayer> Minimum(MergeOptions options) {
  return make_layer<MinimumLayer>(std::move(options));
}
LayerHandle<ConcatenateLayer> Concatenate(Dim axis, MergeOptions options) {
  return make_layer<ConcatenateLayer>(axis, std::move(options));
}
LayerHandle<DotLayer> Dot(std::vector<Dim> axes, DotOptions options) {
  return make_layer<DotLayer>(std::move(axes), std::move(options));
}
LayerHandle<DotLayer> Dot(Dim axes, DotOptions options) {
  return make_layer<DotLayer>(std::vector<Dim>{axes}, std::move(options));
}
LayerHandle<ConcatenateLayer> Concatenate(MergeOptions options) {
  return make_layer<ConcatenateLayer>(Dim{-1}, std::move(options));
}

// --- configs ---------------------------------------------------------------------------

Config ConcatenateLayer::get_config() const {
  Config c = Layer::get_config();
  c["axis"] = axis_;
  return c;
}

LayerRef ConcatenateLayer::from_config(const Config& config) {
  const Dim axis = config::get_or<Dim>(config, "axis", -1);
  auto layer = make_layer<ConcatenateLayer>(axis, MergeOptions{config::name_of(config)});
  layer->apply_base_config(config);
  return layer;
}

Config DotLayer::get_config() const {
  Config c = Layer::get_config();
  if (axes_.size() == 1) {
    c["axes"] = axes_[0];
  } else {
    c["axes"] = Config::array({axes_[0], axes_[1]});
  }
  c["normalize"] = normalize_;
  return c;
}

LayerRef DotLayer::from_config(const Config& config) {
  const std::string w = fmt::format("Dot \"{}\"", config::name_of(config));
  auto a = config.find("axes");
  std::vector<Dim> axes;
  if (a != config.end() && a->is_number_integer()) {
    axes.push_back(a->get<Dim>());
  } else if (a != config.end() && a->is_array() && a->size() == 2 && (*a)[0].is_number_integer() &&
             (*a)[1].is_number_integer()) {
    axes = {(*a)[0].get<Dim>(), (*a)[1].get<Dim>()};
  } else {
    throw Error("{}: the config needs \"axes\", an int or a pair of ints, received {}", w,
                a == config.end() ? std::string("nothing") : a->dump());
  }
  DotOptions o;
  o.normalize = config::get_or<bool>(config, "normalize", false);
  o.name = config::name_of(config);
  auto layer = make_layer<DotLayer>(std::move(axes), std::move(o));
  layer->apply_base_config(config);
  return layer;
}

}  // namespace plexus::layers
