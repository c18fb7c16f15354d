// Test support — the golden-transcript check of every protocol's tests: the SDK test kit's
// (portico/testkit/gtest.h), with the names the tests use.
#pragma once

#include "portico/testkit/golden.h"
#include "portico/testkit/gtest.h"

namespace portico::testing {

using testkit::expect_transcripts;
using testkit::feed_transcript;

inline std::string slurp(const std::filesystem::path& p) {
  return testkit::read_file(p);
}

}  // namespace portico::testing
