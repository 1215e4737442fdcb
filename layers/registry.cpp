#include "layers/registry.hpp"

#include "core/json.hpp"
#include "graph/input_layer.hpp"
#include "layers/activations.hpp"
#include "layers/attention.hpp"
#include "layers/bidirectional.hpp"
#include "layers/convolution.hpp"
#include "layers/core.hpp"
#include "layers/embedding.hpp"
#include "layers/lambda.hpp"
#include "layers/merging.hpp"
#include "layers/normalization.hpp"
#include "layers/pooling.hpp"
#include "layers/preprocessing.hpp"
#include "layers/preprocessing_image.hpp"
#include "layers/recurrent.hpp"
#include "layers/regularization.hpp"
#include "layers/reshaping.hpp"
#include "layers/time_distributed.hpp"

namespace plexus {

namespace {
template <typename F>
Registry<Layer>::Factory factory(F from_config) {
  return [from_config](const Config& c) { return from_config(c).get(); };
}

void add_builtins(Registry<Layer>& r) {
  using namespace layers;
  r.add("InputLayer", factory(graph::InputLayer::from_config));
  r.add("Dense", factory(DenseLayer::from_config));
  r.add("Activation", factory(ActivationLayer::from_config));
  r.add("Dropout", factory(DropoutLayer::from_config));
  r.add("Flatten", factory(FlattenLayer::from_config));
  r.add("Reshape", factory(ReshapeLayer::from_config));
  r.add("Add", factory(MergeLayer::from_config<AddLayer>));
  r.add("Subtract", factory(MergeLayer::from_config<SubtractLayer>));
  r.add("Multiply", factory(MergeLayer::from_config<MultiplyLayer>));
  r.add("Average", factory(MergeLayer::from_config<AverageLayer>));
  r.add("Maximum", factory(MergeLayer::from_config<MaximumLayer>));
  r.add("Minimum", factory(MergeLayer::from_config<MinimumLayer>));
  r.add("Concatenate", factory(ConcatenateLayer::from_config));
  r.add("Dot", factory(DotLayer::from_config));
  // The image family (configs in layers/image_config.cpp). A class serving several Keras
  // classes takes its rank (and pooling mode) from the name it is registered under.
  auto ranked = [](auto from_config, std::size_t rank) {
    return factory([from_config, rank](const Config& c) { return from_config(c, rank); });
  };
  auto pooled = [](std::size_t rank, bool max, auto from_config) {
    return factory([from_config, rank, max](const Config& c) { return from_config(c, rank, max); });
  };
  r.add("Conv1D", ranked(ConvLayer::from_config, 1), {"Convolution1D"});
  r.add("Conv2D", ranked(ConvLayer::from_config, 2), {"Convolution2D"});
  r.add("Conv1DTranspose", ranked(ConvTransposeLayer::from_config, 1), {"Convolution1DTranspose"});
  r.add("Conv2DTranspose", ranked(ConvTransposeLayer::from_config, 2), {"Convolution2DTranspose"});
  r.add("DepthwiseConv1D", ranked(DepthwiseConvLayer::from_config, 1));
  r.add("DepthwiseConv2D", ranked(DepthwiseConvLayer::from_config, 2));
  r.add("SeparableConv1D", ranked(SeparableConvLayer::from_config, 1), {"SeparableConvolution1D"});
  r.add("SeparableConv2D", ranked(SeparableConvLayer::from_config, 2), {"SeparableConvolution2D"});
  r.add("MaxPooling1D", pooled(1, true, PoolingLayer::from_config), {"MaxPool1D"});
  r.add("MaxPooling2D", pooled(2, true, PoolingLayer::from_config), {"MaxPool2D"});
  r.add("AveragePooling1D", pooled(1, false, PoolingLayer::from_config), {"AvgPool1D"});
  r.add("AveragePooling2D", pooled(2, false, PoolingLayer::from_config), {"AvgPool2D"});
  r.add("GlobalMaxPooling1D", pooled(1, true, GlobalPoolingLayer::from_config),
        {"GlobalMaxPool1D"});
  r.add("GlobalMaxPooling2D", pooled(2, true, GlobalPoolingLayer::from_config),
        {"GlobalMaxPool2D"});
  r.add("GlobalAveragePooling1D", pooled(1, false, GlobalPoolingLayer::from_config),
        {"GlobalAvgPool1D"});
  r.add("GlobalAveragePooling2D", pooled(2, false, GlobalPoolingLayer::from_config),
        {"GlobalAvgPool2D"});
  r.add("ZeroPadding1D", ranked(ZeroPaddingLayer::from_config, 1));
  r.add("ZeroPadding2D", ranked(ZeroPaddingLayer::from_config, 2));
  r.add("Cropping1D", ranked(CroppingLayer::from_config, 1));
  r.add("Cropping2D", ranked(CroppingLayer::from_config, 2));
  r.add("UpSampling1D", ranked(UpSamplingLayer::from_config, 1));
  r.add("UpSampling2D", ranked(UpSamplingLayer::from_config, 2));
  r.add("SpatialDropout1D", ranked(SpatialDropoutLayer::from_config, 1));
  r.add("SpatialDropout2D", ranked(SpatialDropoutLayer::from_config, 2));
  // 3-D variants of the rank-generic image layers (issue 25).
  r.add("ZeroPadding3D", ranked(ZeroPaddingLayer::from_config, 3));
  r.add("Cropping3D", ranked(CroppingLayer::from_config, 3));
  r.add("UpSampling3D", ranked(UpSamplingLayer::from_config, 3));
  r.add("SpatialDropout3D", ranked(SpatialDropoutLayer::from_config, 3));
  r.add("GlobalMaxPooling3D", pooled(3, true, GlobalPoolingLayer::from_config),
        {"GlobalMaxPool3D"});
  r.add("GlobalAveragePooling3D", pooled(3, false, GlobalPoolingLayer::from_config),
        {"GlobalAvgPool3D"});
  for (std::size_t rank : {1, 2, 3}) {
    const std::string d = std::to_string(rank) + "D";
    r.add("AdaptiveAveragePooling" + d, pooled(rank, false, AdaptivePoolingLayer::from_config));
    r.add("AdaptiveMaxPooling" + d, pooled(rank, true, AdaptivePoolingLayer::from_config));
  }
  r.add("Identity", factory(IdentityLayer::from_config));
  r.add("Permute", factory(PermuteLayer::from_config));
  r.add("RepeatVector", factory(RepeatVectorLayer::from_config));
  r.add("GaussianNoise", factory(GaussianNoiseLayer::from_config));
  r.add("GaussianDropout", factory(GaussianDropoutLayer::from_config));
  r.add("AlphaDropout", factory(AlphaDropoutLayer::from_config));
  r.add("BatchNormalization", factory(BatchNormalizationLayer::from_config));
  r.add("LayerNormalization", factory(LayerNormalizationLayer::from_config));
  r.add("GroupNormalization", factory(GroupNormalizationLayer::from_config));
  r.add("UnitNormalization", factory(UnitNormalizationLayer::from_config));
  r.add("RMSNormalization", factory(RMSNormalizationLayer::from_config));
  r.add("ReLU", factory(ReLULayer::from_config));
  r.add("LeakyReLU", factory(LeakyReLULayer::from_config));
  r.add("PReLU", factory(PReLULayer::from_config));
  r.add("ELU", factory(ELULayer::from_config));
  r.add("Softmax", factory(SoftmaxLayer::from_config));
  r.add("Normalization", factory(NormalizationLayer::from_config));
  r.add("Rescaling", factory(RescalingLayer::from_config));
  r.add("Resizing", factory(ResizingLayer::from_config));
  r.add("CenterCrop", factory(CenterCropLayer::from_config));
  r.add("RandomFlip", [](const Config& c) {
    return RandomImageLayer::from_config(c, RandomImageLayer::Kind::Flip).get();
  });
  r.add("RandomContrast", [](const Config& c) {
    return RandomImageLayer::from_config(c, RandomImageLayer::Kind::Contrast).get();
  });
  r.add("RandomBrightness", [](const Config& c) {
    return RandomImageLayer::from_config(c, RandomImageLayer::Kind::Brightness).get();
  });
  r.add("RandomRotation", [](const Config& c) {
    return RandomImageLayer::from_config(c, RandomImageLayer::Kind::Rotation).get();
  });
  r.add("RandomZoom", [](const Config& c) {
    return RandomImageLayer::from_config(c, RandomImageLayer::Kind::Zoom).get();
  });
  r.add("RandomTranslation", [](const Config& c) {
    return RandomImageLayer::from_config(c, RandomImageLayer::Kind::Translation).get();
  });
  // Registered so that a Keras file with a Lambda gets Lambda's own message (a Python
  // function cannot be loaded), not "unknown layer".
  r.add("Lambda", factory(LambdaLayer::from_config));
  // The sequence family.
  r.add("Embedding", factory(EmbeddingLayer::from_config));
  r.add("Masking", factory(MaskingLayer::from_config));
  r.add("SimpleRNN", factory(SimpleRNNLayer::from_config));
  r.add("LSTM", factory(LSTMLayer::from_config));
  r.add("GRU", factory(GRULayer::from_config));
  r.add("Bidirectional", factory(BidirectionalLayer::from_config));
  r.add("MultiHeadAttention", factory(MultiHeadAttentionLayer::from_config));
  r.add("Attention",
        factory([](const Config& c) { return BaseAttentionLayer::from_config(c, false); }));
  r.add("AdditiveAttention",
        factory([](const Config& c) { return BaseAttentionLayer::from_config(c, true); }));
  r.add("TimeDistributed", factory(TimeDistributedLayer::from_config));
}
}  // namespace

Registry<Layer>& layer_registry() {
  static Registry<Layer> r("layer", "keras.layers",
                           "px::register_layer<{class}>(\"{registered}\") (a class with "
                           "get_config() and a static from_config)");
  static const bool filled = (add_builtins(r), true);
  (void)filled;
  return r;
}

namespace layers {
Config serialize(const Layer& layer) { return layer_registry().serialize(layer); }
LayerRef deserialize(const Config& config) { return LayerRef(layer_registry().create(config)); }
}  // namespace layers

}  // namespace plexus
