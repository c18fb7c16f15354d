// Test support — the golden-transcript check shared by every protocol's tests.
//
// For each DIR/NAME.in, run(path, bytewise) must give exactly DIR/NAME.ref, both with the input
// fed whole and one byte at a time. With PORTICO_UPDATE_GOLDEN=1 a missing .ref is written from
// the whole-input run (read it before committing it).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

namespace portico::testing {

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void expect_transcripts(
    const std::filesystem::path& dir,
    const std::function<std::string(const std::filesystem::path&, bool bytewise)>& run) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".in") continue;
    ++count;
    std::filesystem::path ref = entry.path();
    ref.replace_extension(".ref");
    const std::string whole = run(entry.path(), false);
    if (!std::filesystem::exists(ref) && std::getenv("PORTICO_UPDATE_GOLDEN") != nullptr) {
      std::ofstream(ref, std::ios::binary) << whole;
    }
    ASSERT_TRUE(std::filesystem::exists(ref)) << ref << " is missing";
    const std::string expected = slurp(ref);
    EXPECT_EQ(whole, expected) << entry.path().filename() << " (whole)";
    EXPECT_EQ(run(entry.path(), true), expected) << entry.path().filename() << " (bytewise)";
  }
  EXPECT_GT(count, 0) << "no transcripts in " << dir;
}

}  // namespace portico::testing
