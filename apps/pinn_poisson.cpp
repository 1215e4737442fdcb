// A physics-informed network for the 1-D Poisson problem
//
//   -u''(x) = pi^2 sin(pi x) on (0, 1),  u(0) = u(1) = 0,   exact solution u = sin(pi x),
//
// trained on the equation alone (no samples of u): u(x) = x (1 - x) N(x) meets the boundary
// conditions by construction, N is a 1-32-32-1 tanh network, and the loss is the mean
// squared residual of the equation at collocation points. d2u/dx2 is a second-order
// gradient through the network (px::ops::grad twice); the loss's gradient with respect to
// the weights differentiates that once more. The error against the exact solution is
// reported on 101 points.
//
//   pinn_poisson --steps 3000 --expect-max-error 0.01
#include <CLI/CLI.hpp>
#include <cmath>
#include <numbers>
#include <plexus.hpp>

#include "app_common.hpp"
#include "graph/function.hpp"

namespace px = plexus;
namespace o = plexus::ops;

int main(int argc, char** argv) {
  int steps = 3000, points = 64;
  double lr = 5e-3;
  std::uint64_t seed = 1;
  std::optional<double> expect_max_error;
  CLI::App cli{"Physics-informed network for -u'' = pi^2 sin(pi x) on (0, 1)"};
  cli.add_option("--steps", steps, "Adam steps (full batch)")->capture_default_str();
  cli.add_option("--points", points, "Collocation points")->capture_default_str();
  cli.add_option("--lr", lr, "Adam learning rate")->capture_default_str();
  cli.add_option("--seed", seed, "Random seed")->capture_default_str();
  cli.add_option("--expect-max-error", expect_max_error,
                 "Exit 1 when max |u - sin(pi x)| on 101 points exceeds this");
  CLI11_PARSE(cli, argc, argv);

  return app::guarded_main(false, [&] {
    px::utils::set_random_seed(seed);
    auto in = px::Input({1});
    auto h = px::layers::Dense(32, px::kw::activation = "tanh")(in);
    h = px::layers::Dense(32, px::kw::activation = "tanh")(h);
    px::Model net(in, px::layers::Dense(1)(h));

    const float pi = std::numbers::pi_v<float>;
    const px::SymbolicTensor x = px::graph::placeholder({-1, 1}, "x");
    const px::SymbolicTensor u = x * (1.0f - x) * net(x);
    const px::SymbolicTensor du = o::grad(u, {x})[0];    // per sample: the samples are independent
    const px::SymbolicTensor d2u = o::grad(du, {x})[0];  // second order
    const px::SymbolicTensor residual = d2u + (pi * pi) * o::sin(pi * x);
    const px::SymbolicTensor loss = o::mean(o::square(residual));
    const auto weights = net.trainable_weights();
    const auto grads = o::grad(loss, weights);  // third order through the network

    std::vector<px::graph::NamedOutput> outs = {{"loss", loss}};
    for (std::size_t i = 0; i < grads.size(); ++i)
      outs.push_back({fmt::format("g{}", i), grads[i]});
    const px::graph::Function step_fn({x}, outs);
    auto exec = step_fn.make_executor();  // traced once; every step reuses its buffers

    px::Tensor xs = px::Tensor::from_shape({std::size_t(points), 1});
    for (int i = 0; i < points; ++i) xs(i, 0) = (i + 0.5f) / float(points);
    px::optim::Adam adam({.learning_rate = lr});
    std::vector<px::Tensor> g(grads.size());
    const px::Tensor* feed = &xs;
    double first = 0, last = 0;
    for (int s = 0; s < steps; ++s) {
      exec->forward({&feed, 1}, {});
      for (std::size_t i = 0; i < g.size(); ++i) g[i] = exec->output(1 + i);
      adam.apply_gradients(g, weights);
      last = exec->output(0)(0);
      if (s == 0) first = last;
      if (s % 500 == 0) fmt::print("step {:5d}  residual loss {:.3e}\n", s, last);
    }

    const px::graph::Function solution({x}, {{"u", u}});
    px::Tensor grid = px::Tensor::from_shape({101, 1});
    for (int i = 0; i <= 100; ++i) grid(i, 0) = float(i) / 100.0f;
    const px::Tensor uv = solution({&grid}).at(0);
    double max_err = 0, sq_err = 0, sq_ref = 0;
    for (int i = 0; i <= 100; ++i) {
      const double exact = std::sin(std::numbers::pi * grid(i, 0));
      max_err = std::max(max_err, std::abs(uv(i, 0) - exact));
      sq_err += (uv(i, 0) - exact) * (uv(i, 0) - exact);
      sq_ref += exact * exact;
    }
    fmt::print("residual loss {:.3e} -> {:.3e} after {} steps\n", first, last, steps);
    fmt::print("error against sin(pi x) on 101 points: max {:.2e}, relative L2 {:.2e}\n", max_err,
               std::sqrt(sq_err / sq_ref));
    if (expect_max_error && !(max_err <= *expect_max_error)) {
      fmt::print(stderr, "FAILED: max error {:.3e} exceeds {:.3e}\n", max_err, *expect_max_error);
      return 1;
    }
    return 0;
  });
}
