// What a call does on the thread that runs it (`--work`).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace handoff {

struct Call;
class ThreadRegistry;

struct Work {
    enum class Kind { none, sleep0, yield, spin, sleep, syscall };

    Kind kind = Kind::none;
    std::chrono::nanoseconds duration{0};  // spin and sleep only

    // "none", "sleep0", "yield", "spin:DUR", "sleep:DUR", "syscall".
    // Throws std::invalid_argument naming what is allowed.
    static Work parse(std::string_view text);
    std::string spec() const;  // the canonical spelling, parse(spec()) == *this

    // Does the work and returns its result for `arg`. Runs on any thread.
    std::uint64_t perform(std::uint64_t arg) const;

    bool operator==(const Work&) const = default;
};

// The value a correct call returns for `arg`: what the loop thread checks.
std::uint64_t expected_result(std::uint64_t arg) noexcept;

// The argument of call number `seq` in a run (varied, so a result delivered
// to the wrong call is caught).
std::uint64_t argument_for(std::uint64_t seq) noexcept;

// Busy-waits until the calling thread has used `budget` of its own CPU time.
void spin_for_thread_cpu(std::chrono::nanoseconds budget);

// Runs a call on the current (worker) thread: notes the thread as a worker,
// records the CPU it ran on, performs the work and stores the result or the
// exception. Never throws. Every target runs calls through this.
class Executor {
public:
    Executor(Work work, ThreadRegistry& registry) : work_(work), registry_(&registry) {}
    void run(Call& call) const noexcept;
    const Work& work() const { return work_; }
    ThreadRegistry& registry() const { return *registry_; }

private:
    Work work_;
    ThreadRegistry* registry_;
};

}  // namespace handoff
