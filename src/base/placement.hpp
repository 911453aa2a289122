// Placement: which CPU the loop thread, the dedicated worker and pool threads
// run on (`--placement`, `--pin`). On a virtual machine a blocking round trip
// costs ~2 us when both ends share a CPU and ~60 us when they do not, so where
// threads run is part of every configuration.
//
// Parsing and validation happen once, on the command line; applying is one
// sched_setaffinity per thread when it starts (or first runs a call). Nothing
// here is on the per-call path.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace handoff {

// Parses the kernel's CPU-list format, as in /sys/devices/system/cpu/online:
// numbers and inclusive ranges joined by commas ("0-3,8,10-11"). Surrounding
// whitespace (the file's trailing newline) is ignored. Returns the CPUs sorted,
// without duplicates. Throws std::invalid_argument on anything else.
std::vector<int> parse_cpu_list(std::string_view text);

// The CPUs that are online: /sys/devices/system/cpu/online, or the process's
// affinity mask when that file cannot be read. Sorted; never empty.
std::vector<int> online_cpus();

// The shortest spelling in the same format: {0,1,4} -> "0-1,4". `separator`
// joins the groups: ',' for the kernel's format, '+' for --pin's pool=.
std::string format_cpu_list(const std::vector<int>& cpus, char separator = ',');

struct Placement {
    std::string name = "free";  // "free", "same", "split", or "pinned" for --pin
    int loop_cpu = -1;          // -1: not pinned, the scheduler decides
    int worker_cpu = -1;        // the dedicated worker; -1: not pinned
    std::vector<int> pool_cpus; // every pool thread may run on all of these; empty: not pinned

    bool operator==(const Placement&) const = default;
};

// --placement: "free" (nothing pinned), "same" (loop, worker and pool on the
// first online CPU), "split" (loop on the first online CPU, worker on the
// second, pool on every online CPU but the loop's; needs two online CPUs).
// Throws std::invalid_argument with a one-line message.
Placement parse_placement(std::string_view shorthand, const std::vector<int>& online);

// --pin: comma-separated KEY=VALUE, each key at most once, any subset of
//   loop=CPU     worker=CPU     pool=CPUS
// where CPUS is a CPU, a range "0-1", or several joined by '+' ("0+2",
// "0-1+4"); '+' because the comma already separates keys. A key left out is
// not pinned. Every CPU must be online: otherwise the message is
// "CPU 5 is not online; online CPUs: 0-1". Throws std::invalid_argument.
Placement parse_pin(std::string_view spec, const std::vector<int>& online);

// For reports: "free", "same (loop 0, worker 0, pool 0)",
// "split (loop 0, worker 1, pool 1)", "pinned (loop 0, worker 1, pool 0-1)".
// Only pinned roles are listed; pool CPUs are spelled as in --pin.
std::string describe(const Placement& placement);

// The --pin spec that reproduces the placement's pinning ("loop=0,worker=1,pool=1");
// empty for a placement that pins nothing. parse_pin(pin_spec(p)) pins the same CPUs.
std::string pin_spec(const Placement& placement);

// Pins the calling thread to `cpu` (sched_setaffinity). -1 leaves it alone and
// succeeds. On failure returns false and, if `error` is given, sets it to
// "cannot pin to CPU 5: Invalid argument".
bool pin_current_thread(int cpu, std::string* error = nullptr);

// Lets the calling thread run on any of `cpus` (pool threads). Empty leaves it
// alone and succeeds. Failure as for pin_current_thread.
bool pin_current_thread_to_set(const std::vector<int>& cpus, std::string* error = nullptr);

// The calling thread's affinity mask, sorted (for checks and reports).
std::vector<int> current_thread_affinity();

}  // namespace handoff
