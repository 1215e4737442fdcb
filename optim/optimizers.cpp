// The update rules run through xsimd. GCC 12 reports the deliberately undefined lanes of
// AVX-512 intrinsics (_mm512_undefined_ps) as uninitialized once xsimd inlines them (GCC
// bug 105593, fixed in GCC 13); the pragmas must precede the first include.
#pragma GCC diagnostic ignored "-Wuninitialized"
#ifndef __clang__  // a GCC-only warning
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "optim/optimizers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <tuple>
#include <xsimd/xsimd.hpp>

#include "core/cpu.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "optim/option_checks.hpp"

namespace plexus::optim {

namespace {

using Batch = xsimd::batch<float>;

// The update rules are written once for a generic T (a SIMD batch or a float); these pick
// the matching function. xsimd because the compiler will not vectorise std::sqrt loops
// (errno), and optimizer steps run over every weight each batch.
inline float vsqrt(float x) { return std::sqrt(x); }
inline Batch vsqrt(const Batch& x) { return xsimd::sqrt(x); }
inline float vmax(float a, float b) { return std::max(a, b); }
inline Batch vmax(const Batch& a, const Batch& b) { return xsimd::max(a, b); }
inline float vabs(float x) { return std::abs(x); }
inline Batch vabs(const Batch& x) { return xsimd::abs(x); }
// Keras's ops.sign: -1, 0 or 1.
inline float vsign(float x) { return static_cast<float>((x > 0.0f) - (x < 0.0f)); }
inline Batch vsign(const Batch& x) {
  return xsimd::select(x > Batch(0.0f), Batch(1.0f), Batch(0.0f)) -
         xsimd::select(x < Batch(0.0f), Batch(1.0f), Batch(0.0f));
}

template <typename>
using AsBatch = Batch;

// For i < n: f(var[i], grad[i], slot[i]...) with var and the slots updated in place,
// Batch::size elements at a time, then the tail one float at a time.
template <typename F, typename... S>
void map_update(std::size_t n, float* var, const float* grad, F&& f, S*... slots) {
  constexpr std::size_t w = Batch::size;
  std::size_t i = 0;
  for (; i + w <= n; i += w) {
    Batch v = Batch::load_unaligned(var + i);
    const Batch g = Batch::load_unaligned(grad + i);
    std::tuple<AsBatch<S>...> s{Batch::load_unaligned(slots + i)...};
    std::apply([&](auto&... b) { f(v, g, b...); }, s);
    v.store_unaligned(var + i);
    std::apply([&](auto&... b) { (b.store_unaligned(slots + i), ...); }, s);
  }
  for (; i < n; ++i) f(var[i], grad[i], slots[i]...);
}

double l2_squared(const Tensor& t) {
  double s = 0.0;
  const float* d = t.data();
  for (std::size_t i = 0; i < t.size(); ++i) s += static_cast<double>(d[i]) * d[i];
  return s;
}

}  // namespace

// --- Optimizer ------------------------------------------------------------------------------

Optimizer::Optimizer(const char* optimizer, Shared config) : config_(std::move(config)) {
  if (!config_.learning_rate.is_schedule())
    check_learning_rate(config_.learning_rate.at(0), optimizer);
  const Shared& c = config_;
  if (c.clipnorm.has_value() + c.clipvalue.has_value() + c.global_clipnorm.has_value() > 1) {
    throw Error(
        "{}: only one of clipnorm, clipvalue and global_clipnorm can be set (received "
        "clipnorm={}, clipvalue={}, global_clipnorm={})",
        optimizer, c.clipnorm ? fmt::format("{}", *c.clipnorm) : "None",
        c.clipvalue ? fmt::format("{}", *c.clipvalue) : "None",
        c.global_clipnorm ? fmt::format("{}", *c.global_clipnorm) : "None");
  }
}

void Optimizer::exclude_from_weight_decay(std::vector<std::string> var_names) {
  if (!state_.empty()) {
    throw Error(
        "Optimizer \"{}\": exclude_from_weight_decay() must be called before the "
        "first update",
        name());
  }
  config_.exclude_from_weight_decay = std::move(var_names);
}

Optimizer::VariableState& Optimizer::state_for(const VariableData& var, std::size_t n) {
  auto it = index_.find(&var);
  if (it != index_.end()) {
    VariableState& s = state_[it->second];
    // The address may have been reused by a new variable after the old one died.
    if (!s.owned || s.variable.lock().get() == &var) return s;
    index_.erase(it);
  }
  index_[&var] = state_.size();
  VariableState& s = state_.emplace_back();
  s.variable = std::const_pointer_cast<VariableData>(var.weak_from_this().lock());
  s.owned = !s.variable.expired();
  for (std::size_t k = 0; k < kMaxSlots; ++k) {
    if (uses_slot(k)) s.slots[k].assign(n, slot_initial_value(k));
  }
  for (const auto& pattern : config_.exclude_from_weight_decay) {
    if (var.name.find(pattern) != std::string::npos) s.decay = false;
  }
  return s;
}

std::vector<Optimizer::SlotView> Optimizer::variables() const {
  std::vector<SlotView> out;
  for (const auto& s : state_) {
    auto v = s.variable.lock();
    if (!v) continue;
    for (std::size_t k = 0; k < kMaxSlots; ++k) {
      if (uses_slot(k)) out.push_back(SlotView{v, k, &s.slots[k]});
    }
  }
  return out;
}

void Optimizer::apply_gradients(const std::vector<std::optional<Tensor>>& grads,
                                const std::vector<Variable>& vars) {
  if (grads.size() != vars.size()) {
    throw Error("Optimizer \"{}\": received {} gradients for {} variables", name(), grads.size(),
                vars.size());
  }
  std::vector<const Tensor*> g(grads.size());
  std::vector<VariableData*> v(vars.size());
  for (std::size_t i = 0; i < grads.size(); ++i) {
    g[i] = grads[i] ? &*grads[i] : nullptr;
    v[i] = vars[i].data().get();
  }
  apply(g, v);
}

void Optimizer::apply_tensors(const std::vector<Tensor>& grads, const std::vector<Variable>& vars) {
  if (grads.size() != vars.size()) {
    throw Error("Optimizer \"{}\": received {} gradients for {} variables", name(), grads.size(),
                vars.size());
  }
  std::vector<const Tensor*> g(grads.size());
  std::vector<VariableData*> v(vars.size());
  for (std::size_t i = 0; i < grads.size(); ++i) {
    g[i] = &grads[i];
    v[i] = vars[i].data().get();
  }
  apply(g, v);
}

void Optimizer::apply(std::span<const Tensor* const> grads, std::span<VariableData* const> vars) {
  if (grads.size() != vars.size()) {
    throw Error("Optimizer \"{}\": received {} gradients for {} variables", name(), grads.size(),
                vars.size());
  }
  if (grads.empty()) return;  // Keras: nothing to apply
  // Keras drops missing gradients. Missing here: null, no elements, or a default
  // (rank-0) tensor for a variable that has axes — what Executor::variable_grad() returns
  // for a weight the loss does not reach.
  const auto present = [&](std::size_t i) {
    const Tensor* g = grads[i];
    if (g == nullptr) return false;
    if (g->size() == 0) return vars[i]->value.size() == 0;
    return g->dimension() > 0 || vars[i]->value.dimension() == 0;
  };
  bool any = false;
  for (std::size_t i = 0; i < grads.size(); ++i) {
    if (vars[i] == nullptr) throw Error("Optimizer \"{}\": variable {} is null", name(), i);
    if (!present(i)) continue;
    any = true;
    if (grads[i]->size() != vars[i]->value.size()) {
      throw Error("Optimizer \"{}\": gradient {} has shape {} but variable \"{}\" has shape {}",
                  name(), i, shape_str(shape_of(*grads[i])), vars[i]->path,
                  shape_str(shape_of(vars[i]->value)));
    }
  }
  if (!any) throw Error("Optimizer \"{}\": no gradients provided for any variable", name());

  // Gradient clipping (Keras's _clip_gradients): the factor each gradient is scaled by.
  const double clipnorm = config_.clipnorm.value_or(0.0);
  const double global_clipnorm = config_.global_clipnorm.value_or(0.0);
  const double clipvalue = config_.clipvalue.value_or(0.0);
  double global_scale = 1.0;
  if (clipnorm <= 0.0 && global_clipnorm > 0.0) {
    double sq = 0.0;
    for (std::size_t i = 0; i < grads.size(); ++i) {
      if (present(i)) sq += l2_squared(*grads[i]);
    }
    const double norm = std::sqrt(sq);
    // clip * min(1 / norm, 1 / clip): 1 when norm <= clip; NaN for a non-finite norm.
    global_scale = std::isfinite(norm)
                       ? global_clipnorm * std::min(1.0 / norm, 1.0 / global_clipnorm)
                       : std::nan("");
  }

  FlushDenormals ftz;
  const double lr = learning_rate();
  check_learning_rate(lr, name());
  const std::int64_t step = iterations_ + 1;
  begin_step(step);
  for (std::size_t i = 0; i < grads.size(); ++i) {
    if (!present(i)) continue;
    VariableData& var = *vars[i];
    const Tensor& grad = *grads[i];
    const std::size_t n = var.value.size();
    VariableState& s = state_for(var, n);

    const float* g = grad.data();
    double scale = 1.0;
    if (clipnorm > 0.0) {
      const double norm = std::sqrt(l2_squared(grad));
      scale = clipnorm / std::max(norm, clipnorm);  // g * clip / max(||g||, clip)
    } else if (global_clipnorm > 0.0) {
      scale = global_scale;
    }
    if (scale != 1.0 || (clipnorm <= 0.0 && global_clipnorm <= 0.0 && clipvalue > 0.0)) {
      s.clipped.resize(n);
      const float f = static_cast<float>(scale);
      if (clipnorm <= 0.0 && global_clipnorm <= 0.0 && clipvalue > 0.0) {
        const float c = static_cast<float>(clipvalue);
        for (std::size_t k = 0; k < n; ++k) s.clipped[k] = std::clamp(g[k], -c, c);
      } else {
        for (std::size_t k = 0; k < n; ++k) s.clipped[k] = g[k] * f;
      }
      g = s.clipped.data();
    }

    float* w = var.value.data();
    if (config_.weight_decay && s.decay) {  // decoupled: w -= w * wd * lr
      const float decay = static_cast<float>(*config_.weight_decay * lr);
      for (std::size_t k = 0; k < n; ++k) w[k] -= w[k] * decay;
    }
    Slots slots{};
    for (std::size_t k = 0; k < kMaxSlots; ++k) {
      slots[k] = s.slots[k].empty() ? nullptr : s.slots[k].data();
    }
    update_step(w, g, n, slots, static_cast<float>(lr), step);
  }
  ++iterations_;
}

// --- SGD ------------------------------------------------------------------------------------

void SGD::validate(const SGDOptions& options) {
  if (options.momentum < 0.0 || options.momentum > 1.0) {
    throw Error("SGD: momentum must be a float between [0, 1], received {}", options.momentum);
  }
}

void SGD::update_step(float* var, const float* grad, std::size_t n, const Slots& slots, float lr,
                      std::int64_t) {
  if (options().momentum == 0.0) {
    map_update(n, var, grad, [lr](auto& w, auto g) { w -= g * lr; });
    return;
  }
  const float mom = static_cast<float>(options().momentum);
  if (options().nesterov) {
    map_update(
        n, var, grad,
        [=](auto& w, auto g, auto& m) {
          m = m * mom - g * lr;
          w += m * mom - g * lr;
        },
        slots[0]);
  } else {
    map_update(
        n, var, grad,
        [=](auto& w, auto g, auto& m) {
          m = m * mom - g * lr;
          w += m;
        },
        slots[0]);
  }
}

// --- RMSprop ----------------------------------------------------------------------------------

void RMSprop::update_step(float* var, const float* grad, std::size_t n, const Slots& slots,
                          float lr, std::int64_t) {
  const float rho = static_cast<float>(options().rho);
  const float one_minus_rho = 1.0f - rho;
  const float eps = static_cast<float>(options().epsilon);
  const float mom = static_cast<float>(options().momentum);
  const auto increment = [=](auto g, auto& v) {
    v = v * rho + g * g * one_minus_rho;
    return g * lr / vsqrt(v + eps);
  };
  const auto centered_increment = [=](auto g, auto& v, auto& a) {
    v = v * rho + g * g * one_minus_rho;
    a = a * rho + g * one_minus_rho;
    return g * lr / vsqrt(v - a * a + eps);
  };
  if (options().centered && mom > 0.0f) {
    map_update(
        n, var, grad,
        [=](auto& w, auto g, auto& v, auto& m, auto& a) {
          m = m * mom + centered_increment(g, v, a);
          w -= m;
        },
        slots[0], slots[1], slots[2]);
  } else if (options().centered) {
    map_update(
        n, var, grad, [=](auto& w, auto g, auto& v, auto& a) { w -= centered_increment(g, v, a); },
        slots[0], slots[2]);
  } else if (mom > 0.0f) {
    map_update(
        n, var, grad,
        [=](auto& w, auto g, auto& v, auto& m) {
          m = m * mom + increment(g, v);
          w -= m;
        },
        slots[0], slots[1]);
  } else {
    map_update(
        n, var, grad, [=](auto& w, auto g, auto& v) { w -= increment(g, v); }, slots[0]);
  }
}

// --- Adam / AdamW -----------------------------------------------------------------------------

namespace {
// Adam's and AdamW's rule (their options name the fields alike).
template <typename Options, typename Slots>
void adam_update(const Options& o, float* var, const float* grad, std::size_t n, const Slots& slots,
                 float lr, std::int64_t step) {
  const float b1 = static_cast<float>(o.beta_1);
  const float b2 = static_cast<float>(o.beta_2);
  const float eps = static_cast<float>(o.epsilon);
  const float t = static_cast<float>(step);
  const float b1_power = std::pow(b1, t);
  const float b2_power = std::pow(b2, t);
  const float alpha = lr * std::sqrt(1.0f - b2_power) / (1.0f - b1_power);
  const float c1 = 1.0f - b1, c2 = 1.0f - b2;
  if (o.amsgrad) {
    map_update(
        n, var, grad,
        [=](auto& w, auto g, auto& m, auto& v, auto& v_hat) {
          m += (g - m) * c1;
          v += (g * g - v) * c2;
          v_hat = vmax(v_hat, v);
          w -= m * alpha / (vsqrt(v_hat) + eps);
        },
        slots[0], slots[1], slots[2]);
  } else {
    map_update(
        n, var, grad,
        [=](auto& w, auto g, auto& m, auto& v) {
          m += (g - m) * c1;
          v += (g * g - v) * c2;
          w -= m * alpha / (vsqrt(v) + eps);
        },
        slots[0], slots[1]);
  }
}

}  // namespace

void Adam::update_step(float* var, const float* grad, std::size_t n, const Slots& slots, float lr,
                       std::int64_t step) {
  adam_update(options(), var, grad, n, slots, lr, step);
}

void AdamW::update_step(float* var, const float* grad, std::size_t n, const Slots& slots, float lr,
                        std::int64_t step) {
  adam_update(options(), var, grad, n, slots, lr, step);
}

// --- Nadam ------------------------------------------------------------------------------------

void Nadam::begin_step(std::int64_t step) {
  u_product_ *= options().beta_1 * (1.0 - 0.5 * std::pow(0.96, static_cast<double>(step)));
}

void Nadam::update_step(float* var, const float* grad, std::size_t n, const Slots& slots, float lr,
                        std::int64_t step) {
  const double b1 = options().beta_1, b2 = options().beta_2;
  const double t = static_cast<double>(step);
  const double u_t = b1 * (1.0 - 0.5 * std::pow(0.96, t));
  const double u_t1 = b1 * (1.0 - 0.5 * std::pow(0.96, t + 1.0));
  const double u_product_t1 = u_product_ * u_t1;
  const float c_m = static_cast<float>(u_t1 / (1.0 - u_product_t1));
  const float c_g = static_cast<float>((1.0 - u_t) / (1.0 - u_product_));
  const float inv_b2 = static_cast<float>(1.0 / (1.0 - std::pow(b2, t)));
  const float c1 = static_cast<float>(1.0 - b1), c2 = static_cast<float>(1.0 - b2);
  const float eps = static_cast<float>(options().epsilon);
  map_update(
      n, var, grad,
      [=](auto& w, auto g, auto& m, auto& v) {
        m += (g - m) * c1;
        v += (g * g - v) * c2;
        const auto m_hat = m * c_m + g * c_g;
        const auto v_hat = v * inv_b2;
        w -= m_hat * lr / (vsqrt(v_hat) + eps);
      },
      slots[0], slots[1]);
}

// --- Adagrad ----------------------------------------------------------------------------------

void Adagrad::validate(const AdagradOptions& options) {
  if (options.initial_accumulator_value < 0.0) {
    throw Error("Adagrad: initial_accumulator_value must be >= 0, received {}",
                options.initial_accumulator_value);
  }
}

void Adagrad::update_step(float* var, const float* grad, std::size_t n, const Slots& slots,
                          float lr, std::int64_t) {
  const float eps = static_cast<float>(options().epsilon);
  map_update(
      n, var, grad,
      [=](auto& w, auto g, auto& acc) {
        acc += g * g;
        w -= g * lr / vsqrt(acc + eps);
      },
      slots[0]);
}

// --- Adadelta ---------------------------------------------------------------------------------

// Slots: 0 accumulated squared gradient, 1 accumulated squared update.
void Adadelta::update_step(float* var, const float* grad, std::size_t n, const Slots& slots,
                           float lr, std::int64_t) {
  const float rho = static_cast<float>(options().rho);
  const float one_minus_rho = 1.0f - rho;
  const float eps = static_cast<float>(options().epsilon);
  map_update(
      n, var, grad,
      [=](auto& w, auto g, auto& acc_grad, auto& acc_delta) {
        acc_grad = acc_grad * rho + g * g * one_minus_rho;
        const auto delta = -(vsqrt(acc_delta + eps) * g / vsqrt(acc_grad + eps));
        acc_delta = acc_delta * rho + delta * delta * one_minus_rho;
        w += delta * lr;
      },
      slots[0], slots[1]);
}

// --- Adamax -----------------------------------------------------------------------------------

// Slots: 0 momentum, 1 exponentially weighted infinity norm.
void Adamax::update_step(float* var, const float* grad, std::size_t n, const Slots& slots, float lr,
                         std::int64_t step) {
  const float b1 = static_cast<float>(options().beta_1);
  const float b2 = static_cast<float>(options().beta_2);
  const float eps = static_cast<float>(options().epsilon);
  const float correction = 1.0f - std::pow(b1, static_cast<float>(step));
  const float c1 = 1.0f - b1;
  map_update(
      n, var, grad,
      [=](auto& w, auto g, auto& m, auto& u) {
        m += (g - m) * c1;
        u = vmax(u * b2, vabs(g));
        w -= m * lr / ((u + eps) * correction);
      },
      slots[0], slots[1]);
}

// --- Lion -------------------------------------------------------------------------------------

void Lion::validate(const LionOptions& options) {
  if (options.beta_1 <= 0.0 || options.beta_1 > 1.0) {
    throw Error(
        "Lion: beta_1 must be in the [0, 1] range (0 excluded: the optimizer degenerates to "
        "SignSGD), received {}",
        options.beta_1);
  }
}

// Slot 0: momentum.
void Lion::update_step(float* var, const float* grad, std::size_t n, const Slots& slots, float lr,
                       std::int64_t) {
  const float b1 = static_cast<float>(options().beta_1);
  const float b2 = static_cast<float>(options().beta_2);
  const float c1 = 1.0f - b1, c2 = 1.0f - b2;
  map_update(
      n, var, grad,
      [=](auto& w, auto g, auto& m) {
        w -= vsign(m * b1 + g * c1) * lr;
        m = m * b2 + g * c2;
      },
      slots[0]);
}

// --- KerasOptimizer: the config of each built-in's options ------------------------------

template <typename Derived, typename Options>
Config KerasOptimizer<Derived, Options>::options_config() const {
  return options_;
}

template class KerasOptimizer<SGD, SGDOptions>;
template class KerasOptimizer<RMSprop, RMSpropOptions>;
template class KerasOptimizer<Adam, AdamOptions>;
template class KerasOptimizer<AdamW, AdamWOptions>;
template class KerasOptimizer<Nadam, NadamOptions>;
template class KerasOptimizer<Adagrad, AdagradOptions>;
template class KerasOptimizer<Adadelta, AdadeltaOptions>;
template class KerasOptimizer<Adamax, AdamaxOptions>;
template class KerasOptimizer<Lion, LionOptions>;

}  // namespace plexus::optim
