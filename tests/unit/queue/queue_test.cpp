// Tests of the queue service on real files: a large message written in pieces (never wholly in
// memory), enqueue and reopen, claims (also across objects and processes), defer, complete,
// fail, remove, and the cleanup of leftovers at open.
#include "tests/unit/queue/queue_test.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "core/queue/envelope.h"
#include "core/queue/incoming.h"

namespace portico::core::queue_test {
namespace {

constexpr std::int64_t kFar = 4000000000;  // a "now" after every next attempt of these tests

// Deterministic content: octet i of the big message.
char pattern(std::uint64_t i) {
  return static_cast<char>('a' + (i * 7 + i / 1000) % 26);
}

std::uint64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

TEST(Queue, LargeMessageInPiecesSurvivesReopen) {
  TempDir dir;
  constexpr std::uint64_t kTotal = 24ull * 1024 * 1024;
  constexpr std::size_t kPiece = 10007;  // not a divisor of the buffer size
  sdk::Envelope envelope = simple_envelope("alice@example.org", {"bob@example.net"});
  envelope.ret = sdk::DsnRet::full;
  envelope.envid = "ENV-1";
  envelope.smtputf8 = true;
  envelope.auth_user = "alice@example.org";
  std::string id;
  {
    auto q = open_queue(dir.path());
    auto incoming = q->create_incoming();
    ASSERT_TRUE(incoming.ok()) << incoming.message;
    auto& msg = *incoming.value;
    const std::string path = msg.path();
    EXPECT_EQ(fs::path(path).parent_path(), dir.path() / "spool" / "incoming");
    std::string piece;
    std::uint64_t written = 0, last_seen = 0;
    int growths = 0;
    while (written < kTotal) {
      piece.clear();
      for (std::size_t i = 0; i < kPiece && written + i < kTotal; ++i) {
        piece += pattern(written + i);
      }
      ASSERT_TRUE(msg.append(piece).ok());
      written += piece.size();
      std::uint64_t on_disk = file_size(path);
      // The file follows the data: at most one buffer is held in memory.
      ASSERT_GE(on_disk + queue::kIncomingBuffer, written);
      if (on_disk > last_seen) ++growths;
      last_seen = on_disk;
    }
    EXPECT_GT(growths, 100);
    EXPECT_EQ(msg.size(), kTotal);
    ASSERT_TRUE(msg.seal().ok());
    EXPECT_TRUE(msg.sealed());
    EXPECT_EQ(file_size(path), kTotal);
    EXPECT_FALSE(msg.append("more").ok());  // sealed
    auto r = q->enqueue(envelope, msg);
    ASSERT_TRUE(r.ok()) << r.message;
    id = r.value;
    EXPECT_TRUE(queue::valid_id(id));
  }  // the incoming message and the queue are gone; the entry stays

  auto q = open_queue(dir.path());
  EXPECT_TRUE(names_in(dir.path() / "spool" / "incoming").empty());
  auto all = q->list();
  ASSERT_TRUE(all.ok()) << all.message;
  ASSERT_EQ(all.value.size(), 1u);
  EXPECT_EQ(all.value[0].id, id);
  EXPECT_EQ(all.value[0].size, kTotal);
  EXPECT_TRUE(all.value[0].damage.empty());
  auto got = q->get(id);
  ASSERT_TRUE(got.ok()) << got.message;
  const auto& env = got.value.envelope;
  EXPECT_EQ(env.sender, envelope.sender);
  ASSERT_EQ(env.recipients.size(), 1u);
  EXPECT_EQ(env.recipients[0].address, "bob@example.net");
  EXPECT_EQ(env.recipients[0].notify, std::uint32_t{sdk::notify_failure});
  EXPECT_EQ(env.ret, sdk::DsnRet::full);
  EXPECT_EQ(env.envid, "ENV-1");
  EXPECT_TRUE(env.smtputf8);
  EXPECT_EQ(env.auth_user, "alice@example.org");
  EXPECT_EQ(env.client_address, "192.0.2.7");
  EXPECT_GT(env.received, 0);
  EXPECT_EQ(env.next_attempt, env.received);  // due at once
  EXPECT_FALSE(got.value.claimed);

  // The content, read back in pieces.
  std::ifstream in(got.value.message_path, std::ios::binary);
  std::string buffer(1 << 16, '\0');
  std::uint64_t offset = 0;
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount()) {
    auto n = static_cast<std::size_t>(in.gcount());
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(buffer[i], pattern(offset + i)) << "at " << offset + i;
    }
    offset += n;
  }
  EXPECT_EQ(offset, kTotal);
}

TEST(Queue, IncomingFileGoesAwayUnlessQueued) {
  TempDir dir;
  auto q = open_queue(dir.path());
  std::string path;
  {
    auto incoming = q->create_incoming();
    ASSERT_TRUE(incoming.ok());
    ASSERT_TRUE(incoming.value->append("Subject: x\r\n\r\nbody\r\n").ok());
    // Small so far: held in memory, no file yet.
    ASSERT_TRUE(incoming.value->held_in_memory());
    EXPECT_EQ(*incoming.value->held_in_memory(), "Subject: x\r\n\r\nbody\r\n");
    EXPECT_TRUE(names_in(dir.path() / "spool" / "incoming").empty());
    // Past the buffer, the octets go to the file.
    ASSERT_TRUE(incoming.value->append(std::string(queue::kIncomingBuffer, 'x')).ok());
    EXPECT_FALSE(incoming.value->held_in_memory());
    path = incoming.value->path();
    EXPECT_TRUE(fs::exists(path));
  }
  EXPECT_FALSE(fs::exists(path));

  auto incoming = q->create_incoming();
  ASSERT_TRUE(incoming.ok());
  path = incoming.value->path();
  incoming.value->abort();
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(incoming.value->append("x").ok());
  EXPECT_FALSE(incoming.value->seal().ok());
}

TEST(Queue, EnqueueRefusesUnsealedOrEmpty) {
  TempDir dir;
  auto q = open_queue(dir.path());
  auto incoming = q->create_incoming();
  ASSERT_TRUE(incoming.ok());
  ASSERT_TRUE(incoming.value->append("Subject: x\r\n\r\n").ok());
  auto r = q->enqueue(simple_envelope("a@b", {"c@d"}), *incoming.value);
  EXPECT_EQ(r.error, sdk::QueueError::invalid);
  ASSERT_TRUE(incoming.value->seal().ok());
  r = q->enqueue(simple_envelope("a@b", {}), *incoming.value);
  EXPECT_EQ(r.error, sdk::QueueError::invalid);
  auto all = q->list();
  EXPECT_TRUE(all.value.empty());
  // The same sealed message may go to the queue more than once (e.g. one entry per domain).
  EXPECT_TRUE(q->enqueue(simple_envelope("a@b", {"c@d"}), *incoming.value).ok());
  EXPECT_TRUE(q->enqueue(simple_envelope("a@b", {"e@f"}), *incoming.value).ok());
  EXPECT_EQ(q->list().value.size(), 2u);
}

// A message sealed without fsync is for the store, which makes it durable itself; the queue,
// which links the file as it is, refuses it.
TEST(Queue, EnqueueRefusesAMessageNotSealed) {
  TempDir dir;
  auto q = open_queue(dir.path());
  auto incoming = q->create_incoming();
  ASSERT_TRUE(incoming.ok());
  ASSERT_TRUE(incoming.value->append("Subject: x\r\n\r\nbody\r\n").ok());
  auto r = q->enqueue(simple_envelope("a@b", {"c@d"}), *incoming.value);
  EXPECT_EQ(r.error, sdk::QueueError::invalid);
  EXPECT_TRUE(q->list().value.empty());
}

TEST(Queue, ClaimDeferUpdateComplete) {
  TempDir dir;
  auto q = open_queue(dir.path());
  auto later = simple_envelope("a@example.org", {"x@example.net"});
  later.next_attempt = 2000;
  auto sooner = simple_envelope("b@example.org", {"y@example.net", "z@example.net"});
  sooner.next_attempt = 1000;
  auto future = simple_envelope("c@example.org", {"w@example.net"});
  future.next_attempt = 3000000000;
  std::string id_later = enqueue_text(*q, later, "Subject: later\r\n\r\n");
  std::string id_sooner = enqueue_text(*q, sooner, "Subject: sooner\r\n\r\n");
  std::string id_future = enqueue_text(*q, future, "Subject: future\r\n\r\n");

  auto claimed = q->claim_due(2500, 10);
  ASSERT_TRUE(claimed.ok()) << claimed.message;
  ASSERT_EQ(claimed.value.size(), 2u);
  EXPECT_EQ(claimed.value[0].id, id_sooner);  // oldest next attempt first
  EXPECT_EQ(claimed.value[1].id, id_later);
  EXPECT_EQ(claimed.value[0].envelope.recipients.size(), 2u);
  EXPECT_TRUE(q->claim_due(2500, 10).value.empty());  // already ours

  // Another object (as another process would) sees them claimed.
  auto other = open_queue(dir.path());
  EXPECT_TRUE(other->claim_due(kFar, 10).value.size() == 1u);  // only the future one
  EXPECT_TRUE(other->get(id_sooner).value.claimed);
  EXPECT_EQ(other->get(id_sooner).value.claimed_by, ::getpid());
  EXPECT_EQ(other->defer(id_sooner, 5, "x").error, sdk::QueueError::busy);
  EXPECT_EQ(other->remove(id_sooner).error, sdk::QueueError::busy);
  ASSERT_TRUE(other->release(id_future).ok());

  // One recipient done, the other deferred.
  ASSERT_TRUE(
      q->update_recipients(id_sooner, {{0, sdk::RecipientState::delivered, "250 ok"}}).ok());
  EXPECT_EQ(q->update_recipients(id_sooner, {{5, sdk::RecipientState::failed, "x"}}).error,
            sdk::QueueError::invalid);
  ASSERT_TRUE(q->defer(id_sooner, 5000, "451 4.7.1 greylisted\r\ntry later").ok());
  auto got = q->get(id_sooner);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got.value.claimed);
  EXPECT_EQ(got.value.envelope.attempts, 1u);
  EXPECT_EQ(got.value.envelope.next_attempt, 5000);
  EXPECT_EQ(got.value.envelope.last_error, "451 4.7.1 greylisted\r\ntry later");
  EXPECT_EQ(got.value.envelope.recipients[0].state, sdk::RecipientState::delivered);
  EXPECT_EQ(got.value.envelope.recipients[0].reply, "250 ok");
  EXPECT_EQ(got.value.envelope.recipients[1].state, sdk::RecipientState::pending);

  EXPECT_TRUE(q->claim_due(4999, 10).value.empty());
  auto again = q->claim_due(5000, 10);
  ASSERT_EQ(again.value.size(), 1u);
  EXPECT_EQ(again.value[0].id, id_sooner);

  // Complete removes both files, durably.
  std::string message = again.value[0].message_path;
  ASSERT_TRUE(q->complete(id_sooner).ok());
  EXPECT_FALSE(fs::exists(message));
  EXPECT_EQ(q->get(id_sooner).error, sdk::QueueError::not_found);
  EXPECT_EQ(q->complete(id_sooner).error, sdk::QueueError::not_found);
  ASSERT_TRUE(q->release(id_later).ok());
  EXPECT_EQ(q->release(id_later).error, sdk::QueueError::invalid);  // not ours any more
  EXPECT_EQ(q->list().value.size(), 2u);
  EXPECT_FALSE(fs::exists(dir.path() / "spool" / "claims"));  // no lock files, ever
}

TEST(Queue, ClaimDueHonoursMax) {
  TempDir dir;
  auto q = open_queue(dir.path());
  for (int i = 0; i < 5; ++i)
    enqueue_text(*q, simple_envelope("a@b", {"c@d"}), "x\r\n");
  EXPECT_EQ(q->claim_due(kFar, 2).value.size(), 2u);
  EXPECT_EQ(q->claim_due(kFar, 0).value.size(), 0u);
  EXPECT_EQ(q->claim_due(kFar, 10).value.size(), 3u);
}

TEST(Queue, FailHoldsTheEntry) {
  TempDir dir;
  auto q = open_queue(dir.path());
  std::string id = enqueue_text(*q, simple_envelope("", {"a@x", "b@x"}), "Subject: bounce\r\n\r\n");
  ASSERT_EQ(q->claim_due(kFar, 10).value.size(), 1u);
  ASSERT_TRUE(q->update_recipients(id, {{0, sdk::RecipientState::delivered, "250 ok"}}).ok());
  ASSERT_TRUE(q->fail(id, "expired after 5 days").ok());
  auto got = q->get(id);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got.value.envelope.held);
  EXPECT_EQ(got.value.envelope.last_error, "expired after 5 days");
  EXPECT_EQ(got.value.envelope.recipients[0].state, sdk::RecipientState::delivered);
  EXPECT_EQ(got.value.envelope.recipients[1].state, sdk::RecipientState::failed);
  EXPECT_EQ(got.value.envelope.recipients[1].reply, "expired after 5 days");
  EXPECT_TRUE(q->claim_due(kFar, 10).value.empty());  // held: never claimed again
  ASSERT_TRUE(q->remove(id).ok());
  EXPECT_TRUE(q->list().value.empty());
}

TEST(Queue, BadIdsAreRefused) {
  TempDir dir;
  auto q = open_queue(dir.path());
  for (const char* id : {"", "../envelopes/x", "a/b", ".tmp-x", "x y"}) {
    EXPECT_EQ(q->get(id).error, sdk::QueueError::invalid) << id;
    EXPECT_EQ(q->remove(id).error, sdk::QueueError::invalid) << id;
  }
  EXPECT_EQ(q->get("abc123").error, sdk::QueueError::not_found);
  EXPECT_EQ(q->remove("abc123").error, sdk::QueueError::not_found);
}

TEST(Queue, AnEntryWhoseMessageIsLostIsStillHandledAndRemovable) {
  // Its claim cannot be a lock on the message file; it is handed out all the same, with its
  // damage, and the operator can still act on it.
  TempDir dir;
  auto q = open_queue(dir.path());
  std::string kept = enqueue_text(*q, simple_envelope("a@b", {"c@d"}), "x\r\n");
  std::string lost = enqueue_text(*q, simple_envelope("a@b", {"e@f"}), "y\r\n");
  // Changed once, so it has an envelope file (as enqueued, the message file is the entry).
  ASSERT_TRUE(q->set_note(lost, "n", "v").ok());
  ASSERT_TRUE(fs::exists(dir.path() / "spool" / "envelopes" / lost));
  fs::remove(dir.path() / "spool" / "messages" / lost);

  auto listed = q->get(lost);
  ASSERT_TRUE(listed.ok()) << listed.message;
  EXPECT_EQ(listed.value.damage, "the message file is missing");
  EXPECT_FALSE(listed.value.claimed);

  auto other = open_queue(dir.path());
  ASSERT_TRUE(other->hold(lost).ok());  // the operator's action, without a lock to take
  ASSERT_TRUE(other->release_held(lost, 0).ok());

  auto claimed = q->claim_due(kFar, 10);
  ASSERT_EQ(claimed.value.size(), 2u);
  std::set<std::string> ids;
  for (const auto& e : claimed.value) {
    ids.insert(e.id);
    EXPECT_EQ(e.damage.empty(), e.id == kept) << e.id << ": " << e.damage;
  }
  EXPECT_EQ(ids, (std::set<std::string>{kept, lost}));
  EXPECT_TRUE(q->claim_due(kFar, 10).value.empty());  // both ours now
  ASSERT_TRUE(q->complete(lost).ok());
  EXPECT_EQ(q->get(lost).error, sdk::QueueError::not_found);
  EXPECT_EQ(q->remove(lost).error, sdk::QueueError::not_found);
  ASSERT_TRUE(q->release(kept).ok());
}

TEST(Queue, DamagedEnvelopeIsListedNotClaimed) {
  TempDir dir;
  auto q = open_queue(dir.path());
  std::string id = enqueue_text(*q, simple_envelope("a@b", {"c@d"}), "x\r\n");
  {
    std::ofstream out(dir.path() / "spool" / "envelopes" / id, std::ios::trunc);
    out << "portico-envelope: 1\nsender: a@b\n";  // no "end"
  }
  auto all = q->list();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all.value.size(), 1u);
  EXPECT_NE(all.value[0].damage.find("truncated"), std::string::npos) << all.value[0].damage;
  EXPECT_EQ(q->get(id).error, sdk::QueueError::damaged);
  EXPECT_TRUE(q->claim_due(kFar, 10).value.empty());
  EXPECT_TRUE(q->remove(id).ok());
}

TEST(Queue, StaleClaimOfADeadProcessIsReleased) {
  TempDir dir;
  std::string id;
  {
    auto q = open_queue(dir.path());
    id = enqueue_text(*q, simple_envelope("a@b", {"c@d"}), "x\r\n");
  }
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    auto q = open_queue(dir.path());
    auto claimed = q->claim_due(kFar, 10);
    char c = claimed.ok() && claimed.value.size() == 1 ? '1' : '0';
    if (::write(ready[1], &c, 1) != 1) ::_exit(1);
    ::pause();  // hold the claim until killed
    ::_exit(0);
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(c, '1');

  auto q = open_queue(dir.path());
  auto held = q->get(id);
  EXPECT_TRUE(held.value.claimed);
  EXPECT_EQ(held.value.claimed_by, child);
  EXPECT_TRUE(q->claim_due(kFar, 10).value.empty());

  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);

  EXPECT_FALSE(q->get(id).value.claimed);
  auto claimed = q->claim_due(kFar, 10);
  ASSERT_EQ(claimed.value.size(), 1u);
  EXPECT_EQ(claimed.value[0].id, id);
  ASSERT_TRUE(q->complete(id).ok());
  EXPECT_FALSE(fs::exists(dir.path() / "spool" / "claims"));  // no lock files, ever
}

TEST(Queue, AClaimedMessageWithoutEnvelopeIsNotAnOrphan) {
  // An enqueue between linking its message and renaming its envelope holds the entry's claim
  // (a lock on the message file): another process's open must leave the file alone.
  TempDir dir;
  auto q = open_queue(dir.path());
  const fs::path message = dir.path() / "spool" / "messages" / "00queuing";
  std::ofstream(message, std::ios::binary) << "a message whose envelope is on the way";
  {  // locks of two open file descriptions conflict, in one process as across two
    auto claim = queue::Claim::take_file(message);
    ASSERT_TRUE(claim.held());
    EXPECT_FALSE(queue::Claim::try_take(dir.path() / "spool" / "messages", "00queuing").held());
    EXPECT_EQ(queue::Claim::holder(dir.path() / "spool" / "messages", "00queuing"), ::getpid());
    auto other = open_queue(dir.path());
    EXPECT_EQ(other->cleanup().orphan_messages, 0u);
    EXPECT_TRUE(fs::exists(message));
  }
  EXPECT_EQ(queue::Claim::holder(dir.path() / "spool" / "messages", "00queuing"), 0);
  auto after = open_queue(dir.path());
  EXPECT_EQ(after->cleanup().orphan_messages, 1u);
  EXPECT_FALSE(fs::exists(message));
}

TEST(Queue, OpenRemovesLeftoversButNotLiveFiles) {
  TempDir dir;
  auto q = open_queue(dir.path());
  std::string kept = enqueue_text(*q, simple_envelope("a@b", {"c@d"}), "kept\r\n");
  auto live = q->create_incoming();  // a writer of this process, still alive
  ASSERT_TRUE(live.ok());
  // Enough to be written out (a small message stays in memory, with no file).
  ASSERT_TRUE(live.value->append(std::string(queue::kIncomingBuffer + 1, 'p')).ok());

  const fs::path spool = dir.path() / "spool";
  auto touch = [](const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
  };
  touch(spool / "incoming" / "deadbeef.msg", "left by a crash");
  touch(spool / "envelopes" / (".tmp-" + kept + "-0123abcd"), "portico-envelope: 1\nsen");
  touch(spool / "envelopes" / ".tmp-00aa-ffff", "half");
  touch(spool / "messages" / "00orphan", "a message whose envelope never came");
  // The same octets linked under a second name (of an id's length) carry the first entry's
  // envelope, not one of their own: an orphan too.
  std::string alias = kept;
  alias.back() = alias.back() == '0' ? '1' : '0';
  fs::create_hard_link(spool / "messages" / kept, spool / "messages" / alias);
  fs::create_directories(spool / "claims");  // as an earlier version left it
  touch(spool / "claims" / "00stale", "12345\n");

  auto reopened = open_queue(dir.path());
  auto cleaned = reopened->cleanup();
  EXPECT_EQ(cleaned.incoming, 1u);
  EXPECT_EQ(cleaned.temp_envelopes, 2u);
  EXPECT_EQ(cleaned.orphan_messages, 2u);
  EXPECT_EQ(names_in(spool / "incoming"),
            std::vector<std::string>{fs::path(live.value->path()).filename().string()});
  // The entry as enqueued: its envelope rides on the message file.
  EXPECT_TRUE(names_in(spool / "envelopes").empty());
  EXPECT_EQ(names_in(spool / "messages"), std::vector<std::string>{kept});
  ASSERT_TRUE(reopened->get(kept).ok());
  EXPECT_FALSE(fs::exists(spool / "claims"));
  // The live writer carries on.
  ASSERT_TRUE(live.value->append(" and done\r\n").ok());
  ASSERT_TRUE(live.value->seal().ok());
  EXPECT_TRUE(reopened->enqueue(simple_envelope("a@b", {"c@d"}), *live.value).ok());
}

TEST(Queue, ConcurrentWorkersNeverShareAnEntry) {
  TempDir dir;
  auto q = open_queue(dir.path());
  constexpr int kEntries = 60;
  for (int i = 0; i < kEntries; ++i)
    enqueue_text(*q, simple_envelope("a@b", {"c@d"}), "x\r\n");
  auto second = open_queue(dir.path());
  std::vector<std::string> a, b;
  std::thread t1([&] {
    while (true) {
      auto got = q->claim_due(kFar, 3);
      if (got.value.empty()) break;
      for (auto& e : got.value) {
        a.push_back(e.id);
        EXPECT_TRUE(q->complete(e.id).ok());
      }
    }
  });
  std::thread t2([&] {
    while (true) {
      auto got = second->claim_due(kFar, 3);
      if (got.value.empty()) break;
      for (auto& e : got.value) {
        b.push_back(e.id);
        EXPECT_TRUE(second->complete(e.id).ok());
      }
    }
  });
  t1.join();
  t2.join();
  std::set<std::string> all(a.begin(), a.end());
  for (const auto& id : b)
    EXPECT_TRUE(all.insert(id).second) << id << " claimed twice";
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kEntries));
  EXPECT_TRUE(q->list().value.empty());
}

}  // namespace
}  // namespace portico::core::queue_test
