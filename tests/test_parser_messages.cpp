// What fuzzing the parsers found (fuzz/): a rejected input is quoted in the
// message, and a newline or other control character typed into an argument
// used to break the one-line message; and a design's leftover spin budget
// made equal designs compare unequal and describe() fail to round-trip.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "handoff/design.hpp"
#include "base/duration.hpp"
#include "base/placement.hpp"
#include "handoff/work.hpp"
#include "base/printable.hpp"

namespace handoff {
namespace {

template <class Parse>
std::string message_of(Parse&& parse) {
    try {
        parse();
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    ADD_FAILURE() << "accepted";
    return {};
}

void expect_one_line_with_escape(const std::string& message) {
    EXPECT_FALSE(message.empty());
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_EQ(message.find('\r'), std::string::npos) << message;
    EXPECT_NE(message.find("\\n"), std::string::npos) << message;  // shown, not dropped
}

TEST(ParserMessages, PrintableEscapesControlCharactersOnly) {
    EXPECT_EQ(printable("spin:5us"), "spin:5us");
    EXPECT_EQ(printable("a\nb\tc\rd"), "a\\nb\\tc\\rd");
    EXPECT_EQ(printable(std::string_view("\x01\x7f", 2)), "\\x01\\x7f");
    EXPECT_EQ(printable(std::string_view("x\0y", 3)), "x\\x00y");
    EXPECT_EQ(printable("µs"), "µs");  // UTF-8 is kept as typed
}

TEST(ParserMessages, ANewlineInTheInputStaysEscapedInOneLine) {
    expect_one_line_with_escape(message_of([] { parse_duration("5\nus"); }));
    expect_one_line_with_escape(message_of([] { Work::parse("spin:\n"); }));
    expect_one_line_with_escape(message_of([] { Work::parse("bogus\n"); }));
    expect_one_line_with_escape(message_of([] { parse_design("futex\n"); }));
    expect_one_line_with_escape(message_of([] { parse_design("classic,wait=\n"); }));
    expect_one_line_with_escape(message_of([] { parse_design("classic,x\n=1"); }));
    expect_one_line_with_escape(message_of([] { parse_design("classic,\n"); }));
    expect_one_line_with_escape(message_of([] { parse_cpu_list("0,\n1"); }));
    expect_one_line_with_escape(message_of([] { parse_pin("loop=0\n", {0, 1}); }));
    expect_one_line_with_escape(message_of([] { parse_pin("lo\nop=0", {0, 1}); }));
    expect_one_line_with_escape(message_of([] { parse_pin("pool=0+\n", {0, 1}); }));
    expect_one_line_with_escape(message_of([] { parse_pin("\n", {0, 1}); }));
    expect_one_line_with_escape(message_of([] { parse_placement("same\n", {0, 1}); }));
}

TEST(ParserMessages, ALaterAxisDropsTheSpinBudgetOfAnEarlierOne) {
    const Design futex = parse_design("spin-park:5us,wait=futex");
    EXPECT_EQ(futex.wait, Design::Wait::futex);
    EXPECT_EQ(futex.worker_spin, std::chrono::nanoseconds(0));
    EXPECT_EQ(futex.loop_spin_budget, std::chrono::microseconds(5));  // loop-spin was not overridden
    const Design no_spin = parse_design("loop-spin=5us,loop-spin=0");
    EXPECT_EQ(no_spin.loop_spin, Design::LoopSpin::none);
    EXPECT_EQ(no_spin.loop_spin_budget, std::chrono::nanoseconds(0));
    for (const char* spec : {"spin-park:5us,wait=futex", "loop-spin=5us,loop-spin=adaptive",
                             "wait=spin-park:1ms,wait=spin-park:3us", "spin-park:7us,loop-spin=forever"}) {
        Design d = parse_design(spec);
        Design again = parse_design(d.describe());
        again.name = d.name;
        EXPECT_EQ(again, d) << spec << " -> " << d.describe();
    }
}

}  // namespace
}  // namespace handoff
