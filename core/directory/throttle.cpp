// Portico core — authentication throttling (see throttle.h).
#include "core/directory/throttle.h"

#include <algorithm>

namespace portico::core {

namespace {
// Entries kept before expired ones are pruned.
constexpr std::size_t kPruneAbove = 10000;
}  // namespace

AuthThrottle::AuthThrottle(ThrottlePolicy policy, Now now)
    : policy_(policy), now_(now ? std::move(now) : Now([] { return Clock::now(); })) {}

bool AuthThrottle::refused_locked(const std::string& key, Clock::time_point now) {
  auto it = entries_.find(key);
  return it != entries_.end() && it->second.locked_until > now;
}

bool AuthThrottle::refused(std::string_view address, std::string_view account) {
  std::lock_guard lock(mutex_);
  auto now = now_();
  return refused_locked("a:" + std::string(address), now) ||
         (!account.empty() && refused_locked("u:" + std::string(account), now));
}

int AuthThrottle::fail_locked(const std::string& key, Clock::time_point now) {
  Entry& e = entries_[key];
  if (e.failures == 0 || now - e.first_failure > policy_.window) {
    e.failures = 0;
    e.first_failure = now;
  }
  ++e.failures;
  if (e.failures >= policy_.refuse_after) e.locked_until = now + policy_.lockout;
  return e.failures;
}

std::chrono::milliseconds AuthThrottle::record_failure(std::string_view address,
                                                       std::string_view account) {
  std::lock_guard lock(mutex_);
  auto now = now_();
  if (entries_.size() > kPruneAbove) prune_locked(now);
  int n = fail_locked("a:" + std::string(address), now);
  if (!account.empty()) n = std::max(n, fail_locked("u:" + std::string(account), now));
  if (n <= policy_.delay_after) return std::chrono::milliseconds(0);
  auto delay = policy_.delay_step * (n - policy_.delay_after);
  return std::min(delay, policy_.max_delay);
}

void AuthThrottle::record_success(std::string_view /*address*/, std::string_view account) {
  std::lock_guard lock(mutex_);
  entries_.erase("u:" + std::string(account));
}

void AuthThrottle::prune_locked(Clock::time_point now) {
  std::erase_if(entries_, [&](const auto& kv) {
    const Entry& e = kv.second;
    return e.locked_until <= now && now - e.first_failure > policy_.window;
  });
}

}  // namespace portico::core
