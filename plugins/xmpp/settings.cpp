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
  return o;
}

sdk::Schema schema() {
  sdk::Schema s;
  s.summary =
      "XMPP client server for the directory's accounts (RFC 6120, 6121): rosters, presence, "
      "messages between local users, offline messages, carbons, archive; no federation";
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
  return s;
}

}  // namespace portico::xmpp
