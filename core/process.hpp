// Internal: running an external program (Graphviz for plot_model, rsvg-convert for
// plot_history's PNG files).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace plexus::detail {

// How a program run by run_program() ended.
struct ProgramResult {
  int status = 0;      // as waitpid reports it
  std::string errors;  // what it wrote to stderr, trailing white space removed

  // It exited with status 0.
  bool succeeded() const;
  // "exit status 3" or "killed by a signal", for messages.
  std::string how() const;
};

// Runs argv[0], found on PATH by posix_spawnp (the lookup a shell does), with `argv`, and
// waits for it: `input` is written to its stdin (then closed: end of file), stdout goes to
// /dev/null and stderr is captured. A program that fails is reported in the result. When
// there is no such program, throws px::Error(not_found); one that cannot be started or
// waited for throws px::Error "<caller>: cannot run <program>: <reason>" or "<caller>:
// waiting for <program> failed: <reason>", where `program` is how messages name it
// (e.g. Graphviz "dot").
ProgramResult run_program(std::vector<std::string> argv, std::string_view input,
                          std::string_view caller, std::string_view program,
                          const std::string& not_found);

}  // namespace plexus::detail
