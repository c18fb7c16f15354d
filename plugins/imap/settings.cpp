// imap — settings (see settings.h).
#include "settings.h"

namespace portico::imap {

using sdk::SettingType;

namespace {
constexpr const char* kRetrievalFolder = "imap-retrieval";
}  // namespace

ImapSettings ImapSettings::from(const sdk::Settings& s, const std::string& data_dir) {
  ImapSettings o;
  o.allow_plaintext_auth = s.get_bool("allow_plaintext_auth_without_tls");
  o.enable_idle = s.get_bool("enable_idle");
  o.append_limit = s.get_size("append_limit");
  o.login_timeout = s.get_duration("login_timeout");
  o.idle_timeout = s.get_duration("idle_timeout");
  o.retrieval = retrieval::Settings::from(s, data_dir, kRetrievalFolder);
  return o;
}

sdk::Schema schema() {
  sdk::Schema s;
  s.summary =
      "IMAP4rev2/IMAP4rev1 server (RFC 9051, 3501) with IDLE, UIDPLUS, MOVE, LITERAL+, "
      "CONDSTORE, ESEARCH, SPECIAL-USE, SASL-IR, STARTTLS";
  s.shared.listeners = {sdk::ListenerSpec{"127.0.0.1", 1430, sdk::TlsMode::starttls, "", ""}};
  s.shared.banner = "#HostName# IMAP server ready";
  s.shared.command_timeout = "15m";
  s.shared.session_timeout = "30m";
  s.shared.session_timeout_enabled = true;
  s.shared.max_bad_commands = 8;
  s.shared.max_connections = 1000;
  s.shared.max_connections_per_address = 0;

  s.settings.push_back(sdk::make_setting(
      "allow_plaintext_auth_without_tls", SettingType::boolean, "false",
      "Accept LOGIN and the PLAIN and LOGIN mechanisms before TLS. Off, the server announces "
      "LOGINDISABLED until the client has used STARTTLS (or connected to an implicit-TLS "
      "listener), so passwords never cross the network in the clear."));
  s.settings.push_back(sdk::make_setting(
      "enable_idle", SettingType::boolean, "true",
      "Announce and accept the IDLE command (RFC 2177): a client waits on an open connection "
      "and is told at once of new mail, expunges and flag changes. Off, IDLE is not announced "
      "and gets BAD; clients poll instead."));
  s.settings.push_back(sdk::make_setting(
      "idle_timeout", SettingType::duration, "29m",
      "How long a connection may stay in IDLE without a word from the client before it is "
      "logged out. RFC 2177 asks clients to end IDLE and start it again within 29 minutes.",
      "1m"));
  s.settings.push_back(sdk::make_setting(
      "login_timeout", SettingType::duration, "1m",
      "How long a connection may stay idle before it has logged in (the session timeout "
      "applies afterwards), so that unauthenticated connections do not hold slots.",
      "1s"));
  s.settings.push_back(sdk::make_setting(
      "append_limit", SettingType::size, "64MB",
      "The largest message APPEND accepts, announced as APPENDLIMIT (RFC 7889). A larger one "
      "gets NO [TOOBIG] before its octets are sent (synchronizing literal) or after they are "
      "read and thrown away (non-synchronizing).",
      "1KB"));
  retrieval::add_settings(s, {"IMAP", kRetrievalFolder, "10m", "STARTTLS"});
  return s;
}

}  // namespace portico::imap
