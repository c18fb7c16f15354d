// smtp-in — the plugin: settings schema, protocol traits, sessions (RFC 5321).
#include <memory>

#include "portico/plugin.h"
#include "session.h"
#include "settings.h"

namespace portico::smtp {
namespace {

class SmtpPlugin final : public sdk::Plugin {
 public:
  explicit SmtpPlugin(sdk::Host& host) : host_(host) {}

  sdk::Schema schema() const override { return smtp::schema(); }
  std::vector<std::string> check(const sdk::Settings& s) const override { return smtp::check(s); }

  sdk::ProtocolTraits traits() const override {
    sdk::ProtocolTraits t;
    t.max_line_length = kMaxCommandLine;
    t.busy_reply = "421 4.3.2 #HostName# Too many connections, try again later\r\n";
    t.busy_address_reply =
        "421 4.7.0 #HostName# Too many connections from your address, try again later\r\n";
    t.too_many_bad_commands_reply = "421 4.7.0 #HostName# Too many errors, closing connection\r\n";
    t.command_timeout_reply = "421 4.4.2 #HostName# Timeout exceeded, closing connection\r\n";
    t.session_timeout_reply = "421 4.4.2 #HostName# Idle too long, closing connection\r\n";
    t.shutdown_reply = "421 4.3.2 #HostName# Service shutting down, try again later\r\n";
    return t;
  }

  std::vector<sdk::ListenerSpec> extra_listeners(const sdk::Settings& s) const override {
    const SmtpSettings o = SmtpSettings::from(s);
    std::vector<sdk::ListenerSpec> out;
    if (o.submission_enabled) out.push_back(o.submission);
    if (o.submissions_enabled) out.push_back(o.submissions);
    return out;
  }

  std::unique_ptr<sdk::Session> open_session(sdk::SessionContext& ctx) override {
    return std::make_unique<SmtpSession>(ctx, host_, SmtpSettings::from(ctx.settings()));
  }

 private:
  sdk::Host& host_;
};

}  // namespace
}  // namespace portico::smtp

PORTICO_PLUGIN(portico::smtp::SmtpPlugin, "smtp-in", "0.1.0");
