// lineproto — the plugin object of Portico's test line protocol: schema, traits, factory.
//
// Declares the shared settings' defaults (one plain listener on 127.0.0.1:7070) and three
// settings of its own, one per value kind the sessions read: greeting_suffix (string, appended
// to the greeting), max_echo (size bounding ECHO's text) and mode.strict (boolean refusing
// bare-LF lines). Exported as "lineproto" with PORTICO_PLUGIN; it depends on no other plugin.
#include <memory>
#include <string>

#include "portico/plugin.h"
#include "session.h"

namespace lineproto {
namespace {

namespace sdk = portico::sdk;

class LineProtoPlugin final : public sdk::Plugin {
 public:
  explicit LineProtoPlugin(sdk::Host& host) : host_(host) {}

  sdk::Schema schema() const override {
    sdk::Schema s;
    s.summary = "line protocol used by Portico's tests";
    s.shared.listeners = {sdk::ListenerSpec{"127.0.0.1", 7070, sdk::TlsMode::none, "", ""}};
    s.shared.banner = "+OK #HostName# lineproto ready";
    s.shared.command_timeout = "1m";
    s.shared.session_timeout = "5m";
    s.shared.max_bad_commands = 8;
    s.shared.max_connections = 100;

    sdk::SettingSpec suffix;
    suffix.key = "greeting_suffix";
    suffix.type = sdk::SettingType::string;
    suffix.default_text = "";
    suffix.help = "Text appended to the greeting line, after the banner.";

    sdk::SettingSpec max_echo;
    max_echo.key = "max_echo";
    max_echo.type = sdk::SettingType::size;
    max_echo.default_text = "1KB";
    max_echo.min_text = "1";
    max_echo.max_text = "1MB";
    max_echo.help = "Longest text ECHO repeats; longer text is refused with -ERR too long.";

    sdk::SettingSpec strict;
    strict.key = "mode.strict";
    strict.type = sdk::SettingType::boolean;
    strict.default_text = "false";
    strict.help = "Refuse lines that end in a bare LF instead of CRLF.";

    s.settings = {suffix, max_echo, strict};
    return s;
  }

  sdk::ProtocolTraits traits() const override {
    sdk::ProtocolTraits t;
    t.max_line_length = 512;
    t.busy_reply = "-ERR [SYS/TEMP] too many connections\r\n";
    t.busy_address_reply = "-ERR [SYS/TEMP] too many connections from your address\r\n";
    t.too_many_bad_commands_reply = "-ERR too many bad commands, closing\r\n";
    t.command_timeout_reply = "-ERR command timeout\r\n";
    t.session_timeout_reply = "-ERR session timeout\r\n";
    t.shutdown_reply = "-ERR server shutting down\r\n";
    return t;
  }

  void configure(const sdk::Settings& settings) override {
    host_.log(sdk::LogLevel::debug, "configured, max_echo " +
                                        std::to_string(SessionOptions::from(settings).max_echo) +
                                        " bytes");
  }

  std::unique_ptr<sdk::Session> open_session(sdk::SessionContext& context) override {
    return std::make_unique<LineSession>(context);
  }

 private:
  sdk::Host& host_;
};

}  // namespace
}  // namespace lineproto

PORTICO_PLUGIN(lineproto::LineProtoPlugin, "lineproto", "1.0.0");
