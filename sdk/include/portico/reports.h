// Portico SDK — delivery status notifications (RFC 3464, RFC 3461, RFC 6522), sent by the core.
//
// A deliverer (smtp-out, smtp-in for a local delivery that failed after the message was
// accepted) says what happened to which recipients of a message; the core decides whether each
// deserves a report (RFC 3461 section 4.1: NOTIFY=NEVER none; SUCCESS only when asked; FAILURE
// and DELAY when asked or when the client gave no NOTIFY), writes one multipart/report message
// (a human-readable part, message/delivery-status with the per-message fields — Reporting-MTA,
// Original-Envelope-Id, Arrival-Date — and one block per recipient — Original-Recipient,
// Final-Recipient, Action, Status, Remote-MTA, Diagnostic-Code, Last-Attempt-Date, Will-Retry-
// Until — and the returned message: whole for a failure unless RET=HDRS or it is large, its
// header otherwise), and sends it from the null reverse-path <> to the message's reverse-path:
// into the store when that is a local address, else into the queue. A message from <> never
// gets a report (RFC 5321 section 4.5.5), so reports cannot loop.
//
// Blocking (the store, the queue, fsync): call it from the worker pool. Thread-safe; never
// throws. ABI: added in 1.3 (Host::reports). The structs here are frozen (portico/abi.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "portico/queue.h"

namespace portico::sdk {

// RFC 3464 section 2.3.3.
enum class ReportAction { failed, delayed, delivered, relayed, expanded };

struct ReportRecipient {
  std::size_t index = 0;  // in Envelope::recipients: its address, ORCPT and NOTIFY come from there
  ReportAction action = ReportAction::failed;
  std::string status;      // RFC 3463 enhanced code, e.g. "5.1.1"
  std::string diagnostic;  // the reply that decided it ("550 5.1.1 No such user"), or our reason
  std::string remote_mta;  // the host that gave the reply; empty when none did
};

struct ReportOutcome {
  std::size_t reported = 0;  // recipients the report speaks of (0: none deserved one)
  std::string id;            // where it went: the queue id, or "local" when delivered here
};

class Reports {
 public:
  // Reports on `recipients` of the message whose envelope is `envelope` and whose octets are
  // in the file `message_path` (RFC 5322). `will_retry_until` (Unix time) goes into delay
  // reports; 0 for none. Fails only when a report was due and could not be made durable.
  virtual QueueResult<ReportOutcome> report(const Envelope& envelope,
                                            const std::string& message_path,
                                            const std::vector<ReportRecipient>& recipients,
                                            std::int64_t will_retry_until) = 0;

 protected:
  ~Reports() = default;
};

}  // namespace portico::sdk
