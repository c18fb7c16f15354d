// Portico SDK test kit — golden transcripts as GoogleTest expectations.
//
//   TEST(MyProtocol, Transcripts) { portico::testkit::expect_transcripts(dir, run); }
//
// Each mismatch (whole or byte-at-a-time feed) is one failed expectation naming the transcript
// and the first difference; a folder without transcripts fails too. Header-only: include it in a
// test that links GoogleTest.
#pragma once

#include <gtest/gtest.h>

#include "portico/testkit/golden.h"

namespace portico::testkit {

inline void expect_transcripts(const std::filesystem::path& dir, const TranscriptRunner& run) {
  const TranscriptReport report = check_transcripts(dir, run);
  EXPECT_GT(report.transcripts, 0) << "no transcripts (*.in) in " << dir;
  for (const auto& f : report.failures) {
    ADD_FAILURE() << f.in.filename().string() << (f.bytewise ? " (byte at a time)" : " (whole)")
                  << ": " << f.message;
  }
}

}  // namespace portico::testkit
