// Portico core — opening outbound connections for plugins (sdk::Host::connect).
//
// Resolves the name through the core's DNS (or takes an IP literal), tries each address in
// turn with the request's connect timeout, binds the requested source address, and hands the
// connected socket to the same Connection runner accepted connections use, marked outbound:
// client-side TLS with SNI and certificate verification (RFC 6125 names through OpenSSL),
// the request's timeout as both command and session timeout, no bad-command limit. Until the
// plugin's session is open, every failure goes to the plugin's `failed` callback, exactly once.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "core/net/connection.h"
#include "portico/dns.h"
#include "portico/outbound.h"

namespace portico::core {

struct OutboundJob {
  sdk::OutboundRequest request;
  sdk::OutboundSessionFactory open;
  sdk::OutboundFailure failed;
  sdk::ConnectionInfo info;     // id, protocol ("<plugin>/out") and server_hostname filled in
  sdk::Settings settings;       // the plugin's settings, for SessionContext::settings()
  std::uint16_t abi_minor = 0;  // the SDK minor of the plugin that asked (ProtocolRuntime)
};

// The client TLS context outbound connections share: the system's trusted CAs, TLS 1.2 at
// least. Throws std::runtime_error if OpenSSL cannot make one.
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context();

// Starts connecting; `started` is called on the connection's executor before it starts, so the
// caller can keep track of it (shutdown). `dns` may be null: then only IP literals connect.
void connect_outbound(boost::asio::io_context& io, ConnectionHub& hub, sdk::Dns* dns,
                      std::shared_ptr<boost::asio::ssl::context> client_tls, OutboundJob job,
                      std::function<void(const std::shared_ptr<Connection>&)> started);

}  // namespace portico::core
