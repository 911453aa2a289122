// Writing a result file so that it is either the old file or the whole new
// one, never a truncated mix: a run killed while writing, a full disk or a
// failing writer leaves the previous file as it was.
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace handoff {

// "" when a file can be created beside `path` and renamed over it (checked by
// creating and removing a temporary one); otherwise why not, e.g. "No such
// file or directory". Run before any configuration, so a bad path costs
// nothing.
std::string check_writable(const std::string& path);

// Writes through `write` into a new temporary file in the folder of `path`,
// flushes it to disk and renames it over `path`. Returns "" or why it failed;
// on failure the temporary file is removed and `path` is untouched.
std::string write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

}  // namespace handoff
