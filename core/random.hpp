// One random generator that every random use in plexus draws from (initializers,
// shuffling, dropout), so the same seed gives the same numbers.
#pragma once

#include <cstdint>
#include <random>

namespace plexus {

using Generator = std::mt19937_64;

// The library-wide generator.
Generator& generator();

// Mixed into the seed of each dropout mask: 0 in a one-process run and on process 0;
// distinct on the other processes of a data-parallel run (optim/distribution.hpp), so that
// each process draws its own masks while the shared generator stays in step everywhere.
std::uint64_t& process_stream_salt();

namespace utils {
// Seeds the library-wide generator (Keras: keras.utils.set_random_seed).
void set_random_seed(std::uint64_t seed);
}  // namespace utils

}  // namespace plexus
