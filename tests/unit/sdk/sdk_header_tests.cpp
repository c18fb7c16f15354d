// Checks on the SDK's public headers as text: they use the standard library only (no Boost,
// OpenSSL, spdlog or yaml-cpp, in code or includes), and every header was compiled alone by the
// generated translation units linked into this executable (see CMakeLists.txt).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> sdk_headers() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(PORTICO_SDK_INCLUDE_DIR) / "portico")) {
    if (e.path().extension() == ".h") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The text with comments blanked out (string and character literals are kept).
std::string code_only(const std::string& text) {
  std::string out;
  enum { code, line_comment, block_comment, literal } state = code;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    char next = i + 1 < text.size() ? text[i + 1] : '\0';
    switch (state) {
      case code:
        if (c == '/' && next == '/') {
          state = line_comment;
        } else if (c == '/' && next == '*') {
          state = block_comment;
          ++i;
        } else {
          if (c == '"' || c == '\'') state = literal, quote = c;
          out += c;
        }
        break;
      case line_comment:
        if (c == '\n') state = code, out += c;
        break;
      case block_comment:
        if (c == '*' && next == '/') state = code, ++i;
        break;
      case literal:
        out += c;
        if (c == '\\') {
          out += next;
          ++i;
        } else if (c == quote) {
          state = code;
        }
        break;
    }
  }
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

TEST(SdkHeaders, EveryHeaderWasCompiledAlone) {
  EXPECT_EQ(sdk_headers().size(), static_cast<std::size_t>(PORTICO_SDK_HEADER_COUNT))
      << "a header was added or removed since the build was configured";
  EXPECT_FALSE(sdk_headers().empty());
}

TEST(SdkHeaders, NoThirdPartyDependencies) {
  for (const auto& header : sdk_headers()) {
    SCOPED_TRACE(header.filename().string());
    const std::string code = lower(code_only(read(header)));
    for (const char* word : {"boost", "openssl", "spdlog", "yaml", "fmt/", "asio"}) {
      EXPECT_EQ(code.find(word), std::string::npos) << "mentions " << word;
    }
  }
}

TEST(SdkHeaders, IncludesOnlyStandardOrSdkHeaders) {
  const std::vector<std::string> c_headers = {"stddef.h", "stdint.h"};
  for (const auto& header : sdk_headers()) {
    SCOPED_TRACE(header.filename().string());
    std::istringstream lines(code_only(read(header)));
    for (std::string line; std::getline(lines, line);) {
      auto hash = line.find_first_not_of(" \t");
      if (hash == std::string::npos || line[hash] != '#') continue;
      auto directive = line.find("include", hash);
      if (directive == std::string::npos) continue;
      auto open = line.find_first_of("<\"", directive);
      ASSERT_NE(open, std::string::npos) << line;
      auto close = line.find(line[open] == '<' ? '>' : '"', open + 1);
      ASSERT_NE(close, std::string::npos) << line;
      const std::string name = line.substr(open + 1, close - open - 1);
      if (line[open] == '"') {
        EXPECT_EQ(name.rfind("portico/", 0), 0u) << line;
        EXPECT_TRUE(fs::exists(fs::path(PORTICO_SDK_INCLUDE_DIR) / name)) << line;
      } else {
        bool standard = name.find_first_of("./") == std::string::npos ||
                        std::find(c_headers.begin(), c_headers.end(), name) != c_headers.end();
        EXPECT_TRUE(standard) << "not a standard header: " << line;
      }
    }
  }
}

}  // namespace
