// px::random: random ops with Keras 3's SeedGenerator semantics (keras.random).
//
//   px::random::SeedGenerator seed_gen(1337);             // Keras's SeedGenerator(seed=1337)
//   auto eps = px::random::normal(z_mean, 0.0f, 1.0f, seed_gen);  // shape of z_mean (symbolic)
//   Tensor noise = px::random::normal({64, 128});         // eager: a concrete shape
//
// A SeedGenerator holds a seed and a counter; every draw (each run of a symbolic op, each
// eager call) takes the next counter value, so two draws differ and the sequence is the
// same for the same seed. Without a seed generator a draw takes its key from the library
// generator (plexus::generator()), so utils::set_random_seed makes it reproducible too.
// A SeedGenerator without a seed takes its seed from the library generator when made.
// Under data-parallel training each process's key is salted (process_stream_salt()), so
// processes draw different numbers (each its own rows' noise).
//
// The symbolic forms take a tensor whose shape the result has (the batch dimension is
// known only when the graph runs: Keras's `normal(shape=ops.shape(z_mean))`); they work in
// layers' call(), models and px::value_and_grad functions, and have no gradient with
// respect to that tensor (dropout's is the kept mask's).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "core/tensor.hpp"
#include "graph/symbolic.hpp"

namespace plexus::random {

class SeedGenerator {
 public:
  // seed: Keras's SeedGenerator(seed); none: one drawn from the library generator.
  explicit SeedGenerator(std::optional<std::uint64_t> seed = std::nullopt);
  // The key of the next draw (the counter advances; copies share the state, as Keras's
  // seed generator variable is shared by every op using it).
  std::uint64_t next();
  std::uint64_t seed() const;
  std::uint64_t counter() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// A draw's seed: a SeedGenerator, or none (the library generator).
using Seed = std::optional<SeedGenerator>;

// --- symbolic: a tensor of `like`'s shape ---------------------------------------------------
SymbolicTensor normal(const SymbolicTensor& like, float mean = 0.0f, float stddev = 1.0f,
                      Seed seed = std::nullopt);
SymbolicTensor uniform(const SymbolicTensor& like, float minval = 0.0f, float maxval = 1.0f,
                       Seed seed = std::nullopt);
// Normal values more than two standard deviations from the mean are redrawn (Keras).
SymbolicTensor truncated_normal(const SymbolicTensor& like, float mean = 0.0f, float stddev = 1.0f,
                                Seed seed = std::nullopt);
// Integers in [minval, maxval) as floats.
SymbolicTensor randint(const SymbolicTensor& like, int minval, int maxval,
                       Seed seed = std::nullopt);
// x with each element zeroed with probability rate, the others scaled by 1 / (1 - rate)
// (keras.random.dropout: always applied, whatever the training flag).
SymbolicTensor dropout(const SymbolicTensor& x, float rate, Seed seed = std::nullopt);

// --- eager: concrete tensors -----------------------------------------------------------------
Tensor normal(const Shape& shape, float mean = 0.0f, float stddev = 1.0f, Seed seed = std::nullopt);
Tensor uniform(const Shape& shape, float minval = 0.0f, float maxval = 1.0f,
               Seed seed = std::nullopt);
Tensor truncated_normal(const Shape& shape, float mean = 0.0f, float stddev = 1.0f,
                        Seed seed = std::nullopt);
Tensor randint(const Shape& shape, int minval, int maxval, Seed seed = std::nullopt);
Tensor dropout(const Tensor& x, float rate, Seed seed = std::nullopt);
// Keras's categorical(logits, num_samples): logits (batch, classes) -> (batch, num_samples)
// class indices drawn from softmax(logits), as floats.
Tensor categorical(const Tensor& logits, int num_samples, Seed seed = std::nullopt);
// The rows of x (axis 0) in a random order (keras.random.shuffle, axis=0).
Tensor shuffle(const Tensor& x, Seed seed = std::nullopt);

}  // namespace plexus::random
