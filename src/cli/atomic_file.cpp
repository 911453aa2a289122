#include "cli/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

namespace handoff {
namespace {

// "dir/.name.XXXXXX": beside the target, so rename() stays in one file system
// and is atomic; hidden, so a half-written one is not mistaken for a result.
std::string temporary_template(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    const std::string folder = slash == std::string::npos ? "" : path.substr(0, slash + 1);
    const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    return folder + "." + name + ".XXXXXX";
}

// Creates the temporary file; returns its fd (or -1, errno set) and its name.
int create_temporary(const std::string& path, std::string& name) {
    const std::string pattern = temporary_template(path);
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    const int fd = mkstemp(buffer.data());
    if (fd < 0) return -1;
    name = buffer.data();
    // mkstemp makes 0600; a result file should get the usual 0666 & ~umask.
    const mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    return fd;
}

std::string reason(int error) { return std::strerror(error); }

// What a file that is not a regular one is, in the words of ls and stat(1).
std::string kind_of(mode_t mode) {
    if (S_ISLNK(mode)) return "a symbolic link";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

bool is_standard_output(const struct stat& info) {
    struct stat out {};
    return fstat(STDOUT_FILENO, &out) == 0 && out.st_dev == info.st_dev && out.st_ino == info.st_ino;
}

OutputTarget refused(std::string problem) { return {.kind = OutputTarget::Kind::file, .file = {}, .problem = problem}; }

// All of `text` to `fd`, however many write() calls it takes.
std::string write_all(int fd, const std::string& text) {
    for (std::size_t done = 0; done < text.size();) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return reason(errno);
        done += std::size_t(n);
    }
    return {};
}

// A device, a FIFO or standard output: the report is rendered first, so a
// failing writer leaves nothing half-written there, then written through.
// Opened without O_CREAT: if the stream went away meanwhile, no regular file
// appears in its place. A FIFO's open waits for a reader, as `>` does.
std::string write_stream(const OutputTarget& target, const std::string& path,
                         const std::function<void(std::ostream&)>& write) {
    std::ostringstream text;
    try {
        write(text);
    } catch (const std::exception& e) {
        return e.what();
    }
    if (target.kind == OutputTarget::Kind::standard_output) {
        std::cout.flush();  // whatever the program printed first comes first
        return write_all(STDOUT_FILENO, text.str());
    }
    const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return reason(errno);
    std::string problem = write_all(fd, text.str());
    if (close(fd) != 0 && problem.empty()) problem = reason(errno);
    return problem;
}

}  // namespace

OutputTarget resolve_output(const std::string& path) {
    using Kind = OutputTarget::Kind;
    if (path.empty()) return refused("a file name is needed");
    struct stat link {};
    // Not there (or its folder is not): a new file; check_writable says why
    // it cannot be created, if it cannot.
    if (lstat(path.c_str(), &link) != 0) return {.kind = Kind::file, .file = path, .problem = {}};
    struct stat info {};
    if (stat(path.c_str(), &info) != 0) {
        return refused(S_ISLNK(link.st_mode) ? "it is a symbolic link to nothing (its target does not exist)"
                                             : reason(errno));
    }
    if (is_standard_output(info)) return {.kind = Kind::standard_output, .file = {}, .problem = {}};
    if (S_ISCHR(info.st_mode) || S_ISFIFO(info.st_mode)) return {.kind = Kind::stream, .file = {}, .problem = {}};
    if (S_ISDIR(info.st_mode)) return refused(reason(EISDIR));
    if (!S_ISREG(info.st_mode)) {
        return refused(kind_of(info.st_mode) + ": expected a regular file, a character device or a FIFO");
    }
    if (!S_ISLNK(link.st_mode)) return {.kind = Kind::file, .file = path, .problem = {}};
    // The file the link names, so the rename replaces it and not the link.
    char* resolved = realpath(path.c_str(), nullptr);
    if (resolved == nullptr) return refused(reason(errno));
    OutputTarget target{.kind = Kind::file, .file = resolved, .problem = {}};
    std::free(resolved);
    return target;
}

std::string check_output(const std::string& path) {
    const OutputTarget target = resolve_output(path);
    if (!target.problem.empty()) return target.problem;
    switch (target.kind) {
        case OutputTarget::Kind::file: return check_writable(target.file);
        case OutputTarget::Kind::stream: return access(path.c_str(), W_OK) == 0 ? "" : reason(errno);
        case OutputTarget::Kind::standard_output: return {};
    }
    return {};
}

std::string write_output(const std::string& path, const std::function<void(std::ostream&)>& write) {
    const OutputTarget target = resolve_output(path);
    if (!target.problem.empty()) return target.problem;
    if (target.kind == OutputTarget::Kind::file) return write_file_atomically(target.file, write);
    return write_stream(target, path, write);
}

std::string check_writable(const std::string& path) {
    if (path.empty() || path.back() == '/') return "a file name is needed";
    struct stat info {};
    if (lstat(path.c_str(), &info) == 0) {
        if (S_ISDIR(info.st_mode)) return reason(EISDIR);
        if (!S_ISREG(info.st_mode)) return kind_of(info.st_mode) + ", which renaming a new file over it would replace";
    }
    std::string name;
    const int fd = create_temporary(path, name);
    if (fd < 0) return reason(errno);
    close(fd);
    unlink(name.c_str());
    return {};
}

std::string write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
    if (const std::string problem = check_writable(path); !problem.empty()) return problem;
    std::string name;
    const int fd = create_temporary(path, name);
    if (fd < 0) return reason(errno);
    close(fd);
    const auto fail = [&](std::string why) {
        unlink(name.c_str());
        return why;
    };
    try {
        std::ofstream file(name, std::ios::trunc | std::ios::binary);
        if (!file) return fail(reason(errno));
        write(file);
        file.flush();
        if (!file) return fail("writing the temporary file failed (disk full?)");
    } catch (const std::exception& e) {
        return fail(e.what());
    }
    // On disk before the rename: after a crash the name holds old or new, whole.
    const int sync_fd = open(name.c_str(), O_RDONLY | O_CLOEXEC);
    if (sync_fd < 0 || fsync(sync_fd) != 0) {
        const int error = errno;
        if (sync_fd >= 0) close(sync_fd);
        return fail(reason(error));
    }
    close(sync_fd);
    if (rename(name.c_str(), path.c_str()) != 0) return fail(reason(errno));
    return {};
}

}  // namespace handoff
