// Portico core — Prometheus metrics (see metrics.h).
#include "core/metrics/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include <chrono>
#include <limits>

#include "core/net/listener.h"

namespace portico::core {

namespace {

prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType t) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = t;
  return f;
}

void add(prometheus::MetricFamily& f, std::vector<prometheus::ClientMetric::Label> labels,
         double value) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (f.type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

}  // namespace

class Metrics::Collector final : public prometheus::Collectable {
 public:
  Collector(const ConnectionAccounting& a, const DirectoryService* d, QueueService* q,
            const filter::FilterService* f)
      : accounting_(a), directory_(d), queue_(q), filter_(f) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    using prometheus::MetricType;
    const auto snap = accounting_.snapshot();
    auto live = family("portico_connections", "Open connections per protocol", MetricType::Gauge);
    for (const auto& [proto, n] : snap.per_protocol)
      add(live, {{"protocol", proto}}, n);
    auto per_listener =
        family("portico_listener_connections", "Open connections per listener", MetricType::Gauge);
    for (const auto& [key, n] : snap.per_listener) {
      const auto space = key.find(' ');
      add(per_listener, {{"protocol", key.substr(0, space)}, {"listener", key.substr(space + 1)}},
          n);
    }
    auto per_address =
        family("portico_address_connections", "Open connections per protocol and remote address",
               MetricType::Gauge);
    for (const auto& [proto, m] : snap.per_address) {
      for (const auto& [addr, n] : m)
        add(per_address, {{"protocol", proto}, {"address", addr}}, n);
    }
    struct Counter {
      const char* name;
      const char* help;
      std::atomic<std::uint64_t> ProtocolCounters::*field;
    };
    static const Counter counters[] = {
        {"portico_connections_accepted_total", "Connections accepted", &ProtocolCounters::accepted},
        {"portico_connections_refused_busy_total", "Connections refused at max_connections",
         &ProtocolCounters::refused_busy},
        {"portico_connections_refused_address_total",
         "Connections refused at max_connections_per_address", &ProtocolCounters::refused_address},
        {"portico_bad_commands_total", "Unrecognized or improper commands",
         &ProtocolCounters::bad_commands},
        {"portico_closed_bad_commands_total", "Connections closed at max_bad_commands",
         &ProtocolCounters::closed_bad_commands},
        {"portico_command_timeouts_total", "Connections closed by the command timeout",
         &ProtocolCounters::command_timeouts},
        {"portico_session_timeouts_total", "Connections closed by the session timeout",
         &ProtocolCounters::session_timeouts},
        {"portico_tls_failures_total", "Failed TLS handshakes", &ProtocolCounters::tls_failures},
        {"portico_plugin_errors_total", "Exceptions out of plugin callbacks",
         &ProtocolCounters::plugin_errors},
        {"portico_lines_too_long_total", "Input lines over the protocol's limit",
         &ProtocolCounters::lines_too_long},
    };
    std::vector<prometheus::MetricFamily> out{std::move(live), std::move(per_listener),
                                              std::move(per_address)};
    const auto all = accounting_.all_counters();
    for (const auto& c : counters) {
      auto f = family(c.name, c.help, MetricType::Counter);
      for (const auto& [proto, pc] : all)
        add(f, {{"protocol", proto}}, (pc->*c.field).load());
      out.push_back(std::move(f));
    }
    if (directory_ != nullptr) {
      const AuthCounters a = directory_->counters();
      auto auth = family("portico_auth_total",
                         "Authentication outcomes (SASL and passwords), all protocols",
                         MetricType::Counter);
      const std::pair<const char*, std::uint64_t> outcomes[] = {
          {"success", a.successes}, {"failure", a.failures},
          {"disabled", a.disabled}, {"throttled", a.throttled},
          {"delayed", a.delayed},   {"temporary_failure", a.temporary_failures}};
      for (const auto& [name, n] : outcomes)
        add(auth, {{"outcome", name}}, static_cast<double>(n));
      out.push_back(std::move(auth));
    }
    if (queue_ != nullptr) add_queue(out);
    if (filter_ != nullptr) add_filter(out);
    return out;
  }

 private:
  // The queue's entries per state and its pending recipients; nothing when the spool cannot
  // be read (a scrape never fails for it).
  void add_queue(std::vector<prometheus::MetricFamily>& out) const {
    using prometheus::MetricType;
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const auto stats = queue_->stats(now, kQueueScanInterval);
    if (!stats.ok()) return;
    const QueueStats& s = stats.value;
    auto entries = family("portico_queue_entries",
                          "Outbound queue entries by state: active (due or being delivered), "
                          "deferred (waiting for the next attempt), held, damaged",
                          MetricType::Gauge);
    const std::pair<const char*, std::size_t> states[] = {
        {"active", s.active}, {"deferred", s.deferred}, {"held", s.held}, {"damaged", s.damaged}};
    for (const auto& [state, n] : states)
      add(entries, {{"state", state}}, static_cast<double>(n));
    out.push_back(std::move(entries));
    auto pending =
        family("portico_queue_recipients_pending",
               "Recipients of queued messages neither delivered nor failed", MetricType::Gauge);
    add(pending, {}, static_cast<double>(s.recipients_pending));
    out.push_back(std::move(pending));
  }

  // The spam filter stage: checks by rspamd's action and by what became of the message, the
  // checks in flight and waiting, and how long checks take.
  void add_filter(std::vector<prometheus::MetricFamily>& out) const {
    using prometheus::MetricType;
    const auto s = filter_->stats();
    if (!s.enabled && s.latency_count == 0 && s.skipped == 0) return;
    auto actions =
        family("portico_spam_checks_total", "Messages checked by rspamd, by the action it answered",
               MetricType::Counter);
    for (const auto& [action, n] : s.actions)
      add(actions, {{"action", action}}, static_cast<double>(n));
    out.push_back(std::move(actions));
    auto outcomes = family("portico_spam_check_outcomes_total",
                           "Messages through the spam filter by what became of them: accepted, "
                           "marked, tempfailed, rejected, failed (rspamd unreachable, late or "
                           "unintelligible)",
                           MetricType::Counter);
    for (const auto& [outcome, n] : s.outcomes)
      add(outcomes, {{"outcome", outcome}}, static_cast<double>(n));
    out.push_back(std::move(outcomes));
    auto skipped = family("portico_spam_checks_skipped_total",
                          "Messages not checked: larger than spam_filter.max_message_size, or "
                          "from authenticated clients",
                          MetricType::Counter);
    add(skipped, {}, static_cast<double>(s.skipped));
    out.push_back(std::move(skipped));
    const std::pair<const char*, std::uint64_t> gauges[] = {
        {"in_flight", s.in_flight}, {"waiting", s.waiting}, {"max_in_flight", s.max_in_flight}};
    auto load = family("portico_spam_checks",
                       "Spam checks running now (in_flight), waiting for a free slot (waiting), "
                       "and the most that ran at once since the start (max_in_flight)",
                       MetricType::Gauge);
    for (const auto& [state, n] : gauges)
      add(load, {{"state", state}}, static_cast<double>(n));
    out.push_back(std::move(load));
    auto latency = family("portico_spam_check_seconds",
                          "Time from a check's start to rspamd's verdict", MetricType::Histogram);
    prometheus::ClientMetric m;
    m.histogram.sample_count = s.latency_count;
    m.histogram.sample_sum = s.latency_sum;
    for (std::size_t i = 0; i < filter::kLatencyBuckets.size(); ++i) {
      prometheus::ClientMetric::Bucket b;
      b.upper_bound = filter::kLatencyBuckets[i];
      b.cumulative_count = s.latency_buckets[i];
      m.histogram.bucket.push_back(b);
    }
    prometheus::ClientMetric::Bucket inf;
    inf.upper_bound = std::numeric_limits<double>::infinity();
    inf.cumulative_count = s.latency_count;
    m.histogram.bucket.push_back(inf);
    latency.metric.push_back(std::move(m));
    out.push_back(std::move(latency));
  }

  const ConnectionAccounting& accounting_;
  const DirectoryService* directory_;
  QueueService* queue_;
  const filter::FilterService* filter_;
};

Metrics::Metrics(const ConnectionAccounting& accounting, const DirectoryService* directory,
                 QueueService* queue, const filter::FilterService* filter)
    : collector_(std::make_shared<Collector>(accounting, directory, queue, filter)) {}

Metrics::~Metrics() = default;

bool Metrics::open(const std::string& address, std::uint16_t port, std::string& error) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(endpoint_name(address, port));
    exposer_->RegisterCollectable(collector_);
    return true;
  } catch (const std::exception& e) {
    error = "cannot serve metrics on " + endpoint_name(address, port) + ": " + e.what();
    exposer_.reset();
    return false;
  }
}

std::uint16_t Metrics::port() const {
  if (!exposer_) return 0;
  const auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : static_cast<std::uint16_t>(ports.front());
}

}  // namespace portico::core
