// smtp-out — the plugin: the SMTP Out settings (settings.h) and the delivery scheduler
// (scheduler.h) that sends the queue to other servers (RFC 5321) and reports what it could not
// deliver (RFC 3464). It listens nowhere: every connection it makes is an outbound one.
#include <memory>

#include "portico/plugin.h"
#include "scheduler.h"
#include "settings.h"

namespace portico::smtpout {
namespace {

class SmtpOutPlugin final : public sdk::Plugin {
 public:
  explicit SmtpOutPlugin(sdk::Host& host) : scheduler_(std::make_shared<Scheduler>(host)) {}
  ~SmtpOutPlugin() override { scheduler_->stop(); }

  sdk::Schema schema() const override { return smtpout::schema(); }
  std::vector<std::string> check(const sdk::Settings& s) const override {
    return smtpout::check(s);
  }

  // Replies the core would send on an accepted connection; smtp-out accepts none.
  sdk::ProtocolTraits traits() const override {
    sdk::ProtocolTraits t;
    t.max_line_length = 8192;
    t.busy_reply = "421 4.3.2 Service not available\r\n";
    t.too_many_bad_commands_reply = "421 4.7.0 Too many errors\r\n";
    t.command_timeout_reply = "421 4.4.2 Timeout\r\n";
    t.session_timeout_reply = "421 4.4.2 Timeout\r\n";
    t.shutdown_reply = "421 4.3.2 Shutting down\r\n";
    return t;
  }

  void configure(const sdk::Settings& s) override { scheduler_->configure(OutSettings::from(s)); }
  void stop() override { scheduler_->stop(); }

  std::unique_ptr<sdk::Session> open_session(sdk::SessionContext&) override { return nullptr; }

 private:
  std::shared_ptr<Scheduler> scheduler_;
};

}  // namespace
}  // namespace portico::smtpout

PORTICO_PLUGIN(portico::smtpout::SmtpOutPlugin, "smtp-out", "0.1.0");
