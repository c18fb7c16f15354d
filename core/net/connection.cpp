// Portico core — the session runner (see connection.h).
#include "core/net/connection.h"

#include <spdlog/spdlog.h>

#include <openssl/x509v3.h>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

#include "core/banner/templater.h"
#include "core/dns/resolver.h"
#include "core/net/compress.h"
#include "core/net/tls.h"
#include "core/net/websocket.h"

namespace portico::core {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// Bytes taken from the socket in one read.
constexpr std::size_t kReadChunk = 16 * 1024;
// Output buffers above this capacity are released once empty, so idle connections stay small.
constexpr std::size_t kKeepCapacity = 512;
// How long a closing connection may take to deliver its last reply.
constexpr auto kCloseLinger = std::chrono::seconds(5);
// How long a TLS close waits for the peer's close_notify.
constexpr auto kTlsShutdownWait = std::chrono::seconds(2);

thread_local char t_read_buffer[kReadChunk];
// Inflated input on its way to the framer (compressing connections).
thread_local std::string t_inflated;

void release_if_large(std::string& s) {
  if (s.empty() && s.capacity() > kKeepCapacity) std::string().swap(s);
}

}  // namespace

Connection::Connection(tcp::socket socket, std::shared_ptr<const ProtocolRuntime> runtime,
                       std::shared_ptr<const TlsContexts> tls, sdk::ListenerSpec listener,
                       sdk::ConnectionInfo info, ConnectionAccounting::Lease lease,
                       ConnectionHub& hub)
    : socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      runtime_(std::move(runtime)),
      tls_contexts_(std::move(tls)),
      listener_(std::move(listener)),
      info_(std::move(info)),
      lease_(std::move(lease)),
      hub_(hub),
      counters_(hub.accounting().counters(info_.protocol)),
      input_(runtime_->traits.max_line_length ? runtime_->traits.max_line_length : 1024) {}

Connection::~Connection() = default;

template <typename F>
bool Connection::invoke(const char* what, F&& f) {
  try {
    f();
    return true;
  } catch (const std::exception& e) {
    spdlog::error("{}[{}] {}: the plugin threw in {}: {}; closing the connection", info_.protocol,
                  info_.id, info_.remote_address, what, e.what());
  } catch (...) {
    spdlog::error("{}[{}] {}: the plugin threw in {}; closing the connection", info_.protocol,
                  info_.id, info_.remote_address, what);
  }
  counters_.plugin_errors++;
  finish();
  return false;
}

void Connection::start() {
  error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);
  if (listener_.tls == sdk::TlsMode::implicit) {
    do_handshake(true);
  } else {
    start_session();
  }
}

void Connection::start_refused(std::string reply) {
  refused_ = true;
  refused_reply_ = std::move(reply);
  // A WebSocket listener speaks HTTP until an upgrade: a busy one answers as HTTP does.
  if (web_)
    refused_reply_ =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  error_code ec;
  socket_.non_blocking(true, ec);
  if (listener_.tls == sdk::TlsMode::implicit) {
    do_handshake(false);
  } else {
    send_final(refused_reply_);
  }
}

void Connection::start_session() {
  if (web_ && !ws_) {
    // HTTP first: the session opens once a request upgrades (pump()).
    std::weak_ptr<Connection> weak = shared_from_this();
    ws_ = std::make_unique<WebSocketLayer>(
        socket_.get_executor(), web_,
        [weak] {
          if (auto self = weak.lock()) self->pump();
        },
        weak);
    ws_->set_max_message(input_.max_line());
    ws_->start();
    pump();
    return;
  }
  if (!invoke("open_session", [&] {
        session_ = outbound_ ? outbound_->open(*this) : runtime_->plugin->open_session(*this);
      })) {
    return;
  }
  if (outbound_) outbound_->failed = nullptr;  // from here on, the session hears of the end
  if (!session_) {
    spdlog::error("{}[{}] the plugin opened no session", info_.protocol, info_.id);
    finish();
    return;
  }
  // A client that talked before the greeting: what it sent is handed over after on_start(),
  // while the greeting is still unsent (see connection.h).
  if (!outbound_ && !tls_on_ && !ws_ && !read_now()) return;
  if (!invoke("on_start", [&] { session_->on_start(); })) return;
  pump();
}

void Connection::begin_shutdown() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->stopping_ = true;
    self->pump();
  });
}

void Connection::force_shutdown() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->finished_) return;
    if (!self->closing_)
      self->send_final(self->runtime_->traits.shutdown_reply, sdk::CloseReason::shutdown);
  });
}

std::string Connection::banner() const {
  return render_template(runtime_->shared.banner, info_);
}

std::string Connection::render(const std::string& reply) const {
  return render_template(reply, info_, false);
}

void Connection::write(std::string_view bytes) {
  if (finished_ || closing_) return;
  if (ws_) {
    ws_->send(bytes);  // one message per write (portico/session.h)
    return;
  }
  out_.append(bytes);
}

std::size_t Connection::output_pending() const {
  return out_.size() + inflight_.size() + (ws_ ? ws_->send_pending() : 0);
}

void Connection::set_max_line_length(std::size_t bytes) {
  input_.set_max_line(bytes);
  if (ws_) ws_->set_max_message(bytes);
}

void Connection::queue_reply(const std::string& reply) {
  if (!ws_) {
    out_ += render(reply);
    return;
  }
  if (session_ && ws_->open() && !reply.empty()) ws_->send(render(reply));
}

void Connection::read_bytes(std::size_t count) {
  input_.read_bytes(count);
}

void Connection::resume_input() {
  paused_ = false;
}

bool Connection::bad_command() {
  counters_.bad_commands++;
  ++bad_commands_;
  const std::int64_t limit = runtime_->shared.max_bad_commands;
  if (limit > 0 && bad_commands_ >= limit && !closing_) {
    counters_.closed_bad_commands++;
    spdlog::info("{}[{}] {}: {} bad commands, closing", info_.protocol, info_.id,
                 info_.remote_address, bad_commands_);
    queue_reply(runtime_->traits.too_many_bad_commands_reply);
    closing_ = true;
    return true;
  }
  return closing_;
}

bool Connection::starttls_available() const {
  return listener_.tls == sdk::TlsMode::starttls && !tls_on_ && !deflater_ && !web_ &&
         (tls_contexts_ != nullptr || outbound_ != nullptr);
}

bool Connection::start_tls() {
  if (!starttls_available() || tls_requested_) return false;
  tls_requested_ = true;
  return true;
}

std::size_t Connection::input_pending() const {
  return input_.buffered() + (inflater_ ? inflater_->pending() : 0);
}

bool Connection::start_compression() {
  if (deflater_ || web_ || finished_ || closing_ || tls_requested_ || handshaking_) return false;
  auto deflater = std::make_unique<Deflater>();
  auto inflater = std::make_unique<Inflater>();
  if (!deflater->error().empty() || !inflater->error().empty()) {
    spdlog::error("{}[{}] {}: cannot start compression: {}{}", info_.protocol, info_.id,
                  info_.remote_address, deflater->error(), inflater->error());
    return false;
  }
  // RFC 4978 section 3: the reply queued so far goes uncompressed, and what the client sent
  // behind the command came after it, so it is compressed.
  plain_out_ = out_.size();
  inflater->add(input_.take_unread());
  deflater_ = std::move(deflater);
  inflater_ = std::move(inflater);
  spdlog::debug("{}[{}] {}: deflate compression on", info_.protocol, info_.id,
                info_.remote_address);
  return true;
}

void Connection::post_work(std::function<void()> work, std::function<void()> done) {
  post_work_on(sdk::WorkPool::general, std::move(work), std::move(done));
}

void Connection::post_work_on(sdk::WorkPool pool, std::function<void()> work,
                              std::function<void()> done) {
  hub_.post_work_on(
      pool, [self = shared_from_this(), work = std::move(work), done = std::move(done)]() mutable {
        std::string error;
        try {
          if (work) work();
        } catch (const std::exception& e) {
          error = e.what();
        } catch (...) {
          error = "unknown exception";
        }
        asio::post(self->socket_.get_executor(),
                   [self, done = std::move(done), error = std::move(error)]() mutable {
                     if (self->finished_) return;
                     if (!error.empty()) {
                       self->invoke("post_work", [&] { throw std::runtime_error(error); });
                       return;
                     }
                     if (done && !self->invoke("a work completion", done)) return;
                     self->pump();
                   });
      });
}

void Connection::log(sdk::LogLevel level, std::string_view message) {
  static constexpr spdlog::level::level_enum levels[] = {spdlog::level::trace, spdlog::level::debug,
                                                         spdlog::level::info, spdlog::level::warn,
                                                         spdlog::level::err};
  spdlog::log(levels[static_cast<int>(level)], "{}[{}] {}: {}", info_.protocol, info_.id,
              info_.remote_address, message);
}

void Connection::post_after(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto timer = std::make_shared<asio::steady_timer>(socket_.get_executor(), delay);
  timer->async_wait([self = shared_from_this(), timer, fn = std::move(fn)](const error_code&) {
    if (self->finished_) return;
    if (fn && !self->invoke("a timer", fn)) return;
    self->pump();
  });
}

void Connection::set_timeouts(std::chrono::milliseconds session,
                              std::chrono::milliseconds command) {
  own_session_timeout_ = session;
  own_command_timeout_ = command;
}

std::uint64_t Connection::start_timer(std::chrono::milliseconds delay, std::function<void()> fn) {
  const std::uint64_t id = ++next_timer_id_;
  auto timer = std::make_unique<asio::steady_timer>(socket_.get_executor(), delay);
  timer->async_wait([self = shared_from_this(), id, fn = std::move(fn)](const error_code& ec) {
    if (ec || self->finished_) return;
    if (self->session_timers_.erase(id) == 0) return;  // cancelled meanwhile
    if (fn && !self->invoke("a timer", fn)) return;
    self->pump();
  });
  session_timers_[id] = std::move(timer);
  return id;
}

void Connection::cancel_timer(std::uint64_t id) {
  auto it = session_timers_.find(id);
  if (it == session_timers_.end()) return;
  it->second->cancel();
  session_timers_.erase(it);
}

namespace {

// A session's handle: posts onto its connection's strand while the connection lives.
class ConnectionHandle final : public sdk::SessionHandle {
 public:
  ConnectionHandle(std::weak_ptr<Connection> connection, asio::any_io_executor executor,
                   std::shared_ptr<std::atomic<bool>> ended, std::uint64_t id,
                   std::function<void(std::function<void()>)> run)
      : connection_(std::move(connection)),
        executor_(std::move(executor)),
        ended_(std::move(ended)),
        id_(id),
        run_(std::move(run)) {}
  bool post(std::function<void()> fn) override {
    if (ended_->load()) return false;
    auto connection = connection_.lock();
    if (!connection) return false;
    asio::post(executor_,
               [connection, run = run_, fn = std::move(fn)]() mutable { run(std::move(fn)); });
    return true;
  }
  std::uint64_t connection_id() const override { return id_; }
  // hold(): the handle keeps the connection itself alive.
  void keep(std::shared_ptr<Connection> connection) { kept_ = std::move(connection); }

 private:
  std::shared_ptr<Connection> kept_;
  std::weak_ptr<Connection> connection_;
  asio::any_io_executor executor_;
  std::shared_ptr<std::atomic<bool>> ended_;
  std::uint64_t id_;
  std::function<void(std::function<void()>)> run_;
};

}  // namespace

std::shared_ptr<sdk::SessionHandle> Connection::hold() {
  auto h = handle();
  static_cast<ConnectionHandle&>(*h).keep(shared_from_this());
  return h;
}

std::shared_ptr<sdk::SessionHandle> Connection::handle() {
  std::weak_ptr<Connection> weak = shared_from_this();
  return std::make_shared<ConnectionHandle>(weak, socket_.get_executor(), ended_, info_.id,
                                            [weak](std::function<void()> fn) {
                                              auto self = weak.lock();
                                              if (!self || self->finished_ || !self->session_)
                                                return;
                                              if (fn && !self->invoke("a posted call", fn)) return;
                                              self->pump();
                                            });
}

std::string Connection::tls_description() const {
  if (!tls_on_ || !tls_) return {};
  SSL* ssl = const_cast<asio::ssl::stream<tcp::socket&>&>(*tls_).native_handle();
  return std::string(SSL_get_version(ssl)) + " " + SSL_get_cipher_name(ssl);
}

bool Connection::tls_verified() const {
  if (!tls_on_ || !tls_ || !outbound_) return false;  // inbound: no client certificates asked
  SSL* ssl = const_cast<asio::ssl::stream<tcp::socket&>&>(*tls_).native_handle();
  X509* peer = SSL_get0_peer_certificate(ssl);
  return peer != nullptr && SSL_get_verify_result(ssl) == X509_V_OK;
}

// The one place where the connection decides what to do next.
void Connection::pump() {
  if (finished_) return;
  if (ws_ && !session_ && ws_->open()) return start_session();
  process_input();
  if (finished_) return;
  if (stopping_ && !closing_ && idle())
    return send_final(runtime_->traits.shutdown_reply, sdk::CloseReason::shutdown);
  // Written from a completion or a timer, too: the session hears when the peer has caught up.
  if (output_pending() >= output_limit_) throttled_ = true;
  if (ws_ && closing_) ws_->close();  // the closing handshake, after the queued messages
  maybe_write();
  if (!writing_ && out_.empty()) {
    if (throttled_) {
      throttled_ = false;
      if (!invoke("on_output_drained", [&] { session_->on_output_drained(); })) return;
      return pump();
    }
    const bool ws_done = ws_ && ws_->finished();
    if ((closing_ && (!ws_ || ws_done)) || ws_done || (peer_closed_ && !paused_)) {
      finish();
      return;
    }
    if (tls_requested_ && !handshaking_) {
      tls_requested_ = false;
      do_handshake(false);
      return;
    }
  }
  maybe_read();
  arm_timer();
}

void Connection::process_input() {
  if (ws_) {
    deliver_messages();
    return;
  }
  while (!finished_ && !closing_ && !paused_ && !tls_requested_ && !handshaking_ && session_) {
    if (output_pending() >= output_limit_) {
      throttled_ = true;
      break;
    }
    const InputFramer::Item item = input_.next();
    bool ok = true;
    switch (item.kind) {
      case InputFramer::Kind::none:
        break;
      case InputFramer::Kind::line:
        ok = invoke("on_line", [&] { session_->on_line(item.data); });
        break;
      case InputFramer::Kind::bytes:
        ok = invoke("on_bytes", [&] { session_->on_bytes(item.data, item.last); });
        break;
      case InputFramer::Kind::too_long:
        counters_.lines_too_long++;
        ok = invoke("on_line_too_long", [&] { session_->on_line_too_long(); });
        break;
    }
    if (!ok) return;
    if (item.kind == InputFramer::Kind::none && !inflate_more()) break;
  }
  input_.compact();
}

bool Connection::deliver_messages() {
  std::string message;
  while (!finished_ && !closing_ && !paused_ && session_) {
    if (output_pending() >= output_limit_) {
      throttled_ = true;
      break;
    }
    if (!ws_->next_message(message)) break;
    if (!invoke("on_message", [&] { session_->on_message(message); })) return false;
  }
  if (ws_->message_too_big() && session_ && !closing_ && !finished_) {
    counters_.lines_too_long++;
    if (!invoke("on_line_too_long", [&] { session_->on_line_too_long(); })) return false;
    closing_ = true;  // the layer closed the WebSocket with status 1009
  }
  return !finished_;
}

bool Connection::inflate_more() {
  if (!inflater_ || !inflater_->has_more() || finished_) return false;
  input_.compact();
  t_inflated.clear();
  if (inflater_->inflate(t_inflated, kReadChunk) == Inflater::Status::error) {
    spdlog::info("{}[{}] {}: compressed input: {}; closing", info_.protocol, info_.id,
                 info_.remote_address, inflater_->error());
    finish();
    return false;
  }
  input_.append(t_inflated);
  return !t_inflated.empty() || inflater_->has_more();
}

void Connection::take_input(std::string_view bytes) {
  if (ws_) {
    ws_->feed(bytes);
  } else if (inflater_) {
    inflater_->add(bytes);
  } else {
    input_.append(bytes);
  }
}

bool Connection::idle() const {
  // A WebSocket listener's connection still speaking HTTP is idle between two requests (a
  // browser keeps them open): shutdown need not wait for it.
  if (ws_ && !session_) return ws_->wants_input() && !handshaking_;
  return session_ && !in_command_ && !input_.mid_command() && !paused_ && !handshaking_ &&
         !tls_requested_ && !(inflater_ && inflater_->has_more());
}

void Connection::maybe_read() {
  // A closing WebSocket still reads: the peer's close frame ends the closing handshake.
  if (reading_ || finished_ || (closing_ && !ws_) || paused_ || handshaking_ || tls_requested_ ||
      throttled_ || peer_closed_ || (!session_ && !ws_) || output_pending() >= output_limit_ ||
      (inflater_ && inflater_->has_more()) || (ws_ && !ws_->wants_input())) {
    return;
  }
  reading_ = true;
  if (tls_on_) {
    if (tls_buffer_.size() != kReadChunk) tls_buffer_.resize(kReadChunk);
    tls_->async_read_some(
        asio::buffer(tls_buffer_.data(), tls_buffer_.size()),
        [self = shared_from_this()](const error_code& ec, std::size_t n) { self->on_read(ec, n); });
  } else {
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](const error_code& ec) {
      self->on_readable(ec);
    });
  }
}

void Connection::on_readable(const error_code& ec) {
  reading_ = false;
  if (finished_) return;
  if (ec) {
    finish();
    return;
  }
  if (read_now()) pump();
}

bool Connection::read_now() {
  error_code ec;
  const std::size_t n = socket_.read_some(asio::buffer(t_read_buffer, sizeof t_read_buffer), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) return true;
  if (ec) {
    if (ec != asio::error::eof) {
      finish();
      return false;
    }
    peer_closed_ = true;
    if (ws_) ws_->peer_closed();
    return true;
  }
  take_input(std::string_view(t_read_buffer, n));
  return true;
}

void Connection::on_read(const error_code& ec, std::size_t n) {
  reading_ = false;
  if (finished_) return;
  if (ec) {
    if (ec != asio::error::eof && ec != asio::ssl::error::stream_truncated) {
      finish();
      return;
    }
    peer_closed_ = true;
    if (ws_) ws_->peer_closed();
  } else {
    take_input(std::string_view(tls_buffer_.data(), n));
  }
  pump();
}

void Connection::maybe_write() {
  if (ws_) ws_->take_output(out_);
  if (writing_ || out_.empty() || finished_ || handshaking_) return;
  if (!take_output()) return;
  writing_ = true;
  auto handler = [self = shared_from_this()](const error_code& ec, std::size_t n) {
    self->on_write(ec, n);
  };
  if (tls_on_) {
    asio::async_write(*tls_, asio::buffer(inflight_), std::move(handler));
  } else {
    asio::async_write(socket_, asio::buffer(inflight_), std::move(handler));
  }
}

bool Connection::take_output() {
  if (!deflater_) {
    inflight_.swap(out_);
    out_.clear();
    return true;
  }
  // Flushed with every batch: the client can inflate all of it (RFC 4978 section 4).
  inflight_.assign(out_, 0, plain_out_);
  const std::string_view rest = std::string_view(out_).substr(plain_out_);
  const bool ok = rest.empty() || deflater_->compress(rest, inflight_);
  plain_out_ = 0;
  out_.clear();
  if (!ok) {
    spdlog::error("{}[{}] {}: compressing output: {}; closing", info_.protocol, info_.id,
                  info_.remote_address, deflater_->error());
    inflight_.clear();
    finish();
  }
  return ok;
}

void Connection::on_write(const error_code& ec, std::size_t /*n*/) {
  writing_ = false;
  if (finished_) return;
  if (ec) {
    finish();
    return;
  }
  inflight_.clear();
  release_if_large(inflight_);
  release_if_large(out_);
  pump();
}

void Connection::do_handshake(bool then_start_session) {
  input_.clear();  // RFC 3207 section 4.2: nothing received before TLS is kept.
  if (outbound_) {
    tls_context_ = outbound_->tls_context;
  } else {
    tls_context_ = tls_contexts_ ? tls_contexts_->for_listener(listener_) : nullptr;
  }
  if (!tls_context_) {
    spdlog::error("{}[{}] TLS requested but no certificate is loaded", info_.protocol, info_.id);
    fail_outbound("no TLS context");
    return;
  }
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *tls_context_);
  auto side = asio::ssl::stream_base::server;
  if (outbound_) {
    side = asio::ssl::stream_base::client;
    SSL* ssl = tls_->native_handle();
    const std::string& name = outbound_->tls_name;
    std::string address;
    const bool literal = ip_literal(name, &address);
    // RFC 6066 section 3: no IP literals in SNI.
    if (!name.empty() && !literal) SSL_set_tlsext_host_name(ssl, name.c_str());
    // The chain and the name are always checked (tls_verified() tells the outcome); a failure
    // ends the handshake only when the request requires verification.
    SSL_set_verify(ssl, outbound_->verify_certificate ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (literal) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), address.c_str());
    } else if (!name.empty()) {
      SSL_set1_host(ssl, name.c_str());
    }
  }
  handshaking_ = true;
  arm_timer();
  tls_->async_handshake(
      side, [self = shared_from_this(), then_start_session](const error_code& ec) {
        self->handshaking_ = false;
        if (self->finished_) return;
        if (ec) {
          self->counters_.tls_failures++;
          std::string reason = ec.message();
          if (self->outbound_) {
            const long v = SSL_get_verify_result(self->tls_->native_handle());
            if (v != X509_V_OK) reason = X509_verify_cert_error_string(v);
            spdlog::info("{}[{}] {}: TLS handshake failed: {}", self->info_.protocol,
                         self->info_.id, self->info_.remote_address, reason);
          } else {
            spdlog::debug("{}[{}] {}: TLS handshake failed: {}", self->info_.protocol,
                          self->info_.id, self->info_.remote_address, reason);
          }
          self->fail_outbound("TLS handshake failed: " + reason);
          return;
        }
        self->tls_on_ = true;
        if (self->refused_) {
          self->send_final(self->refused_reply_);
        } else if (then_start_session) {
          self->start_session();
        } else if (self->invoke("on_tls_started", [&] { self->session_->on_tls_started(); })) {
          self->pump();
        }
      });
}

void Connection::fail_outbound(const std::string& reason) {
  if (outbound_ && outbound_->failed) {
    auto failed = std::move(outbound_->failed);
    outbound_->failed = nullptr;
    hub_.post_work([failed = std::move(failed), reason] { failed(reason); });
  }
  finish();
}

void Connection::arm_timer() {
  using std::chrono::milliseconds;
  const SharedSettings& s = runtime_->shared;
  TimerKind kind = TimerKind::none;
  if (closing_) {
    kind = TimerKind::closing;
  } else if (handshaking_ || (writing_ && !reading_)) {
    kind = TimerKind::command;
  } else if (reading_) {
    // A WebSocket listener's connection speaking HTTP has the command timeout: a request (or
    // the next one on a kept-alive connection) is due within it, so slow or idle HTTP clients
    // do not hold places for the session timeout.
    kind = in_command_ || input_.mid_command() || (ws_ && !session_) ? TimerKind::command
                                                                     : TimerKind::session;
  }
  milliseconds duration{0};
  switch (kind) {
    case TimerKind::command:
      duration = own_command_timeout_.count() != 0 ? own_command_timeout_ : s.command_timeout;
      break;
    case TimerKind::session:
      duration = own_session_timeout_.count() != 0 ? own_session_timeout_
                 : s.session_timeout_enabled       ? s.session_timeout
                                                   : milliseconds{0};
      break;
    case TimerKind::closing:
      duration = kCloseLinger;
      break;
    case TimerKind::none:
      break;
  }
  if (duration.count() <= 0) kind = TimerKind::none;
  if (kind == timer_kind_ && kind == TimerKind::closing) return;  // the linger runs once
  ++timer_generation_;
  if (kind == TimerKind::none) {
    if (timer_kind_ != TimerKind::none) timer_.cancel();
    timer_kind_ = kind;
    return;
  }
  timer_kind_ = kind;
  timer_.expires_after(duration);
  timer_.async_wait([self = shared_from_this(), gen = timer_generation_](const error_code& ec) {
    if (!ec) self->on_timer(gen);
  });
}

void Connection::on_timer(std::uint64_t generation) {
  if (generation != timer_generation_ || finished_) return;
  const TimerKind kind = timer_kind_;
  timer_kind_ = TimerKind::none;
  switch (kind) {
    case TimerKind::command:
      counters_.command_timeouts++;
      spdlog::debug("{}[{}] {}: command timeout", info_.protocol, info_.id, info_.remote_address);
      if (handshaking_) {
        fail_outbound("timed out in the TLS handshake");
      } else {
        send_final(runtime_->traits.command_timeout_reply, sdk::CloseReason::command_timeout);
      }
      break;
    case TimerKind::session:
      counters_.session_timeouts++;
      spdlog::debug("{}[{}] {}: session timeout", info_.protocol, info_.id, info_.remote_address);
      send_final(runtime_->traits.session_timeout_reply, sdk::CloseReason::session_timeout);
      break;
    case TimerKind::closing:
    case TimerKind::none:
      finish();
      break;
  }
}

void Connection::send_final(const std::string& reply, std::optional<sdk::CloseReason> reason) {
  if (finished_) return;
  if (!closing_ && ws_ && !session_ && reason == sdk::CloseReason::command_timeout) {
    out_ += "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  } else if (!closing_) {
    bool own_words = false;
    if (reason && session_ && plugin_has_minor(3)) {
      if (!invoke("on_final_words", [&] { own_words = session_->on_final_words(*reason); })) {
        return;
      }
    }
    if (!own_words) {
      if (refused_ || !ws_) {
        out_ += render(reply);
      } else {
        queue_reply(reply);
      }
    }
  }
  closing_ = true;
  pump();
}

void Connection::finish() {
  if (finished_) return;
  if (outbound_ && outbound_->failed) {
    fail_outbound(stopping_ ? "the server is stopping" : "closed before the session opened");
    return;
  }
  finished_ = true;
  ended_->store(true);
  ++timer_generation_;
  timer_.cancel();
  for (auto& [id, t] : session_timers_)
    t->cancel();
  session_timers_.clear();
  if (session_) {
    try {
      session_->on_close();
    } catch (...) {
      counters_.plugin_errors++;
    }
  }
  lease_.release();
  hub_.unregister_connection(info_.id);
  error_code ec;
  if (tls_on_ && !peer_closed_) {
    // Send close_notify; give the peer a moment to answer, then close regardless.
    auto self = shared_from_this();
    timer_.expires_after(kTlsShutdownWait);
    timer_.async_wait([self](const error_code&) {
      error_code e;
      self->socket_.close(e);
    });
    tls_->async_shutdown([self](const error_code&) {
      error_code e;
      self->timer_.cancel();
      self->socket_.close(e);
    });
    return;
  }
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

}  // namespace portico::core
