// smtp-out's reply parser, table-driven (RFC 5321 section 4.2, RFC 2034 enhanced codes): each
// case fed line by line, and whole and one byte at a time through the core's own input framer
// (bare LF, too-long lines, too many lines, inconsistent codes); the text of a reply kept one
// printable line of bounded length; the EHLO keywords.
#include <gtest/gtest.h>

#include "core/net/framer.h"
#include "reply.h"

namespace portico::smtpout {
namespace {

using R = ReplyParser::Result;

struct ReplyCase {
  const char* name;
  std::string input;
  R result;
  int code = 0;
  std::size_t lines = 0;
  std::string status;
  std::string text;
};

std::string repeat_lines(const std::string& first, const std::string& last, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i + 1 < n; ++i)
    out += first;
  return out + last;
}

std::vector<ReplyCase> reply_cases() {
  return {
      {"simple", "220 mx.example.net ESMTP\r\n", R::complete, 220, 1, "",
       "220 mx.example.net ESMTP"},
      {"multi", "250-mx\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", R::complete, 250, 3, "",
       "250 mx PIPELINING SIZE 1000"},
      {"bare code", "250\r\n", R::complete, 250, 1, "", "250"},
      {"code and space", "250 \r\n", R::complete, 250, 1, "", "250"},
      {"enhanced", "550 5.1.1 <x@y>: no such user\r\n", R::complete, 550, 1, "5.1.1",
       "550 5.1.1 <x@y>: no such user"},
      {"enhanced multi", "550-5.1.1 first\r\n550 5.1.1 second\r\n", R::complete, 550, 2, "5.1.1",
       "550 5.1.1 first second"},
      {"enhanced alone", "451 4.3.0\r\n", R::complete, 451, 1, "4.3.0", "451 4.3.0"},
      {"enhanced of another class", "550 4.1.1 odd\r\n", R::complete, 550, 1, "", "550 4.1.1 odd"},
      {"enhanced three digits", "452 4.123.456 x\r\n", R::complete, 452, 1, "4.123.456",
       "452 4.123.456 x"},
      {"not enhanced: four parts", "250 2.1.0.5 x\r\n", R::complete, 250, 1, "", "250 2.1.0.5 x"},
      {"not enhanced: four digits", "250 2.1000.0 x\r\n", R::complete, 250, 1, "",
       "250 2.1000.0 x"},
      {"not enhanced: glued", "250 2.1.0ok\r\n", R::complete, 250, 1, "", "250 2.1.0ok"},
      {"bare LF", "250-a\n250 b\n", R::complete, 250, 2, "", "250 a b"},
      {"no terminator", "250 ok", R::complete, 250, 1, "", "250 ok"},
      {"control octets", std::string("250 a\x01\x7f\xc3\xa9 b\r\n"), R::complete, 250, 1, "",
       "250 a???? b"},
      {"partial", "250-a\r\n", R::need_more, 0, 0, "", ""},
      {"different codes", "250-a\r\n251 b\r\n", R::malformed, 0, 0, "", ""},
      {"short", "25\r\n", R::malformed, 0, 0, "", ""},
      {"empty line", "\r\n", R::malformed, 0, 0, "", ""},
      {"first digit 6", "650 x\r\n", R::malformed, 0, 0, "", ""},
      {"first digit 1", "150 x\r\n", R::malformed, 0, 0, "", ""},
      {"second digit 6", "260 x\r\n", R::malformed, 0, 0, "", ""},
      {"letter", "2a0 x\r\n", R::malformed, 0, 0, "", ""},
      {"no separator", "250x\r\n", R::malformed, 0, 0, "", ""},
      {"tab separator", "250\tx\r\n", R::malformed, 0, 0, "", ""},
      {"leading space", " 250 x\r\n", R::malformed, 0, 0, "", ""},
      {"100 lines", repeat_lines("250-x\r\n", "250 x\r\n", 100), R::complete, 250, 100, "", ""},
      {"101 lines", repeat_lines("250-x\r\n", "250 x\r\n", 101), R::malformed, 0, 0, "", ""},
      {"longest line", "250 " + std::string(8192 - 6, 'a') + "\r\n", R::complete, 250, 1, "", ""},
      {"line too long", "250 " + std::string(8192 - 5, 'a') + "\r\n", R::malformed, 0, 0, "", ""},
  };
}

// Splits after each LF (the last line may have none).
std::vector<std::string> split_lines(const std::string& input) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < input.size()) {
    const std::size_t lf = input.find('\n', start);
    const std::size_t end = lf == std::string::npos ? input.size() : lf + 1;
    out.push_back(input.substr(start, end - start));
    start = end;
  }
  return out;
}

R feed_lines(ReplyParser& parser, const std::string& input) {
  R last = R::need_more;
  for (const auto& line : split_lines(input)) {
    last = parser.feed(line);
    if (last != R::need_more) break;
  }
  return last;
}

// Through the core's framer, as a session receives replies: the whole input at once, or
// `step` octets at a time. A line the framer finds too long counts as malformed, as the session
// treats it.
R feed_framed(ReplyParser& parser, const std::string& input, std::size_t step,
              bool& framer_refused) {
  core::InputFramer framer(kMaxReplyLineLength);
  framer_refused = false;
  R last = R::need_more;
  for (std::size_t at = 0; at < input.size(); at += step) {
    framer.append(std::string_view(input).substr(at, step));
    for (auto item = framer.next(); item.kind != core::InputFramer::Kind::none;
         item = framer.next()) {
      if (item.kind == core::InputFramer::Kind::too_long) {
        framer_refused = true;
        return R::malformed;
      }
      last = parser.feed(item.data);
      if (last != R::need_more) return last;
    }
    framer.compact();
  }
  return last;
}

void check(const ReplyCase& c, ReplyParser& parser, R result, const char* how,
           bool framer_refused = false) {
  SCOPED_TRACE(std::string(c.name) + " (" + how + ")");
  ASSERT_EQ(result, c.result);
  if (result == R::malformed && !framer_refused) {
    EXPECT_FALSE(parser.error().empty());
    EXPECT_EQ(parser.feed("250 ok\r\n"), R::malformed) << "malformed stays until reset()";
    parser.reset();
    EXPECT_EQ(parser.feed("250 ok\r\n"), R::complete);
    return;
  }
  if (result != R::complete) return;
  const Reply reply = parser.take();
  EXPECT_EQ(reply.code, c.code);
  EXPECT_EQ(reply.lines.size(), c.lines);
  EXPECT_EQ(reply.status, c.status);
  if (!c.text.empty()) {
    EXPECT_EQ(reply.text(), c.text);
  }
  EXPECT_LE(reply.text().size(), kMaxReplyText);
  // The parser is ready for the next reply.
  EXPECT_EQ(parser.feed("221 bye\r\n"), R::complete);
  EXPECT_EQ(parser.take().code, 221);
}

TEST(SmtpOutReply, TableWholeLineByLineAndBytewise) {
  for (const auto& c : reply_cases()) {
    ReplyParser lines;
    check(c, lines, feed_lines(lines, c.input), "line by line");
    if (c.input.back() != '\n') continue;  // the framer hands over complete lines only
    bool refused = false;
    ReplyParser whole;
    R result = feed_framed(whole, c.input, c.input.size(), refused);
    check(c, whole, result, "whole", refused);
    ReplyParser bytewise;
    result = feed_framed(bytewise, c.input, 1, refused);
    check(c, bytewise, result, "byte at a time", refused);
  }
}

TEST(SmtpOutReply, TwoRepliesBackToBack) {
  ReplyParser parser;
  EXPECT_EQ(parser.feed("250-a\r\n"), R::need_more);
  EXPECT_TRUE(parser.partial());
  EXPECT_EQ(parser.feed("250 b\r\n"), R::complete);
  EXPECT_FALSE(parser.partial());
  EXPECT_EQ(parser.take().lines, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(parser.feed("354 go\r\n"), R::complete);
  EXPECT_EQ(parser.take().code, 354);
}

TEST(SmtpOutReply, TextIsBounded) {
  ReplyParser parser;
  for (int i = 0; i < 99; ++i)
    ASSERT_EQ(parser.feed("550-" + std::string(8000, 'x') + "\r\n"), R::need_more);
  ASSERT_EQ(parser.feed("550 end\r\n"), R::complete);
  const std::string text = parser.take().text();
  EXPECT_EQ(text.size(), kMaxReplyText);
  EXPECT_EQ(text.substr(text.size() - 3), "...");
}

TEST(SmtpOutReply, StatusOrDefault) {
  EXPECT_EQ((Reply{250, {"ok"}, ""}).status_or_default(), "2.0.0");
  EXPECT_EQ((Reply{451, {"x"}, ""}).status_or_default(), "4.0.0");
  EXPECT_EQ((Reply{554, {"x"}, ""}).status_or_default(), "5.0.0");
  EXPECT_EQ((Reply{550, {"5.7.1 x"}, "5.7.1"}).status_or_default(), "5.7.1");
}

Reply ehlo(std::vector<std::string> lines) {
  Reply r;
  r.code = 250;
  r.lines = std::move(lines);
  return r;
}

TEST(SmtpOutEhlo, Keywords) {
  const Extensions e =
      parse_ehlo(ehlo({"mx.example.net PIPELINING SIZE", "pipelining", "SIZE 35882577", "8BITMIME",
                       "SmtpUtf8", "CHUNKING", "STARTTLS", "DSN", "ENHANCEDSTATUSCODES",
                       "AUTH PLAIN login CRAM-MD5 PLAIN", "X-UNKNOWN 1"}));
  EXPECT_TRUE(e.pipelining);
  EXPECT_TRUE(e.size);
  EXPECT_EQ(e.size_limit, 35882577u);
  EXPECT_TRUE(e.eight_bit_mime);
  EXPECT_TRUE(e.smtputf8);
  EXPECT_TRUE(e.chunking);
  EXPECT_TRUE(e.starttls);
  EXPECT_TRUE(e.dsn);
  EXPECT_TRUE(e.enhanced_status_codes);
  EXPECT_EQ(e.auth, (std::vector<std::string>{"PLAIN", "LOGIN", "CRAM-MD5"}));
}

TEST(SmtpOutEhlo, FirstLineIsNoKeywordAndSizeVariants) {
  const Extensions none = parse_ehlo(ehlo({"PIPELINING STARTTLS"}));
  EXPECT_FALSE(none.pipelining);
  EXPECT_FALSE(none.starttls);
  EXPECT_EQ(parse_ehlo(ehlo({"mx", "SIZE"})).size_limit, 0u);
  EXPECT_TRUE(parse_ehlo(ehlo({"mx", "SIZE"})).size);
  EXPECT_EQ(parse_ehlo(ehlo({"mx", "SIZE 0"})).size_limit, 0u);
  EXPECT_EQ(parse_ehlo(ehlo({"mx", "SIZE 12x"})).size_limit, 0u);
  EXPECT_EQ(parse_ehlo(ehlo({"mx", "SIZE 99999999999999999999999"})).size_limit, 0u);
  EXPECT_EQ(parse_ehlo(ehlo({"mx", "AUTH=LOGIN PLAIN"})).auth,
            (std::vector<std::string>{"LOGIN", "PLAIN"}));
}

}  // namespace
}  // namespace portico::smtpout
