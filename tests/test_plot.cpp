// handoff plot: the rows it draws, a script a hostile file cannot inject into,
// and a real SVG drawn by gnuplot that holds every row's label.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "report/report.hpp"
#include "synthetic_runs.hpp"
#include "analysis/plot.hpp"
#include "report/figures.hpp"

namespace handoff {
namespace {

using testing_support::synthetic_run;

RowResult row(const std::string& backend, TargetKind target, std::vector<Measurement> runs,
              RowStatus status = RowStatus::ok) {
    RowResult r;
    r.config.backend = backend;
    r.config.target = target;
    r.config.work = Work::parse("none");
    r.status = status;
    r.runs = std::move(runs);
    return r;
}

Report sample() {
    Report report;
    report.context.date = "2026-11-29T12:00:00Z";
    report.context.host = "lab";
    RowResult baseline = row("inline", TargetKind::dedicated, {synthetic_run(1000, 4, false)});
    baseline.config = Configuration::reference(RowKind::inline_calls, baseline.config);
    report.rows.push_back(baseline);
    report.rows.push_back(row("epoll", TargetKind::dedicated,
                              {synthetic_run(1000, 2000), synthetic_run(500, 3000), synthetic_run(2000, 2500)}));
    report.rows.push_back(row("uv", TargetKind::pool, {synthetic_run(1000, 60000)}));
    report.rows.push_back(row("asio", TargetKind::pool, {}, RowStatus::failed));
    return report;
}

std::string json_of(const Report& report) {
    std::ostringstream out;
    write_json(out, report);
    return out.str();
}

std::string slurp(const std::string& path) {
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

TEST(Plot, RowsAreTheOkRowsWithPerCallMedians) {
    const std::vector<PlotRow> rows = plot_rows(parse_result_text(json_of(sample()), "s.json"));
    ASSERT_EQ(rows.size(), 3u);  // the failed asio row has nothing to draw
    EXPECT_EQ(rows[0].label, "inline free");
    EXPECT_TRUE(std::isnan(rows[0].p50_ns));  // inline has no latency
    EXPECT_EQ(rows[1].label, "epoll dedicated classic free");
    // The row's figures as its table printed them: the median run (2000,
    // 3000, 2500 ns per call), latency pooled over every call of every run.
    EXPECT_DOUBLE_EQ(rows[1].wall.ns, 2500);
    EXPECT_DOUBLE_EQ(rows[1].loop_cpu.ns, 1250);
    EXPECT_DOUBLE_EQ(rows[1].worker_cpu.ns, 625);
    // The whiskers: each repetition's own per-call figure, fastest to slowest.
    EXPECT_DOUBLE_EQ(rows[1].wall.min_ns, 2000);
    EXPECT_DOUBLE_EQ(rows[1].wall.max_ns, 3000);
    EXPECT_DOUBLE_EQ(rows[1].loop_cpu.min_ns, 1000);
    EXPECT_DOUBLE_EQ(rows[1].worker_cpu.max_ns, 750);
    EXPECT_DOUBLE_EQ(rows[2].wall.min_ns, 60000);  // one repetition: the whisker is the figure
    EXPECT_DOUBLE_EQ(rows[2].wall.max_ns, 60000);
    EXPECT_DOUBLE_EQ(rows[1].p99_ns, report_detail::row_figure(sample().rows[1], "lat_p99_ns"));
    EXPECT_DOUBLE_EQ(rows[1].max_ns, 40000);  // the true maximum, 16 x 2500 ns (the 500-call run tops out at 8x)
    EXPECT_EQ(rows[2].label, "uv pool free");
}

TEST(Plot, ScriptQuotesEveryTextFromTheFile) {
    ResultFile file = parse_result_text(json_of(sample()), "s.json");
    file.rows[1].backend = "x'; system('touch /tmp/pwned'); '";
    file.rows[1].design = "line\nbreak";
    const std::string script = gnuplot_script(file, plot_rows(file), "/tmp/o'ut.svg", PlotTerminal::svg);
    EXPECT_NE(script.find("'x''; system(''touch /tmp/pwned''); '' dedicated line?break free'"), std::string::npos)
        << script;
    EXPECT_NE(script.find("set output '/tmp/o''ut.svg'"), std::string::npos);
    EXPECT_EQ(script.find("line\nbreak"), std::string::npos);
    EXPECT_NE(script.find("set logscale x"), std::string::npos);  // 4 ns beside 60 us
}

TEST(Plot, TitleSaysWhatRanWhereAndWhen) {
    const ResultFile file = parse_result_text(json_of(sample()), "s.json");
    EXPECT_EQ(plot_run_line(file), "work none, 250000 calls a row, in-flight 1, 1 to 3 repetitions");
    const std::string script = gnuplot_script(file, plot_rows(file), "o.svg", PlotTerminal::svg);
    EXPECT_NE(script.find("set multiplot title 'handoff: work none, 250000 calls a row, in-flight 1, 1 to 3 "
                          "repetitions'"),
              std::string::npos)
        << script;
    EXPECT_NE(script.find("'2026-11-29T12:00:00Z on lab; s.json'"), std::string::npos) << script;
}

TEST(Plot, RowsLeftOutAreCountedOnThePicture) {
    Report report = sample();
    report.rows.push_back(row("uring", TargetKind::pool, {}, RowStatus::unavailable));
    report.rows.push_back(row("uring", TargetKind::dedicated, {}, RowStatus::unavailable));
    const ResultFile file = parse_result_text(json_of(report), "s.json");
    EXPECT_EQ(plot_left_out_note(file), "Not drawn: 3 rows that are not ok (1 failed, 2 unavailable)");
    const std::string script = gnuplot_script(file, plot_rows(file), "o.svg", PlotTerminal::svg);
    EXPECT_NE(script.find("Not drawn: 3 rows that are not ok (1 failed, 2 unavailable)"), std::string::npos);
    report.rows.resize(3);
    EXPECT_EQ(plot_left_out_note(parse_result_text(json_of(report), "s.json")), "");
}

TEST(Plot, CpuBarsStandSideBySideFromTheAxisNeverStacked) {
    const ResultFile file = parse_result_text(json_of(sample()), "s.json");
    const std::string script = gnuplot_script(file, plot_rows(file), "o.svg", PlotTerminal::svg);
    // A log axis (4 ns beside 60 us) from 0.001 us: every bar starts there,
    // the worker's too, not where the loop's ends.
    EXPECT_NE(script.find("set logscale x"), std::string::npos);
    EXPECT_NE(script.find("using (0.001):($1-0.28):(0.001):2:"), std::string::npos) << script;
    EXPECT_NE(script.find("using (0.001):($1+0.00):(0.001):5:"), std::string::npos) << script;
    EXPECT_NE(script.find("using (0.001):($1+0.28):(0.001):8:"), std::string::npos) << script;
    // Each bar's whisker from the columns of its repetitions' min and max.
    EXPECT_NE(script.find("using 8:($1+0.28):9:10 with xerrorbars"), std::string::npos) << script;
    // The epoll row: 2.5 us, 2 to 3 us; loop 1.25, 1 to 1.5; worker 0.625, 0.5 to 0.75.
    EXPECT_NE(script.find("\n1 2.5 2 3 1.25 1 1.5 0.625 0.5 0.75 "), std::string::npos) << script;
}

TEST(Plot, CloseValuesGetALinearAxisFromZero) {
    Report report = sample();
    report.rows = {report.rows[1]};  // epoll alone: 0.5 to 3 us
    const ResultFile file = parse_result_text(json_of(report), "s.json");
    const std::string script = gnuplot_script(file, plot_rows(file), "o.svg", PlotTerminal::svg);
    EXPECT_NE(script.find("unset logscale x"), std::string::npos);
    EXPECT_NE(script.find("using (0):($1+0.28):(0):8:"), std::string::npos) << script;
}

class PlotFiles : public testing::Test {
protected:
    std::string dir = testing::TempDir() + "handoff_plot_" + std::to_string(::getpid()) + "_";
    std::string input = dir + "in.json";

    void SetUp() override { write(input, json_of(sample())); }
    void TearDown() override {
        for (const char* name : {"in.json", "out.svg", "out.png", "out.pdf", "err", "hostile.json", "none.json"}) {
            std::remove((dir + name).c_str());
        }
    }
    static void write(const std::string& path, const std::string& text) {
        std::ofstream file(path);
        file << text;
    }
    static int plot(std::vector<std::string> args, std::string* err_text = nullptr) {
        args.insert(args.begin(), "plot");
        std::vector<const char*> argv;
        for (const std::string& arg : args) argv.push_back(arg.c_str());
        std::ostringstream out, err;
        const int status = run_plot(int(argv.size()), argv.data(), out, err);
        if (err_text) *err_text = err.str();
        return status;
    }
};

TEST_F(PlotFiles, DrawsAnSvgWithEveryRowsLabel) {
    const std::string output = dir + "out.svg";
    ASSERT_EQ(plot({input, "-o", output}), 0);
    const std::string svg = slurp(output);
    ASSERT_FALSE(svg.empty());
    EXPECT_TRUE(svg.starts_with("<?xml") || svg.starts_with("<svg")) << svg.substr(0, 100);
    EXPECT_NE(svg.find("</svg>"), std::string::npos);
    for (const char* label : {"inline free", "epoll dedicated classic free", "uv pool free"}) {
        EXPECT_NE(svg.find(label), std::string::npos) << label;
    }
    EXPECT_EQ(svg.find("asio"), std::string::npos);  // failed: not drawn
    struct stat st{};
    EXPECT_NE(::stat((output + ".tmp").c_str(), &st), 0);  // the temporary was renamed away
}

TEST_F(PlotFiles, DrawsAPng) {
    const std::string output = dir + "out.png";
    ASSERT_EQ(plot({input, "-o", output}), 0);
    EXPECT_TRUE(slurp(output).starts_with("\x89PNG"));
}

TEST_F(PlotFiles, AHostileLabelIsDrawnNotRun) {
    const std::string marker = dir + "pwned";
    std::string text = json_of(sample());
    const std::string from = "\"backend\": \"uv\"";
    text.replace(text.find(from), from.size(), "\"backend\": \"uv'; system('touch " + marker + "'); '\"");
    write(dir + "hostile.json", text);
    const std::string output = dir + "out.svg";
    ASSERT_EQ(plot({dir + "hostile.json", "-o", output}), 0);
    struct stat st{};
    EXPECT_NE(::stat(marker.c_str(), &st), 0) << "the label ran as a command";
    EXPECT_NE(slurp(output).find("system("), std::string::npos);
}

TEST_F(PlotFiles, BadInputExitsTwoWithOneLine) {
    write(dir + "none.json", json_of(Report{}));
    std::string err;
    EXPECT_EQ(plot({input, "-o", dir + "out.pdf"}, &err), 2);
    EXPECT_EQ(err, "handoff: plot: -o: '" + dir + "out.pdf' is not allowed: expected a file name ending in .svg or .png\n");
    EXPECT_EQ(plot({dir + "missing.json", "-o", dir + "out.svg"}, &err), 2);
    EXPECT_NE(err.find("No such file or directory"), std::string::npos) << err;
    EXPECT_EQ(plot({dir + "none.json", "-o", dir + "out.svg"}, &err), 2);
    EXPECT_NE(err.find("nothing to plot"), std::string::npos) << err;
    EXPECT_EQ(plot({input}, &err), 2);
    EXPECT_NE(err.find("--output"), std::string::npos) << err;
    struct stat st{};
    EXPECT_NE(::stat((dir + "out.svg").c_str(), &st), 0);
}

// Run as the command line runs it, so that anything gnuplot printed would
// be in the captured stderr.
TEST_F(PlotFiles, AMissingOutputFolderIsOneLineAndExitTwo) {
    const char* bin = std::getenv("HANDOFF_BIN");
    const std::string output = dir + "no-such-folder/out.png";
    const std::string command = std::string(bin ? bin : "./handoff") + " plot " + input + " -o " + output + " 2>" +
                                dir + "err >/dev/null";
    const int raw = std::system(command.c_str());
    ASSERT_TRUE(WIFEXITED(raw));
    EXPECT_EQ(WEXITSTATUS(raw), 2);
    EXPECT_EQ(slurp(dir + "err"), "handoff: plot: -o: cannot write '" + output + "': the folder '" + dir +
                                      "no-such-folder' does not exist\n");
}

TEST_F(PlotFiles, MissingGnuplotIsAClearFailure) {
    const char* bin = std::getenv("HANDOFF_BIN");
    const std::string command = "HANDOFF_GNUPLOT=handoff-no-such-gnuplot " + std::string(bin ? bin : "./handoff") +
                                " plot " + input + " -o " + dir + "out.svg 2>" + dir + "err >/dev/null";
    const int raw = std::system(command.c_str());
    ASSERT_TRUE(WIFEXITED(raw));
    EXPECT_EQ(WEXITSTATUS(raw), 1);
    const std::string err = slurp(dir + "err");
    EXPECT_EQ(err,
              "handoff: plot: cannot run gnuplot: No such file or directory; install it (Debian package "
              "gnuplot-nox, which tools/ensure-deps installs)\n");
}

}  // namespace
}  // namespace handoff
