// popbench — a POP3 retrieval load generator (RFC 1939; RFC 2449 PIPELINING) for any server.
//
//   popbench HOST PORT SESSIONS ROUNDS USER-FORMAT PASSWORD [WINDOW=16] [EXPECT=0] [SECONDS=300]
//
// SESSIONS threads run at once; thread i logs in as USER-FORMAT with "%d" replaced by i (so each
// session has its own maildrop: POP3 locks it), then ROUNDS times: connect, USER/PASS, STAT,
// RETR of every message with up to WINDOW commands outstanding (pipelined), QUIT without DELE
// (so the maildrops stay as they are and runs repeat), close. EXPECT > 0 checks the STAT count.
// It stops early, with an error, past SECONDS. Prints one line of key=value figures: messages,
// octets, wall seconds, messages/s, the client's own CPU seconds (to show it is not the limit).
//
// Plain blocking sockets, one thread per session, a flat receive buffer scanned with memmem for
// the "\r\n.\r\n" terminator: the client's cost per message is a few microseconds.
// POPBENCH_STLS=1 in the environment: each session says STLS (RFC 2595) after the greeting and
// runs the rest over TLS (OpenSSL; the server's certificate is not checked).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  const char* host = "127.0.0.1";
  int port = 0;
  int sessions = 10;
  int rounds = 1;
  std::string user_format;
  std::string password;
  int window = 16;
  long expect = 0;
  double seconds = 300;
  SSL_CTX* tls = nullptr;  // STLS after the greeting when set (POPBENCH_STLS=1)
};

struct Totals {
  std::atomic<long> messages{0};
  std::atomic<long> octets{0};
  std::atomic<long> errors{0};
};

class Failure {
 public:
  explicit Failure(std::string what) : what_(std::move(what)) {}
  const std::string& what() const { return what_; }

 private:
  std::string what_;
};

// One POP3 connection: writes commands, reads status lines and multi-line bodies.
class Pop3 {
 public:
  Pop3(const Options& o, Clock::time_point deadline) : deadline_(deadline) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw Failure("socket");
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(o.port));
    inet_pton(AF_INET, o.host, &sa.sin_addr);
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
      close(fd_);
      throw Failure("connect");
    }
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{5, 0};  // a stalled server fails the run instead of hanging it
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    buf_.resize(256 * 1024);
  }
  ~Pop3() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    close(fd_);
  }

  // STLS has been answered +OK: the TLS handshake, then everything goes through it.
  void start_tls(SSL_CTX* ctx) {
    if (begin_ != end_) throw Failure("octets after the STLS reply");
    ssl_ = SSL_new(ctx);
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1 || SSL_connect(ssl_) != 1)
      throw Failure("TLS handshake");
  }
  Pop3(const Pop3&) = delete;
  Pop3& operator=(const Pop3&) = delete;

  void send(std::string_view s) {
    while (!s.empty()) {
      const ssize_t n = ssl_ != nullptr ? SSL_write(ssl_, s.data(), static_cast<int>(s.size()))
                                        : ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) throw Failure("send");
      s.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // The next status line (without CRLF); throws on -ERR.
  std::string_view status(const char* what) {
    const char* eol;
    while ((eol = static_cast<const char*>(
                memmem(buf_.data() + begin_, end_ - begin_, "\r\n", 2))) == nullptr) {
      fill();
    }
    std::string_view line(buf_.data() + begin_,
                          static_cast<std::size_t>(eol - buf_.data()) - begin_);
    begin_ = static_cast<std::size_t>(eol - buf_.data()) + 2;
    if (line.substr(0, 3) != "+OK") throw Failure(std::string(what) + ": " + std::string(line));
    return line;
  }

  // After a "+OK" status line: skips the body up to and including ".\r\n"; returns its octets.
  std::size_t body() {
    std::size_t scanned = 0;  // octets from begin_ at which no terminator starts
    for (;;) {
      const char* p = buf_.data() + begin_;
      const std::size_t avail = end_ - begin_;
      if (avail >= 3 && std::memcmp(p, ".\r\n", 3) == 0) {  // an empty message
        begin_ += 3;
        return 3;
      }
      if (avail >= 5) {
        const char* end =
            static_cast<const char*>(memmem(p + scanned, avail - scanned, "\r\n.\r\n", 5));
        if (end != nullptr) {
          const std::size_t stop = static_cast<std::size_t>(end - p) + 5;
          begin_ += stop;
          return stop;
        }
        scanned = avail - 4;  // the terminator may straddle two reads
      }
      fill();
    }
  }

 private:
  // Reads more (the unread octets may move to the start of the buffer).
  void fill() {
    if (Clock::now() > deadline_) throw Failure("time limit");
    if (begin_ > 0 && (begin_ == end_ || end_ > buf_.size() / 2)) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
    const ssize_t n = ssl_ != nullptr
                          ? SSL_read(ssl_, buf_.data() + end_, static_cast<int>(buf_.size() - end_))
                          : recv(fd_, buf_.data() + end_, buf_.size() - end_, 0);
    if (n <= 0) throw Failure(n == 0 ? "connection closed" : "recv");
    end_ += static_cast<std::size_t>(n);
  }

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  Clock::time_point deadline_;
  std::vector<char> buf_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

void one_round(const Options& o, const std::string& user, Totals& totals,
               Clock::time_point deadline) {
  Pop3 pop(o, deadline);
  pop.status("greeting");
  if (o.tls != nullptr) {
    pop.send("STLS\r\n");
    pop.status("STLS");
    pop.start_tls(o.tls);
  }
  pop.send("USER " + user + "\r\n");
  pop.status("USER");
  pop.send("PASS " + o.password + "\r\n");
  pop.status("PASS");
  pop.send("STAT\r\n");
  const std::string_view stat = pop.status("STAT");
  const long count = std::strtol(std::string(stat.substr(4)).c_str(), nullptr, 10);
  if (o.expect > 0 && count != o.expect) {
    throw Failure("STAT: " + std::to_string(count) + " messages, expected " +
                  std::to_string(o.expect));
  }
  long sent = 0;
  long received = 0;
  std::string batch;
  while (received < count) {
    // Top the window up in one write once half of it has been answered.
    if (sent - received <= o.window / 2) {
      batch.clear();
      while (sent < count && sent - received < o.window)
        batch += "RETR " + std::to_string(++sent) + "\r\n";
      if (!batch.empty()) pop.send(batch);
    }
    pop.status("RETR");
    totals.octets += static_cast<long>(pop.body());
    ++received;
    totals.messages++;
  }
  pop.send("QUIT\r\n");
  pop.status("QUIT");
}

int usage() {
  std::fprintf(stderr,
               "usage: popbench HOST PORT SESSIONS ROUNDS USER-FORMAT PASSWORD [WINDOW=16] "
               "[EXPECT=0] [SECONDS=300]\n");
  return 2;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7) return usage();
  Options o;
  o.host = argv[1];
  o.port = std::atoi(argv[2]);
  o.sessions = std::atoi(argv[3]);
  o.rounds = std::atoi(argv[4]);
  o.user_format = argv[5];
  o.password = argv[6];
  if (argc > 7) o.window = std::atoi(argv[7]);
  if (argc > 8) o.expect = std::atol(argv[8]);
  if (argc > 9) o.seconds = std::atof(argv[9]);
  if (o.port <= 0 || o.sessions <= 0 || o.rounds <= 0 || o.window <= 0 || o.seconds <= 0 ||
      o.user_format.find("%d") == std::string::npos) {
    return usage();
  }

  if (const char* stls = std::getenv("POPBENCH_STLS"); stls != nullptr && stls[0] == '1') {
    o.tls = SSL_CTX_new(TLS_client_method());
    if (o.tls == nullptr) return 1;
    SSL_CTX_set_verify(o.tls, SSL_VERIFY_NONE, nullptr);
  }

  Totals totals;
  const auto start = Clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<std::thread> threads;
  std::vector<std::string> failures(static_cast<std::size_t>(o.sessions));
  for (int i = 0; i < o.sessions; ++i) {
    threads.emplace_back([&, i] {
      std::string user = o.user_format;
      user.replace(user.find("%d"), 2, std::to_string(i));
      try {
        for (int r = 0; r < o.rounds; ++r)
          one_round(o, user, totals, deadline);
      } catch (const Failure& f) {
        totals.errors++;
        failures[static_cast<std::size_t>(i)] = user + ": " + f.what();
      }
    });
  }
  for (auto& t : threads)
    t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (const auto& f : failures) {
    if (!f.empty()) std::fprintf(stderr, "popbench: %s\n", f.c_str());
  }
  std::printf("messages=%ld octets=%ld seconds=%.3f rate=%.0f client_cpu=%.2f errors=%ld\n",
              totals.messages.load(), totals.octets.load(), seconds,
              static_cast<double>(totals.messages.load()) / seconds, cpu_seconds(),
              totals.errors.load());
  return totals.errors.load() == 0 ? 0 : 1;
}
