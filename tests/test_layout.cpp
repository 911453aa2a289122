// The house's rules, checked on the source tree (the suite runs from the
// repository's root; elsewhere it skips):
// - src/ is folders by layer and includes run one way, downwards:
//   cli > analysis > report > run > workers > measurement > base;
// - a backend includes only the kit (include/handoff/) and its library's
//   headers, plus a header of its own beside it in backends/;
// - the kit includes only the kit.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace handoff {
namespace {

namespace fs = std::filesystem;

const std::map<std::string, int> layer_rank = {
    {"base", 1}, {"measurement", 2}, {"workers", 3}, {"run", 4}, {"report", 5}, {"analysis", 6}, {"cli", 7},
};

// The "quoted" includes of a file.
std::vector<std::string> quoted_includes(const fs::path& file) {
    std::ifstream in(file);
    std::vector<std::string> found;
    const std::string prefix = "#include \"";
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(prefix, 0) != 0) continue;
        const std::size_t end = line.find('"', prefix.size());
        if (end != std::string::npos) found.push_back(line.substr(prefix.size(), end - prefix.size()));
    }
    return found;
}

std::vector<fs::path> sources_under(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        const auto ext = entry.path().extension();
        if (entry.is_regular_file() && (ext == ".cpp" || ext == ".hpp")) files.push_back(entry.path());
    }
    return files;
}

class Layout : public testing::Test {
protected:
    void SetUp() override {
        if (!fs::exists("src/main.cpp") || !fs::exists("include/handoff/call.hpp")) {
            GTEST_SKIP() << "not run from the repository's root";
        }
    }
};

TEST_F(Layout, SrcHoldsMainAndOneFolderPerLayer) {
    for (const auto& entry : fs::directory_iterator("src")) {
        if (entry.is_directory()) {
            EXPECT_TRUE(layer_rank.contains(entry.path().filename().string())) << entry.path() << " is not a layer";
        } else {
            EXPECT_EQ(entry.path().filename(), "main.cpp") << entry.path() << ": src/ itself keeps main.cpp only";
        }
    }
}

TEST_F(Layout, IncludesRunDownwards) {
    for (const fs::path& file : sources_under("src")) {
        const auto relative = file.lexically_relative("src");
        if (relative == "main.cpp") continue;
        const int own = layer_rank.at(relative.begin()->string());
        for (const std::string& include : quoted_includes(file)) {
            const std::string top = include.substr(0, include.find('/'));
            if (const auto it = layer_rank.find(top); it != layer_rank.end()) {
                EXPECT_LE(it->second, own) << file << " includes " << include << ", a layer above its own";
            }
        }
    }
}

TEST_F(Layout, TheBackendKitIsSealed) {
    for (const fs::path& file : sources_under("include/handoff")) {
        for (const std::string& include : quoted_includes(file)) {
            EXPECT_EQ(include.rfind("handoff/", 0), 0u) << file << " includes " << include << " from outside the kit";
        }
    }
    for (const fs::path& file : sources_under("backends")) {
        for (const std::string& include : quoted_includes(file)) {
            const bool kit = include.rfind("handoff/", 0) == 0;
            const bool beside = include.find('/') == std::string::npos && fs::exists(file.parent_path() / include);
            EXPECT_TRUE(kit || beside) << file << " includes " << include << ": a backend knows the kit only";
        }
    }
}

}  // namespace
}  // namespace handoff
