// xmpp — the web chat listeners (see web.h).
#include "web.h"

#include <set>
#include <string_view>

namespace portico::xmpp {

// web/*, embedded at build time (web_assets.cpp.in).
extern const std::string_view kWebIndexHtml;
extern const std::string_view kWebChatJs;
extern const std::string_view kWebChatCss;

namespace {

std::string replace_all(std::string_view text, std::string_view from, const std::string& to) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t at = text.find(from, pos);
    out += text.substr(pos, at - pos);
    if (at == std::string_view::npos) break;
    out += to;
    pos = at + from.size();
  }
  return out;
}

std::string websocket_url(const WebChatUrl& u) {
  const bool tls = u.listener.tls == sdk::TlsMode::implicit;
  const bool v6 = u.listener.address.find(':') != std::string::npos;
  std::string url = tls ? "wss://" : "ws://";
  url += v6 ? "[" + u.listener.address + "]" : u.listener.address;
  if (u.listener.port != (tls ? 443 : 80)) url += ":" + std::to_string(u.listener.port);
  return url + u.path;
}

std::string escape_html_attr(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '<':
        out += "&lt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::vector<sdk::WebSocketListener> web_chat_listeners(const XmppSettings& settings) {
  std::vector<sdk::WebSocketListener> out;
  for (const auto& text : settings.web_chat_listeners) {
    std::string error;
    auto url = parse_web_chat_url(text, error);
    if (!url) continue;
    sdk::WebSocketListener l;
    l.listener = url->listener;
    l.path = url->path;
    l.subprotocol = "xmpp";  // RFC 7395 section 3.1
    const std::string ws = websocket_url(*url);
    l.pages.push_back(
        {"/", "text/html; charset=utf-8",
         replace_all(kWebIndexHtml, "{{websocket_path}}", escape_html_attr(url->path))});
    l.pages.push_back({"/webchat.js", "text/javascript; charset=utf-8", std::string(kWebChatJs)});
    l.pages.push_back({"/webchat.css", "text/css; charset=utf-8", std::string(kWebChatCss)});
    // XEP-0156: where a client finds the WebSocket endpoint of this server.
    l.pages.push_back({"/.well-known/host-meta", "application/xrd+xml; charset=utf-8",
                       "<?xml version='1.0' encoding='utf-8'?>\n"
                       "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n"
                       "  <Link rel='urn:xmpp:alt-connections:websocket' href='" +
                           ws + "'/>\n</XRD>\n"});
    l.pages.push_back({"/.well-known/host-meta.json", "application/json",
                       "{\"links\":[{\"rel\":\"urn:xmpp:alt-connections:websocket\",\"href\":\"" +
                           ws + "\"}]}\n"});
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<std::string> check_web_chat_listeners(const XmppSettings& settings) {
  std::vector<std::string> errors;
  std::set<std::pair<std::string, int>> seen;
  for (const auto& text : settings.web_chat_listeners) {
    std::string error;
    auto url = parse_web_chat_url(text, error);
    if (!url) {
      errors.push_back("web_chat_listeners: " + error);
      continue;
    }
    if (!seen.insert({url->listener.address, url->listener.port}).second)
      errors.push_back("web_chat_listeners: '" + text + "' repeats another listener's address");
  }
  return errors;
}

}  // namespace portico::xmpp
