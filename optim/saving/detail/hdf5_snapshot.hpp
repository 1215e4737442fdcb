// Internal: the snapshot behind h5::File::open / open_image. A child process reads the file
// with libhdf5 into a Node tree and serializes it (hdf5.cpp: read_tree); the parent parses
// the stream with every count and length checked (hdf5_isolated.cpp: from_snapshot). The
// error messages libhdf5's reads produce in the child travel in the tree, so a read of a
// snapshot fails with the same px::Error an in-process read would.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/shape.hpp"
#include "optim/saving/hdf5.hpp"

namespace plexus::saving::h5::detail {

// A dataset as each h5::Group read of it would see it: a read throws the error that is
// set, or returns the value.
struct Dataset {
  char cls = 'X';             // 'F' float, 'I' integer, 'X' other
  std::string shape_error;    // dataset_shape (its type, then its extent)
  Shape shape;                // when shape_error is empty
  std::string read_error;     // read_dataset before its shape check (type, width, extent)
  std::string values_error;   // read_dataset after its shape check (the read itself)
  std::vector<float> values;  // as float32, when read_error and values_error are empty
  // Or (a parsed snapshot) `count` float32 values at `raw`, in the stream `buffer` holds.
  std::shared_ptr<const std::string> buffer;
  const char* raw = nullptr;
  std::size_t count = 0;
  std::string int_error;  // read_int_scalar
  std::int64_t int_value = 0;
  std::string double_error;  // read_double_scalar
  double double_value = 0;
};

struct Attribute {
  std::string error;  // string_attribute throws it, when set
  std::vector<std::string> values;
};

struct Node {
  char kind = 'O';    // 'G' group, 'D' dataset, 'O' anything else (a soft or external link,
                      // a named datatype): listed by children(), neither group nor dataset
  std::string error;  // opening the group or dataset failed: every use throws it
  std::vector<std::string> names;  // children, in HDF5's (alphabetical) order
  std::map<std::string, std::shared_ptr<const Node>, std::less<>> children;
  std::map<std::string, Attribute, std::less<>> attributes;  // groups only
  Dataset dataset;                                           // kind 'D' only
};

using Emit = std::function<void(std::string_view)>;

// Runs `produce` in a child process (fork) and returns the bytes it emitted. The child
// never returns: it _exit()s (no atexit handlers, no LeakSanitizer, no flush of the
// parent's stdio or libhdf5 state). px::Error naming `label` when the child dies by a
// signal, uses more than `cpu_seconds` of CPU time (0: no limit), exits with a failure,
// sends a malformed stream or more than `max_bytes`; a px::Error (or std::exception)
// thrown by `produce` in the child is rethrown here as a px::Error with its message.
// `expected_bytes`: what the stream is likely to hold (its buffer is reserved at once).
std::string run_isolated(const std::string& label, std::size_t max_bytes, unsigned cpu_seconds,
                         const std::function<void(const Emit&)>& produce,
                         std::size_t expected_bytes = 0);

// The same, in a fresh process: `program` (the reader executable plexus_hdf5_reader) run
// with `args` through posix_spawn (no copy of this process's memory), `input_fd` as its
// standard input (-1: /dev/null), the stream on its standard output, every other
// descriptor closed, default signal dispositions.
std::string run_reader(const std::string& label, std::size_t max_bytes, unsigned cpu_seconds,
                       const std::string& program, const std::vector<std::string>& args,
                       int input_fd, std::size_t expected_bytes = 0);

// The reader's side of either: limits its CPU time, restores default signal handling, runs
// `produce` and writes its bytes (or the exception it throws) to `fd` as frames; _exit()s.
[[noreturn]] void child_main(int fd, unsigned cpu_seconds,
                             const std::function<void(const Emit&)>& produce);

// The reader executable snapshots are taken with: $PLEXUS_HDF5_READER when set (the word
// "fork" there: a forked child instead), else plexus_hdf5_reader where the build put it,
// else where `make install` put it; empty when none is there (a forked child is used).
const std::string& reader_program();

// How snapshots are taken. automatic: the reader program when there is one, else a forked
// child; fork: a forked child. in_process_for_benchmarks: libhdf5 in this process, as before
// issue 28 -- NOT safe on files from elsewhere; for measuring the isolation's cost only
// (apps/bench_hdf5_load.cpp).
enum class ReaderMode { automatic, fork, in_process_for_benchmarks };
void set_reader_mode(ReaderMode mode);
ReaderMode reader_mode();

// main() of plexus_hdf5_reader: `plexus_hdf5_reader 1 file|image <label> <size>
// <cpu_seconds>` writes the snapshot stream of the file <label> (or of the image on its
// standard input, named <label>) to its standard output.
int reader_main(int argc, char** argv);

// The CPU time a reader process may use on a file of `size` bytes: 10 s (or
// $PLEXUS_HDF5_CPU_SECONDS) plus 1 s per 16 MB.
unsigned reader_cpu_seconds(std::uint64_t size);

// The stream of a tree (what the child emits).
void serialize(const Node& root, const Emit& emit);
// Parses a stream (every count and length checked against what is left): px::Error
// naming `label` when it is malformed.
std::shared_ptr<const Node> parse(const std::shared_ptr<const std::string>& stream,
                                  const std::string& label);

// The snapshot stream of a file (or in-memory image), read in a child process.
std::string snapshot_file(const std::string& path);
std::string snapshot_image(const std::string& bytes, const std::string& label);
// A read-only File over a stream (parse()).
File from_snapshot(std::shared_ptr<const std::string> stream, const std::string& label);
inline File from_snapshot(std::string_view stream, const std::string& label) {
  return from_snapshot(std::make_shared<const std::string>(stream), label);
}

}  // namespace plexus::saving::h5::detail
