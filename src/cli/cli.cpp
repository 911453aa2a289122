#include "cli/cli.hpp"

#include <charconv>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/atomic_file.hpp"
#include "handoff/backend.hpp"
#include "handoff/design.hpp"
#include "base/duration.hpp"
#include "base/placement.hpp"
#include "base/printable.hpp"

namespace handoff {
namespace {

constexpr std::string_view version_text = "handoff 0.1.0";

constexpr std::string_view examples = R"(
Examples:
  handoff --count 250000 --work sleep0          every backend, dedicated and pool
  handoff --backend epoll,uv --target dedicated --work spin:20us
  handoff --work none --format json --output results/today.json
  handoff --repeat 9 --output run.md            9 interleaved repetitions, a Markdown file
  handoff --list                                backends, availability, library versions
  handoff --design list                         the dedicated-worker design presets
  handoff --work none --target dedicated --design futex-gated --design spin-park:2us --placement same,split
  handoff --design wait=spin-park:5us,wake=gated,queue=spsc --inflight 16
  handoff --sweep designs --backend epoll --count 100000 --work none
  handoff --pin loop=0,worker=1,pool=1          (pool CPUs: 1, 0-1 or 0+2)
  handoff compare old.json new.json --fail-above 1.2   ratios of medians, Mann-Whitney U
  handoff plot run.json -o run.svg              wall and CPU per call, latency percentiles

Designs (--design, dedicated target): a preset, or key=value pairs after an optional preset:
  queue=mutex|spsc|inplace  wait=condvar|futex|eventfd|spin|spin-park:DUR|adaptive  wake=always|gated
  loop-spin=0|DUR|adaptive|forever  batch=on|off  ring=eventfd|msg-ring|futex (uring)  impl=lab|native

Repetitions: --count N calls per row in total, split over --repeat R repetitions (N/R each),
run interleaved (A B C A B C ...); each figure is the median, min and max in JSON. A Spread
mark (! wide, ~ bimodal) says the median is not to be trusted: pin or raise --repeat.
Output: --output FILE picks the format from .json .csv .md (else table), written atomically.
Ctrl-C (SIGINT) or SIGTERM: stop at the next call, report what is done as partial
(exit 130 / 143); a second Ctrl-C quits at once.

Work: none | sleep0 | yield | syscall | spin:DUR | sleep:DUR   (DUR: 250ns, 2us, 1.5ms, 1s)
  + modifiers: fail:P (a share P of calls throw; P from 0 to 1, like 0.01), slow:P:DUR (a
  share P also sleeps DUR first): sleep0+fail:0.01, none+slow:0.05:20ms. The calls they pick
  follow from each call's argument, so every result is still checked exactly.
Timeouts: --timeout DUR gives up on a call not back in time (timed_out_calls); a call still
  queued is cancelled (cancelled_calls), a running one's result is dropped when it comes
  (late_results). Each row runs without and with the timeout. See README.rst.
Columns: Wall, CpuTotal (process), CpuEvtLoop (loop thread), CpuWorker (threads that ran
calls), Other = CpuTotal - CpuEvtLoop - CpuWorker. See README.rst.)";

// A usage error: one line naming the option and what it allows.
struct UsageError : std::runtime_error {
    UsageError(std::string_view option, std::string_view message)
        : std::runtime_error(fmt::format("{}: {}", option, message)) {}
};

std::uint64_t parse_count(std::string_view option, const std::string& text, std::uint64_t min,
                          std::uint64_t max) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < min ||
        value > max) {
        throw UsageError(option, fmt::format("'{}' is not allowed: expected a whole number from {} to {}",
                                             text, min, max));
    }
    return value;
}

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        items.push_back(text.substr(start, comma - start));
        start = comma + 1;
    }
    return items;
}

std::string backend_names() {
    std::string names;
    for (const Backend* b : all_backends()) names += fmt::format("{}{}", names.empty() ? "" : ", ", b->name);
    return names;
}

std::vector<std::string> parse_backends(const std::string& text) {
    if (text == "all") {
        std::vector<std::string> all;
        for (const Backend* b : all_backends()) all.emplace_back(b->name);
        return all;
    }
    std::vector<std::string> chosen;
    for (const std::string& name : split_list(text)) {
        if (find_backend(name) == nullptr) {
            throw UsageError("--backend", fmt::format("unknown backend '{}': expected all or a comma list of {}",
                                                      name, backend_names()));
        }
        if (std::find(chosen.begin(), chosen.end(), name) == chosen.end()) chosen.push_back(name);
    }
    return chosen;
}

std::vector<TargetKind> parse_targets(const std::string& text) {
    if (text == "all") return {TargetKind::dedicated, TargetKind::pool};
    if (text == "dedicated") return {TargetKind::dedicated};
    if (text == "pool") return {TargetKind::pool};
    throw UsageError("--target", fmt::format("'{}' is not allowed: expected dedicated, pool or all", text));
}

void print_design_presets(std::ostream& out) {
    out << "Dedicated-worker designs (--design NAME, or NAME,key=value... to override an axis):\n";
    for (const DesignPreset& preset : design_presets()) {
        out << fmt::format("  {:<14} {}\n  {:<14}   = {}\n", preset.name, preset.summary, "", preset.spec);
    }
    out << "Axes: queue=mutex|spsc|inplace wait=condvar|futex|eventfd|spin|spin-park:DUR|adaptive wake=always|gated\n"
           "      loop-spin=0|DUR|adaptive|forever batch=on|off ring=eventfd|msg-ring|futex (uring) impl=lab|native\n";
}

// The default warm-up of each repetition: enough to create lazy pool threads
// and settle caches, never most of a short repetition.
std::uint64_t default_warmup(std::uint64_t calls_per_repetition) {
    return std::min<std::uint64_t>(1000, std::max<std::uint64_t>(10, calls_per_repetition / 10));
}

}  // namespace

ParseResult parse_command_line(int argc, const char* const argv[], std::ostream& out, std::ostream& err) {
    CLI::App app{"handoff: what it costs an event loop to hand a synchronous call to another thread "
                 "and get the result back.",
                 "handoff"};
    app.footer(std::string(examples));
    app.set_version_flag("--version", std::string(version_text));
    app.get_formatter()->column_width(30);

    std::string count = "250000", work = "sleep0", backends = "all", target = "all", threads = "4";
    std::string warmup, inflight = "1", format, output, placement = "free", pin, sweep, repeat = "5";
    std::vector<std::string> designs;
    bool list = false, floor = false, no_floor = false;
    app.add_option("--count", count, "calls measured per row in total, over all repetitions (default 250000)");
    app.add_option("--repeat", repeat, "repetitions of each row, interleaved, 1..1000 (default 5)");
    app.add_option("--work", work, "what each call does (default sleep0)");
    app.add_option("--backend", backends, "all, or a comma list: " + backend_names());
    app.add_option("--target", target, "dedicated | pool | all (default all)");
    app.add_option("--threads", threads, "pool size (default 4, as libuv's)");
    app.add_option("--warmup", warmup,
                   "unmeasured calls before each repetition (default min(1000, count/repeat/10))");
    app.add_option("--inflight", inflight, "calls outstanding at once (default 1: send, await, send)");
    app.add_option("--format", format, "table | json | csv | markdown (default table)");
    app.add_option("--output", output,
                   "write the report to FILE, atomically; format from .json .csv .md, else table "
                   "(stdout still shows the table)");
    app.add_flag("--list", list, "list backends, whether each is available, library versions");
    app.add_option("--design", designs,
                   "dedicated-worker design, repeatable: a preset or key=value list; 'list' shows presets");
    CLI::Option* placement_option =
        app.add_option("--placement", placement, "free | same | split, or a comma list (default free)");
    app.add_option("--pin", pin, "pin threads: loop=CPU,worker=CPU,pool=CPUS (any subset)")
        ->excludes(placement_option);
    app.add_flag("--floor", floor, "add the floor row (default when two CPUs are online)");
    app.add_flag("--no-floor", no_floor, "leave the floor row out");
    app.add_option("--sweep", sweep, "designs: every preset x placement same and split, sorted by wall/call");
    std::string timeout;
    app.add_option("--timeout", timeout,
                   "give up on a call not back within DUR (timed out; cancelled if still queued); "
                   "each row then runs twice, without and with it");

    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {  // --help, --version
        app.exit(e, out, err);
        return {std::nullopt, exit_ok};
    } catch (const CLI::ParseError& e) {
        err << "handoff: " << printable(e.what()) << " (see --help)\n";
        return {std::nullopt, exit_usage};
    }

    try {
        Options options;
        options.list = list;
        options.output = output;
        if (!format.empty()) {
            try {
                options.format = parse_format(format);
            } catch (const std::invalid_argument& e) {
                throw UsageError("--format", e.what());
            }
        }
        if (!output.empty()) {
            if (const std::string problem = check_writable(output); !problem.empty()) {
                throw UsageError("--output", fmt::format("cannot write '{}': {}", output, problem));
            }
        }
        Configuration base;
        base.calls = parse_count("--count", count, 1, 1'000'000'000'000);
        options.repeat = unsigned(parse_count("--repeat", repeat, 1, 1000));
        if (base.calls < options.repeat) {
            throw UsageError("--count", fmt::format("{} calls cannot be split over --repeat {}: expected a count "
                                                    "of at least the repetitions",
                                                    base.calls, options.repeat));
        }
        try {
            base.work = Work::parse(work);
        } catch (const std::invalid_argument& e) {
            throw UsageError("--work", e.what());
        }
        base.threads = unsigned(parse_count("--threads", threads, 1, 1024));
        base.inflight = std::uint32_t(parse_count("--inflight", inflight, 1, 65536));
        base.warmup = warmup.empty() ? default_warmup(base.calls / options.repeat)
                                     : parse_count("--warmup", warmup, 0, 1'000'000'000);
        auto targets = parse_targets(target);
        const auto chosen = parse_backends(backends);

        if (designs.size() == 1 && designs[0] == "list") {
            print_design_presets(out);
            return {std::nullopt, exit_ok};
        }
        std::vector<Design> chosen_designs;
        if (!sweep.empty()) {
            if (sweep != "designs") throw UsageError("--sweep", fmt::format("'{}' is not allowed: expected designs", sweep));
            if (!designs.empty()) throw UsageError("--sweep", "runs every preset: leave --design out");
            if (pin.empty() && placement == "free") placement = "same,split";
            targets = {TargetKind::dedicated};
            options.sort_by_wall = true;
            for (const DesignPreset& preset : design_presets()) chosen_designs.push_back(parse_design(preset.name));
        }
        for (const std::string& spec : designs) {
            try {
                chosen_designs.push_back(parse_design(spec));
            } catch (const std::invalid_argument& e) {
                throw UsageError("--design", e.what());
            }
        }
        if (chosen_designs.empty()) chosen_designs.push_back(Design{});

        const std::vector<int> online = online_cpus();
        std::vector<Placement> placements;
        if (!pin.empty()) {
            try {
                placements.push_back(parse_pin(pin, online));
            } catch (const std::invalid_argument& e) {
                throw UsageError("--pin", e.what());
            }
        } else {
            for (const std::string& name : split_list(placement)) {
                try {
                    placements.push_back(parse_placement(name, online));
                } catch (const std::invalid_argument& e) {
                    throw UsageError("--placement", e.what());
                }
            }
        }

        // The baseline and the limit first, then every backend x target x
        // design (dedicated only) x placement.
        Configuration baseline = Configuration::reference(RowKind::inline_calls, base);
        baseline.placement = placements.front();
        options.configurations.push_back(baseline);
        if (floor || (!no_floor && online.size() >= 2)) {
            const Configuration limit = Configuration::reference(RowKind::floor, base);
            options.configurations.push_back(limit);
        }
        for (const std::string& name : chosen) {
            for (const TargetKind kind : targets) {
                const std::size_t design_count = kind == TargetKind::dedicated ? chosen_designs.size() : 1;
                for (std::size_t d = 0; d < design_count; ++d) {
                    for (const Placement& where : placements) {
                        Configuration config = base;
                        config.backend = name;
                        config.target = kind;
                        config.design = chosen_designs[d];
                        config.placement = where;
                        options.configurations.push_back(config);
                    }
                }
            }
        }
        if (!timeout.empty()) {
            // Each handoff row twice, side by side: what the machinery costs.
            Configuration timed;
            try {
                timed.timeout = parse_duration(timeout);
            } catch (const std::invalid_argument& e) {
                throw UsageError("--timeout", e.what());
            }
            if (timed.timeout.count() <= 0) throw UsageError("--timeout", "expected a duration above 0, like 10ms");
            std::vector<Configuration> both;
            for (const Configuration& config : options.configurations) {
                both.push_back(config);
                if (config.is_inline() || config.is_floor()) continue;
                both.push_back(config);
                both.back().timeout = timed.timeout;
            }
            options.configurations = std::move(both);
        }
        return {std::move(options), exit_ok};
    } catch (const UsageError& e) {
        err << "handoff: " << printable(e.what()) << '\n';
        return {std::nullopt, exit_usage};
    }
}

}  // namespace handoff
