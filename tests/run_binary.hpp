// The real handoff binary, run from a test: HANDOFF_BIN names it (the
// Makefile sets it to the build variant's binary), stdin is closed, and its
// exit status, stdout and stderr come back. Shared by every test that drives
// the command line.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace test_support {

struct Ran {
    int status = -1;  // the exit status, -1 when killed by a signal
    std::string out;
    std::string err;
};

inline std::string slurp(const std::string& path) {
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

inline std::string handoff_binary() {
    const char* bin = std::getenv("HANDOFF_BIN");
    return bin ? bin : "./handoff";
}

// Runs the binary with `args` (shell words), after an optional environment
// prefix ("HANDOFF_DISABLE_BACKENDS=uring").
inline Ran run(const std::string& args, const std::string& env = "") {
    const std::string base = testing::TempDir() + "handoff_run_" + std::to_string(::getpid());
    const std::string command =
        env + " " + handoff_binary() + " " + args + " >" + base + ".out 2>" + base + ".err </dev/null";
    const int raw = std::system(command.c_str());
    Ran ran;
    ran.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    ran.out = slurp(base + ".out");
    ran.err = slurp(base + ".err");
    std::remove((base + ".out").c_str());
    std::remove((base + ".err").c_str());
    return ran;
}

}  // namespace test_support
