// Internal: finding and running an external program (Graphviz for plot_model, gnuplot for
// plot_history).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace plexus::detail {

// The full path of `program` on $PATH, or "" when there is none (the file a shell's
// command lookup would run: the first regular, executable file; an empty entry is ".").
std::string find_program(const std::string& program);

// How a program run by run_program() ended.
struct ProgramResult {
  int status = 0;      // as waitpid reports it
  std::string errors;  // what it wrote to stderr, trailing white space removed

  // It exited with status 0.
  bool succeeded() const;
  // "exit status 3" or "killed by a signal", for messages.
  std::string how() const;
};

// Runs the executable at `path` with `argv` (argv[0] is the program's name) and waits for
// it: stdin and stdout on /dev/null, stderr captured. A program that fails is reported in
// the result; one that cannot be started or waited for throws px::Error
// "<caller>: cannot run <program>: <reason>" or "<caller>: waiting for <program> failed:
// <reason>", where `program` is how the message names it (e.g. Graphviz "/usr/bin/dot").
ProgramResult run_program(const std::string& path, std::vector<std::string> argv,
                          std::string_view caller, std::string_view program);

}  // namespace plexus::detail
