// Portico core — one client connection: the session runner every protocol shares.
//
// The core owns every socket and plugins are sans-I/O engines (docs/sdk.md): a Connection owns
// the socket (plain, implicit TLS, or upgraded by STARTTLS), splits input into lines up to the
// protocol's maximum length or hands over raw byte counts, runs the command and session timers,
// counts bad commands, throttles output, and drives the plugin's sans-I/O Session through the SDK's
// SessionContext. Everything a connection does runs on its own strand, so session callbacks never
// run concurrently.
//
// Invariants: an idle plain connection holds no input buffer (it waits for readability, then
// reads into a per-thread buffer); a connection's place in the accounting is released exactly
// once, however it ends; an exception out of a plugin callback closes only that connection;
// input received before a TLS handshake is discarded (RFC 3207 section 4.2).
//
// Compression (SDK 1.6, start_compression): a Deflater and an Inflater (compress.h) sit between
// the socket or TLS stream and the framer. Output queued before the call goes as it is; the rest
// is compressed and flushed each time queued output is handed to the socket. Compressed input is
// inflated only while the framer has nothing to hand over, at most kReadChunk octets at a time,
// and no more is read from the socket while some is left: the line length limit, pauses and
// throttling bound the inflated octets as they bound plain ones.
//
// input_pending() is what the core has read and not yet handed over, so a session can tell a
// client that did not wait for a reply (SMTP's command synchronization, RFC 2920): an inbound
// plain connection takes in whatever the client sent before the session starts, so that a
// client talking before the greeting shows in on_start().
//
// WebSocket (SDK 1.9, portico/web.h): on a WebSocket listener a WebSocketLayer (websocket.h)
// sits where the framer's input would: it answers HTTP until a request upgrades, and only then is
// the session opened; afterwards messages go to Session::on_message one at a time (with pauses
// and throttling as for lines), each write() becomes one text message, and the connection ends
// when the layer is finished (the closing handshake done, or the peer gone) and its output sent.
//
// The same runner drives outbound connections (see outbound.h): then the TLS side is the
// client's (SNI, certificate and name verification), the session comes from the plugin's
// factory, and a failure before the session opens is reported to the plugin instead.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/accounting/accounting.h"
#include "core/config/config.h"
#include "core/net/framer.h"
#include "portico/plugin.h"

namespace boost::asio::ssl {
class context;
}

namespace portico::core {

class TlsContexts;
class Deflater;
class Inflater;
class WebSocketLayer;

// What new connections of one protocol use; replaced whole on reload.
struct ProtocolRuntime {
  std::string name;
  std::shared_ptr<sdk::Plugin> plugin;
  // The SDK minor the plugin was built with: a Session virtual added in minor N is called only
  // when abi_minor >= N, and behaviour toward sessions that changed with a minor stays as the
  // plugin's minor had it (the growth rules in portico/abi.h).
  std::uint16_t abi_minor = 0;
  sdk::ProtocolTraits traits;
  SharedSettings shared;
  sdk::Settings settings;
  // shared.listeners plus the plugin's extra_listeners().
  std::vector<sdk::ListenerSpec> listeners;
  // The plugin's websocket_listeners() (SDK 1.9).
  std::vector<std::shared_ptr<const sdk::WebSocketListener>> websocket_listeners;
};

// What makes a Connection an outbound one (Host::connect).
struct OutboundSide {
  std::shared_ptr<boost::asio::ssl::context> tls_context;  // the client context
  std::string tls_name;                                    // SNI and the name verified
  bool verify_certificate = true;
  sdk::OutboundSessionFactory open;
  sdk::OutboundFailure failed;  // until the session is open
};

// The server-wide services a connection calls back into.
class ConnectionHub {
 public:
  virtual ConnectionAccounting& accounting() = 0;
  virtual void post_work(std::function<void()> work) = 0;
  virtual void post_work_on(sdk::WorkPool pool, std::function<void()> work) = 0;
  virtual void unregister_connection(std::uint64_t id) = 0;
  virtual bool stopping() const = 0;

 protected:
  ~ConnectionHub() = default;
};

class Connection final : public std::enable_shared_from_this<Connection>,
                         private sdk::SessionContext {
 public:
  using tcp = boost::asio::ip::tcp;

  Connection(tcp::socket socket, std::shared_ptr<const ProtocolRuntime> runtime,
             std::shared_ptr<const TlsContexts> tls, sdk::ListenerSpec listener,
             sdk::ConnectionInfo info, ConnectionAccounting::Lease lease, ConnectionHub& hub);
  ~Connection();

  // Makes this an outbound connection; call before start().
  void set_outbound(OutboundSide side) {
    outbound_ = std::make_unique<OutboundSide>(std::move(side));
  }
  // Makes this a connection of a WebSocket listener (SDK 1.9); call before start().
  void set_websocket(std::shared_ptr<const sdk::WebSocketListener> web) { web_ = std::move(web); }
  // Starts serving (implicit TLS first, then the session's greeting).
  void start();
  // Sends `reply` (the protocol's busy reply) and closes; never runs the session.
  void start_refused(std::string reply);
  // Server shutdown: close at the next idle point with the protocol's shutdown reply.
  void begin_shutdown();
  // Server shutdown, grace period over: reply and close now.
  void force_shutdown();

  std::uint64_t id() const { return info_.id; }
  // Whether the plugin serving this connection was built against SDK minor `minor` or later.
  bool plugin_has_minor(std::uint16_t minor) const { return runtime_->abi_minor >= minor; }
  // The connection's strand: every call into it from outside is posted here.
  boost::asio::any_io_executor executor() { return socket_.get_executor(); }

 private:
  enum class TimerKind { none, command, session, closing };

  // sdk::SessionContext
  const sdk::ConnectionInfo& connection() const override { return info_; }
  const sdk::Settings& settings() const override { return runtime_->settings; }
  std::string banner() const override;
  void write(std::string_view bytes) override;
  std::size_t output_pending() const override;
  std::size_t input_pending() const override;
  void set_max_line_length(std::size_t bytes) override;
  void read_bytes(std::size_t count) override;
  void set_in_command(bool in_command) override { in_command_ = in_command; }
  void pause_input() override { paused_ = true; }
  void resume_input() override;
  bool bad_command() override;
  bool starttls_available() const override;
  bool is_tls() const override { return tls_on_; }
  bool start_tls() override;
  void close() override { closing_ = true; }
  void post_work(std::function<void()> work, std::function<void()> done) override;
  void post_work_on(sdk::WorkPool pool, std::function<void()> work,
                    std::function<void()> done) override;
  bool tls_verified() const override;
  void set_raw_input(bool raw) override { input_.set_raw(raw); }
  void set_timeouts(std::chrono::milliseconds session, std::chrono::milliseconds command) override;
  std::uint64_t start_timer(std::chrono::milliseconds delay, std::function<void()> fn) override;
  void cancel_timer(std::uint64_t id) override;
  std::shared_ptr<sdk::SessionHandle> handle() override;
  std::shared_ptr<sdk::SessionHandle> hold() override;
  void log(sdk::LogLevel level, std::string_view message) override;
  void post_after(std::chrono::milliseconds delay, std::function<void()> fn) override;
  std::string tls_description() const override;
  bool start_compression() override;
  bool is_websocket() const override { return web_ != nullptr; }
  void set_output_limit(std::size_t bytes) override {
    output_limit_ = bytes == 0 ? sdk::kDefaultOutputLimit : bytes;
  }

  template <typename F>
  bool invoke(const char* what, F&& f);
  void pump();
  void process_input();
  bool idle() const;
  void maybe_read();
  void on_readable(const boost::system::error_code& ec);
  // Takes in what a plain socket holds now, without waiting; false when that ended the
  // connection.
  bool read_now();
  void on_read(const boost::system::error_code& ec, std::size_t n);
  // Bytes from the socket (or TLS) to the framer, or to the inflater while compressing.
  void take_input(std::string_view bytes);
  // Compressing: inflates the next piece of input into the framer; false when there was none,
  // or the stream was corrupt (the connection is then finished).
  bool inflate_more();
  // Moves out_ to inflight_, compressing what came after start_compression(); false when that
  // failed (the connection is then finished).
  bool take_output();
  void maybe_write();
  void on_write(const boost::system::error_code& ec, std::size_t n);
  void start_session();
  void do_handshake(bool then_start_session);
  void arm_timer();
  void on_timer(std::uint64_t generation);
  // Ends the connection with the session's own last words (SDK 1.3) or else `reply`.
  void send_final(const std::string& reply, std::optional<sdk::CloseReason> reason = {});
  void finish();  // closes the socket, calls on_close, releases the lease
  // A reply of ProtocolTraits, rendered: appended to the output, or one message on a WebSocket.
  void queue_reply(const std::string& reply);
  // WebSocket: hands over the messages received; false when that ended the connection.
  bool deliver_messages();
  // Outbound: tells the plugin no session was opened (once), then finishes.
  void fail_outbound(const std::string& reason);
  std::string render(const std::string& reply) const;

  tcp::socket socket_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<const ProtocolRuntime> runtime_;
  std::shared_ptr<const TlsContexts> tls_contexts_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;  // outlives tls_
  std::unique_ptr<boost::asio::ssl::stream<tcp::socket&>> tls_;
  sdk::ListenerSpec listener_;
  sdk::ConnectionInfo info_;
  ConnectionAccounting::Lease lease_;
  ConnectionHub& hub_;
  ProtocolCounters& counters_;
  std::unique_ptr<sdk::Session> session_;
  std::unique_ptr<OutboundSide> outbound_;
  std::unique_ptr<Deflater> deflater_;  // both set while compressing
  std::unique_ptr<Inflater> inflater_;
  std::size_t plain_out_ = 0;  // octets at the front of out_ that go uncompressed
  std::shared_ptr<const sdk::WebSocketListener> web_;
  std::unique_ptr<WebSocketLayer> ws_;  // set from start() on a WebSocket listener

  InputFramer input_;
  std::string out_;       // queued
  std::string inflight_;  // being written
  std::string tls_buffer_;
  std::string refused_reply_;
  std::uint64_t timer_generation_ = 0;
  // SessionContext::set_timeouts: zero keeps the setting, negative turns the timer off.
  std::chrono::milliseconds own_session_timeout_{0};
  std::chrono::milliseconds own_command_timeout_{0};
  // SessionContext::start_timer: the session's timers by id.
  std::map<std::uint64_t, std::unique_ptr<boost::asio::steady_timer>> session_timers_;
  std::uint64_t next_timer_id_ = 0;
  std::shared_ptr<std::atomic<bool>> ended_ = std::make_shared<std::atomic<bool>>(false);
  std::int64_t bad_commands_ = 0;
  TimerKind timer_kind_ = TimerKind::none;

  bool in_command_ = false;
  bool paused_ = false;
  bool throttled_ = false;
  // Pending output at which input stops and on_output_drained() is owed (SessionContext).
  std::size_t output_limit_ = sdk::kDefaultOutputLimit;
  bool reading_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
  bool tls_on_ = false;
  bool tls_requested_ = false;
  bool handshaking_ = false;
  bool stopping_ = false;
  bool peer_closed_ = false;
  bool refused_ = false;
};

}  // namespace portico::core
