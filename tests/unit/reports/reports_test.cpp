// Delivery status notifications: who deserves one under each NOTIFY (RFC 3461 section 4.1), the
// report's structure as GMime reads it (RFC 6522 multipart/report, RFC 3464 fields, the
// returned message or its header per RET), UTF-8 addresses (RFC 6533), and the service that
// sends it: into the sender's INBOX when local, into the queue from <> when remote, never to <>.
#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>

#include "core/reports/dsn.h"
#include "core/reports/reports.h"
#include "session_driver.h"

namespace portico::testing {
namespace {

using sdk::ReportAction;

const std::string kMessage =
    "From: Carol <carol@example.test>\r\n"
    "To: bob@remote.example\r\n"
    "Subject: the original\r\n"
    "Message-ID: <orig@example.test>\r\n"
    "\r\n"
    "The body line.\r\n";

TEST(Dsn, WhoDeservesAReport) {
  using A = ReportAction;
  struct Case {
    std::uint32_t notify;
    A action;
    bool expected;
  };
  const Case cases[] = {
      {0, A::failed, true},
      {0, A::delayed, true},
      {0, A::delivered, false},
      {0, A::relayed, false},
      {sdk::notify_never, A::failed, false},
      {sdk::notify_never, A::delayed, false},
      {sdk::notify_success, A::failed, false},
      {sdk::notify_success, A::delivered, true},
      {sdk::notify_success, A::relayed, true},
      {sdk::notify_failure, A::failed, true},
      {sdk::notify_failure, A::delayed, false},
      {sdk::notify_delay, A::delayed, true},
      {sdk::notify_delay | sdk::notify_failure, A::failed, true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(core::reports::deserves_report(c.notify, c.action), c.expected)
        << c.notify << " " << static_cast<int>(c.action);
  }
}

// The parts of a report as GMime sees them.
struct Parsed {
  std::string type;         // of the whole message
  std::string report_type;  // its report-type parameter
  std::vector<std::string> part_types;
  std::string status_text;  // the delivery-status part's body
  std::string returned_text;
  std::string to;
};

Parsed parse(const std::string& octets) {
  g_mime_init();
  Parsed p;
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(octets.data(), octets.size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  GMimeMessage* message = g_mime_parser_construct_message(parser, nullptr);
  EXPECT_NE(message, nullptr);
  if (message == nullptr) return p;
  GMimeObject* top = g_mime_message_get_mime_part(message);
  GMimeContentType* ct = g_mime_object_get_content_type(top);
  p.type = std::string(g_mime_content_type_get_media_type(ct)) + "/" +
           g_mime_content_type_get_media_subtype(ct);
  if (const char* rt = g_mime_content_type_get_parameter(ct, "report-type")) p.report_type = rt;
  if (const char* to = g_mime_object_get_header(GMIME_OBJECT(message), "To")) p.to = to;
  if (GMIME_IS_MULTIPART(top)) {
    GMimeMultipart* mp = GMIME_MULTIPART(top);
    for (int i = 0; i < g_mime_multipart_get_count(mp); ++i) {
      GMimeObject* part = g_mime_multipart_get_part(mp, i);
      GMimeContentType* pct = g_mime_object_get_content_type(part);
      p.part_types.push_back(std::string(g_mime_content_type_get_media_type(pct)) + "/" +
                             g_mime_content_type_get_media_subtype(pct));
      std::string text;
      if (GMIME_IS_PART(part)) {
        GMimeDataWrapper* content = g_mime_part_get_content(GMIME_PART(part));
        GMimeStream* out = g_mime_stream_mem_new();
        g_mime_data_wrapper_write_to_stream(content, out);
        GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
        text.assign(reinterpret_cast<const char*>(bytes->data), bytes->len);
        g_object_unref(out);
      } else if (GMIME_IS_MESSAGE_PART(part)) {
        GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
        if (inner)
          text = g_mime_message_get_subject(inner) ? g_mime_message_get_subject(inner) : "";
      }
      if (i == 1) p.status_text = text;
      if (i == 2) p.returned_text = text;
    }
  }
  g_object_unref(message);
  g_object_unref(parser);
  g_object_unref(stream);
  return p;
}

sdk::Envelope envelope_for(const std::string& sender) {
  sdk::Envelope e;
  e.sender = sender;
  e.envid = "env 42+x";
  e.received = 1'800'000'000;
  sdk::QueueRecipient bob;
  bob.address = "bob@remote.example";
  bob.orcpt = "rfc822;Bob@Remote.example";
  sdk::QueueRecipient dan;
  dan.address = "dan@remote.example";
  e.recipients = {bob, dan};
  return e;
}

TEST(Dsn, FailureReportHasThreePartsAndTheFields) {
  const sdk::Envelope env = envelope_for("carol@example.test");
  core::reports::DsnInput in;
  in.reporting_mta = "mail.example.test";
  in.message_id = "1.abc";
  in.now = 1'800'000'100;
  in.envelope = &env;
  in.recipients = {{0, ReportAction::failed, "5.1.1",
                    "550 5.1.1 <bob@remote.example>: no such user", "mx.remote.example"},
                   {1, ReportAction::failed, "5.4.7", "gave up after 5d", ""}};
  in.returned = kMessage;
  in.returned_whole = true;
  const std::string dsn = core::reports::compose_dsn(in);
  const Parsed p = parse(dsn);
  EXPECT_EQ(p.type, "multipart/report");
  EXPECT_EQ(p.report_type, "delivery-status");
  EXPECT_EQ(p.part_types,
            (std::vector<std::string>{"text/plain", "message/delivery-status", "message/rfc822"}));
  EXPECT_EQ(p.returned_text, "the original");
  const std::string& s = p.status_text;
  EXPECT_NE(s.find("Reporting-MTA: dns; mail.example.test\r\n"), std::string::npos) << s;
  EXPECT_NE(s.find("Original-Envelope-Id: env+2042+2Bx\r\n"), std::string::npos) << s;
  EXPECT_NE(s.find("Original-Recipient: rfc822; Bob@Remote.example\r\n"), std::string::npos);
  EXPECT_NE(s.find("Final-Recipient: rfc822; bob@remote.example\r\nAction: failed\r\n"
                   "Status: 5.1.1\r\nRemote-MTA: dns; mx.remote.example\r\n"
                   "Diagnostic-Code: smtp; 550 5.1.1 <bob@remote.example>: no such user\r\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("Final-Recipient: rfc822; dan@remote.example\r\nAction: failed\r\n"
                   "Status: 5.4.7\r\nDiagnostic-Code: X-Portico; gave up after 5d\r\n"),
            std::string::npos)
      << s;
  EXPECT_NE(dsn.find("Auto-Submitted: auto-replied\r\n"), std::string::npos);
  EXPECT_NE(dsn.find("From: Mail Delivery System <MAILER-DAEMON@mail.example.test>\r\n"),
            std::string::npos);
  // Every line ends in CRLF and no header line is too long.
  for (std::size_t at = 0; (at = dsn.find('\n', at)) != std::string::npos; ++at)
    ASSERT_TRUE(at > 0 && dsn[at - 1] == '\r') << "bare LF at " << at;
}

TEST(Dsn, DelayReportReturnsTheHeaderAndSaysUntilWhen) {
  const sdk::Envelope env = envelope_for("carol@example.test");
  core::reports::DsnInput in;
  in.reporting_mta = "mail.example.test";
  in.message_id = "2.abc";
  in.now = 1'800'000'100;
  in.envelope = &env;
  in.recipients = {{0, ReportAction::delayed, "4.4.1", "connection refused", ""}};
  in.will_retry_until = 1'800'432'000;
  in.returned = std::string(core::reports::header_section(kMessage));
  const Parsed p = parse(core::reports::compose_dsn(in));
  EXPECT_EQ(p.part_types, (std::vector<std::string>{"text/plain", "message/delivery-status",
                                                    "text/rfc822-headers"}));
  EXPECT_NE(p.status_text.find("Action: delayed\r\nStatus: 4.4.1\r\n"), std::string::npos);
  EXPECT_NE(p.status_text.find("Will-Retry-Until: " + core::reports::rfc5322_date(1'800'432'000)),
            std::string::npos);
  EXPECT_EQ(p.returned_text.find("The body line."), std::string::npos);
  EXPECT_NE(p.returned_text.find("Subject: the original"), std::string::npos);
}

TEST(Dsn, Utf8AddressesMakeAGlobalReport) {
  sdk::Envelope env = envelope_for("carol@example.test");
  env.recipients[0].address = "bøb@remote.example";
  env.smtputf8 = true;
  core::reports::DsnInput in;
  in.reporting_mta = "mail.example.test";
  in.message_id = "3.abc";
  in.envelope = &env;
  in.recipients = {{0, ReportAction::failed, "5.1.1", "550 no", ""}};
  in.returned = kMessage;
  in.returned_whole = true;
  const std::string dsn = core::reports::compose_dsn(in);
  EXPECT_NE(dsn.find("report-type=global-delivery-status"), std::string::npos);
  EXPECT_NE(dsn.find("Content-Type: message/global-delivery-status"), std::string::npos);
  EXPECT_NE(dsn.find("Final-Recipient: utf-8; bøb@remote.example"), std::string::npos);
  EXPECT_NE(dsn.find("Content-Type: message/global\r\n"), std::string::npos);
}

class ReportServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s_.directory().add_domain("example.test");
    s_.directory().add_account("carol@example.test", "Carol", 0, std::string_view("secret"),
                               std::nullopt);
    path_ = s_.data_dir() / "original.eml";
    std::ofstream(path_, std::ios::binary) << kMessage;
  }
  std::size_t inbox(const std::string& account) {
    auto r = s_.store().fetch(account, "INBOX", {}, false, 0);
    return r.ok() ? r.value.size() : 0;
  }
  TestServices s_;
  std::filesystem::path path_;
};

TEST_F(ReportServiceTest, LocalSenderGetsItInTheInbox) {
  const sdk::Envelope env = envelope_for("carol@example.test");
  auto r = s_.reports().report(env, path_.string(),
                               {{0, ReportAction::failed, "5.1.1", "550 no such user", "mx"}}, 0);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.value.reported, 1u);
  EXPECT_EQ(r.value.id, "local");
  ASSERT_EQ(inbox("carol@example.test"), 1u);
  auto list = s_.store().fetch("carol@example.test", "INBOX", {}, false, 0);
  auto body = s_.store().read_message("carol@example.test", "INBOX", list.value[0].uid);
  ASSERT_TRUE(body.ok());
  const Parsed p = parse(body.value);
  EXPECT_EQ(p.type, "multipart/report");
  EXPECT_EQ(p.returned_text, "the original");  // a failure returns the whole message
  auto queued = s_.queue().list();
  EXPECT_TRUE(queued.value.empty());
}

TEST_F(ReportServiceTest, RemoteSenderGetsItThroughTheQueueFromTheNullSender) {
  sdk::Envelope env = envelope_for("someone@elsewhere.example");
  env.ret = sdk::DsnRet::headers;
  auto r = s_.reports().report(env, path_.string(),
                               {{1, ReportAction::failed, "5.0.0", "550 refused", ""}}, 0);
  ASSERT_TRUE(r.ok()) << r.message;
  auto queued = s_.queue().list();
  ASSERT_EQ(queued.value.size(), 1u);
  const auto& entry = queued.value[0];
  EXPECT_EQ(r.value.id, entry.id);
  EXPECT_EQ(entry.envelope.sender, "");
  ASSERT_EQ(entry.envelope.recipients.size(), 1u);
  EXPECT_EQ(entry.envelope.recipients[0].address, "someone@elsewhere.example");
  std::ifstream in(entry.message_path, std::ios::binary);
  const std::string octets((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const Parsed p = parse(octets);
  EXPECT_EQ(p.part_types.back(), "text/rfc822-headers");  // RET=HDRS
}

TEST_F(ReportServiceTest, EachReportHasAMessageIdOfItsOwn) {
  const sdk::Envelope env = envelope_for("carol@example.test");
  for (int i = 0; i < 2; ++i) {
    auto r = s_.reports().report(env, path_.string(),
                                 {{0, ReportAction::failed, "5.1.1", "550 no such user", ""}}, 0);
    ASSERT_TRUE(r.ok()) << r.message;
  }
  auto list = s_.store().fetch("carol@example.test", "INBOX", {}, false, 0);
  ASSERT_EQ(list.value.size(), 2u);
  std::set<std::string> ids;
  const std::regex id_line(R"(\r\nMessage-ID: <(\d+\.[0-9a-f]{16})@[^>]+>\r\n)");
  for (const auto& m : list.value) {
    auto body = s_.store().read_message("carol@example.test", "INBOX", m.uid);
    ASSERT_TRUE(body.ok());
    std::smatch found;
    ASSERT_TRUE(std::regex_search(body.value, found, id_line)) << body.value.substr(0, 400);
    ids.insert(found[1]);
  }
  EXPECT_EQ(ids.size(), 2u);
}

TEST_F(ReportServiceTest, NoReportToTheNullSenderOrAgainstNotify) {
  sdk::Envelope env = envelope_for("");
  auto r =
      s_.reports().report(env, path_.string(), {{0, ReportAction::failed, "5.0.0", "x", ""}}, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value.reported, 0u);
  env = envelope_for("carol@example.test");
  env.recipients[0].notify = sdk::notify_never;
  env.recipients[1].notify = sdk::notify_failure;
  r = s_.reports().report(
      env, path_.string(),
      {{0, ReportAction::failed, "5.0.0", "x", ""}, {1, ReportAction::delayed, "4.0.0", "y", ""}},
      0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value.reported, 0u);
  EXPECT_EQ(inbox("carol@example.test"), 0u);
  EXPECT_TRUE(s_.queue().list().value.empty());
}

}  // namespace
}  // namespace portico::testing
