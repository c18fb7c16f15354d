// ldap — one LDAP connection (RFC 4511): PDUs framed from raw input, requests answered in any
// order (searches and compares run on the worker pool, several at once, each abandonable),
// simple bind through the directory's authentication with its throttling, StartTLS (RFC 4511
// section 4.14, RFC 4513), Who am I? (RFC 4532), writes refused with unwillingToPerform, and a
// notice of disconnection before the server ends a connection on its own.
//
// Guarantees: a malformed or oversized PDU ends the connection with a notice of disconnection
// (protocolError) and nothing else from it is processed; while a bind or StartTLS is in
// progress, or too many requests are outstanding, input is paused (nothing more is buffered);
// an abandoned operation sends nothing; all state lives on the session's executor.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "ber.h"
#include "book.h"
#include "portico/host.h"
#include "portico/session.h"
#include "protocol.h"
#include "search.h"
#include "settings.h"

namespace portico::ldap {

// What every session of the plugin shares.
struct Shared {
  BookCache cache;
  std::atomic<std::uint64_t> next_cookie{1};
  std::string version;
};

class LdapSession final : public sdk::Session {
 public:
  LdapSession(sdk::SessionContext& ctx, sdk::Host& host, std::shared_ptr<Shared> shared,
              LdapSettings settings);

  void on_start() override;
  void on_line(std::string_view line) override;
  void on_line_too_long() override {}
  void on_bytes(std::string_view bytes, bool last) override;
  void on_tls_started() override;
  void on_close() override;
  bool on_final_words(sdk::CloseReason reason) override;

 private:
  bool blocked() const;
  void pump();
  void dispatch(Request& request);
  void disconnect(int code, std::string_view message);
  void answer(std::int32_t id, ber_tag_t op, int code, std::string message);

  void bind(Request& request);
  void finish_bind(std::int32_t id, const sdk::AuthResult& result, const std::string& dn);
  void search(Request& request);
  void compare(Request& request);
  void extended(Request& request);
  bool may_read() const;  // bound, or anonymous access allowed
  // A search or compare has finished: a bind or StartTLS waiting for it may go, then more input.
  void operation_done(std::int32_t id);

  sdk::SessionContext& ctx_;
  sdk::Host& host_;
  std::shared_ptr<Shared> shared_;
  LdapSettings settings_;
  std::unique_ptr<Framer> framer_;
  bool paused_ = false;
  bool closing_ = false;
  bool binding_ = false;
  bool tls_pending_ = false;
  std::optional<Request> deferred_;  // a bind or StartTLS waiting for outstanding operations
  std::map<std::int32_t, std::shared_ptr<std::atomic<bool>>> outstanding_;  // id -> abandoned
  // Paged searches with pages still to send, by cookie: numbers that only grow, so the first is
  // the oldest (the one given up when a client leaves too many unfinished).
  std::map<std::uint64_t, std::shared_ptr<PagedState>> paging_;
  // Authentication state (RFC 4513 section 5): anonymous until a bind succeeds.
  std::string user_;  // canonical account address
  std::string user_dn_;
};

}  // namespace portico::ldap
