#include "analysis/result_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace handoff {
namespace {

using Json = nlohmann::json;

constexpr std::string_view expected_schema = "handoff/1";
// Real files nest four levels; a limit keeps a hostile file from costing more
// than it is worth (the parser itself is iterative, so this is economy, not safety).
constexpr int max_depth = 32;
// A result file of a big sweep is a few MB; reading /dev/zero must still end.
constexpr std::size_t max_file_bytes = 256u << 20;

// Text from a file goes into one-line messages, tables and chart labels:
// control characters (a newline in a host name) become '?'.
std::string one_line(std::string_view text, std::size_t limit = 200) {
    std::string out;
    for (const char c : text.substr(0, limit)) {
        const auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u == 0x7f) ? '?' : c;
    }
    if (text.size() > limit) out += "...";
    return out;
}

std::string quoted_name(std::string_view name) { return "'" + one_line(name) + "'"; }

[[noreturn]] void fail(std::string_view name, std::string_view where, std::string_view what) {
    throw ResultFileError(fmt::format("{}: {}: {}", quoted_name(name), where, what));
}

// "a string", "an array", ...: the JSON type of a value for a message.
std::string kind_of(const Json& value) {
    switch (value.type()) {
        case Json::value_t::object: return "an object";
        case Json::value_t::array: return "an array";
        case Json::value_t::string: return "a string";
        case Json::value_t::boolean: return "a boolean";
        case Json::value_t::null: return "null";
        case Json::value_t::number_integer:
        case Json::value_t::number_unsigned:
        case Json::value_t::number_float: return "a number";
        default: return "something else";
    }
}

// Reads one row's fields with the row's path for messages.
struct RowReader {
    std::string_view name;
    const Json& object;
    std::string where;  // "results[3]"

    const Json* find(std::string_view key) const {
        const auto it = object.find(std::string(key));
        return it == object.end() ? nullptr : &*it;
    }

    std::string text(std::string_view key, bool required = true) const {
        const Json* value = find(key);
        if (value == nullptr) {
            if (!required) return {};
            fail(name, where, fmt::format("missing '{}'", key));
        }
        if (!value->is_string()) {
            if (!required && value->is_null()) return {};
            fail(name, fmt::format("{}.{}", where, key), "expected a string, found " + kind_of(*value));
        }
        return one_line(value->get_ref<const std::string&>());
    }

    std::uint64_t count(std::string_view key) const {
        const Json* value = find(key);
        if (value == nullptr) fail(name, where, fmt::format("missing '{}'", key));
        if (!value->is_number_unsigned()) {
            fail(name, fmt::format("{}.{}", where, key), "expected a whole number >= 0, found " + kind_of(*value));
        }
        return value->get<std::uint64_t>();
    }

    // A figure: a number, or NaN for null or absent (a row without latency).
    double figure(std::string_view key) const {
        const Json* value = find(key);
        if (value == nullptr || value->is_null()) return std::numeric_limits<double>::quiet_NaN();
        if (!value->is_number()) {
            fail(name, fmt::format("{}.{}", where, key), "expected a number or null, found " + kind_of(*value));
        }
        return value->get<double>();
    }
};

ResultRun read_run(std::string_view name, const Json& value, const std::string& where) {
    if (!value.is_object()) fail(name, where, "expected an object, found " + kind_of(value));
    const RowReader r{name, value, where};
    ResultRun run;
    run.calls = r.count("calls");
    run.wall_s = r.figure("wall_s");
    run.cpu_total_s = r.figure("cpu_total_s");
    run.cpu_loop_s = r.figure("cpu_loop_s");
    run.cpu_worker_s = r.figure("cpu_worker_s");
    run.lat_p50_ns = r.figure("lat_p50_ns");
    run.lat_p90_ns = r.figure("lat_p90_ns");
    run.lat_p99_ns = r.figure("lat_p99_ns");
    run.lat_p999_ns = r.figure("lat_p999_ns");
    run.lat_max_ns = r.figure("lat_max_ns");
    return run;
}

ResultRow read_row(std::string_view name, const Json& value, std::size_t index) {
    const std::string where = fmt::format("results[{}]", index);
    if (!value.is_object()) fail(name, where, "expected an object, found " + kind_of(value));
    const RowReader r{name, value, where};
    ResultRow row;
    row.backend = r.text("backend");
    row.target = r.text("target");
    row.design = r.text("design");
    row.work = r.text("work");
    // Added to handoff/1 after its first files (a compatible change): files
    // from before it ran every thread where the scheduler put it.
    row.placement = r.find("placement") == nullptr ? "free" : r.text("placement");
    row.status = r.text("status");
    row.reason = r.text("reason", false);
    row.mechanism = r.text("mechanism", false);
    row.inflight = r.count("inflight");
    // Added to handoff/1 with --rate and --await: absent in older files.
    if (const double rate = r.figure("rate"); std::isfinite(rate)) row.rate = rate;
    if (r.find("arrival") != nullptr) row.arrival = r.text("arrival");
    if (r.find("await") != nullptr) row.await_mode = r.text("await");
    row.calls = r.count("calls");
    row.figures = read_run(name, value, where);  // the row's figures sit beside its identity

    const std::string labelled = fmt::format("{} ({})", where, row.label());
    const Json* runs = r.find("runs");
    if (runs == nullptr) fail(name, labelled, "no runs (expected an array of repetitions)");
    if (!runs->is_array()) fail(name, labelled + ".runs", "expected an array, found " + kind_of(*runs));
    row.runs.reserve(runs->size());
    for (std::size_t i = 0; i < runs->size(); ++i) {
        row.runs.push_back(read_run(name, (*runs)[i], fmt::format("{}.runs[{}]", where, i)));
    }
    if (row.status == "ok" && row.runs.empty()) fail(name, labelled, "status ok but no runs");
    return row;
}

// Context keys are a courtesy: absent or odd ones are left empty, never fatal.
ResultContext read_context(const Json& document) {
    ResultContext c;
    const auto it = document.find("context");
    if (it == document.end() || !it->is_object()) return c;
    const auto field = [&](std::initializer_list<const char*> keys) -> std::string {
        for (const char* key : keys) {
            const auto value = it->find(key);
            if (value == it->end()) continue;
            if (value->is_string()) return one_line(value->get_ref<const std::string&>());
            if (value->is_number()) return one_line(value->dump());
        }
        return {};
    };
    c.date = field({"date"});
    c.host = field({"host"});
    c.cpu_model = field({"cpu_model"});
    c.kernel = field({"kernel"});
    c.online_cpus = field({"online_cpus"});
    c.lab_version = field({"lab_version"});
    c.commit = field({"commit", "git_commit", "lab_commit"});
    c.command_line = field({"command_line"});
    return c;
}

// "[json.exception.parse_error.101] parse error at line 1, column 2: ..." ->
// "parse error at line 1, column 2: ...".
std::string json_reason(const nlohmann::json::exception& e) {
    std::string_view what = e.what();
    if (what.starts_with("[json.exception.")) {
        if (const auto close = what.find("] "); close != std::string_view::npos) what.remove_prefix(close + 2);
    }
    return one_line(what, 300);
}

}  // namespace

double ResultRun::per_call_ns(double total_s) const {
    if (calls == 0 || !std::isfinite(total_s)) return std::numeric_limits<double>::quiet_NaN();
    return total_s * 1e9 / double(calls);
}

bool ResultRow::same_configuration(const ResultRow& other, bool ignore_design) const {
    return backend == other.backend && target == other.target && (ignore_design || design == other.design) &&
           work == other.work && inflight == other.inflight && placement == other.placement && rate == other.rate &&
           arrival == other.arrival && await_mode == other.await_mode;
}

std::string ResultRow::label(bool with_design) const {
    // "-" marks an axis that does not apply (inline has no target): left out.
    std::string text = backend;
    for (const std::string* part : {&target, with_design ? &design : nullptr, &placement}) {
        if (part != nullptr && !part->empty() && *part != "-") text += " " + *part;
    }
    return text;
}

ResultFile parse_result_text(std::string_view text, std::string_view name) {
    bool too_deep = false;
    const Json::parser_callback_t limit_depth = [&](int depth, Json::parse_event_t event, Json&) {
        if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
            depth >= max_depth) {
            too_deep = true;
            return false;  // discard the value instead of building it
        }
        return true;
    };
    Json document;
    try {
        document = Json::parse(text.begin(), text.end(), limit_depth);
    } catch (const Json::exception& e) {
        throw ResultFileError(fmt::format("{} is not JSON: {}", quoted_name(name), json_reason(e)));
    }
    if (too_deep) {
        throw ResultFileError(fmt::format("{} is not a handoff result file (nested deeper than {} levels)",
                                          quoted_name(name), max_depth));
    }
    if (!document.is_object()) {
        throw ResultFileError(fmt::format("{} is not a handoff result file ({}, expected an object)",
                                          quoted_name(name), kind_of(document)));
    }
    const auto schema = document.find("schema");
    if (schema == document.end() || !schema->is_string() || *schema != expected_schema) {
        const std::string found = schema == document.end() ? "no schema"
                                  : schema->is_string()
                                      ? fmt::format("schema '{}'", one_line(schema->get_ref<const std::string&>(), 40))
                                      : "schema is " + kind_of(*schema);
        throw ResultFileError(fmt::format("{} is not a handoff result file ({}, expected {})", quoted_name(name),
                                          found, expected_schema));
    }
    const auto results = document.find("results");
    if (results == document.end()) fail(name, "results", "missing (expected an array of rows)");
    if (!results->is_array()) fail(name, "results", "expected an array, found " + kind_of(*results));

    ResultFile file;
    file.name = std::string(name);
    file.context = read_context(document);
    // Older files have no "partial"; anything but true is a whole run.
    const auto partial = document.find("partial");
    file.partial = partial != document.end() && partial->is_boolean() && partial->get<bool>();
    file.rows.reserve(results->size());
    for (std::size_t i = 0; i < results->size(); ++i) file.rows.push_back(read_row(name, (*results)[i], i));
    return file;
}

ResultFile read_result_file(const std::string& path) {
    const auto system_error = [&](int error) {
        return ResultFileError(fmt::format("cannot read {}: {}", quoted_name(path), std::strerror(error)));
    };
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw system_error(errno);
    std::string text;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int error = errno;
            ::close(fd);
            throw system_error(error);
        }
        if (n == 0) break;
        if (text.size() + std::size_t(n) > max_file_bytes) {
            ::close(fd);
            throw ResultFileError(fmt::format("cannot read {}: larger than {} MiB, not a result file",
                                              quoted_name(path), max_file_bytes >> 20));
        }
        text.append(buffer, std::size_t(n));
    }
    ::close(fd);
    return parse_result_text(text, path);
}

}  // namespace handoff
