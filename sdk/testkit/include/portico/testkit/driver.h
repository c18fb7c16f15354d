// Portico SDK test kit — drives a plugin's Session the way the core does, without sockets.
//
// SessionDriver is the SessionContext of one connection. Input given to feed() is framed by the
// core's own framing code (lines kept with their terminator up to the maximum length, counted
// byte runs after read_bytes(), "too long" once for an overlong line), so a session sees exactly
// what it would see on a real connection, however the bytes are split. Work posted with
// post_work() and post_after() is queued and run in order by the driver's loop (the work, then
// its completion), never inside the call that posted it, as on the real executor; delays are
// not waited for. STARTTLS is simulated: start_tls() discards buffered input (RFC 3207 section
// 4.2) and on_tls_started() follows. Compression (SDK 1.6) is simulated the same way:
// start_compression() succeeds once (compressed() says so) and the bytes stay as they are, so a
// transcript reads the same before and after it. A WebSocket connection (SDK 1.9) is one made
// with set_websocket(): messages in with message(), each write() kept as one message. The
// bad-command limit is the max_bad_commands
// setting with the plugin's too_many_bad_commands_reply, as in the core. Everything the session
// writes is kept for take(). Not thread-safe: one test thread drives it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "portico/plugin.h"

namespace portico::core {
class InputFramer;  // the core's framer, compiled into the test kit
}

namespace portico::testkit {

struct DriverOptions {
  std::string listener = "127.0.0.1:25";  // the local "address:port" the client connected to
  std::string remote_address = "192.0.2.1";
  std::uint16_t remote_port = 40000;
  bool starttls = true;       // the listener offers STARTTLS
  bool implicit_tls = false;  // the connection starts in TLS
  // The client reads every reply before it sends more, however the test feeds its bytes:
  // input_pending() is 0 (a golden transcript fed whole stands for a patient client). Off:
  // input_pending() is what is buffered behind the line being handled, and bytes fed before
  // start() arrived before the greeting, as on a real connection.
  bool client_waits = true;
  bool tls_verified = true;  // once TLS is on, the peer's certificate verified
};

class SessionDriver final : public sdk::SessionContext {
 public:
  // A server session of `plugin`. `settings` must hold every key of the plugin's schema, shared
  // ones included (see settings.h).
  SessionDriver(sdk::Plugin& plugin, sdk::Host& host, sdk::Settings settings,
                DriverOptions options = {});
  // A client session (an outbound connection): `open` makes the session, as Host::connect's
  // factory would; there is no plugin and no bad-command limit.
  SessionDriver(sdk::OutboundSessionFactory open, sdk::Host& host, DriverOptions options = {});
  ~SessionDriver();
  SessionDriver(const SessionDriver&) = delete;
  SessionDriver& operator=(const SessionDriver&) = delete;

  // Opens the session and runs on_start() (and what it posts).
  void start();
  // Client bytes, framed and delivered, then every queued work item run, until nothing is left
  // to do or input is paused with no work pending. Before start(): bytes the client sent
  // before the session started.
  void feed(std::string_view bytes);
  // WebSocket (SDK 1.9), before start(): the connection is one of a WebSocket listener, so
  // is_websocket() is true, STARTTLS is not offered, input is given by message() and each write()
  // is kept as one message for take_messages() (take() still returns them joined).
  void set_websocket() { websocket_ = true; }
  // One client message, delivered (as the core does) once input is not paused; a message over
  // the maximum line length gets on_line_too_long() and the connection closes.
  void message(std::string_view text);
  // The messages written since the last call.
  std::vector<std::string> take_messages() { return std::exchange(messages_, {}); }
  // The client closes the connection: on_close() runs.
  void disconnect();
  // The core ends the connection for `reason` (a timeout, shutdown): the session's own last
  // words (Session::on_final_words) or else the plugin's ProtocolTraits reply, then on_close().
  void end(sdk::CloseReason reason);
  // Runs the session's timers (start_timer) that are not cancelled, in order of delay, and what
  // they start in turn, up to `limit`; returns how many ran.
  std::size_t run_timers(std::size_t limit = 1000);
  // What set_timeouts() last asked (zero: the settings').
  std::chrono::milliseconds session_timeout() const { return session_timeout_; }
  std::chrono::milliseconds command_timeout() const { return command_timeout_; }
  bool raw_input() const;
  // Everything written since the last call.
  std::string take();
  bool closed() const { return closed_; }
  bool tls() const { return tls_; }
  bool compressed() const { return compressed_; }
  bool paused() const { return paused_; }
  bool in_command() const { return in_command_; }
  std::int64_t bad_commands() const { return bad_commands_; }
  std::size_t max_line_length() const;
  // What the session asked with set_output_limit() (kDefaultOutputLimit until it does). The
  // driver sends everything at once (output_pending() is 0), so the limit throttles nothing.
  std::size_t output_limit() const { return output_limit_; }

  // sdk::SessionContext
  const sdk::ConnectionInfo& connection() const override { return info_; }
  const sdk::Settings& settings() const override { return settings_; }
  std::string banner() const override;
  void write(std::string_view bytes) override;
  std::size_t output_pending() const override { return 0; }
  std::size_t input_pending() const override;
  void set_max_line_length(std::size_t bytes) override;
  void read_bytes(std::size_t count) override;
  void set_in_command(bool in_command) override { in_command_ = in_command; }
  void pause_input() override { paused_ = true; }
  void resume_input() override { paused_ = false; }
  bool bad_command() override;
  bool starttls_available() const override {
    return options_.starttls && !tls_ && !compressed_ && !websocket_;
  }
  bool is_tls() const override { return tls_; }
  bool start_tls() override;
  void close() override { closing_ = true; }
  void post_work(std::function<void()> work, std::function<void()> done) override;
  void log(sdk::LogLevel level, std::string_view message) override;
  void post_after(std::chrono::milliseconds delay, std::function<void()> fn) override;
  std::string tls_description() const override { return tls_ ? "TLSv1.3 TEST" : ""; }
  void post_work_on(sdk::WorkPool pool, std::function<void()> work,
                    std::function<void()> done) override;
  bool tls_verified() const override { return tls_ && options_.tls_verified; }
  void set_raw_input(bool raw) override;
  void set_timeouts(std::chrono::milliseconds session, std::chrono::milliseconds command) override {
    session_timeout_ = session;
    command_timeout_ = command;
  }
  std::uint64_t start_timer(std::chrono::milliseconds delay, std::function<void()> fn) override;
  void cancel_timer(std::uint64_t id) override { timers_.erase(id); }
  std::shared_ptr<sdk::SessionHandle> handle() override;
  std::shared_ptr<sdk::SessionHandle> hold() override { return handle(); }  // the driver lives on
  bool start_compression() override;
  bool is_websocket() const override { return websocket_; }
  void set_output_limit(std::size_t bytes) override {
    output_limit_ = bytes == 0 ? sdk::kDefaultOutputLimit : bytes;
  }

 private:
  struct Task {
    std::function<void()> work;
    std::function<void()> done;
  };
  void pump();

  sdk::Plugin* plugin_ = nullptr;
  sdk::OutboundSessionFactory open_;
  sdk::Host& host_;
  sdk::Settings settings_;
  DriverOptions options_;
  sdk::ConnectionInfo info_;
  std::unique_ptr<sdk::Session> session_;
  std::unique_ptr<core::InputFramer> input_;
  std::deque<Task> tasks_;
  struct Timer {
    std::chrono::milliseconds delay{0};
    std::function<void()> fn;
  };
  std::map<std::uint64_t, Timer> timers_;
  std::uint64_t next_timer_ = 0;
  std::chrono::milliseconds session_timeout_{0};
  std::chrono::milliseconds command_timeout_{0};
  std::string command_timeout_reply_;
  std::string session_timeout_reply_;
  std::string shutdown_reply_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::string output_;
  std::string too_many_bad_commands_reply_;
  std::int64_t bad_commands_ = 0;
  bool paused_ = false;
  bool in_command_ = false;
  bool tls_ = false;
  bool tls_requested_ = false;
  bool compressed_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool pumping_ = false;
  bool websocket_ = false;
  std::size_t output_limit_ = sdk::kDefaultOutputLimit;
  std::deque<std::string> incoming_;   // WebSocket messages not yet delivered
  std::vector<std::string> messages_;  // WebSocket messages written
};

}  // namespace portico::testkit
