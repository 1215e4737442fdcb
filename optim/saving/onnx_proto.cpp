// Building ONNX graphs (optim/saving/detail/onnx.hpp).
#include <fmt/format.h>

#include <algorithm>

#include "optim/saving/detail/onnx.hpp"

namespace plexus::onnx_detail {

onnx::AttributeProto add_attr(const std::string& name, std::int64_t v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(v);
  return a;
}

onnx::AttributeProto add_attr(const std::string& name, float v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::FLOAT);
  a.set_f(v);
  return a;
}

onnx::AttributeProto add_attr(const std::string& name, const std::string& v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::STRING);
  a.set_s(v);
  return a;
}

onnx::AttributeProto add_attr(const std::string& name, const std::vector<std::int64_t>& v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (auto x : v) a.add_ints(x);
  return a;
}

onnx::AttributeProto add_attr(const std::string& name, const std::vector<std::string>& v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::STRINGS);
  for (const auto& x : v) a.add_strings(x);
  return a;
}

void add_value_info(onnx::ValueInfoProto* info, const std::string& name, int elem_type,
                    const Shape& shape) {
  info->set_name(name);
  auto* t = info->mutable_type()->mutable_tensor_type();
  t->set_elem_type(elem_type);
  auto* s = t->mutable_shape();
  for (Dim d : shape) {
    auto* dim = s->add_dim();
    if (d < 0) {
      dim->set_dim_param("batch");
    } else {
      dim->set_dim_value(d);
    }
  }
}

std::string OnnxGraph::fresh(const std::string& base) {
  return fmt::format("{}_{}", base, counter_++);
}

std::vector<std::string> OnnxGraph::op_n(const std::string& type,
                                         const std::vector<std::string>& inputs,
                                         std::size_t outputs,
                                         const std::vector<onnx::AttributeProto>& attrs) {
  auto* n = g_.add_node();
  n->set_op_type(type);
  std::string lower = type;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  n->set_name(fresh(lower));
  for (const auto& i : inputs) n->add_input(i);
  std::vector<std::string> outs;
  for (std::size_t i = 0; i < outputs; ++i) {
    outs.push_back(fresh(lower + "_out"));
    n->add_output(outs.back());
  }
  for (const auto& a : attrs) *n->add_attribute() = a;
  return outs;
}

std::string OnnxGraph::op(const std::string& type, const std::vector<std::string>& inputs,
                          const std::vector<onnx::AttributeProto>& attrs) {
  return op_n(type, inputs, 1, attrs).front();
}

void OnnxGraph::op_named(const std::string& type, const std::vector<std::string>& inputs,
                         const std::string& output) {
  auto* n = g_.add_node();
  n->set_op_type(type);
  n->set_name(fresh("output"));
  for (const auto& i : inputs) n->add_input(i);
  n->add_output(output);
}

std::string OnnxGraph::init(const Tensor& t) {
  auto* p = g_.add_initializer();
  const std::string name = fresh("w");
  p->set_name(name);
  p->set_data_type(onnx::TensorProto::FLOAT);
  for (auto d : t.shape()) p->add_dims(static_cast<std::int64_t>(d));
  Tensor c = t;  // row-major contiguous
  p->set_raw_data(std::string(reinterpret_cast<const char*>(c.data()), c.size() * sizeof(float)));
  return name;
}

std::string OnnxGraph::scalar(float v) {
  auto* p = g_.add_initializer();
  const std::string name = fresh("c");
  p->set_name(name);
  p->set_data_type(onnx::TensorProto::FLOAT);
  p->add_float_data(v);
  return name;
}

std::string OnnxGraph::ints(const std::vector<std::int64_t>& v) {
  auto* p = g_.add_initializer();
  const std::string name = fresh("i");
  p->set_name(name);
  p->set_data_type(onnx::TensorProto::INT64);
  p->add_dims(static_cast<std::int64_t>(v.size()));
  for (auto x : v) p->add_int64_data(x);
  return name;
}

}  // namespace plexus::onnx_detail
