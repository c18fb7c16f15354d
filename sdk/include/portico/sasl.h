// Portico SDK — the SASL server exchange (RFC 4422) every protocol shares, run by the core.
//
// A protocol frames the exchange its own way (SMTP AUTH's "334" lines, RFC 4954; POP3's "+ "
// lines, RFC 5034; IMAP AUTHENTICATE, RFC 9051 section 6.2.2; XMPP's <challenge/>, RFC 6120
// section 6.4; LDAP's SASL bind, RFC 4513 section 5.2.1.2); everything else is here, once: the
// mechanisms offered on this connection (PLAIN and LOGIN only under TLS unless the protocol
// allows them without), base64 of challenges and responses (RFC 4648, strict), "=" as an empty
// initial response (SASL-IR, RFC 4959), "*" as the client's cancel, the challenge/response
// loop, the server's final data (SCRAM's verifier) sent as one more challenge where the
// protocol has no other way (RFC 4422 section 5), the work on the worker pool (password
// hashing, PBKDF2), and the slow reply after repeated failures.
//
// Threading: call everything from the session's own callbacks. Events reach the handler on the
// session's executor, one at a time, never from inside start() or respond(). While the core
// works on a step, the session's input is paused; it is resumed just before the event.
// Destroying the exchange ends it: no event follows (a step already running finishes unseen,
// and input stays paused until the protocol resumes it, if it goes on at all).
//
// ABI: added in 1.3 (Host::sasl). The structs here are frozen (portico/abi.h).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portico/directory.h"

namespace portico::sdk {

class SessionContext;

// How a protocol carries the mechanism's octets.
enum class SaslEncoding {
  base64,  // SMTP, POP3, IMAP, XMPP: base64 text; "=" is an empty initial response, "*" cancels
  raw,     // LDAP: the octets themselves; the protocol cancels by ending the exchange
};

// What one connection allows.
struct SaslPolicy {
  std::string service;  // the protocol, for throttling and the log: "smtp", "pop", "imap", ...
  SaslEncoding encoding = SaslEncoding::base64;
  bool allow_plaintext_without_tls = false;  // offer PLAIN and LOGIN before TLS
  bool disable_login = false;                // never offer LOGIN
  // Additional data with success (SCRAM's server-final message) goes as one more challenge,
  // answered by an empty response, before the success event: for protocols whose success reply
  // carries no data (SMTP, POP3, IMAP). Off: it comes in SaslEvent::data of the success (XMPP's
  // <success/>, LDAP's serverSaslCreds).
  bool final_data_as_challenge = true;
};

struct SaslEvent {
  enum class Kind {
    challenge,     // send `data`, then feed the client's answer to respond()
    success,       // authenticated as `user`; `data`, when not empty, goes with the success
    failure,       // refused; see `reason`. The delay after repeated failures is already over
    cancelled,     // the client cancelled ("*")
    bad_encoding,  // the client's response was not valid base64
    malformed,     // the mechanism refused the client's message, or a non-empty answer to the
                   // server's final data
  };
  Kind kind = Kind::failure;
  std::string data;  // encoded as the policy says: base64 text (may be empty) or raw octets
  std::string user;  // success: the canonical account
  AuthStatus reason = AuthStatus::bad_credentials;  // failure: why
};

using SaslEventHandler = std::function<void(const SaslEvent&)>;

// One exchange, from the client's choice of mechanism to its outcome.
class SaslExchange {
 public:
  virtual ~SaslExchange() = default;
  // The mechanism, as the core names it ("SCRAM-SHA-256").
  virtual std::string mechanism() const = 0;
  // The client's answer to the last challenge, as received: base64 text without its line
  // ending (or "*"), or raw octets. Ignored unless a challenge is outstanding.
  virtual void respond(std::string_view response) = 0;
};

struct SaslStart {
  enum class Status {
    started,              // `exchange` runs; its first event follows
    unknown_mechanism,    // not a mechanism this server offers
    encryption_required,  // a plaintext mechanism before TLS, and the policy does not allow it
    bad_encoding,         // the initial response was not valid base64
    unavailable,          // this server has no authentication service
  };
  Status status = Status::unavailable;
  std::unique_ptr<SaslExchange> exchange;
};

class SaslServer {
 public:
  // The mechanisms to advertise on this connection now, strongest first.
  virtual std::vector<std::string> mechanisms(const SessionContext& context,
                                              const SaslPolicy& policy) const = 0;
  // Starts an exchange for `mechanism` (as the client named it, any case) with the client's
  // initial response, if it sent one. Events go to `on_event` on the session's executor.
  virtual SaslStart start(SessionContext& context, std::string_view mechanism,
                          std::optional<std::string_view> initial_response,
                          const SaslPolicy& policy, SaslEventHandler on_event) = 0;

  // --- ABI 1.8 ---
  // start() for a protocol whose user names are local parts of a domain: a name without "@"
  // (SCRAM's n=, PLAIN's authcid) is taken as name@domain, the domain the client addressed (an
  // XMPP stream's `to`, RFC 6120 section 6.3.8). An empty domain is start().
  virtual SaslStart start_in_domain(SessionContext& context, std::string_view mechanism,
                                    std::optional<std::string_view> initial_response,
                                    const SaslPolicy& policy, std::string_view domain,
                                    SaslEventHandler on_event) = 0;

 protected:
  ~SaslServer() = default;
};

}  // namespace portico::sdk
