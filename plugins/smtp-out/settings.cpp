// smtp-out — settings (see settings.h).
#include "settings.h"

#include <algorithm>
#include <cctype>

#include "portico/units.h"

namespace portico::smtpout {

using sdk::SettingType;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool valid_host(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  return std::all_of(h.begin(), h.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == ':' ||
           c == '_';
  });
}

}  // namespace

std::optional<HostPort> parse_host_port(std::string_view text, std::uint16_t default_port) {
  HostPort hp;
  hp.port = default_port;
  std::string_view rest;
  if (!text.empty() && text[0] == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    hp.host = std::string(text.substr(1, close - 1));
    rest = text.substr(close + 1);
  } else {
    const auto colon = text.find(':');
    // More than one colon without brackets is a bare IPv6 address.
    if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
      hp.host = std::string(text.substr(0, colon));
      rest = text.substr(colon);
    } else {
      hp.host = std::string(text);
    }
  }
  if (!rest.empty()) {
    if (rest[0] != ':' || rest.size() < 2 || rest.size() > 6) return std::nullopt;
    unsigned port = 0;
    for (char c : rest.substr(1)) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
      port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if (port == 0 || port > 65535) return std::nullopt;
    hp.port = static_cast<std::uint16_t>(port);
  }
  if (!valid_host(hp.host)) return std::nullopt;
  return hp;
}

std::optional<Route> parse_route(std::string_view text) {
  const auto space = text.find_first_of(" \t");
  if (space == std::string_view::npos) return std::nullopt;
  std::string_view domain = text.substr(0, space);
  std::string_view target = text.substr(text.find_first_not_of(" \t", space));
  auto hp = parse_host_port(target, 25);
  if (!hp || domain.empty()) return std::nullopt;
  const std::string_view bare = domain.rfind("*.", 0) == 0 ? domain.substr(2) : domain;
  if (bare.empty() || !valid_host(bare)) return std::nullopt;
  return Route{lower(domain), hp->host, hp->port};
}

OutSettings OutSettings::from(const sdk::Settings& s) {
  OutSettings o;
  o.outbound_ips = s.get_list("outbound_ip");
  o.fallback_to_primary_ip = s.get_bool("fallback_to_primary_ip");
  o.command_timeout = s.get_duration("command_timeout");
  o.max_spam_check_threads = s.get_int("max_spam_check_threads");
  o.max_delivery_threads = s.get_int("max_delivery_threads");
  o.enable_dns_caching = s.get_bool("enable_dns_caching");
  o.enable_tls_if_supported = s.get_bool("enable_tls_if_supported");
  o.verify_tls = s.get_bool("verify_tls");
  o.tls_fallback_to_plain = s.get_bool("tls_fallback_to_plain");
  for (const auto& r : s.get_list("routes")) {
    if (auto route = parse_route(r)) o.routes.push_back(*route);
  }
  if (const auto& relay = s.get_string("relay_host"); !relay.empty())
    o.relay_host = parse_host_port(relay, 25);
  o.relay_user = s.get_string("relay_auth_user");
  o.relay_password = s.get_string("relay_auth_password");
  for (const auto& d : s.get_list("retry_schedule")) {
    if (auto ms = sdk::parse_duration(d)) o.retry_schedule.push_back(*ms);
  }
  if (o.retry_schedule.empty()) o.retry_schedule.push_back(std::chrono::minutes(5));
  o.message_lifetime = s.get_duration("message_lifetime");
  o.delay_notice_after = s.get_duration("delay_notice_after");
  o.max_connections_per_destination = s.get_int("max_connections_per_destination");
  o.queue_scan_interval = s.get_duration("queue_scan_interval");
  o.connection_reuse_time = s.get_duration("connection_reuse_time");
  o.mx_port = static_cast<std::uint16_t>(s.get_int("mx_port"));
  return o;
}

std::chrono::milliseconds OutSettings::retry_after(std::uint32_t attempts) const {
  const std::size_t i = attempts == 0 ? 0 : attempts - 1;
  return retry_schedule[std::min(i, retry_schedule.size() - 1)];
}

const Route* OutSettings::route_for(const std::string& domain) const {
  const std::string d = lower(domain);
  const Route* best = nullptr;
  for (const auto& r : routes) {
    if (r.domain == d) return &r;
    if (r.domain.rfind("*.", 0) == 0) {
      const std::string_view suffix = std::string_view(r.domain).substr(1);  // ".example.net"
      if (d.size() > suffix.size() &&
          d.compare(d.size() - suffix.size(), suffix.size(), suffix) == 0) {
        if (!best || r.domain.size() > best->domain.size()) best = &r;
      }
    }
  }
  return best;
}

std::vector<std::string> check(const sdk::Settings& s) {
  std::vector<std::string> problems;
  for (const auto& r : s.get_list("routes")) {
    if (!parse_route(r)) {
      problems.push_back("routes: \"" + r +
                         "\" is not \"DOMAIN HOST[:PORT]\" (e.g. \"example.net "
                         "mx.internal:2525\", \"*.example.net [192.0.2.25]\")");
    }
  }
  for (const auto& d : s.get_list("retry_schedule")) {
    auto ms = sdk::parse_duration(d);
    if (!ms || ms->count() <= 0)
      problems.push_back("retry_schedule: \"" + d + "\" is not a duration above 0 (e.g. 5m)");
  }
  if (const auto& relay = s.get_string("relay_host");
      !relay.empty() && !parse_host_port(relay, 25)) {
    problems.push_back("relay_host: \"" + relay + "\" is not HOST[:PORT]");
  }
  if (s.get_string("relay_auth_user").empty() != s.get_string("relay_auth_password").empty())
    problems.push_back("relay_auth_user and relay_auth_password go together");
  if (!s.get_string("relay_auth_user").empty() && s.get_string("relay_host").empty())
    problems.push_back("relay_auth_user needs relay_host");
  for (const auto& ip : s.get_list("outbound_ip")) {
    auto hp = parse_host_port("[" + ip + "]", 0);
    if (ip.empty() || !hp ||
        hp->host.find_first_not_of("0123456789abcdefABCDEF.:") != std::string::npos) {
      problems.push_back("outbound_ip: \"" + ip + "\" is not an IPv4 or IPv6 address");
    }
  }
  return problems;
}

sdk::Schema schema() {
  sdk::Schema s;
  s.summary =
      "SMTP client (RFC 5321) delivering the queue to other servers, with bounces "
      "(RFC 3464)";
  // No listeners: smtp-out only connects out. The shared command_timeout is the seed's 60 s.
  s.shared.banner = "";
  s.shared.command_timeout = "60s";
  s.shared.session_timeout = "5m";
  s.shared.max_bad_commands = 0;
  s.shared.max_connections = 0;

  auto add = [&s](sdk::SettingSpec spec) { s.settings.push_back(std::move(spec)); };
  add(sdk::make_setting(
      "outbound_ip", SettingType::string_list, "",
      "The local IP addresses (IPv4 or IPv6) deliveries are made from; with several, each new "
      "connection takes the next. Empty means the system's own choice. Each must be an "
      "address of this machine."));
  add(sdk::make_setting(
      "fallback_to_primary_ip", SettingType::boolean, "false",
      "When a connection from an outbound_ip address fails, try once more from the system's "
      "own choice of address."));
  auto spam = sdk::make_setting(
      "max_spam_check_threads", SettingType::integer, "30",
      "The most messages checked for spam at the same time; the next ones wait, their "
      "clients' input paused. The checking is done by the server's filter stage, rspamd "
      "(server.spam_filter.*, see `portico plugins describe server`), which obeys this value "
      "whether smtp-out is enabled or not.",
      "1", "10000");
  add(spam);
  add(sdk::make_setting(
      "max_delivery_threads", SettingType::integer, "50",
      "The most deliveries to other servers at the same time (each a connection carrying one "
      "message after another). A message that cannot be sent now waits for its next attempt; "
      "the others go on meanwhile.",
      "1", "10000"));
  add(sdk::make_setting(
      "enable_dns_caching", SettingType::boolean, "true",
      "Keep DNS answers (MX, A, AAAA) for as long as their records allow, shared by every "
      "delivery. Off, every delivery asks the name servers again."));
  add(sdk::make_setting(
      "enable_tls_if_supported", SettingType::boolean, "true",
      "Use STARTTLS (RFC 3207) whenever the receiving server offers it. The outcome (TLS "
      "version, cipher, whether the certificate verified) is logged and noted on the queue "
      "entry."));
  add(sdk::make_setting(
      "verify_tls", SettingType::boolean, "false",
      "Refuse to deliver over TLS to a server whose certificate does not verify (chain and "
      "name). Off, as for most of the Internet's mail, TLS protects against eavesdroppers "
      "only."));
  add(sdk::make_setting(
      "tls_fallback_to_plain", SettingType::boolean, "false",
      "When the TLS handshake after STARTTLS fails, try the next connection to that server "
      "without STARTTLS. Off, the message waits for its next attempt."));
  add(sdk::make_setting(
      "routes", SettingType::string_list, "",
      "Where mail for some domains goes instead of their MX: entries \"DOMAIN HOST[:PORT]\", "
      "e.g. \"example.net mx.internal:2525\"; \"*.example.net\" matches its subdomains; a "
      "bracketed host ([192.0.2.25]) is an address. HOST's own A/AAAA records are used, never "
      "its MX."));
  add(sdk::make_setting(
      "relay_host", SettingType::string, "",
      "A smart host that takes all mail not routed otherwise: HOST[:PORT] (default port 25; "
      "587 for submission). Empty: deliver to each domain's MX."));
  add(sdk::make_setting("relay_auth_user", SettingType::string, "",
                        "The user name for AUTH at relay_host (PLAIN or LOGIN, sent only after "
                        "STARTTLS succeeded). Empty: no AUTH."));
  add(sdk::make_setting("relay_auth_password", SettingType::string, "",
                        "The password for relay_auth_user. Keep the configuration file "
                        "readable by the server only."));
  add(sdk::make_setting(
      "retry_schedule", SettingType::string_list, "5m, 10m, 30m, 1h, 2h, 4h",
      "The waits before each new attempt after a temporary failure; after the last, it is "
      "used over and over until message_lifetime ends."));
  add(sdk::make_setting(
      "message_lifetime", SettingType::duration, "5d",
      "How long a message is retried before its undelivered recipients fail and the sender "
      "gets a report.",
      "1s", "60d"));
  auto delay = sdk::make_setting(
      "delay_notice_after", SettingType::duration, "4h",
      "After this long undelivered, the sender is told once that the message is delayed (when "
      "the recipient's NOTIFY allows). 0 turns the notice off.",
      "0", "60d");
  delay.zero_means_unlimited = false;
  add(delay);
  add(sdk::make_setting(
      "max_connections_per_destination", SettingType::integer, "10",
      "The most connections open at once to one destination (an MX host, a route, the relay "
      "host), so that one slow or busy destination holds few of the delivery slots.",
      "1", "1000"));
  auto reuse = sdk::make_setting(
      "connection_reuse_time", SettingType::duration, "2s",
      "How long a connection whose destination has no more messages waiting stays open, idle, "
      "for the next one (as Postfix's smtp_connection_cache_time_limit); a new message goes to "
      "such a connection before another is opened. It closes at once when another destination "
      "waits for its delivery slot. 0 closes every connection as soon as it has nothing to "
      "send.",
      "0", "1m");
  reuse.zero_means_unlimited = false;
  add(reuse);
  add(sdk::make_setting(
      "mx_port", SettingType::integer, "25",
      "The port of the servers found by MX (and of address literals). 25 on the Internet; "
      "another only on a private network whose servers all listen there.",
      "1", "65535"));
  add(sdk::make_setting("queue_scan_interval", SettingType::duration, "1s",
                        "How often the queue is looked at for messages due for delivery.", "100ms",
                        "1h"));
  return s;
}

}  // namespace portico::smtpout
