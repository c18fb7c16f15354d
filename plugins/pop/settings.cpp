// pop — settings (see settings.h).
#include "settings.h"

#include <utility>

namespace portico::pop {

using sdk::SettingType;

PopSettings PopSettings::from(const sdk::Settings& s, const std::string& data_dir) {
  PopSettings o;
  o.allow_plaintext_auth = s.get_bool("allow_plaintext_auth_without_tls");
  o.retrieval_download_path = s.get_string("retrieval_download_path");
  if (o.retrieval_download_path.empty() && !data_dir.empty()) {
    o.retrieval_download_path = data_dir + (data_dir.back() == '/' ? "" : "/") + "pop-retrieval";
  }
  o.retrieval_max_threads = s.get_int("retrieval_max_threads");
  o.retrieval_interval = s.get_duration("retrieval_interval");
  o.retrieval_verify_tls = s.get_bool("retrieval_verify_tls");
  return o;
}

sdk::Schema schema() {
  sdk::Schema s;
  s.summary = "POP3 server (RFC 1939) with CAPA, STLS and SASL AUTH (RFC 2449, 2595, 5034)";
  s.shared.listeners = {sdk::ListenerSpec{"127.0.0.1", 1100, sdk::TlsMode::starttls, "", ""}};
  s.shared.banner = "+OK #HostName# POP3 ready";
  s.shared.command_timeout = "5m";
  s.shared.session_timeout = "10m";
  s.shared.session_timeout_enabled = true;
  s.shared.max_bad_commands = 8;
  s.shared.max_connections = 500;
  s.shared.max_connections_per_address = 0;

  s.settings.push_back(
      sdk::make_setting("allow_plaintext_auth_without_tls", SettingType::boolean, "false",
                        "Accept USER/PASS and the PLAIN and LOGIN mechanisms before TLS. "
                        "Off, they are refused with -ERR [AUTH] until the client has used "
                        "STLS (or connected to an implicit-TLS listener), so passwords never "
                        "cross the network in the clear."));
  s.settings.push_back(
      sdk::make_setting("retrieval_download_path", SettingType::path, "",
                        "POP retrieval: the folder where messages fetched from external POP "
                        "mailboxes are kept until they are delivered to the local account. "
                        "Empty means <data_dir>/pop-retrieval."));
  s.settings.push_back(
      sdk::make_setting("retrieval_max_threads", SettingType::integer, "10",
                        "POP retrieval: how many external POP mailboxes are polled at the "
                        "same time, at most.",
                        "1", "1000"));
  s.settings.push_back(
      sdk::make_setting("retrieval_interval", SettingType::duration, "1m",
                        "POP retrieval: how often each external POP mailbox is checked for "
                        "new messages. After a failed attempt a mailbox waits twice as long "
                        "for each consecutive failure, up to an hour (or the interval, if "
                        "longer).",
                        "1s"));
  s.settings.push_back(
      sdk::make_setting("retrieval_verify_tls", SettingType::boolean, "true",
                        "POP retrieval: verify the certificate of external POP servers reached "
                        "over TLS (implicit TLS or STLS) against the system's trusted "
                        "authorities and the server's name. Turn off only for a server with a "
                        "self-signed certificate that you trust."));
  return s;
}

}  // namespace portico::pop
