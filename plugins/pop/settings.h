// pop — the settings of the seed's "POP" tab, declared for the core and read back typed.
//
// Shared keys get the seed's defaults: banner "+OK #HostName# POP3 ready", command timeout 5
// minutes, max bad commands 8, max connections 500. The seed gives POP no session timeout; the
// default is 10 minutes, the minimum autologout timer of RFC 1939 section 3. The default
// listener is 127.0.0.1:1100 with STARTTLS (STLS); production runs 110 (starttls) and 995
// (implicit TLS, RFC 8314), each one more entry of `listeners`.
//
// The retrieval settings (download path, max threads, interval, certificate verification) drive
// POP retrieval, the polling of external POP mailboxes on behalf of local accounts
// (retrieval_scheduler.h); they are declared and read by retrieval-common, as for IMAP.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "portico/settings.h"
#include "retrieval_settings.h"

namespace portico::pop {

struct PopSettings {
  bool allow_plaintext_auth = false;  // USER/PASS, PLAIN and LOGIN before TLS
  retrieval::Settings retrieval;      // interval 1 minute, download folder data_dir/pop-retrieval

  // `data_dir` resolves an empty retrieval_download_path to data_dir/pop-retrieval.
  static PopSettings from(const sdk::Settings& s, const std::string& data_dir);
};

sdk::Schema schema();

}  // namespace portico::pop
