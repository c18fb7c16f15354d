// Portico core — the HTTP and WebSocket side of a connection over Boost.Beast (see websocket.h).
#include "core/net/websocket.h"

#include <deque>
#include <optional>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

namespace portico::core {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using boost::system::error_code;

namespace {

constexpr std::size_t kMaxHeader = 8 * 1024;
constexpr std::size_t kMaxRequests = 100;  // on one keep-alive connection
constexpr std::size_t kDefaultMaxMessage = 64 * 1024;
constexpr std::string_view kServer = "portico";

// A read Beast waits on, whatever its handler's type.
struct PendingRead {
  virtual ~PendingRead() = default;
  virtual void complete(error_code ec, std::size_t n) = 0;
};

template <typename Handler>
struct PendingReadOf final : PendingRead {
  explicit PendingReadOf(Handler&& h) : handler(std::move(h)) {}
  void complete(error_code ec, std::size_t n) override { std::move(handler)(ec, n); }
  Handler handler;
};

// The octets between the connection and Beast.
struct Pipe {
  asio::any_io_executor executor;
  // The layer's state, kept alive by every completion posted from here: Beast's operations
  // refer to the stream and buffers it holds.
  std::weak_ptr<void> owner;
  // And the connection, which nothing else may hold while Beast works between two reads.
  std::weak_ptr<void> host;
  std::string in;
  std::size_t in_pos = 0;
  bool eof = false;
  std::string out;
  std::unique_ptr<PendingRead> pending;
  // Tells the connection that a read waits for octets it has not fed yet: Beast asks for more
  // in the middle of its own operations (a request or a frame cut across TCP reads), where no
  // completion of ours would say so.
  std::function<void()> wake;
  std::vector<asio::mutable_buffer> pending_buffers;

  bool waiting() const { return pending != nullptr && in_pos == in.size() && !eof; }

  // Completes a waiting read with what is buffered, or with the end of input.
  void complete_read() {
    if (!pending) return;
    error_code ec;
    std::size_t n = 0;
    if (in_pos < in.size()) {
      n = asio::buffer_copy(pending_buffers, asio::buffer(in.data() + in_pos, in.size() - in_pos));
      in_pos += n;
      if (in_pos == in.size()) {
        in.clear();
        in_pos = 0;
      }
    } else if (eof) {
      ec = asio::error::eof;
    } else {
      if (wake) {
        asio::post(executor,
                   [wake = wake, keep = owner.lock(), host_kept = host.lock()] { wake(); });
      }
      return;
    }
    pending_buffers.clear();
    asio::post(executor, [op = std::move(pending), ec, n, keep = owner.lock(),
                          host_kept = host.lock()]() mutable { op->complete(ec, n); });
  }
};

// Beast's view of the pipe: an AsyncStream whose reads wait for fed octets and whose writes
// append to the output at once.
class PipeStream {
 public:
  using executor_type = asio::any_io_executor;
  explicit PipeStream(Pipe& pipe) : pipe_(&pipe) {}
  executor_type get_executor() const noexcept { return pipe_->executor; }

  template <typename Buffers, typename Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [pipe = pipe_](auto handler, const Buffers& b) {
          pipe->pending_buffers.clear();
          for (auto it = asio::buffer_sequence_begin(b); it != asio::buffer_sequence_end(b); ++it)
            pipe->pending_buffers.push_back(*it);
          pipe->pending = std::make_unique<PendingReadOf<decltype(handler)>>(std::move(handler));
          pipe->complete_read();
        },
        token, buffers);
  }

  template <typename Buffers, typename Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [pipe = pipe_](auto handler, const Buffers& b) {
          std::size_t n = 0;
          for (auto it = asio::buffer_sequence_begin(b); it != asio::buffer_sequence_end(b); ++it) {
            const asio::const_buffer piece(*it);
            pipe->out.append(static_cast<const char*>(piece.data()), piece.size());
            n += piece.size();
          }
          asio::post(pipe->executor,
                     [h = std::move(handler), n, keep = pipe->owner.lock(),
                      host_kept = pipe->host.lock()]() mutable { std::move(h)(error_code{}, n); });
        },
        token, buffers);
  }

 private:
  Pipe* pipe_;
};

// RFC 6455 section 7.1.1: the connection closes the TCP connection itself once the layer is
// finished; tearing down and closing the "socket" (Beast's, after a failure) only complete.
void beast_close_socket(PipeStream&) {}

template <typename Handler>
void async_teardown(beast::role_type, PipeStream& stream, Handler&& handler) {
  asio::post(stream.get_executor(),
             [h = std::forward<Handler>(handler)]() mutable { std::move(h)(error_code{}); });
}

bool offers(std::string_view list, std::string_view token) {
  // Sec-WebSocket-Protocol: a comma-separated list of tokens (RFC 6455 section 11.3.4).
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
      item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
      item.remove_suffix(1);
    if (item == token) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

struct WebSocketLayer::State : std::enable_shared_from_this<State> {
  std::shared_ptr<const sdk::WebSocketListener> listener;
  std::function<void()> progress;
  Pipe pipe;
  PipeStream http_stream{pipe};
  beast::flat_buffer http_buffer;
  std::optional<http::request_parser<http::empty_body>> parser;
  http::response<http::string_body> response;
  std::optional<websocket::stream<PipeStream>> ws;
  beast::flat_buffer message;
  std::optional<std::string> received;
  std::deque<std::string> to_send;
  std::size_t send_octets = 0;
  std::size_t max_message = kDefaultMaxMessage;
  std::size_t requests = 0;
  bool open = false;
  bool reading = false;
  bool writing = false;
  bool closing = false;
  bool close_started = false;
  bool finished = false;
  bool too_big = false;

  // Runs a completion only while the layer lives, then tells the connection.
  template <typename F>
  auto guarded(F f) {
    return [weak = weak_from_this(), f = std::move(f)](auto&&... args) mutable {
      auto self = weak.lock();
      if (!self) return;
      f(*self, std::forward<decltype(args)>(args)...);
      if (self->progress) self->progress();
    };
  }

  void read_request() {
    parser.emplace();
    parser->header_limit(kMaxHeader);
    parser->body_limit(0);
    http::async_read(http_stream, http_buffer, *parser,
                     guarded([](State& s, error_code ec, std::size_t) { s.on_request(ec); }));
  }

  void on_request(error_code ec) {
    if (ec) {
      // A peer that went away between requests is done; anything else was a bad request.
      if (ec == http::error::end_of_stream || ec == asio::error::eof) {
        finished = true;
        return;
      }
      return reply(http::status::bad_request, "text/plain", "bad request\n", false, false);
    }
    ++requests;
    const auto& req = parser->get();
    const std::string_view target(req.target().data(), req.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    if (websocket::is_upgrade(req)) {
      if (path != listener->path) {
        return reply(http::status::not_found, "text/plain", "not found\n", false, false);
      }
      const auto offered = req[http::field::sec_websocket_protocol];
      if (!listener->subprotocol.empty() &&
          !offers(std::string_view(offered.data(), offered.size()), listener->subprotocol)) {
        return reply(
            http::status::bad_request, "text/plain",
            "this endpoint speaks the WebSocket subprotocol \"" + listener->subprotocol + "\"\n",
            false, false);
      }
      return upgrade(req);
    }
    const sdk::WebPage* page = nullptr;
    for (const auto& p : listener->pages)
      if (p.path == path) page = &p;
    const bool keep = req.keep_alive() && requests < kMaxRequests;
    if (page == nullptr) return reply(http::status::not_found, "text/plain", "not found\n", keep);
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      response.set(http::field::allow, "GET, HEAD");
      return reply(http::status::method_not_allowed, "text/plain", "method not allowed\n", keep);
    }
    reply(http::status::ok, page->content_type, page->body, keep, req.method() == http::verb::head);
  }

  // `response` is empty here (each write's completion empties it) but for headers the caller
  // set on it.
  void reply(http::status status, std::string_view type, std::string body, bool keep,
             bool head = false) {
    response.version(11);
    response.result(status);
    response.set(http::field::server, kServer);
    response.set(http::field::content_type, type);
    response.set(http::field::cache_control, "no-cache");
    response.set("X-Content-Type-Options", "nosniff");
    response.set("Content-Security-Policy",
                 "default-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'");
    response.keep_alive(keep);
    response.content_length(body.size());
    if (!head) response.body() = std::move(body);
    http::async_write(http_stream, response, guarded([keep](State& s, error_code ec, std::size_t) {
                        s.response = {};
                        if (ec || !keep) {
                          s.finished = true;
                          return;
                        }
                        s.read_request();
                      }));
  }

  void upgrade(const http::request<http::empty_body>& req) {
    // Octets the client sent behind its request belong to the WebSocket.
    if (http_buffer.size() > 0) {
      std::string rest = beast::buffers_to_string(http_buffer.data());
      pipe.in.insert(pipe.in_pos, rest);
      http_buffer.consume(http_buffer.size());
    }
    http_buffer = beast::flat_buffer();
    ws.emplace(pipe);
    ws->read_message_max(max_message);
    // Messages go out whole and unmasked, so Beast's write buffer (for masking, compressing or
    // fragmenting) is never used: the smallest it allows, not 4 KiB per connection.
    ws->auto_fragment(false);
    ws->write_buffer_bytes(8);
    ws->set_option(websocket::stream_base::decorator(
        [sub = listener->subprotocol](websocket::response_type& res) {
          res.set(http::field::server, kServer);
          if (!sub.empty()) res.set(http::field::sec_websocket_protocol, sub);
        }));
    ws->async_accept(req, guarded([](State& s, error_code ec) {
                       if (ec) {
                         s.finished = true;
                         return;
                       }
                       s.open = true;
                       s.parser.reset();  // the request's fields are not needed any more
                       s.read_next();
                       s.write_next();
                     }));
  }

  void read_next() {
    if (!open || reading || finished || received) return;
    reading = true;
    ws->async_read(message, guarded([](State& s, error_code ec, std::size_t) {
                     s.reading = false;
                     if (ec) {
                       if (ec == websocket::error::message_too_big) s.too_big = true;
                       s.finished = true;
                       return;
                     }
                     s.received = beast::buffers_to_string(s.message.data());
                     // An idle connection keeps no message buffer.
                     s.message = beast::flat_buffer();
                   }));
  }

  void write_next() {
    if (!open || writing || finished) return;
    if (!to_send.empty()) {
      writing = true;
      ws->text(true);
      ws->async_write(asio::buffer(to_send.front()),
                      guarded([](State& s, error_code ec, std::size_t) {
                        s.writing = false;
                        s.send_octets -= s.to_send.front().size();
                        s.to_send.pop_front();
                        if (ec) {
                          s.finished = true;
                          return;
                        }
                        s.write_next();
                      }));
      return;
    }
    if (closing && !close_started) {
      close_started = true;
      ws->async_close(websocket::close_code::normal,
                      guarded([](State& s, error_code) { s.finished = true; }));
    }
  }
};

WebSocketLayer::WebSocketLayer(asio::any_io_executor executor,
                               std::shared_ptr<const sdk::WebSocketListener> listener,
                               std::function<void()> progress, std::weak_ptr<void> host)
    : state_(std::make_shared<State>()) {
  state_->pipe.host = std::move(host);
  state_->pipe.wake = [weak = std::weak_ptr<State>(state_)] {
    if (auto s = weak.lock(); s && s->progress) s->progress();
  };
  state_->pipe.executor = std::move(executor);
  state_->pipe.owner = state_;
  state_->listener = std::move(listener);
  state_->progress = std::move(progress);
}

WebSocketLayer::~WebSocketLayer() {
  // Completions already posted keep the state until they have run (and found no connection);
  // a read Beast left waiting is dropped with its operation.
  state_->progress = nullptr;
  state_->pipe.pending.reset();
}

void WebSocketLayer::start() {
  state_->read_request();
}

void WebSocketLayer::feed(std::string_view bytes) {
  state_->pipe.in.append(bytes);
  state_->pipe.complete_read();
}

void WebSocketLayer::peer_closed() {
  state_->pipe.eof = true;
  state_->pipe.complete_read();
}

bool WebSocketLayer::wants_input() const {
  return !state_->finished && state_->pipe.waiting();
}

void WebSocketLayer::take_output(std::string& out) {
  if (state_->pipe.out.empty()) return;
  if (out.empty()) {
    out.swap(state_->pipe.out);
  } else {
    out += state_->pipe.out;
    state_->pipe.out.clear();
  }
  if (state_->pipe.out.capacity() > 4096) std::string().swap(state_->pipe.out);
}

bool WebSocketLayer::open() const {
  return state_->open;
}

bool WebSocketLayer::finished() const {
  return state_->finished;
}

bool WebSocketLayer::message_too_big() const {
  return state_->too_big;
}

void WebSocketLayer::set_max_message(std::size_t bytes) {
  state_->max_message = bytes;
  if (state_->ws) state_->ws->read_message_max(bytes);
}

bool WebSocketLayer::next_message(std::string& out) {
  if (!state_->received) return false;
  out = std::move(*state_->received);
  state_->received.reset();
  state_->read_next();
  return true;
}

void WebSocketLayer::send(std::string_view text) {
  if (state_->closing || state_->finished) return;
  state_->to_send.emplace_back(text);
  state_->send_octets += text.size();
  state_->write_next();
}

std::size_t WebSocketLayer::send_pending() const {
  return state_->send_octets;
}

void WebSocketLayer::close() {
  if (state_->closing) return;
  state_->closing = true;
  if (!state_->open) {
    if (!state_->ws) state_->finished = true;  // still HTTP: nothing to close
    return;
  }
  state_->write_next();
}

}  // namespace portico::core
