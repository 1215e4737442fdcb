// Keras masks on symbolic tensors: a mask [batch, timesteps] (1 = keep the step, 0 = skip)
// rides along with the tensor a layer outputs, as Keras's `_keras_mask` does. Producers:
// Embedding(mask_zero = true) and Masking; consumers: the recurrent layers (which skip
// masked steps and pass the mask on with return_sequences). Layers that know nothing of
// masks drop them, as Keras layers without supports_masking do.
#pragma once

#include "graph/symbolic.hpp"

namespace plexus::masking {

// Attaches `mask` ([batch, timesteps], float 0/1) to x. An undefined mask removes x's.
void set_mask(const SymbolicTensor& x, const SymbolicTensor& mask);
// The mask attached to x, or an undefined tensor when x carries none.
SymbolicTensor mask_of(const SymbolicTensor& x);

}  // namespace plexus::masking
