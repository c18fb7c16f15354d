// smtp-out client session against scripted servers: which recipient gets which outcome and
// status, the hooks' contract with the scheduler (job_done exactly once per Job taken, closed
// exactly once and last, first_job_untouched when the connection fails before the first MAIL),
// connection failures at each stage (greeting, EHLO, STARTTLS handshake, AUTH, malformed
// replies, drops and timeouts mid-job), the message stream (pieces, dot-stuffing across pieces,
// BDAT chunks, output throttling, an unreadable spool file), and random server bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <thread>

#include "client_fixture.h"
#include "message_stream.h"

namespace portico::smtpout::testing {
namespace {

const std::string kGreeting = "220 mx.example.net ESMTP\r\n";
const std::string kEhloPipelining = "250-mx.example.net\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
const std::string kEhloPlain = "250-mx.example.net\r\n250 8BITMIME\r\n";

std::vector<std::string> events(std::initializer_list<const char*> list) {
  return std::vector<std::string>(list.begin(), list.end());
}

TEST(SmtpOutSession, Greeting554LeavesTheFirstJobUntouched) {
  TempDir dir;
  Scheduler s;
  Connection c(default_options(), s.hooks(), make_job(dir, "q", {"bob@example.net"}));
  EXPECT_TRUE(c.driver->in_command()) << "waiting for the greeting is waiting for a reply";
  EXPECT_EQ(c.feed("554 5.7.1 mx.example.net: no thanks\r\n"), "QUIT\r\n");
  c.feed("221 bye\r\n");
  EXPECT_TRUE(c.driver->closed());
  EXPECT_EQ(s.events, events({"closed"}));
  ASSERT_EQ(s.reports.size(), 1u);
  EXPECT_TRUE(s.reports[0].first_job_untouched);
  EXPECT_NE(s.reports[0].error.find("554 5.7.1 mx.example.net: no thanks"), std::string::npos);
  EXPECT_EQ(s.reports[0].remote_host, "mx.example.net");
  EXPECT_EQ(s.reports[0].remote_address, "192.0.2.1");
}

TEST(SmtpOutSession, Greeting421ClosesWithoutQuit) {
  TempDir dir;
  Scheduler s;
  Connection c(default_options(), s.hooks(), make_job(dir, "q", {"bob@example.net"}));
  EXPECT_EQ(c.feed("421 4.3.2 busy, try later\r\n"), "");
  EXPECT_TRUE(c.driver->closed());
  EXPECT_EQ(s.events, events({"closed"}));
  EXPECT_TRUE(s.reports[0].first_job_untouched);
}

TEST(SmtpOutSession, DropDuringEhloLeavesTheFirstJobUntouched) {
  TempDir dir;
  Scheduler s;
  Connection c(default_options(), s.hooks(), make_job(dir, "q", {"bob@example.net"}));
  EXPECT_EQ(c.feed(kGreeting), "EHLO mail.example.test\r\n");
  c.feed("250-mx.example.net\r\n250-PIPE");  // part of the reply, then the peer is gone
  c.driver->disconnect();
  EXPECT_EQ(s.events, events({"closed"}));
  EXPECT_TRUE(s.reports[0].first_job_untouched);
  EXPECT_EQ(s.reports[0].error, "the connection was lost while waiting for the reply to EHLO");
  EXPECT_EQ(s.reports[0].greeting, "220 mx.example.net ESMTP");
}

TEST(SmtpOutSession, TlsHandshakeFailureLeavesTheFirstJobUntouched) {
  TempDir dir;
  Scheduler s;
  Connection c(default_options(), s.hooks(), make_job(dir, "q", {"bob@example.net"}));
  c.context.fail_tls = true;  // the core accepts, then the handshake fails and it closes
  c.feed(kGreeting);
  EXPECT_EQ(c.feed("250-mx.example.net\r\n250 STARTTLS\r\n"), "STARTTLS\r\n");
  EXPECT_EQ(c.feed("220 2.0.0 go ahead\r\n"), "");
  EXPECT_EQ(c.context.start_tls_calls, 1);
  c.driver->disconnect();
  EXPECT_EQ(s.events, events({"closed"}));
  EXPECT_TRUE(s.reports[0].first_job_untouched);
  EXPECT_TRUE(s.reports[0].tls_failed);
  EXPECT_EQ(s.reports[0].tls, "");
  EXPECT_EQ(s.reports[0].error, "the TLS handshake failed");
}

TEST(SmtpOutSession, StarttlsRefusedGoesOnInPlainTextUnlessRequired) {
  TempDir dir;
  {
    Scheduler s;
    Connection c(default_options(), s.hooks(), make_job(dir, "q", {"bob@example.net"}));
    c.feed(kGreeting);
    EXPECT_EQ(c.feed("250-mx.example.net\r\n250-PIPELINING\r\n250 STARTTLS\r\n"), "STARTTLS\r\n");
    EXPECT_EQ(c.feed("454 4.7.0 TLS not available\r\n"),
              "MAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n");
  }
  {
    Scheduler s;
    ClientOptions o = default_options();
    o.require_tls = true;
    Connection c(o, s.hooks(), make_job(dir, "q", {"bob@example.net"}));
    c.feed(kGreeting);
    c.feed("250-mx.example.net\r\n250 STARTTLS\r\n");
    EXPECT_EQ(c.feed("454 4.7.0 TLS not available\r\n"), "QUIT\r\n");
    EXPECT_EQ(s.events, events({"closed"}));
    EXPECT_TRUE(s.reports[0].first_job_untouched);
    EXPECT_NE(s.reports[0].error.find("TLS is required"), std::string::npos);
  }
}

TEST(SmtpOutSession, RequireTlsWithoutStarttlsSendsNothing) {
  TempDir dir;
  Scheduler s;
  ClientOptions o = default_options();
  o.require_tls = true;
  Connection c(o, s.hooks(), make_job(dir, "q", {"bob@example.net"}));
  c.feed(kGreeting);
  EXPECT_EQ(c.feed(kEhloPipelining), "QUIT\r\n");
  EXPECT_EQ(s.events, events({"closed"}));
  EXPECT_TRUE(s.reports[0].first_job_untouched);
  EXPECT_EQ(s.reports[0].error, "TLS is required and the server does not offer STARTTLS");
}

TEST(SmtpOutSession, TlsReportedAfterStarttls) {
  TempDir dir;
  Scheduler s;
  Connection c(default_options(), s.hooks(), make_job(dir, "q", {"bob@example.net"}));
  c.feed(kGreeting);
  c.feed("250-mx.example.net\r\n250-DSN\r\n250 STARTTLS\r\n");
  EXPECT_EQ(c.feed("220 go\r\n"), "EHLO mail.example.test\r\n");
  EXPECT_TRUE(c.driver->tls());
  c.feed(kEhloPipelining);  // no DSN any more: the first reply is forgotten
  c.feed("250 ok\r\n250 ok\r\n354 go\r\n250 ok\r\n");
  ASSERT_EQ(s.reports.size(), 1u);
  EXPECT_EQ(s.reports[0].tls, "TLSv1.3 TEST");
  EXPECT_TRUE(s.reports[0].tls_verified);
  EXPECT_FALSE(s.reports[0].dsn_supported);
  EXPECT_FALSE(s.reports[0].first_job_untouched);
  EXPECT_EQ(s.reports[0].error, "");
}

TEST(SmtpOutSession, AuthFailureLeavesTheFirstJobUntouched) {
  TempDir dir;
  Scheduler s;
  ClientOptions o = default_options();
  o.auth_user = "user";
  o.auth_password = "wrong";
  o.allow_auth_without_tls = true;
  Connection c(o, s.hooks(), make_job(dir, "q", {"bob@example.net"}));
  c.feed(kGreeting);
  EXPECT_EQ(c.feed("250-relay\r\n250 AUTH PLAIN\r\n"), "AUTH PLAIN AHVzZXIAd3Jvbmc=\r\n");
  EXPECT_EQ(c.feed("535 5.7.8 Authentication credentials invalid\r\n"), "QUIT\r\n");
  EXPECT_EQ(s.events, events({"closed"}));
  EXPECT_TRUE(s.reports[0].first_job_untouched);
  EXPECT_NE(s.reports[0].error.find("535 5.7.8"), std::string::npos);
}

TEST(SmtpOutSession, AuthNeverWithoutTlsUnlessAllowed) {
  TempDir dir;
  Scheduler s;
  ClientOptions o = default_options();
  o.auth_user = "user";
  o.auth_password = "secret";
  Connection c(o, s.hooks(), make_job(dir, "q", {"bob@example.net"}));
  c.feed(kGreeting);
  EXPECT_EQ(c.feed("250-relay\r\n250 AUTH PLAIN LOGIN\r\n"), "QUIT\r\n");
  EXPECT_TRUE(s.reports[0].first_job_untouched);
  EXPECT_EQ(s.reports[0].error, "not authenticating to the relay without TLS");
}

TEST(SmtpOutSession, AuthWithoutAUsableMechanism) {
  TempDir dir;
  Scheduler s;
  ClientOptions o = default_options();
  o.auth_user = "user";
  o.allow_auth_without_tls = true;
  Connection c(o, s.hooks(), make_job(dir, "q", {"bob@example.net"}));
  c.feed(kGreeting);
  EXPECT_EQ(c.feed("250-relay\r\n250 AUTH CRAM-MD5 GSSAPI\r\n"), "QUIT\r\n");
  EXPECT_TRUE(s.reports[0].first_job_untouched);
}

TEST(SmtpOutSession, OutcomePerRecipientWithStatuses) {
  TempDir dir;
  Scheduler s;
  Connection c(
      default_options(), s.hooks(),
      make_job(dir, "q", {"a@example.net", "b@example.net", "c@example.net", "d@example.net"}));
  c.feed(kGreeting);
  c.feed(kEhloPipelining);
  c.feed(
      "250 ok\r\n"
      "250 ok\r\n"
      "550 5.1.1 no such user\r\n"
      "451 try later\r\n"  // no enhanced code: one chosen by class
      "250 ok\r\n"
      "354 go\r\n");
  EXPECT_EQ(c.feed("250 2.0.0 queued as X\r\n"), "QUIT\r\n");
  EXPECT_EQ(s.events, events({"job_done:q", "next_job:none", "closed"}));
  const auto& o = s.outcomes("q");
  ASSERT_EQ(o.size(), 4u);
  EXPECT_EQ(o[0].index, 0u);
  EXPECT_EQ(o[0].outcome, Outcome::delivered);
  EXPECT_EQ(o[0].status, "2.0.0");
  EXPECT_EQ(o[0].reply, "250 2.0.0 queued as X");
  EXPECT_EQ(o[1].outcome, Outcome::permanent);
  EXPECT_EQ(o[1].status, "5.1.1");
  EXPECT_EQ(o[1].reply, "550 5.1.1 no such user");
  EXPECT_EQ(o[2].outcome, Outcome::temporary);
  EXPECT_EQ(o[2].status, "4.0.0");
  EXPECT_EQ(o[2].reply, "451 try later");
  EXPECT_EQ(o[3].index, 3u);
  EXPECT_EQ(o[3].outcome, Outcome::delivered);
  EXPECT_FALSE(s.reports[0].first_job_untouched);
}

TEST(SmtpOutSession, OnlyTheJobsRecipientsInItsOrder) {
  TempDir dir;
  Scheduler s;
  Job job = make_job(dir, "q", {"a@example.net", "b@example.net", "c@example.net"});
  job.recipients = {2, 0, 7, 2};  // 7 does not exist, the second 2 is a repeat
  Connection c(default_options(), s.hooks(), job);
  c.feed(kGreeting);
  EXPECT_EQ(c.feed(kEhloPipelining),
            "MAIL FROM:<alice@example.test>\r\nRCPT TO:<c@example.net>\r\n"
            "RCPT TO:<a@example.net>\r\nDATA\r\n");
  c.feed("250 ok\r\n250 ok\r\n550 no\r\n354 go\r\n250 ok\r\n");
  const auto& o = s.outcomes("q");
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0].index, 2u);
  EXPECT_EQ(o[0].outcome, Outcome::delivered);
  EXPECT_EQ(o[1].index, 0u);
  EXPECT_EQ(o[1].outcome, Outcome::permanent);
  EXPECT_EQ(o[1].status, "5.0.0");
}

TEST(SmtpOutSession, EndOfDataRefusedTemporarily) {
  TempDir dir;
  Scheduler s;
  Connection c(default_options(), s.hooks(),
               make_job(dir, "q", {"a@example.net", "b@example.net"}));
  c.feed(kGreeting);
  c.feed(kEhloPipelining);
  c.feed("250 ok\r\n550 5.1.1 unknown\r\n250 ok\r\n354 go\r\n");
  c.feed("451 4.7.1 greylisted\r\n");
  const auto& o = s.outcomes("q");
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0].outcome, Outcome::permanent);  // decided by its RCPT reply
  EXPECT_EQ(o[0].status, "5.1.1");
  EXPECT_EQ(o[1].outcome, Outcome::temporary);
  EXPECT_EQ(o[1].status, "4.7.1");
  EXPECT_EQ(o[1].reply, "451 4.7.1 greylisted");
}

TEST(SmtpOutSession, MailRefusedDecidesEveryRecipient) {
  TempDir dir;
  Scheduler s;
  Connection c(default_options(), s.hooks(),
               make_job(dir, "q", {"a@example.net", "b@example.net"}));
  c.feed(kGreeting);
  c.feed(kEhloPlain);
  EXPECT_EQ(c.feed("553 5.7.1 sender rejected\r\n"), "QUIT\r\n");
  const auto& o = s.outcomes("q");
  ASSERT_EQ(o.size(), 2u);
  for (const auto& r : o) {
    EXPECT_EQ(r.outcome, Outcome::permanent);
    EXPECT_EQ(r.status, "5.7.1");
  }
}

TEST(SmtpOutSession, TimeoutMidRcptIsTemporary447) {
  TempDir dir;
  Scheduler s;
  ClientOptions o = default_options();
  o.reply_timeout = std::chrono::milliseconds(1);
  Connection c(o, s.hooks(), make_job(dir, "q", {"a@example.net", "b@example.net"}));
  c.feed(kGreeting);
  c.feed(kEhloPipelining);
  c.feed("250 ok\r\n550 5.1.1 unknown\r\n");  // MAIL, the first RCPT; then silence
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  c.driver->disconnect();  // the core's command timeout closes the connection
  EXPECT_EQ(s.events, events({"job_done:q", "closed"}));
  const auto& out = s.outcomes("q");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].outcome, Outcome::permanent);
  EXPECT_EQ(out[1].outcome, Outcome::temporary);
  EXPECT_EQ(out[1].status, "4.4.7");
  EXPECT_EQ(out[1].reply, "timed out waiting for the reply to RCPT TO");
  EXPECT_FALSE(s.reports[0].first_job_untouched);
  EXPECT_EQ(s.reports[0].error, "timed out waiting for the reply to RCPT TO");
}

TEST(SmtpOutSession, DropMidDataIsTemporary442ForTheAcceptedOnly) {
  TempDir dir;
  Scheduler s;
  ClientOptions o = default_options();
  o.reply_timeout = std::chrono::minutes(1);
  Connection c(o, s.hooks(),
               make_job(dir, "q", {"a@example.net", "b@example.net", "c@example.net"}));
  c.feed(kGreeting);
  c.feed(kEhloPipelining);
  const std::string data =
      c.feed("250 ok\r\n250 ok\r\n552 5.2.2 over quota\r\n250 ok\r\n354 go\r\n");
  EXPECT_NE(data.find("\r\n.\r\n"), std::string::npos);
  c.driver->disconnect();
  const auto& out = s.outcomes("q");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].outcome, Outcome::temporary);
  EXPECT_EQ(out[0].status, "4.4.2");
  EXPECT_EQ(out[0].reply,
            "the connection was lost while waiting for the reply to the end of the data");
  EXPECT_EQ(out[1].outcome, Outcome::permanent);
  EXPECT_EQ(out[1].status, "5.2.2");
  EXPECT_EQ(out[2].status, "4.4.2");
  EXPECT_EQ(s.events, events({"job_done:q", "closed"}));
}

TEST(SmtpOutSession, TwoJobsEachDoneOnceClosedLast) {
  TempDir dir;
  Scheduler s;
  s.more.push_back(make_job(dir, "second", {"c@example.net", "d@example.net"}));
  Connection c(default_options(), s.hooks(), make_job(dir, "first", {"b@example.net"}));
  c.feed(kGreeting);
  c.feed(kEhloPipelining);
  EXPECT_EQ(c.feed("250 ok\r\n250 ok\r\n354 go\r\n").substr(0, 8), "Subject:");
  EXPECT_EQ(c.feed("250 ok\r\n"), "RSET\r\n");
  EXPECT_EQ(c.feed("250 ok\r\n"),
            "MAIL FROM:<alice@example.test>\r\nRCPT TO:<c@example.net>\r\n"
            "RCPT TO:<d@example.net>\r\nDATA\r\n");
  // The server gives up in the middle of the second job.
  c.feed("250 ok\r\n250 ok\r\n421 4.3.0 shutting down\r\n");
  EXPECT_TRUE(c.driver->closed());
  EXPECT_EQ(s.events, events({"job_done:first", "next_job:second", "job_done:second", "closed"}));
  EXPECT_EQ(s.outcomes("first")[0].outcome, Outcome::delivered);
  const auto& second = s.outcomes("second");
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0].outcome, Outcome::temporary);
  EXPECT_EQ(second[0].status, "4.3.0");
  EXPECT_EQ(second[1].reply, "the server closed the connection: 421 4.3.0 shutting down");
}

TEST(SmtpOutSession, DropDuringRsetFailsTheTakenJob) {
  TempDir dir;
  Scheduler s;
  s.more.push_back(make_job(dir, "second", {"c@example.net"}));
  Connection c(default_options(), s.hooks(), make_job(dir, "first", {"b@example.net"}));
  c.feed(kGreeting);
  c.feed(kEhloPipelining);
  c.feed("250 ok\r\n250 ok\r\n354 go\r\n");
  EXPECT_EQ(c.feed("250 ok\r\n"), "RSET\r\n");
  c.driver->disconnect();
  EXPECT_EQ(s.events, events({"job_done:first", "next_job:second", "job_done:second", "closed"}));
  EXPECT_EQ(s.outcomes("second")[0].status, "4.4.2");
  EXPECT_FALSE(s.reports[0].first_job_untouched);
}

TEST(SmtpOutSession, MalformedReplyBeforeMailClosesUntouched) {
  TempDir dir;
  Scheduler s;
  Connection c(default_options(), s.hooks(), make_job(dir, "q", {"b@example.net"}));
  c.feed(kGreeting);
  EXPECT_EQ(c.feed("250-mx.example.net\r\n251 PIPELINING\r\n"), "");
  EXPECT_TRUE(c.driver->closed());
  EXPECT_EQ(s.events, events({"closed"}));
  EXPECT_TRUE(s.reports[0].first_job_untouched);
  EXPECT_NE(s.reports[0].error.find("malformed reply"), std::string::npos);
}

TEST(SmtpOutSession, MalformedOrTooLongReplyMidJobIsTemporary) {
  TempDir dir;
  for (const std::string& bad : std::vector<std::string>{
           "HTTP/1.1 400 Bad Request\r\n", "250 " + std::string(9000, 'x') + "\r\n"}) {
    Scheduler s;
    Connection c(default_options(), s.hooks(),
                 make_job(dir, "q", {"a@example.net", "b@example.net"}));
    c.feed(kGreeting);
    c.feed(kEhloPipelining);
    c.feed("250 ok\r\n250 ok\r\n" + bad);
    EXPECT_TRUE(c.driver->closed());
    const auto& out = s.outcomes("q");
    ASSERT_EQ(out.size(), 2u);
    for (const auto& r : out) {
      EXPECT_EQ(r.outcome, Outcome::temporary);
      EXPECT_EQ(r.status, "4.5.0");
      EXPECT_NE(r.reply.find("malformed reply"), std::string::npos);
    }
  }
}

// RFC 3207 section 5: nothing the server sends between its 220 to STARTTLS and the handshake
// may be taken as a reply (the core discards what it buffered; anything else is refused).
TEST(SmtpOutSession, ReplyWhileNothingIsAwaitedCloses) {
  TempDir dir;
  Scheduler s;
  Connection c(default_options(), s.hooks(), make_job(dir, "q", {"b@example.net"}));
  c.context.fail_tls = true;  // the handshake never completes: input still flows
  c.feed(kGreeting);
  c.feed("250-mx.example.net\r\n250 STARTTLS\r\n");
  EXPECT_EQ(c.feed("220 go ahead\r\n250-mx.example.net\r\n250 PIPELINING\r\n"), "");
  EXPECT_TRUE(c.driver->closed());
  EXPECT_TRUE(s.reports[0].first_job_untouched);
  EXPECT_NE(s.reports[0].error.find("unexpected reply"), std::string::npos);
}

// The message larger than a piece, with a "." starting the line that begins the second piece
// and a CRLF split between the first two: stuffed and framed as if it were read whole.
TEST(SmtpOutSession, DotStuffingAcrossPieces) {
  TempDir dir;
  std::string message = "Subject: big\r\n\r\n";
  while (message.size() < kPieceSize - 2)
    message += "x";
  message += "\r\n.starts the second piece\r\n";
  while (message.size() < 2 * kPieceSize - 1)
    message += 'y';
  message += "\r";  // the CR of a CRLF ends the second piece
  message += "\n.after a split CRLF\r\nend";
  ASSERT_EQ(message[kPieceSize], '.');
  ASSERT_EQ(message[2 * kPieceSize - 1], '\r');
  Scheduler s;
  Connection c(default_options(), s.hooks(), make_job(dir, "q", {"b@example.net"}, message));
  c.feed(kGreeting);
  c.feed(kEhloPipelining);
  const std::string sent = c.feed("250 ok\r\n250 ok\r\n354 go\r\n");
  DataEncoder whole(true);
  std::string expected;
  whole.encode(message, expected);
  whole.finish(expected);
  EXPECT_EQ(sent, expected);
  EXPECT_NE(sent.find("\r\n..starts the second piece\r\n"), std::string::npos);
  EXPECT_NE(sent.find("\r\n..after a split CRLF\r\nend\r\n.\r\n"), std::string::npos);
}

// A message read when its entry was claimed is sent from memory, stuffed and framed as one read
// from its file, over DATA and over BDAT; its file is not read again (here there is none).
TEST(SmtpOutSession, AMessageReadWhenClaimedIsSentWithoutItsFile) {
  TempDir dir;
  const std::string message = "Subject: claimed\r\n\r\n.a dot\r\nend";
  DataEncoder whole(true);
  std::string expected;
  whole.encode(message, expected);
  whole.finish(expected);
  // A job whose octets were read when claimed, and whose file is gone since.
  auto claimed_job = [&](const std::string& id) {
    Job job = make_job(dir, id, {"b@example.net"}, message);
    job.octets = std::make_shared<const std::string>(message);
    job.message_path = (dir.path() / "gone").string();
    return job;
  };
  {
    Scheduler s;
    Connection c(default_options(), s.hooks(), claimed_job("q"));
    c.feed(kGreeting);
    c.feed(kEhloPipelining);
    EXPECT_EQ(c.feed("250 ok\r\n250 ok\r\n354 go\r\n"), expected);
    c.feed("250 queued\r\n");
    ASSERT_EQ(s.outcomes("q").size(), 1u);
    EXPECT_EQ(s.outcomes("q")[0].outcome, Outcome::delivered);
  }
  Scheduler s;
  Connection c(default_options(), s.hooks(), claimed_job("r"));
  c.feed(kGreeting);
  // PIPELINING with CHUNKING: the one chunk goes with MAIL and RCPT.
  const std::string sent = c.feed("250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n");
  DataEncoder raw(false);
  std::string data;
  raw.encode(message, data);
  raw.finish(data);
  EXPECT_NE(sent.find("BDAT " + std::to_string(data.size()) + " LAST\r\n" + data),
            std::string::npos)
      << sent;
}

TEST(SmtpOutSession, ThrottledOutputWaitsForDrain) {
  TempDir dir;
  const std::string message(3 * kPieceSize + 100, 'z');
  Scheduler s;
  Connection c(default_options(), s.hooks(), make_job(dir, "q", {"b@example.net"}, message));
  c.feed(kGreeting);
  c.feed(kEhloPipelining);
  c.context.pending = kOutputThrottle;  // the core's buffer is full from here on
  std::string sent = c.feed("250 ok\r\n250 ok\r\n354 go\r\n");
  EXPECT_EQ(sent.size(), kPieceSize) << "one piece, then it waits";
  c.session->on_output_drained();
  c.driver->feed("");
  EXPECT_EQ(c.driver->take().size(), kPieceSize);
  c.context.pending = 0;
  c.session->on_output_drained();
  c.driver->feed("");
  sent = c.driver->take();
  EXPECT_EQ(sent.size(), kPieceSize + 100 + 2 + 3);
  EXPECT_EQ(sent.substr(sent.size() - 5), "\r\n.\r\n");
  c.session->on_output_drained();  // a late drain changes nothing
  c.driver->feed("");
  EXPECT_EQ(c.driver->take(), "");
  EXPECT_EQ(c.feed("250 ok\r\n"), "QUIT\r\n");
  EXPECT_EQ(s.outcomes("q")[0].outcome, Outcome::delivered);
}

TEST(SmtpOutSession, BdatChunksPipelined) {
  TempDir dir;
  const std::string message(kPieceSize + 10, 'b');
  Scheduler s;
  Connection c(default_options(), s.hooks(), make_job(dir, "q", {"b@example.net"}, message));
  c.feed(kGreeting);
  const std::string first = c.feed("250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n");
  EXPECT_EQ(first, "MAIL FROM:<alice@example.test>\r\nRCPT TO:<b@example.net>\r\nBDAT 65536\r\n" +
                       message.substr(0, kPieceSize));
  // Once RCPT is accepted the rest goes without waiting for the first chunk's reply.
  EXPECT_EQ(c.feed("250 ok\r\n250 ok\r\n"), "BDAT 12 LAST\r\n" + std::string(10, 'b') + "\r\n");
  EXPECT_EQ(c.feed("250 2.0.0 chunk ok\r\n"), "");
  EXPECT_EQ(c.feed("250 2.0.0 queued\r\n"), "QUIT\r\n");
  EXPECT_EQ(s.outcomes("q")[0].outcome, Outcome::delivered);
  EXPECT_EQ(s.outcomes("q")[0].reply, "250 2.0.0 queued");
}

TEST(SmtpOutSession, BdatWithoutPipeliningWaitsForEachChunk) {
  TempDir dir;
  const std::string message(kPieceSize + 10, 'b');
  Scheduler s;
  Connection c(default_options(), s.hooks(), make_job(dir, "q", {"b@example.net"}, message));
  c.feed(kGreeting);
  EXPECT_EQ(c.feed("250-mx\r\n250 CHUNKING\r\n"), "MAIL FROM:<alice@example.test>\r\n");
  EXPECT_EQ(c.feed("250 ok\r\n"), "RCPT TO:<b@example.net>\r\n");
  EXPECT_EQ(c.feed("250 ok\r\n"), "BDAT 65536\r\n" + message.substr(0, kPieceSize));
  EXPECT_EQ(c.feed("250 ok\r\n"), "BDAT 12 LAST\r\n" + std::string(10, 'b') + "\r\n");
  EXPECT_EQ(c.feed("250 ok\r\n"), "QUIT\r\n");
}

TEST(SmtpOutSession, BdatChunkRefusedStopsTheChunks) {
  TempDir dir;
  const std::string message(3 * kPieceSize, 'b');
  Scheduler s;
  Connection c(default_options(), s.hooks(), make_job(dir, "q", {"b@example.net"}, message));
  c.feed(kGreeting);
  c.feed("250-mx\r\n250 CHUNKING\r\n");
  c.feed("250 ok\r\n");
  c.feed("250 ok\r\n");  // RCPT: the first chunk goes
  EXPECT_EQ(c.feed("552 5.3.4 message too big\r\n"), "QUIT\r\n");
  const auto& out = s.outcomes("q");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].outcome, Outcome::permanent);
  EXPECT_EQ(out[0].status, "5.3.4");
}

TEST(SmtpOutSession, UnreadableMessageBeforeMailFailsOnlyTheJob) {
  TempDir dir;
  Scheduler s;
  Job job = make_job(dir, "q", {"b@example.net"});
  job.message_path = (dir.path() / "gone").string();
  Connection c(default_options(), s.hooks(), job);
  c.feed(kGreeting);
  // PIPELINING with CHUNKING reads the first chunk before MAIL.
  EXPECT_EQ(c.feed("250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n"), "QUIT\r\n");
  EXPECT_EQ(s.events, events({"job_done:q", "next_job:none", "closed"}));
  EXPECT_EQ(s.outcomes("q")[0].outcome, Outcome::temporary);
  EXPECT_EQ(s.outcomes("q")[0].status, "4.3.0");
  EXPECT_FALSE(s.reports[0].first_job_untouched);
}

TEST(SmtpOutSession, UnreadableMessageAfter354ClosesWithoutEndingTheData) {
  TempDir dir;
  Scheduler s;
  Job job = make_job(dir, "q", {"b@example.net"});
  job.message_path = (dir.path() / "gone").string();
  Connection c(default_options(), s.hooks(), job);
  c.feed(kGreeting);
  c.feed(kEhloPipelining);
  EXPECT_EQ(c.feed("250 ok\r\n250 ok\r\n354 go\r\n"), "");
  EXPECT_TRUE(c.driver->closed());
  EXPECT_EQ(s.outcomes("q")[0].status, "4.3.0");
  EXPECT_EQ(s.events, events({"job_done:q", "closed"}));
}

TEST(SmtpOutSession, LocalRefusalThenNextJobOnTheSameConnection) {
  TempDir dir;
  Scheduler s;
  Job ok = make_job(dir, "ok", {"c@example.net"});
  const std::uint64_t ok_size = ok.size;
  s.more.push_back(std::move(ok));
  Job big = make_job(dir, "big", {"b@example.net"});
  big.size = 5000;
  Connection c(default_options(), s.hooks(), big);
  c.feed(kGreeting);
  // Nothing was sent for the first job, so no RSET before the second.
  EXPECT_EQ(c.feed("250-mx\r\n250-PIPELINING\r\n250 SIZE 1000\r\n"),
            "MAIL FROM:<alice@example.test> SIZE=" + std::to_string(ok_size) +
                "\r\nRCPT TO:<c@example.net>\r\nDATA\r\n");
  c.feed("250 ok\r\n250 ok\r\n354 go\r\n250 ok\r\n");
  EXPECT_EQ(s.events,
            events({"job_done:big", "next_job:ok", "job_done:ok", "next_job:none", "closed"}));
  EXPECT_EQ(s.outcomes("big")[0].outcome, Outcome::permanent);
  EXPECT_EQ(s.outcomes("big")[0].status, "5.3.4");
  EXPECT_EQ(s.outcomes("ok")[0].outcome, Outcome::delivered);
  EXPECT_FALSE(s.reports[0].first_job_untouched);
}

// Random replies, junk, splits and drops: never a crash or a hang, and the contract holds —
// closed exactly once and last, job_done at most once per Job and exactly once for every Job
// taken, the first Job either untouched or done, one outcome per recipient with a status of the
// outcome's class.
TEST(SmtpOutSession, RandomServersKeepTheContract) {
  TempDir dir;
  const std::vector<std::string> vocabulary = {
      "220 mx\r\n",
      "220-a\r\n",
      "250 ok\r\n",
      "250-x\r\n",
      "250-mx\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-SIZE 100000\r\n250-STARTTLS\r\n"
      "250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 DSN\r\n",
      "250-mx\r\n250 PIPELINING\r\n",
      "354 go\r\n",
      "550 5.1.1 no\r\n",
      "451 later\r\n",
      "421 bye\r\n",
      "334 VXNlcm5hbWU6\r\n",
      "334 \r\n",
      "235 ok\r\n",
      "221 bye\r\n",
      "502 no\r\n",
      "554 5.7.1 go away\r\n",
      std::string("\x00\xff junk\n", 9),
      "\r\n",
      "250 " + std::string(9000, 'l') + "\r\n"};
  std::mt19937 rng(20240229);
  for (int round = 0; round < 600; ++round) {
    Scheduler s;
    Job first = make_job(dir, "first", {"a@example.net", "b@example.net"},
                         round % 3 == 0 ? std::string(kPieceSize + 7, '.') : "x\r\n.y\r\n");
    if (rng() % 4 == 0) first.size = 1'000'000;
    s.more.push_back(make_job(dir, "second", {"c@example.net"}));
    ClientOptions options = default_options();
    options.starttls = rng() % 2 == 0;
    if (rng() % 3 == 0) {
      options.auth_user = "u";
      options.auth_password = "p";
      options.allow_auth_without_tls = rng() % 2 == 0;
    }
    std::vector<std::string> taken;
    {
      Connection c(options, s.hooks(), first);
      c.context.fail_tls = rng() % 5 == 0;
      const int tokens = static_cast<int>(rng() % 24);
      for (int t = 0; t < tokens && !c.driver->closed(); ++t) {
        const std::string& token = vocabulary[rng() % vocabulary.size()];
        const std::size_t cut = rng() % (token.size() + 1);
        c.driver->feed(std::string_view(token).substr(0, cut));
        c.driver->feed(std::string_view(token).substr(cut));
        c.driver->take();
      }
      if (rng() % 2 == 0) c.driver->disconnect();
    }  // the driver closes what is still open
    SCOPED_TRACE("round " + std::to_string(round));
    ASSERT_FALSE(s.events.empty());
    EXPECT_EQ(s.events.back(), "closed");
    EXPECT_EQ(std::count(s.events.begin(), s.events.end(), "closed"), 1);
    EXPECT_LE(std::count(s.events.begin(), s.events.end(), "job_done:first"), 1);
    EXPECT_EQ(std::count(s.events.begin(), s.events.end(), "job_done:second"),
              std::count(s.events.begin(), s.events.end(), "next_job:second"));
    EXPECT_EQ(s.reports[0].first_job_untouched,
              std::count(s.events.begin(), s.events.end(), "job_done:first") == 0);
    for (const auto& [id, outcomes] : s.done) {
      EXPECT_EQ(outcomes.size(), id == "first" ? 2u : 1u);
      for (const auto& o : outcomes) {
        ASSERT_FALSE(o.status.empty());
        const char klass = o.outcome == Outcome::delivered   ? '2'
                           : o.outcome == Outcome::permanent ? '5'
                                                             : '4';
        EXPECT_EQ(o.status[0], klass) << o.reply;
        EXPECT_FALSE(o.reply.empty());
      }
    }
  }
}

}  // namespace
}  // namespace portico::smtpout::testing
