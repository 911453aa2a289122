#include "analysis/gnuplot_runner.hpp"

#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace handoff {
namespace {

// The script in an anonymous in-memory file: the child reads it as stdin at
// its own pace, with no pipe to fill, no SIGPIPE if gnuplot stops early.
int script_file(const std::string& script) {
    const int fd = memfd_create("handoff-plot.gp", MFD_CLOEXEC);
    if (fd < 0) return -1;
    for (std::size_t written = 0; written < script.size();) {
        const ssize_t n = ::write(fd, script.data() + written, script.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ::close(fd);
            return -1;
        }
        written += std::size_t(n);
    }
    if (::lseek(fd, 0, SEEK_SET) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

}  // namespace

GnuplotOutcome run_gnuplot(const std::string& program, const std::string& script) {
    GnuplotOutcome outcome;
    const int fd = script_file(script);
    if (fd < 0) {
        outcome.error = std::strerror(errno);
        return outcome;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fd, STDIN_FILENO);
    // gnuplot prints nothing useful on stdout; keep ours for the caller.
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
    std::string name = program;
    char* const argv[] = {name.data(), nullptr};
    pid_t pid = 0;
    const int spawned = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fd);
    if (spawned != 0) {
        outcome.error = std::strerror(spawned);
        return outcome;
    }
    outcome.started = true;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            outcome.exit_status = -1;
            return outcome;
        }
    }
    outcome.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return outcome;
}

}  // namespace handoff
