// IDX files (the MNIST format): a big-endian header 0x00 0x00 <type> <rank>, one 32-bit
// big-endian size per dimension, then the elements in row-major order, big-endian.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "core/datasets.hpp"
#include "core/error.hpp"
#include "core/file_io.hpp"
#include "core/shape.hpp"

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
  // The header is read and checked first; the body is then read (and, for gzip, inflated)
  // only up to the size the header states, plus one byte to detect an over-long file.
  detail::InputFile in(path);
  const std::string file = path.string();
  unsigned char head[4 + 4 * 255];
  std::size_t have = in.read(head, 4);
  if (have < 4) {
    throw Error("{}: truncated IDX file: expected at least a 4-byte header, got {} bytes", file,
                have);
  }
  const std::uint32_t magic = be32(head);
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
  have += in.read(head + 4, header - 4);
  if (have < header) {
    throw Error("{}: truncated IDX file: expected a {}-byte header for {} dimensions, got {} bytes",
                file, header, rank, have);
  }
  Tensor::shape_type shape(rank);
  std::string dims;
  for (std::size_t i = 0; i < rank; ++i) {
    shape[i] = be32(head + 4 + 4 * i);
    dims += fmt::format("{}{}", i ? " x " : "", shape[i]);
  }
  // Every dimension counts, zero or not: (0, 2^32-1, 2^32-1) holds no element but its
  // strides still overflow.
  std::size_t count;
  try {
    count = checked_size(shape, file);
  } catch (const Error&) {
    throw Error("{}: IDX header sizes {} are too large", file, dims);
  }
  std::uint64_t body = 0, expected = 0;
  if (__builtin_mul_overflow(std::uint64_t{count}, std::uint64_t{elem}, &body) ||
      __builtin_add_overflow(body, std::uint64_t{header}, &expected)) {
    throw Error("{}: IDX header sizes {} are too large", file, dims);
  }
  auto size_error = [&](bool truncated, const std::string& got) {
    const std::string what =
        elem == 1 ? fmt::format("{} bytes", dims.empty() ? "1" : dims)
                  : fmt::format("{} {}-byte {} values", dims.empty() ? "1" : dims, elem, type_name);
    return Error("{}: {} IDX file: expected {} bytes ({}-byte header + {}), got {}", file,
                 truncated ? "truncated" : "over-long", expected, header, what, got);
  };
  // A plain file's size is known before anything is allocated.
  if (!in.gzipped() && in.stored_size() != expected) {
    throw size_error(in.stored_size() < expected, std::to_string(in.stored_size()));
  }
  check_allocation(count, Shape(shape.begin(), shape.end()), file);
  // The buffer grows with the data that actually arrives (geometrically, never past the
  // header's size), so a small .gz whose header claims gigabytes costs only what it holds.
  std::string bytes;
  if (!in.gzipped()) bytes.reserve(static_cast<std::size_t>(body));
  while (bytes.size() < body) {
    const std::size_t want = std::min<std::size_t>(static_cast<std::size_t>(body) - bytes.size(),
                                                   std::max<std::size_t>(bytes.size(), 1 << 20));
    const std::size_t old = bytes.size();
    bytes.resize(old + want);
    const std::size_t got = in.read(bytes.data() + old, want);
    bytes.resize(old + got);
    if (got < want) throw size_error(true, std::to_string(header + bytes.size()));
  }
  if (in.more()) throw size_error(false, fmt::format("more than {}", expected));
  Tensor t = allocate_tensor(Shape(shape.begin(), shape.end()), file);
  convert(code, reinterpret_cast<const unsigned char*>(bytes.data()), count, t.data());
  return t;
}

}  // namespace plexus::datasets
