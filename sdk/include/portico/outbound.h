// Portico SDK — what a plugin asks for when it opens an outbound connection (Host::connect).
//
// The connection runs the plugin's Session exactly as an accepted one does (sans-I/O, lines or
// raw bytes, one callback at a time); the session speaks first or waits for the server's
// greeting as its protocol says. With TlsMode::starttls the session calls
// SessionContext::start_tls() when its protocol has agreed to it (RFC 2595, RFC 3207), and
// on_tls_started() follows. Certificates are verified against the system's trusted CAs and the
// name (RFC 6125) unless verify_certificate is off.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "portico/settings.h"

namespace portico::sdk {

struct OutboundRequest {
  std::string host;  // a DNS name (A and AAAA are looked up) or an IPv4/IPv6 literal
  std::uint16_t port = 0;
  TlsMode tls = TlsMode::none;     // implicit: TLS before the session starts
  bool verify_certificate = true;  // refuse a peer whose certificate does not verify
  std::string tls_name;            // the name sent (SNI) and verified; empty: host
  std::string local_address;       // the source address to bind; empty: the system's choice
  std::chrono::milliseconds connect_timeout{30'000};  // per address tried, handshake included
  // While the peer owes bytes (a reply, the rest of a line): the connection's command timeout
  // and session timeout both.
  std::chrono::milliseconds timeout{120'000};
  std::size_t max_line_length = 8192;  // terminator included; longer lines reach on_line_too_long
};

}  // namespace portico::sdk
