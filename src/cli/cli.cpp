#include "cli/cli.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/atomic_file.hpp"
#include "handoff/backend.hpp"
#include "handoff/design.hpp"
#include "base/duration.hpp"
#include "base/placement.hpp"
#include "base/printable.hpp"
#include "base/text.hpp"

namespace handoff {
namespace {

constexpr std::string_view version_text = "handoff 0.1.0";

constexpr std::string_view examples = R"(
Examples:
  handoff --count 250000 --work sleep0          every backend, dedicated and pool
  handoff --backend epoll,uv --target dedicated --work spin:20us
  handoff --work none --format json -o results/today.json
  handoff --repeat 9 -o run.md                  9 interleaved repetitions, a Markdown file
  handoff --format json -o /dev/stdout | jq .   the report alone on stdout
  handoff --list                                backends, availability, library versions
  handoff --design list                         the dedicated-worker design presets
  handoff --work none --target dedicated --design futex-gated --design spin-park:2us --placement same,split
  handoff --design wait=spin-park:5us,wake=gated,queue=spsc --inflight 16
  handoff --sweep designs --backend epoll --count 100000 --work none
  handoff --rate 10k --arrival poisson --inflight 16 --count 50000   calls arriving at 10,000 a second
  handoff --sweep designs,inflight=1,16 --backend epoll --work none   every preset at 1 and 16 in flight
  handoff --wide                                every column; --columns list names them
  handoff --pin loop=0,worker=1,pool=1          (pool CPUs: 1, 0-1 or 0+2)
  handoff compare old.json new.json --fail-above 1.2   ratios of medians, Mann-Whitney U
  handoff plot run.json -o run.svg              wall and CPU per call, latency percentiles

Designs (--design, dedicated target): a preset, or key=value pairs after an optional preset:
  queue=mutex|spsc|inplace  wait=condvar|futex|eventfd|spin|spin-park:DUR|adaptive  wake=always|gated
  loop-spin=0|DUR|adaptive|forever  batch=on|off  ring=eventfd|msg-ring|futex (uring)  impl=lab|native
  defer=DUR (results wait for the loop's own wake if due within DUR)  hold=DUR (one worker wake for the
  calls of up to DUR)  -- defer and hold: epoll, uring, uv; they save wake-ups at a --rate

Repetitions: --count N calls per row in total, split over --repeat R repetitions (N/R each),
run interleaved (A B C A B C ...); each figure is the median, min and max in JSON. A Spread
mark (! wide, ~ bimodal) says the median is not to be trusted: pin or raise --repeat.
Output: -o FILE picks the format from .json .csv .md (else table), written atomically; a
device or FIFO is written through. An option given twice takes its last value, except
--design, which adds rows each time. Subcommands: handoff help compare, help plot, help tune.
Ctrl-C (SIGINT) or SIGTERM: stop at the next call, report what is done as partial
(exit 130 / 143); a second Ctrl-C quits at once.

Work: none | sleep0 | yield | syscall | spin:DUR | sleep:DUR   (DUR: 250ns, 2us, 1.5ms, 1s)
  + modifiers: fail:P (a share P of calls throw; P from 0 to 1, like 0.01), slow:P:DUR (a
  share P also sleeps DUR first): sleep0+fail:0.01, none+slow:0.05:20ms. The calls they pick
  follow from each call's argument, so every result is still checked exactly.
Timeouts: --timeout DUR gives up on a call not back in time (timed_out_calls); a call still
  queued is cancelled (cancelled_calls), a running one's result is dropped when it comes
  (late_results). Each row runs without and with the timeout. See README.rst.
Await: --await coroutine runs --inflight N C++20 coroutines on the loop thread, each
  co_awaiting its calls one after another (asio: asio::awaitable + use_awaitable; the others:
  the lab's awaitable); --await all puts each row beside its callback row. With --rate a
  coroutine waits for each call's intended time.
Columns: by default Wall/call, +Wall/call and +Loop/call (what the handoff adds over the inline
row: wall, and CPU on the loop thread), CPU/call (every thread), Cores ((loop + worker CPU) /
wall), p50, p99. --wide shows every column (Wall, CpuTotal, CpuEvtLoop, CpuWorker, Other, ...),
--columns A,B picks them (--columns list). See README.rst.)";

// ---- The conventions.

// The usage line given, and options listed "-o, --output FILE" as in most
// tools' help rather than CLI11's "-o,--output FILE".
class ConventionalFormatter : public CLI::Formatter {
public:
    explicit ConventionalFormatter(std::string usage) : usage_(std::move(usage)) {}
    std::string make_usage(const CLI::App*, std::string) const override { return usage_ + "\n"; }
    std::string make_option_name(const CLI::Option* option, bool is_positional) const override {
        const std::string names = CLI::Formatter::make_option_name(option, is_positional);
        return fmt::format("{}", fmt::join(split(names, ','), ", "));
    }

private:
    std::string usage_;
};

// "handoff compare" -> "handoff: compare: ", the start of each error line.
std::string error_prefix(const CLI::App& app) {
    std::string name = app.get_name();
    if (const std::size_t space = name.find(' '); space != std::string::npos) name.replace(space, 1, ": ");
    return name + ": ";
}

// CLI11's messages in plain words. The ones it can give with these parsers: a
// value missing after an option, a value given to a flag, and, for a command
// with required options (plot's), an option left out.
std::string plain_parse_error(const CLI::ParseError& e) {
    const std::string what = e.what();
    if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr) {
        return fmt::format("{}: expected a value after it", printable(what.substr(0, what.find(':'))));
    }
    constexpr std::string_view converting = "Could not convert: ";
    if (dynamic_cast<const CLI::ConversionError*>(&e) != nullptr && what.starts_with(converting)) {
        const std::string rest = what.substr(converting.size());
        const std::size_t equals = rest.find(" = ");
        return fmt::format("{}: takes no value (got {})", printable(rest.substr(0, equals)),
                           equals == std::string::npos ? "one" : quote(rest.substr(equals + 3)));
    }
    constexpr std::string_view required = " is required";
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && what.ends_with(required)) {
        return fmt::format("{}: is required", printable(what.substr(0, what.size() - required.size())));
    }
    return printable(what);
}

// ---- Each value.

std::string backend_names() {
    std::string names;
    for (const Backend* b : all_backends()) names += fmt::format("{}{}", names.empty() ? "" : ", ", b->name);
    std::string python;
    for (const Backend* b : foreign_backends()) python += fmt::format("{}{}", python.empty() ? "" : ", ", b->name);
    return python.empty() ? names : fmt::format("{}; python (all of {})", names, python);
}

void print_design_presets(std::ostream& out) {
    out << "Dedicated-worker designs (--design NAME, or NAME,key=value... to override an axis):\n";
    for (const DesignPreset& preset : design_presets()) {
        out << fmt::format("  {:<14} {}\n  {:<14}   = {}\n", preset.name, preset.summary, "", preset.spec);
    }
    out << "Axes: queue=mutex|spsc|inplace wait=condvar|futex|eventfd|spin|spin-park:DUR|adaptive wake=always|gated\n"
           "      loop-spin=0|DUR|adaptive|forever batch=on|off ring=eventfd|msg-ring|futex (uring) impl=lab|native\n"
           "      defer=DUR hold=DUR (epoll, uring, uv: results wait for the loop's own next wake if within DUR; one\n"
           "      worker wake for the calls of up to DUR)\n";
}

std::uint64_t parse_count(std::string_view option, const std::string& text, std::uint64_t min,
                          std::uint64_t max) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < min ||
        value > max) {
        throw UsageError(option, fmt::format("{} is not allowed: expected a whole number from {} to {}",
                                             quote(text), min, max));
    }
    return value;
}

// ---- The main command's options, as typed.

struct Typed {
    std::string count = "250000", repeat = "5", work = "sleep0", backends = "all", target = "all", threads = "4";
    std::string warmup, inflight = "1", format, output, placement = "free", pin, sweep, timeout, columns;
    std::string await_mode = "callback";
    std::string rate, arrival = "fixed", seed = "1";
    std::vector<std::string> designs;
    bool list = false, floor = false, no_floor = false, wide = false;
    // Given at all: an empty value is still given (and refused where it must not be).
    bool format_given = false, output_given = false, placement_given = false, pin_given = false, sweep_given = false,
         timeout_given = false, warmup_given = false, inflight_given = false, columns_given = false,
         rate_given = false, arrival_given = false, seed_given = false;
};

void define_options(CLI::App& app, Typed& t) {
    add_value(app, "--count", t.count, "N", "calls measured per row in total, over all repetitions (default 250000)");
    add_value(app, "--repeat", t.repeat, "N", "repetitions of each row, interleaved, 1..1000 (default 5)");
    add_value(app, "--work", t.work, "WORK", "what each call does (default sleep0; see Work below)");
    add_value(app, "--backend", t.backends, "LIST", "all, or a comma list: " + backend_names());
    add_value(app, "--target", t.target, "TARGET", "dedicated | pool | all (default all)");
    add_value(app, "--threads", t.threads, "N", "pool size (default 4, as libuv's)");
    add_value(app, "--warmup", t.warmup, "N",
              "unmeasured calls before each repetition (default min(1000, count/repeat/10))");
    add_value(app, "--inflight", t.inflight, "N", "calls outstanding at once (default 1: send, await, send)");
    add_value(app, "--format", t.format, "FORMAT", "table | json | csv | markdown (default table, or -o's extension)");
    add_value(app, "-o,--output", t.output, "FILE",
              "write the report to FILE, atomically; format from .json .csv .md, else table (stdout still shows "
              "the table); a device or FIFO is written through (/dev/null, /dev/stdout)");
    app.add_flag("--list", t.list, "list backends, whether each is available, library versions");
    add_values(app, "--design", t.designs, "DESIGN",
               "dedicated-worker design, repeatable (each adds rows): a preset or key=value list; 'list' shows presets");
    add_value(app, "--placement", t.placement, "LIST", "free | same | split, or a comma list (default free)");
    add_value(app, "--pin", t.pin, "PIN", "pin threads: loop=CPU,worker=CPU,pool=CPUS (any subset; not with --placement)");
    app.add_flag("--floor", t.floor, "add the floor row (default when two CPUs are online)");
    app.add_flag("--no-floor", t.no_floor, "leave the floor row out");
    add_value(app, "--sweep", t.sweep, "SWEEP",
              "designs: every preset x placement same and split; inflight[=N,N...]: every handoff row at in-flight "
              "1,4,16,64 (or those); both: designs,inflight. Sorted by wall/call in each in-flight level");
    app.add_flag("--wide", t.wide, "show every column of the table (JSON and CSV always have every figure)");
    add_value(app, "--columns", t.columns, "LIST", "the table's columns, a comma list; 'list' names them");
    add_value(app, "--rate", t.rate, "R",
              "open loop: send calls at R per second (1k, 10000, 2.5M) at intended times, --inflight the cap on "
              "outstanding calls; latency from each call's intended time (default: closed loop, back to back)");
    add_value(app, "--arrival", t.arrival, "KIND", "with --rate: fixed (evenly spaced, default) | poisson");
    add_value(app, "--seed", t.seed, "N", "with --rate --arrival poisson: the arrival process's seed (default 1)");
    add_value(app, "--timeout", t.timeout, "DUR",
              "give up on a call not back within DUR (timed out; cancelled if still queued); each row then runs "
              "twice, without and with it");
    add_value(app, "--await", t.await_mode, "MODE",
              "how the loop thread awaits each call: callback (default), coroutine (C++20: Asio's awaitable on "
              "asio, the lab's awaitable elsewhere), or all (each row both ways)");
}

void note_given(const CLI::App& app, Typed& t) {
    const auto given = [&](const char* name) { return app.count(name) > 0; };
    t.format_given = given("--format");
    t.output_given = given("--output");
    t.placement_given = given("--placement");
    t.pin_given = given("--pin");
    t.sweep_given = given("--sweep");
    t.timeout_given = given("--timeout");
    t.warmup_given = given("--warmup");
    t.rate_given = given("--rate");
    t.arrival_given = given("--arrival");
    t.seed_given = given("--seed");
    t.inflight_given = given("--inflight");
    t.columns_given = given("--columns");
}

// ---- Checking the combinations: options that each parse but not together.

void check_combinations(const Typed& t) {
    if (t.floor && t.no_floor) throw UsageError("--floor", "cannot be combined with --no-floor: give one of them");
    if (t.pin_given && t.placement_given) {
        throw UsageError("--pin", "cannot be combined with --placement: --pin places each thread itself");
    }
    if ((t.arrival_given || t.seed_given) && !t.rate_given) {
        throw UsageError(t.arrival_given ? "--arrival" : "--seed",
                         "shapes an open-loop run: give --rate R too (calls per second)");
    }
    if (t.wide && t.columns_given) throw UsageError("--wide", "cannot be combined with --columns: give one of them");
    if (t.output_given) {
        if (const std::string problem = check_output_option(t.output); !problem.empty()) throw UsageError(problem);
    }
    if (t.format_given && t.output_given) {
        if (const std::string problem = check_format_matches_extension(t.format, t.output); !problem.empty()) {
            throw UsageError(problem);
        }
    }
}

// A parser's std::invalid_argument, as a usage error of `option`.
template <class Parse>
auto parse_as(std::string_view option, Parse&& parse) {
    try {
        return parse();
    } catch (const std::invalid_argument& e) {
        throw UsageError(option, e.what());
    }
}

// "all" is the lab's four loops, "python" the six Python ones (a backend's
// family); either may sit in a comma list with single names.
std::vector<std::string> parse_backends(const std::string& text) {
    std::vector<std::string> chosen;
    const auto add = [&](std::string_view name) {
        if (std::find(chosen.begin(), chosen.end(), name) == chosen.end()) chosen.emplace_back(name);
    };
    for (const std::string_view item : split(text, ',')) {
        bool family = false;
        for (const Backend* b : item == "all" ? all_backends() : foreign_backends()) {
            if (item == "all" || b->family == item) {
                add(b->name);
                family = true;
            }
        }
        if (family) continue;
        if (find_backend(item) == nullptr) {
            throw UsageError("--backend", fmt::format("unknown backend {}: expected all or a comma list of {}",
                                                      quote(item), backend_names()));
        }
        add(item);
    }
    return chosen;
}

std::vector<TargetKind> parse_targets(const std::string& text) {
    if (text == "all") return {TargetKind::dedicated, TargetKind::pool};
    if (text == "dedicated") return {TargetKind::dedicated};
    if (text == "pool") return {TargetKind::pool};
    throw UsageError("--target", fmt::format("{} is not allowed: expected dedicated, pool or all", quote(text)));
}

ArrivalKind parse_arrival(const std::string& text) {
    if (text == "fixed") return ArrivalKind::fixed;
    if (text == "poisson") return ArrivalKind::poisson;
    throw std::invalid_argument(fmt::format("{} is not allowed: expected fixed or poisson", quote(text)));
}

// The default warm-up of each repetition: enough to create lazy pool threads
// and settle caches, never most of a short repetition.
std::uint64_t default_warmup(std::uint64_t calls_per_repetition) {
    return std::min<std::uint64_t>(1000, std::max<std::uint64_t>(10, calls_per_repetition / 10));
}

// What every row shares: the work, the counts, the pool size.
Configuration base_configuration(const Typed& t, unsigned repeat) {
    Configuration base;
    base.calls = parse_count("--count", t.count, 1, 1'000'000'000'000);
    if (base.calls < repeat) {
        throw UsageError("--count", fmt::format("{} calls cannot be split over --repeat {}: expected a count "
                                                "of at least the repetitions",
                                                base.calls, repeat));
    }
    base.work = parse_as("--work", [&] { return Work::parse(t.work); });
    base.threads = unsigned(parse_count("--threads", t.threads, 1, 1024));
    base.inflight = std::uint32_t(parse_count("--inflight", t.inflight, 1, 65536));
    if (t.rate_given) {
        base.rate = parse_as("--rate", [&] { return parse_rate(t.rate); });
        base.arrival = parse_as("--arrival", [&] { return parse_arrival(t.arrival); });
        base.seed = parse_count("--seed", t.seed, 0, UINT64_MAX);
    }
    base.warmup = t.warmup_given ? parse_count("--warmup", t.warmup, 0, 1'000'000'000)
                                 : default_warmup(base.calls / repeat);
    // Open loop: the warm-up runs at the rate too, so keep it to ~0.2 s.
    if (base.open_loop() && !t.warmup_given) {
        base.warmup = std::min(base.warmup, std::max<std::uint64_t>(10, std::uint64_t(base.rate * 0.2)));
    }
    return base;
}

// ---- What the rows vary over.

struct Choices {
    std::vector<std::string> backends;
    std::vector<TargetKind> targets;
    std::vector<Design> designs;  // dedicated rows only
    std::vector<Placement> placements;
    std::vector<std::uint32_t> inflight_levels;  // --sweep inflight: every handoff row at each
    bool sort_by_wall = false;
};

// --sweep: "designs", "inflight", "inflight=1,2,8", or both joined by ','
// ("designs,inflight=1,16"); the numbers after inflight= are its levels.
struct Sweep {
    bool designs = false;
    std::vector<std::uint32_t> inflight;  // empty: no in-flight sweep
};

Sweep parse_sweep(const std::string& text) {
    constexpr std::string_view allowed = "expected designs, inflight or inflight=N,N,... (1 to 65536), or both "
                                         "joined by ','";
    Sweep sweep;
    bool levels_open = false;  // a number may follow: another level of inflight=
    for (const std::string_view item : split(text, ',')) {
        std::string_view levels;
        if (item == "designs" && !sweep.designs) {
            sweep.designs = true;
            levels_open = false;
            continue;
        }
        if ((item == "inflight" || item.starts_with("inflight=")) && sweep.inflight.empty()) {
            if (item == "inflight") {
                sweep.inflight = {1, 4, 16, 64};
                levels_open = false;
                continue;
            }
            levels = item.substr(std::string_view("inflight=").size());
            levels_open = true;
        } else if (levels_open && !item.empty() && std::isdigit(static_cast<unsigned char>(item.front()))) {
            levels = item;
        } else {
            throw UsageError("--sweep", fmt::format("{} is not allowed: {}", quote(text), allowed));
        }
        std::uint32_t level = 0;
        const auto [end, ec] = std::from_chars(levels.data(), levels.data() + levels.size(), level);
        if (levels.empty() || ec != std::errc{} || end != levels.data() + levels.size() || level < 1 || level > 65536) {
            throw UsageError("--sweep", fmt::format("{} is not an in-flight level in {}: {}", quote(levels),
                                                    quote(text), allowed));
        }
        if (std::find(sweep.inflight.begin(), sweep.inflight.end(), level) == sweep.inflight.end()) {
            sweep.inflight.push_back(level);
        }
    }
    std::sort(sweep.inflight.begin(), sweep.inflight.end());
    return sweep;
}

std::vector<Placement> parse_placements(const Typed& t, const std::string& placement, const std::vector<int>& online) {
    if (t.pin_given) return {parse_as("--pin", [&] { return parse_pin(t.pin, online); })};
    std::vector<Placement> placements;
    for (const std::string_view name : split(placement, ',')) {
        placements.push_back(parse_as("--placement", [&] { return parse_placement(name, online); }));
    }
    return placements;
}

Choices choose(const Typed& t, const std::vector<int>& online) {
    Choices c;
    c.backends = parse_backends(t.backends);
    c.targets = parse_targets(t.target);
    std::string placement = t.placement;
    const Sweep sweep = t.sweep_given ? parse_sweep(t.sweep) : Sweep{};
    if (!sweep.inflight.empty()) {
        if (t.inflight_given) {
            throw UsageError("--sweep", "inflight sets the in-flight levels: leave --inflight out, or give them as "
                                        "--sweep inflight=N,N");
        }
        c.inflight_levels = sweep.inflight;
        c.sort_by_wall = true;
    }
    if (sweep.designs) {
        if (!t.designs.empty()) throw UsageError("--sweep", "designs runs every preset: leave --design out");
        // Every preset, dedicated, on one CPU and on two unless told otherwise.
        if (!t.pin_given && !t.placement_given) placement = "same,split";
        c.targets = {TargetKind::dedicated};
        c.sort_by_wall = true;
        for (const DesignPreset& preset : design_presets()) c.designs.push_back(parse_design(preset.name));
    }
    for (const std::string& spec : t.designs) c.designs.push_back(parse_as("--design", [&] { return parse_design(spec); }));
    if (c.designs.empty()) c.designs.push_back(Design{});
    c.placements = parse_placements(t, placement, online);
    return c;
}

// ---- Building the configurations.

// The baseline and the limit first, then every backend x target x design
// (dedicated only) x placement.
std::vector<Configuration> build_configurations(const Configuration& base, const Choices& c, bool floor_row) {
    std::vector<Configuration> configurations;
    // One inline row per placement: each handoff row's overhead is taken
    // against the inline row of its own placement.
    for (const Placement& where : c.placements) {
        Configuration baseline = Configuration::reference(RowKind::inline_calls, base);
        baseline.placement = where;
        configurations.push_back(baseline);
    }
    if (floor_row) configurations.push_back(Configuration::reference(RowKind::floor, base));
    for (const std::string& name : c.backends) {
        // A foreign backend's own inline row first: the same work awaited on
        // its loop thread with no thread (Python's await before any handoff).
        if (const Backend* backend = find_backend(name); backend != nullptr && backend->run_foreign != nullptr) {
            Configuration own = Configuration::reference(RowKind::inline_calls, base);
            own.backend = name;
            own.placement = c.placements.front();
            configurations.push_back(own);
        }
        for (const TargetKind kind : c.targets) {
            const std::size_t design_count = kind == TargetKind::dedicated ? c.designs.size() : 1;
            for (std::size_t d = 0; d < design_count; ++d) {
                for (const Placement& where : c.placements) {
                    Configuration config = base;
                    config.backend = name;
                    config.target = kind;
                    config.design = c.designs[d];
                    config.placement = where;
                    if (c.inflight_levels.empty()) configurations.push_back(config);
                    for (const std::uint32_t level : c.inflight_levels) {
                        configurations.push_back(config);
                        configurations.back().inflight = level;
                    }
                }
            }
        }
    }
    return configurations;
}

// Each handoff row twice, side by side, without and with the timeout: what
// the machinery costs.
std::vector<Configuration> with_timeouts(const std::vector<Configuration>& rows, std::chrono::nanoseconds timeout) {
    std::vector<Configuration> both;
    for (const Configuration& config : rows) {
        both.push_back(config);
        if (config.is_inline() || config.is_floor()) continue;
        both.push_back(config);
        both.back().timeout = timeout;
    }
    return both;
}

// --await: the modes each handoff row runs in; `all`: each row twice, side
// by side, callback then coroutine.
std::vector<AwaitMode> parse_await(const std::string& text) {
    if (text == "callback") return {AwaitMode::callback};
    if (text == "coroutine") return {AwaitMode::coroutine};
    if (text == "all") return {AwaitMode::callback, AwaitMode::coroutine};
    throw UsageError("--await", fmt::format("{} is not allowed: expected callback, coroutine or all", quote(text)));
}

std::vector<Configuration> with_awaits(const std::vector<Configuration>& rows, const std::vector<AwaitMode>& modes) {
    std::vector<Configuration> all;
    for (const Configuration& config : rows) {
        if (config.is_inline() || config.is_floor()) {
            all.push_back(config);
            continue;
        }
        for (const AwaitMode mode : modes) {
            all.push_back(config);
            all.back().await_mode = mode;
        }
    }
    return all;
}

std::chrono::nanoseconds parse_timeout(const std::string& text) {
    const auto timeout = parse_as("--timeout", [&] { return parse_duration(text); });
    if (timeout.count() <= 0) throw UsageError("--timeout", "expected a duration above 0, like 10ms");
    return timeout;
}

Options plan(const Typed& t) {
    Options options;
    options.list = t.list;
    if (t.output_given) options.output = t.output;
    if (t.format_given) options.format = parse_as("--format", [&] { return parse_format(t.format); });
    options.repeat = unsigned(parse_count("--repeat", t.repeat, 1, 1000));
    const Configuration base = base_configuration(t, options.repeat);
    const std::vector<int> online = online_cpus();
    const Choices choices = choose(t, online);
    options.sort_by_wall = choices.sort_by_wall;
    options.report.wide = t.wide;
    if (t.columns_given) options.report.columns = parse_as("--columns", [&] { return parse_columns(t.columns); });
    const bool floor_row = t.floor || (!t.no_floor && online.size() >= 2);
    options.configurations = build_configurations(base, choices, floor_row);
    if (t.timeout_given) options.configurations = with_timeouts(options.configurations, parse_timeout(t.timeout));
    options.configurations = with_awaits(options.configurations, parse_await(t.await_mode));
    return options;
}

constexpr const char* usage =
    "Usage: handoff [OPTIONS]                          measure (the options below)\n"
    "       handoff compare A.json B.json [OPTIONS]    compare runs (handoff help compare)\n"
    "       handoff plot RUN.json -o OUT.svg           draw a run (handoff help plot)\n"
    "       handoff tune [OPTIONS]                     find the design for a workload (handoff help tune)\n"
    "       handoff help [compare | plot | tune]       this help, or a subcommand's";

}  // namespace

CLI::Option* add_value(CLI::App& app, const std::string& names, std::string& value, const std::string& kind,
                       const std::string& description) {
    return app.add_option(names, value, description)
        ->type_name(kind)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

CLI::Option* add_values(CLI::App& app, const std::string& names, std::vector<std::string>& values,
                        const std::string& kind, const std::string& description) {
    return app.add_option(names, values, description)->type_name(kind)->allow_extra_args(false);
}

void set_usage(CLI::App& app, std::string usage_line) {
    auto formatter = std::make_shared<ConventionalFormatter>(std::move(usage_line));
    formatter->column_width(30);
    app.formatter(formatter);
}

std::optional<int> parse_arguments(CLI::App& app, int argc, const char* const argv[], std::ostream& out,
                                   std::ostream& err) {
    const std::string see = fmt::format(" (see {} --help)\n", app.get_name());
    // Extras are reported here, by name, rather than in CLI11's words.
    app.allow_extras();
    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {  // --help, --version
        app.exit(e, out, err);
        return exit_ok;
    } catch (const CLI::ParseError& e) {
        err << error_prefix(app) << plain_parse_error(e) << see;
        return exit_usage;
    }
    if (const std::vector<std::string> extra = app.remaining(); !extra.empty()) {
        // "of compare", "of handoff": the command's own word.
        const std::string& name = app.get_name();
        err << error_prefix(app)
            << fmt::format("{} is not an option of {}", quote(extra.front()), name.substr(name.rfind(' ') + 1)) << see;
        return exit_usage;
    }
    return std::nullopt;
}

std::string check_output_option(const std::string& path) {
    if (path.empty()) return "--output: expected a file name, not an empty value";
    if (const std::string problem = check_output(path); !problem.empty()) {
        return fmt::format("--output: cannot write {}: {}", quote(path), problem);
    }
    return {};
}

std::string write_with_output(const std::string& path, std::ostream& out,
                              const std::function<void(std::ostream&)>& table,
                              const std::function<void(std::ostream&)>& report) {
    if (resolve_output(path).kind != OutputTarget::Kind::standard_output) table(out);
    if (const std::string problem = write_output(path, report); !problem.empty()) {
        return fmt::format("--output: cannot write {}: {}", quote(path), problem);
    }
    return {};
}

std::string_view format_of_extension(std::string_view path) {
    switch (format_for_path(path)) {
        case Format::json: return "json";
        case Format::csv: return "csv";
        case Format::markdown: return "markdown";
        case Format::table: break;
    }
    return {};
}

std::string check_format_matches_extension(std::string_view format, const std::string& path) {
    const std::string_view asked = format_of_extension(path);
    if (asked.empty() || asked == format) return {};
    return fmt::format("--format: {} contradicts the file name {}, which asks for {}: expected --format {} or "
                       "another file name",
                       quote(format), quote(path), asked, asked);
}

ParseResult parse_command_line(int argc, const char* const argv[], std::ostream& out, std::ostream& err) {
    CLI::App app{"handoff: what it costs an event loop to hand a synchronous call to another thread "
                 "and get the result back.",
                 "handoff"};
    set_usage(app, usage);
    app.footer(std::string(examples));
    app.set_version_flag("--version", std::string(version_text));
    Typed typed;
    define_options(app, typed);
    if (const std::optional<int> status = parse_arguments(app, argc, argv, out, err)) return {std::nullopt, *status};
    note_given(app, typed);
    try {
        if (typed.designs == std::vector<std::string>{"list"}) {
            print_design_presets(out);
            return {std::nullopt, exit_ok};
        }
        if (typed.columns_given && typed.columns == "list") {
            print_columns(out);
            return {std::nullopt, exit_ok};
        }
        check_combinations(typed);
        return {plan(typed), exit_ok};
    } catch (const UsageError& e) {
        err << "handoff: " << printable(e.what()) << '\n';
        return {std::nullopt, exit_usage};
    }
}

double parse_rate(const std::string& text) {
    double value = 0;
    const char* first = text.data();
    const char* last = first + text.size();
    const auto [end, ec] = std::from_chars(first, last, value);
    const std::string_view suffix(end, std::size_t(last - end));
    const double scale = suffix.empty() ? 1 : suffix == "k" ? 1e3 : suffix == "M" ? 1e6 : 0;
    value *= scale;
    if (text.empty() || ec != std::errc{} || scale == 0 || !(value >= 0.1) || value > 1e9) {
        throw std::invalid_argument(fmt::format(
            "{} is not allowed: expected calls per second from 0.1 to 1000M, like 10000, 2.5k or 1M", quote(text)));
    }
    return value;
}

UsageError::UsageError(std::string_view option, std::string_view message)
    : std::runtime_error(fmt::format("{}: {}", option, message)) {}

void reject(const std::string& option, const std::string& text, const std::string& expected) {
    throw UsageError(fmt::format("{}: {} is not allowed: expected {}", option, quote(text), expected));
}

}  // namespace handoff
