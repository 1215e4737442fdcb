// Keras's CIFAR-10/100, IMDB and Reuters data sets (issue 24), read from files in their
// formats: tests/data/datasets/ holds small ones written by make_keras_datasets.py (Python 2
// pickles in tar.gz archives, NumPy object arrays in .npz) with what Keras's load_data
// returns for them (expected.json); the hostile cases are written here. Nothing is
// downloaded (file:// URLs stand for the origin). And BMP images, decoded by stb_image.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <plexus.hpp>

#include "core/json.hpp"
#include "graph_helpers.hpp"
#include "optim/data/detail/pickle.hpp"
#include "optim/data/keras_datasets_pickled.hpp"

namespace px = plexus;
namespace fs = std::filesystem;
namespace ds = px::datasets;

namespace {

fs::path fixtures() {
  const char* data = std::getenv("PLEXUS_TEST_DATA");
  const fs::path root = data ? fs::absolute(data).parent_path().parent_path()
                             : fs::absolute(__FILE__).parent_path().parent_path();
  return root / "tests" / "data" / "datasets";
}

nlohmann::json expected() {
  std::ifstream in(fixtures() / "expected.json");
  return nlohmann::json::parse(in);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const px::Error& e) {
    return e.what();
  }
  return "(no error)";
}

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

fs::path scratch(const std::string& name) {
  const fs::path d = px::test::scratch_dir() / "keras_datasets" / name;
  fs::create_directories(d);
  return d;
}

std::vector<float> column(const px::Tensor& t) { return {t.data(), t.data() + t.size()}; }

std::vector<float> floats(const nlohmann::json& j) {
  std::vector<float> v;
  for (const auto& x : j) v.push_back(x.get<float>());
  return v;
}

std::vector<std::vector<float>> sequences(const nlohmann::json& j) {
  std::vector<std::vector<float>> v;
  for (const auto& x : j) v.push_back(floats(x));
  return v;
}

ds::TextLoadOptions text_options(const nlohmann::json& args) {
  ds::TextLoadOptions o{.dir = fixtures()};
  if (args.contains("num_words")) o.num_words = args["num_words"].get<std::int64_t>();
  if (args.contains("skip_top")) o.skip_top = args["skip_top"].get<std::int64_t>();
  if (args.contains("maxlen")) o.maxlen = args["maxlen"].get<std::size_t>();
  if (args.contains("seed")) o.seed = args["seed"].get<std::uint64_t>();
  if (args.contains("test_split")) o.test_split = args["test_split"].get<double>();
  if (args.contains("index_from")) o.index_from = args["index_from"].get<std::int64_t>();
  if (args.contains("start_char")) {
    if (args["start_char"].is_null()) {
      o.start_char.reset();
    } else {
      o.start_char = args["start_char"].get<std::int64_t>();
    }
  }
  if (args.contains("oov_char")) {
    if (args["oov_char"].is_null()) {
      o.oov_char.reset();
    } else {
      o.oov_char = args["oov_char"].get<std::int64_t>();
    }
  }
  return o;
}

void expect_split(const ds::SequenceTrainTest& got, const nlohmann::json& want) {
  EXPECT_EQ(got.first.x, sequences(want["x_train"])) << want["args"].dump();
  EXPECT_EQ(column(got.first.y), floats(want["y_train"])) << want["args"].dump();
  EXPECT_EQ(got.second.x, sequences(want["x_test"])) << want["args"].dump();
  EXPECT_EQ(column(got.second.y), floats(want["y_test"])) << want["args"].dump();
}

// A pickle, protocol 2, in Python 2's spelling.
struct Pickle {
  std::string b = "\x80\x02";
  Pickle& op(const std::string& s) {
    b += s;
    return *this;
  }
  Pickle& str(const std::string& s) {  // BINSTRING
    b += 'T';
    const auto n = static_cast<std::uint32_t>(s.size());
    b.append(reinterpret_cast<const char*>(&n), 4);
    b += s;
    return *this;
  }
  Pickle& int1(int v) {
    b += 'K';
    b += static_cast<char>(v);
    return *this;
  }
};

// A CIFAR batch dict {"data": <n x 3072 uint8 of `pixels` bytes>, "labels": [labels]}.
std::string cifar_batch(std::size_t n, const std::string& pixels, const std::vector<int>& labels) {
  Pickle p;
  p.op("}(").str("data");
  p.op("cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n").int1(0).op("\x85").str("b");
  p.op("\x87R(").int1(1).int1(static_cast<int>(n)).op("M");
  p.b += static_cast<char>(3072 & 0xff);
  p.b += static_cast<char>(3072 >> 8);
  p.op("\x86").op("cnumpy\ndtype\n").str("u1").int1(0).int1(1).op("\x87R(").int1(3).str("|");
  p.op("NNN").op("J\xff\xff\xff\xffJ\xff\xff\xff\xff").int1(0).op("tb\x89").str(pixels).op("tb");
  p.str("labels").op("](");
  for (int l : labels) p.int1(l);
  p.op("eu.");
  return p.b;
}

}  // namespace

TEST(KerasDatasetsPickled, Cifar10AsKerasReadsIt) {
  const auto want = expected()["cifar10"];
  const auto [train, test] = ds::cifar10::load_data({.dir = fixtures()});
  EXPECT_EQ(px::shape_of(train.x), px::Shape({15, 32, 32, 3}));
  EXPECT_EQ(px::shape_of(test.x), px::Shape({2, 32, 32, 3}));
  EXPECT_EQ(px::shape_of(train.y), px::Shape({15, 1}));
  EXPECT_EQ(column(train.y), floats(want["y_train"]));
  EXPECT_EQ(column(test.y), floats(want["y_test"]));
  // Channels last: x[i, h, w, c] = data[i, c * 1024 + h * 32 + w].
  std::int64_t checksum = 0;
  for (std::size_t k = 0; k < train.x.size(); ++k) {
    checksum += static_cast<std::int64_t>(train.x.data()[k]) * static_cast<std::int64_t>(k % 7 + 1);
  }
  EXPECT_EQ(checksum, want["x_train_checksum"].get<std::int64_t>());
  EXPECT_EQ((std::vector<float>{test.x(0, 0, 0, 0), test.x(0, 0, 0, 1), test.x(0, 0, 0, 2)}),
            floats(want["x_test_first"]));
  EXPECT_EQ(
      (std::vector<float>{train.x(14, 31, 31, 0), train.x(14, 31, 31, 1), train.x(14, 31, 31, 2)}),
      floats(want["x_train_last"]));
}

// Keras's cache: get_file(fname="cifar-10-batches-py-target", extract=True) keeps the
// archive as <cache>/datasets/cifar-10-batches-py-target_archive; it is read in place.
TEST(KerasDatasetsPickled, Cifar10FromKerasCacheLayout) {
  const fs::path cache = scratch("cifar_cache");
  fs::create_directories(cache / "datasets");
  fs::copy_file(fixtures() / "cifar-10-python.tar.gz",
                cache / "datasets" / "cifar-10-batches-py-target_archive",
                fs::copy_options::overwrite_existing);
  const auto [train, test] = ds::cifar10::load_data({.cache_dir = cache, .download = false});
  EXPECT_EQ(train.x.shape()[0], 15u);
  EXPECT_EQ(column(test.y), floats(expected()["cifar10"]["y_test"]));
  // Nothing there and no download: an error naming where it looked.
  const std::string e = error_of(
      [&] { ds::cifar10::load_data({.cache_dir = scratch("empty_cache"), .download = false}); });
  EXPECT_TRUE(has(e, "CIFAR-10") && has(e, "cifar-10-python.tar.gz")) << e;
}

TEST(KerasDatasetsPickled, Cifar100FineAndCoarse) {
  const auto want = expected()["cifar100"];
  for (const std::string mode : {"fine", "coarse"}) {
    const auto [train, test] = ds::cifar100::load_data({.dir = fixtures(), .label_mode = mode});
    EXPECT_EQ(px::shape_of(train.x), px::Shape({4, 32, 32, 3}));
    EXPECT_EQ(column(train.y), floats(want["train"][mode])) << mode;
    EXPECT_EQ(column(test.y), floats(want["test"][mode])) << mode;
    for (std::size_t i = 0; i < 2; ++i) {
      EXPECT_EQ((std::vector<float>{test.x(i, 1, 2, 0), test.x(i, 1, 2, 1), test.x(i, 1, 2, 2)}),
                floats(want["test"]["x_pixel_1_2"][i]));
    }
  }
  const std::string e =
      error_of([&] { ds::cifar100::load_data({.dir = fixtures(), .label_mode = "medium"}); });
  EXPECT_TRUE(has(e, "`label_mode` must be one of")) << e;
}

TEST(KerasDatasetsPickled, ImdbAsKerasLoadsIt) {
  const nlohmann::json all = expected();  // kept alive: the loop reads into it
  for (const auto& c : all["imdb"]) {
    expect_split(ds::imdb::load_data(text_options(c["args"])), c);
  }
  const auto index = ds::imdb::get_word_index({.dir = fixtures()});
  EXPECT_EQ(index.size(), 4u);
  EXPECT_EQ(index.at("of"), 4);
  // Every sequence filtered out by maxlen: Keras's error.
  const std::string e = error_of([&] { ds::imdb::load_data({.dir = fixtures(), .maxlen = 1}); });
  EXPECT_TRUE(has(e, "no sequence was kept")) << e;
}

TEST(KerasDatasetsPickled, ReutersAsKerasLoadsIt) {
  const nlohmann::json all = expected();  // kept alive: the loop reads into it
  for (const auto& c : all["reuters"]) {
    expect_split(ds::reuters::load_data(text_options(c["args"])), c);
  }
  EXPECT_EQ(ds::reuters::get_label_names().size(), 46u);
  EXPECT_EQ(ds::reuters::get_label_names()[3], "earn");
}

// Keras's hash_algorithm="auto": 32 hex digits are an MD5 (the word indexes' hashes).
TEST(KerasDatasetsPickled, GetFileChecksMd5) {
  const fs::path cache = scratch("md5_cache");
  const std::string url = "file://" + (fixtures() / "imdb_word_index.json").string();
  const fs::path got = px::utils::get_file(
      "words.json", url, {.file_hash = "8fe02a769936dd532bebe9fd1bbacdfe", .cache_dir = cache});
  EXPECT_TRUE(fs::exists(got));
  // The origin's file is not Keras's: its MD5 does not match, nothing is cached.
  const std::string e = error_of([&] {
    ds::imdb::get_word_index({.cache_dir = cache, .base_url = "file://" + fixtures().string()});
  });
  EXPECT_TRUE(has(e, "expected md5 bfafd718b763782e994055a2d397834f")) << e;
  EXPECT_FALSE(fs::exists(cache / "datasets" / "imdb_word_index.json"));
}

// The restricted unpickler: only NumPy's array globals, every length checked.
TEST(KerasDatasetsPickled, HostilePicklesAreErrors) {
  const fs::path dir = scratch("hostile") / "cifar-10-batches-py";
  fs::create_directories(dir);
  auto load_with = [&](const std::string& first_batch) {
    std::ofstream(dir / "data_batch_1", std::ios::binary) << first_batch;
    return error_of([&] { ds::cifar10::load_data({.dir = dir.parent_path()}); });
  };
  // A well-formed batch, but the other files are missing: the error names the missing one.
  const std::string pixels(2 * 3072, '\x07');
  std::string e = load_with(cifar_batch(2, pixels, {1, 2}));
  EXPECT_TRUE(has(e, "data_batch_2") && has(e, "missing")) << e;
  // A call to os.system: refused, as Keras refuses it.
  e = load_with("\x80\x02\x63os\nsystem\nX\x02\x00\x00\x00ls\x85R.");
  EXPECT_TRUE(has(e, "refusing to deserialize `os.system`") && has(e, "data_batch_1")) << e;
  // A pixel array shorter than its shape.
  e = load_with(cifar_batch(2, pixels.substr(1), {1, 2}));
  EXPECT_TRUE(has(e, "whose data has other than 6144 bytes")) << e;
  // Truncated anywhere: an error, never a read past the end.
  const std::string good = cifar_batch(2, pixels, {1, 2});
  for (std::size_t cut : {std::size_t{1}, std::size_t{9}, std::size_t{100}, good.size() - 1}) {
    e = load_with(good.substr(0, cut));
    EXPECT_TRUE(has(e, "data_batch_1")) << cut << ": " << e;
  }
  // More labels than images; a memo entry that was never stored; a string longer than the file.
  e = load_with(cifar_batch(2, pixels, {1, 2, 3}));
  EXPECT_TRUE(has(e, "2 images but 3 labels")) << e;
  e = load_with("\x80\x02h\x05.");
  EXPECT_TRUE(has(e, "never stored")) << e;
  e = load_with(
      "\x80\x02T\xff\xff\xff\x7f"
      "abc.");
  EXPECT_TRUE(has(e, "longer than the rest")) << e;
  // A corrupt archive names the archive.
  const fs::path bad = scratch("bad_tar");
  std::ofstream(bad / "cifar-10-python.tar.gz", std::ios::binary) << std::string(1024, 'x');
  e = error_of([&] { ds::cifar10::load_data({.dir = bad}); });
  EXPECT_TRUE(has(e, (bad / "cifar-10-python.tar.gz").string())) << e;
}

// --- BMP -----------------------------------------------------------------------------------

namespace {

void put16(std::string& b, std::uint32_t v) {
  b += static_cast<char>(v & 0xff);
  b += static_cast<char>((v >> 8) & 0xff);
}
void put32(std::string& b, std::uint32_t v) {
  put16(b, v & 0xffff);
  put16(b, v >> 16);
}

// A bottom-up BI_RGB BMP of `bits` 24 or 8 (a 256-entry gray-ramp palette... any palette).
std::string bmp(int w, int h, int bits,
                const std::function<std::array<std::uint8_t, 3>(int, int)>& rgb) {
  const int row = ((w * bits / 8) + 3) / 4 * 4;
  const std::uint32_t palette = bits == 8 ? 256 * 4 : 0;
  std::string b = "BM";
  put32(b, 54 + palette + static_cast<std::uint32_t>(row * h));
  put32(b, 0);
  put32(b, 54 + palette);
  put32(b, 40);
  put32(b, static_cast<std::uint32_t>(w));
  put32(b, static_cast<std::uint32_t>(h));
  put16(b, 1);
  put16(b, static_cast<std::uint32_t>(bits));
  put32(b, 0);
  put32(b, static_cast<std::uint32_t>(row * h));
  put32(b, 2835);
  put32(b, 2835);
  put32(b, bits == 8 ? 256 : 0);
  put32(b, 0);
  for (std::uint32_t i = 0; i < palette / 4; ++i) {  // B, G, R, 0: entry i is (i, 255 - i, i / 2)
    b += static_cast<char>(i / 2);
    b += static_cast<char>(255 - i);
    b += static_cast<char>(i);
    b += '\0';
  }
  for (int y = h - 1; y >= 0; --y) {
    std::string line;
    for (int x = 0; x < w; ++x) {
      const auto c = rgb(x, y);
      if (bits == 24) {
        line += static_cast<char>(c[2]);
        line += static_cast<char>(c[1]);
        line += static_cast<char>(c[0]);
      } else {
        line += static_cast<char>(c[0]);  // the palette index
      }
    }
    line.resize(static_cast<std::size_t>(row), '\0');
    b += line;
  }
  return b;
}

}  // namespace

TEST(BmpImages, DecodedAsKerasReadsThem) {
  auto color = [](int x, int y) {
    return std::array<std::uint8_t, 3>{static_cast<std::uint8_t>(10 * x),
                                       static_cast<std::uint8_t>(20 * y),
                                       static_cast<std::uint8_t>(x + y)};
  };
  const std::string b24 = bmp(5, 3, 24, color);
  const px::utils::Image img = px::utils::decode_image(
      reinterpret_cast<const std::uint8_t*>(b24.data()), b24.size(), "a.bmp");
  ASSERT_EQ(img.width, 5u);
  ASSERT_EQ(img.height, 3u);
  ASSERT_EQ(img.channels, 3u);
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 5; ++x) {
      const auto c = color(x, y);
      for (int k = 0; k < 3; ++k) {
        EXPECT_EQ(img.pixels[static_cast<std::size_t>((y * 5 + x) * 3 + k)],
                  c[static_cast<std::size_t>(k)])
            << x << "," << y;
      }
    }
  }
  // 8-bit palette: expanded to RGB.
  const std::string b8 = bmp(3, 2, 8, [](int x, int y) {
    return std::array<std::uint8_t, 3>{static_cast<std::uint8_t>(x * 50 + y), 0, 0};
  });
  const fs::path dir = scratch("bmp");
  std::ofstream(dir / "p.bmp", std::ios::binary) << b8;
  const px::utils::Image pal = px::utils::load_img(dir / "p.bmp");
  ASSERT_EQ(pal.channels, 3u);
  const std::size_t at = (1 * 3 + 2) * 3;  // y = 1, x = 2: palette entry 101
  EXPECT_EQ(pal.pixels[at], 101);
  EXPECT_EQ(pal.pixels[at + 1], 255 - 101);
  EXPECT_EQ(pal.pixels[at + 2], 101 / 2);
  // Grayscale, as the other formats: ITU-R 601 weights.
  const px::utils::Image gray = px::utils::load_img(dir / "p.bmp", {.color_mode = "grayscale"});
  EXPECT_EQ(gray.channels, 1u);
  EXPECT_EQ(gray.pixels[1 * 3 + 2],
            static_cast<std::uint8_t>(0.299f * 101 + 0.587f * 154 + 0.114f * 50 + 0.5f));
  // In an image folder.
  fs::create_directories(dir / "folder" / "a");
  fs::create_directories(dir / "folder" / "b");
  std::ofstream(dir / "folder" / "a" / "x.bmp", std::ios::binary) << b24;
  std::ofstream(dir / "folder" / "b" / "y.bmp", std::ios::binary) << b24;
  auto data = px::utils::image_dataset_from_directory(
      dir / "folder",
      {.batch_size = 2, .image_size = {{3, 5}}, .shuffle = false, .verbose = false});
  std::size_t n = 0;
  for (const px::StepData& batch : data) n += batch.x.at(0).shape()[0];
  EXPECT_EQ(n, 2u);
}

TEST(BmpImages, CorruptOrTruncatedIsAnErrorNamingTheFile) {
  const std::string good = bmp(4, 4, 24, [](int, int) {
    return std::array<std::uint8_t, 3>{1, 2, 3};
  });
  const fs::path dir = scratch("bmp_bad");
  for (std::size_t cut : {std::size_t{2}, std::size_t{20}, std::size_t{53}, good.size() - 5}) {
    std::ofstream(dir / "t.bmp", std::ios::binary) << good.substr(0, cut);
    const std::string e = error_of([&] { px::utils::load_img(dir / "t.bmp"); });
    EXPECT_TRUE(has(e, (dir / "t.bmp").string())) << cut << ": " << e;
  }
  std::string huge = good;
  huge[18] = '\xff';  // width 2^31 - 1 ...
  huge[19] = '\xff';
  huge[20] = '\xff';
  huge[21] = '\x7f';
  std::ofstream(dir / "h.bmp", std::ios::binary) << huge;
  const std::string e = error_of([&] { px::utils::load_img(dir / "h.bmp"); });
  EXPECT_TRUE(has(e, (dir / "h.bmp").string()) && has(e, "BMP")) << e;
}
