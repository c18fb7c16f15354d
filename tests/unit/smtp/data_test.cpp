// Tests of DATA content: dot-unstuffing, end of data, bare CR/LF (no smuggling), NUL octets, size
// and hop limits; also the meter fed one byte at a time (BDAT chunks of any size).
#include "data.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace portico::smtp {
namespace {

struct Outcome {
  std::string kept;
  bool ended = false;
  Verdict verdict = Verdict::ok;
  std::uint64_t size = 0;
};

// Feeds text as the core would: split into LF-terminated lines.
Outcome feed(const std::string& text, std::uint64_t max_size = 0, std::int64_t max_hops = 20) {
  Outcome run;
  DataReader r(max_size, max_hops, [&](std::string_view b) { run.kept += b; });
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t nl = text.find('\n', i);
    if (nl == std::string::npos) break;
    if (r.line(std::string_view(text).substr(i, nl + 1 - i))) {
      run.ended = true;
      break;
    }
    i = nl + 1;
  }
  run.verdict = r.meter().verdict();
  run.size = r.meter().size();
  return run;
}

TEST(Data, EndsAtDotLineAndUnstuffs) {
  const Outcome r = feed("Subject: x\r\n\r\n..leading dot\r\nbody\r\n.\r\nNOT DATA\r\n");
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(r.kept, "Subject: x\r\n\r\n.leading dot\r\nbody\r\n");
  EXPECT_EQ(r.verdict, Verdict::ok);
  EXPECT_EQ(r.size, r.kept.size());
}

TEST(Data, BareLfNeverEndsDataAndRefusesTheMessage) {
  // The smuggling pattern: "\n.\n" must not end the data.
  const Outcome r = feed("Subject: x\r\n\r\nbody\n.\nMAIL FROM:<evil@x>\r\n.\r\n");
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(r.verdict, Verdict::bare_lf);
  EXPECT_EQ(r.kept.find("MAIL FROM"), std::string::npos);  // nothing kept after the problem
}

TEST(Data, DotLfIsNotTheEnd) {
  const Outcome r = feed("a\r\n.\n.\r\n");
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(r.verdict, Verdict::bare_lf);
}

TEST(Data, BareCrRefusesTheMessage) {
  const Outcome r = feed("a\rb\r\n.\r\n");
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(r.verdict, Verdict::bare_cr);
}

TEST(Data, CrDotCrIsNotTheEnd) {
  const Outcome r = feed("a\r\n.\r.\r\n.\r\n");
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(r.verdict, Verdict::bare_cr);
}

TEST(Data, NulOctetRefusesTheMessage) {
  using namespace std::string_literals;
  for (const std::string& text :
       {"Subject: x\r\n\r\na\0b\r\nmore\r\n.\r\n"s, "\0\r\n.\r\n"s, "Subject: x\0\r\n\r\n.\r\n"s}) {
    const Outcome r = feed(text);
    EXPECT_TRUE(r.ended);
    EXPECT_EQ(r.verdict, Verdict::nul);
    EXPECT_EQ(r.kept.find('\0'), std::string::npos);  // nothing kept from the line on
    EXPECT_EQ(r.kept.find("more"), std::string::npos);
  }
}

TEST(Data, FirstProblemWins) {
  using namespace std::string_literals;
  EXPECT_EQ(feed("a\n\0\r\n.\r\n"s).verdict, Verdict::bare_lf);
  EXPECT_EQ(feed("\0\r\na\n.\r\n"s).verdict, Verdict::nul);
}

TEST(Data, SizeLimitExactAndOneOver) {
  const std::string msg = "Subject: s\r\n\r\n0123456789\r\n";  // 26 octets
  EXPECT_EQ(feed(msg + ".\r\n", msg.size()).verdict, Verdict::ok);
  EXPECT_EQ(feed(msg + ".\r\n", msg.size() - 1).verdict, Verdict::too_big);
  EXPECT_EQ(feed(msg + ".\r\n", 0).verdict, Verdict::ok);
}

std::string with_hops(int n) {
  std::string m;
  for (int i = 0; i < n; ++i)
    m += "Received: from h" + std::to_string(i) + " by x; date\r\n";
  return m + "Subject: s\r\n\r\nReceived: in the body does not count\r\n.\r\n";
}

TEST(Data, HopCountAtAndOverTheLimit) {
  EXPECT_EQ(feed(with_hops(20), 0, 20).verdict, Verdict::ok);
  EXPECT_EQ(feed(with_hops(21), 0, 20).verdict, Verdict::too_many_hops);
  EXPECT_EQ(feed(with_hops(0), 0, 0).verdict, Verdict::ok);
}

TEST(Meter, SameVerdictWhateverTheChunking) {
  const std::string msg = "Received: a\r\nReceived: b\r\nReceived: c\r\n\r\nbody\r\n";
  for (std::size_t chunk = 1; chunk <= msg.size(); ++chunk) {
    MessageMeter m(0, 2);
    for (std::size_t i = 0; i < msg.size(); i += chunk)
      m.feed(std::string_view(msg).substr(i, chunk));
    EXPECT_EQ(m.hops(), 3) << chunk;
    EXPECT_EQ(m.verdict(), Verdict::too_many_hops) << chunk;
    EXPECT_EQ(m.size(), msg.size());
  }
}

TEST(Meter, NulOctetRefusedWhateverTheChunking) {
  using namespace std::string_literals;
  const std::string msg = "Subject: s\r\n\r\nbinary \0 octet\r\n"s;
  for (std::size_t chunk = 1; chunk <= msg.size(); ++chunk) {
    MessageMeter m(0, 20);
    bool accepted_all = true;
    for (std::size_t i = 0; i < msg.size(); i += chunk)
      accepted_all = m.feed(std::string_view(msg).substr(i, chunk)) && accepted_all;
    EXPECT_FALSE(accepted_all) << chunk;
    EXPECT_EQ(m.verdict(), Verdict::nul) << chunk;
  }
  MessageMeter clean(0, 20);
  EXPECT_TRUE(clean.feed("Subject: s\r\n\r\n0 is not NUL\r\n"));
  EXPECT_EQ(clean.verdict(), Verdict::ok);
}

TEST(Meter, FoldedHeaderLinesAreNotCountedTwice) {
  MessageMeter m(0, 5);
  m.feed("Received: from a\r\n\tby b\r\n Received: not a new field\r\nX: y\r\n\r\n");
  EXPECT_EQ(m.hops(), 1);
}

}  // namespace
}  // namespace portico::smtp
