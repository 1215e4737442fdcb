// Attention: MultiHeadAttention (self and cross, masks, scores), Attention, AdditiveAttention.
#include <iostream>
#include <plexus.hpp>

namespace px = plexus;
namespace L = px::layers;
namespace kw = px::kw;

int main() {
  // Self-attention over padded token ids: Embedding(mask_zero) makes a mask that
  // MultiHeadAttention turns into its attention mask (padded keys get no weight).
  auto ids = px::Input({-1});
  auto x = L::Embedding(50, 16, kw::mask_zero = true)(ids);
  auto mha = L::MultiHeadAttention(4, 4, kw::name = "mha");  // num_heads, key_dim
  auto outs = mha({x, x}, kw::use_causal_mask = true, kw::return_attention_scores = true);
  px::Model model(std::vector<px::SymbolicTensor>{ids},
                  std::vector<px::SymbolicTensor>{outs[0], outs[1]});
  // Keras 3's sub-layers and weight layout: mha/query/kernel (16, 4, 4), ...
  for (const auto& w : mha->weights())
    std::cout << w.path() << " " << px::shape_str(w.shape()) << "\n";
  std::cout << "parameters: " << mha->count_params() << "\n";  // 4 * (16*16 + 16) = 1088

  const px::Tensor batch = {{3, 9, 4, 0, 0}, {7, 2, 8, 5, 1}};
  auto ys = model.predict(std::vector<px::Tensor>{batch});
  std::cout << "output " << px::shape_str(px::shape_of(ys[0])) << ", scores "
            << px::shape_str(px::shape_of(ys[1])) << "\n";  // (2, 5, 16), (2, 4, 5, 5)
  // Causal: step 1 attends to steps 0 and 1 only.
  std::cout << "scores of sample 1, head 0, step 1: " << ys[1](1, 0, 1, 0) << " "
            << ys[1](1, 0, 1, 1) << " " << ys[1](1, 0, 1, 2) << "\n";

  // Cross-attention with an explicit attention mask [batch, T, S] (1 = may attend).
  auto query = px::Input({3, 8});
  auto memory = px::Input({6, 12});
  auto allowed = px::Input({3, 6});
  auto cross =
      L::MultiHeadAttention(2, 8, {.value_dim = 4, .output_shape = std::vector<px::Dim>{8}});
  px::Model decoder({query, memory, allowed}, cross({query, memory}, {.attention_mask = allowed}));
  decoder.summary();

  // Luong (dot-product) and Bahdanau (additive) attention over [query, value].
  auto q = px::Input({4, 8});
  auto v = px::Input({7, 8});
  auto luong = L::Attention(kw::use_scale = true)({q, v});
  auto bahdanau = L::AdditiveAttention()({q, v});
  px::Model both({q, v}, L::Concatenate()({luong, bahdanau}));
  std::cout << "Attention + AdditiveAttention: " << px::shape_str(both.outputs()[0].shape())
            << "\n";  // (None, 4, 16)
  return 0;
}
