#include "core/process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "core/error.hpp"

extern char** environ;

namespace plexus::detail {

bool ProgramResult::succeeded() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

std::string ProgramResult::how() const {
  return WIFEXITED(status) ? fmt::format("exit status {}", WEXITSTATUS(status))
                           : std::string("killed by a signal");
}

ProgramResult run_program(std::vector<std::string> argv, std::string_view input,
                          std::string_view caller, std::string_view program,
                          const std::string& not_found) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  // stdin is a socket, not a pipe, so that writing to a program that has exited without
  // reading everything fails with EPIPE (MSG_NOSIGNAL) instead of raising SIGPIPE here.
  // Close-on-exec keeps our ends out of this and any other child (the child's fds 0 and 2
  // are dups, which do not inherit the flag).
  int in[2], err[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0) {
    throw Error("{}: cannot run {}: {}", caller, program, std::strerror(errno));
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    const int e = errno;
    ::close(in[0]);
    ::close(in[1]);
    throw Error("{}: cannot run {}: {}", caller, program, std::strerror(e));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[1], STDIN_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(in[0]);
    ::close(err[0]);
    if (rc == ENOENT) throw Error("{}", not_found);
    throw Error("{}: cannot run {}: {}", caller, program, std::strerror(rc));
  }

  ProgramResult result;
  int to_child = in[0];
  if (input.empty()) {
    ::close(to_child);
    to_child = -1;
  }
  int from_child = err[0];
  char chunk[4096];
  while (from_child >= 0 || to_child >= 0) {
    pollfd fds[2];
    nfds_t n = 0;
    if (from_child >= 0) fds[n++] = {from_child, POLLIN, 0};
    if (to_child >= 0) fds[n++] = {to_child, POLLOUT, 0};
    if (::poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == from_child) {
        const ssize_t got = ::read(from_child, chunk, sizeof chunk);
        if (got > 0) {
          result.errors.append(chunk, static_cast<std::size_t>(got));
        } else if (got == 0 || errno != EINTR) {
          ::close(from_child);
          from_child = -1;
        }
      } else {
        const ssize_t sent =
            ::send(to_child, input.data(), input.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent > 0) input.remove_prefix(static_cast<std::size_t>(sent));
        const bool gone = sent < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK;
        if (input.empty() || gone) {  // all written, or the program stopped reading
          ::close(to_child);
          to_child = -1;
        }
      }
    }
  }
  if (to_child >= 0) ::close(to_child);
  if (from_child >= 0) ::close(from_child);
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
