// `handoff compare`: the subcommand's command line.
#pragma once

#include <ostream>

namespace handoff {

// argv[0] is "compare". Returns the exit status: 0, 1 when a gated ratio is
// above --fail-above (or nothing could be gated on), 2 on bad input (a
// one-line message on `err`).
int run_compare(int argc, const char* const argv[], std::ostream& out, std::ostream& err);

}  // namespace handoff
