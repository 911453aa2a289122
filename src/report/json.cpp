#include <nlohmann/json.hpp>

#include "report/report.hpp"
#include "report/figures.hpp"

namespace handoff {
namespace {

using report_detail::NamedField;
using Json = nlohmann::ordered_json;  // keys in the documented order, not sorted

Json to_json(const report_detail::Field& field) {
    return std::visit(
        [](const auto& value) -> Json {
            using T = std::decay_t<decltype(value)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
                return nullptr;
            } else if constexpr (std::is_same_v<T, report_detail::WordList>) {
                return value.words();
            } else {
                return value;
            }
        },
        field);
}

Json to_json(const std::vector<NamedField>& fields) {
    Json object = Json::object();
    for (const NamedField& field : fields) object[std::string(field.key)] = to_json(field.value);
    return object;
}

Json to_json(const RunContext& c) {
    Json libraries = Json::object();
    for (const auto& [name, version] : c.libraries) libraries[name] = version;
    return Json{
        {"command_line", c.command_line},
        {"date", c.date},
        {"host", c.host},
        {"cpu_model", c.cpu_model},
        {"online_cpus", c.online_cpus},
        {"online_cpu_list", c.online_cpu_list},
        {"kernel", c.kernel},
        {"virtualization", c.virtualization},
        {"clocksource", c.clocksource},
        {"cpu_governor", c.cpu_governor},
        {"cpu_boost", c.cpu_boost},
        {"cpuidle", c.cpuidle},
        {"timer_slack_ns", c.timer_slack_ns},
        {"io_uring", c.io_uring},
        {"load_average", c.load_average},
        {"lab_version", c.lab_version},
        {"git_commit", c.git_commit},
        {"compiler", c.compiler},
        {"build_flags", c.build_flags},
        {"libraries", std::move(libraries)},
    };
}

Json to_json(const RowResult& row, const Report& report) {
    Json result = to_json(report_detail::flat_fields(row, report_detail::baseline_of(report.rows, row)));
    Json runs = Json::array();
    if (report_detail::has_figures(row)) {
        for (const Measurement& run : row.runs) runs.push_back(to_json(report_detail::run_fields(run)));
    }
    result["runs"] = std::move(runs);
    return result;
}

}  // namespace

void write_json(std::ostream& out, const Report& report) {
    Json results = Json::array();
    for (const RowResult& row : report.rows) results.push_back(to_json(row, report));
    const Json document{
        {"schema", "handoff/1"},
        {"partial", report.partial},
        {"context", to_json(report.context)},
        {"results", std::move(results)},
    };
    // Replace, not throw, on invalid UTF-8: a reason or host name must not lose the report.
    out << document.dump(2, ' ', false, Json::error_handler_t::replace) << '\n';
}

}  // namespace handoff
