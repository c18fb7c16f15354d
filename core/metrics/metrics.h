// Portico core — the Prometheus metrics endpoint (prometheus-cpp), GET /metrics.
//
// Live connection gauges per protocol, listener and remote address, and the event counters of
// every protocol, read at scrape time from the one ConnectionAccounting.
#pragma once

#include <memory>
#include <string>

#include "core/accounting/accounting.h"
#include "core/directory/directory.h"

namespace prometheus {
class Exposer;
}

namespace portico::core {

class Metrics {
 public:
  // directory may be null (then no authentication counters are exported).
  Metrics(const ConnectionAccounting& accounting, const DirectoryService* directory);
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
