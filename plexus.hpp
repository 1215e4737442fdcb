// plexus: the Keras Functional API in C++. One header for everything:
//   #include <plexus.hpp>
//   namespace px = plexus;
//
// Besides plexus, it brings the xtensor headers an example needs, so a NumPy-style line
// compiles without hunting for includes:
//   <xtensor/xarray.hpp>        px::Tensor (xt::xarray<float>), xt::zeros/ones/arange (xbuilder)
//   <xtensor/xview.hpp>         xt::view(x, xt::all(), xt::range(0, 13)), xt::col, xt::row
//   <xtensor/xmath.hpp>         element-wise math, xt::sum, xt::mean, xt::amax, ...
//   <xtensor/xsort.hpp>         xt::argmax, xt::argmin, xt::sort, xt::argsort
//   <xtensor/xio.hpp>           std::cout << tensor
//   <xtensor/xrandom.hpp>       xt::random::rand / randn / randint / shuffle
//   <xtensor/xmanipulation.hpp> xt::transpose, xt::squeeze, xt::expand_dims, xt::flatten
//   <xtensor/xindex_view.hpp>   xt::filter(x, mask)
// For reshaping with -1 and per-column statistics use px::utils::reshape / mean / stddev
// (core/preprocessing.hpp): xtensor 0.24's reshape_view(x, {-1, n}) and stddev(x, {0})
// crash instead of failing with a message.
#pragma once

#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xindex_view.hpp>
#include <xtensor/xio.hpp>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xrandom.hpp>
#include <xtensor/xsort.hpp>
#include <xtensor/xview.hpp>

#include "core/blas.hpp"
#include "core/config.hpp"
#include "core/constraints.hpp"
#include "core/data_utils.hpp"
#include "core/datasets.hpp"
#include "core/download.hpp"
#include "core/error.hpp"
#include "core/initializers.hpp"
#include "core/kernel.hpp"
#include "core/kernels.hpp"
#include "core/keywords.hpp"
#include "core/preprocessing.hpp"
#include "core/random.hpp"
#include "core/registry.hpp"
#include "core/tensor.hpp"
#include "graph/dot.hpp"
#include "graph/executor.hpp"
#include "graph/function.hpp"
#include "graph/functional.hpp"
#include "graph/layer.hpp"
#include "graph/ops.hpp"
#include "graph/predictor.hpp"
#include "graph/random_ops.hpp"
#include "graph/regularizers.hpp"
#include "graph/summary.hpp"
#include "graph/symbolic.hpp"
#include "layers/activations.hpp"
#include "layers/attention.hpp"
#include "layers/bidirectional.hpp"
#include "layers/convolution.hpp"
#include "layers/core.hpp"
#include "layers/embedding.hpp"
#include "layers/lambda.hpp"
#include "layers/masking.hpp"
#include "layers/merging.hpp"
#include "layers/normalization.hpp"
#include "layers/pooling.hpp"
#include "layers/preprocessing.hpp"
#include "layers/preprocessing_image.hpp"
#include "layers/recurrent.hpp"
#include "layers/registry.hpp"
#include "layers/regularization.hpp"
#include "layers/reshaping.hpp"
#include "layers/time_distributed.hpp"
#include "optim/callback.hpp"
#include "optim/callbacks.hpp"
#include "optim/data/dataset.hpp"
#include "optim/data/keras_datasets.hpp"
#include "optim/data/keras_datasets_pickled.hpp"
#include "optim/data/utils.hpp"
#include "optim/distribution.hpp"
#include "optim/gradient_check.hpp"
#include "optim/losses.hpp"
#include "optim/metrics.hpp"
#include "optim/model.hpp"
#include "optim/optimizers.hpp"
#include "optim/plot_history.hpp"
#include "optim/progbar.hpp"
#include "optim/saving/backup.hpp"
#include "optim/saving/checkpoint.hpp"
#include "optim/saving/onnx.hpp"
#include "optim/saving/saving.hpp"
#include "optim/schedules.hpp"
#include "optim/step_data.hpp"
#include "optim/value_and_grad.hpp"
