// keras.ops beyond the primitives: Keras 3's names and semantics, composed from the kernels
// (so each is differentiable, and twice differentiable where its kernels are), plus the
// constants (arange, eye, ...) and the few ops with kernels of their own.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.hpp"
#include "core/kernels.hpp"
#include "core/shape.hpp"
#include "graph/detail/gradients.hpp"
#include "graph/ops.hpp"

namespace plexus::ops {

namespace k = plexus::kernels;
using ST = SymbolicTensor;

namespace {

std::size_t axis_of(const ST& x, Dim axis, const char* op) {
  return normalize_axis(axis, x.rank(), op);
}
// The length of x along axis; px::Error unless it is known.
Dim known_dim(const ST& x, Dim axis, const char* op) {
  const Dim n = x.shape()[axis_of(x, axis, op)];
  if (n < 0) {
    throw Error("{}: needs a known length along axis {} of shape {}", op, axis,
                shape_str(x.shape()));
  }
  return n;
}
Shape known_shape(const ST& x, const char* op) {
  for (Dim d : x.shape()) {
    if (d < 0) throw Error("{}: needs a fully known shape, received {}", op, shape_str(x.shape()));
  }
  return x.shape();
}
Tensor filled(const Shape& shape, float value, const char* op) {
  for (Dim d : shape) {
    if (d < 0) throw Error("{}: shape {} must be known (no -1)", op, shape_str(shape));
  }
  return allocate_tensor(shape, value, op);
}
ST c(float v) { return constant(v); }
Tensor vector_of(const std::vector<float>& v) {
  Tensor t = Tensor::from_shape({v.size()});
  std::copy(v.begin(), v.end(), t.begin());
  return t;
}
std::vector<Dim> all_axes(const ST& x) {
  std::vector<Dim> a(x.rank());
  for (std::size_t d = 0; d < a.size(); ++d) a[d] = Dim(d);
  return a;
}

}  // namespace

// ---- shapes and types --------------------------------------------------------------------
Shape shape(const ST& x) { return x.shape(); }
Dim ndim(const ST& x) { return Dim(x.rank()); }
Dim size(const ST& x) {
  Dim n = 1;
  for (Dim d : x.shape()) {
    if (d < 0) return -1;
    n *= d;
  }
  return n;
}
std::string dtype(const ST& x) { return x.dtype(); }
ST cast(const ST& x, const std::string& dtype) {
  if (dtype == "bool") return not_equal(x, c(0.0f));
  if (dtype.rfind("float", 0) == 0 || dtype == "bfloat16") return x;
  if (dtype.rfind("int", 0) == 0 || dtype.rfind("uint", 0) == 0) {
    return x.dtype() == "float32" ? trunc(x) : x;
  }
  throw Error("cast: unknown dtype \"{}\" (float16/32/64, bfloat16, int8..64, uint8..64, bool)",
              dtype);
}
ST convert_to_tensor(const Tensor& value) { return constant(value); }
bool is_tensor(const ST& x) { return x.defined(); }
ST copy(const ST& x) { return x; }
ST stop_gradient(const ST& x) { return apply(k::stop_gradient(), {x}); }
ST affine(const ST& x, float scale, float shift) { return apply(k::affine(scale, shift), {x}); }

// ---- creation ------------------------------------------------------------------------------
ST zeros(const Shape& s) { return constant(filled(s, 0.0f, "zeros")); }
ST ones(const Shape& s) { return constant(filled(s, 1.0f, "ones")); }
ST full(const Shape& s, float v) { return constant(filled(s, v, "full")); }
ST empty(const Shape& s) { return zeros(s); }
ST zeros_like(const ST& x) { return apply(k::fill_like(0.0f), {x}); }
ST ones_like(const ST& x) { return apply(k::fill_like(1.0f), {x}); }
ST full_like(const ST& x, float v) { return apply(k::fill_like(v), {x}); }
ST empty_like(const ST& x) { return zeros_like(x); }
ST arange(float start, float stop, float step) {
  if (step == 0.0f) throw Error("arange: step must not be 0");
  const double n = std::ceil((double(stop) - start) / step);
  std::vector<float> v;
  for (Dim i = 0; i < Dim(std::max(n, 0.0)); ++i) v.push_back(float(start + double(i) * step));
  return constant(vector_of(v));
}
ST arange(float stop) { return arange(0.0f, stop, 1.0f); }
namespace {
std::vector<double> lin(double start, double stop, Dim num, bool endpoint, const char* op) {
  if (num < 0) throw Error("{}: num must be >= 0, received {}", op, num);
  std::vector<double> v;
  const double div = endpoint ? double(num - 1) : double(num);
  const double step = div > 0 ? (stop - start) / div : 0.0;
  for (Dim i = 0; i < num; ++i) v.push_back(start + double(i) * step);
  if (endpoint && num > 1) v.back() = stop;
  return v;
}
ST from_doubles(const std::vector<double>& v) {
  return constant(vector_of(std::vector<float>(v.begin(), v.end())));
}
}  // namespace
ST linspace(float start, float stop, Dim num, bool endpoint) {
  return from_doubles(lin(start, stop, num, endpoint, "linspace"));
}
ST logspace(float start, float stop, Dim num, bool endpoint, float base) {
  auto v = lin(start, stop, num, endpoint, "logspace");
  for (double& e : v) e = std::pow(double(base), e);
  return from_doubles(v);
}
ST geomspace(float start, float stop, Dim num, bool endpoint) {
  if (!(start > 0 && stop > 0) && !(start < 0 && stop < 0)) {
    throw Error("geomspace: start {} and stop {} must be nonzero with the same sign", start, stop);
  }
  const double sgn = start < 0 ? -1.0 : 1.0;
  auto v = lin(std::log(sgn * start), std::log(sgn * stop), num, endpoint, "geomspace");
  for (double& e : v) e = sgn * std::exp(e);
  if (num > 0) v.front() = start;
  if (endpoint && num > 1) v.back() = stop;
  return from_doubles(v);
}
namespace {
Tensor band(Dim n, Dim m, const std::function<bool(Dim, Dim)>& on, const char* op) {
  if (m < 0) m = n;
  Tensor t = filled({n, m}, 0.0f, op);
  for (Dim i = 0; i < n; ++i)
    for (Dim j = 0; j < m; ++j) t(std::size_t(i), std::size_t(j)) = on(i, j) ? 1.0f : 0.0f;
  return t;
}
}  // namespace
ST eye(Dim n, Dim m, Dim kk) {
  return constant(band(
      n, m, [kk](Dim i, Dim j) { return j - i == kk; }, "eye"));
}
ST identity(Dim n) { return eye(n); }
ST tri(Dim n, Dim m, Dim kk) {
  return constant(band(
      n, m, [kk](Dim i, Dim j) { return j <= i + kk; }, "tri"));
}
std::vector<ST> meshgrid(const std::vector<Tensor>& xs, const std::string& indexing) {
  if (indexing != "xy" && indexing != "ij") {
    throw Error("meshgrid: indexing must be \"xy\" or \"ij\", received \"{}\"", indexing);
  }
  Shape s;
  for (const Tensor& x : xs) s.push_back(Dim(x.size()));
  const bool xy = indexing == "xy" && xs.size() >= 2;
  if (xy) std::swap(s[0], s[1]);
  std::vector<ST> out;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    Tensor t = filled(s, 0.0f, "meshgrid");
    const std::size_t axis = xy && i < 2 ? 1 - i : i;
    std::size_t inner = 1;
    for (std::size_t d = axis + 1; d < s.size(); ++d) inner *= std::size_t(s[d]);
    for (std::size_t f = 0; f < t.size(); ++f)
      t.data()[f] = xs[i].data()[(f / inner) % xs[i].size()];
    out.push_back(constant(std::move(t)));
  }
  return out;
}

// ---- element-wise, unary -------------------------------------------------------------------
ST absolute(const ST& x) { return abs(x); }
ST fabs(const ST& x) { return abs(x); }
ST sin(const ST& x) { return apply(k::sin(), {x}); }
ST cos(const ST& x) { return apply(k::cos(), {x}); }
ST tan(const ST& x) { return apply(k::tan(), {x}); }
ST arcsin(const ST& x) { return apply(k::arcsin(), {x}); }
ST arccos(const ST& x) { return apply(k::arccos(), {x}); }
ST arctan(const ST& x) { return apply(k::arctan(), {x}); }
ST sinh(const ST& x) { return apply(k::sinh(), {x}); }
ST cosh(const ST& x) { return apply(k::cosh(), {x}); }
ST arcsinh(const ST& x) { return apply(k::arcsinh(), {x}); }
ST arccosh(const ST& x) { return apply(k::arccosh(), {x}); }
ST arctanh(const ST& x) { return apply(k::arctanh(), {x}); }
ST erf(const ST& x) { return apply(k::erf(), {x}); }
ST erfc(const ST& x) { return subtract(1.0f, erf(x)); }
ST log1p(const ST& x) { return apply(k::log1p(), {x}); }
ST expm1(const ST& x) { return apply(k::expm1(), {x}); }
ST log2(const ST& x) { return multiply(log(x), float(1.0 / std::numbers::ln2)); }
ST log10(const ST& x) { return multiply(log(x), float(1.0 / std::numbers::ln10)); }
ST exp2(const ST& x) { return exp(multiply(x, float(std::numbers::ln2))); }
ST reciprocal(const ST& x) { return apply(k::reciprocal(), {x}); }
ST rsqrt(const ST& x) { return reciprocal(sqrt(x)); }
ST cbrt(const ST& x) { return multiply(sign(x), pow(abs(x), 1.0f / 3.0f)); }
ST sign(const ST& x) { return apply(k::sign(), {x}); }
ST floor(const ST& x) { return apply(k::floor(), {x}); }
ST ceil(const ST& x) { return apply(k::ceil(), {x}); }
ST round(const ST& x) { return apply(k::round(), {x}); }
ST trunc(const ST& x) { return apply(k::trunc(), {x}); }
ST isnan(const ST& x) { return apply(k::isnan(), {x}); }
ST isinf(const ST& x) { return apply(k::isinf(), {x}); }
ST isfinite(const ST& x) { return apply(k::isfinite(), {x}); }
ST isposinf(const ST& x) { return logical_and(isinf(x), greater(x, c(0.0f))); }
ST isneginf(const ST& x) { return logical_and(isinf(x), less(x, c(0.0f))); }
ST signbit(const ST& x) { return less(x, c(0.0f)); }
ST nan_to_num(const ST& x, float nan, float posinf, float neginf) {
  return where(isnan(x), c(nan), where(isposinf(x), c(posinf), where(isneginf(x), c(neginf), x)));
}
ST deg2rad(const ST& x) { return multiply(x, float(std::numbers::pi / 180.0)); }
ST rad2deg(const ST& x) { return multiply(x, float(180.0 / std::numbers::pi)); }
ST sinc(const ST& x) {
  const ST zero = equal(x, c(0.0f));
  const ST px = multiply(where(zero, c(1.0f), x), float(std::numbers::pi));
  return where(zero, c(1.0f), divide(sin(px), px));
}

// ---- element-wise, binary ------------------------------------------------------------------
ST true_divide(const ST& a, const ST& b) { return divide(a, b); }
ST power(const ST& a, const ST& b) { return pow(a, b); }
ST floor_divide(const ST& a, const ST& b) { return apply(k::floor_divide(), {a, b}); }
ST mod(const ST& a, const ST& b) { return apply(k::mod(), {a, b}); }
ST arctan2(const ST& a, const ST& b) { return apply(k::arctan2(), {a, b}); }
ST hypot(const ST& a, const ST& b) { return sqrt(add(square(a), square(b))); }
ST logaddexp(const ST& a, const ST& b) {
  return add(maximum(a, b), log1p(exp(negative(abs(subtract(a, b))))));
}
ST logaddexp2(const ST& a, const ST& b) {
  const float ln2 = float(std::numbers::ln2);
  return divide(logaddexp(multiply(a, ln2), multiply(b, ln2)), ln2);
}
ST divide_no_nan(const ST& a, const ST& b) {
  const ST zero = equal(b, c(0.0f));
  return where(zero, c(0.0f), divide(a, where(zero, c(1.0f), b)));
}
ST fmax(const ST& a, const ST& b) { return where(isnan(a), b, where(isnan(b), a, maximum(a, b))); }
ST fmin(const ST& a, const ST& b) { return where(isnan(a), b, where(isnan(b), a, minimum(a, b))); }
ST heaviside(const ST& x, const ST& h0) {
  return where(less(x, c(0.0f)), c(0.0f), where(greater(x, c(0.0f)), c(1.0f), h0));
}
ST equal(const ST& a, const ST& b) { return apply(k::equal(), {a, b}); }
ST not_equal(const ST& a, const ST& b) { return apply(k::not_equal(), {a, b}); }
ST greater(const ST& a, const ST& b) { return apply(k::greater(), {a, b}); }
ST greater_equal(const ST& a, const ST& b) { return apply(k::greater_equal(), {a, b}); }
ST less(const ST& a, const ST& b) { return apply(k::less(), {a, b}); }
ST less_equal(const ST& a, const ST& b) { return apply(k::less_equal(), {a, b}); }
ST logical_and(const ST& a, const ST& b) { return apply(k::logical_and(), {a, b}); }
ST logical_or(const ST& a, const ST& b) { return apply(k::logical_or(), {a, b}); }
ST logical_xor(const ST& a, const ST& b) { return apply(k::logical_xor(), {a, b}); }
ST logical_not(const ST& x) { return apply(k::logical_not(), {x}); }
ST isclose(const ST& a, const ST& b, float rtol, float atol) {
  return less_equal(abs(subtract(a, b)), add(multiply(abs(b), rtol), atol));
}
ST select(const std::vector<ST>& conditions, const std::vector<ST>& choices, float default_value) {
  if (conditions.size() != choices.size() || conditions.empty()) {
    throw Error("select: {} conditions for {} choices (need the same nonzero number)",
                conditions.size(), choices.size());
  }
  ST out = c(default_value);
  for (std::size_t i = conditions.size(); i-- > 0;) out = where(conditions[i], choices[i], out);
  return out;
}

// ---- activations -----------------------------------------------------------------------------
ST silu(const ST& x) { return swish(x); }
ST relu6(const ST& x) { return clip(x, 0.0f, 6.0f); }
ST celu(const ST& x, float alpha) {
  return add(relu(x), minimum(c(0.0f), multiply(expm1(divide(x, alpha)), alpha)));
}
ST glu(const ST& x, Dim axis) {
  const Dim n = known_dim(x, axis, "glu");
  if (n % 2 != 0)
    throw Error("glu: axis {} of shape {} must have an even length", axis, shape_str(x.shape()));
  auto halves = split(x, {n / 2, n / 2}, axis);
  return multiply(halves[0], sigmoid(halves[1]));
}
ST hard_silu(const ST& x) { return multiply(x, hard_sigmoid(x)); }
ST hard_swish(const ST& x) { return hard_silu(x); }
ST hard_tanh(const ST& x) { return clip(x, -1.0f, 1.0f); }
ST hard_shrink(const ST& x, float t) { return where(greater(abs(x), c(t)), x, c(0.0f)); }
ST soft_shrink(const ST& x, float t) {
  return where(greater(x, c(t)), subtract(x, t), where(less(x, c(-t)), add(x, t), c(0.0f)));
}
ST tanh_shrink(const ST& x) { return subtract(x, tanh(x)); }
ST log_sigmoid(const ST& x) { return negative(softplus(negative(x))); }
ST softsign(const ST& x) { return apply(k::softsign(), {x}); }
ST squareplus(const ST& x, float b) { return multiply(add(x, sqrt(add(square(x), b))), 0.5f); }
ST sparse_plus(const ST& x) {
  return where(less_equal(x, c(-1.0f)), c(0.0f),
               where(greater_equal(x, c(1.0f)), x, multiply(square(add(x, 1.0f)), 0.25f)));
}
ST sparse_sigmoid(const ST& x) {
  return where(less_equal(x, c(-1.0f)), c(0.0f),
               where(greater_equal(x, c(1.0f)), c(1.0f), affine(x, 0.5f, 0.5f)));
}
ST threshold(const ST& x, float t, float default_value) {
  return where(greater(x, c(t)), x, c(default_value));
}
ST normalize(const ST& x, Dim axis, float order, float epsilon) {
  return divide(x, maximum(norm(x, order, {axis}, true), c(epsilon)));
}

// ---- reductions --------------------------------------------------------------------------------
ST amax(const ST& x, std::vector<Dim> axes, bool keepdims) { return max(x, axes, keepdims); }
ST min(const ST& x, std::vector<Dim> axes, bool keepdims) {
  return negative(max(negative(x), std::move(axes), keepdims));
}
ST amin(const ST& x, std::vector<Dim> axes, bool keepdims) { return min(x, axes, keepdims); }
// prod = sign * exp(sum(log|x|)), 0 where some factor is 0 (whose gradient is then 0).
ST prod(const ST& x, std::vector<Dim> axes, bool keepdims) {
  const ST zero = equal(x, c(0.0f));
  const ST safe = where(zero, c(1.0f), x);
  const ST negatives = sum(less(x, c(0.0f)), axes, keepdims);
  const ST sgn = subtract(1.0f, multiply(mod(negatives, c(2.0f)), 2.0f));
  const ST magnitude = exp(sum(log(abs(safe)), axes, keepdims));
  return where(max(zero, axes, keepdims), c(0.0f), multiply(sgn, magnitude));
}
ST var(const ST& x, std::vector<Dim> axes, bool keepdims) {
  const ST centred = subtract(x, mean(x, axes, true));
  return mean(square(centred), axes, keepdims);
}
ST std(const ST& x, std::vector<Dim> axes, bool keepdims) {
  return sqrt(var(x, std::move(axes), keepdims));
}
ST ptp(const ST& x, std::vector<Dim> axes, bool keepdims) {
  return subtract(max(x, axes, keepdims), min(x, axes, keepdims));
}
ST logsumexp(const ST& x, std::vector<Dim> axes, bool keepdims) {
  // The shift m cancels exactly (its gradient is zero), so it needs none.
  const ST m = stop_gradient(max(x, axes, true));
  const ST shift = stop_gradient(max(x, axes, keepdims));
  return add(log(sum(exp(subtract(x, m)), axes, keepdims)), shift);
}
ST any(const ST& x, std::vector<Dim> axes, bool keepdims) {
  return max(not_equal(x, c(0.0f)), std::move(axes), keepdims);
}
ST all(const ST& x, std::vector<Dim> axes, bool keepdims) {
  return min(not_equal(x, c(0.0f)), std::move(axes), keepdims);
}
ST count_nonzero(const ST& x, std::vector<Dim> axes) {
  return sum(not_equal(x, c(0.0f)), std::move(axes));
}
ST average(const ST& x, std::vector<Dim> axes, const ST& weights) {
  if (!weights.defined()) return mean(x, std::move(axes));
  ST w = weights;
  if (w.rank() == 1 && x.rank() > 1) {
    if (axes.size() != 1) {
      throw Error("average: 1-D weights need exactly one axis (x has shape {})",
                  shape_str(x.shape()));
    }
    Shape s(x.rank(), 1);
    s[axis_of(x, axes[0], "average")] = w.shape()[0];
    w = reshape(w, s);
  }
  return divide(sum(multiply(x, w), axes), sum(multiply(ones_like(x), w), axes));
}
ST norm(const ST& x, float ord, std::vector<Dim> axes, bool keepdims) {
  if (axes.empty()) axes = all_axes(x);
  const ST a = abs(x);
  if (ord == 2.0f) return sqrt(sum(square(x), axes, keepdims));
  if (ord == 1.0f && axes.size() == 1) return sum(a, axes, keepdims);
  if (std::isinf(ord) && axes.size() == 1) {
    return ord > 0 ? max(a, axes, keepdims) : min(a, axes, keepdims);
  }
  if (ord == 0.0f && axes.size() == 1) return count_nonzero(x, axes);
  if (ord >= 1.0f && axes.size() == 1) {
    return pow(sum(pow(a, ord), axes, keepdims), 1.0f / ord);
  }
  throw Error(
      "norm: ord {} over {} axes is not supported (vector norms: 0, 1, p >= 1, inf, -inf; "
      "2 = Euclidean / Frobenius over several axes)",
      ord, axes.size());
}
std::pair<ST, ST> moments(const ST& x, std::vector<Dim> axes, bool keepdims) {
  return {mean(x, axes, keepdims), var(x, axes, keepdims)};
}
ST argmax(const ST& x, Dim axis, bool keepdims) {
  return apply(k::arg_reduce(axis, true, keepdims), {x});
}
ST argmin(const ST& x, Dim axis, bool keepdims) {
  return apply(k::arg_reduce(axis, false, keepdims), {x});
}
ST cumsum(const ST& x, Dim axis) { return apply(k::cumsum(axis), {x}); }
ST diff(const ST& x, Dim n, Dim axis) {
  ST y = x;
  for (Dim i = 0; i < n; ++i) {
    const Dim len = known_dim(y, axis, "diff");
    y = subtract(slice(y, axis, 1, len), slice(y, axis, 0, len - 1));
  }
  return y;
}
ST trapezoid(const ST& y, float dx, Dim axis) {
  const Dim len = known_dim(y, axis, "trapezoid");
  return multiply(sum(add(slice(y, axis, 1, len), slice(y, axis, 0, len - 1)), {axis}), 0.5f * dx);
}

// ---- sorting and selection ---------------------------------------------------------------------
std::vector<ST> top_k(const ST& x, Dim kk, bool) {
  const ST idx = apply(k::top_k_indices(kk), {x});
  return {apply(k::take_along(-1), {x, idx}), idx};
}
namespace {
ST last_axis(const ST& x, Dim axis, const std::function<ST(const ST&)>& f) {
  const Dim a = Dim(axis_of(x, axis, "sort"));
  const Dim last = Dim(x.rank()) - 1;
  if (a == last) return f(x);
  return moveaxis(f(moveaxis(x, a, last)), last, a);
}
}  // namespace
ST argsort(const ST& x, Dim axis) {
  return last_axis(x, axis, [](const ST& y) {
    return apply(k::top_k_indices(known_dim(y, -1, "argsort")), {negative(y)});
  });
}
ST sort(const ST& x, Dim axis) {
  return last_axis(x, axis, [](const ST& y) {
    const ST idx = apply(k::top_k_indices(known_dim(y, -1, "sort")), {negative(y)});
    return apply(k::take_along(-1), {y, idx});
  });
}
ST in_top_k(const ST& targets, const ST& predictions, Dim kk) {
  const ST picked = expand_dims(take_along_axis(predictions, targets, -1), -1);
  return less(sum(greater(predictions, picked), {-1}), c(float(kk)));
}
ST one_hot(const ST& x, Dim num_classes, Dim axis) {
  const ST hot = equal(expand_dims(x, -1), arange(float(num_classes)));
  const Dim a = Dim(normalize_axis(axis, x.rank() + 1, "one_hot"));
  return a == Dim(x.rank()) ? hot : moveaxis(hot, -1, a);
}
ST multi_hot(const ST& x, Dim num_classes, Dim axis) {
  const ST hot = one_hot(x, num_classes, -1);
  const ST out = x.rank() == 0 ? hot : max(hot, {-2});
  return axis == -1 ? out : moveaxis(out, -1, axis);
}
ST take(const ST& x, const ST& indices, Dim axis) {
  ST src = x;
  Dim a = axis;
  if (axis == kNoAxis) {
    src = reshape(x, {-1});
    a = 0;
  }
  const Dim n = src.shape()[axis_of(src, a, "take")];
  ST idx = indices;
  if (n >= 0) idx = where(less(indices, c(0.0f)), add(indices, float(n)), indices);
  return gather(src, idx, a);
}

// ---- shape manipulation ------------------------------------------------------------------------
ST broadcast_to(const ST& x, const Shape& s) {
  return detail::expand_like(x, constant(filled(s, 0.0f, "broadcast_to")));
}
ST squeeze(const ST& x, std::vector<Dim> axes) {
  std::vector<bool> drop(x.rank(), false);
  if (axes.empty()) {
    for (std::size_t d = 0; d < x.rank(); ++d) drop[d] = x.shape()[d] == 1;
  }
  for (Dim a : axes) {
    const std::size_t d = axis_of(x, a, "squeeze");
    if (x.shape()[d] != 1 && x.shape()[d] >= 0) {
      throw Error("squeeze: axis {} of shape {} is not 1", a, shape_str(x.shape()));
    }
    drop[d] = true;
  }
  Shape s;
  for (std::size_t d = 0; d < x.rank(); ++d)
    if (!drop[d]) s.push_back(x.shape()[d]);
  return reshape(x, s);
}
ST ravel(const ST& x) { return reshape(x, {-1}); }
ST moveaxis(const ST& x, Dim source, Dim destination) {
  const std::size_t s = axis_of(x, source, "moveaxis"), d = axis_of(x, destination, "moveaxis");
  std::vector<std::size_t> perm;
  for (std::size_t i = 0; i < x.rank(); ++i)
    if (i != s) perm.push_back(i);
  perm.insert(perm.begin() + std::ptrdiff_t(d), s);
  return transpose(x, perm);
}
ST swapaxes(const ST& x, Dim axis1, Dim axis2) {
  std::vector<std::size_t> perm(x.rank());
  for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = i;
  std::swap(perm[axis_of(x, axis1, "swapaxes")], perm[axis_of(x, axis2, "swapaxes")]);
  return transpose(x, perm);
}
ST flip(const ST& x, std::vector<Dim> axes) {
  if (axes.empty()) axes = all_axes(x);
  ST y = x;
  for (Dim a : axes) y = apply(k::reverse(a), {y});
  return y;
}
ST fliplr(const ST& x) { return flip(x, {1}); }
ST flipud(const ST& x) { return flip(x, {0}); }
ST rot90(const ST& x, int kk, std::pair<Dim, Dim> axes) {
  kk = ((kk % 4) + 4) % 4;
  if (kk == 0) return x;
  if (kk == 2) return flip(x, {axes.first, axes.second});
  const ST t = swapaxes(x, axes.first, axes.second);
  return kk == 1 ? swapaxes(flip(x, {axes.second}), axes.first, axes.second)
                 : flip(t, {axes.second});
}
ST roll(const ST& x, Dim shift, Dim axis) {
  if (axis == kNoAxis) return reshape(roll(ravel(x), shift, 0), known_shape(x, "roll"));
  const Dim n = known_dim(x, axis, "roll");
  if (n == 0) return x;
  const Dim s = ((shift % n) + n) % n;
  if (s == 0) return x;
  return concatenate({slice(x, axis, n - s, n), slice(x, axis, 0, n - s)}, axis);
}
ST stack(const std::vector<ST>& xs, Dim axis) {
  if (xs.empty()) throw Error("stack: needs at least one tensor");
  std::vector<ST> e;
  for (const ST& x : xs) e.push_back(expand_dims(x, axis));
  return concatenate(e, axis);
}
std::vector<ST> unstack(const ST& x, Dim axis) {
  const Dim n = known_dim(x, axis, "unstack");
  std::vector<ST> out;
  for (const ST& piece : split(x, std::vector<Dim>(std::size_t(n), 1), axis)) {
    out.push_back(squeeze(piece, {axis}));
  }
  return out;
}
ST hstack(const std::vector<ST>& xs) {
  if (xs.empty()) throw Error("hstack: needs at least one tensor");
  return concatenate(xs, xs[0].rank() == 1 ? 0 : 1);
}
ST vstack(const std::vector<ST>& xs) {
  if (xs.empty()) throw Error("vstack: needs at least one tensor");
  if (xs[0].rank() != 1) return concatenate(xs, 0);
  return stack(xs, 0);
}
ST dstack(const std::vector<ST>& xs) {
  std::vector<ST> e;
  for (const ST& x : xs) {
    if (x.rank() == 1) {
      e.push_back(expand_dims(expand_dims(x, 0), -1));
    } else if (x.rank() == 2) {
      e.push_back(expand_dims(x, -1));
    } else {
      e.push_back(x);
    }
  }
  return concatenate(e, 2);
}
ST append(const ST& a, const ST& b, Dim axis) {
  if (axis == kNoAxis) return concatenate({ravel(a), ravel(b)}, 0);
  return concatenate({a, b}, axis);
}
std::vector<ST> array_split(const ST& x, Dim sections, Dim axis) {
  const Dim n = known_dim(x, axis, "array_split");
  if (sections < 1) throw Error("array_split: sections must be >= 1, received {}", sections);
  std::vector<Dim> sizes;
  for (Dim i = 0; i < sections; ++i) sizes.push_back(n / sections + (i < n % sections ? 1 : 0));
  return split(x, sizes, axis);
}
namespace {
std::vector<ST> even_split(const ST& x, Dim sections, Dim axis, const char* op) {
  const Dim n = known_dim(x, axis, op);
  if (sections < 1 || n % sections != 0) {
    throw Error("{}: axis {} of shape {} does not split into {} equal parts", op, axis,
                shape_str(x.shape()), sections);
  }
  return split(x, std::vector<Dim>(std::size_t(sections), n / sections), axis);
}
}  // namespace
std::vector<ST> hsplit(const ST& x, Dim sections) {
  return even_split(x, sections, x.rank() == 1 ? 0 : 1, "hsplit");
}
std::vector<ST> vsplit(const ST& x, Dim sections) { return even_split(x, sections, 0, "vsplit"); }
std::vector<ST> dsplit(const ST& x, Dim sections) { return even_split(x, sections, 2, "dsplit"); }
ST tile(const ST& x, std::vector<Dim> repeats) {
  ST y = x;
  while (y.rank() < repeats.size()) y = expand_dims(y, 0);
  while (repeats.size() < y.rank()) repeats.insert(repeats.begin(), 1);
  for (std::size_t d = 0; d < repeats.size(); ++d) {
    if (repeats[d] < 0) throw Error("tile: repeats must be >= 0, received {}", repeats[d]);
    if (repeats[d] == 1) continue;
    y = concatenate(std::vector<ST>(std::size_t(repeats[d]), y), Dim(d));
  }
  return y;
}
ST repeat(const ST& x, Dim repeats, Dim axis) {
  if (axis == kNoAxis) return repeat(ravel(x), repeats, 0);
  const Dim n = known_dim(x, axis, "repeat");
  std::vector<float> idx;
  for (Dim i = 0; i < n; ++i)
    for (Dim r = 0; r < repeats; ++r) idx.push_back(float(i));
  return gather(x, constant(vector_of(idx)), axis);
}
ST slice(const ST& x, const std::vector<Dim>& start, const Shape& s) {
  if (start.size() != x.rank() || s.size() != x.rank()) {
    throw Error("slice: start_indices {} and shape {} need one entry per axis of shape {}",
                shape_str(start), shape_str(s), shape_str(x.shape()));
  }
  ST y = x;
  for (std::size_t d = 0; d < x.rank(); ++d) {
    if (start[d] == 0 && (s[d] == x.shape()[d] || s[d] < 0)) continue;
    y = slice(y, Dim(d), start[d], start[d] + s[d]);
  }
  return y;
}
ST slice_update(const ST& x, const std::vector<Dim>& start, const ST& updates) {
  if (start.size() != x.rank() || updates.rank() != x.rank()) {
    throw Error("slice_update: start_indices {} and updates {} need one entry per axis of {}",
                shape_str(start), shape_str(updates.shape()), shape_str(x.shape()));
  }
  std::vector<std::pair<Dim, Dim>> pads;
  for (std::size_t d = 0; d < x.rank(); ++d) {
    const Dim n = x.shape()[d], u = updates.shape()[d];
    if (start[d] == 0 && (u == n)) {
      pads.emplace_back(0, 0);
      continue;
    }
    if (n < 0 || u < 0) throw Error("slice_update: axis {} must be known", d);
    pads.emplace_back(start[d], n - start[d] - u);
  }
  const ST mask = pad(ones_like(updates), pads);
  return add(multiply(x, subtract(1.0f, mask)), pad(updates, pads));
}
ST scatter(const ST& indices, const ST& values, const Shape& s) {
  if (indices.rank() != 2) {
    throw Error("scatter: indices must be [N, r], received shape {}", shape_str(indices.shape()));
  }
  const Dim r = known_dim(indices, 1, "scatter");
  if (r < 1 || std::size_t(r) > s.size()) {
    throw Error("scatter: index depth {} does not fit shape {}", r, shape_str(s));
  }
  filled(s, 0.0f, "scatter");  // checks the shape is known
  Dim outer = 1, inner = 1;
  std::vector<float> strides(static_cast<std::size_t>(r));
  for (Dim d = r; d-- > 0;) {
    strides[std::size_t(d)] = float(outer);
    outer *= s[std::size_t(d)];
  }
  for (std::size_t d = std::size_t(r); d < s.size(); ++d) inner *= s[d];
  const ST flat = reshape(matmul(indices, constant(vector_of(strides))), {-1});
  const ST rows = reshape(values, {-1, inner});
  const ST out = apply(k::scatter_add_like(0), {rows, flat, zeros({outer, inner})});
  return reshape(out, s);
}
ST scatter_update(const ST& x, const ST& indices, const ST& updates) {
  const Shape s = known_shape(x, "scatter_update");
  const ST hit = minimum(scatter(indices, ones_like(updates), s), c(1.0f));
  return add(multiply(x, subtract(1.0f, hit)), scatter(indices, updates, s));
}
namespace {
ST last_two_mask(const ST& x, Dim kk, bool lower, const char* op) {
  if (x.rank() < 2) throw Error("{}: needs rank >= 2, received {}", op, shape_str(x.shape()));
  const Dim m = known_dim(x, -2, op), n = known_dim(x, -1, op);
  return multiply(x, lower ? tri(m, n, kk) : subtract(1.0f, tri(m, n, kk - 1)));
}
}  // namespace
ST tril(const ST& x, Dim kk) { return last_two_mask(x, kk, true, "tril"); }
ST triu(const ST& x, Dim kk) { return last_two_mask(x, kk, false, "triu"); }
ST diagonal(const ST& x, Dim offset) {
  if (x.rank() != 2) throw Error("diagonal: plexus reads 2-D x, received {}", shape_str(x.shape()));
  const Dim m = known_dim(x, 0, "diagonal"), n = known_dim(x, 1, "diagonal");
  std::vector<float> idx;
  for (Dim i = 0; i < m; ++i) {
    const Dim j = i + offset;
    if (j >= 0 && j < n) idx.push_back(float(i * n + j));
  }
  return gather(ravel(x), constant(vector_of(idx)), 0);
}
ST diag(const ST& x, Dim kk) {
  if (x.rank() == 2) return diagonal(x, kk);
  if (x.rank() != 1) throw Error("diag: expects 1-D or 2-D x, received {}", shape_str(x.shape()));
  const Dim len = known_dim(x, 0, "diag");
  const Dim n = len + (kk < 0 ? -kk : kk);
  Tensor sel = filled({n * n, len}, 0.0f, "diag");
  for (Dim i = 0; i < len; ++i) {
    const Dim row = kk >= 0 ? i : i - kk, col = kk >= 0 ? i + kk : i;
    sel(std::size_t(row * n + col), std::size_t(i)) = 1.0f;
  }
  return reshape(matmul(constant(std::move(sel)), x), {n, n});
}
ST diagflat(const ST& x) { return diag(ravel(x)); }
ST trace(const ST& x, Dim offset) { return sum(diagonal(x, offset)); }

// ---- linear algebra ----------------------------------------------------------------------------
ST dot(const ST& a, const ST& b) {
  if (a.rank() == 0 || b.rank() == 0) return multiply(a, b);
  if (a.rank() == 1 && b.rank() == 1) return sum(multiply(a, b));
  return matmul(a, b);
}
ST vdot(const ST& a, const ST& b) { return sum(multiply(ravel(a), ravel(b))); }
ST inner(const ST& a, const ST& b) {
  if (a.rank() == 1 && b.rank() == 1) return sum(multiply(a, b));
  return matmul(a, transpose(b));
}
ST outer(const ST& a, const ST& b) { return matmul(reshape(a, {-1, 1}), reshape(b, {1, -1})); }
ST tensordot(const ST& a, const ST& b, Dim axes) {
  if (axes < 0 || std::size_t(axes) > a.rank() || std::size_t(axes) > b.rank()) {
    throw Error("tensordot: axes {} for shapes {} and {}", axes, shape_str(a.shape()),
                shape_str(b.shape()));
  }
  Dim kdim = 1;
  for (std::size_t d = 0; d < std::size_t(axes); ++d) {
    const Dim da = a.shape()[a.rank() - std::size_t(axes) + d], db = b.shape()[d];
    if (da < 0 || db < 0 || da != db) {
      throw Error("tensordot: contracted dimensions of {} and {} must be known and equal",
                  shape_str(a.shape()), shape_str(b.shape()));
    }
    kdim *= da;
  }
  Shape out(a.shape().begin(), a.shape().end() - axes);
  Dim rest = 1;
  for (std::size_t d = std::size_t(axes); d < b.rank(); ++d) {
    out.push_back(b.shape()[d]);
    rest *= known_dim(b, Dim(d), "tensordot");
  }
  return reshape(matmul(reshape(a, {-1, kdim}), reshape(b, {kdim, rest})), out);
}
ST kron(const ST& a, const ST& b) {
  if (a.rank() != 2 || b.rank() != 2) throw Error("kron: plexus reads 2-D operands");
  const Shape sa = known_shape(a, "kron"), sb = known_shape(b, "kron");
  return reshape(einsum("ij,kl->ikjl", a, b), {sa[0] * sb[0], sa[1] * sb[1]});
}
ST cross(const ST& a, const ST& b) {
  if (known_dim(a, -1, "cross") != 3 || known_dim(b, -1, "cross") != 3) {
    throw Error("cross: the last axis must have length 3 ({} and {})", shape_str(a.shape()),
                shape_str(b.shape()));
  }
  auto at = [](const ST& x, Dim i) { return slice(x, -1, i, i + 1); };
  return concatenate({subtract(multiply(at(a, 1), at(b, 2)), multiply(at(a, 2), at(b, 1))),
                      subtract(multiply(at(a, 2), at(b, 0)), multiply(at(a, 0), at(b, 2))),
                      subtract(multiply(at(a, 0), at(b, 1)), multiply(at(a, 1), at(b, 0)))},
                     -1);
}
ST einsum(const std::string& spec, const ST& a) { return apply(k::einsum(spec), {a}); }
ST einsum(const std::string& spec, const ST& a, const ST& b) {
  return apply(k::einsum(spec), {a, b});
}

// ---- losses and normalisation ----------------------------------------------------------------
namespace {
constexpr float kEpsilon = 1e-7f;
}
ST binary_crossentropy(const ST& target, const ST& output, bool from_logits) {
  if (from_logits) {
    return add(subtract(relu(output), multiply(output, target)), log1p(exp(negative(abs(output)))));
  }
  const ST p = clip(output, kEpsilon, 1.0f - kEpsilon);
  return negative(
      add(multiply(target, log(p)), multiply(subtract(1.0f, target), log(subtract(1.0f, p)))));
}
ST categorical_crossentropy(const ST& target, const ST& output, bool from_logits, Dim axis) {
  if (from_logits) return negative(sum(multiply(target, log_softmax(output, axis)), {axis}));
  const ST p = clip(divide(output, sum(output, {axis}, true)), kEpsilon, 1.0f - kEpsilon);
  return negative(sum(multiply(target, log(p)), {axis}));
}
ST sparse_categorical_crossentropy(const ST& target, const ST& output, bool from_logits, Dim axis) {
  const ST logp =
      from_logits ? log_softmax(output, axis)
                  : log(clip(divide(output, sum(output, {axis}, true)), kEpsilon, 1.0f - kEpsilon));
  return negative(take_along_axis(logp, target, axis));
}
ST layer_normalization(const ST& x, const ST& gamma, const ST& beta, Dim axis, float epsilon) {
  const ST mu = mean(x, {axis}, true);
  const ST v = mean(square(subtract(x, mu)), {axis}, true);
  ST y = multiply(subtract(x, mu), rsqrt(add(v, epsilon)));
  if (gamma.defined()) y = multiply(y, gamma);
  if (beta.defined()) y = add(y, beta);
  return y;
}
ST rms_normalization(const ST& x, const ST& scale, Dim axis, float epsilon) {
  ST y = multiply(x, rsqrt(add(mean(square(x), {axis}, true), epsilon)));
  return scale.defined() ? multiply(y, scale) : y;
}
ST batch_normalization(const ST& x, const ST& mu, const ST& variance, Dim axis, const ST& offset,
                       const ST& scale, float epsilon) {
  const std::size_t a = axis_of(x, axis, "batch_normalization");
  auto along = [&](const ST& v) {
    if (v.rank() != 1 || a + 1 == x.rank()) return v;
    Shape s(x.rank(), 1);
    s[a] = v.shape()[0];
    return reshape(v, s);
  };
  ST y = multiply(subtract(x, along(mu)), rsqrt(add(along(variance), epsilon)));
  if (scale.defined()) y = multiply(y, along(scale));
  if (offset.defined()) y = add(y, along(offset));
  return y;
}
ST psnr(const ST& x1, const ST& x2, float max_val) {
  const ST mse = mean(square(subtract(x1, x2)));
  return affine(log10(mse), -10.0f, float(20.0 * std::log10(double(max_val))));
}
ST dot_product_attention(const ST& q, const ST& kk, const ST& v, float scale, bool is_causal) {
  if (q.rank() != 4 || kk.rank() != 4 || v.rank() != 4) {
    throw Error(
        "dot_product_attention: query, key and value must be [B, T, H, D], received {}, {}, {}",
        shape_str(q.shape()), shape_str(kk.shape()), shape_str(v.shape()));
  }
  if (scale == 0.0f) scale = 1.0f / std::sqrt(float(known_dim(q, -1, "dot_product_attention")));
  ST logits = multiply(einsum("btnh,bsnh->bnts", q, kk), scale);
  if (is_causal) {
    const Dim t = known_dim(q, 1, "dot_product_attention");
    const Dim s = known_dim(kk, 1, "dot_product_attention");
    logits = add(logits, multiply(subtract(1.0f, tri(t, s, 0)), -1e9f));
  }
  return einsum("bnts,bsnh->btnh", softmax(logits, -1), v);
}

// ---- convolution and pooling ------------------------------------------------------------------
ST depthwise_conv(const ST& x, const ST& kernel, k::ConvConfig config) {
  const Shape w = known_shape(kernel, "depthwise_conv");
  if (w.size() < 3) throw Error("depthwise_conv: kernel {} must be [k..., C, M]", shape_str(w));
  const Dim ch = w[w.size() - 2], mult = w.back();
  Shape flat(w.begin(), w.end() - 2);
  flat.push_back(1);
  flat.push_back(ch * mult);
  config.groups = ch;
  return conv(x, reshape(kernel, flat), config);
}
ST separable_conv(const ST& x, const ST& depthwise_kernel, const ST& pointwise_kernel,
                  k::ConvConfig config) {
  const ST d = depthwise_conv(x, depthwise_kernel, config);
  k::ConvConfig point;
  point.channels_first = config.channels_first;
  return conv(d, pointwise_kernel, point);
}
ST average_pool(const ST& x, k::PoolConfig config) { return avg_pool(x, std::move(config)); }

}  // namespace plexus::ops
