// The command line's --sweep inflight (alone and with designs), --wide and
// --columns: the configurations the parser plans, its one-line refusals, and
// the binary's --columns list.
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "base/placement.hpp"
#include "cli/cli.hpp"
#include "handoff/design.hpp"
#include "report/report.hpp"
#include "run_binary.hpp"

namespace handoff {
namespace {

// ---- --sweep inflight, through the parser.

ParseResult parse(std::vector<const char*> args, std::string* err_text = nullptr) {
    args.insert(args.begin(), "handoff");
    std::ostringstream out, err;
    ParseResult result = parse_command_line(int(args.size()), args.data(), out, err);
    if (err_text != nullptr) *err_text = err.str();
    return result;
}

std::size_t count_kind(const Options& options, RowKind kind) {
    return std::size_t(std::count_if(options.configurations.begin(), options.configurations.end(),
                                     [&](const Configuration& c) { return c.kind == kind; }));
}

TEST(SweepInflight, EveryHandoffRowAtEachLevel) {
    const ParseResult plain = parse({"--sweep", "inflight", "--backend", "epoll", "--target", "dedicated", "--no-floor"});
    ASSERT_TRUE(plain.options);
    EXPECT_EQ(count_kind(*plain.options, RowKind::inline_calls), 1u);
    ASSERT_EQ(count_kind(*plain.options, RowKind::handoff), 4u);
    std::vector<std::uint32_t> levels;
    for (const Configuration& c : plain.options->configurations) {
        if (c.kind == RowKind::handoff) levels.push_back(c.inflight);
    }
    EXPECT_EQ(levels, (std::vector<std::uint32_t>{1, 4, 16, 64}));
    EXPECT_TRUE(plain.options->sort_by_wall);

    const ParseResult chosen = parse({"--sweep", "inflight=8,1,2", "--backend", "epoll,uv", "--no-floor"});
    ASSERT_TRUE(chosen.options);
    EXPECT_EQ(count_kind(*chosen.options, RowKind::handoff), 2u * 2u * 3u);  // backends x targets x levels

    const ParseResult with_design =
        parse({"--sweep", "inflight=1,16", "--backend", "epoll", "--target", "dedicated", "--design", "classic",
               "--design", "futex-gated", "--no-floor"});
    ASSERT_TRUE(with_design.options);
    EXPECT_EQ(count_kind(*with_design.options, RowKind::handoff), 2u * 2u);
}

TEST(SweepInflight, CombinesWithTheDesignSweep) {
    if (online_cpus().size() < 2) GTEST_SKIP() << "the designs sweep runs split, which needs two online CPUs";
    const ParseResult both = parse({"--sweep", "designs,inflight=1,16", "--backend", "epoll", "--no-floor"});
    ASSERT_TRUE(both.options);
    // Every preset x same and split x two levels; an inline row per placement.
    EXPECT_EQ(count_kind(*both.options, RowKind::handoff), design_presets().size() * 2 * 2);
    EXPECT_EQ(count_kind(*both.options, RowKind::inline_calls), 2u);
}

TEST(SweepInflight, RejectsBadLevelsWithOneLineNamingTheOption) {
    for (const std::vector<const char*>& args : std::vector<std::vector<const char*>>{
             {"--sweep", "inflight=0"},
             {"--sweep", "inflight="},
             {"--sweep", "inflight=1,x"},
             {"--sweep", "inflight=65537"},
             {"--sweep", "inflight,4"},
             {"--sweep", "inflight,inflight"},
             {"--sweep", "designs,designs"},
             {"--sweep", "flight"},
             {"--sweep", "inflight", "--inflight", "4"},
             {"--sweep", "designs", "--design", "classic"},
             {"--wide", "--columns", "p50"},
             {"--columns", "p98"},
         }) {
        std::string err;
        const ParseResult result = parse(args, &err);
        EXPECT_FALSE(result.options) << args[1];
        EXPECT_EQ(result.exit_status, exit_usage) << args[1];
        EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
        EXPECT_TRUE(err.find("--sweep") != std::string::npos || err.find("--columns") != std::string::npos ||
                    err.find("--wide") != std::string::npos)
            << err;
    }
}

// ---- The binary: --columns list, and an unknown name.

TEST(ColumnsOption, TheBinaryListsColumnsAndRefusesUnknownOnes) {
    const test_support::Ran list = test_support::run("--columns list");
    EXPECT_EQ(list.status, 0) << list.err;
    for (const TableColumn& column : table_columns()) {
        EXPECT_NE(list.out.find("  " + std::string(column.name) + " "), std::string::npos) << column.name;
    }
    const test_support::Ran bad = test_support::run("--columns Wall/call,frob");
    EXPECT_EQ(bad.status, 2);
    EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
    EXPECT_NE(bad.err.find("--columns"), std::string::npos) << bad.err;
    EXPECT_NE(bad.err.find("'frob'"), std::string::npos) << bad.err;
    EXPECT_TRUE(bad.out.empty());

    const test_support::Ran picked = test_support::run(
        "--count 200 --repeat 1 --work none --backend epoll --target dedicated --no-floor --columns p99,+wall/call");
    ASSERT_EQ(picked.status, 0) << picked.err;
    // Backend alone tells these rows apart (the target is in the heading), then the two chosen.
    const std::size_t titles = picked.out.find("\nBackend ");
    ASSERT_NE(titles, std::string::npos) << picked.out;
    std::istringstream words(picked.out.substr(titles + 1, picked.out.find('\n', titles + 1) - titles - 1));
    std::vector<std::string> shown{std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()};
    EXPECT_EQ(shown, (std::vector<std::string>{"Backend", "p99", "+Wall/call"})) << picked.out;
}

}  // namespace
}  // namespace handoff
