// pop — one POP3 session: RFC 1939 (AUTHORIZATION, TRANSACTION and UPDATE states; USER, PASS,
// STAT, LIST, RETR, DELE, NOOP, RSET, QUIT, TOP, UIDL), RFC 2449 (CAPA, extended response codes
// [IN-USE] [SYS/TEMP] [SYS/PERM], PIPELINING), RFC 3206 ([AUTH]), RFC 2595 (STLS) and RFC 5034
// (SASL AUTH, through the core's SASL service).
//
// Sans I/O: the core frames lines, runs the timers and counts bad commands; this class parses,
// acts and answers. Guarantees:
// - Work that blocks (password checks, SASL steps, the maildrop lock, store reads and the final
//   expunge) runs on the worker pool with input paused; its result is applied on the session's
//   executor, so pipelined commands are answered in order and the worker never touches session
//   state.
// - The maildrop (the account's INBOX) is locked exclusively from login to the end of the
//   session; a second session gets -ERR [IN-USE]. The message list is the snapshot taken at
//   login; UIDL values are the store's stable message ids.
// - DELE only marks; messages are removed at QUIT, in the UPDATE state, and only those this
//   session marked. A connection that ends any other way removes nothing.
// - RETR and TOP send the message in pieces of kMessagePiece octets, byte-stuffed, and stop
//   while kOutputHighWater octets or more wait to be sent (the connection's output limit, set at
//   the start), going on in on_output_drained().
// - Read-ahead: a RETR or TOP of the message after the one last read also reads the next few
//   messages of the maildrop in the same trip to the worker pool; the following RETRs are
//   answered from them without waiting. A message read ahead is the stored message (bodies are
//   immutable), so the answer is the same. Once less than a quarter of kReadAheadOctets is left,
//   the next batch (at most kReadAheadMessages) is read in the background (a RETR that needs it
//   before it arrives waits for it with input paused). A session holds at most kReadAheadOctets
//   octets read ahead, the batch on its way from the store included, whatever the sizes of its
//   messages.
// - A message larger than kStreamAbove is never held whole: it is read from the store in pieces
//   of kStreamPiece octets, the next one only once the previous has gone out (TOP stops reading
//   where its reply ends). So a session holds at most one message of up to kStreamAbove octets
//   being sent, the read-ahead, and the output waiting to be sent.
// - Passwords (USER/PASS, PLAIN, LOGIN) are refused before TLS unless the operator allows it.
//
// Line limits: RFC 2449 section 4 bounds a command line at 255 octets; lines up to
// kMaxCommandLine are accepted so that an AUTH PLAIN initial response with a long user name and
// password still fits. SASL continuation lines (RFC 5034 section 4) may be longer.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "command.h"
#include "message.h"
#include "portico/auth.h"
#include "portico/plugin.h"
#include "portico/sasl.h"
#include "portico/store.h"
#include "settings.h"

namespace portico::pop {

constexpr std::size_t kMaxCommandLine = 512;      // CRLF included (RFC 2449: 255)
constexpr std::size_t kMaxAuthLine = 12 * 1024;   // one base64 SASL response
constexpr std::size_t kMessagePiece = 16 * 1024;  // message octets stuffed per write
// Stop writing a message at this much pending output. The session sets it as its connection's
// output limit (SDK 1.10), so the core also stops reading then and calls on_output_drained()
// once the peer has caught up. With bench/pop's 10 sessions, 32 KiB instead of the core's
// default 256 KiB (and 16 KiB pieces instead of 64) kept about 1 MiB less at the peak, at the
// same rate: the kernel's socket buffer, not this one, is what keeps the connection busy.
constexpr std::size_t kOutputHighWater = 32 * 1024;
// Read-ahead held per session (messages not yet asked for, the batch being read included).
constexpr std::size_t kReadAheadOctets = 128 * 1024;
constexpr std::size_t kReadAheadMessages = 32;  // read in one trip to the store
// Messages above this size are streamed from the store in pieces of kStreamPiece octets.
constexpr std::uint64_t kStreamAbove = kReadAheadOctets;
constexpr std::size_t kStreamPiece = 64 * 1024;

// One message of the maildrop: 24 octets. Its UIDL lives in the maildrop's one string of ids
// (a string per message cost 56 more octets, and a heap block, for each of a session's
// messages).
struct MaildropMessage {
  std::uint32_t uid = 0;
  std::uint32_t id_offset = 0;  // where its UIDL starts in the maildrop's ids
  std::uint64_t size = 0;
  std::uint16_t id_length = 0;  // RFC 1939: 1 to 70 characters
  bool deleted = false;
};

// What logging in produced on the worker pool: the outcome of authentication, then the
// maildrop lock and the message list.
struct LoginResult {
  enum class Outcome { ok, bad_credentials, disabled, unavailable, throttled, in_use, store };
  Outcome outcome = Outcome::unavailable;
  std::string account;
  std::chrono::milliseconds delay{0};
  std::unique_ptr<sdk::StoreHandle> lock;
  std::vector<MaildropMessage> messages;
  std::string ids;     // every message's UIDL, one after the other
  std::string detail;  // for the log
};

class PopSession final : public sdk::Session {
 public:
  PopSession(sdk::SessionContext& ctx, sdk::Host& host, PopSettings settings);

  void on_start() override;
  void on_line(std::string_view line) override;
  void on_line_too_long() override;
  void on_tls_started() override;
  void on_output_drained() override;
  void on_close() override;

 private:
  enum class State { authorization, transaction, update };
  enum class Mode { command, sasl };

  void ok(std::string_view text);
  void err(std::string_view text);
  void bad(std::string_view text);  // err + one bad command
  void command(std::string_view line);

  // session.cpp
  void do_capa();
  void do_stls();
  void do_quit();

  // auth.cpp: the AUTHORIZATION state
  bool plaintext_allowed() const;
  void do_user(const CommandLine& c);
  void do_pass(const CommandLine& c);
  void do_auth(const CommandLine& c);
  void sasl_event(const sdk::SaslEvent& event);
  void end_sasl();
  sdk::SaslPolicy sasl_policy() const;
  void finish_login(const std::shared_ptr<LoginResult>& result);
  // Runs on the worker pool: locks the maildrop of `account` and reads its message list.
  static void open_maildrop(sdk::Store* store, LoginResult& result);

  // maildrop.cpp: the TRANSACTION and UPDATE states
  // The message a "msg" argument names, or nullptr after replying why not.
  MaildropMessage* message_arg(std::string_view arg, std::string_view syntax);
  struct Totals {
    std::uint64_t count = 0;
    std::uint64_t octets = 0;
  };
  Totals totals() const;        // of the messages not marked deleted
  std::string summary() const;  // "N messages (M octets)", deleted ones left out
  std::string left() const;     // "N messages left"
  void do_stat();
  void do_list(const CommandLine& c, bool uidl);
  void do_dele(const CommandLine& c);
  void do_rset();
  void do_retr(const CommandLine& c, bool top);
  // The octets of messages_[index] if read ahead, dropping those before it; else nullptr.
  std::shared_ptr<const std::string> take_read_ahead(std::size_t index);
  void answer_retr(std::size_t index, std::shared_ptr<const std::string> octets,
                   std::optional<std::uint32_t> lines);
  void send_message(std::shared_ptr<const std::string> octets, std::size_t length);
  void retr_index(std::size_t index, std::optional<std::uint32_t> lines);
  // The messages from `from` on, not deleted, up to the first that does not fit `octets` and
  // `count`; none when the next one is streamed.
  void collect_after(std::size_t from, std::uint64_t octets, std::size_t count,
                     std::vector<std::uint32_t>& uids, std::vector<std::size_t>& indexes) const;
  void keep_read_ahead(std::vector<sdk::StoreResult<std::string>>& results,
                       const std::vector<std::size_t>& indexes, std::size_t from);
  void prefetch();
  void stream_retr(std::size_t index, std::optional<std::uint32_t> lines);
  void take_piece(std::string piece);
  void read_next_piece();
  void pump_message(bool ignore_high_water);
  void update_and_quit();

  sdk::SessionContext& ctx_;
  sdk::Host& host_;
  PopSettings settings_;
  State state_ = State::authorization;
  Mode mode_ = Mode::command;
  std::string user_;     // given by USER, waiting for PASS
  std::string account_;  // the authenticated account, in TRANSACTION
  std::unique_ptr<sdk::StoreHandle> lock_;
  std::vector<MaildropMessage> messages_;
  std::string ids_;                          // the UIDLs of messages_ (MaildropMessage::id_offset)
  std::unique_ptr<sdk::SaslExchange> sasl_;  // an AUTH exchange in progress
  struct Outgoing {
    Outgoing() {}  // (not defaulted: clang needs it before the enclosing class is complete)
    std::shared_ptr<const std::string> octets;
    std::size_t offset = 0;
    std::size_t end = 0;
    DotStuffer stuffer;
    // Streamed from the store: the rest is read from `reader` at `next`.
    std::shared_ptr<sdk::MessageReader> reader;
    std::uint64_t next = 0;
    std::optional<TopScanner> top;  // TOP: where the reply ends
    bool reading = false;           // a read is in flight
    bool more() const { return reader && next < reader->size() && !(top && top->done()); }
  };
  std::optional<Outgoing> outgoing_;
  struct ReadAhead {
    std::size_t index = 0;  // in messages_
    std::shared_ptr<const std::string> octets;
  };
  std::deque<ReadAhead> read_ahead_;     // ascending indexes
  std::uint64_t read_ahead_octets_ = 0;  // held in read_ahead_
  std::size_t last_read_ = SIZE_MAX;     // index of the message the last store read asked for
  bool prefetching_ = false;             // the next batch is being read in the background
  struct PendingRetr {
    std::size_t index = 0;
    std::optional<std::uint32_t> lines;
  };
  std::optional<PendingRetr> after_prefetch_;  // a RETR/TOP waiting for that batch
  bool closed_ = false;
};

}  // namespace portico::pop
