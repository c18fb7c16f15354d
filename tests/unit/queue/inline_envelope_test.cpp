// Tests of where a queue entry's envelope lives (spool_files.h): as enqueued, an extended
// attribute of the message file, made durable by the message's one fsync; after any change, a
// file in envelopes/ that wins, the attribute then removed, so that a message file whose removal
// a crash undoes is an orphan and never the entry again; an envelope file from the start when it
// does not fit; and one incoming file queued twice, whose second name carries no entry of its
// own. On real files (the test folder's file system must have user extended attributes, as
// ext4 has by default).
#include <sys/xattr.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "core/queue/spool_files.h"
#include "tests/unit/queue/queue_test.h"

namespace portico::core::queue_test {
namespace {

constexpr std::int64_t kFar = 4000000000;

// The envelope attribute of a file: "" when it has none.
std::string attribute(const fs::path& file) {
  std::string value(64 * 1024, '\0');
  ssize_t n = ::getxattr(file.c_str(), queue::kInlineEnvelopeAttr, value.data(), value.size());
  if (n < 0) return {};
  value.resize(static_cast<std::size_t>(n));
  return value;
}

std::string contents(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Queues `body` as smtp-in does for remote recipients only: sealed without fsync.
std::string enqueue_unsynced(sdk::Queue& q, const sdk::Envelope& envelope,
                             const std::string& body) {
  auto incoming = q.create_incoming();
  EXPECT_TRUE(incoming.ok()) << incoming.message;
  if (!incoming.ok()) return {};
  EXPECT_TRUE(incoming.value->append(body).ok());
  EXPECT_TRUE(incoming.value->seal_unsynced().ok());
  auto id = q.enqueue(envelope, *incoming.value);
  EXPECT_TRUE(id.ok()) << id.message;
  return id.value;
}

TEST(QueueInline, AnEntryAsEnqueuedIsItsMessageFileWithTheEnvelopeOnIt) {
  TempDir dir;
  const fs::path spool = dir.path() / "spool";
  auto envelope = simple_envelope("alice@example.org", {"bob@example.net", "carol@example.com"});
  envelope.envid = "ENV-7";
  std::string id;
  {
    auto q = open_queue(dir.path());
    id = enqueue_unsynced(*q, envelope, "Subject: inline\r\n\r\nbody\r\n");
  }
  EXPECT_TRUE(names_in(spool / "envelopes").empty());
  const std::string attr = attribute(spool / "messages" / id);
  EXPECT_EQ(attr.rfind(id + "\nportico-envelope: 1\n", 0), 0u) << attr;

  auto q = open_queue(dir.path());
  EXPECT_EQ(q->cleanup().orphan_messages, 0u);
  auto got = q->get(id);
  ASSERT_TRUE(got.ok()) << got.message;
  EXPECT_EQ(got.value.envelope.sender, "alice@example.org");
  ASSERT_EQ(got.value.envelope.recipients.size(), 2u);
  EXPECT_EQ(got.value.envelope.recipients[1].address, "carol@example.com");
  EXPECT_EQ(got.value.envelope.envid, "ENV-7");
  EXPECT_EQ(contents(got.value.message_path), "Subject: inline\r\n\r\nbody\r\n");
  EXPECT_EQ(q->envelope_text(id).value, attr.substr(id.size() + 1));
  auto claimed = q->claim_due(kFar, 10);
  ASSERT_EQ(claimed.value.size(), 1u);
  EXPECT_EQ(claimed.value[0].id, id);
  EXPECT_EQ(q->stats(kFar, std::chrono::seconds(0)).value.active, 1u);

  // Completed: the message file was the entry, and its removal is for good.
  ASSERT_TRUE(q->complete(id).ok());
  EXPECT_TRUE(names_in(spool / "messages").empty());
  auto reopened = open_queue(dir.path());
  EXPECT_TRUE(reopened->list().value.empty());
}

TEST(QueueInline, AChangeMovesTheEnvelopeToAFileAndTakesItOffTheMessage) {
  TempDir dir;
  const fs::path spool = dir.path() / "spool";
  auto q = open_queue(dir.path());
  std::string id =
      enqueue_unsynced(*q, simple_envelope("a@example.org", {"b@example.net"}), "x\r\n");
  ASSERT_EQ(q->claim_due(kFar, 10).value.size(), 1u);
  ASSERT_TRUE(q->defer(id, 1234, "451 4.4.1 later").ok());
  EXPECT_EQ(names_in(spool / "envelopes"), std::vector<std::string>{id});
  EXPECT_EQ(attribute(spool / "messages" / id), "");
  {
    auto other = open_queue(dir.path());
    auto got = other->get(id);
    ASSERT_TRUE(got.ok()) << got.message;
    EXPECT_EQ(got.value.envelope.attempts, 1u);
    EXPECT_EQ(got.value.envelope.next_attempt, 1234);
    EXPECT_EQ(got.value.envelope.last_error, "451 4.4.1 later");
    EXPECT_EQ(other->stats(0, std::chrono::seconds(0)).value.deferred, 1u);
  }
  // A crash that kept the removal of the envelope file and lost that of the message file: what
  // is left is an orphan, not the entry as first enqueued.
  q.reset();
  fs::remove(spool / "envelopes" / id);
  auto reopened = open_queue(dir.path());
  EXPECT_EQ(reopened->cleanup().orphan_messages, 1u);
  EXPECT_TRUE(reopened->list().value.empty());
  EXPECT_TRUE(names_in(spool / "messages").empty());
}

TEST(QueueInline, AnEnvelopeTooLargeForTheFileGoesToAnEnvelopeFile) {
  TempDir dir;
  const fs::path spool = dir.path() / "spool";
  std::vector<std::string> recipients;
  for (int i = 0; i < 200; ++i)
    recipients.push_back("recipient-number-" + std::to_string(i) + "@a-long-domain.example");
  std::string id;
  {
    auto q = open_queue(dir.path());
    id = enqueue_unsynced(*q, simple_envelope("a@example.org", recipients), "big\r\n");
  }
  EXPECT_EQ(names_in(spool / "envelopes"), std::vector<std::string>{id});
  EXPECT_EQ(attribute(spool / "messages" / id), "");
  auto q = open_queue(dir.path());
  auto got = q->get(id);
  ASSERT_TRUE(got.ok()) << got.message;
  ASSERT_EQ(got.value.envelope.recipients.size(), 200u);
  EXPECT_EQ(got.value.envelope.recipients[199].address,
            "recipient-number-199@a-long-domain.example");
  ASSERT_TRUE(q->remove(id).ok());
  EXPECT_TRUE(names_in(spool / "envelopes").empty());
  EXPECT_TRUE(names_in(spool / "messages").empty());
}

TEST(QueueInline, OneIncomingFileQueuedTwiceMakesTwoEntries) {
  TempDir dir;
  const fs::path spool = dir.path() / "spool";
  auto q = open_queue(dir.path());
  auto incoming = q->create_incoming();
  ASSERT_TRUE(incoming.ok());
  ASSERT_TRUE(incoming.value->append("Subject: twice\r\n\r\n").ok());
  ASSERT_TRUE(incoming.value->seal_unsynced().ok());
  auto first = q->enqueue(simple_envelope("first@example.org", {"a@example.net"}), *incoming.value);
  auto second =
      q->enqueue(simple_envelope("second@example.org", {"b@example.net"}), *incoming.value);
  ASSERT_TRUE(first.ok() && second.ok()) << first.message << second.message;
  // The second name is the same file, whose attribute is the first entry's: the second entry's
  // envelope is a file.
  EXPECT_EQ(names_in(spool / "envelopes"), std::vector<std::string>{second.value});
  incoming.value.reset();

  auto reopened = open_queue(dir.path());
  EXPECT_EQ(reopened->cleanup().orphan_messages, 0u);
  EXPECT_EQ(reopened->get(first.value).value.envelope.sender, "first@example.org");
  EXPECT_EQ(reopened->get(second.value).value.envelope.sender, "second@example.org");
  ASSERT_TRUE(reopened->remove(first.value).ok());
  auto left = open_queue(dir.path())->list();
  ASSERT_EQ(left.value.size(), 1u);
  EXPECT_EQ(left.value[0].id, second.value);
  EXPECT_EQ(contents(left.value[0].message_path), "Subject: twice\r\n\r\n");
}

}  // namespace
}  // namespace portico::core::queue_test
