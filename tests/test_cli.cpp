// The real binary: bad input is rejected with one line and status 2; good
// input produces the rows it promises. HANDOFF_BIN names the binary.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {

struct Ran {
    int status = -1;
    std::string out;
    std::string err;
};

std::string slurp(const std::string& path) {
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

// Runs the binary with `args` (shell words) and optional environment prefix.
Ran run(const std::string& args, const std::string& env = "") {
    const char* bin = std::getenv("HANDOFF_BIN");
    const std::string binary = bin ? bin : "./handoff";
    const std::string base = testing::TempDir() + "handoff_cli_" + std::to_string(::getpid());
    const std::string command =
        env + " " + binary + " " + args + " >" + base + ".out 2>" + base + ".err </dev/null";
    const int raw = std::system(command.c_str());
    Ran ran;
    ran.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    ran.out = slurp(base + ".out");
    ran.err = slurp(base + ".err");
    std::remove((base + ".out").c_str());
    std::remove((base + ".err").c_str());
    return ran;
}

std::size_t lines(const std::string& text) {
    std::size_t n = 0;
    for (char c : text) n += c == '\n';
    return n;
}

struct BadInput {
    const char* args;
    const char* option;  // the one-line error must name it
};

class RejectsBadInput : public testing::TestWithParam<BadInput> {};

TEST_P(RejectsBadInput, WithOneLineAndStatus2) {
    const Ran ran = run(GetParam().args);
    EXPECT_EQ(ran.status, 2) << ran.err;
    EXPECT_EQ(lines(ran.err), 1u) << ran.err;
    EXPECT_NE(ran.err.find(GetParam().option), std::string::npos) << ran.err;
    EXPECT_TRUE(ran.out.empty()) << ran.out;
}

INSTANTIATE_TEST_SUITE_P(
    Cli, RejectsBadInput,
    testing::Values(BadInput{"--backend nope", "--backend"}, BadInput{"--backend epoll,", "--backend"},
                    BadInput{"--count 0", "--count"}, BadInput{"--count -5", "--count"},
                    BadInput{"--count abc", "--count"}, BadInput{"--count 99999999999999999999", "--count"},
                    BadInput{"--count 12x", "--count"}, BadInput{"--work bogus", "--work"},
                    BadInput{"--work spin:5", "--work"}, BadInput{"--work spin:5xs", "--work"},
                    BadInput{"--work sleep:-1ms", "--work"}, BadInput{"--target both", "--target"},
                    BadInput{"--format xml", "--format"}, BadInput{"--threads 0", "--threads"},
                    BadInput{"--inflight 0", "--inflight"}, BadInput{"--warmup x", "--warmup"},
                    BadInput{"--frobnicate", "frobnicate"}, BadInput{"--count", "--count"}));

TEST(Cli, HelpShowsExamples) {
    const Ran ran = run("--help");
    EXPECT_EQ(ran.status, 0);
    EXPECT_NE(ran.out.find("Examples"), std::string::npos);
    EXPECT_NE(ran.out.find("--count"), std::string::npos);
}

TEST(Cli, VersionAndList) {
    EXPECT_NE(run("--version").out.find("handoff"), std::string::npos);
    const Ran list = run("--list");
    EXPECT_EQ(list.status, 0);
    for (const char* name : {"epoll", "uring", "uv", "asio"}) {
        EXPECT_NE(list.out.find(name), std::string::npos) << name;
    }
    EXPECT_NE(list.out.find("libuv 1."), std::string::npos) << list.out;
}

TEST(Cli, JsonHasEveryRowVerified) {
    const Ran ran = run("--count 300 --work none --backend epoll,asio --format json --no-floor");
    ASSERT_EQ(ran.status, 0) << ran.err;
    const auto doc = nlohmann::json::parse(ran.out);
    EXPECT_EQ(doc.at("schema"), "handoff/1");
    const auto& results = doc.at("results");
    ASSERT_EQ(results.size(), 5u);  // inline + 2 backends x 2 targets
    EXPECT_EQ(results[0].at("backend"), "inline");
    for (const auto& row : results) {
        EXPECT_EQ(row.at("status"), "ok") << row.dump();
        EXPECT_EQ(row.at("calls"), 300);
        EXPECT_EQ(row.at("errors"), 0);
    }
}

TEST(Cli, AnUnavailableBackendIsSkippedAndTheRestRun) {
    const Ran ran = run("--count 200 --work none --backend uring,epoll --target dedicated --format csv",
                        "HANDOFF_DISABLE_BACKENDS=uring");
    ASSERT_EQ(ran.status, 0) << ran.err;
    EXPECT_NE(ran.out.find("unavailable"), std::string::npos) << ran.out;
    EXPECT_NE(ran.out.find("HANDOFF_DISABLE_BACKENDS"), std::string::npos) << ran.out;
    EXPECT_NE(ran.out.find("epoll,dedicated"), std::string::npos) << ran.out;
}

TEST(Cli, OutputFileGetsTheFormatOfItsExtension) {
    const std::string path = testing::TempDir() + "handoff_cli_out.json";
    const Ran ran = run("--count 100 --work none --backend epoll --no-floor --output " + path);
    ASSERT_EQ(ran.status, 0) << ran.err;
    EXPECT_NE(ran.out.find("Backend"), std::string::npos);  // the table still on stdout
    const auto doc = nlohmann::json::parse(slurp(path));
    EXPECT_EQ(doc.at("results").size(), 3u);
    std::remove(path.c_str());
}

}  // namespace
