// One random generator that every random use in plexus draws from (initializers,
// shuffling, dropout), so the same seed gives the same numbers.
#pragma once

#include <cstdint>
#include <random>

namespace plexus {

using Generator = std::mt19937_64;

// The library-wide generator.
Generator& generator();

namespace utils {
// Seeds the library-wide generator (Keras: keras.utils.set_random_seed).
void set_random_seed(std::uint64_t seed);
}  // namespace utils

}  // namespace plexus
