// `handoff tune`: its command line, a progress line, and the output. The
// search itself is analysis/tune_search.hpp; every rejection is one plain
// line naming the option (exit 2).
#include "cli/tune_command.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "analysis/tune_host_watch.hpp"
#include "analysis/tune_report.hpp"
#include "analysis/tune_search.hpp"
#include "base/duration.hpp"
#include "base/placement.hpp"
#include "base/printable.hpp"
#include "cli/cli.hpp"
#include "cli/interrupt.hpp"
#include "cli/progress_line.hpp"
#include "handoff/backend.hpp"
#include "measurement/context.hpp"

namespace handoff {
namespace {

double parse_positive(const std::string& option, const std::string& text, const std::string& expected) {
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value) ||
        !(value > 0)) {
        reject(option, text, expected);
    }
    return value;
}

std::uint64_t parse_whole(const std::string& option, const std::string& text, std::uint64_t min, std::uint64_t max) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
        reject(option, text, fmt::format("a whole number from {} to {}", min, max));
    }
    return value;
}

// A duration above zero: "250ns", "2us", "1.5ms", "3s", or minutes: "3m".
std::chrono::nanoseconds parse_positive_duration(const std::string& option, const std::string& text,
                                                 bool minutes_too) {
    const std::string expected = minutes_too ? "a duration above 0 like 90s or 3m (ns, us, ms, s, m)"
                                             : "a duration above 0 like 50us (ns, us, ms, s)";
    std::chrono::nanoseconds value{0};
    try {
        if (minutes_too && text.size() > 1 && text.back() == 'm' && !text.ends_with("ms")) {
            value = parse_duration(text.substr(0, text.size() - 1) + "s") * 60;
        } else {
            value = parse_duration(text);
        }
    } catch (const std::invalid_argument&) {
        reject(option, text, expected);
    }
    if (value.count() <= 0) reject(option, text, expected);
    return value;
}

struct Arguments {
    std::string work = "none", rate, arrival = "fixed", seed = "1", inflight = "1", backend = "epoll",
                placement = "free", pin, threads = "4", cpu_budget, p99, budget = "3m", format, output;
    bool no_pool = false;
    bool rate_given = false, arrival_given = false, seed_given = false, placement_given = false, pin_given = false,
         format_given = false, output_given = false;
};

struct Request {
    Configuration base;
    SearchOptions search;
    bool with_pool = true;
    bool json = false;
    std::string output;  // "" = stdout
};

Configuration base_configuration(const Arguments& args) {
    Configuration base;
    if (find_backend(args.backend) == nullptr) {
        std::string names;
        for (const Backend* b : all_backends()) names += fmt::format("{}{}", names.empty() ? "" : ", ", b->name);
        reject("--backend", args.backend, "one of " + names);
    }
    base.backend = args.backend;
    try {
        base.work = Work::parse(args.work);
    } catch (const std::invalid_argument& e) {
        throw UsageError(fmt::format("--work: {}", e.what()));
    }
    base.inflight = std::uint32_t(parse_whole("--inflight", args.inflight, 1, 65536));
    base.threads = unsigned(parse_whole("--threads", args.threads, 1, 1024));
    if (args.rate_given) {
        try {
            base.rate = parse_rate(args.rate);  // the main command's rule: 10000, 2.5k, 1M
        } catch (const std::invalid_argument& e) {
            throw UsageError(fmt::format("--rate: {}", e.what()));
        }
    }
    if (args.arrival_given && !args.rate_given) throw UsageError("--arrival: only applies with --rate");
    if (args.seed_given && !args.rate_given) throw UsageError("--seed: only applies with --rate");
    if (args.arrival == "fixed") base.arrival = ArrivalKind::fixed;
    else if (args.arrival == "poisson") base.arrival = ArrivalKind::poisson;
    else reject("--arrival", args.arrival, "fixed or poisson");
    base.seed = parse_whole("--seed", args.seed, 0, std::numeric_limits<std::uint64_t>::max());

    if (args.pin_given && args.placement_given) {
        throw UsageError("--pin: cannot be combined with --placement: --pin places each thread itself");
    }
    const std::vector<int> online = online_cpus();
    try {
        base.placement = args.pin_given ? parse_pin(args.pin, online) : parse_placement(args.placement, online);
    } catch (const std::invalid_argument& e) {
        throw UsageError(fmt::format("{}: {}", args.pin_given ? "--pin" : "--placement", e.what()));
    }
    return base;
}

// What one call is assumed to cost before anything is measured: the time
// between arrivals, or a blocking round trip here plus the work.
double prior_call_s(const Configuration& base) {
    if (base.rate > 0) return 1 / base.rate;
    double work_s = std::chrono::duration<double>(base.work.longest()).count();
    if (base.work.kind == Work::Kind::sleep0) work_s += 90e-6;
    return 30e-6 + work_s;
}

Request make_request(const Arguments& args) {
    Request request;
    if (args.output_given) {
        if (const std::string problem = check_output_option(args.output); !problem.empty()) throw UsageError(problem);
        request.output = args.output;
    }
    std::string format = args.format_given ? args.format : std::string(format_of_extension(args.output));
    if (args.format_given && args.output_given) {
        if (const std::string problem = check_format_matches_extension(args.format, args.output); !problem.empty()) {
            throw UsageError(problem);
        }
    }
    if (format.empty()) format = "table";
    if (format != "table" && format != "json") {
        if (args.format_given) reject("--format", args.format, "table or json");
        throw UsageError(fmt::format("--output: {} asks for {}: expected a file name for table or json (.json)",
                                     quote(args.output), format));
    }
    request.json = format == "json";
    request.base = base_configuration(args);
    request.with_pool = !args.no_pool;
    const auto budget = parse_positive_duration("--budget", args.budget, true);
    request.search.budget_s = std::chrono::duration<double>(budget).count();
    return request;
}

constexpr const char* tune_usage = "Usage: handoff tune [OPTIONS]";

void define_options(CLI::App& app, Arguments& args) {
    add_value(app, "--work", args.work, "WORK", "what each call does (default none; see handoff --help)");
    add_value(app, "--rate", args.rate, "R",
              "open loop: R calls per second sent whatever is outstanding (default: closed loop, back to back)");
    add_value(app, "--arrival", args.arrival, "KIND", "with --rate: fixed | poisson (default fixed)");
    add_value(app, "--seed", args.seed, "N", "with --rate: the arrival process's seed (default 1)");
    add_value(app, "--inflight", args.inflight, "N",
              "calls outstanding at once (default 1); with --rate, the most outstanding at once");
    add_value(app, "--backend", args.backend, "NAME", "the one loop to tune for (default epoll)");
    add_value(app, "--placement", args.placement, "WHERE", "free | same | split (default free)");
    add_value(app, "--pin", args.pin, "PIN", "pin threads: loop=CPU,worker=CPU,pool=CPUS (not with --placement)");
    add_value(app, "--threads", args.threads, "N", "the pool reference's size (default 4)");
    app.add_flag("--no-pool", args.no_pool, "leave out the pool, measured as a reference (never recommended)");
    add_value(app, "--cpu-budget", args.cpu_budget, "C", "also recommend the lowest p99 within C cores (like 0.5)");
    add_value(app, "--p99", args.p99, "DUR", "also recommend the lowest CPU within a p99 of DUR (like 50us)");
    add_value(app, "--budget", args.budget, "DUR", "time for the whole search, confirmation included (default 3m)");
    add_value(app, "--format", args.format, "FORMAT", "table | json (default table, or -o's extension)");
    add_value(app, "-o,--output", args.output, "FILE",
              "write the result to FILE (.json: the rows of the last round and of the confirmations, and a "
              "\"tune\" object; handoff compare and handoff plot read it); stdout still shows the table");
}

void note_given(const CLI::App& app, Arguments& args) {
    const auto given = [&](const char* name) { return app.count(name) > 0; };
    args.rate_given = given("--rate");
    args.arrival_given = given("--arrival");
    args.seed_given = given("--seed");
    args.placement_given = given("--placement");
    args.pin_given = given("--pin");
    args.format_given = given("--format");
    args.output_given = given("--output");
}

// ---- The progress line --------------------------------------------------------

// "[round 2/4] 18 candidates  futex-gated,loop-spin=4us  43%  1m05s of 3m00s"
class TuneProgress {
public:
    TuneProgress(std::ostream& out, bool enabled, double budget_s) : out_(out), enabled_(enabled), budget_s_(budget_s) {}

    void round(const RoundRequest& request) {
        if (request.round == 0) {
            stage_ = fmt::format("[confirm {}]", ++confirmations_);
        } else {
            stage_ = fmt::format("[round {}/{}] {} candidates", request.round, request.rounds,
                                 request.candidates.size());
        }
        draw({}, true);
    }
    void session(const SessionProgress& p) { draw(p, false); }
    void clear() {
        if (enabled_ && drawn_) out_ << "\r\033[K" << std::flush;
        drawn_ = false;
    }

private:
    void draw(const SessionProgress& p, bool now) {
        if (!enabled_) return;
        const auto at = std::chrono::steady_clock::now();
        if (!now && drawn_ && at - last_ < std::chrono::milliseconds(250)) return;
        last_ = at;
        std::string line = stage_;
        if (p.config != nullptr) {
            line += "  " + (p.config->target == TargetKind::pool ? std::string("pool") : p.config->design.name);
            if (p.total_calls > 0) line += fmt::format("  {:.0f}%", 100.0 * double(p.done_calls) / double(p.total_calls));
        }
        const double elapsed = std::chrono::duration<double>(at - start_).count();
        line += fmt::format("  {} of {}", format_time_left(elapsed), format_time_left(budget_s_));
        out_ << "\r\033[K" << line << std::flush;
        drawn_ = true;
    }

    std::ostream& out_;
    bool enabled_;
    double budget_s_;
    bool drawn_ = false;
    unsigned confirmations_ = 0;
    std::string stage_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last_;
};

// The rows the result file keeps: the last round's, then each confirmation's.
Report report_of(const SearchOutcome& outcome, int argc, const char* const argv[]) {
    Report report;
    // The whole command line, as the user typed it: "handoff tune ...".
    std::vector<const char*> words{"handoff"};
    words.insert(words.end(), argv, argv + argc);
    report.context = collect_context(int(words.size()), words.data());
    if (!outcome.rounds.empty()) {
        for (const CandidateMeasurement& m : outcome.rounds.back().results) report.rows.push_back(m.row);
    }
    std::vector<const CandidateMeasurement*> confirmed;
    for (const Recommendation& rec : outcome.recommendations) {
        if (!rec.confirmation) continue;
        const bool seen = std::any_of(confirmed.begin(), confirmed.end(), [&](const CandidateMeasurement* m) {
            return m->row.config.design.name == rec.confirmation->row.config.design.name;
        });
        if (!seen) confirmed.push_back(&*rec.confirmation);
    }
    for (const CandidateMeasurement* m : confirmed) report.rows.push_back(m->row);
    report.partial = outcome.interrupted;
    if (outcome.interrupted) report.interrupted_by = signal_name(interrupt_signal());
    return report;
}

int write_outputs(const Request& request, const Report& report, const TuneSummary& summary, std::ostream& out,
                  std::ostream& err) {
    const auto table = [&](std::ostream& o) { write_tune_table(o, summary); };
    const auto chosen = [&](std::ostream& o) {
        if (request.json) o << tune_result_json(report, summary);
        else write_tune_table(o, summary);
    };
    if (request.output.empty()) {
        chosen(out);
        return exit_ok;
    }
    const std::string problem = write_with_output(request.output, out, table, chosen);
    if (problem.empty()) return exit_ok;
    err << "handoff: tune: " << problem << '\n';
    return exit_failed_rows;
}

}  // namespace

int run_tune(int argc, const char* const argv[], std::ostream& out, std::ostream& err) {
    CLI::App app{"handoff tune: searches the dedicated-worker designs for the workload given (presets, spin "
                 "budgets, queue, wake gating, batching) by successive halving within a time budget, and prints "
                 "the Pareto frontier of latency (p50, p99) against CPU (Cores) and the --design to use for each "
                 "objective, each confirmed by a run of its own.",
                 "handoff tune"};
    set_usage(app, tune_usage);
    app.footer(
        "\nHow it searches: round 1 runs every candidate briefly (interleaved repetitions); each later round keeps\n"
        "about half, the contenders of every objective (lowest p99, lowest Cores, the limits given, the frontier),\n"
        "with more calls and repetitions; the budget is split evenly over the rounds, each candidate's calls sized\n"
        "by what it cost the round before. Then each recommendation runs again alone;\n"
        "the floor after the search and after each confirmation says whether the host changed in between.\n"
        "Cores: (CpuEvtLoop + CpuWorker) / Wall of the median repetition: how many CPUs the design keeps busy.\n"
        "Exit status: 0; 1 when no candidate could be measured or -o could not be written; 2 on bad input;\n"
        "128 + the signal when interrupted (what was measured is reported, partial).\n"
        "Examples:\n"
        "  handoff tune --rate 10000 --work none --placement split --cpu-budget 0.5 -o tune.json\n"
        "  handoff tune --inflight 1 --backend uring --budget 90s\n"
        "  handoff plot tune.json -o frontier.svg        latency against Cores, recommendations marked");
    Arguments args;
    define_options(app, args);
    if (const std::optional<int> status = parse_arguments(app, argc, argv, out, err)) return *status;
    note_given(app, args);

    Request request;
    try {
        request = make_request(args);
        if (app.count("--cpu-budget") > 0) {
            request.search.limits.cpu_budget_cores =
                parse_positive("--cpu-budget", args.cpu_budget, "a number of cores above 0, like 0.5");
        }
        if (app.count("--p99") > 0) {
            request.search.limits.p99_limit_ns =
                double(parse_positive_duration("--p99", args.p99, false).count());
        }
    } catch (const UsageError& e) {
        err << "handoff: tune: " << printable(e.what()) << '\n';
        return exit_usage;
    }
    const Backend& backend = *find_backend(request.base.backend);
    if (const auto reason = backend_unavailable_reason(backend)) {
        err << fmt::format("handoff: tune: --backend {}: unavailable here: {}\n", backend.name, *reason);
        return exit_failed_rows;
    }

    // Before any thread exists: every later thread inherits the block.
    catch_interrupts();
    const std::vector<TuneCandidate> candidates = tune_candidates(request.base, request.with_pool);
    TuneProgress progress(err, isatty(STDERR_FILENO) != 0, request.search.budget_s);
    request.search.prior_call_s = prior_call_s(request.base);
    request.search.stopped = [] { return interrupt_requested().load(); };
    request.search.on_round = [&](const RoundRequest& r) { progress.round(r); };
    SessionOptions session;
    session.stop_requested = &interrupt_requested();
    session.on_progress = [&](const SessionProgress& p) { progress.session(p); };
    TuneHostWatch host;
    const SearchOutcome outcome =
        successive_halving(candidates, request.search, host.around(session_measure(candidates, session)));
    progress.clear();

    TuneSummary summary = summarize_tune(candidates, outcome, request.base, request.search);
    host.fill(summary, outcome);
    const Report report = report_of(outcome, argc, argv);
    int status = write_outputs(request, report, summary, out, err);
    if (outcome.interrupted) return 128 + interrupt_signal();
    if (outcome.final_candidates.empty()) {
        err << "handoff: tune: no candidate could be measured (see the reasons in the result file)\n";
        status = exit_failed_rows;
    }
    return status;
}

}  // namespace handoff
