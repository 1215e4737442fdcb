// ONNX export and import (issue 27).
//
//   px::export_model(model, "m.onnx", px::kw::format = "onnx");  // opset 17, dynamic batch
//   px::Model m = px::models::load_model("m.onnx");               // a trainable px::Model
//
// Export walks the model's layer calls through their public class and config (Keras's
// get_config) and weights, writes one ONNX graph with the model's input and output names
// and a symbolic batch axis, and checks it with the ONNX checker. A layer that has no ONNX
// form is a px::Error naming it and its class.
// Import builds plexus layers from the graph's operators (Gemm/MatMul, Conv, pooling,
// BatchNormalization, activations, Add/Mul/Concat, Flatten/Reshape/Transpose, LSTM/GRU,
// Softmax, LayerNormalization, ...), NCHW tensors as channels_first layers, with the
// initializers as their weights: the model trains and saves as .keras like any other.
// An operator plexus has no layer for is a px::Error naming it and its node.
// The ONNX protobuf headers stay in the .cpp files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/keywords.hpp"
#include "optim/model.hpp"

namespace plexus {

struct ExportOptions {
  // "onnx" (the only format; Keras's model.export also has "tf_saved_model").
  std::string format = "onnx";
  // The ONNX opset the file declares: 17 (the newest Debian's ONNX 1.12 checks).
  std::ptrdiff_t opset_version = 17;
};

// Writes `model` to `path` in `format`.
void export_model(const Model& model, const std::string& path, ExportOptions options = {});

namespace saving::detail {
// Whether `path` names an ONNX file (".onnx"); load_model dispatches on it.
bool is_onnx_path(const std::string& path);
// The model in an ONNX file (px::models::load_model("m.onnx")).
Model load_onnx(const std::string& path);
// The model in an ONNX ModelProto's bytes; `what` names the source in errors. A graph input
// dimension above max_input_dim is a px::Error (the fuzz target lowers it).
Model load_onnx_bytes(const std::string& bytes, const std::string& what,
                      std::int64_t max_input_dim = std::int64_t(1) << 24);
}  // namespace saving::detail

}  // namespace plexus

PLEXUS_KEYWORD(format, std::string)
PLEXUS_KEYWORD(opset_version, std::ptrdiff_t)

namespace plexus {
// Keyword form: px::export_model(model, "m.onnx", px::kw::format = "onnx").
template <kw::Argument... K>
requires(sizeof...(K) > 0) void export_model(const Model& model, const std::string& path,
                                             K&&... k) {
  export_model(model, path, kw::make<ExportOptions>(std::forward<K>(k)...));
}
}  // namespace plexus
