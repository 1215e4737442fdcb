// Keras's data helpers: timeseries_dataset_from_array, image files and
// image_dataset_from_directory, text_dataset_from_directory, pad_sequences.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "optim/saving/zip.hpp"
#include "plexus.hpp"

namespace px = plexus;
namespace fs = std::filesystem;
using px::StepData;
using px::Tensor;
using px::data::Dataset;

namespace {

// A fresh scratch folder per test.
fs::path scratch(const std::string& name) {
  auto p = fs::temp_directory_path() / ("px_test_data_files_" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const px::Error& e) {
    return e.what();
  }
  return "(no error)";
}

// --- Keras's definition of the windows (timeseries_dataset_utils.py), transcribed ---------
struct Case {
  int n;  // data = arange(n) (one feature), targets = arange(n) * 10 when with_targets
  bool with_targets;
  int length, stride, rate;
  std::optional<int> start, end;
  std::optional<int> targets_len;  // targets shorter than the data
};
// The (window, target) pairs Keras yields, in order (shuffle=False).
std::vector<std::pair<std::vector<float>, float>> keras_windows(const Case& c) {
  const int start = c.start.value_or(0), end = c.end.value_or(c.n);
  int num_seqs = end - start - (c.length - 1) * c.rate;
  if (c.with_targets) num_seqs = std::min(num_seqs, c.targets_len.value_or(c.n));
  std::vector<std::pair<std::vector<float>, float>> out;
  for (int pos = 0; pos < num_seqs; pos += c.stride) {  // np.arange(0, num_seqs, stride)
    std::vector<float> w;
    // data[start:end][range(pos, pos + length * rate, rate)]
    for (int i = pos; i < pos + c.length * c.rate; i += c.rate) w.push_back(float(start + i));
    out.emplace_back(w, c.with_targets ? float((start + pos) * 10) : -1.0f);
  }
  return out;
}

}  // namespace

TEST(Timeseries, WindowsEqualKerasDefinitionOnATableOfCases) {
  const std::vector<Case> cases = {
      {10, true, 3, 1, 1, {}, {}, {}},  {10, true, 3, 2, 1, {}, {}, {}},
      {10, false, 4, 1, 2, {}, {}, {}}, {99, false, 10, 3, 2, {}, {}, {}},  // docstring example 1
      {20, true, 5, 3, 2, 2, 17, {}},   {20, true, 2, 1, 1, 5, {}, {}},
      {20, true, 3, 1, 1, {}, 12, {}},  {20, true, 4, 2, 3, 1, 19, {}},
      {20, true, 3, 1, 1, {}, {}, 6},   {12, true, 12, 1, 1, {}, {}, {}},
      {12, true, 13, 1, 1, {}, {}, {}},  // longer than the data: no window
      {30, true, 7, 5, 4, 0, {}, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(fmt::format("n={} length={} stride={} rate={} start={} end={}", c.n, c.length,
                             c.stride, c.rate, c.start.value_or(-1), c.end.value_or(-1)));
    Tensor data = xt::arange<float>(static_cast<float>(c.n));
    std::optional<Tensor> targets;
    if (c.with_targets) {
      targets = Tensor(xt::arange<float>(static_cast<float>(c.targets_len.value_or(c.n))) * 10.0f);
    }
    px::utils::TimeseriesOptions o;
    o.sequence_stride = c.stride;
    o.sampling_rate = c.rate;
    o.batch_size = 4;
    if (c.start) o.start_index = *c.start;
    if (c.end) o.end_index = *c.end;
    auto ds = px::utils::timeseries_dataset_from_array(data, targets, c.length, o);
    std::vector<std::pair<std::vector<float>, float>> got;
    for (const StepData& b : ds) {
      ASSERT_EQ(b.x[0].dimension(), 2u);
      ASSERT_EQ(b.x[0].shape()[1], static_cast<std::size_t>(c.length));
      ASSERT_EQ(b.y.size(), c.with_targets ? 1u : 0u);
      for (std::size_t r = 0; r < b.x[0].shape()[0]; ++r) {
        std::vector<float> w;
        for (int k = 0; k < c.length; ++k) w.push_back(b.x[0](r, k));
        got.emplace_back(w, c.with_targets ? b.y[0](r) : -1.0f);
      }
    }
    EXPECT_EQ(got, keras_windows(c));
  }
}

TEST(Timeseries, DocstringExampleAndMultivariateShapes) {
  // Example 1 of Keras's docstring: indices 0..98, length 10, rate 2, stride 3.
  auto ds = px::utils::timeseries_dataset_from_array(
      xt::arange<float>(99.0f), std::nullopt, 10, px::kw::sampling_rate = 2,
      px::kw::sequence_stride = 3, px::kw::batch_size = 1000);
  auto first = ds.begin();
  const StepData& b = *first;
  EXPECT_EQ(b.x[0](0, 9), 18.0f);
  EXPECT_EQ(b.x[0](1, 0), 3.0f);
  EXPECT_EQ(b.x[0](1, 9), 21.0f);
  const std::size_t last = b.x[0].shape()[0] - 1;
  EXPECT_EQ(b.x[0](last, 0), 78.0f);
  EXPECT_EQ(b.x[0](last, 9), 96.0f);
  // (time, features): windows (batch, length, features); unbatched with batch_size nullopt.
  Tensor data = xt::reshape_view(xt::arange<float>(40.0f), {20, 2});
  auto single = px::utils::timeseries_dataset_from_array(data, std::nullopt, 5,
                                                         px::kw::batch_size = std::nullopt);
  EXPECT_EQ(single.cardinality(), 16);
  EXPECT_EQ(px::shape_of(single.begin()->x[0]), (px::Shape{5, 2}));
}

TEST(Timeseries, ShuffleUsesNumpysPermutationOfTheStarts) {
  // NumPy: RandomState(1337).shuffle(arange(10)) == [6 3 0 4 5 2 1 9 8 7]; with one batch
  // holding everything, the local shuffle of 8 batches may reorder, but no window is lost
  // and each target stays with its window.
  Tensor data = xt::arange<float>(12.0f);
  Tensor targets = xt::arange<float>(12.0f) * 10;
  auto ds = px::utils::timeseries_dataset_from_array(data, targets, 3, px::kw::shuffle = true,
                                                     px::kw::seed = 1337, px::kw::batch_size = 1);
  std::vector<float> starts;
  for (const StepData& b : ds) {
    starts.push_back(b.x[0](0, 0));
    EXPECT_EQ(b.y[0](0), b.x[0](0, 0) * 10);
    EXPECT_EQ(b.x[0](0, 2), b.x[0](0, 0) + 2);
  }
  auto sorted = starts;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_NE(starts, sorted);
  // Same seed, same order.
  auto ds2 = px::utils::timeseries_dataset_from_array(data, targets, 3, px::kw::shuffle = true,
                                                      px::kw::seed = 1337, px::kw::batch_size = 1);
  std::vector<float> again;
  for (const StepData& b : ds2) again.push_back(b.x[0](0, 0));
  EXPECT_EQ(starts, again);
}

TEST(Timeseries, KerasErrors) {
  Tensor d = xt::arange<float>(10.0f);
  EXPECT_NE(error_of([&] {
              px::utils::timeseries_dataset_from_array(d, std::nullopt, 3,
                                                       px::kw::start_index = 10);
            }).find("`start_index` must be lower than the length of the data"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              px::utils::timeseries_dataset_from_array(d, std::nullopt, 3, px::kw::start_index = 5,
                                                       px::kw::end_index = 4);
            }).find("`end_index` must be higher than `start_index`"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              px::utils::timeseries_dataset_from_array(d, std::nullopt, 3,
                                                       px::kw::sampling_rate = 0);
            }).find("`sampling_rate` must be higher than 0"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              px::utils::timeseries_dataset_from_array(d, std::nullopt, 3,
                                                       px::kw::sequence_stride = 10);
            }).find("`sequence_stride` must be lower than the length"),
            std::string::npos);
}

TEST(PadSequences, KerasSemantics) {
  std::vector<std::vector<float>> s = {{1, 2, 3}, {4}, {}, {5, 6, 7, 8, 9}};
  Tensor a = px::utils::pad_sequences(s);
  EXPECT_EQ(px::shape_of(a), (px::Shape{4, 5}));
  EXPECT_EQ(xt::view(a, 0), (Tensor{0, 0, 1, 2, 3}));
  EXPECT_EQ(xt::view(a, 2), (Tensor{0, 0, 0, 0, 0}));
  Tensor b = px::utils::pad_sequences(s, px::kw::maxlen = 3, px::kw::padding = "post",
                                      px::kw::truncating = "post", px::kw::value = -1.0f);
  EXPECT_EQ(xt::view(b, 0), (Tensor{1, 2, 3}));
  EXPECT_EQ(xt::view(b, 1), (Tensor{4, -1, -1}));
  EXPECT_EQ(xt::view(b, 3), (Tensor{5, 6, 7}));
  Tensor c = px::utils::pad_sequences(s, px::kw::maxlen = 2);  // truncating "pre": the end kept
  EXPECT_EQ(xt::view(c, 3), (Tensor{8, 9}));
  EXPECT_THROW(px::utils::pad_sequences(s, px::kw::padding = "middle"), px::Error);
}

// --- images ---------------------------------------------------------------------------------

namespace {
Tensor gradient_image(std::size_t h, std::size_t w, std::size_t c, float offset = 0) {
  Tensor t = Tensor::from_shape({h, w, c});
  for (std::size_t y = 0; y < h; ++y)
    for (std::size_t x = 0; x < w; ++x)
      for (std::size_t k = 0; k < c; ++k)
        t(y, x, k) = std::fmod(offset + 10.0f * y + 3.0f * x + 50.0f * k, 256.0f);
  return t;
}
}  // namespace

TEST(Images, PngRoundTripIsExactAndJpegIsClose) {
  auto dir = scratch("roundtrip");
  for (std::size_t c : {1u, 3u, 4u}) {
    Tensor img = gradient_image(9, 13, c);
    px::utils::save_img(dir / "a.png", img, false);
    auto back = px::utils::img_to_array(
        px::utils::load_img(dir / "a.png", px::kw::color_mode = c == 1   ? "grayscale"
                                                                : c == 3 ? "rgb"
                                                                         : "rgba"));
    EXPECT_EQ(back, img) << c;
  }
  // A smooth image (JPEG's loss is in the edges; PIL's encoder and decoder give the same
  // error on this one as libjpeg here).
  Tensor img = Tensor::from_shape({32, 24, 3});
  for (std::size_t y = 0; y < 32; ++y)
    for (std::size_t x = 0; x < 24; ++x)
      for (std::size_t k = 0; k < 3; ++k) img(y, x, k) = 3.0f * y + 2.0f * x + 40.0f * k;
  px::utils::save_img(dir / "a.jpg", img, false, 95);
  Tensor back = px::utils::img_to_array(px::utils::load_img(dir / "a.jpg"));
  EXPECT_EQ(px::shape_of(back), (px::Shape{32, 24, 3}));
  EXPECT_LT(xt::mean(xt::abs(back - img))(), 2.0f);
  // Grayscale load of a colour JPEG: one channel, libjpeg's conversion.
  auto gray = px::utils::load_img(dir / "a.jpg", px::kw::color_mode = "grayscale");
  EXPECT_EQ(gray.channels, 1u);
  // target_size resizes.
  auto small = px::utils::load_img(dir / "a.jpg", px::kw::target_size = {8, 6});
  EXPECT_EQ(small.height, 8u);
  EXPECT_EQ(small.width, 6u);
}

TEST(Images, ArrayToImgScalesByMinAndMax) {
  Tensor t = Tensor::from_shape({1, 3, 1});
  t(0, 0, 0) = -1;
  t(0, 1, 0) = 0;
  t(0, 2, 0) = 1;
  auto img = px::utils::array_to_img(t);
  EXPECT_EQ(img.pixels, (std::vector<std::uint8_t>{0, 127, 255}));
  auto clipped = px::utils::array_to_img(t * 300.0f, false);
  EXPECT_EQ(clipped.pixels, (std::vector<std::uint8_t>{0, 0, 255}));
  EXPECT_THROW(px::utils::array_to_img(Tensor::from_shape({3, 3})), px::Error);
}

TEST(Images, ResizeEqualsTensorflowsHalfPixelResize) {
  // Expected values: torch.nn.functional.interpolate(align_corners=False) for bilinear and
  // mode="nearest-exact" for nearest — the same half-pixel-centre rules as tf.image.resize
  // with antialias=False, which Keras's image_dataset_from_directory calls.
  Tensor img = xt::reshape_view(xt::arange<float>(12.0f), {3, 4, 1});
  auto flat = [](const Tensor& t) { return std::vector<float>(t.begin(), t.end()); };
  auto near = [](const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (std::abs(a[i] - b[i]) > 1e-4f) return false;
    return true;
  };
  EXPECT_TRUE(near(flat(px::utils::resize_image(img, 5, 3)),
                   {0.16667f, 1.5f, 2.83333f, 1.76667f, 3.1f, 4.43333f, 4.16667f, 5.5f, 6.83333f,
                    6.56667f, 7.9f, 9.23333f, 8.16667f, 9.5f, 10.83333f}));
  EXPECT_TRUE(near(flat(px::utils::resize_image(img, 2, 2)), {1.5f, 3.5f, 7.5f, 9.5f}));
  EXPECT_TRUE(near(flat(px::utils::resize_image(img, 5, 3, "nearest")),
                   {0, 2, 3, 0, 2, 3, 4, 6, 7, 8, 10, 11, 8, 10, 11}));
  EXPECT_TRUE(near(flat(px::utils::resize_image(img, 2, 2, "nearest")), {1, 3, 9, 11}));
  // crop_to_aspect_ratio: the centre 3x3 of a 3x4 image (Keras's smart_resize), to 3x3.
  EXPECT_TRUE(near(flat(px::utils::resize_image(img, 3, 3, "bilinear", true)),
                   {0, 1, 2, 4, 5, 6, 8, 9, 10}));
  // pad_to_aspect_ratio: a 3x4 image into 4x4 (resize_with_pad): zero rows around.
  Tensor padded = px::utils::resize_image(img, 4, 4, "bilinear", false, true);
  EXPECT_EQ(px::shape_of(padded), (px::Shape{4, 4, 1}));
  EXPECT_EQ(padded(3, 0, 0), 0.0f);
  EXPECT_EQ(padded(0, 1, 0), 1.0f);
}

TEST(Images, CorruptTruncatedAndUnknownFilesAreErrorsNamingTheFile) {
  auto dir = scratch("corrupt");
  px::utils::save_img(dir / "ok.jpg", gradient_image(40, 40, 3), false);
  px::utils::save_img(dir / "ok.png", gradient_image(40, 40, 3), false);
  auto truncate = [&](const std::string& from, const std::string& to, std::size_t keep) {
    std::ifstream f(dir / from, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::ofstream(dir / to, std::ios::binary).write(bytes.data(), static_cast<long>(keep));
    return bytes.size();
  };
  const auto jpg_size = truncate("ok.jpg", "cut.jpg", 0);
  truncate("ok.jpg", "cut.jpg", jpg_size / 2);
  const auto png_size = truncate("ok.png", "cut.png", 0);
  truncate("ok.png", "cut.png", png_size / 2);
  std::ofstream(dir / "junk.png") << "not an image";
  std::ofstream(dir / "empty.jpg");
  for (const char* name : {"cut.jpg", "cut.png", "junk.png", "empty.jpg", "missing.png"}) {
    const std::string m = error_of([&] { px::utils::load_img(dir / name); });
    EXPECT_NE(m.find(name), std::string::npos) << m;
  }
  EXPECT_NE(error_of([&] { px::utils::load_img(dir / "cut.jpg"); }).find("JPEG"),
            std::string::npos);
}

namespace {
// A folder of class subfolders: class c holds n[c] images whose pixels encode (c, index).
fs::path class_folder(const std::string& name, const std::vector<std::string>& classes,
                      const std::vector<int>& counts, const std::string& ext = ".png") {
  auto dir = scratch(name);
  for (std::size_t c = 0; c < classes.size(); ++c) {
    fs::create_directories(dir / classes[c]);
    for (int i = 0; i < counts[c]; ++i) {
      Tensor img = xt::zeros<float>({6, 8, 3});
      xt::view(img, xt::all(), xt::all(), 0) = static_cast<float>(c * 40);
      xt::view(img, xt::all(), xt::all(), 1) = static_cast<float>(i);
      px::utils::save_img(dir / classes[c] / fmt::format("img_{:03}{}", i, ext), img, false);
    }
  }
  return dir;
}
}  // namespace

TEST(ImageDataset, LabelsFromSortedSubfoldersInAllLabelModes) {
  auto dir = class_folder("labels", {"dogs", "cats"}, {3, 5});
  std::ofstream(dir / "cats" / "notes.txt") << "not an image";  // not an allowed format
  auto ds = px::utils::image_dataset_from_directory(dir, px::kw::image_size = {6, 8},
                                                    px::kw::batch_size = 3, px::kw::shuffle = false,
                                                    px::kw::verbose = false);
  EXPECT_EQ(ds.class_names(), (std::vector<std::string>{"cats", "dogs"}));
  EXPECT_EQ(ds.cardinality(), 3);
  std::vector<float> labels;
  for (const StepData& b : ds) {
    ASSERT_EQ(b.x[0].dimension(), 4u);
    EXPECT_EQ(b.x[0].shape()[3], 3u);
    for (std::size_t r = 0; r < b.x[0].shape()[0]; ++r) {
      labels.push_back(b.y[0](r));
      // The red channel says which folder the file came from: cats (index 1 written as 40).
      const float red = b.x[0](r, 0, 0, 0);
      EXPECT_EQ(red, b.y[0](r) == 0 ? 40.0f : 0.0f);
    }
  }
  EXPECT_EQ(labels, (std::vector<float>{0, 0, 0, 0, 0, 1, 1, 1}));
  auto cat = px::utils::image_dataset_from_directory(
      dir, px::kw::image_size = {6, 8}, px::kw::label_mode = "categorical", px::kw::verbose = false,
      px::kw::shuffle = false, px::kw::batch_size = 8);
  EXPECT_EQ(px::shape_of(cat.begin()->y[0]), (px::Shape{8, 2}));
  auto bin = px::utils::image_dataset_from_directory(
      dir, px::kw::image_size = {3, 4}, px::kw::label_mode = "binary", px::kw::verbose = false,
      px::kw::color_mode = "grayscale", px::kw::batch_size = 8);
  EXPECT_EQ(px::shape_of(bin.begin()->y[0]), (px::Shape{8, 1}));
  EXPECT_EQ(px::shape_of(bin.begin()->x[0]), (px::Shape{8, 3, 4, 1}));
  auto none = px::utils::image_dataset_from_directory(
      dir, px::kw::label_mode = "", px::kw::verbose = false, px::kw::image_size = {6, 8});
  EXPECT_TRUE(none.begin()->y.empty());
  // class_names picks and orders the classes.
  auto picked = px::utils::image_dataset_from_directory(
      dir, px::kw::class_names = std::vector<std::string>{"dogs"}, px::kw::verbose = false,
      px::kw::image_size = {6, 8}, px::kw::batch_size = 10);
  EXPECT_EQ(picked.begin()->x[0].shape()[0], 3u);
}

TEST(ImageDataset, ValidationSplitSubsetsAndShuffleAsKeras) {
  auto dir = class_folder("split", {"a", "b", "c"}, {4, 3, 3}, ".jpg");
  auto [train, val] = px::utils::image_dataset_from_directory(
      dir, px::kw::validation_split = 0.3, px::kw::subset = "both", px::kw::seed = 1337,
      px::kw::image_size = {6, 8}, px::kw::verbose = false);
  EXPECT_EQ(train.file_paths().size(), 7u);
  EXPECT_EQ(val.file_paths().size(), 3u);
  std::set<std::string> all(train.file_paths().begin(), train.file_paths().end());
  for (auto& p : val.file_paths()) EXPECT_EQ(all.count(p), 0u) << p;
  all.insert(val.file_paths().begin(), val.file_paths().end());
  EXPECT_EQ(all.size(), 10u);
  // The order is NumPy's RandomState(1337).shuffle of the sorted files: [6 3 0 4 5 2 1 9 8 7].
  const std::vector<std::string> sorted = {
      "a/img_000.jpg", "a/img_001.jpg", "a/img_002.jpg", "a/img_003.jpg", "b/img_000.jpg",
      "b/img_001.jpg", "b/img_002.jpg", "c/img_000.jpg", "c/img_001.jpg", "c/img_002.jpg"};
  const std::vector<int> perm = {6, 3, 0, 4, 5, 2, 1, 9, 8, 7};
  for (std::size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(train.file_paths()[i], (dir / sorted[perm[i]]).string());
  }
  EXPECT_EQ(val.file_paths()[0], (dir / sorted[perm[7]]).string());
  // The subsets alone give the same files.
  auto t2 = px::utils::image_dataset_from_directory(
      dir, px::kw::validation_split = 0.3, px::kw::subset = "training", px::kw::seed = 1337,
      px::kw::image_size = {6, 8}, px::kw::verbose = false);
  EXPECT_EQ(t2.file_paths(), train.file_paths());
  int rows = 0;
  for (const StepData& b : t2) rows += static_cast<int>(b.x[0].shape()[0]);
  EXPECT_EQ(rows, 7);
  // A training dataset is not a pair.
  EXPECT_THROW((void)t2.get<1>(), px::Error);
}

TEST(ImageDataset, KerasErrors) {
  auto empty = scratch("empty");
  EXPECT_NE(error_of([&] {
              px::utils::image_dataset_from_directory(empty, px::kw::verbose = false);
            }).find("No images found in directory"),
            std::string::npos);
  auto flat = scratch("flat");  // images but no class subfolders
  px::utils::save_img(flat / "a.png", gradient_image(4, 4, 3), false);
  EXPECT_NE(error_of([&] {
              px::utils::image_dataset_from_directory(flat, px::kw::verbose = false);
            }).find("No images found in directory"),
            std::string::npos);
  // ... which labels = nullptr reads.
  auto unlabeled = px::utils::image_dataset_from_directory(
      flat, px::kw::labels = nullptr, px::kw::verbose = false, px::kw::image_size = {4, 4});
  EXPECT_TRUE(unlabeled.begin()->y.empty());
  auto dir = class_folder("errors", {"a", "b"}, {2, 2});
  EXPECT_NE(error_of([&] {
              px::utils::image_dataset_from_directory(dir, px::kw::validation_split = 0.5,
                                                      px::kw::subset = "training",
                                                      px::kw::verbose = false);
            }).find("you must provide a `seed` argument"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              px::utils::image_dataset_from_directory(dir, px::kw::validation_split = 0.5,
                                                      px::kw::seed = 1, px::kw::verbose = false);
            }).find("If `subset` is set, `validation_split` must be set, and inversely."),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              px::utils::image_dataset_from_directory(dir, px::kw::label_mode = "sparse",
                                                      px::kw::verbose = false);
            }).find("`label_mode` argument must be one of"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              px::utils::image_dataset_from_directory(
                  dir, px::kw::class_names = std::vector<std::string>{"zebra"},
                  px::kw::verbose = false);
            }).find("did not match the names of the subdirectories"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              px::utils::image_dataset_from_directory(dir, px::kw::color_mode = "cmyk",
                                                      px::kw::verbose = false);
            }).find("`color_mode` must be one of"),
            std::string::npos);
  // A corrupt file in the folder: the error names it when its batch is read.
  std::ofstream(dir / "b" / "zz_broken.png") << "garbage";
  auto ds = px::utils::image_dataset_from_directory(dir, px::kw::verbose = false,
                                                    px::kw::image_size = {6, 8});
  const std::string m = error_of([&] {
    for (const StepData& b : ds) (void)b;
  });
  EXPECT_NE(m.find("zz_broken.png"), std::string::npos) << m;
}

TEST(ImageDataset, TrainsAModel) {
  auto dir = class_folder("train", {"dark", "light"}, {8, 8});
  auto ds = px::utils::image_dataset_from_directory(dir, px::kw::image_size = {6, 8},
                                                    px::kw::batch_size = 4, px::kw::seed = 1,
                                                    px::kw::verbose = false);
  auto scaled = ds.map([](StepData b) {
    b.x[0] /= 255.0f;
    return b;
  });
  px::utils::set_random_seed(1);
  px::Sequential model({px::Input({6, 8, 3}), px::layers::Flatten(),
                        px::layers::Dense(2, px::kw::activation = "softmax")});
  model.compile(px::kw::optimizer = "adam", px::kw::loss = "sparse_categorical_crossentropy",
                px::kw::metrics = {"accuracy"});
  auto h = model.fit(scaled, px::kw::epochs = 3, px::kw::verbose = 0);
  EXPECT_EQ(h.history["loss"].size(), 3u);
  EXPECT_LT(h.history["loss"][2], h.history["loss"][0]);
}

// --- text -----------------------------------------------------------------------------------

TEST(TextDataset, ReadsTxtFilesWithLabelsFromSubfolders) {
  auto dir = scratch("text");
  fs::create_directories(dir / "neg");
  fs::create_directories(dir / "pos");
  for (int i = 0; i < 3; ++i) std::ofstream(dir / "neg" / fmt::format("{}.txt", i)) << "bad " << i;
  for (int i = 0; i < 2; ++i) std::ofstream(dir / "pos" / fmt::format("{}.txt", i)) << "good " << i;
  std::ofstream(dir / "pos" / "skip.md") << "ignored";
  auto ds =
      px::utils::text_dataset_from_directory(dir, px::kw::batch_size = 2, px::kw::shuffle = false,
                                             px::kw::verbose = false, px::kw::max_length = 4);
  EXPECT_EQ(ds.class_names(), (std::vector<std::string>{"neg", "pos"}));
  EXPECT_EQ(ds.cardinality(), 3);
  auto batches = ds.batches();
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].texts, (std::vector<std::string>{"bad ", "bad "}));
  EXPECT_EQ(batches[2].texts, (std::vector<std::string>{"good"}));
  EXPECT_EQ(batches[2].labels(0), 1.0f);
  // Vectorized: a numeric dataset for fit.
  auto numeric = ds.vectorize([](const std::vector<std::string>& texts) {
    Tensor t = Tensor::from_shape({texts.size(), 1});
    for (std::size_t i = 0; i < texts.size(); ++i) t(i, 0) = static_cast<float>(texts[i].size());
    return t;
  });
  int n = 0;
  for (const StepData& b : numeric) n += static_cast<int>(b.y[0].shape()[0]);
  EXPECT_EQ(n, 5);
  auto [tr, va] = px::utils::text_dataset_from_directory_both(
      dir, px::kw::validation_split = 0.4, px::kw::seed = 3, px::kw::verbose = false);
  EXPECT_EQ(tr.file_paths().size(), 3u);
  EXPECT_EQ(va.file_paths().size(), 2u);
  EXPECT_NE(error_of([&] {
              px::utils::text_dataset_from_directory(scratch("text_empty"),
                                                     px::kw::verbose = false);
            }).find("No text files found in directory"),
            std::string::npos);
}

TEST(Images, GifFirstFrameEqualsThePaletteImageSavedAsPng) {
  // tests/fuzz/corpus/image: the same palette image written by PIL as GIF and as PNG.
  // PLEXUS_TEST_DATA is <repo>/tests/data (CTest sets it); __FILE__ may be relative to the
  // build folder.
  const char* data = std::getenv("PLEXUS_TEST_DATA");
  const fs::path tests = data != nullptr ? fs::path(data).parent_path()
                                         : fs::absolute(fs::path(__FILE__)).parent_path();
  const fs::path dir = tests / "fuzz" / "corpus" / "image";
  auto gif = px::utils::load_img(dir / "palette.gif");
  auto png = px::utils::load_img(dir / "palette.png");
  EXPECT_EQ(gif.height, 4u);
  EXPECT_EQ(gif.width, 5u);
  EXPECT_EQ(gif.pixels, png.pixels);
  // A corrupt GIF the fuzzer found (giflib reports an error code without a message).
  const std::string m =
      error_of([&] { px::utils::load_img(dir / "regression_gif_unknown_error.gif"); });
  EXPECT_NE(m.find("regression_gif_unknown_error.gif"), std::string::npos) << m;
  // ... and one of 0 x 4 pixels (the crop to the aspect ratio read outside the image).
  const std::string z = error_of([&] { px::utils::load_img(dir / "regression_zero_width.gif"); });
  EXPECT_NE(z.find("regression_zero_width.gif"), std::string::npos) << z;
  EXPECT_THROW(px::utils::resize_image(Tensor::from_shape({0, 4, 3}), 5, 7, "bilinear", true),
               px::Error);
  // JPEG, progressive JPEG, grayscale PNG: decoded by the libraries.
  EXPECT_EQ(px::utils::load_img(dir / "progressive.jpg").height, 16u);
  EXPECT_EQ(px::utils::load_img(dir / "gray.png", px::kw::color_mode = "grayscale").pixels.size(),
            20u);
}

// --- Keras's .npz datasets ------------------------------------------------------------------

namespace {
// np.save's format 1.0: magic, version, a little-endian header length, the header dict padded
// with spaces to a multiple of 64 bytes with a final newline, then the data.
std::string npy_f8(const std::vector<std::size_t>& shape, const std::vector<double>& values) {
  std::string dims;
  for (std::size_t d : shape) dims += std::to_string(d) + ", ";
  if (shape.size() > 1) dims.resize(dims.size() - 2);
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(double));
  return out;
}
}  // namespace

TEST(KerasDatasets, HousingNpzShuffledAndSplitAsKeras) {
  auto dir = scratch("npz");
  // boston_housing.npz as np.savez writes it: x (10, 3), y (10,), row i holds i.
  std::vector<double> x, y;
  for (int i = 0; i < 10; ++i) {
    for (int k = 0; k < 3; ++k) x.push_back(i + 0.1 * k);
    y.push_back(100.0 * i);
  }
  px::saving::zip::write((dir / "boston_housing.npz").string(),
                         {{"x.npy", npy_f8({10, 3}, x)}, {"y.npy", npy_f8({10}, y)}});
  auto [train, test] = px::datasets::boston_housing::load_data({.dir = dir});
  // NumPy: RandomState(113).shuffle(arange(10)) == [9 3 6 1 0 7 4 8 2 5]; int(10 * 0.8) = 8.
  EXPECT_EQ(px::shape_of(train.x), (px::Shape{8, 3}));
  EXPECT_EQ(px::shape_of(test.x), (px::Shape{2, 3}));
  const std::vector<float> order = {9, 3, 6, 1, 0, 7, 4, 8};
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_FLOAT_EQ(train.x(i, 0), order[i]);
    EXPECT_FLOAT_EQ(train.x(i, 2), order[i] + 0.2f);
    EXPECT_FLOAT_EQ(train.y(i), 100 * order[i]);
  }
  EXPECT_FLOAT_EQ(test.y(0), 200.0f);
  EXPECT_FLOAT_EQ(test.y(1), 500.0f);
  auto [tr2, te2] = px::datasets::boston_housing::load_data({.dir = dir, .test_split = 0.5});
  EXPECT_EQ(tr2.x.shape()[0], 5u);
  // california_housing "small": the first 600 rows, then the same shuffle.
  std::vector<double> cx, cy;
  for (int i = 0; i < 700; ++i) {
    cx.push_back(i);
    cy.push_back(i);
  }
  px::saving::zip::write((dir / "california_housing.npz").string(),
                         {{"x.npy", npy_f8({700, 1}, cx)}, {"y.npy", npy_f8({700}, cy)}});
  auto [small, small_test] =
      px::datasets::california_housing::load_data({.dir = dir, .version = "small"});
  EXPECT_EQ(small.x.shape()[0], 480u);  // int(600 * 0.8)
  EXPECT_EQ(small_test.x.shape()[0], 120u);
  EXPECT_FLOAT_EQ(small.y(0), 568.0f);  // RandomState(113) on arange(600): 568 505 59 ...
  EXPECT_FLOAT_EQ(small.y(1), 505.0f);
  auto [large, large_test] = px::datasets::california_housing::load_data({.dir = dir});
  EXPECT_EQ(large.x.shape()[0], 560u);
  EXPECT_FLOAT_EQ(large.y(0), 107.0f);  // on arange(700): 107 175 556 ...
  EXPECT_THROW(px::datasets::california_housing::load_data({.dir = dir, .version = "medium"}),
               px::Error);
  // A missing file names where it looked; a corrupt array names the file.
  EXPECT_NE(error_of([&] {
              px::datasets::boston_housing::load_data({.dir = scratch("none")});
            }).find("boston_housing.npz"),
            std::string::npos);
  fs::create_directories(dir / "bad");
  px::saving::zip::write((dir / "bad" / "boston_housing.npz").string(),
                         {{"x.npy", "garbage"}, {"y.npy", npy_f8({10}, y)}});
  const std::string m =
      error_of([&] { px::datasets::boston_housing::load_data({.dir = dir / "bad"}); });
  EXPECT_NE(m.find("x.npy"), std::string::npos) << m;
  EXPECT_NE(m.find("bad"), std::string::npos) << m;
}
