#include "optim/gradient_check.hpp"

#include <algorithm>
#include <cmath>

#include "core/random.hpp"
#include "optim/detail/finite_difference.hpp"
#include "optim/train_state.hpp"

namespace plexus::testing {

double check_gradients(Model& model, const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                       GradientCheckOptions options) {
  // Reuse compute_gradients' data checks and layout, then drive the executor directly in
  // inference mode so both sides see the same deterministic function.
  optim::TrainState& st = optim::TrainAccess::state(model);
  // The first training call builds the model (a Sequential may wait for data) and its loss
  // graph; later checks reuse them.
  if (!st.executor) model.compute_gradients(Data(x), Data(y));
  auto& ex = *st.executor;
  optim::Dataset d = optim::make_dataset(model, st, Data(x), Data(y), std::nullopt, {});
  std::vector<const Tensor*> feeds;
  optim::feed_pointers(d, feeds);

  const Context ctx{.training = false};
  auto loss_at = [&]() {
    ex.forward(feeds, ctx);
    return static_cast<double>(ex.output(st.loss_out).data()[0]);
  };
  optim::backprop(st, feeds, ctx);
  std::vector<Tensor> analytic;
  for (std::size_t i = 0; i < st.grad_ptrs.size(); ++i) {
    // No gradient: the loss does not depend on the weight, so the numeric one is 0 too.
    const Tensor* g = st.grad_ptrs[i];
    analytic.push_back(g ? *g : Tensor(xt::zeros<float>(st.trainable[i].value().shape())));
  }

  double worst = 0.0;
  std::mt19937 pick(12345);
  for (std::size_t i = 0; i < st.trainable.size(); ++i) {
    Tensor& w = st.trainable[i].value();
    std::vector<std::size_t> idx(w.size());
    for (std::size_t k = 0; k < idx.size(); ++k) idx[k] = k;
    if (idx.size() > options.max_entries_per_weight) {
      std::shuffle(idx.begin(), idx.end(), pick);
      idx.resize(options.max_entries_per_weight);
    }
    for (std::size_t k : idx) {
      const double numeric = detail::central_difference(w, k, options.step, loss_at);
      worst = std::max(worst, detail::gradient_error(analytic[i].data()[k], numeric));
    }
  }
  return worst;
}

}  // namespace plexus::testing
