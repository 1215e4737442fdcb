// Stateful recurrent layers: a long sequence fed in pieces, the state carried between calls.
#include <cstdio>
#include <plexus.hpp>

namespace px = plexus;
namespace kw = px::kw;

int main() {
  px::utils::set_random_seed(5);
  // stateful = true needs a static batch size on the Input (Keras's batch_size): the layer
  // keeps one state row per sample, [4, 8] here.
  auto chunk = px::Input({10, 3}, {.batch_size = 4});
  auto lstm = px::layers::LSTM(8, kw::stateful = true);
  px::Model streaming(chunk, lstm(chunk));

  // The same layer without state, on the whole 20-step sequences.
  auto whole_in = px::Input({20, 3});
  px::Model whole(whole_in, px::layers::LSTM(8)(whole_in));
  whole.set_weights(streaming.get_weights());  // the states are not weights

  px::Tensor x = xt::random::randn<float>({4, 20, 3});
  px::Tensor first = xt::view(x, xt::all(), xt::range(0, 10), xt::all());
  px::Tensor second = xt::view(x, xt::all(), xt::range(10, 20), xt::all());
  streaming.predict(first, {.batch_size = 4});  // keeps the final states
  px::Tensor carried = streaming.predict(second, {.batch_size = 4});
  const float diff = xt::amax(xt::abs(carried - whole.predict(x)))();
  std::printf("two chunks vs the whole sequence: max |diff| = %g\n", diff);

  // reset_states() (Keras 3: reset_state()) starts the next call from zeros.
  lstm->reset_states();
  px::Tensor fresh = streaming.predict(second, {.batch_size = 4});
  std::printf("after reset_states, differs from the carried run: %d\n", !(fresh == carried));
  return diff < 1e-5f && !(fresh == carried) ? 0 : 1;
}
