// Portico SDK test kit — golden transcripts: a session's exact bytes, checked byte by byte.
//
// A transcript is a pair of files in one folder: NAME.in (what the client sends) and NAME.ref
// (everything the server must answer). check_transcripts() runs each NAME.in twice through a
// runner the test supplies, once fed whole and once one byte at a time, and compares both
// outputs with NAME.ref octet for octet; a difference is reported with its offset, line and
// the differing text, escaped. With write_missing (by default when the environment has
// PORTICO_UPDATE_GOLDEN=1) a missing NAME.ref is written from the whole-input run, for the
// author to read before committing it.
//
// feed_transcript() is the usual runner's core: it feeds NAME.in to a started SessionDriver,
// and a line "~~~" in it marks where the client waits for the server's answer (for example
// after STARTTLS, whose pipelined followers a server discards, RFC 3207 section 4.2).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "portico/testkit/driver.h"

namespace portico::testkit {

// True when PORTICO_UPDATE_GOLDEN=1.
bool update_requested();

using TranscriptRunner = std::function<std::string(const std::filesystem::path& in, bool bytewise)>;

struct TranscriptFailure {
  std::filesystem::path in;
  bool bytewise = false;
  std::string message;
};

struct TranscriptReport {
  int transcripts = 0;  // NAME.in files found
  std::vector<TranscriptFailure> failures;
  bool ok() const { return transcripts > 0 && failures.empty(); }
};

TranscriptReport check_transcripts(const std::filesystem::path& dir, const TranscriptRunner& run,
                                   bool write_missing = update_requested());

// Where `actual` first differs from `expected`: "" when equal, else the offset, the line and
// both texts from the start of that line, with control characters escaped.
std::string describe_difference(std::string_view expected, std::string_view actual);

// Feeds `input` to the driver (started already), whole or one byte at a time, pausing at each
// "~~~" line; returns everything the session wrote.
std::string feed_transcript(SessionDriver& driver, std::string_view input, bool bytewise);

// The file's octets ("" when it does not exist).
std::string read_file(const std::filesystem::path& path);

}  // namespace portico::testkit
