// Where a report given to -o/--output goes, and writing it there. A result
// file is either the old file or the whole new one, never a truncated mix: a
// run killed while writing, a full disk or a failing writer leaves the
// previous file as it was. What is not a file (/dev/null, a named pipe,
// standard output) is written through instead, never replaced.
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace handoff {

// What an output path names now, symbolic links followed:
//   nothing yet, or a regular file     file: replaced atomically
//   a symbolic link to a regular file  file: the file it names is replaced
//                                      atomically; the link stays
//   the file standard output writes to standard_output: /dev/stdout, or the
//                                      file stdout was redirected to
//   a character device or a FIFO       stream: written through, once the
//                                      report is whole (/dev/null, a named pipe)
//   anything else                      refused: a directory, a socket, a block
//                                      device, a symbolic link to nothing
struct OutputTarget {
    enum class Kind { file, stream, standard_output };
    Kind kind = Kind::file;
    std::string file;     // Kind::file: the path replaced (a symbolic link's target, resolved)
    std::string problem;  // "" when the path can take a report; else why not, in plain words
};
OutputTarget resolve_output(const std::string& path);

// "" when a report can go to `path` (resolve_output's rules, and for a file
// whether one can be created beside it); otherwise why not, e.g. "No such
// file or directory". Every command checks its -o with this before doing any
// work, so a bad path costs nothing.
std::string check_output(const std::string& path);

// Writes the report to where resolve_output says; "" or why it failed. A
// stream gets the report in one piece once `write` has finished, so a writer
// that fails writes nothing there either.
std::string write_output(const std::string& path, const std::function<void(std::ostream&)>& write);

// "" when a file can be created beside `path` and renamed over it (checked by
// creating and removing a temporary one); otherwise why not. Refuses a path
// that exists and is not a regular file: a rename would replace it.
std::string check_writable(const std::string& path);

// Writes through `write` into a new temporary file in the folder of `path`,
// flushes it to disk and renames it over `path`. Returns "" or why it failed;
// on failure the temporary file is removed and `path` is untouched.
std::string write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

}  // namespace handoff
