// Portico core — slowing down password guessing: failed authentications counted per remote
// address and per account name.
//
// Soft limit: once delay_after failures are counted within `window`, each further failed attempt
// is answered after a delay (growing by `delay_step` per failure, at most `max_delay`). Hard limit:
// at refuse_after failures the key is refused outright for `lockout`, whatever the password.
// A success clears the account's count (not the address's: one good login from an address does
// not excuse its guesses at other accounts). Memory is bounded by pruning expired entries.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace portico::core {

struct ThrottlePolicy {
  int delay_after = 3;    // failures answered at once; later ones are delayed
  int refuse_after = 10;  // at this many failures, attempts are refused for `lockout`
  std::chrono::milliseconds window{std::chrono::minutes(15)};
  std::chrono::milliseconds delay_step{std::chrono::seconds(1)};
  std::chrono::milliseconds max_delay{std::chrono::seconds(10)};
  std::chrono::milliseconds lockout{std::chrono::minutes(15)};
};

class AuthThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  using Now = std::function<Clock::time_point()>;

  explicit AuthThrottle(ThrottlePolicy policy, Now now = {});

  // Whether an attempt from this address for this account is refused right now.
  bool refused(std::string_view address, std::string_view account);
  // Records a failure; returns the delay due before replying to it.
  std::chrono::milliseconds record_failure(std::string_view address, std::string_view account);
  void record_success(std::string_view address, std::string_view account);

 private:
  struct Entry {
    int failures = 0;
    Clock::time_point first_failure{};
    Clock::time_point locked_until{};
  };
  bool refused_locked(const std::string& key, Clock::time_point now);
  int fail_locked(const std::string& key, Clock::time_point now);
  void prune_locked(Clock::time_point now);

  ThrottlePolicy policy_;
  Now now_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;  // "a:<address>" and "u:<account>"
};

}  // namespace portico::core
