#include "layers/bidirectional.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/json.hpp"
#include "graph/ops.hpp"
#include "layers/masking.hpp"
#include "layers/registry.hpp"

namespace plexus::layers {

namespace {

std::string without_prefix(const std::string& name, const std::string& prefix) {
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

std::shared_ptr<RecurrentLayer> as_recurrent(const LayerRef& layer, const char* what) {
  auto r = std::dynamic_pointer_cast<RecurrentLayer>(layer.get());
  if (!r) {
    throw Error("Bidirectional: {} must be a recurrent layer (SimpleRNN, LSTM, GRU), received {}",
                what, layer.get() ? layer->class_name() : std::string("nothing"));
  }
  return r;
}

// A fresh copy of `layer` from its config, renamed, optionally going the other way.
std::shared_ptr<RecurrentLayer> copy_of(const RecurrentLayer& layer, const std::string& name,
                                        bool flip) {
  Config c = serialize(layer);
  c["config"]["name"] = name;
  if (flip) c["config"]["go_backwards"] = !c["config"].value("go_backwards", false);
  return as_recurrent(deserialize(c), "layer");
}

}  // namespace

BidirectionalLayer::BidirectionalLayer(const LayerRef& layer, BidirectionalOptions options)
    : Layer(options.name), merge_mode_(options.merge_mode) {
  if (merge_mode_ != "concat" && merge_mode_ != "sum" && merge_mode_ != "mul" &&
      merge_mode_ != "ave" && !merge_mode_.empty()) {
    throw Error(
        "Bidirectional: merge_mode must be concat, sum, mul, ave or \"\" (None), "
        "received \"{}\"",
        merge_mode_);
  }
  auto base = as_recurrent(layer, "layer");
  if (base->spec().stateful ||
      (options.backward_layer.get() &&
       as_recurrent(options.backward_layer, "backward_layer")->spec().stateful)) {
    throw Error("Bidirectional: a stateful = true layer (\"{}\") is not supported by plexus",
                base->name());
  }
  forward_ = copy_of(*base, "forward_" + without_prefix(base->name(), "forward_"), false);
  if (options.backward_layer.get()) {
    backward_ = as_recurrent(options.backward_layer, "backward_layer");
    if (backward_->spec().go_backwards == forward_->spec().go_backwards) {
      throw Error("Bidirectional: backward_layer must have go_backwards = {} (the layer's is {})",
                  !forward_->spec().go_backwards, forward_->spec().go_backwards);
    }
    if (backward_->spec().return_sequences != forward_->spec().return_sequences ||
        backward_->spec().return_state != forward_->spec().return_state) {
      throw Error(
          "Bidirectional: backward_layer must match the layer's return_sequences and "
          "return_state");
    }
  } else {
    backward_ = copy_of(*base, "backward_" + without_prefix(base->name(), "backward_"), true);
  }
  set_declared_input_shape(options.input_shape);
}

SymbolicTensor BidirectionalLayer::call(const SymbolicTensor& x) { return call_list({x}).at(0); }

std::vector<SymbolicTensor> BidirectionalLayer::call_list(const std::vector<SymbolicTensor>& xs) {
  const std::size_t fs = forward_->num_states(), bs = backward_->num_states();
  if (xs.size() != 1 && xs.size() != 1 + fs + bs) {
    throw Error(
        "Layer \"{}\" (Bidirectional) takes the sequence and {} initial states, received "
        "{} inputs",
        name(), fs + bs, xs.size());
  }
  std::vector<SymbolicTensor> fin{xs[0]}, bin{xs[0]};
  if (xs.size() > 1) {
    fin.insert(fin.end(), xs.begin() + 1, xs.begin() + 1 + static_cast<std::ptrdiff_t>(fs));
    bin.insert(bin.end(), xs.begin() + 1 + static_cast<std::ptrdiff_t>(fs), xs.end());
  }
  std::vector<SymbolicTensor> f = (*forward_)(fin), b = (*backward_)(bin);
  SymbolicTensor yf = f[0], yb = b[0];
  const bool seq = forward_->spec().return_sequences;
  if (seq) yb = ops::apply(kernels::reverse(1), {yb});
  std::vector<SymbolicTensor> outs;
  if (merge_mode_ == "concat") {
    outs.push_back(ops::concatenate({yf, yb}, -1));
  } else if (merge_mode_ == "sum") {
    outs.push_back(ops::add(yf, yb));
  } else if (merge_mode_ == "mul") {
    outs.push_back(ops::multiply(yf, yb));
  } else if (merge_mode_ == "ave") {
    outs.push_back(ops::multiply(ops::add(yf, yb), 0.5f));
  } else {
    outs = {yf, yb};
  }
  const SymbolicTensor mask = masking::mask_of(xs[0]);
  if (seq && mask.defined()) {
    for (auto& o : outs) masking::set_mask(o, mask);
  }
  if (forward_->spec().return_state) {
    outs.insert(outs.end(), f.begin() + 1, f.end());
    outs.insert(outs.end(), b.begin() + 1, b.end());
  }
  return outs;
}

Config BidirectionalLayer::get_config() const {
  Config c = Layer::get_config();
  c["merge_mode"] = merge_mode_.empty() ? Config(nullptr) : Config(merge_mode_);
  c["layer"] = serialize(*forward_);
  c["backward_layer"] = serialize(*backward_);
  return c;
}

LayerRef BidirectionalLayer::from_config(const Config& config) {
  const std::string where = fmt::format("Bidirectional \"{}\"", config::name_of(config));
  if (!config.contains("layer")) throw Error("{}: the config needs a \"layer\"", where);
  BidirectionalOptions o;
  o.merge_mode = config::get_or<std::string>(config, "merge_mode", "");
  if (config.contains("merge_mode") && config["merge_mode"].is_null()) o.merge_mode = "";
  if (config.contains("backward_layer") && !config["backward_layer"].is_null()) {
    o.backward_layer = deserialize(config["backward_layer"]);
  }
  o.name = config::name_of(config);
  auto layer = make_layer<BidirectionalLayer>(deserialize(config["layer"]), std::move(o));
  layer->apply_base_config(config);
  return layer;
}

LayerHandle<BidirectionalLayer> Bidirectional(const LayerRef& layer, BidirectionalOptions options) {
  return make_layer<BidirectionalLayer>(layer, std::move(options));
}

}  // namespace plexus::layers
