// Image files (keras/src/utils/image_utils.py, image_dataset_utils.py): decoding with
// libjpeg-turbo, libpng, giflib and stb_image (BMP); TensorFlow's resize;
// image_dataset_from_directory.
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <mutex>

// clang-format off
#include <jpeglib.h>
#include <png.h>
#include <gif_lib.h>
// clang-format on

// BMP: stb_image from Debian's libstb-dev, compiled here with only its BMP decoder, its
// functions static to this file (no symbol reaches the program) and no file I/O.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_FAILURE_USERMSG
#include <stb/stb_image.h>

#include "core/error.hpp"
#include "optim/data/detail/files.hpp"
#include "optim/data/detail/node.hpp"
#include "optim/data/utils.hpp"

namespace plexus::data {

void DirectoryDataset::throw_no_validation() {
  throw Error(
      "this dataset has no validation part: only subset = \"both\" returns (training, "
      "validation)");
}

Labels::Labels(const char* s) {
  const std::string v = s ? s : "";
  if (v == "inferred") {
    inferred = true;
  } else if (v.empty() || v == "none" || v == "None") {
    inferred = false;
  } else {
    throw Error(
        "`labels` argument should be a list/tuple of integer labels, of the same size as the "
        "number of image files in the target directory. If you wish to infer the labels from "
        "the subdirectory names in the target directory, pass `labels=\"inferred\"`. If you "
        "wish to get a dataset that only contains images (no labels), pass `labels=None`. "
        "Received: labels={}",
        v);
  }
}

}  // namespace plexus::data

namespace plexus::utils {

namespace {

// PIL's decompression-bomb limit (Image.MAX_IMAGE_PIXELS, an error above twice it): a
// header declaring more pixels is refused before anything is allocated.
constexpr std::uint64_t kMaxPixels = 2ull * 89478485ull;

std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw Error("Cannot open image file \"{}\"", path.string());
  const auto size = static_cast<std::size_t>(f.tellg());
  std::vector<std::uint8_t> bytes(size);
  f.seekg(0);
  if (size && !f.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size))) {
    throw Error("Cannot read image file \"{}\"", path.string());
  }
  return bytes;
}

// --- JPEG -----------------------------------------------------------------------------------
// libjpeg reports errors through error_exit, which must not return: it longjmps back to
// decode_jpeg's setjmp, which turns the message into a px::Error once no libjpeg frame is
// on the stack. Warnings (a truncated file: "Premature end of JPEG file", corrupt data)
// are errors too, as TensorFlow's decode_jpeg makes them.
struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

extern "C" void px_jpeg_error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}
extern "C" void px_jpeg_emit_message(j_common_ptr cinfo, int level) {
  if (level < 0) px_jpeg_error_exit(cinfo);  // a warning: corrupt or truncated data
}
extern "C" void px_jpeg_output_message(j_common_ptr) {}

// Decodes into `out` (its size set here); false with `message` filled on error. No C++
// object with a destructor is created between setjmp and the libjpeg calls.
bool decode_jpeg_raw(const std::uint8_t* bytes, std::size_t size, int channels, Image& out,
                     char* message) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = px_jpeg_error_exit;
  err.mgr.emit_message = px_jpeg_emit_message;
  err.mgr.output_message = px_jpeg_output_message;
  if (setjmp(err.jump)) {
    std::memcpy(message, err.message, JMSG_LENGTH_MAX);
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  if (static_cast<std::uint64_t>(cinfo.image_width) * cinfo.image_height > kMaxPixels) {
    std::snprintf(message, JMSG_LENGTH_MAX, "%u x %u pixels is more than the limit of %llu",
                  cinfo.image_width, cinfo.image_height,
                  static_cast<unsigned long long>(kMaxPixels));
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  if (channels == 1) {
    cinfo.out_color_space = JCS_GRAYSCALE;
  } else if (channels == 3 || channels == 4 || cinfo.jpeg_color_space != JCS_GRAYSCALE) {
    cinfo.out_color_space = JCS_RGB;
  }
  jpeg_start_decompress(&cinfo);
  out.height = cinfo.output_height;
  out.width = cinfo.output_width;
  out.channels = static_cast<std::size_t>(cinfo.output_components);
  out.pixels.resize(out.height * out.width * out.channels);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out.pixels.data() + cinfo.output_scanline * out.width * out.channels;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

bool encode_jpeg_raw(const Image& img, int quality, unsigned char** buffer, unsigned long* size,
                     char* message) {
  jpeg_compress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = px_jpeg_error_exit;
  err.mgr.output_message = px_jpeg_output_message;
  if (setjmp(err.jump)) {
    std::memcpy(message, err.message, JMSG_LENGTH_MAX);
    jpeg_destroy_compress(&cinfo);
    return false;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, buffer, size);
  cinfo.image_width = static_cast<JDIMENSION>(img.width);
  cinfo.image_height = static_cast<JDIMENSION>(img.height);
  cinfo.input_components = static_cast<int>(img.channels);
  cinfo.in_color_space = img.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row =
        const_cast<JSAMPROW>(img.pixels.data() + cinfo.next_scanline * img.width * img.channels);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}

// --- PNG (libpng's simplified API: it keeps its setjmp to itself) ---------------------------
Image decode_png(const std::uint8_t* bytes, std::size_t size, int channels,
                 const std::string& what) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes, size)) {
    throw Error("Cannot decode PNG image \"{}\": {}", what, image.message);
  }
  if (static_cast<std::uint64_t>(image.width) * image.height > kMaxPixels) {
    png_image_free(&image);
    throw Error("Cannot decode PNG image \"{}\": {} x {} pixels is more than the limit of {}", what,
                image.width, image.height, kMaxPixels);
  }
  int c = channels;
  if (c == 0) {
    const bool color = image.format & PNG_FORMAT_FLAG_COLOR;
    const bool alpha = image.format & PNG_FORMAT_FLAG_ALPHA;
    c = color ? (alpha ? 4 : 3) : (alpha ? 4 : 1);
  }
  image.format = c == 1 ? PNG_FORMAT_GRAY : c == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_RGBA;
  Image out;
  out.height = image.height;
  out.width = image.width;
  out.channels = static_cast<std::size_t>(c);
  out.pixels.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr)) {
    const std::string m = image.message;
    png_image_free(&image);
    throw Error("Cannot decode PNG image \"{}\": {}", what, m);
  }
  return out;
}

// --- BMP (stb_image): what PIL's load_img and TF's decode_bmp read ---------------------------
// Uncompressed 1/4/8/16/24/32-bit BMP (Windows and OS/2 headers, bit-field masks); a 32-bit
// file with an alpha mask has 4 channels, the others 3 (a palette is expanded to RGB).
Image decode_bmp(const std::uint8_t* bytes, std::size_t size, const std::string& what) {
  if (size > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw Error("Cannot decode BMP image \"{}\": {} bytes is too large", what, size);
  }
  const int len = static_cast<int>(size);
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(bytes, len, &w, &h, &comp)) {
    throw Error("Cannot decode BMP image \"{}\": {}", what, stbi_failure_reason());
  }
  if (w <= 0 || h <= 0) {
    throw Error("Cannot decode BMP image \"{}\": it has no pixels ({} x {})", what, w, h);
  }
  if (static_cast<std::uint64_t>(w) * static_cast<std::uint64_t>(h) > kMaxPixels) {
    throw Error("Cannot decode BMP image \"{}\": {} x {} pixels is more than the limit of {}", what,
                w, h, kMaxPixels);
  }
  // stb_image reads missing bytes as zeros; PIL and TF refuse a truncated file, and so does
  // plexus: the pixel rows the header declares must be in the file.
  {
    auto u16 = [&](std::size_t at) {
      return static_cast<std::uint32_t>(bytes[at] | (bytes[at + 1] << 8));
    };
    auto u32 = [&](std::size_t at) { return u16(at) | (u16(at + 2) << 16); };
    const std::uint32_t header = size >= 18 ? u32(14) : 0;
    const std::size_t bpp_at = header == 12 ? 24 : 28;
    if (size < 54 && header != 12) {
      throw Error("Cannot decode BMP image \"{}\": truncated ({} bytes)", what, size);
    }
    const std::uint64_t offset = u32(10), bpp = u16(bpp_at);
    const std::uint32_t compression = header == 12 ? 0 : u32(30);
    if (compression == 0 || compression == 3 || compression == 6) {
      const std::uint64_t row = (static_cast<std::uint64_t>(w) * bpp + 31) / 32 * 4;
      if (offset + row * static_cast<std::uint64_t>(h) > size) {
        throw Error(
            "Cannot decode BMP image \"{}\": the file is truncated ({} x {} pixels of {} bits "
            "need {} bytes from byte {}, the file has {})",
            what, w, h, bpp, row * static_cast<std::uint64_t>(h), offset, size);
      }
    }
  }
  stbi_uc* data = stbi_load_from_memory(bytes, len, &w, &h, &comp, 0);
  if (!data) throw Error("Cannot decode BMP image \"{}\": {}", what, stbi_failure_reason());
  struct Free {
    stbi_uc* p;
    ~Free() { stbi_image_free(p); }
  } free_data{data};
  if (comp != 1 && comp != 3 && comp != 4) {
    throw Error("Cannot decode BMP image \"{}\": {} channels", what, comp);
  }
  Image out;
  out.width = static_cast<std::size_t>(w);
  out.height = static_cast<std::size_t>(h);
  out.channels = static_cast<std::size_t>(comp);
  out.pixels.assign(data, data + out.width * out.height * out.channels);
  return out;
}

// --- GIF (giflib): the first frame, as PIL's load_img and TF's decode_image ------------------
struct GifSource {
  const std::uint8_t* bytes;
  std::size_t size, pos;
};
extern "C" int px_gif_read(GifFileType* gif, GifByteType* buf, int n) {
  auto* src = static_cast<GifSource*>(gif->UserData);
  const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(n), src->size - src->pos);
  std::memcpy(buf, src->bytes + src->pos, k);
  src->pos += k;
  return static_cast<int>(k);
}

// giflib's message for an error code (GifErrorString returns null for codes it does not
// know, such as D_GIF_SUCCEEDED left in place by a short read).
std::string gif_error(int code) {
  const char* m = GifErrorString(code);
  return m ? std::string(m) : fmt::format("giflib error {} (a truncated or corrupt file)", code);
}

Image decode_gif(const std::uint8_t* bytes, std::size_t size, const std::string& what) {
  GifSource src{bytes, size, 0};
  int error = 0;
  GifFileType* gif = DGifOpen(&src, px_gif_read, &error);
  if (!gif) throw Error("Cannot decode GIF image \"{}\": {}", what, gif_error(error));
  struct Closer {
    GifFileType* g;
    ~Closer() {
      int e = 0;
      DGifCloseFile(g, &e);
    }
  } closer{gif};
  if (gif->SWidth <= 0 || gif->SHeight <= 0) {
    throw Error("Cannot decode GIF image \"{}\": it has no pixels ({} x {})", what, gif->SWidth,
                gif->SHeight);
  }
  if (static_cast<std::uint64_t>(std::max(gif->SWidth, 0)) *
          static_cast<std::uint64_t>(std::max(gif->SHeight, 0)) >
      kMaxPixels) {
    throw Error("Cannot decode GIF image \"{}\": {} x {} pixels is more than the limit of {}", what,
                gif->SWidth, gif->SHeight, kMaxPixels);
  }
  if (DGifSlurp(gif) != GIF_OK || gif->ImageCount < 1) {
    throw Error("Cannot decode GIF image \"{}\": {}", what, gif_error(gif->Error));
  }
  const SavedImage& frame = gif->SavedImages[0];
  const ColorMapObject* map = frame.ImageDesc.ColorMap ? frame.ImageDesc.ColorMap : gif->SColorMap;
  if (!map) throw Error("Cannot decode GIF image \"{}\": no color map", what);
  Image out;
  out.width = static_cast<std::size_t>(gif->SWidth);
  out.height = static_cast<std::size_t>(gif->SHeight);
  out.channels = 3;
  out.pixels.assign(out.width * out.height * 3, 0);
  const auto& d = frame.ImageDesc;
  for (int y = 0; y < d.Height; ++y) {
    for (int x = 0; x < d.Width; ++x) {
      const int X = d.Left + x, Y = d.Top + y;
      if (X < 0 || Y < 0 || X >= gif->SWidth || Y >= gif->SHeight) continue;
      const int index = frame.RasterBits[y * d.Width + x];
      if (index >= map->ColorCount) continue;
      const GifColorType c = map->Colors[index];
      std::uint8_t* p = out.pixels.data() + (static_cast<std::size_t>(Y) * out.width + X) * 3;
      p[0] = c.Red;
      p[1] = c.Green;
      p[2] = c.Blue;
    }
  }
  return out;
}

// Converts between 1, 3 and 4 channels (gray -> rgb replicates; rgb -> gray with ITU-R
// 601 weights, as libjpeg's and TF's rgb_to_grayscale; alpha added opaque or dropped).
Image convert_channels(Image in, std::size_t c) {
  if (in.channels == c) return in;
  Image out;
  out.height = in.height;
  out.width = in.width;
  out.channels = c;
  const std::size_t n = in.height * in.width;
  out.pixels.resize(n * c);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* s = in.pixels.data() + i * in.channels;
    std::uint8_t* d = out.pixels.data() + i * c;
    std::uint8_t r, g, b, a = 255;
    if (in.channels == 1) {
      r = g = b = s[0];
    } else {
      r = s[0];
      g = s[1];
      b = s[2];
      if (in.channels == 4) a = s[3];
    }
    if (c == 1) {
      d[0] = static_cast<std::uint8_t>(0.299f * r + 0.587f * g + 0.114f * b + 0.5f);
    } else {
      d[0] = r;
      d[1] = g;
      d[2] = b;
      if (c == 4) d[3] = a;
    }
  }
  return out;
}

int channels_of(const std::string& color_mode, const char* fn) {
  if (color_mode == "rgb") return 3;
  if (color_mode == "rgba") return 4;
  if (color_mode == "grayscale") return 1;
  throw Error(
      "{}: `color_mode` must be one of {{\"rgb\", \"rgba\", \"grayscale\"}}. Received: "
      "color_mode={}",
      fn, color_mode);
}

Image decode_as(const std::uint8_t* bytes, std::size_t size, int channels,
                const std::string& what) {
  if (size >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) {
    Image out;
    char message[JMSG_LENGTH_MAX] = {0};
    if (!decode_jpeg_raw(bytes, size, channels, out, message)) {
      throw Error("Cannot decode JPEG image \"{}\": {}", what, message);
    }
    return channels ? convert_channels(std::move(out), static_cast<std::size_t>(channels)) : out;
  }
  if (size >= 8 && std::memcmp(bytes, "\x89PNG\r\n\x1a\n", 8) == 0) {
    return decode_png(bytes, size, channels, what);
  }
  if (size >= 6 && (std::memcmp(bytes, "GIF87a", 6) == 0 || std::memcmp(bytes, "GIF89a", 6) == 0)) {
    Image out = decode_gif(bytes, size, what);
    return channels ? convert_channels(std::move(out), static_cast<std::size_t>(channels)) : out;
  }
  if (size >= 2 && bytes[0] == 'B' && bytes[1] == 'M') {
    Image out = decode_bmp(bytes, size, what);
    return channels ? convert_channels(std::move(out), static_cast<std::size_t>(channels)) : out;
  }
  throw Error("Cannot decode image \"{}\": not a JPEG, PNG, GIF or BMP file ({} bytes{})", what,
              size, size == 0 ? ", empty" : "");
}

}  // namespace

Image decode_image(const std::uint8_t* bytes, std::size_t size, const std::string& what) {
  return decode_as(bytes, size, 0, what);
}

Tensor img_to_array(const Image& image) {
  Tensor t = Tensor::from_shape({image.height, image.width, image.channels});
  std::copy(image.pixels.begin(), image.pixels.end(), t.data());
  return t;
}

Image array_to_img(const Tensor& array, bool scale) {
  if (array.dimension() != 3 ||
      (array.shape()[2] != 1 && array.shape()[2] != 3 && array.shape()[2] != 4)) {
    throw Error(
        "array_to_img: expected an array of shape (height, width, channels) with 1, 3 "
        "or 4 channels, received {}",
        shape_str(shape_of(array)));
  }
  float lo = 0, hi = 255;
  if (scale && array.size() > 0) {
    lo = *std::min_element(array.begin(), array.end());
    hi = *std::max_element(array.begin(), array.end());
  }
  Image img;
  img.height = array.shape()[0];
  img.width = array.shape()[1];
  img.channels = array.shape()[2];
  img.pixels.resize(array.size());
  const float* p = array.data();
  for (std::size_t i = 0; i < array.size(); ++i) {
    float v = p[i];
    if (scale) {
      // Keras: x - min, then / max * 255 (when max != 0).
      v -= lo;
      const float m = hi - lo;
      if (m != 0) v = v / m * 255.0f;
    }
    img.pixels[i] = static_cast<std::uint8_t>(std::clamp(v, 0.0f, 255.0f));
  }
  return img;
}

void save_img(const std::filesystem::path& path, const Image& image, int quality) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (ext == ".png") {
    png_image png;
    std::memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    png.width = static_cast<png_uint_32>(image.width);
    png.height = static_cast<png_uint_32>(image.height);
    png.format = image.channels == 1   ? PNG_FORMAT_GRAY
                 : image.channels == 3 ? PNG_FORMAT_RGB
                                       : PNG_FORMAT_RGBA;
    if (!png_image_write_to_file(&png, path.c_str(), 0, image.pixels.data(), 0, nullptr)) {
      throw Error("save_img: cannot write \"{}\": {}", path.string(), png.message);
    }
    return;
  }
  if (ext == ".jpg" || ext == ".jpeg") {
    const Image rgb = image.channels == 4 ? convert_channels(image, 3) : image;
    unsigned char* buffer = nullptr;
    unsigned long size = 0;
    char message[JMSG_LENGTH_MAX] = {0};
    const bool ok = encode_jpeg_raw(rgb, quality, &buffer, &size, message);
    std::unique_ptr<unsigned char, decltype(&std::free)> hold(buffer, &std::free);
    if (!ok) throw Error("save_img: cannot encode \"{}\": {}", path.string(), message);
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(buffer), static_cast<std::streamsize>(size));
    if (!f) throw Error("save_img: cannot write \"{}\"", path.string());
    return;
  }
  throw Error("save_img: \"{}\": unknown image format \"{}\" (use .png, .jpg or .jpeg)",
              path.string(), ext);
}

void save_img(const std::filesystem::path& path, const Tensor& array, bool scale, int quality) {
  save_img(path, array_to_img(array, scale), quality);
}

// --- resize (tf.image.resize, antialias=False, half-pixel centers) ---------------------------

namespace {

Tensor resize_plain(const Tensor& img, std::size_t oh, std::size_t ow, const std::string& method) {
  const std::size_t h = img.shape()[0], w = img.shape()[1], c = img.shape()[2];
  Tensor out = Tensor::from_shape({oh, ow, c});
  const float* src = img.data();
  float* dst = out.data();
  const float sy = static_cast<float>(h) / static_cast<float>(oh);
  const float sx = static_cast<float>(w) / static_cast<float>(ow);
  if (method == "nearest") {
    for (std::size_t y = 0; y < oh; ++y) {
      const auto iy = std::min(static_cast<std::size_t>(std::floor((y + 0.5f) * sy)), h - 1);
      for (std::size_t x = 0; x < ow; ++x) {
        const auto ix = std::min(static_cast<std::size_t>(std::floor((x + 0.5f) * sx)), w - 1);
        std::copy_n(src + (iy * w + ix) * c, c, dst + (y * ow + x) * c);
      }
    }
    return out;
  }
  if (method != "bilinear") {
    throw Error("resize: interpolation \"{}\" is not supported (use \"bilinear\" or \"nearest\")",
                method);
  }
  struct W {
    std::size_t lo, hi;
    float t;
  };
  auto weights = [](std::size_t out_n, std::size_t in_n, float scale) {
    std::vector<W> ws(out_n);
    for (std::size_t i = 0; i < out_n; ++i) {
      const float in = (static_cast<float>(i) + 0.5f) * scale - 0.5f;
      const float f = std::floor(in);
      ws[i].lo = static_cast<std::size_t>(std::max(f, 0.0f));
      ws[i].hi = static_cast<std::size_t>(std::min(std::ceil(in), static_cast<float>(in_n - 1)));
      ws[i].lo = std::min(ws[i].lo, in_n - 1);
      ws[i].t = in - f;
    }
    return ws;
  };
  const auto wy = weights(oh, h, sy), wx = weights(ow, w, sx);
  for (std::size_t y = 0; y < oh; ++y) {
    const float* r0 = src + wy[y].lo * w * c;
    const float* r1 = src + wy[y].hi * w * c;
    const float ty = wy[y].t;
    for (std::size_t x = 0; x < ow; ++x) {
      const float tx = wx[x].t;
      for (std::size_t k = 0; k < c; ++k) {
        const float tl = r0[wx[x].lo * c + k], tr = r0[wx[x].hi * c + k];
        const float bl = r1[wx[x].lo * c + k], br = r1[wx[x].hi * c + k];
        const float top = tl + (tr - tl) * tx;
        const float bottom = bl + (br - bl) * tx;
        dst[(y * ow + x) * c + k] = top + (bottom - top) * ty;
      }
    }
  }
  return out;
}

Tensor crop(const Tensor& img, std::size_t y0, std::size_t x0, std::size_t ch, std::size_t cw) {
  const std::size_t w = img.shape()[1], c = img.shape()[2];
  Tensor out = Tensor::from_shape({ch, cw, c});
  for (std::size_t y = 0; y < ch; ++y) {
    std::copy_n(img.data() + ((y0 + y) * w + x0) * c, cw * c, out.data() + y * cw * c);
  }
  return out;
}

}  // namespace

Tensor resize_image(const Tensor& image, std::size_t height, std::size_t width,
                    const std::string& interpolation, bool crop_to_aspect_ratio,
                    bool pad_to_aspect_ratio) {
  if (crop_to_aspect_ratio && pad_to_aspect_ratio) {
    throw Error("Only one of `crop_to_aspect_ratio`, `pad_to_aspect_ratio` can be set to `True`.");
  }
  if (image.dimension() != 3) {
    throw Error("resize: expected an image (height, width, channels), received {}",
                shape_str(shape_of(image)));
  }
  const std::size_t h = image.shape()[0], w = image.shape()[1];
  if (h == 0 || w == 0 || height == 0 || width == 0) {
    throw Error("resize: cannot resize an image of {} x {} pixels to {} x {}", h, w, height, width);
  }
  if (crop_to_aspect_ratio) {  // Keras's smart_resize
    // (at least one row and column: an image thinner than the target's ratio allows)
    std::size_t ch = static_cast<std::size_t>(static_cast<double>(w * height) / width);
    ch = std::max<std::size_t>(1, std::min(h, ch));
    std::size_t cw = static_cast<std::size_t>(static_cast<double>(h * width) / height);
    cw = std::max<std::size_t>(1, std::min(w, cw));
    const auto y0 = static_cast<std::size_t>(static_cast<double>(h - ch) / 2);
    const auto x0 = static_cast<std::size_t>(static_cast<double>(w - cw) / 2);
    return resize_plain(crop(image, y0, x0, ch, cw), height, width, interpolation);
  }
  if (pad_to_aspect_ratio) {  // tf.image.resize_with_pad
    const double ratio = std::max(static_cast<double>(w) / width, static_cast<double>(h) / height);
    const double rh = h / ratio, rw = w / ratio;
    const auto ih = static_cast<std::size_t>(std::floor(rh));
    const auto iw = static_cast<std::size_t>(std::floor(rw));
    const auto py = static_cast<std::size_t>(std::max(0.0, std::floor((height - rh) / 2)));
    const auto px = static_cast<std::size_t>(std::max(0.0, std::floor((width - rw) / 2)));
    Tensor r = resize_plain(image, std::max<std::size_t>(ih, 1), std::max<std::size_t>(iw, 1),
                            interpolation);
    const std::size_t c = image.shape()[2];
    Tensor out = xt::zeros<float>({height, width, c});
    for (std::size_t y = 0; y < r.shape()[0] && py + y < height; ++y) {
      const std::size_t n = std::min(r.shape()[1], width - px);
      std::copy_n(r.data() + y * r.shape()[1] * c, n * c, out.data() + ((py + y) * width + px) * c);
    }
    return out;
  }
  return resize_plain(image, height, width, interpolation);
}

Image load_img(const std::filesystem::path& path, LoadImgOptions o) {
  const int c = channels_of(o.color_mode, "load_img");
  const auto bytes = read_file(path);
  Image img = decode_as(bytes.data(), bytes.size(), c, path.string());
  if (!o.target_size) return img;
  const auto [th, tw] = *o.target_size;
  if (img.height == th && img.width == tw) return img;
  Tensor r = resize_image(img_to_array(img), th, tw, o.interpolation, o.keep_aspect_ratio, false);
  return array_to_img(r, false);
}

// --- image_dataset_from_directory -------------------------------------------------------------

namespace {
const std::vector<std::string> kImageFormats{".bmp", ".gif", ".jpeg", ".jpg", ".png"};
}

data::DirectoryDataset image_dataset_from_directory(const std::filesystem::path& directory,
                                                    ImageDatasetOptions o) {
  const char* fn = "image_dataset_from_directory";
  const int channels = channels_of(o.color_mode, fn);
  if (o.interpolation != "bilinear" && o.interpolation != "nearest") {
    throw Error("{}: interpolation \"{}\" is not supported (\"bilinear\" or \"nearest\")", fn,
                o.interpolation);
  }
  if (o.data_format != "channels_last" && o.data_format != "channels_first") {
    throw Error("{}: data_format must be \"channels_last\" or \"channels_first\", received \"{}\"",
                fn, o.data_format);
  }
  if (o.crop_to_aspect_ratio && o.pad_to_aspect_ratio) {
    throw Error(
        "{}: Only one of `crop_to_aspect_ratio`, `pad_to_aspect_ratio` can be set to "
        "`True`.",
        fn);
  }
  if (o.image_size[0] == 0 || o.image_size[1] == 0) {
    throw Error("{}: image_size must be positive, received ({}, {})", fn, o.image_size[0],
                o.image_size[1]);
  }
  detail::Indexed idx = detail::index_directory(
      directory, o.labels, o.label_mode, o.class_names, o.shuffle, o.seed, o.validation_split,
      o.subset, o.follow_links, kImageFormats, fn, "images", o.verbose, o.batch_size);
  const std::size_t num_classes = idx.class_names.size();
  const auto [H, W] = o.image_size;
  auto make = [&, H = H, W = W](std::vector<std::string> paths, std::vector<int> labels) {
    auto files = std::make_shared<const std::vector<std::string>>(std::move(paths));
    auto labs = std::make_shared<const std::vector<int>>(std::move(labels));
    data::detail::IndexedSource src;
    src.count = files->size();
    src.get = [](std::size_t i) {
      StepData e;
      e.x.push_back(Tensor{static_cast<float>(i)});
      return e;
    };
    data::Dataset ds = data::detail::make_indexed(std::move(src));
    if (o.shuffle) {
      ds = ds.shuffle(o.batch_size ? static_cast<std::size_t>(*o.batch_size) * 8 : 1024, o.seed);
    }
    const std::string mode = o.label_mode;
    const std::string interp = o.interpolation;
    const bool crop_ar = o.crop_to_aspect_ratio, pad_ar = o.pad_to_aspect_ratio;
    const bool channels_first = o.data_format == "channels_first";
    ds = ds.map(
        [=](StepData e) {
          const auto i = static_cast<std::size_t>(e.x[0]());
          const std::string& path = (*files)[i];
          const auto bytes = read_file(path);
          Image img = decode_as(bytes.data(), bytes.size(), channels, path);
          Tensor t = resize_image(img_to_array(img), H, W, interp, crop_ar, pad_ar);
          if (channels_first) t = xt::transpose(t, {2, 0, 1});
          StepData out;
          out.x.push_back(std::move(t));
          if (!labs->empty()) out.y.push_back(detail::encode_label((*labs)[i], mode, num_classes));
          return out;
        },
        o.num_parallel_calls);
    if (o.batch_size) ds = ds.batch(static_cast<std::size_t>(*o.batch_size));
    return ds.prefetch(data::AUTOTUNE);
  };
  if (o.subset == "both") {
    data::DirectoryDataset d(make(idx.paths, idx.labels), idx.class_names,
                             make(idx.val_paths, idx.val_labels));
    d.set_file_paths(idx.paths);
    d.set_validation_paths(idx.val_paths);
    return d;
  }
  data::DirectoryDataset d(make(idx.paths, idx.labels), idx.class_names);
  d.set_file_paths(idx.paths);
  return d;
}

}  // namespace plexus::utils
