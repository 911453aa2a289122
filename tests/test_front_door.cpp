// The front door follows the conventions of hyperfine, perf and Google
// Benchmark: help for every command, each option's kind in --help, the last
// value of an option given twice, -o meaning --output everywhere, and an
// output path that is not a plain file written through or refused, never
// replaced. The real binary, through run_binary.hpp.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "handoff/work.hpp"
#include "run_binary.hpp"

namespace {

using test_support::Ran;
using test_support::run;
using test_support::slurp;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A short run: two rows (inline, epoll dedicated), a few milliseconds.
const std::string quick = "--count 20 --repeat 1 --warmup 0 --work none --backend epoll --target dedicated --no-floor ";

// Refused with one line naming `option` and status 2, nothing on stdout.
void expect_refused(const std::string& args, const std::string& part) {
    const Ran ran = run(args);
    EXPECT_EQ(ran.status, 2) << args << "\n" << ran.err;
    EXPECT_EQ(std::count(ran.err.begin(), ran.err.end(), '\n'), 1) << args << "\n" << ran.err;
    EXPECT_TRUE(has(ran.err, part)) << args << "\n" << ran.err;
    EXPECT_TRUE(ran.out.empty()) << args << "\n" << ran.out;
}

// A fresh folder per test, removed with what is in it.
struct Folder {
    std::string path;
    Folder() {
        std::string pattern = testing::TempDir() + "handoff_front_XXXXXX";
        path = mkdtemp(pattern.data());
    }
    ~Folder() { std::system(("rm -rf '" + path + "'").c_str()); }
};

TEST(FrontDoor, HelpForEachCommandIsItsHelpOption) {
    for (const auto& [help, option] : {std::pair{"help", "--help"}, std::pair{"help compare", "compare --help"},
                                       std::pair{"help plot", "plot --help"},
                                       std::pair{"help tune", "tune --help"}}) {
        const Ran by_word = run(help);
        const Ran by_option = run(option);
        EXPECT_EQ(by_word.status, 0) << help << "\n" << by_word.err;
        EXPECT_EQ(by_word.out, by_option.out) << help;
        EXPECT_TRUE(has(by_word.out, "Usage: handoff")) << by_word.out;
    }
    expect_refused("help nope", "'nope' is not a subcommand: expected compare, plot or tune");
    expect_refused("help compare plot", "help:");
}

TEST(FrontDoor, TheUsageLineNamesTheSubcommands) {
    const std::string help = run("--help").out;
    for (const char* form : {"Usage: handoff [OPTIONS]", "handoff compare A.json B.json", "handoff plot RUN.json -o",
                             "handoff tune [OPTIONS]", "handoff help [compare | plot | tune]"}) {
        EXPECT_TRUE(has(help, form)) << form << "\n" << help;
    }
}

TEST(FrontDoor, OptionsShowTheKindOfValueTheyTake) {
    const std::string help = run("--help").out;
    for (const char* shown : {"--count N", "--repeat N", "--work WORK", "--backend LIST", "--target TARGET",
                              "--timeout DUR", "--format FORMAT", "-o, --output FILE", "--design DESIGN",
                              "--pin PIN"}) {
        EXPECT_TRUE(has(help, shown)) << shown << "\n" << help;
    }
    EXPECT_FALSE(has(help, "TEXT")) << "CLI11's generic kind: " << help;
    const std::string compare = run("help compare").out;
    for (const char* shown : {"--alpha P", "--fail-above RATIO", "--filter KEY=VALUE", "-o, --output FILE"}) {
        EXPECT_TRUE(has(compare, shown)) << shown << "\n" << compare;
    }
    EXPECT_FALSE(has(compare, "TEXT")) << compare;
}

TEST(FrontDoor, AnOptionGivenTwiceTakesTheLastValue) {
    const Ran ran = run(quick + "--count 1000000 --count 30 --format csv --format json");
    ASSERT_EQ(ran.status, 0) << ran.err;
    const auto doc = nlohmann::json::parse(ran.out);
    for (const auto& row : doc.at("results")) EXPECT_EQ(row.at("calls"), 30) << row.dump();
    // The earlier value is not checked either: only the last one counts.
    EXPECT_EQ(run(quick + "--count nonsense --count 30 --format json").status, 0);
}

TEST(FrontDoor, DesignAccumulates) {
    const Ran ran = run(quick + "--design classic --design futex-gated --format json");
    ASSERT_EQ(ran.status, 0) << ran.err;
    const auto doc = nlohmann::json::parse(ran.out);
    ASSERT_EQ(doc.at("results").size(), 3u);  // inline, then one row per design
    EXPECT_EQ(doc["results"][1].at("design"), "classic");
    EXPECT_EQ(doc["results"][2].at("design"), "futex-gated");
}

TEST(FrontDoor, ContradictionsAndCli11sCasesAreRefusedInPlainWords) {
    expect_refused("--floor --no-floor", "--floor: cannot be combined with --no-floor");
    expect_refused("--pin loop=0 --placement same", "--pin: cannot be combined with --placement");
    expect_refused("--count", "--count: expected a value after it");
    expect_refused("--floor=x", "--floor: takes no value");
    expect_refused("--frobnicate", "'--frobnicate' is not an option of handoff");
    expect_refused("compare a.json b.json --alpha", "--alpha: expected a value after it");
}

TEST(FrontDoor, AnEmptyOutputIsRefused) {
    expect_refused("--count 1000 --work sleep:1s -o ''", "--output: expected a file name, not an empty value");
    expect_refused("--output=", "--output: expected a value");
    expect_refused("compare a.json b.json -o ''", "--output: expected a file name");
}

TEST(FrontDoor, AFormatThatContradictsTheExtensionIsRefused) {
    expect_refused("--format csv -o out.json", "--format: 'csv' contradicts the file name 'out.json'");
    expect_refused("--format table --output out.md", "asks for markdown");
    expect_refused("compare a.json b.json --format json -o out.md", "--format: 'json' contradicts");
    expect_refused("compare a.json b.json -o out.csv", "asks for csv");
}

TEST(FrontDoor, DevNullIsWrittenThroughNotReplaced) {
    const Ran ran = run(quick + "-o /dev/null");
    EXPECT_EQ(ran.status, 0) << ran.err;
    EXPECT_TRUE(has(ran.out, "Backend")) << "stdout still shows the table";
    struct stat info {};
    ASSERT_EQ(stat("/dev/null", &info), 0);
    EXPECT_TRUE(S_ISCHR(info.st_mode)) << "/dev/null must stay a character device";
}

TEST(FrontDoor, DevStdoutGetsTheReportAlone) {
    // The test's stdout is a file: /dev/stdout names it, and the report goes
    // into it through the open descriptor, not a rename over it.
    const Ran ran = run(quick + "--format json -o /dev/stdout");
    ASSERT_EQ(ran.status, 0) << ran.err;
    const auto doc = nlohmann::json::parse(ran.out);  // JSON alone, no table before it
    EXPECT_EQ(doc.at("results").size(), 2u);
}

TEST(FrontDoor, AFifoIsWrittenThroughAndStaysAFifo) {
    Folder folder;
    const std::string fifo = folder.path + "/pipe.csv";
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    std::string received;
    // The reader opens the FIFO first; the binary's open waits for it.
    std::thread reader([&] { received = slurp(fifo); });
    const Ran ran = run(quick + "-o " + fifo);
    reader.join();
    EXPECT_EQ(ran.status, 0) << ran.err;
    EXPECT_TRUE(has(received, "backend,target,design")) << received;
    struct stat info {};
    ASSERT_EQ(lstat(fifo.c_str(), &info), 0);
    EXPECT_TRUE(S_ISFIFO(info.st_mode));
}

TEST(FrontDoor, ASymlinkKeepsPointingAtTheFileItNames) {
    Folder folder;
    const std::string target = folder.path + "/today.json", link = folder.path + "/latest.json";
    std::ofstream(target) << "old\n";
    ASSERT_EQ(symlink("today.json", link.c_str()), 0);
    const Ran ran = run(quick + "-o " + link);
    ASSERT_EQ(ran.status, 0) << ran.err;
    struct stat info {};
    ASSERT_EQ(lstat(link.c_str(), &info), 0);
    EXPECT_TRUE(S_ISLNK(info.st_mode)) << "the link was replaced";
    EXPECT_EQ(nlohmann::json::parse(slurp(target)).at("results").size(), 2u);

    const std::string dangling = folder.path + "/dangling.json";
    ASSERT_EQ(symlink("missing.json", dangling.c_str()), 0);
    expect_refused(quick + "-o " + dangling, "symbolic link to nothing");
}

TEST(FrontDoor, CompareOutputBehavesLikeTheMainCommands) {
    Folder folder;
    const std::string run_file = folder.path + "/run.json";
    ASSERT_EQ(run(quick + "-o " + run_file).status, 0);
    const std::string both = "compare " + run_file + " " + run_file;
    expect_refused(both + " -o " + folder.path + "/missing/c.json", "--output: cannot write");

    const std::string written = folder.path + "/c.md";
    const Ran to_file = run(both + " -o " + written);
    ASSERT_EQ(to_file.status, 0) << to_file.err;
    EXPECT_FALSE(to_file.out.empty()) << "stdout still shows the table";
    EXPECT_TRUE(has(slurp(written), "|")) << "markdown from the extension: " << slurp(written);

    const Ran to_stdout = run(both + " --format json -o /dev/stdout");
    ASSERT_EQ(to_stdout.status, 0) << to_stdout.err;
    EXPECT_TRUE(nlohmann::json::accept(to_stdout.out)) << "JSON alone: " << to_stdout.out;
    EXPECT_EQ(run(both + " -o /dev/null").status, 0);
}

// What fuzzing found: 'slow:slow:' and a newline was quoted raw.
TEST(FrontDoor, TheWorkFuzzInputGivesOneEscapedLine) {
    std::string message;
    try {
        (void)handoff::Work::parse("slow:slow:\n");
        ADD_FAILURE() << "accepted";
    } catch (const std::invalid_argument& e) {
        message = e.what();
    }
    EXPECT_FALSE(message.empty());
    for (const char c : message) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << message;
    EXPECT_TRUE(has(message, "slow:slow:\\n")) << message;
}

}  // namespace

namespace handoff::testing_support {
namespace {

// A combination that can never run says so once, plainly (not as a failed
// repetition), and a run whose every handoff row is like that exits 1.
TEST(FrontDoor, ACombinationThatCanNeverRunIsSaidOnceAndMeasuresNothing) {
    const Ran ran = run("--backend epoll --target dedicated --design native --count 100 --repeat 3 --no-floor");
    EXPECT_EQ(ran.status, 1) << ran.err;
    EXPECT_NE(ran.out.find("unavailable: epoll has no native worker: impl=native is for uv and asio"),
              std::string::npos)
        << ran.out;
    EXPECT_EQ(ran.out.find("repetition 1 of 3"), std::string::npos) << ran.out;
    EXPECT_NE(ran.err.find("no handoff row could be measured"), std::string::npos) << ran.err;
}

}  // namespace
}  // namespace handoff::testing_support
