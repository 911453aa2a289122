// Reads a saved result file (JSON, schema handoff/1) back into plain structs,
// for `handoff compare` and `handoff plot`.
//
// The reader relies only on what every handoff/1 file has: "schema",
// results[].{backend,target,design,work,inflight,placement,status,calls} and
// results[].runs[].{calls, figure keys}. Everything else (median figures, a
// context, "partial", keys added later such as a row's "runs_left_out" or a
// run's "lat_samples") is optional or ignored, so files written by newer builds
// of the same schema still read.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace handoff {

// The only exception the reader throws (besides std::bad_alloc): the input is
// not a usable result file. what() is one line naming the file and the fault.
struct ResultFileError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// One repetition of a row. Figures a run does not have (null or absent: the
// latency of inline, say) are NaN.
struct ResultRun {
    std::uint64_t calls = 0;
    double wall_s = 0;
    double cpu_total_s = 0;
    double cpu_loop_s = 0;
    double cpu_worker_s = 0;
    double lat_p50_ns = 0;
    double lat_p90_ns = 0;
    double lat_p99_ns = 0;
    double lat_p999_ns = 0;
    double lat_max_ns = 0;

    // A total over the run per call, in ns (NaN without calls or value):
    // repetitions of unequal size compare fairly this way.
    double per_call_ns(double total_s) const;
};

struct ResultRow {
    std::string backend, target, design, work, placement;
    std::uint64_t inflight = 0;
    // Open-loop load (added to handoff/1 later; absent: closed loop, fixed, callback).
    double rate = 0;  // calls per second asked; 0: closed loop
    std::string arrival = "fixed", await_mode = "callback";
    std::uint64_t calls = 0;
    std::string status;  // "ok", "failed", "unavailable", or whatever a newer writer says
    std::string reason;  // empty when absent
    // How the calls travelled ("lab worker: queue=inplace,..."; empty when
    // absent): a preset's name can mean another design in another version.
    std::string mechanism;
    std::vector<ResultRun> runs;
    // The row's own figures, as the run printed them (calls: the row's):
    // the median repetition's interval figures, latency pooled over every
    // call of every repetition. NaN where the file has none.
    ResultRun figures;

    bool ok() const { return status == "ok" && !runs.empty(); }
    // The floor and inline rows measure the machine, not a handoff: they are
    // the references a comparison checks the machine against.
    bool is_reference() const { return backend == "floor" || backend == "inline"; }
    // What identifies a configuration across files (compare matches on it);
    // without the design when two designs are compared with each other.
    bool same_configuration(const ResultRow& other, bool ignore_design = false) const;
    // "backend target design placement", leaving out "-" (inline has no
    // target): the short label of a chart or table row. Without the design
    // when rows of two designs are compared with each other.
    std::string label(bool with_design = true) const;
};

// The parts of the context a comparison shows or checks; empty when absent.
struct ResultContext {
    std::string date, host, cpu_model, kernel, online_cpus, lab_version, commit, command_line;
};

struct ResultFile {
    std::string name;  // as given (the path), for messages and headers
    ResultContext context;
    bool partial = false;  // "partial": true, an interrupted run
    std::vector<ResultRow> rows;
};

// Parses `text` as a handoff/1 document; `name` is used in messages only.
// Never crashes and throws only ResultFileError (one line: not JSON with line
// and column, not an object, missing or other schema, a key of the wrong type,
// a row without runs, an ok row with no run) or std::bad_alloc.
ResultFile parse_result_text(std::string_view text, std::string_view name);

// Reads and parses a file; a missing or unreadable file is a ResultFileError
// naming it with the system's reason.
ResultFile read_result_file(const std::string& path);

}  // namespace handoff
