#include "run/configuration.hpp"

#include "base/duration.hpp"

namespace handoff {

std::string Configuration::target_name() const {
    return is_inline() || is_floor() ? "-" : std::string(to_string(target));
}

std::string Configuration::design_name() const {
    std::string name = !is_inline() && !is_floor() && target == TargetKind::dedicated ? design.name : "-";
    // A row with --timeout sits beside the same row without: the name tells them apart.
    if (timeout.count() != 0) name = (name == "-" ? "" : name + ",") + "timeout=" + format_duration(timeout);
    // So does a row awaited by coroutines beside the same row's callbacks
    // (callback rows keep their names: earlier results stay comparable).
    if (await_mode == AwaitMode::coroutine) name = (name == "-" ? "" : name + ",") + "await=coroutine";
    return name;
}

std::string_view to_string(RowKind kind) {
    switch (kind) {
        case RowKind::handoff: return "handoff";
        case RowKind::inline_calls: return "inline";
        case RowKind::floor: return "floor";
    }
    return "?";
}

Configuration Configuration::reference(RowKind kind, Configuration like) {
    like.kind = kind;
    like.backend = std::string(to_string(kind));
    return like;
}

std::string_view to_string(ArrivalKind kind) {
    return kind == ArrivalKind::poisson ? "poisson" : "fixed";
}

std::string_view to_string(AwaitMode mode) {
    return mode == AwaitMode::coroutine ? "coroutine" : "callback";
}

std::string_view to_string(RowStatus status) {
    switch (status) {
        case RowStatus::ok: return "ok";
        case RowStatus::failed: return "failed";
        case RowStatus::unavailable: return "unavailable";
        case RowStatus::interrupted: return "interrupted";
    }
    return "?";
}

}  // namespace handoff
