// TimeDistributed(layer): applies one layer (one set of weights) to every time step of a
// sequence, as Keras 3's wrapper does:
//   auto x = px::Input({-1, 16});                                   // [N, T, 16], any T
//   auto y = px::layers::TimeDistributed(px::layers::Dense(8))(x);  // [N, T, 8]
//   auto v = px::Input({10, 28, 28, 1});
//   auto f = px::layers::TimeDistributed(px::layers::Conv2D(4, 3))(v);  // [N, 10, 26, 26, 4]
// The steps are folded into the batch ([N * T, ...]), the layer runs once on all of them and
// the result is unfolded to [N, T, ...]; the features of each step must have a known shape.
// A mask on the input ([N, T]) is passed on to the output; the wrapped layer itself sees no
// mask (Keras hands a wrapped layer that accepts one the step's [N] slice; no plexus layer
// outside the recurrent ones reads a mask). Config: Keras's {"layer": <serialized layer>};
// weights are saved as Keras 3 saves them, under "<time_distributed>/layer/...".
#pragma once

#include <string>

#include "core/keywords.hpp"
#include "graph/layer.hpp"

namespace plexus::layers {

struct TimeDistributedOptions {
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

class TimeDistributedLayer : public Layer {
 public:
  TimeDistributedLayer(const LayerRef& layer, TimeDistributedOptions options);
  std::string class_name() const override { return "TimeDistributed"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  void build(const Shape& input_shape) override;
  const LayerRef& layer() const { return layer_; }
  std::string activation_name() const override { return layer_->activation_name(); }
  Config get_config() const override;  // + layer
  static LayerRef from_config(const Config& config);

 private:
  LayerRef layer_;
};

LayerHandle<TimeDistributedLayer> TimeDistributed(const LayerRef& layer,
                                                  TimeDistributedOptions options = {});
PLEXUS_KEYWORD_FACTORY(LayerHandle<TimeDistributedLayer>, TimeDistributed, TimeDistributedOptions,
                       (const LayerRef&, layer))

}  // namespace plexus::layers
