#include "run/measured_calls.hpp"

#include <vector>

namespace handoff {

void MeasuredCalls::close(ThreadRegistry& registry, double rate_asked) {
    registry.threads_into(workers_);  // reserved in open(): no allocation inside the interval
    const IntervalEdge end = close_interval(start_, workers_);
    measurement_ = measure_interval(start_, end, workers_, delivered + timed_out);
    measurement_->rate_asked = rate_asked;
    measurement_->failed_calls = failed;
    measurement_->timed_out_calls = timed_out;
    measurement_->cancelled_calls = cancelled;
}

void MeasuredCalls::complete() {
    measurement_->latency = latency_;
    measurement_->same_cpu_calls = same_cpu_;
    measurement_->cpu_known_calls = cpu_known_;
    measurement_->late_results = late;
}

}  // namespace handoff
