// Portico SDK — the content filter stage (SDK 1.4): a message is checked before it is accepted.
//
// A protocol that receives mail (smtp-in) hands each complete message to the core's filter
// stage before it answers the client, so that a message the filter refuses is refused in the
// dialogue itself (RFC 5321 section 4.2.5: no later bounce, no backscatter). The stage today is
// rspamd over its HTTP protocol; the settings are the server's `spam_filter.*` keys, and at most
// smtp-out's `max_spam_check_threads` checks run at once (later ones wait, in order).
//
// Guarantees: a check never blocks an I/O thread (the message is read on the filter pool, the
// HTTP exchange is asynchronous); `done` is called exactly once per check(), never from inside
// check(); a filter that cannot be reached or answers late is a temporary failure or a pass,
// as the operator chose (spam_filter.on_failure), never a hang.
//
// ABI: the growth rules of portico/abi.h hold: the structs here are frozen at 1.4, and Filter
// grows only by virtual functions appended at the end.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace portico::sdk {

class IncomingMessage;  // portico/queue.h

// The facts a filter uses besides the message's octets: who sent it, from where, to whom.
struct FilterRequest {
  std::string protocol;                 // the plugin asking, e.g. "smtp-in"
  std::string client_address;           // the client's IP address
  std::string helo;                     // the name given in HELO/EHLO; may be empty
  std::string sender;                   // the reverse-path without brackets; empty: <>
  std::vector<std::string> recipients;  // the forward-paths accepted for this message
  std::string auth_user;                // the authenticated account; empty when none
  std::string tls;                      // SessionContext::tls_description(); empty: no TLS
  std::string queue_id;                 // an id that names the message in logs; may be empty
  std::uint64_t size = 0;               // octets of the message
};

enum class FilterAction {
  accept,    // deliver FilterResult::message
  reject,    // refuse permanently (SMTP 550 5.7.1 with FilterResult::reply)
  tempfail,  // refuse for now; the client may try again later (SMTP 451 4.7.1)
};

struct FilterResult {
  FilterAction action = FilterAction::accept;
  // reject and tempfail: the words for the client, one line of printable ASCII.
  std::string reply;
  // accept: the message to deliver: the one checked, or a copy that carries the filter's
  // header fields (X-Spam-Score, X-Spam, ...) and rewritten Subject. Sealed by nobody yet.
  std::shared_ptr<IncomingMessage> message;
  // One line for the session's log, e.g. "rspamd: no action, score 1.20/15.00, 9 ms".
  std::string log;
  // False when no filter looked at it (the filter failed and on_failure let it pass).
  bool checked = false;
};

using FilterDone = std::function<void(FilterResult)>;

// The core's filter stage (Host::filter()). Thread-safe.
class Filter {
 public:
  // Whether a message with these facts is to be checked at all: the stage is on, the message
  // is not larger than spam_filter.max_message_size, and it is not an authenticated submission
  // (unless spam_filter.check_authenticated). Cheap; call it before check().
  virtual bool wants(const FilterRequest& request) const = 0;
  // Checks a complete message made by Queue::create_incoming(). The caller must neither append
  // to it nor seal it until `done` runs (the filter may flush it to its file; a later seal()
  // still makes it durable). `done` runs once on a thread of the core; a session brings it back
  // to its own executor with a SessionContext::hold() handle, which also keeps its connection
  // open meanwhile: hold()->post(...).
  virtual void check(const FilterRequest& request, std::shared_ptr<IncomingMessage> message,
                     FilterDone done) = 0;

 protected:
  ~Filter() = default;
};

}  // namespace portico::sdk
