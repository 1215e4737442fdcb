#include "core/cpu.hpp"

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define PLEXUS_HAS_MXCSR 1
#endif

namespace plexus {

#ifdef PLEXUS_HAS_MXCSR
FlushDenormals::FlushDenormals() : saved_(_mm_getcsr()) {
  _mm_setcsr(saved_ | 0x8040u);  // FTZ (bit 15) | DAZ (bit 6)
}
FlushDenormals::~FlushDenormals() { _mm_setcsr(saved_); }
#else
FlushDenormals::FlushDenormals() = default;
FlushDenormals::~FlushDenormals() = default;
#endif

}  // namespace plexus
