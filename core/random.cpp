#include "core/random.hpp"

namespace plexus {

Generator& generator() {
  static Generator gen(1337);
  return gen;
}

std::uint64_t& process_stream_salt() {
  static std::uint64_t salt = 0;
  return salt;
}

namespace utils {
void set_random_seed(std::uint64_t seed) { generator().seed(seed); }
}  // namespace utils

}  // namespace plexus
