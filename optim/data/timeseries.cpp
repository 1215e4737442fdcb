// px::utils::timeseries_dataset_from_array (Keras's keras/src/utils/timeseries_dataset_utils.py)
// and pad_sequences (keras/src/utils/sequence_utils.py).
#include <algorithm>
#include <numeric>
#include <random>

#include "core/error.hpp"
#include "core/random.hpp"
#include "optim/data/detail/files.hpp"
#include "optim/data/detail/node.hpp"
#include "optim/data/utils.hpp"

namespace plexus::utils {

data::Dataset timeseries_dataset_from_array(const Tensor& data, std::optional<Tensor> targets,
                                            std::ptrdiff_t sequence_length, TimeseriesOptions o) {
  const char* fn = "timeseries_dataset_from_array";
  if (data.dimension() == 0) throw Error("{}: data is a scalar; axis 0 must be time", fn);
  const auto len = static_cast<std::ptrdiff_t>(data.shape()[0]);
  // Keras's checks, with its messages (`if start_index:` skips 0, as Python's truthiness).
  if (o.start_index && *o.start_index != 0) {
    if (*o.start_index < 0) {
      throw Error("{}: `start_index` must be 0 or greater. Received: start_index={}", fn,
                  *o.start_index);
    }
    if (*o.start_index >= len) {
      throw Error(
          "{}: `start_index` must be lower than the length of the data. Received: "
          "start_index={}, for data of length {}",
          fn, *o.start_index, len);
    }
  }
  if (o.end_index && *o.end_index != 0) {
    if (o.start_index && *o.start_index != 0 && *o.end_index <= *o.start_index) {
      throw Error(
          "{}: `end_index` must be higher than `start_index`. Received: start_index={}, and "
          "end_index={}",
          fn, *o.start_index, *o.end_index);
    }
    if (*o.end_index >= len) {
      throw Error(
          "{}: `end_index` must be lower than the length of the data. Received: end_index={}, "
          "for data of length {}",
          fn, *o.end_index, len);
    }
    if (*o.end_index <= 0) {
      throw Error("{}: `end_index` must be higher than 0. Received: end_index={}", fn,
                  *o.end_index);
    }
  }
  if (o.sampling_rate <= 0) {
    throw Error("{}: `sampling_rate` must be higher than 0. Received: sampling_rate={}", fn,
                o.sampling_rate);
  }
  if (o.sampling_rate >= len) {
    throw Error(
        "{}: `sampling_rate` must be lower than the length of the data. Received: "
        "sampling_rate={}, for data of length {}",
        fn, o.sampling_rate, len);
  }
  if (o.sequence_stride <= 0) {
    throw Error("{}: `sequence_stride` must be higher than 0. Received: sequence_stride={}", fn,
                o.sequence_stride);
  }
  if (o.sequence_stride >= len) {
    throw Error(
        "{}: `sequence_stride` must be lower than the length of the data. Received: "
        "sequence_stride={}, for data of length {}",
        fn, o.sequence_stride, len);
  }
  if (sequence_length <= 0) {
    throw Error("{}: sequence_length must be positive, received {}", fn, sequence_length);
  }
  if (o.batch_size && *o.batch_size <= 0) {
    throw Error("{}: batch_size must be positive (or std::nullopt), received {}", fn,
                *o.batch_size);
  }
  if (targets && targets->dimension() == 0) {
    throw Error("{}: targets is a scalar; axis 0 must be time", fn);
  }

  const std::ptrdiff_t start = o.start_index.value_or(0);
  const std::ptrdiff_t end = o.end_index.value_or(len);
  std::ptrdiff_t num_seqs = end - start - (sequence_length - 1) * o.sampling_rate;
  if (targets) {
    num_seqs = std::min(num_seqs, static_cast<std::ptrdiff_t>(targets->shape()[0]));
  }
  // np.arange(0, num_seqs, sequence_stride)
  auto positions = std::make_shared<std::vector<std::size_t>>();
  for (std::ptrdiff_t p = 0; p < num_seqs; p += o.sequence_stride) {
    positions->push_back(static_cast<std::size_t>(p));
  }
  std::uint64_t seed = 0;
  if (o.shuffle) {
    seed = o.seed ? *o.seed : std::uniform_int_distribution<std::uint64_t>(0, 999999)(generator());
    detail::numpy_shuffle(*positions, seed);
  }

  // Element i: the window at start + positions[i], and its target.
  auto d = std::make_shared<const Tensor>(data);
  std::shared_ptr<const Tensor> t =
      targets ? std::make_shared<const Tensor>(std::move(*targets)) : nullptr;
  const std::size_t row = data.size() / data.shape()[0];
  std::vector<std::size_t> window_shape{static_cast<std::size_t>(sequence_length)};
  window_shape.insert(window_shape.end(), data.shape().begin() + 1, data.shape().end());
  const auto rate = static_cast<std::size_t>(o.sampling_rate);
  const auto first = static_cast<std::size_t>(start);
  data::detail::IndexedSource src;
  src.count = positions->size();
  src.get = [=](std::size_t i) {
    const std::size_t p = first + (*positions)[i];
    StepData e;
    Tensor w = Tensor::from_shape(window_shape);
    for (std::size_t k = 0; k < static_cast<std::size_t>(window_shape[0]); ++k) {
      std::copy_n(d->data() + (p + k * rate) * row, row, w.data() + k * row);
    }
    e.x.push_back(std::move(w));
    if (t) {
      std::vector<std::size_t> ts(t->shape().begin() + 1, t->shape().end());
      Tensor y = Tensor::from_shape(ts);
      std::copy_n(t->data() + p * y.size(), y.size(), y.data());
      e.y.push_back(std::move(y));
    }
    return e;
  };
  data::Dataset ds = data::detail::make_indexed(std::move(src));
  if (o.batch_size) {
    if (o.shuffle) ds = ds.shuffle(static_cast<std::size_t>(*o.batch_size) * 8, seed);
    return ds.batch(static_cast<std::size_t>(*o.batch_size));
  }
  if (o.shuffle) ds = ds.shuffle(1024, seed);
  return ds;
}

Tensor pad_sequences(const std::vector<std::vector<float>>& sequences, PadSequencesOptions o) {
  if (o.padding != "pre" && o.padding != "post") {
    throw Error("pad_sequences: padding must be \"pre\" or \"post\", received \"{}\"", o.padding);
  }
  if (o.truncating != "pre" && o.truncating != "post") {
    throw Error("pad_sequences: truncating must be \"pre\" or \"post\", received \"{}\"",
                o.truncating);
  }
  std::size_t maxlen = 0;
  if (o.maxlen) {
    maxlen = *o.maxlen;
  } else {
    for (auto& s : sequences) maxlen = std::max(maxlen, s.size());
  }
  Tensor out = Tensor::from_shape({sequences.size(), maxlen});
  out.fill(o.value);
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    const auto& s = sequences[i];
    if (s.empty()) continue;  // Keras: an empty sequence stays all padding
    const std::size_t keep = std::min(s.size(), maxlen);
    const float* from = o.truncating == "pre" ? s.data() + (s.size() - keep) : s.data();
    float* to = out.data() + i * maxlen + (o.padding == "post" ? 0 : maxlen - keep);
    std::copy_n(from, keep, to);
  }
  return out;
}

}  // namespace plexus::utils
