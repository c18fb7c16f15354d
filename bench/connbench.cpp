// connbench — a connection load generator for any line protocol served by Portico.
//
//   connbench rate HOST PORT SECONDS CONCURRENCY
//       Threads connect, read the greeting line, close, again, for SECONDS; prints
//       connections/s (accepted, greeted and closed).
//   connbench idle HOST PORT COUNT PID
//       Opens COUNT connections, reads each greeting, keeps them open, and prints the server's
//       resident memory (VmRSS of PID) before and after, and the difference per connection.
// Plain blocking sockets: the load generator should cost less than what it measures.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

sockaddr_in address(const char* host, int port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host, &sa.sin_addr);
  return sa;
}

// Connects and reads one line; returns the fd, or -1.
int connect_greeted(const sockaddr_in& sa) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  char buf[512];
  std::size_t got = 0;
  while (got < sizeof buf) {
    ssize_t n = recv(fd, buf + got, sizeof buf - got, 0);
    if (n <= 0) {
      close(fd);
      return -1;
    }
    got += static_cast<std::size_t>(n);
    if (std::memchr(buf, '\n', got) != nullptr) return fd;
  }
  close(fd);
  return -1;
}

long rss_kib(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

int rate(const char* host, int port, int seconds, int concurrency) {
  const auto sa = address(host, port);
  std::atomic<long> ok{0}, failed{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < concurrency; ++i) {
    threads.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        int fd = connect_greeted(sa);
        if (fd < 0) {
          failed++;
          continue;
        }
        close(fd);
        ok++;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& t : threads)
    t.join();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("connections: %ld in %.1fs = %.0f/s (failed %ld, concurrency %d)\n", ok.load(), secs,
              ok.load() / secs, failed.load(), concurrency);
  return failed.load() == 0 ? 0 : 1;
}

int idle(const char* host, int port, int count, int pid) {
  const auto sa = address(host, port);
  const long before = rss_kib(pid);
  std::vector<int> fds;
  fds.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    int fd = connect_greeted(sa);
    if (fd < 0) {
      std::fprintf(stderr, "connection %d failed: %s\n", i, std::strerror(errno));
      break;
    }
    fds.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const long after = rss_kib(pid);
  std::printf("idle connections: %zu; server RSS %ld KiB -> %ld KiB; %.2f KiB per connection\n",
              fds.size(), before, after,
              fds.empty() ? 0.0 : static_cast<double>(after - before) / fds.size());
  for (int fd : fds)
    close(fd);
  return static_cast<int>(fds.size()) == count ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 6 && std::strcmp(argv[1], "rate") == 0) {
    return rate(argv[2], std::atoi(argv[3]), std::atoi(argv[4]), std::atoi(argv[5]));
  }
  if (argc == 6 && std::strcmp(argv[1], "idle") == 0) {
    return idle(argv[2], std::atoi(argv[3]), std::atoi(argv[4]), std::atoi(argv[5]));
  }
  std::fprintf(stderr,
               "usage: connbench rate HOST PORT SECONDS CONCURRENCY\n"
               "       connbench idle HOST PORT COUNT SERVER_PID\n");
  return 2;
}
