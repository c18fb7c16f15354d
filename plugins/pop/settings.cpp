// pop — settings (see settings.h).
#include "settings.h"

#include <utility>

namespace portico::pop {

using sdk::SettingType;

namespace {
constexpr const char* kRetrievalFolder = "pop-retrieval";
}  // namespace

PopSettings PopSettings::from(const sdk::Settings& s, const std::string& data_dir) {
  PopSettings o;
  o.allow_plaintext_auth = s.get_bool("allow_plaintext_auth_without_tls");
  o.retrieval = retrieval::Settings::from(s, data_dir, kRetrievalFolder);
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
  retrieval::add_settings(s, {"POP", kRetrievalFolder, "1m", "STLS"});
  return s;
}

}  // namespace portico::pop
