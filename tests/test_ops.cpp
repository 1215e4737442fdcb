// Every primitive kernel (core/kernels.hpp) through one table:
//  - forward against a plain reference (xtensor or scalar loops in double);
//  - VJP against central finite differences of loss = sum(out * cotangent);
//  - backward accumulates (+=), or writes (=) once switched with set_grad_assign, and
//    leaves non-differentiable inputs alone;
//  - clone() computes the same thing; forward writes into the caller's buffer.
// Dropout is stochastic and has its own tests; then stability, error messages and
// symbolic shapes.
// GCC 12 reports the undefined lanes of AVX-512 intrinsics that xtensor's xsimd paths
// inline (GCC bug 105593); the pragmas must precede the includes to cover them.
#pragma GCC diagnostic ignored "-Wuninitialized"
#ifndef __clang__  // a GCC-only warning
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xmath.hpp>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/kernels.hpp"
#include "core/random.hpp"
#include "graph/function.hpp"
#include "graph/ops.hpp"
#include "image_reference.hpp"
#include "optim/detail/finite_difference.hpp"
#include "rnn_reference.hpp"

namespace px = plexus;
namespace kn = plexus::kernels;
using px::Dim;
using px::Shape;
using px::Tensor;

namespace {

using Rng = std::mt19937_64;
using Gen = std::function<Tensor(Rng&)>;
using Inputs = std::vector<Tensor>;

// ---- input generators ----------------------------------------------------------------

Tensor draw(const Shape& shape, Rng& rng, const std::function<float(Rng&)>& value) {
  Tensor t;
  px::resize_to(t, shape);
  for (float& v : t) v = value(rng);
  return t;
}

Gen uniform(Shape s, float lo, float hi) {
  return [=](Rng& rng) {
    std::uniform_real_distribution<float> u(lo, hi);
    return draw(s, rng, [&](Rng& r) { return u(r); });
  };
}

Gen normal(Shape s) {
  return [=](Rng& rng) {
    std::normal_distribution<float> n(0.0f, 1.0f);
    return draw(s, rng, [&](Rng& r) { return n(r); });
  };
}

// Kinks are kept more than kMargin (5 finite-difference steps) away, so x +- h never
// crosses one.
constexpr float kMargin = 0.05f;

Gen away_from(Shape s, float lo, float hi, std::vector<float> kinks) {
  return [=](Rng& rng) {
    std::uniform_real_distribution<float> u(lo, hi);
    return draw(s, rng, [&](Rng& r) {
      while (true) {
        const float v = u(r);
        bool ok = true;
        for (float k : kinks) ok = ok && std::abs(v - k) > kMargin;
        if (ok) return v;
      }
    });
  };
}

// Distinct values 0.1 apart in random order: no ties for max, even after +- h.
Gen distinct(Shape s) {
  return [=](Rng& rng) {
    Tensor t;
    px::resize_to(t, s);
    std::vector<float> values(t.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      values[i] = 0.1f * (static_cast<float>(i) - static_cast<float>(values.size()) / 2);
    }
    std::shuffle(values.begin(), values.end(), rng);
    std::copy(values.begin(), values.end(), t.begin());
    return t;
  };
}

// 0.2 k + offset for random integers k: with offsets 0 and 0.1 any pair from two such
// tensors differs by at least 0.1 (no ties for maximum/minimum, however they broadcast).
Gen lattice(Shape s, float offset) {
  return [=](Rng& rng) {
    std::uniform_int_distribution<int> k(-10, 10);
    return draw(s, rng, [&](Rng& r) { return 0.2f * static_cast<float>(k(r)) + offset; });
  };
}

Gen indices(Shape s, int n) {
  return [=](Rng& rng) {
    std::uniform_int_distribution<int> k(0, n - 1);
    return draw(s, rng, [&](Rng& r) { return static_cast<float>(k(r)); });
  };
}

Gen condition(Shape s) {
  return [=](Rng& rng) {
    std::bernoulli_distribution b(0.5);
    return draw(s, rng, [&](Rng& r) { return b(r) ? 1.0f : 0.0f; });
  };
}

// An inverted-dropout mask: 0 or 1 / (1 - rate), as kernels::dropout_mask draws it.
Gen dropout_mask_values(Shape s, float rate) {
  return [=](Rng& rng) {
    std::bernoulli_distribution keep(1.0 - rate);
    return draw(s, rng, [&](Rng& r) { return keep(r) ? 1.0f / (1.0f - rate) : 0.0f; });
  };
}

// ---- references ----------------------------------------------------------------------

std::vector<std::size_t> unravel(std::size_t flat, const Tensor::shape_type& shape) {
  std::vector<std::size_t> idx(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}

std::size_t ravel(const std::vector<std::size_t>& idx, const Tensor::shape_type& shape) {
  std::size_t flat = 0;
  for (std::size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + idx[d];
  return flat;
}

using Reference = std::function<Tensor(const Inputs&)>;

Reference elementwise(std::function<double(double)> f) {
  return [f](const Inputs& in) {
    Tensor out = in[0];
    for (float& v : out) v = static_cast<float>(f(v));
    return out;
  };
}

std::vector<std::size_t> positive_axes(std::vector<Dim> axes, std::size_t rank) {
  std::vector<std::size_t> out;
  if (axes.empty()) {
    out.resize(rank);
    std::iota(out.begin(), out.end(), 0);
  }
  for (Dim a : axes) out.push_back(static_cast<std::size_t>(a < 0 ? a + Dim(rank) : a));
  std::sort(out.begin(), out.end());  // xtensor wants sorted axes
  return out;
}

Tensor naive_matmul(const Inputs& in) {
  const Tensor& a = in[0];
  const Tensor& b = in[1];
  const std::size_t k = a.shape().back();
  if (b.dimension() <= 2) {
    const std::size_t n = b.dimension() == 2 ? b.shape()[1] : 1;
    const std::size_t m = a.size() / k;
    Shape out(a.shape().begin(), a.shape().end() - 1);
    if (b.dimension() == 2) out.push_back(Dim(n));
    Tensor c;
    px::resize_to(c, out);
    for (std::size_t i = 0; i < m; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        double s = 0;
        for (std::size_t l = 0; l < k; ++l) s += double(a.data()[i * k + l]) * b.data()[l * n + j];
        c.data()[i * n + j] = float(s);
      }
    }
    return c;
  }
  const std::size_t batch = a.shape()[0], m = a.shape()[1], n = b.shape()[2];
  Tensor c;
  px::resize_to(c, {Dim(batch), Dim(m), Dim(n)});
  for (std::size_t p = 0; p < batch; ++p) {
    for (std::size_t i = 0; i < m; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        double s = 0;
        for (std::size_t l = 0; l < k; ++l) {
          s += double(a(p, i, l)) * b(p, l, j);
        }
        c(p, i, j) = float(s);
      }
    }
  }
  return c;
}

Reference softmax_ref(Dim axis, bool log) {
  return [=](const Inputs& in) {
    const Tensor& x = in[0];
    const std::size_t ax = static_cast<std::size_t>(axis < 0 ? axis + Dim(x.dimension()) : axis);
    Tensor out = x;
    for (std::size_t flat = 0; flat < x.size(); ++flat) {
      std::vector<std::size_t> idx = unravel(flat, x.shape());
      double m = -1e300, s = 0;
      std::vector<std::size_t> j = idx;
      for (j[ax] = 0; j[ax] < x.shape()[ax]; ++j[ax])
        m = std::max(m, double(x.data()[ravel(j, x.shape())]));
      for (j[ax] = 0; j[ax] < x.shape()[ax]; ++j[ax])
        s += std::exp(x.data()[ravel(j, x.shape())] - m);
      const double v = x.data()[flat] - m;
      out.data()[flat] = float(log ? v - std::log(s) : std::exp(v) / s);
    }
    return out;
  };
}

// ---- the table -----------------------------------------------------------------------

struct Case {
  std::string name;
  std::function<px::KernelPtr()> make;
  std::vector<Gen> inputs;
  std::vector<bool> differentiable;  // per input; empty = all
  Reference reference;
};

// gtest prints a failing case by its name.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

Rng& table_rng() {
  static Rng rng(20240601);
  return rng;
}

// A random shape of rank 1..3 with dimensions 1..7 (sizes span the SIMD body and tail).
Shape random_shape() {
  std::uniform_int_distribution<int> rank(1, 3), dim(1, 7);
  Shape s(static_cast<std::size_t>(rank(table_rng())));
  for (Dim& d : s) d = dim(table_rng());
  return s;
}

std::string shape_tag(const Shape& s) {
  std::string tag;
  for (Dim d : s) {
    if (!tag.empty()) tag += 'x';
    tag += std::to_string(d);
  }
  return tag;
}

std::vector<Case> cases() {
  std::vector<Case> t;
  auto add = [&](std::string name, std::function<px::KernelPtr()> make, std::vector<Gen> in,
                 Reference ref, std::vector<bool> diff = {}) {
    t.push_back({std::move(name), std::move(make), std::move(in), std::move(diff), std::move(ref)});
  };

  // linear algebra
  add("matmul_3x4_4x5", kn::matmul, {normal({3, 4}), normal({4, 5})}, naive_matmul);
  add("matmul_folded_2x3x4_4x2", kn::matmul, {normal({2, 3, 4}), normal({4, 2})}, naive_matmul);
  add("matmul_batched_2x3x4_2x4x5", kn::matmul, {normal({2, 3, 4}), normal({2, 4, 5})},
      naive_matmul);
  add("matmul_vector_4_4x3", kn::matmul, {normal({4}), normal({4, 3})}, naive_matmul);
  add("matmul_matvec_3x4_4", kn::matmul, {normal({3, 4}), normal({4})}, naive_matmul);

  // binary, broadcasting
  struct Bin {
    const char* name;
    std::function<px::KernelPtr()> make;
    std::function<Tensor(const Tensor&, const Tensor&)> ref;
    std::function<Gen(Shape)> ga, gb;
  };
  const std::vector<Bin> binaries = {
      {"add", kn::add, [](const Tensor& a, const Tensor& b) { return Tensor(a + b); }, normal,
       normal},
      {"subtract", kn::subtract, [](const Tensor& a, const Tensor& b) { return Tensor(a - b); },
       normal, normal},
      {"multiply", kn::multiply, [](const Tensor& a, const Tensor& b) { return Tensor(a * b); },
       normal, normal},
      {"divide", kn::divide, [](const Tensor& a, const Tensor& b) { return Tensor(a / b); }, normal,
       [](Shape s) { return uniform(s, 0.5f, 2.0f); }},
      {"pow", kn::pow, [](const Tensor& a, const Tensor& b) { return Tensor(xt::pow(a, b)); },
       [](Shape s) { return uniform(s, 0.5f, 2.0f); },
       [](Shape s) { return uniform(s, -1.5f, 1.5f); }},
      {"maximum", kn::maximum,
       [](const Tensor& a, const Tensor& b) { return Tensor(xt::maximum(a, b)); },
       [](Shape s) { return lattice(s, 0.0f); }, [](Shape s) { return lattice(s, 0.1f); }},
      {"minimum", kn::minimum,
       [](const Tensor& a, const Tensor& b) { return Tensor(xt::minimum(a, b)); },
       [](Shape s) { return lattice(s, 0.1f); }, [](Shape s) { return lattice(s, 0.0f); }},
  };
  const std::vector<std::pair<Shape, Shape>> pairs = {
      {{3, 4}, {3, 4}},     // same shape: flat loop
      {{3, 4}, {4}},        // bias add: contiguous rows, gradient summed over rows
      {{2, 1, 3}, {4, 1}},  // both sides broadcast
      {{1}, {2, 3}},        // scalar-like
      {{2, 3}, {2, 1}},     // column broadcast
      {{2, 17}, {17}},      // wider than one SIMD register
  };
  for (const Bin& b : binaries) {
    for (const auto& [sa, sb] : pairs) {
      auto ref = b.ref;
      add(std::string(b.name) + "_" + shape_tag(sa) + "_" + shape_tag(sb), b.make,
          {b.ga(sa), b.gb(sb)}, [ref](const Inputs& in) { return ref(in[0], in[1]); });
    }
  }
  auto where_ref = [](const Inputs& in) {
    return Tensor(xt::where(xt::not_equal(in[0], 0.0f), in[1], in[2]));
  };
  add("where_3x4", kn::where, {condition({3, 4}), normal({3, 4}), normal({3, 4})}, where_ref,
      {false, true, true});
  add("where_3x1_4_3x4", kn::where, {condition({3, 1}), normal({4}), normal({3, 4})}, where_ref,
      {false, true, true});
  add("where_2x3_1_3", kn::where, {condition({2, 3}), normal({1}), normal({3})}, where_ref,
      {false, true, true});

  // unary (random shapes)
  struct Un {
    std::string name;
    std::function<px::KernelPtr()> make;
    std::function<double(double)> f;
    std::function<Gen(Shape)> gen;
  };
  auto n01 = [](Shape s) { return normal(s); };
  auto kink0 = [](Shape s) { return away_from(s, -3.0f, 3.0f, {0.0f}); };
  const double alpha = 1.6732632423543772, scale = 1.0507009873554805;
  const std::vector<Un> unaries = {
      {"negative", kn::negative, [](double x) { return -x; }, n01},
      {"exp", kn::exp, [](double x) { return std::exp(x); },
       [](Shape s) { return uniform(s, -2.0f, 2.0f); }},
      {"log", kn::log, [](double x) { return std::log(x); },
       [](Shape s) { return uniform(s, 0.5f, 3.0f); }},
      {"sqrt", kn::sqrt, [](double x) { return std::sqrt(x); },
       [](Shape s) { return uniform(s, 0.5f, 3.0f); }},
      {"square", kn::square, [](double x) { return x * x; }, n01},
      {"abs", kn::abs, [](double x) { return std::abs(x); }, kink0},
      {"tanh", kn::tanh, [](double x) { return std::tanh(x); }, n01},
      {"sigmoid", kn::sigmoid, [](double x) { return 1 / (1 + std::exp(-x)); },
       [](Shape s) { return uniform(s, -5.0f, 5.0f); }},
      {"relu", kn::relu, [](double x) { return std::max(x, 0.0); }, kink0},
      {"elu", [] { return kn::elu(); }, [](double x) { return x > 0 ? x : std::expm1(x); }, kink0},
      {"elu_alpha_0_7", [] { return kn::elu(0.7f); },
       [](double x) { return x > 0 ? x : 0.7 * std::expm1(x); }, kink0},
      {"selu", kn::selu, [=](double x) { return scale * (x > 0 ? x : alpha * std::expm1(x)); },
       kink0},
      {"leaky_relu", [] { return kn::leaky_relu(); }, [](double x) { return x >= 0 ? x : 0.2 * x; },
       kink0},
      {"leaky_relu_0_1", [] { return kn::leaky_relu(0.1f); },
       [](double x) { return x >= 0 ? x : 0.1 * x; }, kink0},
      {"softplus", kn::softplus, [](double x) { return std::log1p(std::exp(x)); },
       [](Shape s) { return uniform(s, -5.0f, 5.0f); }},
      {"gelu", kn::gelu, [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); },
       n01},
      {"swish", kn::swish, [](double x) { return x / (1 + std::exp(-x)); }, n01},
      {"hard_sigmoid", kn::hard_sigmoid,
       [](double x) { return std::min(std::max(x + 3, 0.0), 6.0) / 6; },
       [](Shape s) {
         return away_from(s, -4.0f, 4.0f, {-3.0f, 3.0f});
       }},
      {"clip", [] { return kn::clip(-0.5f, 0.7f); },
       [](double x) { return std::min(std::max(x, -0.5), 0.7); },
       [](Shape s) {
         return away_from(s, -1.5f, 1.5f, {-0.5f, 0.7f});
       }},
      {"affine", [] { return kn::affine(2.5f, -1.0f); }, [](double x) { return 2.5 * x - 1; }, n01},
  };
  for (const Un& u : unaries) {
    for (int rep = 0; rep < 2; ++rep) {
      const Shape s = random_shape();
      add(u.name + "_" + std::to_string(rep) + "_" + shape_tag(s), u.make, {u.gen(s)},
          elementwise(u.f));
    }
  }

  // reductions
  struct Red {
    const char* name;
    std::function<px::KernelPtr(std::vector<Dim>, bool)> make;
    std::function<Tensor(const Tensor&, const std::vector<std::size_t>&, bool)> ref;
    std::function<Gen(Shape)> gen;
  };
  const std::vector<Red> reductions = {
      {"sum", kn::sum,
       [](const Tensor& x, const std::vector<std::size_t>& ax, bool keep) {
         return keep ? Tensor(xt::sum(x, ax, xt::keep_dims)) : Tensor(xt::sum(x, ax));
       },
       n01},
      {"mean", kn::mean,
       [](const Tensor& x, const std::vector<std::size_t>& ax, bool keep) {
         return keep ? Tensor(xt::mean(x, ax, xt::keep_dims)) : Tensor(xt::mean(x, ax));
       },
       n01},
      {"max", kn::max,
       [](const Tensor& x, const std::vector<std::size_t>& ax, bool keep) {
         return keep ? Tensor(xt::amax(x, ax, xt::keep_dims)) : Tensor(xt::amax(x, ax));
       },
       [](Shape s) { return distinct(s); }},
  };
  struct Axes {
    const char* tag;
    std::vector<Dim> axes;
    bool keepdims;
  };
  const std::vector<Axes> axes_list = {{"all", {}, false},
                                       {"axis1", {1}, false},
                                       {"axes0_2_keep", {0, 2}, true},
                                       {"last_keep", {-1}, true},
                                       {"axes_neg2_0", {-2, 0}, false}};
  for (const Red& r : reductions) {
    for (const Axes& a : axes_list) {
      auto make = r.make;
      auto ref = r.ref;
      const auto axes = a.axes;
      const bool keep = a.keepdims;
      add(
          std::string(r.name) + "_" + a.tag, [=] { return make(axes, keep); }, {r.gen({2, 3, 4})},
          [=](const Inputs& in) {
            return ref(in[0], positive_axes(axes, in[0].dimension()), keep);
          });
    }
  }
  add(
      "sum_wide_rows", [] { return kn::sum({1}); }, {normal({3, 37})},
      [](const Inputs& in) { return Tensor(xt::sum(in[0], {1})); });

  // shape manipulation
  auto same_data = [](Shape s) {
    return [s](const Inputs& in) {
      Tensor out;
      px::resize_to(out, s);
      std::copy(in[0].begin(), in[0].end(), out.begin());
      return out;
    };
  };
  add(
      "reshape_2x3x4_to_6xinfer",
      [] {
        return kn::reshape({6, -1});
      },
      {normal({2, 3, 4})}, same_data({6, 4}));
  add(
      "reshape_2x6_to_3x4",
      [] {
        return kn::reshape({3, 4});
      },
      {normal({2, 6})}, same_data({3, 4}));
  add(
      "reshape_flatten", [] { return kn::reshape({-1}); }, {normal({2, 3})}, same_data({6}));
  add(
      "reshape_like_unfold_6x4_as_2x3", [] { return kn::reshape_like(2, {4}); },
      {normal({6, 4}), normal({2, 3, 5})}, same_data({2, 3, 4}));
  add(
      "reshape_like_mask_2x3_to_2x3x1", [] { return kn::reshape_like(2, {1}); },
      {normal({2, 3}), normal({2, 3, 4})}, same_data({2, 3, 1}));

  auto transpose_ref = [](std::vector<std::size_t> perm) {
    return [perm](const Inputs& in) {
      return perm.empty() ? Tensor(xt::transpose(in[0])) : Tensor(xt::transpose(in[0], perm));
    };
  };
  for (const auto& perm : std::vector<std::vector<std::size_t>>{{}, {1, 0, 2}, {2, 0, 1}}) {
    std::string tag = "transpose";
    for (auto p : perm) tag += "_" + std::to_string(p);
    if (perm.empty()) tag += "_reverse";
    add(
        tag, [perm] { return kn::transpose(perm); }, {normal({2, 3, 4})}, transpose_ref(perm));
  }
  add(
      "transpose_matrix", [] { return kn::transpose(); }, {normal({5, 3})}, transpose_ref({}));

  auto concat_ref = [](Dim axis) {
    return [axis](const Inputs& in) {
      const std::size_t rank = in[0].dimension();
      const auto ax = static_cast<std::size_t>(axis < 0 ? axis + Dim(rank) : axis);
      Shape s = px::shape_of(in[0]);
      s[ax] = 0;
      for (const Tensor& x : in) s[ax] += Dim(x.shape()[ax]);
      Tensor out;
      px::resize_to(out, s);
      for (std::size_t flat = 0; flat < out.size(); ++flat) {
        auto idx = unravel(flat, out.shape());
        for (const Tensor& x : in) {
          if (idx[ax] < x.shape()[ax]) {
            out.data()[flat] = x.data()[ravel(idx, x.shape())];
            break;
          }
          idx[ax] -= x.shape()[ax];
        }
      }
      return out;
    };
  };
  add(
      "concatenate_last_3_inputs", [] { return kn::concatenate(-1); },
      {normal({2, 3}), normal({2, 2}), normal({2, 1})}, concat_ref(-1));
  add(
      "concatenate_axis0", [] { return kn::concatenate(0); }, {normal({1, 3}), normal({2, 3})},
      concat_ref(0));
  add(
      "concatenate_axis1_rank3", [] { return kn::concatenate(1); },
      {normal({2, 1, 3}), normal({2, 2, 3})}, concat_ref(1));
  add(
      "concatenate_single", [] { return kn::concatenate(); }, {normal({2, 2})}, concat_ref(-1));

  auto slice_ref = [](Dim axis, Dim start, Dim stop) {
    return [=](const Inputs& in) {
      const Tensor& x = in[0];
      const auto ax = static_cast<std::size_t>(axis < 0 ? axis + Dim(x.dimension()) : axis);
      const Dim n = Dim(x.shape()[ax]);
      const Dim s = start < 0 ? start + n : start, e = stop < 0 ? stop + n : stop;
      Shape shape = px::shape_of(x);
      shape[ax] = e - s;
      Tensor out;
      px::resize_to(out, shape);
      for (std::size_t flat = 0; flat < out.size(); ++flat) {
        auto idx = unravel(flat, out.shape());
        idx[ax] += static_cast<std::size_t>(s);
        out.data()[flat] = x.data()[ravel(idx, x.shape())];
      }
      return out;
    };
  };
  add(
      "slice_axis1_1_3", [] { return kn::slice(1, 1, 3); }, {normal({2, 4})}, slice_ref(1, 1, 3));
  add(
      "slice_last_neg3_neg1", [] { return kn::slice(-1, -3, -1); }, {normal({2, 3, 5})},
      slice_ref(-1, -3, -1));
  add(
      "slice_axis0_0_1", [] { return kn::slice(0, 0, 1); }, {normal({3, 2})}, slice_ref(0, 0, 1));

  // split: several outputs, compared as the pieces (slices) flattened one after another.
  auto split_ref = [slice_ref](std::vector<Dim> sizes, Dim axis) {
    return [=](const Inputs& in) {
      std::vector<float> all;
      Dim start = 0;
      for (Dim size : sizes) {
        const Tensor piece = slice_ref(axis, start, start + size)(in);
        all.insert(all.end(), piece.begin(), piece.end());
        start += size;
      }
      Tensor out = Tensor::from_shape({all.size()});
      std::copy(all.begin(), all.end(), out.begin());
      return out;
    };
  };
  add(
      "split_last_1_2_3",
      [] {
        return kn::split({1, 2, 3}, -1);
      },
      {normal({2, 6})}, split_ref({1, 2, 3}, -1));
  add(
      "split_axis1_2_1",
      [] {
        return kn::split({2, 1}, 1);
      },
      {normal({2, 3, 4})}, split_ref({2, 1}, 1));

  auto gather_ref = [](Dim axis) {
    return [axis](const Inputs& in) {
      const Tensor& x = in[0];
      const Tensor& ids = in[1];
      const auto ax = static_cast<std::size_t>(axis < 0 ? axis + Dim(x.dimension()) : axis);
      Shape s(x.shape().begin(), x.shape().begin() + Dim(ax));
      for (auto d : ids.shape()) s.push_back(Dim(d));
      for (std::size_t d = ax + 1; d < x.dimension(); ++d) s.push_back(Dim(x.shape()[d]));
      Tensor out;
      px::resize_to(out, s);
      for (std::size_t flat = 0; flat < out.size(); ++flat) {
        const auto idx = unravel(flat, out.shape());
        std::vector<std::size_t> xi(idx.begin(), idx.begin() + Dim(ax));
        std::vector<std::size_t> ii(idx.begin() + Dim(ax), idx.begin() + Dim(ax + ids.dimension()));
        xi.push_back(static_cast<std::size_t>(ids.data()[ravel(ii, ids.shape())]));
        xi.insert(xi.end(), idx.begin() + Dim(ax + ids.dimension()), idx.end());
        out.data()[flat] = x.data()[ravel(xi, x.shape())];
      }
      return out;
    };
  };
  const std::vector<bool> x_only = {true, false};
  add(
      "gather_embedding_5x3_ids_2x2", [] { return kn::gather(0); },
      {normal({5, 3}), indices({2, 2}, 5)}, gather_ref(0), x_only);
  add(
      "gather_axis1_2x4x3_ids_3", [] { return kn::gather(1); },
      {normal({2, 4, 3}), indices({3}, 4)}, gather_ref(1), x_only);
  add(
      "gather_last_2x4_ids_6", [] { return kn::gather(-1); }, {normal({2, 4}), indices({6}, 4)},
      gather_ref(-1), x_only);

  auto take_ref = [](Dim axis) {
    return [axis](const Inputs& in) {
      const Tensor& x = in[0];
      const Tensor& ids = in[1];
      const auto ax = static_cast<std::size_t>(axis < 0 ? axis + Dim(x.dimension()) : axis);
      Tensor out = ids;
      for (std::size_t flat = 0; flat < out.size(); ++flat) {
        auto idx = unravel(flat, ids.shape());
        idx.insert(idx.begin() + Dim(ax), static_cast<std::size_t>(ids.data()[flat]));
        out.data()[flat] = x.data()[ravel(idx, x.shape())];
      }
      return out;
    };
  };
  add(
      "take_along_last_4x5", [] { return kn::take_along_axis(-1); },
      {normal({4, 5}), indices({4}, 5)}, take_ref(-1), x_only);
  add(
      "take_along_axis1_2x3x4", [] { return kn::take_along_axis(1); },
      {normal({2, 3, 4}), indices({2, 4}, 3)}, take_ref(1), x_only);
  add(
      "take_along_axis0_3x2", [] { return kn::take_along_axis(0); },
      {normal({3, 2}), indices({2}, 3)}, take_ref(0), x_only);

  // normalised exponentials
  for (bool log : {false, true}) {
    const std::string name = log ? "log_softmax" : "softmax";
    auto make = [log](Dim axis) { return log ? kn::log_softmax(axis) : kn::softmax(axis); };
    add(
        name + "_rows_3x5", [=] { return make(-1); }, {normal({3, 5})}, softmax_ref(-1, log));
    add(
        name + "_wide_2x21", [=] { return make(-1); }, {normal({2, 21})}, softmax_ref(-1, log));
    add(
        name + "_axis1_2x3x4", [=] { return make(1); }, {normal({2, 3, 4})}, softmax_ref(1, log));
    add(
        name + "_vector", [=] { return make(0); }, {normal({4})}, softmax_ref(0, log));
  }

  // images: convolution (strides, "same" with odd and even sizes, dilation, groups, both
  // data formats, 1-D and 2-D), transposed convolution, pooling, padding
  struct Conv {
    std::string name;
    Shape x, w;
    image_ref::Spec spec;
  };
  auto cf = [](image_ref::Spec s) {
    s.channels_first = true;
    return s;
  };
  const std::vector<Conv> convs = {
      {"conv2d_valid", {2, 5, 6, 3}, {3, 2, 3, 4}, {}},
      {"conv2d_same_odd_stride2", {1, 7, 5, 2}, {3, 3, 2, 3}, {2, {2}, {}, true}},
      {"conv2d_same_even_kernel_strides_1_2", {1, 6, 5, 2}, {2, 4, 2, 2}, {2, {1, 2}, {}, true}},
      {"conv2d_same_dilation2", {1, 7, 6, 2}, {3, 3, 2, 2}, {2, {}, {2}, true}},
      {"conv2d_valid_dilation_2_1_stride2", {1, 8, 7, 2}, {2, 3, 2, 2}, {2, {2}, {2, 1}}},
      {"conv2d_groups2", {2, 5, 5, 4}, {3, 3, 2, 6}, {2, {}, {}, false, 2}},
      {"conv2d_depthwise_same", {1, 5, 4, 3}, {3, 3, 1, 6}, {2, {}, {}, true, 3}},
      {"conv2d_pointwise", {2, 3, 4, 5}, {1, 1, 5, 3}, {}},
      {"conv2d_pointwise_groups", {1, 3, 3, 4}, {1, 1, 2, 4}, {2, {}, {}, false, 2}},
      {"conv2d_1x1_stride2", {1, 5, 5, 2}, {1, 1, 2, 3}, {2, {2}}},
      {"conv2d_cf_same_stride2", {2, 3, 6, 5}, {3, 3, 3, 4}, cf({2, {2}, {}, true})},
      {"conv2d_cf_groups2_dilation", {1, 4, 7, 6}, {2, 3, 2, 4}, cf({2, {}, {2, 1}, false, 2})},
      {"conv2d_cf_pointwise", {1, 4, 3, 3}, {1, 1, 4, 2}, cf({})},
      {"conv1d_valid", {2, 9, 3}, {3, 3, 4}, {1}},
      {"conv1d_same_odd_stride2", {1, 7, 2}, {4, 2, 3}, {1, {2}, {}, true}},
      {"conv1d_groups3", {1, 6, 3}, {2, 1, 3}, {1, {}, {}, false, 3}},
      {"conv1d_cf_dilation2_same", {1, 3, 9}, {3, 3, 2}, cf({1, {}, {2}, true})},
  };
  for (const Conv& c : convs) {
    const auto spec = c.spec;
    kn::ConvConfig config{spec.strides, spec.dilation, spec.same ? "same" : "valid", spec.groups,
                          spec.channels_first};
    add(
        c.name, [=] { return kn::conv(spec.rank, config); }, {normal(c.x), normal(c.w)},
        [=](const Inputs& in) { return image_ref::conv(in[0], in[1], spec); });
  }
  // With the fused bias (a third input).
  for (std::size_t i : {0, 5, 10, 13}) {
    const Conv& c = convs[i];
    const auto spec = c.spec;
    kn::ConvConfig config{spec.strides, spec.dilation, spec.same ? "same" : "valid", spec.groups,
                          spec.channels_first};
    add(
        c.name + "_bias", [=] { return kn::conv(spec.rank, config); },
        {normal(c.x), normal(c.w), normal({c.w.back()})},
        [=](const Inputs& in) {
          return image_ref::add_bias(image_ref::conv(in[0], in[1], spec), in[2], spec);
        });
  }
  // With the relu fused (ConvConfig::relu): channels_last with and without a bias (the
  // bias gradient then comes from the masking pass), channels_first, 1-D.
  for (std::size_t i : {0, 2, 10, 13}) {
    const Conv& c = convs[i];
    const auto spec = c.spec;
    kn::ConvConfig config{spec.strides, spec.dilation, spec.same ? "same" : "valid", spec.groups,
                          spec.channels_first};
    config.relu = true;
    const bool bias = i != 2;
    auto relu = [](Tensor y) {
      for (float& v : y) v = std::max(v, 0.0f);
      return y;
    };
    std::vector<Gen> gens{normal(c.x), normal(c.w)};
    if (bias) gens.push_back(normal({c.w.back()}));
    add(
        c.name + (bias ? "_bias_relu" : "_relu"), [=] { return kn::conv(spec.rank, config); }, gens,
        [=](const Inputs& in) {
          Tensor y = image_ref::conv(in[0], in[1], spec);
          return relu(bias ? image_ref::add_bias(y, in[2], spec) : y);
        });
  }
  struct ConvT {
    std::string name;
    Shape x, w;
    image_ref::Spec spec;
    std::vector<Dim> output_padding;
  };
  const std::vector<ConvT> transposed = {
      {"conv2d_transpose_valid", {1, 3, 4, 2}, {3, 3, 3, 2}, {}, {}},
      {"conv2d_transpose_same_stride2", {2, 3, 3, 2}, {3, 3, 2, 2}, {2, {2}, {}, true}, {}},
      {"conv2d_transpose_same_odd_stride_2_3",
       {1, 3, 2, 2},
       {3, 2, 2, 2},
       {2, {2, 3}, {}, true},
       {}},
      {"conv2d_transpose_valid_kernel_below_stride", {1, 2, 3, 2}, {1, 1, 2, 2}, {2, {2}}, {}},
      {"conv2d_transpose_output_padding", {1, 3, 2, 2}, {3, 3, 2, 2}, {2, {2}, {}, true}, {1}},
      {"conv2d_transpose_cf_dilation2", {1, 2, 3, 3}, {2, 2, 3, 2}, cf({2, {}, {2}}), {}},
      {"conv2d_transpose_groups2", {1, 3, 3, 4}, {2, 2, 1, 4}, {2, {2}, {}, false, 2}, {}},
      {"conv1d_transpose_same_stride3", {1, 4, 2}, {3, 3, 2}, {1, {3}, {}, true}, {}},
      {"conv1d_transpose_cf_valid", {2, 2, 3}, {2, 2, 2}, cf({1, {2}}), {}},
  };
  for (const ConvT& c : transposed) {
    const auto spec = c.spec;
    const auto op = c.output_padding;
    kn::ConvConfig config{spec.strides, spec.dilation, spec.same ? "same" : "valid", spec.groups,
                          spec.channels_first};
    add(
        c.name, [=] { return kn::conv_transpose(spec.rank, config, op); },
        {normal(c.x), normal(c.w)},
        [=](const Inputs& in) { return image_ref::conv_transpose(in[0], in[1], spec, op); });
  }
  for (std::size_t i : {1, 5}) {
    const ConvT& c = transposed[i];
    const auto spec = c.spec;
    const auto op = c.output_padding;
    kn::ConvConfig config{spec.strides, spec.dilation, spec.same ? "same" : "valid", spec.groups,
                          spec.channels_first};
    const Dim filters = c.w[c.w.size() - 2] * spec.groups;
    add(
        c.name + "_bias", [=] { return kn::conv_transpose(spec.rank, config, op); },
        {normal(c.x), normal(c.w), normal({filters})},
        [=](const Inputs& in) {
          return image_ref::add_bias(image_ref::conv_transpose(in[0], in[1], spec, op), in[2],
                                     spec);
        });
  }
  struct Pool {
    std::string tag;
    Shape x;
    std::size_t rank;
    std::vector<Dim> size, strides;
    bool same, channels_first;
  };
  const std::vector<Pool> pools = {
      {"2d_default", {2, 5, 4, 3}, 2, {}, {}, false, false},
      {"2d_default_even", {1, 4, 6, 9}, 2, {2}, {2}, false, false},
      {"2d_same_odd_3x3_stride2", {1, 5, 7, 2}, 2, {3}, {2}, true, false},
      {"2d_overlap_valid_stride1", {1, 4, 4, 2}, 2, {2}, {1}, false, false},
      {"2d_cf_same_2x3_strides_1_2", {1, 2, 5, 6}, 2, {2, 3}, {1, 2}, true, true},
      {"1d_same_3_stride2", {2, 7, 3}, 1, {3}, {2}, true, false},
      {"1d_cf_valid", {1, 2, 7}, 1, {2}, {}, false, true},
  };
  for (bool max : {true, false}) {
    for (const Pool& p : pools) {
      const kn::PoolConfig config{p.size, p.strides, p.same ? "same" : "valid", p.channels_first};
      const std::size_t rank = p.rank;
      const Pool q = p;
      add(
          std::string(max ? "max_pool" : "avg_pool") + p.tag,
          [=] { return max ? kn::max_pool(rank, config) : kn::avg_pool(rank, config); },
          {max ? distinct(p.x) : normal(p.x)},
          [=](const Inputs& in) {
            return image_ref::pool(in[0], q.rank, q.size.empty() ? std::vector<Dim>{2} : q.size,
                                   q.strides, q.same, q.channels_first, max);
          });
    }
  }
  // training_select outside training picks its second input (training: Dropout-style tests)
  add(
      "training_select_inference", [] { return kn::training_select(); },
      {normal({2, 3}), normal({2, 3})}, [](const Inputs& in) { return in[1]; }, {false, true});
  const std::vector<std::pair<Dim, Dim>> pads2d = {{0, 0}, {1, 2}, {2, 1}, {0, 0}};
  add(
      "pad_2d", [=] { return kn::pad(pads2d); }, {normal({2, 3, 4, 2})},
      [=](const Inputs& in) { return image_ref::pad(in[0], pads2d); });
  const std::vector<std::pair<Dim, Dim>> pads1d = {{0, 0}, {0, 0}, {3, 0}};
  add(
      "pad_1d_cf", [=] { return kn::pad(pads1d); }, {normal({1, 2, 3})},
      [=](const Inputs& in) { return image_ref::pad(in[0], pads1d); });

  // sequences: fused SimpleRNN / LSTM / GRU over whole sequences (rnn_reference.hpp), with
  // masks (random 0/1 steps), go_backwards, initial states, and a fixed recurrent dropout
  // mask (an input: [N, k*U], one block per gate)
  struct Rnn {
    std::string name;
    kn::RecurrentConfig config;
    Dim n, t, f, u;
  };
  auto rc = [](std::string cell, bool seq, bool masked, bool back, bool init, bool bias = true,
               bool zero = false, std::string act = "tanh") {
    kn::RecurrentConfig c;
    c.cell = std::move(cell);
    c.return_sequences = seq;
    c.masked = masked;
    c.go_backwards = back;
    c.initial_state = init;
    c.use_bias = bias;
    c.zero_output_for_mask = zero;
    c.activation = std::move(act);
    return c;
  };
  auto reset_before = [](kn::RecurrentConfig c) {  // GRU reset_after = false (Keras 2)
    c.reset_after = false;
    return c;
  };
  auto rdrop = [](kn::RecurrentConfig c) {  // recurrent_dropout: the mask as an input
    c.recurrent_dropout = true;
    return c;
  };
  auto in_drop = [](kn::RecurrentConfig c) {  // with it, the per-gate input dropout mask
    c.input_dropout = true;
    return c;
  };
  const std::vector<Rnn> rnns = {
      {"lstm_sequences", rc("lstm", true, false, false, false), 2, 4, 3, 3},
      {"lstm_last_masked", rc("lstm", false, true, false, false), 3, 5, 2, 2},
      {"lstm_backwards_masked_initial_state", rc("lstm", true, true, true, true), 2, 4, 3, 2},
      {"lstm_no_bias_zero_output_masked", rc("lstm", true, true, false, false, false, true), 2, 3,
       2, 3},
      {"gru_sequences", rc("gru", true, false, false, false), 2, 4, 3, 3},
      {"gru_last_masked_backwards", rc("gru", false, true, true, true), 3, 4, 2, 2},
      {"gru_no_bias", rc("gru", true, false, false, false, false), 2, 3, 2, 2},
      {"gru_reset_before_sequences", reset_before(rc("gru", true, false, false, false)), 2, 4, 3,
       3},
      {"gru_reset_before_masked_backwards_initial_state",
       reset_before(rc("gru", false, true, true, true)), 3, 4, 2, 2},
      {"simple_rnn_sequences", rc("simple_rnn", true, false, false, false), 2, 4, 3, 3},
      {"simple_rnn_last_masked_initial_state", rc("simple_rnn", false, true, false, true), 3, 4, 2,
       2},
      {"simple_rnn_sigmoid_backwards",
       rc("simple_rnn", true, false, true, false, true, false, "sigmoid"), 2, 3, 2, 2},
      {"simple_rnn_recurrent_dropout_masked", rdrop(rc("simple_rnn", true, true, false, false)), 3,
       4, 2, 3},
      {"lstm_recurrent_dropout_masked_initial_state", rdrop(rc("lstm", true, true, false, true)), 3,
       4, 2, 3},
      {"lstm_recurrent_dropout_last_backwards", rdrop(rc("lstm", false, false, true, false)), 2, 4,
       3, 2},
      {"gru_recurrent_dropout_masked_backwards_initial_state",
       rdrop(rc("gru", true, true, true, true)), 3, 4, 2, 3},
      {"gru_recurrent_dropout_no_bias", rdrop(rc("gru", false, false, false, false, false)), 2, 3,
       2, 2},
      {"gru_reset_before_recurrent_dropout_masked",
       rdrop(reset_before(rc("gru", true, true, false, true))), 3, 4, 2, 3},
      {"lstm_recurrent_and_input_dropout_masked_initial_state",
       in_drop(rdrop(rc("lstm", true, true, false, true))), 3, 4, 3, 2},
      {"gru_recurrent_and_input_dropout_backwards",
       in_drop(rdrop(rc("gru", false, false, true, false))), 2, 4, 3, 2},
      {"gru_reset_before_recurrent_and_input_dropout",
       in_drop(rdrop(reset_before(rc("gru", true, false, false, false)))), 2, 3, 2, 3},
      {"simple_rnn_recurrent_and_input_dropout",
       in_drop(rdrop(rc("simple_rnn", true, true, false, false))), 3, 4, 3, 2},
  };
  for (const Rnn& c : rnns) {
    const Dim k = c.config.cell == "lstm" ? 4 : c.config.cell == "gru" ? 3 : 1;
    std::vector<Gen> gens = {uniform({c.n, c.t, c.f}, -1, 1), uniform({c.f, k * c.u}, -0.7f, 0.7f),
                             uniform({c.u, k * c.u}, -0.7f, 0.7f)};
    std::vector<bool> diff = {true, true, true};
    if (c.config.use_bias) {
      gens.push_back(c.config.cell == "gru" && c.config.reset_after
                         ? uniform({2, k * c.u}, -0.5f, 0.5f)
                         : uniform({k * c.u}, -0.5f, 0.5f));
      diff.push_back(true);
    }
    if (c.config.masked) {
      gens.push_back(condition({c.n, c.t}));
      diff.push_back(false);
    }
    if (c.config.recurrent_dropout) {
      gens.push_back(dropout_mask_values({c.n, k * c.u}, 0.4f));
      diff.push_back(false);
    }
    if (c.config.input_dropout) {
      gens.push_back(dropout_mask_values({c.n, k * c.f}, 0.3f));
      diff.push_back(false);
    }
    if (c.config.initial_state) {
      for (int s = 0; s < (c.config.cell == "lstm" ? 2 : 1); ++s) {
        gens.push_back(uniform({c.n, c.u}, -0.8f, 0.8f));
        diff.push_back(true);
      }
    }
    const kn::RecurrentConfig config = c.config;
    add(
        c.name, [=] { return kn::recurrent(config); }, gens,
        [=](const Inputs& in) { return rnn_ref::flat(config, in); }, diff);
  }
  auto reverse_ref = [](std::size_t axis) {
    return [=](const Inputs& in) {
      const Tensor& x = in[0];
      Tensor out = x;
      for (std::size_t flat = 0; flat < out.size(); ++flat) {
        auto idx = unravel(flat, x.shape());
        idx[axis] = x.shape()[axis] - 1 - idx[axis];
        out.data()[flat] = x.data()[ravel(idx, x.shape())];
      }
      return out;
    };
  };
  add(
      "reverse_time_2x4x3", [] { return kn::reverse(1); }, {normal({2, 4, 3})}, reverse_ref(1));
  add(
      "reverse_last_3x5", [] { return kn::reverse(-1); }, {normal({3, 5})}, reverse_ref(1));

  // attention: multi-head scaled dot-product in double loops; outputs o then p, flattened.
  // Masks hold 0/1 with every query row keeping at least one key (a fully masked row is
  // all zero and has no gradient, checked too: row 0 of sample 1 in the broadcast case).
  auto attention_ref = [](kn::AttentionConfig c) {
    return [=](const Inputs& in) {
      const Tensor &q = in[0], &k = in[1], &v = in[2];
      const std::size_t n = q.shape()[0], t = q.shape()[1], s = k.shape()[1];
      const std::size_t h = std::size_t(c.heads), kd = q.shape()[2] / h, vd = v.shape()[2] / h;
      std::vector<float> o(n * t * h * vd, 0.0f), p(n * h * t * s, 0.0f);
      for (std::size_t b = 0; b < n; ++b)
        for (std::size_t hh = 0; hh < h; ++hh)
          for (std::size_t i = 0; i < t; ++i) {
            std::vector<double> z(s);
            std::vector<bool> ok(s);
            double mx = -1e300;
            for (std::size_t j = 0; j < s; ++j) {
              bool allowed = !c.causal || j <= i;
              if (c.masked) {
                const auto& ms = in[3].shape();
                allowed = allowed &&
                          in[3](ms[0] == 1 ? 0 : b, ms[1] == 1 ? 0 : i, ms[2] == 1 ? 0 : j) != 0.0f;
              }
              ok[j] = allowed;
              double d = 0;
              for (std::size_t e = 0; e < kd; ++e)
                d += double(q(b, i, hh * kd + e)) * k(b, j, hh * kd + e);
              z[j] = allowed ? d * c.scale : -1e9;
              mx = std::max(mx, z[j]);
            }
            double sum = 0;
            for (std::size_t j = 0; j < s; ++j) sum += std::exp(z[j] - mx);
            for (std::size_t j = 0; j < s; ++j) {
              const double pj = ok[j] ? std::exp(z[j] - mx) / sum : 0.0;
              p[((b * h + hh) * t + i) * s + j] = float(pj);
              for (std::size_t e = 0; e < vd; ++e)
                o[(b * t + i) * h * vd + hh * vd + e] += float(pj * v(b, j, hh * vd + e));
            }
          }
      Tensor out = Tensor::from_shape({o.size() + p.size()});
      std::copy(o.begin(), o.end(), out.begin());
      std::copy(p.begin(), p.end(), out.begin() + std::ptrdiff_t(o.size()));
      return out;
    };
  };
  auto att = [](Dim heads, float scale, bool masked, bool causal) {
    kn::AttentionConfig c;
    c.heads = heads;
    c.scale = scale;
    c.masked = masked;
    c.causal = causal;
    return c;
  };
  // Mask with row 0 of sample 1 fully masked, the rest random with key 0 always allowed.
  auto attention_mask = [](Shape shape, bool empty_row) {
    return [=](Rng& rng) {
      Tensor m = condition(shape)(rng);
      for (std::size_t r = 0; r < m.size() / m.shape()[2]; ++r) m.data()[r * m.shape()[2]] = 1.0f;
      if (empty_row && m.shape()[0] > 1) {
        for (std::size_t j = 0; j < m.shape()[2]; ++j) m(1, 0, j) = 0.0f;
      }
      return m;
    };
  };
  const std::vector<std::tuple<std::string, kn::AttentionConfig, Dim, Dim, Dim, Dim, Dim, Shape>>
      attentions = {
          // name, config, n, t, s, key width (heads * key_dim), value width, mask shape
          {"attention_2heads", att(2, 0.7f, false, false), 2, 3, 4, 4, 6, {}},
          {"attention_1head_causal", att(1, 0.5f, false, true), 2, 4, 4, 3, 2, {}},
          {"attention_3heads_masked", att(3, 0.6f, true, false), 2, 3, 4, 6, 3, {2, 3, 4}},
          {"attention_2heads_value_mask_causal",
           att(2, 0.8f, true, true),
           2,
           3,
           3,
           4,
           4,
           {2, 1, 3}},
      };
  for (const auto& [name, config, n, tq, s, kw, vw, mask] : attentions) {
    std::vector<Gen> gens = {uniform({n, tq, kw}, -1, 1), uniform({n, s, kw}, -1, 1),
                             uniform({n, s, vw}, -1, 1)};
    std::vector<bool> diff = {true, true, true};
    if (config.masked) {
      gens.push_back(attention_mask(mask, mask[1] != 1));
      diff.push_back(false);
    }
    const kn::AttentionConfig c = config;
    add(
        name, [=] { return kn::attention(c); }, gens, attention_ref(c), diff);
  }
  auto masked_softmax_ref = [](bool masked, bool causal) {
    return [=](const Inputs& in) {
      const Tensor& x = in[0];
      const std::size_t n = x.shape()[0], t = x.shape()[1], s = x.shape()[2];
      Tensor out = x;
      for (std::size_t b = 0; b < n; ++b)
        for (std::size_t i = 0; i < t; ++i) {
          std::vector<double> z(s);
          double mx = -1e300, sum = 0;
          for (std::size_t j = 0; j < s; ++j) {
            bool ok = !causal || j <= i;
            if (masked) {
              const auto& ms = in[1].shape();
              ok = ok && in[1](ms[0] == 1 ? 0 : b, ms[1] == 1 ? 0 : i, ms[2] == 1 ? 0 : j) != 0.0f;
            }
            z[j] = double(x(b, i, j)) - (ok ? 0.0 : 1e9);
            mx = std::max(mx, z[j]);
          }
          for (std::size_t j = 0; j < s; ++j) sum += std::exp(z[j] - mx);
          for (std::size_t j = 0; j < s; ++j) out(b, i, j) = float(std::exp(z[j] - mx) / sum);
        }
      return out;
    };
  };
  add("masked_softmax_value_mask", [] { return kn::masked_softmax(true, false); },
      {normal({2, 3, 4}), attention_mask({2, 1, 4}, false)}, masked_softmax_ref(true, false),
      {true, false});
  add(
      "masked_softmax_causal", [] { return kn::masked_softmax(false, true); }, {normal({2, 3, 3})},
      masked_softmax_ref(false, true));
  auto expand_ref = [](Dim axis) {
    return [=](const Inputs& in) {
      Shape s(in[0].shape().begin(), in[0].shape().end());
      const std::size_t a = std::size_t(axis < 0 ? axis + Dim(s.size()) + 1 : axis);
      s.insert(s.begin() + std::ptrdiff_t(a), 1);
      Tensor out;
      px::resize_to(out, s);
      std::copy(in[0].begin(), in[0].end(), out.begin());
      return out;
    };
  };
  add(
      "expand_dims_neg2", [] { return kn::expand_dims(-2); }, {normal({2, 3, 4})}, expand_ref(-2));
  add(
      "expand_dims_1", [] { return kn::expand_dims(1); }, {normal({2, 3})}, expand_ref(1));
  return t;
}

// ---- the checks ----------------------------------------------------------------------

double max_abs(const Tensor& t) {
  double m = 0;
  for (float v : t) m = std::max(m, double(std::abs(v)));
  return m;
}

// sum(out * cotangent) in double.
// A kernel's output; for a kernel with several outputs, all of them flattened and
// concatenated in order (the table's references for those produce the same layout).
Tensor eval_flat(px::Kernel& k, const Inputs& in) {
  if (k.num_outputs() == 1) return px::eval(k, in);
  const std::vector<Tensor> outs = px::eval_all(k, in);
  std::size_t n = 0;
  for (auto& o : outs) n += o.size();
  Tensor flat = Tensor::from_shape({n});
  std::size_t at = 0;
  for (auto& o : outs) {
    std::copy(o.begin(), o.end(), flat.begin() + static_cast<std::ptrdiff_t>(at));
    at += o.size();
  }
  return flat;
}

// The VJP for a cotangent laid out like eval_flat's output.
std::vector<Tensor> vjp_flat(px::Kernel& k, const Inputs& in, const Tensor& cot) {
  if (k.num_outputs() == 1) return px::eval_vjp(k, in, cot);
  std::vector<Tensor> gouts = px::eval_all(k, in);
  std::size_t at = 0;
  for (auto& g : gouts) {
    std::copy_n(cot.data() + at, g.size(), g.data());
    at += g.size();
  }
  return px::eval_vjp_all(k, in, gouts);
}

double loss(px::Kernel& k, const Inputs& in, const Tensor& cot) {
  const Tensor out = eval_flat(k, in);
  double s = 0;
  for (std::size_t i = 0; i < out.size(); ++i) s += double(out.data()[i]) * cot.data()[i];
  return s;
}

void expect_close(const Tensor& actual, const Tensor& expected, double rtol, double atol,
                  const std::string& what) {
  ASSERT_EQ(px::shape_of(actual), px::shape_of(expected)) << what << ": shapes differ";
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double a = actual.data()[i], e = expected.data()[i];
    ASSERT_LE(std::abs(a - e), atol + rtol * std::abs(e))
        << what << ": element " << i << " is " << a << ", expected " << e;
  }
}

class OpTest : public testing::TestWithParam<Case> {};

TEST_P(OpTest, ForwardMatchesReference) {
  const Case& c = GetParam();
  Rng rng(1234);
  Inputs in;
  for (const Gen& g : c.inputs) in.push_back(g(rng));
  auto kernel = c.make();
  const Tensor out = eval_flat(*kernel, in);
  // xsimd's exp/log/tanh/erf are accurate to a few float ulps; 1e-5 leaves margin.
  expect_close(out, c.reference(in), 1e-5, 1e-6, c.name + " forward");
  if (kernel->num_outputs() > 1) {  // several outputs: forward_all into fixed buffers
    auto copy = kernel->clone();
    EXPECT_EQ(copy->num_outputs(), kernel->num_outputs());
    expect_close(eval_flat(*copy, in), out, 0, 0, c.name + " clone");
    return;
  }

  // The kernel writes into the caller's buffer without reallocating it.
  std::vector<Shape> shapes;
  std::vector<const Tensor*> ptrs;
  for (const Tensor& t : in) {
    shapes.push_back(px::shape_of(t));
    ptrs.push_back(&t);
  }
  Tensor buffer;
  px::resize_to(buffer, kernel->output_shape(shapes));
  const float* data = buffer.data();
  kernel->forward(ptrs, buffer, {});
  kernel->forward(ptrs, buffer, {});
  EXPECT_EQ(buffer.data(), data);
  expect_close(buffer, out, 0, 0, c.name + " second forward");

  // A clone has the same configuration.
  auto copy = kernel->clone();
  EXPECT_EQ(copy->name(), kernel->name());
  expect_close(px::eval(*copy, in), out, 0, 0, c.name + " clone");
}

// Central differences on the float32 kernel, loss = sum(out * cotangent) summed in double:
//  - truncation error is h^2/6 |f'''| ~ 2e-5 |f'''| for h = 1e-2, and the inputs are
//    kept where |f'''| stays below ~20 (log, sqrt, pow >= 0.5; exp <= 2) -> < 5e-4;
//  - rounding: only outputs that depend on the perturbed element change, each by float
//    rounding ~6e-8 |out| |cot|, divided by 2h -> ~1e-5 per affected output;
//  - kinks and ties are kept >= 0.05 = 5h away, so x +- h never crosses one.
// The worst measured error over the table is ~3e-4 (divide and pow, whose third
// derivatives reach ~300 at a = 0.5); the tolerance |analytic - numeric| / max(1, |numeric|)
// < 2e-3 leaves a 7x margin yet is far below any real VJP bug (a wrong sign, factor or
// broadcast axis gives errors of order 1e-1 to 1).
constexpr float kStep = 1e-2f;
constexpr double kTolerance = 2e-3;
// Second derivatives by differences of first derivatives: the truncation term involves one
// more derivative (up to ~2e3 for divide and pow at 0.5), hence a looser bound.
constexpr double kSecondOrderTolerance = 1e-2;

TEST_P(OpTest, GradientMatchesFiniteDifferences) {
  const Case& c = GetParam();
  Rng rng(5678);
  Inputs in;
  for (const Gen& g : c.inputs) in.push_back(g(rng));
  auto kernel = c.make();
  Tensor out = eval_flat(*kernel, in);
  const Tensor cot = normal(px::shape_of(out))(rng);
  const std::vector<Tensor> grads = vjp_flat(*kernel, in, cot);
  ASSERT_EQ(grads.size(), in.size());

  for (std::size_t i = 0; i < in.size(); ++i) {
    const bool diff = c.differentiable.empty() || c.differentiable[i];
    if (!diff) {
      EXPECT_EQ(max_abs(grads[i]), 0.0) << c.name << ": input " << i << " got a gradient";
      continue;
    }
    double worst = 0;
    Inputs probe = in;
    for (std::size_t j = 0; j < in[i].size(); ++j) {
      const double numeric = px::detail::central_difference(
          probe[i], j, kStep, [&] { return loss(*kernel, probe, cot); });
      const double analytic = grads[i].data()[j];
      const double err = px::detail::gradient_error(analytic, numeric);
      worst = std::max(worst, err);
      EXPECT_LT(err, kTolerance) << c.name << ": d/d input " << i << " element " << j
                                 << ": analytic " << analytic << ", numeric " << numeric;
    }
    RecordProperty("max_rel_error_input" + std::to_string(i), std::to_string(worst));
  }

  // backward accumulates: a second call on the same buffers doubles the gradients.
  if (kernel->num_outputs() > 1) {
    std::vector<Tensor> twice = vjp_flat(*kernel, in, Tensor(2.0f * cot));
    for (std::size_t i = 0; i < in.size(); ++i) {
      expect_close(twice[i], Tensor(2.0f * grads[i]), 1e-5, 1e-6, c.name + " linearity");
    }
    return;
  }
  std::vector<Tensor> acc = grads;
  std::vector<const Tensor*> ptrs;
  std::vector<Tensor*> gptrs;
  for (std::size_t i = 0; i < in.size(); ++i) {
    ptrs.push_back(&in[i]);
    gptrs.push_back(&acc[i]);
  }
  kernel->forward(ptrs, out, {});
  kernel->backward(ptrs, out, cot, gptrs, {});
  for (std::size_t i = 0; i < in.size(); ++i) {
    expect_close(acc[i], Tensor(2.0f * grads[i]), 1e-5, 1e-6,
                 c.name + " accumulation into input " + std::to_string(i));
  }

  // A null gradient slot is skipped (the executor passes null for constants).
  std::vector<Tensor*> none(in.size(), nullptr);
  kernel->backward(ptrs, out, cot, none, {});

  // A kernel told to write (not add to) an input's gradient overwrites whatever the buffer
  // held (NaN here) with the same gradient; the other inputs still accumulate.
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (!kernel->can_assign_grad(i)) {
      EXPECT_THROW(kernel->clone()->set_grad_assign(i, true), px::Error) << c.name;
      continue;
    }
    auto writer = kernel->clone();
    writer->set_grad_assign(i, true);
    EXPECT_TRUE(writer->assigns_grad(i));
    EXPECT_FALSE(writer->clone()->assigns_grad(i)) << c.name << ": a clone starts accumulating";
    std::vector<Tensor> written = grads;
    written[i].fill(std::numeric_limits<float>::quiet_NaN());
    std::vector<Tensor*> wptrs;
    for (auto& t : written) wptrs.push_back(&t);
    writer->forward(ptrs, out, {});
    writer->backward(ptrs, out, cot, wptrs, {});
    for (std::size_t j = 0; j < in.size(); ++j) {
      const Tensor want = j == i ? grads[j] : Tensor(2.0f * grads[j]);
      expect_close(written[j], want, 1e-5, 1e-6,
                   c.name + " written gradient of input " + std::to_string(i) + ", input " +
                       std::to_string(j));
    }
  }
}

// Second order: the symbolic VJP (Kernel::symbolic_vjp, used by px::ops::grad) is built
// from differentiable ops, so d/dx of S(x) = sum_i <VJP_i(x, cot), w_i> can be taken by
// ops::grad again. Checked against central differences of S computed with the kernel's own
// first-order backward(), element by element, for every differentiable input; the symbolic
// first derivatives are also checked against backward(). Kernels with no symbolic VJP
// (convolutions, pooling, recurrent layers, attention) are reported as skipped: ops::grad
// gives them first-order gradients only.
TEST_P(OpTest, SecondOrderMatchesFiniteDifferences) {
  const Case& c = GetParam();
  Rng rng(9012);
  Inputs in;
  for (const Gen& g : c.inputs) in.push_back(g(rng));
  auto kernel = c.make();
  const Tensor out = eval_flat(*kernel, in);
  const Tensor cot = normal(px::shape_of(out))(rng);
  const std::vector<Tensor> grads = vjp_flat(*kernel, in, cot);
  std::vector<Tensor> w;
  for (const Tensor& g : grads) w.push_back(normal(px::shape_of(g))(rng));
  auto diff = [&](std::size_t i) { return c.differentiable.empty() || c.differentiable[i]; };

  // The graph: placeholders for the inputs, L = sum(out * cot), g = grad(L), S = sum(g * w).
  std::vector<px::SymbolicTensor> xs;
  for (std::size_t i = 0; i < in.size(); ++i) {
    xs.push_back(px::graph::placeholder(px::shape_of(in[i]), "x" + std::to_string(i)));
  }
  {
    std::vector<px::SymbolicTensor> ins, outs, gouts;
    for (const auto& x : xs) ins.push_back(x);
    const auto ys = px::ops::apply_all(kernel->clone(), xs);
    if (kernel->symbolic_vjp(ins, ys, ys).empty()) {
      GTEST_SKIP() << c.name << ": " << kernel->name() << " has no symbolic VJP (first order only)";
    }
  }
  const auto ys = px::ops::apply_all(kernel->clone(), xs);
  px::SymbolicTensor loss;
  std::size_t at = 0;
  for (const auto& y : ys) {
    Tensor piece;
    px::resize_to(piece, y.shape());
    std::copy_n(cot.data() + at, piece.size(), piece.data());
    at += piece.size();
    const auto term = px::ops::sum(px::ops::multiply(y, px::ops::constant(piece)));
    loss = loss.defined() ? px::ops::add(loss, term) : term;
  }
  std::vector<px::SymbolicTensor> sources;
  std::vector<std::size_t> which;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (!diff(i)) continue;
    sources.push_back(xs[i]);
    which.push_back(i);
  }
  const auto g1 = px::ops::grad(loss, sources);
  px::SymbolicTensor s;
  for (std::size_t k = 0; k < g1.size(); ++k) {
    const auto term = px::ops::sum(px::ops::multiply(g1[k], px::ops::constant(w[which[k]])));
    s = s.defined() ? px::ops::add(s, term) : term;
  }
  const auto g2 = px::ops::grad(s, sources);
  std::vector<px::graph::NamedOutput> named;
  for (std::size_t k = 0; k < g1.size(); ++k) {
    named.push_back({"g" + std::to_string(k), g1[k]});
    named.push_back({"h" + std::to_string(k), g2[k]});
  }
  const px::graph::Function fn(xs, named);
  std::vector<const Tensor*> feeds;
  for (const Tensor& t : in) feeds.push_back(&t);
  const std::vector<Tensor> got = fn(feeds);

  auto second = [&](const Inputs& probe) {  // S from the kernel's own backward()
    const std::vector<Tensor> g = vjp_flat(*kernel, probe, cot);
    double total = 0;
    for (std::size_t i : which) {
      for (std::size_t j = 0; j < g[i].size(); ++j)
        total += double(g[i].data()[j]) * w[i].data()[j];
    }
    return total;
  };
  for (std::size_t k = 0; k < which.size(); ++k) {
    const std::size_t i = which[k];
    expect_close(got[2 * k], grads[i], 1e-4, 1e-5,
                 c.name + " symbolic first derivative of input " + std::to_string(i));
    const Tensor& hess = got[2 * k + 1];
    ASSERT_EQ(px::shape_of(hess), px::shape_of(in[i])) << c.name;
    Inputs probe = in;
    double worst = 0;
    for (std::size_t j = 0; j < in[i].size(); ++j) {
      const float x = in[i].data()[j];
      probe[i].data()[j] = x + kStep;
      const double up = second(probe);
      probe[i].data()[j] = x - kStep;
      const double down = second(probe);
      probe[i].data()[j] = x;
      const double numeric = (up - down) / (double(x + kStep) - double(x - kStep));
      const double analytic = hess.data()[j];
      const double err = std::abs(analytic - numeric) / std::max(1.0, std::abs(numeric));
      worst = std::max(worst, err);
      EXPECT_LT(err, kSecondOrderTolerance) << c.name << ": d2/d input " << i << " element " << j
                                            << ": analytic " << analytic << ", numeric " << numeric;
    }
    RecordProperty("max_rel_error_second_input" + std::to_string(i), std::to_string(worst));
  }
}

INSTANTIATE_TEST_SUITE_P(AllKernels, OpTest, testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

// Every factory in kernels.hpp appears in the table (dropout has its own tests below).
TEST(OpTable, CoversEveryKernel) {
  std::set<std::string> seen;
  for (const Case& c : cases()) seen.insert(c.make()->name());
  for (const char* name : {"matmul",       "add",
                           "subtract",     "multiply",
                           "divide",       "pow",
                           "maximum",      "minimum",
                           "where",        "negative",
                           "exp",          "log",
                           "sqrt",         "square",
                           "abs",          "tanh",
                           "sigmoid",      "relu",
                           "elu",          "selu",
                           "leaky_relu",   "softplus",
                           "gelu",         "swish",
                           "hard_sigmoid", "clip",
                           "affine",       "sum",
                           "mean",         "max",
                           "reshape",      "transpose",
                           "concatenate",  "slice",
                           "gather",       "take_along_axis",
                           "softmax",      "log_softmax",
                           "conv",         "conv_transpose",
                           "max_pool",     "avg_pool",
                           "pad",          "split",
                           "simple_rnn",   "lstm",
                           "gru",          "reverse",
                           "attention",    "masked_softmax",
                           "expand_dims",  "reshape_like"}) {
    EXPECT_TRUE(seen.count(name)) << name << " has no gradient-test case";
  }
}

// ---- dropout -------------------------------------------------------------------------

Shape out_shape_of(const px::KernelPtr& k, std::vector<Shape> shapes) {
  return k->output_shape(shapes);
}

TEST(Dropout, InferenceIsIdentity) {
  auto k = kn::dropout(0.5f);
  Rng rng(1);
  const Tensor x = normal({4, 5})(rng);
  const Tensor g = normal({4, 5})(rng);
  expect_close(px::eval(*k, {x}), x, 0, 0, "dropout inference");
  expect_close(px::eval_vjp(*k, {x}, g)[0], g, 0, 0, "dropout inference vjp");
}

TEST(Dropout, TrainingMaskStatisticsAndScale) {
  const float rate = 0.3f;
  auto k = kn::dropout(rate);
  px::utils::set_random_seed(42);
  const Tensor x = xt::ones<float>({200, 500});
  const Tensor y = px::eval(*k, {x}, {.training = true});
  const float scale = 1.0f / (1.0f - rate);
  std::size_t dropped = 0;
  for (float v : y) {
    if (v == 0.0f) {
      ++dropped;
    } else {
      ASSERT_EQ(v, scale);
    }
  }
  // 100000 Bernoulli(0.3) draws: stddev of the fraction is sqrt(0.21 / 1e5) ~ 0.0015.
  const double fraction = double(dropped) / double(x.size());
  EXPECT_NEAR(fraction, rate, 0.01);
  // Inverted dropout keeps the expectation.
  EXPECT_NEAR(xt::mean(y)(), 1.0, 0.02);
}

TEST(Dropout, GradientIsMaskTimesScale) {
  const float rate = 0.4f;
  auto k = kn::dropout(rate);
  Rng rng(3);
  const Tensor x = uniform({6, 7}, 0.5f, 1.5f)(rng);  // nonzero, so y == 0 marks a drop
  const Tensor g = normal({6, 7})(rng);
  const px::Context train{.training = true};
  const Tensor y = px::eval(*k, {x}, train);
  std::vector<const Tensor*> in = {&x};
  Tensor gx = xt::zeros<float>({6, 7});
  std::vector<Tensor*> gin = {&gx};
  k->backward(in, y, g, gin, train);
  const float scale = 1.0f / (1.0f - rate);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float mask = y.data()[i] == 0.0f ? 0.0f : scale;
    EXPECT_FLOAT_EQ(y.data()[i], x.data()[i] * mask);
    EXPECT_FLOAT_EQ(gx.data()[i], g.data()[i] * mask);
  }
}

TEST(Dropout, SameSeedSameMask) {
  auto k = kn::dropout(0.5f);
  const Tensor x = xt::ones<float>({10, 10});
  const px::Context train{.training = true};
  px::utils::set_random_seed(7);
  const Tensor a = px::eval(*k, {x}, train);
  px::utils::set_random_seed(7);
  const Tensor b = px::eval(*k->clone(), {x}, train);
  px::utils::set_random_seed(8);
  const Tensor c = px::eval(*k, {x}, train);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Dropout, NoiseShapeSharesTheMaskAlongAxes) {
  // SpatialDropout2D's mask: one draw per (sample, channel), shared over rows and columns.
  auto k = kn::dropout(0.5f, {-1, 1, 1, -1});
  px::utils::set_random_seed(11);
  Rng rng(4);
  const Tensor x = uniform({6, 3, 4, 5}, 0.5f, 1.5f)(rng);
  const Tensor g = normal({6, 3, 4, 5})(rng);
  const px::Context train{.training = true};
  const Tensor y = px::eval(*k, {x}, train);
  std::vector<const Tensor*> in = {&x};
  Tensor gx = xt::zeros<float>({6, 3, 4, 5});
  std::vector<Tensor*> gin = {&gx};
  k->backward(in, y, g, gin, train);
  std::size_t dropped = 0;
  for (std::size_t n = 0; n < 6; ++n) {
    for (std::size_t c = 0; c < 5; ++c) {
      const bool drop = y(n, 0, 0, c) == 0.0f;
      dropped += drop;
      for (std::size_t h = 0; h < 3; ++h) {
        for (std::size_t w = 0; w < 4; ++w) {
          const float m = drop ? 0.0f : 2.0f;
          EXPECT_FLOAT_EQ(y(n, h, w, c), x(n, h, w, c) * m);
          EXPECT_FLOAT_EQ(gx(n, h, w, c), g(n, h, w, c) * m);
        }
      }
    }
  }
  EXPECT_GT(dropped, 0u);
  EXPECT_LT(dropped, 30u);
  EXPECT_THROW(out_shape_of(kn::dropout(0.5f, {-1, 1}), {{2, 3, 4}}), px::Error);
}

TEST(TrainingSelect, PicksTheFirstInputInTrainingWhileEnabled) {
  auto enabled = std::make_shared<bool>(true);
  auto k = kn::training_select(enabled);
  Rng rng(6);
  const Tensor a = normal({3, 2})(rng), b = normal({3, 2})(rng), g = normal({3, 2})(rng);
  const px::Context train{.training = true};
  expect_close(px::eval(*k, {a, b}, train), a, 0, 0, "training");
  auto grads = px::eval_vjp(*k, {a, b}, g, train);
  expect_close(grads[0], g, 0, 0, "training gradient to a");
  EXPECT_EQ(max_abs(grads[1]), 0.0);
  expect_close(px::eval(*k, {a, b}), b, 0, 0, "inference");
  *enabled = false;  // a frozen layer: inference behaviour in training too, clones included
  expect_close(px::eval(*k->clone(), {a, b}, train), b, 0, 0, "disabled");
  EXPECT_THROW(out_shape_of(kn::training_select(), {{2, 3}, {3, 2}}), px::Error);
}

TEST(Dropout, RejectsBadRate) {
  EXPECT_THROW(kn::dropout(1.0f), px::Error);
  EXPECT_THROW(kn::dropout(-0.1f), px::Error);
  EXPECT_THROW(kn::dropout_mask(1.0f, 3), px::Error);
  EXPECT_THROW(kn::dropout_mask(0.2f, 0), px::Error);
}

// dropout_mask: [N, width] for its input's batch; ones at inference; 0 or 1 / (1 - rate) in
// training at the rate, a new draw per call, the same draw for the same seed; no gradient.
TEST(DropoutMask, ShapeStatisticsSeedsAndNoGradient) {
  const float rate = 0.3f;
  auto k = kn::dropout_mask(rate, 500);
  EXPECT_EQ(out_shape_of(k, {{-1, 7, 3}}), (Shape{-1, 500}));
  EXPECT_THROW(out_shape_of(k, {{}}), px::Error);
  Rng rng(9);
  const Tensor x = normal({200, 4, 2})(rng);
  const Tensor ones = xt::ones<float>({200, 500});
  expect_close(px::eval(*k, {x}), ones, 0, 0, "inference");
  const px::Context train{.training = true};
  px::utils::set_random_seed(5);
  const Tensor a = px::eval(*k, {x}, train);
  ASSERT_EQ(a.shape()[0], 200u);
  ASSERT_EQ(a.shape()[1], 500u);
  std::size_t dropped = 0;
  for (float v : a) {
    if (v == 0.0f) {
      ++dropped;
    } else {
      ASSERT_EQ(v, 1.0f / (1.0f - rate));
    }
  }
  EXPECT_NEAR(double(dropped) / double(a.size()), rate, 0.01);
  const Tensor b = px::eval(*k, {x}, train);
  EXPECT_NE(a, b);  // a new mask per call
  px::utils::set_random_seed(5);
  EXPECT_EQ(px::eval(*k->clone(), {x}, train), a);
  const Tensor g = normal({200, 500})(rng);
  auto grads = px::eval_vjp(*k, {x}, g, train);
  EXPECT_EQ(max_abs(grads[0]), 0.0);
}

// ---- numerical stability -------------------------------------------------------------

TEST(Stability, SoftmaxOfHugeLogits) {
  const Tensor x = {1e4f, 0.0f, -1e4f};
  const Tensor p = px::eval(*kn::softmax(), {x});
  const Tensor lp = px::eval(*kn::log_softmax(), {x});
  for (float v : p) EXPECT_TRUE(std::isfinite(v));
  for (float v : lp) EXPECT_TRUE(std::isfinite(v));
  EXPECT_FLOAT_EQ(p(0), 1.0f);
  EXPECT_FLOAT_EQ(p(1), 0.0f);
  EXPECT_FLOAT_EQ(p(2), 0.0f);
  EXPECT_FLOAT_EQ(lp(0), 0.0f);
  EXPECT_FLOAT_EQ(lp(1), -1e4f);
  EXPECT_FLOAT_EQ(lp(2), -2e4f);
  // Equal huge logits share the mass evenly.
  const Tensor q = px::eval(*kn::softmax(), {Tensor{{1e4f, 1e4f}}});
  EXPECT_FLOAT_EQ(q(0, 0), 0.5f);
  // Gradients stay finite too.
  const auto g = px::eval_vjp(*kn::log_softmax(), {x}, Tensor{1.0f, 1.0f, 1.0f});
  for (float v : g[0]) EXPECT_TRUE(std::isfinite(v));
}

TEST(Stability, SaturatingActivations) {
  const Tensor x = {-1e4f, -100.0f, 100.0f, 1e4f};
  const Tensor s = px::eval(*kn::sigmoid(), {x});
  EXPECT_EQ(s(0), 0.0f);
  EXPECT_EQ(s(3), 1.0f);
  const Tensor sp = px::eval(*kn::softplus(), {x});
  EXPECT_EQ(sp(0), 0.0f);
  EXPECT_FLOAT_EQ(sp(3), 1e4f);
  const Tensor sw = px::eval(*kn::swish(), {x});
  for (float v : sw) EXPECT_TRUE(std::isfinite(v));
  EXPECT_FLOAT_EQ(sw(3), 1e4f);
}

// ---- errors --------------------------------------------------------------------------

// Runs f, expecting a px::Error whose message contains every fragment.
void expect_error(const std::function<void()>& f, const std::vector<std::string>& fragments) {
  try {
    f();
    ADD_FAILURE() << "no px::Error thrown; expected one mentioning " << fragments.front();
  } catch (const px::Error& e) {
    const std::string msg = e.what();
    for (const auto& frag : fragments) {
      EXPECT_NE(msg.find(frag), std::string::npos) << "message: " << msg << "\nlacks: " << frag;
    }
  }
}

Shape out_shape(const px::KernelPtr& k, std::vector<Shape> shapes) {
  return k->output_shape(shapes);
}

TEST(Errors, MatmulNamesBothShapes) {
  expect_error(
      [] {
        out_shape(kn::matmul(), {{-1, 784}, {783, 64}});
      },
      {"matmul: cannot multiply (None, 784) by (783, 64): inner dimensions 784 and "
       "783 differ"});
  expect_error(
      [] {
        out_shape(kn::matmul(), {{2, 3, 4}, {5, 4, 6}});
      },
      {"matmul", "(2, 3, 4)", "(5, 4, 6)", "batch"});
}

TEST(Errors, Broadcasting) {
  expect_error(
      [] {
        out_shape(kn::add(), {{3, 4}, {5}});
      },
      {"add", "cannot broadcast", "(3, 4)", "(5,)"});
  expect_error([] { out_shape(kn::where(), {{3, 1}, {3, 4}, {2, 4}}); }, {"where", "(2, 4)"});
  expect_error([] { out_shape(kn::multiply(), {{3, 4}}); }, {"multiply", "expected 2 inputs"});
}

TEST(Errors, ShapeOps) {
  expect_error(
      [] {
        out_shape(kn::reshape({5, -1}), {{2, 3}});
      },
      {"reshape", "(2, 3)", "(5, None)"});
  expect_error([] { kn::reshape({-1, -1}); }, {"reshape", "at most one -1"});
  expect_error([] { out_shape(kn::transpose({0, 0}), {{2, 3}}); }, {"transpose", "(2, 3)"});
  expect_error(
      [] {
        out_shape(kn::concatenate(1), {{2, 3}, {4, 3}});
      },
      {"concatenate", "input 1", "(4, 3)", "(2, 3)"});
  expect_error([] { out_shape(kn::concatenate(), {}); }, {"concatenate"});
  expect_error([] { out_shape(kn::slice(1, 2, 7), {{-1, 5}}); }, {"slice", "[2, 7)", "(None, 5)"});
  expect_error([] { out_shape(kn::slice(2, 0, 1), {{3, 5}}); }, {"slice", "axis 2"});
  expect_error(
      [] {
        out_shape(kn::take_along_axis(-1), {{4, 5}, {3}});
      },
      {"take_along_axis", "(3,)", "(4, 5)"});
  expect_error([] { out_shape(kn::softmax(2), {{4, 5}}); }, {"softmax", "axis 2"});
}

TEST(Errors, Reductions) {
  expect_error([] { out_shape(kn::sum({3}), {{2, 3}}); }, {"sum", "axis 3", "rank 2"});
  expect_error([] { out_shape(kn::mean({1, -1}), {{2, 3}}); }, {"mean", "twice"});
}

TEST(Errors, IndicesOutOfRange) {
  const Tensor table = xt::zeros<float>({4, 2});
  expect_error(
      [&] {
        px::eval(*kn::gather(0), {table, Tensor{1.0f, 4.0f}});
      },
      {"gather", "index 4", "size 4"});
  expect_error([&] { px::eval(*kn::gather(0), {table, Tensor{-1.0f}}); }, {"gather", "-1"});
  expect_error(
      [&] {
        px::eval(*kn::gather(0), {table, Tensor{1.5f}});
      },
      {"gather", "not an integer"});
  expect_error(
      [&] {
        px::eval(*kn::take_along_axis(-1), {table, Tensor{0.0f, 0.0f, 2.0f, 1.0f}});
      },
      {"take_along_axis", "index 2", "size 2"});
}

TEST(Errors, BadParameters) {
  expect_error([] { kn::clip(1.0f, -1.0f); }, {"clip"});
}

// ---- symbolic shapes -----------------------------------------------------------------

TEST(SymbolicShapes, UnknownBatchPropagates) {
  EXPECT_EQ(out_shape(kn::matmul(), {{-1, 784}, {784, 64}}), (Shape{-1, 64}));
  EXPECT_EQ(out_shape(kn::matmul(), {{-1, 10, 784}, {784, 64}}), (Shape{-1, 10, 64}));
  EXPECT_EQ(out_shape(kn::matmul(), {{-1, 3, 4}, {-1, 4, 5}}), (Shape{-1, 3, 5}));
  EXPECT_EQ(out_shape(kn::add(), {{-1, 4}, {4}}), (Shape{-1, 4}));
  EXPECT_EQ(out_shape(kn::add(), {{-1, 1}, {1, 5}}), (Shape{-1, 5}));
  EXPECT_EQ(out_shape(kn::add(), {{-1, 3}, {5, 1}}), (Shape{5, 3}));  // -1 vs n -> n
  EXPECT_EQ(out_shape(kn::add(), {{-1}, {-1}}), (Shape{-1}));
  EXPECT_EQ(out_shape(kn::where(), {{-1, 1}, {-1, 4}, {4}}), (Shape{-1, 4}));
  EXPECT_EQ(out_shape(kn::relu(), {{-1, 7}}), (Shape{-1, 7}));
  EXPECT_EQ(out_shape(kn::sum({1}), {{-1, 4}}), (Shape{-1}));
  EXPECT_EQ(out_shape(kn::mean({-1}, true), {{-1, 4}}), (Shape{-1, 1}));
  EXPECT_EQ(out_shape(kn::max(), {{-1, 4}}), (Shape{}));
  EXPECT_EQ(out_shape(kn::reshape({-1, 784}), {{-1, 28, 28}}), (Shape{-1, 784}));
  EXPECT_EQ(out_shape(kn::reshape({-1, 4}), {{2, 3, 4}}), (Shape{6, 4}));
  EXPECT_EQ(out_shape(kn::transpose(), {{-1, 3, 4}}), (Shape{4, 3, -1}));
  EXPECT_EQ(out_shape(kn::transpose({0, 2, 1}), {{-1, 3, 4}}), (Shape{-1, 4, 3}));
  EXPECT_EQ(out_shape(kn::concatenate(), {{-1, 3}, {-1, 4}}), (Shape{-1, 7}));
  EXPECT_EQ(out_shape(kn::concatenate(0), {{-1, 3}, {2, 3}}), (Shape{-1, 3}));
  EXPECT_EQ(out_shape(kn::slice(1, 2, 5), {{-1, 10}}), (Shape{-1, 3}));
  EXPECT_EQ(out_shape(kn::slice(0, 0, 2), {{-1, 10}}), (Shape{2, 10}));
  EXPECT_EQ(out_shape(kn::slice(0, 1, -1), {{-1, 10}}), (Shape{-1, 10}));
  EXPECT_EQ(out_shape(kn::gather(0), {{10, 8}, {-1, 5}}), (Shape{-1, 5, 8}));
  EXPECT_EQ(out_shape(kn::take_along_axis(-1), {{-1, 10}, {-1}}), (Shape{-1}));
  EXPECT_EQ(out_shape(kn::softmax(), {{-1, 10}}), (Shape{-1, 10}));
  EXPECT_EQ(out_shape(kn::dropout(0.5f), {{-1, 10}}), (Shape{-1, 10}));
}

}  // namespace
