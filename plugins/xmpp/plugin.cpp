// xmpp — the plugin: settings schema, protocol traits (the core's own last words are stream
// errors, RFC 6120 section 4.9), the shared router and storage, the archive's expiry.
#include <filesystem>
#include <memory>

#include "ns.h"
#include "portico/plugin.h"
#include "session.h"
#include "settings.h"
#include "shared.h"
#include "web.h"

namespace portico::xmpp {
namespace {

constexpr const char* kVersion = "0.1.0";
constexpr auto kExpiryEvery = std::chrono::hours(1);

// A whole stream for refusals made before the client's header was read: a header, then the
// error (RFC 6120 4.9.1.1).
std::string refusal(std::string_view condition, std::string_view text) {
  return "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
         "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>" +
         stream_error_xml(condition, text) + "</stream:stream>";
}

class XmppPlugin final : public sdk::Plugin {
 public:
  explicit XmppPlugin(sdk::Host& host) : host_(host), shared_(std::make_shared<Shared>(host)) {
    shared_->version = kVersion;
  }

  sdk::Schema schema() const override { return xmpp::schema(); }

  std::vector<std::string> check(const sdk::Settings& settings) const override {
    return check_web_chat_listeners(XmppSettings::from(settings));
  }

  std::vector<sdk::WebSocketListener> websocket_listeners(
      const sdk::Settings& settings) const override {
    return web_chat_listeners(XmppSettings::from(settings));
  }

  sdk::ProtocolTraits traits() const override {
    sdk::ProtocolTraits t;
    t.max_line_length = 64 * 1024;  // unused: sessions read raw bytes
    t.busy_reply = refusal("resource-constraint", "too many connections, try again later");
    t.busy_address_reply = refusal("resource-constraint", "too many connections from your address");
    // Sent only after the stream header (a session counts bad input once it has sent it).
    t.too_many_bad_commands_reply =
        stream_error_xml("policy-violation", "too many bad requests") + "</stream:stream>";
    t.command_timeout_reply = stream_error_xml("connection-timeout") + "</stream:stream>";
    t.session_timeout_reply = t.command_timeout_reply;
    t.shutdown_reply = stream_error_xml("system-shutdown") + "</stream:stream>";
    return t;
  }

  void configure(const sdk::Settings& settings) override {
    XmppSettings s = XmppSettings::from(settings);
    std::lock_guard lock(mu_);
    if (!shared_->storage && !host_.data_dir().empty()) {
      const std::string path = host_.data_dir() + "/xmpp/xmpp.sqlite";
      try {
        shared_->storage = std::make_shared<Storage>(path);
      } catch (const std::exception& e) {
        host_.log(
            sdk::LogLevel::error,
            std::string("storage unavailable (rosters, offline messages, archive): ") + e.what());
      }
    }
    if (s.archive && shared_->storage && !shared_->archive)
      shared_->archive = std::make_shared<ArchiveWriter>(host_, shared_->storage);
    if (!s.archive) shared_->archive.reset();
    retention_ = s.archive_retention;
    if (!expiry_ && shared_->storage) schedule_expiry(std::chrono::minutes(1));
  }

  std::unique_ptr<sdk::Session> open_session(sdk::SessionContext& ctx) override {
    return std::make_unique<XmppSession>(ctx, shared_, XmppSettings::from(ctx.settings()));
  }

  void stop() override {
    std::lock_guard lock(mu_);
    expiry_.reset();
    if (shared_->archive) shared_->archive->flush();
  }

 private:
  void schedule_expiry(std::chrono::milliseconds delay) {
    expiry_ = host_.schedule(delay, [this] {
      std::chrono::milliseconds keep;
      std::shared_ptr<Storage> storage;
      {
        std::lock_guard lock(mu_);
        keep = retention_;
        storage = shared_->storage;
      }
      try {
        std::size_t n = storage->expire_archive(now_ms() - keep.count());
        if (n > 0)
          host_.log(sdk::LogLevel::info, "archive: " + std::to_string(n) + " messages expired");
      } catch (const std::exception& e) {
        host_.log(sdk::LogLevel::error, std::string("archive expiry: ") + e.what());
      }
      std::lock_guard lock(mu_);
      if (expiry_) schedule_expiry(kExpiryEvery);
    });
  }

  sdk::Host& host_;
  std::shared_ptr<Shared> shared_;
  std::mutex mu_;
  std::chrono::milliseconds retention_{0};
  std::unique_ptr<sdk::Scheduled> expiry_;
};

}  // namespace
}  // namespace portico::xmpp

PORTICO_PLUGIN(portico::xmpp::XmppPlugin, "xmpp", "0.1.0");
