// Portico core — the Prometheus metrics endpoint (prometheus-cpp), GET /metrics.
//
// Live connection gauges per protocol, listener and remote address, and the event counters of
// every protocol, read at scrape time from the one ConnectionAccounting; the outbound queue's
// entries per state and its pending recipients, from QueueService::stats() (a scan of the
// envelope folder at most every kQueueScanInterval, re-reading only changed envelopes); the spam
// filter stage's checks, outcomes, load and latency.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/accounting/accounting.h"
#include "core/directory/directory.h"
#include "core/filter/service.h"
#include "core/queue/queue.h"

namespace prometheus {
class Exposer;
}

namespace portico::core {

// The queue figures of /metrics and `portico status` are at most this old.
inline constexpr std::chrono::seconds kQueueScanInterval{5};

class Metrics {
 public:
  // directory and queue may be null (then no authentication counters, or no queue gauges, are
  // exported).
  Metrics(const ConnectionAccounting& accounting, const DirectoryService* directory,
          QueueService* queue = nullptr, const filter::FilterService* filter = nullptr);
  ~Metrics();
  // Starts serving on address:port; false with a reason on failure.
  bool open(const std::string& address, std::uint16_t port, std::string& error);
  // The port actually bound (0 when not serving).
  std::uint16_t port() const;

 private:
  class Collector;
  std::shared_ptr<Collector> collector_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace portico::core
