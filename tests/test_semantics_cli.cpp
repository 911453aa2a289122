// The real binary with --timeout and the work modifiers: bad values get one
// line and status 2; --timeout puts each row beside the same row with it.
// HANDOFF_BIN names the binary.
#include <gtest/gtest.h>

#include "run_binary.hpp"
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "handoff/work.hpp"

namespace handoff {
namespace {

using test_support::Ran;
using test_support::run;

TEST(SemanticsCli, RejectsBadTimeoutsAndShares) {
    for (const auto& [args, option] : std::vector<std::pair<std::string, std::string>>{
             {"--timeout 0", "--timeout"},
             {"--timeout 5", "--timeout"},
             {"--timeout -1ms", "--timeout"},
             {"--timeout soon", "--timeout"},
             {"--work fail:2", "--work"},
             {"--work fail:-0.5", "--work"},
             {"--work sleep0+fail:", "--work"},
             {"--work slow:0.1", "--work"},
             {"--work none+bogus", "--work"},
             {"--rate 0", "--rate"},
             {"--rate -5", "--rate"},
             {"--rate fast", "--rate"},
             {"--rate 10q", "--rate"},
             {"--rate 2G", "--rate"},
             {"--arrival poisson", "--arrival"},
             {"--seed 3", "--seed"},
             {"--rate 1k --arrival bursty", "--arrival"},
             {"--rate 1k --seed x", "--seed"}}) {
        const Ran ran = run(args);
        EXPECT_EQ(ran.status, 2) << args << ": " << ran.err;
        EXPECT_EQ(std::count(ran.err.begin(), ran.err.end(), '\n'), 1) << args << ": " << ran.err;
        EXPECT_NE(ran.err.find(option), std::string::npos) << args << ": " << ran.err;
        EXPECT_TRUE(ran.out.empty()) << args;
    }
}

TEST(SemanticsCli, HelpNamesTimeoutAndFail) {
    const Ran ran = run("--help");
    EXPECT_EQ(ran.status, 0);
    EXPECT_NE(ran.out.find("--timeout"), std::string::npos);
    EXPECT_NE(ran.out.find("fail:P"), std::string::npos);
    EXPECT_NE(ran.out.find("slow:P:DUR"), std::string::npos);
}

TEST(SemanticsCli, EachRowRunsWithoutAndWithTheTimeout) {
    const Ran ran = run("--count 200 --repeat 1 --warmup 20 --work none+slow:0.1:20ms+fail:0.1 --timeout 2ms --backend epoll "
                        "--target dedicated --no-floor --format json");
    ASSERT_EQ(ran.status, 0) << ran.err;
    const auto doc = nlohmann::json::parse(ran.out);
    const auto& rows = doc.at("results");
    // One repetition: every count below is exact, not a median scaled to the row.
    ASSERT_EQ(rows.size(), 3u);  // inline, then the dedicated row without and with --timeout
    EXPECT_EQ(rows[0].at("backend"), "inline");
    EXPECT_EQ(rows[1].at("timeout_ns"), 0);
    EXPECT_EQ(rows[2].at("timeout_ns"), 2000000);
    EXPECT_EQ(rows[2].at("design"), "classic,timeout=2ms");
    const Work work = Work::parse("none+slow:0.1:20ms+fail:0.1");
    std::uint64_t slow = 0, failing = 0;
    for (std::uint64_t seq = 20; seq < 220; ++seq) {
        slow += work.is_slow(argument_for(seq));
        failing += work.must_fail(argument_for(seq));
    }
    for (const auto& row : rows) {
        EXPECT_EQ(row.at("status"), "ok") << row.dump();
        EXPECT_EQ(row.at("errors"), 0);
    }
    EXPECT_EQ(rows[1].at("failed_calls"), failing);
    EXPECT_EQ(rows[1].at("timed_out_calls"), 0);
    EXPECT_GE(rows[2].at("timed_out_calls").get<std::uint64_t>(), slow);
    EXPECT_EQ(rows[2].at("cancelled_calls").get<std::uint64_t>() + rows[2].at("late_results").get<std::uint64_t>(),
              rows[2].at("timed_out_calls").get<std::uint64_t>());
}

}  // namespace
}  // namespace handoff
