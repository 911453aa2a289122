// The real binary: bad input is rejected with one line and status 2; good
// input produces the rows it promises. HANDOFF_BIN names the binary.
#include <gtest/gtest.h>

#include "run_binary.hpp"
#include <nlohmann/json.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <string>

namespace {

using test_support::Ran;
using test_support::run;
using test_support::slurp;

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
                    BadInput{"--frobnicate", "frobnicate"}, BadInput{"--count", "--count"},
                    BadInput{"--repeat 0", "--repeat"}, BadInput{"--repeat 1001", "--repeat"},
                    BadInput{"--repeat x", "--repeat"}, BadInput{"--count 4 --repeat 5", "--count"},
                    BadInput{"--format html", "--format"},
                    BadInput{"--output /nonexistent-handoff-folder/r.json", "--output"}));

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
    const Ran ran = run("--count 200 --work none --backend uring,epoll --target dedicated --no-floor --format csv",
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

TEST(Cli, RepetitionsSumToTheCountAndEachIsKept) {
    const Ran ran = run("--count 10 --repeat 3 --warmup 1 --work none --backend epoll --target dedicated --no-floor "
                        "--format json");
    ASSERT_EQ(ran.status, 0) << ran.err;
    const auto doc = nlohmann::json::parse(ran.out);
    EXPECT_EQ(doc.at("partial"), false);
    for (const auto& row : doc.at("results")) {
        EXPECT_EQ(row.at("calls"), 10);
        EXPECT_EQ(row.at("repeat"), 3);
        ASSERT_EQ(row.at("runs").size(), 3u) << row.dump();
        EXPECT_EQ(row["runs"][0].at("calls"), 4);
        EXPECT_EQ(row["runs"][1].at("calls"), 3);
        EXPECT_EQ(row["runs"][2].at("calls"), 3);
        EXPECT_TRUE(row.at("wall_s_min").is_number());
        EXPECT_LE(row.at("wall_s_min").get<double>(), row.at("wall_s_max").get<double>());
        EXPECT_TRUE(row.at("spread").is_number());
        EXPECT_TRUE(row.at("warnings").is_array());
    }
}

TEST(Cli, MarkdownFileFromItsExtension) {
    const std::string path = testing::TempDir() + "handoff_cli_out.md";
    const Ran ran = run("--count 20 --repeat 2 --work none --backend epoll --target dedicated --no-floor --output " + path);
    ASSERT_EQ(ran.status, 0) << ran.err;
    const std::string text = slurp(path);
    EXPECT_NE(text.find("| Backend | Target |"), std::string::npos) << text;
    EXPECT_NE(text.find("| epoll | dedicated |"), std::string::npos) << text;
    std::remove(path.c_str());
}

TEST(Cli, AnUnwritableOutputIsRefusedBeforeAnythingRuns) {
    // sleep:1s x 1000 calls would take many minutes: the refusal must come first.
    const auto start = std::chrono::steady_clock::now();
    const Ran ran = run("--count 1000 --work sleep:1s --output /nonexistent-handoff-folder/r.json");
    EXPECT_EQ(ran.status, 2);
    EXPECT_EQ(ran.err, "handoff: --output: cannot write '/nonexistent-handoff-folder/r.json': No such file or "
                       "directory\n");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));  // sanity, not timing
    if (geteuid() != 0) {  // root may write into a read-only folder
        const std::string locked = testing::TempDir() + "handoff_cli_locked";
        mkdir(locked.c_str(), 0555);
        const Ran refused = run("--count 1000 --work sleep:1s --output " + locked + "/r.json");
        EXPECT_EQ(refused.status, 2);
        EXPECT_NE(refused.err.find("Permission denied"), std::string::npos) << refused.err;
        rmdir(locked.c_str());
    }
}

// Starts the binary with `args`, stdout and stderr to files; returns its pid.
pid_t spawn(const std::vector<std::string>& args, const std::string& out, const std::string& err) {
    const char* bin = std::getenv("HANDOFF_BIN");
    std::vector<std::string> words{bin ? bin : "./handoff"};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    return rc == 0 ? pid : -1;
}

// Waits up to `limit` for the child; kills it (and fails) if it hangs.
int wait_exit(pid_t pid, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            ADD_FAILURE() << "the run did not stop after the signal";
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct Interrupted {
    int signal;
    int status;
};

class StopsOnSignal : public testing::TestWithParam<Interrupted> {};

// A run of many minutes (100000 calls of 1 ms per row), interrupted after
// about a second: it stops, prints and writes what it has, marked partial.
TEST_P(StopsOnSignal, WithAValidPartialFile) {
    const std::string base = testing::TempDir() + "handoff_signal_" + std::to_string(GetParam().signal);
    const std::string file = base + ".json";
    std::remove(file.c_str());
    // Short repetitions (100 calls each) so whole ones finish within the second.
    const pid_t pid = spawn({"--work", "sleep:1ms", "--count", "100000", "--repeat", "1000", "--warmup", "2",
                             "--backend", "epoll", "--target", "dedicated", "--output", file},
                            base + ".out", base + ".err");
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    kill(pid, GetParam().signal);
    EXPECT_EQ(wait_exit(pid, std::chrono::seconds(60)), GetParam().status) << slurp(base + ".err");
    const std::string out = slurp(base + ".out");
    EXPECT_NE(out.find("INTERRUPTED by"), std::string::npos) << out;
    EXPECT_NE(out.find("Incomplete rows:"), std::string::npos) << out;

    const auto doc = nlohmann::json::parse(slurp(file));
    EXPECT_EQ(doc.at("partial"), true);
    std::size_t with_figures = 0;
    for (const auto& row : doc.at("results")) {
        if (row.at("status") != "ok") continue;
        ++with_figures;
        EXPECT_LT(row.at("runs").size(), 1000u);
        std::uint64_t measured = 0;
        for (const auto& r : row.at("runs")) measured += r.at("calls").get<std::uint64_t>();
        EXPECT_EQ(row.at("calls"), measured) << "a partial row's figures cover the calls it measured";
        EXPECT_TRUE(row.at("wall_s").is_number());
    }
    EXPECT_GE(with_figures, 1u) << doc.dump();  // inline runs first
    for (const char* suffix : {".json", ".out", ".err"}) std::remove((base + suffix).c_str());
}

INSTANTIATE_TEST_SUITE_P(Cli, StopsOnSignal,
                         testing::Values(Interrupted{SIGINT, 130}, Interrupted{SIGTERM, 143}),
                         [](const auto& param_info) { return param_info.param.signal == SIGINT ? "sigint" : "sigterm"; });

TEST(Cli, ASecondSigintQuitsAtOnceAndLeavesThePreviousFileWhole) {
    const std::string base = testing::TempDir() + "handoff_signal_twice";
    const std::string file = base + ".json";
    {
        std::ofstream previous(file);
        previous << "{\"schema\": \"handoff/1\", \"previous\": true}\n";
    }
    // Calls of 2 s: after the first SIGINT the run would stop when the
    // running call returns and then print its report; the second, 200 ms
    // later, must not wait for that.
    const pid_t pid = spawn({"--work", "sleep:2s", "--count", "5", "--repeat", "1", "--warmup", "0", "--backend",
                             "epoll", "--target", "dedicated", "--no-floor", "--output", file},
                            base + ".out", base + ".err");
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    kill(pid, SIGINT);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    kill(pid, SIGINT);
    EXPECT_EQ(wait_exit(pid, std::chrono::seconds(60)), 130);
    EXPECT_EQ(slurp(base + ".out"), "") << "no report: it quit at once";
    const auto doc = nlohmann::json::parse(slurp(file));  // old or new, never cut
    EXPECT_EQ(doc.at("schema"), "handoff/1");
    for (const char* suffix : {".json", ".out", ".err"}) std::remove((base + suffix).c_str());
}

}  // namespace
