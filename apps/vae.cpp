// Keras's "Variational AutoEncoder" example (examples/generative/vae.py), line by line: a
// Sampling layer drawing random normals with its own SeedGenerator, an encoder and a
// decoder model, and a VAE model overriding train_step with three loss trackers.
//
//   vae --data /path/to/data                 # the folder holding mnist/
//   vae --epochs 1 --samples 2048            # the CTest smoke run
//
// Prints the final total, reconstruction and KL losses and the run time; writes a PNG of
// decoded points of the latent plane (--grid).
#include <CLI/CLI.hpp>
#include <chrono>
#include <plexus.hpp>

#include "app_common.hpp"

namespace px = plexus;
namespace ops = px::ops;

// class Sampling(layers.Layer):
//     """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""
class Sampling : public px::Layer {
 public:
  Sampling() : seed_generator(1337) {}  // self.seed_generator = keras.random.SeedGenerator(1337)
  std::string class_name() const override { return "Sampling"; }

  // def call(self, inputs):
  std::vector<px::SymbolicTensor> call_list(
      const std::vector<px::SymbolicTensor>& inputs) override {
    const auto& z_mean = inputs.at(0);  // z_mean, z_log_var = inputs
    const auto& z_log_var = inputs.at(1);
    // epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
    auto epsilon = px::random::normal(z_mean, 0.0f, 1.0f, seed_generator);
    return {z_mean + ops::exp(ops::multiply(z_log_var, 0.5f)) * epsilon};
  }

 private:
  px::random::SeedGenerator seed_generator;
};

// class VAE(keras.Model):
class VAE : public px::Model {
 public:
  VAE(px::Model encoder, px::Model decoder) : px::Model("vae"), encoder(encoder), decoder(decoder) {
    track(encoder);  // self.encoder = encoder
    track(decoder);  // self.decoder = decoder
    step.emplace(make_step());
  }

  // @property
  // def metrics(self):
  std::vector<px::metrics::Metric*> metrics() const override {
    return {&total_loss_tracker, &reconstruction_loss_tracker, &kl_loss_tracker};
  }

  // def train_step(self, data):
  px::Logs train_step(const px::StepData& data) override {
    // with tf.GradientTape() as tape: ... grads = tape.gradient(total_loss, ...)
    auto [values, grads] = (*step)(data.x);
    // self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
    optimizer().apply_gradients(grads, trainable_weights());
    total_loss_tracker.update_state(values[0].data()[0]);
    reconstruction_loss_tracker.update_state(values[1].data()[0]);
    kl_loss_tracker.update_state(values[2].data()[0]);
    return {{"loss", total_loss_tracker.result()},
            {"reconstruction_loss", reconstruction_loss_tracker.result()},
            {"kl_loss", kl_loss_tracker.result()}};
  }

  px::Model encoder, decoder;

 private:
  // The losses of one batch, traced once: [total, reconstruction, kl].
  px::ValueAndGrad make_step() {
    return px::value_and_grad(
        [this](const px::SymbolicTensors& in) -> px::SymbolicTensors {
          const px::SymbolicTensor& data = in[0];
          px::SymbolicTensors z_parts = encoder(data);  // z_mean, z_log_var, z = self.encoder(data)
          const auto &z_mean = z_parts[0], &z_log_var = z_parts[1], &z = z_parts[2];
          px::SymbolicTensor reconstruction = decoder(z);
          // ops.mean(ops.sum(keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2)))
          auto p = ops::clip(reconstruction, 1e-7f, 1.0f - 1e-7f);
          auto bce =
              -(data * ops::log(p) + ops::subtract(1.0f, data) * ops::log(ops::subtract(1.0f, p)));
          auto reconstruction_loss = ops::mean(ops::sum(ops::mean(bce, {-1}), {1, 2}));
          // kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
          auto kl = ops::multiply(
              ops::add(z_log_var, 1.0f) - ops::square(z_mean) - ops::exp(z_log_var), -0.5f);
          auto kl_loss = ops::mean(ops::sum(kl, {1}));  // ops.mean(ops.sum(kl_loss, axis=1))
          auto total_loss = reconstruction_loss + kl_loss;
          return {total_loss, reconstruction_loss, kl_loss};
        },
        trainable_weights());
  }

  mutable px::metrics::Mean total_loss_tracker{"total_loss"};
  mutable px::metrics::Mean reconstruction_loss_tracker{"reconstruction_loss"};
  mutable px::metrics::Mean kl_loss_tracker{"kl_loss"};
  std::optional<px::ValueAndGrad> step;
};

int main(int argc, char** argv) {
  app::Options o{.curves = "", .epochs = 30, .batch_size = 128};
  std::uint64_t seed = 1;
  std::size_t samples = 0;
  std::string grid = "vae_latent_grid.png";
  std::optional<double> max_loss;
  CLI::App cli{"Keras's variational autoencoder on MNIST (train_step, Sampling, trackers)"};
  app::add_options(cli, o, "Folder holding mnist/ (default: $PLEXUS_DATA, then download)",
                   "(unused: see --max-loss)");
  cli.add_option("--max-loss", max_loss, "Exit 1 when the final total loss is above this");
  cli.add_option("--seed", seed, "Random seed")->capture_default_str();
  cli.add_option("--samples", samples, "Train on the first N digits (default: all 70000)");
  cli.add_option("--grid", grid, "PNG of decoded latent points (\"\" for none)");
  CLI11_PARSE(cli, argc, argv);

  return app::guarded_main(o.skip_if_no_data, [&] {
    px::utils::set_random_seed(seed);
    const int latent_dim = 2;

    // encoder_inputs = keras.Input(shape=(28, 28, 1))
    auto encoder_inputs = px::Input({28, 28, 1});
    auto x = px::layers::Conv2D(32, 3, px::kw::activation = "relu", px::kw::strides = 2,
                                px::kw::padding = "same")(encoder_inputs);
    x = px::layers::Conv2D(64, 3, px::kw::activation = "relu", px::kw::strides = 2,
                           px::kw::padding = "same")(x);
    x = px::layers::Flatten()(x);
    x = px::layers::Dense(16, px::kw::activation = "relu")(x);
    auto z_mean = px::layers::Dense(latent_dim, px::kw::name = "z_mean")(x);
    auto z_log_var = px::layers::Dense(latent_dim, px::kw::name = "z_log_var")(x);
    px::SymbolicTensor z = px::make_layer<Sampling>()({z_mean, z_log_var});
    px::Model encoder(encoder_inputs, {z_mean, z_log_var, z}, "encoder");
    if (!o.quiet) encoder.summary();

    // latent_inputs = keras.Input(shape=(latent_dim,))
    auto latent_inputs = px::Input({latent_dim});
    x = px::layers::Dense(7 * 7 * 64, px::kw::activation = "relu")(latent_inputs);
    x = px::layers::Reshape({7, 7, 64})(x);
    x = px::layers::Conv2DTranspose(64, 3, px::kw::activation = "relu", px::kw::strides = 2,
                                    px::kw::padding = "same")(x);
    x = px::layers::Conv2DTranspose(32, 3, px::kw::activation = "relu", px::kw::strides = 2,
                                    px::kw::padding = "same")(x);
    auto decoder_outputs = px::layers::Conv2DTranspose(1, 3, px::kw::activation = "sigmoid",
                                                       px::kw::padding = "same")(x);
    px::Model decoder(latent_inputs, decoder_outputs, "decoder");
    if (!o.quiet) decoder.summary();

    // (x_train, _), (x_test, _) = keras.datasets.mnist.load_data()
    // mnist_digits = np.concatenate([x_train, x_test], axis=0)
    // mnist_digits = np.expand_dims(mnist_digits, -1).astype("float32") / 255
    auto [x_train, y_train, x_test, y_test] =
        app::load_flat_images(o.data, "mnist", px::datasets::mnist::load_data);
    px::Tensor mnist_digits = xt::concatenate(xt::xtuple(x_train, x_test), 0);
    if (samples > 0 && samples < mnist_digits.shape()[0]) {
      px::Tensor head;
      px::copy_rows(mnist_digits, 0, samples, head);
      mnist_digits = std::move(head);
    }
    mnist_digits.reshape({-1, 28, 28, 1});

    // vae = VAE(encoder, decoder); vae.compile(optimizer=keras.optimizers.Adam())
    VAE vae(encoder, decoder);
    vae.compile(px::kw::optimizer = "adam");
    const auto start = std::chrono::steady_clock::now();
    // vae.fit(mnist_digits, epochs=30, batch_size=128)
    px::History history = vae.fit(mnist_digits, px::kw::epochs = o.epochs,
                                  px::kw::batch_size = o.batch_size, px::kw::verbose = o.verbose);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double total = history.history.at("loss").back();
    fmt::print(
        "Final losses: total {:.2f}, reconstruction {:.2f}, kl {:.2f} ({} digits, {} "
        "epochs, {:.1f} s)\n",
        total, history.history.at("reconstruction_loss").back(),
        history.history.at("kl_loss").back(), mnist_digits.shape()[0], o.epochs, seconds);

    if (!grid.empty()) {
      // plot_latent_space: decode a 15 x 15 grid of latent points in [-1, 1]^2.
      const std::size_t n = 15;
      px::Tensor points = px::Tensor::from_shape({n * n, 2});
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
          points(i * n + j, 0) = -1.0f + 2.0f * static_cast<float>(j) / (n - 1);
          points(i * n + j, 1) = 1.0f - 2.0f * static_cast<float>(i) / (n - 1);
        }
      }
      px::Tensor digits = decoder.predict(points, px::kw::verbose = 0);
      px::Tensor figure = px::Tensor::from_shape({n * 28, n * 28, 1});
      for (std::size_t k = 0; k < n * n; ++k) {
        for (std::size_t r = 0; r < 28; ++r) {
          for (std::size_t c = 0; c < 28; ++c) {
            figure((k / n) * 28 + r, (k % n) * 28 + c, 0) = digits(k, r, c, 0);
          }
        }
      }
      px::utils::save_img(grid, figure * 255.0f, false);
      fmt::print("Latent grid: {}\n", grid);
    }
    if (max_loss && !(total <= *max_loss)) {
      fmt::print(stderr, "The final total loss {:.2f} is above --max-loss {:.2f}\n", total,
                 *max_loss);
      return 1;
    }
    return 0;
  });
}
