#include "cli/progress_line.hpp"

#include <cmath>

#include <fmt/format.h>

namespace handoff {

std::string format_time_left(double seconds) {
    const auto s = static_cast<long long>(std::llround(std::max(0.0, seconds)));
    if (s < 60) return fmt::format("{}s", s);
    if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

std::string format_progress(const SessionProgress& p, double elapsed_s) {
    std::string what = "...";
    if (p.config != nullptr) {
        what = p.config->backend;
        if (const std::string target = p.config->target_name(); target != "-") what += " " + target;
        if (const std::string design = p.config->design_name(); design != "-") what += " " + design;
        if (!p.config->is_floor()) what += " " + p.config->placement.name;
    }
    const double share = p.total_calls ? double(p.done_calls) / double(p.total_calls) : 0.0;
    std::string line = fmt::format("[rep {}/{}] {}  {:.0f}%", p.repetition, p.repeat, what, 100 * share);
    if (p.done_calls > 0 && p.total_calls >= p.done_calls) {
        const double left = elapsed_s / double(p.done_calls) * double(p.total_calls - p.done_calls);
        line += "  ~" + format_time_left(left) + " left";
    }
    return line;
}

ProgressLine::ProgressLine(std::ostream& out, bool enabled)
    : out_(out), enabled_(enabled), start_(std::chrono::steady_clock::now()) {}

void ProgressLine::update(const SessionProgress& progress) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    // At most ~4 Hz, even when repetitions are short: a terminal is slow.
    if (drawn_ && now - last_draw_ < std::chrono::milliseconds(250)) return;
    last_draw_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    out_ << "\r\033[K" << format_progress(progress, elapsed) << std::flush;
    drawn_ = true;
}

void ProgressLine::clear() {
    if (enabled_ && drawn_) out_ << "\r\033[K" << std::flush;
    drawn_ = false;
}

}  // namespace handoff
