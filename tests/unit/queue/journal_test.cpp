// Tests of the spool's journal (core/queue/journal.h) and its recovery (recovery.h), on real
// files: the owner's enqueues and removals are records made durable by one fdatasync per batch;
// a crash (a forked owner that _exits without closing the queue) that lost a message file, tore
// it or lost its attribute is repaired from the records at the next open; a recorded removal
// whose unlink was lost is finished; a removal by a process that does not own the journal
// leaves a tombstone so that recovery does not bring the entry back; a full journal checkpoints
// and starts over; messages too large for it, and a second would-be owner, use the files alone.
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <string>

#include "core/queue/journal.h"
#include "core/queue/spool_files.h"
#include "tests/unit/queue/queue_test.h"

namespace portico::core::queue_test {
namespace {

constexpr std::int64_t kFar = 4000000000;

std::string contents(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const fs::path& file, const std::string& data) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << data;
}

QueueOptions owner(std::uint64_t capacity = queue::kJournalCapacity) {
  QueueOptions o;
  o.own_journal = true;
  o.journal_capacity = capacity;
  return o;
}

std::string body_of(int n) {
  return "Subject: journal " + std::to_string(n) + "\r\n\r\n" + std::string(500 + n, 'x') + "\r\n";
}

// Runs `work(queue)` in a child that owns the journal and then dies without closing the queue
// (no checkpoint: as after a crash, the journal holds the records). Returns the lines the child
// wrote to its pipe.
template <class Work>
std::vector<std::string> in_crashing_owner(const fs::path& data_dir, Work work) {
  int pipefd[2];
  EXPECT_EQ(::pipe(pipefd), 0);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(pipefd[0]);
    auto q = open_queue(data_dir, owner());
    if (!q->journal_owned()) ::_exit(3);
    std::string out = work(*q);
    if (::write(pipefd[1], out.data(), out.size()) != static_cast<ssize_t>(out.size())) ::_exit(4);
    ::_exit(0);  // no destructor: the journal is left as a crash leaves it
  }
  ::close(pipefd[1]);
  std::vector<std::string> lines = read_lines(pipefd[0]);
  ::close(pipefd[0]);
  int status = 0;
  EXPECT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  return lines;
}

TEST(QueueJournal, TheOwnerRecordsEnqueuesInBatchesAndLeavesAnEmptyJournalWhenClosed) {
  TempDir dir;
  const fs::path journal = dir.path() / "spool" / "journal";
  std::vector<std::string> ids;
  {
    auto q = open_queue(dir.path(), owner());
    ASSERT_TRUE(q->journal_owned());
    for (int n = 0; n < 3; ++n)
      ids.push_back(
          enqueue_text(*q, simple_envelope("a@example.org", {"b@example.net"}), body_of(n)));
    EXPECT_EQ(q->journal_batches(), 3u);
    EXPECT_EQ(q->enqueue_batches(), 0u);  // no fsync of messages/ nor envelope files
    EXPECT_TRUE(names_in(dir.path() / "spool" / "envelopes").empty());
    EXPECT_TRUE(queue::journal_in_use(journal));  // locked by its owner
  }
  EXPECT_FALSE(queue::journal_in_use(journal));  // checkpointed when closed
  auto q = open_queue(dir.path());
  EXPECT_EQ(q->cleanup().journal.restored, 0u);
  for (std::size_t n = 0; n < ids.size(); ++n) {
    auto got = q->get(ids[n]);
    ASSERT_TRUE(got.ok()) << got.message;
    EXPECT_EQ(contents(got.value.message_path), body_of(static_cast<int>(n)));
  }
}

TEST(QueueJournal, MessageFilesLostTornOrWithoutTheirEnvelopeAreWrittenAgainFromTheJournal) {
  TempDir dir;
  const fs::path messages = dir.path() / "spool" / "messages";
  auto ids = in_crashing_owner(dir.path(), [](QueueService& q) {
    std::string out;
    for (int n = 0; n < 4; ++n) {
      auto env = simple_envelope("s" + std::to_string(n) + "@example.org", {"r@example.net"});
      out += enqueue_text(q, env, body_of(n)) + "\n";
    }
    return out;
  });
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_TRUE(queue::journal_in_use(dir.path() / "spool" / "journal"));
  // What a crash can do to files that were never fsync'd: a link lost, octets torn, the
  // attribute lost. The fourth entry is left whole.
  fs::remove(messages / ids[0]);
  write_file(messages / ids[1], body_of(1).substr(0, 20));
  ASSERT_EQ(::removexattr((messages / ids[2]).c_str(), queue::kInlineEnvelopeAttr), 0);

  auto q = open_queue(dir.path());
  EXPECT_EQ(q->cleanup().journal.restored, 3u);
  EXPECT_EQ(q->cleanup().orphan_messages, 0u);
  auto all = q->list();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all.value.size(), 4u);
  for (int n = 0; n < 4; ++n) {
    auto got = q->get(ids[static_cast<std::size_t>(n)]);
    ASSERT_TRUE(got.ok()) << got.message;
    EXPECT_TRUE(got.value.damage.empty()) << got.value.damage;
    EXPECT_EQ(got.value.envelope.sender, "s" + std::to_string(n) + "@example.org");
    EXPECT_EQ(contents(got.value.message_path), body_of(n));
  }
  EXPECT_TRUE(names_in(dir.path() / "spool" / "incoming").empty());
  q.reset();
  // Recovered and checkpointed: nothing to do the next time.
  EXPECT_FALSE(queue::journal_in_use(dir.path() / "spool" / "journal"));
  auto again = open_queue(dir.path());
  EXPECT_EQ(again->cleanup().journal.restored, 0u);
}

TEST(QueueJournal, AChangedEntryLostItsMessageFileAndKeepsItsEnvelopeFile) {
  TempDir dir;
  const fs::path spool = dir.path() / "spool";
  auto ids = in_crashing_owner(dir.path(), [](QueueService& q) {
    std::string id =
        enqueue_text(q, simple_envelope("a@example.org", {"b@example.net"}), body_of(7));
    q.defer(id, kFar, "451 later");
    return id + "\n";
  });
  ASSERT_EQ(ids.size(), 1u);
  fs::remove(spool / "messages" / ids[0]);
  auto q = open_queue(dir.path());
  EXPECT_EQ(q->cleanup().journal.restored, 1u);
  auto got = q->get(ids[0]);
  ASSERT_TRUE(got.ok()) << got.message;
  EXPECT_EQ(got.value.envelope.last_error, "451 later");  // the envelope file won
  EXPECT_EQ(got.value.envelope.attempts, 1u);
  EXPECT_EQ(contents(got.value.message_path), body_of(7));
}

TEST(QueueJournal, ARecordedRemovalWhoseUnlinkWasLostIsFinished) {
  TempDir dir;
  const fs::path messages = dir.path() / "spool" / "messages";
  std::string saved_attr;
  auto ids = in_crashing_owner(dir.path(), [](QueueService& q) {
    auto env = simple_envelope("a@example.org", {"b@example.net"});
    std::string gone = enqueue_text(q, env, body_of(1));
    std::string kept = enqueue_text(q, env, body_of(2));
    auto claimed = q.claim_due(kFar, 1);
    if (!claimed.ok() || claimed.value.size() != 1 || claimed.value[0].id != gone) ::_exit(5);
    if (!q.complete(gone).ok()) ::_exit(6);
    return gone + "\n" + kept + "\n";
  });
  ASSERT_EQ(ids.size(), 2u);
  // The unlink was never made durable: the file is back, with its attribute.
  write_file(messages / ids[0], body_of(1));
  std::string value = ids[0] + "\n" + "portico-envelope: 1\n";
  ASSERT_EQ(::setxattr((messages / ids[0]).c_str(), queue::kInlineEnvelopeAttr, value.data(),
                       value.size(), 0),
            0);
  auto q = open_queue(dir.path());
  EXPECT_EQ(q->cleanup().journal.removed, 1u);
  EXPECT_FALSE(fs::exists(messages / ids[0]));
  auto all = q->list();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all.value.size(), 1u);
  EXPECT_EQ(all.value[0].id, ids[1]);
}

TEST(QueueJournal, ARemovalByAProcessNotOwningTheJournalIsNotUndoneByItsRecovery) {
  TempDir dir;
  const fs::path spool = dir.path() / "spool";
  // The owner enqueues and stays alive until told to die (as the server while the CLI runs).
  int ids_pipe[2], go_pipe[2];
  ASSERT_EQ(::pipe(ids_pipe), 0);
  ASSERT_EQ(::pipe(go_pipe), 0);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(ids_pipe[0]);
    ::close(go_pipe[1]);
    auto q = open_queue(dir.path(), owner());
    std::string id =
        enqueue_text(*q, simple_envelope("a@example.org", {"b@example.net"}), body_of(3));
    std::string line = id + "\n";
    if (::write(ids_pipe[1], line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      ::_exit(4);
    char c;
    while (::read(go_pipe[0], &c, 1) < 0) {
    }
    ::_exit(0);  // a crash: the journal still holds the enqueue
  }
  ::close(ids_pipe[1]);
  ::close(go_pipe[0]);
  char buffer[128];
  ssize_t n = ::read(ids_pipe[0], buffer, sizeof buffer);
  ASSERT_GT(n, 1);
  const std::string id(buffer, static_cast<std::size_t>(n - 1));
  {
    auto cli = open_queue(dir.path());
    EXPECT_FALSE(cli->journal_owned());
    ASSERT_TRUE(cli->remove(id).ok());
    EXPECT_TRUE(fs::exists(spool / "removed" / id));
  }
  ::close(go_pipe[1]);
  ::close(ids_pipe[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);

  auto q = open_queue(dir.path());
  EXPECT_EQ(q->cleanup().journal.restored, 0u);
  auto got = q->get(id);
  EXPECT_EQ(got.error, sdk::QueueError::not_found);
  EXPECT_TRUE(names_in(spool / "removed").empty());  // the checkpoint took the tombstone
}

TEST(QueueJournal, AFullJournalCheckpointsAndEveryEntryStaysWhole) {
  TempDir dir;
  std::map<std::string, std::string> bodies;
  constexpr std::uint64_t kSmall = 64 * 1024;
  {
    auto q = open_queue(dir.path(), owner(kSmall));
    ASSERT_TRUE(q->journal_owned());
    for (int n = 0; n < 100; ++n) {
      std::string body = body_of(n) + std::string(1500, 'y');
      bodies[enqueue_text(*q, simple_envelope("a@example.org", {"b@example.net"}), body)] = body;
    }
    EXPECT_GE(q->journal_checkpoints(), 2u);
    EXPECT_EQ(q->enqueue_batches(), 0u);
    EXPECT_LE(fs::file_size(dir.path() / "spool" / "journal"), kSmall);
  }
  auto q = open_queue(dir.path());
  auto all = q->list();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all.value.size(), bodies.size());
  for (const auto& e : all.value)
    EXPECT_EQ(contents(e.message_path), bodies[e.id]) << e.id;
}

TEST(QueueJournal, MessagesTooLargeForTheJournalAndASecondOwnerUseTheFilesAlone) {
  TempDir dir;
  auto q = open_queue(dir.path(), owner(64 * 1024));  // carries messages up to 16 KiB
  const std::string large(20 * 1024, 'z');
  std::string big = enqueue_text(*q, simple_envelope("a@example.org", {"b@example.net"}), large);
  EXPECT_EQ(q->journal_batches(), 0u);
  EXPECT_EQ(q->enqueue_batches(), 1u);

  QueueOptions second = owner();
  second.journal_wait = std::chrono::milliseconds(50);
  auto other = open_queue(dir.path(), second);
  EXPECT_FALSE(other->journal_owned());
  std::string id =
      enqueue_text(*other, simple_envelope("a@example.org", {"b@example.net"}), body_of(1));
  EXPECT_EQ(other->journal_batches(), 0u);
  EXPECT_EQ(other->enqueue_batches(), 1u);
  auto got = q->get(id);
  ASSERT_TRUE(got.ok()) << got.message;
  EXPECT_EQ(contents(got.value.message_path), body_of(1));
  EXPECT_EQ(contents(q->get(big).value.message_path), large);
}

TEST(QueueJournal, RecordsAfterATornOneAreIgnored) {
  TempDir dir;
  const fs::path file = dir.path() / "journal";
  fs::create_directories(dir.path() / "removed");
  {
    auto j = queue::SpoolJournal::take(file, dir.path() / "removed", queue::kJournalCapacity,
                                       std::chrono::milliseconds(0));
    ASSERT_TRUE(j);
    std::string a = queue::encode_record(queue::RecordType::enqueued, "aaa", "env", "body a");
    std::string b = queue::encode_record(queue::RecordType::removed, "bbb");
    std::string c = queue::encode_record(queue::RecordType::enqueued, "ccc", "env", "body c");
    std::size_t told = 0;
    j->commit({&a, &b}, [&](std::size_t n) { told = n; });
    EXPECT_EQ(told, 2u);
    j->commit({&c}, nullptr);
  }
  {
    auto j = queue::SpoolJournal::take(file, dir.path() / "removed", queue::kJournalCapacity,
                                       std::chrono::milliseconds(0));
    ASSERT_TRUE(j);
    auto records = j->take_records();
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[0].body, "body a");
    EXPECT_EQ(records[1].type, queue::RecordType::removed);
    EXPECT_EQ(records[2].id, "ccc");
    EXPECT_TRUE(j->take_records().empty());  // handed over once
  }
  // Tear the second record's payload: it and everything after it are not whole.
  std::string data = contents(file);
  const std::size_t second = data.find("PJR1", queue::kJournalHeader + 4);
  ASSERT_NE(second, std::string::npos);
  data[second + 40] ^= 0x5a;
  write_file(file, data);
  auto j = queue::SpoolJournal::take(file, dir.path() / "removed", queue::kJournalCapacity,
                                     std::chrono::milliseconds(0));
  ASSERT_TRUE(j);
  auto records = j->take_records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].id, "aaa");
  // A second taker is refused while this one holds the lock.
  EXPECT_FALSE(queue::SpoolJournal::take(file, dir.path() / "removed", queue::kJournalCapacity,
                                         std::chrono::milliseconds(0)));
}

TEST(QueueJournal, ABatchLargerThanTheRoomLeftIsToldDurableBeforeEachCheckpoint) {
  TempDir dir;
  fs::create_directories(dir.path() / "removed");
  constexpr std::uint64_t kCapacity = 4 * queue::kJournalHeader;  // room for 12 KiB of records
  auto j = queue::SpoolJournal::take(dir.path() / "journal", dir.path() / "removed", kCapacity,
                                     std::chrono::milliseconds(0));
  ASSERT_TRUE(j);
  std::vector<std::string> records;
  for (int n = 0; n < 4; ++n)
    records.push_back(queue::encode_record(queue::RecordType::enqueued, "id" + std::to_string(n),
                                           "env", std::string(5000, 'b')));
  std::vector<std::string*> batch;
  for (auto& r : records)
    batch.push_back(&r);
  std::vector<std::size_t> told;
  std::vector<std::size_t> checkpoints_when_told;
  j->commit(batch, [&](std::size_t n) {
    told.push_back(n);
    checkpoints_when_told.push_back(j->checkpoints());
  });
  // Two records fit; they are durable (and said so) before the checkpoint that drops them.
  EXPECT_EQ(told, (std::vector<std::size_t>{2, 4}));
  EXPECT_EQ(checkpoints_when_told, (std::vector<std::size_t>{0, 1}));
  j.reset();
  j = queue::SpoolJournal::take(dir.path() / "journal", dir.path() / "removed", kCapacity,
                                std::chrono::milliseconds(0));
  ASSERT_TRUE(j);
  auto kept = j->take_records();
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].id, "id2");
}

}  // namespace
}  // namespace portico::core::queue_test
