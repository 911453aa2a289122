// The awaiting side's bookkeeping: the fixed window of in-flight calls and the
// check of every result. Runs on the loop thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "handoff/call.hpp"

namespace handoff {

class CallWindow {
public:
    explicit CallWindow(std::uint32_t slots);

    // Prepares the call in `slot` as call number `seq`, sent at `now_ns`
    // (CLOCK_MONOTONIC), and marks it in flight.
    Call& prepare(std::uint32_t slot, std::uint64_t seq, std::int64_t now_ns);

    // Checks a delivered call: it must be in flight (not delivered twice) and
    // carry the right result. Returns false and records the first error.
    bool settle(Call& call);

    std::uint32_t in_flight() const { return in_flight_; }
    std::uint64_t errors() const { return errors_; }
    const std::string& first_error() const { return first_error_; }

    // Sequence numbers still in flight, for a message about lost calls.
    std::string describe_outstanding(std::size_t at_most = 8) const;

private:
    void error(std::string message);

    std::vector<Call> calls_;
    std::vector<bool> busy_;
    std::uint32_t in_flight_ = 0;
    std::uint64_t errors_ = 0;
    std::string first_error_;
};

}  // namespace handoff
