// Runs gnuplot as a child process with a script on its standard input; no
// shell is involved, so nothing in the script or a path is ever a command line.
#pragma once

#include <string>

namespace handoff {

struct GnuplotOutcome {
    bool started = false;  // false: gnuplot could not be run (see error)
    int exit_status = -1;  // gnuplot's exit status; -1 when killed by a signal
    std::string error;     // why it could not be started (strerror)
};

// Runs `program` (looked up on PATH, normally "gnuplot") reading `script`
// on stdin. gnuplot's own messages go to this process's stderr.
GnuplotOutcome run_gnuplot(const std::string& program, const std::string& script);

}  // namespace handoff
