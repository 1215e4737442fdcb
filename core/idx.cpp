// IDX files (the MNIST format): a big-endian header 0x00 0x00 <type> <rank>, one 32-bit
// big-endian size per dimension, then the elements in row-major order, big-endian.
#include <cstring>

#include "core/datasets.hpp"
#include "core/error.hpp"
#include "core/file_io.hpp"

namespace plexus::datasets {
namespace {

std::uint32_t be32(const unsigned char* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 |
         std::uint32_t{p[3]};
}

// Element size and name of an IDX type code; 0 when the code is not an IDX type.
std::size_t element_size(unsigned code, const char** name) {
  switch (code) {
    case 0x08:
      *name = "unsigned byte";
      return 1;
    case 0x09:
      *name = "signed byte";
      return 1;
    case 0x0B:
      *name = "short";
      return 2;
    case 0x0C:
      *name = "int";
      return 4;
    case 0x0D:
      *name = "float";
      return 4;
    case 0x0E:
      *name = "double";
      return 8;
    default:
      *name = "?";
      return 0;
  }
}

std::string describe_magic(std::uint32_t magic) {
  const char* name;
  const unsigned code = (magic >> 8) & 0xff;
  const unsigned rank = magic & 0xff;
  if ((magic >> 16) != 0 || element_size(code, &name) == 0) return "not an IDX header";
  return fmt::format("{}-D {}", rank, name);
}

template <typename T>
T load_be(const unsigned char* p) {
  unsigned char b[sizeof(T)];
  for (std::size_t i = 0; i < sizeof(T); ++i) b[i] = p[sizeof(T) - 1 - i];
  T v;
  std::memcpy(&v, b, sizeof(T));
  return v;
}

void convert(unsigned code, const unsigned char* src, std::size_t n, float* dst) {
  switch (code) {
    case 0x08:
      for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i]);
      break;
    case 0x09:
      for (std::size_t i = 0; i < n; ++i)
        dst[i] = static_cast<float>(static_cast<std::int8_t>(src[i]));
      break;
    case 0x0B:
      for (std::size_t i = 0; i < n; ++i) dst[i] = load_be<std::int16_t>(src + 2 * i);
      break;
    case 0x0C:
      for (std::size_t i = 0; i < n; ++i)
        dst[i] = static_cast<float>(load_be<std::int32_t>(src + 4 * i));
      break;
    case 0x0D:
      for (std::size_t i = 0; i < n; ++i) dst[i] = load_be<float>(src + 4 * i);
      break;
    case 0x0E:
      for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(load_be<double>(src + 8 * i));
      break;
  }
}

}  // namespace

Tensor read_idx(const std::filesystem::path& path, std::uint32_t expected_magic) {
  const std::string bytes = detail::read_file_bytes(path);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::string file = path.string();
  if (bytes.size() < 4) {
    throw Error("{}: truncated IDX file: expected at least a 4-byte header, got {} bytes", file,
                bytes.size());
  }
  const std::uint32_t magic = be32(p);
  if (expected_magic != 0 && magic != expected_magic) {
    throw Error("{}: wrong IDX magic number: expected {} ({}), got {} ({})", file, expected_magic,
                describe_magic(expected_magic), magic, describe_magic(magic));
  }
  const char* type_name;
  const unsigned code = (magic >> 8) & 0xff;
  const std::size_t elem = element_size(code, &type_name);
  if ((magic >> 16) != 0 || elem == 0) {
    throw Error("{}: not an IDX file: magic number {} (0x{:08x}) is not an IDX header", file, magic,
                magic);
  }
  const std::size_t rank = magic & 0xff;
  const std::size_t header = 4 + 4 * rank;
  if (bytes.size() < header) {
    throw Error("{}: truncated IDX file: expected a {}-byte header for {} dimensions, got {} bytes",
                file, header, rank, bytes.size());
  }
  Tensor::shape_type shape(rank);
  std::string dims;
  std::uint64_t count = 1;
  bool overflow = false;
  for (std::size_t i = 0; i < rank; ++i) {
    shape[i] = be32(p + 4 + 4 * i);
    dims += fmt::format("{}{}", i ? " x " : "", shape[i]);
    overflow |= __builtin_mul_overflow(count, std::uint64_t{shape[i]}, &count);
  }
  std::uint64_t expected = 0;
  overflow |= __builtin_mul_overflow(count, std::uint64_t{elem}, &expected);
  overflow |= __builtin_add_overflow(expected, std::uint64_t{header}, &expected);
  if (overflow) throw Error("{}: IDX header sizes {} are too large", file, dims);
  if (bytes.size() != expected) {
    const std::string body =
        elem == 1 ? fmt::format("{} bytes", dims.empty() ? "1" : dims)
                  : fmt::format("{} {}-byte {} values", dims.empty() ? "1" : dims, elem, type_name);
    throw Error("{}: {} IDX file: expected {} bytes ({}-byte header + {}), got {}", file,
                bytes.size() < expected ? "truncated" : "over-long", expected, header, body,
                bytes.size());
  }
  Tensor t(shape);
  convert(code, p + header, static_cast<std::size_t>(count), t.data());
  return t;
}

}  // namespace plexus::datasets
