// Tests of connection accounting: limits per protocol and per address, release on close and
// on exception, live counts per listener and address.
#include "core/accounting/accounting.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <vector>

namespace portico::core {
namespace {

using Key = ConnectionAccounting::Key;

TEST(Accounting, RefusesOverMaxConnections) {
  ConnectionAccounting a;
  ConnectionAccounting::Lease l1, l2, l3;
  EXPECT_EQ(a.try_acquire({"pop", "127.0.0.1:110", "10.0.0.1"}, 2, 0, l1), Refusal::none);
  EXPECT_EQ(a.try_acquire({"pop", "127.0.0.1:110", "10.0.0.2"}, 2, 0, l2), Refusal::none);
  EXPECT_EQ(a.try_acquire({"pop", "127.0.0.1:110", "10.0.0.3"}, 2, 0, l3), Refusal::protocol_full);
  EXPECT_FALSE(l3.held());
  EXPECT_EQ(a.live("pop"), 2);
  EXPECT_EQ(a.counters("pop").refused_busy.load(), 1u);
  EXPECT_EQ(a.counters("pop").accepted.load(), 2u);
}

TEST(Accounting, ZeroMeansUnlimited) {
  ConnectionAccounting a;
  std::vector<ConnectionAccounting::Lease> leases(100);
  for (auto& l : leases) {
    EXPECT_EQ(a.try_acquire({"imap", "l", "10.0.0.1"}, 0, 0, l), Refusal::none);
  }
  EXPECT_EQ(a.live("imap"), 100);
}

TEST(Accounting, LimitsArePerProtocol) {
  ConnectionAccounting a;
  ConnectionAccounting::Lease l1, l2;
  EXPECT_EQ(a.try_acquire({"pop", "l", "10.0.0.1"}, 1, 0, l1), Refusal::none);
  EXPECT_EQ(a.try_acquire({"imap", "l", "10.0.0.1"}, 1, 0, l2), Refusal::none);
}

TEST(Accounting, RefusesOverPerAddressLimit) {
  ConnectionAccounting a;
  ConnectionAccounting::Lease l1, l2, l3;
  EXPECT_EQ(a.try_acquire({"smtp", "l", "10.0.0.1"}, 0, 1, l1), Refusal::none);
  EXPECT_EQ(a.try_acquire({"smtp", "l", "10.0.0.1"}, 0, 1, l2), Refusal::address_full);
  EXPECT_EQ(a.try_acquire({"smtp", "l", "10.0.0.2"}, 0, 1, l3), Refusal::none);
  EXPECT_EQ(a.counters("smtp").refused_address.load(), 1u);
  const auto snap = a.snapshot();
  EXPECT_EQ(snap.per_address.at("smtp").at("10.0.0.1"), 1);
  EXPECT_EQ(snap.per_address.at("smtp").at("10.0.0.2"), 1);
}

TEST(Accounting, ReleaseOnCloseFreesThePlace) {
  ConnectionAccounting a;
  ConnectionAccounting::Lease l1, l2;
  ASSERT_EQ(a.try_acquire({"pop", "l", "10.0.0.1"}, 1, 1, l1), Refusal::none);
  ASSERT_EQ(a.try_acquire({"pop", "l", "10.0.0.1"}, 1, 1, l2), Refusal::protocol_full);
  l1.release();
  EXPECT_EQ(a.live("pop"), 0);
  EXPECT_EQ(a.try_acquire({"pop", "l", "10.0.0.1"}, 1, 1, l2), Refusal::none);
  const auto snap = a.snapshot();
  EXPECT_EQ(snap.per_protocol.at("pop"), 1);
}

TEST(Accounting, ReleaseOnExceptionUnwinding) {
  ConnectionAccounting a;
  try {
    ConnectionAccounting::Lease l;
    ASSERT_EQ(a.try_acquire({"pop", "l", "10.0.0.1"}, 1, 0, l), Refusal::none);
    throw std::runtime_error("session failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(a.live("pop"), 0);
  EXPECT_TRUE(a.snapshot().per_address.empty());
  EXPECT_TRUE(a.snapshot().per_listener.empty());
}

TEST(Accounting, MovedLeaseReleasesOnce) {
  ConnectionAccounting a;
  ConnectionAccounting::Lease l1;
  ASSERT_EQ(a.try_acquire({"pop", "l", "10.0.0.1"}, 0, 0, l1), Refusal::none);
  ConnectionAccounting::Lease l2 = std::move(l1);
  EXPECT_FALSE(l1.held());
  EXPECT_TRUE(l2.held());
  l1.release();
  EXPECT_EQ(a.live("pop"), 1);
  l2.release();
  l2.release();
  EXPECT_EQ(a.live("pop"), 0);
}

TEST(Accounting, CountsPerListener) {
  ConnectionAccounting a;
  ConnectionAccounting::Lease l1, l2, l3;
  a.try_acquire({"imap", "127.0.0.1:143", "10.0.0.1"}, 0, 0, l1);
  a.try_acquire({"imap", "127.0.0.1:143", "10.0.0.2"}, 0, 0, l2);
  a.try_acquire({"imap", "127.0.0.1:993", "10.0.0.1"}, 0, 0, l3);
  const auto snap = a.snapshot();
  EXPECT_EQ(snap.per_listener.at("imap 127.0.0.1:143"), 2);
  EXPECT_EQ(snap.per_listener.at("imap 127.0.0.1:993"), 1);
}

TEST(Accounting, ConcurrentAcquireNeverExceedsTheLimit) {
  ConnectionAccounting a;
  constexpr int kThreads = 8;
  constexpr int kLimit = 50;
  std::atomic<int> held{0};
  std::atomic<int> max_seen{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        ConnectionAccounting::Lease l;
        if (a.try_acquire({"p", "l", "10.0.0.1"}, kLimit, 0, l) == Refusal::none) {
          const int now = ++held;
          int prev = max_seen.load();
          while (now > prev && !max_seen.compare_exchange_weak(prev, now)) {
          }
          --held;
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_LE(max_seen.load(), kLimit);
  EXPECT_EQ(a.live("p"), 0);
}

}  // namespace
}  // namespace portico::core
