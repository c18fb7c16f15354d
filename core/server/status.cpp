// Portico core — live state rendering (see status.h).
#include "core/server/status.h"

#include <fmt/format.h>

#include "core/log/log.h"
#include "core/net/listener.h"

namespace portico::core {

namespace {

struct CounterField {
  const char* name;
  std::atomic<std::uint64_t> ProtocolCounters::*field;
};

constexpr CounterField kCounters[] = {
    {"accepted", &ProtocolCounters::accepted},
    {"refused_busy", &ProtocolCounters::refused_busy},
    {"refused_address", &ProtocolCounters::refused_address},
    {"bad_commands", &ProtocolCounters::bad_commands},
    {"closed_bad_commands", &ProtocolCounters::closed_bad_commands},
    {"command_timeouts", &ProtocolCounters::command_timeouts},
    {"session_timeouts", &ProtocolCounters::session_timeouts},
    {"tls_failures", &ProtocolCounters::tls_failures},
    {"plugin_errors", &ProtocolCounters::plugin_errors},
    {"lines_too_long", &ProtocolCounters::lines_too_long},
};

std::string queue_json(const std::optional<QueueStats>& q) {
  if (!q) return "null";
  return fmt::format(
      "{{\"active\":{},\"deferred\":{},\"held\":{},\"damaged\":{},\"recipients_pending\":{},"
      "\"scanned_at\":{}}}",
      q->active, q->deferred, q->held, q->damaged, q->recipients_pending, q->scanned_at);
}

std::string queue_text(const std::optional<QueueStats>& q) {
  if (!q) return "queue      unreadable\n";
  return fmt::format(
      "queue      {} active, {} deferred, {} held, {} damaged; {} recipient(s) pending\n",
      q->active, q->deferred, q->held, q->damaged, q->recipients_pending);
}

std::int64_t lookup(const std::map<std::string, std::int64_t>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

}  // namespace

std::string render_status_json(const StatusInput& in, const ConnectionAccounting& accounting) {
  const auto snap = accounting.snapshot();
  const auto counters = accounting.all_counters();
  std::string out = fmt::format("{{\"version\":\"{}\",\"uptime_seconds\":{},\"stopping\":{},",
                                PORTICO_VERSION, in.uptime.count(), in.stopping);
  out += "\"protocols\":{";
  bool first = true;
  if (in.config != nullptr) {
    for (const auto& [name, pc] : in.config->plugins) {
      if (!first) out += ",";
      first = false;
      const bool running = in.runtimes != nullptr && in.runtimes->count(name) != 0;
      out += fmt::format(
          "\"{}\":{{\"enabled\":{},\"connections\":{},\"max_connections\":{},"
          "\"max_connections_per_address\":{},\"listeners\":[",
          json_escape(name), running, lookup(snap.per_protocol, name), pc.shared.max_connections,
          pc.shared.max_connections_per_address);
      bool lfirst = true;
      for (const auto& l : in.listeners) {
        if (l.protocol != name) continue;
        if (!lfirst) out += ",";
        lfirst = false;
        const std::string lname = endpoint_name(l.spec.address, l.spec.port);
        out += fmt::format("{{\"address\":\"{}\",\"port\":{},\"tls\":\"{}\",\"connections\":{}}}",
                           json_escape(l.spec.address), l.spec.port, to_string(l.spec.tls),
                           lookup(snap.per_listener, name + " " + lname));
      }
      out += "],\"addresses\":{";
      if (auto it = snap.per_address.find(name); it != snap.per_address.end()) {
        bool afirst = true;
        for (const auto& [addr, n] : it->second) {
          if (!afirst) out += ",";
          afirst = false;
          out += fmt::format("\"{}\":{}", json_escape(addr), n);
        }
      }
      out += "},\"counters\":{";
      if (auto it = counters.find(name); it != counters.end()) {
        bool cfirst = true;
        for (const auto& c : kCounters) {
          if (!cfirst) out += ",";
          cfirst = false;
          out += fmt::format("\"{}\":{}", c.name, (it->second->*c.field).load());
        }
      }
      out += "}}";
    }
  }
  out += "},\"queue\":" + queue_json(in.queue) + "}\n";
  return out;
}

std::string render_status_text(const StatusInput& in, const ConnectionAccounting& accounting) {
  const auto snap = accounting.snapshot();
  const auto counters = accounting.all_counters();
  std::string out = fmt::format("portico {}, up {}s{}\n", PORTICO_VERSION, in.uptime.count(),
                                in.stopping ? ", stopping" : "");
  out += queue_text(in.queue);
  if (in.config == nullptr) return out;
  for (const auto& [name, pc] : in.config->plugins) {
    const bool running = in.runtimes != nullptr && in.runtimes->count(name) != 0;
    if (!running) {
      out += fmt::format("{:<10} disabled\n", name);
      continue;
    }
    const auto limit = pc.shared.max_connections;
    out += fmt::format("{:<10} {} connection(s) of {}\n", name, lookup(snap.per_protocol, name),
                       limit > 0 ? std::to_string(limit) : std::string("unlimited"));
    for (const auto& l : in.listeners) {
      if (l.protocol != name) continue;
      const std::string lname = endpoint_name(l.spec.address, l.spec.port);
      out += fmt::format("  listener {:<24} tls {:<9} {} connection(s)\n", lname,
                         to_string(l.spec.tls), lookup(snap.per_listener, name + " " + lname));
    }
    if (auto it = snap.per_address.find(name); it != snap.per_address.end()) {
      for (const auto& [addr, n] : it->second) {
        out += fmt::format("  from {:<28} {} connection(s)\n", addr, n);
      }
    }
    if (auto it = counters.find(name); it != counters.end()) {
      out += "  ";
      for (const auto& c : kCounters) {
        out += fmt::format("{} {}  ", c.name, (it->second->*c.field).load());
      }
      out += "\n";
    }
  }
  return out;
}

}  // namespace portico::core
