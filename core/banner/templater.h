// Portico core — the banner templater shared by every protocol.
//
// Expands, case-insensitively: #HostName# (the name the server answers to on the connection's
// local address), #ConnectedIP# (the remote address), #Time# (local time) and #TimeUTC# (UTC),
// both as RFC 5322 date-times, and #UnixTime# (seconds since 1970-01-01). An unknown #Word# is
// left as it is. With single_line (banners), CR and LF become spaces: a banner is one protocol
// line; protocol replies keep their line endings.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "portico/host.h"

namespace portico::core {

std::string render_template(std::string_view text, const sdk::ConnectionInfo& conn,
                            std::chrono::system_clock::time_point now, bool single_line = true);

inline std::string render_template(std::string_view text, const sdk::ConnectionInfo& conn,
                                   bool single_line = true) {
  return render_template(text, conn, std::chrono::system_clock::now(), single_line);
}

// RFC 5322 section 3.3 date-time, e.g. "Wed, 25 Nov 2026 07:25:21 +0100".
std::string rfc5322_date(std::chrono::system_clock::time_point t, bool utc);

}  // namespace portico::core
