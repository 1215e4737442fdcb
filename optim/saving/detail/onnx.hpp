// Internal: building ONNX graphs with the protobuf classes of libonnx (never included by a
// public header).
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.hpp"

namespace plexus::onnx_detail {

onnx::AttributeProto add_attr(const std::string& name, std::int64_t v);
onnx::AttributeProto add_attr(const std::string& name, float v);
onnx::AttributeProto add_attr(const std::string& name, const std::string& v);
onnx::AttributeProto add_attr(const std::string& name, const std::vector<std::int64_t>& v);
onnx::AttributeProto add_attr(const std::string& name, const std::vector<std::string>& v);

// A graph input or output: float tensor of `shape`, the batch axis (-1) symbolic.
void add_value_info(onnx::ValueInfoProto* info, const std::string& name, int elem_type,
                    const Shape& shape);

// Appends nodes and initializers to a GraphProto with fresh names.
class OnnxGraph {
 public:
  explicit OnnxGraph(onnx::GraphProto& g) : g_(g) {}
  std::string op(const std::string& type, const std::vector<std::string>& inputs,
                 const std::vector<onnx::AttributeProto>& attrs = {});
  std::vector<std::string> op_n(const std::string& type, const std::vector<std::string>& inputs,
                                std::size_t outputs,
                                const std::vector<onnx::AttributeProto>& attrs = {});
  void op_named(const std::string& type, const std::vector<std::string>& inputs,
                const std::string& output);
  std::string init(const Tensor& t);                     // a float initializer
  std::string scalar(float v);                           // a rank-0 float initializer
  std::string ints(const std::vector<std::int64_t>& v);  // an int64 vector initializer

 private:
  std::string fresh(const std::string& base);
  onnx::GraphProto& g_;
  std::size_t counter_ = 0;
};

}  // namespace plexus::onnx_detail
