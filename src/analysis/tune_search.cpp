#include "analysis/tune_search.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "base/duration.hpp"
#include "handoff/backend.hpp"
#include "report/figures.hpp"
#include "run/runner.hpp"

namespace handoff {

// ---- The candidates ----------------------------------------------------------

namespace {

// The spin budgets tried: a log range, about 4x apart, around the 2us preset
// and up to 50us (a VM's cross-CPU wake-up costs 25-50us here: a budget
// longer than that never lets a side sleep between calls).
constexpr const char* spin_budgets[] = {"250ns", "1us", "4us", "16us", "50us"};

// Open loop on a loop with sleep hooks: results that wait for the loop's next
// arrival (defer), and calls held back to wake the worker once for several
// (hold, with room for several in flight). Bounds in arrival gaps: defer two
// (the next arrival is at most one away, plus the loop's lateness), hold
// three or six (one wake for about three or six calls).
void add_wake_saving_specs(std::vector<std::string>& specs, const Configuration& base) {
    const auto gaps = [&](double n) {
        return format_duration(std::chrono::nanoseconds(std::int64_t(n * 1e9 / base.rate)));
    };
    specs.push_back(fmt::format("futex-gated,defer={}", gaps(2)));
    specs.push_back(fmt::format("eventfd,queue=spsc,defer={}", gaps(2)));
    specs.push_back(fmt::format("spin-park:1us,defer={}", gaps(2)));
    if (base.inflight < 2) return;
    specs.push_back(fmt::format("futex-gated,defer={},hold={}", gaps(2), gaps(3)));
    specs.push_back(fmt::format("futex-gated,defer={},hold={}", gaps(2), gaps(6)));
    specs.push_back(fmt::format("eventfd,queue=spsc,defer={},hold={}", gaps(2), gaps(3)));
}

std::vector<std::string> candidate_specs(const Backend& backend, const Configuration& base) {
    std::vector<std::string> specs;
    for (const DesignPreset& preset : design_presets()) specs.emplace_back(preset.name);
    for (const char* budget : spin_budgets) {
        specs.push_back(fmt::format("spin-park:{}", budget));                     // both sides spin, then sleep
        specs.push_back(fmt::format("futex-gated,loop-spin={}", budget));          // the loop alone spins
        specs.push_back(fmt::format("futex-gated,wait=spin-park:{}", budget));     // the worker alone spins
    }
    // The loop spins for ever, the worker spins and then may sleep. Back to
    // back where the two vCPUs share a core, this was the fastest design
    // measured (78-84 ns against inplace's 100-120, floor 65, 2026-11-30),
    // although the two differ only off the path (the worker's spin reads the
    // clock for its budget; the loop posts with seq_cst): on a shared
    // core a 25 ns pause quantises the trip, and which phase each side's
    // polls fall in decides. Measured, not reasoned: the search tries it.
    for (const char* spec : {"inplace,wait=spin-park:16us", "inplace,wait=adaptive"}) specs.emplace_back(spec);
    for (const char* spec : {
             "adaptive,loop-spin=0", "futex-gated,loop-spin=adaptive", "inplace,loop-spin=adaptive",
             // The queue.
             "futex-gated,queue=spsc", "futex-gated,queue=mutex", "adaptive,queue=spsc", "spin-park:2us,queue=spsc",
             "eventfd,queue=spsc",
             // Wake gating: every result wakes the loop.
             "futex-gated,wake=always", "eventfd,wake=always", "classic,wait=futex",
             // Batching.
             "classic,batch=on", "futex-gated,queue=spsc,batch=off", "futex-gated,queue=mutex,batch=off"}) {
        specs.emplace_back(spec);
    }
    if (backend.capabilities.ring_wakes) {
        specs.emplace_back("futex-gated,ring=msg-ring");
        specs.emplace_back("adaptive,ring=msg-ring");
    }
    if (base.open_loop() && backend.capabilities.sleep_hooks) add_wake_saving_specs(specs, base);
    return specs;
}

}  // namespace

std::vector<TuneCandidate> tune_candidates(const Configuration& base, bool with_pool) {
    const Backend* backend = find_backend(base.backend);
    if (backend == nullptr) throw std::invalid_argument(fmt::format("unknown backend '{}'", base.backend));
    std::vector<TuneCandidate> candidates;
    std::set<std::string> seen;
    for (const std::string& spec : candidate_specs(*backend, base)) {
        const Design design = parse_design(spec);
        if (design_unsupported_reason(*backend, design)) continue;
        if (!seen.insert(design.describe()).second) continue;
        TuneCandidate c{spec, base, false};
        c.config.kind = RowKind::handoff;
        c.config.target = TargetKind::dedicated;
        c.config.design = design;
        candidates.push_back(std::move(c));
    }
    if (with_pool) {
        TuneCandidate pool{"pool", base, true};
        pool.config.kind = RowKind::handoff;
        pool.config.target = TargetKind::pool;
        candidates.push_back(std::move(pool));
    }
    return candidates;
}

// ---- Figures of a row ---------------------------------------------------------

namespace {

// Cores exactly as the table prints it: the report's figure, one run's.
double run_cores(const Measurement& m) { return report_detail::figure_def("cores").of(m); }

FigureRange range_over_runs(const RowResult& row, const std::function<double(const Measurement&)>& of) {
    FigureRange r;
    for (const Measurement& m : row.runs) {
        const double v = of(m);
        if (!std::isfinite(v)) continue;
        r.min = std::isfinite(r.min) ? std::min(r.min, v) : v;
        r.max = std::isfinite(r.max) ? std::max(r.max, v) : v;
    }
    return r;
}

}  // namespace

double cores_of(const RowResult& row) { return report_detail::row_figure(row, "cores"); }

TunePoint point_of(const RowResult& row) {
    TunePoint p;
    if (!report_detail::has_figures(row)) return p;
    const Measurement* run = report_detail::representative_run(row);
    if (run == nullptr) return p;
    p.cores = cores_of(row);
    p.cpu_per_call_ns = (run->cpu_loop_s + run->cpu_worker_s) * 1e9 / double(run->calls);
    p.wall_per_call_ns = run->wall_s * 1e9 / double(run->calls);
    p.p50_ns = report_detail::row_figure(row, "lat_p50_ns");
    p.p99_ns = report_detail::row_figure(row, "lat_p99_ns");
    const auto p50_of = report_detail::figure_def("lat_p50_ns").of;
    const auto p99_of = report_detail::figure_def("lat_p99_ns").of;
    p.p50 = range_over_runs(row, p50_of);
    p.p99 = range_over_runs(row, p99_of);
    p.cores_range = range_over_runs(row, run_cores);
    p.eligible = row.config.target == TargetKind::dedicated;
    return p;
}

// ---- Successive halving -------------------------------------------------------

namespace {

// Halvings from n to at most `keep` (ceil(n/2) each).
unsigned halvings(std::size_t n, std::size_t keep) {
    unsigned h = 0;
    for (; n > keep; n = (n + 1) / 2) ++h;
    return h;
}

// Round k's repetitions: 2, 3, 4, then 5: the spread is worth more as the
// contenders get closer.
unsigned repeat_of(unsigned round) { return std::min(5u, round + 1); }

// How much slack a near-feasible contender gets: generous while the
// figures rest on few calls.
double slack_of(unsigned round) { return std::max(0.1, 0.4 / round); }

// What running a candidate costs: per repetition (building, warming up,
// tearing down) and per call.
struct Cost {
    double repetition_s = 0;
    double call_s = 0;

    double of(std::uint64_t calls, unsigned repeat) const { return repeat * repetition_s + double(calls) * call_s; }

    // From a measurement: the measured intervals' time per call, the rest
    // per repetition; without the intervals' time, all of it per call.
    static Cost from(const CandidateMeasurement& m, const Cost& before) {
        if (m.calls == 0 || !(m.elapsed_s > 0)) return before;
        const unsigned runs = std::max(1u, m.repeat);
        if (m.measured_s > 0) return {std::max(0.0, m.elapsed_s - m.measured_s) / runs, m.measured_s / double(m.calls)};
        return {0, m.elapsed_s / double(m.calls)};
    }
};

// The calls that fit `slice_s`, within [low, high], a multiple of repeat.
std::uint64_t calls_for(double slice_s, const Cost& cost, std::uint64_t low, std::uint64_t high, unsigned repeat) {
    const double room = slice_s - repeat * cost.repetition_s;
    const double wanted = cost.call_s > 0 ? room / cost.call_s : double(high);
    const std::uint64_t calls = std::uint64_t(std::clamp(wanted, double(low), double(std::max(low, high))));
    return std::max<std::uint64_t>(calls / repeat * repeat, repeat);
}

struct Clock {
    const SearchOptions& options;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    double now() const {
        if (options.now_s) return options.now_s();
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
};

}  // namespace

SearchOutcome successive_halving(const std::vector<TuneCandidate>& candidates, const SearchOptions& options,
                                 const MeasureRound& measure) {
    const Clock clock{options};
    const auto stopped = [&] { return options.stopped && options.stopped(); };
    const std::size_t n = candidates.size();
    SearchOutcome outcome;
    outcome.last.resize(n);
    outcome.reached.assign(n, 0);
    std::vector<Cost> cost(n, Cost{options.prior_repetition_s, options.prior_call_s});
    std::vector<std::uint64_t> last_calls(n, 0);

    const double search_budget = options.budget_s * (1 - options.confirm_share);
    std::vector<std::size_t> alive(n);
    for (std::size_t i = 0; i < n; ++i) alive[i] = i;
    outcome.planned_rounds = 1 + halvings(n, options.final_keep);

    for (unsigned round = 1; !alive.empty(); ++round) {
        if (stopped()) {
            outcome.interrupted = true;
            break;
        }
        const double left = search_budget - clock.now();
        RoundRequest request;
        request.round = round;
        request.rounds = outcome.planned_rounds;
        request.repeat = repeat_of(round);
        request.candidates = alive;
        // A later round that cannot run even at the fewest calls is not run:
        // the rounds before have answered.
        if (round > 1) {
            double least = 0;
            for (const std::size_t i : alive) least += cost[i].of(options.min_calls, request.repeat);
            if (least > left) break;
        }
        const double share = std::max(0.0, left) / double(outcome.planned_rounds - round + 1);
        const double slice = share / double(alive.size());
        for (const std::size_t i : alive) {
            // At most 4x the calls of the round before: a cost measured on
            // a few calls of a shared machine is not to be extrapolated far
            // (the rounds after get what this one leaves).
            const std::uint64_t high = round == 1 ? options.first_round_max_calls
                                                  : std::min(options.max_calls, 4 * std::max<std::uint64_t>(
                                                                                        last_calls[i], options.min_calls));
            request.calls.push_back(calls_for(slice, cost[i], options.min_calls, high, request.repeat));
        }
        request.time_limit_s = std::min(2 * share, std::max(0.0, left));
        if (options.on_round) options.on_round(request);
        const double began = clock.now();
        RoundRecord record{request, measure(request), 0};
        record.elapsed_s = clock.now() - began;

        std::vector<std::size_t> ok;
        for (std::size_t k = 0; k < alive.size(); ++k) {
            const std::size_t i = alive[k];
            const CandidateMeasurement& m = record.results.at(k);
            outcome.last[i] = m;
            outcome.reached[i] = round;
            cost[i] = Cost::from(m, cost[i]);
            last_calls[i] = m.calls;
            if (m.ok && m.point.measured()) ok.push_back(i);
        }
        outcome.rounds.push_back(std::move(record));
        outcome.final_candidates = ok;
        // Unavailable designs drop out in round 1: plan the halvings from
        // what can run, and measure the survivors once more at least.
        if (round == 1) outcome.planned_rounds = 1 + std::max(1u, halvings(ok.size(), options.final_keep));
        if (round >= outcome.planned_rounds || ok.size() <= 1 || stopped()) {
            outcome.interrupted = stopped();
            break;
        }
        std::vector<TunePoint> points;
        for (const std::size_t i : ok) points.push_back(outcome.last[i].point);
        const std::size_t keep = std::max(options.final_keep, (ok.size() + 1) / 2);
        alive.clear();
        for (const std::size_t k : contenders(points, options.limits, keep, slack_of(round))) alive.push_back(ok[k]);
    }

    // The frontier and each objective's choice, over the last round.
    std::vector<TunePoint> points;
    for (const std::size_t i : outcome.final_candidates) points.push_back(outcome.last[i].point);
    for (const std::size_t k : pareto_frontier(points)) outcome.frontier.push_back(outcome.final_candidates[k]);
    std::vector<std::size_t> confirm;
    for (const Objective objective : objectives_for(options.limits)) {
        Recommendation rec{objective, std::nullopt, {}, std::nullopt};
        if (const auto k = choose(points, objective, options.limits)) {
            rec.candidate = outcome.final_candidates[*k];
            rec.search = outcome.last[*rec.candidate];
            if (std::find(confirm.begin(), confirm.end(), *rec.candidate) == confirm.end()) {
                confirm.push_back(*rec.candidate);
            }
        }
        outcome.recommendations.push_back(std::move(rec));
    }

    // Each distinct choice re-run alone, with what the budget has left
    // (never more calls than its last round, never fewer than min_calls).
    std::map<std::size_t, CandidateMeasurement> confirmed;
    for (std::size_t c = 0; c < confirm.size() && !outcome.interrupted; ++c) {
        if (stopped()) {
            outcome.interrupted = true;
            break;
        }
        const std::size_t i = confirm[c];
        const double slice = std::max(0.0, options.budget_s - clock.now()) / double(confirm.size() - c);
        RoundRequest request;
        request.round = 0;
        request.rounds = outcome.planned_rounds;
        request.repeat = std::max(3u, outcome.last[i].repeat);
        request.candidates = {i};
        request.calls = {calls_for(slice, cost[i], options.min_calls, std::max(last_calls[i], options.min_calls),
                                   request.repeat)};
        request.time_limit_s = std::max(2 * slice, 1.0);
        if (options.on_round) options.on_round(request);
        std::vector<CandidateMeasurement> result = measure(request);
        if (!result.empty()) confirmed[i] = std::move(result.front());
    }
    for (Recommendation& rec : outcome.recommendations) {
        if (rec.candidate && confirmed.contains(*rec.candidate)) rec.confirmation = confirmed[*rec.candidate];
    }
    outcome.interrupted = outcome.interrupted || stopped();
    outcome.elapsed_s = clock.now();
    return outcome;
}

// ---- Measuring with sessions --------------------------------------------------

namespace {

// The main command's default warm-up: enough to create lazy threads and
// settle caches, never most of a short repetition.
std::uint64_t warmup_for(std::uint64_t calls_per_repetition) {
    return std::min<std::uint64_t>(1000, std::max<std::uint64_t>(10, calls_per_repetition / 10));
}

std::string key_of(const Configuration& c) { return c.target_name() + "|" + c.design_name(); }

CandidateMeasurement measurement_of(RowResult row, double elapsed_s, unsigned repeat) {
    CandidateMeasurement m;
    m.point = point_of(row);
    m.ok = row.status == RowStatus::ok && m.point.measured();
    if (!m.ok) {
        m.reason = row.status != RowStatus::ok ? fmt::format("{}: {}", to_string(row.status), row.reason)
                                               : "no latency measured";
    }
    m.calls = row.config.calls;
    // A round cut short leaves some rows a repetition fewer.
    m.repeat = row.runs.empty() ? repeat : unsigned(row.runs.size());
    m.elapsed_s = elapsed_s;
    for (const Measurement& run : row.runs) m.measured_s += run.wall_s;
    m.row = std::move(row);
    return m;
}

}  // namespace

MeasureRound session_measure(const std::vector<TuneCandidate>& candidates, SessionOptions session) {
    return [&candidates, session](const RoundRequest& request) {
        std::vector<Configuration> configs;
        std::map<std::string, std::size_t> index_of;
        for (std::size_t k = 0; k < request.candidates.size(); ++k) {
            Configuration c = candidates.at(request.candidates[k]).config;
            c.calls = request.calls.at(k);
            c.warmup = warmup_for(c.calls / request.repeat);
            index_of[key_of(c)] = k;
            configs.push_back(std::move(c));
        }
        std::vector<double> elapsed(configs.size(), 0);
        SessionOptions options = session;
        options.repeat = request.repeat;
        // Stops the session on a signal, or past the round's time limit once
        // every candidate has one repetition (repetitions run A B C A B C).
        const auto began = std::chrono::steady_clock::now();
        std::atomic<bool> cut{false};
        options.stop_requested = &cut;
        options.on_progress = [&](const SessionProgress& p) {
            if (session.stop_requested != nullptr && session.stop_requested->load()) cut = true;
            const double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
            if (p.repetition > 1 && spent > request.time_limit_s) cut = true;
            if (session.on_progress) session.on_progress(p);
        };
        const auto run_one = session.run_one;
        options.run_one = [&](const Configuration& c, const RunLimits& limits) {
            const auto run_began = std::chrono::steady_clock::now();
            RowResult row = run_one ? run_one(c, limits) : run_configuration(c, limits);
            const auto it = index_of.find(key_of(c));
            if (it != index_of.end()) {
                elapsed[it->second] +=
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - run_began).count();
            }
            return row;
        };
        SessionOutcome outcome = run_session(configs, options);
        std::vector<CandidateMeasurement> results;
        for (std::size_t k = 0; k < outcome.rows.size(); ++k) {
            results.push_back(measurement_of(std::move(outcome.rows[k]), elapsed[k], request.repeat));
        }
        return results;
    };
}

}  // namespace handoff
