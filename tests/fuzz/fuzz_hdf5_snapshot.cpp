// libFuzzer target: the parser of the stream an HDF5 reader process sends back
// (optim/saving/hdf5_isolated.cpp, h5::detail::from_snapshot). The stream comes from plexus's
// own child, but a child that libhdf5 corrupted could send anything: every count and length
// must be checked. Each tree that parses is read in full through the h5::Group API.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.hpp"
#include "optim/saving/detail/hdf5_snapshot.hpp"
#include "optim/saving/hdf5.hpp"

namespace {

namespace h5 = plexus::saving::h5;

void walk(const h5::Group& g, int depth) {
  if (depth > 80) std::abort();  // the parser bounds nesting at 64
  for (const char* attr : {"model_config", "layer_names", "weight_names", "backend"}) {
    try {
      if (g.has_attribute(attr)) (void)g.string_attribute(attr);
    } catch (const plexus::Error&) {
    }
  }
  for (const auto& name : g.children()) {
    try {
      if (g.has_group(name)) {
        walk(g.group(name), depth + 1);
      } else if (g.has_dataset(name)) {
        (void)g.dataset_is_integer(name);
        const plexus::Shape shape = g.dataset_shape(name);
        const plexus::Tensor t = g.read_dataset(name, &shape, name);
        if (plexus::shape_of(t) != shape) std::abort();
        (void)g.read_int_scalar(name);
        (void)g.read_double_scalar(name);
      }
    } catch (const plexus::Error&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view stream(reinterpret_cast<const char*>(data), size);
  try {
    const h5::File f = h5::detail::from_snapshot(stream, "fuzz.h5");
    walk(f.root(), 0);
  } catch (const plexus::Error&) {
    // A malformed stream is a clear error.
  }
  return 0;
}
