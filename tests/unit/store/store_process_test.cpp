// The store across processes (fork): SIGKILL during a delivery storm loses no acknowledged
// message and shows no half message; a subscriber hears another process's delivery; the POP
// maildrop lock is respected by another process.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "store_test_util.h"

namespace portico::test {
namespace {

constexpr const char* alice = "alice@example.org";
constexpr const char* bob = "bob@example.org";

// Everything available on a pipe until EOF.
std::string drain(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0)
    out.append(buf, static_cast<std::size_t>(n));
  return out;
}

std::string subject_of(const std::string& message) {
  auto at = message.find("Subject: ");
  return message.substr(at + 9, message.find("\r\n", at) - at - 9);
}

TEST(StoreCrash, SigkillDuringDeliveryStormLosesNothingAcknowledged) {
  TempDir dir;
  std::mt19937 rng(std::random_device{}());
  std::set<std::string> acknowledged;
  constexpr int rounds = 5;
  for (int round = 0; round < rounds; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      auto store = core::open_store(dir.path());
      for (int i = 0;; ++i) {
        std::string id = "r" + std::to_string(round) + "-" + std::to_string(i);
        // Two recipients: the body is hard-linked into the second account.
        auto r = store->deliver({{alice, "INBOX", 0}, {bob, "INBOX", 0}},
                                simple_message(id, std::string(512 + i % 3000, 'x')), 0);
        if (!r.ok() || r.value[0].error != sdk::StoreError::none ||
            r.value[1].error != sdk::StoreError::none) {
          std::fprintf(stderr, "delivery failed: %s %s\n", r.message.c_str(),
                       r.ok() ? r.value[0].message.c_str() : "");
          _exit(3);
        }
        std::string line = id + "\n";
        if (::write(fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
          _exit(4);
        }
      }
    }
    ::close(fds[1]);
    // The storm is under way once the first delivery is acknowledged (however slow the machine
    // is to get there); the kill comes at a random point after it.
    std::string acks;
    char c;
    while (acks.find('\n') == std::string::npos && ::read(fds[0], &c, 1) == 1)
      acks += c;
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 400)(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);
    acks += drain(fds[0]);
    ::close(fds[0]);
    std::size_t pos = 0, count = 0;
    while ((pos = acks.find('\n')) != std::string::npos) {
      acknowledged.insert(acks.substr(0, pos));
      acks.erase(0, pos + 1);
      ++count;
    }
    EXPECT_GT(count, 0u) << "round " << round << " acknowledged nothing";
  }
  std::cout << "  acknowledged deliveries: " << acknowledged.size() << " in " << rounds
            << " rounds\n";

  auto store = core::open_store(dir.path());
  for (const char* account : {alice, bob}) {
    auto list = store->fetch(account, "INBOX", {}, false, 0);
    ASSERT_TRUE(list.ok()) << list.message;
    std::set<std::string> present;
    std::uint32_t last_uid = 0;
    for (const auto& m : list.value) {
      EXPECT_GT(m.uid, last_uid);
      last_uid = m.uid;
      auto body = store->read_message(account, "INBOX", m.uid);
      ASSERT_TRUE(body.ok()) << body.message;  // no visible message without its body
      std::string id = subject_of(body.value);
      auto i = std::stoi(id.substr(id.find('-') + 1));
      EXPECT_EQ(body.value, simple_message(id, std::string(512 + i % 3000, 'x')));  // whole
      EXPECT_EQ(m.size, body.value.size());
      present.insert(id);
    }
    for (const auto& id : acknowledged)
      EXPECT_TRUE(present.count(id)) << account << " lost " << id;
    // At most one unacknowledged delivery per round may have committed before the kill.
    EXPECT_LE(present.size(), acknowledged.size() + rounds);

    auto before = store->check(account, false);
    for (const auto& p : before.problems) {
      // Only leftovers of interrupted deliveries, never damaged metadata.
      EXPECT_TRUE(p.rfind("temp file", 0) == 0 || p.rfind("orphan body", 0) == 0) << p;
    }
    store->check(account, true);
    EXPECT_TRUE(store->check(account, false).clean());
  }
}

TEST(StoreNotify, SubscriberHearsAnotherProcess) {
  TempDir dir;
  int go[2], done[2];
  ASSERT_EQ(::pipe(go), 0);
  ASSERT_EQ(::pipe(done), 0);
  pid_t pid = ::fork();  // before this process starts any store thread
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(go[1]);
    ::close(done[0]);
    char c;
    if (::read(go[0], &c, 1) != 1) _exit(2);
    auto store = core::open_store(dir.path());
    auto r = store->deliver({{alice, "INBOX", 0}}, simple_message("from-child"), 0);
    bool ok = r.ok() && r.value[0].error == sdk::StoreError::none;
    if (::write(done[1], ok ? "1" : "0", 1) != 1) _exit(2);
    _exit(ok ? 0 : 1);
  }
  ::close(go[0]);
  ::close(done[1]);
  auto store = core::open_store(dir.path());
  std::mutex mu;
  std::condition_variable cv;
  std::vector<sdk::StoreChange> seen;
  auto sub = store->subscribe(alice, "INBOX", [&](const sdk::StoreChange& c) {
    std::lock_guard lock(mu);
    seen.push_back(c);
    cv.notify_all();
  });
  ASSERT_TRUE(sub.ok()) << sub.message;
  ASSERT_EQ(::write(go[1], "g", 1), 1);
  char ok = 0;
  ASSERT_EQ(::read(done[0], &ok, 1), 1);
  EXPECT_EQ(ok, '1');
  auto delivered = std::chrono::steady_clock::now();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(1), [&] { return !seen.empty(); }))
        << "no notification within a second";
    EXPECT_EQ(seen[0].kind, sdk::StoreChange::Kind::added);
    EXPECT_EQ(seen[0].account, alice);
    EXPECT_EQ(seen[0].uids, (std::vector<std::uint32_t>{1}));
  }
  std::cout << "  heard after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - delivered)
                   .count()
            << " ms\n";
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  ::close(go[1]);
  ::close(done[0]);
}

// Runs lock_maildrop in a child process; its exit status: 0 granted, 1 refused, 2 error.
int lock_in_child(const fs::path& data_dir) {
  pid_t pid = ::fork();
  if (pid == 0) {
    auto store = core::open_store(data_dir);
    auto r = store->lock_maildrop(alice);
    _exit(r.ok() ? 0 : (r.error == sdk::StoreError::locked ? 1 : 2));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(StoreLock, MaildropLockRespectedByAnotherProcess) {
  TempDir dir;
  EXPECT_EQ(lock_in_child(dir.path()), 0);  // and released when that process ended
  auto store = core::open_store(dir.path());
  auto held = store->lock_maildrop(alice);
  ASSERT_TRUE(held.ok()) << held.message;
  EXPECT_EQ(lock_in_child(dir.path()), 1);
  held.value.reset();
  EXPECT_EQ(lock_in_child(dir.path()), 0);
}

}  // namespace
}  // namespace portico::test
