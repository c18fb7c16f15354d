// smtp-out — where a recipient's mail goes: its domain's route, the relay host, or the domain's
// mail exchangers (RFC 5321 section 5.1: MX by preference; no MX records means the domain
// itself, the implicit MX; a null MX, RFC 7505, means the domain takes no mail).
//
// Pure planning (group_by_destination) and one blocking look-up (resolve_hosts, for the DNS
// pool). Hosts are tried in the order given; the core connects to each of a host's addresses in
// turn.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "delivery.h"
#include "portico/dns.h"
#include "settings.h"

namespace portico::smtpout {

// One next hop for some recipients of a message.
struct Destination {
  std::string key;                      // "route:host:port", "relay:host:port" or "mx:domain"
  std::string domain;                   // the recipients' domain (lower case)
  std::vector<HostPort> hosts;          // fixed (route, relay); empty for MX until resolved
  bool is_relay = false;                // AUTH with the relay credentials
  std::vector<std::size_t> recipients;  // indexes into Envelope::recipients
};

// The pending recipients of `envelope` grouped by next hop, in the order of first appearance.
std::vector<Destination> group_by_destination(const sdk::Envelope& envelope,
                                              const OutSettings& settings);

// The domain of an address ("" when it has no '@'), lower case.
std::string domain_of(const std::string& address);

// True when any octet is not ASCII (RFC 6531: the address needs SMTPUTF8).
bool needs_utf8(const std::string& text);

// Where an MX destination's mail goes now.
struct Resolution {
  enum class Kind { hosts, permanent, temporary };
  Kind kind = Kind::temporary;
  std::vector<HostPort> hosts;  // Kind::hosts, in the order to try
  std::string status;           // otherwise: RFC 3463 code
  std::string reason;           // otherwise: why
};

// Looks up `domain` (blocking: call it on the DNS pool). `cached` chooses the resolver's cache.
Resolution resolve_hosts(sdk::Dns& dns, const std::string& domain, bool cached, std::uint16_t port);

}  // namespace portico::smtpout
