// Keras masks on symbolic tensors: a mask [batch, timesteps] (1 = keep the step, 0 = skip)
// rides along with the tensor a layer outputs, as Keras's `_keras_mask` does. Producers:
// Embedding(mask_zero = true) and Masking; consumers: the recurrent layers (which skip
// masked steps and pass the mask on with return_sequences), GlobalAveragePooling1D (the
// mean over the unmasked steps), and compile(): the loss and the metrics of an output that
// carries a mask weight each step by it (Keras 3's compute_loss). Layers that keep the time
// axis and support masking in Keras pass the mask on (pass_on): Dense, Activation, Dropout,
// ReLU, LeakyReLU, PReLU, ELU, TimeDistributed. Other layers drop it, as Keras layers
// without supports_masking do.
#pragma once

#include "graph/symbolic.hpp"

namespace plexus::masking {

// Attaches `mask` ([batch, timesteps], float 0/1) to x. An undefined mask removes x's.
void set_mask(const SymbolicTensor& x, const SymbolicTensor& mask);
// The mask attached to x, or an undefined tensor when x carries none.
SymbolicTensor mask_of(const SymbolicTensor& x);
// Keras's default compute_mask: gives `out` the mask of `in` when `in` carries one and `out`
// still has in's time axis (rank >= 2, the same size of axis 1 when both are known).
void pass_on(const SymbolicTensor& in, const SymbolicTensor& out);

}  // namespace plexus::masking
