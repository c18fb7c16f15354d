// xmpp — the plugin's settings: the seed's XMPP tab (max connections 1000, through the shared
// keys) and what the protocol needs: TLS before authentication, plaintext SASL, the stanza size
// limit, offline storage, the message archive and its retention, the server's pings.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "portico/settings.h"

namespace portico::xmpp {

struct XmppSettings {
  bool require_tls = true;
  bool allow_plaintext_auth = false;
  std::size_t max_stanza_size = 256 * 1024;
  std::size_t offline_message_limit = 100;
  bool archive = true;
  std::chrono::milliseconds archive_retention{7LL * 24 * 3600 * 1000};
  std::chrono::milliseconds ping_interval{5LL * 60 * 1000};
  std::size_t max_roster_items = 1000;
  std::chrono::milliseconds resumption_timeout{5LL * 60 * 1000};
  std::vector<std::string> web_chat_listeners;
  bool web_chat_considered_secure = false;

  static XmppSettings from(const sdk::Settings& settings);
};

sdk::Schema schema();

// One web chat listener URL ("http://127.0.0.1:5280/xmpp-websocket", "https://[::1]:5281/ws"):
// the address (an IP literal), the port (80 or 443 when absent), TLS for https, and the path
// of the WebSocket endpoint ("/xmpp-websocket" when the URL has none).
struct WebChatUrl {
  sdk::ListenerSpec listener;
  std::string path;
};
// nullopt, with the reason in `error`, for a URL that is not of that form.
std::optional<WebChatUrl> parse_web_chat_url(const std::string& url, std::string& error);

}  // namespace portico::xmpp
