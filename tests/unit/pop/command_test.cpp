// pop parsers: command lines and the command table, numbers, byte-stuffing (fed whole and split
// at every boundary), TOP's extent, base64.
#include <gtest/gtest.h>

#include "command.h"
#include "portico/base64.h"
#include "message.h"
#include "session.h"

namespace portico::pop {
namespace {

TEST(PopCommand, Table) {
  struct Case {
    const char* line;
    Verb verb;
    std::vector<std::string_view> args;
  };
  const std::vector<Case> cases = {
      {"USER alice", Verb::user, {"alice"}},
      {"user alice", Verb::user, {"alice"}},
      {"STAT", Verb::stat, {}},
      {"stat ", Verb::stat, {}},
      {"LIST 2", Verb::list, {"2"}},
      {"TOP  1   10", Verb::top, {"1", "10"}},
      {"UiDl", Verb::uidl, {}},
      {"CAPA", Verb::capa, {}},
      {"STLS", Verb::stls, {}},
      {"AUTH PLAIN AGFAYg==", Verb::auth, {"PLAIN", "AGFAYg=="}},
      {"QUIT", Verb::quit, {}},
  };
  for (const auto& c : cases) {
    const CommandLine cl = parse_command(c.line);
    ASSERT_NE(cl.spec, nullptr) << c.line;
    EXPECT_EQ(cl.spec->verb, c.verb) << c.line;
    EXPECT_EQ(cl.args, c.args) << c.line;
  }
  for (const char* unknown : {"", "X", "FOOBAR", "STATS", "HELO x", " STAT", "ST"}) {
    EXPECT_EQ(parse_command(unknown).spec, nullptr) << unknown;
  }
}

TEST(PopCommand, PassKeepsSpacesInTheRest) {
  const CommandLine c = parse_command("PASS  two words ");
  ASSERT_NE(c.spec, nullptr);
  EXPECT_EQ(c.rest, " two words ");
}

TEST(PopCommand, TooManyArguments) {
  EXPECT_TRUE(parse_command("LIST 1 2 3 4 5 6 7 8 9").too_many_args);
  EXPECT_FALSE(parse_command("LIST 1 2 3 4 5 6 7 8").too_many_args);
}

TEST(PopCommand, Numbers) {
  EXPECT_EQ(parse_number("0"), 0u);
  EXPECT_EQ(parse_number("42"), 42u);
  EXPECT_EQ(parse_number("4294967295"), 4294967295u);
  for (const char* bad : {"", "-1", "+1", "1a", "4294967296", "99999999999", " 1", "0x1"}) {
    EXPECT_FALSE(parse_number(bad).has_value()) << bad;
  }
}

std::string stuffed(std::string_view in) {
  DotStuffer s;
  std::string out;
  s.stuff(in, out);
  s.finish(out);
  return out;
}

TEST(PopMessage, ByteStuffing) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ".\r\n"},
      {"a\r\n", "a\r\n.\r\n"},
      {"a", "a\r\n.\r\n"},
      {".\r\n", "..\r\n.\r\n"},
      {"x\r\n.y\r\n..z\r\n", "x\r\n..y\r\n...z\r\n.\r\n"},
      {"bare\nlf\n.dot\n", "bare\r\nlf\r\n..dot\r\n.\r\n"},
      {"cr\ronly\r", "cr\r\nonly\r\n.\r\n"},
      {"mid.dot\r\n", "mid.dot\r\n.\r\n"},
  };
  for (const auto& [in, want] : cases) {
    EXPECT_EQ(stuffed(in), want) << in;
    // Split at every boundary, and one byte at a time: the same output.
    for (std::size_t cut = 0; cut <= in.size(); ++cut) {
      DotStuffer s;
      std::string out;
      s.stuff(std::string_view(in).substr(0, cut), out);
      s.stuff(std::string_view(in).substr(cut), out);
      s.finish(out);
      EXPECT_EQ(out, want) << in << " cut at " << cut;
    }
    DotStuffer s;
    std::string out;
    for (char c : in)
      s.stuff(std::string_view(&c, 1), out);
    s.finish(out);
    EXPECT_EQ(out, want) << in << " bytewise";
  }
}

TEST(PopMessage, TopLength) {
  const std::string m = "A: 1\r\nB: 2\r\n folded\r\n\r\nl1\r\nl2\r\nl3";
  const std::size_t header = std::string("A: 1\r\nB: 2\r\n folded\r\n\r\n").size();
  EXPECT_EQ(top_length(m, 0), header);
  EXPECT_EQ(top_length(m, 1), header + 4);
  EXPECT_EQ(top_length(m, 2), header + 8);
  EXPECT_EQ(top_length(m, 3), m.size());
  EXPECT_EQ(top_length(m, 100), m.size());
  EXPECT_EQ(top_length("only: header\r\n", 5), 14u);
  EXPECT_EQ(top_length("\r\nbody\r\n", 0), 2u);
  EXPECT_EQ(top_length("a: b\n\nx\ny\n", 1), 8u);
  EXPECT_EQ(top_length("", 3), 0u);
}

// TOP over a streamed message: the cut is the same wherever the pieces split.
TEST(PopMessage, TopScannerCutsPiecesLikeTopLength) {
  const std::vector<std::string> messages = {"A: 1\r\nB: 2\r\n folded\r\n\r\nl1\r\nl2\r\nl3",
                                             "\r\nbody\r\n", "a: b\n\nx\ny\n", "only: header\r\n",
                                             "x: \r\r\n\r\n1\n2\n"};
  for (const auto& m : messages) {
    for (std::uint64_t lines = 0; lines < 4; ++lines) {
      const std::size_t want = top_length(m, lines);
      for (std::size_t cut = 0; cut <= m.size(); ++cut) {
        TopScanner scan(lines);
        std::size_t got = scan.take(std::string_view(m).substr(0, cut));
        if (!scan.done()) got += scan.take(std::string_view(m).substr(cut));
        EXPECT_EQ(got, want) << m << " lines " << lines << " cut " << cut;
      }
    }
  }
}

// The SDK's base64 (RFC 4648), which the SASL exchange decodes AUTH responses with: strict.
TEST(SdkBase64, RoundTripAndStrictDecoding) {
  for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    EXPECT_EQ(sdk::base64_decode(sdk::base64_encode(s)), s);
  }
  EXPECT_EQ(sdk::base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_FALSE(sdk::base64_decode("Zm9").has_value());
  EXPECT_FALSE(sdk::base64_decode("Zm=v").has_value());
  EXPECT_FALSE(sdk::base64_decode("Z!9v").has_value());
}

}  // namespace
}  // namespace portico::pop
