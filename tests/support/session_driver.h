// Test support — drives a plugin's Session the way the core does, without sockets.
//
// SessionDriver implements the SDK's SessionContext over the core's own InputFramer (so input
// is framed exactly as on a real connection) and runs work items synchronously (work, then its
// completion), which makes transcripts deterministic. TestServices opens the real directory,
// store and queue in a temporary data directory, and TestHost hands them to plugins. Used by
// the golden-transcript tests of every protocol: each transcript is fed whole and then one
// byte at a time, and must give the same output.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/directory/directory.h"
#include "core/net/framer.h"
#include "core/queue/queue.h"
#include "core/store/store.h"
#include "portico/plugin.h"

namespace portico::testing {

// The real services over a fresh temporary data directory, removed afterwards.
class TestServices {
 public:
  TestServices();
  ~TestServices();
  const std::filesystem::path& data_dir() const { return dir_; }
  core::DirectoryService& directory() { return *directory_; }
  core::MailStore& store() { return *store_; }
  core::QueueService& queue() { return *queue_; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<core::DirectoryService> directory_;
  std::unique_ptr<core::MailStore> store_;
  std::unique_ptr<core::QueueService> queue_;
};

class TestHost final : public sdk::Host {
 public:
  explicit TestHost(TestServices& services) : services_(services) {}
  void log(sdk::LogLevel, std::string_view) override {}
  std::string hostname() const override { return "mail.example.test"; }
  std::string data_dir() const override { return services_.data_dir().string(); }
  std::string render_template(std::string_view text,
                              const sdk::ConnectionInfo& conn) const override;
  void post_work(std::function<void()> work) override { work(); }
  sdk::Directory* directory() override { return &services_.directory(); }
  sdk::Auth* auth() override { return &services_.directory(); }
  sdk::Store* store() override { return &services_.store(); }
  sdk::Queue* queue() override { return &services_.queue(); }
  // Outbound connections are not made here: tests drive client sessions with SessionDriver.
  void connect(const sdk::OutboundRequest&, sdk::OutboundSessionFactory,
               sdk::OutboundFailure failed) override {
    if (failed) failed("no outbound connections in tests");
  }
  // Timers never fire here: tests call what a timer would (e.g. RetrievalScheduler::tick).
  std::unique_ptr<sdk::Scheduled> schedule(std::chrono::milliseconds,
                                           std::function<void()>) override {
    return std::make_unique<sdk::Scheduled>();
  }
  sdk::Dns* dns() override { return nullptr; }

 private:
  TestServices& services_;
};

struct DriverOptions {
  std::string listener = "127.0.0.1:25";
  bool starttls = true;       // the listener offers STARTTLS
  bool implicit_tls = false;  // the connection starts in TLS
};

class SessionDriver final : public sdk::SessionContext {
 public:
  // `settings` must hold every key of the plugin's schema (see settings_with_defaults).
  SessionDriver(sdk::Plugin& plugin, sdk::Host& host, sdk::Settings settings,
                DriverOptions options = {});
  // A client session (an outbound connection): `open` makes the session, as Host::connect's
  // factory would; there is no plugin and no bad-command limit.
  SessionDriver(sdk::OutboundSessionFactory open, sdk::Host& host, DriverOptions options = {});
  ~SessionDriver();

  void start();
  void feed(std::string_view bytes);
  // Everything written since the last call.
  std::string take();
  bool closed() const { return closed_; }
  bool tls() const { return tls_; }
  std::int64_t bad_commands() const { return bad_commands_; }

  // sdk::SessionContext
  const sdk::ConnectionInfo& connection() const override { return info_; }
  const sdk::Settings& settings() const override { return settings_; }
  std::string banner() const override;
  void write(std::string_view bytes) override;
  std::size_t output_pending() const override { return 0; }
  void set_max_line_length(std::size_t bytes) override { input_.set_max_line(bytes); }
  void read_bytes(std::size_t count) override { input_.read_bytes(count); }
  void set_in_command(bool) override {}
  void pause_input() override { paused_ = true; }
  void resume_input() override { paused_ = false; }
  bool bad_command() override;
  bool starttls_available() const override { return options_.starttls && !tls_; }
  bool is_tls() const override { return tls_; }
  bool start_tls() override;
  void close() override { closing_ = true; }
  void post_work(std::function<void()> work, std::function<void()> done) override;
  void log(sdk::LogLevel, std::string_view) override {}
  void post_after(std::chrono::milliseconds, std::function<void()> fn) override;
  std::string tls_description() const override { return tls_ ? "TLSv1.3 TEST" : ""; }

 private:
  void pump();

  sdk::Plugin* plugin_ = nullptr;
  sdk::OutboundSessionFactory open_;
  sdk::Host& host_;
  sdk::Settings settings_;
  DriverOptions options_;
  sdk::ConnectionInfo info_;
  std::unique_ptr<sdk::Session> session_;
  core::InputFramer input_;
  std::string output_;
  std::int64_t bad_commands_ = 0;
  bool paused_ = false;
  bool tls_ = false;
  bool tls_requested_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool pumping_ = false;
};

// The plugin's settings as the core would validate them: its schema's defaults, with
// `yaml_lines` (e.g. "max_bad_commands: 3\nenable_vrfy: true") applied under plugins.<name>.
// Throws std::runtime_error with the validator's messages when they do not validate.
sdk::Settings validated_settings(const sdk::Plugin& plugin, const std::string& name,
                                 const std::string& yaml_lines = "");

// Output with the parts that change between runs replaced: dates, queue ids, base64 SCRAM
// nonces are left alone (tests avoid them).
std::string normalize(std::string text);

}  // namespace portico::testing
