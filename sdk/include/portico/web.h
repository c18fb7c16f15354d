// Portico SDK — WebSocket listeners (SDK 1.9): a protocol spoken over WebSocket (RFC 6455) on an
// HTTP listener, as XMPP's RFC 7395 does for web clients.
//
// The core owns the HTTP side: it reads each request (HTTP/1.1, keep-alive, bounded headers, no
// request bodies), upgrades a GET of the listener's `path` to WebSocket (RFC 6455 section 4.2)
// when the client offers the listener's subprotocol, answers GET and HEAD of one of the
// listener's pages with it, and anything else with 404, 405 or 400. Each upgraded connection
// gets a session like any other, whose input comes as whole messages (Session::on_message), each
// write() going out as one text message; control frames (ping, pong, close) are the core's. The
// listener counts toward the protocol's max_connections, per-address limit and timeouts; its TLS
// is `listener.tls` (none or implicit: "https://" and "wss://").
#pragma once

#include <string>
#include <vector>

#include "portico/settings.h"

namespace portico::sdk {

// A static resource served by a WebSocket listener: a web client's page, its script, a
// discovery document (XEP-0156's host-meta).
struct WebPage {
  std::string path;          // "/", "/chat.js", "/.well-known/host-meta"
  std::string content_type;  // "text/html; charset=utf-8"
  std::string body;
};

struct WebSocketListener {
  ListenerSpec listener;    // address, port, TLS (none or implicit), certificate
  std::string path = "/";   // the request target that upgrades to WebSocket
  std::string subprotocol;  // Sec-WebSocket-Protocol the client must offer ("xmpp"); "" = none
  std::vector<WebPage> pages;
};

}  // namespace portico::sdk
