// Portico SDK — SASL authentication (RFC 4422) shared by every protocol: PLAIN (RFC 4616),
// LOGIN, SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677), checked against the directory.
//
// A protocol asks mechanisms() what to advertise, starts a session for the mechanism the client
// picked, and feeds it the client's responses as raw bytes (the protocol does its own base64).
// No plaintext password is ever stored: PLAIN and LOGIN verify the password's crypt(3) hash,
// SCRAM uses the stored salted keys. step() blocks (PBKDF2, yescrypt): call it from the worker
// pool. Sessions are not thread-safe; one session serves one exchange, from one thread at a time.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "portico/directory.h"

namespace portico::sdk {

struct SaslStep {
  enum class Status {
    challenge,  // send `data` to the client as the next challenge and wait for its response
    success,    // authenticated as `user`; `data`, when not empty, is the server's final
                // message (SCRAM's verifier), sent as additional data with the success reply
    failure,    // authentication failed: see `reason` and `delay`
    error,      // the client's message was malformed, or an unknown mechanism
  };
  Status status = Status::error;
  std::string data;
  std::string user;  // the canonical account on success
  AuthStatus reason = AuthStatus::ok;
  // How long to wait before replying (after repeated failures). Apply it with a timer.
  std::chrono::milliseconds delay{0};
};

class SaslSession {
 public:
  virtual ~SaslSession() = default;
  virtual std::string mechanism() const = 0;
  // The client's response (or initial response; empty when it sent none).
  virtual SaslStep step(std::string_view client_bytes) = 0;
};

class Auth {
 public:
  // The mechanisms to advertise, strongest first. PLAIN and LOGIN are left out before TLS
  // unless allow_plaintext_without_tls; LOGIN is left out when disable_login.
  virtual std::vector<std::string> mechanisms(bool tls_active, bool allow_plaintext_without_tls,
                                              bool disable_login) const = 0;
  // A session for one exchange; nullptr when the mechanism is unknown (case-insensitive).
  // remote_address is counted for throttling; service names the protocol ("imap", "smtp").
  virtual std::unique_ptr<SaslSession> start(std::string_view mechanism,
                                             std::string_view remote_address,
                                             std::string_view service) = 0;

  // --- ABI 1.8 ---
  // start() for a protocol whose user names are local parts of a domain (XMPP: the SASL
  // authentication identity is the JID's localpart, RFC 6120 section 6.3.8): a name without
  // "@" is taken as name@domain. An empty domain is start().
  virtual std::unique_ptr<SaslSession> start_in_domain(std::string_view mechanism,
                                                       std::string_view remote_address,
                                                       std::string_view service,
                                                       std::string_view domain) = 0;

 protected:
  ~Auth() = default;
};

}  // namespace portico::sdk
