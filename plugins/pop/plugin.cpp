// pop — the plugin: settings schema, protocol traits, sessions (RFC 1939). The replies the core
// sends on its own (busy, too many bad commands, timeouts, shutdown) carry RFC 2449 response
// codes where one applies. POP retrieval (retrieval_session.h, on retrieval-common's scheduler)
// runs while the plugin is enabled.
#include <memory>

#include "portico/plugin.h"
#include "retrieval_scheduler.h"
#include "retrieval_session.h"
#include "session.h"
#include "settings.h"

namespace portico::pop {
namespace {

class PopPlugin final : public sdk::Plugin {
 public:
  explicit PopPlugin(sdk::Host& host)
      : host_(host),
        retrieval_(std::make_shared<retrieval::RetrievalScheduler>(host, retrieval_protocol())) {}
  ~PopPlugin() override { retrieval_->stop(); }

  sdk::Schema schema() const override { return pop::schema(); }

  sdk::ProtocolTraits traits() const override {
    sdk::ProtocolTraits t;
    t.max_line_length = kMaxCommandLine;
    t.busy_reply = "-ERR [SYS/TEMP] too many connections, try again later\r\n";
    t.busy_address_reply =
        "-ERR [SYS/TEMP] too many connections from your address, try again later\r\n";
    t.too_many_bad_commands_reply = "-ERR too many bad commands, closing connection\r\n";
    t.command_timeout_reply = "-ERR command timeout, closing connection\r\n";
    t.session_timeout_reply = "-ERR autologout: idle too long, closing connection\r\n";
    t.shutdown_reply = "-ERR [SYS/TEMP] server shutting down, try again later\r\n";
    return t;
  }

  void configure(const sdk::Settings& s) override {
    retrieval_->configure(PopSettings::from(s, host_.data_dir()).retrieval);
  }

  void stop() override { retrieval_->stop(); }

  std::unique_ptr<sdk::Session> open_session(sdk::SessionContext& ctx) override {
    return std::make_unique<PopSession>(ctx, host_,
                                        PopSettings::from(ctx.settings(), host_.data_dir()));
  }

 private:
  sdk::Host& host_;
  std::shared_ptr<retrieval::RetrievalScheduler> retrieval_;
};

}  // namespace
}  // namespace portico::pop

PORTICO_PLUGIN(portico::pop::PopPlugin, "pop", "0.1.0");
