// imapbench — an IMAP4rev1 load generator (RFC 3501; UIDPLUS, IDLE) that checks every reply,
// for any server holding a known set of messages. Run by bench/imap/run.sh; by hand:
//
//   imapbench HOST PORT CLIENTS ROUNDS USER-FORMAT PASSWORD MAILDIR [key=value ...]
//     seconds=300     start no new session after this; reads fail 30 s later
//     fetches=3       messages whose header, and as many whose whole body, each loop fetches
//     per_login=1     loops per connection (LOGIN ... LOGOUT around them)
//     idle_ms=0       IDLE, then DONE after this many ms once the server says "+"; -1: no IDLE
//     append_noop=0   1: NOOP after APPEND (RFC 9051 6.3.12 lets a client do so when the server
//                     has not said EXISTS for the appended message at once), repeated 1 ms
//                     apart until it has (own mailbox; 100 NOOPs at most)
//     shared=0        1: every client logs in to the same account (USER-FORMAT with i = 0)
//     seed=1          random choices (which messages)
//     idle=0          N > 0: the idle-connections mode instead of the loops (see below)
//     hold=600        idle mode: hold the connections this many seconds at most
//
// The mailbox (INBOX of each account) must hold exactly the messages of MAILDIR (its cur/ and
// new/ files, each with a unique Message-ID), in any UID order; imapbench reads them first.
// CLIENTS threads run at once; client i logs in as USER-FORMAT with "%d" replaced by i (its own
// mailbox, unless shared=1), and ROUNDS times does what a mail client does, one command at a time:
//   LOGIN; SELECT INBOX; UID FETCH 1:* (UID FLAGS RFC822.SIZE); UID FETCH u (BODY.PEEK[HEADER])
//   and UID FETCH u BODY.PEEK[] of `fetches` random messages each; UID STORE t +FLAGS (\Seen);
//   UID SEARCH UNSEEN; UID SEARCH SUBJECT "<a fetched message's subject>"; UID STORE t -FLAGS
//   (\Seen); APPEND INBOX (\Seen) {n} a new message; UID FETCH a (RFC822.SIZE BODY.PEEK[]) of it;
//   UID STORE a +FLAGS.SILENT (\Deleted); UID EXPUNGE a (the mailbox keeps its size); NOOP;
//   IDLE/DONE; LOGOUT.
// Every reply is checked: each command must end tagged OK; SELECT's EXISTS is the message count
// and it says UIDVALIDITY; the listing has one FETCH per message, UIDs ascending, the sizes those
// of the messages, no \Deleted (nor \Seen, own mailbox); each header and body fetched is
// byte-identical to the message with its Message-ID (and RFC822.SIZE its size, and a UID always
// the same message); STORE answers the flags set; SEARCH UNSEEN is every message but t (own
// mailbox), SEARCH SUBJECT that one message; APPEND says APPENDUID and its message comes back
// byte-identical; UID EXPUNGE says EXPUNGE for it; LOGOUT says BYE. Any failure ends that
// client and makes the run fail (exit 1), printing the command and the reply.
//
// Prints one line of key=value figures (commands, wall seconds, commands/s, sessions/s, octets
// received, the client's own CPU seconds, errors), then "by_command" with each command's count
// and mean latency.
//
// Idle mode (idle=N): N connections (spread over CLIENTS threads, connection j logging in to
// account j % CLIENTS) each LOGIN, SELECT INBOX and IDLE; once all have the "+" it prints
// "ready connections=N ..." and holds them until SIGUSR1, SIGTERM or `hold` seconds, then each
// ends IDLE with DONE and logs out (both checked); prints a line of figures.
#include "imap_wire.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

using namespace imapbench;

// --- one client -----------------------------------------------------------------------------
class Client {
 public:
  Client(const Options& o, const Corpus& corpus, Totals& totals, int index,
         Clock::time_point deadline)
      : o_(o),
        corpus_(corpus),
        totals_(totals),
        index_(index),
        deadline_(deadline),
        rng_(o.seed * 7919u + static_cast<unsigned>(index)) {
    user_ = o.user_format;
    const std::size_t p = user_.find("%d");
    if (p != std::string::npos) user_.replace(p, 2, std::to_string(o.shared ? 0 : index));
  }

  void session() {
    Imap imap(o_, totals_, deadline_);
    const std::string& greeting = imap.read();
    if (greeting.compare(0, 5, "* OK ") != 0 && greeting != "* OK")
      throw Failure("greeting: " + Imap::clip(greeting));
    imap.command(kLogin, "LOGIN " + quoted(user_) + " " + quoted(o_.password), u_);
    for (int l = 0; l < o_.per_login; ++l)
      loop(imap);
    imap.command(kLogout, "LOGOUT", u_);
    if (std::none_of(u_.begin(), u_.end(),
                     [](const std::string& r) { return r.compare(0, 6, "* BYE ") == 0; }))
      throw Failure("LOGOUT: no BYE");
    totals_.sessions++;
  }

  // Idle mode: LOGIN, SELECT INBOX, IDLE (left idling).
  std::unique_ptr<Imap> idle_connection(int account) {
    auto imap = std::make_unique<Imap>(o_, totals_, deadline_);
    const std::string& greeting = imap->read();
    if (greeting.compare(0, 4, "* OK") != 0) throw Failure("greeting: " + Imap::clip(greeting));
    std::string user = o_.user_format;
    const std::size_t p = user.find("%d");
    if (p != std::string::npos) user.replace(p, 2, std::to_string(o_.shared ? 0 : account));
    imap->command(kLogin, "LOGIN " + quoted(user) + " " + quoted(o_.password), u_);
    imap->command(kSelect, "SELECT INBOX", u_);
    if (imap->exists < static_cast<long>(corpus_.messages.size()))
      throw Failure("SELECT: " + std::to_string(imap->exists) + " EXISTS");
    imap->idle(-1, u_);
    return imap;
  }
  void end_idle(Imap& imap) {
    imap.done_idle(u_);
    imap.command(kNoop, "NOOP", u_);
    imap.command(kLogout, "LOGOUT", u_);
    totals_.sessions++;
  }

 private:
  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }

  // The message a UID is: learnt from its Message-ID the first time, the same ever after.
  const Message& identify(std::uint32_t uid, std::string_view header_or_body,
                          const std::string& command) {
    const std::size_t end = header_or_body.find("\r\n\r\n");
    const std::string id = field(
        header_or_body.substr(0, end == std::string_view::npos ? header_or_body.size() : end + 2),
        "Message-ID");
    const auto it = corpus_.by_id.find(id);
    if (it == corpus_.by_id.end())
      throw Failure(command + ": a message with an unknown Message-ID <" + id + ">");
    const auto [known, fresh] = uid_message_.emplace(uid, it->second);
    if (!fresh && known->second != it->second)
      throw Failure(command + ": UID " + std::to_string(uid) + " is now another message");
    return corpus_.messages[it->second];
  }

  // The one FETCH (by UID) among the untagged replies.
  Fetch fetched(const std::string& command, std::uint32_t uid) {
    Fetch f, found;
    int n = 0;
    for (const auto& r : u_) {
      if (!FetchParser(r).parse(f)) continue;
      if (f.uid != uid && !(f.uid == 0 && f.seq == seq_of(uid))) continue;
      found = f;
      ++n;
    }
    if (n != 1)
      throw Failure(command + ": " + std::to_string(n) + " FETCH replies for UID " +
                    std::to_string(uid) + (u_.empty() ? "" : "; first: " + Imap::clip(u_[0])));
    return found;
  }
  std::uint32_t seq_of(std::uint32_t uid) const {
    const auto it = std::lower_bound(uids_.begin(), uids_.end(), uid);
    return it != uids_.end() && *it == uid ? static_cast<std::uint32_t>(it - uids_.begin() + 1) : 0;
  }

  void loop(Imap& imap) {
    const std::size_t m = corpus_.messages.size();
    // SELECT INBOX
    imap.command(kSelect, "SELECT INBOX", u_, &tagged_);
    if (imap.exists < 0) throw Failure("SELECT: no EXISTS");
    if (o_.shared ? imap.exists < static_cast<long>(m) : imap.exists != static_cast<long>(m))
      throw Failure("SELECT: " + std::to_string(imap.exists) + " EXISTS, expected " +
                    std::to_string(m));
    std::uint32_t validity = 0;
    constexpr std::string_view kValidity = "* OK [UIDVALIDITY ";
    for (const auto& r : u_)
      if (r.compare(0, kValidity.size(), kValidity) == 0)
        validity =
            static_cast<std::uint32_t>(std::strtoul(r.c_str() + kValidity.size(), nullptr, 10));
    if (validity == 0) throw Failure("SELECT: no UIDVALIDITY");
    if (validity != validity_) uid_message_.clear();
    validity_ = validity;
    if (tagged_.find("[READ-WRITE]") == std::string::npos)
      throw Failure("SELECT: not [READ-WRITE]: " + tagged_);

    // UID FETCH 1:* (UID FLAGS RFC822.SIZE)
    const std::string list = "UID FETCH 1:* (UID FLAGS RFC822.SIZE)";
    imap.command(kFetchList, list, u_);
    uids_.clear();
    sizes_.clear();
    Fetch f;
    std::size_t seen = 0;
    for (const auto& r : u_) {
      if (!FetchParser(r).parse(f)) continue;
      if (f.uid == 0 || f.size < 0 || !f.has_flags)
        throw Failure(list + ": an incomplete reply: " + Imap::clip(r));
      if (f.seq != uids_.size() + 1 || (!uids_.empty() && f.uid <= uids_.back()))
        throw Failure(list + ": out of order: " + Imap::clip(r));
      uids_.push_back(f.uid);
      sizes_.push_back(static_cast<std::size_t>(f.size));
      if (uids_.size() <= m) {
        if (f.has("\\Deleted")) throw Failure(list + ": \\Deleted: " + Imap::clip(r));
        if (!o_.shared && f.has("\\Seen")) throw Failure(list + ": \\Seen: " + Imap::clip(r));
        const auto it = uid_message_.find(f.uid);
        if (it != uid_message_.end() && corpus_.messages[it->second].data.size() != sizes_.back())
          throw Failure(list + ": RFC822.SIZE is not the message's: " + Imap::clip(r));
      }
      ++seen;
    }
    if (o_.shared ? seen < m : seen != m)
      throw Failure(list + ": " + std::to_string(seen) + " messages, expected " +
                    std::to_string(m));
    std::vector<std::size_t> sorted(sizes_.begin(), sizes_.begin() + static_cast<long>(m));
    std::sort(sorted.begin(), sorted.end());
    if (sorted != corpus_.sizes)
      throw Failure(list + ": the RFC822.SIZEs are not those of the messages loaded");

    // Headers, then whole bodies, of random messages (among those loaded: the first m UIDs).
    std::string subject;
    std::uint32_t subject_uid = 0;
    for (int i = 0; i < o_.fetches; ++i) {
      const std::size_t k = pick(m);
      const std::uint32_t uid = uids_[k];
      const std::string c = "UID FETCH " + std::to_string(uid) + " (BODY.PEEK[HEADER])";
      imap.command(kFetchHeader, c, u_);
      const Fetch h = fetched(c, uid);
      if (!h.header) throw Failure(c + ": no BODY[HEADER]");
      const Message& msg = identify(uid, *h.header, c);
      if (*h.header != std::string_view(msg.data).substr(0, msg.header_len))
        throw Failure(c + ": the header differs from the message's (" +
                      std::to_string(h.header->size()) + " octets, expected " +
                      std::to_string(msg.header_len) + ")");
      if (sizes_[k] != msg.data.size())
        throw Failure(c + ": the listing's RFC822.SIZE " + std::to_string(sizes_[k]) +
                      " is not the message's " + std::to_string(msg.data.size()));
      if (subject.empty()) subject = msg.subject, subject_uid = uid;
    }
    for (int i = 0; i < o_.fetches; ++i) {
      const std::size_t k = pick(m);
      const std::uint32_t uid = uids_[k];
      const std::string c = "UID FETCH " + std::to_string(uid) + " BODY.PEEK[]";
      imap.command(kFetchBody, c, u_);
      const Fetch b = fetched(c, uid);
      if (!b.body) throw Failure(c + ": no BODY[]");
      const Message& msg = identify(uid, *b.body, c);
      if (*b.body != msg.data)
        throw Failure(c + ": the body differs from the message's (" +
                      std::to_string(b.body->size()) + " octets, expected " +
                      std::to_string(msg.data.size()) + ")");
      if (sizes_[k] != msg.data.size())
        throw Failure(c + ": the listing's RFC822.SIZE is not the message's");
    }

    // \Seen on, searches, \Seen off.
    const std::uint32_t target = uids_[pick(m)];
    std::string c = "UID STORE " + std::to_string(target) + " +FLAGS (\\Seen)";
    imap.command(kStore, c, u_);
    if (!o_.shared && !fetched(c, target).has("\\Seen")) throw Failure(c + ": no \\Seen");
    std::vector<std::uint32_t> found;
    c = "UID SEARCH UNSEEN";
    imap.command(kSearch, c, u_);
    int replies = 0;
    for (const auto& r : u_)
      replies += parse_search(r, found) ? 1 : 0;
    if (replies != 1) throw Failure(c + ": " + std::to_string(replies) + " SEARCH replies");
    if (!o_.shared) {
      if (found.size() != m - 1 || std::find(found.begin(), found.end(), target) != found.end())
        throw Failure(c + ": " + std::to_string(found.size()) + " UIDs, expected " +
                      std::to_string(m - 1) + " without " + std::to_string(target));
    }
    if (!subject.empty()) {
      found.clear();
      c = "UID SEARCH SUBJECT " + quoted(subject);
      imap.command(kSearch, c, u_);
      replies = 0;
      for (const auto& r : u_)
        replies += parse_search(r, found) ? 1 : 0;
      if (replies != 1 || found.size() != 1 || found[0] != subject_uid)
        throw Failure(c + ": expected UID " + std::to_string(subject_uid) + ", got " +
                      (u_.empty() ? "nothing" : Imap::clip(u_[0])));
    }
    c = "UID STORE " + std::to_string(target) + " -FLAGS (\\Seen)";
    imap.command(kStore, c, u_);
    if (!o_.shared && fetched(c, target).has("\\Seen")) throw Failure(c + ": still \\Seen");

    // APPEND a message, fetch it back, delete it.
    const std::string message = new_message();
    imap.append("INBOX (\\Seen)", message, u_, tagged_);
    if (o_.append_noop) {  // own mailbox: until the server has said EXISTS for it (100 at most)
      const long want = static_cast<long>(uids_.size()) + 1;
      for (int i = 0; i < 100; ++i) {
        if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        imap.command(kNoop, "NOOP", u_);
        if (o_.shared || imap.exists >= want) break;
      }
    }
    const std::size_t at = tagged_.find("[APPENDUID ");
    if (at == std::string::npos) throw Failure("APPEND: no APPENDUID: " + tagged_);
    char* end = nullptr;
    const unsigned long v = std::strtoul(tagged_.c_str() + at + 11, &end, 10);
    const auto appended = static_cast<std::uint32_t>(std::strtoul(end, nullptr, 10));
    if (v != validity_ || appended == 0 || appended <= uids_.back())
      throw Failure("APPEND: a strange APPENDUID: " + tagged_);
    c = "UID FETCH " + std::to_string(appended) + " (RFC822.SIZE BODY.PEEK[])";
    imap.command(kFetchBody, c, u_);
    Fetch a;
    int n = 0;
    for (const auto& r : u_)
      if (FetchParser(r).parse(f) && f.uid == appended) a = f, ++n;
    if (n != 1 || !a.body || *a.body != message || a.size != static_cast<long>(message.size()))
      throw Failure(c + ": not the message appended (" + std::to_string(n) + " replies, " +
                    (a.body ? std::to_string(a.body->size()) : std::string("no")) +
                    " body octets, RFC822.SIZE " + std::to_string(a.size) + ", expected " +
                    std::to_string(message.size()) +
                    "); untagged: " + (u_.empty() ? std::string("none") : Imap::clip(u_[0])) +
                    (u_.size() > 1 ? " ..." : ""));
    const std::size_t seq = static_cast<std::size_t>(a.seq);
    imap.command(kStore, "UID STORE " + std::to_string(appended) + " +FLAGS.SILENT (\\Deleted)",
                 u_);
    imap.expunged = 0;
    c = "UID EXPUNGE " + std::to_string(appended);
    imap.command(kExpunge, c, u_);
    const std::string want = "* " + std::to_string(seq) + " EXPUNGE";
    if (o_.shared ? imap.expunged < 1
                  : std::find(u_.begin(), u_.end(), want) == u_.end() || imap.expunged != 1)
      throw Failure(c + ": no \"" + want + "\" (" + std::to_string(imap.expunged) +
                    " EXPUNGE replies)");

    imap.command(kNoop, "NOOP", u_);
    if (o_.idle_ms >= 0) imap.idle(o_.idle_ms, u_);
    if (!o_.shared && imap.exists != static_cast<long>(m))
      throw Failure("after the loop: " + std::to_string(imap.exists) + " messages, expected " +
                    std::to_string(m));
  }

  std::string new_message() {
    ++appends_;
    std::string s = "Message-ID: <append." + std::to_string(index_) + "." +
                    std::to_string(appends_) + "." + std::to_string(o_.seed) +
                    "@imapbench.test>\r\n"
                    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
                    "From: Bench <bench@example.test>\r\n"
                    "To: Sent <sent@example.test>\r\n"
                    "Subject: imapbench draft " +
                    std::to_string(appends_) +
                    "\r\n"
                    "MIME-Version: 1.0\r\n"
                    "Content-Type: text/plain; charset=us-ascii\r\n\r\n";
    const int lines = 10 + static_cast<int>(pick(40));
    for (int i = 0; i < lines; ++i)
      s += "line " + std::to_string(i) + " of a message saved to the Sent folder by a client\r\n";
    return s;
  }

  const Options& o_;
  const Corpus& corpus_;
  Totals& totals_;
  int index_;
  Clock::time_point deadline_;
  std::mt19937 rng_;
  std::string user_;
  std::vector<std::string> u_;
  std::string tagged_;
  std::uint32_t validity_ = 0;
  std::vector<std::uint32_t> uids_;
  std::vector<std::size_t> sizes_;
  std::unordered_map<std::uint32_t, std::size_t> uid_message_;
  long appends_ = 0;
};

int usage() {
  std::fprintf(stderr,
               "usage: imapbench HOST PORT CLIENTS ROUNDS USER-FORMAT PASSWORD MAILDIR "
               "[seconds=300] [fetches=3] [per_login=1] [idle_ms=0] [append_noop=0] [shared=0] "
               "[seed=1] "
               "[idle=0] [hold=600]\n");
  return 2;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

bool option(const char* arg, Options& o) {
  const char* eq = std::strchr(arg, '=');
  if (eq == nullptr) return false;
  const std::string key(arg, eq);
  const char* v = eq + 1;
  if (key == "seconds")
    o.seconds = std::atof(v);
  else if (key == "fetches")
    o.fetches = std::atoi(v);
  else if (key == "per_login")
    o.per_login = std::atoi(v);
  else if (key == "idle_ms")
    o.idle_ms = std::atoi(v);
  else if (key == "append_noop")
    o.append_noop = std::atoi(v) != 0;
  else if (key == "shared")
    o.shared = std::atoi(v) != 0;
  else if (key == "seed")
    o.seed = static_cast<unsigned>(std::atoi(v));
  else if (key == "idle")
    o.idle = std::atoi(v);
  else if (key == "hold")
    o.hold = std::atof(v);
  else
    return false;
  return true;
}

void report_failures(const std::vector<std::string>& failures) {
  for (const auto& f : failures)
    if (!f.empty()) std::fprintf(stderr, "imapbench: %s\n", f.c_str());
}

// The idle mode: see the top of the file.
int idle_mode(const Options& o, const Corpus& corpus) {
  Totals totals;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(o.hold + o.seconds + 60));
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGUSR1);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // the threads inherit it; main waits

  const int threads_n = std::min(o.clients, o.idle);
  std::vector<std::vector<std::unique_ptr<Imap>>> held(static_cast<std::size_t>(threads_n));
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::string> failures(static_cast<std::size_t>(threads_n));
  for (int t = 0; t < threads_n; ++t)
    clients.push_back(std::make_unique<Client>(o, corpus, totals, t, deadline));
  auto each = [&](auto fn) {
    std::vector<std::thread> threads;
    for (int t = 0; t < threads_n; ++t) {
      threads.emplace_back([&, t] {
        if (!failures[static_cast<std::size_t>(t)].empty()) return;
        try {
          fn(t);
        } catch (const Failure& f) {
          totals.errors++;
          failures[static_cast<std::size_t>(t)] = f.what();
        }
      });
    }
    for (auto& th : threads)
      th.join();
  };
  each([&](int t) {
    for (int j = t; j < o.idle; j += threads_n)
      held[static_cast<std::size_t>(t)].push_back(
          clients[static_cast<std::size_t>(t)]->idle_connection(j % o.clients));
  });
  const double setup = std::chrono::duration<double>(Clock::now() - start).count();
  long idling = 0;
  for (const auto& h : held)
    idling += static_cast<long>(h.size());
  std::printf("ready connections=%ld setup_seconds=%.2f errors=%ld\n", idling, setup,
              totals.errors.load());
  std::fflush(stdout);
  if (totals.errors.load() == 0) {
    timespec ts{static_cast<time_t>(o.hold), 0};
    sigtimedwait(&signals, nullptr, &ts);
  }
  const auto end_start = Clock::now();
  each([&](int t) {
    for (auto& imap : held[static_cast<std::size_t>(t)])
      clients[static_cast<std::size_t>(t)]->end_idle(*imap);
  });
  held.clear();
  report_failures(failures);
  std::printf(
      "idle connections=%ld setup_seconds=%.2f end_seconds=%.2f client_cpu=%.2f errors=%ld\n",
      idling, setup, std::chrono::duration<double>(Clock::now() - end_start).count(), cpu_seconds(),
      totals.errors.load());
  return totals.errors.load() == 0 && idling == o.idle ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 8) return usage();
  Options o;
  o.host = argv[1];
  o.port = std::atoi(argv[2]);
  o.clients = std::atoi(argv[3]);
  o.rounds = std::atoi(argv[4]);
  o.user_format = argv[5];
  o.password = argv[6];
  o.maildir = argv[7];
  for (int i = 8; i < argc; ++i)
    if (!option(argv[i], o)) return usage();
  if (o.port <= 0 || o.clients <= 0 || o.rounds < 0 || o.seconds <= 0 || o.fetches < 0 ||
      o.per_login <= 0 || o.idle < 0 ||
      (!o.shared && o.user_format.find("%d") == std::string::npos)) {
    return usage();
  }
  Corpus corpus;
  try {
    corpus = load_corpus(o.maildir);
  } catch (const Failure& f) {
    std::fprintf(stderr, "imapbench: %s: %s\n", o.maildir.c_str(), f.what().c_str());
    return 2;
  }
  if (corpus.messages.empty()) {
    std::fprintf(stderr, "imapbench: no messages in %s\n", o.maildir.c_str());
    return 2;
  }
  if (o.idle > 0) return idle_mode(o, corpus);

  Totals totals;
  const auto start = Clock::now();
  const auto stop =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  const auto deadline = stop + std::chrono::seconds(30);
  std::atomic<bool> stopped_early{false};
  std::vector<std::thread> threads;
  std::vector<std::string> failures(static_cast<std::size_t>(o.clients));
  for (int i = 0; i < o.clients; ++i) {
    threads.emplace_back([&, i] {
      Client client(o, corpus, totals, i, deadline);
      try {
        for (int r = 0; r < o.rounds; ++r) {
          if (Clock::now() > stop) {
            stopped_early = true;
            break;
          }
          client.session();
        }
      } catch (const Failure& f) {
        totals.errors++;
        failures[static_cast<std::size_t>(i)] = "client " + std::to_string(i) + ": " + f.what();
      }
    });
  }
  for (auto& t : threads)
    t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  report_failures(failures);
  long commands = 0;
  std::string by;
  for (int k = 0; k < kKinds; ++k) {
    const long n = totals.count[static_cast<std::size_t>(k)].load();
    commands += n;
    if (n == 0) continue;
    char part[96];
    std::snprintf(part, sizeof part, " %s=%ld/%.0fus", kKindNames[static_cast<std::size_t>(k)], n,
                  static_cast<double>(totals.micros[static_cast<std::size_t>(k)].load()) /
                      static_cast<double>(n));
    by += part;
  }
  std::printf(
      "commands=%ld seconds=%.3f rate=%.0f sessions=%ld session_rate=%.1f octets=%ld "
      "client_cpu=%.2f errors=%ld stopped_early=%d\n",
      commands, seconds, static_cast<double>(commands) / seconds, totals.sessions.load(),
      static_cast<double>(totals.sessions.load()) / seconds, totals.octets.load(), cpu_seconds(),
      totals.errors.load(), stopped_early.load() ? 1 : 0);
  std::printf("by_command (count/mean latency):%s\n", by.c_str());
  return totals.errors.load() == 0 ? 0 : 1;
}
