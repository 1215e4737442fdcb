// Image preprocessing layers (Keras 3's keras.layers.Rescaling, Resizing, CenterCrop and
// the random augmentation layers), on [batch, height, width, channels] images
// ("channels_last") or [batch, channels, height, width] ("channels_first").
//
//   auto x = px::Input({32, 32, 3});
//   auto h = px::layers::Rescaling(1.0 / 255)(x);                  // x * scale + offset
//   h = px::layers::Resizing(24, 24, px::kw::interpolation = "bicubic")(h);
//   h = px::layers::CenterCrop(20, 20)(h);
//   h = px::layers::RandomFlip("horizontal", px::kw::seed = 1)(h);  // identity at inference
//
// Outside a model, a layer is called eagerly on a batch: `layer(images, kw::training = true)`
// (a px::data::Dataset map after batch()).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "core/keywords.hpp"
#include "graph/layer.hpp"

// Keywords of the image preprocessing layers (crop_to_aspect_ratio, pad_to_aspect_ratio
// and interpolation are shared with optim/data/utils.hpp and UpSampling).
PLEXUS_KEYWORD(height, std::ptrdiff_t)
PLEXUS_KEYWORD(width, std::ptrdiff_t)
PLEXUS_KEYWORD(offset, double)
PLEXUS_KEYWORD(fill_mode, std::string)
PLEXUS_KEYWORD(fill_value, double)
PLEXUS_KEYWORD(antialias, bool)
PLEXUS_KEYWORD(value_range, std::vector<double>)
PLEXUS_KEYWORD(height_factor, double)
PLEXUS_KEYWORD(width_factor, double)

namespace plexus::layers {

// --- Rescaling ------------------------------------------------------------------------------

struct RescalingOptions {
  double offset = 0.0;
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// Rescaling: y = x * scale + offset, any shape (Keras: 1/255 maps [0, 255] to [0, 1];
// 1/127.5 with offset -1 maps it to [-1, 1]). Differentiable, no weights.
class RescalingLayer : public Layer {
 public:
  RescalingLayer(double scale, RescalingOptions options);
  std::string class_name() const override { return "Rescaling"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override { return input_shape; }
  double scale() const { return scale_; }
  double offset() const { return options_.offset; }
  // {"name", "trainable", "dtype", "scale", "offset"}
  Config get_config() const override;
  static LayerRef from_config(const Config& config);

 private:
  double scale_;
  RescalingOptions options_;
};

// --- Resizing -------------------------------------------------------------------------------

struct ResizingOptions {
  // "bilinear", "nearest", "bicubic" (Keys, a = -0.5), "lanczos3", "lanczos5": Keras 3's
  // (jax.image.resize's) half-pixel sampling, kernel weights normalised to sum 1.
  std::string interpolation = "bilinear";
  bool crop_to_aspect_ratio = false;   // crop the largest centred window of the target's ratio
  bool pad_to_aspect_ratio = false;    // pad evenly with fill_value to the target's ratio
  std::string fill_mode = "constant";  // the only fill mode Keras has for Resizing
  double fill_value = 0.0;
  bool antialias = false;  // widen the kernel by the downscaling factor (no effect upscaling)
  std::string data_format = "channels_last";
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// Resizing: [N, H, W, C] -> [N, height, width, C]. Each output pixel is a fixed linear
// combination of input pixels (a separable kernel along H then W), so the layer is
// differentiable with respect to its input. Needs a known H and W.
class ResizingLayer : public Layer {
 public:
  ResizingLayer(Dim height, Dim width, ResizingOptions options);
  std::string class_name() const override { return "Resizing"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  const ResizingOptions& options() const { return options_; }
  // {"name", "trainable", "dtype", "data_format", "height", "width", "interpolation",
  //  "crop_to_aspect_ratio", "pad_to_aspect_ratio", "fill_mode", "fill_value", "antialias"}
  Config get_config() const override;
  static LayerRef from_config(const Config& config);

 private:
  Dim height_, width_;
  ResizingOptions options_;
  bool channels_first_;
};

// --- CenterCrop -----------------------------------------------------------------------------

struct CenterCropOptions {
  std::string data_format = "channels_last";
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// CenterCrop: [N, H, W, C] -> [N, height, width, C], the central window (start
// int((H - height) / 2)). When the image is smaller than the target along an axis, Keras
// resizes instead: the largest centred window of the target's aspect ratio, bilinearly
// resized (smart_resize).
class CenterCropLayer : public Layer {
 public:
  CenterCropLayer(Dim height, Dim width, CenterCropOptions options);
  std::string class_name() const override { return "CenterCrop"; }
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  // {"name", "trainable", "dtype", "data_format", "height", "width"}
  Config get_config() const override;
  static LayerRef from_config(const Config& config);

 private:
  Dim height_, width_;
  CenterCropOptions options_;
  bool channels_first_;
};

// --- random augmentation ----------------------------------------------------------------------
// Identity at inference (Keras's predict); in training each image of the batch gets its own
// random parameters. With a seed, a fresh model draws the same sequence every run (Keras's
// SeedGenerator); without one the draws come from px::set_random_seed's generator.

// Keras's factor: one number f (a range from it, per class) or a (lower, upper) pair.
struct FactorRange {
  FactorRange() = default;
  FactorRange(double f) : values{f} {}  // NOLINT: implicit, as Keras takes a bare number
  FactorRange(std::initializer_list<double> v) : values(v) {}
  std::vector<double> values;
};

struct RandomFlipOptions {
  std::optional<std::int64_t> seed = std::nullopt;
  std::string data_format = "channels_last";
  std::string name{};
  Shape input_shape{};  // to start a Sequential
};

// RandomContrast and RandomBrightness.
struct RandomColorOptions {
  std::vector<double> value_range = {0, 255};  // outputs are clipped to it
  std::optional<std::int64_t> seed = std::nullopt;
  std::string data_format = "channels_last";
  std::string name{};
  Shape input_shape{};
};

// RandomRotation, RandomZoom, RandomTranslation: an affine resampling of each image.
struct RandomAffineOptions {
  std::optional<FactorRange> width_factor = std::nullopt;  // RandomZoom: None = height's zoom
  std::string fill_mode = "reflect";       // "constant", "nearest", "wrap", "reflect", "mirror"
  std::string interpolation = "bilinear";  // or "nearest"
  std::optional<std::int64_t> seed = std::nullopt;
  double fill_value = 0.0;
  std::string data_format = "channels_last";
  std::string name{};
  Shape input_shape{};
};

// The random image layers: one class, with Keras's class name and config per kind.
//  Flip: each image flipped (mode "horizontal", "vertical", "horizontal_and_vertical": one
//    draw per image, both axes together) with probability 1/2.
//  Contrast: factor f gives (0, f) as Keras 3 stores it; c ~ U[1 - lower, 1 + upper] per
//    image; y = clip((x - mean_hw) * c + mean_hw, value_range), mean per image and channel.
//  Brightness: f gives (-f, f); y = clip(x + U[lower, upper] * (high - low), value_range).
//  Rotation: angle ~ U[lower, upper] * 2 pi about the image centre.
//  Zoom: zoom ~ 1 + U[lower, upper] per axis (width None: the height's draw); > 1 zooms out.
//  Translation: shift ~ U[lower, upper] * size per axis.
// The affine kinds sample input (x, y) = A (x_out, y_out) + b in pixel indices, with
// `interpolation` and `fill_mode` outside the image. Gradients flow to x in training too.
class RandomImageLayer : public Layer {
 public:
  enum class Kind { Flip, Contrast, Brightness, Rotation, Zoom, Translation };
  struct Spec {
    Kind kind = Kind::Flip;
    std::string mode = "horizontal_and_vertical";     // Flip
    std::vector<double> factor;                       // Contrast/Brightness/Rotation: (lo, hi)
    std::vector<double> height_factor, width_factor;  // Zoom/Translation, as given
    std::vector<double> value_range = {0, 255};
    std::string fill_mode = "reflect";
    std::string interpolation = "bilinear";
    double fill_value = 0.0;
    std::optional<std::int64_t> seed;
    std::string data_format = "channels_last";
  };
  RandomImageLayer(Spec spec, std::string name, Shape input_shape);
  std::string class_name() const override;
  SymbolicTensor call(const SymbolicTensor& x) override;
  Shape compute_output_shape(const Shape& input_shape) override;
  const Spec& spec() const { return spec_; }
  Config get_config() const override;
  static LayerRef from_config(const Config& config, Kind kind);

 private:
  Spec spec_;
  bool channels_first_;
};

LayerHandle<RandomImageLayer> RandomFlip(std::string mode = "horizontal_and_vertical",
                                         RandomFlipOptions options = {});
LayerHandle<RandomImageLayer> RandomContrast(FactorRange factor, RandomColorOptions options = {});
LayerHandle<RandomImageLayer> RandomBrightness(FactorRange factor, RandomColorOptions options = {});
LayerHandle<RandomImageLayer> RandomRotation(FactorRange factor, RandomAffineOptions options = {});
LayerHandle<RandomImageLayer> RandomZoom(FactorRange height_factor,
                                         RandomAffineOptions options = {});
LayerHandle<RandomImageLayer> RandomTranslation(FactorRange height_factor, FactorRange width_factor,
                                                RandomAffineOptions options = {});
PLEXUS_KEYWORD_FACTORY_DEFAULTED(LayerHandle<RandomImageLayer>, RandomFlip, RandomFlipOptions,
                                 (std::string, mode, "horizontal_and_vertical"))
PLEXUS_KEYWORD_FACTORY(LayerHandle<RandomImageLayer>, RandomContrast, RandomColorOptions,
                       (FactorRange, factor))
PLEXUS_KEYWORD_FACTORY(LayerHandle<RandomImageLayer>, RandomBrightness, RandomColorOptions,
                       (FactorRange, factor))
PLEXUS_KEYWORD_FACTORY(LayerHandle<RandomImageLayer>, RandomRotation, RandomAffineOptions,
                       (FactorRange, factor))
PLEXUS_KEYWORD_FACTORY(LayerHandle<RandomImageLayer>, RandomZoom, RandomAffineOptions,
                       (FactorRange, height_factor))
PLEXUS_KEYWORD_FACTORY(LayerHandle<RandomImageLayer>, RandomTranslation, RandomAffineOptions,
                       (FactorRange, height_factor), (FactorRange, width_factor))

LayerHandle<RescalingLayer> Rescaling(double scale, RescalingOptions options = {});
LayerHandle<ResizingLayer> Resizing(Dim height, Dim width, ResizingOptions options = {});
LayerHandle<CenterCropLayer> CenterCrop(Dim height, Dim width, CenterCropOptions options = {});

PLEXUS_KEYWORD_FACTORY(LayerHandle<RescalingLayer>, Rescaling, RescalingOptions, (double, scale))
PLEXUS_KEYWORD_FACTORY(LayerHandle<ResizingLayer>, Resizing, ResizingOptions, (Dim, height),
                       (Dim, width))
PLEXUS_KEYWORD_FACTORY(LayerHandle<CenterCropLayer>, CenterCrop, CenterCropOptions, (Dim, height),
                       (Dim, width))

}  // namespace plexus::layers
