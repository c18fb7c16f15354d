// Group commit: the batcher on its own (batches form while one runs, failures reach exactly the
// requests they concern, nobody returns before its batch ran) and the store under concurrent
// deliveries to one account (every delivery committed once, UIDs unique and dense, a refused
// delivery in a batch leaves the others delivered and leaves no body file behind).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/store/group_commit.h"
#include "store_test_util.h"

namespace portico::test {
namespace {

using core::store::GroupCommit;

struct Work {
  int value = 0;
  bool fail = false;
  bool ran = false;
};

TEST(GroupCommit, ConcurrentRequestsShareBatches) {
  GroupCommit<Work> commits;
  constexpr int threads = 8, rounds = 20;
  std::atomic<int> ran{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = 0; i < rounds; ++i) {
        Work w;
        GroupCommit<Work>::Request r;
        r.item = &w;
        commits.submit(r, [&](auto& batch) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a slow fsync
          for (auto* q : batch) {
            q->item->ran = true;
            ++ran;
          }
        });
        EXPECT_TRUE(w.ran);  // never back before its own batch ran
      }
    });
  }
  for (auto& t : pool)
    t.join();
  EXPECT_EQ(ran.load(), threads * rounds);
  EXPECT_LT(commits.batches(), static_cast<std::size_t>(threads * rounds));
}

TEST(GroupCommit, FailuresReachTheirRequests) {
  GroupCommit<Work> commits;
  auto run = [](auto& batch) {
    for (auto* q : batch) {
      if (q->item->fail) q->error = std::make_exception_ptr(std::runtime_error("own"));
    }
    for (auto* q : batch) {
      if (q->item->value < 0) throw std::runtime_error("whole batch");
    }
  };
  Work bad{1, true};
  GroupCommit<Work>::Request r1;
  r1.item = &bad;
  EXPECT_THROW(commits.submit(r1, run), std::runtime_error);
  Work good{1, false};
  GroupCommit<Work>::Request r2;
  r2.item = &good;
  EXPECT_NO_THROW(commits.submit(r2, run));
  Work doomed{-1, false};
  GroupCommit<Work>::Request r3;
  r3.item = &doomed;
  try {
    commits.submit(r3, run);
    ADD_FAILURE() << "a failed batch must fail its requests";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "whole batch");
  }
}

TEST(StoreGroupCommit, ConcurrentDeliveriesToOneAccount) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  const std::string alice = "alice@example.org";
  // A quota that takes every message but one of a known size, to put a refusal in a batch.
  constexpr int threads = 8, rounds = 15;
  std::atomic<int> delivered{0}, refused{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < rounds; ++i) {
        const bool huge = t == 0 && i == 7;
        std::string text = huge ? std::string(1 << 20, 'x') : "hello";
        sdk::DeliveryTarget target{alice, "INBOX", huge ? 64 * 1024u : 0u};
        auto r = store->deliver({target}, simple_message("m" + std::to_string(t * 100 + i), text),
                                1700000000);
        ASSERT_TRUE(r.ok()) << r.message;
        if (r.value[0].error == sdk::StoreError::none) {
          ++delivered;
        } else {
          EXPECT_EQ(r.value[0].error, sdk::StoreError::over_quota);
          ++refused;
        }
      }
    });
  }
  for (auto& t : pool)
    t.join();
  EXPECT_EQ(refused.load(), 1);
  EXPECT_EQ(delivered.load(), threads * rounds - 1);
  auto list = store->fetch(alice, "INBOX", {}, false, 0);
  ASSERT_TRUE(list.ok()) << list.message;
  std::set<std::uint32_t> uids;
  for (const auto& m : list.value)
    uids.insert(m.uid);
  ASSERT_EQ(uids.size(), static_cast<std::size_t>(delivered.load()));
  EXPECT_EQ(*uids.begin(), 1u);
  EXPECT_EQ(*uids.rbegin(), static_cast<std::uint32_t>(delivered.load()));
  // Small bodies live in the database: no file at all, the refused one included.
  std::size_t files = 0;
  for (const auto& e :
       fs::directory_iterator(dir.path() / "store" / "example.org" / "alice" / "bodies")) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 0u);
  auto report = store->check(alice, false);
  EXPECT_TRUE(report.clean()) << (report.problems.empty() ? "" : report.problems[0]);
}

}  // namespace
}  // namespace portico::test
