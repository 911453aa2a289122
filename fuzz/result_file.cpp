// parse_result_text, the reader behind `handoff compare` and `handoff plot`:
// any bytes either parse into rows or are refused with a ResultFileError
// whose message is one non-empty line. A parsed file must have only rows
// with runs (the reader's promise, which compare's arithmetic relies on).
#include <cstddef>
#include <cstdint>
#include <new>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "analysis/result_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    try {
        const handoff::ResultFile file = handoff::parse_result_text(input, "fuzz.json");
        for (const handoff::ResultRow& row : file.rows) {
            if (row.status == "ok" && row.runs.empty()) fuzz::fail("an ok row without runs", input);
        }
    } catch (const handoff::ResultFileError& e) {
        const std::string_view message = e.what();
        if (message.empty()) fuzz::fail("empty message", input);
        if (message.find('\n') != std::string_view::npos) fuzz::fail("message is not one line", input, message);
    } catch (const std::bad_alloc&) {
        // Documented: a hostile size may exhaust memory; libFuzzer's -rss_limit_mb reports it.
    }
    return 0;
}
