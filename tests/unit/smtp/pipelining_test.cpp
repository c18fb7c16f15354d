// smtp-in's forbid_unauth_pipelining (RFC 5321 sections 3.1 and 4.3.1, RFC 2920 section 3.1):
// a client that sends before it could have read the greeting, or a reply it must wait for, is
// answered 554 5.5.0 and disconnected; one that waits is served, and so is any client with the
// setting off.
//
// The test kit's driver with client_waits off reports what is buffered behind the line being
// handled as SessionContext::input_pending(), as the core does: each read below is one arrival
// of client bytes, and `early` arrived before the session started. Fed one byte at a time, no
// client is out of step: nothing is ever buffered behind a line.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "session_driver.h"
#include "smtp_plugin.h"

namespace portico::testing {
namespace {

constexpr const char* kRefusal = "554 5.5.0 Error: SMTP protocol synchronization\r\n";
const std::string kMail = "MAIL FROM:<s@remote.example>\r\n";
const std::string kRcpt = "RCPT TO:<alice@example.test>\r\n";
const std::string kContent = "Subject: x\r\n\r\nbody\r\n.\r\n";

struct Case {
  Case(const char* name, std::string early, std::vector<std::string> reads,
       const char* refused_after, std::size_t delivered = 0, std::string yaml = {})
      : name(name),
        early(std::move(early)),
        reads(std::move(reads)),
        refused_after(refused_after),
        delivered(delivered),
        yaml(std::move(yaml)) {}
  const char* name;
  std::string early;               // sent before the greeting
  std::vector<std::string> reads;  // each arrives after every earlier reply was sent
  const char* refused_after;       // what Postfix would log; nullptr: served
  std::size_t delivered;           // messages in alice's INBOX afterwards
  std::string yaml;                // the plugin's settings
};

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"talks before the greeting", "EHLO c\r\n", {}, "CONNECT"},
      {"waits for the greeting", "", {"EHLO c\r\n", "QUIT\r\n"}, nullptr},
      {"HELO, then two commands in one go", "", {"HELO c\r\n", kMail + kRcpt}, "MAIL"},
      {"HELO and MAIL in one go", "", {"HELO c\r\n" + kMail}, "HELO"},
      {"a command before EHLO, with EHLO", "", {"RSET\r\nEHLO c\r\n"}, "RSET"},
      {"EHLO and MAIL in one go", "", {"EHLO c\r\n" + kMail}, "EHLO"},
      {"EHLO, then MAIL RCPT DATA in one go; QUIT right after the dot",
       "",
       {"EHLO c\r\n", kMail + kRcpt + "DATA\r\n", kContent + "QUIT\r\n"},
       nullptr,
       1},
      {"DATA and the content in one go",
       "",
       {"EHLO c\r\n", kMail + kRcpt + "DATA\r\n" + kContent},
       "DATA"},
      {"NOOP and MAIL in one go after EHLO", "", {"EHLO c\r\n", "NOOP\r\n" + kMail}, "NOOP"},
      {"RSET and MAIL in one go after EHLO", "", {"EHLO c\r\n", "RSET\r\n" + kMail}, nullptr},
      {"BDAT with its chunk in one go after EHLO",
       "",
       {"EHLO c\r\n", kMail + kRcpt + "BDAT 20 LAST\r\nSubject: x\r\n\r\nbody\r\n"},
       nullptr,
       1},
      {"HELO client waiting for each reply; QUIT right after the dot",
       "",
       {"HELO c\r\n", kMail, kRcpt, "DATA\r\n", kContent + "QUIT\r\n"},
       nullptr,
       1},
      {"setting off: a whole dialogue before the greeting",
       "HELO c\r\n" + kMail + kRcpt + "DATA\r\n" + kContent + "QUIT\r\n",
       {},
       nullptr,
       1,
       "forbid_unauth_pipelining: false\n"},
      {"setting off: EHLO and DATA with the content in one go",
       "",
       {"EHLO c\r\n" + kMail + kRcpt + "DATA\r\n" + kContent},
       nullptr,
       1,
       "forbid_unauth_pipelining: false\n"},
  };
  return all;
}

std::size_t inbox(TestServices& s) {
  auto r = s.store().fetch("alice@example.test", "INBOX", {}, false, 0);
  return r.ok() ? r.value.size() : 0;
}

struct Outcome {
  std::string output;
  std::vector<std::string> logged;
  bool closed = false;
  std::size_t delivered = 0;
};

Outcome run(const Case& c, bool bytewise) {
  TestServices services;
  services.directory().add_domain("example.test");
  services.directory().add_account("alice@example.test", "Alice", 0, std::string_view("secret"),
                                   std::nullopt);
  TestHost host(services);
  std::shared_ptr<sdk::Plugin> plugin = load_smtp_in(host);
  Outcome r;
  {
    DriverOptions options;
    options.client_waits = false;
    SessionDriver wire(*plugin, host, validated_settings(*plugin, "smtp-in", c.yaml), options);
    wire.feed(c.early);
    wire.start();
    for (const auto& read : c.reads) {
      if (!bytewise) {
        wire.feed(read);
        continue;
      }
      for (char ch : read)
        wire.feed(std::string_view(&ch, 1));
    }
    r.output = wire.take();
    for (const auto& line : host.log_lines()) {
      if (line.rfind("info: ", 0) == 0) r.logged.push_back(line.substr(6));
    }
    r.closed = wire.closed();
  }
  r.delivered = inbox(services);
  return r;
}

TEST(SmtpPipelining, RefusedOnlyWhenOutOfStep) {
  for (const Case& c : cases()) {
    const Outcome r = run(c, false);
    const bool refused = r.output.find("554 5.5.0") != std::string::npos;
    EXPECT_EQ(refused, c.refused_after != nullptr) << c.name << "\n" << r.output;
    EXPECT_EQ(r.delivered, c.delivered) << c.name << "\n" << r.output;
    if (c.refused_after == nullptr) continue;
    // The refusal is the last thing said, and the connection ends with it.
    ASSERT_GE(r.output.size(), std::string(kRefusal).size()) << c.name;
    EXPECT_EQ(r.output.substr(r.output.size() - std::string(kRefusal).size()), kRefusal) << c.name;
    EXPECT_TRUE(r.closed) << c.name;
    const std::string expected_log =
        std::string("improper command pipelining after ") + c.refused_after + " from [192.0.2.1]: ";
    bool logged = false;
    for (const auto& line : r.logged)
      logged = logged || line.rfind(expected_log, 0) == 0;
    EXPECT_TRUE(logged) << c.name << ": no log line starting \"" << expected_log << "\"";
  }
}

TEST(SmtpPipelining, TheGreetingComesFirstEvenForAnEarlyTalker) {
  const Outcome r = run(cases()[0], false);
  EXPECT_EQ(r.output, std::string("220 mail.example.test ESMTP Portico\r\n") + kRefusal);
  ASSERT_FALSE(r.logged.empty());
  EXPECT_EQ(r.logged.back(), "improper command pipelining after CONNECT from [192.0.2.1]: EHLO c");
}

TEST(SmtpPipelining, OneByteAtATimeNobodyIsOutOfStep) {
  // Bytes that arrive after the reply was sent were sent after it could be read.
  for (const Case& c : cases()) {
    if (!c.early.empty()) continue;
    const Outcome r = run(c, true);
    EXPECT_EQ(r.output.find("554 5.5.0"), std::string::npos) << c.name << "\n" << r.output;
  }
}

TEST(SmtpPipelining, TheLoggedInputIsEscapedAndCut) {
  Case c{"control octets",
         "",
         {"HELO c\r\nMAIL \x01\x7f\xc3\xa9" + std::string(200, 'x') + "\r\n"},
         "HELO"};
  const Outcome r = run(c, false);
  ASSERT_FALSE(r.logged.empty());
  const std::string& line = r.logged.back();
  EXPECT_NE(line.find(": MAIL \\x01\\x7F\\xC3\\xA9xxx"), std::string::npos) << line;
  EXPECT_EQ(line.substr(line.size() - 3), "...");
  EXPECT_LT(line.size(), 200u);
}

}  // namespace
}  // namespace portico::testing
