// Crash tests of the queue: a forked child enqueues in a loop (from one thread, or from several
// at once so that enqueues share group-commit batches) and reports every id the moment
// enqueue() returns; it is SIGKILLed at a random point. Afterwards every reported id must be in
// the queue, whole and parseable, with its own message, and a reopen leaves no temp file, no
// orphan message and no lock file behind.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "tests/unit/queue/queue_test.h"

namespace portico::core::queue_test {
namespace {

// One enqueuing thread of the child: messages number `first`, `first + step`, ...; one id a
// line on `out` (a single write, atomic on a pipe) after each enqueue returned.
void enqueue_loop(QueueService& q, int out, std::uint64_t first, std::uint64_t step) {
  std::mt19937 rng(static_cast<unsigned>(::getpid() + first));
  for (std::uint64_t n = first;; n += step) {
    auto incoming = q.create_incoming();
    if (!incoming.ok()) ::_exit(2);
    auto& msg = *incoming.value;
    std::string head = "Subject: " + std::to_string(n) + "\r\n\r\n";
    msg.append(head);
    // Sizes from a few octets to a few hundred KiB, so kills land in every phase.
    std::size_t body = rng() % 4 == 0 ? 100000 + rng() % 300000 : rng() % 2000;
    std::string chunk(4096, static_cast<char>('a' + n % 26));
    for (std::size_t done = 0; done < body; done += chunk.size())
      msg.append(chunk);
    if (!msg.seal().ok()) ::_exit(3);
    sdk::Envelope e = simple_envelope(std::to_string(n) + "@example.org",
                                      {"r1@example.net", "r\xc3\xa9@example.net"});
    e.last_error = "line one\r\nline two";
    auto id = q.enqueue(e, msg);
    if (!id.ok()) ::_exit(4);
    std::string line = id.value + "\n";
    if (::write(out, line.data(), line.size()) != static_cast<ssize_t>(line.size())) ::_exit(5);
  }
}

// The child: enqueue forever from `threads` threads.
[[noreturn]] void enqueue_forever(const fs::path& data_dir, int out, unsigned threads) {
  QueueOptions options;
  options.own_journal = true;  // as the server does: enqueues are records in the journal
  auto q = open_queue(data_dir, options);
  std::vector<std::thread> others;
  for (unsigned t = 1; t < threads; ++t)
    others.emplace_back([&, t] { enqueue_loop(*q, out, t, threads); });
  enqueue_loop(*q, out, 0, threads);
  ::_exit(6);  // not reached
}

void kill_during_enqueues(unsigned threads) {
  TempDir dir;
  std::mt19937 rng(std::random_device{}());
  std::set<std::string> reported;
  constexpr int kRounds = 5;
  for (int round = 0; round < kRounds; ++round) {
    int pipefd[2];
    ASSERT_EQ(::pipe(pipefd), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(pipefd[0]);
      enqueue_forever(dir.path(), pipefd[1], threads);
    }
    ::close(pipefd[1]);
    // Drain the pipe while the child runs, so it never blocks on a full pipe.
    std::string pending;
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(200 + static_cast<int>(rng() % 300));
    std::vector<std::string> ids;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{pipefd[0], POLLIN, 0};
      if (::poll(&p, 1, 10) > 0) {
        char buffer[4096];
        ssize_t n = ::read(pipefd[0], buffer, sizeof buffer);
        if (n > 0) pending.append(buffer, static_cast<std::size_t>(n));
      }
    }
    ::kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child stopped by itself: status " << status;
    for (auto& id : read_lines(pipefd[0]))
      pending += id + "\n";
    ::close(pipefd[0]);
    std::size_t start = 0, nl;
    while ((nl = pending.find('\n', start)) != std::string::npos) {
      reported.insert(pending.substr(start, nl - start));
      start = nl + 1;
    }

    auto q = open_queue(dir.path());
    auto all = q->list();
    ASSERT_TRUE(all.ok()) << all.message;
    std::set<std::string> present;
    for (const auto& e : all.value) {
      EXPECT_TRUE(e.damage.empty()) << e.id << ": " << e.damage;
      present.insert(e.id);
    }
    for (const auto& id : reported) {
      ASSERT_TRUE(present.count(id)) << "round " << round << ": " << id << " was lost";
      auto got = q->get(id);
      ASSERT_TRUE(got.ok()) << got.message;
      const auto& env = got.value.envelope;
      ASSERT_EQ(env.recipients.size(), 2u);
      EXPECT_EQ(env.recipients[1].address, "r\xc3\xa9@example.net");
      EXPECT_EQ(env.last_error, "line one\r\nline two");
      // The message is the one written for this envelope.
      std::string n = env.sender.substr(0, env.sender.find('@'));
      std::ifstream in(got.value.message_path, std::ios::binary);
      std::string first;
      std::getline(in, first);
      EXPECT_EQ(first, "Subject: " + n + "\r");
    }
    // Each kill may have hit between a durable enqueue and the report of its id (in each thread).
    EXPECT_LE(present.size(), reported.size() + (static_cast<std::size_t>(round) + 1) * threads);
    const fs::path spool = dir.path() / "spool";
    EXPECT_TRUE(names_in(spool / "incoming").empty());
    EXPECT_FALSE(fs::exists(spool / "claims"));
    // Every message file left is an entry (none is half made), and every envelope file has
    // its message.
    std::set<std::string> envelopes, messages;
    for (const auto& name : names_in(spool / "envelopes")) {
      EXPECT_NE(name.rfind(".tmp-", 0), 0u) << "temp file left: " << name;
      envelopes.insert(name);
    }
    for (const auto& name : names_in(spool / "messages"))
      messages.insert(name);
    EXPECT_EQ(messages, present);
    for (const auto& name : envelopes)
      EXPECT_TRUE(messages.count(name)) << name;
  }
  EXPECT_GT(reported.size(), 0u);
  ::testing::Test::RecordProperty("enqueues_reported", static_cast<int>(reported.size()));
}

TEST(QueueCrash, EveryReturnedEnqueueSurvivesSigkill) {
  kill_during_enqueues(1);
}

// Several threads at once: their enqueues share batches (one folder fsync each for many
// entries), and every id returned before the kill must still be there, whole.
TEST(QueueCrash, EveryReturnedConcurrentEnqueueSurvivesSigkill) {
  kill_during_enqueues(8);
}

}  // namespace
}  // namespace portico::core::queue_test
