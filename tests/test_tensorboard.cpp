// The TensorBoard callback's event files, read back as TensorBoard reads them: TFRecord
// framing (length, masked CRC-32C of the length, data, masked CRC-32C of the data), then
// each record decoded as a tensorflow.Event with the field numbers of event.proto and
// summary.proto (Event: wall_time 1, step 2, file_version 3, summary 5; Summary: value 1;
// Summary.Value: tag 1, simple_value 2, histo 5, tensor 8, metadata 9; HistogramProto: min 1,
// max 2, num 3, sum 4, sum_squares 5, bucket_limit 6, bucket 7; SummaryMetadata: plugin_data 1
// { plugin_name 1, content 2 }; TensorProto: dtype 1, string_val 8).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <plexus.hpp>
#include <string>
#include <vector>

#include "optim/tensorboard.hpp"

namespace px = plexus;
namespace fs = std::filesystem;
using px::Tensor;

namespace {

// --- a protobuf wire-format reader -------------------------------------------------------------

struct Field {
  int number = 0;
  int wire_type = 0;
  std::uint64_t varint = 0;  // wire type 0
  std::string bytes;         // wire types 1, 2, 5 (raw)
};

std::vector<Field> parse_message(const std::string& s) {
  std::vector<Field> out;
  std::size_t i = 0;
  const auto varint = [&]() {
    std::uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      if (i >= s.size()) throw std::runtime_error("truncated varint");
      const auto b = static_cast<unsigned char>(s[i++]);
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) break;
    }
    return v;
  };
  while (i < s.size()) {
    Field f;
    const std::uint64_t key = varint();
    f.number = static_cast<int>(key >> 3);
    f.wire_type = static_cast<int>(key & 7);
    std::size_t n = 0;
    switch (f.wire_type) {
      case 0:
        f.varint = varint();
        break;
      case 1:
        n = 8;
        break;
      case 2:
        n = varint();
        break;
      case 5:
        n = 4;
        break;
      default:
        throw std::runtime_error("unexpected wire type " + std::to_string(f.wire_type));
    }
    if (f.wire_type != 0) {
      if (i + n > s.size()) throw std::runtime_error("truncated field");
      f.bytes = s.substr(i, n);
      i += n;
    }
    out.push_back(std::move(f));
  }
  return out;
}

template <typename T>
T fixed(const std::string& b) {
  T v;
  EXPECT_EQ(b.size(), sizeof(T));
  std::memcpy(&v, b.data(), sizeof(T));
  return v;
}

const Field* find(const std::vector<Field>& fields, int number) {
  for (const auto& f : fields)
    if (f.number == number) return &f;
  return nullptr;
}

std::vector<double> packed_doubles(const std::string& b) {
  std::vector<double> out(b.size() / 8);
  std::memcpy(out.data(), b.data(), out.size() * 8);
  return out;
}

// --- TFRecord reader -----------------------------------------------------------------------------

std::vector<std::string> read_records(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < all.size()) {
    EXPECT_LE(i + 12, all.size()) << "truncated record header";
    if (i + 12 > all.size()) break;
    const std::string len_bytes = all.substr(i, 8);
    const auto len = fixed<std::uint64_t>(len_bytes);
    EXPECT_EQ(fixed<std::uint32_t>(all.substr(i + 8, 4)),
              px::callbacks::tensorboard::masked_crc32c(len_bytes));
    EXPECT_LE(i + 12 + len + 4, all.size()) << "truncated record";
    if (i + 12 + len + 4 > all.size()) break;
    const std::string data = all.substr(i + 12, len);
    EXPECT_EQ(fixed<std::uint32_t>(all.substr(i + 12 + len, 4)),
              px::callbacks::tensorboard::masked_crc32c(data));
    out.push_back(data);
    i += 12 + len + 4;
  }
  return out;
}

struct Scalar {
  std::int64_t step;
  float value;
};
struct Histogram {
  std::int64_t step;
  double min, max, num, sum, sum_squares;
  std::vector<double> limits, counts;
};
struct EventFile {
  std::string file_version;
  std::map<std::string, std::vector<Scalar>> scalars;
  std::map<std::string, std::vector<Histogram>> histograms;
  std::string keras_json, keras_plugin;
};

EventFile read_events(const fs::path& path) {
  EventFile f;
  for (const std::string& record : read_records(path)) {
    const auto event = parse_message(record);
    const Field* wall = find(event, 1);
    EXPECT_TRUE(wall && wall->wire_type == 1 && fixed<double>(wall->bytes) > 1.6e9);
    const Field* step_field = find(event, 2);
    const std::int64_t step = step_field ? static_cast<std::int64_t>(step_field->varint) : 0;
    if (const Field* v = find(event, 3)) f.file_version = v->bytes;
    const Field* summary = find(event, 5);
    if (!summary) continue;
    for (const Field& value_field : parse_message(summary->bytes)) {
      EXPECT_EQ(value_field.number, 1);  // Summary.value
      const auto value = parse_message(value_field.bytes);
      const std::string tag = find(value, 1)->bytes;
      if (const Field* simple = find(value, 2)) {
        EXPECT_EQ(simple->wire_type, 5);
        f.scalars[tag].push_back({step, fixed<float>(simple->bytes)});
      } else if (const Field* histo = find(value, 5)) {
        const auto h = parse_message(histo->bytes);
        f.histograms[tag].push_back(
            {step, fixed<double>(find(h, 1)->bytes), fixed<double>(find(h, 2)->bytes),
             fixed<double>(find(h, 3)->bytes), fixed<double>(find(h, 4)->bytes),
             fixed<double>(find(h, 5)->bytes), packed_doubles(find(h, 6)->bytes),
             packed_doubles(find(h, 7)->bytes)});
      } else if (const Field* tensor = find(value, 8)) {
        const auto t = parse_message(tensor->bytes);
        EXPECT_EQ(find(t, 1)->varint, 7u);  // DT_STRING
        f.keras_json = find(t, 8)->bytes;
        const auto metadata = parse_message(find(value, 9)->bytes);
        const auto plugin = parse_message(find(metadata, 1)->bytes);
        f.keras_plugin = find(plugin, 1)->bytes;
      }
    }
  }
  return f;
}

fs::path only_file(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  EXPECT_EQ(files.size(), 1u) << dir;
  return files.empty() ? fs::path() : files[0];
}

}  // namespace

TEST(TensorBoard, Crc32cIsCastagnolis) {
  // The check value of CRC-32C and RFC 3720's test vectors.
  EXPECT_EQ(px::callbacks::tensorboard::crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(px::callbacks::tensorboard::crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(px::callbacks::tensorboard::crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  const std::uint32_t c = px::callbacks::tensorboard::crc32c("abc");
  EXPECT_EQ(px::callbacks::tensorboard::masked_crc32c("abc"),
            ((c >> 15) | (c << 17)) + 0xA282EAD8u);
}

TEST(TensorBoard, WritesEpochAndBatchScalarsHistogramsAndTheKerasGraph) {
  const fs::path dir = fs::temp_directory_path() / "plexus_tensorboard_test";
  fs::remove_all(dir);
  px::utils::set_random_seed(5);
  auto x = px::Input({3});
  auto h = px::layers::Dense(4, {.activation = "relu", .name = "hidden"})(x);
  px::Model model(x, px::layers::Dense(1, {.name = "out"})(h), "tb_model");
  model.compile(px::optim::SGD({.learning_rate = 0.05}), "mse", {"mae"});
  Tensor xs = Tensor::from_shape({20, 3}), ys = Tensor::from_shape({20, 1});
  for (std::size_t i = 0; i < xs.size(); ++i) xs.data()[i] = std::sin(0.7f * float(i));
  for (std::size_t i = 0; i < ys.size(); ++i) ys.data()[i] = std::cos(0.3f * float(i));

  auto tb = std::make_shared<px::callbacks::TensorBoard>(px::callbacks::TensorBoardOptions{
      .log_dir = dir.string(), .histogram_freq = 1, .update_freq = 2});
  const px::History hist = model.fit(xs, ys,
                                     {.epochs = 3,
                                      .batch_size = 5,
                                      .validation_split = 0.2,
                                      .shuffle = false,
                                      .verbose = 0,
                                      .callbacks = {tb}});

  const EventFile train = read_events(only_file(dir / "train"));
  const EventFile val = read_events(only_file(dir / "validation"));
  EXPECT_EQ(train.file_version, "brain.Event:2");
  EXPECT_EQ(val.file_version, "brain.Event:2");
  // Epoch scalars equal the History, at steps 0, 1, 2.
  for (const char* name : {"loss", "mae"}) {
    SCOPED_TRACE(name);
    const auto& s = train.scalars.at(std::string("epoch_") + name);
    const auto& v = val.scalars.at(std::string("epoch_") + name);
    ASSERT_EQ(s.size(), 3u);
    ASSERT_EQ(v.size(), 3u);
    for (int e = 0; e < 3; ++e) {
      EXPECT_EQ(s[e].step, e);
      EXPECT_FLOAT_EQ(s[e].value, static_cast<float>(hist.history.at(name)[e]));
      EXPECT_FLOAT_EQ(v[e].value,
                      static_cast<float>(hist.history.at(std::string("val_") + name)[e]));
    }
  }
  EXPECT_FLOAT_EQ(train.scalars.at("epoch_learning_rate").at(0).value, 0.05f);
  EXPECT_FALSE(train.scalars.count("epoch_val_loss"));
  // 16 training samples in batches of 5: 4 batches an epoch, 12 in all; every 2nd is logged.
  const auto& batches = train.scalars.at("batch_loss");
  ASSERT_EQ(batches.size(), 6u);
  for (std::size_t i = 0; i < batches.size(); ++i) EXPECT_EQ(batches[i].step, 2 * (i + 1));
  // A histogram of every weight every epoch, summarising its values.
  ASSERT_EQ(train.histograms.size(), model.weights().size());
  for (const auto& w : model.weights()) {
    const auto& hs = train.histograms.at(w.data()->path + "/histogram");
    ASSERT_EQ(hs.size(), 3u);
    const Histogram& last = hs.back();
    EXPECT_EQ(last.step, 2);
    const Tensor& value = w.data()->value;
    double sum = 0.0, lo = INFINITY, hi = -INFINITY;
    for (std::size_t i = 0; i < value.size(); ++i) {
      sum += value.data()[i];
      lo = std::min(lo, double(value.data()[i]));
      hi = std::max(hi, double(value.data()[i]));
    }
    EXPECT_EQ(last.num, static_cast<double>(value.size()));
    EXPECT_NEAR(last.sum, sum, 1e-6);
    EXPECT_EQ(last.min, lo);
    EXPECT_EQ(last.max, hi);
    double counted = 0.0;
    for (double c : last.counts) counted += c;
    EXPECT_EQ(counted, last.num);
    ASSERT_EQ(last.limits.size(), last.counts.size());
    for (std::size_t b = 1; b < last.limits.size(); ++b)
      EXPECT_GT(last.limits[b], last.limits[b - 1]);
    EXPECT_GE(last.limits.back(), hi);  // hi, or hi + 0.5 for a constant tensor
  }
  // The Keras model JSON for the graph_keras_model plugin.
  EXPECT_EQ(train.keras_plugin, "graph_keras_model");
  EXPECT_EQ(train.keras_json, model.to_json());
  EXPECT_NE(train.keras_json.find("hidden"), std::string::npos);
  fs::remove_all(dir);
}

TEST(TensorBoard, OptionsAreChecked) {
  EXPECT_THROW(px::callbacks::TensorBoard({.histogram_freq = -1}), px::Error);
  EXPECT_THROW(px::callbacks::TensorBoard({.update_freq = "weekly"}), px::Error);
  EXPECT_THROW(px::callbacks::TensorBoard({.update_freq = 0}), px::Error);
  EXPECT_EQ(px::callbacks::TensorBoard({.update_freq = "batch"}).options().update_freq.batches, 1);
  EXPECT_EQ(px::callbacks::TensorBoard().options().log_dir, "logs");
}
