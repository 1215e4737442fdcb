#include "layers/registry.hpp"

#include "graph/input_layer.hpp"
#include "layers/bidirectional.hpp"
#include "layers/core.hpp"
#include "layers/embedding.hpp"
#include "layers/merging.hpp"
#include "layers/recurrent.hpp"

namespace plexus {

namespace {
template <typename F>
Registry<Layer>::Factory factory(F from_config) {
  return [from_config](const Config& c) { return from_config(c).get(); };
}

void add_builtins(Registry<Layer>& r) {
  using namespace layers;
  r.add("InputLayer", factory(graph::InputLayer::from_config));
  r.add("Dense", factory(DenseLayer::from_config));
  r.add("Activation", factory(ActivationLayer::from_config));
  r.add("Dropout", factory(DropoutLayer::from_config));
  r.add("Flatten", factory(FlattenLayer::from_config));
  r.add("Reshape", factory(ReshapeLayer::from_config));
  r.add("Add", factory(MergeLayer::from_config<AddLayer>));
  r.add("Subtract", factory(MergeLayer::from_config<SubtractLayer>));
  r.add("Multiply", factory(MergeLayer::from_config<MultiplyLayer>));
  r.add("Average", factory(MergeLayer::from_config<AverageLayer>));
  r.add("Maximum", factory(MergeLayer::from_config<MaximumLayer>));
  r.add("Minimum", factory(MergeLayer::from_config<MinimumLayer>));
  r.add("Concatenate", factory(ConcatenateLayer::from_config));
  r.add("Embedding", factory(EmbeddingLayer::from_config));
  r.add("Masking", factory(MaskingLayer::from_config));
  r.add("SimpleRNN", factory(SimpleRNNLayer::from_config));
  r.add("LSTM", factory(LSTMLayer::from_config));
  r.add("GRU", factory(GRULayer::from_config));
  r.add("Bidirectional", factory(BidirectionalLayer::from_config));
}
}  // namespace

Registry<Layer>& layer_registry() {
  static Registry<Layer> r("layer", "keras.layers",
                           "px::register_layer<{class}>(\"{registered}\") (a class with "
                           "get_config() and a static from_config)");
  static const bool filled = (add_builtins(r), true);
  (void)filled;
  return r;
}

namespace layers {
Config serialize(const Layer& layer) { return layer_registry().serialize(layer); }
LayerRef deserialize(const Config& config) { return LayerRef(layer_registry().create(config)); }
}  // namespace layers

}  // namespace plexus
