// imap — the settings of the seed's "IMAP" tab, declared for the core and read back typed.
//
// Shared keys get the seed's defaults: command timeout 15 minutes, max bad commands 8, max
// connections 1000. The session timeout defaults to 30 minutes, the autologout timer RFC 9051
// section 5.4 requires at the least; IDLE runs under its own 29-minute window (RFC 2177) and a
// connection that has not logged in under `login_timeout`. The default listener is
// 127.0.0.1:1430 with STARTTLS; production runs 143 (starttls) and 993 (implicit TLS, RFC 8314).
//
// The retrieval settings (download path, max threads, interval, certificate verification) drive
// IMAP retrieval, the polling of external IMAP mailboxes on behalf of local accounts
// (retrieval_session.h); they are declared and read by retrieval-common, as for POP.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "portico/settings.h"
#include "retrieval_settings.h"

namespace portico::imap {

struct ImapSettings {
  bool allow_plaintext_auth = false;         // LOGIN, PLAIN and LOGIN SASL before TLS
  bool enable_idle = true;                   // advertise and accept IDLE (RFC 2177)
  std::uint64_t append_limit = 64ull << 20;  // APPENDLIMIT (RFC 7889), octets
  std::chrono::milliseconds login_timeout{std::chrono::minutes(1)};
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(29)};
  // Interval 10 minutes, download folder data_dir/imap-retrieval.
  retrieval::Settings retrieval;

  // `data_dir` resolves an empty retrieval_download_path to data_dir/imap-retrieval.
  static ImapSettings from(const sdk::Settings& s, const std::string& data_dir = "");
};

sdk::Schema schema();

}  // namespace portico::imap
