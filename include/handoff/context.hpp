// Where and how a run happened: kept with every result.
#pragma once

#include <map>
#include <string>

namespace handoff {

struct RunContext {
    std::string command_line;
    std::string date;         // UTC, ISO 8601
    std::string host;
    std::string cpu_model;
    unsigned online_cpus = 0;
    std::string kernel;
    std::string lab_version;
    std::map<std::string, std::string> libraries;  // name -> version found at run time
};

RunContext collect_context(int argc, const char* const argv[]);

}  // namespace handoff
