// smtp-out's pure parts: xtext and the MAIL/RCPT parameters as the server's keywords allow
// them (RFC 3461, 1870, 6152, 6531); the local refusals (5.3.4, 5.6.3, 5.6.7, control octets);
// the DATA encoder (dot-stuffing and the final CRLF.CRLF, RFC 5321 section 4.5.2; bare LF to
// CRLF) split at every boundary, and BDAT's unstuffed form; the message reader's pieces; the
// SASL client over GNU SASL (PLAIN's initial response, LOGIN's challenges).
#include <gtest/gtest.h>

#include "command.h"
#include "message_stream.h"
#include "sasl_client.h"
#include "temp_dir.h"

namespace portico::smtpout {
namespace {

TEST(SmtpOutCommand, Xtext) {
  EXPECT_EQ(xtext("plain"), "plain");
  EXPECT_EQ(xtext("a+b=c d"), "a+2Bb+3Dc+20d");
  EXPECT_EQ(xtext("\xc3\xa9\x7f"), "+C3+A9+7F");
}

TEST(SmtpOutCommand, MailParametersOnlyWhenOffered) {
  Job job;
  job.envelope.sender = "alice@example.test";
  job.envelope.ret = sdk::DsnRet::full;
  job.envelope.envid = "id+1";
  job.size = 1234;
  job.eight_bit = true;
  job.needs_smtputf8 = true;
  EXPECT_EQ(mail_command(job, {}), "MAIL FROM:<alice@example.test>");
  Extensions all;
  all.size = all.eight_bit_mime = all.smtputf8 = all.dsn = true;
  EXPECT_EQ(mail_command(job, all),
            "MAIL FROM:<alice@example.test> SIZE=1234 BODY=8BITMIME SMTPUTF8 RET=FULL "
            "ENVID=id+2B1");
  job.envelope.sender.clear();
  job.envelope.ret = sdk::DsnRet::headers;
  job.envelope.envid.clear();
  job.eight_bit = job.needs_smtputf8 = false;
  EXPECT_EQ(mail_command(job, all), "MAIL FROM:<> SIZE=1234 RET=HDRS");
}

TEST(SmtpOutCommand, RcptParameters) {
  sdk::QueueRecipient r;
  r.address = "bob@example.net";
  r.notify = sdk::notify_delay | sdk::notify_success;
  r.orcpt = "rfc822;bob+x@example.net";
  EXPECT_EQ(rcpt_command(r, {}), "RCPT TO:<bob@example.net>");
  Extensions dsn;
  dsn.dsn = true;
  EXPECT_EQ(rcpt_command(r, dsn),
            "RCPT TO:<bob@example.net> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;bob+2Bx@example.net");
  r.notify = sdk::notify_never;
  r.orcpt = "no-type-separator";
  EXPECT_EQ(rcpt_command(r, dsn), "RCPT TO:<bob@example.net> NOTIFY=NEVER");
  r.notify = 0;
  r.orcpt.clear();
  EXPECT_EQ(rcpt_command(r, dsn), "RCPT TO:<bob@example.net>");
}

TEST(SmtpOutCommand, LocalRefusals) {
  Job job;
  job.envelope.sender = "alice@example.test";
  job.size = 2000;
  Extensions ext;
  EXPECT_FALSE(local_refusal(job, ext)) << "no SIZE offered: no limit known";
  ext.size = true;
  ext.size_limit = 1000;
  ASSERT_TRUE(local_refusal(job, ext));
  EXPECT_EQ(local_refusal(job, ext)->status, "5.3.4");
  ext.size_limit = 0;
  EXPECT_FALSE(local_refusal(job, ext)) << "SIZE 0: no fixed limit";
  job.eight_bit = true;
  ASSERT_TRUE(local_refusal(job, ext));
  EXPECT_EQ(local_refusal(job, ext)->status, "5.6.3");
  ext.eight_bit_mime = true;
  EXPECT_FALSE(local_refusal(job, ext));
  job.needs_smtputf8 = true;
  ASSERT_TRUE(local_refusal(job, ext));
  EXPECT_EQ(local_refusal(job, ext)->status, "5.6.7");
  ext.smtputf8 = true;
  EXPECT_FALSE(local_refusal(job, ext));
  job.envelope.sender = "a\r\nRCPT TO:<x@y>";
  ASSERT_TRUE(local_refusal(job, ext));
  EXPECT_EQ(local_refusal(job, ext)->status, "5.1.7");
}

std::string encode_all(const std::string& message, bool dot_stuff, std::size_t split = 0) {
  DataEncoder e(dot_stuff);
  std::string out;
  if (split == 0) {
    e.encode(message, out);
  } else {
    for (std::size_t i = 0; i < message.size(); i += split)
      e.encode(std::string_view(message).substr(i, split), out);
  }
  e.finish(out);
  return out;
}

TEST(SmtpOutData, DotStuffingAndEnd) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a\r\nb\r\n", "a\r\nb\r\n.\r\n"},
      {".\r\n..\r\n.x\r\n x.\r\n", "..\r\n...\r\n..x\r\n x.\r\n.\r\n"},
      {"no end", "no end\r\n.\r\n"},
      {"ends in CR\r", "ends in CR\r\n.\r\n"},
      {"bare\nLF\n.dot\n", "bare\r\nLF\r\n..dot\r\n.\r\n"},
      {"", ".\r\n"},
      {".", "..\r\n.\r\n"},
      {"\r\n.\r\n", "\r\n..\r\n.\r\n"},
  };
  for (const auto& [in, expected] : cases) {
    for (std::size_t split = 0; split <= in.size(); ++split) {
      EXPECT_EQ(encode_all(in, true, split), expected) << "split every " << split;
    }
  }
}

TEST(SmtpOutData, ChunksAreNotStuffed) {
  EXPECT_EQ(encode_all(".a\r\n.\r\n", false), ".a\r\n.\r\n");
  EXPECT_EQ(encode_all(".a\nb", false), ".a\r\nb\r\n");
  EXPECT_EQ(encode_all("", false), "");
}

TEST(SmtpOutData, ReaderPieces) {
  testing::TempDir dir;
  const std::string big(kPieceSize * 2 + 5, 'x');
  MessageReader reader(dir.write("big", big));
  Piece p1 = reader.next(), p2 = reader.next(), p3 = reader.next();
  EXPECT_EQ(p1.data.size(), kPieceSize);
  EXPECT_FALSE(p1.last);
  EXPECT_EQ(p2.data.size(), kPieceSize);
  EXPECT_FALSE(p2.last);
  EXPECT_EQ(p3.data.size(), 5u);
  EXPECT_TRUE(p3.last);

  MessageReader exact(dir.write("exact", std::string(kPieceSize, 'y')));
  const Piece only = exact.next();
  EXPECT_EQ(only.data.size(), kPieceSize);
  EXPECT_TRUE(only.last) << "the end is seen without an empty extra piece";

  MessageReader empty(dir.write("empty", ""));
  const Piece none = empty.next();
  EXPECT_TRUE(none.data.empty());
  EXPECT_TRUE(none.last);
  EXPECT_TRUE(none.error.empty());

  MessageReader missing((dir.path() / "missing").string());
  EXPECT_FALSE(missing.next().error.empty());
}

TEST(SmtpOutSasl, ChoosesPlainThenLogin) {
  EXPECT_EQ(choose_mechanism({"CRAM-MD5", "LOGIN", "PLAIN"}), "PLAIN");
  EXPECT_EQ(choose_mechanism({"LOGIN", "GSSAPI"}), "LOGIN");
  EXPECT_EQ(choose_mechanism({"CRAM-MD5", "SCRAM-SHA-256"}), "");
  EXPECT_EQ(choose_mechanism({}), "");
}

TEST(SmtpOutSasl, PlainInitialResponse) {
  std::string error;
  auto client = SaslClient::start("PLAIN", "user", "pass word", error);
  ASSERT_TRUE(client) << error;
  const SaslClient::Step step = client->step("");
  EXPECT_EQ(step.status, SaslClient::Step::Status::done);
  EXPECT_EQ(step.response, "AHVzZXIAcGFzcyB3b3Jk");  // "\0user\0pass word"
}

TEST(SmtpOutSasl, LoginAnswersEachChallenge) {
  std::string error;
  auto client = SaslClient::start("LOGIN", "user", "secret", error);
  ASSERT_TRUE(client) << error;
  const SaslClient::Step user = client->step("VXNlcm5hbWU6");  // "Username:"
  EXPECT_EQ(user.status, SaslClient::Step::Status::more);
  EXPECT_EQ(user.response, "dXNlcg==");
  const SaslClient::Step pass = client->step("UGFzc3dvcmQ6");  // "Password:"
  EXPECT_EQ(pass.status, SaslClient::Step::Status::done);
  EXPECT_EQ(pass.response, "c2VjcmV0");
}

TEST(SmtpOutSasl, UnknownMechanismDoesNotStart) {
  std::string error;
  EXPECT_FALSE(SaslClient::start("NO-SUCH-MECH", "u", "p", error));
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace portico::smtpout
