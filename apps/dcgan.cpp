// Keras's GAN from "Customizing what happens in fit()" (guides/custom_train_step_in_*.py),
// line by line, on MNIST: a discriminator and a generator, and a GAN model overriding
// train_step with two optimizers (one per model), random latent vectors from a
// SeedGenerator, and two loss trackers. Writes a PNG grid of generated digits.
//
//   dcgan --data /path/to/data                # 100 batches of 64 digits (the guide's run)
//   dcgan --steps 4 --grid gan.png            # the CTest smoke run
#include <CLI/CLI.hpp>
#include <chrono>
#include <plexus.hpp>

#include "app_common.hpp"

namespace px = plexus;
namespace ops = px::ops;
namespace kw = px::kw;

namespace {

// loss_fn = keras.losses.BinaryCrossentropy(from_logits=True): mean(softplus(l) - l * y).
px::SymbolicTensor bce_from_logits(const px::SymbolicTensor& labels,
                                   const px::SymbolicTensor& logits) {
  return ops::mean(ops::softplus(logits) - logits * labels);
}

// Rows of a and then of b (ops.concatenate([a, b], axis=0) on arrays).
px::Tensor concat_rows(const px::Tensor& a, const px::Tensor& b) {
  px::Tensor::shape_type shape = a.shape();
  shape[0] += b.shape()[0];
  px::Tensor out = px::Tensor::from_shape(shape);
  std::copy_n(b.data(), b.size(), std::copy_n(a.data(), a.size(), out.data()));
  return out;
}

}  // namespace

// class GAN(keras.Model):
class GAN : public px::Model {
 public:
  GAN(px::Model discriminator, px::Model generator, int latent_dim)
      : px::Model("gan"),
        discriminator(discriminator),
        generator(generator),
        latent_dim(latent_dim),
        seed_generator(1337) {
    track(discriminator);
    track(generator);
    // with tf.GradientTape() as tape: predictions = self.discriminator(combined_images)
    d_step.emplace(px::value_and_grad(
        [this](const px::SymbolicTensors& in) -> px::SymbolicTensors {
          auto predictions = this->discriminator(in[0]).single();
          return {bce_from_logits(in[1], predictions)};  // d_loss = self.loss_fn(labels, ...)
        },
        discriminator.trainable_weights()));
    // with tf.GradientTape() as tape:
    //     predictions = self.discriminator(self.generator(random_latent_vectors))
    g_step.emplace(px::value_and_grad(
        [this](const px::SymbolicTensors& in) -> px::SymbolicTensors {
          auto predictions = this->discriminator(this->generator(in[0]).single()).single();
          return {bce_from_logits(in[1], predictions)};  // g_loss
        },
        generator.trainable_weights()));
  }

  // def compile(self, d_optimizer, g_optimizer, loss_fn)
  void compile(std::shared_ptr<px::optim::Optimizer> d_opt,
               std::shared_ptr<px::optim::Optimizer> g_opt) {
    px::Model::compile(kw::optimizer = d_opt);
    d_optimizer = std::move(d_opt);
    g_optimizer = std::move(g_opt);
  }

  std::vector<px::metrics::Metric*> metrics() const override {
    return {&d_loss_tracker, &g_loss_tracker};
  }

  // def train_step(self, real_images):
  px::Logs train_step(const px::StepData& data) override {
    const px::Tensor& real_images = data.x[0];
    const auto batch_size = static_cast<px::Dim>(real_images.shape()[0]);
    // Sample random points in the latent space and decode them to fake images.
    px::Tensor random_latent_vectors =
        px::random::normal({batch_size, latent_dim}, 0.0f, 1.0f, seed_generator);
    px::Tensor generated_images = generator(random_latent_vectors);
    px::Tensor combined_images = concat_rows(generated_images, real_images);
    // labels = concatenate([ones((batch_size, 1)), zeros((batch_size, 1))])
    px::Tensor labels = px::Tensor::from_shape({2 * static_cast<std::size_t>(batch_size), 1});
    for (px::Dim i = 0; i < 2 * batch_size; ++i) labels(i, 0) = i < batch_size ? 1.0f : 0.0f;
    // labels += 0.05 * keras.random.uniform(ops.shape(labels)): label noise
    labels += 0.05f * px::random::uniform({2 * batch_size, 1}, 0.0f, 1.0f, seed_generator);
    auto [d_values, d_grads] = (*d_step)({combined_images, labels});
    const double d_loss = d_values[0].data()[0];
    d_optimizer->apply_gradients(d_grads, discriminator.trainable_weights());

    random_latent_vectors =
        px::random::normal({batch_size, latent_dim}, 0.0f, 1.0f, seed_generator);
    // misleading_labels = ops.zeros((batch_size, 1)): "all real images"
    px::Tensor misleading_labels =
        px::Tensor::from_shape({static_cast<std::size_t>(batch_size), 1});
    misleading_labels.fill(0.0f);
    auto [g_values, g_grads] = (*g_step)({random_latent_vectors, misleading_labels});
    const double g_loss = g_values[0].data()[0];
    g_optimizer->apply_gradients(g_grads, generator.trainable_weights());

    d_loss_tracker.update_state(d_loss);
    g_loss_tracker.update_state(g_loss);
    return {{"d_loss", d_loss_tracker.result()}, {"g_loss", g_loss_tracker.result()}};
  }

  px::Model discriminator, generator;
  int latent_dim;

 private:
  px::random::SeedGenerator seed_generator;
  std::shared_ptr<px::optim::Optimizer> d_optimizer, g_optimizer;
  std::optional<px::ValueAndGrad> d_step, g_step;
  mutable px::metrics::Mean d_loss_tracker{"d_loss"}, g_loss_tracker{"g_loss"};
};

int main(int argc, char** argv) {
  app::Options o{.curves = "", .epochs = 1, .batch_size = 64};
  std::uint64_t seed = 1;
  int steps = 100;
  std::string grid = "dcgan_samples.png";
  CLI::App cli{"Keras's GAN overriding train_step on MNIST (two models, two optimizers)"};
  app::add_options(cli, o, "Folder holding mnist/ (default: $PLEXUS_DATA, then download)",
                   "(unused)");
  cli.add_option("--seed", seed, "Random seed")->capture_default_str();
  cli.add_option("--steps", steps, "Batches per epoch (the guide: dataset.take(100))")
      ->capture_default_str();
  cli.add_option("--grid", grid, "PNG grid of 16 generated digits (\"\" for none)");
  CLI11_PARSE(cli, argc, argv);

  return app::guarded_main(o.skip_if_no_data, [&] {
    px::utils::set_random_seed(seed);
    const int latent_dim = 128;

    // discriminator = keras.Sequential([...], name="discriminator")
    auto d_in = px::Input({28, 28, 1});
    auto d = px::layers::Conv2D(64, 3, kw::strides = 2, kw::padding = "same")(d_in);
    d = px::layers::LeakyReLU(kw::negative_slope = 0.2)(d);
    d = px::layers::Conv2D(128, 3, kw::strides = 2, kw::padding = "same")(d);
    d = px::layers::LeakyReLU(kw::negative_slope = 0.2)(d);
    d = px::layers::GlobalMaxPooling2D()(d);
    px::Model discriminator(d_in, px::layers::Dense(1)(d), "discriminator");

    // generator = keras.Sequential([...], name="generator")
    auto g_in = px::Input({latent_dim});
    auto g = px::layers::Dense(7 * 7 * 128)(g_in);
    g = px::layers::LeakyReLU(kw::negative_slope = 0.2)(g);
    g = px::layers::Reshape({7, 7, 128})(g);
    g = px::layers::Conv2DTranspose(128, 4, kw::strides = 2, kw::padding = "same")(g);
    g = px::layers::LeakyReLU(kw::negative_slope = 0.2)(g);
    g = px::layers::Conv2DTranspose(128, 4, kw::strides = 2, kw::padding = "same")(g);
    g = px::layers::LeakyReLU(kw::negative_slope = 0.2)(g);
    auto g_out = px::layers::Conv2D(1, 7, kw::padding = "same", kw::activation = "sigmoid")(g);
    px::Model generator(g_in, g_out, "generator");
    if (!o.quiet) {
      discriminator.summary();
      generator.summary();
    }

    // all_digits = np.concatenate([x_train, x_test]).astype("float32") / 255.0, (-1, 28, 28, 1)
    auto [x_train, y_train, x_test, y_test] =
        app::load_flat_images(o.data, "mnist", px::datasets::mnist::load_data);
    px::Tensor all_digits = concat_rows(x_train, x_test);
    all_digits.reshape({-1, 28, 28, 1});
    // dataset = tf.data.Dataset.from_tensor_slices(all_digits).shuffle(1024).batch(64)
    auto dataset = px::data::Dataset::from_tensor_slices(all_digits)
                       .shuffle(1024, seed)
                       .batch(static_cast<std::size_t>(o.batch_size))
                       .take(steps);

    GAN gan(discriminator, generator, latent_dim);
    gan.compile(std::make_shared<px::optim::Adam>(px::optim::AdamOptions{.learning_rate = 0.0003}),
                std::make_shared<px::optim::Adam>(px::optim::AdamOptions{.learning_rate = 0.0003}));
    const auto start = std::chrono::steady_clock::now();
    // gan.fit(dataset.take(100), epochs=1)
    px::History history = gan.fit(dataset, kw::epochs = o.epochs, kw::verbose = o.verbose);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print(
        "Final losses: d_loss {:.4f}, g_loss {:.4f} ({} batches of {}, {} epochs, {:.1f} s)\n",
        history.history.at("d_loss").back(), history.history.at("g_loss").back(), steps,
        o.batch_size, o.epochs, seconds);

    if (!grid.empty()) {
      px::random::SeedGenerator sample_seed(seed);
      px::Tensor z = px::random::normal({16, latent_dim}, 0.0f, 1.0f, sample_seed);
      px::Tensor images = generator.predict(z, kw::verbose = 0);
      px::Tensor figure = px::Tensor::from_shape({4 * 28, 4 * 28, 1});
      for (std::size_t k = 0; k < 16; ++k) {
        for (std::size_t r = 0; r < 28; ++r) {
          for (std::size_t c = 0; c < 28; ++c) {
            figure((k / 4) * 28 + r, (k % 4) * 28 + c, 0) = images(k, r, c, 0) * 255.0f;
          }
        }
      }
      px::utils::save_img(grid, figure, false);
      fmt::print("Samples: {}\n", grid);
    }
    const double d_loss = history.history.at("d_loss").back();
    return std::isfinite(d_loss) && std::isfinite(history.history.at("g_loss").back()) ? 0 : 1;
  });
}
