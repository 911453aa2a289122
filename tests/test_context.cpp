// The run context: what every result keeps about the machine and the build.
#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "measurement/context.hpp"
#include "report/report.hpp"

namespace handoff {
namespace {

RunContext collect() {
    const char* argv[] = {"handoff", "--work", "spin:1us", "--backend", "a b"};
    return collect_context(5, argv);
}

TEST(Context, RecordsTheCommandLineSoItCanBePastedBack) {
    EXPECT_EQ(collect().command_line, "handoff --work spin:1us --backend 'a b'");
}

// Linux always exposes these; each reader says "unknown" rather than
// failing where a value is hidden, so none may be empty.
TEST(Context, DescribesMachineAndBuild) {
    const RunContext c = collect();
    EXPECT_GE(c.online_cpus, 1u);
    EXPECT_FALSE(c.online_cpu_list.empty());
    EXPECT_FALSE(c.kernel.empty());
    EXPECT_FALSE(c.compiler.empty());
    EXPECT_FALSE(c.git_commit.empty());
    EXPECT_FALSE(c.build_flags.empty());
    for (const std::string* value : {&c.virtualization, &c.clocksource, &c.cpu_governor, &c.cpu_boost,
                                     &c.cpuidle, &c.timer_slack_ns, &c.io_uring, &c.load_average}) {
        EXPECT_FALSE(value->empty());
    }
    EXPECT_NE(c.io_uring.find("io_uring_disabled"), std::string::npos) << c.io_uring;
    EXPECT_EQ(c.libraries.count("fmt"), 1u);
}

TEST(Context, TableHeadShowsTheSettingsThatMoveTheNumbers) {
    RunContext c;
    c.virtualization = "hypervisor 'KVMKVMKVM'";
    c.clocksource = "kvm-clock";
    c.cpuidle = "unknown";
    c.timer_slack_ns = "50000";
    c.load_average = "0.50 0.40 0.30";
    c.lab_version = "0.1.0";
    c.git_commit = "abc123";
    c.compiler = "g++ 12.2.0";
    c.build_flags = "-O2";
    c.libraries = {{"fmt", "9.1.0"}, {"uv", "libuv 1.44.2"}};
    EXPECT_EQ(describe_environment(c),
              "hypervisor 'KVMKVMKVM'; clock kvm-clock; timer slack 50000 ns; load 0.50 0.40 0.30\n"
              "handoff 0.1.0, commit abc123, g++ 12.2.0 -O2, fmt 9.1.0, libuv 1.44.2");
}

TEST(Context, JsonCarriesEveryField) {
    Report report;
    report.context = collect();
    std::ostringstream out;
    write_json(out, report);
    const auto context = nlohmann::json::parse(out.str())["context"];
    for (const char* key : {"command_line", "date", "host", "cpu_model", "online_cpus", "online_cpu_list",
                            "kernel", "virtualization", "clocksource", "cpu_governor", "cpu_boost", "cpuidle",
                            "timer_slack_ns", "io_uring", "load_average", "lab_version", "git_commit",
                            "compiler", "build_flags", "libraries"}) {
        EXPECT_TRUE(context.contains(key)) << key;
    }
    EXPECT_EQ(context["io_uring"], report.context.io_uring);
}

}  // namespace
}  // namespace handoff
