#include "layers/attention.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numeric>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/kernels.hpp"
#include "graph/ops.hpp"
#include "layers/masking.hpp"

namespace plexus::layers {

// --- the call with options -------------------------------------------------------------------

SymbolicTensors AttentionLayerBase::call_with(const std::vector<SymbolicTensor>& xs,
                                              const CallOptions& options) {
  CallRecord record{options.attention_mask.defined(), options.use_causal_mask,
                    options.return_attention_scores};
  std::vector<SymbolicTensor> in = xs;
  if (record.attention_mask) in.push_back(options.attention_mask);
  struct Reset {  // a plain call after this one has the default options again
    CallRecord& r;
    ~Reset() { r = {}; }
  } reset{current_};
  current_ = record;
  SymbolicTensors out = (*this)(in);
  for (auto it = records_.begin(); it != records_.end();) {  // drop the records of dead nodes
    it = it->second.first.expired() ? records_.erase(it) : std::next(it);
  }
  records_[out.at(0).node().get()] = {out[0].node(), record};
  return out;
}

AttentionLayerBase::CallRecord AttentionLayerBase::call_record(const Node* output) const {
  auto it = records_.find(output);
  if (it == records_.end() || it->second.first.lock().get() != output) return {};
  return it->second.second;
}

namespace {

// The mask a tensor carries as [N, 1, S] (value, key) or [N, T, 1] (query), or undefined.
SymbolicTensor mask_as(const SymbolicTensor& x, Dim axis) {
  const SymbolicTensor m = masking::mask_of(x);
  return m.defined() ? ops::expand_dims(m, axis) : SymbolicTensor();
}

SymbolicTensor mask_and(const SymbolicTensor& a, const SymbolicTensor& b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  return ops::multiply(a, b);
}

void check_sequence(const Layer& layer, const Shape& s, std::size_t index, const char* what) {
  if (s.size() != 3 || s[2] <= 0) {
    throw Error(
        "Input {} ({}) of layer \"{}\" is incompatible with the layer: expected [batch, steps, "
        "features] with known features, received input with shape {}",
        index, what, layer.name(), shape_str(s));
  }
}

// Keras's EinsumDense as MultiHeadAttention builds it: x [N, T, in] times a kernel whose
// first `bound` axes multiply to `in` (query: (in, heads, dim); attention_output: (heads,
// value_dim, out...)), plus a bias of the remaining axes. Computed as one product with the
// kernel seen as [in, out]: the result is [N, T, prod(out axes)], the heads side by side.
class EinsumDenseLayer : public Layer {
 public:
  EinsumDenseLayer(std::string name, Shape kernel_shape, std::size_t bound, bool use_bias,
                   const MultiHeadAttentionOptions& o)
      : Layer(name),
        kernel_shape_(std::move(kernel_shape)),
        bound_(bound),
        use_bias_(use_bias),
        o_(o) {}
  std::string class_name() const override { return "EinsumDense"; }
  void build(const Shape&) override {
    kernel_ = add_weight("kernel", kernel_shape_, o_.kernel_initializer, true,
                         o_.kernel_regularizer, o_.kernel_constraint);
    if (use_bias_) {
      bias_ = add_weight("bias", Shape(kernel_shape_.begin() + bound_, kernel_shape_.end()),
                         o_.bias_initializer, true, o_.bias_regularizer, o_.bias_constraint);
    }
  }
  SymbolicTensor call(const SymbolicTensor& x) override {
    Dim in = 1, out = 1;
    for (std::size_t d = 0; d < kernel_shape_.size(); ++d)
      (d < bound_ ? in : out) *= kernel_shape_[d];
    if (x.rank() != 3 || x.shape()[2] != in) {
      throw Error(
          "Input 0 of layer \"{}\" is incompatible with the layer: expected [batch, steps, {}], "
          "received input with shape {}",
          name(), in, shape_str(x.shape()));
    }
    SymbolicTensor y = ops::matmul(x, ops::reshape(kernel_, {in, out}));
    if (use_bias_) y = ops::add(y, ops::reshape(bias_, {out}));
    return y;
  }

 private:
  Shape kernel_shape_;
  std::size_t bound_;
  bool use_bias_;
  MultiHeadAttentionOptions o_;
  SymbolicTensor kernel_, bias_;
};

}  // namespace

// --- MultiHeadAttention --------------------------------------------------------------------

MultiHeadAttentionLayer::MultiHeadAttentionLayer(Dim num_heads, Dim key_dim,
                                                 MultiHeadAttentionOptions options)
    : AttentionLayerBase(options.name),
      num_heads_(num_heads),
      key_dim_(key_dim),
      options_(std::move(options)) {
  if (num_heads_ <= 0 || key_dim_ <= 0) {
    throw Error("MultiHeadAttention: num_heads and key_dim must be positive, received {} and {}",
                num_heads_, key_dim_);
  }
  if (!options_.value_dim || *options_.value_dim == 0) options_.value_dim = key_dim_;
  if (*options_.value_dim < 0) {
    throw Error("MultiHeadAttention: value_dim must be positive, received {}", *options_.value_dim);
  }
  if (!(options_.dropout >= 0.0 && options_.dropout < 1.0)) {
    throw Error("MultiHeadAttention: dropout must be in [0, 1), received {}", options_.dropout);
  }
  if (options_.output_shape) {
    if (options_.output_shape->empty()) {
      options_.output_shape.reset();  // Keras: an empty output_shape is the default
    } else {
      for (Dim d : *options_.output_shape) {
        if (d <= 0) {
          throw Error("MultiHeadAttention: output_shape {} must hold positive sizes",
                      shape_str(*options_.output_shape));
        }
      }
    }
  }
  if (options_.attention_axes && options_.attention_axes->empty()) {
    throw Error(
        "MultiHeadAttention: attention_axes must name at least one axis (or be None, all axes "
        "but the batch and the features), received []");
  }
  regularizers::refuse_activity_regularizer(options_.activity_regularizer, "MultiHeadAttention",
                                            name());
}

namespace {

std::string axes_str(const std::vector<Dim>& axes) {
  std::string list;
  for (Dim d : axes) list += (list.empty() ? "" : ", ") + std::to_string(d);
  return "(" + list + ")";
}

Dim product(const Shape& s, const std::vector<std::size_t>& axes) {
  Dim p = 1;
  for (std::size_t a : axes) p *= s[a];
  return p;
}

}  // namespace

void MultiHeadAttentionLayer::build_list(const std::vector<Shape>& shapes) {
  const std::size_t tensors = shapes.size() - (current().attention_mask ? 1 : 0);
  if (tensors != 2 && tensors != 3) {
    throw Error(
        "Layer \"{}\" (MultiHeadAttention) takes [query, value] or [query, value, key], "
        "received {} inputs",
        name(), tensors);
  }
  const Shape& q = shapes[0];
  const Shape& v = shapes[1];
  const Shape& k = tensors == 3 ? shapes[2] : v;
  built_with_key_ = tensors == 3;
  const char* what[3] = {"query", "value", "key"};
  const Shape* in[3] = {&q, &v, &k};
  for (std::size_t i = 0; i < 3; ++i) {
    const Shape& s = *in[i];
    if (s.size() < 3 || s.back() <= 0 || s.size() != q.size()) {
      throw Error(
          "Input {} ({}) of layer \"{}\" is incompatible with the layer: expected [batch, "
          "<attention and other axes>..., features] of rank >= 3 with known features and the "
          "query's rank, received query {} and {} {}",
          i, what[i], name(), shape_str(q), what[i], shape_str(s));
    }
  }
  const std::size_t r = q.size();
  for (std::size_t d = 1; d + 1 < r; ++d) {
    if (v[d] >= 0 && k[d] >= 0 && v[d] != k[d]) {
      throw Error(
          "Layer \"{}\" (MultiHeadAttention): all dimensions of value and key except the last "
          "must be equal, received value {} and key {}",
          name(), shape_str(v), shape_str(k));
    }
  }
  // Keras's _build_attention: None = every axis but the batch and the features; a negative
  // axis counts from the end of the input (Keras adds rank(projected) - 1 = rank(input)).
  std::vector<Dim> given;
  if (options_.attention_axes) {
    given = *options_.attention_axes;
  } else {
    for (std::size_t d = 1; d + 1 < r; ++d) given.push_back(static_cast<Dim>(d));
  }
  std::vector<std::size_t> axes;
  for (Dim a : given) {
    const Dim n = a < 0 ? static_cast<Dim>(r) + a : a;
    const char* why = nullptr;
    if (n == 0) {
      why = "is the batch axis";
    } else if (n == static_cast<Dim>(r) - 1) {
      why = "is the feature axis (the one the projections contract)";
    } else if (n < 0 || n >= static_cast<Dim>(r)) {
      why = "is out of range";
    } else if (std::find(axes.begin(), axes.end(), static_cast<std::size_t>(n)) != axes.end()) {
      why = "is named twice";
    }
    if (why) {
      throw Error(
          "Layer \"{}\" (MultiHeadAttention): attention_axes = {}: axis {} {} for query {} "
          "(rank {}); valid axes are 1..{} (or -{}..-2)",
          name(), axes_str(given), a, why, shape_str(q), r, r - 2, r - 1);
    }
    axes.push_back(static_cast<std::size_t>(n));
  }
  others_.clear();
  for (std::size_t d = 1; d + 1 < r; ++d) {
    if (std::find(axes.begin(), axes.end(), d) == axes.end()) others_.push_back(d);
  }
  if (r > 3) {
    // The axes are moved and flattened: their sizes must be known; the query's and the key's
    // non-attention axes are batch axes of the attention (Keras's einsum), so they agree.
    for (std::size_t i = 0; i < 3; ++i) {
      for (std::size_t d = 1; d < r; ++d) {
        if ((*in[i])[d] < 0) {
          throw Error(
              "Layer \"{}\" (MultiHeadAttention): inputs of rank {} need known sizes on every "
              "axis but the batch, received {} {}",
              name(), r, what[i], shape_str(*in[i]));
        }
      }
    }
    for (std::size_t d : others_) {
      if (q[d] != k[d]) {
        throw Error(
            "Layer \"{}\" (MultiHeadAttention): with attention_axes = {} axis {} is not attended "
            "over, so query and key must agree on it, received query {} and key {}",
            name(), axes_str(given), d, shape_str(q), shape_str(k));
      }
    }
  }
  axes_ = axes;
  const Dim h = num_heads_, vd = value_dim();
  Shape out_shape = options_.output_shape ? *options_.output_shape : Shape{q.back()};
  Shape out_kernel = {h, vd};
  out_kernel.insert(out_kernel.end(), out_shape.begin(), out_shape.end());
  const bool b = options_.use_bias;
  query_ = make_layer<EinsumDenseLayer>("query", Shape{q.back(), h, key_dim_}, 1, b, options_);
  key_ = make_layer<EinsumDenseLayer>("key", Shape{k.back(), h, key_dim_}, 1, b, options_);
  value_ = make_layer<EinsumDenseLayer>("value", Shape{v.back(), h, vd}, 1, b, options_);
  output_ = make_layer<EinsumDenseLayer>("attention_output", out_kernel, 2, b, options_);
  // Keras normalises attention_axes when it builds (non-negative, in the given order).
  options_.attention_axes = std::vector<Dim>(axes.begin(), axes.end());
}

// The mask Keras's _masked_softmax applies, m (any rank), as the kernel's [Nm, Tm, Sm] for
// the flattened layout [B * others, T, S] (scores [B, others..., heads, q axes..., k axes...]).
SymbolicTensor MultiHeadAttentionLayer::kernel_mask(SymbolicTensor m, const Shape& scores,
                                                    const SymbolicTensor& query) const {
  const std::size_t rank = scores.size(), nb = 1 + others_.size(), na = axes_.size();
  const Shape given = m.shape();
  auto fail = [&](const std::string& why) {
    return Error(
        "Layer \"{}\" (MultiHeadAttention): the attention mask {} (with the inputs' masks) does "
        "not fit the attention scores [batch, <other axes>, heads, <query attention axes>, <key "
        "attention axes>] = {}: {}",
        name(), shape_str(given), shape_str(scores), why);
  };
  if (m.rank() > rank) throw fail("it has a higher rank");
  // Keras: expand_dims at -2 * len(attention_axes) - 1 until the ranks agree.
  while (m.rank() < rank) {
    if (m.rank() < 2 * na) throw fail("Keras's expand_dims at the heads axis is out of range");
    m = ops::expand_dims(m, -static_cast<Dim>(2 * na) - 1);
  }
  const Shape ms = m.shape();
  for (std::size_t d = 0; d < rank; ++d) {
    if (ms[d] < 0 && d != 0) throw fail("its sizes must be known except the batch's");
    if (ms[d] != 1 && ms[d] >= 0 && scores[d] >= 0 && ms[d] != scores[d])
      throw fail(fmt::format("axis {} does not broadcast", d));
  }
  if (ms[nb] != 1) throw fail("a mask per head is not supported");
  // The kernel broadcasts a whole group (batch, query, key) or none: spread partial ones.
  auto all_one = [&](std::size_t from, std::size_t to) {
    for (std::size_t d = from; d < to; ++d)
      if (ms[d] != 1) return false;
    return true;
  };
  const bool batch_one = all_one(0, nb), q_one = all_one(nb + 1, nb + 1 + na),
             k_one = all_one(nb + 1 + na, rank);
  Dim tq = 1, sk = 1, others = 1;
  for (std::size_t i = 0; i < na; ++i) {
    tq *= scores[nb + 1 + i];
    sk *= scores[nb + 1 + na + i];
  }
  for (std::size_t d = 1; d < nb; ++d) others *= scores[d];
  Dim mask_batch = ms[0];
  if (!batch_one && others > 1 && !(ms[0] >= 0 && ms[0] == scores[0])) {
    // The flattened batch is B * others: a mask of batch 1 (now or at run time) that varies
    // along the other axes is spread over the batch first, by ones [B, 1, ...] taken from
    // the query (where(corner, 1, 1): its values do not matter, no gradient reaches it).
    SymbolicTensor corner = query;
    for (std::size_t d = 1; d < query.rank(); ++d) corner = ops::slice(corner, Dim(d), 0, 1);
    const SymbolicTensor one = ops::constant(1.0f);
    Shape lead(rank, 1);
    lead[0] = -1;
    m = ops::multiply(m, ops::reshape(ops::where(corner, one, one), lead));
    mask_batch = m.shape()[0];
  }
  Shape ones(rank, 1);
  bool spread = false;
  auto fill = [&](std::size_t from, std::size_t to, bool one) {
    if (one) return;
    for (std::size_t d = from; d < to; ++d) {
      if (ms[d] == 1 && scores[d] > 1) {
        ones[d] = scores[d];
        spread = true;
      }
    }
  };
  fill(1, nb, batch_one);
  fill(nb + 1, nb + 1 + na, q_one);
  fill(nb + 1 + na, rank, k_one);
  if (spread) {
    std::vector<std::size_t> dims(ones.begin(), ones.end());
    Tensor t = Tensor::from_shape(dims);
    t.fill(1.0f);
    m = ops::multiply(m, ops::constant(std::move(t)));
  }
  const Dim n = batch_one ? 1 : (mask_batch < 0 ? -1 : mask_batch * others);
  return ops::reshape(m, {n, q_one ? 1 : tq, k_one ? 1 : sk});
}

std::vector<SymbolicTensor> MultiHeadAttentionLayer::call_list(
    const std::vector<SymbolicTensor>& xs) {
  const CallRecord o = current();
  const std::size_t tensors = xs.size() - (o.attention_mask ? 1 : 0);
  if (tensors != 2 && tensors != 3) {
    throw Error(
        "Layer \"{}\" (MultiHeadAttention) takes [query, value] or [query, value, key], "
        "received {} inputs",
        name(), tensors);
  }
  const SymbolicTensor& query = xs[0];
  const SymbolicTensor& value = xs[1];
  const SymbolicTensor& key = tensors == 3 ? xs[2] : value;
  if (query.rank() > 3) return call_axes(query, value, key, tensors == 3, o, xs);
  // Keras's _compute_attention_mask: query mask [N, T, 1] & value mask [N, 1, S] & key mask
  // & the attention mask; the causal mask is the kernel's.
  SymbolicTensor mask = mask_as(query, 2);
  mask = mask_and(mask, mask_as(value, 1));
  if (tensors == 3) mask = mask_and(mask, mask_as(key, 1));
  if (o.attention_mask) {
    SymbolicTensor am = xs.back();
    if (am.rank() == 2) am = ops::expand_dims(am, 0);
    if (am.rank() != 3) {
      throw Error(
          "Layer \"{}\" (MultiHeadAttention): attention_mask must be [batch, T, S] (or [T, S]), "
          "received {}",
          name(), shape_str(xs.back().shape()));
    }
    mask = mask_and(mask, am);
  }
  const SymbolicTensor q = query_(query);
  const SymbolicTensor k = key_(key);
  const SymbolicTensor v = value_(value);
  kernels::AttentionConfig config;
  config.heads = num_heads_;
  config.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(key_dim_)));
  config.causal = o.use_causal_mask;
  config.dropout = static_cast<float>(options_.dropout);
  std::vector<SymbolicTensor> att = ops::attention(q, k, v, config, mask);
  SymbolicTensor out = output_(att[0]);
  if (options_.output_shape && options_.output_shape->size() > 1) {
    if (query.shape()[1] < 0) {
      throw Error(
          "Layer \"{}\" (MultiHeadAttention): an output_shape of rank {} needs a known number of "
          "query steps, received query {}",
          name(), options_.output_shape->size(), shape_str(query.shape()));
    }
    Shape target = {-1, query.shape()[1]};
    target.insert(target.end(), options_.output_shape->begin(), options_.output_shape->end());
    out = ops::reshape(out, target);
  }
  const SymbolicTensor query_mask = masking::mask_of(query);
  if (query_mask.defined()) masking::set_mask(out, query_mask);
  if (o.return_attention_scores) return {out, att[1]};
  return {out};
}

// Inputs of rank > 3 (Keras's einsum over attention_axes): each of query, key and value is
// transposed to [B, others..., attention axes..., features] and flattened to
// [B * others, prod(attention axes), features]; the rank-3 attention runs on that; the
// output is unflattened and transposed back, the scores unflattened to Keras's
// [B, others..., heads, query attention axes..., key attention axes...].
std::vector<SymbolicTensor> MultiHeadAttentionLayer::call_axes(
    const SymbolicTensor& query, const SymbolicTensor& value, const SymbolicTensor& key,
    bool with_key, const CallRecord& o, const std::vector<SymbolicTensor>& xs) {
  const Shape& qs = query.shape();
  const Shape& ks = key.shape();
  const std::size_t r = qs.size();
  std::vector<std::size_t> perm = {0};
  perm.insert(perm.end(), others_.begin(), others_.end());
  perm.insert(perm.end(), axes_.begin(), axes_.end());
  perm.push_back(r - 1);
  bool identity = true;
  for (std::size_t i = 0; i < r; ++i) identity = identity && perm[i] == i;
  auto flatten = [&](const SymbolicTensor& x) {
    const SymbolicTensor t = identity ? x : ops::transpose(x, perm);
    return ops::reshape(t, {-1, product(x.shape(), axes_), x.shape().back()});
  };
  // The scores' shape (Keras's product_notation).
  Shape scores = {qs[0] >= 0 ? qs[0] : ks[0]};
  for (std::size_t d : others_) scores.push_back(qs[d]);
  scores.push_back(num_heads_);
  for (std::size_t a : axes_) scores.push_back(qs[a]);
  for (std::size_t a : axes_) scores.push_back(ks[a]);
  if (o.use_causal_mask) {
    // Keras's causal mask is [1, query.shape[1], value.shape[1]], expanded as the attention
    // mask: with several attention axes its expand_dims is out of range; with one axis it is
    // the lower triangle over that axis when the sizes agree (and fails to broadcast if not).
    const Shape& vs = value.shape();
    if (axes_.size() != 1 || qs[1] != qs[axes_[0]] || vs[1] != ks[axes_[0]]) {
      throw Error(
          "Layer \"{}\" (MultiHeadAttention): use_causal_mask builds Keras's causal mask [1, {}, "
          "{}] from axis 1 of query {} and value {}, which does not fit the attention scores {} "
          "(attention_axes = {}); Keras fails here too",
          name(), qs[1], vs[1], shape_str(qs), shape_str(vs), shape_str(scores),
          axes_str(std::vector<Dim>(axes_.begin(), axes_.end())));
    }
  }
  // Keras's _compute_attention_mask on these ranks: query mask [B, ..., 1], value and key
  // masks [B, ..., 1, S], then the attention mask; _masked_softmax expands the result.
  SymbolicTensor mask = mask_as(query, -1);
  mask = mask_and(mask, mask_as(value, -2));
  if (with_key) mask = mask_and(mask, mask_as(key, -2));
  if (o.attention_mask) mask = mask_and(xs.back(), mask);
  if (mask.defined()) mask = kernel_mask(mask, scores, query);
  const SymbolicTensor q = query_(flatten(query));
  const SymbolicTensor k = key_(flatten(key));
  const SymbolicTensor v = value_(flatten(value));
  kernels::AttentionConfig config;
  config.heads = num_heads_;
  config.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(key_dim_)));
  config.causal = o.use_causal_mask;
  config.dropout = static_cast<float>(options_.dropout);
  std::vector<SymbolicTensor> att = ops::attention(q, k, v, config, mask);
  SymbolicTensor out = output_(att[0]);  // [B * others, T, prod(output_shape)]
  const Shape out_shape = options_.output_shape ? *options_.output_shape : Shape{qs.back()};
  Shape target = {-1};
  for (std::size_t i = 1; i + 1 < r; ++i) target.push_back(qs[perm[i]]);
  target.insert(target.end(), out_shape.begin(), out_shape.end());
  out = ops::reshape(out, target);
  if (!identity) {
    std::vector<std::size_t> back(target.size());
    for (std::size_t i = 0; i + 1 < r; ++i) back[perm[i]] = i;
    for (std::size_t i = r - 1; i < target.size(); ++i) back[i] = i;
    out = ops::transpose(out, back);
  }
  const SymbolicTensor query_mask = masking::mask_of(query);
  if (query_mask.defined()) masking::set_mask(out, query_mask);
  if (!o.return_attention_scores) return {out};
  Shape scores_target = scores;
  scores_target[0] = -1;
  return {out, ops::reshape(att[1], scores_target)};
}

Config MultiHeadAttentionLayer::get_config() const {
  Config c = Layer::get_config();
  c["num_heads"] = num_heads_;
  c["key_dim"] = key_dim_;
  c.update(Config(options_));
  return c;
}

LayerRef MultiHeadAttentionLayer::from_config(const Config& config) {
  const std::string where = fmt::format("MultiHeadAttention \"{}\"", config::name_of(config));
  config::refuse_set(config, where, {"flash_attention"});
  Dim ints[2];
  const char* keys[2] = {"num_heads", "key_dim"};
  for (int i = 0; i < 2; ++i) {
    auto it = config.find(keys[i]);
    if (it == config.end() || !it->is_number_integer()) {
      throw Error("{}: the config needs an integer \"{}\"", where, keys[i]);
    }
    ints[i] = it->get<Dim>();
  }
  Config c = config;
  // Keras writes an int output_shape as given in older files, a list in newer ones.
  if (c.contains("output_shape") && c["output_shape"].is_number_integer()) {
    c["output_shape"] = Config::array({c["output_shape"]});
  }
  if (c.contains("attention_axes") && c["attention_axes"].is_number_integer()) {
    c["attention_axes"] = Config::array({c["attention_axes"]});
  }
  MultiHeadAttentionOptions o;
  try {
    o = c.get<MultiHeadAttentionOptions>();
  } catch (const nlohmann::json::exception& e) {
    throw Error("{}: malformed config: {}", where, e.what());
  }
  o.name = config::name_of(c);
  auto layer = make_layer<MultiHeadAttentionLayer>(ints[0], ints[1], std::move(o));
  layer->apply_base_config(c);
  return layer;
}

LayerHandle<MultiHeadAttentionLayer> MultiHeadAttention(Dim num_heads, Dim key_dim,
                                                        MultiHeadAttentionOptions options) {
  return make_layer<MultiHeadAttentionLayer>(num_heads, key_dim, std::move(options));
}

// --- Attention and AdditiveAttention ----------------------------------------------------------

BaseAttentionLayer::BaseAttentionLayer(bool additive, bool use_scale, std::string score_mode,
                                       double dropout, std::string_view name)
    : AttentionLayerBase(name),
      additive_(additive),
      use_scale_(use_scale),
      score_mode_(std::move(score_mode)),
      dropout_(dropout) {
  const char* cls = additive_ ? "AdditiveAttention" : "Attention";
  if (!additive_ && score_mode_ != "dot" && score_mode_ != "concat") {
    throw Error(
        "Attention: invalid value for argument score_mode. Expected one of {{\"dot\", "
        "\"concat\"}}, received score_mode=\"{}\"",
        score_mode_);
  }
  if (!(dropout_ >= 0.0 && dropout_ < 1.0)) {
    throw Error("{}: dropout must be in [0, 1), received {}", cls, dropout_);
  }
}

void BaseAttentionLayer::build_list(const std::vector<Shape>& shapes) {
  if (current().attention_mask) {
    throw Error(
        "Layer \"{}\" ({}) takes no attention_mask (Keras's Attention layers take the masks of "
        "their inputs)",
        name(), class_name());
  }
  if (shapes.size() != 2 && shapes.size() != 3) {
    throw Error(
        "Layer \"{}\" ({}) accepts inputs list of length 2 or 3, namely [query, value] or "
        "[query, value, key], received {} inputs",
        name(), class_name(), shapes.size());
  }
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    check_sequence(*this, shapes[i], i, i == 0 ? "query" : i == 1 ? "value" : "key");
  }
  const Shape& k = shapes.size() == 3 ? shapes[2] : shapes[1];
  if (shapes[0][2] != k[2]) {
    throw Error(
        "Layer \"{}\" ({}): query and key need the same features, received query {} and key {}",
        name(), class_name(), shape_str(shapes[0]), shape_str(k));
  }
  if (additive_) {
    if (use_scale_) scale_ = add_weight("scale", {shapes[0][2]}, "glorot_uniform");
    return;
  }
  if (use_scale_) scale_ = add_weight("scale", {}, "ones");
  if (score_mode_ == "concat") concat_score_weight_ = add_weight("concat_score_weight", {}, "ones");
}

std::vector<SymbolicTensor> BaseAttentionLayer::call_list(const std::vector<SymbolicTensor>& xs) {
  const CallRecord o = current();
  if (xs.size() != 2 && xs.size() != 3) {
    throw Error("Layer \"{}\" ({}) accepts inputs list of length 2 or 3, received {}", name(),
                class_name(), xs.size());
  }
  const SymbolicTensor& q = xs[0];
  const SymbolicTensor& v = xs[1];
  const SymbolicTensor& k = xs.size() == 3 ? xs[2] : v;
  SymbolicTensor scores;
  if (additive_ || score_mode_ == "concat") {
    // [N, T, 1, D] + [N, 1, S, D] -> [N, T, S, D]
    SymbolicTensor sum = ops::add(ops::expand_dims(q, -2), ops::expand_dims(k, -3));
    if (additive_) {
      SymbolicTensor t = ops::tanh(sum);
      if (use_scale_) t = ops::multiply(scale_, t);
      scores = ops::sum(t, {-1});
    } else {
      if (use_scale_) sum = ops::multiply(scale_, sum);
      scores = ops::multiply(concat_score_weight_, ops::sum(ops::tanh(sum), {-1}));
    }
  } else {
    scores = ops::matmul(q, ops::transpose(k, {0, 2, 1}));
    if (use_scale_) scores = ops::multiply(scores, scale_);
  }
  // Keras's _calculate_score_mask: the value mask [N, 1, S] (and the causal mask).
  const SymbolicTensor value_mask = mask_as(v, 1);
  SymbolicTensor weights = ops::masked_softmax(scores, value_mask, o.use_causal_mask);
  SymbolicTensor dropped = weights;
  if (dropout_ > 0.0) dropped = ops::dropout(weights, static_cast<float>(dropout_));
  SymbolicTensor result = ops::matmul(dropped, v);
  const SymbolicTensor query_mask = masking::mask_of(q);
  if (query_mask.defined()) {
    result = ops::multiply(result, ops::expand_dims(query_mask, -1));
    masking::set_mask(result, query_mask);
  }
  if (o.return_attention_scores) return {result, weights};
  return {result};
}

Config BaseAttentionLayer::get_config() const {
  Config c = Layer::get_config();
  c["use_scale"] = use_scale_;
  if (!additive_) c["score_mode"] = score_mode_;
  c["dropout"] = dropout_;
  return c;
}

LayerRef BaseAttentionLayer::from_config(const Config& config, bool additive) {
  const char* cls = additive ? "AdditiveAttention" : "Attention";
  const std::string where = fmt::format("{} \"{}\"", cls, config::name_of(config));
  LayerRef layer;
  try {
    if (additive) {
      auto o = config.get<AdditiveAttentionOptions>();
      o.name = config::name_of(config);
      layer = AdditiveAttention(std::move(o));
    } else {
      auto o = config.get<AttentionOptions>();
      o.name = config::name_of(config);
      layer = Attention(std::move(o));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error("{}: malformed config: {}", where, e.what());
  }
  layer->apply_base_config(config);
  return layer;
}

LayerHandle<BaseAttentionLayer> Attention(AttentionOptions options) {
  return make_layer<BaseAttentionLayer>(false, options.use_scale, options.score_mode,
                                        options.dropout, options.name);
}
LayerHandle<BaseAttentionLayer> AdditiveAttention(AdditiveAttentionOptions options) {
  return make_layer<BaseAttentionLayer>(true, options.use_scale, "dot", options.dropout,
                                        options.name);
}

}  // namespace plexus::layers
