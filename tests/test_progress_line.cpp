// The progress line's text, and that it stays silent off a terminal.
#include <gtest/gtest.h>

#include <sstream>

#include "cli/progress_line.hpp"

namespace handoff {
namespace {

TEST(ProgressLine, ShowsConfigurationRepetitionShareAndTimeLeft) {
    Configuration config;
    config.backend = "epoll";
    config.target = TargetKind::dedicated;
    config.design.name = "classic";
    config.placement.name = "free";
    SessionProgress p;
    p.config = &config;
    p.repetition = 2;
    p.repeat = 5;
    p.done_calls = 250;
    p.total_calls = 1000;
    // 10 s for 250 calls: 750 to go take 30 s.
    EXPECT_EQ(format_progress(p, 10.0), "[rep 2/5] epoll dedicated classic free  25%  ~30s left");
    p.done_calls = 0;
    EXPECT_EQ(format_progress(p, 0.0), "[rep 2/5] epoll dedicated classic free  0%");
}

TEST(ProgressLine, TimeLeftReadsAtAGlance) {
    EXPECT_EQ(format_time_left(0.4), "0s");
    EXPECT_EQ(format_time_left(59), "59s");
    EXPECT_EQ(format_time_left(130), "2m10s");
    EXPECT_EQ(format_time_left(3900), "1h05m");
}

TEST(ProgressLine, DrawsOnATerminalOnly) {
    Configuration config;
    config = Configuration::reference(RowKind::inline_calls, config);
    SessionProgress p;
    p.config = &config;
    p.repetition = 1;
    p.total_calls = 10;
    std::ostringstream quiet;
    ProgressLine off(quiet, false);
    off.update(p);
    off.clear();
    EXPECT_EQ(quiet.str(), "");

    std::ostringstream tty;
    ProgressLine on(tty, true);
    on.update(p);
    on.update(p);  // within 250 ms: not redrawn
    on.clear();
    EXPECT_EQ(tty.str(), "\r\033[K[rep 1/1] inline free  0%\r\033[K");
}

}  // namespace
}  // namespace handoff
