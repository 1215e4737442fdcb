// Lambda: a layer from a function of symbolic tensors made of px::ops (Keras's
// keras.layers.Lambda). Its gradient comes from autodiff; it has no weights.
//
//   auto sq = px::layers::Lambda([](const px::SymbolicTensor& x) { return px::ops::square(x); });
//   auto h = sq(x);
//   auto diff = px::layers::Lambda(
//       [](const std::vector<px::SymbolicTensor>& xs) { return px::ops::abs(xs[0] - xs[1]); },
//       {.name = "abs_diff"})({a, b});
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/keywords.hpp"
#include "graph/layer.hpp"

namespace plexus::layers {

struct LambdaOptions {
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// Lambda: inputs -> fn(inputs). The output shape is traced from fn (Keras's
// compute_output_shape by tracing). fn must build its result from its arguments with
// px::ops (a tensor from elsewhere would not be part of the model).
class LambdaLayer : public Layer {
 public:
  using Fn = std::function<SymbolicTensor(const SymbolicTensor&)>;
  using ListFn = std::function<SymbolicTensor(const std::vector<SymbolicTensor>&)>;
  LambdaLayer(Fn fn, LambdaOptions options);
  LambdaLayer(ListFn fn, LambdaOptions options);
  std::string class_name() const override { return "Lambda"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  std::vector<SymbolicTensor> call_list(const std::vector<SymbolicTensor>& xs) override;
  // A C++ function cannot be written to a file (Keras itself refuses to load a Python
  // lambda unless safe_mode=False): saving a model with a Lambda is a px::Error naming the
  // layer, and so is loading a Keras file that holds one. Write a layer class with a
  // config and register it (px::register_layer) instead.
  Config get_config() const override;
  static LayerRef from_config(const Config& config);

 private:
  Fn fn_;
  ListFn list_fn_;
};

// One input: fn(const SymbolicTensor&); several: fn(const std::vector<SymbolicTensor>&).
template <typename F>
requires(std::is_invocable_r_v<SymbolicTensor, F, const SymbolicTensor&> ||
         std::is_invocable_r_v<SymbolicTensor, F, const std::vector<SymbolicTensor>&>)
    LayerHandle<LambdaLayer> Lambda(F fn, LambdaOptions options = {}) {
  if constexpr (std::is_invocable_r_v<SymbolicTensor, F, const SymbolicTensor&>) {
    return make_layer<LambdaLayer>(LambdaLayer::Fn(std::move(fn)), std::move(options));
  } else {
    return make_layer<LambdaLayer>(LambdaLayer::ListFn(std::move(fn)), std::move(options));
  }
}
template <typename F, kw::Argument... K>
requires(sizeof...(K) > 0) LayerHandle<LambdaLayer> Lambda(F fn, K&&... k) {
  return Lambda(std::move(fn), kw::make<LambdaOptions>(std::forward<K>(k)...));
}
namespace keyword_signatures {
using Lambda = kw::Signature<LambdaOptions>;  // the function is positional (a C++ callable)
}

}  // namespace plexus::layers
