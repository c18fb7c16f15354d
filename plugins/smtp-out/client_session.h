// smtp-out — the SMTP client session: one outbound connection, one or more Jobs.
//
// RFC 5321 from the client's side: the 220 greeting (section 3.1), EHLO and its keywords, HELO
// when EHLO is refused (section 4.1.1.1), STARTTLS and EHLO again with all earlier knowledge
// forgotten (RFC 3207), AUTH PLAIN or LOGIN to a relay over GNU SASL (RFC 4954), then per Job
// MAIL FROM, RCPT TO for each recipient and DATA (section 4.1.1.4, dot-stuffed as in 4.5.2) or
// BDAT (RFC 3030), with SIZE, BODY=8BITMIME, SMTPUTF8 and the DSN parameters when the server
// offers them (RFC 1870, 6152, 6531, 3461); the envelope commands and the data command in one
// write with PIPELINING (RFC 2920); RSET between Jobs and QUIT at the end.
//
// Guarantees, with the scheduler (delivery.h):
// - Every recipient of every Job that gets job_done() has exactly one outcome: the server's own
//   reply and enhanced status (RFC 3463, RFC 2034) when a reply decided it, else our reason and
//   status (4.4.2 lost, 4.4.7 timed out, 4.5.0 malformed reply, 4.3.0 unreadable message, 5.3.4
//   too large, 5.6.3 8-bit, 5.6.7 SMTPUTF8).
// - A failure before MAIL FROM of the first Job was sent leaves that Job untouched: no
//   job_done() for it, and the report says first_job_untouched, so that it can go elsewhere.
//   Otherwise job_done() is called exactly once for every Job taken; closed() is called exactly
//   once, after every job_done(), from on_close() (or the destructor if on_close never came).
// - The message is read on the delivery pool in pieces of at most 64 KiB and never held whole;
//   writing stops while the core's output throttle is reached and goes on when it drains.
// - With no job left it quits, or — when reuse_time allows and the scheduler agrees (park) —
//   waits idle for the destination's next job, and quits when that time ends without one (a
//   server closing an idle connection, or saying 421, is no error).
// - Server bytes are parsed with bounds (reply.h); a malformed or unexpected reply closes the
//   connection. While a reply is awaited the session is in a command, so the core's command
//   timeout applies.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "delivery.h"
#include "message_stream.h"
#include "portico/session.h"
#include "reply.h"
#include "sasl_client.h"

namespace portico::smtpout {

// Writing the message pauses once this much output is queued (the core's throttle size, from
// where it calls on_output_drained()).
constexpr std::size_t kOutputThrottle = 256 * 1024;
// How long QUIT waits for its 221 before the connection is closed anyway.
constexpr std::chrono::milliseconds kQuitWait{5'000};

// The state of one Job on a ClientSession (internal to it; here at namespace scope so that
// std::optional<ClientTransaction> sees a complete type).
struct ClientTransactionSlot {
  std::size_t index = 0;  // in the envelope's recipients
  bool sent = false;      // RCPT sent
  bool accepted = false;  // RCPT got 2xx
  bool decided = false;
  RecipientOutcome outcome;
};
struct ClientTransaction {
  Job job;
  bool touched = false;  // job_done() is owed (MAIL sent, or taken with next_job)
  bool mail_sent = false;
  std::vector<ClientTransactionSlot> slots;
  bool failed = false;  // no data goes: MAIL or a chunk refused
  std::size_t rcpt_outstanding = 0;
  bool use_bdat = false;
  std::shared_ptr<MessageReader> reader;
  std::optional<DataEncoder> encoder;
  bool reading = false;        // a piece is being read on the delivery pool
  bool waiting_drain = false;  // output throttled: go on from on_output_drained()
  bool streaming = false;      // DATA: between 354 and the end of the data
  std::size_t bdat_outstanding = 0;
  bool last_chunk_sent = false;
  bool last_chunk_done = false;
};

class ClientSession final : public sdk::Session {
 public:
  ClientSession(sdk::SessionContext& ctx, ClientOptions options, ClientHooks hooks, Job first);
  ~ClientSession() override;
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  void on_start() override;
  void on_line(std::string_view line) override;
  void on_line_too_long() override;
  void on_tls_started() override;
  void on_output_drained() override;
  void on_close() override;

 private:
  // The reply being waited for.
  enum class Await {
    greeting,
    ehlo,
    helo,
    starttls,
    auth,
    rset,
    mail,
    rcpt,
    data,
    data_end,
    empty_data_end,  // "." sent after a 354 with no recipient accepted
    bdat,
    quit,
  };
  struct Expected {
    Await what = Await::greeting;
    std::size_t slot = 0;  // rcpt: which recipient
    bool last = false;     // bdat: the LAST chunk
  };
  enum class Phase { opening, tls_handshake, jobs, idle, quitting, done };
  using Slot = ClientTransactionSlot;
  using Transaction = ClientTransaction;

  // Greeting, EHLO, STARTTLS, AUTH.
  void send_ehlo();
  void after_hello();
  void start_auth();
  void on_auth_reply(const Reply& reply);
  void dispatch(const Expected& expected, const Reply& reply);

  // Jobs.
  void adopt(Job job, bool touched);
  void start_job();
  void send_pipelined(const Piece* first_chunk);
  void send_next_rcpt();
  void after_rcpts();
  void on_mail_reply(const Reply& reply);
  void on_rcpt_reply(std::size_t slot, const Reply& reply);
  void on_data_reply(const Reply& reply);
  void on_bdat_reply(bool last, const Reply& reply);
  void read_piece();
  void on_piece(Piece piece);
  void pump_bdat();
  void end_bdat_if_over();
  std::string chunk(const Piece& piece);
  void end_job();
  void next_job();
  // Parked (ClientHooks::park): the scheduler's wake, and its effect on this session.
  std::function<bool(bool)> make_wake();
  void wake(std::uint64_t token, bool quit);
  bool any_accepted() const;
  void decide(Slot& slot, Outcome outcome, std::string reply, std::string status);
  // Every undecided recipient (only accepted ones when `accepted_only`) by this reply.
  void decide_by(const Reply& reply, bool accepted_only);
  void decide_rest(Outcome outcome, const std::string& reason, const std::string& status);
  void report_job();

  // Endings.
  void quit();
  void fail(std::string reason, std::string status, bool send_quit);
  void finish(std::string reason);
  std::string waiting_for() const;

  void write_line(const std::string& line);
  void expect(Await what, std::size_t slot = 0, bool last = false);
  void touch() { last_activity_ = std::chrono::steady_clock::now(); }

  sdk::SessionContext& ctx_;
  ClientOptions options_;
  ClientHooks hooks_;
  std::optional<Transaction> tx_;
  ReplyParser parser_;
  std::deque<Expected> expected_;
  Phase phase_ = Phase::opening;
  Extensions ext_;
  bool tls_declined_ = false;  // STARTTLS was answered with other than 220
  bool authenticated_ = false;
  std::unique_ptr<SaslClient> sasl_;
  bool sasl_done_ = false;  // the mechanism has nothing more to send
  bool dirty_ = false;      // MAIL was sent since the last RSET: RSET before the next Job
  ConnectionReport report_;
  bool closed_reported_ = false;
  std::uint64_t idle_token_ = 0;  // which parking a wake is for
  std::uint64_t idle_timer_ = 0;
  std::chrono::steady_clock::time_point last_activity_ = std::chrono::steady_clock::now();
};

}  // namespace portico::smtpout
