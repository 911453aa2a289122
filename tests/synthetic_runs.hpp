// A made-up measured run for the tests of what reads results back (compare,
// plot): `calls` calls at `ns_per_call` of wall time each; CPU in fixed
// proportion to it (total = wall, loop 1/2, worker 1/4); latency percentiles
// at 1, 2, 4, 8 and 16 times it (p50, p90, p99, p99.9, max; see
// latency_levels.hpp), or none. And rows and reports of such runs, written
// as result files by the real writer.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "measurement/measurement.hpp"
#include "report/report.hpp"
#include "latency_levels.hpp"

namespace handoff::testing_support {

inline Measurement synthetic_run(std::uint64_t calls, double ns_per_call, bool latency = true) {
    Measurement m;
    m.calls = calls;
    m.wall_s = ns_per_call * double(calls) / 1e9;
    m.cpu_total_s = m.wall_s;
    m.cpu_loop_s = m.wall_s / 2;
    m.cpu_worker_s = m.wall_s / 4;
    if (latency) m.latency = latency_levels(calls, std::int64_t(ns_per_call));
    return m;
}

// A row whose repetitions take `ns_per_call[i]` each; their sizes differ
// (1000, 2000, 500, ...) so only per-call values make them comparable.
inline RowResult synthetic_row(const std::string& backend, TargetKind target, const std::vector<double>& ns_per_call,
                               RowStatus status = RowStatus::ok) {
    RowResult r;
    r.config.backend = backend;
    if (backend == "inline") r.config = Configuration::reference(RowKind::inline_calls, r.config);
    if (backend == "floor") r.config = Configuration::reference(RowKind::floor, r.config);
    r.config.target = target;
    r.config.work = Work::parse("none");
    r.config.calls = 1000;
    r.status = status;
    if (status != RowStatus::ok) r.reason = "lost wake-up";
    const std::uint64_t sizes[] = {1000, 2000, 500, 4000, 250};
    for (std::size_t i = 0; i < ns_per_call.size(); ++i) r.runs.push_back(synthetic_run(sizes[i % 5], ns_per_call[i]));
    return r;
}

inline Report synthetic_report(const std::string& host, std::vector<RowResult> rows) {
    Report r;
    r.context.date = "2026-11-29T12:00:00Z";
    r.context.host = host;
    r.context.cpu_model = "Test CPU";
    r.context.online_cpus = 2;
    r.context.kernel = "6.18.0";
    r.context.lab_version = "0.1.0";
    r.rows = std::move(rows);
    return r;
}

// The result file the real JSON writer makes of `report`.
inline std::string result_json(const Report& report) {
    std::ostringstream out;
    write_json(out, report);
    return out.str();
}

}  // namespace handoff::testing_support
