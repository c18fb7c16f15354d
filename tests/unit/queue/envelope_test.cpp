// Tests of the queue's envelope format: round trips of awkward values (null sender, quoted and
// UTF-8 addresses, line breaks in replies), and a parser that refuses oversize, truncated and
// malformed input with a message naming the line, never crashing.
#include "core/queue/envelope.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace portico::core::queue {
namespace {

sdk::Envelope awkward() {
  sdk::Envelope e;
  e.sender = "";  // the null sender <>
  e.ret = sdk::DsnRet::headers;
  e.envid = "id with spaces %41 and \x01 control";
  e.smtputf8 = true;
  e.eight_bit_mime = true;
  e.received = 1700000000;
  e.auth_user = "ren\xc3\xa9@example.org";
  e.client_address = "2001:db8::1";
  e.helo = "[192.0.2.1]";
  e.attempts = 7;
  e.next_attempt = 1700003600;
  e.last_error = "451 4.4.1 first line\r\n451 second line\nthird: with colon%";
  e.held = true;
  sdk::QueueRecipient a;
  a.address = "\"john \\\"q\\\" public\"@example.net";
  a.notify = sdk::notify_success | sdk::notify_delay;
  a.orcpt = "rfc822;\"john q\"@example.net";
  a.state = sdk::RecipientState::delivered;
  a.reply = "250 2.0.0 queued as X\r\n";
  sdk::QueueRecipient b;
  b.address = "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a";
  b.notify = sdk::notify_never;
  b.state = sdk::RecipientState::failed;
  b.reply = "550-5.1.1 multi\r\n550 5.1.1 line";
  sdk::QueueRecipient c;
  c.address = "end@example.com";  // a value equal to a keyword must not confuse the parser
  c.reply = "end";
  e.recipients = {a, b, c};
  return e;
}

void expect_same(const sdk::Envelope& a, const sdk::Envelope& b) {
  EXPECT_EQ(a.sender, b.sender);
  EXPECT_EQ(a.ret, b.ret);
  EXPECT_EQ(a.envid, b.envid);
  EXPECT_EQ(a.smtputf8, b.smtputf8);
  EXPECT_EQ(a.eight_bit_mime, b.eight_bit_mime);
  EXPECT_EQ(a.received, b.received);
  EXPECT_EQ(a.auth_user, b.auth_user);
  EXPECT_EQ(a.client_address, b.client_address);
  EXPECT_EQ(a.helo, b.helo);
  EXPECT_EQ(a.attempts, b.attempts);
  EXPECT_EQ(a.next_attempt, b.next_attempt);
  EXPECT_EQ(a.last_error, b.last_error);
  EXPECT_EQ(a.held, b.held);
  ASSERT_EQ(a.recipients.size(), b.recipients.size());
  for (std::size_t i = 0; i < a.recipients.size(); ++i) {
    EXPECT_EQ(a.recipients[i].address, b.recipients[i].address);
    EXPECT_EQ(a.recipients[i].notify, b.recipients[i].notify);
    EXPECT_EQ(a.recipients[i].orcpt, b.recipients[i].orcpt);
    EXPECT_EQ(a.recipients[i].state, b.recipients[i].state);
    EXPECT_EQ(a.recipients[i].reply, b.recipients[i].reply);
  }
}

TEST(Envelope, RoundTripsAwkwardValues) {
  sdk::Envelope e = awkward();
  std::string text = format_envelope(e);
  auto parsed = parse_envelope(text);
  ASSERT_TRUE(parsed.envelope) << parsed.message;
  expect_same(e, *parsed.envelope);
}

TEST(Envelope, TextIsOneValuePerLineAndReadable) {
  std::string text = format_envelope(awkward());
  EXPECT_EQ(text.rfind("portico-envelope: 1\n", 0), 0u);
  EXPECT_NE(text.find("\nsender:\n"), std::string::npos);  // the null sender
  EXPECT_NE(text.find("last-error: 451 4.4.1 first line%0D%0A451 second line%0Athird: with "
                      "colon%25\n"),
            std::string::npos);
  // UTF-8 stays readable.
  EXPECT_NE(text.find("auth-user: ren\xc3\xa9@example.org\n"), std::string::npos);
  EXPECT_NE(text.find("notify: success,delay\n"), std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 4), "end\n");
}

TEST(Envelope, DefaultsRoundTrip) {
  sdk::Envelope e;
  e.recipients.push_back({});
  auto parsed = parse_envelope(format_envelope(e));
  ASSERT_TRUE(parsed.envelope) << parsed.message;
  expect_same(e, *parsed.envelope);
}

TEST(Envelope, NotifyWords) {
  EXPECT_EQ(parse_notify(""), 0u);
  EXPECT_EQ(parse_notify("never"), std::uint32_t{sdk::notify_never});
  EXPECT_EQ(parse_notify("failure,success"), sdk::notify_failure | sdk::notify_success);
  EXPECT_FALSE(parse_notify("failure,failure"));
  EXPECT_FALSE(parse_notify("never,failure"));
  EXPECT_FALSE(parse_notify("failure,"));
  EXPECT_FALSE(parse_notify("FAILURE"));
  EXPECT_EQ(format_notify(sdk::notify_failure | sdk::notify_delay), "failure,delay");
}

TEST(Envelope, EscapingRoundTrips) {
  std::string all;
  for (int c = 0; c < 256; ++c)
    all += static_cast<char>(c);
  std::string escaped = escape_value(all);
  for (unsigned char c : escaped)
    EXPECT_FALSE(c < 0x20 || c == 0x7f);
  EXPECT_EQ(unescape_value(escaped), all);
  EXPECT_FALSE(unescape_value("%"));
  EXPECT_FALSE(unescape_value("%4"));
  EXPECT_FALSE(unescape_value("%zz"));
  EXPECT_EQ(unescape_value("%41%6a"), "Aj");
}

struct BadCase {
  const char* name;
  std::string text;
  const char* message;  // a part of the expected message
};

TEST(Envelope, RefusesMalformedInput) {
  const std::string head = "portico-envelope: 1\n";
  const BadCase cases[] = {
      {"empty", "", "empty"},
      {"no version", "sender: a@b\nend\n", "line 1: not a Portico envelope"},
      {"no end", head + "sender: a@b\n", "no \"end\""},
      {"no final newline", head + "end", "truncated"},
      {"after end", head + "end\nsender: x\n", "line 3: text after"},
      {"unknown key", head + "colour: blue\nend\n", "line 2: unknown key \"colour\""},
      {"no colon", head + "sender a@b\nend\n", "line 2: expected \"key: value\""},
      {"no space", head + "sender:a@b\nend\n", "expected a space"},
      {"duplicate", head + "sender: a\nsender: b\nend\n", "line 3: \"sender\" given twice"},
      {"bad number", head + "attempts: 2x\nend\n", "must be a number"},
      {"negative count", head + "attempts: -1\nend\n", "must be a number"},
      {"huge number", head + "received: 99999999999999999999999\nend\n", "must be a number"},
      {"bad flag", head + "smtputf8: maybe\nend\n", "yes or no"},
      {"bad ret", head + "ret: body\nend\n", "\"ret\""},
      {"bad state", head + "recipient: a\nstate: lost\nend\n", "\"state\""},
      {"bad notify", head + "recipient: a\nnotify: always\nend\n", "\"notify\""},
      {"orphan field", head + "state: pending\nend\n", "before any \"recipient\""},
      {"twice in block", head + "recipient: a\nreply: x\nreply: y\nend\n", "given twice"},
      {"bad escape", head + "sender: 100%\nend\n", "bad %-escape"},
      {"raw CR", head + "sender: a\r\nend\n", "raw control character"},
      {"raw NUL", head + std::string("sender: a\0b\n", 12) + "end\n", "raw control"},
      {"bad version", "portico-envelope: one\nend\n", "bad version"},
      {"two versions", head + head + "end\n", "repeated version"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_envelope(c.text);
    EXPECT_FALSE(parsed.envelope) << c.name;
    EXPECT_EQ(parsed.error, sdk::QueueError::damaged) << c.name;
    EXPECT_NE(parsed.message.find(c.message), std::string::npos)
        << c.name << ": got \"" << parsed.message << "\"";
  }
}

TEST(Envelope, NewerVersionIsTooNew) {
  auto parsed = parse_envelope("portico-envelope: 2\nend\n");
  EXPECT_FALSE(parsed.envelope);
  EXPECT_EQ(parsed.error, sdk::QueueError::too_new);
}

TEST(Envelope, RefusesOversize) {
  std::string text = "portico-envelope: 1\nlast-error: ";
  text.append(kMaxEnvelopeSize, 'x');
  text += "\nend\n";
  auto parsed = parse_envelope(text);
  EXPECT_FALSE(parsed.envelope);
  EXPECT_NE(parsed.message.find("larger than"), std::string::npos);
}

TEST(Envelope, RefusesTooManyRecipients) {
  std::string text = "portico-envelope: 1\n";
  for (std::size_t i = 0; i <= kMaxRecipients; ++i)
    text += "recipient: a\n";
  text += "end\n";
  auto parsed = parse_envelope(text);
  EXPECT_FALSE(parsed.envelope);
  EXPECT_NE(parsed.message.find("recipients"), std::string::npos);
}

TEST(Envelope, EveryTruncationIsRefused) {
  std::string text = format_envelope(awkward());
  for (std::size_t n = 0; n < text.size(); ++n) {
    auto parsed = parse_envelope(std::string_view(text).substr(0, n));
    EXPECT_FALSE(parsed.envelope) << "prefix of " << n << " octets parsed";
    EXPECT_FALSE(parsed.message.empty());
  }
}

TEST(Envelope, RandomMutationsNeverCrash) {
  std::string text = format_envelope(awkward());
  std::mt19937 rng(12345);
  for (int round = 0; round < 3000; ++round) {
    std::string m = text;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < edits; ++i) {
      std::size_t at = rng() % m.size();
      switch (rng() % 3) {
        case 0:
          m[at] = static_cast<char>(rng() % 256);
          break;
        case 1:
          m.erase(at, 1 + rng() % 8);
          break;
        default:
          m.insert(at, 1, static_cast<char>(rng() % 256));
      }
      if (m.empty()) m = "x";
    }
    auto parsed = parse_envelope(m);
    if (parsed.envelope) {
      auto again = parse_envelope(format_envelope(*parsed.envelope));
      ASSERT_TRUE(again.envelope) << again.message;
    } else {
      EXPECT_FALSE(parsed.message.empty());
    }
  }
}

}  // namespace
}  // namespace portico::core::queue
