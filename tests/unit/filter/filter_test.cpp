// Unit tests of the spam filter stage's pure parts: rspamd's replies (recorded from rspamd 3.4,
// tests/unit/filter/replies) parsed and mapped to what the server does under each per-action
// setting, the header fields it adds, and the header edits of a marked copy.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/filter/rewrite.h"
#include "core/filter/rspamd.h"
#include "core/queue/queue.h"
#include "tests/unit/queue/queue_test.h"

namespace portico::core::filter {
namespace {

std::string recorded(const std::string& name) {
  const auto path = std::filesystem::path(PORTICO_SOURCE_DIR) / "tests/unit/filter/replies" / name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Reply parsed(const std::string& name) {
  std::string error;
  auto r = parse_reply(recorded(name), error);
  EXPECT_TRUE(r.has_value()) << name << ": " << error;
  return r.value_or(Reply{});
}

const std::string* field(const Decision& d, const std::string& name) {
  for (const auto& [n, v] : d.add) {
    if (n == name) return &v;
  }
  return nullptr;
}

TEST(RspamdReply, CleanMessageIsAcceptedWithItsScoreFields) {
  const Reply r = parsed("clean.json");
  EXPECT_EQ(r.action, "no action");
  EXPECT_FALSE(r.symbols.empty());
  const Decision d = decide(r, SpamFilterConfig{});
  EXPECT_EQ(d.action, sdk::FilterAction::accept);
  EXPECT_EQ(d.counted_as, "accepted");
  EXPECT_EQ(field(d, "X-Spam"), nullptr);
  ASSERT_NE(field(d, "X-Spam-Score"), nullptr);
  EXPECT_EQ(*field(d, "X-Spam-Score"), "-0.10 / 15.00");
  ASSERT_NE(field(d, "X-Spam-Symbols"), nullptr);
  EXPECT_NE(field(d, "X-Spam-Symbols")->find("MIME_GOOD(-0.10)"), std::string::npos);
  EXPECT_TRUE(d.checked);
  ASSERT_NE(field(d, "X-Spam-Action"), nullptr);
  EXPECT_EQ(*field(d, "X-Spam-Action"), "no action");
  EXPECT_FALSE(d.subject.has_value());
}

TEST(RspamdReply, GtubeIsRejectedWithRspamdsWords) {
  const Reply r = parsed("reject-gtube.json");
  EXPECT_EQ(r.action, "reject");
  const Decision d = decide(r, SpamFilterConfig{});
  EXPECT_EQ(d.action, sdk::FilterAction::reject);
  EXPECT_EQ(d.counted_as, "rejected");
  EXPECT_EQ(d.reply, "Gtube pattern");
  Reply silent = r;  // rspamd gave no words: the server's own
  silent.smtp_message.clear();
  EXPECT_EQ(decide(silent, SpamFilterConfig{}).reply, "Spam message rejected");
}

TEST(RspamdReply, RejectMappedToMarkByTheOperatorDeliversMarked) {
  SpamFilterConfig c;
  c.on_reject = SpamBehaviour::mark;
  const Decision d = decide(parsed("reject-gtube.json"), c);
  EXPECT_EQ(d.action, sdk::FilterAction::accept);
  ASSERT_NE(field(d, "X-Spam"), nullptr);
  EXPECT_EQ(*field(d, "X-Spam"), "Yes");
  EXPECT_EQ(d.counted_as, "marked");
}

TEST(RspamdReply, AddHeaderMarksTheMessage) {
  const Reply r = parsed("add-header.json");
  EXPECT_EQ(r.action, "add header");
  const Decision d = decide(r, SpamFilterConfig{});
  EXPECT_EQ(d.action, sdk::FilterAction::accept);
  ASSERT_NE(field(d, "X-Spam"), nullptr);
  EXPECT_EQ(*field(d, "X-Spam"), "Yes");
}

TEST(RspamdReply, RewriteSubjectTakesRspamdsSubject) {
  const Reply r = parsed("rewrite-subject.json");
  EXPECT_EQ(r.action, "rewrite subject");
  ASSERT_TRUE(r.subject.has_value());
  const Decision d = decide(r, SpamFilterConfig{});
  EXPECT_EQ(d.action, sdk::FilterAction::accept);
  ASSERT_TRUE(d.subject.has_value());
  EXPECT_EQ(*d.subject, "[SPAM] Cheap watches");
  SpamFilterConfig mark_only;
  mark_only.on_rewrite_subject = SpamBehaviour::mark;
  EXPECT_FALSE(decide(r, mark_only).subject.has_value());
}

TEST(RspamdReply, SoftRejectIsATemporaryFailure) {
  const Reply r = parsed("soft-reject.json");
  EXPECT_EQ(r.action, "soft reject");
  const Decision d = decide(r, SpamFilterConfig{});
  EXPECT_EQ(d.action, sdk::FilterAction::tempfail);
  EXPECT_EQ(d.counted_as, "tempfailed");
  // rspamd's "4.7.1 Try again later (test header)" without its code: the reply has its own.
  EXPECT_EQ(d.reply, "Try again later (test header)");
}

TEST(RspamdReply, GreylistIsATemporaryFailureUnlessTheOperatorSaysOtherwise) {
  const Reply r = parsed("greylist.json");
  EXPECT_EQ(r.action, "greylist");
  EXPECT_EQ(decide(r, SpamFilterConfig{}).action, sdk::FilterAction::tempfail);
  SpamFilterConfig c;
  c.on_greylist = SpamBehaviour::accept;
  const Decision d = decide(r, c);
  EXPECT_EQ(d.action, sdk::FilterAction::accept);
  EXPECT_EQ(field(d, "X-Spam"), nullptr);
}

TEST(RspamdReply, UnknownActionIsAccepted) {
  Reply r;
  r.action = "some future action";
  EXPECT_EQ(decide(r, SpamFilterConfig{}).action, sdk::FilterAction::accept);
}

TEST(RspamdReply, MalformedRepliesAreFailures) {
  std::string error;
  EXPECT_FALSE(parse_reply("", error));
  EXPECT_FALSE(parse_reply("not json", error));
  EXPECT_FALSE(parse_reply("[1,2]", error));
  EXPECT_FALSE(parse_reply(R"({"score": 1.0})", error));
  EXPECT_EQ(error, "reply has no action");
  EXPECT_FALSE(parse_reply(R"({"error": "Message is empty"})", error));
  EXPECT_NE(error.find("Message is empty"), std::string::npos);
  std::string deep(100, '[');
  EXPECT_FALSE(parse_reply(deep, error));
}

TEST(RspamdReply, FailureFollowsOnFailure) {
  SpamFilterConfig c;
  EXPECT_EQ(on_failure("timed out", c).action, sdk::FilterAction::accept);
  ASSERT_NE(field(on_failure("timed out", c), "X-Spam-Check"), nullptr);  // marked unchecked
  EXPECT_EQ(*field(on_failure("timed out", c), "X-Spam-Check"), "not checked (timed out)");
  EXPECT_EQ(field(on_failure("timed out", c), "X-Spam-Score"), nullptr);
  c.tempfail_on_failure = true;
  const Decision d = on_failure("timed out", c);
  EXPECT_EQ(d.action, sdk::FilterAction::tempfail);
  EXPECT_EQ(d.counted_as, "failed");
  EXPECT_FALSE(d.checked);
}

TEST(RspamdReply, MilterHeadersAreAddedAndRemoved) {
  std::string error;
  auto r = parse_reply(
      R"({"action":"no action","score":0.5,"required_score":15,
          "milter":{"add_headers":{"X-Rspamd-Server":"scanner","Bad Name":"x",
                                   "X-Virus":{"value":"no","order":1}},
                    "remove_headers":{"X-Spamd-Bar":0}}})",
      error);
  ASSERT_TRUE(r) << error;
  const Decision d = decide(*r, SpamFilterConfig{});
  ASSERT_NE(field(d, "X-Rspamd-Server"), nullptr);
  EXPECT_EQ(*field(d, "X-Rspamd-Server"), "scanner");
  ASSERT_NE(field(d, "X-Virus"), nullptr);
  EXPECT_EQ(field(d, "Bad Name"), nullptr);
  EXPECT_NE(std::find(d.remove.begin(), d.remove.end(), "X-Spamd-Bar"), d.remove.end());
}

TEST(RspamdRequest, FieldsCarryTheEnvelopeAndTheConnection) {
  sdk::FilterRequest q;
  q.client_address = "192.0.2.7";
  q.helo = "client.example";
  q.sender = "a@example.org";
  q.recipients = {"b@example.test", "c@example.test"};
  q.auth_user = "b@example.test";
  q.tls = "TLSv1.3 TLS_AES_256_GCM_SHA384";
  q.queue_id = "7.1";
  const auto f = request_fields(q, "mail.example.test");
  const std::vector<HeaderField> want = {{"IP", "192.0.2.7"},
                                         {"Helo", "client.example"},
                                         {"From", "a@example.org"},
                                         {"Rcpt", "b@example.test"},
                                         {"Rcpt", "c@example.test"},
                                         {"User", "b@example.test"},
                                         {"Queue-Id", "7.1"},
                                         {"TLS-Version", "TLSv1.3"},
                                         {"TLS-Cipher", "TLS_AES_256_GCM_SHA384"},
                                         {"MTA-Name", "mail.example.test"}};
  EXPECT_EQ(f, want);
  q.helo = "evil\r\nX-Injected: 1";
  for (const auto& [name, value] : request_fields(q, ""))
    EXPECT_EQ(value.find_first_of("\r\n"), std::string::npos) << name;
}

TEST(ClientText, IsOneLineOfPrintableAscii) {
  EXPECT_EQ(client_text("Gtube pattern"), "Gtube pattern");
  EXPECT_EQ(client_text("a\r\nb\tc\x01\xc3\xa9"), "a b c");
  EXPECT_EQ(client_text(std::string(500, 'x')).size(), kMaxReplyText);
}

TEST(FormatField, FoldsLongValuesAndEncodesEightBit) {
  EXPECT_EQ(format_field("X-Spam", "Yes"), "X-Spam: Yes\r\n");
  std::string symbols;
  for (int i = 0; i < 30; ++i)
    symbols += (i ? ", " : "") + std::string("SYMBOL_") + std::to_string(i) + "(0.10)";
  const std::string f = format_field("X-Spam-Symbols", symbols);
  std::istringstream lines(f);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
    EXPECT_LE(line.size(), 79u) << line;  // 78 + the CR
    if (count > 1) {
      EXPECT_EQ(line.front(), ' ');
    }
  }
  EXPECT_GT(count, 3);
  const std::string subject = format_field("Subject", "*** SPAM *** caf\xc3\xa9");
  EXPECT_NE(subject.find("=?"), std::string::npos) << subject;
  for (char c : subject)
    EXPECT_LT(static_cast<unsigned char>(c), 0x80);
}

Decision marking() {
  Decision d;
  d.add = {{"X-Spam", "Yes"}, {"X-Spam-Score", "7.00 / 15.00"}};
  d.remove = {"X-Spam", "X-Spam-Score"};
  return d;
}

TEST(EditHeader, AddsOnTopAndRemovesForgedFieldsWithTheirFoldedLines) {
  const std::string header =
      "Received: from x\r\n\tby y\r\nX-Spam: No\r\nx-spam-score: -100\r\n  folded\r\n"
      "Subject: hi\r\n\r\n";
  const std::string out = edit_header(header, true, marking());
  EXPECT_EQ(out,
            "X-Spam: Yes\r\nX-Spam-Score: 7.00 / 15.00\r\nReceived: from x\r\n\tby y\r\n"
            "Subject: hi\r\n\r\n");
}

TEST(EditHeader, ReplacesTheSubjectOrAddsOne) {
  Decision d = marking();
  d.subject = "*** SPAM *** hi";
  EXPECT_EQ(edit_header("From: a\r\nSubject: hi\r\n there\r\nTo: b\r\n\r\n", true, d),
            "X-Spam: Yes\r\nX-Spam-Score: 7.00 / 15.00\r\nFrom: a\r\n"
            "Subject: *** SPAM *** hi\r\nTo: b\r\n\r\n");
  EXPECT_EQ(edit_header("From: a\r\n\r\n", true, d),
            "X-Spam: Yes\r\nX-Spam-Score: 7.00 / 15.00\r\nFrom: a\r\n"
            "Subject: *** SPAM *** hi\r\n\r\n");
}

TEST(EditHeader, AnUnendedHeaderIsOnlyPrefixed) {
  EXPECT_EQ(edit_header("X-Spam: No\r\nno end", false, marking()),
            "X-Spam: Yes\r\nX-Spam-Score: 7.00 / 15.00\r\nX-Spam: No\r\nno end");
}

// The marked copy of a message in a file: a header section longer than one read, and a body of
// every octet value, copied exactly; the original incoming file is also still sealed durably by
// seal() after the filter's seal_unsynced().
TEST(RewriteMessage, CopiesAFileMessageWithItsEditedHeader) {
  queue_test::TempDir dir;
  auto queue = open_queue(dir.path());
  auto original = queue->create_incoming();
  ASSERT_TRUE(original.ok()) << original.message;
  std::string header = "Received: from x\r\nX-Spam: forged\r\n";
  for (int i = 0; i < 2000; ++i)
    header += "X-Filler-" + std::to_string(i) + ": some text here\r\n";
  header += "\r\n";
  std::string body;
  for (int i = 0; i < 200000; ++i)
    body += static_cast<char>(i % 251);
  ASSERT_TRUE(original.value->append(header + body).ok());
  ASSERT_TRUE(original.value->seal_unsynced().ok());  // what the filter does to read it
  auto copy = queue->create_incoming();
  ASSERT_TRUE(copy.ok());
  ASSERT_TRUE(rewrite_message(marking(), nullptr, original.value->path(), *copy.value).ok());
  ASSERT_TRUE(copy.value->seal().ok());
  std::ifstream in(copy.value->path(), std::ios::binary);
  std::ostringstream got;
  got << in.rdbuf();
  std::string want_header = header;
  want_header.erase(want_header.find("X-Spam: forged\r\n"), 16);
  EXPECT_EQ(got.str(), "X-Spam: Yes\r\nX-Spam-Score: 7.00 / 15.00\r\n" + want_header + body);
  // seal() after seal_unsynced() makes the original durable (the queue accepts only those).
  ASSERT_TRUE(original.value->seal().ok());
  sdk::Envelope env;
  env.sender = "a@example.org";
  sdk::QueueRecipient rcpt;
  rcpt.address = "b@example.net";
  env.recipients.push_back(rcpt);
  EXPECT_TRUE(queue->enqueue(env, *original.value).ok());
}

TEST(RewriteMessage, CopiesAMessageHeldInMemory) {
  queue_test::TempDir dir;
  auto queue = open_queue(dir.path());
  auto copy = queue->create_incoming();
  ASSERT_TRUE(copy.ok());
  const std::string message = "Subject: hi\r\n\r\nbody\r\n";
  const std::string_view octets(message);
  ASSERT_TRUE(rewrite_message(marking(), &octets, "", *copy.value).ok());
  auto held = copy.value->held_in_memory();
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(*held, "X-Spam: Yes\r\nX-Spam-Score: 7.00 / 15.00\r\nSubject: hi\r\n\r\nbody\r\n");
}

}  // namespace
}  // namespace portico::core::filter
