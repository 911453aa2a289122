// Shared by the tests of failures, timeouts and shutdown: which configurations
// to run them on (every backend x target, and the designs that change the
// loop's or the worker's side: classic, gated, spin through a ring and in
// place, adaptive, native), and how many
// calls a work modifier picks among the measured ones.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "handoff/backend.hpp"
#include "run/configuration.hpp"
#include "run/runner.hpp"
#include "handoff/design.hpp"
#include "handoff/work.hpp"

namespace handoff::testing_support {

struct Shape {
    std::string backend;
    TargetKind target;
    std::string design;  // dedicated only; "" for pool
};

inline std::vector<Shape> every_shape() {
    std::vector<Shape> all;
    for (const Backend* backend : all_backends()) {
        const std::string name(backend->name);
        all.push_back({name, TargetKind::pool, ""});
        for (const char* design : {"classic", "futex-gated", "spin", "inplace", "adaptive", "native"}) {
            all.push_back({name, TargetKind::dedicated, design});
        }
    }
    return all;
}

inline std::string shape_name(const ::testing::TestParamInfo<Shape>& info) {
    std::string name = info.param.backend + "_" + std::string(to_string(info.param.target));
    if (!info.param.design.empty()) name += "_" + info.param.design;
    for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return name;
}

inline Configuration config_for(const Shape& shape, const std::string& work, std::uint64_t calls,
                                std::uint32_t inflight) {
    Configuration config;
    config.backend = shape.backend;
    config.target = shape.target;
    if (!shape.design.empty()) config.design = parse_design(shape.design);
    config.work = Work::parse(work);
    config.calls = calls;
    config.warmup = 20;
    config.inflight = inflight;
    // Spin designs need the two sides on different CPUs to make progress.
    return config;
}

// A test over configurations that name a backend: skipped, with the
// reason, where that backend cannot run here (io_uring disabled, no Python).
template <class Param>
class OnAvailableBackend : public ::testing::TestWithParam<Param> {
protected:
    void SetUp() override {
        const Backend* backend = find_backend(this->GetParam().backend);
        ASSERT_NE(backend, nullptr);
        if (auto reason = backend_unavailable_reason(*backend)) GTEST_SKIP() << *reason;
    }
};

// How many of the measured calls (seq warmup .. warmup+calls-1) `picked` selects.
template <class Picked>
std::uint64_t count_measured(const Configuration& config, Picked picked) {
    std::uint64_t n = 0;
    for (std::uint64_t seq = config.warmup; seq < config.warmup + config.calls; ++seq) n += picked(argument_for(seq));
    return n;
}

// Open loop (--rate 20k), every call completes exactly once with its result
// checked (fail:P too), at one and at four in flight (the cap holds calls
// back), without and with a (generous) timeout; the row says the rate asked.
inline void expect_every_call_verified_at_a_rate(const Shape& shape, AwaitMode await_mode = AwaitMode::callback) {
    for (std::uint32_t inflight : {1u, 4u}) {
        for (const bool timeout : {false, true}) {
            SCOPED_TRACE(testing::Message() << shape.backend << " " << shape.design << ", in-flight " << inflight
                                            << (timeout ? ", timeout 5s" : ""));
            Configuration config = config_for(shape, "none+fail:0.1", 200, inflight);
            config.await_mode = await_mode;
            config.rate = 20'000;
            config.arrival = inflight == 1 ? ArrivalKind::fixed : ArrivalKind::poisson;
            if (timeout) config.timeout = std::chrono::seconds(5);
            const RowResult row = run_configuration(config);
            if (row.status == RowStatus::unavailable) GTEST_SKIP() << row.reason;
            ASSERT_EQ(row.status, RowStatus::ok) << row.reason;
            ASSERT_EQ(row.errors, 0u);
            const Measurement& m = row.runs.at(0);
            EXPECT_EQ(m.calls, 200u);
            EXPECT_EQ(m.latency.count(), 200u);
            EXPECT_EQ(m.timed_out_calls, 0u);
            EXPECT_EQ(m.failed_calls, count_measured(config, [&](std::uint64_t arg) { return config.work.must_fail(arg); }));
            EXPECT_EQ(m.rate_asked, 20'000);
            if (inflight == 1) {
                EXPECT_GE(m.wall_s, 199 / 20'000.0);  // fixed: the last intended time is 199 gaps in
            }
        }
    }
}

}  // namespace handoff::testing_support
