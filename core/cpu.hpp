// CPU floating-point mode for numeric work.
#pragma once

namespace plexus {

// While alive, the calling thread flushes denormal floats to zero (FTZ and DAZ in MXCSR),
// as TensorFlow does for Keras. Tiny Adam moments and gradients otherwise become
// denormals, which are up to 100x slower on x86; the values involved (< 1.2e-38) make no
// difference to training. The previous mode is restored on destruction.
class FlushDenormals {
 public:
  FlushDenormals();
  ~FlushDenormals();
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
  unsigned saved_ = 0;
};

}  // namespace plexus
