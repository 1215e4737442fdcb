// WGAN-GP on MNIST (Gulrajani et al. 2017, as in Keras's WGAN-GP example): a critic D and a
// generator G trained with the Wasserstein loss, the critic's 1-Lipschitz constraint
// enforced by the gradient penalty
//
//   gp = mean((||d D(x_hat) / d x_hat||_2 - 1)^2),  x_hat = eps x_real + (1 - eps) G(z),
//
// whose gradient with respect to the critic's weights is a second-order gradient: the
// penalty is built with px::ops::grad and differentiated again by the training step. Dense
// networks (784-256-128-1 leaky-relu critic, 64-128-784 generator), n_critic = 5 critic
// steps per generator step, Adam(1e-4, beta_1 = 0.5, beta_2 = 0.9), lambda = 10.
//
//   wgan_gp --data /path/to/data --steps 400 --expect-gradient-norm 0.3
#include <CLI/CLI.hpp>
#include <plexus.hpp>
#include <random>

#include "app_common.hpp"
#include "graph/function.hpp"

namespace px = plexus;
namespace o = plexus::ops;
using ST = px::SymbolicTensor;

int main(int argc, char** argv) {
  int steps = 400, batch = 64, n_critic = 5, latent = 64;
  std::uint64_t seed = 1;
  std::string data;
  bool skip_if_no_data = false;
  std::optional<double> expect_gradient_norm;
  CLI::App cli{"WGAN-GP on MNIST: a gradient penalty through px::ops::grad"};
  cli.add_option("--data", data, "Folder holding mnist/ (default: $PLEXUS_DATA, then download)");
  cli.add_flag("--skip-if-no-data", skip_if_no_data, "Exit 77 (skipped) when the data is missing");
  cli.add_option("--steps", steps, "Generator steps")->capture_default_str();
  cli.add_option("--batch-size", batch, "Batch size")->capture_default_str();
  cli.add_option("--seed", seed, "Random seed")->capture_default_str();
  cli.add_option("--expect-gradient-norm", expect_gradient_norm,
                 "Exit 1 unless the critic's mean gradient norm at x_hat is within this of 1");
  CLI11_PARSE(cli, argc, argv);

  return app::guarded_main(skip_if_no_data, [&] {
    px::utils::set_random_seed(seed);
    auto [x_train, y_train, x_test, y_test] =
        app::load_flat_images(data, "mnist", px::datasets::mnist::load_data);

    auto zin = px::Input({latent});
    auto gh = px::layers::Dense(128, px::kw::activation = "relu")(zin);
    px::Model generator(zin, px::layers::Dense(784, px::kw::activation = "sigmoid")(gh),
                        "generator");
    auto xin = px::Input({784});
    auto ch = px::layers::Dense(256, px::kw::activation = "leaky_relu")(xin);
    ch = px::layers::Dense(128, px::kw::activation = "leaky_relu")(ch);
    px::Model critic(xin, px::layers::Dense(1)(ch), "critic");

    // The critic's step: Wasserstein loss plus the gradient penalty.
    const ST real = px::graph::placeholder({-1, 784}, "real");
    const ST z = px::graph::placeholder({-1, latent}, "z");
    const ST eps = px::graph::placeholder({-1, 1}, "eps");
    const ST fake = o::stop_gradient(generator(z));
    const ST x_hat = eps * real + (1.0f - eps) * fake;
    const ST d_grad = o::grad(critic(x_hat), {x_hat})[0];  // per sample: d D / d x_hat
    const ST grad_norm = o::sqrt(o::sum(o::square(d_grad), {1}) + 1e-12f);
    const ST gp = o::mean(o::square(grad_norm - 1.0f));
    const ST w_estimate = o::mean(critic(real)) - o::mean(critic(fake));
    const ST critic_loss = -w_estimate + 10.0f * gp;
    const auto critic_weights = critic.trainable_weights();
    const auto critic_grads = o::grad(critic_loss, critic_weights);  // through the penalty
    std::vector<px::graph::NamedOutput> couts = {
        {"loss", critic_loss}, {"w", w_estimate}, {"norm", o::mean(grad_norm)}};
    for (std::size_t i = 0; i < critic_grads.size(); ++i) {
      couts.push_back({fmt::format("g{}", i), critic_grads[i]});
    }
    const px::graph::Function critic_fn({real, z, eps}, couts);
    auto critic_exec = critic_fn.make_executor();

    // The generator's step: -mean(D(G(z))).
    const ST z2 = px::graph::placeholder({-1, latent}, "z2");
    const ST gen_loss = -o::mean(critic(generator(z2)));
    const auto gen_weights = generator.trainable_weights();
    const auto gen_grads = o::grad(gen_loss, gen_weights);
    std::vector<px::graph::NamedOutput> gouts = {{"loss", gen_loss}};
    for (std::size_t i = 0; i < gen_grads.size(); ++i) {
      gouts.push_back({fmt::format("g{}", i), gen_grads[i]});
    }
    const px::graph::Function gen_fn({z2}, gouts);
    auto gen_exec = gen_fn.make_executor();

    px::optim::Adam critic_opt({.learning_rate = 1e-4, .beta_1 = 0.5, .beta_2 = 0.9});
    px::optim::Adam gen_opt({.learning_rate = 1e-4, .beta_1 = 0.5, .beta_2 = 0.9});
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal;
    std::uniform_real_distribution<float> uniform;
    std::uniform_int_distribution<std::size_t> pick(0, x_train.shape()[0] - 1);
    const std::size_t b = std::size_t(batch);
    px::Tensor xb = px::Tensor::from_shape({b, 784}),
               zb = px::Tensor::from_shape({b, std::size_t(latent)}),
               eb = px::Tensor::from_shape({b, 1});
    std::vector<px::Tensor> cg(critic_grads.size()), gg(gen_grads.size());
    double w = 0, norm = 0, first_w = 0;
    const auto started = std::chrono::steady_clock::now();
    for (int step = 0; step < steps; ++step) {
      for (int c = 0; c < n_critic; ++c) {
        for (std::size_t i = 0; i < b; ++i) {
          const std::size_t r = pick(rng);
          std::copy_n(x_train.data() + r * 784, 784, xb.data() + i * 784);
          eb(i, 0) = uniform(rng);
        }
        for (float& v : zb) v = normal(rng);
        const px::Tensor* feeds[] = {&xb, &zb, &eb};
        critic_exec->forward(feeds, {.training = true});
        for (std::size_t i = 0; i < cg.size(); ++i) cg[i] = critic_exec->output(3 + i);
        critic_opt.apply_gradients(cg, critic_weights);
        w = critic_exec->output(1)(0);
        norm = critic_exec->output(2)(0);
      }
      for (float& v : zb) v = normal(rng);
      const px::Tensor* gfeed = &zb;
      gen_exec->forward({&gfeed, 1}, {.training = true});
      for (std::size_t i = 0; i < gg.size(); ++i) gg[i] = gen_exec->output(1 + i);
      gen_opt.apply_gradients(gg, gen_weights);
      if (step == 0) first_w = w;
      if (step % 100 == 0 || step + 1 == steps) {
        fmt::print(
            "step {:5d}  critic W estimate {:8.4f}  mean ||dD/dx_hat|| {:.3f}  G loss {:8.4f}\n",
            step, w, norm, gen_exec->output(0)(0));
      }
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    fmt::print(
        "{} generator steps ({} critic steps) in {:.1f} s; W estimate {:.4f} -> {:.4f}, "
        "mean gradient norm {:.3f}\n",
        steps, steps * n_critic, secs, first_w, w, norm);
    if (expect_gradient_norm && !(std::abs(norm - 1.0) <= *expect_gradient_norm)) {
      fmt::print(stderr, "FAILED: mean gradient norm {:.3f} is not within {} of 1\n", norm,
                 *expect_gradient_norm);
      return 1;
    }
    return 0;
  });
}
