// storebench — the embedded mail store under load, durability on (every delivery fsyncs its
// body file, its folder and the SQLite WAL before returning):
//   deliveries/s  4 KiB messages into 100 accounts from several threads
//   reads/s       message metadata (flags, modseq, size, date: the IMAP FETCH FLAGS path)
//   fsyncs/s      a write+fsync loop on the same disk, the ceiling deliveries are bound by
// Usage: storebench DIR [seconds-per-phase=5] [threads=4] [accounts=100]
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "core/store/store.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string message_of(std::size_t n) {
  std::string head =
      "From: Bench <bench@example.org>\r\nTo: user@example.org\r\nSubject: message " +
      std::to_string(n) + "\r\nMessage-ID: <" + std::to_string(n) +
      "@bench>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n";
  std::string line(76, 'x');
  line += "\r\n";
  while (head.size() + line.size() <= 4096)
    head += line;
  head.resize(4096, 'y');
  return head;
}

double fsync_rate(const std::filesystem::path& dir, double seconds) {
  auto file = dir / "fsync-probe";
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 0;
  std::string block(4096, 'z');
  std::size_t n = 0;
  auto start = Clock::now();
  auto end = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    if (::write(fd, block.data(), block.size()) < 0 || ::fsync(fd) != 0) break;
    ++n;
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  ::unlink(file.c_str());
  return n / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: storebench DIR [seconds=5] [threads=4] [accounts=100]\n");
    return 2;
  }
  std::filesystem::path dir = argv[1];
  double seconds = argc > 2 ? std::stod(argv[2]) : 5;
  int threads = argc > 3 ? std::stoi(argv[3]) : 4;
  int accounts = argc > 4 ? std::stoi(argv[4]) : 100;
  std::filesystem::create_directories(dir);
  auto store = portico::core::open_store(dir);

  std::vector<std::string> users;
  for (int i = 0; i < accounts; ++i)
    users.push_back("user" + std::to_string(i) + "@example.org");
  for (const auto& u : users)
    store->list_mailboxes(u);  // account creation is not measured

  std::atomic<std::size_t> delivered{0}, failed{0}, read{0};
  auto run = [&](auto&& body) {
    std::vector<std::thread> pool;
    auto start = Clock::now();
    auto end = start + std::chrono::duration<double>(seconds);
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (std::size_t i = static_cast<std::size_t>(t); Clock::now() < end;
             i += static_cast<std::size_t>(threads)) {
          body(i);
        }
      });
    }
    for (auto& t : pool)
      t.join();
    return std::chrono::duration<double>(Clock::now() - start).count();
  };

  double deliver_time = run([&](std::size_t i) {
    auto r = store->deliver({{users[i % users.size()], "INBOX", 0}}, message_of(i), 0);
    (r.ok() && r.value[0].error == portico::sdk::StoreError::none ? delivered : failed)++;
  });
  double read_time = run([&](std::size_t i) {
    auto r = store->fetch(users[i % users.size()], "INBOX", {}, false, 0);
    if (r.ok()) read += r.value.size();
  });
  double probe = fsync_rate(dir, std::min(seconds, 3.0));

  std::printf("store: %d accounts, %d threads, 4 KiB messages, durability on\n", accounts, threads);
  std::printf("deliveries/s      %10.0f  (%zu delivered, %zu failed)\n", delivered / deliver_time,
              delivered.load(), failed.load());
  std::printf("metadata reads/s  %10.0f  (messages' FETCH FLAGS data)\n", read / read_time);
  std::printf("disk fsyncs/s     %10.0f  (write 4 KiB + fsync loop, same disk)\n", probe);
  return failed == 0 ? 0 : 1;
}
