// smtp-out — what one delivery attempt is and how it ends: the contract between the scheduler
// (which claims queue entries, routes recipients to destinations and retries) and the SMTP
// client session (which speaks RFC 5321 to one server over one connection).
//
// A destination is one host (an MX, a route or the relay host); a connection to it carries one
// or more Jobs in turn (several messages to the same destination share a connection, RSET
// between them). Every recipient of a Job ends with exactly one RecipientOutcome.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "portico/queue.h"

namespace portico::smtpout {

// How a recipient's attempt ended.
enum class Outcome {
  delivered,  // 2xx to RCPT and to the end of the data (or to its BDAT LAST)
  temporary,  // 4xx, a timeout, a dropped connection, a TLS failure: retry later
  permanent,  // 5xx, or a limit of the remote (SIZE, no SMTPUTF8, no 8BITMIME): fail now
};

struct RecipientOutcome {
  std::size_t index = 0;  // in the Job's envelope.recipients
  Outcome outcome = Outcome::temporary;
  std::string reply;   // the server's reply as one line ("550 5.1.1 <x@y>: no such user"), or
                       // our reason when no reply decided it ("timed out waiting for the
                       // greeting", "message too large for the server's SIZE 1000")
  std::string status;  // RFC 3463 code: the reply's own when it has one, else one we chose
                       // (4.4.2 lost connection, 4.4.7 timeout, 5.3.4 too big, 5.6.7 SMTPUTF8
                       // needed, 5.6.3 8-bit needed, 4.7.5 TLS failed...)
};

// One message for some of its recipients, all at this destination.
struct Job {
  std::string id;  // the queue entry
  sdk::Envelope envelope;
  std::vector<std::size_t> recipients;  // indexes into envelope.recipients to deliver here
  std::string message_path;             // RFC 5322 octets (read on the delivery pool)
  // The whole message when it is small, read when the entry was claimed (message_path is then
  // not read again: one trip to the delivery pool less per message).
  std::shared_ptr<const std::string> octets;
  std::uint64_t size = 0;
  bool needs_smtputf8 = false;  // an address (sender or one of these recipients) is not ASCII
                                // (or the envelope asked SMTPUTF8): RFC 6531 section 3.4
  bool eight_bit = false;       // BODY=8BITMIME was given (or the body has 8-bit octets)
};

// How the connection went, for the log and the queue entry's notes.
struct ConnectionReport {
  std::string remote_host;     // the name connected to (MX host, route host)
  std::string remote_address;  // the IP address connected to
  std::string greeting;        // first line of the server's greeting
  std::string tls;  // "TLSv1.3 TLS_AES_256_GCM_SHA384" when STARTTLS succeeded; "" when not
  bool tls_verified = false;
  bool tls_failed = false;  // STARTTLS was offered and tried, and the handshake failed
  std::string error;        // why the connection ended early, if it did
  // The connection failed before MAIL FROM of the first Job was sent (greeting, EHLO/HELO,
  // STARTTLS, the TLS handshake, AUTH, TLS required and not offered, a timeout or a drop): no
  // job_done() was called for it, and the scheduler may try it at the next host or address.
  bool first_job_untouched = false;
  bool dsn_supported = false;  // the server offered DSN (RFC 3461) in its last EHLO reply
};

// What park() answers a connection that has no job left (see ClientHooks::park).
enum class Park {
  parked,  // stay open, idle: a wake comes when a job waits, or the idle time ends
  retry,   // a job arrived meanwhile: ask next_job again
  quit,    // end the connection
};

// What the client session asks of the scheduler, and tells it. Called on the session's
// executor; next_job may return nullopt (then the session parks, or says QUIT and closes).
struct ClientHooks {
  // The next Job for this connection, after the first (connection reuse); nullopt: none.
  std::function<std::optional<Job>()> next_job;
  // next_job had none: may the connection wait, idle, for the destination's next job (a
  // connection cache, as Postfix's)? `wake` is thread-safe and false once the session is gone:
  // wake(false) makes the session ask next_job again, wake(true) makes it quit.
  std::function<Park(std::function<bool(bool quit)> wake)> park;
  // The idle time is over: true when the connection was still parked (it no longer is) and
  // quits; false when a wake is already on its way to it.
  std::function<bool()> unpark;
  // Every recipient of `job` has its outcome; `so_far` is the connection's report as it stands
  // (the greeting, TLS, DSN support).
  std::function<void(const Job& job, std::vector<RecipientOutcome> outcomes,
                     const ConnectionReport& so_far)>
      job_done;
  // The connection is over (after QUIT, a failure, or the peer closing); called once, last.
  std::function<void(const ConnectionReport& report)> closed;
};

// What a client session is told about its connection.
struct ClientOptions {
  std::string remote_host;    // the host connected to, for the report and the log
  std::string helo_name;      // the name in EHLO/HELO (the server's host name)
  bool starttls = true;       // use STARTTLS when the server offers it
  bool require_tls = false;   // without TLS send nothing: the connection fails before MAIL
  std::string auth_user;      // AUTH to the relay host (PLAIN, or LOGIN) when not empty;
  std::string auth_password;  // only after TLS unless allow_auth_without_tls
  bool allow_auth_without_tls = false;
  // Replies are timed by the core (OutboundRequest::timeout, the command_timeout setting); the
  // same value here tells a timeout from a dropped connection when the core closes it (4.4.7
  // rather than 4.4.2). 0: unknown, every close counts as a drop.
  std::chrono::milliseconds reply_timeout{0};
  // How long the connection waits, idle, for another job once it has none (0: it quits).
  std::chrono::milliseconds reuse_time{0};
};

}  // namespace portico::smtpout
