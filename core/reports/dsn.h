// Portico core — writing a delivery status notification (RFC 3464 in the multipart/report of
// RFC 6522; RFC 6533 for UTF-8 addresses) and deciding who deserves one (RFC 3461 section 4.1).
//
// Pure functions, no I/O: the report service (reports.h) reads the original message and sends
// the result. The report is plain 7-bit text but for the returned message (kept as it came) and
// UTF-8 addresses, which make it a message/global-delivery-status (RFC 6533 section 3) whose
// sending then needs SMTPUTF8. Lines end in CRLF; no header line is longer than 998 octets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portico/reports.h"

namespace portico::core::reports {

// A failure report returns the whole message up to this size (unless RET=HDRS); a larger one
// has only its header returned, as every delay and success report has.
inline constexpr std::uint64_t kReturnWholeUpTo = 10 * 1024 * 1024;

// Whether `action` for a recipient with these NOTIFY bits deserves a report: never for
// NOTIFY=NEVER; success, relay and expansion only when asked; failure and delay when asked or
// when the client gave no NOTIFY (RFC 3461 section 4.1).
bool deserves_report(std::uint32_t notify, sdk::ReportAction action);

struct DsnInput {
  std::string reporting_mta;  // this server's host name
  std::string message_id;     // for the report's Message-ID, without brackets
  std::int64_t now = 0;       // Unix time: Date and Last-Attempt-Date
  const sdk::Envelope* envelope = nullptr;
  std::vector<sdk::ReportRecipient> recipients;  // those that deserve it (see above)
  std::int64_t will_retry_until = 0;             // delay reports; 0: not said
  // The returned part: the whole message, or its header section only.
  std::string returned;
  bool returned_whole = false;
};

// The report's octets (RFC 5322, CRLF), to be sent from <> to the envelope's sender.
std::string compose_dsn(const DsnInput& in);

// The header section of a message (up to and including the empty line that ends it, or all of
// it when there is none).
std::string_view header_section(std::string_view message);

// "Fri, 04 Dec 2026 10:00:00 +0000" (RFC 5322 section 3.3).
std::string rfc5322_date(std::int64_t unix_time);

}  // namespace portico::core::reports
