// One updating line on a terminal: which configuration runs, its repetition,
// how much of the session is done and about how long is left.
#pragma once

#include <chrono>
#include <ostream>
#include <string>

#include "run/session.hpp"

namespace handoff {

// The line's text (no control characters): "[rep 2/5] epoll dedicated free  43%  ~2m10s left".
// Time left is the elapsed time per delivered call times the calls to go;
// none before the first call.
std::string format_progress(const SessionProgress& progress, double elapsed_s);

// "45s", "2m10s", "1h05m".
std::string format_time_left(double seconds);

class ProgressLine {
public:
    // Draws nothing unless `enabled` (stderr is a terminal).
    ProgressLine(std::ostream& out, bool enabled);
    // Redraws at most about four times a second.
    void update(const SessionProgress& progress);
    // Erases the line, so the report starts on a clean one.
    void clear();

private:
    std::ostream& out_;
    bool enabled_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace handoff
