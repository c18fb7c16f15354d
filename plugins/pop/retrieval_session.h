// pop — the client side of POP retrieval: one run against one external POP3 mailbox.
//
// RFC 1939 from the client's side: the greeting (its APOP timestamp, section 7), STLS first
// when the source asks for it (RFC 2595 section 4), APOP or USER/PASS, UIDL, then RETR of every
// message whose UIDL is not yet in the local store, DELE of the retrieved ones when the source
// does not leave mail on the server, and QUIT, where the server deletes (section 6). Multi-line
// replies are un-byte-stuffed (section 3). A message is streamed to the source's download folder
// in pieces written on the worker pool while input waits, so a large one is never held whole;
// it is delivered (see retrieval_spool.h) before the next command is sent. DELE is sent only for
// messages already delivered, so a run cut short anywhere loses nothing: the server keeps what
// it was not told to delete, and the UIDLs already seen are not fetched again.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "portico/directory.h"
#include "portico/session.h"
#include "retrieval_spool.h"

namespace portico::pop {

// How one run ended.
struct RunOutcome {
  bool ok = false;
  std::uint64_t fetched = 0;  // messages delivered by this run
  std::string error;          // why not ok
};

// What a run works with; shared by the scheduler and the session.
struct RunContext {
  sdk::RetrievalSource source;
  std::shared_ptr<SourceSpool> spool;  // opened, pending downloads already delivered
  sdk::Store* store = nullptr;
  sdk::Directory* directory = nullptr;
  std::string hostname;  // for the Received: line
  std::uint64_t fetched = 0;
  std::function<void(const RunOutcome&)> finished;  // called once
};

// Lines longer than this in a retrieved message fail the run (RFC 5322 allows 998 octets).
constexpr std::size_t kRetrievalMaxLine = 1024 * 1024;
// The most messages one UIDL listing may name.
constexpr std::size_t kRetrievalMaxListed = 200'000;

class RetrievalSession final : public sdk::Session {
 public:
  RetrievalSession(sdk::SessionContext& ctx, std::shared_ptr<RunContext> run);
  ~RetrievalSession() override;

  void on_start() override;
  void on_line(std::string_view line) override;
  void on_line_too_long() override;
  void on_tls_started() override;
  void on_close() override;

  // The APOP digest (RFC 1939 section 7): MD5 of timestamp and secret, in lower-case hex.
  static std::string apop_digest(std::string_view timestamp, std::string_view secret);

 private:
  enum class State {
    greeting,
    stls,
    tls,
    user,
    pass,
    apop,
    uidl,
    uidl_list,
    retr,
    retr_body,
    dele,
    quit,
    done
  };
  void send(const std::string& command, State next);
  void authenticate();
  void plan();  // after UIDL: what to fetch and what to delete
  void next();  // the next RETR, DELE or QUIT
  void flush_body(bool last);
  void fail(std::string error);
  void report(RunOutcome outcome);

  sdk::SessionContext& ctx_;
  std::shared_ptr<RunContext> run_;
  State state_ = State::greeting;
  std::string timestamp_;  // from the greeting, for APOP
  struct Listed {
    std::uint64_t number = 0;
    std::string uid;
  };
  std::vector<Listed> listed_;
  std::deque<Listed> to_fetch_;
  std::deque<std::uint64_t> to_delete_;
  Listed current_;
  std::string body_;    // the piece of the current message not yet written
  bool begun_ = false;  // the current message's file is open
  std::string error_;
  bool reported_ = false;
};

}  // namespace portico::pop
