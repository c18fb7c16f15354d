// imap — the client side of IMAP retrieval: one run against one external IMAP mailbox.
//
// RFC 9051 (and RFC 3501) from the client's side: the greeting (OK, PREAUTH or BYE), STARTTLS
// when the source asks for it (section 6.2.1; capabilities asked again after it), LOGIN with
// quoted strings or literals (or AUTHENTICATE PLAIN, RFC 4616, when the server says
// LOGINDISABLED), EXAMINE of the source folder (SELECT when messages are to be deleted) for its
// UIDVALIDITY, UID SEARCH ALL, then for every UID whose key "<UIDVALIDITY>.<UID>" is not in the
// source's seen list a UID FETCH of BODY.PEEK[]: the literal is streamed to the download folder
// in pieces written on the worker pool while input waits, made durable, and delivered
// (retrieval_spool.h) before the next command. When the source does not leave mail on the
// server, UID STORE +FLAGS.SILENT (\Deleted) names only messages already delivered, then UID
// EXPUNGE (RFC 4315, when UIDPLUS is announced) or EXPUNGE; LOGOUT ends the run.
//
// When the seen list holds keys of another UIDVALIDITY (the folder was recreated), a message's
// Message-ID is fetched first (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]) and the message is not
// fetched again when the store's header index finds it in the destination mailbox; so for
// kRetrievalDedupeWindow after the change was first seen (a note in the download folder), while
// the folder may still be refilled, though the old keys go once a run completes. A tagged NO
// or BAD, or an untagged BYE, ends the run with the server's text as the source's last error;
// untagged responses the run does not need are read (their literals too) and ignored. Every
// size is bounded: response lines, literals, the number of UIDs listed.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "portico/session.h"
#include "retrieval_response.h"
#include "retrieval_scheduler.h"

namespace portico::imap {

// Response lines longer than this fail the run (a SEARCH of kRetrievalMaxListed UIDs fits).
constexpr std::size_t kRetrievalMaxLine = 4 * 1024 * 1024;
// The most messages one listing may name.
constexpr std::size_t kRetrievalMaxListed = 200'000;
// The largest message fetched (a larger one fails the run).
constexpr std::uint64_t kRetrievalMaxMessage = 256ull << 20;
// How long after a new UIDVALIDITY is first seen new messages are still compared by Message-ID.
constexpr std::chrono::seconds kRetrievalDedupeWindow = std::chrono::hours(24 * 7);

// What the scheduler needs to run IMAP sources (default ports 143 and 993).
retrieval::Protocol retrieval_protocol();

class RetrievalSession final : public retrieval::ClientSession {
 public:
  RetrievalSession(sdk::SessionContext& ctx, std::shared_ptr<retrieval::RunContext> run);

  void on_line(std::string_view line) override;
  void on_line_too_long() override;
  void on_bytes(std::string_view bytes, bool last) override;
  void on_tls_started() override;
  void on_close() override;

 private:
  enum class State {
    greeting,
    starttls,
    tls,
    capability,
    login,
    capability_after_login,
    select,
    search,
    fetch_header,
    fetch_body,
    store,
    expunge,
    logout,
    done
  };
  // Where the octets of the literal being read go.
  enum class Literal { discard, header, body };

  void send(std::vector<std::string> pieces, State next);
  void command(std::string_view verb, const std::vector<std::string>& args, State next);
  void on_response(std::string_view line);
  void on_untagged(const client::Response& r, std::string_view line);
  void on_tagged(const client::Response& r);
  void on_continuation();
  void start_literal(const client::Response& first, std::string_view line, std::uint64_t size);
  void literal_done();
  void after_greeting();
  void login();
  void plan();  // after UID SEARCH: what to fetch and what to delete
  void next();  // the next fetch, STORE, EXPUNGE or LOGOUT
  void fetch(bool header_first);
  void check_duplicate();  // after the Message-ID of the current message arrived
  void delete_next();
  void finish();  // forgets keys no longer listed, then LOGOUT
  void flush_body(bool last);
  void fail(std::string error);
  std::string key(std::uint32_t uid) const;

  State state_ = State::greeting;
  std::uint64_t tag_number_ = 0;
  std::string tag_;                 // of the command awaiting its tagged response
  std::deque<std::string> pieces_;  // of that command, each sent after a "+"
  std::string sasl_response_;       // AUTHENTICATE PLAIN without SASL-IR: sent after a "+"
  std::unordered_set<std::string> caps_;
  bool have_caps_ = false;
  bool preauth_ = false;

  // A response that goes on after a literal: the next line continues it.
  bool continuing_ = false;
  client::Response current_response_;
  Literal literal_ = Literal::discard;
  std::uint64_t literal_left_ = 0;

  std::uint64_t uid_validity_ = 0;
  std::vector<std::uint32_t> listed_;
  bool dedupe_ = false;  // the seen list is of another UIDVALIDITY: check Message-IDs
  std::deque<std::uint32_t> to_fetch_;
  std::vector<std::uint32_t> to_delete_;
  std::vector<std::string> delete_sets_;
  std::size_t delete_at_ = 0;
  bool expunging_ = false;

  std::uint32_t current_ = 0;     // the UID being fetched
  std::string header_;            // its Message-ID field, when asked for
  retrieval::Download download_;  // of its body
  bool body_seen_ = false;        // this command's response carried the body
  bool delivered_ = false;        // the body is in the store
};

}  // namespace portico::imap
