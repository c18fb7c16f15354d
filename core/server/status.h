// Portico core — the live state as JSON or text, for `portico status` over the control socket:
// connections and counters per protocol, and the outbound queue's entries per state.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/accounting/accounting.h"
#include "core/config/config.h"
#include "core/net/connection.h"
#include "core/queue/queue.h"

namespace portico::core {

struct StatusInput {
  const Config* config = nullptr;
  const std::map<std::string, std::shared_ptr<const ProtocolRuntime>>* runtimes = nullptr;
  struct ListenerEntry {
    std::string protocol;
    sdk::ListenerSpec spec;
  };
  std::vector<ListenerEntry> listeners;
  std::chrono::seconds uptime{0};
  bool stopping = false;
  std::optional<QueueStats> queue;  // none when the spool could not be read
};

// {"version", "uptime_seconds", "stopping", "protocols": {name: {"enabled", "connections",
//  "max_connections", "max_connections_per_address", "listeners": [{"address", "port", "tls",
//  "connections"}], "addresses": {ip: n}, "counters": {...}}}, "queue": {"active", "deferred",
//  "held", "damaged", "recipients_pending", "scanned_at"}}; "queue" is null when unreadable
std::string render_status_json(const StatusInput& in, const ConnectionAccounting& accounting);

// The same as a human-readable table.
std::string render_status_text(const StatusInput& in, const ConnectionAccounting& accounting);

}  // namespace portico::core
