#include "layers/lambda.hpp"

#include "core/error.hpp"

namespace plexus::layers {

LambdaLayer::LambdaLayer(Fn fn, LambdaOptions options) : Layer(options.name), fn_(std::move(fn)) {
  if (!fn_) throw Error("Lambda: the function is empty");
  set_declared_input_shape(options.input_shape);
}

LambdaLayer::LambdaLayer(ListFn fn, LambdaOptions options)
    : Layer(options.name), list_fn_(std::move(fn)) {
  if (!list_fn_) throw Error("Lambda: the function is empty");
  set_declared_input_shape(options.input_shape);
}

SymbolicTensor LambdaLayer::call(const SymbolicTensor& x) {
  if (fn_) return fn_(x);
  return list_fn_({x});
}

std::vector<SymbolicTensor> LambdaLayer::call_list(const std::vector<SymbolicTensor>& xs) {
  if (list_fn_) return {list_fn_(xs)};
  if (xs.size() != 1) {
    throw Error(
        "Lambda \"{}\" takes one tensor (its function has one argument), received {}; "
        "give a function of const std::vector<px::SymbolicTensor>& for several",
        name(), xs.size());
  }
  return {fn_(xs[0])};
}

}  // namespace plexus::layers
