// Portico tests — authentication throttling: delays after the soft limit, refusal at the hard
// limit, per remote address and per account, reset on success, expiry with time.
#include <gtest/gtest.h>

#include "core/directory/throttle.h"

namespace portico::core {
namespace {

using namespace std::chrono_literals;

struct FakeClock {
  AuthThrottle::Clock::time_point now{};
  AuthThrottle::Now fn() {
    return [this] { return now; };
  }
};

ThrottlePolicy policy() {
  ThrottlePolicy p;
  p.delay_after = 3;
  p.refuse_after = 6;
  p.window = 10min;
  p.delay_step = 1s;
  p.max_delay = 2s;
  p.lockout = 5min;
  return p;
}

TEST(Throttle, DelaysAfterSoftLimitAndRefusesAtHardLimit) {
  FakeClock clock;
  AuthThrottle t(policy(), clock.fn());
  EXPECT_EQ(t.record_failure("192.0.2.1", "a@x"), 0ms);
  EXPECT_EQ(t.record_failure("192.0.2.1", "a@x"), 0ms);
  EXPECT_EQ(t.record_failure("192.0.2.1", "a@x"), 0ms);
  EXPECT_EQ(t.record_failure("192.0.2.1", "a@x"), 1s);
  EXPECT_EQ(t.record_failure("192.0.2.1", "a@x"), 2s);
  EXPECT_FALSE(t.refused("192.0.2.1", "a@x"));
  EXPECT_EQ(t.record_failure("192.0.2.1", "a@x"), 2s);  // capped at max_delay
  EXPECT_TRUE(t.refused("192.0.2.1", "a@x"));
  EXPECT_TRUE(t.refused("192.0.2.1", "other@x"));  // the address is refused
  EXPECT_TRUE(t.refused("198.51.100.7", "a@x"));   // and so is the account
  EXPECT_FALSE(t.refused("198.51.100.7", "other@x"));
  clock.now += 5min + 1s;
  EXPECT_FALSE(t.refused("192.0.2.1", "a@x"));
}

TEST(Throttle, WindowExpiryForgetsFailures) {
  FakeClock clock;
  AuthThrottle t(policy(), clock.fn());
  for (int i = 0; i < 3; ++i)
    t.record_failure("192.0.2.1", "a@x");
  clock.now += 11min;
  EXPECT_EQ(t.record_failure("192.0.2.1", "a@x"), 0ms);
}

TEST(Throttle, SuccessResetsTheAccountButNotTheAddress) {
  FakeClock clock;
  AuthThrottle t(policy(), clock.fn());
  for (int i = 0; i < 3; ++i)
    t.record_failure("192.0.2.1", "a@x");
  t.record_success("192.0.2.1", "a@x");
  // The account starts over from another address...
  EXPECT_EQ(t.record_failure("198.51.100.7", "a@x"), 0ms);
  // ...but the address that failed three times is still counted.
  EXPECT_EQ(t.record_failure("192.0.2.1", "b@x"), 1s);
}

TEST(Throttle, PerAccountAcrossAddresses) {
  FakeClock clock;
  AuthThrottle t(policy(), clock.fn());
  for (int i = 0; i < 6; ++i)
    t.record_failure("192.0.2." + std::to_string(i), "victim@x");
  EXPECT_TRUE(t.refused("203.0.113.1", "victim@x"));
  EXPECT_FALSE(t.refused("203.0.113.1", "someone@x"));
}

}  // namespace
}  // namespace portico::core
