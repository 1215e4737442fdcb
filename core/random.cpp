#include "core/random.hpp"

namespace plexus {

Generator& generator() {
  static Generator gen(1337);
  return gen;
}

namespace utils {
void set_random_seed(std::uint64_t seed) { generator().seed(seed); }
}  // namespace utils

}  // namespace plexus
