// Portico core — a small HTTP/1.1 client over Boost.Beast (see http.h).
#include "core/filter/http.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <memory>

namespace portico::core::filter {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

std::string why(const char* step, beast::error_code ec) {
  if (ec == beast::error::timeout) return "timed out";
  return std::string(step) + ": " + ec.message();
}

template <class Body>
class Exchange : public std::enable_shared_from_this<Exchange<Body>> {
 public:
  Exchange(asio::any_io_executor ex, http::request<Body> req, std::size_t max_reply,
           std::chrono::milliseconds timeout, HttpDone done)
      : stream_(ex), req_(std::move(req)), timeout_(timeout), done_(std::move(done)) {
    parser_.body_limit(max_reply);
    parser_.header_limit(64 * 1024);
  }

  void start(const asio::ip::tcp::endpoint& to) {
    stream_.expires_after(timeout_);  // the whole exchange
    stream_.async_connect(to, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return self->finish(why("cannot connect", ec));
      http::async_write(self->stream_, self->req_,
                        [self](beast::error_code ec, std::size_t) { self->written(ec); });
    });
  }

 private:
  void written(beast::error_code ec) {
    if (ec) return finish(why("cannot send", ec));
    http::async_read(stream_, buffer_, parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->finish(why("no reply", ec));
                       HttpReply r;
                       r.status = static_cast<int>(self->parser_.get().result_int());
                       r.body = std::move(self->parser_.get().body());
                       self->finish({}, std::move(r));
                     });
  }

  void finish(std::string error, HttpReply r = {}) {
    beast::error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.close();
    if (!error.empty()) {
      r.status = 0;
      r.error = std::move(error);
    }
    if (done_) {
      auto done = std::move(done_);
      done_ = nullptr;
      done(std::move(r));
    }
  }

  beast::tcp_stream stream_;
  http::request<Body> req_;
  std::chrono::milliseconds timeout_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
  HttpDone done_;
};

template <class Body>
void prepare(http::request<Body>& req, const HttpRequest& r) {
  req.method(http::verb::post);
  req.target(r.target);
  req.version(11);
  req.set(http::field::host, r.address + ":" + std::to_string(r.port));
  req.set(http::field::connection, "close");
  req.set(http::field::user_agent, "portico");
  for (const auto& [name, value] : r.fields)
    req.insert(name, value);
  req.prepare_payload();
}

}  // namespace

void http_post(asio::any_io_executor executor, HttpRequest r, HttpDone done) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(r.address, ec);
  if (ec) {
    asio::post(executor, [done = std::move(done), a = r.address] {
      done({0, {}, "not an IP address: " + a});
    });
    return;
  }
  const asio::ip::tcp::endpoint to(address, r.port);
  if (!r.body_file.empty()) {
    http::request<http::file_body> req;
    req.body().open(r.body_file.c_str(), beast::file_mode::scan, ec);
    if (ec) {
      asio::post(executor, [done = std::move(done), e = ec.message(), f = r.body_file] {
        done({0, {}, "cannot open " + f + ": " + e});
      });
      return;
    }
    prepare(req, r);
    std::make_shared<Exchange<http::file_body>>(executor, std::move(req), r.max_reply, r.timeout,
                                                std::move(done))
        ->start(to);
    return;
  }
  http::request<http::string_body> req;
  req.body() = std::move(r.body);
  prepare(req, r);
  std::make_shared<Exchange<http::string_body>>(executor, std::move(req), r.max_reply, r.timeout,
                                                std::move(done))
      ->start(to);
}

HttpReply http_post_blocking(HttpRequest request) {
  asio::io_context io;
  HttpReply out;
  http_post(io.get_executor(), std::move(request), [&out](HttpReply r) { out = std::move(r); });
  io.run();
  return out;
}

}  // namespace portico::core::filter
