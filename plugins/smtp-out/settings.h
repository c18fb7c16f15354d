// smtp-out — the settings of the seed's "SMTP Out" tab, and what operators of Postfix expect
// beside them, declared for the core and read back typed.
//
// The seed's: outbound_ip (the local addresses deliveries are made from, rotated per
// connection), fallback_to_primary_ip (one more attempt from the system's own choice when a
// connection from an outbound IP fails), command_timeout (the shared key, 60 seconds),
// max_spam_check_threads (30, declared here as the seed places it; the checking itself belongs
// to the filter stage), max_delivery_threads (50 messages in delivery at once),
// enable_dns_caching (answers kept for their TTL) and enable_tls_if_supported (opportunistic
// STARTTLS, RFC 3207). Beside them: routes (Postfix's transport_maps), relay_host with optional
// AUTH (relayhost, smtp_sasl_*), the retry schedule and the message lifetime
// (maximal_queue_lifetime), the delay notice (delay_warning_time), connections per destination
// (default_destination_concurrency_limit), TLS verification and the plain-text fallback.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "portico/settings.h"

namespace portico::smtpout {

// "example.net mx.internal:2525": mail for example.net (or, with "*.example.net", for its
// subdomains) goes to that host instead of the domain's MX.
struct Route {
  std::string domain;  // lower case; "*." prefix for subdomains
  std::string host;    // a name (its A/AAAA records, never its MX) or an IP literal
  std::uint16_t port = 25;
};

// "host", "host:port", "[192.0.2.1]:587", "[2001:db8::1]".
struct HostPort {
  std::string host;
  std::uint16_t port = 25;
};
std::optional<HostPort> parse_host_port(std::string_view text, std::uint16_t default_port);
std::optional<Route> parse_route(std::string_view text);

struct OutSettings {
  std::vector<std::string> outbound_ips;
  bool fallback_to_primary_ip = false;
  std::chrono::milliseconds command_timeout{std::chrono::seconds(60)};
  std::int64_t max_spam_check_threads = 30;
  std::int64_t max_delivery_threads = 50;
  bool enable_dns_caching = true;
  bool enable_tls_if_supported = true;
  bool verify_tls = false;
  bool tls_fallback_to_plain = false;
  std::vector<Route> routes;
  std::optional<HostPort> relay_host;
  std::string relay_user;
  std::string relay_password;
  std::vector<std::chrono::milliseconds> retry_schedule;
  std::chrono::milliseconds message_lifetime{std::chrono::hours(24 * 5)};
  std::chrono::milliseconds delay_notice_after{std::chrono::hours(4)};  // 0: never
  std::int64_t max_connections_per_destination = 10;
  std::chrono::milliseconds queue_scan_interval{std::chrono::seconds(1)};
  std::chrono::milliseconds connection_reuse_time{std::chrono::seconds(2)};  // 0: no reuse
  std::uint16_t mx_port = 25;

  static OutSettings from(const sdk::Settings& s);
  // The wait after the `attempts`-th failed attempt (1-based): the schedule's entry, then its
  // last one over and over.
  std::chrono::milliseconds retry_after(std::uint32_t attempts) const;
  // The route for `domain` (exact first, then the longest "*." match), if any.
  const Route* route_for(const std::string& domain) const;
};

sdk::Schema schema();
// Rules across settings, and the texts inside lists (routes, schedule, host names).
std::vector<std::string> check(const sdk::Settings& s);

}  // namespace portico::smtpout
