// Streaming data: a dataset pipeline on worker threads, a PyDataset, time-series windows,
// and a folder of image files read with image_dataset_from_directory, each fed to fit.
#include <cstdio>
#include <filesystem>
#include <plexus.hpp>

namespace px = plexus;
namespace fs = std::filesystem;
namespace kw = px::kw;

// Keras's PyDataset: size() batches, get(i) one batch (called from `workers` threads).
class Noise : public px::data::PyDataset {
 public:
  Noise() : PyDataset(/*workers=*/2) {}
  std::size_t size() const override { return 8; }
  px::StepData get(std::size_t i) override {
    px::Tensor x = xt::ones<float>({16, 4}) * static_cast<float>(i);
    px::Tensor y = xt::sum(x, {1}) * 0.1f;
    return {{x}, {xt::reshape_view(y, {16, 1})}, {}};
  }
  void on_epoch_end() override { ++epochs; }
  int epochs = 0;
};

int main() {
  // 1. Tensors -> shuffled, mapped on 2 threads (order kept), batched, prefetched.
  px::Tensor x = xt::random::rand<float>({256, 4});
  px::Tensor y = xt::sum(x, {1});
  y.reshape({256, 1});
  auto ds = px::data::Dataset::from_tensor_slices(x, y)
                .shuffle(256, 42)
                .map(
                    [](px::StepData e) {
                      e.x[0] = e.x[0] * 2.0f - 1.0f;  // any C++ on one sample
                      e.y[0] = e.y[0] * 2.0f - 4.0f;
                      return e;
                    },
                    2)
                .batch(32)
                .prefetch(2);
  std::printf("batches per epoch: %lld\n", static_cast<long long>(ds.cardinality()));
  for (const px::StepData& b : ds.take(1)) {
    std::printf("first batch: x %zu x %zu, y %zu x %zu\n", b.x[0].shape()[0], b.x[0].shape()[1],
                b.y[0].shape()[0], b.y[0].shape()[1]);
  }
  px::Sequential model({px::Input({4}), px::layers::Dense(1)});
  model.compile(kw::optimizer = "adam", kw::loss = "mse");
  auto val = px::data::Dataset::from_tensor_slices(x, y).take(64).batch(64);
  px::History h = model.fit(ds, kw::epochs = 2, kw::validation_data = val, kw::verbose = 0);
  std::printf("val_loss after 2 epochs: %.3f\n", h.history["val_loss"].back());
  auto preds = model.predict(px::data::Dataset::from_tensor_slices(x).batch(100));
  std::printf("predictions: %zu\n", preds[0].shape()[0]);

  // 2. A PyDataset, and an infinite dataset with steps_per_epoch.
  auto noise = std::make_shared<Noise>();
  model.fit(px::data::Dataset::from_py_dataset(noise), kw::epochs = 2, kw::verbose = 0);
  model.fit(ds.repeat(), kw::epochs = 2, kw::steps_per_epoch = 3, kw::verbose = 0);
  std::printf("PyDataset epochs ended: %d\n", noise->epochs);

  // 3. Time-series windows: 10 past steps -> the next one (Keras's example 2).
  px::Tensor series = xt::arange<float>(100.0f);
  series.reshape({100, 1});
  px::Tensor next = xt::view(series, xt::range(10, 100));
  auto windows = px::utils::timeseries_dataset_from_array(series, next, 10, kw::batch_size = 16);
  auto first = windows.begin();
  std::printf("window 0: %g .. %g -> %g\n", first->x[0](0, 0, 0), first->x[0](0, 9, 0),
              first->y[0](0, 0));

  // 4. A folder of images in class subfolders.
  const fs::path dir = fs::temp_directory_path() / "plexus_docs_images";
  fs::remove_all(dir);
  for (const char* cls : {"circles", "squares"}) {
    fs::create_directories(dir / cls);
    for (int i = 0; i < 6; ++i) {
      px::Tensor img = xt::random::rand<float>({20, 24, 3}) * 255.0f;
      px::utils::save_img(dir / cls / (std::to_string(i) + ".png"), img, false);
    }
  }
  auto [train, validation] = px::utils::image_dataset_from_directory(
      dir, kw::image_size = {16, 16}, kw::batch_size = 4, kw::validation_split = 0.25,
      kw::subset = "both", kw::seed = 1, kw::verbose = false);
  std::printf("classes: %s, %s\n", train.class_names()[0].c_str(), train.class_names()[1].c_str());
  px::Sequential cnn({px::Input({16, 16, 3}), px::layers::Flatten(),
                      px::layers::Dense(2, kw::activation = "softmax")});
  cnn.compile(kw::optimizer = "adam", kw::loss = "sparse_categorical_crossentropy",
              kw::metrics = {"accuracy"});
  auto scale = [](px::StepData b) {
    b.x[0] /= 255.0f;
    return b;
  };
  cnn.fit(train.map(scale), kw::epochs = 1, kw::validation_data = validation.map(scale),
          kw::verbose = 0);
  px::utils::Image img = px::utils::load_img(dir / "circles" / "0.png", kw::target_size = {8, 8});
  std::printf("load_img: %zu x %zu x %zu\n", img.height, img.width, img.channels);
  fs::remove_all(dir);

  // 5. Padding sequences.
  px::Tensor padded = px::utils::pad_sequences({{1, 2, 3}, {4, 5}}, kw::maxlen = 4);
  std::printf("padded row 1: %g %g %g %g\n", padded(1, 0), padded(1, 1), padded(1, 2),
              padded(1, 3));
  return 0;
}
