// Tests of the queue's operator actions and figures on real files: hold keeps an entry from
// workers until released, release and retry make it due, every action refuses an entry a
// worker holds (in this object or another) and leaves it as it was, bounce fails the pending
// recipients and reports them (RFC 3464 DSN, parsed with GMime) into a local sender's INBOX or
// through the queue from <> to a remote one, an interrupted bounce is finished by the next one,
// stats() counts entries per state from its cached scan, and concurrent enqueues share batches.
#include <gmime/gmime.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include "session_driver.h"
#include "tests/unit/queue/queue_test.h"

namespace portico::core::queue_test {
namespace {

constexpr std::int64_t kFar = 4000000000;  // a "now" after every next attempt of these tests

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The report as GMime reads it: its type, and the text of its delivery-status part.
struct Report {
  std::string type;
  std::string report_type;
  std::string status;
  std::string to;
  std::string from_header;
};

Report parse_report(const std::string& octets) {
  g_mime_init();
  Report r;
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(octets.data(), octets.size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  GMimeMessage* message = g_mime_parser_construct_message(parser, nullptr);
  if (message != nullptr) {
    GMimeObject* top = g_mime_message_get_mime_part(message);
    GMimeContentType* ct = g_mime_object_get_content_type(top);
    r.type = std::string(g_mime_content_type_get_media_type(ct)) + "/" +
             g_mime_content_type_get_media_subtype(ct);
    if (const char* rt = g_mime_content_type_get_parameter(ct, "report-type")) r.report_type = rt;
    if (const char* to = g_mime_object_get_header(GMIME_OBJECT(message), "To")) r.to = to;
    if (GMIME_IS_MULTIPART(top) && g_mime_multipart_get_count(GMIME_MULTIPART(top)) > 1) {
      GMimeObject* part = g_mime_multipart_get_part(GMIME_MULTIPART(top), 1);
      if (GMIME_IS_PART(part)) {
        GMimeStream* out = g_mime_stream_mem_new();
        g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(GMIME_PART(part)), out);
        GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
        r.status.assign(reinterpret_cast<const char*>(bytes->data), bytes->len);
        g_object_unref(out);
      }
    }
    g_object_unref(message);
  }
  g_object_unref(parser);
  g_object_unref(stream);
  return r;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(QueueAdmin, HeldEntriesAreNotClaimedUntilReleased) {
  TempDir dir;
  auto q = open_queue(dir.path());
  std::string id = enqueue_text(*q, simple_envelope("a@example.org", {"b@example.net"}), "x\r\n");
  auto held = q->hold(id);
  ASSERT_TRUE(held.ok()) << held.message;
  EXPECT_TRUE(held.value);
  EXPECT_TRUE(q->get(id).value.envelope.held);
  EXPECT_TRUE(q->claim_due(kFar, 10).value.empty());
  // Another process (another object) does not take it either.
  EXPECT_TRUE(open_queue(dir.path())->claim_due(kFar, 10).value.empty());
  auto again = q->hold(id);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again.value);  // held already

  auto released = q->release_held(id, 1234);
  ASSERT_TRUE(released.ok()) << released.message;
  EXPECT_TRUE(released.value);
  auto got = q->get(id);
  EXPECT_FALSE(got.value.envelope.held);
  EXPECT_EQ(got.value.envelope.next_attempt, 1234);
  auto not_held = q->release_held(id, 5678);
  ASSERT_TRUE(not_held.ok());
  EXPECT_FALSE(not_held.value);
  EXPECT_EQ(q->get(id).value.envelope.next_attempt, 1234);  // left alone
  auto claimed = q->claim_due(2000, 10);
  ASSERT_EQ(claimed.value.size(), 1u);
  EXPECT_EQ(claimed.value[0].id, id);
}

TEST(QueueAdmin, RetryMakesDueButNotWhenHeld) {
  TempDir dir;
  auto q = open_queue(dir.path());
  auto later = simple_envelope("a@example.org", {"b@example.net"});
  later.next_attempt = 3000000000;
  later.attempts = 3;
  std::string id = enqueue_text(*q, later, "x\r\n");
  std::string other = enqueue_text(*q, later, "y\r\n");
  EXPECT_TRUE(q->claim_due(2000000000, 10).value.empty());
  auto retried = q->retry_now(id, 2000000000);
  ASSERT_TRUE(retried.ok()) << retried.message;
  EXPECT_TRUE(retried.value);
  auto got = q->get(id);
  EXPECT_EQ(got.value.envelope.next_attempt, 2000000000);
  EXPECT_EQ(got.value.envelope.attempts, 3u);  // kept
  auto claimed = q->claim_due(2000000000, 10);
  ASSERT_EQ(claimed.value.size(), 1u);
  EXPECT_EQ(claimed.value[0].id, id);

  ASSERT_TRUE(q->hold(other).ok());
  auto held = q->retry_now(other, 2000000000);
  ASSERT_TRUE(held.ok());
  EXPECT_FALSE(held.value);
  EXPECT_TRUE(q->get(other).value.envelope.held);
  EXPECT_TRUE(q->claim_due(kFar, 10).value.empty());
  EXPECT_EQ(q->retry_now("0123abcd", 1).error, sdk::QueueError::not_found);
  EXPECT_EQ(q->hold("../x").error, sdk::QueueError::invalid);
  // No lock file, for a failed lookup or any other (claims are locks on message files).
  ASSERT_TRUE(q->release(id).ok());
  EXPECT_FALSE(fs::exists(dir.path() / "spool" / "claims"));  // no lock files, ever
}

// A fake report service: records what it was asked, fails while `fail` is set.
class FakeReports final : public sdk::Reports {
 public:
  sdk::QueueResult<sdk::ReportOutcome> report(const sdk::Envelope& envelope,
                                              const std::string& message_path,
                                              const std::vector<sdk::ReportRecipient>& recipients,
                                              std::int64_t) override {
    sdk::QueueResult<sdk::ReportOutcome> r;
    ++calls;
    if (fail) {
      r.error = sdk::QueueError::io;
      r.message = "disk full";
      return r;
    }
    last_envelope = envelope;
    last_message = read_all(message_path);
    last.clear();
    for (const auto& rr : recipients)
      last.push_back(rr);
    r.value.reported = recipients.size();
    r.value.id = "local";
    return r;
  }
  bool fail = false;
  int calls = 0;
  sdk::Envelope last_envelope;
  std::string last_message;
  std::vector<sdk::ReportRecipient> last;
};

TEST(QueueAdmin, ClaimedEntriesAreBusyAndLeftAlone) {
  TempDir dir;
  auto worker = open_queue(dir.path());
  std::string id =
      enqueue_text(*worker, simple_envelope("a@example.org", {"b@example.net"}), "x\r\n");
  ASSERT_EQ(worker->claim_due(kFar, 10).value.size(), 1u);
  const std::string before = worker->envelope_text(id).value;
  ASSERT_FALSE(before.empty());
  FakeReports reports;
  auto cli = open_queue(dir.path());  // as the CLI would, beside the server
  for (QueueService* q : {cli.get(), worker.get()}) {
    EXPECT_EQ(q->hold(id).error, sdk::QueueError::busy);
    EXPECT_EQ(q->release_held(id, 1).error, sdk::QueueError::busy);
    EXPECT_EQ(q->retry_now(id, 1).error, sdk::QueueError::busy);
    auto bounced = q->bounce(id, reports);
    EXPECT_EQ(bounced.error, sdk::QueueError::busy);
    EXPECT_TRUE(contains(bounced.message, "being delivered")) << bounced.message;
  }
  auto by_cli = cli->hold(id);
  EXPECT_TRUE(contains(by_cli.message, "process " + std::to_string(::getpid()))) << by_cli.message;
  EXPECT_EQ(cli->remove(id).error, sdk::QueueError::busy);
  EXPECT_EQ(reports.calls, 0);
  EXPECT_EQ(cli->envelope_text(id).value, before);
  EXPECT_TRUE(names_in(dir.path() / "spool" / "envelopes").empty());  // never rewritten
  // The worker still holds its claim, and may go on.
  EXPECT_TRUE(worker->get(id).value.claimed);
  ASSERT_TRUE(worker->defer(id, 99, "451 later").ok());
  EXPECT_TRUE(cli->hold(id).ok());
}

TEST(QueueAdmin, BounceToALocalSenderLandsInItsInbox) {
  portico::testing::TestServices s;
  s.directory().add_domain("example.test");
  s.directory().add_account("carol@example.test", "Carol", 0, std::string_view("secret"),
                            std::nullopt);
  auto env = simple_envelope("carol@example.test", {"bob@remote.example", "dan@remote.example"});
  std::string id = enqueue_text(s.queue(), env,
                                "From: carol@example.test\r\nSubject: the original\r\n\r\nhi\r\n");
  // dan was delivered already: only bob is failed and reported.
  ASSERT_EQ(s.queue().claim_due(kFar, 10).value.size(), 1u);
  ASSERT_TRUE(
      s.queue().update_recipients(id, {{1, sdk::RecipientState::delivered, "250 ok"}}).ok());
  ASSERT_TRUE(s.queue().release(id).ok());

  auto r = s.queue().bounce(id, s.reports());
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.value.failed, 1u);
  EXPECT_EQ(r.value.report.reported, 1u);
  EXPECT_EQ(r.value.report.id, "local");
  EXPECT_EQ(s.queue().get(id).error, sdk::QueueError::not_found);
  EXPECT_TRUE(s.queue().list().value.empty());  // removed, and no report queued

  auto inbox = s.store().fetch("carol@example.test", "INBOX", {}, false, 0);
  ASSERT_TRUE(inbox.ok());
  ASSERT_EQ(inbox.value.size(), 1u);
  auto octets = s.store().read_message("carol@example.test", "INBOX", inbox.value[0].uid);
  ASSERT_TRUE(octets.ok());
  const Report report = parse_report(octets.value);
  EXPECT_EQ(report.type, "multipart/report");
  EXPECT_EQ(report.report_type, "delivery-status");
  EXPECT_TRUE(contains(report.to, "carol@example.test")) << report.to;
  EXPECT_TRUE(contains(report.status, "Final-Recipient: rfc822; bob@remote.example"))
      << report.status;
  EXPECT_TRUE(contains(report.status, "Action: failed"));
  EXPECT_TRUE(contains(report.status, "Status: 5.0.0"));
  EXPECT_TRUE(contains(report.status, "bounced by the operator"));
  EXPECT_FALSE(contains(report.status, "dan@remote.example"));
}

TEST(QueueAdmin, BounceToARemoteSenderIsQueuedFromTheNullSender) {
  portico::testing::TestServices s;
  std::string id =
      enqueue_text(s.queue(), simple_envelope("someone@elsewhere.example", {"bob@remote.example"}),
                   "Subject: the original\r\n\r\nhi\r\n");
  ASSERT_TRUE(s.queue().hold(id).ok());  // a held entry can be bounced too
  auto r = s.queue().bounce(id, s.reports());
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.value.failed, 1u);
  auto all = s.queue().list();
  ASSERT_EQ(all.value.size(), 1u);
  const auto& dsn = all.value[0];
  EXPECT_EQ(dsn.id, r.value.report.id);
  EXPECT_NE(dsn.id, id);
  EXPECT_EQ(dsn.envelope.sender, "");
  ASSERT_EQ(dsn.envelope.recipients.size(), 1u);
  EXPECT_EQ(dsn.envelope.recipients[0].address, "someone@elsewhere.example");
  const Report report = parse_report(read_all(dsn.message_path));
  EXPECT_EQ(report.type, "multipart/report");
  EXPECT_EQ(report.report_type, "delivery-status");
  EXPECT_TRUE(contains(report.status, "Status: 5.0.0")) << report.status;

  // The report itself comes from <>: bouncing it removes it without a report on the report.
  auto again = s.queue().bounce(dsn.id, s.reports());
  ASSERT_TRUE(again.ok()) << again.message;
  EXPECT_EQ(again.value.failed, 1u);
  EXPECT_EQ(again.value.report.reported, 0u);
  EXPECT_TRUE(s.queue().list().value.empty());
}

TEST(QueueAdmin, AnInterruptedBounceIsFinishedByTheNext) {
  TempDir dir;
  auto q = open_queue(dir.path());
  std::string id =
      enqueue_text(*q, simple_envelope("a@example.org", {"b@example.net", "c@example.net"}),
                   "Subject: x\r\n\r\n");
  FakeReports reports;
  reports.fail = true;
  auto failed = q->bounce(id, reports);
  EXPECT_EQ(failed.error, sdk::QueueError::io);
  EXPECT_TRUE(contains(failed.message, "bounce it again")) << failed.message;
  // Kept, held, its recipients failed, and the note says whom the report is owed to.
  auto got = q->get(id);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got.value.envelope.held);
  for (const auto& r : got.value.envelope.recipients) {
    EXPECT_EQ(r.state, sdk::RecipientState::failed);
    EXPECT_EQ(r.reply, "5.0.0 bounced by the operator");
  }
  EXPECT_EQ(q->note(id, "bounce").value, "0,1");
  EXPECT_TRUE(q->claim_due(kFar, 10).value.empty());

  reports.fail = false;
  auto done = q->bounce(id, reports);
  ASSERT_TRUE(done.ok()) << done.message;
  EXPECT_EQ(done.value.failed, 2u);
  ASSERT_EQ(reports.last.size(), 2u);
  EXPECT_EQ(reports.last[0].index, 0u);
  EXPECT_EQ(reports.last[1].index, 1u);
  EXPECT_EQ(reports.last[0].status, "5.0.0");
  EXPECT_EQ(reports.last[0].diagnostic, "bounced by the operator");
  EXPECT_EQ(reports.last[0].action, sdk::ReportAction::failed);
  EXPECT_EQ(reports.last_message, "Subject: x\r\n\r\n");
  EXPECT_TRUE(q->list().value.empty());
  EXPECT_FALSE(fs::exists(dir.path() / "spool" / "claims"));  // no lock files, ever
}

TEST(QueueAdmin, StatsCountEntriesPerStateFromTheCachedScan) {
  TempDir dir;
  auto q = open_queue(dir.path());
  const std::int64_t now = 2000000000;
  auto due = simple_envelope("a@example.org", {"b@example.net", "c@example.net"});
  due.next_attempt = now - 10;
  auto later = simple_envelope("a@example.org", {"d@example.net"});
  later.next_attempt = now + 600;
  later.recipients.push_back({"e@example.net", 0, "", sdk::RecipientState::delivered, "250 ok"});
  enqueue_text(*q, due, "x\r\n");
  enqueue_text(*q, later, "y\r\n");
  std::string held = enqueue_text(*q, due, "z\r\n");
  std::string damaged = enqueue_text(*q, due, "w\r\n");
  ASSERT_TRUE(q->hold(held).ok());
  std::ofstream(dir.path() / "spool" / "envelopes" / damaged, std::ios::trunc) << "garbage\n";

  auto s = q->stats(now, std::chrono::seconds(0));
  ASSERT_TRUE(s.ok()) << s.message;
  EXPECT_EQ(s.value.active, 1u);
  EXPECT_EQ(s.value.deferred, 1u);
  EXPECT_EQ(s.value.held, 1u);
  EXPECT_EQ(s.value.damaged, 1u);
  EXPECT_EQ(s.value.recipients_pending, 2u + 1u + 2u);
  EXPECT_GT(s.value.scanned_at, 0);
  // Time moves the deferred one into the active ones without a scan.
  auto later_stats = q->stats(now + 600, std::chrono::hours(1));
  EXPECT_EQ(later_stats.value.active, 2u);
  EXPECT_EQ(later_stats.value.deferred, 0u);

  // A fresh scan is made only when the last one is older than asked.
  enqueue_text(*q, due, "v\r\n");
  EXPECT_EQ(q->stats(now, std::chrono::hours(1)).value.active, 1u);
  EXPECT_EQ(q->stats(now, std::chrono::seconds(0)).value.active, 2u);
  // claim_due scans too; a claimed entry counts as active.
  ASSERT_EQ(q->claim_due(now, 1).value.size(), 1u);
  EXPECT_EQ(q->stats(now, std::chrono::hours(1)).value.active, 2u);
}

TEST(QueueAdmin, ConcurrentEnqueuesShareBatchesAndAllSurvive) {
  TempDir dir;
  auto q = open_queue(dir.path());
  constexpr int kThreads = 8, kEach = 25;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        ids[static_cast<std::size_t>(t)].push_back(
            enqueue_text(*q, simple_envelope(std::to_string(t) + "@example.org", {"r@example.net"}),
                         "Subject: " + std::to_string(t) + "." + std::to_string(i) + "\r\n\r\n"));
      }
    });
  }
  for (auto& t : threads)
    t.join();
  std::set<std::string> all;
  for (const auto& v : ids)
    all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kEach));
  const std::size_t batches = q->enqueue_batches();
  EXPECT_GE(batches, 1u);
  EXPECT_LE(batches, static_cast<std::size_t>(kThreads * kEach));
  RecordProperty("enqueues", kThreads * kEach);
  RecordProperty("batches", static_cast<int>(batches));

  auto reopened = open_queue(dir.path());
  EXPECT_EQ(reopened->cleanup().temp_envelopes, 0u);
  EXPECT_EQ(reopened->cleanup().orphan_messages, 0u);
  auto listed = reopened->list();
  ASSERT_EQ(listed.value.size(), all.size());
  for (const auto& e : listed.value) {
    EXPECT_TRUE(all.count(e.id)) << e.id;
    EXPECT_TRUE(e.damage.empty()) << e.damage;
    // Each envelope has its own message.
    const std::string t = e.envelope.sender.substr(0, e.envelope.sender.find('@'));
    EXPECT_EQ(read_all(e.message_path).rfind("Subject: " + t + ".", 0), 0u) << e.id;
  }
}

}  // namespace
}  // namespace portico::core::queue_test
