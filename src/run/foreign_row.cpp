#include "run/foreign_row.hpp"

#include "run/arrival.hpp"

namespace handoff {
namespace {

ForeignRequest request_for(const Configuration& config, const RunLimits& limits, std::chrono::milliseconds stall_limit) {
    ForeignRequest request;
    request.target = config.target;
    request.inline_calls = config.is_inline();
    request.design = &config.design;
    request.work = &config.work;
    request.calls = config.calls;
    request.warmup = config.warmup;
    request.inflight = config.inflight;
    request.threads = config.threads;
    request.loop_cpu = config.placement.loop_cpu;
    request.worker_cpu = config.placement.worker_cpu;
    request.pool_cpus = config.placement.pool_cpus;
    if (config.open_loop()) {
        request.rate = config.rate;
        request.poisson = config.arrival == ArrivalKind::poisson;
        request.seed = config.seed;
        ArrivalSchedule schedule(config.rate, config.arrival, config.seed);
        schedule.restart(0);
        for (int k = 0; k < 8; ++k, schedule.advance()) request.arrival_check.push_back(schedule.next_ns());
    }
    request.stall_timeout = stall_limit;
    request.stop_requested = limits.stop_requested;
    request.on_progress = limits.on_progress;
    return request;
}

Measurement measurement_of(ForeignResult& result, double rate_asked) {
    Measurement m;
    m.rate_asked = rate_asked;
    m.calls = result.calls;
    m.wall_s = double(result.wall_ns) / 1e9;
    m.cpu_total_s = double(result.cpu_total_ns) / 1e9;
    m.cpu_loop_s = double(result.cpu_loop_ns) / 1e9;
    m.cpu_worker_s = double(result.cpu_worker_ns) / 1e9;
    m.loop_switches = result.loop_switches;
    m.worker_switches = result.worker_switches;
    m.same_cpu_calls = result.same_cpu_calls;
    m.cpu_known_calls = result.cpu_known_calls;
    m.worker_threads = result.worker_threads;
    m.failed_calls = result.failed_calls;
    for (const std::int64_t ns : result.latencies_ns) m.latency.record(ns);
    m.cpu_total_caveat = std::move(result.cpu_total_caveat);
    return m;
}

}  // namespace

RowResult run_foreign_row(const Configuration& config, const Backend& backend, const RunLimits& limits,
                          std::chrono::milliseconds stall_limit) {
    RowResult row;
    row.config = config;
    ForeignResult result = backend.run_foreign(request_for(config, limits, stall_limit));
    row.mechanism = result.mechanism;
    row.errors = result.errors;
    switch (result.status) {
        case ForeignResult::Status::ok:
            row.runs.push_back(measurement_of(result, config.rate));
            break;
        case ForeignResult::Status::unsupported:
            row.status = RowStatus::unavailable;
            row.reason = result.reason;
            break;
        case ForeignResult::Status::interrupted:
            row.status = RowStatus::failed;
            row.reason = "interrupted";
            break;
        case ForeignResult::Status::failed:
            row.status = RowStatus::failed;
            row.reason = result.reason;
            break;
    }
    return row;
}

}  // namespace handoff
