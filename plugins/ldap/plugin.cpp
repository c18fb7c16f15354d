// ldap — the plugin: settings schema, protocol traits (the core's own last words are notices of
// disconnection, RFC 4511 section 4.4.1), sessions.
#include <memory>

#include "encode.h"
#include "portico/plugin.h"
#include "session.h"
#include "settings.h"

namespace portico::ldap {
namespace {

constexpr const char* kVersion = "0.1.0";

class LdapPlugin final : public sdk::Plugin {
 public:
  explicit LdapPlugin(sdk::Host& host) : host_(host), shared_(std::make_shared<Shared>()) {
    shared_->version = kVersion;
  }

  sdk::Schema schema() const override { return ldap::schema(); }
  std::vector<std::string> check(const sdk::Settings& s) const override { return ldap::check(s); }

  sdk::ProtocolTraits traits() const override {
    sdk::ProtocolTraits t;
    t.max_line_length = 64 * 1024;  // unused: sessions read raw bytes
    t.busy_reply = notice_of_disconnection(busy, "too many connections, try again later");
    t.busy_address_reply =
        notice_of_disconnection(busy, "too many connections from your address, try again later");
    t.too_many_bad_commands_reply =
        notice_of_disconnection(unwilling_to_perform, "too many bad requests");
    t.command_timeout_reply = notice_of_disconnection(unavailable, "request timed out");
    t.session_timeout_reply = notice_of_disconnection(unavailable, "idle too long");
    t.shutdown_reply = notice_of_disconnection(unavailable, "server shutting down");
    return t;
  }

  std::unique_ptr<sdk::Session> open_session(sdk::SessionContext& ctx) override {
    return std::make_unique<LdapSession>(ctx, host_, shared_, LdapSettings::from(ctx.settings()));
  }

 private:
  sdk::Host& host_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace
}  // namespace portico::ldap

PORTICO_PLUGIN(portico::ldap::LdapPlugin, "ldap", "0.1.0");
