// A hostile environment, through the real binary (HANDOFF_BIN names it, as in
// test_cli.cpp): impossible pins, pools and counts are refused with one line
// and status 2, and io_uring switched off by the kernel leaves the uring rows
// unavailable with the reason while every other row still runs.
#include <gtest/gtest.h>

#include "run_binary.hpp"
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "base/placement.hpp"

namespace {

using test_support::Ran;
using test_support::run;

// A usage error: status 2, exactly one line on stderr naming the option, nothing on stdout.
void expect_usage_error(const Ran& ran, const std::string& option) {
    EXPECT_EQ(ran.status, 2) << ran.err;
    EXPECT_EQ(std::count(ran.err.begin(), ran.err.end(), '\n'), 1) << ran.err;
    EXPECT_EQ(ran.err.rfind("handoff: ", 0), 0u) << ran.err;
    EXPECT_NE(ran.err.find(option), std::string::npos) << ran.err;
    EXPECT_TRUE(ran.out.empty()) << ran.out;
}

TEST(Hostile, PinToACpuThatIsNotOnlineNamesTheOnlineCpus) {
    const std::string online = handoff::format_cpu_list(handoff::online_cpus());
    for (const char* pin : {"loop=99", "worker=99", "pool=0+99", "loop=0,worker=4095"}) {
        SCOPED_TRACE(pin);
        const Ran ran = run(std::string("--count 10 --work none --pin ") + pin);
        expect_usage_error(ran, "--pin");
        EXPECT_NE(ran.err.find("is not online; online CPUs: " + online), std::string::npos) << ran.err;
    }
}

TEST(Hostile, PoolOfZeroOrOfAHundredThousandThreadsIsRefusedWithTheRange) {
    for (const char* threads : {"0", "100000"}) {
        SCOPED_TRACE(threads);
        const Ran ran = run(std::string("--count 10 --work none --target pool --threads ") + threads);
        expect_usage_error(ran, "--threads");
        // The allowed range, "from 1 to N" (no std::regex: g++ 12's ASan
        // build warns inside <regex>, and warnings are errors).
        const std::size_t range = ran.err.find("from 1 to ");
        ASSERT_NE(range, std::string::npos) << ran.err;
        const char after = ran.err[range + std::string_view("from 1 to ").size()];
        EXPECT_TRUE(after >= '1' && after <= '9') << ran.err;
    }
}

TEST(Hostile, CountLargerThanFitsIsRefused) {
    // Past uint64_t (2^64 = 18446744073709551616), and far past it.
    for (const char* count : {"18446744073709551616", "99999999999999999999999"}) {
        SCOPED_TRACE(count);
        const Ran ran = run(std::string("--work none --count ") + count);
        expect_usage_error(ran, "--count");
        EXPECT_NE(ran.err.find(count), std::string::npos) << ran.err;
    }
}

// A newline typed into an argument is quoted escaped: the message stays one line.
TEST(Hostile, ANewlineInAnArgumentKeepsTheMessageOneLine) {
    for (const char* option : {"--design", "--work", "--pin", "--placement"}) {
        SCOPED_TRACE(option);
        const Ran ran = run(std::string("--count 10 ") + option + " \"$(printf 'bad\\nvalue')\"");
        expect_usage_error(ran, option);
        EXPECT_NE(ran.err.find("bad\\nvalue"), std::string::npos) << ran.err;
    }
}

// Sets a sysctl for the life of the object and puts the old value back when
// it goes, however the test ends (an ASSERT returns through it too).
class SysctlOverride {
public:
    SysctlOverride(std::string path, const std::string& value) : path_(std::move(path)) {
        std::ifstream in(path_);
        std::string old;
        if (!(in >> old)) return;
        old_ = old;
        std::ofstream out(path_);
        out << value << '\n';
        out.flush();
        applied_ = bool(out);
    }
    ~SysctlOverride() {
        if (!old_) return;
        std::ofstream out(path_);
        out << *old_ << '\n';
        out.flush();
        if (!out) ADD_FAILURE() << "could not restore " << path_ << " to " << *old_;
    }
    SysctlOverride(const SysctlOverride&) = delete;
    SysctlOverride& operator=(const SysctlOverride&) = delete;

    bool applied() const { return applied_; }

private:
    std::string path_;
    std::optional<std::string> old_;
    bool applied_ = false;
};

// kernel.io_uring_disabled=2 refuses io_uring to every process. The switch
// is machine-wide, so it is flipped only for the one short run and put back
// at once. Needs root and a kernel that has the switch (Linux 6.6+).
TEST(Hostile, IoUringDisabledLeavesUringUnavailableAndTheRestRunning) {
    const std::string path = "/proc/sys/kernel/io_uring_disabled";
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to set " << path;
    if (::access(path.c_str(), F_OK) != 0) GTEST_SKIP() << path << " does not exist (a kernel older than 6.6)";
    if (::access(path.c_str(), W_OK) != 0) GTEST_SKIP() << path << " is not writable here (a read-only /proc/sys?)";
    Ran ran;
    {
        const SysctlOverride disabled(path, "2");
        if (!disabled.applied()) GTEST_SKIP() << "writing 2 to " << path << " failed";
        ran = run("--backend uring,epoll --count 200 --work none --no-floor --format json");
    }
    ASSERT_EQ(ran.status, 0) << ran.err;
    const auto doc = nlohmann::json::parse(ran.out);
    unsigned uring_rows = 0, epoll_rows = 0;
    for (const auto& row : doc.at("results")) {
        const std::string backend = row.at("backend");
        if (backend == "uring") {
            ++uring_rows;
            EXPECT_EQ(row.at("status"), "unavailable") << row.dump();
            EXPECT_NE(row.at("reason").get<std::string>().find("io_uring_disabled"), std::string::npos)
                << row.dump();
        } else {
            epoll_rows += backend == "epoll";
            EXPECT_EQ(row.at("status"), "ok") << row.dump();
        }
    }
    EXPECT_EQ(uring_rows, 2u);  // dedicated and pool
    EXPECT_EQ(epoll_rows, 2u);
}

}  // namespace
