// Plain double-precision references for the recurrent kernels (kernels::recurrent): one
// timestep at a time, written from the Keras 3 cell equations, with Keras's masking
// (a masked step carries the state; its output is the previous output, zeros before any)
// and go_backwards (outputs in processing order), and recurrent dropout (Keras 3's
// implementation 1: gate g's recurrent term from h * mask[:, g U : (g + 1) U], the GRU's
// z * h with the undropped h; with input dropout gate g's projection from x * dmask[:, g F :
// (g + 1) F]). Used by test_ops and test_recurrent.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/kernels.hpp"
#include "core/tensor.hpp"

namespace rnn_ref {

inline double act(const std::string& name, double x) {
  if (name == "tanh") return std::tanh(x);
  if (name == "sigmoid") return 1.0 / (1.0 + std::exp(-x));
  if (name == "relu") return x > 0 ? x : 0;
  if (name == "hard_sigmoid") return std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0;
  return x;  // linear
}

// All outputs of the kernel flattened one after the other (the op table's layout).
inline std::vector<std::vector<double>> run(const plexus::kernels::RecurrentConfig& c,
                                            const std::vector<plexus::Tensor>& in) {
  const plexus::Tensor& x = in[0];
  const plexus::Tensor& w = in[1];
  const plexus::Tensor& r = in[2];
  const std::size_t N = x.shape()[0], T = x.shape()[1], F = x.shape()[2];
  const std::size_t U = r.shape()[0], G = r.shape()[1];
  std::size_t next = 3;
  const plexus::Tensor* b = c.use_bias ? &in[next++] : nullptr;
  const plexus::Tensor* m = c.masked ? &in[next++] : nullptr;
  const plexus::Tensor* rd = c.recurrent_dropout ? &in[next++] : nullptr;
  const plexus::Tensor* dm = c.input_dropout ? &in[next++] : nullptr;
  const bool lstm = c.cell == "lstm", gru = c.cell == "gru";
  std::vector<double> seq, hT, cT;
  for (std::size_t n = 0; n < N; ++n) {
    std::vector<double> h(U, 0.0), cs(U, 0.0), out(U, 0.0);
    if (c.initial_state) {
      for (std::size_t j = 0; j < U; ++j) h[j] = in[next](n, j);
      if (lstm) {
        for (std::size_t j = 0; j < U; ++j) cs[j] = in[next + 1](n, j);
      }
    }
    std::vector<std::vector<double>> outs;
    for (std::size_t s = 0; s < T; ++s) {
      const std::size_t t = c.go_backwards ? T - 1 - s : s;
      const bool keep = !m || (*m)(n, t) != 0.0f;
      std::vector<double> xw(G, 0.0), hr(G, 0.0);
      // hd(k, col): the state entry k as the recurrent term of column col sees it.
      auto hd = [&](std::size_t k, std::size_t col) {
        return rd ? h[k] * (*rd)(n, (col / U) * U + k) : h[k];
      };
      for (std::size_t g = 0; g < G; ++g) {
        for (std::size_t f = 0; f < F; ++f) {
          const double xf = dm ? double(x(n, t, f)) * (*dm)(n, (g / U) * F + f) : x(n, t, f);
          xw[g] += xf * w(f, g);
        }
        for (std::size_t k = 0; k < U; ++k) hr[g] += hd(k, g) * r(k, g);
        if (b && gru && c.reset_after) {
          xw[g] += (*b)(0, g);
          hr[g] += (*b)(1, g);
        } else if (b) {
          xw[g] += (*b)(g);
        }
      }
      std::vector<double> hn(U), cn(U);
      for (std::size_t j = 0; j < U; ++j) {
        if (lstm) {
          const double i = act(c.recurrent_activation, xw[j] + hr[j]);
          const double f = act(c.recurrent_activation, xw[U + j] + hr[U + j]);
          const double g = act(c.activation, xw[2 * U + j] + hr[2 * U + j]);
          const double o = act(c.recurrent_activation, xw[3 * U + j] + hr[3 * U + j]);
          cn[j] = f * cs[j] + i * g;
          hn[j] = o * act(c.activation, cn[j]);
        } else if (gru) {
          const double z = act(c.recurrent_activation, xw[j] + hr[j]);
          const double rr = act(c.recurrent_activation, xw[U + j] + hr[U + j]);
          double rec_h = rr * hr[2 * U + j];  // reset_after: r * (h U_h + b_rh)
          if (!c.reset_after) {               // reset before: (r * h) U_h
            rec_h = 0;
            for (std::size_t k = 0; k < U; ++k) {
              rec_h += act(c.recurrent_activation, xw[U + k] + hr[U + k]) * hd(k, 2 * U + j) *
                       r(k, 2 * U + j);
            }
          }
          const double hh = act(c.activation, xw[2 * U + j] + rec_h);
          hn[j] = z * h[j] + (1 - z) * hh;
        } else {
          hn[j] = act(c.activation, xw[j] + hr[j]);
        }
      }
      if (keep) {
        h = hn;
        if (lstm) cs = cn;
        out = h;
      } else if (c.zero_output_for_mask) {
        out.assign(U, 0.0);
      }
      outs.push_back(out);
    }
    if (c.return_sequences) {
      for (auto& o : outs) seq.insert(seq.end(), o.begin(), o.end());
    } else {
      seq.insert(seq.end(), out.begin(), out.end());
    }
    hT.insert(hT.end(), h.begin(), h.end());
    cT.insert(cT.end(), cs.begin(), cs.end());
  }
  std::vector<std::vector<double>> result{seq, hT};
  if (lstm) result.push_back(cT);
  return result;
}

inline plexus::Tensor flat(const plexus::kernels::RecurrentConfig& c,
                           const std::vector<plexus::Tensor>& in) {
  std::vector<double> all;
  for (auto& part : run(c, in)) all.insert(all.end(), part.begin(), part.end());
  plexus::Tensor out = plexus::Tensor::from_shape({all.size()});
  for (std::size_t i = 0; i < all.size(); ++i) out.data()[i] = static_cast<float>(all[i]);
  return out;
}

}  // namespace rnn_ref
