// xmpp — settings (see settings.h).
#include "settings.h"

namespace portico::xmpp {

using sdk::SettingType;

XmppSettings XmppSettings::from(const sdk::Settings& s) {
  XmppSettings o;
  o.require_tls = s.get_bool("require_tls");
  o.allow_plaintext_auth = s.get_bool("allow_plaintext_auth_without_tls");
  o.max_stanza_size = static_cast<std::size_t>(s.get_size("max_stanza_size"));
  o.offline_message_limit = static_cast<std::size_t>(s.get_int("offline_message_limit"));
  o.archive = s.get_bool("archive");
  o.archive_retention = s.get_duration("archive_retention");
  o.ping_interval = s.get_duration("ping_interval");
  o.max_roster_items = static_cast<std::size_t>(s.get_int("max_roster_items"));
  o.resumption_timeout = s.get_duration("resumption_timeout");
  o.web_chat_listeners = s.get_list("web_chat_listeners");
  o.web_chat_considered_secure = s.get_bool("web_chat_considered_secure");
  return o;
}

sdk::Schema schema() {
  sdk::Schema s;
  s.summary =
      "XMPP client server for the directory's accounts (RFC 6120, 6121): rosters, presence, "
      "messages between local users, offline messages, carbons, archive, web chat over "
      "WebSocket (RFC 7395); no federation. The shared banner key is not used: XMPP has no "
      "banner, the stream header is the greeting";
  s.shared.listeners = {sdk::ListenerSpec{"127.0.0.1", 5222, sdk::TlsMode::starttls, "", ""},
                        sdk::ListenerSpec{"127.0.0.1", 5223, sdk::TlsMode::implicit, "", ""}};
  s.shared.banner = "";  // XMPP has no banner: the stream header is the greeting
  s.shared.command_timeout = "60s";
  s.shared.session_timeout = "10m";
  s.shared.session_timeout_enabled = true;
  s.shared.max_bad_commands = 8;
  s.shared.max_connections = 1000;
  s.shared.max_connections_per_address = 0;

  s.settings.push_back(sdk::make_setting(
      "require_tls", SettingType::boolean, "true",
      "Clients must start TLS (STARTTLS on a plain listener, RFC 6120 section 5) before they "
      "authenticate; an implicit-TLS listener (XEP-0368) always has it. When off, SCRAM may be "
      "used without TLS."));
  s.settings.push_back(sdk::make_setting(
      "allow_plaintext_auth_without_tls", SettingType::boolean, "false",
      "Offer SASL PLAIN without TLS (only meaningful with require_tls off). SCRAM-SHA-256 and "
      "SCRAM-SHA-1 are always offered; PLAIN under TLS."));
  s.settings.push_back(sdk::make_setting(
      "max_stanza_size", SettingType::size, "256KB",
      "The largest stanza accepted, as received. A larger one ends the stream with "
      "<policy-violation/> (RFC 6120 section 4.9.3.14).",
      "1KB", "16MB"));
  auto offline = sdk::make_setting(
      "offline_message_limit", SettingType::integer, "100",
      "Messages kept for an account with no available resource, delivered at its next login "
      "(XEP-0160). Beyond it the sender gets <service-unavailable/>. 0: none are kept.",
      "0", "100000");
  offline.zero_means_unlimited = false;
  s.settings.push_back(offline);
  s.settings.push_back(sdk::make_setting(
      "archive", SettingType::boolean, "true",
      "Keep each account's one-to-one messages in its archive, queried by clients with "
      "XEP-0313 (message archive management)."));
  s.settings.push_back(sdk::make_setting(
      "archive_retention", SettingType::duration, "7d",
      "How long archived messages are kept; older ones are removed once an hour.", "1h", "3650d"));
  s.settings.push_back(sdk::make_setting(
      "ping_interval", SettingType::duration, "5m",
      "After this long without a stanza from a client, the server sends it a ping (XEP-0199); "
      "one that answers nothing is closed at the session timeout.",
      "10s", "1d"));
  s.settings.push_back(sdk::make_setting("max_roster_items", SettingType::integer, "1000",
                                         "The most contacts one roster may hold.", "1", "100000"));
  s.settings.push_back(sdk::make_setting(
      "resumption_timeout", SettingType::duration, "5m",
      "How long a client whose connection dropped may resume its session with stream "
      "management (XEP-0198): meanwhile it stays online and stanzas for it are kept; after it, "
      "it goes offline, its unacknowledged messages go to offline storage. 0s: no resumption.",
      "0s", "1h"));
  s.settings.push_back(sdk::make_setting(
      "web_chat_listeners", SettingType::string_list, "",
      "Web chat URL listeners: URLs such as http://127.0.0.1:5280/xmpp-websocket or "
      "https://[::1]:5281/xmpp-websocket (an IP address; port 80/443 when absent; https with "
      "the server's certificate). Each serves XMPP over WebSocket (RFC 7395, subprotocol "
      "\"xmpp\") at its path, the web chat page at /, and XEP-0156's /.well-known/host-meta. "
      "Empty: no web chat."));
  s.settings.push_back(sdk::make_setting(
      "web_chat_considered_secure", SettingType::boolean, "false",
      "Treat connections of http:// web chat listeners as encrypted, for require_tls and PLAIN: "
      "for a listener on loopback behind a reverse proxy that terminates TLS (nginx, HAProxy). "
      "Off: over http:// a client authenticates only when require_tls is off, with SCRAM."));
  return s;
}

std::optional<WebChatUrl> parse_web_chat_url(const std::string& url, std::string& error) {
  WebChatUrl out;
  std::string_view rest(url);
  if (rest.substr(0, 7) == "http://") {
    rest.remove_prefix(7);
    out.listener.tls = sdk::TlsMode::none;
    out.listener.port = 80;
  } else if (rest.substr(0, 8) == "https://") {
    rest.remove_prefix(8);
    out.listener.tls = sdk::TlsMode::implicit;
    out.listener.port = 443;
  } else {
    error = "'" + url + "': the URL must start with http:// or https://";
    return std::nullopt;
  }
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  out.path = slash == std::string_view::npos ? "/xmpp-websocket" : std::string(rest.substr(slash));
  std::string_view host;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "'" + url + "': an IPv6 address needs its closing ']'";
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
  } else {
    host = authority.substr(0, authority.find(':'));
    authority.remove_prefix(host.size());
  }
  if (!authority.empty()) {
    if (authority.front() != ':' || authority.size() < 2 || authority.size() > 6) {
      error = "'" + url + "': bad port";
      return std::nullopt;
    }
    unsigned port = 0;
    for (char c : authority.substr(1)) {
      if (c < '0' || c > '9') {
        error = "'" + url + "': bad port";
        return std::nullopt;
      }
      port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if (port == 0 || port > 65535) {
      error = "'" + url + "': bad port";
      return std::nullopt;
    }
    out.listener.port = static_cast<std::uint16_t>(port);
  }
  const bool v4 = !host.empty() && host.find_first_not_of("0123456789.") == std::string_view::npos;
  const bool v6 = host.find(':') != std::string_view::npos &&
                  host.find_first_not_of("0123456789abcdefABCDEF:.") == std::string_view::npos;
  if (!v4 && !v6) {
    error = "'" + url + "': the host must be an IP address to listen on";
    return std::nullopt;
  }
  if (out.path.find_first_of("?# \t") != std::string::npos) {
    error = "'" + url + "': the path may not hold a query, a fragment or blanks";
    return std::nullopt;
  }
  out.listener.address = std::string(host);
  return out;
}

}  // namespace portico::xmpp
