// Image classification from a folder of image files, in the shape of Keras's "Image
// classification from scratch" (keras.io/examples/vision/image_classification_from_scratch):
// the app first writes MNIST (or Fashion-MNIST) digits as PNG or JPEG files into class
// subfolders of a folder, then streams them with image_dataset_from_directory into fit
// of the MNIST convnet, and compares with the same training on the same images held in
// memory. The Keras version of the streaming half:
//
//   train_ds, val_ds = keras.utils.image_dataset_from_directory(
//       "digits/train", validation_split=0.1, subset="both", seed=1337,
//       image_size=(28, 28), color_mode="grayscale", batch_size=128)
//   train_ds = train_ds.map(lambda x, y: (x / 255.0, y))     # (Keras: a Rescaling layer)
//   model.fit(train_ds, epochs=epochs, validation_data=val_ds)
//   model.evaluate(test_ds)
//
// With --augment the model augments its inputs as Keras's example does, with preprocessing
// layers inside the model (identity at inference): RandomRotation and RandomZoom (Keras's
// example also flips its cats and dogs horizontally; a flipped digit is another digit), then
// Rescaling(1 / 255) instead of the map.
//
//   image_classification --data /path/to/data --train 20000 --format jpg --epochs 1
//   image_classification --train 2000 --test 500 --expect-min 0.85   # the CI smoke test
//
// Also reported: the streaming run's peak RSS, its share of each epoch spent waiting on
// the data (between a batch's end and the next batch's start), and images decoded per second.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <plexus.hpp>
#include <tuple>

#include "app_common.hpp"

namespace px = plexus;
namespace L = plexus::layers;

namespace {

using Clock = std::chrono::steady_clock;

// kB of /proc/self/status's field (VmRSS, VmHWM), 0 when unknown.
long proc_status_kb(const std::string& field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return 0;
}

// Time spent between a batch's end and the next batch's start (reading the next batch),
// against the whole of the epochs.
class DataWait : public px::callbacks::Callback {
 public:
  void on_epoch_begin(int, const px::callbacks::Logs&) override {
    epoch_start_ = Clock::now();
    have_end_ = false;
  }
  void on_train_batch_begin(int, const px::callbacks::Logs&) override {
    const auto now = Clock::now();
    // The first batch of an epoch waited since the epoch began.
    wait_ += std::chrono::duration<double>(now - (have_end_ ? last_end_ : epoch_start_)).count();
  }
  void on_train_batch_end(int, const px::callbacks::Logs&) override {
    last_end_ = Clock::now();
    have_end_ = true;
    ++batches_;
  }
  void on_epoch_end(int, px::callbacks::Logs&) override {
    // Up to the last batch's end: the validation pass is not training.
    total_ += std::chrono::duration<double>(last_end_ - epoch_start_).count();
  }
  double share() const { return total_ > 0 ? wait_ / total_ : 0; }
  double wait() const { return wait_; }
  double total() const { return total_; }
  long batches() const { return batches_; }

 private:
  Clock::time_point epoch_start_, last_end_;
  bool have_end_ = false;
  double wait_ = 0, total_ = 0;
  long batches_ = 0;
};

px::Sequential convnet(bool augment) {
  const auto conv = [](std::optional<px::Shape> input_shape) {
    px::layers::ConvOptions o{.activation = "relu"};
    if (input_shape) o.input_shape = *input_shape;
    return L::Conv2D(32, {3, 3}, o);
  };
  if (augment) {
    return px::Sequential({
        px::Input({28, 28, 1}),
        L::RandomRotation(0.05, px::kw::seed = 1337),
        L::RandomZoom(0.1, px::kw::seed = 1337),
        L::Rescaling(1.0 / 255),
        conv(std::nullopt),
        L::MaxPooling2D({2, 2}),
        L::Conv2D(64, {3, 3}, {.activation = "relu"}),
        L::MaxPooling2D({2, 2}),
        L::Flatten(),
        L::Dropout(0.5f),
        L::Dense(10, "softmax"),
    });
  }
  return px::Sequential({
      conv(px::Shape{28, 28, 1}),
      L::MaxPooling2D({2, 2}),
      L::Conv2D(64, {3, 3}, {.activation = "relu"}),
      L::MaxPooling2D({2, 2}),
      L::Flatten(),
      L::Dropout(0.5f),
      L::Dense(10, "softmax"),
  });
}

std::string marker_name(std::size_t count, const std::string& ext) {
  return fmt::format(".complete_{}_{}", count, ext);
}

// Writes `count` images of x (N, 28, 28) into <dir>/<label>/<index>.<ext> (image i is
// x[i % N]: a folder larger than the dataset repeats it), then a marker file.
void write_folder(const app::fs::path& dir, const px::Tensor& x, const px::Tensor& y,
                  std::size_t count, const std::string& ext) {
  const auto marker = dir / marker_name(count, ext);
  app::fs::remove_all(dir);
  const std::size_t n = x.shape()[0];
  for (int c = 0; c < 10; ++c) app::fs::create_directories(dir / std::to_string(c));
  px::Tensor img = px::Tensor::from_shape({28, 28, 1});
  for (std::size_t i = 0; i < count; ++i) {
    std::copy_n(x.data() + (i % n) * 784, 784, img.data());
    const int label = static_cast<int>(y(i % n));
    px::utils::save_img(dir / std::to_string(label) / fmt::format("{:06}.{}", i, ext), img, false);
  }
  std::ofstream(marker) << count;
}

}  // namespace

int main(int argc, char** argv) {
  app::Options o{.curves = "", .epochs = 1, .batch_size = 128};
  std::string dataset = "mnist", format = "png", folder;
  std::size_t train_count = 20000, test_count = 2000;
  std::uint64_t seed = 1337;
  int workers = 2;
  bool compare = true, keep = false, augment = false;
  CLI::App cli{"Image classification from a folder of image files (Keras walkthrough)"};
  app::add_options(cli, o, "Folder holding mnist/ or fashion_mnist/ (default: $PLEXUS_DATA)",
                   "Exit 1 when the streamed model's test accuracy is below this");
  cli.add_option("--dataset", dataset, "mnist or fashion_mnist")->capture_default_str();
  cli.add_option("--format", format, "png or jpg")->capture_default_str();
  cli.add_option("--train", train_count, "Training images written (and read)")
      ->capture_default_str();
  cli.add_option("--test", test_count, "Test images written (and read)")->capture_default_str();
  cli.add_option("--folder", folder, "Where the image folder goes (default: a temporary folder)");
  cli.add_option("--workers", workers, "Decode threads (num_parallel_calls)")
      ->capture_default_str();
  cli.add_option("--seed", seed, "Split, shuffling and weight seed")->capture_default_str();
  cli.add_flag("!--no-compare", compare, "Skip the in-memory run");
  cli.add_flag("--keep", keep, "Keep the image folder (default: removed at the end)");
  cli.add_flag("--augment", augment,
               "Augment in the model (RandomRotation, RandomZoom) and rescale with Rescaling");
  CLI11_PARSE(cli, argc, argv);

  return app::guarded_main(o.skip_if_no_data, [&]() -> int {
    if (dataset != "mnist" && dataset != "fashion_mnist") {
      throw px::Error("--dataset must be mnist or fashion_mnist, received \"{}\"", dataset);
    }
    if (format != "png" && format != "jpg") {
      throw px::Error("--format must be png or jpg, received \"{}\"", format);
    }
    const app::fs::path dir =
        folder.empty() ? app::fs::temp_directory_path() / fmt::format("plexus_{}_images", dataset)
                       : app::fs::path(folder);
    // The dataset is loaded only to write the folder (unless it is there already) and for
    // the in-memory run, so that --no-compare on a written folder measures streaming alone.
    const bool written = app::fs::exists(dir / "train" / marker_name(train_count, format)) &&
                         app::fs::exists(dir / "test" / marker_name(test_count, format));
    px::datasets::Split train, test;
    if (!written || compare) {
      const app::fs::path root = app::data_root(o.data);
      app::require_idx_dataset(root, dataset);
      std::tie(train, test) = dataset == "mnist"
                                  ? px::datasets::mnist::load_data({.dir = root})
                                  : px::datasets::fashion_mnist::load_data({.dir = root});
    }
    auto t0 = Clock::now();
    if (!written) {
      write_folder(dir / "train", train.x, train.y, train_count, format);
      write_folder(dir / "test", test.x, test.y, test_count, format);
      fmt::print("Wrote {} training and {} test images as .{} into {} ({:.1f} s)\n", train_count,
                 test_count, format, dir.string(),
                 std::chrono::duration<double>(Clock::now() - t0).count());
    }
    const long rss_before = proc_status_kb("VmRSS");

    // --- streamed from the folder ---
    auto [train_ds, val_ds] = px::utils::image_dataset_from_directory(
        dir / "train", px::kw::validation_split = 0.1, px::kw::subset = "both", px::kw::seed = seed,
        px::kw::image_size = {28, 28}, px::kw::color_mode = "grayscale",
        px::kw::batch_size = o.batch_size, px::kw::num_parallel_calls = workers,
        px::kw::verbose = !o.quiet);
    auto test_ds = px::utils::image_dataset_from_directory(
        dir / "test", px::kw::image_size = {28, 28}, px::kw::color_mode = "grayscale",
        px::kw::batch_size = o.batch_size, px::kw::shuffle = false,
        px::kw::num_parallel_calls = workers, px::kw::verbose = !o.quiet);
    fmt::print("Classes: {}\n", fmt::join(train_ds.class_names(), " "));
    const auto rescale = [augment](px::StepData b) {
      if (!augment) b.x[0] /= 255.0f;  // with --augment, the model's Rescaling layer does it
      return b;
    };
    px::utils::set_random_seed(seed);
    px::Sequential streamed = convnet(augment);
    streamed.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
    DataWait wait;
    t0 = Clock::now();
    px::History h = streamed.fit(train_ds.map(rescale), px::kw::epochs = o.epochs,
                                 px::kw::validation_data = val_ds.map(rescale),
                                 px::kw::verbose = o.verbose, px::kw::callbacks = {wait});
    const double fit_s = std::chrono::duration<double>(Clock::now() - t0).count();
    const auto scores = streamed.evaluate(test_ds.map(rescale), px::kw::verbose = 0);
    const long peak_kb = proc_status_kb("VmHWM");
    const double images = static_cast<double>(train_ds.file_paths().size()) * o.epochs;
    fmt::print("Streamed from files: test accuracy {:.4f} (loss {:.4f})\n", scores[1], scores[0]);
    fmt::print(
        "  fit: {:.1f} s for {} epoch(s), {:.0f} training images/s; waiting on data {:.1f}% of "
        "the training time ({:.2f} s of {:.2f} s, {} workers)\n",
        fit_s, o.epochs, images / wait.total(), 100 * wait.share(), wait.wait(), wait.total(),
        workers);
    fmt::print("  RSS: {:.0f} MB before the datasets, peak {:.0f} MB\n", rss_before / 1024.0,
               peak_kb / 1024.0);
    app::save_curves(h, o.curves, "Image classification from files");
    app::save_model(streamed, o.save);

    // --- the same images in memory ---
    if (compare) {
      train_count = std::min<std::size_t>(train_count, train.x.shape()[0]);
      test_count = std::min<std::size_t>(test_count, test.x.shape()[0]);
      const float scale = augment ? 1.0f : 1.0f / 255.0f;  // --augment: Rescaling in the model
      px::Tensor x = xt::view(train.x, xt::range(0, train_count)) * scale;
      px::Tensor y = xt::view(train.y, xt::range(0, train_count));
      px::Tensor xt_ = xt::view(test.x, xt::range(0, test_count)) * scale;
      px::Tensor yt = xt::view(test.y, xt::range(0, test_count));
      if (format == "jpg") {
        fmt::print("(the in-memory run trains on the original pixels; the files are JPEG)\n");
      }
      x.reshape({-1, 28, 28, 1});
      xt_.reshape({-1, 28, 28, 1});
      px::utils::set_random_seed(seed);
      px::Sequential memory = convnet(augment);
      memory.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
      t0 = Clock::now();
      memory.fit(x, y, px::kw::epochs = o.epochs, px::kw::batch_size = o.batch_size,
                 px::kw::validation_split = 0.1, px::kw::verbose = o.verbose);
      const double mem_s = std::chrono::duration<double>(Clock::now() - t0).count();
      const auto mem_scores = memory.evaluate(xt_, yt, px::kw::verbose = 0);
      fmt::print("In memory: test accuracy {:.4f} (loss {:.4f}); fit {:.1f} s\n", mem_scores[1],
                 mem_scores[0], mem_s);
      fmt::print("Streamed - in memory: {:+.4f} accuracy\n", scores[1] - mem_scores[1]);
    }
    if (!keep && folder.empty()) app::fs::remove_all(dir);
    return app::check_minimum("test accuracy (streamed)", scores[1], o.expect_min);
  });
}
