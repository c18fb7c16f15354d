// smtp-out — next hops (see routing.h; RFC 5321 section 5.1, RFC 7505).
#include "routing.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace portico::smtpout {

std::string domain_of(const std::string& address) {
  const auto at = address.rfind('@');
  if (at == std::string::npos) return {};
  std::string d = address.substr(at + 1);
  for (char& c : d)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // An address literal ("[192.0.2.1]") goes to that address.
  return d;
}

bool needs_utf8(const std::string& text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

std::vector<Destination> group_by_destination(const sdk::Envelope& envelope,
                                              const OutSettings& settings) {
  std::vector<Destination> out;
  std::map<std::string, std::size_t> by_key;
  for (std::size_t i = 0; i < envelope.recipients.size(); ++i) {
    const auto& r = envelope.recipients[i];
    if (r.state != sdk::RecipientState::pending) continue;
    const std::string domain = domain_of(r.address);
    Destination d;
    d.domain = domain;
    if (const Route* route = settings.route_for(domain)) {
      d.key = "route:" + route->host + ":" + std::to_string(route->port);
      d.hosts.push_back({route->host, route->port});
    } else if (settings.relay_host) {
      d.key =
          "relay:" + settings.relay_host->host + ":" + std::to_string(settings.relay_host->port);
      d.hosts.push_back(*settings.relay_host);
      d.is_relay = true;
    } else if (domain.size() > 2 && domain.front() == '[' && domain.back() == ']') {
      // An address literal (RFC 5321 section 4.1.3): that host, no DNS.
      const std::string literal = domain.substr(1, domain.size() - 2);
      const std::string bare = literal.rfind("IPv6:", 0) == 0 || literal.rfind("ipv6:", 0) == 0
                                   ? literal.substr(5)
                                   : literal;
      d.key = "literal:" + bare;
      d.hosts.push_back({bare, settings.mx_port});
    } else {
      d.key = "mx:" + domain;
    }
    auto [it, inserted] = by_key.emplace(d.key, out.size());
    if (inserted) out.push_back(std::move(d));
    out[it->second].recipients.push_back(i);
  }
  return out;
}

Resolution resolve_hosts(sdk::Dns& dns, const std::string& domain, bool cached,
                         std::uint16_t port) {
  Resolution r;
  const sdk::DnsMx mx = cached ? dns.mx(domain) : dns.mx_uncached(domain);
  switch (mx.status) {
    case sdk::DnsStatus::ok: {
      // RFC 7505: a single MX of preference 0 with the root as its exchange.
      const bool null_mx = std::all_of(mx.records.begin(), mx.records.end(),
                                       [](const auto& m) { return m.exchange.empty(); });
      if (null_mx) {
        r.kind = Resolution::Kind::permanent;
        r.status = "5.1.10";
        r.reason = domain + " accepts no mail (null MX, RFC 7505)";
        return r;
      }
      r.kind = Resolution::Kind::hosts;
      for (const auto& m : mx.records) {
        if (!m.exchange.empty()) r.hosts.push_back({m.exchange, port});
      }
      return r;
    }
    case sdk::DnsStatus::no_data:
      break;  // no MX: the implicit MX, the domain's own addresses
    case sdk::DnsStatus::no_such_name:
      r.kind = Resolution::Kind::permanent;
      r.status = "5.1.2";
      r.reason = "domain " + domain + " does not exist (NXDOMAIN)";
      return r;
    case sdk::DnsStatus::temporary_failure:
      r.kind = Resolution::Kind::temporary;
      r.status = "4.4.3";
      r.reason = "DNS failure looking up the MX of " + domain + ": " + mx.error;
      return r;
  }
  const sdk::DnsAddresses a = cached ? dns.addresses(domain) : dns.addresses_uncached(domain);
  switch (a.status) {
    case sdk::DnsStatus::ok:
      r.kind = Resolution::Kind::hosts;
      r.hosts.push_back({domain, port});
      return r;
    case sdk::DnsStatus::temporary_failure:
      r.kind = Resolution::Kind::temporary;
      r.status = "4.4.3";
      r.reason = "DNS failure looking up " + domain + ": " + a.error;
      return r;
    default:
      r.kind = Resolution::Kind::permanent;
      r.status = "5.1.2";
      r.reason = "domain " + domain + " has no MX and no address records";
      return r;
  }
}

}  // namespace portico::smtpout
