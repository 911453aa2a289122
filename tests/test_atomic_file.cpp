// A result file is the old one or the whole new one: never a truncated mix,
// whether the writer fails or the process is killed while writing.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "cli/atomic_file.hpp"

namespace handoff {
namespace {

std::string slurp(const std::string& path) {
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

// A fresh folder per test, so leftover temporary files can be counted.
struct Folder {
    std::string path;
    Folder() {
        std::string pattern = testing::TempDir() + "handoff_atomic_XXXXXX";
        path = mkdtemp(pattern.data());
    }
    ~Folder() { std::system(("rm -rf '" + path + "'").c_str()); }
    std::size_t entries() const {
        std::size_t n = 0;
        DIR* dir = opendir(path.c_str());
        while (dirent* entry = readdir(dir)) n += std::string(entry->d_name) != "." && std::string(entry->d_name) != "..";
        closedir(dir);
        return n;
    }
};

const std::string old_content = "{\"schema\": \"handoff/1\", \"results\": [1, 2, 3]}\n";

void write_old(const std::string& path) {
    ASSERT_EQ(write_file_atomically(path, [](std::ostream& out) { out << old_content; }), "");
}

TEST(AtomicFile, WritesAndReplacesWholeFiles) {
    Folder folder;
    const std::string path = folder.path + "/r.json";
    write_old(path);
    EXPECT_EQ(slurp(path), old_content);
    EXPECT_EQ(write_file_atomically(path, [](std::ostream& out) { out << "new\n"; }), "");
    EXPECT_EQ(slurp(path), "new\n");
    EXPECT_EQ(folder.entries(), 1u);  // no temporary file left behind
    struct stat info {};
    ASSERT_EQ(stat(path.c_str(), &info), 0);
    EXPECT_NE(info.st_mode & 0044, 0u) << "readable like any file, not mkstemp's 0600";
}

TEST(AtomicFile, AWriterThatFailsLeavesThePreviousFileWhole) {
    Folder folder;
    const std::string path = folder.path + "/r.json";
    write_old(path);
    const std::string error = write_file_atomically(path, [](std::ostream& out) {
        out << "{\"schema\": \"handoff/1\", \"resu";
        throw std::runtime_error("the report could not be rendered");
    });
    EXPECT_EQ(error, "the report could not be rendered");
    EXPECT_EQ(slurp(path), old_content);
    EXPECT_EQ(folder.entries(), 1u);
    // A stream gone bad (a full disk) is a failure too.
    EXPECT_NE(write_file_atomically(path, [](std::ostream& out) { out.setstate(std::ios::badbit); }), "");
    EXPECT_EQ(slurp(path), old_content);
}

TEST(AtomicFile, AProcessKilledWhileWritingLeavesThePreviousFileWholeAndValid) {
    Folder folder;
    const std::string path = folder.path + "/r.json";
    write_old(path);
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        close(ready[0]);
        // A huge report written slowly: the parent kills it halfway.
        write_file_atomically(path, [&](std::ostream& out) {
            out << "{\"schema\": \"handoff/1\", \"results\": [";
            for (int i = 0; i < 100000; ++i) out << i << ",";
            out.flush();
            const char byte = 1;
            (void)!write(ready[1], &byte, 1);
            for (;;) {
                out << "1," << std::flush;
                usleep(1000);
            }
        });
        _exit(0);
    }
    close(ready[1]);
    pollfd wait_for{ready[0], POLLIN, 0};
    ASSERT_EQ(poll(&wait_for, 1, 30000), 1) << "the child never started writing";
    EXPECT_EQ(folder.entries(), 2u);  // the old file and the half-written temporary
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    close(ready[0]);
    EXPECT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(slurp(path), old_content);
    const auto doc = nlohmann::json::parse(slurp(path));
    EXPECT_EQ(doc.at("schema"), "handoff/1");
}

TEST(AtomicFile, SaysWhyAPathCannotBeWritten) {
    Folder folder;
    EXPECT_EQ(check_writable(folder.path + "/fine.json"), "");
    EXPECT_EQ(folder.entries(), 0u);  // the check leaves nothing behind
    EXPECT_EQ(check_writable(folder.path + "/missing/r.json"), "No such file or directory");
    EXPECT_EQ(check_writable(folder.path), "Is a directory");
    EXPECT_NE(check_writable(""), "");
    EXPECT_NE(write_file_atomically(folder.path + "/missing/r.json", [](std::ostream& out) { out << "x"; }), "");
    if (geteuid() != 0) {  // root writes into read-only folders
        const std::string locked = folder.path + "/locked";
        ASSERT_EQ(mkdir(locked.c_str(), 0555), 0);
        EXPECT_EQ(check_writable(locked + "/r.json"), "Permission denied");
        chmod(locked.c_str(), 0755);
    }
}

// What an output path names decides how it is written: a device or a FIFO is
// written through, a symbolic link's target is replaced and the link stays;
// a rename never replaces what is not a regular file.
TEST(AtomicFile, AnOutputThatIsNotARegularFileIsWrittenThroughOrRefused) {
    Folder folder;
    using Kind = OutputTarget::Kind;
    EXPECT_EQ(resolve_output("/dev/null").kind, Kind::stream);
    EXPECT_EQ(check_output("/dev/null"), "");
    const std::string fifo = folder.path + "/pipe";
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_EQ(resolve_output(fifo).kind, Kind::stream);
    EXPECT_NE(check_writable(fifo), "") << "an atomic write would rename over the FIFO";
    EXPECT_EQ(resolve_output(folder.path).problem, "Is a directory");
    EXPECT_NE(check_output(""), "");

    const std::string target = folder.path + "/today.json";
    const std::string link = folder.path + "/latest.json";
    write_old(target);
    ASSERT_EQ(symlink("today.json", link.c_str()), 0);
    EXPECT_EQ(resolve_output(link).kind, Kind::file);
    EXPECT_NE(resolve_output(link).file.find("/today.json"), std::string::npos) << resolve_output(link).file;
    EXPECT_EQ(write_output(link, [](std::ostream& out) { out << "new\n"; }), "");
    struct stat info {};
    ASSERT_EQ(lstat(link.c_str(), &info), 0);
    EXPECT_TRUE(S_ISLNK(info.st_mode)) << "the link stays a link";
    EXPECT_EQ(slurp(target), "new\n");

    const std::string dangling = folder.path + "/dangling.json";
    ASSERT_EQ(symlink("missing.json", dangling.c_str()), 0);
    EXPECT_NE(check_output(dangling).find("symbolic link to nothing"), std::string::npos) << check_output(dangling);
}

}  // namespace
}  // namespace handoff
