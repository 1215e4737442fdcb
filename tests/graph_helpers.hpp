// Shared helpers for the graph and layer suites: run a model through the executor
// (forward, and backward from a fixed cotangent) and check its gradients against central
// finite differences — one checker for every layer and graph test (STYLE.md, item 8).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "core/error.hpp"
#include "graph/executor.hpp"
#include "graph/ops.hpp"
#include "optim/detail/finite_difference.hpp"
#include "optim/model.hpp"

namespace plexus::test {

// A tensor of the given shape with entries uniform in [lo, hi), reproducible from `seed`.
inline Tensor random_tensor(const Shape& shape, unsigned seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  Tensor t;
  resize_to(t, shape);
  for (float& v : t) v = u(rng);
  return t;
}

inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(shape_of(a), shape_of(b));
  if (shape_of(a) != shape_of(b)) return 1e30;
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    m = std::max(m, std::abs(static_cast<double>(a.data()[i]) - b.data()[i]));
  }
  return m;
}

// Forward and backward through a model's graph with the executor. The scalar being
// differentiated is L = sum_o sum(output_o * cotangent_o).
class GraphRunner {
 public:
  GraphRunner(const Model& model, std::vector<Variable> wrt, bool wrt_feeds = false)
      : wrt_(std::move(wrt)) {
    std::vector<NodePtr> feeds, outs;
    for (auto& t : model.inputs()) feeds.push_back(t.node());
    for (auto& t : model.outputs()) outs.push_back(t.node());
    graph::Executor::Options options;
    for (auto& v : wrt_) options.wrt_variables.push_back(v.data());
    options.wrt_feeds = wrt_feeds;
    exec_ = std::make_unique<graph::Executor>(feeds, outs, options);
  }

  std::vector<Tensor> forward(const std::vector<Tensor>& xs, bool training = false) {
    std::vector<const Tensor*> feeds;
    for (auto& x : xs) feeds.push_back(&x);
    exec_->forward(feeds, Context{.training = training});
    std::vector<Tensor> outs;
    for (std::size_t o = 0; o < exec_->num_outputs(); ++o) outs.push_back(exec_->output(o));
    return outs;
  }
  // The outputs of the last forward().
  const Tensor& output(std::size_t i) const { return exec_->output(i); }

  double loss(const std::vector<Tensor>& xs, const std::vector<Tensor>& cotangents) {
    auto outs = forward(xs);
    double l = 0;
    for (std::size_t o = 0; o < outs.size(); ++o) {
      for (std::size_t i = 0; i < outs[o].size(); ++i) {
        l += static_cast<double>(outs[o].data()[i]) * cotangents[o].data()[i];
      }
    }
    return l;
  }

  // Gradients of L with respect to the `wrt` variables (then the feeds, if asked).
  std::vector<Tensor> gradients(const std::vector<Tensor>& xs,
                                const std::vector<Tensor>& cotangents, bool training = false) {
    forward(xs, training);
    std::vector<const Tensor*> seeds;
    for (auto& c : cotangents) seeds.push_back(&c);
    exec_->backward(seeds, Context{.training = training});
    std::vector<Tensor> grads;
    for (std::size_t i = 0; i < wrt_.size(); ++i) {
      const Tensor* g = exec_->variable_grad(i);
      grads.push_back(g ? *g : Tensor(xt::zeros<float>(wrt_[i].value().shape())));
    }
    return grads;
  }

  // The reverse pass alone, after a forward() (variable gradients, zeros when none).
  std::vector<Tensor> backward(const std::vector<Tensor>& cotangents, bool training = false) {
    std::vector<const Tensor*> seeds;
    for (auto& c : cotangents) seeds.push_back(&c);
    exec_->backward(seeds, Context{.training = training});
    std::vector<Tensor> grads;
    for (std::size_t i = 0; i < wrt_.size(); ++i) {
      const Tensor* g = exec_->variable_grad(i);
      grads.push_back(g ? *g : Tensor(xt::zeros<float>(wrt_[i].value().shape())));
    }
    return grads;
  }

  std::vector<Tensor> feed_gradients(const std::vector<Tensor>& xs,
                                     const std::vector<Tensor>& cotangents, bool training = false) {
    gradients(xs, cotangents, training);
    std::vector<Tensor> grads;
    for (std::size_t i = 0; i < xs.size(); ++i) grads.push_back(exec_->feed_grad(i));
    return grads;
  }

 private:
  std::vector<Variable> wrt_;
  std::unique_ptr<graph::Executor> exec_;
};

// One cotangent per model output, shaped like the output for a batch of `batch`.
inline std::vector<Tensor> cotangents_for(const Model& model, std::size_t batch, unsigned seed) {
  std::vector<Tensor> cots;
  for (auto& t : model.outputs()) {
    Shape s = t.shape();
    s[0] = static_cast<Dim>(batch);
    cots.push_back(random_tensor(s, seed++));
  }
  return cots;
}

// Checks d L / d (every trainable weight) and d L / d (every input) of `model` at `xs`
// against central differences in double-checked float arithmetic. Returns the largest
// error relative to max(1, |numeric|).
inline double gradient_error(const Model& model, std::vector<Tensor> xs, float h = 1e-2f) {
  auto weights = model.trainable_weights();
  GraphRunner runner(model, weights, /*wrt_feeds=*/true);
  auto cots = cotangents_for(model, xs[0].shape()[0], 1234);
  auto analytic = runner.gradients(xs, cots);
  auto analytic_feeds = runner.feed_gradients(xs, cots);
  double worst = 0;
  auto check = [&](Tensor& value, const Tensor& grad) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      const double numeric =
          detail::central_difference(value, i, h, [&] { return runner.loss(xs, cots); });
      worst = std::max(worst, detail::gradient_error(grad.data()[i], numeric));
    }
  };
  for (std::size_t w = 0; w < weights.size(); ++w) check(weights[w].value(), analytic[w]);
  for (std::size_t f = 0; f < xs.size(); ++f) check(xs[f], analytic_feeds[f]);
  return worst;
}

// Whether `part` occurs in `s` (error message checks).
inline bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// ../shared/keras_files next to the repository (or $PLEXUS_KERAS_FILES). ctest sets
// PLEXUS_TEST_DATA to <repo>/tests/data.
inline std::filesystem::path keras_files() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("PLEXUS_KERAS_FILES")) return env;
  const char* data = std::getenv("PLEXUS_TEST_DATA");
  const fs::path repo = data ? fs::absolute(data).parent_path().parent_path()
                             : fs::absolute(__FILE__).parent_path().parent_path();
  return repo.parent_path() / "shared" / "keras_files";
}

// "# shape: [4, 3]" then rows of numbers (the zoo's .input0.txt / .output0.txt).
inline Tensor read_text_tensor(const std::filesystem::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::string header;
  std::getline(in, header);
  Shape shape;
  const auto lb = header.find('['), rb = header.find(']');
  std::stringstream dims(header.substr(lb + 1, rb - lb - 1));
  for (std::string d; std::getline(dims, d, ',');) shape.push_back(std::stol(d));
  std::vector<float> values;
  for (double v; in >> v;) values.push_back(static_cast<float>(v));
  Tensor t;
  resize_to(t, shape);
  EXPECT_EQ(values.size(), t.size()) << path;
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

// The message of the px::Error thrown by f ("" and a test failure if none is thrown).
template <typename F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a px::Error";
  return {};
}

// API.md's example of a custom layer: composes differentiable ops, gets its VJP for free.
class Scale : public Layer {
 public:
  using Layer::Layer;
  void build(const Shape& input_shape) override {
    alpha_ = add_weight("alpha", {input_shape.back()}, "ones");
  }
  SymbolicTensor call(const SymbolicTensor& x) override { return ops::multiply(x, alpha_); }

 private:
  SymbolicTensor alpha_;
};

// A temporary folder of this test process, removed with its contents at exit. CTest runs
// the cases of one test binary as parallel processes, so fixed names under /tmp collide.
inline std::filesystem::path scratch_dir() {
  struct Dir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("plexus_test_" + std::to_string(::getpid()));
    Dir() { std::filesystem::create_directories(path); }
    ~Dir() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Dir dir;
  return dir.path;
}

}  // namespace plexus::test
