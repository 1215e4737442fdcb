#include "core/process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/error.hpp"

extern char** environ;

namespace plexus::detail {

std::string find_program(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return {};
  std::string_view rest(path);
  while (true) {
    const std::size_t colon = rest.find(':');
    const std::string_view dir = rest.substr(0, colon);
    std::string candidate(dir.empty() ? std::string_view(".") : dir);
    candidate += '/';
    candidate += program;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string_view::npos) return {};
    rest.remove_prefix(colon + 1);
  }
}

bool ProgramResult::succeeded() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

std::string ProgramResult::how() const {
  return WIFEXITED(status) ? fmt::format("exit status {}", WEXITSTATUS(status))
                           : std::string("killed by a signal");
}

ProgramResult run_program(const std::string& path, std::vector<std::string> argv,
                          std::string_view caller, std::string_view program) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  // stderr goes through a pipe; close-on-exec keeps both ends out of this and any other
  // child (the child's fd 2 is a dup, which does not inherit the flag).
  int err[2];
  if (::pipe2(err, O_CLOEXEC) != 0) {
    throw Error("{}: cannot run {}: {}", caller, program, std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, path.c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(err[1]);
  if (rc != 0) {
    ::close(err[0]);
    throw Error("{}: cannot run {}: {}", caller, program, std::strerror(rc));
  }

  ProgramResult result;
  char chunk[4096];
  while (true) {
    const ssize_t n = ::read(err[0], chunk, sizeof chunk);
    if (n > 0) {
      result.errors.append(chunk, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(err[0]);
  while (::waitpid(pid, &result.status, 0) < 0) {
    if (errno != EINTR) {
      throw Error("{}: waiting for {} failed: {}", caller, program, std::strerror(errno));
    }
  }
  std::string& e = result.errors;
  while (!e.empty() && std::isspace(static_cast<unsigned char>(e.back()))) e.pop_back();
  return result;
}

}  // namespace plexus::detail
