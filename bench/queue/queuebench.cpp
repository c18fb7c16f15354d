// queuebench: the outbound queue's enqueue rate and folder fsyncs under concurrent callers, and
// the cost of its per-state figures (QueueService::stats) over a large spool. Prints figures;
// passes or fails nothing. Run it under `strace -f -c -e trace=fsync,fdatasync` to count the
// fsyncs per message (bench/queue/run.sh does).
//
//   queuebench enqueue DIR THREADS COUNT [SIZE]   COUNT messages of SIZE octets (default 4096)
//                                                 from THREADS threads, each sealed (fsync) and
//                                                 enqueued as smtp-in does; prints msgs/s and
//                                                 the group-commit batches
//   queuebench stats DIR                          stats() over the entries in DIR: a cold scan
//                                                 (every envelope read), a warm one (nothing
//                                                 changed: one readdir), one after a change
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/queue/queue.h"

namespace {

using portico::core::open_queue;
using portico::core::QueueService;
namespace sdk = portico::sdk;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int enqueue(const std::string& dir, int threads, int count, std::size_t size) {
  auto q = open_queue(dir);
  const std::string body = "Subject: bench\r\n\r\n" + std::string(size, 'x') + "\r\n";
  std::atomic<int> next{0}, failures{0};
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      while (next.fetch_add(1) < count) {
        auto incoming = q->create_incoming();
        if (!incoming.ok() || !incoming.value->append(body).ok() || !incoming.value->seal().ok()) {
          ++failures;
          continue;
        }
        sdk::Envelope e;
        e.sender = "sender@example.org";
        e.recipients.push_back({"rcpt@remote.example", 0, "", {}, ""});
        if (!q->enqueue(e, *incoming.value).ok()) ++failures;
      }
    });
  }
  for (auto& w : workers)
    w.join();
  const double elapsed = seconds_since(start);
  const std::size_t batches = q->enqueue_batches();
  std::printf(
      "enqueue: %d messages of %zu octets from %d threads in %.2f s = %.0f msgs/s; "
      "%zu batches (%.2f entries per batch); %d failures\n",
      count, size, threads, elapsed, count / elapsed, batches,
      batches ? static_cast<double>(count) / static_cast<double>(batches) : 0.0, failures.load());
  return failures.load() == 0 ? 0 : 1;
}

int stats(const std::string& dir) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto q = open_queue(dir);
  auto print = [&](const char* what) {
    const auto start = Clock::now();
    auto s = q->stats(now, std::chrono::seconds(0));
    const double ms = seconds_since(start) * 1e3;
    if (!s.ok()) {
      std::fprintf(stderr, "stats: %s\n", s.message.c_str());
      std::exit(1);
    }
    std::printf(
        "stats %-22s %8.2f ms  (active %zu, deferred %zu, held %zu, damaged %zu, "
        "recipients pending %zu)\n",
        what, ms, s.value.active, s.value.deferred, s.value.held, s.value.damaged,
        s.value.recipients_pending);
  };
  print("cold (reads all):");
  print("warm (readdir only):");
  auto all = q->list();
  if (all.ok() && !all.value.empty()) q->hold(all.value.front().id);
  print("after one change:");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "enqueue" && argc >= 5) {
    return enqueue(argv[2], std::atoi(argv[3]), std::atoi(argv[4]),
                   argc > 5 ? static_cast<std::size_t>(std::atol(argv[5])) : 4096);
  }
  if (mode == "stats" && argc == 3) return stats(argv[2]);
  std::fprintf(stderr,
               "usage: queuebench enqueue DIR THREADS COUNT [SIZE]\n"
               "       queuebench stats DIR\n");
  return 2;
}
