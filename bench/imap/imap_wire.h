// imapbench — the wire side of the IMAP load generator (see imapbench.cpp): its options, the
// messages it expects (read from a Maildir), one IMAP connection with literals read inline, and
// the parsing of FETCH and SEARCH replies (RFC 3501 section 7.4.2 and 7.2.5).
#pragma once

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

namespace imapbench {

using Clock = std::chrono::steady_clock;

struct Options {
  const char* host = "127.0.0.1";
  int port = 0;
  int clients = 10;
  int rounds = 1;
  std::string user_format;
  std::string password;
  std::string maildir;
  double seconds = 300;
  int fetches = 3;
  int per_login = 1;
  int idle_ms = 0;
  bool append_noop = false;
  bool shared = false;
  unsigned seed = 1;
  int idle = 0;
  double hold = 600;
};

class Failure {
 public:
  explicit Failure(std::string what) : what_(std::move(what)) {}
  const std::string& what() const { return what_; }

 private:
  std::string what_;
};

// What the mailbox holds: the messages of MAILDIR.
struct Message {
  std::string data;
  std::size_t header_len = 0;  // up to and including the empty line
  std::string subject;
};
struct Corpus {
  std::vector<Message> messages;
  std::unordered_map<std::string, std::size_t> by_id;  // Message-ID -> index
  std::vector<std::size_t> sizes;                      // sorted
};

// The value of header field `name` (case-insensitive, first line only) in `header`.
inline std::string field(std::string_view header, std::string_view name) {
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t eol = header.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = header.size();
    const std::string_view line = header.substr(pos, eol - pos);
    if (line.size() > name.size() && line[name.size()] == ':' &&
        strncasecmp(line.data(), name.data(), name.size()) == 0) {
      std::string_view v = line.substr(name.size() + 1);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
        v.remove_prefix(1);
      return std::string(v);
    }
    pos = eol + 2;
  }
  return {};
}

inline Corpus load_corpus(const std::string& maildir) {
  Corpus c;
  for (const char* sub : {"/cur", "/new"}) {
    const std::string dir = maildir + sub;
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) continue;
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream in(dir + "/" + e->d_name, std::ios::binary);
      std::ostringstream s;
      s << in.rdbuf();
      Message m;
      m.data = s.str();
      const std::size_t end = m.data.find("\r\n\r\n");
      if (end == std::string::npos) throw Failure(std::string("no CRLF header end: ") + e->d_name);
      m.header_len = end + 4;
      const std::string_view header(m.data.data(), m.header_len);
      const std::string id = field(header, "Message-ID");
      m.subject = field(header, "Subject");
      if (id.empty() || m.subject.empty() || m.subject.find('"') != std::string::npos)
        throw Failure(std::string("needs a Message-ID and a plain Subject: ") + e->d_name);
      if (!c.by_id.emplace(id, c.messages.size()).second) throw Failure("Message-ID twice: " + id);
      c.sizes.push_back(m.data.size());
      c.messages.push_back(std::move(m));
    }
    closedir(d);
  }
  std::sort(c.sizes.begin(), c.sizes.end());
  return c;
}

// --- the commands, counted ------------------------------------------------------------------
enum Kind {
  kLogin,
  kSelect,
  kFetchList,
  kFetchHeader,
  kFetchBody,
  kStore,
  kSearch,
  kAppend,
  kExpunge,
  kNoop,
  kIdle,
  kLogout,
  kKinds
};
constexpr std::array<const char*, kKinds> kKindNames = {
    "login",  "select", "fetch_list", "fetch_header", "fetch_body", "store",
    "search", "append", "expunge",    "noop",         "idle",       "logout"};

struct Totals {
  std::array<std::atomic<long>, kKinds> count{};
  std::array<std::atomic<long>, kKinds> micros{};
  std::atomic<long> sessions{0};
  std::atomic<long> octets{0};
  std::atomic<long> errors{0};
};

// --- one IMAP connection --------------------------------------------------------------------
// A response is one line with its literals inline ("{n}\r\n" then the n octets), without the
// final CRLF.
class Imap {
 public:
  Imap(const Options& o, Totals& totals, Clock::time_point deadline)
      : totals_(totals), deadline_(deadline) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw Failure(std::string("socket: ") + std::strerror(errno));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(o.port));
    inet_pton(AF_INET, o.host, &sa.sin_addr);
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
      const int e = errno;
      close(fd_);
      throw Failure(std::string("connect: ") + std::strerror(e));
    }
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{10, 0};  // a stalled server fails the run instead of hanging it
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    buf_.resize(8 * 1024);
  }
  ~Imap() { close(fd_); }
  Imap(const Imap&) = delete;
  Imap& operator=(const Imap&) = delete;

  void send(std::string_view s) {
    while (!s.empty()) {
      const ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) throw Failure("send: " + std::string(std::strerror(errno)));
      s.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // The next response.
  const std::string& read() {
    response_.clear();
    for (;;) {
      const char* eol;
      std::size_t scanned = 0;
      while ((eol = static_cast<const char*>(
                  memmem(buf_.data() + begin_ + scanned, end_ - begin_ - scanned, "\r\n", 2))) ==
             nullptr) {
        scanned = end_ - begin_ > 0 ? end_ - begin_ - 1 : 0;
        fill();
      }
      const std::size_t len = static_cast<std::size_t>(eol - (buf_.data() + begin_));
      const std::string_view line(buf_.data() + begin_, len);
      response_.append(line);
      begin_ += len + 2;
      const std::size_t literal = literal_size(line);
      if (literal == std::string::npos) return response_;
      response_ += "\r\n";
      while (end_ - begin_ < literal)
        fill();
      response_.append(buf_.data() + begin_, literal);
      begin_ += literal;
    }
  }

  // Sends `tag command`, reads to the tagged reply (which must be OK) and returns the untagged
  // ones in `untagged`; the tagged line in `tagged` if given. Counts and times it as `kind`.
  void command(Kind kind, const std::string& command, std::vector<std::string>& untagged,
               std::string* tagged = nullptr) {
    const auto start = Clock::now();
    const std::string tag = next_tag();
    send(tag + " " + command + "\r\n");
    untagged.clear();
    finish(tag, command, untagged, tagged);
    done(kind, start);
  }

  // APPEND with a synchronizing literal: the message goes once the server says "+".
  void append(const std::string& mailbox_and_flags, const std::string& message,
              std::vector<std::string>& untagged, std::string& tagged) {
    const auto start = Clock::now();
    const std::string tag = next_tag();
    const std::string command =
        "APPEND " + mailbox_and_flags + " {" + std::to_string(message.size()) + "}";
    send(tag + " " + command + "\r\n");
    untagged.clear();
    wait_continuation(tag, command, untagged);
    send(message + "\r\n");
    finish(tag, command, untagged, &tagged);
    done(kAppend, start);
  }

  // IDLE; DONE after `ms` once the server has said "+" (ms < 0: leaves it idling, see done_idle).
  void idle(int ms, std::vector<std::string>& untagged) {
    const auto start = Clock::now();
    idle_tag_ = next_tag();
    send(idle_tag_ + " IDLE\r\n");
    untagged.clear();
    wait_continuation(idle_tag_, "IDLE", untagged);
    if (ms < 0) return;
    if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    send("DONE\r\n");
    finish(idle_tag_, "IDLE", untagged, nullptr);
    done(kIdle, start);
  }
  void done_idle(std::vector<std::string>& untagged) {
    const auto start = Clock::now();
    send("DONE\r\n");
    finish(idle_tag_, "IDLE", untagged, nullptr);
    done(kIdle, start);
  }

  // Tracks the selected mailbox's size from EXISTS and EXPUNGE.
  long exists = -1;
  long expunged = 0;  // EXPUNGE responses seen since the last reset

 private:
  static std::size_t literal_size(std::string_view line) {
    if (line.empty() || line.back() != '}') return std::string::npos;
    const std::size_t open = line.rfind('{');
    if (open == std::string_view::npos) return std::string::npos;
    std::string_view digits = line.substr(open + 1, line.size() - open - 2);
    if (!digits.empty() && digits.back() == '+') digits.remove_suffix(1);
    if (digits.empty() || digits.size() > 12) return std::string::npos;
    std::size_t n = 0;
    for (char ch : digits) {
      if (ch < '0' || ch > '9') return std::string::npos;
      n = n * 10 + static_cast<std::size_t>(ch - '0');
    }
    return n;
  }

  std::string next_tag() {
    char tag[24];
    std::snprintf(tag, sizeof tag, "a%ld", ++tag_);
    return tag;
  }

  void done(Kind kind, Clock::time_point start) {
    totals_.count[kind]++;
    totals_.micros[kind] += static_cast<long>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
  }

  // An untagged response: keeps `exists` current; BYE is a failure unless after LOGOUT.
  void note_untagged(const std::string& command, const std::string& r) {
    if (r.size() > 2 && r[2] >= '0' && r[2] <= '9') {
      const char* p = r.c_str() + 2;
      char* end = nullptr;
      const long n = std::strtol(p, &end, 10);
      if (std::strcmp(end, " EXISTS") == 0) exists = n;
      if (std::strcmp(end, " EXPUNGE") == 0) {
        --exists;
        ++expunged;
      }
    } else if (r.compare(0, 6, "* BYE ") == 0 && command != "LOGOUT") {
      throw Failure(command + ": unexpected " + r);
    }
  }

  void wait_continuation(const std::string& tag, const std::string& command,
                         std::vector<std::string>& untagged) {
    for (;;) {
      const std::string& r = read();
      if (r.compare(0, 1, "+") == 0) return;
      if (r.compare(0, 2, "* ") == 0) {
        note_untagged(command, r);
        untagged.push_back(r);
        continue;
      }
      throw Failure(command + ": expected \"+\", got: " + clip(r) + " (tag " + tag + ")");
    }
  }

  void finish(const std::string& tag, const std::string& command,
              std::vector<std::string>& untagged, std::string* tagged) {
    for (;;) {
      const std::string& r = read();
      if (r.compare(0, 2, "* ") == 0) {
        note_untagged(command, r);
        untagged.push_back(r);
        continue;
      }
      if (r.size() > tag.size() && r.compare(0, tag.size(), tag) == 0 && r[tag.size()] == ' ') {
        if (r.compare(tag.size() + 1, 3, "OK ") != 0 && r.substr(tag.size() + 1) != "OK")
          throw Failure(command + ": " + clip(r));
        if (tagged != nullptr) *tagged = r;
        return;
      }
      throw Failure(command + ": unexpected response: " + clip(r));
    }
  }

 public:
  static std::string clip(std::string_view s) {
    std::string out(s.substr(0, 300));
    if (s.size() > 300) out += "... (" + std::to_string(s.size()) + " octets)";
    for (char& ch : out)
      if (ch == '\r' || ch == '\n') ch = '|';
    return out;
  }

 private:
  void fill() {
    if (Clock::now() > deadline_) throw Failure("time limit");
    if (begin_ > 0 && (begin_ == end_ || end_ > buf_.size() / 2)) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
    const ssize_t n = recv(fd_, buf_.data() + end_, buf_.size() - end_, 0);
    if (n <= 0)
      throw Failure(n == 0 ? "connection closed" : "recv: " + std::string(strerror(errno)));
    end_ += static_cast<std::size_t>(n);
    totals_.octets += n;
  }

  int fd_ = -1;
  Totals& totals_;
  Clock::time_point deadline_;
  std::vector<char> buf_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::string response_;
  long tag_ = 0;
  std::string idle_tag_;
};

// --- parsing replies ------------------------------------------------------------------------
// One untagged FETCH: "* seq FETCH (name value ...)", values as raw views into the response.
struct Fetch {
  std::uint32_t seq = 0;
  std::uint32_t uid = 0;
  long size = -1;
  bool has_flags = false;
  std::vector<std::string_view> flags;
  std::optional<std::string_view> header;  // BODY[HEADER]
  std::optional<std::string_view> body;    // BODY[]
  bool has(std::string_view flag) const {
    for (auto f : flags)
      if (f.size() == flag.size() && strncasecmp(f.data(), flag.data(), f.size()) == 0) return true;
    return false;
  }
};

class FetchParser {
 public:
  explicit FetchParser(std::string_view r) : r_(r) {}

  // False if `r` is not a FETCH response; throws if it is one but malformed.
  bool parse(Fetch& f) {
    if (r_.compare(0, 2, "* ") != 0) return false;
    pos_ = 2;
    const std::uint64_t seq = number();
    if (r_.compare(pos_, 8, " FETCH (") != 0) return false;
    f = Fetch{};
    f.seq = static_cast<std::uint32_t>(seq);
    pos_ += 8;
    for (;;) {
      if (at(')')) break;
      const std::string_view name = item_name();
      expect(' ');
      if (iequals(name, "UID")) {
        f.uid = static_cast<std::uint32_t>(number());
      } else if (iequals(name, "RFC822.SIZE")) {
        f.size = static_cast<long>(number());
      } else if (iequals(name, "FLAGS")) {
        f.has_flags = true;
        const std::string_view list = value();
        if (list.empty() || list.front() != '(') bad("FLAGS not a list");
        std::string_view inner = list.substr(1, list.size() - 2);
        while (!inner.empty()) {
          const std::size_t sp = inner.find(' ');
          f.flags.push_back(inner.substr(0, sp));
          if (sp == std::string_view::npos) break;
          inner.remove_prefix(sp + 1);
        }
      } else if (iequals(name, "BODY[HEADER]")) {
        f.header = string_value();
      } else if (iequals(name, "BODY[]")) {
        f.body = string_value();
      } else {
        value();  // MODSEQ, INTERNALDATE, ...: skipped
      }
      if (at(')')) break;
      expect(' ');
    }
    ++pos_;
    if (pos_ != r_.size()) bad("text after the FETCH list");
    return true;
  }

 private:
  static bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
  }
  [[noreturn]] void bad(const std::string& what) const {
    throw Failure("malformed FETCH (" + what + " at " + std::to_string(pos_) +
                  "): " + Imap::clip(r_));
  }
  bool at(char ch) const { return pos_ < r_.size() && r_[pos_] == ch; }
  void expect(char ch) {
    if (!at(ch)) bad(std::string("expected '") + ch + "'");
    ++pos_;
  }
  std::uint64_t number() {
    const std::size_t start = pos_;
    std::uint64_t n = 0;
    while (pos_ < r_.size() && r_[pos_] >= '0' && r_[pos_] <= '9')
      n = n * 10 + static_cast<std::uint64_t>(r_[pos_++] - '0');
    if (pos_ == start) bad("expected a number");
    return n;
  }
  std::string_view item_name() {  // BODY[HEADER.FIELDS (A B)]<0> is one name
    const std::size_t start = pos_;
    int depth = 0;
    while (pos_ < r_.size()) {
      const char ch = r_[pos_];
      if (ch == '[') ++depth;
      if (ch == ']') --depth;
      if (depth == 0 && (ch == ' ' || ch == ')')) break;
      ++pos_;
    }
    if (pos_ == start) bad("expected an item name");
    return r_.substr(start, pos_ - start);
  }
  // A string: quoted (returned without quotes; our checks never need unescaping), a literal's
  // octets, or NIL (empty).
  std::string_view string_value() {
    if (at('{')) {
      const std::size_t close = r_.find("}\r\n", pos_);
      if (close == std::string_view::npos) bad("literal");
      const std::size_t n =
          std::strtoul(std::string(r_.substr(pos_ + 1, close - pos_ - 1)).c_str(), nullptr, 10);
      pos_ = close + 3;
      if (pos_ + n > r_.size()) bad("short literal");
      pos_ += n;
      return r_.substr(pos_ - n, n);
    }
    if (at('"')) {
      const std::size_t start = ++pos_;
      while (pos_ < r_.size() && r_[pos_] != '"')
        pos_ += r_[pos_] == '\\' ? 2 : 1;
      if (pos_ >= r_.size()) bad("unterminated string");
      return r_.substr(start, pos_++ - start);
    }
    if (r_.compare(pos_, 3, "NIL") == 0) {
      pos_ += 3;
      return {};
    }
    bad("expected a string");
  }
  // Any value, raw: a list with its parentheses, a string, an atom or number.
  std::string_view value() {
    const std::size_t start = pos_;
    if (at('(')) {
      ++pos_;
      while (!at(')')) {
        if (pos_ >= r_.size()) bad("unterminated list");
        if (at(' ')) {
          ++pos_;
          continue;
        }
        value();
      }
      ++pos_;
    } else if (at('{') || at('"')) {
      string_value();
    } else {
      while (pos_ < r_.size() && r_[pos_] != ' ' && r_[pos_] != ')' && r_[pos_] != '(')
        ++pos_;
      if (pos_ == start) bad("expected a value");
    }
    return r_.substr(start, pos_ - start);
  }

  std::string_view r_;
  std::size_t pos_ = 0;
};

// "* SEARCH n n n" -> the numbers; false if `r` is not a SEARCH response.
inline bool parse_search(std::string_view r, std::vector<std::uint32_t>& out) {
  if (r != "* SEARCH" && r.compare(0, 9, "* SEARCH ") != 0) return false;
  std::string_view rest = r.substr(8);
  while (!rest.empty()) {
    if (rest.front() != ' ') throw Failure("malformed SEARCH: " + Imap::clip(r));
    rest.remove_prefix(1);
    std::uint32_t n = 0;
    std::size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9')
      n = n * 10 + static_cast<std::uint32_t>(rest[digits++] - '0');
    if (digits == 0) throw Failure("malformed SEARCH: " + Imap::clip(r));
    out.push_back(n);
    rest.remove_prefix(digits);
  }
  return true;
}

inline std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

}  // namespace imapbench
