// libFuzzer target: the restricted unpickler of Keras's built-in data sets (CIFAR batches,
// the object arrays of IMDB's and Reuters's .npz), then what the loaders read from its
// result (a dict's "data" and "labels", arrays as integers, lists of sequences). A malformed
// or hostile pickle must be a px::Error, never a crash, a leak, a hang or a huge allocation.
// Seeds: tests/fuzz/corpus/keras_pickle (a CIFAR batch, an IMDB object array's pickle).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "optim/data/detail/pickle.hpp"

namespace d = plexus::datasets::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const std::string what = "fuzz input";
    const d::Unpickled u =
        d::unpickle(std::string_view(reinterpret_cast<const char*>(data), size), what);
    if (!u.root) __builtin_trap();
    std::size_t sink = 0;
    auto visit = [&](const d::PyValue& v) {
      if (v.kind == d::PyValue::kArray && v.built) {
        if (v.dtype->dtype_kind == 'O') {
          for (const d::PyValue* x : v.data->items) sink += d::int_sequence(*x, what).size();
        } else {
          sink += d::array_ints(v, what).size();
        }
      } else if (v.kind == d::PyValue::kList || v.kind == d::PyValue::kTuple) {
        sink += d::int_sequence(v, what).size();
      }
    };
    if (const d::PyValue* x = u.root->get("data")) visit(*x);
    if (const d::PyValue* y = u.root->get("labels")) visit(*y);
    visit(*u.root);
    volatile std::size_t keep = sink;
    (void)keep;
  } catch (const plexus::Error&) {
    // A clear error is the expected outcome for a bad file.
  }
  return 0;
}
