#include "cli.hpp"

#include <charconv>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "handoff/backend.hpp"

namespace handoff {
namespace {

constexpr std::string_view version_text = "handoff 0.1.0";

constexpr std::string_view examples = R"(
Examples:
  handoff --count 250000 --work sleep0          every backend, dedicated and pool
  handoff --backend epoll,uv --target dedicated --work spin:20us
  handoff --work none --format json --output results/today.json
  handoff --list                                backends, availability, library versions

Work: none | sleep0 | yield | syscall | spin:DUR | sleep:DUR   (DUR: 250ns, 2us, 1.5ms, 1s)
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

// The default warm-up: enough to create lazy pool threads and settle caches,
// never most of a short run.
std::uint64_t default_warmup(std::uint64_t calls) {
    return std::min<std::uint64_t>(1000, std::max<std::uint64_t>(10, calls / 10));
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
    std::string warmup, inflight = "1", format, output;
    bool list = false;
    app.add_option("--count", count, "calls measured per row (default 250000)");
    app.add_option("--work", work, "what each call does (default sleep0)");
    app.add_option("--backend", backends, "all, or a comma list: " + backend_names());
    app.add_option("--target", target, "dedicated | pool | all (default all)");
    app.add_option("--threads", threads, "pool size (default 4, as libuv's)");
    app.add_option("--warmup", warmup, "unmeasured calls before each row (default min(1000, count/10))");
    app.add_option("--inflight", inflight, "calls outstanding at once (default 1: send, await, send)");
    app.add_option("--format", format, "table | json | csv (default table)");
    app.add_option("--output", output, "write the report to FILE (stdout still shows the table)");
    app.add_flag("--list", list, "list backends, whether each is available, library versions");

    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {  // --help, --version
        app.exit(e, out, err);
        return {std::nullopt, exit_ok};
    } catch (const CLI::ParseError& e) {
        err << "handoff: " << e.what() << " (see --help)\n";
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
        Configuration base;
        base.calls = parse_count("--count", count, 1, 1'000'000'000'000);
        try {
            base.work = Work::parse(work);
        } catch (const std::invalid_argument& e) {
            throw UsageError("--work", e.what());
        }
        base.threads = unsigned(parse_count("--threads", threads, 1, 1024));
        base.inflight = std::uint32_t(parse_count("--inflight", inflight, 1, 65536));
        base.warmup = warmup.empty() ? default_warmup(base.calls)
                                     : parse_count("--warmup", warmup, 0, 1'000'000'000);
        const auto targets = parse_targets(target);
        const auto chosen = parse_backends(backends);

        Configuration baseline = base;
        baseline.backend = "inline";
        options.configurations.push_back(baseline);
        for (const std::string& name : chosen) {
            for (const TargetKind kind : targets) {
                Configuration config = base;
                config.backend = name;
                config.target = kind;
                options.configurations.push_back(config);
            }
        }
        return {std::move(options), exit_ok};
    } catch (const UsageError& e) {
        err << "handoff: " << e.what() << '\n';
        return {std::nullopt, exit_usage};
    }
}

}  // namespace handoff
