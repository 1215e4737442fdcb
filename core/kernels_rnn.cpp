// Fused recurrent kernels: SimpleRNN, LSTM and GRU (Keras 3 gate orders and layouts) over a
// whole sequence, with their exact VJPs (backpropagation through time).
//
// Forward: one GEMM projects the inputs of every timestep at once (x [N*T, F] . kernel),
// then one GEMM per step adds the recurrent term (h [N, U] . recurrent_kernel). Everything
// the VJP needs (activated gates, the state before each step, tanh of the cell state) is
// kept in scratch buffers laid out [N, T, ...] by time index, so that the VJP's weight
// gradients are again single GEMMs over all timesteps: d kernel = x^T dZ, d recurrent_kernel
// = Hprev^T dZ, d x = dZ kernel^T; only dh_{t-1} = dZ_t recurrent_kernel^T is per step.
//
// Masks (Keras): at a step whose mask is 0 a sample's state is carried unchanged and its
// output is the previous output (zeros before the first unmasked step), or zeros with
// zero_output_for_mask. go_backwards walks the input from the last step to the first and
// returns the outputs in that (reversed) order, as Keras does.
//
// Recurrent dropout (Keras 3's cells with recurrent_dropout > 0, implementation 1): a mask
// [N, k*U] input, one [N, U] block per gate; gate g's recurrent term is (h_{t-1} * m_g) R_g,
// so the recurrent GEMM runs per gate on the dropped copies (kept in hd_ for the VJP). The
// GRU's interpolation z * h_{t-1} and the LSTM's cell state use the undropped state. A mask
// of ones (inference) takes the fused path: the result is the same. With input_dropout too
// (Keras's implementation 1 then drops the inputs per gate as well), a mask [N, k*F]: gate
// g's input projection is (x * d_g) W_g, one GEMM per gate on the dropped copies (xd_).
#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "core/blas.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/kernel_util.hpp"
#include "core/kernels.hpp"
#include "core/simd_util.hpp"
#include "graph/detail/gradients.hpp"
#include "graph/ops.hpp"

namespace plexus::kernels {
namespace {

using ST = SymbolicTensor;
namespace o = plexus::ops;

using simd::Batch;

enum class Cell { kSimple, kLstm, kGru };
enum class Act { kLinear, kTanh, kSigmoid, kRelu, kHardSigmoid };

Act parse_activation(const std::string& name, const char* op, const char* what) {
  if (name == "tanh") return Act::kTanh;
  if (name == "sigmoid") return Act::kSigmoid;
  if (name == "relu") return Act::kRelu;
  if (name == "linear") return Act::kLinear;
  if (name == "hard_sigmoid") return Act::kHardSigmoid;
  throw Error(
      "{}: {} \"{}\" is not supported by the fused recurrent kernel (tanh, sigmoid, relu, "
      "hard_sigmoid, linear)",
      op, what, name);
}

// y = act(y) in place over n floats.
void activate(Act act, float* y, std::size_t n) {
  switch (act) {
    case Act::kLinear:
      return;
    case Act::kTanh:
      simd::apply(
          y, n, [](Batch x) { return xsimd::tanh(x); }, y);
      return;
    case Act::kSigmoid:
      simd::apply(
          y, n, [](Batch x) { return Batch(1.0f) / (Batch(1.0f) + xsimd::exp(-x)); }, y);
      return;
    case Act::kRelu:
      simd::apply(
          y, n, [](Batch x) { return xsimd::max(x, Batch(0.0f)); }, y);
      return;
    case Act::kHardSigmoid:  // Keras 3: relu6(x + 3) / 6
      simd::apply(
          y, n,
          [](Batch x) {
            return xsimd::min(xsimd::max(x + Batch(3.0f), Batch(0.0f)), Batch(6.0f)) *
                   Batch(1.0f / 6.0f);
          },
          y);
      return;
  }
}

// The derivative of act at the point where it output y (every supported activation's
// derivative is a function of its output).
inline float dact(Act act, float y) {
  switch (act) {
    case Act::kLinear:
      return 1.0f;
    case Act::kTanh:
      return 1.0f - y * y;
    case Act::kSigmoid:
      return y * (1.0f - y);
    case Act::kRelu:
      return y > 0.0f ? 1.0f : 0.0f;
    case Act::kHardSigmoid:
      return y > 0.0f && y < 1.0f ? 1.0f / 6.0f : 0.0f;
  }
  return 1.0f;
}

using blas::gemm;

class Recurrent final : public MultiKernel {
 public:
  explicit Recurrent(RecurrentConfig config) : config_(std::move(config)) {
    if (config_.cell == "simple_rnn") {
      cell_ = Cell::kSimple;
    } else if (config_.cell == "lstm") {
      cell_ = Cell::kLstm;
    } else if (config_.cell == "gru") {
      cell_ = Cell::kGru;
    } else {
      throw Error("recurrent: unknown cell \"{}\" (simple_rnn, lstm, gru)", config_.cell);
    }
    act_ = parse_activation(config_.activation, config_.cell.c_str(), "activation");
    rec_act_ = parse_activation(config_.recurrent_activation, config_.cell.c_str(),
                                "recurrent_activation");
  }
  std::string name() const override { return config_.cell; }
  std::size_t num_inputs() const override {
    return 3 + (config_.use_bias ? 1 : 0) + (config_.masked ? 1 : 0) +
           (config_.recurrent_dropout ? 1 : 0) + (config_.input_dropout ? 1 : 0) +
           (config_.initial_state ? num_states() : 0);
  }
  std::size_t num_outputs() const override { return 1 + num_states(); }

  std::vector<Shape> output_shapes(ShapeRefs in) const override {
    const char* op = config_.cell.c_str();
    check_arity(op, in, num_inputs());
    const Shape& x = in[0];
    const Shape& w = in[1];
    const Shape& r = in[2];
    const Dim k = gates();
    if (x.size() != 3) {
      throw Error("{}: the input must be [batch, timesteps, features], received {}", op,
                  shape_str(x));
    }
    if (r.size() != 2 || r[0] <= 0 || r[1] != k * r[0]) {
      throw Error("{}: recurrent_kernel must be [units, {} * units], received {}", op, k,
                  shape_str(r));
    }
    const Dim u = r[0];
    if (w.size() != 2 || w[1] != k * u || (x[2] >= 0 && w[0] != x[2])) {
      throw Error("{}: kernel must be [features, {}] for input {}, received {}", op, k * u,
                  shape_str(x), shape_str(w));
    }
    std::size_t next = 3;
    if (config_.use_bias) {
      const Shape want = gru_reset_after() ? Shape{2, k * u} : Shape{k * u};
      if (in[next] != want) {
        throw Error("{}: bias must be {}, received {}", op, shape_str(want), shape_str(in[next]));
      }
      ++next;
    }
    if (config_.masked) {
      if (!shapes_compatible(in[next], Shape{x[0], x[1]})) {
        throw Error("{}: the mask must be [batch, timesteps] = {} for input {}, received {}", op,
                    shape_str(Shape{x[0], x[1]}), shape_str(x), shape_str(in[next]));
      }
      ++next;
    }
    if (config_.recurrent_dropout) {
      if (!shapes_compatible(in[next], Shape{x[0], k * u})) {
        throw Error(
            "{}: the recurrent dropout mask must be [batch, {} * units] = {} for input {}, "
            "received {}",
            op, k, shape_str(Shape{x[0], k * u}), shape_str(x), shape_str(in[next]));
      }
      ++next;
    }
    if (config_.input_dropout) {
      if (x[2] < 0 || !shapes_compatible(in[next], Shape{x[0], k * x[2]})) {
        throw Error(
            "{}: the input dropout mask must be [batch, {} * features] for input {}, "
            "received {}",
            op, k, shape_str(x), shape_str(in[next]));
      }
      ++next;
    }
    if (config_.initial_state) {
      for (std::size_t s = 0; s < num_states(); ++s, ++next) {
        if (!shapes_compatible(in[next], Shape{x[0], u})) {
          throw Error("{}: initial state {} must be [batch, units] = {}, received {}", op, s,
                      shape_str(Shape{x[0], u}), shape_str(in[next]));
        }
      }
    }
    std::vector<Shape> out;
    out.push_back(config_.return_sequences ? Shape{x[0], x[1], u} : Shape{x[0], u});
    for (std::size_t s = 0; s < num_states(); ++s) out.push_back(Shape{x[0], u});
    return out;
  }

  void forward_all(TensorRefs in, std::span<Tensor* const> outs, const Context& ctx) override {
    geometry(in);
    // No backward follows and no dropout mask applies (masks are all ones at inference).
    if (!ctx.backward && !(cell_ == Cell::kGru && !config_.reset_after) && !dropout_of(in) &&
        !input_dropout_of(in)) {
      infer(in, outs);
      return;
    }
    const std::size_t N = n_, T = t_, F = f_, U = u_, G = g_;
    const float* x = in[0]->data();
    const float* w = in[1]->data();
    const float* r = in[2]->data();
    const float* b = bias(in);
    const float* mask = mask_of(in);
    const float* rd = dropout_of(in);
    dropped_ = rd != nullptr;
    if (dropped_) hd_.resize(N * T * G);
    z_.resize(N * T * G);
    hprev_.resize(N * T * U);
    h_.assign(N * U, 0.0f);
    prev_out_.assign(N * U, 0.0f);
    if (cell_ == Cell::kLstm) {
      cprev_.resize(N * T * U);
      tc_.resize(N * T * U);
      c_.assign(N * U, 0.0f);
    }
    if (cell_ == Cell::kGru) {
      rh_.resize(N * T * U);
      rec_.resize(N * G);
    }
    if (config_.initial_state) {
      const std::size_t first = num_inputs() - num_states();
      std::copy_n(in[first]->data(), N * U, h_.data());
      if (cell_ == Cell::kLstm) std::copy_n(in[first + 1]->data(), N * U, c_.data());
    }

    // The input projection of every timestep: one GEMM (per gate with input dropout), then
    // the input bias.
    const float* dm = input_dropout_of(in);
    in_dropped_ = dm != nullptr;
    if (in_dropped_) {
      const std::size_t k = G / U;
      xd_.resize(k * N * T * F);
      for (std::size_t g = 0; g < k; ++g) {
        float* xd = xd_.data() + g * N * T * F;
        for (std::size_t n = 0; n < N; ++n) {
          const float* m = dm + n * k * F + g * F;
          for (std::size_t t = 0; t < T; ++t) {
            const float* xr = x + (n * T + t) * F;
            float* d = xd + (n * T + t) * F;
            for (std::size_t f = 0; f < F; ++f) d[f] = xr[f] * m[f];
          }
        }
        gemm(false, false, N * T, U, F, xd, F, w + g * U, G, 0.0f, z_.data() + g * U, G);
      }
    } else {
      gemm(false, false, N * T, G, F, x, F, w, G, 0.0f, z_.data(), G);
    }
    if (b) {
      for (std::size_t row = 0; row < N * T; ++row) {
        float* zr = z_.data() + row * G;
        for (std::size_t j = 0; j < G; ++j) zr[j] += b[j];
      }
    }
    const float* rec_bias = gru_reset_after() && b ? b + G : nullptr;
    const bool reset_before = cell_ == Cell::kGru && !config_.reset_after;
    float* seq = outs[0]->data();
    const std::size_t TG = T * G, TU = T * U;

    for (std::size_t s = 0; s < T; ++s) {
      const std::size_t t = config_.go_backwards ? T - 1 - s : s;
      float* hp = hprev_.data() + t * U;  // [N, U] with row stride T * U
      for (std::size_t n = 0; n < N; ++n) std::copy_n(h_.data() + n * U, U, hp + n * TU);
      // The dropped copies h_prev * m_g, [N, G] with row stride T * G.
      const float* hd = dropped_ ? hd_.data() + t * G : nullptr;
      if (dropped_) {
        for (std::size_t n = 0; n < N; ++n) {
          const float* h = h_.data() + n * U;
          const float* m = rd + n * G;
          float* d = hd_.data() + n * TG + t * G;
          for (std::size_t g = 0; g < G; g += U) {
            for (std::size_t j = 0; j < U; ++j) d[g + j] = h[j] * m[g + j];
          }
        }
      }
      float* zt = z_.data() + t * G;  // [N, G] with row stride T * G
      if (reset_before) {
        step_reset_before(zt, hp, hd, r, t);
      } else if (cell_ == Cell::kGru) {
        recurrent_gemm(hp, hd, 0, 3, r, 0.0f, rec_.data(), G);
        if (rec_bias) {
          for (std::size_t n = 0; n < N; ++n) {
            float* rr = rec_.data() + n * G;
            for (std::size_t j = 0; j < G; ++j) rr[j] += rec_bias[j];
          }
        }
      } else {
        recurrent_gemm(hp, hd, 0, gates(), r, 1.0f, zt, TG);
      }
      for (std::size_t n = 0; n < N; ++n) {
        const bool keep = !mask || mask[n * T + t] != 0.0f;
        float* z = zt + n * TG;
        float* h = h_.data() + n * U;
        float* o = config_.return_sequences ? seq + (n * T + s) * U : nullptr;
        float* po = prev_out_.data() + n * U;
        switch (cell_) {
          case Cell::kSimple:
            activate(act_, z, U);
            if (keep) std::copy_n(z, U, h);
            break;
          case Cell::kLstm: {
            activate(rec_act_, z, 2 * U);
            activate(act_, z + 2 * U, U);
            activate(rec_act_, z + 3 * U, U);
            float* c = c_.data() + n * U;
            float* cp = cprev_.data() + n * TU + t * U;
            float* tc = tc_.data() + n * TU + t * U;
            std::copy_n(c, U, cp);
            for (std::size_t j = 0; j < U; ++j) tc[j] = z[U + j] * c[j] + z[j] * z[2 * U + j];
            if (keep) std::copy_n(tc, U, c);
            activate(act_, tc, U);
            if (keep) {
              for (std::size_t j = 0; j < U; ++j) h[j] = z[3 * U + j] * tc[j];
            }
            break;
          }
          case Cell::kGru: {
            if (reset_before) {  // z, r and hh are activated already (step_reset_before)
              if (keep) {
                for (std::size_t j = 0; j < U; ++j) {
                  h[j] = z[j] * h[j] + (1.0f - z[j]) * z[2 * U + j];
                }
              }
              break;
            }
            const float* rr = rec_.data() + n * G;
            float* rh = rh_.data() + n * TU + t * U;
            for (std::size_t j = 0; j < 2 * U; ++j) z[j] += rr[j];
            activate(rec_act_, z, 2 * U);
            std::copy_n(rr + 2 * U, U, rh);
            for (std::size_t j = 0; j < U; ++j) z[2 * U + j] += z[U + j] * rh[j];
            activate(act_, z + 2 * U, U);
            if (keep) {
              for (std::size_t j = 0; j < U; ++j) {
                h[j] = z[j] * h[j] + (1.0f - z[j]) * z[2 * U + j];
              }
            }
            break;
          }
        }
        // This step's output: the new state, or for a masked step the previous output.
        if (keep) {
          std::copy_n(h, U, po);
        } else if (config_.zero_output_for_mask) {
          std::fill_n(po, U, 0.0f);
        }
        if (o) std::copy_n(po, U, o);
      }
    }
    if (!config_.return_sequences) std::copy_n(prev_out_.data(), N * U, seq);
    std::copy_n(h_.data(), N * U, outs[1]->data());
    if (cell_ == Cell::kLstm) std::copy_n(c_.data(), N * U, outs[2]->data());
  }

  void backward_all(TensorRefs in, TensorRefs, TensorRefs gouts, GradRefs gin,
                    const Context&) override {
    geometry(in);
    const std::size_t N = n_, T = t_, F = f_, U = u_, G = g_;
    const float* x = in[0]->data();
    const float* w = in[1]->data();
    const float* r = in[2]->data();
    const float* mask = mask_of(in);
    const float* rd = dropped_ ? dropout_of(in) : nullptr;
    if (rd) drd_.resize(N * U);
    const float* gseq = gouts[0]->data();
    const std::size_t TG = T * G, TU = T * U;
    dz_.assign(N * T * G, 0.0f);
    if (cell_ == Cell::kGru) dzr_.assign(N * T * G, 0.0f);
    float* dzr = cell_ == Cell::kGru ? dzr_.data() : dz_.data();
    dh_.assign(gouts[1]->data(), gouts[1]->data() + N * U);
    if (cell_ == Cell::kLstm) dc_.assign(gouts[2]->data(), gouts[2]->data() + N * U);
    carry_.assign(N * U, 0.0f);  // d(loss)/d(output of the previous step), through masks
    const bool reset_before = cell_ == Cell::kGru && !config_.reset_after;
    if (reset_before) drh_.resize(N * U);

    for (std::size_t s = T; s-- > 0;) {
      const std::size_t t = config_.go_backwards ? T - 1 - s : s;
      for (std::size_t n = 0; n < N; ++n) {
        const bool keep = !mask || mask[n * T + t] != 0.0f;
        float* carry = carry_.data() + n * U;
        // d(loss)/d(output of step s).
        if (config_.return_sequences) {
          const float* g = gseq + (n * T + s) * U;
          for (std::size_t j = 0; j < U; ++j) carry[j] += g[j];
        } else if (s == T - 1) {
          const float* g = gseq + n * U;
          for (std::size_t j = 0; j < U; ++j) carry[j] += g[j];
        }
        if (!keep) {  // the state passes through; the output came from the step before
          if (config_.zero_output_for_mask) std::fill_n(carry, U, 0.0f);
          continue;
        }
        float* dh = dh_.data() + n * U;
        for (std::size_t j = 0; j < U; ++j) dh[j] += carry[j];
        std::fill_n(carry, U, 0.0f);
        const float* z = z_.data() + n * TG + t * G;
        float* dz = dz_.data() + n * TG + t * G;
        switch (cell_) {
          case Cell::kSimple:
            for (std::size_t j = 0; j < U; ++j) {
              dz[j] = dh[j] * dact(act_, z[j]);
              dh[j] = 0.0f;
            }
            break;
          case Cell::kLstm: {
            float* dc = dc_.data() + n * U;
            const float* cp = cprev_.data() + n * TU + t * U;
            const float* tc = tc_.data() + n * TU + t * U;
            for (std::size_t j = 0; j < U; ++j) {
              const float i = z[j], f = z[U + j], g = z[2 * U + j], o = z[3 * U + j];
              const float dct = dc[j] + dh[j] * o * dact(act_, tc[j]);
              dz[j] = dct * g * dact(rec_act_, i);
              dz[U + j] = dct * cp[j] * dact(rec_act_, f);
              dz[2 * U + j] = dct * i * dact(act_, g);
              dz[3 * U + j] = dh[j] * tc[j] * dact(rec_act_, o);
              dc[j] = dct * f;
              dh[j] = 0.0f;
            }
            break;
          }
          case Cell::kGru: {
            const float* hp = hprev_.data() + n * TU + t * U;
            const float* rh = rh_.data() + n * TU + t * U;
            float* dr = dzr_.data() + n * TG + t * G;
            if (reset_before) {  // dar needs d(r * h), a GEMM over the batch: see below
              for (std::size_t j = 0; j < U; ++j) {
                const float zz = z[j], hh = z[2 * U + j];
                const float dah = dh[j] * (1.0f - zz) * dact(act_, hh);
                const float daz = dh[j] * (hp[j] - hh) * dact(rec_act_, zz);
                dz[j] = daz;
                dz[2 * U + j] = dah;
                dr[j] = daz;
                dh[j] *= zz;
              }
              break;
            }
            for (std::size_t j = 0; j < U; ++j) {
              const float zz = z[j], rr = z[U + j], hh = z[2 * U + j];
              const float dah = dh[j] * (1.0f - zz) * dact(act_, hh);
              const float daz = dh[j] * (hp[j] - hh) * dact(rec_act_, zz);
              const float dar = dah * rh[j] * dact(rec_act_, rr);
              dz[j] = daz;
              dz[U + j] = dar;
              dz[2 * U + j] = dah;
              dr[j] = daz;
              dr[U + j] = dar;
              dr[2 * U + j] = dah * rr;
              dh[j] *= zz;  // the direct path h = z * h_prev + ...
            }
            break;
          }
        }
      }
      if (reset_before) {
        // d(r * h_prev) = dah . U_h^T; then dar = d(r * h) * h_prev * r', and h_prev gets
        // d(r * h) * r. Masked samples have dah = 0.
        gemm(false, true, N, U, U, dz_.data() + t * G + 2 * U, TG, r + 2 * U, G, 0.0f, drh_.data(),
             U);
        // With recurrent dropout h_prev is the dropped copy m_h * h_prev there.
        for (std::size_t n = 0; n < N; ++n) {
          if (mask && mask[n * T + t] == 0.0f) continue;
          const float* z = z_.data() + n * TG + t * G;
          const float* hp =
              rd ? hd_.data() + n * TG + t * G + 2 * U : hprev_.data() + n * TU + t * U;
          const float* mh = rd ? rd + n * G + 2 * U : nullptr;
          const float* d = drh_.data() + n * U;
          float* dz = dz_.data() + n * TG + t * G;
          float* dr = dzr_.data() + n * TG + t * G;
          float* dh = dh_.data() + n * U;
          for (std::size_t j = 0; j < U; ++j) {
            const float rr = z[U + j];
            dz[U + j] = dr[U + j] = d[j] * hp[j] * dact(rec_act_, rr);
            dh[j] += mh ? d[j] * rr * mh[j] : d[j] * rr;
          }
        }
        // dh_{t-1} += [daz, dar] . [U_z, U_r]^T.
        recurrent_vjp(dzr + t * G, rd, 0, 2, r);
        continue;
      }
      // dh_{t-1} += dZ_t . recurrent_kernel^T (masked samples have dZ = 0: dh carries).
      recurrent_vjp(dzr + t * G, rd, 0, gates(), r);
    }

    if (in_dropped_) {  // per gate: dx += (dZ_g W_g^T) * d_g, dW_g += (x * d_g)^T dZ_g
      const float* dm = input_dropout_of(in);
      const std::size_t k = G / U;
      if (gin[0]) dxd_.resize(N * T * F);
      for (std::size_t g = 0; g < k; ++g) {
        if (gin[0]) {
          gemm(false, true, N * T, F, U, dz_.data() + g * U, G, w + g * U, G, 0.0f, dxd_.data(), F);
          float* dx = gin[0]->data();
          for (std::size_t n = 0; n < N; ++n) {
            const float* m = dm + n * k * F + g * F;
            for (std::size_t t = 0; t < T; ++t) {
              const std::size_t row = (n * T + t) * F;
              for (std::size_t f = 0; f < F; ++f) dx[row + f] += dxd_[row + f] * m[f];
            }
          }
        }
        if (gin[1]) {
          gemm(true, false, F, U, N * T, xd_.data() + g * N * T * F, F, dz_.data() + g * U, G, 1.0f,
               gin[1]->data() + g * U, G);
        }
      }
    } else {
      if (gin[0]) gemm(false, true, N * T, F, G, dz_.data(), G, w, G, 1.0f, gin[0]->data(), F);
      if (gin[1]) gemm(true, false, F, G, N * T, x, F, dz_.data(), G, 1.0f, gin[1]->data(), G);
    }
    if (gin[2] && reset_before) {  // [U_z, U_r] from h_prev, U_h from r * h_prev
      recurrent_weight_vjp(rd != nullptr, 0, 2, dzr, gin[2]->data());
      gemm(true, false, U, U, N * T, rh_.data(), U, dz_.data() + 2 * U, G, 1.0f,
           gin[2]->data() + 2 * U, G);
    } else if (gin[2]) {
      recurrent_weight_vjp(rd != nullptr, 0, gates(), dzr, gin[2]->data());
    }
    std::size_t next = 3;
    if (config_.use_bias) {
      if (gin[next]) {
        float* db = gin[next]->data();
        for (std::size_t row = 0; row < N * T; ++row) {
          const float* d = dz_.data() + row * G;
          for (std::size_t j = 0; j < G; ++j) db[j] += d[j];
        }
        if (gru_reset_after()) {
          for (std::size_t row = 0; row < N * T; ++row) {
            const float* d = dzr_.data() + row * G;
            for (std::size_t j = 0; j < G; ++j) db[G + j] += d[j];
          }
        }
      }
      ++next;
    }
    if (config_.masked) ++next;             // no gradient to the mask
    if (config_.recurrent_dropout) ++next;  // nor to the dropout masks
    if (config_.input_dropout) ++next;
    if (config_.initial_state) {
      if (gin[next]) {
        float* d = gin[next]->data();
        for (std::size_t i = 0; i < N * U; ++i) d[i] += dh_[i];
      }
      if (cell_ == Cell::kLstm && gin[next + 1]) {
        float* d = gin[next + 1]->data();
        for (std::size_t i = 0; i < N * U; ++i) d[i] += dc_[i];
      }
    }
  }

  KernelPtr clone() const override { return std::make_shared<Recurrent>(config_); }

 private:
  bool gru_reset_after() const { return cell_ == Cell::kGru && config_.reset_after; }

  // forward_all when no backward follows (predict, evaluate): nothing is kept for the VJP,
  // and each step's gates come from one GEMM of [x_t, h] against [kernel; recurrent_kernel]
  // (GRU: the recurrent part apart, for its reset gate), so a step's working set stays in
  // cache instead of the whole sequence's input projection.
  void infer(TensorRefs in, std::span<Tensor* const> outs) {
    const std::size_t N = n_, T = t_, F = f_, U = u_, G = g_;
    const float* x = in[0]->data();
    const float* b = bias(in);
    const float* mask = mask_of(in);
    const bool gru = cell_ == Cell::kGru;
    const std::size_t K = gru ? F : F + U;  // the fused GEMM's depth
    h_.assign(N * U, 0.0f);
    prev_out_.assign(N * U, 0.0f);
    if (cell_ == Cell::kLstm) c_.assign(N * U, 0.0f);
    if (config_.initial_state) {
      const std::size_t first = num_inputs() - num_states();
      std::copy_n(in[first]->data(), N * U, h_.data());
      if (cell_ == Cell::kLstm) std::copy_n(in[first + 1]->data(), N * U, c_.data());
    }
    wr_.resize(K * G);  // [kernel; recurrent_kernel] (GRU: the kernel alone)
    std::copy_n(in[1]->data(), F * G, wr_.data());
    if (!gru) std::copy_n(in[2]->data(), U * G, wr_.data() + F * G);
    xh_.resize(N * K);
    z_.resize(N * G);
    if (gru) rec_.resize(N * G);
    tc_.resize(U);
    const float* rec_bias = gru && b ? b + G : nullptr;
    float* seq = outs[0]->data();
    for (std::size_t s = 0; s < T; ++s) {
      const std::size_t t = config_.go_backwards ? T - 1 - s : s;
      for (std::size_t n = 0; n < N; ++n) {
        std::copy_n(x + (n * T + t) * F, F, xh_.data() + n * K);
        if (!gru) std::copy_n(h_.data() + n * U, U, xh_.data() + n * K + F);
        float* z = z_.data() + n * G;
        if (b) {
          std::copy_n(b, G, z);
        } else {
          std::fill_n(z, G, 0.0f);
        }
      }
      gemm(false, false, N, G, K, xh_.data(), K, wr_.data(), G, 1.0f, z_.data(), G);
      if (gru) {
        gemm(false, false, N, G, U, h_.data(), U, in[2]->data(), G, 0.0f, rec_.data(), G);
      }
      for (std::size_t n = 0; n < N; ++n) {
        const bool keep = !mask || mask[n * T + t] != 0.0f;
        float* z = z_.data() + n * G;
        float* h = h_.data() + n * U;
        float* po = prev_out_.data() + n * U;
        if (keep) {
          switch (cell_) {
            case Cell::kSimple:
              activate(act_, z, U);
              std::copy_n(z, U, h);
              break;
            case Cell::kLstm: {
              activate(rec_act_, z, 2 * U);
              activate(act_, z + 2 * U, U);
              activate(rec_act_, z + 3 * U, U);
              float* c = c_.data() + n * U;
              float* tc = tc_.data();
              for (std::size_t j = 0; j < U; ++j) c[j] = z[U + j] * c[j] + z[j] * z[2 * U + j];
              std::copy_n(c, U, tc);
              activate(act_, tc, U);
              for (std::size_t j = 0; j < U; ++j) h[j] = z[3 * U + j] * tc[j];
              break;
            }
            case Cell::kGru: {
              float* rr = rec_.data() + n * G;
              if (rec_bias) {
                for (std::size_t j = 0; j < G; ++j) rr[j] += rec_bias[j];
              }
              for (std::size_t j = 0; j < 2 * U; ++j) z[j] += rr[j];
              activate(rec_act_, z, 2 * U);
              for (std::size_t j = 0; j < U; ++j) z[2 * U + j] += z[U + j] * rr[2 * U + j];
              activate(act_, z + 2 * U, U);
              for (std::size_t j = 0; j < U; ++j) {
                h[j] = z[j] * h[j] + (1.0f - z[j]) * z[2 * U + j];
              }
              break;
            }
          }
          std::copy_n(h, U, po);
        } else if (config_.zero_output_for_mask) {
          std::fill_n(po, U, 0.0f);
        }
        if (config_.return_sequences) std::copy_n(po, U, seq + (n * T + s) * U);
      }
    }
    if (!config_.return_sequences) std::copy_n(prev_out_.data(), N * U, seq);
    std::copy_n(h_.data(), N * U, outs[1]->data());
    if (cell_ == Cell::kLstm) std::copy_n(c_.data(), N * U, outs[2]->data());
  }

  // out[:, g0 U : g1 U] = beta * out + h_prev R[:, g0 U : g1 U] for one step: one GEMM from
  // hp ([N, U], row stride T * U), or with recurrent dropout one GEMM per gate from its
  // dropped copy in hd ([N, G], row stride T * G).
  void recurrent_gemm(const float* hp, const float* hd, std::size_t g0, std::size_t g1,
                      const float* r, float beta, float* out, std::size_t ldo) const {
    const std::size_t N = n_, U = u_, G = g_;
    if (!dropped_) {
      gemm(false, false, N, (g1 - g0) * U, U, hp, t_ * U, r + g0 * U, G, beta, out + g0 * U, ldo);
      return;
    }
    for (std::size_t g = g0; g < g1; ++g) {
      gemm(false, false, N, U, U, hd + g * U, t_ * G, r + g * U, G, beta, out + g * U, ldo);
    }
  }
  // dh_{t-1} += dZ[:, gates g0..g1) . R[:, g0..g1)^T for one step (dz: [N, G], row stride
  // T * G); with recurrent dropout gate by gate, each times its mask (rd [N, G]).
  void recurrent_vjp(const float* dz, const float* rd, std::size_t g0, std::size_t g1,
                     const float* r) {
    const std::size_t N = n_, U = u_, G = g_, TG = t_ * G;
    if (!rd) {
      gemm(false, true, N, U, (g1 - g0) * U, dz + g0 * U, TG, r + g0 * U, G, 1.0f, dh_.data(), U);
      return;
    }
    for (std::size_t g = g0; g < g1; ++g) {
      gemm(false, true, N, U, U, dz + g * U, TG, r + g * U, G, 0.0f, drd_.data(), U);
      for (std::size_t n = 0; n < N; ++n) {
        const float* d = drd_.data() + n * U;
        const float* m = rd + n * G + g * U;
        float* dh = dh_.data() + n * U;
        for (std::size_t j = 0; j < U; ++j) dh[j] += d[j] * m[j];
      }
    }
  }
  // d R[:, g0..g1) += Hprev^T dZ over all N * T steps (Hprev: hprev_, or per gate hd_).
  void recurrent_weight_vjp(bool dropped, std::size_t g0, std::size_t g1, const float* dz,
                            float* dr) const {
    const std::size_t NT = n_ * t_, U = u_, G = g_;
    if (!dropped) {
      gemm(true, false, U, (g1 - g0) * U, NT, hprev_.data(), U, dz + g0 * U, G, 1.0f, dr + g0 * U,
           G);
      return;
    }
    for (std::size_t g = g0; g < g1; ++g) {
      gemm(true, false, U, U, NT, hd_.data() + g * U, G, dz + g * U, G, 1.0f, dr + g * U, G);
    }
  }
  // One GRU step with reset_after = false, for every sample: z and r from x and h_prev,
  // then hh = act(x W_h + b_h + (r * h_prev) U_h); zt ([N, G], row stride T * G) holds the
  // input projection and leaves with the activated z, r, hh. r * h_prev goes to rh_ (with
  // recurrent dropout, h_prev is each gate's dropped copy from hd).
  void step_reset_before(float* zt, const float* hp, const float* hd, const float* r,
                         std::size_t t) {
    const std::size_t N = n_, U = u_, G = g_, TG = t_ * G, TU = t_ * U;
    recurrent_gemm(hp, hd, 0, 2, r, 1.0f, zt, TG);
    for (std::size_t n = 0; n < N; ++n) {
      float* z = zt + n * TG;
      activate(rec_act_, z, 2 * U);
      const float* h = dropped_ ? hd + n * TG + 2 * U : hp + n * TU;
      float* rh = rh_.data() + n * TU + t * U;
      for (std::size_t j = 0; j < U; ++j) rh[j] = z[U + j] * h[j];
    }
    gemm(false, false, N, U, U, rh_.data() + t * U, TU, r + 2 * U, G, 1.0f, zt + 2 * U, TG);
    for (std::size_t n = 0; n < N; ++n) activate(act_, zt + n * TG + 2 * U, U);
  }
  std::size_t num_states() const { return cell_ == Cell::kLstm ? 2 : 1; }
  Dim gates() const { return cell_ == Cell::kLstm ? 4 : cell_ == Cell::kGru ? 3 : 1; }
  void geometry(TensorRefs in) {
    n_ = in[0]->shape()[0];
    t_ = in[0]->shape()[1];
    f_ = in[0]->shape()[2];
    u_ = in[2]->shape()[0];
    g_ = in[2]->shape()[1];
  }
  const float* bias(TensorRefs in) const { return config_.use_bias ? in[3]->data() : nullptr; }
  const float* mask_of(TensorRefs in) const {
    return config_.masked ? in[config_.use_bias ? 4 : 3]->data() : nullptr;
  }
  // The recurrent dropout mask, or nullptr when there is none or it is all ones.
  const float* dropout_of(TensorRefs in) const {
    if (!config_.recurrent_dropout) return nullptr;
    const Tensor& m = *in[3 + (config_.use_bias ? 1 : 0) + (config_.masked ? 1 : 0)];
    const float* p = m.data();
    return std::all_of(p, p + m.size(), [](float v) { return v == 1.0f; }) ? nullptr : p;
  }
  // The input dropout mask, or nullptr when there is none or it is all ones.
  const float* input_dropout_of(TensorRefs in) const {
    if (!config_.input_dropout) return nullptr;
    const Tensor& m = *in[3 + (config_.use_bias ? 1 : 0) + (config_.masked ? 1 : 0) +
                          (config_.recurrent_dropout ? 1 : 0)];
    const float* p = m.data();
    return std::all_of(p, p + m.size(), [](float v) { return v == 1.0f; }) ? nullptr : p;
  }

  RecurrentConfig config_;
  Cell cell_ = Cell::kLstm;
  Act act_ = Act::kTanh, rec_act_ = Act::kSigmoid;
  std::size_t n_ = 0, t_ = 0, f_ = 0, u_ = 0, g_ = 0;
  // Scratch kept from forward for the VJP ([N, T, ...] by time index).
  std::vector<float> z_, hprev_, cprev_, tc_, rh_, hd_, xd_;
  std::vector<float> h_, c_, prev_out_, rec_;
  std::vector<float> wr_, xh_;  // infer()'s stacked weights and [x_t, h] rows
  std::vector<float> dz_, dzr_, dh_, dc_, carry_, drh_, drd_, dxd_;
  bool dropped_ = false;     // the last forward applied a recurrent dropout mask (hd_ valid)
  bool in_dropped_ = false;  // ... and an input dropout mask (xd_ valid)
};

// Reverses one axis: x as [outer, n, inner], row k of each block goes to n - 1 - k.
class Reverse final : public Kernel {
 public:
  explicit Reverse(Dim axis) : axis_(axis) {}
  std::string name() const override { return "reverse"; }
  std::size_t num_inputs() const override { return 1; }
  Shape output_shape(ShapeRefs in) const override {
    check_arity("reverse", in, 1);
    normalize_axis(axis_, in[0].size(), "reverse");
    return in[0];
  }
  void forward(TensorRefs in, Tensor& out, const Context&) override {
    run(in[0]->data(), out.data(), *in[0], false);
  }
  void backward(TensorRefs in, const Tensor&, const Tensor& gout, GradRefs gin,
                const Context&) override {
    if (gin[0]) run(gout.data(), gin[0]->data(), *in[0], true);
  }
  KernelPtr clone() const override { return std::make_shared<Reverse>(axis_); }
  std::vector<ST> symbolic_vjp(const std::vector<ST>& in, const std::vector<ST>& outs,
                               const std::vector<ST>& gouts) const override {
    (void)in;
    (void)outs;
    return {o::apply(reverse(axis_), {gouts[0]})};
  }

 private:
  void run(const float* src, float* dst, const Tensor& x, bool accumulate) const {
    const std::size_t axis = normalize_axis(axis_, x.dimension(), "reverse");
    std::size_t outer = 1, inner = 1;
    for (std::size_t d = 0; d < axis; ++d) outer *= x.shape()[d];
    for (std::size_t d = axis + 1; d < x.dimension(); ++d) inner *= x.shape()[d];
    const std::size_t n = x.shape()[axis];
    for (std::size_t o = 0; o < outer; ++o) {
      for (std::size_t k = 0; k < n; ++k) {
        const float* s = src + (o * n + k) * inner;
        float* d = dst + (o * n + (n - 1 - k)) * inner;
        if (accumulate) {
          for (std::size_t i = 0; i < inner; ++i) d[i] += s[i];
        } else {
          std::copy_n(s, inner, d);
        }
      }
    }
  }
  Dim axis_;
};

}  // namespace

KernelPtr reverse(Dim axis) { return std::make_shared<Reverse>(axis); }

KernelPtr recurrent(RecurrentConfig config) {
  blas::ensure_cpu_kernels();
  return std::make_shared<Recurrent>(std::move(config));
}

}  // namespace plexus::kernels
