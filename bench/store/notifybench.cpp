// notifybench — the embedded store's change notifications (IMAP IDLE's wake-ups) with many
// subscribers: `accounts` accounts with `per_account` subscriptions on each one's INBOX (an
// IMAP session in IDLE holds one), then
//   idle CPU      the process's CPU time per second while nothing changes (the watcher's
//                 once-a-second fallback look at every account)
//   wake latency  from a delivery to one account returning until every subscription of that
//                 account has had its callback, over `rounds` deliveries to accounts in turn
//   CPU/delivery  the process's CPU time per delivery during those rounds (delivery included)
// Usage: notifybench DIR [accounts=1000] [per_account=10] [rounds=200]
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/store/store.h"

namespace {

using Clock = std::chrono::steady_clock;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

const std::string kMessage =
    "From: Bench <bench@example.org>\r\nTo: user@example.org\r\nSubject: wake up\r\n\r\nhello\r\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: notifybench DIR [accounts=1000] [per_account=10] [rounds=200]\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const std::size_t accounts = argc > 2 ? std::stoul(argv[2]) : 1000;
  const std::size_t per_account = argc > 3 ? std::stoul(argv[3]) : 10;
  const std::size_t rounds = argc > 4 ? std::stoul(argv[4]) : 200;
  auto store = portico::core::open_store(dir);

  std::vector<std::string> users;
  for (std::size_t i = 0; i < accounts; ++i)
    users.push_back("u" + std::to_string(i) + "@bench");
  auto t0 = Clock::now();
  for (const auto& u : users)
    store->deliver({{u, "INBOX", 0}}, kMessage, 0);
  std::printf("accounts          %10zu  (made in %.1f s)\n", accounts,
              std::chrono::duration<double>(Clock::now() - t0).count());

  // Each account's subscriptions count their wake-ups.
  std::vector<std::unique_ptr<std::atomic<std::size_t>>> woken;
  std::vector<std::unique_ptr<portico::sdk::StoreHandle>> handles;
  for (std::size_t i = 0; i < accounts; ++i) {
    woken.push_back(std::make_unique<std::atomic<std::size_t>>(0));
    auto* counter = woken.back().get();
    for (std::size_t k = 0; k < per_account; ++k) {
      auto h = store->subscribe(users[i], "INBOX", [counter](const portico::sdk::StoreChange&) {
        counter->fetch_add(1);
      });
      if (!h.ok()) {
        std::fprintf(stderr, "subscribe: %s\n", h.message.c_str());
        return 1;
      }
      handles.push_back(std::move(h.value));
    }
  }
  std::printf("subscriptions     %10zu\n", handles.size());

  std::this_thread::sleep_for(std::chrono::seconds(1));
  double c0 = cpu_seconds();
  auto w0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(5));
  double idle = (cpu_seconds() - c0) / std::chrono::duration<double>(Clock::now() - w0).count();
  std::printf("idle CPU          %10.1f  ms per second\n", idle * 1000);

  std::vector<double> latencies;
  c0 = cpu_seconds();
  for (std::size_t r = 0; r < rounds; ++r) {
    std::size_t i = (r * 7919) % accounts;
    std::size_t before = woken[i]->load();
    auto r0 = Clock::now();
    store->deliver({{users[i], "INBOX", 0}}, kMessage, 0);
    auto deadline = r0 + std::chrono::seconds(5);
    while (woken[i]->load() < before + per_account && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    if (woken[i]->load() < before + per_account) {
      std::fprintf(stderr, "round %zu: only %zu of %zu woken in 5 s\n", r,
                   woken[i]->load() - before, per_account);
      return 1;
    }
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - r0).count());
  }
  double per_delivery = (cpu_seconds() - c0) / static_cast<double>(rounds);
  std::sort(latencies.begin(), latencies.end());
  auto at = [&](double q) {
    return latencies[static_cast<std::size_t>(q * (latencies.size() - 1))];
  };
  std::printf("wake latency      %10.2f  ms p50, %.2f ms p99, %.2f ms max (delivery included)\n",
              at(0.5), at(0.99), latencies.back());
  std::printf("CPU/delivery      %10.2f  ms\n", per_delivery * 1000);
  return 0;
}
