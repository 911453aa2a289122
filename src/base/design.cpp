#include "handoff/design.hpp"

#include <fmt/format.h>

#include "base/duration.hpp"
#include "base/printable.hpp"
#include "base/text.hpp"

namespace handoff {
namespace {

[[noreturn]] void bad(std::string_view what, std::string_view allowed) {
    throw std::invalid_argument(fmt::format("{}: expected {}", what, allowed));
}

std::chrono::nanoseconds duration_of(std::string_view key, std::string_view text) {
    try {
        return parse_duration(text);
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(fmt::format("{}: {}", key, e.what()));
    }
}

void apply(Design& d, std::string_view key, std::string_view value) {
    const auto wrong = [&](std::string_view allowed) {
        bad(fmt::format("unknown {} {}", key, quote(value)), allowed);
    };
    // A budget belongs to the value that has one: a later wait= or loop-spin=
    // drops it, so equal behaviour compares equal and describe() round-trips
    // ("spin-park:5us,wait=futex" is futex with no spin budget left over).
    if (key == "wait") d.worker_spin = {};
    if (key == "loop-spin") d.loop_spin_budget = {};
    if (key == "queue") {
        if (value == "mutex") d.queue = Design::Queue::mutex;
        else if (value == "spsc") d.queue = Design::Queue::spsc;
        else if (value == "inplace") d.queue = Design::Queue::inplace;
        else wrong("mutex, spsc or inplace");
    } else if (key == "wait") {
        if (value == "condvar") d.wait = Design::Wait::condvar;
        else if (value == "futex") d.wait = Design::Wait::futex;
        else if (value == "eventfd") d.wait = Design::Wait::eventfd;
        else if (value == "spin") d.wait = Design::Wait::spin;
        else if (value == "adaptive") d.wait = Design::Wait::adaptive;
        else if (value.starts_with("spin-park:")) {
            d.wait = Design::Wait::spin_park;
            d.worker_spin = duration_of("wait=spin-park", value.substr(10));
        } else wrong("condvar, futex, eventfd, spin, spin-park:DUR or adaptive");
    } else if (key == "wake") {
        if (value == "always") d.wake = Design::Wake::always;
        else if (value == "gated") d.wake = Design::Wake::gated;
        else wrong("always or gated");
    } else if (key == "loop-spin") {
        if (value == "0" || value == "none") d.loop_spin = Design::LoopSpin::none;
        else if (value == "adaptive") d.loop_spin = Design::LoopSpin::adaptive;
        else if (value == "forever") d.loop_spin = Design::LoopSpin::forever;
        else {
            d.loop_spin = Design::LoopSpin::fixed;
            d.loop_spin_budget = duration_of("loop-spin", value);
        }
    } else if (key == "batch") {
        if (value == "on") d.batch = true;
        else if (value == "off") d.batch = false;
        else wrong("on or off");
    } else if (key == "defer" || key == "hold") {
        (key == "defer" ? d.defer : d.hold) = value == "0" ? std::chrono::nanoseconds{0} : duration_of(key, value);
    } else if (key == "ring") {
        if (value == "eventfd") d.ring = Design::Ring::eventfd;
        else if (value == "msg-ring") d.ring = Design::Ring::msg_ring;
        else if (value == "futex") d.ring = Design::Ring::futex;
        else wrong("eventfd, msg-ring or futex");
    } else if (key == "impl") {
        if (value == "lab") d.impl = Design::Impl::lab;
        else if (value == "native") d.impl = Design::Impl::native;
        else wrong("lab or native");
    } else {
        bad(fmt::format("unknown design key {}", quote(key)),
            "queue, wait, wake, loop-spin, batch, defer, hold, ring or impl (see --design list)");
    }
}

const DesignPreset* find_preset(std::string_view name) {
    for (const DesignPreset& preset : design_presets()) {
        if (preset.name == name) return &preset;
    }
    return nullptr;
}

}  // namespace

const std::vector<DesignPreset>& design_presets() {
    static const std::vector<DesignPreset> presets = {
        {"classic", "queue=mutex,wait=condvar,wake=always,loop-spin=0,batch=off",
         "mutex FIFO, worker sleeps on a condvar, every result wakes the loop (python-async-bench's shape)"},
        {"futex-gated", "queue=inplace,wait=futex,wake=gated,loop-spin=0,batch=on",
         "calls in place; each side makes a wake syscall only when the other has published it sleeps"},
        {"eventfd", "queue=inplace,wait=eventfd,wake=gated,loop-spin=0,batch=on",
         "calls in place; the worker blocks reading an eventfd, written only when it sleeps"},
        {"inplace", "queue=inplace,wait=spin,wake=gated,loop-spin=forever,batch=on",
         "both sides spin on the call's own cache line, one line each way: the floor's mechanism"},
        {"spin", "queue=spsc,wait=spin,wake=gated,loop-spin=forever,batch=on",
         "both sides spin, calls through a lock-free ring: inplace plus what a queue costs"},
        {"spin-park:2us", "queue=inplace,wait=spin-park:2us,wake=gated,loop-spin=2us,batch=on",
         "calls in place; both sides spin 2us for the other, then sleep (futex / the loop's wait)"},
        {"adaptive", "queue=inplace,wait=adaptive,wake=gated,loop-spin=adaptive,batch=on",
         "calls in place; spin budgets follow the waits seen, spinning stops where it cannot help (one CPU)"},
        {"native", "impl=native",
         "the backend's own machinery both ways: asio a second io_context, uv a second loop + uv_async"},
    };
    return presets;
}

Design parse_design(std::string_view spec) {
    if (spec.empty()) bad("empty design", "a preset (see --design list) or key=value pairs");
    Design design;
    const std::vector<std::string_view> parts = split(spec, ',');
    std::size_t first = 0;
    if (parts[0].find('=') == std::string_view::npos) {
        const DesignPreset* preset = find_preset(parts[0]);
        // "spin-park:DUR" is a family: any budget.
        if (preset == nullptr && parts[0].starts_with("spin-park:")) {
            design = parse_design(fmt::format("spin-park:2us,wait={},loop-spin={}", parts[0],
                                              parts[0].substr(10)));
        } else if (preset == nullptr) {
            std::string names;
            for (const DesignPreset& p : design_presets()) names += fmt::format("{}{}", names.empty() ? "" : ", ", p.name);
            bad(fmt::format("unknown design {}", quote(parts[0])), fmt::format("a preset ({}, spin-park:DUR) or key=value pairs", names));
        } else {
            for (std::string_view pair : split(preset->spec, ',')) {
                const std::size_t eq = pair.find('=');
                apply(design, pair.substr(0, eq), pair.substr(eq + 1));
            }
        }
        first = 1;
    }
    for (std::size_t i = first; i < parts.size(); ++i) {
        const std::size_t eq = parts[i].find('=');
        if (eq == std::string_view::npos || eq == 0) {
            bad(fmt::format("{} in design {}", quote(parts[i]), quote(spec)), "key=value after the preset");
        }
        apply(design, parts[i].substr(0, eq), parts[i].substr(eq + 1));
    }
    // Combinations that would lose a wake: refused here, whatever the backend.
    if (design.impl == Design::Impl::lab && design.defer.count() != 0 && design.wake != Design::Wake::gated) {
        bad(fmt::format("defer= in design {}", quote(spec)), "wake=gated with it (a deferred result is one the loop "
                                                               "was not told of)");
    }
    if (design.impl == Design::Impl::lab && design.hold.count() != 0 &&
        (design.wait == Design::Wait::spin || design.loop_spin == Design::LoopSpin::forever)) {
        bad(fmt::format("hold= in design {}", quote(spec)),
            "a worker that sleeps and a loop that does (not wait=spin, not loop-spin=forever)");
    }
    design.name = std::string(spec);
    return design;
}

std::string Design::describe() const {
    if (impl == Impl::native) return "impl=native";
    const auto wait_text = [&]() -> std::string {
        switch (wait) {
            case Wait::condvar: return "condvar";
            case Wait::futex: return "futex";
            case Wait::eventfd: return "eventfd";
            case Wait::spin: return "spin";
            case Wait::spin_park: return "spin-park:" + format_duration(worker_spin);
            case Wait::adaptive: return "adaptive";
        }
        return "?";
    };
    const auto queue_text = [&]() -> std::string_view {
        switch (queue) {
            case Queue::mutex: return "mutex";
            case Queue::spsc: return "spsc";
            case Queue::inplace: return "inplace";
        }
        return "?";
    };
    const auto loop_spin_text = [&]() -> std::string {
        switch (loop_spin) {
            case LoopSpin::none: return "0";
            case LoopSpin::fixed: return format_duration(loop_spin_budget);
            case LoopSpin::adaptive: return "adaptive";
            case LoopSpin::forever: return "forever";
        }
        return "?";
    };
    std::string text = fmt::format("queue={},wait={},wake={},loop-spin={},batch={}",
                                   queue_text(), wait_text(),
                                   wake == Wake::gated ? "gated" : "always", loop_spin_text(), batch ? "on" : "off");
    if (defer.count() != 0) text += ",defer=" + format_duration(defer);
    if (hold.count() != 0) text += ",hold=" + format_duration(hold);
    if (ring != Ring::eventfd) text += ring == Ring::msg_ring ? ",ring=msg-ring" : ",ring=futex";
    return text;
}

}  // namespace handoff
