#include "analysis/tune_report.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "analysis/result_file.hpp"
#include "base/duration.hpp"

namespace handoff {

TuneSummary summarize_tune(const std::vector<TuneCandidate>& candidates, const SearchOutcome& outcome,
                           const Configuration& base, const SearchOptions& options) {
    TuneSummary s;
    s.backend = base.backend;
    s.work = base.work.spec();
    s.placement = base.placement.name;
    s.arrival = std::string(to_string(base.arrival));
    s.inflight = base.inflight;
    s.rate = base.rate;
    s.budget_s = options.budget_s;
    s.elapsed_s = outcome.elapsed_s;
    s.limits = options.limits;
    s.interrupted = outcome.interrupted;
    for (const RoundRecord& r : outcome.rounds) {
        TuneSummary::Round round;
        round.round = r.request.round;
        round.candidates = r.request.candidates.size();
        if (!r.request.calls.empty()) {
            round.calls_min = *std::min_element(r.request.calls.begin(), r.request.calls.end());
            round.calls_max = *std::max_element(r.request.calls.begin(), r.request.calls.end());
        }
        round.repeat = r.request.repeat;
        round.fewest_repeats = round.repeat;
        for (const CandidateMeasurement& m : r.results) {
            if (m.ok) round.fewest_repeats = std::min(round.fewest_repeats, m.repeat);
        }
        round.elapsed_s = r.elapsed_s;
        s.rounds.push_back(round);
    }
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        TuneSummary::Candidate c;
        c.design = candidates[i].spec;
        c.reference = candidates[i].reference;
        c.round_reached = outcome.reached[i];
        const auto in = [&](const std::vector<std::size_t>& list) {
            return std::find(list.begin(), list.end(), i) != list.end();
        };
        c.final_round = in(outcome.final_candidates);
        c.frontier = in(outcome.frontier);
        const CandidateMeasurement& m = outcome.last[i];
        c.status = c.round_reached == 0 ? "not measured" : m.ok ? "ok" : m.reason;
        c.calls = m.calls;
        c.repeat = m.repeat;
        c.point = m.point;
        s.candidates.push_back(std::move(c));
    }
    for (const Recommendation& rec : outcome.recommendations) {
        TuneSummary::Choice choice;
        choice.key = objective_key(rec.objective);
        choice.label = objective_label(rec.objective, options.limits);
        if (rec.candidate) {
            choice.design = candidates[*rec.candidate].spec;
            choice.search = rec.search.point;
            choice.search_calls = rec.search.calls;
            choice.search_repeat = rec.search.repeat;
            if (rec.confirmation) {
                if (rec.confirmation->ok) choice.confirm = rec.confirmation->point;
                choice.confirm_calls = rec.confirmation->calls;
                choice.confirm_repeat = rec.confirmation->repeat;
                if (!rec.confirmation->ok) choice.note = "confirmation run: " + rec.confirmation->reason;
            }
        } else {
            choice.note = infeasible_note(rec.objective, options.limits, candidates, outcome);
        }
        s.recommendations.push_back(std::move(choice));
    }
    return s;
}

std::string infeasible_note(Objective objective, const TuneLimits& limits, const std::vector<TuneCandidate>& candidates,
                            const SearchOutcome& outcome) {
    if (outcome.final_candidates.empty()) return "no candidate could be measured";
    // The closest the last round came to the limit.
    const bool by_cores = objective == Objective::p99_within_cpu_budget;
    std::size_t best = outcome.final_candidates.front();
    for (const std::size_t i : outcome.final_candidates) {
        if (candidates[i].reference) continue;
        const TunePoint& p = outcome.last[i].point;
        const TunePoint& b = outcome.last[best].point;
        if (by_cores ? p.cores < b.cores : p.p99_ns < b.p99_ns) best = i;
    }
    const TunePoint& p = outcome.last[best].point;
    if (by_cores) {
        return fmt::format("no candidate within --cpu-budget {:g} (the lowest Cores measured: {:.2f}, {})",
                           limits.cpu_budget_cores.value_or(0), p.cores, candidates[best].spec);
    }
    if (objective == Objective::cpu_within_p99) {
        return fmt::format("no candidate within --p99 {} (the lowest p99 measured: {}, {})",
                           format_per_call(limits.p99_limit_ns.value_or(0) / 1e9), format_per_call(p.p99_ns / 1e9),
                           candidates[best].spec);
    }
    return "no candidate could be measured";
}

bool p99_within_spread(const TunePoint& search, const TunePoint& confirm) {
    return confirm.p99_ns >= search.p99.min && confirm.p99_ns <= search.p99.max;
}

bool host_changed(double floor_before_ns, double floor_after_ns) {
    if (!(floor_before_ns > 0) || !(floor_after_ns > 0)) return false;  // NaN: not measured
    return std::max(floor_before_ns, floor_after_ns) > host_change_factor * std::min(floor_before_ns, floor_after_ns);
}

// ---- JSON -------------------------------------------------------------------

namespace {

using Json = nlohmann::ordered_json;

Json number(double value) { return std::isfinite(value) ? Json(value) : Json(nullptr); }

Json point_json(const TunePoint& p) {
    return Json{
        {"p50_ns", number(p.p50_ns)},
        {"p50_ns_min", number(p.p50.min)},
        {"p50_ns_max", number(p.p50.max)},
        {"p99_ns", number(p.p99_ns)},
        {"p99_ns_min", number(p.p99.min)},
        {"p99_ns_max", number(p.p99.max)},
        {"cores", number(p.cores)},
        {"cores_min", number(p.cores_range.min)},
        {"cores_max", number(p.cores_range.max)},
        {"cpu_per_call_ns", number(p.cpu_per_call_ns)},
        {"wall_per_call_ns", number(p.wall_per_call_ns)},
    };
}

Json summary_json(const TuneSummary& s) {
    Json rounds = Json::array();
    for (const TuneSummary::Round& r : s.rounds) {
        rounds.push_back(Json{{"round", r.round},
                              {"candidates", r.candidates},
                              {"calls_min", r.calls_min},
                              {"calls_max", r.calls_max},
                              {"repeat", r.repeat},
                              {"fewest_repeats", r.fewest_repeats},
                              {"elapsed_s", r.elapsed_s}});
    }
    Json candidates = Json::array();
    Json frontier = Json::array();
    for (const TuneSummary::Candidate& c : s.candidates) {
        Json entry{{"design", c.design},   {"reference", c.reference}, {"round_reached", c.round_reached},
                   {"final_round", c.final_round}, {"frontier", c.frontier}, {"status", c.status},
                   {"calls", c.calls},     {"repeat", c.repeat}};
        entry.update(point_json(c.point));
        candidates.push_back(std::move(entry));
        if (c.frontier) frontier.push_back(c.design);
    }
    Json recommendations = Json::array();
    for (const TuneSummary::Choice& c : s.recommendations) {
        Json entry{{"objective", c.key}, {"label", c.label}, {"design", c.design ? Json(*c.design) : Json(nullptr)},
                   {"note", c.note}};
        if (c.design) {
            Json search = point_json(c.search);
            search["calls"] = c.search_calls;
            search["repeat"] = c.search_repeat;
            entry["search"] = std::move(search);
            if (c.confirm) {
                Json confirm = point_json(*c.confirm);
                confirm["calls"] = c.confirm_calls;
                confirm["repeat"] = c.confirm_repeat;
                confirm["floor_ns"] = number(c.confirm_floor_ns);
                entry["confirm"] = std::move(confirm);
                entry["confirm_p99_within_spread"] = p99_within_spread(c.search, *c.confirm);
                entry["host_changed"] = host_changed(s.floor_after_search_ns, c.confirm_floor_ns);
            } else {
                entry["confirm"] = nullptr;
            }
        }
        recommendations.push_back(std::move(entry));
    }
    return Json{
        {"backend", s.backend},
        {"work", s.work},
        {"placement", s.placement},
        {"inflight", s.inflight},
        {"rate", s.rate},
        {"arrival", s.arrival},
        {"budget_s", s.budget_s},
        {"elapsed_s", s.elapsed_s},
        {"cpu_budget_cores", s.limits.cpu_budget_cores ? Json(*s.limits.cpu_budget_cores) : Json(nullptr)},
        {"p99_limit_ns", s.limits.p99_limit_ns ? Json(*s.limits.p99_limit_ns) : Json(nullptr)},
        {"interrupted", s.interrupted},
        {"floor_after_search_ns", number(s.floor_after_search_ns)},
        {"rounds", std::move(rounds)},
        {"frontier", std::move(frontier)},
        {"recommendations", std::move(recommendations)},
        {"candidates", std::move(candidates)},
    };
}

// Reading: lenient about what is absent (NaN, empty), strict about types.
struct Reader {
    std::string_view name;

    [[noreturn]] void fail(const std::string& where, const std::string& what) const {
        throw ResultFileError(fmt::format("'{}': tune.{}: {}", name, where, what));
    }
    double real(const Json& object, const char* key, const std::string& where) const {
        const auto it = object.find(key);
        if (it == object.end() || it->is_null()) return std::numeric_limits<double>::quiet_NaN();
        if (!it->is_number()) fail(where + "." + key, "expected a number or null");
        return it->get<double>();
    }
    std::string text(const Json& object, const char* key, const std::string& where) const {
        const auto it = object.find(key);
        if (it == object.end() || it->is_null()) return {};
        if (!it->is_string()) fail(where + "." + key, "expected a string");
        std::string value = it->get<std::string>();
        for (char& c : value) {
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
        }
        return value;
    }
    bool flag(const Json& object, const char* key, const std::string& where) const {
        const auto it = object.find(key);
        if (it == object.end() || it->is_null()) return false;
        if (!it->is_boolean()) fail(where + "." + key, "expected true or false");
        return it->get<bool>();
    }
    TunePoint point(const Json& object, const std::string& where) const {
        TunePoint p;
        p.p50_ns = real(object, "p50_ns", where);
        p.p50 = {real(object, "p50_ns_min", where), real(object, "p50_ns_max", where)};
        p.p99_ns = real(object, "p99_ns", where);
        p.p99 = {real(object, "p99_ns_min", where), real(object, "p99_ns_max", where)};
        p.cores = real(object, "cores", where);
        p.cores_range = {real(object, "cores_min", where), real(object, "cores_max", where)};
        p.cpu_per_call_ns = real(object, "cpu_per_call_ns", where);
        p.wall_per_call_ns = real(object, "wall_per_call_ns", where);
        return p;
    }
    const Json& array(const Json& object, const char* key) const {
        static const Json empty = Json::array();
        const auto it = object.find(key);
        if (it == object.end() || it->is_null()) return empty;
        if (!it->is_array()) fail(key, "expected an array");
        return *it;
    }
};

}  // namespace

std::string tune_result_json(const Report& report, const TuneSummary& summary) {
    std::ostringstream rows;
    write_json(rows, report);
    Json document = Json::parse(rows.str());
    document["tune"] = summary_json(summary);
    return document.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::optional<TuneSummary> parse_tune_summary(std::string_view text, std::string_view name) {
    Json document;
    try {
        document = Json::parse(text.begin(), text.end());
    } catch (const Json::exception&) {
        return std::nullopt;  // the result file's own reader says what is wrong with it
    }
    if (!document.is_object()) return std::nullopt;
    const auto it = document.find("tune");
    if (it == document.end()) return std::nullopt;
    const Reader r{name};
    if (!it->is_object()) r.fail("", "expected an object");
    const Json& t = *it;
    TuneSummary s;
    s.backend = r.text(t, "backend", "");
    s.work = r.text(t, "work", "");
    s.placement = r.text(t, "placement", "");
    s.arrival = r.text(t, "arrival", "");
    const double inflight = r.real(t, "inflight", "");
    s.inflight = std::isfinite(inflight) && inflight >= 0 ? std::uint64_t(inflight) : 0;
    s.rate = r.real(t, "rate", "");
    s.budget_s = r.real(t, "budget_s", "");
    s.elapsed_s = r.real(t, "elapsed_s", "");
    if (const double c = r.real(t, "cpu_budget_cores", ""); std::isfinite(c)) s.limits.cpu_budget_cores = c;
    if (const double p = r.real(t, "p99_limit_ns", ""); std::isfinite(p)) s.limits.p99_limit_ns = p;
    s.interrupted = r.flag(t, "interrupted", "");
    s.floor_after_search_ns = r.real(t, "floor_after_search_ns", "");
    const Json& candidates = r.array(t, "candidates");
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        const std::string where = fmt::format("candidates[{}]", i);
        if (!candidates[i].is_object()) r.fail(where, "expected an object");
        TuneSummary::Candidate c;
        c.design = r.text(candidates[i], "design", where);
        c.reference = r.flag(candidates[i], "reference", where);
        const double reached = r.real(candidates[i], "round_reached", where);
        c.round_reached = std::isfinite(reached) && reached >= 0 ? unsigned(reached) : 0;
        c.final_round = r.flag(candidates[i], "final_round", where);
        c.frontier = r.flag(candidates[i], "frontier", where);
        c.status = r.text(candidates[i], "status", where);
        c.point = r.point(candidates[i], where);
        c.point.eligible = !c.reference;
        s.candidates.push_back(std::move(c));
    }
    const Json& recommendations = r.array(t, "recommendations");
    for (std::size_t i = 0; i < recommendations.size(); ++i) {
        const std::string where = fmt::format("recommendations[{}]", i);
        const Json& entry = recommendations[i];
        if (!entry.is_object()) r.fail(where, "expected an object");
        TuneSummary::Choice c;
        c.key = r.text(entry, "objective", where);
        c.label = r.text(entry, "label", where);
        c.note = r.text(entry, "note", where);
        if (const std::string design = r.text(entry, "design", where); !design.empty()) c.design = design;
        if (const auto search = entry.find("search"); search != entry.end() && search->is_object()) {
            c.search = r.point(*search, where + ".search");
        }
        if (const auto confirm = entry.find("confirm"); confirm != entry.end() && confirm->is_object()) {
            c.confirm = r.point(*confirm, where + ".confirm");
            c.confirm_floor_ns = r.real(*confirm, "floor_ns", where + ".confirm");
        }
        s.recommendations.push_back(std::move(c));
    }
    return s;
}

}  // namespace handoff

// ---- The table ----------------------------------------------------------------

namespace handoff {
namespace {

std::string ns_text(double ns) { return std::isfinite(ns) ? format_per_call(ns / 1e9) : "-"; }

std::string cores_text(double cores) { return std::isfinite(cores) ? fmt::format("{:.2f}", cores) : "-"; }

std::string seconds_text(double s) {
    if (!std::isfinite(s)) return "-";
    if (s < 60) return fmt::format("{:.1f}s", s);
    const auto whole = static_cast<long long>(std::llround(s));
    return fmt::format("{}m{:02}s", whole / 60, whole % 60);
}

std::string design_text(const TuneSummary::Candidate& c) { return c.reference ? c.design + " (reference)" : c.design; }

// "p50 480 ns  p99 612 ns (590 ns-700 ns)  Cores 2.00 (1.99-2.00)"
std::string figures_text(const TunePoint& p) {
    return fmt::format("p50 {}  p99 {} ({}-{})  Cores {} ({}-{})", ns_text(p.p50_ns), ns_text(p.p99_ns),
                       ns_text(p.p99.min), ns_text(p.p99.max), cores_text(p.cores), cores_text(p.cores_range.min),
                       cores_text(p.cores_range.max));
}

std::string load_text(const TuneSummary& s) {
    if (s.rate > 0) return fmt::format("{:g} calls/s ({} arrivals, at most {} in flight)", s.rate, s.arrival, s.inflight);
    return fmt::format("in-flight {}, back to back", s.inflight);
}

// "  also in the last round: a, b, c and 12 more (-o FILE.json has them)",
// within 120 columns.
std::string also_line(const std::vector<std::string>& names) {
    std::string line = "  also in the last round, not on the frontier:";
    std::size_t shown = 0;
    for (; shown < names.size(); ++shown) {
        const std::string more = fmt::format(" and {} more (the JSON has them all)", names.size() - shown - 1);
        if (line.size() + names[shown].size() + 2 + (shown + 1 < names.size() ? more.size() : 0) > 120) break;
        line += (shown ? ", " : " ") + names[shown];
    }
    if (shown < names.size()) line += fmt::format(" and {} more (the JSON has them all)", names.size() - shown);
    return line + "\n";
}

}  // namespace

void write_tune_table(std::ostream& out, const TuneSummary& s) {
    out << fmt::format("handoff tune: {} dedicated, work {}, {}, placement {}\n", s.backend, s.work, load_text(s),
                       s.placement);
    // Interrupted before their turn is not "could not run".
    std::size_t unavailable = 0;
    for (const TuneSummary::Candidate& c : s.candidates) {
        unavailable += c.round_reached > 0 && c.status != "ok" && !c.status.starts_with("interrupted");
    }
    std::vector<std::string> sizes;
    for (const TuneSummary::Round& r : s.rounds) sizes.push_back(std::to_string(r.candidates));
    out << fmt::format("{} candidates ({} could not run), {} round{}: {} candidates; budget {}, took {}{}\n",
                       s.candidates.size(), unavailable, s.rounds.size(), s.rounds.size() == 1 ? "" : "s",
                       fmt::join(sizes, " -> "), seconds_text(s.budget_s), seconds_text(s.elapsed_s),
                       s.interrupted ? " (interrupted: partial)" : "");
    for (const TuneSummary::Round& r : s.rounds) {
        const std::string calls = r.calls_min == r.calls_max ? std::to_string(r.calls_min)
                                                             : fmt::format("{}-{}", r.calls_min, r.calls_max);
        const bool stopped_here = s.interrupted && &r == &s.rounds.back();
        const std::string cut = stopped_here ? " (interrupted)"
                                : r.fewest_repeats < r.repeat
                                    ? fmt::format(" (cut at its time limit: some ran {})", r.fewest_repeats)
                                    : "";
        out << fmt::format("  round {}: {} candidates, {} calls each in {} interleaved repetitions{}, {}\n", r.round,
                           r.candidates, calls, r.repeat, cut, seconds_text(r.elapsed_s));
    }

    out << "\nPareto frontier of the last round (no other candidate has p50, p99 and Cores all as low, one lower):\n";
    out << fmt::format("  {:<34} {:>9} {:>9}  {:<21} {:>5} {:>9} {:>9}\n", "Design", "p50", "p99",
                       "p99 over repetitions", "Cores", "CPU/call", "Wall/call");
    std::vector<std::string> others;
    std::vector<const TuneSummary::Candidate*> frontier;
    for (const TuneSummary::Candidate& c : s.candidates) {
        if (c.final_round && c.frontier) frontier.push_back(&c);
        else if (c.final_round) others.push_back(c.design);
    }
    std::stable_sort(frontier.begin(), frontier.end(), [](const auto* a, const auto* b) {
        return a->point.cores != b->point.cores ? a->point.cores < b->point.cores : a->point.p99_ns < b->point.p99_ns;
    });
    for (const TuneSummary::Candidate* f : frontier) {
        const TuneSummary::Candidate& c = *f;
        const TunePoint& p = c.point;
        out << fmt::format("  {:<34} {:>9} {:>9}  {:<21} {:>5} {:>9} {:>9}\n", design_text(c), ns_text(p.p50_ns),
                           ns_text(p.p99_ns), fmt::format("{}-{}", ns_text(p.p99.min), ns_text(p.p99.max)),
                           cores_text(p.cores), ns_text(p.cpu_per_call_ns), ns_text(p.wall_per_call_ns));
    }
    if (!others.empty()) out << also_line(others);
    out << "  Cores: (CpuEvtLoop + CpuWorker) / Wall of the median repetition; p50, p99 over every call of every "
           "repetition.\n";

    out << "\nRecommendations (search: its last round, interleaved with the others; confirm: re-run alone):\n";
    for (const TuneSummary::Choice& c : s.recommendations) {
        if (!c.design) {
            out << fmt::format("  {:<38} none\n      {}\n", c.label + ":", c.note);
            continue;
        }
        const auto same = std::find_if(s.recommendations.begin(), s.recommendations.end(),
                                       [&](const TuneSummary::Choice& other) { return other.design == c.design; });
        if (&*same != &c) {
            out << fmt::format("  {:<38} --design {}  (as for {})\n", c.label + ":", *c.design, same->label);
            continue;
        }
        out << fmt::format("  {:<38} --design {}\n", c.label + ":", *c.design);
        out << fmt::format("      search   {}  {} calls x{}\n", figures_text(c.search), c.search_calls,
                           c.search_repeat);
        if (c.confirm) {
            const bool within = p99_within_spread(c.search, *c.confirm);
            out << fmt::format("      confirm  {}  {} calls x{}\n", figures_text(*c.confirm), c.confirm_calls,
                               c.confirm_repeat);
            out << fmt::format("      the confirmation's p99 is {} the search's p99 over its repetitions\n",
                               within ? "within" : "outside");
            if (host_changed(s.floor_after_search_ns, c.confirm_floor_ns)) {
                out << fmt::format("      the floor moved from {} (search) to {} (this run): the host changed; "
                                   "compare within one regime\n",
                                   ns_text(s.floor_after_search_ns), ns_text(c.confirm_floor_ns));
            }
        } else {
            out << fmt::format("      confirm  {}\n", c.note.empty() ? "not run (the search was interrupted)" : c.note);
        }
    }
}

}  // namespace handoff
