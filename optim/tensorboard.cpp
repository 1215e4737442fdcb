// The TensorBoard callback: TFRecord files of tensorflow.Event messages, encoded here by
// hand in protobuf's wire format (field numbers from tensorflow/core/util/event.proto and
// tensorflow/core/framework/summary.proto, tensor.proto, tensor_shape.proto).
#include "optim/tensorboard.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/error.hpp"
#include "optim/model.hpp"
#include "optim/optimizers.hpp"

namespace plexus::callbacks {

namespace tensorboard {

namespace {
const std::array<std::uint32_t, 256>& crc_table() {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}
}  // namespace

std::uint32_t crc32c(std::string_view data) {
  const auto& table = crc_table();
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = table[(c ^ b) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::uint32_t masked_crc32c(std::string_view data) {
  const std::uint32_t c = crc32c(data);
  return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

}  // namespace tensorboard

namespace {

// --- protobuf wire format -------------------------------------------------------------------

class Proto {
 public:
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void key(int field, int wire_type) { varint(static_cast<std::uint64_t>(field) << 3 | wire_type); }
  void int64_field(int field, std::int64_t v) {
    key(field, 0);
    varint(static_cast<std::uint64_t>(v));
  }
  void double_field(int field, double v) {
    key(field, 1);
    fixed(v);
  }
  void float_field(int field, float v) {
    key(field, 5);
    fixed(v);
  }
  void bytes_field(int field, std::string_view s) {
    key(field, 2);
    varint(s.size());
    out_.append(s);
  }
  void message_field(int field, const Proto& m) { bytes_field(field, m.out_); }
  void packed_doubles(int field, const std::vector<double>& v) {
    Proto p;
    for (double d : v) p.fixed(d);
    bytes_field(field, p.out_);
  }
  const std::string& str() const { return out_; }

 private:
  template <typename T>
  void fixed(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));  // little-endian hosts (x86-64, aarch64)
    out_.append(b, sizeof(T));
  }
  std::string out_;
};

double wall_time() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

// Event { double wall_time = 1; int64 step = 2; oneof { string file_version = 3;
// Summary summary = 5; } }.
Proto event(std::int64_t step) {
  Proto e;
  e.double_field(1, wall_time());
  e.int64_field(2, step);
  return e;
}

// Summary.Value { string tag = 1; float simple_value = 2; HistogramProto histo = 5;
// TensorProto tensor = 8; SummaryMetadata metadata = 9; }.
Proto summary_of(const Proto& value) {
  Proto s;
  s.message_field(1, value);  // Summary { repeated Value value = 1; }
  return s;
}

}  // namespace

// --- the event file writer ----------------------------------------------------------------------

class TensorBoard::Writer {
 public:
  explicit Writer(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      throw Error("TensorBoard: cannot create the log directory {}: {}", dir.string(),
                  ec.message());
    }
    static std::atomic<int> counter{0};
    char host[256] = "localhost";
    gethostname(host, sizeof(host) - 1);
    path_ = (dir / fmt::format("events.out.tfevents.{}.{}.{}.{}.v2",
                               static_cast<std::int64_t>(wall_time()), host, getpid(), counter++))
                .string();
    out_.open(path_, std::ios::binary | std::ios::trunc);
    if (!out_) throw Error("TensorBoard: cannot write the event file {}", path_);
    Proto e = event(0);
    e.bytes_field(3, "brain.Event:2");  // file_version
    record(e.str());
  }

  void scalar(const std::string& tag, double value, std::int64_t step) {
    Proto v;
    v.bytes_field(1, tag);
    v.float_field(2, static_cast<float>(value));
    write_summary(v, step);
  }

  // HistogramProto { double min = 1; max = 2; num = 3; sum = 4; sum_squares = 5;
  // repeated double bucket_limit = 6 [packed]; repeated double bucket = 7 [packed]; }:
  // 30 equal-width buckets over [min, max], bucket_limit their right edges.
  void histogram(const std::string& tag, const float* data, std::size_t n, std::int64_t step) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0.0, sq = 0.0;
    std::size_t finite = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double x = data[i];
      if (!std::isfinite(x)) continue;
      ++finite;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      sum += x;
      sq += x * x;
    }
    if (finite == 0) lo = hi = 0.0;
    constexpr int kBuckets = 30;
    // A constant tensor gets the range [x - 0.5, x + 0.5], as TensorFlow's histograms.
    const double left = hi > lo ? lo : lo - 0.5, right = hi > lo ? hi : hi + 0.5;
    const double width = (right - left) / kBuckets;
    std::vector<double> limits, counts(kBuckets, 0.0);
    for (int b = 1; b <= kBuckets; ++b) limits.push_back(b == kBuckets ? right : left + b * width);
    for (std::size_t i = 0; i < n; ++i) {
      const double x = data[i];
      if (!std::isfinite(x)) continue;
      const int b = std::min(kBuckets - 1, static_cast<int>((x - left) / width));
      counts[std::max(0, b)] += 1.0;
    }
    Proto h;
    h.double_field(1, lo);
    h.double_field(2, hi);
    h.double_field(3, static_cast<double>(finite));
    h.double_field(4, sum);
    h.double_field(5, sq);
    h.packed_doubles(6, limits);
    h.packed_doubles(7, counts);
    Proto v;
    v.bytes_field(1, tag);
    v.message_field(5, h);
    write_summary(v, step);
  }

  // The model's Keras JSON for TensorBoard's graph_keras_model plugin: a string tensor
  // (TensorProto { DataType dtype = 1 (DT_STRING = 7); TensorShapeProto tensor_shape = 2;
  // repeated bytes string_val = 8; }) with metadata { plugin_data { plugin_name =
  // "graph_keras_model"; content = "1" } }.
  void keras_model(const std::string& json) {
    Proto plugin;
    plugin.bytes_field(1, "graph_keras_model");
    plugin.bytes_field(2, "1");
    Proto metadata;
    metadata.message_field(1, plugin);
    Proto tensor;
    tensor.int64_field(1, 7);
    tensor.message_field(2, Proto{});  // a scalar
    tensor.bytes_field(8, json);
    Proto v;
    v.bytes_field(1, "keras");
    v.message_field(8, tensor);
    v.message_field(9, metadata);
    write_summary(v, 0);
  }

  void flush() {
    out_.flush();
    if (!out_) throw Error("TensorBoard: writing {} failed", path_);
  }
  const std::string& path() const { return path_; }

 private:
  void write_summary(const Proto& value, std::int64_t step) {
    Proto e = event(step);
    e.message_field(5, summary_of(value));
    record(e.str());
  }
  // TFRecord: uint64 length, uint32 masked CRC of the length, data, uint32 masked CRC.
  void record(const std::string& data) {
    char len[8];
    const std::uint64_t n = data.size();
    std::memcpy(len, &n, 8);
    const std::uint32_t len_crc = tensorboard::masked_crc32c(std::string_view(len, 8));
    const std::uint32_t data_crc = tensorboard::masked_crc32c(data);
    out_.write(len, 8);
    out_.write(reinterpret_cast<const char*>(&len_crc), 4);
    out_.write(data.data(), static_cast<std::streamsize>(data.size()));
    out_.write(reinterpret_cast<const char*>(&data_crc), 4);
    if (!out_) throw Error("TensorBoard: writing {} failed", path_);
  }

  std::string path_;
  std::ofstream out_;
};

// --- the callback ---------------------------------------------------------------------------

UpdateFreq::UpdateFreq(std::string_view s) {
  if (s == "epoch") {
    batches = 0;
  } else if (s == "batch") {
    batches = 1;
  } else {
    throw Error(
        "TensorBoard: update_freq must be \"epoch\", \"batch\" or a number of batches, "
        "received \"{}\"",
        s);
  }
}

UpdateFreq::UpdateFreq(int n) : batches(n) {
  if (n < 1) throw Error("TensorBoard: update_freq must be >= 1 batches, received {}", n);
}

TensorBoard::TensorBoard(TensorBoardOptions options) : options_(std::move(options)) {
  if (options_.histogram_freq < 0) {
    throw Error("TensorBoard: histogram_freq must be >= 0, received {}", options_.histogram_freq);
  }
  if (options_.log_dir.empty()) throw Error("TensorBoard: log_dir is empty");
}

TensorBoard::~TensorBoard() = default;

TensorBoard::Writer& TensorBoard::train() {
  if (!train_) train_ = std::make_unique<Writer>(std::filesystem::path(options_.log_dir) / "train");
  return *train_;
}

TensorBoard::Writer& TensorBoard::validation() {
  if (!validation_) {
    validation_ = std::make_unique<Writer>(std::filesystem::path(options_.log_dir) / "validation");
  }
  return *validation_;
}

std::vector<std::string> TensorBoard::files() const {
  std::vector<std::string> out;
  if (train_) out.push_back(train_->path());
  if (validation_) out.push_back(validation_->path());
  return out;
}

void TensorBoard::on_train_begin(const Logs&) {
  train_.reset();
  validation_.reset();
  global_batch_ = 0;
  Writer& w = train();
  if (options_.write_graph) w.keras_model(model().to_json());
  w.flush();
}

void TensorBoard::on_train_end(const Logs&) {
  if (train_) train_->flush();
  if (validation_) validation_->flush();
  train_.reset();
  validation_.reset();
}

void TensorBoard::on_epoch_begin(int, const Logs&) {
  epoch_start_ = wall_time();
  epoch_batches_ = 0;
}

void TensorBoard::on_train_batch_begin(int, const Logs&) { ++global_batch_; }

void TensorBoard::on_train_batch_end(int, const Logs& logs) {
  ++epoch_batches_;
  const int freq = options_.update_freq.batches;
  if (freq == 0 || global_batch_ % freq != 0) return;
  Writer& w = train();
  for (const auto& [name, value] : logs) w.scalar("batch_" + name, value, global_batch_);
}

void TensorBoard::on_epoch_end(int epoch, Logs& logs) {
  Writer& w = train();
  bool any_validation = false;
  for (const auto& [name, value] : logs) {
    if (name.rfind("val_", 0) == 0) {
      any_validation = true;
      continue;
    }
    w.scalar("epoch_" + name, value, epoch);
  }
  if (!logs.count("learning_rate")) {
    w.scalar("epoch_learning_rate", model().optimizer().learning_rate(), epoch);
  }
  if (options_.write_steps_per_second) {
    const double seconds = wall_time() - epoch_start_;
    w.scalar("epoch_steps_per_second", seconds > 0 ? epoch_batches_ / seconds : 0.0, epoch);
  }
  if (any_validation) {
    Writer& v = validation();
    for (const auto& [name, value] : logs) {
      if (name.rfind("val_", 0) == 0) v.scalar("epoch_" + name.substr(4), value, epoch);
    }
    v.flush();
  }
  if (options_.histogram_freq > 0 && epoch % options_.histogram_freq == 0) {
    for (const auto& var : model().weights()) {
      const auto& d = *var.data();
      std::string tag = d.path.empty() ? d.name : d.path;
      std::replace(tag.begin(), tag.end(), ':', '_');
      w.histogram(tag + "/histogram", d.value.data(), d.value.size(), epoch);
    }
  }
  w.flush();
}

}  // namespace plexus::callbacks
