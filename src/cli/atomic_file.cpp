#include "cli/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
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

}  // namespace

std::string check_writable(const std::string& path) {
    if (path.empty() || path.back() == '/') return "a file name is needed";
    struct stat info {};
    if (stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) return reason(EISDIR);
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
