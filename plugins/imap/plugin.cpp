// imap — the plugin: settings schema, protocol traits, sessions (RFC 9051, RFC 3501). The
// replies the core sends on its own (busy, too many bad commands) are untagged BYE responses
// with the response codes of RFC 5530; timeouts and shutdown are said by the session itself
// (ImapSession::on_final_words). IMAP retrieval (retrieval_session.h, on retrieval-common's
// scheduler) runs while the plugin is enabled.
#include <memory>

#include "portico/plugin.h"
#include "retrieval_scheduler.h"
#include "retrieval_session.h"
#include "session.h"
#include "settings.h"

namespace portico::imap {
namespace {

class ImapPlugin final : public sdk::Plugin {
 public:
  explicit ImapPlugin(sdk::Host& host)
      : host_(host),
        retrieval_(std::make_shared<retrieval::RetrievalScheduler>(host, retrieval_protocol())) {}
  ~ImapPlugin() override { retrieval_->stop(); }

  sdk::Schema schema() const override { return imap::schema(); }

  sdk::ProtocolTraits traits() const override {
    sdk::ProtocolTraits t;
    t.max_line_length = kMaxCommandBytes;
    t.busy_reply = "* BYE [UNAVAILABLE] too many connections, try again later\r\n";
    t.busy_address_reply =
        "* BYE [UNAVAILABLE] too many connections from your address, try again later\r\n";
    t.too_many_bad_commands_reply = "* BYE too many bad commands, closing connection\r\n";
    t.command_timeout_reply = "* BYE command timed out\r\n";
    t.session_timeout_reply = "* BYE autologout; idle for too long\r\n";
    t.shutdown_reply = "* BYE [UNAVAILABLE] server shutting down\r\n";
    return t;
  }

  void configure(const sdk::Settings& s) override {
    retrieval_->configure(ImapSettings::from(s, host_.data_dir()).retrieval);
  }

  void stop() override { retrieval_->stop(); }

  std::unique_ptr<sdk::Session> open_session(sdk::SessionContext& ctx) override {
    return std::make_unique<ImapSession>(ctx, host_, ImapSettings::from(ctx.settings()));
  }

 private:
  sdk::Host& host_;
  std::shared_ptr<retrieval::RetrievalScheduler> retrieval_;
};

}  // namespace
}  // namespace portico::imap

PORTICO_PLUGIN(portico::imap::ImapPlugin, "imap", "0.1.0");
