#include "core/constraints.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/json.hpp"

namespace plexus::constraints {

namespace {

constexpr double kEpsilon = 1e-7;  // keras.backend.epsilon()

// For each element of w, the index of its group (the element's index with the reduced
// axes dropped); returns the group count.
std::size_t group_index(const Tensor& w, const std::vector<Dim>& axes, std::string_view cls,
                        std::vector<std::size_t>& group) {
  const std::size_t rank = w.dimension();
  std::vector<bool> reduced(rank, false);
  for (Dim a : axes) {
    const Dim r = static_cast<Dim>(rank);
    const Dim k = a < 0 ? a + r : a;
    if (k < 0 || k >= r) {
      throw Error("{}: axis {} is out of range for a weight of shape {}", cls, a,
                  shape_str(shape_of(w)));
    }
    reduced[static_cast<std::size_t>(k)] = true;
  }
  std::size_t groups = 1;
  std::vector<std::size_t> kept_stride(rank, 0);
  for (std::size_t d = rank; d-- > 0;) {
    if (!reduced[d]) {
      kept_stride[d] = groups;
      groups *= w.shape()[d];
    }
  }
  group.assign(w.size(), 0);
  std::vector<std::size_t> idx(rank, 0);
  for (std::size_t i = 0; i < w.size(); ++i) {
    std::size_t g = 0;
    for (std::size_t d = 0; d < rank; ++d) g += idx[d] * kept_stride[d];
    group[i] = g;
    for (std::size_t d = rank; d-- > 0;) {  // row-major increment
      if (++idx[d] < w.shape()[d]) break;
      idx[d] = 0;
    }
  }
  return groups;
}

// w *= scale(norm) group by group, norm = the L2 norm of the group.
template <typename Scale>
void rescale(Tensor& w, const std::vector<Dim>& axes, std::string_view cls, Scale scale) {
  std::vector<std::size_t> group;
  const std::size_t groups = group_index(w, axes, cls, group);
  std::vector<double> sq(groups, 0.0);
  float* data = w.data();
  for (std::size_t i = 0; i < w.size(); ++i) sq[group[i]] += double(data[i]) * data[i];
  std::vector<float> factor(groups);
  for (std::size_t g = 0; g < groups; ++g) factor[g] = static_cast<float>(scale(std::sqrt(sq[g])));
  for (std::size_t i = 0; i < w.size(); ++i) data[i] *= factor[group[i]];
}

Config axis_config(const std::vector<Dim>& axis) {
  if (axis.size() == 1) return axis[0];
  return axis;
}
std::vector<Dim> axis_from(const Config& c) {
  auto it = c.find("axis");
  if (it == c.end() || it->is_null()) return {0};
  if (it->is_number_integer()) return {it->get<Dim>()};
  return it->get<std::vector<Dim>>();
}

void add_builtins(Registry<Constraint>& reg) {
  reg.add("MaxNorm",
          [](const Config& c) {
            return std::make_shared<MaxNorm>(
                MaxNormOptions{config::get_or<double>(c, "max_value", 2.0), axis_from(c)});
          },
          {"max_norm"});
  reg.add("NonNeg", [](const Config&) { return std::make_shared<NonNeg>(); }, {"non_neg"});
  reg.add("UnitNorm",
          [](const Config& c) { return std::make_shared<UnitNorm>(UnitNormOptions{axis_from(c)}); },
          {"unit_norm"});
  reg.add("MinMaxNorm",
          [](const Config& c) {
            return std::make_shared<MinMaxNorm>(
                MinMaxNormOptions{config::get_or<double>(c, "min_value", 0.0),
                                  config::get_or<double>(c, "max_value", 1.0),
                                  config::get_or<double>(c, "rate", 1.0), axis_from(c)});
          },
          {"min_max_norm"});
}

}  // namespace

Registry<Constraint>& Constraint::registry() {
  static Registry<Constraint> r("constraint", "keras.constraints");
  static const bool filled = (add_builtins(r), true);
  (void)filled;
  return r;
}

Config MaxNorm::get_config() const {
  return {{"max_value", options_.max_value}, {"axis", axis_config(options_.axis)}};
}
void MaxNorm::apply(Tensor& w) const {
  const double m = options_.max_value;
  rescale(w, options_.axis, "MaxNorm",
          [m](double n) { return std::clamp(n, 0.0, m) / (kEpsilon + n); });
}

void NonNeg::apply(Tensor& w) const {
  for (float& v : w) v = v >= 0.0f ? v : 0.0f;
}

Config UnitNorm::get_config() const { return {{"axis", axis_config(options_.axis)}}; }
void UnitNorm::apply(Tensor& w) const {
  rescale(w, options_.axis, "UnitNorm", [](double n) { return 1.0 / (kEpsilon + n); });
}

Config MinMaxNorm::get_config() const {
  return {{"min_value", options_.min_value},
          {"max_value", options_.max_value},
          {"rate", options_.rate},
          {"axis", axis_config(options_.axis)}};
}
void MinMaxNorm::apply(Tensor& w) const {
  const MinMaxNormOptions o = options_;
  if (!(o.min_value <= o.max_value)) {
    throw Error("MinMaxNorm: min_value {} must not exceed max_value {}", o.min_value, o.max_value);
  }
  rescale(w, o.axis, "MinMaxNorm", [o](double n) {
    const double desired = o.rate * std::clamp(n, o.min_value, o.max_value) + (1.0 - o.rate) * n;
    return desired / (kEpsilon + n);
  });
}

Config Constraint::get_config() const { return Config::object(); }

}  // namespace plexus::constraints
