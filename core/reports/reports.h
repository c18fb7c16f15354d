// Portico core — the report service (sdk::Reports): delivery status notifications written by
// dsn.h and sent from <> to the message's reverse-path.
//
// A report to a local address (an account, or an alias or list with local members) goes into
// the store's INBOX of each local account it stands for; to an address elsewhere (and to the
// external members of an alias or list) it goes into the queue, with the null reverse-path so
// that it can never be reported on in turn. A message whose reverse-path is <> gets no report
// (RFC 5321 section 4.5.5), nor does a recipient whose NOTIFY does not ask for one (RFC 3461).
//
// Guarantees: report() returns success only once the report is durable (delivered or queued);
// when it fails, nothing was sent and the caller may try again.
#pragma once

#include <functional>
#include <string>

#include "portico/directory.h"
#include "portico/queue.h"
#include "portico/reports.h"
#include "portico/store.h"

namespace portico::core {

class ReportService final : public sdk::Reports {
 public:
  // `hostname` is read at each report (it may change on reload).
  ReportService(std::function<std::string()> hostname, sdk::Directory& directory, sdk::Store& store,
                sdk::Queue& queue)
      : hostname_(std::move(hostname)), directory_(directory), store_(store), queue_(queue) {}

  sdk::QueueResult<sdk::ReportOutcome> report(const sdk::Envelope& envelope,
                                              const std::string& message_path,
                                              const std::vector<sdk::ReportRecipient>& recipients,
                                              std::int64_t will_retry_until) override;

 private:
  std::function<std::string()> hostname_;
  sdk::Directory& directory_;
  sdk::Store& store_;
  sdk::Queue& queue_;
};

}  // namespace portico::core
