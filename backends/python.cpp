// The Python loops: asyncio, asyncio on uvloop, trio, and anyio on each,
// handing calls to a worker thread of their own (dedicated), to their
// framework's thread pool (pool), or awaiting them with no thread (inline).
// python-async-bench's question, asked with the lab's rules.
//
// The loops run in a Python process: one per repetition, started and ended
// outside the measured interval, which the Python side opens and closes on
// its loop thread by the same rules as measurement.cpp (every thread of its
// process read from its own CPU clock at both edges, every result checked on
// the loop thread, the round trips sent back for the lab's histogram). This
// file finds the interpreter and the Python side, says why a framework is
// unavailable, turns a row into a JSON request on the child's stdin and its
// one JSON line on stdout into a ForeignResult, and watches the child
// (progress on fd 3, a stop request, a child that stops answering).
//
// The Python side lives in backends/python/ as plain files, found beside the
// binary rather than embedded in it: its own unittest suite runs the very
// files the binary runs, and they can be read and run by hand as
// python-async-bench's script can. The binary runs from the clone (make
// copies it to the root; build/VARIANT/ holds the originals, two levels
// down), so a path relative to /proc/self/exe finds them from any working
// directory; HANDOFF_PYTHON_DIR names another place.
//
// The interpreter: HANDOFF_PYTHON, else /usr/bin/python3 (Debian's, the one
// with python3-uvloop, -trio and -anyio), else python3 on PATH.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "handoff/backend.hpp"

extern char** environ;

namespace handoff {
namespace {

using Json = nlohmann::json;

// ---- Where things are.

bool is_executable_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

bool is_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// A path, or why there is none.
struct Found {
    std::string path;
    std::string problem;
};

std::string executable_dir() {
    char buffer[4096];
    const ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
    if (n <= 0) return ".";
    std::string exe(buffer, std::size_t(n));
    const std::size_t slash = exe.rfind('/');
    return slash == std::string::npos ? "." : exe.substr(0, slash);
}

constexpr const char* entry_script = "handoff_bench.py";

Found python_side() {
    if (const char* dir = std::getenv("HANDOFF_PYTHON_DIR"); dir != nullptr && *dir != '\0') {
        if (is_file(std::string(dir) + "/" + entry_script)) return {dir, ""};
        return {"", fmt::format("HANDOFF_PYTHON_DIR names {}, which has no {}", dir, entry_script)};
    }
    const std::string exe_dir = executable_dir();
    // ./handoff at the clone's root, or build/VARIANT/handoff(_tests) two levels down.
    const std::string candidates[] = {exe_dir + "/backends/python", exe_dir + "/../../backends/python"};
    for (const std::string& dir : candidates) {
        if (is_file(dir + "/" + entry_script)) return {dir, ""};
    }
    return {"", fmt::format("the Python side is missing: no {} in {} or {} (set HANDOFF_PYTHON_DIR)", entry_script,
                            candidates[0], candidates[1])};
}

Found interpreter() {
    if (const char* named = std::getenv("HANDOFF_PYTHON"); named != nullptr && *named != '\0') {
        if (is_executable_file(named)) return {named, ""};
        return {"", fmt::format("no Python: HANDOFF_PYTHON names {}, which is not an executable file", named)};
    }
    if (is_executable_file("/usr/bin/python3")) return {"/usr/bin/python3", ""};
    if (const char* path = std::getenv("PATH")) {
        std::string_view rest = path;
        while (!rest.empty()) {
            const std::size_t colon = std::min(rest.find(':'), rest.size());
            const std::string candidate = std::string(rest.substr(0, colon)) + "/python3";
            if (colon != 0 && is_executable_file(candidate)) return {candidate, ""};
            rest.remove_prefix(std::min(colon + 1, rest.size()));
        }
    }
    return {"", "no Python: neither /usr/bin/python3 nor python3 on PATH (apt-get install python3, or set "
                "HANDOFF_PYTHON)"};
}

// ---- Running the Python side.

// The last non-empty line of `text` (a traceback's last line names the error).
std::string last_line(const std::string& text) {
    std::size_t end = text.find_last_not_of("\n \t");
    if (end == std::string::npos) return "";
    const std::size_t start = text.rfind('\n', end);
    return text.substr(start == std::string::npos ? 0 : start + 1, end + 1 - (start == std::string::npos ? 0 : start + 1));
}


struct Ran {
    int exit_status = -1;  // -1: killed by a signal
    std::string out;
    std::string err;
    bool stopped = false;  // killed because a stop was requested
    bool silent = false;   // killed because it stopped answering
};

struct Pipe {
    int read = -1;
    int write = -1;
    bool open() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) return false;
        read = fds[0];
        write = fds[1];
        return true;
    }
    static void close_fd(int& fd) {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
    ~Pipe() {
        close_fd(read);
        close_fd(write);
    }
};

struct Watching {
    const std::atomic<bool>* stop_requested = nullptr;
    std::function<void(std::uint64_t)> on_progress;
    std::chrono::milliseconds silence_limit{60000};  // no progress line nor output this long: killed
};

// Runs `interpreter -B script [args]` with `input` on stdin, in its own
// process group (a Ctrl-C at the terminal reaches handoff, which ends the
// child itself) with default signal handling (handoff blocks SIGINT and
// SIGTERM in every thread). Its fd 3 carries progress lines.
Ran run_python(const std::string& python, const std::string& script, const std::vector<std::string>& args,
               const std::string& input, const Watching& watching) {
    Ran ran;
    Pipe in, out, err, progress;
    if (!in.open() || !out.open() || !err.open() || !progress.open()) {
        ran.err = fmt::format("pipe: {}", std::strerror(errno));
        return ran;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in.read, 0);
    posix_spawn_file_actions_adddup2(&actions, out.write, 1);
    posix_spawn_file_actions_adddup2(&actions, err.write, 2);
    posix_spawn_file_actions_adddup2(&actions, progress.write, 3);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

    std::vector<std::string> words{python, "-B", script};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int spawned = posix_spawn(&pid, python.c_str(), &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    Pipe::close_fd(in.read);
    Pipe::close_fd(out.write);
    Pipe::close_fd(err.write);
    Pipe::close_fd(progress.write);
    if (spawned != 0) {
        ran.err = fmt::format("cannot start {}: {}", python, std::strerror(spawned));
        return ran;
    }

    // The request is small (a few hundred bytes): it fits in the pipe.
    std::size_t written = 0;
    while (written < input.size()) {
        const ssize_t n = ::write(in.write, input.data() + written, input.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // the child is gone: its status says why
        written += std::size_t(n);
    }
    Pipe::close_fd(in.write);

    std::string progress_text;
    auto last_sign = std::chrono::steady_clock::now();
    bool killed = false;
    pollfd fds[3] = {{out.read, POLLIN, 0}, {err.read, POLLIN, 0}, {progress.read, POLLIN, 0}};
    std::string* sinks[3] = {&ran.out, &ran.err, &progress_text};
    while (fds[0].fd >= 0 || fds[1].fd >= 0 || fds[2].fd >= 0) {
        const int ready = ::poll(fds, 3, 100);
        if (ready < 0 && errno != EINTR) break;
        for (int i = 0; i < 3 && ready > 0; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            char buffer[65536];
            const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                sinks[i]->append(buffer, std::size_t(n));
                last_sign = std::chrono::steady_clock::now();
            } else if (n == 0 || errno != EINTR) {
                ::close(fds[i].fd);
                fds[i].fd = -1;  // poll ignores negative fds
            }
        }
        // The last whole progress line: the calls delivered so far.
        if (const std::size_t end = progress_text.rfind('\n'); end != std::string::npos) {
            const std::string line = last_line(progress_text.substr(0, end));
            progress_text.erase(0, end + 1);
            if (watching.on_progress && !line.empty()) watching.on_progress(std::strtoull(line.c_str(), nullptr, 10));
        }
        if (killed) continue;
        if (watching.stop_requested != nullptr && watching.stop_requested->load()) {
            ran.stopped = killed = true;
        } else if (std::chrono::steady_clock::now() - last_sign > watching.silence_limit) {
            ran.silent = killed = true;
        }
        if (killed) ::kill(-pid, SIGKILL);
    }
    for (pollfd& p : fds) Pipe::close_fd(p.fd);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ran.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return ran;
}

// ---- What the interpreter can import (asked once per interpreter and place).

struct Probe {
    std::string problem;  // why nothing Python can run
    std::string python;   // "/usr/bin/python3"
    std::string version;  // "3.11.2"
    std::map<std::string, std::string> modules;  // name -> version
    std::map<std::string, std::string> missing;  // name -> the import error
};

// The probe asked for this interpreter and place, if one has been (null:
// nothing has asked yet; `start`: ask now).
const Probe* probe_of(bool start) {
    static std::mutex mutex;
    static std::map<std::pair<std::string, std::string>, Probe> cache;
    const Found python = interpreter();
    const Found side = python_side();
    std::lock_guard lock(mutex);
    const auto key = std::make_pair(python.path + "|" + python.problem, side.path + "|" + side.problem);
    if (const auto it = cache.find(key); it != cache.end()) return &it->second;
    if (!start) return nullptr;
    Probe& p = cache[key];
    p.python = python.path;
    if (!python.problem.empty() || !side.problem.empty()) {
        p.problem = !python.problem.empty() ? python.problem : side.problem;
        return &p;
    }
    const Ran ran = run_python(python.path, side.path + "/" + entry_script, {"--probe"}, "", {});
    try {
        const Json found = Json::parse(last_line(ran.out));
        p.version = found.at("python").get<std::string>();
        for (const auto& [name, version] : found.at("modules").items()) p.modules[name] = version.get<std::string>();
        for (const auto& [name, error] : found.at("missing").items()) p.missing[name] = error.get<std::string>();
    } catch (const std::exception&) {
        const std::string why = last_line(ran.err);
        p.problem = fmt::format("{} cannot run the Python side ({}): {}", python.path, entry_script,
                                why.empty() ? fmt::format("exit status {}", ran.exit_status) : why);
    }
    return &p;
}

const Probe& probe() { return *probe_of(true); }

// ---- The six backends.

struct Framework {
    std::string_view name;
    std::vector<std::string_view> modules;  // besides asyncio, which every Python has
};

const Framework& framework(std::string_view name) {
    static const std::vector<Framework> frameworks = {
        {"asyncio", {}},
        {"uvloop", {"uvloop"}},
        {"trio", {"trio"}},
        {"anyio-asyncio", {"anyio"}},
        {"anyio-uvloop", {"anyio", "uvloop"}},
        {"anyio-trio", {"anyio", "trio"}},
    };
    for (const Framework& f : frameworks) {
        if (f.name == name) return f;
    }
    throw std::logic_error(fmt::format("no Python framework named {}", name));
}

std::optional<std::string> unavailable(std::string_view name) {
    const Probe& p = probe();
    if (!p.problem.empty()) return p.problem;
    for (const std::string_view module : framework(name).modules) {
        if (const auto it = p.missing.find(std::string(module)); it != p.missing.end()) {
            return fmt::format("python3-{} is not installed: {} cannot import {} ({})", module, p.python, module,
                               it->second);
        }
    }
    return std::nullopt;
}

// "Python 3.11.2, trio 0.22.0": the interpreter's version and the modules
// `name` imports, from a probe already made.
std::string modules_of(std::string_view name, const Probe& p) {
    std::string text = "Python " + p.version;
    for (const std::string_view module : framework(name).modules) {
        if (const auto it = p.modules.find(std::string(module)); it != p.modules.end()) {
            text += fmt::format(", {} {}", module, it->second);
        }
    }
    return text;
}

// "Python 3.11.2 (/usr/bin/python3), trio 0.22.0". Only the interpreter's
// path until something has asked it what it has (starting it takes a good
// part of a second, too long for every run's context line): --list and the
// first Python row ask.
std::string version_of(std::string_view name) {
    const Found python = interpreter();
    if (!python.problem.empty()) return "";
    const Probe* p = probe_of(false);
    if (p == nullptr || !p->problem.empty() || p->version.empty()) return python.path;
    std::string text = modules_of(name, *p);
    const std::size_t comma = text.find(',');
    return text.insert(comma == std::string::npos ? text.size() : comma, " (" + python.path + ")");
}

// ---- A row as a request.

std::string_view work_kind(Work::Kind kind) {
    switch (kind) {
        case Work::Kind::none: return "none";
        case Work::Kind::sleep0: return "sleep0";
        case Work::Kind::yield: return "yield";
        case Work::Kind::spin: return "spin";
        case Work::Kind::sleep: return "sleep";
        case Work::Kind::syscall: return "syscall";
    }
    return "none";
}

// The design on the Python side's axes, or why it has no Python analogue.
// (impl= and ring= are refused before, by design_unsupported_reason.)
std::optional<std::string> python_design(const Design& d, Json& out) {
    if (d.queue != Design::Queue::mutex) {
        return std::string("the GIL serialises every Python queue: the Python backends build queue=mutex only "
                           "(a SimpleQueue, or a deque with wait=eventfd)");
    }
    if (d.loop_spin != Design::LoopSpin::none) {
        return std::string("a Python loop polling for results holds the GIL the worker needs to produce them: "
                           "loop-spin= is not built for the Python backends");
    }
    switch (d.wait) {
        case Design::Wait::condvar: out["wait"] = "condvar"; break;
        case Design::Wait::eventfd: out["wait"] = "eventfd"; break;
        case Design::Wait::spin_park:
            out["wait"] = "spin-park";
            out["worker_spin_ns"] = d.worker_spin.count();
            break;
        case Design::Wait::futex:
            return std::string("Python has no futex to wait on: use wait=eventfd (gated the same way)");
        case Design::Wait::spin:
            return std::string("a Python worker that never sleeps holds the GIL the loop needs: use wait=spin-park:DUR");
        case Design::Wait::adaptive:
            return std::string("wait=adaptive is not built for the Python backends: use wait=spin-park:DUR");
    }
    out["name"] = d.name;
    out["wake"] = d.wake == Design::Wake::gated ? "gated" : "always";
    out["batch"] = d.batch;
    return std::nullopt;
}

Json work_json(const Work& work) {
    return {{"kind", work_kind(work.kind)},
            {"duration_ns", work.duration.count()},
            {"fail_share", work.fail_share},
            {"slow_share", work.slow_share},
            {"slow_ns", work.slow_duration.count()}};
}

// A few calls' arguments and results as the C++ side computes them: the
// Python side refuses to run if its own arithmetic disagrees.
Json check_vectors(const Work& work) {
    Json vectors = Json::array();
    for (const std::uint64_t seq : {0ULL, 1ULL, 2ULL, 12345ULL, 0xffffffffULL}) {
        const std::uint64_t arg = argument_for(seq);
        vectors.push_back({seq, arg, expected_result(arg), work.must_fail(arg)});
    }
    return vectors;
}

ForeignResult failed(std::string reason, ForeignResult::Status status = ForeignResult::Status::failed) {
    ForeignResult result;
    result.status = status;
    result.reason = std::move(reason);
    return result;
}

ForeignResult read_result(const Json& r, const std::string& versions) {
    // versions: "Python 3.11.2, trio 0.22.0", added to the mechanism.
    ForeignResult result;
    if (!r.value("ok", false)) {
        result.status = ForeignResult::Status::failed;
        result.errors = r.value("errors", std::uint64_t{0});
        result.reason = r.value("error", std::string("the Python side failed without a reason"));
        return result;
    }
    result.status = ForeignResult::Status::ok;
    result.mechanism = r.at("mechanism").get<std::string>() + "; " + versions;
    result.calls = r.at("calls").get<std::uint64_t>();
    result.wall_ns = r.at("wall_ns").get<std::int64_t>();
    result.cpu_total_ns = r.at("cpu_total_ns").get<std::int64_t>();
    result.cpu_loop_ns = r.at("cpu_loop_ns").get<std::int64_t>();
    result.cpu_worker_ns = r.at("cpu_worker_ns").get<std::int64_t>();
    const auto switches = [&](const char* key) {
        const Json& pair = r.at(key);
        return ContextSwitches{pair.at(0).get<std::uint64_t>(), pair.at(1).get<std::uint64_t>()};
    };
    result.loop_switches = switches("loop_switches");
    result.worker_switches = switches("worker_switches");
    result.same_cpu_calls = r.at("same_cpu_calls").get<std::uint64_t>();
    result.cpu_known_calls = r.at("cpu_known_calls").get<std::uint64_t>();
    result.failed_calls = r.at("failed_calls").get<std::uint64_t>();
    result.worker_threads = r.at("worker_threads").get<unsigned>();
    result.latencies_ns = r.at("latencies_ns").get<std::vector<std::int64_t>>();
    result.cpu_total_caveat = r.value("cpu_total_caveat", std::string());
    if (result.latencies_ns.size() != result.calls) {
        return failed(fmt::format("the Python side sent {} round trips for {} calls", result.latencies_ns.size(),
                                  result.calls));
    }
    return result;
}

ForeignResult run_row(std::string_view name, const ForeignRequest& request) {
    if (const auto reason = unavailable(name)) return failed(*reason, ForeignResult::Status::unsupported);
    Json design = Json::object();
    if (!request.inline_calls && request.target == TargetKind::dedicated && request.design != nullptr) {
        if (const auto reason = python_design(*request.design, design)) {
            return failed(fmt::format("{}: {}", name, *reason), ForeignResult::Status::unsupported);
        }
    }
    const Json body = {
        {"framework", name},
        {"target", request.inline_calls ? "inline" : std::string(to_string(request.target))},
        {"design", design},
        {"work", work_json(*request.work)},
        {"calls", request.calls},
        {"warmup", request.warmup},
        {"inflight", request.inflight},
        {"threads", request.threads},
        {"loop_cpu", request.loop_cpu},
        {"worker_cpu", request.worker_cpu},
        {"pool_cpus", request.pool_cpus},
        {"stall_timeout_ms", request.stall_timeout.count()},
        {"check", check_vectors(*request.work)},
        {"rate", request.rate},
        {"arrival", request.poisson ? "poisson" : "fixed"},
        {"seed", request.seed},
        {"arrival_check", request.arrival_check},
    };
    const Found python = interpreter();
    const Found side = python_side();
    Watching watching;
    watching.stop_requested = request.stop_requested;
    watching.on_progress = request.on_progress;
    // The Python side's own watchdog reports a stall; this one catches a
    // process that stopped answering altogether (its imports included).
    watching.silence_limit = request.stall_timeout + std::chrono::seconds(30);
    const Ran ran = run_python(python.path, side.path + "/" + entry_script, {"--progress-fd", "3"}, body.dump(),
                               watching);
    if (ran.stopped) return failed("interrupted", ForeignResult::Status::interrupted);
    if (ran.silent) {
        return failed(fmt::format("the Python side said nothing for {} s and was stopped",
                                  watching.silence_limit.count() / 1000));
    }
    const std::string line = last_line(ran.out);
    if (ran.exit_status != 0 || line.empty()) {
        const std::string why = last_line(ran.err);
        return failed(fmt::format("the Python side failed (exit status {}): {}", ran.exit_status,
                                  why.empty() ? std::string("no message") : why));
    }
    try {
        return read_result(Json::parse(line), modules_of(name, probe()));
    } catch (const std::exception& e) {
        return failed(fmt::format("the Python side's result is unreadable: {}", e.what()));
    }
}

template <const char* Name>
struct Entry {
    static std::optional<std::string> unavailable_reason() { return unavailable(Name); }
    static std::string library_version() { return version_of(Name); }
    static ForeignResult run(const ForeignRequest& request) { return run_row(Name, request); }
};

constexpr char asyncio_name[] = "asyncio";
constexpr char uvloop_name[] = "uvloop";
constexpr char trio_name[] = "trio";
constexpr char anyio_asyncio_name[] = "anyio-asyncio";
constexpr char anyio_uvloop_name[] = "anyio-uvloop";
constexpr char anyio_trio_name[] = "anyio-trio";

template <const char* Name>
constexpr Backend python_backend(std::string_view description) {
    return Backend{.name = Name,
                   .description = description,
                   .unavailable_reason = &Entry<Name>::unavailable_reason,
                   .library_version = &Entry<Name>::library_version,
                   .make_loop = nullptr,
                   .capabilities = {},
                   .family = "python",
                   .run_foreign = &Entry<Name>::run};
}

}  // namespace

extern const Backend asyncio_backend = python_backend<asyncio_name>(
    "Python asyncio (selector loop, self-pipe wake), in a Python process");
extern const Backend uvloop_backend = python_backend<uvloop_name>(
    "Python asyncio on uvloop (libuv), in a Python process");
extern const Backend trio_backend = python_backend<trio_name>("Python trio, in a Python process");
extern const Backend anyio_asyncio_backend = python_backend<anyio_asyncio_name>(
    "Python anyio on asyncio, in a Python process");
extern const Backend anyio_uvloop_backend = python_backend<anyio_uvloop_name>(
    "Python anyio on asyncio with uvloop, in a Python process");
extern const Backend anyio_trio_backend = python_backend<anyio_trio_name>(
    "Python anyio on trio, in a Python process");

}  // namespace handoff
