// Portico core — listening sockets (see listener.h).
#include "core/net/listener.h"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>

namespace portico::core {

namespace asio = boost::asio;
using boost::asio::ip::tcp;
using boost::system::error_code;

std::string endpoint_name(const std::string& address, std::uint16_t port) {
  if (address.find(':') != std::string::npos) return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

Listener::Listener(asio::io_context& io, std::string protocol, sdk::ListenerSpec spec,
                   ListenerOwner& owner, bool websocket)
    : io_(io),
      strand_(asio::make_strand(io)),
      protocol_(std::move(protocol)),
      spec_(std::move(spec)),
      owner_(owner),
      acceptor_(strand_),
      retry_timer_(strand_),
      websocket_(websocket) {}

std::string Listener::name() const {
  return endpoint_name(spec_.address, spec_.port);
}

bool Listener::open(std::string& error) {
  error_code ec;
  const auto address = asio::ip::make_address(spec_.address, ec);
  if (ec) {
    error = "bad address '" + spec_.address + "': " + ec.message();
    return false;
  }
  const tcp::endpoint endpoint(address, spec_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec && address.is_v6()) acceptor_.set_option(asio::ip::v6_only(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "cannot listen on " + name() + ": " + ec.message();
    acceptor_.close(ec);
    return false;
  }
  bound_port_ = acceptor_.local_endpoint(ec).port();
  return true;
}

void Listener::start() {
  asio::post(strand_, [self = shared_from_this()] { self->do_accept(); });
}

void Listener::stop() {
  asio::post(strand_, [self = shared_from_this()] {
    self->stopped_ = true;
    error_code ec;
    self->acceptor_.close(ec);
    self->retry_timer_.cancel();
  });
}

void Listener::do_accept() {
  if (stopped_) return;
  acceptor_.async_accept(asio::make_strand(io_),
                         [self = shared_from_this()](const error_code& ec, tcp::socket s) {
                           if (self->stopped_) return;
                           if (ec) {
                             if (ec == asio::error::operation_aborted) return;
                             spdlog::warn("{} listener {}: accept failed: {}; pausing 100ms",
                                          self->protocol_, self->name(), ec.message());
                             self->retry_timer_.expires_after(std::chrono::milliseconds(100));
                             self->retry_timer_.async_wait([self](const error_code& e) {
                               if (!e) self->do_accept();
                             });
                             return;
                           }
                           self->owner_.on_accept(*self, std::move(s));
                           self->do_accept();
                         });
}

}  // namespace portico::core
