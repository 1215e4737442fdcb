// A custom layer with several inputs and several outputs: build_list and call_list.
#include <cmath>
#include <cstdio>
#include <plexus.hpp>

namespace px = plexus;

// Keras: def build(self, input_shapes) / def call(self, inputs) with inputs = [a, b].
class GatedSum : public px::Layer {
 public:
  using px::Layer::Layer;
  std::string class_name() const override { return "GatedSum"; }
  // Called once with every input's shape (batch -1), in the order of the call's list.
  void build_list(const std::vector<px::Shape>& shapes) override {
    if (shapes.size() != 2 || shapes[0] != shapes[1]) {
      throw px::Error("GatedSum \"{}\" takes two inputs of one shape", name());
    }
    gate_ = add_weight("gate", {shapes[0].back()}, "zeros");
  }
  // One result per output: here the gated sum and the gated first input.
  std::vector<px::SymbolicTensor> call_list(const std::vector<px::SymbolicTensor>& xs) override {
    auto g = px::ops::sigmoid(gate_);
    auto gated_a = xs[0] * g;
    return {gated_a + xs[1] * px::ops::subtract(1.0f, g), gated_a};
  }

 private:
  px::SymbolicTensor gate_;
};

int main() {
  auto a = px::Input({4}, "a"), b = px::Input({4}, "b");
  auto gated = px::make_layer<GatedSum>("gated");
  // Called on a list: the outputs come back as a list (one per call_list result).
  auto outs = gated({a, b});
  px::Model model({a, b}, {px::layers::Dense(1)(outs[0]), outs[1]});
  std::printf("outputs: %zu, second output %s\n", model.outputs().size(),
              px::shape_str(outs[1].shape()).c_str());
  const px::Tensor x = xt::ones<float>({2, 4}), y = xt::zeros<float>({2, 4});
  auto results = model.predict({x, y});
  // The gate starts at sigmoid(0) = 0.5: a * 0.5.
  std::printf("gated a %.2f\n", results[1](0, 0));
  return results.size() == 2 && std::abs(results[1](0, 0) - 0.5f) < 1e-6f ? 0 : 1;
}
