// Bidirectional(layer): runs a recurrent layer forwards and a copy of it backwards over the
// same sequence and merges the two (Keras 3):
//   auto y = px::layers::Bidirectional(px::layers::LSTM(32))(x);   // [N, 64] (concat)
//   auto s = px::layers::Bidirectional(px::layers::GRU(8, {.return_sequences = true}),
//                                      {.merge_mode = "sum"})(x);  // [N, T, 8]
// The forward layer is a copy of `layer` named "forward_<name>"; the backward one is
// backward_layer or a copy with go_backwards flipped named "backward_<name>". With
// return_sequences the backward outputs are put back in time order before merging.
// merge_mode: "concat" (default), "sum", "mul", "ave", or "" (Keras's None: both outputs are
// returned). With return_state the outputs are followed by the forward then the backward
// states; called on {x, states...} the first half of the states starts the forward layer.
#pragma once

#include <string>

#include "core/keywords.hpp"
#include "graph/layer.hpp"
#include "layers/recurrent.hpp"

namespace plexus::layers {

struct BidirectionalOptions {
  std::string merge_mode = "concat";
  LayerRef backward_layer{};  // empty: a copy of the layer going the other way
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

class BidirectionalLayer : public Layer {
 public:
  BidirectionalLayer(const LayerRef& layer, BidirectionalOptions options);
  std::string class_name() const override { return "Bidirectional"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  std::vector<SymbolicTensor> call_list(const std::vector<SymbolicTensor>& xs) override;
  void build_list(const std::vector<Shape>&) override {}
  const std::shared_ptr<RecurrentLayer>& forward_layer() const { return forward_; }
  const std::shared_ptr<RecurrentLayer>& backward_layer() const { return backward_; }
  const std::string& merge_mode() const { return merge_mode_; }
  Config get_config() const override;  // + merge_mode, layer, backward_layer
  static LayerRef from_config(const Config& config);

 private:
  std::shared_ptr<RecurrentLayer> forward_, backward_;
  std::string merge_mode_;
};

LayerHandle<BidirectionalLayer> Bidirectional(const LayerRef& layer,
                                              BidirectionalOptions options = {});
PLEXUS_KEYWORD_FACTORY(LayerHandle<BidirectionalLayer>, Bidirectional, BidirectionalOptions,
                       (const LayerRef&, layer))

}  // namespace plexus::layers

PLEXUS_KEYWORD(merge_mode, std::string)
PLEXUS_KEYWORD(backward_layer, plexus::LayerRef)
