// `handoff tune`: the subcommand's command line, over the search in
// analysis/tune_search.hpp.
#pragma once

#include <ostream>

namespace handoff {

// argv[0] is "tune". Returns the exit status: 0; 1 when no candidate could
// be measured or -o could not be written; 2 on bad input (a one-line message
// on `err`); 128 + the signal when interrupted.
int run_tune(int argc, const char* const argv[], std::ostream& out, std::ostream& err);

}  // namespace handoff
