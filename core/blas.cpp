#include "core/blas.hpp"

#include <cstdlib>
#include <cstring>
#include <mutex>

// OpenBLAS entry points, declared weak so plexus still links against another BLAS.
extern "C" {
const char* openblas_get_corename(void) __attribute__((weak));
void gotoblas_dynamic_init(void) __attribute__((weak));
void gotoblas_dynamic_quit(void) __attribute__((weak));
void openblas_set_num_threads(int) __attribute__((weak));
int openblas_get_num_threads(void) __attribute__((weak));
}

namespace plexus::blas {

void ensure_cpu_kernels() {
  static std::once_flag once;
  std::call_once(once, [] {
    // One BLAS thread unless the user asked for more: the products of a training step are
    // small (32 x 784 x 64), and OpenBLAS's threads cost more to wake than they save —
    // far more on a loaded 2-core machine, where they spin against other processes.
    if (std::getenv("OPENBLAS_NUM_THREADS") == nullptr &&
        std::getenv("OMP_NUM_THREADS") == nullptr && openblas_set_num_threads) {
      openblas_set_num_threads(1);
    }
    if (!openblas_get_corename || !gotoblas_dynamic_init || !gotoblas_dynamic_quit) return;
    if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;  // the user's choice stands
    const char* core = openblas_get_corename();
    if (core == nullptr || std::strcmp(core, "Prescott") != 0) return;
    __builtin_cpu_init();
    const char* better = nullptr;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl")) {
      better = "SkylakeX";
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
      better = "Haswell";
    }
    if (better == nullptr) return;
    // gotoblas_dynamic_init() reads OPENBLAS_CORETYPE; quit() forgets the first choice.
    // No GEMM has run yet, so no buffer was sized for the old kernels.
    setenv("OPENBLAS_CORETYPE", better, 0);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
  });
}

std::string description() {
  if (!openblas_get_corename) return "unknown BLAS";
  return std::string("OpenBLAS ") + openblas_get_corename();
}

void set_num_threads(int threads) {
  if (threads > 0 && openblas_set_num_threads) openblas_set_num_threads(threads);
}

int num_threads() { return openblas_get_num_threads ? openblas_get_num_threads() : 1; }

}  // namespace plexus::blas
