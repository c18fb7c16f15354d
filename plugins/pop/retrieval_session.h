// pop — the client side of POP retrieval: one run against one external POP3 mailbox.
//
// RFC 1939 from the client's side: the greeting (its APOP timestamp, section 7), STLS first
// when the source asks for it (RFC 2595 section 4), APOP or USER/PASS, UIDL, then RETR of every
// message whose UIDL is not yet in the local store, DELE of the retrieved ones when the source
// does not leave mail on the server, and QUIT, where the server deletes (section 6). Multi-line
// replies are un-byte-stuffed (section 3). A message is streamed to the source's download folder
// in pieces written on the worker pool while input waits, so a large one is never held whole;
// it is delivered (see retrieval_run.h) before the next command is sent. DELE is sent only for
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
#include "retrieval_scheduler.h"
#include "retrieval_spool.h"

namespace portico::pop {

using retrieval::hex_encode;
using retrieval::RunContext;
using retrieval::RunOutcome;
using retrieval::SourceSpool;

// Lines longer than this in a retrieved message fail the run (RFC 5322 allows 998 octets).
constexpr std::size_t kRetrievalMaxLine = 1024 * 1024;
// The most messages one UIDL listing may name.
constexpr std::size_t kRetrievalMaxListed = 200'000;

// What the scheduler needs to run POP sources (default ports 110 and 995).
retrieval::Protocol retrieval_protocol();

class RetrievalSession final : public retrieval::ClientSession {
 public:
  RetrievalSession(sdk::SessionContext& ctx, std::shared_ptr<RunContext> run);

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
  retrieval::Download download_;  // of the current message
};

}  // namespace portico::pop
