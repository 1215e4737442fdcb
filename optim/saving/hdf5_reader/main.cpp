// plexus_hdf5_reader: the process that reads HDF5 files for plexus (issue 28). libhdf5 is not
// safe on hostile input, so plexus never parses a file it did not just write with libhdf5 in
// the calling process: h5::File::open starts this program (posix_spawn), which reads the file
// with libhdf5 and writes the snapshot stream to its standard output; the library parses that
// stream with every count and length checked. See docs/saving.md ("Untrusted files").
#include "optim/saving/detail/hdf5_snapshot.hpp"

int main(int argc, char** argv) { return plexus::saving::h5::detail::reader_main(argc, argv); }
